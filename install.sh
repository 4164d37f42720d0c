#!/usr/bin/env bash
# Install the tt tools from a clone: release build, then binaries, man pages, completions and the bash helpers.
#
#   ./install.sh                  # into ~/.local (bin/, share/man/man1/, share/tt/, completions)
#   PREFIX=/usr/local ./install.sh
set -euo pipefail
cd "$(dirname "$0")"
PREFIX="${PREFIX:-$HOME/.local}"
TOOLS=(tt-log tt-price tt-sum tt-budget tt-export tt-optimize)

# Only the six tools: not the workspace (the benchmark generator tt-gen is a developer's tool).
cargo build --release --locked "${TOOLS[@]/#/--package=}"
install -d "$PREFIX/bin" "$PREFIX/share/man/man1" "$PREFIX/share/tt" \
  "$PREFIX/share/bash-completion/completions" "$PREFIX/share/zsh/site-functions" \
  "$PREFIX/share/fish/vendor_completions.d"
for t in "${TOOLS[@]}"; do
  install -m 0755 "target/release/$t" "$PREFIX/bin/$t"
  install -m 0644 "man/$t.1" "$PREFIX/share/man/man1/$t.1"
  install -m 0644 "completions/$t.bash" "$PREFIX/share/bash-completion/completions/$t"
  install -m 0644 "completions/_$t" "$PREFIX/share/zsh/site-functions/_$t"
  install -m 0644 "completions/$t.fish" "$PREFIX/share/fish/vendor_completions.d/$t.fish"
done
# Helpers scripts source or hook in (see docs/guide.md, "Bash helpers"): installed when present in this checkout.
for f in contrib/tt.sh contrib/claude-code-hook.sh; do
  if [ -f "$f" ]; then install -m 0755 "$f" "$PREFIX/share/tt/$(basename "$f")"; fi
done
echo "installed ${TOOLS[*]} into $PREFIX/bin"
case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) echo "note: add $PREFIX/bin to your PATH";; esac

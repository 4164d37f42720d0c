#!/usr/bin/env bash
# scripts/refresh-catalogue.sh — rebuild tt's built-in price catalogue from a LiteLLM release.
#
# Usage: scripts/refresh-catalogue.sh VERSION            download litellm==VERSION from PyPI (pip download)
#        scripts/refresh-catalogue.sh VERSION FILE.json  use a price map you already have (that version's)
#
# Writes tools/tt-core/data/catalogue.toml (one sorted line per model, converted exactly by `tt-gen catalogue`,
# the same conversion as `tt-price --import-litellm`), then shows what changed for the models the config
# names (`tt-price --diff` against the old build) and runs the price tests. Review the diff, move the family
# aliases in config/prices.toml when a newer model is listed (tests/tt_price.rs checks them), commit.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${1:?usage: scripts/refresh-catalogue.sh VERSION [FILE.json]}
JSON=${2:-}
if [ -z "$JSON" ]; then
    WORK=$(mktemp -d /tmp/tt-litellm.XXXXXX)
    trap 'rm -rf "$WORK"' EXIT
    pip download "litellm==$VERSION" --no-deps --quiet -d "$WORK"
    (cd "$WORK" && python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(
        "litellm/model_prices_and_context_window_backup.json")' litellm-*.whl)
    JSON=$WORK/litellm/model_prices_and_context_window_backup.json
fi

OUT=tools/tt-core/data/catalogue.toml
cargo build --quiet -p tt-gen -p tt-price
# Written beside, then moved: a failed conversion leaves the old catalogue in place.
target/debug/tt-gen catalogue "$JSON" --version "$VERSION" >"$OUT.new"
echo "what $JSON changes for the models the config names:" >&2
target/debug/tt-price --diff "$JSON" --format table || true
mv "$OUT.new" "$OUT"
echo "$OUT: $(grep -c '^"' "$OUT") models from LiteLLM $VERSION" >&2
cargo test --quiet -p tt-core --lib catalogue
cargo test --quiet --test tt_price

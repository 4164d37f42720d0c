# Shared by the ledger benchmarks (bench/ledger_*.sh), sourced after `cd` to the repository's root:
# `ledger_bench_setup PACKAGE…` builds the release binaries of the packages (unless TT_BIN names a directory of
# binaries to time instead), makes a temporary directory and starts a throwaway PostgreSQL server
# (scripts/test-postgres.sh), both removed on exit. It sets TT_BIN, TMP, PG (the server's directory), the
# server's PGHOST, PGPORT and PGBIN, and PSQL (psql as the server's superuser, unaligned, stopping on errors).
ledger_bench_setup() {
  if [ -z "${TT_BIN:-}" ]; then
    local pkgs=()
    for p in "$@"; do pkgs+=(-p "$p"); done
    cargo build --release --quiet "${pkgs[@]}"
    TT_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"
  fi
  TMP="$(mktemp -d)"
  PG="$(scripts/test-postgres.sh start $$)"
  trap 'scripts/test-postgres.sh stop "$PG"; rm -rf "$TMP"' EXIT
  # shellcheck disable=SC1091
  . "$PG/env"
  PSQL=("$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U tt)
}

#!/usr/bin/env bash
# Benchmark: `tt-log --enforce` as a whole process on a log of 1,000,000 records (target: median ≤ 10 ms per
# call). The first call builds the sidecar index (usage.jsonl.tt-index) from the whole log and is timed on its
# own; the measured calls then check and append against the index, counting only what was appended since.
#
# Usage: bench/enforce.sh [CALLS] [RECORDS]
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS="${1:-200}"
N="${2:-1000000}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet -p tt-log -p tt-gen
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
"$TARGET/release/tt-gen" log --records "$N" --seed 1 > "$TMP/usage.jsonl"
cp bench/budgets.toml "$TMP/tt.toml"   # the four budgets, one of each kind
python3 - "$TARGET/release/tt-log" "$TMP" "$CALLS" "$PWD/BENCHMARKS.md" <<'PY'
import datetime, os, statistics, subprocess, sys, time
tt_log, tmp, calls, figures = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp, TT_LOG=os.path.join(tmp, "usage.jsonl"))
env.pop("TT_CONFIG", None)
os.chdir(tmp)
args = [tt_log, "ATLAS", "sonnet-4.5", "1200", "300", "--session", "bench", "--no-git", "-q"]
def once(extra):
    t = time.perf_counter_ns()
    subprocess.run(args + extra, env=env, stdin=subprocess.DEVNULL, check=True)
    return (time.perf_counter_ns() - t) / 1e6
def timed(argv_extra, n):
    out = sorted(once(argv_extra) for _ in range(n))
    return statistics.median(out), out[int(len(out) * 0.9)]
def floor(n):
    out = []
    for _ in range(n):
        t = time.perf_counter_ns(); subprocess.run(["/bin/true"], check=True); out.append((time.perf_counter_ns() - t) / 1e6)
    return statistics.median(out)
size = os.path.getsize("usage.jsonl")
first = once(["--enforce"])
med, p90 = timed(["--enforce"], calls)
plain, _ = timed([], calls)
lines = [
    f"{datetime.date.today()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
    f"log: {sum(1 for _ in open('usage.jsonl', 'rb')):,} records, {size / 1e6:.0f} MB; 4 budgets (month $, day tokens scoped, session, total)",
    f"first --enforce call (builds the index from the whole log): {first:.1f} ms",
    f"tt-log --enforce: median {med:.2f} ms, p90 {p90:.2f} ms over {calls} calls (target: median ≤ 10 ms)",
    f"tt-log (no --enforce; alerts from the index), same log: median {plain:.2f} ms; spawning /bin/true: {floor(calls):.2f} ms",
    f"index: {os.path.getsize('usage.jsonl.tt-index'):,} bytes",
]
print("\n".join(lines))
sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block
write_block(figures, "enforce", lines)
PY

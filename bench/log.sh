#!/usr/bin/env bash
# Benchmark: one `tt-log` append as a whole process (target: median ≤ 3 ms).
#
# Runs N appends against a fresh log in a temp dir (release build), timing each process from spawn to exit, for
# models found in different places of the price table: the seed example (`sonnet-4.5`, an alias the built-in
# config gives), a model only the built-in LiteLLM catalogue has (`gpt-5.5`, with tiers and service tiers), a
# family alias of a catalogue model (`opus`), and a model nobody prices (the warning path: every spelling is
# tried, then the catalogue's prefixed names and one-edit suggestions). Prints the medians and p90s next to the
# cost of spawning /bin/true (the floor any process pays on this machine), and writes them into BENCHMARKS.md
# between the bench:log markers. Usage: bench/log.sh [N]   (BASELINE=/path/to/older/tt-log BASELINE_LABEL=rev: compare)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500}"
cargo build --release --quiet -p tt-log
BIN="$PWD/target/release/tt-log"
FIGURES="$PWD/BENCHMARKS.md"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
# A git repo so branch/commit detection is part of the measured work.
git init -q . && git commit -q --allow-empty -m init 2>/dev/null || true
python3 - "$BIN" "$N" "$FIGURES" <<'PY'
import datetime, os, statistics, subprocess, sys, time
binary, n, figures = sys.argv[1], int(sys.argv[2]), sys.argv[3]
log = os.path.join(os.getcwd(), "usage.jsonl")
env = dict(os.environ, TT_LOG=log, XDG_CONFIG_HOME=os.getcwd())
def run(argv):
    t = time.perf_counter_ns()
    subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter_ns() - t) / 1e6
cases = [
    ("sonnet-4.5 (config alias; the seed example)", "sonnet-4.5"),
    ("gpt-5.5 (catalogue only)", "gpt-5.5"),
    ("opus (family alias of a catalogue model)", "opus"),
    ("acme-unknown (unpriced: the warning path)", "acme-unknown"),
]
argvs = [["/bin/true"]] + [[binary, "ATLAS", model, "50000", "15000", "Built TokenTracker"] for _, model in cases]
# BASELINE=/path/to/an/older/tt-log times that build on the seed example too, in the same turns.
baseline = os.environ.get("BASELINE")
if baseline:
    label = os.environ.get("BASELINE_LABEL", baseline)
    cases.append((f"sonnet-4.5 with the baseline build ({label})", "sonnet-4.5"))
    argvs.append([baseline, "ATLAS", "sonnet-4.5", "50000", "15000", "Built TokenTracker"])
# Interleaved, one run of each in turn, so a slower stretch of the machine weighs on every case alike.
times = [[] for _ in argvs]
for _ in range(n):
    for k, argv in enumerate(argvs):
        times[k].append(run(argv))
def stats(ts):
    ts = sorted(ts)
    return statistics.median(ts), ts[int(len(ts) * 0.9)]
floor = stats(times[0])
results = [(label, *stats(ts)) for (label, _), ts in zip(cases, times[1:])]
lines_logged = sum(1 for _ in open(log))
assert lines_logged == n * len(cases), (lines_logged, n)
worst = max(r[1] for r in results if "unknown" not in r[0] and "baseline" not in r[0])
lines = [f"{datetime.date.today()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {n} runs each"]
lines += [f"tt-log append, {label}: median {med:.2f} ms, p90 {p90:.2f} ms" for label, med, p90 in results]
lines.append(f"spawning /bin/true: median {floor[0]:.2f} ms")
lines.append(f"target median <= 3 ms (priced models, worst {worst:.2f} ms): {'met' if worst <= 3 else 'MISSED'}")
print("\n".join(lines))
sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block
write_block(figures, "log", lines)
PY

#!/usr/bin/env bash
# Benchmark: `tt-log --enforce` against a team ledger (PostgreSQL on a local socket). Two figures:
#  - one enforced append as a whole process, median of CALLS, on a ledger of RECORDS generated records with the
#    four budgets of bench/budgets.toml (a month, a scoped day, a session and an all-time budget: the last two
#    make the check count the whole ledger);
#  - 16 concurrent writers, each making WRITES enforced appends of 1,000 tokens against a daily budget that
#    admits exactly half of them: throughput (calls a second) and exactness (accepted calls and the ledger's
#    sum both equal to the limit);
#  - the same 16 writers, each for an agent of its own with a daily budget of its own admitting half its
#    calls: the ledger's locks are per budget window, so these writers do not wait for each other.
# The server is a throwaway one (scripts/test-postgres.sh), stopped at the end. The figures are written into
# BENCHMARKS.md between the bench:ledger-enforce markers.
#
# Usage: bench/ledger_enforce.sh [RECORDS] [CALLS] [WRITES]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
CALLS="${2:-50}"
WRITES="${3:-20}"
# shellcheck source=bench/ledger_common.sh
. bench/ledger_common.sh
ledger_bench_setup tt-log tt-gen tt-sum
for db in bench race apart; do "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null; done
"$TT_BIN/tt-gen" log --records "$N" --seed 1 > "$TMP/log.jsonl"
python3 - "$TT_BIN" "$TMP" "$PGHOST" "$PGPORT" "$CALLS" "$WRITES" "$PWD/BENCHMARKS.md" "$PWD/bench/budgets.toml" <<'PY'
import datetime, json, os, shutil, statistics, subprocess, sys, time
bin_, tmp, host, port, calls, writes, figures, budgets = sys.argv[1:9]
calls, writes = int(calls), int(writes)
uri = lambda db: f"postgresql:///{db}?host={host}&port={port}&user=tt"
env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp, XDG_STATE_HOME=tmp, NO_COLOR="1")
for k in [k for k in env if k.startswith(("TT_", "PG"))]:
    env.pop(k)
os.chdir(tmp)
shutil.copy(budgets, "tt.toml")
t = time.perf_counter()
subprocess.run([f"{bin_}/tt-log", "--import", "log.jsonl", "--log", uri("bench"), "-q"], env=env, check=True)
load = time.perf_counter() - t
n = int(subprocess.run([f"{bin_}/tt-sum", "--log", uri("bench")], env=env, capture_output=True, check=True,
                       text=True).stdout.split('"records":')[1].split(",")[0])
args = [f"{bin_}/tt-log", "ATLAS", "sonnet-4.5", "1200", "300", "--session", "bench", "--no-git", "-q",
        "--log", uri("bench")]
def once(extra):
    t = time.perf_counter_ns()
    subprocess.run(args + extra, env=env, stdin=subprocess.DEVNULL, check=True)
    return (time.perf_counter_ns() - t) / 1e6
out = sorted(once(["--enforce"]) for _ in range(calls))
med, p90 = statistics.median(out), out[int(len(out) * 0.9)]
plain = statistics.median(sorted(once([]) for _ in range(calls)))

# The race: 16 writers, `writes` calls each, a budget admitting exactly half of all the calls.
total = 16 * writes
limit = total // 2 * 1000
with open("tt.toml", "w") as f:
    f.write(f'[[budget]]\nname = "race"\nperiod = "day"\nlimit_tokens = {limit}\n')
subprocess.run([f"{bin_}/tt-sum", "--log", uri("race")], env=env, capture_output=True, check=True)
script = f"""for i in $(seq {writes}); do {bin_}/tt-log RACER gpt-5 900 100 --enforce --no-git -q --log '{uri("race")}' 2>/dev/null; echo $?; done"""
t = time.perf_counter()
procs = [subprocess.Popen(["bash", "-c", script], env=env, stdout=subprocess.PIPE, text=True) for _ in range(16)]
codes = [c for p in procs for c in p.communicate()[0].split()]
wall = time.perf_counter() - t
ok, refused = codes.count("0"), codes.count("1")
summed = subprocess.run([f"{bin_}/tt-sum", "--log", uri("race")], env=env, capture_output=True, check=True,
                        text=True).stdout
tokens = int(summed.split('"total_tokens":')[1].split(",")[0])
exact = ok == total // 2 and refused == total - ok and tokens == limit

# Sixteen agents, sixteen budgets: each writer's windows are its own.
with open("tt.toml", "w") as f:
    for k in range(16):
        f.write(f'[[budget]]\nname = "agent-{k}"\nperiod = "day"\nlimit_tokens = {writes // 2 * 1000}\n'
                f'scope = {{ agent = "AGENT-{k}" }}\n\n')
subprocess.run([f"{bin_}/tt-sum", "--log", uri("apart")], env=env, capture_output=True, check=True)
t = time.perf_counter()
procs = [subprocess.Popen(["bash", "-c", f"""for i in $(seq {writes}); do {bin_}/tt-log AGENT-{k} gpt-5 900 100 --enforce --no-git -q --log '{uri("apart")}' 2>/dev/null; echo $?; done"""],
                          env=env, stdout=subprocess.PIPE, text=True) for k in range(16)]
apart_codes = [p.communicate()[0].split() for p in procs]
apart_wall = time.perf_counter() - t
apart_exact = all(c.count("0") == writes // 2 and c.count("1") == writes - writes // 2 for c in apart_codes)
by_agent = subprocess.run([f"{bin_}/tt-sum", "--log", uri("apart"), "--by", "agent", "--format", "jsonl"], env=env,
                          capture_output=True, check=True, text=True).stdout
rows = [json.loads(l) for l in by_agent.splitlines() if l.strip()]
apart_exact = apart_exact and sorted(r["total_tokens"] for r in rows if r["group"]) == [writes // 2 * 1000] * 16
exact = exact and apart_exact

lines = [
    f"{datetime.date.today()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; PostgreSQL on a local socket",
    f"ledger: {n:,} records (loaded with tt-log --import in {load:.1f} s); 4 budgets (month $, day tokens scoped, session, total)",
    f"tt-log --enforce: median {med:.1f} ms, p90 {p90:.1f} ms over {calls} calls; tt-log without --enforce: median {plain:.1f} ms",
    f"16 writers x {writes} enforced appends for a budget admitting {total // 2}: {total / wall:.0f} calls/s, "
    f"{ok} accepted, {refused} refused, {tokens:,} of {limit:,} tokens logged: {'exact' if ok == total // 2 and tokens == limit else 'NOT EXACT'}",
    f"16 writers x {writes} enforced appends, each agent with a budget of its own admitting {writes // 2}: "
    f"{total / apart_wall:.0f} calls/s, {'exact' if apart_exact else 'NOT EXACT'}",
]
print("\n".join(lines))
sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block
SKIP = "benchmark figures, written by the bench scripts"
write_block(figures, "ledger-enforce", lines)
# The README quotes the races (its section on the team ledger).
write_block(os.path.join(os.path.dirname(figures), "README.md"), "ledger-enforce", lines[-2:], skip=SKIP)
if not exact:
    sys.exit("the race was not exact")
PY

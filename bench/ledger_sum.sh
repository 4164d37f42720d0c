#!/usr/bin/env bash
# Benchmark: `tt-sum --by agent` on a ledger of 1,000,000 records, summed in the server (the pushdown), against
# the same records as a JSONL log (target: the ledger's time ≤ 3× the file's), with the ledger's streaming read
# (TT_LEDGER_PUSHDOWN=0, every line out through COPY) for reference. It checks that all three print the same
# rows (but for the total row's `from`), on several shapes of log:
#   default      tt-gen's default: sessions one after another, cost_usd on every known model's record (1% of
#                the records are of a model the table does not know: read as lines and counted unpriced);
#   unpriced-10  the same with 10% of the records without cost_usd (priced here, by each record's own tokens);
#   interleaved  64 sessions of any agent open at once (three times the sessions: more partial sums), 10%
#                without cost_usd, timestamps to the second;
#   unpriced-all interleaved, no record with cost_usd: nothing for the server to sum, every line is read here.
# The server is a throwaway one (scripts/test-postgres.sh: fsync off, default memory settings), on this machine,
# reached over its Unix socket; each ledger is loaded with `tt-log --import FILE --log URI`, then VACUUM ANALYZE.
# The figures are written into BENCHMARKS.md between the bench:ledger-sum markers.
#
# Usage: bench/ledger_sum.sh [RECORDS]   (RUNS=5 to take the best of more runs; default 3; TT_BIN=DIR to time
#        the binaries in DIR instead of building them)
# Needs: a PostgreSQL server installation (Debian: apt-get install postgresql), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
RUNS="${RUNS:-3}"
# shellcheck source=bench/ledger_common.sh
. bench/ledger_common.sh
ledger_bench_setup tt-sum tt-log tt-gen
export HOME="$TMP" XDG_CONFIG_HOME="$TMP" XDG_DATA_HOME="$TMP" XDG_STATE_HOME="$TMP" NO_COLOR=1
unset TT_CONFIG TT_LOG

"$TT_BIN/tt-gen" log --records "$N" --seed 1 --unpriced-pct 0 > "$TMP/default.jsonl"
"$TT_BIN/tt-gen" log --records "$N" --seed 1 --unpriced-pct 10 > "$TMP/unpriced-10.jsonl"
"$TT_BIN/tt-gen" log --records "$N" --seed 2 --shape interleaved --unpriced-pct 10 \
  | sed -E 's/("ts":"[0-9T:-]+)\.[0-9]+Z"/\1Z"/' > "$TMP/interleaved.jsonl"
"$TT_BIN/tt-gen" log --records "$N" --seed 2 --shape interleaved --unpriced-pct 100 \
  | sed -E 's/("ts":"[0-9T:-]+)\.[0-9]+Z"/\1Z"/' > "$TMP/unpriced-all.jsonl"
SHAPES=(default unpriced-10 interleaved unpriced-all)
for s in "${SHAPES[@]}"; do
  db="bench_${s//-/_}"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db"
  uri="postgresql:///$db?host=$PGHOST&port=$PGPORT&user=tt"
  t0=$(date +%s.%N)
  "$TT_BIN/tt-log" --import "$TMP/$s.jsonl" --log "$uri" </dev/null 2>/dev/null
  t1=$(date +%s.%N)
  "${PSQL[@]}" -d "$db" -c "VACUUM ANALYZE tt.records"
  echo "$s $uri $(python3 -c "print(f'{$t1 - $t0:.1f}')")" >> "$TMP/ledgers"
done
PGV="$("${PSQL[@]}" -d postgres -c "SHOW server_version")"

python3 - "$TT_BIN/tt-sum" "$TMP" "$RUNS" "$PWD/BENCHMARKS.md" "$PGV" <<'PY'
import datetime, os, re, resource, subprocess, sys, time
tt_sum, tmp, runs, figures, pgv = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
out_lines = []
def say(line):
    print(line, flush=True)
    out_lines.append(line)

def best(args, env_extra):
    """Best wall time of `runs` whole-process runs; the output and stderr of the last."""
    env = dict(os.environ, **env_extra)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return min(times), p.stdout.decode(), p.stderr.decode()

def without_from(s):
    return re.sub(r',"from":\[[^\]]*\]', "", s)

say(f"{datetime.date.today()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, PostgreSQL {pgv} "
    f"(throwaway server on this machine, Unix socket), best of {runs} whole-process runs each")
worst, all_same = None, True
for line in open(os.path.join(tmp, "ledgers")):
    shape, uri, load_s = line.split()
    log = os.path.join(tmp, shape + ".jsonl")
    n = sum(1 for _ in open(log, "rb"))
    t_file, out_file, _ = best([tt_sum, "--by", "agent", log], {})
    t_push, out_push, err_push = best([tt_sum, "--by", "agent", "--log", uri], {"TT_LEDGER_EXPLAIN": "1"})
    t_stream, out_stream, _ = best([tt_sum, "--by", "agent", "--log", uri], {"TT_LEDGER_PUSHDOWN": "0"})
    same = without_from(out_file) == without_from(out_push) == without_from(out_stream)
    all_same &= same
    how = err_push.splitlines()[0].removeprefix("tt-sum: ")
    ratio = t_push / t_file
    say(f"{shape}: {n:,} records ({os.path.getsize(log) / 1e6:.0f} MB as JSONL; loaded in {load_s} s)")
    say(f"  JSONL file          : {t_file:.3f} s")
    say(f"  ledger, pushdown    : {t_push:.3f} s  → {ratio:.2f}× the file's time (target ≤ 3×); {how}")
    say(f"  ledger, streamed    : {t_stream:.3f} s  → {t_stream / t_file:.2f}× (TT_LEDGER_PUSHDOWN=0, for reference)")
    say(f"  same rows, all three: {'yes' if same else 'NO'}")
    if worst is None or ratio > worst[1]:
        worst = (shape, ratio)
say(f"worst shape: {worst[0]}, pushdown at {worst[1]:.2f}× the JSONL time (target ≤ 3×: {'met' if worst[1] <= 3 else 'MISSED'})")
sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block
SKIP = "benchmark figures, written by the bench scripts"
write_block(figures, "ledger-sum", out_lines)
# The README quotes each shape's ratio and the verdict (its section on the team ledger).
ratios = [l.strip().split("→")[0].replace("ledger, pushdown    :", "").strip() + " → " + l.split("→")[1].split(";")[0].strip()
          for l in out_lines if "ledger, pushdown" in l]
shapes = [l.split(":")[0] for l in out_lines if " records (" in l and "MB as JSONL" in l]
write_block(os.path.join(os.path.dirname(figures), "README.md"), "ledger-sum",
            [f"tt-sum --by agent, {s}: {r}" for s, r in zip(shapes, ratios)] + out_lines[-1:], skip=SKIP)
sys.exit(0 if all_same else 1)
PY

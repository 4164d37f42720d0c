#!/usr/bin/env bash
# Benchmark: `tt-sum --by agent` over 1,000,000 generated records (about 280 MB) against DuckDB and jq doing
# the same GROUP BY over the same file (targets: ≤ 1/3 of DuckDB's time, ≥ 30× faster than jq, peak RSS
# ≤ 32 MB). Also checks that the three agree on the totals (DuckDB summing cost_usd exactly as DECIMAL).
# Two shapes of log: tt-gen's default (sessions one after another, every known model's record with cost_usd)
# and the interleaved shape concurrent agents write (`--shape interleaved`: 64 short sessions of any agent open
# at once, no cost_usd — tt-sum prices every record, DuckDB sums tokens only — and timestamps to the second).
# The figures are written into BENCHMARKS.md between the bench:sum markers.
#
# Usage: bench/sum.sh [RECORDS]   (RUNS=5 to take the best of more runs; default 3; TT_BIN=DIR to time the
#        binaries in DIR instead of building them)
# Needs: python3 with duckdb (pip install duckdb), jq, GNU time (/usr/bin/time); optionally the DuckDB shell
# (pip install duckdb-cli), timed as a process like tt-sum.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
RUNS="${RUNS:-3}"
if [ -z "${TT_BIN:-}" ]; then
  cargo build --release --quiet -p tt-sum -p tt-gen
  TT_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"
fi
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
# Every record of a known model carries its cost (DuckDB cannot price the others); the few of an unknown model
# are unpriced in both. A second file has 10% of the records without cost_usd, which tt-sum prices on the fly.
"$TT_BIN/tt-gen" log --records "$N" --seed 1 --unpriced-pct 0 > "$TMP/log.jsonl"
"$TT_BIN/tt-gen" log --records "$N" --seed 1 --unpriced-pct 10 > "$TMP/log-unpriced.jsonl"
# Interleaved agents and sessions, no cost_usd, timestamps cut to the second (as agents' own clocks write them).
"$TT_BIN/tt-gen" log --records "$N" --seed 2 --shape interleaved --unpriced-pct 100 \
  | sed -E 's/("ts":"[0-9T:-]+)\.[0-9]+Z"/\1Z"/' > "$TMP/log-interleaved.jsonl"
python3 - "$TT_BIN/tt-sum" "$TMP" "$RUNS" "$PWD/BENCHMARKS.md" <<'PY'
import datetime, decimal, json, os, re, resource, subprocess, sys, time
tt_sum, tmp, runs, figures = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp, NO_COLOR="1")
env.pop("TT_CONFIG", None)
out_lines = []
def say(line):
    print(line, flush=True)
    out_lines.append(line)

def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime

def best(fn, who=resource.RUSAGE_CHILDREN):
    """Best wall time of `runs` runs, and the CPU time (user + system) of that run."""
    times = []
    for _ in range(runs):
        c, t = cpu(who), time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t, cpu(who) - c))
    return min(times), out

import duckdb
cli = cli_version = None
try:
    import duckdb_cli
    cli = os.path.join(os.path.dirname(duckdb_cli.__file__), "duckdb")
    if os.access(cli, os.X_OK):
        cli_version = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.split()[0]
    else:
        cli = None
except ImportError:
    pass

def bench(shape, log, unpriced_log, priced, with_jq):
    """Time tt-sum, DuckDB (and jq) on one log; returns tt-sum's and DuckDB's query times."""
    size = os.path.getsize(log)
    n = sum(1 for _ in open(log, "rb"))
    def run_tt(path=log):
        return subprocess.run([tt_sum, "--by", "agent", path], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, check=True).stdout.decode()
    (t_tt, c_tt), out = best(run_tt)
    tt, sessions = {}, 0
    for l in out.splitlines():
        r = json.loads(l, parse_float=decimal.Decimal)
        if r["group"]:
            tt[r["group"]["agent"]] = (r["records"], r["input_tokens"], r["output_tokens"], r["cache_read_tokens"],
                                       r["cache_write_tokens"], decimal.Decimal(r["cost_usd"]))
        else:
            sessions = r["sessions"]
    rss = subprocess.run(["/usr/bin/time", "-v", tt_sum, "--by", "agent", log], env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, check=True).stderr.decode()
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", rss).group(1))
    # DuckDB: the query alone, in process (its start-up and import are not counted).
    q = f"""select agent, count(*), sum(input_tokens), sum(output_tokens), sum(coalesce(cache_read_tokens, 0)),
              sum(coalesce(cache_write_tokens, 0)), sum(cost_usd::DECIMAL(38, 18))
            from read_json('{log}', format = 'newline_delimited',
              columns = {{agent: 'VARCHAR', input_tokens: 'UBIGINT', output_tokens: 'UBIGINT',
                          cache_read_tokens: 'UBIGINT', cache_write_tokens: 'UBIGINT', cost_usd: 'VARCHAR'}})
            group by agent"""
    def run_duck():
        con = duckdb.connect()
        rows = con.sql(q).fetchall()
        con.close()
        return rows
    (t_duck, c_duck), rows = best(run_duck, resource.RUSAGE_SELF)
    (t_duck_proc, _), _ = best(lambda: subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.sql({q!r}).fetchall()"],
                                                      check=True, capture_output=True))
    duck = {r[0]: (r[1], r[2], r[3], r[4], r[5], r[6].normalize() if r[6] is not None else None) for r in rows}
    t_duck_cli = None
    if cli:
        (t_duck_cli, _), _ = best(lambda: subprocess.run([cli, "-c", q], check=True, capture_output=True))
    same_duck = len(tt) == len(duck) and all(
        tt[a][:5] == duck[a][:5] and (not priced or tt[a][5].normalize() == duck[a][5]) for a in tt)
    say(f"{shape}: {n:,} records, {size / 1e6:.0f} MB, {len(tt)} agents, {sessions:,} sessions")
    say(f"  tt-sum --by agent : {t_tt:.3f} s wall, {c_tt:.3f} s CPU (best of {runs}, whole process), peak RSS {rss_kb / 1024:.1f} MB")
    if unpriced_log:
        (t_tt_unpriced, _), _ = best(lambda: run_tt(unpriced_log))
        say(f"    same, 10% of records priced on the fly: {t_tt_unpriced:.3f} s wall")
    say(f"  DuckDB GROUP BY   : {t_duck:.3f} s wall, {c_duck:.3f} s CPU (best of {runs}, query only)"
        f"  → tt-sum takes {t_tt / t_duck:.2f}× DuckDB's time ({t_duck / t_tt:.1f}× faster; target ≥ 3×), {c_duck / c_tt:.1f}× less CPU")
    say(f"    DuckDB as a process (python3 -c 'import duckdb; …'): {t_duck_proc:.3f} s wall → {t_duck_proc / t_tt:.1f}×")
    if t_duck_cli is not None:
        say(f"    DuckDB shell {cli_version} as a process (duckdb -c …): {t_duck_cli:.3f} s wall → {t_duck_cli / t_tt:.1f}×")
    same_jq = True
    if with_jq:
        prog = ('reduce inputs as $r ({}; .[$r.agent] |= {records: ((.records // 0) + 1), '
                'input: ((.input // 0) + $r.input_tokens), output: ((.output // 0) + $r.output_tokens), '
                'cache_read: ((.cache_read // 0) + ($r.cache_read_tokens // 0)), '
                'cache_write: ((.cache_write // 0) + ($r.cache_write_tokens // 0)), cost: ((.cost // 0) + ($r.cost_usd // 0))})')
        t = time.perf_counter()
        jq = json.loads(subprocess.run(["jq", "-n", "-c", prog, log], capture_output=True, check=True).stdout)
        t_jq = time.perf_counter() - t
        same_jq = all(tt[a][:5] == (v["records"], v["input"], v["output"], v["cache_read"], v["cache_write"]) for a, v in jq.items())
        say(f"  jq reduce         : {t_jq:.3f} s (one run)  → tt-sum is {t_jq / t_tt:.0f}× faster (target ≥ 30×)")
    what = "tokens and exact decimal dollars" if priced else "records and tokens; no cost_usd to compare"
    say(f"  totals identical  : DuckDB ({what}) {'yes' if same_duck else 'NO'}" + (f", jq (tokens) {'yes' if same_jq else 'NO'}" if with_jq else ""))
    return t_tt, t_duck, same_duck and same_jq, c_tt, c_duck

say(f"{datetime.date.today()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, DuckDB {duckdb.__version__}")
a = bench("default shape (sessions one after another, cost_usd on every known model's record)",
          os.path.join(tmp, "log.jsonl"), os.path.join(tmp, "log-unpriced.jsonl"), True, True)
b = bench("interleaved shape (64 sessions of any agent open at once, no cost_usd, timestamps to the second)",
          os.path.join(tmp, "log-interleaved.jsonl"), None, False, False)
say(f"tt-sum / DuckDB query, wall time: default {a[0] / a[1]:.2f}× ({a[1] / a[0]:.1f}× faster), "
    f"interleaved {b[0] / b[1]:.2f}× ({b[1] / b[0]:.1f}× faster)")
say(f"tt-sum / DuckDB query, CPU time : default {a[3] / a[4]:.2f}×, interleaved {b[3] / b[4]:.2f}×"
    f"  (on a busy machine the CPU ratio is the steadier one)")
sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block
write_block(figures, "sum", out_lines)
sys.exit(0 if a[2] and b[2] else 1)
PY

#!/usr/bin/env bash
# Benchmark: `tt-sum --by agent` over 1,000,000 generated records (about 280 MB) against DuckDB and jq doing
# the same GROUP BY over the same file (targets: ≤ 1/3 of DuckDB's time, ≥ 30× faster than jq, peak RSS
# ≤ 32 MB). Also checks that the three agree on the totals (DuckDB summing cost_usd exactly as DECIMAL).
#
# Usage: bench/sum.sh [RECORDS]   (RUNS=5 to take the best of more runs; default 3)
# Needs: python3 with duckdb (pip install duckdb), jq, GNU time (/usr/bin/time); optionally the DuckDB shell
# (pip install duckdb-cli), timed as a process like tt-sum.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
RUNS="${RUNS:-3}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet -p tt-sum -p tt-gen
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
# Every record of a known model carries its cost (DuckDB cannot price the others); the few of an unknown model
# are unpriced in both. A second file has 10% of the records without cost_usd, which tt-sum prices on the fly.
"$TARGET/release/tt-gen" log --records "$N" --seed 1 --unpriced-pct 0 > "$TMP/log.jsonl"
"$TARGET/release/tt-gen" log --records "$N" --seed 1 --unpriced-pct 10 > "$TMP/log-unpriced.jsonl"
python3 - "$TARGET/release/tt-sum" "$TMP" "$RUNS" <<'PY'
import decimal, json, os, re, resource, subprocess, sys, time
tt_sum, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = os.path.join(tmp, "log.jsonl")
env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp, NO_COLOR="1")
env.pop("TT_CONFIG", None)
size = os.path.getsize(log)
lines = sum(1 for _ in open(log, "rb"))
print(f"data: {lines:,} records, {size / 1e6:.0f} MB, {os.cpu_count()} CPUs")

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

# tt-sum: the whole process.
def run_tt(path=log):
    return subprocess.run([tt_sum, "--by", "agent", path], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, check=True).stdout.decode()
(t_tt, c_tt), out = best(run_tt)
(t_tt_unpriced, _), _ = best(lambda: run_tt(os.path.join(tmp, "log-unpriced.jsonl")))
tt = {}
for l in out.splitlines():
    r = json.loads(l, parse_float=decimal.Decimal)
    if r["group"]:
        tt[r["group"]["agent"]] = (r["records"], r["input_tokens"], r["output_tokens"], r["cache_read_tokens"],
                                   r["cache_write_tokens"], decimal.Decimal(r["cost_usd"]))
rss = subprocess.run(["/usr/bin/time", "-v", tt_sum, "--by", "agent", log], env=env, stdin=subprocess.DEVNULL,
                     capture_output=True, check=True).stderr.decode()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", rss).group(1))

# DuckDB: the query alone, in process (its start-up and import are not counted).
import duckdb
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
# DuckDB as a command, like tt-sum: a process that imports it and runs the query.
(t_duck_proc, _), _ = best(lambda: subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.sql({q!r}).fetchall()"],
                                                  check=True, capture_output=True))
duck = {r[0]: (r[1], r[2], r[3], r[4], r[5], r[6].normalize()) for r in rows}
# The DuckDB command-line shell as a process, when installed (pip install duckdb-cli): the closest match to
# timing tt-sum as a whole process.
t_duck_cli = None
try:
    import duckdb_cli
    cli = os.path.join(os.path.dirname(duckdb_cli.__file__), "duckdb")
    if os.access(cli, os.X_OK):
        (t_duck_cli, _), _ = best(lambda: subprocess.run([cli, "-c", q], check=True, capture_output=True))
        cli_version = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.split()[0]
except ImportError:
    pass

# jq: the equivalent reduce, once (it is slow).
prog = ('reduce inputs as $r ({}; .[$r.agent] |= {records: ((.records // 0) + 1), '
        'input: ((.input // 0) + $r.input_tokens), output: ((.output // 0) + $r.output_tokens), '
        'cache_read: ((.cache_read // 0) + ($r.cache_read_tokens // 0)), '
        'cache_write: ((.cache_write // 0) + ($r.cache_write_tokens // 0)), cost: ((.cost // 0) + ($r.cost_usd // 0))})')
t = time.perf_counter()
jq = json.loads(subprocess.run(["jq", "-n", "-c", prog, log], capture_output=True, check=True).stdout)
t_jq = time.perf_counter() - t

same_duck = all(tt[a][:5] == duck[a][:5] and tt[a][5].normalize() == duck[a][5] for a in tt) and len(tt) == len(duck)
same_jq = all(tt[a][:5] == (v["records"], v["input"], v["output"], v["cache_read"], v["cache_write"]) for a, v in jq.items())
print(f"tt-sum --by agent : {t_tt:.3f} s wall, {c_tt:.3f} s CPU (best of {runs}, whole process), peak RSS {rss_kb / 1024:.1f} MB")
print(f"  same, 10% of records priced on the fly: {t_tt_unpriced:.3f} s wall")
print(f"DuckDB GROUP BY   : {t_duck:.3f} s wall, {c_duck:.3f} s CPU (best of {runs}, query only)  → tt-sum is {t_duck / t_tt:.1f}× faster "
      f"in wall time (target ≥ 3×), {c_duck / c_tt:.1f}× less CPU")
print(f"  DuckDB as a process (python3 -c 'import duckdb; …'): {t_duck_proc:.3f} s wall → {t_duck_proc / t_tt:.1f}×")
if t_duck_cli is not None:
    print(f"  DuckDB shell {cli_version} as a process (duckdb -c …): {t_duck_cli:.3f} s wall → {t_duck_cli / t_tt:.1f}×")
print(f"jq reduce         : {t_jq:.3f} s (one run)                 → tt-sum is {t_jq / t_tt:.0f}× faster (target ≥ 30×)")
print(f"totals identical  : DuckDB (tokens and exact decimal dollars) {'yes' if same_duck else 'NO'}, jq (tokens) {'yes' if same_jq else 'NO'}")
sys.exit(0 if same_duck and same_jq else 1)
PY

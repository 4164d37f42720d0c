#!/usr/bin/env bash
# Benchmark: pushing a local log into a team ledger, and one record logged straight into it.
#
# Starts a throwaway PostgreSQL server (scripts/test-postgres.sh: local socket, fsync off), generates 1,000,000
# records with tt-gen in three shapes (sessions one after another; 64 interleaved sessions without cost_usd;
# a third of the records with long notes full of escapes), and for each shape times, into a fresh database:
#   * `tt-export --to LEDGER` (target: ≤ 15 s for 1M records), with tt-export's CPU time and the server's
#     (the postmaster's children: its backends);
#   * the same push again, when the ledger already holds every record (nothing added);
#   * the pull back, `tt-log --import LEDGER --log pulled.jsonl`, and whether it gives the log back byte for byte.
# Then the latency of one `tt-log` record written to a ledger over the local socket (target: median ≤ 10 ms),
# over TCP without TLS, and to a JSONL file, beside the cost of spawning /bin/true, one run of each in turn.
# The figures are written into BENCHMARKS.md between the bench:ledger-push markers.
#
# Usage: bench/ledger_push.sh [RECORDS] [APPENDS]   (defaults 1000000 and 200; TT_BIN=DIR to time the binaries
#        in DIR instead of building them)
# Needs: python3, a PostgreSQL server package (Debian: apt-get install postgresql).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
APPENDS="${2:-200}"
# shellcheck source=bench/ledger_common.sh
. bench/ledger_common.sh
ledger_bench_setup tt-export tt-log tt-gen
"$TT_BIN/tt-gen" log --records "$N" --seed 1 > "$TMP/sessions.jsonl"
"$TT_BIN/tt-gen" log --records "$N" --seed 2 --shape interleaved --unpriced-pct 100 > "$TMP/interleaved.jsonl"
"$TT_BIN/tt-gen" log --records "$N" --seed 3 --shape notes > "$TMP/notes.jsonl"
python3 - "$TT_BIN" "$TMP" "$PG" "$APPENDS" "$PWD/BENCHMARKS.md" <<'PY'
import datetime, filecmp, os, resource, statistics, subprocess, sys, time
bin_dir, tmp, pg, appends, figures = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
conf = dict(l.strip().split("=", 1) for l in open(os.path.join(pg, "env")) if "=" in l)
port, pgbin = conf["PGPORT"], conf["PGBIN"]
env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k not in ("TT_LOG", "TT_CONFIG", "CI")}
env.update(HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp, XDG_STATE_HOME=tmp, NO_COLOR="1")
out_lines = []
def say(line):
    print(line, flush=True)
    out_lines.append(line)

def psql(db, sql):
    return subprocess.run([os.path.join(pgbin, "psql"), "-X", "-qAt", "-h", pg, "-p", port, "-U", "tt", "-d", db,
                           "-c", sql], capture_output=True, check=True, text=True).stdout.strip()

def uri(db):
    return f"postgresql:///{db}?host={pg}&port={port}&user=tt"

def server_cpu():
    """CPU seconds of the server: the postmaster and the backends it has reaped (each push's connection)."""
    pid = open(os.path.join(pg, "data", "postmaster.pid")).readline().strip()
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in f[11:15]) / os.sysconf("SC_CLK_TCK")

def timed(argv):
    """Wall time, this run's CPU time (user + system), the server's CPU time, and stderr."""
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0, t = server_cpu(), time.perf_counter()
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.perf_counter() - t
    time.sleep(0.2)  # the backend exits after the client; let the postmaster reap it
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"{argv[0]} failed: {r.stderr}")
    return wall, (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime), server_cpu() - s0, r.stderr.strip()

say(f"{datetime.date.today()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
    f"PostgreSQL {psql('postgres', 'SHOW server_version')} (local socket, fsync off)")
worst = 0.0
shapes = [("sessions", "sessions one after another, cost_usd on most records"),
          ("interleaved", "64 sessions open at once, no cost_usd"),
          ("notes", "a third with notes of 100-2,000 bytes, escapes, non-ASCII")]
identical = True
for k, (shape, what) in enumerate(shapes):
    log = os.path.join(tmp, f"{shape}.jsonl")
    n = sum(1 for _ in open(log, "rb"))
    db = f"push_{k}"
    psql("postgres", f"CREATE DATABASE {db}")
    # The schema first (as a team's first write would), so the push alone is timed.
    subprocess.run([os.path.join(bin_dir, "tt-export"), "--to", uri(db), "--quiet", os.devnull], env=env, check=True)
    wall, cpu, srv, msg = timed([os.path.join(bin_dir, "tt-export"), "--to", uri(db), log])
    worst = max(worst, wall)
    say(f"{shape} ({what}): {n:,} records, {os.path.getsize(log) / 1e6:.0f} MB")
    say(f"  push into an empty ledger : {wall:.2f} s wall ({n / wall:,.0f} records/s); tt-export {cpu:.2f} s CPU, "
        f"server {srv:.2f} s CPU")
    say(f"    {msg}")
    wall, cpu, srv, msg = timed([os.path.join(bin_dir, "tt-export"), "--to", uri(db), log])
    say(f"  the same push again       : {wall:.2f} s wall; tt-export {cpu:.2f} s CPU, server {srv:.2f} s CPU")
    say(f"    {msg}")
    pulled = os.path.join(tmp, f"pulled-{shape}.jsonl")
    wall, cpu, srv, _ = timed([os.path.join(bin_dir, "tt-log"), "--import", uri(db), "--log", pulled])
    same = filecmp.cmp(log, pulled, shallow=False)
    identical &= same
    say(f"  pull back (tt-log --import): {wall:.2f} s wall; byte for byte the log pushed: {'yes' if same else 'NO'}")
    os.remove(pulled)
    psql("postgres", f"DROP DATABASE {db}")

# One record logged straight into a ledger: connection, schema check, lock, insert, as a whole process.
psql("postgres", "CREATE DATABASE latency")
tcp = f"postgresql://tt:tt-test@127.0.0.1:{port}/latency?sslmode=disable"
record = ["ATLAS", "sonnet-4.5", "50000", "15000", "Built TokenTracker"]
tt_log = os.path.join(bin_dir, "tt-log")
cases = [("ledger, local socket", [tt_log, *record, "--log", uri("latency")]),
         ("ledger, TCP 127.0.0.1 (password, no TLS)", [tt_log, *record, "--log", tcp]),
         ("JSONL file", [tt_log, *record, "--log", os.path.join(tmp, "usage.jsonl")]),
         ("spawning /bin/true", ["/bin/true"])]
subprocess.run(cases[0][1], env=env, check=True, capture_output=True)
times = [[] for _ in cases]
for _ in range(appends):
    for i, (_, argv) in enumerate(cases):
        t = time.perf_counter_ns()
        subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times[i].append((time.perf_counter_ns() - t) / 1e6)
assert psql("latency", "SELECT count(*) FROM tt.records") == str(2 * appends + 1)
say(f"one tt-log record ({appends} runs each, in turn):")
for (label, _), ts in zip(cases, times):
    ts = sorted(ts)
    say(f"  {label}: median {statistics.median(ts):.2f} ms, p90 {ts[int(len(ts) * 0.9)]:.2f} ms")
median = statistics.median(times[0])
say(f"target push of {n:,} records <= 15 s (slowest shape {worst:.2f} s): {'met' if worst <= 15 else 'MISSED'}")
say(f"target one record <= 10 ms median over the socket ({median:.2f} ms): {'met' if median <= 10 else 'MISSED'}")
sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block
SKIP = "benchmark figures, written by the bench scripts"
write_block(figures, "ledger-push", out_lines)
# The README quotes the verdicts (its section on the team ledger).
write_block(os.path.join(os.path.dirname(figures), "README.md"), "ledger-push", out_lines[-2:], skip=SKIP)
sys.exit(0 if identical else 1)
PY

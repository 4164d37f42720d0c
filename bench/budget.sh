#!/usr/bin/env bash
# Benchmark: `tt-budget` as a whole process, evaluating every configured budget from a usage log of 1,000,000
# records (target, issue 9: median ≤ 10 ms per call, by reading the sidecar index `usage.jsonl.tt-index` that
# `tt-log --enforce` keeps instead of rescanning the log). Run with stdin from /dev/null (so it reads the log)
# and `--format jsonl` (no terminal table), on three shapes of generated log (`tt-gen log --shape`), each
# timed for: the first call alone (it may build the index), repeated calls, a pre-task estimate, calls with
# one `tt-log` append before each (the index catches up a line), and the full scan of the log given as a FILE.
# The index answer must equal the full scan's byte for byte (exit 1 and a diff otherwise). The worst median is
# the headline. Prints the figures and writes them into BENCHMARKS.md between the bench:budget markers.
#
# Usage: bench/budget.sh [CALLS] [RECORDS]   (defaults 200 and 1000000; FULL=10 full-scan calls per shape; a
# timed series stops after CAP=20 seconds, at 10 calls or more, and says so: a slow index must not make the run
# take an hour)
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS="${1:-200}"
N="${2:-1000000}"
FULL="${FULL:-10}"
CAP="${CAP:-20}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet -p tt-budget -p tt-log -p tt-gen
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
cp bench/budgets.toml "$TMP/tt.toml"   # the four budgets, one of each kind
python3 - "$TARGET/release" "$TMP" "$CALLS" "$N" "$FULL" "$CAP" "$PWD/BENCHMARKS.md" <<'PY'
import datetime, difflib, os, shutil, statistics, subprocess, sys, time
bin_dir, tmp, figures = sys.argv[1], sys.argv[2], sys.argv[7]
calls, n, full, cap = (int(a) for a in sys.argv[3:7])
tt_budget, tt_log, tt_gen = (os.path.join(bin_dir, b) for b in ("tt-budget", "tt-log", "tt-gen"))
# Records up to the end of today (UTC, the config's zone), so the day and month windows are not empty.
end = (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)).isoformat()
SHAPES = [
    ("sessions", ["--shape", "sessions", "--unpriced-pct", "10"], "sessions one after another, 10% without cost_usd"),
    ("interleaved", ["--shape", "interleaved", "--unpriced-pct", "100"], "64 short sessions open at once, none with cost_usd"),
    ("notes", ["--shape", "notes", "--unpriced-pct", "0"], "a third with notes of 100-2,000 bytes, all with cost_usd"),
]
env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp, NO_COLOR="1")
for k in ("TT_CONFIG", "TT_AGENT", "TT_MODEL", "TT_SESSION", "TT_TASK", "TT_PROJECT", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
    env.pop(k, None)
os.chdir(tmp)
lines = []
def say(s=""):
    print(s, flush=True)
    lines.append(s)

def once(argv):
    t = time.perf_counter_ns()
    subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter_ns() - t) / 1e6
def series(call, k):
    """Times of `call()` k times, or fewer (10 at least) once `cap` seconds have passed."""
    out, t0 = [], time.monotonic()
    while len(out) < k and (len(out) < 10 or time.monotonic() - t0 < cap):
        out.append(call())
    return out
def stats(out, k):
    out = sorted(out)
    short = f" (only {len(out)} calls of {k}: stopped at the {cap} s cap)" if len(out) < k else ""
    return statistics.median(out), out[int(len(out) * 0.9)], statistics.mean(out), short
def floor(k):
    out = []
    for _ in range(k):
        t = time.perf_counter_ns(); subprocess.run(["/bin/true"], check=True); out.append((time.perf_counter_ns() - t) / 1e6)
    return statistics.median(out)
def answer(argv):
    return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)

def same(log, when):
    """The index's answer against the full scan's: byte-identical JSONL. Forecasts depend on the second of
    "now", so both run at the start of one second (index first: it takes its "now" within milliseconds, the
    full scan at its start); a difference is retried twice before it counts."""
    for attempt in range(3):
        time.sleep(1.005 - time.time() % 1)
        a = answer([tt_budget, "--format", "jsonl"])
        b = answer([tt_budget, "--format", "jsonl", log])
        if a.stdout == b.stdout:
            if a.stderr != b.stderr:
                say(f"  note: the warnings differ ({when}): index {a.stderr!r}, full scan {b.stderr!r}")
            return attempt
    sys.stdout.writelines(difflib.unified_diff(a.stdout.decode().splitlines(True), b.stdout.decode().splitlines(True),
                                               "tt-budget --format jsonl (index)", f"tt-budget --format jsonl {log} (full scan)"))
    print(f"FAIL: the index's answer differs from the full scan's ({when})", file=sys.stderr)
    sys.exit(1)

say(f"tt-budget: 4 budgets (month $, day tokens scoped to ATLAS, session tokens, all-time $), {calls} calls each, "
    f"{os.cpu_count()} CPUs; {datetime.date.today().isoformat()}, load average {os.getloadavg()[0]:.2f}")
results = []  # (median, what, shape)
budget = [tt_budget, "--format", "jsonl"]
estimate = [tt_budget, "--estimate-usd", "0.01", "--agent", "ATLAS"]
append = [tt_log, "ATLAS", "sonnet-4.5", "1200", "300", "--no-git", "-q"]
for shape, gen_args, what in SHAPES:
    d = os.path.join(tmp, shape); os.mkdir(d); os.chdir(d)
    shutil.copy(os.path.join(tmp, "tt.toml"), d)
    log = os.path.join(d, "usage.jsonl")
    env["TT_LOG"] = log
    with open(log, "wb") as f:
        subprocess.run([tt_gen, "log", "--records", str(n), "--seed", "1", "--end", end, *gen_args], stdout=f, check=True)
    records, sessions = 0, set()
    with open(log, "rb") as f:
        for line in f:
            records += 1
            i = line.find(b'"session":"')
            if i >= 0:
                sessions.add(line[i + 11:i + 27])
    say(f"shape {shape} ({what}): {records:,} records, {os.path.getsize(log) / 1e6:.0f} MB, {len(sessions):,} sessions")
    first = once(budget)
    index = log + ".tt-index"
    size = f"index {os.path.getsize(index):,} bytes" if os.path.exists(index) else "no index written"
    say(f"  first call (may build the index): {first:.1f} ms; {size}")
    retries = same(log, "fresh index")
    med, p90, mean, short = stats(series(lambda: once(budget), calls), calls)
    say(f"  tt-budget --format jsonl                 : median {med:6.2f} ms, p90 {p90:6.2f} ms, mean {mean:6.2f} ms{short}"); results.append((med, "tt-budget --format jsonl", shape))
    med, p90, mean, short = stats(series(lambda: once(estimate), calls), calls)
    say(f"  --estimate-usd 0.01 --agent ATLAS        : median {med:6.2f} ms, p90 {p90:6.2f} ms, mean {mean:6.2f} ms{short}"); results.append((med, "--estimate-usd", shape))
    def appended():
        subprocess.run(append, env=env, stdin=subprocess.DEVNULL, check=True)
        return once(budget)
    out = series(appended, calls)
    med, p90, mean, short = stats(out, calls)
    say(f"  same, one tt-log append before each call : median {med:6.2f} ms, p90 {p90:6.2f} ms, mean {mean:6.2f} ms{short}"); results.append((med, "after an append", shape))
    retries += same(log, f"after {len(out)} appends")
    med, _, _, _ = stats([once(budget + [log]) for _ in range(full)], full)
    say(f"  full scan (tt-budget --format jsonl LOG) : median {med:6.1f} ms over {full} calls")
    say(f"  index answer vs full scan: identical (fresh index, and after {len(out)} appends)"
        + (f"; {retries} retried at a second boundary" if retries else ""))
    os.chdir(tmp); shutil.rmtree(d)
say(f"spawning /bin/true: median {floor(calls):.2f} ms")
worst = max(results)
by_what = {}
for med, w, shape in results:
    if med >= by_what.get(w, (0, ""))[0]:
        by_what[w] = (med, shape)
say(f"headline: worst median {worst[0]:.2f} ms ({worst[1]}, shape {worst[2]}); target median ≤ 10 ms: "
    + ("met" if worst[0] <= 10 else "NOT met"))
say("  worst per call: " + "; ".join(f"{w} {m:.2f} ms ({s})" for w, (m, s) in by_what.items()))

sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block
write_block(figures, "budget", lines)
PY

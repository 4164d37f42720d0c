#!/usr/bin/env bash
# Benchmark: the whole of tt-optimize on a 1,000,000-record log (target: a few seconds, bounded memory).
#
# Generates the log with `tt-gen log` (deterministic for its seed), then runs `tt-optimize --format jsonl` on it
# RUNS times as a whole process (release build), reading the file, and once more reading the same log from a
# pipe (stdin is spooled to a temporary file for the second pass). Prints the median wall time and the peak
# resident memory (GNU time's "Maximum resident set size") of each, and the same for a 100,000-record log so
# that memory can be seen not to grow with the number of records. Last, the same big log with every record in a
# session of its own (the session ids rewritten): per-session state is all there is to grow with, and its peak
# memory is printed too (issue 11, item 7: 1.6 GB for 1,000,000 such sessions once). Writes the figures into
# BENCHMARKS.md between the bench:optimize markers.
# Usage: bench/optimize.sh [RECORDS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
RUNS="${2:-3}"
cargo build --release --quiet -p tt-optimize -p tt-gen
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
export XDG_CONFIG_HOME="$TMP" TT_CONFIG="" NO_COLOR=1
small=$((N / 10))
"$BIN/tt-gen" log --records "$N" > "$TMP/big.jsonl"
"$BIN/tt-gen" log --records "$small" > "$TMP/small.jsonl"
# A session per record: the same lines, each session id replaced by the line's number (16 hex digits, the
# length of tt-gen's own ids).
python3 - "$TMP/big.jsonl" "$TMP/sessions.jsonl" <<'PY'
import re, sys
pat = re.compile(rb'"session":"[^"]*"')
with open(sys.argv[1], "rb") as src, open(sys.argv[2], "wb") as out:
    for n, line in enumerate(src, 1):
        out.write(pat.sub(b'"session":"%016x"' % n, line, count=1))
PY
python3 - "$BIN/tt-optimize" "$TMP" "$N" "$small" "$RUNS" "$PWD/BENCHMARKS.md" <<'PY'
import os, statistics, subprocess, sys
binary, tmp, n, small, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
figures = sys.argv[6]
lines = []

def say(line):
    print(line)
    lines.append(line)

def run(path, piped):
    """One run under GNU time: (wall seconds, CPU seconds, max RSS MiB, suggestions)."""
    out = os.path.join(tmp, "out.jsonl")
    tv = os.path.join(tmp, "time.txt")
    argv = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", tv, binary, "--format", "jsonl"]
    with open(out, "w") as o:
        if piped:
            # A real pipe, not a redirected file: cat writes into it.
            cat = subprocess.Popen(["cat", path], stdout=subprocess.PIPE)
            subprocess.run(argv, stdin=cat.stdout, stdout=o, check=True)
            cat.stdout.close()
            cat.wait()
        else:
            subprocess.run(argv + [path], stdin=subprocess.DEVNULL, stdout=o, check=True)
    wall, user, sys_, rss_kb = open(tv).read().split()
    lines = open(out).read().splitlines()
    return float(wall), float(user) + float(sys_), int(rss_kb) / 1024, sum(1 for l in lines if '"kind":"suggestion"' in l)

def bench(label, path, records, piped):
    rs = [run(path, piped) for _ in range(runs)]
    wall = statistics.median(r[0] for r in rs)
    cpu = statistics.median(r[1] for r in rs)
    rss = max(r[2] for r in rs)
    size = os.path.getsize(path) / 1e6
    say(f"{label:<22} {records:>9,} records ({size:,.0f} MB): median {wall:.2f} s wall, {cpu:.2f} s CPU, "
        f"peak RSS {rss:.1f} MiB, {rs[0][3]} suggestions")
    return wall, rss

load = os.getloadavg()[0]
say(f"tt-optimize --format jsonl, median of {runs} runs, {os.cpu_count()} CPUs, load average {load:.1f}")
bench("file", os.path.join(tmp, "small.jsonl"), small, False)
wall, rss = bench("file", os.path.join(tmp, "big.jsonl"), n, False)
bench("stdin (pipe, spooled)", os.path.join(tmp, "big.jsonl"), n, True)
_, rss_sessions = bench("a session per record", os.path.join(tmp, "sessions.jsonl"), n, False)
say(f"target a few seconds for {n:,} records: {'met' if wall <= 5 else 'MISSED'} ({wall:.2f} s); "
    f"memory bounded: {rss:.1f} MiB")
say(f"a session per record ({n:,} sessions): peak RSS {rss_sessions:.1f} MiB, "
    f"{rss_sessions * 1048576 / max(n, 1):.0f} bytes a session at most (target: under 150 MB for 1,000,000)")
sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block
write_block(figures, "optimize", lines)
PY

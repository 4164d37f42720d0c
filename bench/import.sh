#!/usr/bin/env bash
# bench/import.sh — the import benchmark (a benchmark, not a timed test).
#
# Generates a realistic Claude Code tree (~400 files, ~800 MB: big assistant and tool-result lines, streaming
# copies of each message, subagent files; `tt-gen claude-tree`), then times
#   tt:      tt-log --import claude-code  followed by  tt-sum --by day,model
#   ccusage: ccusage claude daily --json --offline   (npm package ccusage, its linux-x64 native binary)
# on the same tree with the page cache warm, RUNS times each, interleaved. Prints the medians, the wall-time
# ratio (target ≤ 1/5), the peak-memory ratio (target ≤ 1/10; peak RSS from /usr/bin/time, for tt the larger
# of the two steps) and compares the token totals, overall and per day and model.
#
# Usage: bench/import.sh            (RUNS=5 WORK=/tmp/dir MB=870 FILES=400 CCUSAGE=/path/to/ccusage to override)
# Needs: cargo, python3, /usr/bin/time (Debian: apt-get install time), npm (unless CCUSAGE is given).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
FILES=${FILES:-400}
MB=${MB:-870} # the generator's subagent files are smaller than its sessions: 870 gives about 800 MB
CCUSAGE_VERSION=${CCUSAGE_VERSION:-20.0.24}
WORK=${WORK:-$(mktemp -d /tmp/tt-bench-import.XXXXXX)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
export TZ=UTC # ccusage groups days in the local time zone; tt-sum in the config's (UTC by default)

[ -x /usr/bin/time ] || { echo "bench/import.sh: needs /usr/bin/time (apt-get install -y time)" >&2; exit 2; }
cargo build --release --quiet -p tt-log -p tt-sum -p tt-gen
BIN=$CARGO_TARGET_DIR/release

mkdir -p "$WORK"
if [ ! -d "$WORK/claude/projects" ]; then
    echo "generating the tree in $WORK/claude ..." >&2
    "$BIN/tt-gen" claude-tree --out "$WORK/claude" --files "$FILES" --mb "$MB" >"$WORK/tree.json"
fi
if [ -z "${CCUSAGE:-}" ]; then
    if [ ! -e "$WORK/npm/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage" ]; then
        echo "installing ccusage $CCUSAGE_VERSION ..." >&2
        mkdir -p "$WORK/npm"
        (cd "$WORK/npm" && npm install --no-audit --no-fund --silent \
            "ccusage@$CCUSAGE_VERSION" "@ccusage/ccusage-linux-x64@$CCUSAGE_VERSION" >/dev/null)
    fi
    CCUSAGE=$WORK/npm/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage
    chmod +x "$CCUSAGE"
fi

files=$(find "$WORK/claude/projects" -name '*.jsonl' | wc -l)
bytes=$(find "$WORK/claude/projects" -name '*.jsonl' -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
echo "tree: $files files, $bytes bytes ($("$CCUSAGE" --version 2>/dev/null | head -1 || echo ccusage) at $CCUSAGE)" >&2
ccv="$("$CCUSAGE" --version 2>/dev/null | head -1 || echo '?')"
find "$WORK/claude/projects" -name '*.jsonl' -exec cat {} + >/dev/null # warm the page cache

t() { /usr/bin/time -f "%e %M %U %S" -o "$1" "${@:2}"; }
: >"$WORK/runs.txt"
for i in $(seq "$RUNS"); do
    rm -f "$WORK/usage.jsonl" "$WORK/usage.jsonl.tt-import.json"
    t "$WORK/t.import" env TT_LOG="$WORK/usage.jsonl" CLAUDE_CONFIG_DIR="$WORK/claude" "$BIN/tt-log" --import claude-code -q
    t "$WORK/t.sum" "$BIN/tt-sum" --by day,model --format jsonl "$WORK/usage.jsonl" >"$WORK/tt-sum.jsonl"
    t "$WORK/t.cc" env CLAUDE_CONFIG_DIR="$WORK/claude" "$CCUSAGE" claude daily --json --offline >"$WORK/ccusage.json"
    echo "$(cat "$WORK/t.import") $(cat "$WORK/t.sum") $(cat "$WORK/t.cc")" >>"$WORK/runs.txt"
done

REALDATA=${REALDATA:-$PWD/../shared/realdata}
python3 - "$WORK" "$PWD/BENCHMARKS.md" "$BIN" "$CCUSAGE" "$REALDATA" "$files" "$bytes" "$ccv" <<'EOF'
import json, os, shutil, statistics, subprocess, sys, tempfile
work, figures, bin_dir, ccusage, realdata, nfiles, nbytes, ccv = sys.argv[1:9]
out = []
def print(line=""):
    out.append(line)
    sys.stdout.write(line + "\n")
print(f"tree: {nfiles} files, {int(nbytes):,} bytes; {ccv} (its native linux-x64 binary)")
runs = [list(map(float, l.split())) for l in open(f"{work}/runs.txt")]
# per run: import (wall, KiB, user, sys), sum (same), ccusage (same)
med = statistics.median
tt_wall = med(r[0] + r[4] for r in runs)
tt_imp = med(r[0] for r in runs)
tt_sum = med(r[4] for r in runs)
tt_cpu = med(r[2] + r[3] + r[6] + r[7] for r in runs)
tt_mem = med(max(r[1], r[5]) for r in runs)
cc_wall = med(r[8] for r in runs)
cc_cpu = med(r[10] + r[11] for r in runs)
cc_mem = med(r[9] for r in runs)
load = open("/proc/loadavg").read().split()[0]
print(f"runs: {len(runs)} (medians), load average {load}")
print(f"tt (import + sum): {tt_wall:.2f} s wall (import {tt_imp:.2f} s, sum {tt_sum:.2f} s), {tt_cpu:.2f} s CPU, peak {tt_mem / 1024:.1f} MiB")
print(f"ccusage:           {cc_wall:.2f} s wall, {cc_cpu:.2f} s CPU, peak {cc_mem / 1024:.1f} MiB")
print(f"CPU ratio tt/ccusage:    1/{cc_cpu / tt_cpu:.1f}")
print(f"wall ratio tt/ccusage:   1/{cc_wall / tt_wall:.1f}  (target <= 1/5: {'ok' if tt_wall * 5 <= cc_wall else 'MISSED'})")
print(f"memory ratio tt/ccusage: 1/{cc_mem / tt_mem:.1f}  (target <= 1/10: {'ok' if tt_mem * 10 <= cc_mem else 'MISSED'})")

keys = [("input", "input_tokens", "inputTokens"), ("output", "output_tokens", "outputTokens"),
        ("cache_read", "cache_read_tokens", "cacheReadTokens"), ("cache_write", "cache_write_tokens", "cacheCreationTokens")]
tt_rows, tt_tot = {}, None
for l in open(f"{work}/tt-sum.jsonl"):
    r = json.loads(l)
    g = r.get("group") or {}
    cw = (r.get("cache_write_tokens") or 0) + (r.get("cache_write_1h_tokens") or 0)
    v = {k: (cw if k == "cache_write" else r.get(t) or 0) for k, t, _ in keys}
    if g:
        tt_rows[(g["day"], g["model"])] = v
    else:
        tt_tot = v
cc = json.load(open(f"{work}/ccusage.json"))
cc_rows = {(d["date"], m["modelName"]): {k: m[c] for k, _, c in keys} for d in cc["daily"] for m in d["modelBreakdowns"]}
cc_tot = {k: cc["totals"][c] for k, _, c in keys}
print("token totals:      " + "  ".join(f"{k} {tt_tot[k]:,}" for k, _, _ in keys) + "  (tt)")
print("                   " + "  ".join(f"{k} {cc_tot[k]:,}" for k, _, _ in keys) + "  (ccusage)")
same_rows = sum(1 for k in tt_rows if cc_rows.get(k) == tt_rows[k])
print(f"day x model rows:  {len(tt_rows)} (tt), {len(cc_rows)} (ccusage), {same_rows} identical")
print(f"costs:             tt ${sum(json.loads(l).get('cost_usd', 0) for l in open(f'{work}/tt-sum.jsonl') if not json.loads(l).get('group')):.4f}, ccusage ${cc['totals']['totalCost']:.4f}")
print("totals " + ("identical" if tt_tot == cc_tot and same_rows == len(tt_rows) == len(cc_rows) else "DIFFER"))

# The real transcripts, when they are there: tokens and costs of tt (its built-in LiteLLM catalogue) and ccusage.
if os.path.isdir(os.path.join(realdata, "claude")):
    tmp = tempfile.mkdtemp()
    try:
        for kind in ("claude", "codex"):
            shutil.copytree(os.path.join(realdata, kind), os.path.join(tmp, kind))
        env = dict(os.environ, TT_LOG=os.path.join(tmp, "u.jsonl"), CLAUDE_CONFIG_DIR=os.path.join(tmp, "claude"),
                   CODEX_HOME=os.path.join(tmp, "codex"))
        for src in ("claude-code", "codex"):
            subprocess.run([f"{bin_dir}/tt-log", "--import", src, "--finished", "-q"], env=env, check=True)
        rows = [json.loads(l) for l in subprocess.run([f"{bin_dir}/tt-sum", "--by", "source", "--format", "jsonl"],
                env=env, check=True, capture_output=True, text=True).stdout.splitlines()]
        for r in rows:
            name = (r.get("group") or {}).get("source", "all")
            print(f"realdata {name}: tt {r['records']} requests, {r['total_tokens']:,} tokens, ${r['cost_usd']} "
                  f"({r.get('unpriced_records', 0)} unpriced)")
        for kind, args in (("claude", ["claude", "daily"]), ("codex", ["codex", "daily"])):
            cc = subprocess.run([ccusage, *args, "--json", "--offline"], env=env, capture_output=True, text=True)
            try:
                t = json.loads(cc.stdout)["totals"]
                tokens = t.get("totalTokens")
                print(f"realdata {kind}: ccusage {tokens:,} tokens, ${t.get('totalCost', t.get('costUSD', 0)):.4f}")
            except (ValueError, KeyError, TypeError):
                print(f"realdata {kind}: ccusage gave no totals ({cc.stderr.strip().splitlines()[-1:] or 'no output'})")
    finally:
        shutil.rmtree(tmp)

sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block
write_block(figures, "import", out)
EOF

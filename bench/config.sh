#!/usr/bin/env bash
# Benchmark: loading a large config. Issue 11 found config loading quadratic in models and budgets (100k models:
# 67 s). This times `tt-price --quote` (one config load, one price) against a `--config` file of N models, each
# with aliases (and tiers or a dated price history), and of N/10 budgets, for N = 1k, 10k, 50k; the shapes differ in
# what each entry carries so no one layout decides the figure. Load time must grow linearly: the script prints
# ms per 1,000 entries for each size and the ratio of the largest size's per-entry time to the smallest's (near
# 1 is linear; 100 would be quadratic). The answer must be the same price whatever the size. Writes the figures
# into BENCHMARKS.md between the bench:config markers.
#
# Usage: bench/config.sh [RUNS]   (default 5 runs per size; the median is quoted)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet -p tt-price
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
python3 - "$TARGET/release/tt-price" "$TMP" "$RUNS" "$PWD/BENCHMARKS.md" <<'PY'
import os, statistics, subprocess, sys, time
tt_price, tmp, runs, figures = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, os.path.join(os.path.dirname(figures), "bench"))
from write_block import write_block

def config(n, shape):
    """n models (and n/10 budgets) in one of three shapes: flat prices; tiers and a service tier; a dated history."""
    out = []
    for i in range(n):
        out.append(f'[models."bench-model-{i}"]\nprovider = "bench"\naliases = ["bm-{i}", "bench/{i}"]')
        if shape == "flat":
            out.append(f"input = {1 + i % 7}.25\noutput = {3 + i % 11}.5\ncache_read = 0.125")
        elif shape == "tiers":
            out.append(f"input = {1 + i % 7}.25\noutput = {3 + i % 11}.5\n"
                       f"[models.\"bench-model-{i}\".above_200k]\ninput = 6.5\noutput = 22.5\n"
                       f"[models.\"bench-model-{i}\".batch]\ninput = 0.625\noutput = 2.75")
        else:
            out.append(f"input = {1 + i % 7}.25\noutput = {3 + i % 11}.5\n"
                       f"[[models.\"bench-model-{i}\".history]]\nuntil = 2025-01-01\ninput = 9\noutput = 27")
    for b in range(max(1, n // 10)):
        out.append(f'[[budget]]\nname = "bench-{b}"\nperiod = "month"\nscope = {{ agent = "agent-{b}" }}\nlimit_usd = {10 + b}')
    return "\n".join(out) + "\n"

env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp)
env.pop("TT_CONFIG", None)
sizes = [1_000, 10_000, 50_000]  # 100k models of the tiers shape pass the 16 MiB bound on a config file
lines = [f"tt-price --quote bm-7 100000 2000 --format value against a --config of N models (3 spellings each) "
         f"and N/10 budgets; median of {runs} runs"]
worst_ratio = 0.0
for shape in ("flat", "tiers", "history"):
    per_k, answers = [], set()
    for n in sizes:
        path = os.path.join(tmp, f"{shape}-{n}.toml")
        with open(path, "w") as f:
            f.write(config(n, shape))
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            out = subprocess.run([tt_price, "--config", path, "--quote", "bm-7", "100000", "2000", "--format", "value"],
                                 env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - t)
            if out.returncode != 0:
                sys.exit(f"bench/config.sh: tt-price failed on {shape} {n}: {out.stderr}")
            answers.add(out.stdout.strip())
        med = statistics.median(times)
        per_k.append(med / n * 1000 * 1000)
        lines.append(f"{shape:8} {n:>7,} models: {med * 1000:8.1f} ms  ({per_k[-1]:.2f} ms per 1,000 entries, "
                     f"{os.path.getsize(path) / 1e6:.1f} MB)")
    if len(answers) != 1:
        sys.exit(f"bench/config.sh: the quote differs with the size of the config: {answers}")
    ratio = per_k[-1] / per_k[0]
    worst_ratio = max(worst_ratio, ratio)
    lines.append(f"{shape:8} per-entry time at 50k / at 1k: {ratio:.2f} (1 = linear, 100 = quadratic); "
                 f"quote {answers.pop()}")
lines.append(f"worst per-entry ratio: {worst_ratio:.2f} (target: linear, <= 2)  {'ok' if worst_ratio <= 2 else 'MISSED'}")
print("\n".join(lines))
write_block(figures, "config", lines)
PY

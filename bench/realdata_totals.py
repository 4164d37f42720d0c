#!/usr/bin/env python3
"""Independent token totals of real agent transcripts, to check `tt-log --import` against (tests/import.rs).

Usage: bench/realdata_totals.py [REALDATA_DIR]   (default: ../shared/realdata)

Claude Code: every JSON object of every line (a line may hold two glued objects); usage from assistant lines
(`message.usage`) and from progress lines (`data.message.message.usage`, a subagent's request); one request per
message.id + requestId, keeping the copy with the most tokens; `<synthetic>` and zero-usage lines skipped.
Codex: per file, a request is counted when the cumulative total_token_usage.total_tokens grows; its tokens are
last_token_usage (or the difference of the totals); requests are keyed on the root session (a fork's parent)
and the cumulative totals, so a fork's replay of its parent is counted once.
"""
import collections, glob, json, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "realdata")
dec = json.JSONDecoder()

def objects(line):
    i, line = 0, line.strip()
    while i < len(line):
        try:
            o, i = dec.raw_decode(line, i)
        except ValueError:
            return
        yield o
        while i < len(line) and line[i] in " \t\r":
            i += 1

best = {}
for f in sorted(glob.glob(os.path.join(root, "claude", "projects", "**", "*.jsonl"), recursive=True)):
    for line in open(f, encoding="utf-8"):
        for o in objects(line):
            found = []
            if o.get("type") == "assistant" and isinstance(o.get("message"), dict):
                found.append((o["message"], o.get("requestId"), o.get("timestamp")))
            d = o.get("data")
            if isinstance(d, dict) and isinstance(d.get("message"), dict) and isinstance(d["message"].get("message"), dict):
                found.append((d["message"]["message"], d["message"].get("requestId"), d["message"].get("timestamp")))
            for m, req, ts in found:
                u = m.get("usage")
                if not u or m.get("model") == "<synthetic>":
                    continue
                h1 = (u.get("cache_creation") or {}).get("ephemeral_1h_input_tokens") or 0
                t = [u.get("input_tokens") or 0, u.get("output_tokens") or 0, u.get("cache_read_input_tokens") or 0,
                     (u.get("cache_creation_input_tokens") or 0) - h1, h1, 0]
                k = (m.get("id"), req)
                if sum(t) and (k not in best or sum(t) > sum(best[k][1])):
                    best[k] = (m.get("model"), t)
claude = collections.defaultdict(lambda: [0] * 7)
for model, t in best.values():
    for i, v in enumerate(t):
        claude[model][i] += v
    claude[model][6] += 1

seen, codex = set(), collections.defaultdict(lambda: [0] * 7)
for f in sorted(glob.glob(os.path.join(root, "codex", "**", "rollout-*.jsonl"), recursive=True)):
    own = rootid = model = None
    prev, prevt, started = 0, {}, False
    for line in open(f, encoding="utf-8"):
        o = json.loads(line)
        p = o.get("payload") or {}
        if o["type"] == "session_meta" and not started:
            own = own or p.get("id")
            if rootid is None and not p.get("forked_from_id"):
                rootid = p.get("id")
        elif o["type"] == "turn_context":
            model = p.get("model") or model
        elif o["type"] == "event_msg" and p.get("type") == "token_count":
            started = True
            info = p.get("info")
            if not info:
                continue
            tt = info["total_token_usage"]
            if tt["total_tokens"] <= prev:
                continue
            last = info.get("last_token_usage") or {k: tt[k] - prevt.get(k, 0) for k in tt}
            prev, prevt = tt["total_tokens"], tt
            key = (rootid or own, tt["total_tokens"], tt["input_tokens"], tt["output_tokens"])
            if key in seen:
                continue
            seen.add(key)
            c = codex[model]
            for i, v in enumerate([last["input_tokens"] - last["cached_input_tokens"], last["output_tokens"],
                                   last["cached_input_tokens"], 0, 0, last.get("reasoning_output_tokens", 0), 1]):
                c[i] += v

print("# model [input, output, cache_read, cache_write, cache_write_1h, reasoning, records]")
for name, agg in (("claude-code", claude), ("codex", codex)):
    print(f"## {name}: {sum(v[6] for v in agg.values())} records, {sum(sum(v[:5]) for v in agg.values()):,} tokens")
    for m in sorted(agg):
        print(m, agg[m])

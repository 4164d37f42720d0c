#!/usr/bin/env python3
"""Independent token totals of real agent transcripts, to check `tt-log --import` against (tests/import.rs).

Usage: bench/realdata_totals.py [--costs LITELLM_JSON] [REALDATA_DIR]   (default: ../shared/realdata)

Claude Code: every JSON object of every line (a line may hold two glued objects); usage from assistant lines
(`message.usage`) and from progress lines (`data.message.message.usage`, a subagent's request); one request per
message.id + requestId, keeping the copy with the most tokens; `<synthetic>` and zero-usage lines skipped; a
usage listing `iterations` counts the sum of its iterations' tokens.
Codex: per file, a request is counted when the cumulative total_token_usage.total_tokens grows; its tokens are
last_token_usage (or the difference of the totals); requests are keyed on the root session (a fork's parent)
and the cumulative totals, so a fork's replay of its parent is counted once.

--costs LITELLM_JSON also prices every request straight from LiteLLM's price map (the
model_prices_and_context_window_backup.json of the litellm wheel, 1.110.2 for tests/realdata_costs.rs), read with
Decimal from the JSON number text — no float anywhere, and every operation trapped if it would round — and prints
per model: requests, tokens, cost, unpriced requests, then the exact total. The rules (tt's, implemented here
from the JSON alone):
- the model is looked up by exact name, else without a trailing date `-YYYYMMDD`; prices are per token;
- a request's prompt is input + cache read + 5-minute + 1-hour cache writes; when the entry has
  `*_above_<N>k_tokens` prices and the prompt exceeds N*1000 tokens, the WHOLE request is priced at the highest
  such tier (input, output, cache read and cache writes from the tier; a price the tier lacks: the untiered one);
- cache read defaults to the input price; a 5-minute write is `cache_creation_input_token_cost` (default: input),
  a 1-hour write `cache_creation_input_token_cost_above_1hr` (default: the 5-minute write); the defaults apply
  after the tier is chosen (a tier's missing cache read is the untiered cache read, else the tier's input);
- reasoning tokens are inside output and not priced again;
- Codex service tier: after an `event_msg` `thread_settings_applied` whose `thread_settings.service_tier` is
  "priority" (until a later one sets another tier; one without the key changes nothing) turns use the
  `*_priority` prices (`input_cost_per_token_priority`, …, tiered `*_above_<N>k_tokens_priority`); a price the
  priority set lacks is the standard one of the same tier (so a tiered request of a model without tiered
  priority prices pays the standard tier's price for it);
- Claude `usage.speed == "fast"` multiplies the token cost by `provider_specific_entry.fast` (no such request
  in the data so far);
- `usage.server_tool_use.web_search_requests` x `search_context_cost_per_query.search_context_size_medium`
  (not multiplied by fast mode).
Where LiteLLM 1.110.2 lacks a price tt keeps a hand price in config/prices.toml; this script uses the same
figures, listed explicitly in HAND_PRICES (USD per million tokens) and applied by the date-stripped name:
- claude-sonnet-4 (claude-sonnet-4-20250514 has no LiteLLM entry, nor claude-sonnet-4): a whole entry,
  $3 in / $15 out / $0.30 cache read / $3.75 5-minute write / $6 1-hour write, and above 200k prompt tokens
  the whole request at $6 / $22.50 / $0.60 / $7.50 / $12;
- claude-sonnet-4-5 (LiteLLM has it, dated and not, without its long-context tier): only the tier above 200k is
  added, $6 / $22.50 / $0.60 / $7.50 / $12; the rest stays LiteLLM's.
A model neither in LiteLLM nor in HAND_PRICES is counted as unpriced (never $0).
"""
import collections, decimal, glob, json, os, re, sys
from decimal import Decimal

args = sys.argv[1:]
costs_json = None
if args[:1] == ["--costs"]:
    if len(args) < 2:
        sys.exit("usage: realdata_totals.py [--costs LITELLM_JSON] [REALDATA_DIR]")
    costs_json, args = args[1], args[2:]
root = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "realdata")
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
                # `usage.iterations`, when it lists passes (a compaction, an advisor call), is what was billed:
                # the request's tokens are their sum.
                its = [i for i in (u.get("iterations") or []) if isinstance(i, dict)] or [u]
                t = [0] * 6
                for i in its:
                    h1 = (i.get("cache_creation") or {}).get("ephemeral_1h_input_tokens") or 0
                    for n, v in enumerate([i.get("input_tokens") or 0, i.get("output_tokens") or 0,
                                           i.get("cache_read_input_tokens") or 0,
                                           (i.get("cache_creation_input_tokens") or 0) - h1, h1, 0]):
                        t[n] += v
                k = (m.get("id"), req)
                if sum(t) and (k not in best or sum(t) > sum(best[k][1])):
                    best[k] = (m.get("model"), t, u)
claude = collections.defaultdict(lambda: [0] * 7)
claude_requests = []  # (model, [input, output, cache_read, cache_write, cache_write_1h, reasoning], usage)
for model, t, u in best.values():
    claude_requests.append((model, t, u))
    for i, v in enumerate(t):
        claude[model][i] += v
    claude[model][6] += 1

seen, codex = set(), collections.defaultdict(lambda: [0] * 7)
codex_requests = []  # (model, tokens as for claude, priority)
for f in sorted(glob.glob(os.path.join(root, "codex", "**", "rollout-*.jsonl"), recursive=True)):
    own = rootid = model = None
    prev, prevt, started, priority = 0, {}, False, False
    for line in open(f, encoding="utf-8"):
        o = json.loads(line)
        p = o.get("payload") or {}
        if o["type"] == "session_meta" and not started:
            own = own or p.get("id")
            if rootid is None and not p.get("forked_from_id"):
                rootid = p.get("id")
        elif o["type"] == "turn_context":
            model = p.get("model") or model
        elif o["type"] == "event_msg" and p.get("type") == "thread_settings_applied":
            ts = p.get("thread_settings") or {}
            if "service_tier" in ts:
                priority = ts["service_tier"] == "priority"
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
            t = [last["input_tokens"] - last["cached_input_tokens"], last["output_tokens"],
                 last["cached_input_tokens"], 0, 0, last.get("reasoning_output_tokens", 0)]
            codex_requests.append((model, t, priority))
            for i, v in enumerate(t + [1]):
                c[i] += v

print("# model [input, output, cache_read, cache_write, cache_write_1h, reasoning, records]")
for name, agg in (("claude-code", claude), ("codex", codex)):
    print(f"## {name}: {sum(v[6] for v in agg.values())} records, {sum(sum(v[:5]) for v in agg.values()):,} tokens")
    for m in sorted(agg):
        print(m, agg[m])

if costs_json is None:
    sys.exit(0)

# ---- costs ---------------------------------------------------------------------------------------------------
ctx = decimal.getcontext()
ctx.prec = 200
ctx.traps[decimal.Inexact] = True  # every sum and product below is exact, or the script stops
with open(costs_json, encoding="utf-8") as f:
    litellm = json.load(f, parse_float=Decimal)

M = Decimal(1_000_000)
# tt's hand prices (config/prices.toml) for what LiteLLM 1.110.2 lacks, USD per million tokens, keyed by the
# date-stripped model name. "base": a whole entry (used when LiteLLM has no entry); "tiers": long-context tiers
# added to the entry (LiteLLM's or the base). Keys: input, output, cache_read, cache_write (5 min), cache_write_1h.
HAND_PRICES = {
    "claude-sonnet-4": {
        "base": {"input": "3", "output": "15", "cache_read": "0.30", "cache_write": "3.75", "cache_write_1h": "6"},
        "tiers": {200: {"input": "6", "output": "22.50", "cache_read": "0.60", "cache_write": "7.50",
                        "cache_write_1h": "12"}},
    },
    "claude-sonnet-4-5": {
        "tiers": {200: {"input": "6", "output": "22.50", "cache_read": "0.60", "cache_write": "7.50",
                        "cache_write_1h": "12"}},
    },
}
# Our key -> LiteLLM's key stem.
KEYS = {"input": "input_cost_per_token", "output": "output_cost_per_token", "cache_read": "cache_read_input_token_cost",
        "cache_write": "cache_creation_input_token_cost", "cache_write_1h": "cache_creation_input_token_cost_above_1hr"}


def strip_date(model):
    return re.sub(r"-\d{8}$", "", model)


def entry_for(model):
    """The price entry of a model as {(key, tier N or None, priority bool): Decimal per token} plus fast factor
    and web search price; None when unknown."""
    base = strip_date(model)
    e = litellm.get(model)
    if not isinstance(e, dict) or "input_cost_per_token" not in e:
        e = litellm.get(base)
    prices = {}
    fast = search = None
    if isinstance(e, dict) and "input_cost_per_token" in e:
        for ours, stem in KEYS.items():
            key = re.compile(re.escape(stem) + r"(?:_above_(\d+)k_tokens)?(_priority)?")
            for k, v in e.items():
                mt = key.fullmatch(k)
                if mt:
                    prices[(ours, mt.group(1) and int(mt.group(1)), bool(mt.group(2)))] = v
        fast = (e.get("provider_specific_entry") or {}).get("fast")
        search = (e.get("search_context_cost_per_query") or {}).get("search_context_size_medium")
    hand = HAND_PRICES.get(base)
    if hand:
        if not prices and "base" in hand:
            for ours, v in hand["base"].items():
                prices[(ours, None, False)] = Decimal(v) / M
        if prices:
            for n, tier in hand.get("tiers", {}).items():
                for ours, v in tier.items():
                    prices[(ours, n, False)] = Decimal(v) / M
    if not prices:
        return None
    return prices, fast, search


stats = collections.defaultdict(lambda: {"requests": 0, "tokens": 0, "cost": Decimal(0), "unpriced": 0,
                                         "priority": 0, "tiered": 0})
warnings = set()


def price(model, t, priority=False, speed=None, web_search=0):
    s = stats[model]
    s["requests"] += 1
    s["tokens"] += sum(t[:5])
    found = entry_for(model)
    if found is None:
        s["unpriced"] += 1
        return
    prices, fast, search = found
    prompt = t[0] + t[2] + t[3] + t[4]
    tiers = [n for (_, n, prio) in prices if n is not None and (not prio or priority)]
    tier = max((n for n in tiers if prompt > n * 1000), default=None)

    def p(ours):
        for key in ([(ours, tier, True)] if priority else []) + [(ours, tier, False)] + \
                   ([(ours, None, True)] if priority and tier is None else []) + [(ours, None, False)]:
            if key in prices:
                return prices[key]
        return None

    inp = p("input")
    if inp is None:
        s["unpriced"] += 1
        return
    out = p("output")
    if out is None:
        s["unpriced"] += 1
        return
    cr = p("cache_read")
    cr = inp if cr is None else cr
    cw = p("cache_write")
    cw = inp if cw is None else cw
    cw1 = p("cache_write_1h")
    cw1 = cw if cw1 is None else cw1
    cost = t[0] * inp + t[1] * out + t[2] * cr + t[3] * cw + t[4] * cw1
    if speed == "fast":
        if fast is None:
            warnings.add(f"{model}: fast request but no provider_specific_entry.fast; priced at standard speed")
        else:
            cost *= fast
    if web_search:
        if search is None:
            warnings.add(f"{model}: web search requests but no search_context_cost_per_query: unpriced")
            s["unpriced"] += 1
            return
        cost += web_search * search
    s["cost"] += cost
    s["priority"] += bool(priority)
    s["tiered"] += tier is not None


for model, t, u in claude_requests:
    price(model, t, speed=u.get("speed"), web_search=(u.get("server_tool_use") or {}).get("web_search_requests") or 0)
for model, t, priority in codex_requests:
    price(model, t, priority=priority)


def fmt(d):
    d = d.normalize()
    return f"{d:f}"


print(f"## costs from {os.path.basename(costs_json)}")
print("# model requests tokens cost unpriced priority tiered")
for m in sorted(stats):
    s = stats[m]
    print(m, s["requests"], s["tokens"], fmt(s["cost"]), s["unpriced"], s["priority"], s["tiered"])
tot = {k: sum(s[k] for s in stats.values()) for k in ("requests", "tokens", "unpriced", "priority", "tiered")}
total = sum((s["cost"] for s in stats.values()), Decimal(0))
print(f"## total: {tot['requests']} requests, {tot['tokens']:,} tokens, ${fmt(total)}, {tot['unpriced']} unpriced, "
      f"{tot['priority']} at priority, {tot['tiered']} above a long-context tier")
for w in sorted(warnings):
    print("warning:", w, file=sys.stderr)

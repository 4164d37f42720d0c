//! `tt-log --from` on provider shapes beyond the basic three: captures that hold several responses (refused,
//! never read as their last one), Bedrock Converse, xAI chat completions (reasoning outside completion tokens)
//! and OpenRouter (cache writes inside prompt tokens). Fixtures are written from each provider's API reference.
mod common;
use common::*;

/// `tt-log --from PROVIDER --print` with the fixture (or text) on stdin: the record it printed, which is also
/// the one it logged.
fn print(sc: &Scenario, args: &[&str], body: impl AsRef<[u8]>) -> serde_json::Value {
    let out = sc.cmd("tt-log").args(["--agent", "bot", "--print"]).args(args).pipe_in(body).succeeds();
    let mut printed = out.jsonl();
    assert_eq!(printed.len(), 1, "{}", out.stdout);
    let r = printed.remove(0);
    assert_eq!(sc.records().last(), Some(&r), "printed and logged records differ");
    r
}

fn body(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("providers/{name}"))).unwrap()
}

/// The token fields of a record: input, output, cache read, cache write (5m), cache write 1h, reasoning.
fn tokens(r: &serde_json::Value) -> [Option<u64>; 6] {
    [
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
    ]
    .map(|k| r.get(k).and_then(serde_json::Value::as_u64))
}

/// A log holding one record, and its bytes: a refusal must leave them as they are.
fn seeded() -> (Scenario, Vec<u8>) {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["seed", "haiku-4.5", "1", "1"]).succeeds();
    let before = std::fs::read(sc.log_path()).unwrap();
    (sc, before)
}

/// Refused with exactly `error` as the one stderr line, exit 2, the log unchanged.
fn refused(sc: &Scenario, before: &[u8], args: &[&str], body: impl AsRef<[u8]>, error: &str) {
    sc.cmd("tt-log")
        .args(["--agent", "bot"])
        .args(args)
        .pipe_in(body)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_is(&format!("tt-log: error: {error}\n"));
    assert_eq!(std::fs::read(sc.log_path()).unwrap(), before, "{args:?} changed the log");
}

fn several(n: usize, what: &str, from: &str) -> String {
    format!(
        "<stdin>: the input holds {n} responses ({what}), and a record is one response: log each response \
         separately (one tt-log --from {from} per response)"
    )
}

/// Two Anthropic streams in one capture used to be merged into the last one's counts; now the capture is
/// refused, and so is a file of two whole responses (one per line), with or without --dry-run.
#[test]
fn a_capture_of_several_anthropic_responses_is_refused() {
    let (sc, before) = seeded();
    let two = body("anthropic-two-responses.sse");
    let error = several(2, "2 `message_start` events", "anthropic");
    refused(&sc, &before, &["--from", "anthropic"], &two, &error);
    refused(&sc, &before, &["--from", "anthropic", "--dry-run"], &two, &error);
    // The same events as a JSON array.
    let events: Vec<serde_json::Value> = String::from_utf8(two.clone())
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    refused(&sc, &before, &["--from", "anthropic"], serde_json::to_string(&events).unwrap(), &error);
    // Three streams.
    let mut three = events.clone();
    three.extend(events[..3].iter().cloned());
    refused(
        &sc,
        &before,
        &["--from", "anthropic"],
        serde_json::to_string(&three).unwrap(),
        &several(3, "3 `message_start` events", "anthropic"),
    );
    // Whole responses, one per line.
    let whole = std::fs::read_to_string(fixture("providers/anthropic.json")).unwrap();
    let line = serde_json::from_str::<serde_json::Value>(&whole).unwrap().to_string();
    refused(
        &sc,
        &before,
        &["--from", "anthropic"],
        format!("{line}\n{line}\n"),
        &several(2, "2 responses with usage", "anthropic"),
    );
    // `claude -p --output-format stream-json`: each assistant message carries its usage, and so does the result.
    let stream_json = concat!(
        "{\"type\":\"system\",\"subtype\":\"init\",\"model\":\"claude-haiku-4-5\"}\n",
        "{\"type\":\"assistant\",\"message\":{\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}}\n",
        "{\"type\":\"assistant\",\"message\":{\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":12,\"output_tokens\":7}}}\n",
        "{\"type\":\"result\",\"usage\":{\"input_tokens\":22,\"output_tokens\":12}}\n",
    );
    refused(&sc, &before, &["--from", "anthropic"], stream_json, &several(3, "3 responses with usage", "anthropic"));
    // One stream, split the same way, is still read: the first half of the capture alone.
    let one: String = String::from_utf8(two).unwrap().split("\n\n").take(3).collect::<Vec<_>>().join("\n\n");
    let r = print(&sc, &["--from", "anthropic"], one);
    assert_eq!(tokens(&r), [Some(100), Some(20), None, None, None, None]);
}

/// OpenAI-shaped and Gemini captures are told apart by their response ids; OpenAI, which reports usage once
/// per response, also by its usage objects. One stream whose chunks repeat a cumulative usage is one response.
#[test]
fn captures_of_several_openai_gemini_bedrock_responses_are_refused() {
    let (sc, before) = seeded();
    let two = body("openai-chat-two-streams.sse");
    let ids = "2 response ids: chatcmpl-a, chatcmpl-b";
    refused(&sc, &before, &["--from", "openai"], &two, &several(2, ids, "openai"));
    refused(&sc, &before, &["--from", "xai"], &two, &several(2, ids, "xai"));
    refused(&sc, &before, &["--from", "openrouter"], &two, &several(2, ids, "openrouter"));
    // Two Responses API streams.
    let stream = std::fs::read_to_string(fixture("providers/openai-responses-stream.json")).unwrap();
    let a: Vec<serde_json::Value> = serde_json::from_str(&stream).unwrap();
    let b: Vec<serde_json::Value> = serde_json::from_str(&stream.replace("\"resp_1\"", "\"resp_2\"")).unwrap();
    let both = serde_json::to_string(&[a, b].concat()).unwrap();
    refused(&sc, &before, &["--from", "openai"], both, &several(2, "2 response ids: resp_1, resp_2", "openai"));
    // Bare OpenAI usage objects without ids: OpenAI reports one per response.
    refused(
        &sc,
        &before,
        &["--from", "openai", "--model", "gpt-4o"],
        "[{\"prompt_tokens\":1,\"completion_tokens\":1},{\"prompt_tokens\":2,\"completion_tokens\":2}]",
        &several(2, "2 usage objects", "openai"),
    );
    // Gemini: two responseIds.
    let g = |id: &str, p: u64, c: u64| {
        format!(
            "{{\"candidates\":[],\"usageMetadata\":{{\"promptTokenCount\":{p},\"candidatesTokenCount\":{c},\
             \"totalTokenCount\":{}}},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"{id}\"}}",
            p + c
        )
    };
    refused(
        &sc,
        &before,
        &["--from", "gemini"],
        format!("{}\n{}\n", g("r1", 10, 5), g("r2", 20, 7)),
        &several(2, "2 response ids: r1, r2", "gemini"),
    );
    // Bedrock: two ConverseStream messages.
    let converse: Vec<serde_json::Value> = serde_json::from_slice(&body("bedrock-converse-stream.json")).unwrap();
    refused(
        &sc,
        &before,
        &["--from", "bedrock", "--model", "haiku-4.5"],
        serde_json::to_string(&[converse.clone(), converse].concat()).unwrap(),
        &several(2, "2 `messageStart` events", "bedrock"),
    );
    // One Gemini stream: cumulative usage in every chunk of one response id; the last is the count.
    let r = print(&sc, &["--from", "gemini"], format!("data: {}\n\ndata: {}\n\n", g("r1", 10, 5), g("r1", 10, 9)));
    assert_eq!(tokens(&r), [Some(10), Some(9), None, None, None, None]);
    // One xAI stream whose chunks all carry the usage so far.
    let chunk = |c: u64| {
        format!(
            "data: {{\"id\":\"x1\",\"object\":\"chat.completion.chunk\",\"model\":\"grok-4\",\"choices\":[],\
             \"usage\":{{\"prompt_tokens\":50,\"completion_tokens\":{c},\"completion_tokens_details\":\
             {{\"reasoning_tokens\":30}}}}}}\n\n"
        )
    };
    let r = print(&sc, &["--from", "xai"], format!("{}{}data: [DONE]\n", chunk(1), chunk(12)));
    assert_eq!(tokens(&r), [Some(50), Some(42), None, None, None, Some(30)]);
}

/// Bedrock Converse: camelCase counts in Anthropic's convention (input is uncached), cache writes split by
/// `cacheDetails` TTL; the model comes from --model, and Bedrock model ids resolve in the price table.
#[test]
fn bedrock_converse_maps_camel_case_counts_and_cache_ttls() {
    let sc = Scenario::new();
    let model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let r = print(&sc, &["--from", "bedrock", "--model", model], body("bedrock-converse.json"));
    assert_eq!(tokens(&r), [Some(1200), Some(300), Some(8000), Some(1500), Some(500), None]);
    assert_eq!((r["model"].as_str(), r["price"].as_str()), (Some(model), Some("claude-sonnet-4-5")));
    assert_eq!((r["source"].as_str(), r["provider"].as_str()), (Some("bedrock"), Some("anthropic")));
    // 1200×3 + 300×15 + 8000×0.3 + 1500×3.75 + 500×6 = 19,125 → $0.019125
    assert_eq!(r["cost_usd"].to_string(), "0.019125");
    // ConverseStream: the usage in the metadata event; a model id without a region prefix.
    let r = print(
        &sc,
        &["--from", "bedrock", "--model", "anthropic.claude-haiku-4-5-20251001-v1:0"],
        body("bedrock-converse-stream.json"),
    );
    assert_eq!(tokens(&r), [Some(40), Some(10), None, None, None, None]);
    assert_eq!(r["price"], "claude-haiku-4-5");
    assert_eq!(r["cost_usd"].to_string(), "0.00009");
    // Without cacheDetails every write is a 5-minute one; TT_MODEL names the model as well as --model.
    let out = sc
        .cmd("tt-log")
        .args(["--agent", "bot", "--from", "bedrock", "--dry-run"])
        .env("TT_MODEL", "sonnet-4.5")
        .pipe_in(r#"{"usage":{"inputTokens":5,"outputTokens":6,"cacheWriteInputTokens":70,"totalTokens":81}}"#)
        .succeeds();
    assert_eq!(tokens(&out.jsonl()[0]), [Some(5), Some(6), None, Some(70), None, None]);
}

#[test]
fn bedrock_refusals_are_one_line_and_leave_the_log() {
    let (sc, before) = seeded();
    let converse = body("bedrock-converse.json");
    // Converse responses do not name their model.
    refused(
        &sc,
        &before,
        &["--from", "bedrock"],
        &converse,
        "no model: give it as the second argument, --model NAME or TT_MODEL",
    );
    // Read as Anthropic's, the camelCase counts are not there: the error says which --from reads them.
    refused(
        &sc,
        &before,
        &["--from", "anthropic", "--model", "sonnet-4.5"],
        &converse,
        "<stdin>: no token counts in the usage object (its camelCase counts are Bedrock Converse's: use --from \
         bedrock): expected `usage.input_tokens` / `usage.output_tokens`",
    );
    refused(
        &sc,
        &before,
        &["--from", "bedrock", "--model", "sonnet-4.5"],
        r#"{"usage":{"inputTokens":1,"outputTokens":1,"cacheWriteInputTokens":5,"cacheDetails":[{"ttl":"2h","inputTokens":5}]}}"#,
        r#"<stdin>: usage: cacheDetails ttl "2h" is neither "5m" nor "1h""#,
    );
    refused(
        &sc,
        &before,
        &["--from", "bedrock", "--model", "sonnet-4.5"],
        r#"{"usage":{"totalTokens":10}}"#,
        "<stdin>: no token counts in the usage object: expected `usage.inputTokens` / `usage.outputTokens`",
    );
}

/// xAI chat completions count reasoning outside completion_tokens: with --from xai output is their sum, and
/// reasoning is reasoning. OpenAI's own shape, where reasoning is inside, is unchanged, so the xAI response read
/// as OpenAI's is refused, naming --from xai.
#[test]
fn xai_chat_reasoning_is_added_to_output() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[models.grok-4]\ninput = 3\noutput = 15\ncache_read = 0.75\naliases = [\"grok-4-0709\"]\n");
    let r = print(&sc, &["--from", "xai"], body("xai-chat.json"));
    assert_eq!(tokens(&r), [Some(2000), Some(1000), Some(1000), None, None, Some(800)]);
    assert_eq!((r["model"].as_str(), r["source"].as_str()), (Some("grok-4-0709"), Some("xai")));
    // 2000×3 + 1000×0.75 + 1000×15 = 21,750 → $0.02175
    assert_eq!(r["cost_usd"].to_string(), "0.02175");
    // The Responses shape is read as OpenAI's (reasoning inside output).
    let r = print(&sc, &["--from", "xai"], body("openai-responses.json"));
    assert_eq!(tokens(&r), [Some(4000), Some(4500), Some(32000), None, None, Some(4000)]);
    let before = std::fs::read(sc.log_path()).unwrap();
    refused(
        &sc,
        &before,
        &["--from", "openai"],
        body("xai-chat.json"),
        "<stdin>: usage: reasoning tokens (800) exceed output tokens (200), which include them (xAI counts them \
         apart: use --from xai)",
    );
    // OpenAI's chat shape still keeps reasoning inside completion tokens.
    let r = print(
        &sc,
        &["--from", "openai", "--model", "gpt-4o"],
        r#"{"usage":{"prompt_tokens":10,"completion_tokens":300,"completion_tokens_details":{"reasoning_tokens":200}}}"#,
    );
    assert_eq!(tokens(&r), [Some(10), Some(300), None, None, None, Some(200)]);
}

/// OpenRouter's prompt_tokens include cache reads and cache writes: each is counted once, in its own field.
/// `usage.cost` is not read (tt prices the tokens itself).
#[test]
fn openrouter_cache_writes_are_not_plain_input() {
    let sc = Scenario::new();
    let r = print(&sc, &["--from", "openrouter"], body("openrouter-chat.json"));
    assert_eq!(tokens(&r), [Some(1000), Some(500), Some(6000), Some(3000), None, None]);
    assert_eq!(
        (r["model"].as_str(), r["price"].as_str()),
        (Some("anthropic/claude-sonnet-4.5"), Some("claude-sonnet-4-5"))
    );
    assert_eq!(r["source"], "openrouter");
    // 1000×3 + 500×15 + 6000×0.3 + 3000×3.75 = 23,550 → $0.02355 (what the response's usage.cost says)
    assert_eq!(r["cost_usd"].to_string(), "0.02355");
    // Read as OpenAI's, the writes stay in plain input.
    let r = print(&sc, &["--from", "openai"], body("openrouter-chat.json"));
    assert_eq!(tokens(&r), [Some(4000), Some(500), Some(6000), None, None, None]);
    let before = std::fs::read(sc.log_path()).unwrap();
    refused(
        &sc,
        &before,
        &["--from", "openrouter", "--model", "sonnet-4.5"],
        r#"{"usage":{"prompt_tokens":100,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":60,"cache_write_tokens":50}}}"#,
        "<stdin>: cached (60) and cache-write (50) tokens exceed prompt tokens (100), which include them",
    );
}

/// The fields that say how a record was priced: cost, label, service tier, speed, tool calls.
fn billed(r: &serde_json::Value) -> serde_json::Value {
    let keys = ["cost_usd", "price", "service_tier", "speed", "web_search_requests", "web_fetch_requests"];
    serde_json::Value::Object(keys.iter().filter_map(|k| Some((k.to_string(), r.get(*k)?.clone()))).collect())
}

/// Anthropic `usage.iterations`: a compaction pass (60,385 in / 592 out) and an advisor call on Opus 4.6 are
/// billed on top of the reply the top-level usage describes. Tokens are the sum of the three passes; the cost
/// is each pass at its own model, plus 3 web searches at $0.01, under the response model's label:
/// compaction (60,385 × $3 + 592 × $15) / 1M = $0.190035, advisor (12,000 × $5 + 1,600 × $25) / 1M = $0.1,
/// reply (23,000 × $3 + 1,000 × $15 + 5,000 × $0.30) / 1M = $0.0855, searches $0.03.
#[test]
fn anthropic_iterations_are_summed_and_priced_at_their_own_models() {
    let sc = Scenario::new();
    let r = print(&sc, &["--from", "anthropic"], body("anthropic-iterations.json"));
    assert_eq!(tokens(&r), [Some(95_385), Some(3_192), Some(5_000), None, None, None]);
    assert_eq!(r["model"], "claude-sonnet-4-6");
    assert_eq!(
        billed(&r),
        serde_json::json!({"cost_usd": 0.405535, "price": "claude-sonnet-4-6", "web_search_requests": 3})
    );
    // An iteration on a model tt does not know: the request is logged unpriced, with a warning.
    let text =
        String::from_utf8(body("anthropic-iterations.json")).unwrap().replace("claude-opus-4-6", "claude-nope-9");
    let out =
        sc.cmd("tt-log").args(["--agent", "bot", "--from", "anthropic", "--print", "-q"]).pipe_in(&text).succeeds();
    let r = &out.jsonl()[0];
    assert_eq!(r.get("cost_usd"), None);
    assert_eq!(
        out.stderr,
        "tt-log: warning: unknown model \"claude-nope-9\" of an iteration (advisor_message): logged unpriced\n"
    );
}

/// `speed: "fast"` on Opus 4.8 (fast = 2× the token prices) and server tool calls: tokens
/// (1,000 × $5 + 2,000 × $25 + 10,000 × $0.50) / 1M = $0.06, × 2 = $0.12, plus 2 web searches at $0.01 (web
/// fetches are billed as tokens only) = $0.14.
#[test]
fn anthropic_fast_mode_and_server_tools_are_priced() {
    let sc = Scenario::new();
    let r = print(&sc, &["--from", "anthropic"], body("anthropic-fast.json"));
    assert_eq!(tokens(&r), [Some(1_000), Some(2_000), Some(10_000), None, None, None]);
    assert_eq!(
        billed(&r),
        serde_json::json!({"cost_usd": 0.14, "price": "claude-opus-4-8:fast", "speed": "fast",
            "web_search_requests": 2, "web_fetch_requests": 1})
    );
    // A tier tt does not price is refused, not read as standard.
    let (sc, before) = seeded();
    let bad = String::from_utf8(body("anthropic-fast.json")).unwrap().replace("\"standard\"", "\"turbo\"");
    refused(
        &sc,
        &before,
        &["--from", "anthropic"],
        bad,
        "<stdin>: usage field `service_tier` \"turbo\" is not one tt prices (standard, batch, priority)",
    );
}

/// OpenAI's `service_tier` picks gpt-5.5's flex and priority prices. Flex chat: (12,000 × $2.50 + 3,000 × $15 +
/// 8,000 × $0.25) / 1M = $0.077; priority Responses: (8,000 × $12.50 + 500 × $75 + 2,000 × $1.25) / 1M = $0.14.
/// `default` is the standard price.
#[test]
fn openai_service_tiers_are_priced() {
    let sc = Scenario::new();
    let r = print(&sc, &["--from", "openai"], body("openai-chat-flex.json"));
    assert_eq!(tokens(&r), [Some(12_000), Some(3_000), Some(8_000), None, None, Some(1_000)]);
    assert_eq!(billed(&r), serde_json::json!({"cost_usd": 0.077, "price": "gpt-5.5:flex", "service_tier": "flex"}));
    let r = print(&sc, &["--from", "openai"], body("openai-responses-priority.json"));
    assert_eq!(tokens(&r), [Some(8_000), Some(500), Some(2_000), None, None, None]);
    assert_eq!(
        billed(&r),
        serde_json::json!({"cost_usd": 0.14, "price": "gpt-5.5:priority", "service_tier": "priority"})
    );
    let default = String::from_utf8(body("openai-chat-flex.json")).unwrap().replace("\"flex\"", "\"default\"");
    let r = print(&sc, &["--from", "openai"], default);
    // (12,000 × $5 + 3,000 × $30 + 8,000 × $0.50) / 1M.
    assert_eq!(billed(&r), serde_json::json!({"cost_usd": 0.154, "price": "gpt-5.5"}));
}

/// Gemini's Interactions API: input 12,000 + tool-use 1,000 − cached 4,000 = 9,000 uncached; output 800 +
/// 1,200 thoughts. gemini-2.5-pro: (9,000 × $1.25 + 2,000 × $10 + 4,000 × $0.125) / 1M = $0.03175.
#[test]
fn gemini_interactions_usage_is_read() {
    let sc = Scenario::new();
    let r = print(&sc, &["--from", "gemini"], body("gemini-interactions.json"));
    assert_eq!(tokens(&r), [Some(9_000), Some(2_000), Some(4_000), None, None, Some(1_200)]);
    assert_eq!(r["model"], "gemini-2.5-pro");
    assert_eq!(billed(&r), serde_json::json!({"cost_usd": 0.03175, "price": "gemini-2.5-pro"}));
}

/// Azure OpenAI: OpenAI's chat shape, the model from the response (not the deployment), source `azure`.
/// gpt-4o: (4,000 × $2.50 + 200 × $10 + 1,000 × $1.25) / 1M = $0.01325.
#[test]
fn azure_openai_responses_are_read() {
    let sc = Scenario::new();
    let r = print(&sc, &["--from", "azure"], body("azure-chat.json"));
    assert_eq!(tokens(&r), [Some(4_000), Some(200), Some(1_000), None, None, None]);
    assert_eq!(r["model"], "gpt-4o-2024-11-20");
    assert_eq!(r["source"], "azure");
    assert_eq!(billed(&r), serde_json::json!({"cost_usd": 0.01325, "price": "gpt-4o"}));
}

/// OpenRouter's own `usage.cost` is kept as `provider_cost_usd` (its exact text); tt's price stays the
/// record's cost, and a difference above 1% is one warning line.
#[test]
fn openrouter_cost_is_kept_as_a_cross_check() {
    let sc = Scenario::new();
    let out = sc
        .cmd("tt-log")
        .args(["--agent", "bot", "--from", "openrouter", "--print", "-q"])
        .pipe_in(body("openrouter-chat.json"))
        .succeeds()
        .stderr_is("");
    let r = &out.jsonl()[0];
    assert_eq!(r["cost_usd"], serde_json::json!(0.02355));
    assert_eq!(r["provider_cost_usd"], serde_json::json!(0.02355));
    let out = sc
        .cmd("tt-log")
        .args(["--agent", "bot", "--from", "openrouter", "--print", "-q"])
        .pipe_in(body("openrouter-chat-cost-differs.json"))
        .succeeds()
        .stderr_is(
            "tt-log: warning: openrouter says this request cost $0.0301, tt prices it at $0.02355 \
             (claude-sonnet-4-5): check the price of anthropic/claude-sonnet-4.5\n",
        );
    let r = &out.jsonl()[0];
    assert_eq!(r["cost_usd"], serde_json::json!(0.02355));
    assert_eq!(r["provider_cost_usd"], serde_json::json!(0.0301));
}

/// A response that repeats a key in one object is refused (serde_json would keep whichever came last: a count
/// could be read as either value); nothing is logged.
#[test]
fn a_response_with_a_repeated_key_is_refused() {
    let sc = Scenario::new();
    for body in [
        r#"{"model":"claude-sonnet-4-5","usage":{"input_tokens":5000,"output_tokens":10,"input_tokens":1}}"#,
        "data: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":9,\"input_tokens\":1,\"output_tokens\":1}}}\n",
    ] {
        sc.cmd("tt-log")
            .args(["--from", "anthropic", "--agent", "A"])
            .pipe_in(body)
            .fails_with(2)
            .one_error_line("tt-log")
            .stderr_has("the key `input_tokens` is repeated in one object");
    }
    assert_eq!(sc.log(), "");
}

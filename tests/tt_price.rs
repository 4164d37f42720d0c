//! tt-price: the filter, quotes, the price list, LiteLLM import, broken pipes.
mod common;
use common::*;

const UNPRICED: &str = r#"{"v":1,"id":"r1","ts":"2026-03-01T09:00:00Z","agent":"A","model":"gpt-4.1-2025-04-14","input_tokens":1000,"output_tokens":10,"zz":[1,{"k":2.50}]}
{"v":1,"id":"r2","ts":"2026-03-01T09:01:00Z","agent":"A","model":"sonnet-4.5","input_tokens":50000,"output_tokens":15000,"cost_usd":9.99,"price":"manual"}
{"v":1,"id":"r3","ts":"2026-03-01T09:02:00Z","agent":"B","model":"claude-fable-5","input_tokens":5,"output_tokens":5}
{"v":1,"id":"r4","ts":"2026-03-01T09:03:00Z","agent":"B","model":"claude-fable-5","input_tokens":6,"output_tokens":6}
"#;

#[test]
fn filter_prices_keeps_existing_costs_and_unknown_fields() {
    let sc = Scenario::new();
    let out = sc.cmd("tt-price").pipe_in(UNPRICED).succeeds();
    let lines: Vec<&str> = out.stdout.lines().collect();
    // 1000*2 + 10*8 = 2080 → 0.00208; unknown fields kept in order and exact.
    assert_eq!(
        lines[0],
        r#"{"v":1,"id":"r1","ts":"2026-03-01T09:00:00Z","agent":"A","model":"gpt-4.1-2025-04-14","provider":"openai","input_tokens":1000,"output_tokens":10,"cost_usd":0.00208,"price":"gpt-4.1","zz":[1,{"k":2.50}]}"#
    );
    assert!(lines[1].contains(r#""cost_usd":9.99,"price":"manual""#));
    assert!(!lines[2].contains("cost_usd"));
    assert_eq!(
        out.stderr,
        "tt-price: warning: unknown model \"claude-fable-5\": passed through unpriced\ntt-price: warning: 2 of 4 records unpriced\n"
    );
}

#[test]
fn reprice_replaces_existing_costs() {
    let sc = Scenario::new();
    let f = sc.write("in.jsonl", UNPRICED);
    let out = sc.cmd("tt-price").arg("--reprice").arg(&f).succeeds();
    assert!(out.stdout.lines().nth(1).unwrap().contains(r#""cost_usd":0.375,"price":"claude-sonnet-4-5""#));
}

#[test]
fn filter_reads_the_default_log_and_rejects_bad_lines_with_file_and_line() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["A", "haiku-4.5", "1000000", "0"]).succeeds();
    sc.cmd("tt-price").succeeds().stdout_has("\"cost_usd\":1,");
    let bad = sc.write("bad.jsonl", format!("{}{}\n", UNPRICED, r#"{"v":1,"id":"x","ts":"2026-03-01T09:00:00Z","agent":"A","model":"m","input_tokens":-3,"output_tokens":1}"#));
    sc.cmd("tt-price").arg(&bad).fails_with(2).stderr_has(&format!(
        "tt-price: error: {}:5: field `input_tokens`: expected a non-negative integer, got -3",
        bad.display()
    ));
    sc.cmd("tt-price")
        .arg("--strict")
        .pipe_in(UNPRICED)
        .fails_with(2)
        .stderr_has("<stdin>:3: unknown model \"claude-fable-5\" (--strict)");
    sc.cmd("tt-price")
        .arg("missing.jsonl")
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("missing.jsonl: No such file or directory");
}

#[test]
fn quote_is_exact_in_every_format() {
    let sc = Scenario::new();
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "50000", "15000", "--format", "value"])
        .succeeds()
        .stdout_is("0.375\n");
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "10000", "30000", "--format", "value"])
        .succeeds()
        .stdout_is("0.48\n");
    sc.cmd("tt-price")
        .args(["--quote", "opus-4.5", "1000", "2000", "--cache-read", "30000", "--cache-write", "4000", "--cache-write-1h", "5000"])
        .succeeds()
        .stdout_is("{\"kind\":\"quote\",\"model\":\"opus-4.5\",\"price\":\"claude-opus-4-5\",\"input_tokens\":1000,\"output_tokens\":2000,\"cache_read_tokens\":30000,\"cache_write_tokens\":4000,\"cache_write_1h_tokens\":5000,\"cost_usd\":0.145}\n");
    sc.cmd("tt-price").args(["--quote", "sonnet-4.5", "10000", "30000", "--format", "table"]).succeeds().stdout_is(
        "sonnet-4.5 → claude-sonnet-4-5 (builtin:prices.toml)
tokens  kind    $/MTok     cost
───────────────────────────────
10,000  input        3  $0.0300
30,000  output      15  $0.4500
───────────────────────────────
40,000  total           $0.4800
",
    );
    // Long context: 190k input + 20k cache read > 200k → the whole request at the tier.
    // 190000*6 + 20000*0.6 + 1000*22.5 = 1140000 + 12000 + 22500 = 1174500 → 1.1745
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "190000", "1000", "--cache-read", "20000", "--format", "value"])
        .succeeds()
        .stdout_is("1.1745\n");
    sc.cmd("tt-price")
        .args(["--quote", "nope", "1", "1"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("unknown model \"nope\"");
    sc.cmd("tt-price").args(["--quote", "sonnet-4.5", "-1", "1"]).fails_with(2).one_error_line("tt-price");
}

#[test]
fn list_shows_entries_and_their_source() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "[models.claude-sonnet-4-5]\nprovider = \"anthropic\"\ninput = 2\noutput = 10\naliases = [\"sonnet-4.5\"]\n",
    );
    let out = sc.cmd("tt-price").args(["--list", "--format", "json"]).succeeds();
    let sonnet = out.stdout.lines().find(|l| l.contains("\"model\":\"claude-sonnet-4-5\"")).unwrap();
    assert_eq!(
        sonnet,
        format!(
            "{{\"model\":\"claude-sonnet-4-5\",\"provider\":\"anthropic\",\"input\":2,\"output\":10,\"aliases\":[\"sonnet-4.5\"],\"history\":0,\"source\":\"{}\"}}",
            sc.path().join("tt.toml").display()
        )
    );
    let haiku = out.stdout.lines().find(|l| l.contains("\"model\":\"claude-haiku-4-5\"")).unwrap();
    assert!(haiku.contains("\"input\":1,\"output\":5,\"cache_read\":0.1,\"cache_write\":1.25,\"cache_write_1h\":2"));
    let table = sc.cmd("tt-price").args(["--list", "--format", "table"]).succeeds();
    assert!(table.stdout.starts_with("USD per million tokens\nmodel "));
    // The TOML listing is itself a valid config that reproduces the table.
    let toml = sc.cmd("tt-price").args(["--list", "--format", "toml"]).succeeds();
    let f = sc.write("listed.toml", &toml.stdout);
    let again = sc.cmd("tt-price").args(["--list", "--format", "json", "--config"]).arg(&f).succeeds();
    let strip = |s: &str| s.lines().map(|l| l.split(",\"source\"").next().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(strip(&again.stdout), strip(&out.stdout));
}

#[test]
fn litellm_import_converts_per_token_prices_exactly() {
    let sc = Scenario::new();
    let out = sc.cmd("tt-price").arg("--import-litellm").arg(fixture("providers/litellm.json")).succeeds();
    assert_eq!(
        out.stdout,
        "# Converted from LiteLLM's model_prices_and_context_window.json by `tt-price --import-litellm`.
# Prices in USD per million tokens.
# 3 models converted, 2 skipped (not text models, or no per-token prices).

[models.claude-sonnet-4-5]
provider = \"anthropic\"
input = 3
output = 15
cache_read = 0.3
cache_write = 3.75
cache_write_1h = 6
above_200k = { input = 6, output = 22.5, cache_read = 0.6, cache_write = 7.5 }

[models.gpt-4o-mini]
provider = \"openai\"
input = 0.15
output = 0.6
cache_read = 0.075

[models.\"vertex_ai/gemini-2.5-flash\"]
provider = \"vertex_ai-language-models\"
input = 0.3
output = 2.5
cache_read = 0.03

"
    );
    // The output is a config tt reads.
    let f = sc.write("litellm.toml", &out.stdout);
    sc.cmd("tt-price")
        .args(["--quote", "gpt-4o-mini", "1000000", "1000000", "--format", "value", "--config"])
        .arg(&f)
        .succeeds()
        .stdout_is("0.75\n");
    let only = sc
        .cmd("tt-price")
        .args(["--import-litellm"])
        .arg(fixture("providers/litellm.json"))
        .args(["--provider", "openai"])
        .succeeds();
    assert!(only.stdout.contains("gpt-4o-mini") && !only.stdout.contains("claude"));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let sc = Scenario::new();
    let mut big = String::new();
    for i in 0..30000 {
        big.push_str(&format!("{{\"v\":1,\"id\":\"r{i}\",\"ts\":\"2026-03-01T09:00:00Z\",\"agent\":\"A\",\"model\":\"sonnet-4.5\",\"input_tokens\":{i},\"output_tokens\":1}}\n"));
    }
    sc.write("big.jsonl", big);
    sc.bash("set -o pipefail; tt-price big.jsonl | head -1 > first.txt").succeeds().stderr_is("");
    assert!(sc.read("first.txt").contains("\"id\":\"r0\""));
}

#[test]
fn quote_at_a_past_time_uses_the_price_in_force_then() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "[models.m]\ninput = 1\noutput = 2\n[[models.m.history]]\nuntil = 2026-01-01\ninput = 10\noutput = 20\n",
    );
    sc.cmd("tt-price")
        .args(["--quote", "m", "1000000", "1000000", "--format", "value", "--at", "2025-12-31"])
        .succeeds()
        .stdout_is("30\n");
    sc.cmd("tt-price")
        .args(["--quote", "m", "1000000", "1000000", "--format", "value", "--at", "2026-01-01"])
        .succeeds()
        .stdout_is("3\n");
    sc.cmd("tt-price").args(["--quote", "m", "1", "1", "--at", "2026-13-01"]).fails_with(2).one_error_line("tt-price");
}

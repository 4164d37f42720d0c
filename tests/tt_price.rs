//! tt-price: the filter, quotes, the price list, LiteLLM import, broken pipes.
mod common;
use common::*;

const UNPRICED: &str = r#"{"v":1,"id":"r1","ts":"2026-03-01T09:00:00Z","agent":"A","model":"gpt-4.1-2025-04-14","input_tokens":1000,"output_tokens":10,"zz":[1,{"k":2.50}]}
{"v":1,"id":"r2","ts":"2026-03-01T09:01:00Z","agent":"A","model":"sonnet-4.5","input_tokens":50000,"output_tokens":15000,"cost_usd":9.99,"price":"manual"}
{"v":1,"id":"r3","ts":"2026-03-01T09:02:00Z","agent":"B","model":"claude-quill-9","input_tokens":5,"output_tokens":5}
{"v":1,"id":"r4","ts":"2026-03-01T09:03:00Z","agent":"B","model":"claude-quill-9","input_tokens":6,"output_tokens":6}
"#;

#[test]
fn filter_prices_keeps_existing_costs_and_unknown_fields() {
    let sc = Scenario::new();
    let out = sc.cmd("tt-price").pipe_in(UNPRICED).succeeds();
    let lines: Vec<&str> = out.stdout.lines().collect();
    // 1000*2 + 10*8 = 2080 → 0.00208; unknown fields kept in order and exact.
    assert_eq!(
        lines[0],
        r#"{"v":1,"id":"r1","ts":"2026-03-01T09:00:00Z","agent":"A","model":"gpt-4.1-2025-04-14","provider":"openai","input_tokens":1000,"output_tokens":10,"cost_usd":0.00208,"price":"gpt-4.1-2025-04-14","zz":[1,{"k":2.50}]}"#
    );
    assert!(lines[1].contains(r#""cost_usd":9.99,"price":"manual""#));
    assert!(!lines[2].contains("cost_usd"));
    assert_eq!(
        out.stderr,
        "tt-price: warning: unknown model \"claude-quill-9\": passed through unpriced\ntt-price: warning: 2 of 4 records unpriced\n"
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
        .stderr_has("<stdin>:3: unknown model \"claude-quill-9\" (--strict)");
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
    let out = sc.cmd("tt-price").args(["--list", "--format", "jsonl"]).succeeds();
    let sonnet = out.stdout.lines().find(|l| l.contains("\"model\":\"claude-sonnet-4-5\"")).unwrap();
    assert_eq!(
        sonnet,
        format!(
            // The layer's fields merge into the built-in entry (the catalogue's, with the hand-kept tier and
            // aliases): cache prices, tier, batch prices, web-search fee and aliases are kept.
            "{{\"model\":\"claude-sonnet-4-5\",\"provider\":\"anthropic\",\"input\":2,\"output\":10,\"cache_read\":0.3,\"cache_write\":3.75,\"cache_write_1h\":6,\"above_200k\":{{\"threshold\":200000,\"input\":6,\"output\":22.5,\"cache_read\":0.6,\"cache_write\":7.5,\"cache_write_1h\":12}},\"batch\":{{\"input\":1.5,\"output\":7.5,\"cache_read\":0.15,\"cache_write\":1.875}},\"web_search\":0.01,\"aliases\":[\"sonnet-4.5\",\"claude-sonnet-4.5\"],\"history\":0,\"source\":\"{}\"}}",
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
    let again = sc.cmd("tt-price").args(["--list", "--format", "jsonl", "--config"]).arg(&f).succeeds();
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
# 4 models converted, 1 skipped (not text models, or no per-token prices).

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

[models.text-embedding-3-small]
provider = \"openai\"
input = 0.02
output = 0

[models.\"vertex_ai/gemini-2.5-flash\"]
provider = \"google\"
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

/// The built-in list prices, pinned: 10,000 tokens of each kind the model prices (a 40k prompt, below every
/// long-context threshold), so the cost is a hundredth of the sum of the prices.
#[test]
fn built_in_prices_are_pinned() {
    let sc = Scenario::new();
    let cache5 = ["--cache-read", "10000", "--cache-write", "10000", "--cache-write-1h", "10000"];
    for (model, cache, want) in [
        ("opus-4.6", &cache5[..], "0.4675"),               // 5 + 25 + 0.50 + 6.25 + 10
        ("opus-4.5", &cache5[..], "0.4675"),               // the same
        ("opus-4.1", &cache5[..], "1.4025"),               // 15 + 75 + 1.50 + 18.75 + 30
        ("opus-4", &cache5[..], "1.4025"),                 // the same
        ("sonnet-4", &cache5[..], "0.2805"),               // 3 + 15 + 0.30 + 3.75 + 6
        ("sonnet-4.5", &cache5[..], "0.2805"),             // the same
        ("sonnet-4.6", &cache5[..], "0.2805"),             // the same
        ("haiku-4.5", &cache5[..], "0.0935"),              // 1 + 5 + 0.10 + 1.25 + 2
        ("gpt-5", &cache5[..2], "0.11375"),                // 1.25 + 10 + 0.125
        ("gpt-4.1", &cache5[..2], "0.105"),                // 2 + 8 + 0.50
        ("gpt-4o", &cache5[..2], "0.1375"),                // 2.50 + 10 + 1.25
        ("o3", &cache5[..2], "0.105"),                     // 2 + 8 + 0.50
        ("gpt-4", &[][..], "0.9"),                         // 30 + 60
        ("gemini-2.5-pro", &cache5[..2], "0.11375"),       // 1.25 + 10 + 0.125
        ("gemini-2.5-flash", &cache5[..2], "0.0283"),      // 0.30 + 2.50 + 0.03
        ("gemini-2.5-flash-lite", &cache5[..2], "0.0051"), // 0.10 + 0.40 + 0.01
    ] {
        let out =
            sc.cmd("tt-price").args(["--quote", model, "10000", "10000", "--format", "value"]).args(cache).succeeds();
        assert_eq!(out.stdout.trim(), want, "{model}");
    }
    // Long context: the whole request at the tier (Sonnet 4: 6 / 22.50; Gemini 2.5 Pro: 2.50 / 15).
    // 250,000 in + 1,000 out:
    for (model, want) in [("sonnet-4", "1.5225"), ("gemini-2.5-pro", "0.64")] {
        let out = sc.cmd("tt-price").args(["--quote", model, "250000", "1000", "--format", "value"]).succeeds();
        assert_eq!(out.stdout.trim(), want, "{model} above 200k");
    }
}

#[test]
fn list_table_shows_every_entry_with_its_prices() {
    let sc = Scenario::new();
    let out = sc.cmd("tt-price").args(["--list", "--format", "table"]).succeeds();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "USD per million tokens");
    assert!(lines[1].starts_with("model ") && lines[1].contains("cache read") && lines[1].ends_with("source"));
    assert!(lines[2].chars().all(|c| c == '─'));
    let jsonl = sc.cmd("tt-price").args(["--list", "--format", "jsonl"]).succeeds();
    assert_eq!(lines.len() - 3, jsonl.stdout.lines().count(), "one table row per entry");
    let sonnet = lines.iter().find(|l| l.starts_with("claude-sonnet-4-5 ")).unwrap();
    let cells: Vec<&str> = sonnet.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(
        cells,
        [
            "claude-sonnet-4-5",
            "anthropic",
            "3",
            "15",
            "0.3",
            "3.75",
            "6",
            ">200k: 6/22.5",
            "sonnet-4.5, claude-sonnet-4.5",
            "builtin:prices.toml"
        ]
    );
    // The config's entries and the models it gives aliases; --all adds the rest of the built-in catalogue.
    assert!(!out.stdout.contains("\ngpt-4 "));
    let all = sc.cmd("tt-price").args(["--list", "--all", "--format", "table"]).succeeds();
    let gpt4 = all.stdout.lines().find(|l| l.starts_with("gpt-4 ")).unwrap();
    assert!(gpt4.contains("  30  ") && gpt4.contains("  60  ") && gpt4.contains(" - "), "{gpt4}");
    assert!(all.stdout.lines().count() > 3000);
}

#[test]
fn list_json_keeps_the_long_context_cache_prices() {
    let sc = Scenario::new();
    let out = sc.cmd("tt-price").args(["--list", "--format", "jsonl"]).succeeds();
    let sonnet = out.jsonl().into_iter().find(|e| e["model"] == "claude-sonnet-4").unwrap();
    assert_eq!(
        sonnet["above_200k"].to_string(),
        r#"{"threshold":200000,"input":6,"output":22.5,"cache_read":0.6,"cache_write":7.5,"cache_write_1h":12}"#
    );
}

#[test]
fn filter_reads_the_log_given_with_dash_dash_log() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["A", "haiku-4.5", "1000000", "0", "--log", "other.jsonl"]).succeeds();
    sc.cmd("tt-log").args(["B", "haiku-4.5", "1", "0"]).succeeds();
    let out = sc.cmd("tt-price").args(["--log", "other.jsonl"]).succeeds();
    let recs = out.jsonl();
    assert_eq!(recs.len(), 1);
    assert_eq!((recs[0]["agent"].as_str(), recs[0]["cost_usd"].to_string()), (Some("A"), "1".to_string()));
}

#[test]
fn flags_of_another_mode_are_refused_not_ignored() {
    let sc = Scenario::new();
    sc.write("in.jsonl", UNPRICED);
    for (args, want) in [
        (vec!["--at", "2026-01-01", "in.jsonl"], "--at applies only to --quote, not to the filter"),
        (vec!["--cache-read", "5", "in.jsonl"], "--cache-read applies only to --quote"),
        (vec!["--cache-read", "5"], "--cache-read applies only to --quote"),
        (vec!["--cache-write-1h", "5", "--list"], "--cache-write-1h applies only to --quote, not to --list"),
        (vec!["--provider", "openai", "in.jsonl"], "--provider applies only to --import-litellm"),
        (
            vec!["--quote", "m", "1", "1", "--provider", "openai"],
            "--provider applies only to --import-litellm, not to --quote",
        ),
        (vec!["--list", "--reprice"], "--reprice applies only to the filter"),
        (vec!["--quote", "sonnet-4.5", "1", "1", "--strict"], "--strict applies only to the filter"),
        (
            vec!["--import-litellm", "x.json", "--at", "2026-01-01"],
            "--at applies only to --quote, not to --import-litellm",
        ),
        (vec!["--import-litellm", "x.json", "--format", "json"], "--format does not apply to --import-litellm"),
        (vec!["in.jsonl", "--format", "json"], "--format applies to --list and --quote"),
    ] {
        let out = sc.cmd("tt-price").args(&args).fails_with(2).one_error_line("tt-price");
        assert!(out.stderr.contains(want), "{args:?}: {} !~ {want}", out.stderr);
    }
}

#[test]
fn format_errors_name_the_formats_of_the_mode() {
    let sc = Scenario::new();
    for (mode, f, want) in [
        (
            &["--quote", "sonnet-4.5", "1", "1"][..],
            "csv",
            "--quote cannot write \"csv\"; use table, json, jsonl or value",
        ),
        (
            &["--quote", "sonnet-4.5", "1", "1"][..],
            "toml",
            "--quote cannot write \"toml\"; use table, json, jsonl or value",
        ),
        (&["--list"][..], "csv", "--list cannot write \"csv\"; use table, json, jsonl or toml"),
    ] {
        sc.cmd("tt-price").args(mode).args(["--format", f]).fails_with(2).one_error_line("tt-price").stderr_has(want);
    }
}

#[test]
fn a_huge_price_is_an_error_never_a_panic() {
    let sc = Scenario::new();
    let cfg = sc.write("big.toml", "[models.m]\ninput = 1e28\noutput = 1\n");
    sc.cmd("tt-price")
        .args(["--quote", "m", "100000000", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has(":2: key `models.m.input`: too large: at most 1000000 USD per million tokens");
    let cfg = sc.write("s.toml", "[models.m]\ninput = \"1e40\"\noutput = 1\n");
    sc.cmd("tt-price")
        .args(["--quote", "m", "1", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .stderr_has(":2: key `models.m.input`: too large");
    let cfg = sc.write("b.toml", "[[budget]]\nname = \"b\"\nperiod = \"month\"\nlimit_usd = 1e16\n");
    sc.cmd("tt-price")
        .args(["--list", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .stderr_has(":4: key `budget.limit_usd`: too large: at most 1000000000000000");
}

#[test]
fn litellm_import_refuses_absurd_prices_and_reports_bad_json_with_its_line() {
    let sc = Scenario::new();
    let f = sc.write(
        "huge.json",
        r#"{"ok": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "x", "mode": "chat"},
"boom": {"input_cost_per_token": 79228162514264337593543950335, "output_cost_per_token": 1e-06, "mode": "chat"}}"#,
    );
    sc.cmd("tt-price").arg("--import-litellm").arg(&f).fails_with(2).one_error_line("tt-price").stdout_is("").stderr_has(
        &format!(
            "{}: model \"boom\": `input_cost_per_token` = 79228162514264337593543950335 is not a plausible price (at most 1 USD per token)",
            f.display()
        ),
    );
    let f = sc.write("more.json", r#"{"m": {"input_cost_per_token": 2, "output_cost_per_token": 1e-06}}"#);
    sc.cmd("tt-price").arg("--import-litellm").arg(&f).fails_with(2).stderr_has("not a plausible price");
    let f = sc.write("bad.json", "{\n  \"a\": {\n    \"input_cost_per_token\": 1e-06,\n  }\n}\n");
    sc.cmd("tt-price")
        .arg("--import-litellm")
        .arg(&f)
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_is(&format!("tt-price: error: {}:4: invalid JSON: trailing comma (column 3)\n", f.display()));
    sc.cmd("tt-price").args(["--import-litellm", "-"]).fails_with(2).stderr_has("<stdin>: no JSON: the input is empty");
}

#[test]
fn litellm_names_that_differ_only_in_case_keep_the_first_and_are_counted() {
    let sc = Scenario::new();
    let f = sc.write(
        "dup.json",
        r#"{"Model-X": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "mode": "chat"},
"model-x": {"input_cost_per_token": 9e-06, "output_cost_per_token": 9e-06, "mode": "chat"},
"MODEL-X": {"input_cost_per_token": 8e-06, "output_cost_per_token": 8e-06, "mode": "chat"}}"#,
    );
    let out = sc.cmd("tt-price").arg("--import-litellm").arg(&f).succeeds();
    assert!(out.stdout.contains("# 1 models converted, 0 skipped (not text models, or no per-token prices), 2 duplicate names (differing only in case).\n"), "{}", out.stdout);
    assert!(out.stdout.contains("[models.model-x]\ninput = 1\noutput = 2\n"), "{}", out.stdout);
    assert_eq!(
        out.stderr,
        format!(
            "tt-price: warning: {0}: \"model-x\" skipped: tt model names ignore case, and \"Model-X\" came first\ntt-price: warning: {0}: \"MODEL-X\" skipped: tt model names ignore case, and \"Model-X\" came first\n",
            f.display()
        )
    );
}

/// LiteLLM names tt cannot use are skipped and counted, never converted into a config that fails (or a record
/// that breaks a table); non-text entries are skipped before their prices are looked at.
#[test]
fn litellm_import_skips_unusable_names_and_non_text_entries_first() {
    let sc = Scenario::new();
    let f = sc.write(
        "names.json",
        r#"{"ok": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "x", "mode": "chat"},
"": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "mode": "chat"},
"weird\nname": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "mode": "chat"},
"tabbed": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "a\tb", "mode": "chat"},
"big-image": {"input_cost_per_token": 5, "output_cost_per_token": 5, "litellm_provider": "x", "mode": "image_generation"}}"#,
    );
    let out = sc.cmd("tt-price").arg("--import-litellm").arg(&f).succeeds();
    assert!(
        out.stdout.contains("# 1 models converted, 1 skipped (not text models, or no per-token prices), 3 with a name or provider tt cannot use."),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("[models.ok]") && !out.stdout.contains("weird") && !out.stdout.contains("tabbed"));
    let warnings: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(warnings.len(), 3, "{}", out.stderr);
    assert!(
        warnings.iter().all(|w| w.starts_with("tt-price: warning: ") && w.contains(" skipped: ")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("\"weird\\nname\" skipped: model name must not contain control characters"));
    // The result loads, and lists without raw control characters.
    let toml = sc.write("l.toml", &out.stdout);
    let list = sc.cmd("tt-price").args(["--list", "--format", "table", "--config"]).arg(&toml).succeeds();
    assert!(!list.stdout.chars().any(|c| c.is_control() && c != '\n'));
}

/// A log that does not exist yet is empty, as in tt-sum, tt-export and tt-optimize.
#[test]
fn a_missing_default_log_is_empty_input() {
    let sc = Scenario::new();
    sc.cmd("tt-price").env("TT_LOG", sc.path().join("none/usage.jsonl")).succeeds().stdout_is("").stderr_is("");
    sc.cmd("tt-price").succeeds().stdout_is("").stderr_is("");
    assert!(!sc.log_path().exists(), "nothing is created");
    // A file named on the command line must exist.
    sc.cmd("tt-price").arg("missing.jsonl").fails_with(2).one_error_line("tt-price").stderr_has("missing.jsonl");
}

/// `--list --format json` is one JSON document (an array), jsonl one entry a line — the default in a pipe.
#[test]
fn list_json_is_one_array_and_jsonl_is_lines() {
    let sc = Scenario::new();
    let json = sc.cmd("tt-price").args(["--list", "--format", "json"]).succeeds();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let entries = doc.as_array().unwrap();
    let jsonl = sc.cmd("tt-price").args(["--list", "--format", "jsonl"]).succeeds();
    assert_eq!(entries, &jsonl.jsonl());
    assert!(entries.iter().any(|e| e["model"] == "claude-haiku-4-5"));
    sc.cmd("tt-price").arg("--list").succeeds().stdout_is(&jsonl.stdout);
    sc.cmd("tt-price")
        .arg("--help")
        .succeeds()
        .stdout_has("--list: table|json|jsonl|toml; --quote: table|json|jsonl|value");
}

/// A quote shows costs to four places, as tt-log's confirmation does for the same request.
#[test]
fn quote_and_log_show_the_same_figure() {
    let sc = Scenario::new();
    // 100,000 × 3 + 30,000 × 15 + 80,000 × 3.75 = 1,050,000 per MTok → $1.05 on Sonnet 4.5 (a 180k prompt).
    let args = ["sonnet-4.5", "100000", "30000", "--cache-write", "80000"];
    let quote = sc.cmd("tt-price").arg("--quote").args(args).args(["--format", "table"]).succeeds();
    let row = |kind: &str| quote.stdout.lines().find(|l| l.contains(kind)).unwrap().to_string();
    assert!(row("total").ends_with("$1.0500"), "{}", quote.stdout);
    assert!(row("input").ends_with("$0.3000") && row("output").ends_with("$0.4500"), "{}", quote.stdout);
    assert!(row("cache write").ends_with("$0.3000"), "{}", quote.stdout);
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "100000", "30000", "--cache-write", "80000"])
        .succeeds()
        .stderr_is("logged 210,000 tokens (sonnet-4.5) for A - $1.0500\n");
}

#[test]
fn negative_cache_counts_get_the_token_message_not_a_clap_tip() {
    let sc = Scenario::new();
    for flag in ["--cache-read", "--cache-write", "--cache-write-1h"] {
        sc.cmd("tt-price")
            .args(["--quote", "sonnet-4.5", "1", "1", flag, "-5"])
            .fails_with(2)
            .one_error_line("tt-price")
            .stderr_has("tokens must be a non-negative integer, got \"-5\"");
    }
}

/// One warning per unknown model, whatever the spelling's case.
#[test]
fn unknown_models_are_warned_once_ignoring_case() {
    let sc = Scenario::new();
    let rec = |m: &str| {
        format!(
            "{{\"v\":1,\"id\":\"{m}\",\"ts\":\"2026-01-02T03:04:05Z\",\"agent\":\"A\",\"model\":\"{m}\",\"input_tokens\":1,\"output_tokens\":1}}\n"
        )
    };
    let out = sc.cmd("tt-price").pipe_in([rec("mystery"), rec("MYSTERY"), rec("Mystery ")].concat()).succeeds();
    assert_eq!(
        out.stderr,
        "tt-price: warning: unknown model \"mystery\": passed through unpriced\ntt-price: warning: 3 of 3 records unpriced\n"
    );
    sc.write("u.jsonl", [rec("mystery"), rec("MYSTERY")].concat());
    let sum = sc.cmd("tt-sum").arg("u.jsonl").succeeds();
    assert_eq!(sum.stderr.matches("mystery").count() + sum.stderr.matches("MYSTERY").count(), 1, "{}", sum.stderr);
}

#[test]
fn a_litellm_file_may_start_with_a_byte_order_mark() {
    let sc = Scenario::new();
    let f = sc.write(
        "bom.json",
        "\u{feff}{\"ok\": {\"input_cost_per_token\": 1e-06, \"output_cost_per_token\": 2e-06, \"mode\": \"chat\"}}",
    );
    sc.cmd("tt-price").arg("--import-litellm").arg(&f).succeeds().stdout_has("[models.ok]\ninput = 1\noutput = 2\n");
}

/// The LiteLLM import always writes a config that loads, exactly: names that are aliases of built-in entries
/// are left to them (with a warning), and prices with more digits than a TOML float keeps are written as
/// strings, which the config reads exactly. A float too small to hold is refused, never read as $0.
#[test]
fn litellm_output_always_loads_and_keeps_every_digit() {
    let sc = Scenario::new();
    sc.write(
        "l.json",
        r#"{"chatgpt-4o-latest":{"litellm_provider":"openai","mode":"chat","input_cost_per_token":5e-06,"output_cost_per_token":1.5e-05},
 "my-model":{"litellm_provider":"openai","mode":"chat","input_cost_per_token":1.4999999999999999e-07,"output_cost_per_token":6e-07}}"#,
    );
    let out = sc.cmd("tt-price").args(["--import-litellm", "l.json"]).succeeds();
    assert!(
        out.stderr.contains("\"chatgpt-4o-latest\" skipped: it is an alias of the built-in entry \"gpt-4o\""),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("input = \"0.14999999999999999\"\noutput = 0.6\n"), "{}", out.stdout);
    sc.write("l.toml", &out.stdout);
    // 1,000,000 input tokens at 0.14999999999999999 per million: exactly that many dollars.
    sc.cmd("tt-price")
        .args(["--config", "l.toml", "--quote", "my-model", "1000000", "0", "--format", "value"])
        .succeeds()
        .stdout_is("0.14999999999999999\n");
    sc.cmd("tt-price").args(["--config", "l.toml", "--quote", "chatgpt-4o-latest", "1", "1"]).succeeds();
    sc.write("tiny.toml", "[models.m]\ninput = 1e-30\noutput = 1\n");
    sc.cmd("tt-price")
        .args(["--config", "tiny.toml", "--quote", "m", "1", "1"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("tiny.toml:2: key `models.m.input`: too small to hold exactly");
}

/// A typo of a known model: the quote and the filter name the model it is one edit from.
#[test]
fn unknown_models_one_edit_from_a_known_one_get_a_hint() {
    let sc = Scenario::new();
    sc.cmd("tt-price").args(["--quote", "sonet-4.5", "1", "1"]).fails_with(2).stderr_is(
        "tt-price: error: unknown model \"sonet-4.5\" (did you mean \"sonnet-4.5\"? tt-price --list shows the known \
         models and aliases)\n",
    );
    let rec = r#"{"v":1,"id":"01a19bb3-9500-7135-bcbc-1b9ce5810c40","ts":"2026-11-02T10:00:00.000Z","agent":"A","model":"gpt-4p","input_tokens":1,"output_tokens":1}"#;
    sc.cmd("tt-price").pipe_in(format!("{rec}\n")).succeeds().stdout_is(&format!("{rec}\n")).stderr_is(
        "tt-price: warning: unknown model \"gpt-4p\" (did you mean \"gpt-4\" or \"gpt-4o\"?): passed through \
         unpriced\n\
         tt-price: warning: 1 of 1 records unpriced\n",
    );
    sc.cmd("tt-price").arg("--strict").pipe_in(format!("{rec}\n")).fails_with(2).stderr_is(
        "tt-price: error: <stdin>:1: unknown model \"gpt-4p\" (--strict; did you mean \"gpt-4\" or \"gpt-4o\"?)\n",
    );
}

/// LiteLLM writes 0.0 where it has no price: such an entry is unknown, not free — skipped and counted, so the
/// model's records stay unpriced (never $0) — unless the user says free with --zero-is-free.
#[test]
fn litellm_entries_priced_zero_are_unknown_unless_said_free() {
    let sc = Scenario::new();
    sc.write(
        "prices.json",
        r#"{"mystery-chat": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "litellm_provider": "acme", "mode": "chat"},
"cheap-chat": {"input_cost_per_token": 0.0, "output_cost_per_token": 1e-06, "litellm_provider": "acme", "mode": "chat"}}"#,
    );
    let out = sc.cmd("tt-price").args(["--import-litellm", "prices.json"]).succeeds();
    assert_eq!(
        out.stdout,
        "# Converted from LiteLLM's model_prices_and_context_window.json by `tt-price --import-litellm`.
# Prices in USD per million tokens.
# 1 models converted, 0 skipped (not text models, or no per-token prices), 1 priced 0 (unknown, not free: their records stay unpriced; --zero-is-free converts them as free).

[models.cheap-chat]
provider = \"acme\"
input = 0
output = 1

"
    );
    // Loaded as a layer, the zero-priced model stays unknown: its records are unpriced, not $0.
    let f = sc.write("litellm.toml", &out.stdout);
    sc.cmd("tt-price").args(["--quote", "mystery-chat", "1000", "1000", "--config"]).arg(&f).fails_with(2);
    // Said free, it is converted as free.
    let free = sc.cmd("tt-price").args(["--import-litellm", "prices.json", "--zero-is-free"]).succeeds();
    assert!(
        free.stdout.contains("[models.mystery-chat]\nprovider = \"acme\"\ninput = 0\noutput = 0\n"),
        "{}",
        free.stdout
    );
    assert!(free.stdout.contains("# 2 models converted, 0 skipped"), "{}", free.stdout);
    // --zero-is-free means nothing without an import.
    sc.cmd("tt-price").args(["--zero-is-free", "--list"]).fails_with(2);
}

/// The built-in catalogue's price dimensions through `--quote`: a long-context tier at 272k, service tiers
/// with their own tiers, fast mode and per-call web-search fees. Expected costs by hand from the catalogue's
/// lines (tools/tt-core/data/catalogue.toml, USD per million tokens).
#[test]
fn quotes_apply_every_price_dimension_of_the_catalogue() {
    let sc = Scenario::new();
    let quote = |args: &[&str]| {
        let out = sc.cmd("tt-price").arg("--quote").args(args).args(["--format", "json"]).succeeds();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        (v["price"].as_str().unwrap().to_string(), v["cost_usd"].to_string())
    };
    let q = |label: &str, cost: &str| (label.to_string(), cost.to_string());
    // gpt-5.5: 5 / 30; above 272k the whole request 10 / 45: 300,000 × 10 + 1,000 × 45 = 3,045,000 → $3.045.
    assert_eq!(quote(&["gpt-5.5", "300000", "1000"]), q("gpt-5.5:above_272k", "3.045"));
    // Flex 2.5 / 15: 100,000 × 2.5 + 1,000 × 15 = 265,000; above 272k flex's own tier 5 / 22.5.
    assert_eq!(quote(&["gpt-5.5", "100000", "1000", "--service-tier", "flex"]), q("gpt-5.5:flex", "0.265"));
    assert_eq!(quote(&["gpt-5.5", "300000", "1000", "--service-tier", "flex"]), q("gpt-5.5:flex:above_272k", "1.5225"));
    // Priority 12.5 / 75 has no tier of its own: 300,000 × 12.5 + 1,000 × 75 = 3,825,000.
    assert_eq!(quote(&["gpt-5.5", "300000", "1000", "--service-tier", "priority"]), q("gpt-5.5:priority", "3.825"));
    // Batch: claude-haiku-4-5 at 0.5 / 2.5.
    assert_eq!(
        quote(&["claude-haiku-4-5", "1000", "1000", "--service-tier", "batch"]),
        q("claude-haiku-4-5:batch", "0.003")
    );
    // Fast mode doubles claude-opus-4-8's 5 / 25: (5,000 + 25,000) × 2 = 60,000 → $0.06.
    assert_eq!(quote(&["claude-opus-4-8", "1000", "1000", "--fast"]), q("claude-opus-4-8:fast", "0.06"));
    // Three web searches at $0.01 on top of $0.03 of tokens.
    assert_eq!(quote(&["claude-opus-4-8", "1000", "1000", "--web-searches", "3"]), q("claude-opus-4-8", "0.06"));
    // A model only the catalogue knows, by a provider's id and by its dated id.
    assert_eq!(quote(&["claude-fable-5", "1000", "0"]).1, "0.01");
    assert_eq!(quote(&["anthropic/claude-4.6-sonnet-20260217", "1000", "0"]), q("claude-sonnet-4-6", "0.003"));
    sc.cmd("tt-price")
        .args(["--quote", "gpt-5.5", "1", "1", "--service-tier", "turbo"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("--service-tier: want standard, batch, flex or priority");
}

/// The family aliases name the newest model of their family in the catalogue (by version number), so a
/// catalogue refresh that lists a newer model fails here until config/prices.toml moves the alias.
#[test]
fn family_aliases_name_the_newest_model_of_their_family() {
    let catalogue = std::fs::read_to_string(repo_root().join("tools/tt-core/data/catalogue.toml")).unwrap();
    let names: Vec<&str> = catalogue.lines().filter_map(|l| l.strip_prefix('"')?.split('"').next()).collect();
    // The newest `PREFIX<version>` (digits separated by `-` or `.`, nothing after), by its numbers.
    let newest = |prefix: &str| -> String {
        let version = |n: &str| -> Option<Vec<u64>> {
            let v = n.strip_prefix(prefix)?;
            let parts: Option<Vec<u64>> = v.split(['-', '.']).map(|p| p.parse().ok()).collect();
            parts.filter(|p| !p.is_empty() && p.len() <= 2)
        };
        names.iter().filter_map(|n| version(n).map(|v| (v, *n))).max().unwrap().1.to_string()
    };
    let sc = Scenario::new();
    let resolves_to = |alias: &str| {
        let out = sc.cmd("tt-price").args(["--quote", alias, "1", "1", "--format", "json"]).succeeds();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        v["price"].as_str().unwrap().split(':').next().unwrap().to_string()
    };
    for (alias, prefix) in [
        ("opus", "claude-opus-"),
        ("sonnet", "claude-sonnet-"),
        ("haiku", "claude-haiku-"),
        ("fable", "claude-fable-"),
        ("gpt", "gpt-"),
    ] {
        assert_eq!(resolves_to(alias), newest(prefix), "{alias}");
    }
}

//! tt-optimize: suggestions and savings on hand-made logs, every saving computed by hand (exact decimals).
//!
//! Prices used (USD per million tokens, from config/prices.toml):
//!   claude-opus-4-5   in 5, out 25, cache read 0.50, cache write 6.25
//!   claude-sonnet-4-5 in 3, out 15, cache read 0.30, cache write 3.75; above 200k prompt: in 6, out 22.5,
//!                     cache read 0.60, cache write 7.50
//!   claude-haiku-4-5  in 1, out 5, cache read 0.10
//!   gpt-4o            in 2.50, out 10, cache read 1.25 (no cache-write charge: writes cost the input price)
mod common;
use common::*;
use serde_json::Value;

/// One log line. `extra` is spliced in as more JSON fields (`"session":"s1"`).
fn rec(id: &str, ts: &str, agent: &str, model: &str, input: u64, output: u64, extra: &str) -> String {
    let extra = if extra.is_empty() { String::new() } else { format!(",{extra}") };
    format!(
        r#"{{"v":1,"id":"{id}","ts":"{ts}","agent":"{agent}","model":"{model}","input_tokens":{input},"output_tokens":{output}{extra}}}"#
    ) + "\n"
}

fn suggestions(out: &Out) -> Vec<Value> {
    out.jsonl().into_iter().filter(|v| v["kind"] == "suggestion").collect()
}

fn kinds(out: &Out, kind: &str) -> Vec<Value> {
    out.jsonl().into_iter().filter(|v| v["kind"] == kind).collect()
}

/// ATLAS on Opus 4.5: three small requests (output ≤ 1,000, prompt ≤ 20,000) and two that are not.
fn rightsize_log() -> String {
    let mut s = String::new();
    // a1: opus 1000×5 + 200×25 = 10,000 → $0.01;   sonnet 1000×3 + 200×15 = 6,000 → $0.006;  saving 0.004
    s += &rec("a1", "2026-11-02T10:00:00Z", "ATLAS", "opus-4.5", 1000, 200, "");
    // a2: opus 4000×5 + 800×25 = 40,000 → $0.04;   sonnet 12,000 + 12,000 = 24,000 → $0.024;  saving 0.016
    s += &rec("a2", "2026-11-02T11:00:00Z", "ATLAS", "opus-4.5", 4000, 800, "");
    // a3: prompt 10,000 + 5,000 cache read = 15,000 ≤ 20,000.
    //     opus 10000×5 + 1000×25 + 5000×0.5 = 77,500 → $0.0775; sonnet 30,000 + 15,000 + 1,500 = 46,500
    //     → $0.0465; saving 0.031
    s += &rec("a3", "2026-11-02T12:00:00Z", "ATLAS", "opus-4.5", 10000, 1000, r#""cache_read_tokens":5000"#);
    // a4: prompt 30,000 > 20,000: not small.   a5: output 1,001 > 1,000: not small.
    s += &rec("a4", "2026-11-02T13:00:00Z", "ATLAS", "opus-4.5", 30000, 500, "");
    s += &rec("a5", "2026-11-02T14:00:00Z", "ATLAS", "opus-4.5", 1000, 1001, "");
    s
}

#[test]
fn rightsize_reprices_the_small_records_exactly() {
    let sc = Scenario::new();
    sc.write("log.jsonl", rightsize_log());
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    assert_eq!(s.len(), 1, "{}", out.stdout);
    // 0.004 + 0.016 + 0.031 = 0.051; 0.01 + 0.04 + 0.0775 = 0.1275 at opus; 0.006 + 0.024 + 0.0465 = 0.0765.
    assert_eq!(
        s[0].to_string(),
        r#"{"kind":"suggestion","rank":1,"type":"rightsize","saving_usd":0.051,"evidence":{"agent":"ATLAS","model":"claude-opus-4-5","suggested_model":"claude-sonnet-4-5","records":3,"cost_usd":0.1275,"cost_at_suggested_usd":0.0765,"rule":{"max_output_tokens":1000,"max_prompt_tokens":20000},"record_ids":["a3","a2","a1"]},"message":"ATLAS used claude-opus-4-5 for 3 small requests (output ≤ 1,000 and prompt ≤ 20,000 tokens); on claude-sonnet-4-5 they would have cost $0.0765 instead of $0.1275, $0.0510 less"}"#
    );
}

#[test]
fn rightsize_rules_come_from_the_config() {
    let sc = Scenario::new();
    sc.write("log.jsonl", rightsize_log());
    // Only output ≤ 500: a1 (200) and a4 (500, but its prompt 30,000 ≤ 40,000 now counts too).
    // a4: opus 30000×5 + 500×25 = 162,500 → $0.1625; sonnet 90,000 + 7,500 = 97,500 → $0.0975; saving 0.065.
    // Total saving 0.004 + 0.065 = 0.069.
    sc.write(
        "tt.toml",
        "[optimize]\nsmall_output_tokens = 500\nsmall_prompt_tokens = 40000\nrightsize_min_records = 2\n",
    );
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["saving_usd"].to_string(), "0.069");
    assert_eq!(s[0]["evidence"]["record_ids"].to_string(), r#"["a4","a1"]"#);
    assert_eq!(s[0]["evidence"]["rule"].to_string(), r#"{"max_output_tokens":500,"max_prompt_tokens":40000}"#);

    // Three small records are needed by default; with four required there is no suggestion at all.
    sc.write("tt.toml", "[optimize]\nrightsize_min_records = 4\n");
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    assert!(suggestions(&out).is_empty(), "{}", out.stdout);

    // A different ladder: opus → haiku. a1: haiku 1000 + 1000 = 2,000 → $0.002, saving 0.008;
    // a2: 4000 + 4000 = 8,000 → $0.008, saving 0.032; a3: 10000 + 5000 + 500 = 15,500 → $0.0155, saving 0.062.
    // Total 0.102.
    sc.write("tt.toml", "[optimize.cheaper]\n\"opus-4.5\" = \"haiku-4.5\"\n");
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    assert_eq!(s[0]["saving_usd"].to_string(), "0.102");
    assert_eq!(s[0]["evidence"]["suggested_model"], "claude-haiku-4-5");
}

#[test]
fn a_ladder_that_is_not_cheaper_or_crosses_providers_is_a_config_error() {
    let sc = Scenario::new();
    sc.write("log.jsonl", rightsize_log());
    sc.write("tt.toml", "[optimize.cheaper]\n\"haiku-4.5\" = \"opus-4.5\"\n");
    let out = sc.cmd("tt-optimize").arg("log.jsonl").fails_with(2).one_error_line("tt-optimize");
    assert!(
        out.stderr.contains("optimize.cheaper.haiku-4.5") && out.stderr.contains("is not cheaper"),
        "{}",
        out.stderr
    );
    sc.write("tt.toml", "[optimize.cheaper]\n\"opus-4.5\" = \"gpt-4o-mini\"\n");
    let out = sc.cmd("tt-optimize").arg("log.jsonl").fails_with(2).one_error_line("tt-optimize");
    assert!(out.stderr.contains("same provider"), "{}", out.stderr);
    sc.write("tt.toml", "[optimize]\noutlier_percentile = 101\n");
    let out = sc.cmd("tt-optimize").arg("log.jsonl").fails_with(2).one_error_line("tt-optimize");
    assert!(out.stderr.contains("optimize.outlier_percentile"), "{}", out.stderr);
    sc.write("tt.toml", "[optimize]\nsmall_outputs = 5\n");
    let out = sc.cmd("tt-optimize").arg("log.jsonl").fails_with(2).one_error_line("tt-optimize");
    assert!(out.stderr.contains("tt.toml:2") && out.stderr.contains("small_outputs"), "{}", out.stderr);
}

/// Sessions for the caching analysis (prompts > 20,000 so no request is "small").
fn caching_log() -> String {
    let mut s = String::new();
    // c1 on gpt-4o: 4 requests of 25,000 uncached input, no cache reads. P = 25,000.
    //   saving = 25,000 × 3 later requests × (2.50 − 1.25) − 25,000 × (2.50 − 2.50) for the first write
    //          = 25,000 × 3.75 / 1e6 = 0.09375
    for (i, m) in ["00", "01", "02", "03"].iter().enumerate() {
        s += &rec(
            &format!("c1-{i}"),
            &format!("2026-11-03T09:{m}:00Z"),
            "CI",
            "gpt-4o",
            25000,
            100,
            r#""session":"c1""#,
        );
    }
    // c2: 4 requests reading 23,000 of 25,000 prompt tokens from the cache: hit ratio 92% — no suggestion.
    for i in 0..4 {
        s += &rec(
            &format!("c2-{i}"),
            &format!("2026-11-03T10:0{i}:00Z"),
            "CI",
            "gpt-4o",
            2000,
            100,
            r#""session":"c2","cache_read_tokens":23000"#,
        );
    }
    // c3: only 2 requests (3 needed) — no suggestion.
    for i in 0..2 {
        s += &rec(
            &format!("c3-{i}"),
            &format!("2026-11-03T11:0{i}:00Z"),
            "CI",
            "gpt-4o",
            25000,
            100,
            r#""session":"c3""#,
        );
    }
    // c4: the smallest request sends only 500 uncached tokens (< 1,024): the shared prefix is too small.
    for (i, n) in [30000u64, 500, 30000].iter().enumerate() {
        s += &rec(&format!("c4-{i}"), &format!("2026-11-03T12:0{i}:00Z"), "CI", "gpt-4o", *n, 100, r#""session":"c4""#);
    }
    // big on sonnet 4.5, written out of time order. d1 (10:00) is the first request; d2 has a 250,000-token
    // prompt and is priced at the long-context tier. P = 40,000.
    //   later requests d2, d3 save (6 − 0.6) = 5.4 and (3 − 0.3) = 2.7 per MTok; the first, d1, pays
    //   (3.75 − 3) = 0.75 more for writing: 40,000 × (5.4 + 2.7 − 0.75) / 1e6 = 40,000 × 7.35 / 1e6 = 0.294
    s += &rec("d2", "2026-11-04T10:01:00Z", "DOC", "sonnet-4.5", 250000, 100, r#""session":"big""#);
    s += &rec("d3", "2026-11-04T10:02:00Z", "DOC", "sonnet-4.5", 40000, 100, r#""session":"big""#);
    s += &rec("d1", "2026-11-04T10:00:00Z", "DOC", "sonnet-4.5", 40000, 100, r#""session":"big""#);
    s
}

#[test]
fn caching_saving_follows_the_stated_model() {
    let sc = Scenario::new();
    sc.write("log.jsonl", caching_log());
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--type", "caching", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    assert_eq!(s.len(), 2, "{}", out.stdout);
    assert_eq!(s[0]["saving_usd"].to_string(), "0.294");
    assert_eq!(s[0]["evidence"]["session"], "big");
    assert_eq!(s[0]["evidence"]["first_record_id"], "d1");
    assert_eq!(s[0]["evidence"]["repeated_prefix_tokens"], 40000);
    // prompt 250,000 + 40,000 + 40,000
    assert_eq!(s[0]["evidence"]["prompt_tokens"], 330000);
    assert_eq!(s[1]["saving_usd"].to_string(), "0.09375");
    assert_eq!(
        s[1]["message"],
        "session c1 (CI, gpt-4o): 4 requests each resent at least 25,000 uncached prompt tokens with a cache hit \
         ratio of 0%; caching that prefix (written once, read 3 times) would have saved $0.0938"
    );
    assert_eq!(s[1]["evidence"]["cache_hit_ratio"].to_string(), "0");
}

#[test]
fn caching_thresholds_come_from_the_config() {
    let sc = Scenario::new();
    sc.write("log.jsonl", caching_log());
    // With two requests enough, c3 qualifies: 25,000 × 1 × 1.25 / 1e6 = 0.03125.
    // With a hit ratio up to 95% allowed, c2 qualifies too: P = 2,000, 2,000 × 3 × 1.25 / 1e6 = 0.0075.
    sc.write("tt.toml", "[optimize]\ncache_min_requests = 2\ncache_max_hit_ratio = 0.95\n");
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--type", "caching", "log.jsonl"]).succeeds();
    let got: Vec<(String, String)> = suggestions(&out)
        .iter()
        .map(|s| (s["evidence"]["session"].as_str().unwrap().to_string(), s["saving_usd"].to_string()))
        .collect();
    let want = [("big", "0.294"), ("c1", "0.09375"), ("c3", "0.03125"), ("c2", "0.0075")];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
}

/// OUT: 20 records on haiku, 19 at $0.001 and one at $0.02, each in its own session.
fn outlier_log() -> String {
    let mut s = String::new();
    for i in 1..=19 {
        // 1000 × 1 = 1,000 → $0.001
        s += &rec(
            &format!("o{i:02}"),
            &format!("2026-11-05T10:{i:02}:00Z"),
            "OUT",
            "haiku-4.5",
            1000,
            0,
            &format!(r#""session":"s{i:02}""#),
        );
    }
    // 10000 × 1 + 2000 × 5 = 20,000 → $0.02
    s += &rec("o20", "2026-11-05T10:20:00Z", "OUT", "haiku-4.5", 10000, 2000, r#""session":"s20""#);
    s
}

#[test]
fn outliers_are_records_and_sessions_far_above_the_agents_median() {
    let sc = Scenario::new();
    sc.write("log.jsonl", outlier_log());
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    // Nearest rank: median = 10th of 20 = $0.001; p95 = 19th of 20 = $0.001; threshold = max(0.001, 3 × 0.001)
    // = 0.003. Only o20 ($0.02) is above; its excess over the median is 0.02 − 0.001 = 0.019. The session view
    // is the same (one record per session). Equal savings: records rank before sessions.
    assert_eq!(s.len(), 2, "{}", out.stdout);
    assert_eq!(
        s[0].to_string(),
        r#"{"kind":"suggestion","rank":1,"type":"outlier","saving_usd":0.019,"evidence":{"agent":"OUT","records":1,"cost_usd":0.02,"median_usd":0.001,"percentile":95,"percentile_usd":0.001,"threshold_usd":0.003,"percentiles_exact":true,"record_ids":["o20"]},"message":"OUT: 1 record cost more than $0.0030 (max of p95 $0.0010 and 3× the median $0.0010), $0.0200 in all; at the median they would have cost $0.0190 less — look at what made them expensive"}"#
    );
    assert_eq!(s[1]["type"], "session_outlier");
    assert_eq!(s[1]["saving_usd"].to_string(), "0.019");
    assert_eq!(s[1]["evidence"]["session_ids"].to_string(), r#"["s20"]"#);
}

#[test]
fn too_few_records_or_no_spread_means_no_outliers() {
    let sc = Scenario::new();
    // 19 records: the outlier_min_records default is 10, but then p95 = 19th of 19 = the outlier itself.
    let log: String = outlier_log().lines().skip(1).map(|l| format!("{l}\n")).collect();
    sc.write("log.jsonl", &log);
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    assert!(suggestions(&out).is_empty(), "{}", out.stdout);
    // With 25 required, even the 20-record log has no outliers.
    sc.write("log.jsonl", outlier_log());
    sc.write("tt.toml", "[optimize]\noutlier_min_records = 25\n");
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    assert!(suggestions(&out).is_empty(), "{}", out.stdout);
}

#[test]
fn efficiency_table_and_no_suggestions() {
    let sc = Scenario::new();
    let mut log = String::new();
    // alpha on haiku: 1000×1 + 500×5 + 3000×0.1 = 3,800 → $0.0038 each; tasks t1 (2 records) and t2.
    log +=
        &rec("e1", "2026-11-06T10:00:00Z", "alpha", "haiku-4.5", 1000, 500, r#""task":"t1","cache_read_tokens":3000"#);
    log +=
        &rec("e2", "2026-11-06T10:01:00Z", "alpha", "haiku-4.5", 1000, 500, r#""task":"t1","cache_read_tokens":3000"#);
    log +=
        &rec("e3", "2026-11-06T10:02:00Z", "alpha", "haiku-4.5", 1000, 500, r#""task":"t2","cache_read_tokens":3000"#);
    // beta: no task or session — the record is its own task (3,000 tokens). 2000×1 + 1000×5 = 7,000 → $0.007.
    log += &rec("e4", "2026-11-06T10:03:00Z", "beta", "haiku-4.5", 2000, 1000, "");
    sc.write("log.jsonl", &log);
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    assert!(suggestions(&out).is_empty());
    let eff = kinds(&out, "efficiency");
    // alpha: 3 × 4,500 = 13,500 tokens over 2 tasks = 6,750; $0.0114 / 2 = $0.0057; out/in 1,500 / 12,000 =
    // 0.125; cache hit 9,000 / 12,000 = 0.75. Median cost per task of [0.0057, 0.007] (nearest rank) = 0.0057:
    // alpha 1, beta 0.007 / 0.0057 = 1.228… → 1.23.
    assert_eq!(
        eff[0].to_string(),
        r#"{"kind":"efficiency","rank":1,"agent":"alpha","records":3,"unpriced_records":0,"tasks":2,"input_tokens":3000,"output_tokens":1500,"cache_read_tokens":9000,"cache_write_tokens":0,"total_tokens":13500,"output_input_ratio":0.125,"cache_hit_ratio":0.75,"cost_usd":0.0114,"tokens_per_task":6750,"cost_per_task_usd":0.0057,"relative_cost_per_task":1}"#
    );
    assert_eq!(eff[1]["agent"], "beta");
    assert_eq!(eff[1]["relative_cost_per_task"].to_string(), "1.23");
    assert_eq!(eff[1]["output_input_ratio"].to_string(), "0.5");
    // Tasks: t1 $0.0076, beta's lone record e4 $0.007 (a task of its own, named by its id), t2 $0.0038.
    let tasks = kinds(&out, "task");
    assert_eq!(tasks.len(), 3);
    assert_eq!((tasks[0]["task"].as_str(), tasks[0]["cost_usd"].to_string()), (Some("t1"), "0.0076".to_string()));
    assert_eq!((&tasks[1]["task"], &tasks[1]["record_id"]), (&Value::Null, &Value::from("e4")));
    let total = kinds(&out, "total");
    assert_eq!(
        total[0].to_string(),
        r#"{"kind":"total","window":{"period":"all","start":null,"end":null},"records":4,"unpriced_records":0,"suggestions":0}"#
    );

    sc.cmd("tt-optimize").args(["--format", "table", "log.jsonl"]).succeeds().stdout_is(
        "\
tt-optimize: 4 records (all time), 0 suggestions

No suggestions: nothing in these records matches a rule (see `[optimize]` in the config).

Agent efficiency (cheapest per task first)
agent  records  tasks  tokens/task  cost/task  out/in  cache hit     cost  vs median
────────────────────────────────────────────────────────────────────────────────────
alpha        3      2        6,750    $0.0057   12.5%        75%  $0.0114      1.00×
beta         1      1        3,000    $0.0070     50%         0%  $0.0070      1.23×

Most expensive tasks
agent  task         records  tokens     cost  out/in  cache hit
───────────────────────────────────────────────────────────────
alpha  t1                 2   9,000  $0.0076   12.5%        75%
beta   (record e4)        1   3,000  $0.0070     50%         0%
alpha  t2                 1   4,500  $0.0038   12.5%        75%
",
    );
}

#[test]
fn an_empty_log_has_no_suggestions() {
    let sc = Scenario::new();
    sc.write("log.jsonl", "");
    sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds().stdout_is(
        "{\"kind\":\"total\",\"window\":{\"period\":\"all\",\"start\":null,\"end\":null},\"records\":0,\"unpriced_records\":0,\"suggestions\":0}\n",
    );
}

#[test]
fn ranking_min_saving_and_type_filters() {
    let sc = Scenario::new();
    sc.write("log.jsonl", rightsize_log() + &caching_log() + &outlier_log());
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    let ranked: Vec<(String, String)> = suggestions(&out)
        .iter()
        .map(|s| (s["type"].as_str().unwrap().to_string(), s["saving_usd"].to_string()))
        .collect();
    let want = [
        ("caching", "0.294"),
        ("caching", "0.09375"),
        ("rightsize", "0.051"),
        ("outlier", "0.019"),
        ("session_outlier", "0.019"),
    ];
    assert_eq!(ranked, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let ranks: Vec<u64> = suggestions(&out).iter().map(|s| s["rank"].as_u64().unwrap()).collect();
    assert_eq!(ranks, [1, 2, 3, 4, 5]);

    // --min-saving keeps savings ≥ the amount.
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--min-saving", "0.051", "log.jsonl"]).succeeds();
    assert_eq!(suggestions(&out).len(), 3);
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--min-saving", "1", "log.jsonl"]).succeeds();
    assert!(suggestions(&out).is_empty());
    // --type filters, comma-separated or repeated.
    let out = sc.cmd("tt-optimize").args(["--format=jsonl", "--type", "outlier,rightsize", "log.jsonl"]).succeeds();
    assert_eq!(
        suggestions(&out).iter().map(|s| s["type"].as_str().unwrap()).collect::<Vec<_>>(),
        ["rightsize", "outlier"]
    );

    // The same input gives the same bytes, whatever the order of the lines or the source (stdin is spooled
    // for the second pass).
    let again = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    let text = sc.read("log.jsonl");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    let reversed = lines.join("\n") + "\n";
    let piped = sc.cmd("tt-optimize").args(["--format", "jsonl"]).pipe_in(&reversed).succeeds();
    assert_eq!(again.stdout, piped.stdout);
    // `-` twice reads stdin once (the second finds it at its end).
    let twice = sc.cmd("tt-optimize").args(["--format", "jsonl", "-", "-"]).pipe_in(&reversed).succeeds();
    assert_eq!(again.stdout, twice.stdout);
}

#[test]
fn markdown_and_json_formats() {
    let sc = Scenario::new();
    sc.write("log.jsonl", rightsize_log());
    sc.cmd("tt-optimize").args(["--format", "markdown", "--tasks", "0", "log.jsonl"]).succeeds().stdout_is(
        "\
### tt-optimize: 1 suggestion

5 records (all time).

| # | saving | type | suggestion | evidence |
| ---: | ---: | --- | --- | --- |
| 1 | $0.0510 | rightsize | ATLAS used claude-opus-4-5 for 3 small requests (output ≤ 1,000 and prompt ≤ 20,000 tokens); on claude-sonnet-4-5 they would have cost $0.0765 instead of $0.1275, $0.0510 less | records: a3, a2, a1 |

#### Agent efficiency

| agent | records | tasks | tokens/task | cost/task | out/in | cache hit | cost | vs median |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ATLAS | 5 | 5 | 10,900 | $0.0640 | 6.9% | 9.8% | $0.3200 | 1.00× |

",
    );
    // Tokens: input 46,000 + cache read 5,000 = 51,000 prompt, output 3,501, total 54,501 over 5 tasks (no task
    // or session: each record is one) = 10,900.2. Cost: 0.01 + 0.04 + 0.0775 + a4 0.1625 + a5 (1000×5 +
    // 1001×25 = 30,025 → 0.030025) = 0.320025, per task 0.064005. out/in 3,501 / 51,000 = 0.0686; cache hit
    // 5,000 / 51,000 = 0.0980.
    let out = sc.cmd("tt-optimize").args(["--format", "json", "log.jsonl"]).succeeds();
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["suggestions"][0]["saving_usd"].to_string(), "0.051");
    assert_eq!(doc["efficiency"][0]["agent"], "ATLAS");
    assert_eq!(doc["window"]["period"], "all");
}

#[test]
fn budget_advice_recommends_a_limit_from_history() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"team-monthly\"\nperiod = \"month\"\nlimit_usd = 1\nscope = { project = \"api\" }\n",
    );
    let mut log = String::new();
    // Costs are logged (cost_usd) on a model the price table does not know: only budget advice applies.
    let c = |id: &str, ts: &str, cost: &str, project: &str| {
        rec(id, ts, "B", "in-house-llm", 100, 10, &format!(r#""project":"{project}","cost_usd":{cost}"#))
    };
    log += &c("b1", "2026-07-15T12:00:00Z", "0.5", "api");
    // August: nothing — a month of $0.
    log += &c("b2", "2026-09-03T12:00:00Z", "1.25", "api");
    log += &c("b3", "2026-09-20T12:00:00Z", "0.75", "api");
    log += &c("b4", "2026-10-10T12:00:00Z", "1.5", "api");
    log += &c("b5", "2026-11-05T12:00:00Z", "0.4", "api");
    log += &c("x1", "2026-11-06T12:00:00Z", "9", "web"); // out of scope
    sc.write("log.jsonl", &log);
    let out = sc
        .cmd("tt-optimize")
        .args(["--format", "jsonl", "--type", "budget", "--today", "2026-11-10", "log.jsonl"])
        .succeeds();
    let s = suggestions(&out);
    assert_eq!(s.len(), 1, "{}", out.stdout);
    // Complete months Jul–Oct: [0.5, 0, 2.0, 1.5]; the three with spend sorted [0.5, 1.5, 2.0]; p90 = rank
    // ceil(0.9 × 3) = 3 → $2.00 (August, without records, is left out of the percentile). Over the $1 limit in
    // Sep and Oct. Trend: Oct 1.5 vs Sep 2.0 = −0.25. November so far $0.40 after 10 of
    // 30 days: forecast 0.40 × 30 / 10 = $1.20, reaching $1 at day 25 (1 × 10 / 0.4) → 2026-11-26 00:00, the
    // 26th.
    let e = &s[0]["evidence"];
    assert_eq!(s[0]["saving_usd"], Value::Null);
    assert_eq!(s[0]["no_saving_reason"], "budget advice recommends a limit; it does not change what is spent");
    assert_eq!(e["complete_periods"], 4);
    assert_eq!(e["periods_with_spend"], 3);
    assert_eq!(e["current"]["above_recommended"], false);
    assert_eq!(e["percentile_usd"].to_string(), "2");
    assert_eq!(e["recommended_limit_usd"].to_string(), "2");
    assert_eq!(e["periods_over_limit"], 2);
    // Tokens: each record 100 + 10 = 110; October b4 110, September b2 + b3 220: (110 − 220) / 220 = −0.5.
    assert_eq!(
        e["trend"].to_string(),
        r#"{"last_usd":1.5,"previous_usd":2,"change":-0.25,"last_tokens":110,"previous_tokens":220,"change_tokens":-0.5}"#
    );
    assert_eq!(e["current"]["cost_usd"].to_string(), "0.4");
    assert_eq!(e["current"]["forecast_usd"].to_string(), "1.2");
    assert_eq!(e["current"]["limit_date"], "2026-11-26");
    assert_eq!(e["history"][1].to_string(), r#"{"start":"2026-08-01T00:00:00Z","cost_usd":0,"tokens":0}"#);
    assert_eq!(
        s[0]["message"],
        "budget team-monthly (month, limit $1.00): p90 of the 3 complete months with spend is $2.00 (over the \
         limit in 2 of them) → recommended limit $2.00; this month so far $0.4000, forecast $1.20 at the current \
         burn (limit reached on 2026-11-26); last month $1.50 vs $2.00 the one before (-25%)"
    );
}

#[test]
fn windows_restrict_the_records() {
    let sc = Scenario::new();
    sc.write("log.jsonl", rightsize_log() + &outlier_log());
    // --until 2026-11-02 keeps only ATLAS's five records (Nov 2); --since 2026-11-05 only OUT's twenty.
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--until", "2026-11-02", "log.jsonl"]).succeeds();
    assert_eq!(kinds(&out, "total")[0]["records"], 5);
    assert_eq!(suggestions(&out).len(), 1);
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--since", "2026-11-05", "log.jsonl"]).succeeds();
    assert_eq!(kinds(&out, "total")[0]["records"], 20);
    assert_eq!(kinds(&out, "total")[0]["window"]["period"], "custom");
    let out = sc
        .cmd("tt-optimize")
        .args(["--format", "jsonl", "--period", "month", "--today", "2026-12-01", "log.jsonl"])
        .succeeds();
    assert_eq!(kinds(&out, "total")[0]["records"], 0);
}

#[test]
fn bad_input_and_flags_are_errors() {
    let sc = Scenario::new();
    sc.write("log.jsonl", rightsize_log() + "{\"v\":1,\"id\":\"x\"}\n");
    let out = sc.cmd("tt-optimize").arg("log.jsonl").fails_with(2).one_error_line("tt-optimize");
    assert!(out.stderr.contains("log.jsonl:6:"), "{}", out.stderr);
    sc.cmd("tt-optimize").args(["--min-saving", "abc", "log.jsonl"]).fails_with(2).one_error_line("tt-optimize");
    sc.cmd("tt-optimize").args(["--type", "cheap", "log.jsonl"]).fails_with(2).one_error_line("tt-optimize");
    sc.cmd("tt-optimize").args(["--period", "fortnight", "log.jsonl"]).fails_with(2).one_error_line("tt-optimize");
    sc.cmd("tt-optimize").arg("missing.jsonl").fails_with(2).one_error_line("tt-optimize");
}

#[test]
fn default_log_and_help() {
    let sc = Scenario::new();
    std::fs::write(sc.log_path(), rightsize_log()).unwrap();
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl"]).succeeds();
    assert_eq!(suggestions(&out)[0]["saving_usd"].to_string(), "0.051");
    sc.cmd("tt-optimize").arg("--help").succeeds().stdout_has("Examples:").stdout_has("--min-saving");
    // A usage log that does not exist yet is empty, not an error.
    std::fs::remove_file(sc.log_path()).unwrap();
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl"]).succeeds();
    assert_eq!(kinds(&out, "total")[0]["records"], 0);
}

/// The example report (docs/guide.md shows it, and tests/docs.rs checks the guide's copy against the tool).
#[test]
fn the_example_report_is_what_the_tool_prints() {
    let sc = Scenario::new();
    let dir = fixture("optimize");
    let want = std::fs::read_to_string(dir.join("report.txt")).unwrap();
    // The fixture's tt.toml (the nearest one from the working directory) sets the `api-monthly` budget.
    sc.cmd("tt-optimize")
        .current_dir(&dir)
        .args(["--today", "2026-11-20", "--format", "table", "usage.jsonl"])
        .succeeds()
        .stdout_is(&want);
    let out = sc
        .cmd("tt-optimize")
        .current_dir(&dir)
        .args(["--today", "2026-11-20", "--type", "rightsize", "usage.jsonl"])
        .succeeds();
    // 18 small Opus requests: every saving in the example is the exact difference of the two prices.
    let s = &out.jsonl()[0];
    assert_eq!(s["saving_usd"].to_string(), "0.1755");
    assert_eq!(s["evidence"]["cost_usd"].to_string(), "0.43875");
    assert_eq!(s["evidence"]["cost_at_suggested_usd"].to_string(), "0.26325");
}

#[test]
fn a_builtin_ladder_step_made_invalid_by_own_prices_is_dropped_not_an_error() {
    let sc = Scenario::new();
    sc.write("log.jsonl", rightsize_log());
    // Sonnet 4.5 repriced above Opus 4.5: the built-in opus → sonnet step no longer saves, so it is dropped
    // (no error) — and tt-log, which reads the same config, keeps working. Opus 4.5 then gets a cheaper model
    // derived from the price table: Anthropic, cheaper on input and output, the longest shared name prefix
    // ("claude-", all of them), then the smallest step down (3/15: claude-sonnet-4-6, claude-sonnet-4 and
    // claude-3-7-sonnet), then the name — claude-3-7-sonnet, at the same prices as Sonnet 4.5 had: 0.051 again.
    sc.write(
        "tt.toml",
        "[models.claude-sonnet-4-5]\nprovider = \"anthropic\"\ninput = 6\noutput = 30\naliases = [\"sonnet-4.5\"]\n",
    );
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    assert_eq!(s.len(), 1, "{}", out.stdout);
    assert_eq!(s[0]["evidence"]["suggested_model"], "claude-3-7-sonnet");
    assert_eq!(s[0]["saving_usd"].to_string(), "0.051");
    sc.cmd("tt-log").args(["ATLAS", "opus-4.5", "10", "10"]).succeeds();
}

/// A record of a model the price table does not know, with a logged cost (so only the budgets can use it).
fn costed(id: &str, ts: &str, agent: &str, tokens: u64, cost: &str, extra: &str) -> String {
    let extra = if extra.is_empty() { String::new() } else { format!(",{extra}") };
    rec(id, ts, agent, "in-house-llm", tokens, 0, &format!(r#""cost_usd":{cost}{extra}"#))
}

fn budget_advice(sc: &Scenario, today: &str, extra: &[&str]) -> Vec<Value> {
    let out = sc
        .cmd("tt-optimize")
        .args(["--format", "jsonl", "--type", "budget", "--today", today, "log.jsonl"])
        .args(extra)
        .succeeds();
    suggestions(&out)
}

#[test]
fn sparse_history_never_recommends_a_zero_limit() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"m\"\nperiod = \"month\"\nlimit_usd = 5\n");
    // One month with spend (January) and nine empty ones: no recommendation. (The p90 of all ten complete
    // months, [0 × 9, 3], would be the 9th smallest: $0.)
    sc.write("log.jsonl", costed("j", "2026-01-10T10:00:00Z", "A", 1, "3", ""));
    let s = budget_advice(&sc, "2026-11-10", &[]);
    let e = &s[0]["evidence"];
    assert_eq!((e["complete_periods"].as_u64(), e["periods_with_spend"].as_u64()), (Some(10), Some(1)));
    assert_eq!(e["recommended_limit_usd"], Value::Null);
    assert_eq!(
        s[0]["message"],
        "budget m (month, limit $5.00): no recommendation: only 1 complete month with spend, 3 needed; this month so \
         far $0, forecast $0 at the current burn; last month $0 vs $0 the one before"
    );
    // Three months with spend among seven empty ones: p90 over the three [1, 2, 3] = rank ceil(2.7) = 3 → $3.00
    // (over all ten, [0 × 7, 1, 2, 3], it would have been the 9th: $2). November so far: $4 in 10 of 30 days
    // → forecast $4 × 30 / 10 = $12.00; the $5 limit is reached after 5 × 10 / 4 = 12.5 days, on the 13th. $4 is
    // already above the recommended $3, and $4 of $5 is 80%: warning. Trend: October $0 vs September $2: (0 − 2) / 2 = −100%.
    let log = [
        costed("j", "2026-01-10T10:00:00Z", "A", 1, "3", ""),
        costed("m", "2026-05-10T10:00:00Z", "A", 1, "1", ""),
        costed("s", "2026-09-10T10:00:00Z", "A", 1, "2", ""),
        costed("n", "2026-11-02T10:00:00Z", "A", 1, "4", ""),
    ]
    .concat();
    sc.write("log.jsonl", log);
    let s = budget_advice(&sc, "2026-11-10", &[]);
    let e = &s[0]["evidence"];
    assert_eq!((e["complete_periods"].as_u64(), e["periods_with_spend"].as_u64()), (Some(10), Some(3)));
    assert_eq!(e["recommended_limit_usd"], 3);
    assert_eq!(e["periods_over_limit"], 0);
    assert_eq!(e["current"]["above_recommended"], true);
    assert_eq!(
        s[0]["message"],
        "budget m (month, limit $5.00): p90 of the 3 complete months with spend is $3.00 (over the limit in 0 of \
         them) → recommended limit $3.00; this month so far $4.00 (warning), already above the recommended limit, \
         forecast $12.00 at the current burn (limit reached on 2026-11-13); last month $0 vs $2.00 the one before \
         (-100%)"
    );
}

#[test]
fn token_day_week_and_session_budget_advice() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        r#"week_start = "sunday"

[[budget]]
name = "daily-tokens"
period = "day"
limit_tokens = 1000

[[budget]]
name = "weekly"
period = "week"
limit_usd = 2

[[budget]]
name = "per-session"
period = "session"
limit_tokens = 1000
"#,
    );
    // Friday 6th to Monday 9th November, then Tuesday the 10th (today).
    let log = [
        costed("d6", "2026-11-06T10:00:00Z", "A", 400, "0.4", r#""session":"s1""#),
        costed("d7", "2026-11-07T10:00:00Z", "A", 100, "0.1", r#""session":"s2""#),
        costed("d8", "2026-11-08T10:00:00Z", "A", 300, "0.3", r#""session":"s3""#),
        costed("d9", "2026-11-09T10:00:00Z", "A", 200, "0.2", r#""session":"s3""#),
        costed("d10", "2026-11-10T10:00:00Z", "A", 500, "0.5", r#""session":"s4""#),
    ]
    .concat();
    sc.write("log.jsonl", log);
    let s = budget_advice(&sc, "2026-11-10", &[]);
    assert_eq!(s.len(), 3);
    let by = |name: &str| s.iter().find(|x| x["evidence"]["budget"] == name).unwrap().clone();
    // Days 6–9, all with spend: tokens sorted [100, 200, 300, 400], p90 = rank ceil(3.6) = 4 → 400 tokens;
    // dollars likewise $0.40. Today (fully elapsed) 500 tokens: 50% (info), its forecast is what it spent, and
    // it is already above the recommended 400. Trend: the 9th $0.20 vs the 8th $0.30 = −33.3%.
    let d = by("daily-tokens");
    assert_eq!(d["evidence"]["recommended_limit_tokens"], 400);
    assert_eq!(d["evidence"]["recommended_limit_usd"].to_string(), "0.4");
    // A token budget is advised in tokens: no day above 1,000 tokens; the trend is 200 vs 300 tokens = −33.3%.
    assert_eq!(d["evidence"]["periods_over_limit"], 0);
    assert_eq!(
        d["message"],
        "budget daily-tokens (day, limit 1,000 tokens): p90 of the 4 complete days with spend is 400 tokens (over \
         the limit in 0 of them) → recommended limit 400 tokens; this day so far 500 tokens (info), already above \
         the recommended limit, forecast 500 tokens at the current burn; last day 200 tokens vs 300 tokens the one \
         before (-33.3%)"
    );
    // Weeks start on Sunday: the week of the 1st (6th, 7th) is the only complete one.
    let w = by("weekly");
    assert_eq!(
        w["evidence"]["history"].to_string(),
        r#"[{"start":"2026-11-01T00:00:00Z","cost_usd":0.5,"tokens":500}]"#
    );
    assert!(
        w["message"].as_str().unwrap().starts_with(
            "budget weekly (week, limit $2.00): no recommendation: only 1 complete week with spend, 3 needed; this \
             week so far $1.00"
        ),
        "{}",
        w["message"]
    );
    // Sessions s1 400, s2 100, s3 500, s4 500 tokens: sorted [100, 400, 500, 500], p90 = rank 4 → 500 tokens;
    // dollars [0.1, 0.4, 0.5, 0.5] → $0.50.
    let p = by("per-session");
    assert_eq!(p["evidence"]["sessions"], 4);
    assert_eq!(p["evidence"]["sessions_over_limit"], 0);
    assert_eq!(
        p["message"],
        "budget per-session (per session, limit 1,000 tokens): p90 of 4 sessions is 500 tokens (over the limit in 0 \
         of 4) → recommended limit 500 tokens"
    );
    // With two sessions there is no recommendation.
    sc.write(
        "log.jsonl",
        [
            costed("a", "2026-11-06T10:00:00Z", "A", 1, "1", r#""session":"x""#),
            costed("b", "2026-11-06T11:00:00Z", "A", 1, "1", r#""session":"y""#),
        ]
        .concat(),
    );
    let s = budget_advice(&sc, "2026-11-10", &[]);
    let p = s.iter().find(|x| x["evidence"]["budget"] == "per-session").unwrap();
    assert_eq!(
        p["message"],
        "budget per-session (per session, limit 1,000 tokens): no recommendation: only 2 sessions of history, 3 needed"
    );
}

#[test]
fn total_budgets_get_a_burn_rate_and_the_date_the_limit_is_reached() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"all-time\"\nperiod = \"total\"\nlimit_usd = 10\n");
    let log = [
        costed("a", "2026-08-10T10:00:00Z", "A", 100, "1", ""),
        costed("s", "2026-09-10T10:00:00Z", "A", 100, "2", ""),
        costed("o", "2026-10-10T10:00:00Z", "A", 100, "3", ""),
        costed("n", "2026-11-02T10:00:00Z", "A", 100, "0.5", ""),
    ]
    .concat();
    sc.write("log.jsonl", log);
    // Spent 1 + 2 + 3 + 0.5 = $6.50 of $10 (65%, info). The last three complete months (Aug–Oct, 31 + 30 + 31
    // = 92 days) burned $6: the $3.50 left lasts ceil(3.5 × 92 / 6) = ceil(53.67) = 54 days from the 10th of
    // November: 2027-01-03.
    let s = budget_advice(&sc, "2026-11-10", &[]);
    let e = &s[0]["evidence"];
    assert_eq!(e["spent_usd"].to_string(), "6.5");
    assert_eq!((e["burn_months"].as_u64(), e["burn_days"].as_u64()), (Some(3), Some(92)));
    assert_eq!(e["monthly_burn_usd"], 2);
    assert_eq!(e["limit_date"], "2027-01-03");
    assert_eq!(e["recommended_limit_usd"], Value::Null);
    assert_eq!(
        s[0]["message"],
        "budget all-time (total, limit $10.00): no recommended limit (an all-time budget has no periods to learn one \
         from); $6.50 of $10.00 so far (65%, info); the last 3 complete months burned $6.00 ($2.00 a month) → the \
         limit is reached around 2027-01-03 at that rate"
    );
    // Over already: how far.
    sc.write("tt.toml", "[[budget]]\nname = \"all-time\"\nperiod = \"total\"\nlimit_usd = 5\n");
    let s = budget_advice(&sc, "2026-11-10", &[]);
    assert_eq!(
        s[0]["message"],
        "budget all-time (total, limit $5.00): no recommended limit (an all-time budget has no periods to learn one \
         from); $6.50 of $5.00 so far (130%, over), already over by $1.50"
    );
    // No complete month yet.
    sc.write("log.jsonl", costed("n", "2026-11-02T10:00:00Z", "A", 100, "0.5", ""));
    let s = budget_advice(&sc, "2026-11-10", &[]);
    assert!(s[0]["message"].as_str().unwrap().ends_with("(10%); no complete month yet to measure a burn rate"));
}

#[test]
fn advice_follows_the_time_zone_and_config_and_log_flags() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"m\"\nperiod = \"month\"\nlimit_usd = 5\n");
    // 23:30 UTC on 31 October is 00:30 on 1 November in Berlin.
    sc.write("log.jsonl", costed("x", "2026-10-31T23:30:00Z", "A", 1, "2", ""));
    let s = budget_advice(&sc, "2026-11-10", &[]);
    assert_eq!(s[0]["evidence"]["current"]["cost_usd"], 0);
    let s = budget_advice(&sc, "2026-11-10", &["--tz", "Europe/Berlin"]);
    assert_eq!(s[0]["evidence"]["current"]["cost_usd"], 2);
    assert_eq!(s[0]["evidence"]["current"]["start"], "2026-11-01T00:00:00+01:00");
    // --config adds a layer (here a second budget), --log is read when no file is named.
    sc.write("more.toml", "[[budget]]\nname = \"t\"\nperiod = \"total\"\nlimit_usd = 50\n");
    std::fs::rename(sc.path().join("log.jsonl"), sc.path().join("elsewhere.jsonl")).unwrap();
    let out = sc
        .cmd("tt-optimize")
        .args(["--format", "jsonl", "--type", "budget", "--today", "2026-11-10"])
        .args(["--config", "more.toml", "--log", "elsewhere.jsonl"])
        .succeeds();
    let names: Vec<String> =
        suggestions(&out).iter().map(|s| s["evidence"]["budget"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["m", "t"]);
    // An invalid budget is an error here too, and so is --since after --until.
    sc.write("tt.toml", "[[budget]]\nname = \"m\"\nperiod = \"month\"\nlimit_usd = 0\n");
    sc.cmd("tt-optimize")
        .arg("elsewhere.jsonl")
        .fails_with(2)
        .one_error_line("tt-optimize")
        .stderr_has("tt.toml:2: key `budget` (#1): m: ");
    sc.write("tt.toml", "");
    sc.cmd("tt-optimize")
        .args(["--since", "2026-11-02", "--until", "2026-11-01", "elsewhere.jsonl"])
        .fails_with(2)
        .one_error_line("tt-optimize")
        .stderr_has("is after `--until");
}

#[test]
fn unpriced_records_have_no_cost_not_a_zero_one() {
    let sc = Scenario::new();
    // MYST has only records of a model the price table does not know; ALPHA one haiku record (1000 × 1 = $0.001).
    let log = rec("m1", "2026-11-06T10:00:00Z", "MYST", "mystery-9", 100, 10, r#""task":"t""#)
        + &rec("a1", "2026-11-06T10:01:00Z", "ALPHA", "haiku-4.5", 1000, 0, "");
    sc.write("log.jsonl", &log);
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    let eff = kinds(&out, "efficiency");
    let myst = eff.iter().find(|e| e["agent"] == "MYST").unwrap();
    assert_eq!((myst["cost_usd"].clone(), myst["unpriced_records"].clone()), (Value::Null, Value::from(1)));
    assert_eq!(myst["cost_per_task_usd"], Value::Null);
    // Tasks: ALPHA's lone record a1 ($0.001), then MYST's t (unknown cost, ranked as $0).
    let tasks = kinds(&out, "task");
    assert_eq!(tasks[0]["record_id"], "a1");
    let task = &tasks[1];
    assert_eq!((task["cost_usd"].clone(), task["unpriced_records"].clone()), (Value::Null, Value::from(1)));
    assert_eq!(kinds(&out, "total")[0]["unpriced_records"], 1);
    sc.cmd("tt-optimize").args(["--format", "table", "log.jsonl"]).succeeds().stdout_is(
        "\
tt-optimize: 2 records (all time), 0 suggestions
(1 record is unpriced: unknown model and no cost_usd)

No suggestions: nothing in these records matches a rule (see `[optimize]` in the config).

Agent efficiency (cheapest per task first)
agent  records  unpriced  tasks  tokens/task  cost/task  out/in  cache hit     cost  vs median
──────────────────────────────────────────────────────────────────────────────────────────────
ALPHA        1         0      1        1,000    $0.0010      0%         0%  $0.0010      1.00×
MYST         1         1      1          110          —     10%         0%        —          —

Most expensive tasks
agent  task         records  tokens     cost  out/in  cache hit
───────────────────────────────────────────────────────────────
ALPHA  (record a1)        1   1,000  $0.0010      0%         0%
MYST   t                  1     110        —     10%         0%
",
    );
    // One record: "1 record", not "1 records".
    sc.write("one.jsonl", rec("a1", "2026-11-06T10:01:00Z", "ALPHA", "haiku-4.5", 1000, 0, ""));
    sc.cmd("tt-optimize")
        .args(["--format", "table", "one.jsonl"])
        .succeeds()
        .stdout_has("tt-optimize: 1 record (all time)");
}

#[test]
fn a_session_outlier_that_is_not_a_record_outlier() {
    let sc = Scenario::new();
    let mut log = String::new();
    // SESS on haiku: every record costs 1000 × 1 = $0.001. Sessions s01–s19 have one record each; s20 has ten.
    for i in 1..=19 {
        log += &rec(
            &format!("r{i:02}"),
            &format!("2026-11-05T10:{i:02}:00Z"),
            "SESS",
            "haiku-4.5",
            1000,
            0,
            &format!(r#""session":"s{i:02}""#),
        );
    }
    for k in 0..10 {
        log += &rec(
            &format!("t{k}"),
            &format!("2026-11-05T11:0{k}:00Z"),
            "SESS",
            "haiku-4.5",
            1000,
            0,
            r#""session":"s20""#,
        );
    }
    sc.write("log.jsonl", &log);
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    // Records: 29 at $0.001, threshold max(p95 $0.001, 3 × $0.001) = $0.003: none above. Sessions: 19 at $0.001
    // and s20 at $0.01; median (10th of 20) $0.001, p95 (19th) $0.001, threshold $0.003; s20's excess is
    // 0.01 − 0.001 = 0.009.
    assert_eq!(s.len(), 1, "{}", out.stdout);
    assert_eq!(s[0]["type"], "session_outlier");
    assert_eq!(s[0]["saving_usd"].to_string(), "0.009");
    assert_eq!(s[0]["evidence"]["session_ids"].to_string(), r#"["s20"]"#);
    assert_eq!(s[0]["evidence"]["threshold_usd"].to_string(), "0.003");
}

#[test]
fn sums_too_large_to_be_exact_are_errors() {
    let sc = Scenario::new();
    let big = |id: &str| rec(id, "2026-11-10T12:00:00Z", "A", "haiku-4.5", 18446744073709551615, 0, "");
    sc.write("log.jsonl", big("a") + &big("b"));
    sc.cmd("tt-optimize")
        .arg("log.jsonl")
        .fails_with(2)
        .one_error_line("tt-optimize")
        .stderr_has("the sums are too large to be exact");
}

/// One Sonnet 4.5 request of 50,000 uncached input tokens (too big to be "small") in session `session`.
fn sonnet(id: &str, ts: &str, session: &str) -> String {
    rec(id, ts, "CACHE", "sonnet-4.5", 50000, 100, &format!(r#""session":"{session}""#))
}

#[test]
fn caching_counts_only_requests_within_the_caches_lifetime() {
    let sc = Scenario::new();
    let log = [
        // far: three requests four days apart. Each is the first of its own run: it writes the prefix and no
        // request reads it, so caching only costs more — no suggestion (counting every later request as a read
        // would claim 50,000 × (2 × 2.70 − 0.75) / 10^6 = $0.2325).
        sonnet("f1", "2026-11-01T10:00:00Z", "far"),
        sonnet("f2", "2026-11-05T10:00:00Z", "far"),
        sonnet("f3", "2026-11-09T10:00:00Z", "far"),
        // mixed: runs {m1, m2} (exactly 5 minutes apart: still within the cache's lifetime), {m3, m4} (m3 comes
        // 5 minutes and 1 second after m2) and {m5} (four days later). 3 writes, 2 reads (m2, m4).
        // Sonnet 4.5: a read saves input − cache_read = 3 − 0.30 = 2.70 per MTok; a write costs cache_write −
        // input = 3.75 − 3 = 0.75 more. P = 50,000:
        //   saving = 50,000 × (2 × 2.70 − 3 × 0.75) / 10^6 = 50,000 × (5.40 − 2.25) / 10^6 = 50,000 × 3.15 / 10^6
        //          = 0.1575
        sonnet("m1", "2026-11-02T10:00:00Z", "mixed"),
        sonnet("m2", "2026-11-02T10:05:00Z", "mixed"),
        sonnet("m3", "2026-11-02T10:10:01Z", "mixed"),
        sonnet("m4", "2026-11-02T10:12:00Z", "mixed"),
        sonnet("m5", "2026-11-06T10:00:00Z", "mixed"),
    ]
    .concat();
    sc.write("log.jsonl", &log);
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--type", "caching", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    assert_eq!(s.len(), 1, "{}", out.stdout);
    assert_eq!(s[0]["saving_usd"].to_string(), "0.1575");
    let e = &s[0]["evidence"];
    assert_eq!(e["session"], "mixed");
    assert_eq!((e["cache_writes"].as_u64(), e["cache_reads"].as_u64()), (Some(3), Some(2)));
    assert_eq!(e["max_gap_seconds"], 300);
    assert_eq!(
        s[0]["message"],
        "session mixed (CACHE, claude-sonnet-4-5): 5 requests each resent at least 50,000 uncached prompt tokens with \
         a cache hit ratio of 0%; caching that prefix (written 3 times, read 2 times) would have saved $0.1575"
    );
    // Any order of the lines gives the same bytes.
    let mut lines: Vec<&str> = log.lines().collect();
    lines.reverse();
    lines.swap(1, 5);
    let piped = sc
        .cmd("tt-optimize")
        .args(["--format", "jsonl", "--type", "caching"])
        .pipe_in(lines.join("\n") + "\n")
        .succeeds();
    assert_eq!(piped.stdout, out.stdout);

    // The 1-hour cache: m1–m4 are one run now (m5 still four days later): 2 writes, 3 reads, at the 1-hour
    // write price (6.00, 6 − 3 = 3.00 more than input):
    //   saving = 50,000 × (3 × 2.70 − 2 × 3.00) / 10^6 = 50,000 × (8.10 − 6.00) / 10^6 = 50,000 × 2.10 / 10^6 = 0.105
    // far's requests are still days apart: no suggestion.
    sc.write("tt.toml", "[optimize]\ncache_max_gap = \"1h\"\n");
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--type", "caching", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    assert_eq!(s.len(), 1, "{}", out.stdout);
    assert_eq!(s[0]["saving_usd"].to_string(), "0.105");
    assert_eq!(
        (s[0]["evidence"]["cache_writes"].as_u64(), s[0]["evidence"]["cache_reads"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(s[0]["evidence"]["max_gap_seconds"], 3600);
    assert!(s[0]["evidence"]["saving_model"].as_str().unwrap().contains("1-hour cache"), "{}", s[0]);

    // A gap the prompt caches do not have is a config error naming the key.
    for bad in ["\"2h\"", "\"500ms\"", "\"five minutes\"", "5"] {
        sc.write("tt.toml", format!("[optimize]\ncache_max_gap = {bad}\n"));
        let out = sc.cmd("tt-optimize").arg("log.jsonl").fails_with(2).one_error_line("tt-optimize");
        assert!(out.stderr.contains("tt.toml:2") && out.stderr.contains("cache_max_gap"), "{bad}: {}", out.stderr);
    }
}

#[test]
fn token_budgets_count_periods_over_their_token_limit_and_advise_in_tokens() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        r#"[[budget]]
name = "tok"
period = "day"
limit_tokens = 1000

[[budget]]
name = "both"
period = "day"
limit_usd = 1
limit_tokens = 1000

[[budget]]
name = "per-session"
period = "session"
limit_tokens = 450
"#,
    );
    // Days 6–9 complete, the 10th is today (fully elapsed with --today).
    let log = [
        costed("d6", "2026-11-06T10:00:00Z", "A", 400, "0.4", r#""session":"s1""#),
        costed("d7", "2026-11-07T10:00:00Z", "A", 1500, "0.15", r#""session":"s2""#), // over 1,000 tokens
        costed("d8", "2026-11-08T10:00:00Z", "A", 300, "1.5", r#""session":"s3""#),   // over $1
        costed("d9", "2026-11-09T10:00:00Z", "A", 200, "0.2", r#""session":"s3""#),
        costed("d10", "2026-11-10T10:00:00Z", "A", 100, "0.1", r#""session":"s4""#),
    ]
    .concat();
    sc.write("log.jsonl", log);
    let s = budget_advice(&sc, "2026-11-10", &[]);
    let by = |name: &str| s.iter().find(|x| x["evidence"]["budget"] == name).unwrap().clone();
    // tok: over 1,000 tokens on the 7th only. Tokens sorted [200, 300, 400, 1500]: p90 = rank ceil(3.6) = 4 →
    // 1,500. Trend in tokens: the 9th 200 vs the 8th 300: (200 − 300) / 300 = −0.3333 → −33.3%.
    let t = by("tok");
    assert_eq!(t["evidence"]["periods_over_limit"], 1);
    assert_eq!(t["evidence"]["recommended_limit_tokens"], 1500);
    assert_eq!(t["evidence"]["trend"]["change_tokens"].to_string(), "-0.3333");
    assert_eq!(
        t["message"],
        "budget tok (day, limit 1,000 tokens): p90 of the 4 complete days with spend is 1,500 tokens (over the limit \
         in 1 of them) → recommended limit 1,500 tokens; this day so far 100 tokens, forecast 100 tokens at the \
         current burn; last day 200 tokens vs 300 tokens the one before (-33.3%)"
    );
    // both: the 7th is over the token limit and the 8th over the dollar limit: 2. Dollars sorted [0.15, 0.2,
    // 0.4, 1.5] → p90 $1.50. Trend in dollars: (0.2 − 1.5) / 1.5 = −0.86666… → −0.8667 → −86.7%.
    let b = by("both");
    assert_eq!(b["evidence"]["periods_over_limit"], 2);
    assert_eq!(
        b["message"],
        "budget both (day, limit $1.00, limit 1,000 tokens): p90 of the 4 complete days with spend is $1.50 and \
         1,500 tokens (over a limit in 2 of them) → recommended limit $1.50 and 1,500 tokens; this day so far \
         $0.1000 and 100 tokens, forecast $0.1000 and 100 tokens at the current burn; last day $0.2000 and 200 \
         tokens vs $1.50 and 300 tokens the one before (-86.7%)"
    );
    // per-session: s1 400, s2 1,500, s3 300 + 200 = 500, s4 100 tokens; over 450: s2 and s3. p90 of 4 = the
    // largest, 1,500 tokens.
    let p = by("per-session");
    assert_eq!(p["evidence"]["sessions_over_limit"], 2);
    assert_eq!(
        p["message"],
        "budget per-session (per session, limit 450 tokens): p90 of 4 sessions is 1,500 tokens (over the limit in 2 \
         of 4) → recommended limit 1,500 tokens"
    );

    // A token budget over records of no tokens has no recommendation, in its own words.
    sc.write("tt.toml", "[[budget]]\nname = \"tok\"\nperiod = \"day\"\nlimit_tokens = 1000\n");
    let log: String =
        ["06", "07", "08"].iter().map(|d| costed(d, &format!("2026-11-{d}T10:00:00Z"), "A", 0, "0.1", "")).collect();
    sc.write("log.jsonl", log);
    let s = budget_advice(&sc, "2026-11-10", &[]);
    assert!(
        s[0]["message"].as_str().unwrap().starts_with(
            "budget tok (day, limit 1,000 tokens): no recommendation: the 3 complete days with spend used no tokens;"
        ),
        "{}",
        s[0]["message"]
    );

    // A total token budget: 100 tokens a month Aug–Nov, 400 of 1,000 so far (40%). The last three complete
    // months (92 days) burned 300 tokens: the 600 left last ceil(600 × 92 / 300) = 184 days from 10 November:
    // 20 to the end of November, + 31 + 31 + 28 + 31 + 30 = 171 to the end of April, + 13 → 2027-05-13.
    sc.write("tt.toml", "[[budget]]\nname = \"all-time\"\nperiod = \"total\"\nlimit_tokens = 1000\n");
    let log = [
        costed("a", "2026-08-10T10:00:00Z", "A", 100, "1", ""),
        costed("s", "2026-09-10T10:00:00Z", "A", 100, "2", ""),
        costed("o", "2026-10-10T10:00:00Z", "A", 100, "3", ""),
        costed("n", "2026-11-02T10:00:00Z", "A", 100, "0.5", ""),
    ]
    .concat();
    sc.write("log.jsonl", log);
    let s = budget_advice(&sc, "2026-11-10", &[]);
    assert_eq!(
        s[0]["message"],
        "budget all-time (total, limit 1,000 tokens): no recommended limit (an all-time budget has no periods to \
         learn one from); 400 of 1,000 tokens so far (40%); the last 3 complete months burned 300 tokens (100 tokens \
         a month) → the limit is reached around 2027-05-13 at that rate"
    );
}

#[test]
fn records_without_task_or_session_are_tasks_of_their_own() {
    let sc = Scenario::new();
    let mut log = String::new();
    // L: nine cheap lone records (haiku, 1,000 × 1 = $0.001 each), one dear one (100,000 × 1 = $0.10) and two
    // that tie (30,000 × 1 = $0.03 each, same tokens: by id, z0 before z1).
    for i in 1..=9 {
        log += &rec(&format!("l0{i}"), &format!("2026-11-06T10:0{i}:00Z"), "L", "haiku-4.5", 1000, 0, "");
    }
    log += &rec("l10", "2026-11-06T11:00:00Z", "L", "haiku-4.5", 100000, 0, "");
    log += &rec("z1", "2026-11-06T11:01:00Z", "L", "haiku-4.5", 30000, 0, "");
    log += &rec("z0", "2026-11-06T11:02:00Z", "L", "haiku-4.5", 30000, 0, "");
    // N: task "big", two records of 20,000 × 1 = $0.02: $0.04.
    log += &rec("n1", "2026-11-06T12:00:00Z", "N", "haiku-4.5", 20000, 0, r#""task":"big""#);
    log += &rec("n2", "2026-11-06T12:01:00Z", "N", "haiku-4.5", 20000, 0, r#""task":"big""#);
    sc.write("log.jsonl", &log);
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--tasks", "4", "log.jsonl"]).succeeds();
    let tasks = kinds(&out, "task");
    assert_eq!(
        tasks[0].to_string(),
        r#"{"kind":"task","agent":"L","task":null,"record_id":"l10","records":1,"unpriced_records":0,"input_tokens":100000,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":100000,"output_input_ratio":0,"cache_hit_ratio":0,"cost_usd":0.1}"#
    );
    let names: Vec<String> =
        tasks.iter().map(|t| t["task"].as_str().or(t["record_id"].as_str()).unwrap().to_string()).collect();
    assert_eq!(names, ["l10", "big", "z0", "z1"]);
    // The same list whatever the order of the lines.
    let mut lines: Vec<&str> = log.lines().collect();
    lines.reverse();
    let piped =
        sc.cmd("tt-optimize").args(["--format", "jsonl", "--tasks", "4"]).pipe_in(lines.join("\n") + "\n").succeeds();
    assert_eq!(piped.stdout, out.stdout);
    sc.cmd("tt-optimize").args(["--format", "table", "--tasks", "2", "log.jsonl"]).succeeds().stdout_has(
        "\
Most expensive tasks
agent  task          records   tokens     cost  out/in  cache hit
─────────────────────────────────────────────────────────────────
L      (record l10)        1  100,000  $0.1000      0%         0%
N      big                 2   40,000  $0.0400      0%         0%
",
    );
}

#[test]
fn evidence_counts_have_thousands_separators_and_min_saving_takes_dollars() {
    let sc = Scenario::new();
    // 1,321 small Opus requests like a1 above (1,000 in, 200 out): each saves $0.01 − $0.006 = $0.004 on
    // Sonnet; 1,321 × 0.004 = 5.284.
    let log: String = (0..1321)
        .map(|i| rec(&format!("s{i:04}"), "2026-11-02T10:00:00Z", "ATLAS", "opus-4.5", 1000, 200, ""))
        .collect();
    sc.write("log.jsonl", &log);
    let out = sc.cmd("tt-optimize").args(["--format", "table", "--type", "rightsize", "log.jsonl"]).succeeds();
    // Equal costs: the ids listed are the smallest three.
    out.stdout_has("$5.28 · rightsize").stdout_has("evidence: records: s0000, s0001, s0002 (+1,318 more)");
    // `--min-saving` takes a plain number or dollars as tt-budget writes them.
    for (min, shown) in [("$5.284", 1), ("5.284", 1), ("$5.29", 0), (" $0.16", 1)] {
        let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--min-saving", min, "log.jsonl"]).succeeds();
        assert_eq!(suggestions(&out).len(), shown, "--min-saving {min}");
    }
    for bad in ["$", "$-1", "$$5", "5$"] {
        sc.cmd("tt-optimize")
            .args(["--min-saving", bad, "log.jsonl"])
            .fails_with(2)
            .one_error_line("tt-optimize")
            .stderr_has("--min-saving");
    }
}

/// Right-sizing lists only the records the cheaper model prices lower: one whose prompt crosses the cheaper
/// model's long-context tier costs more there and is left out (saving and evidence alike).
#[test]
fn rightsize_leaves_out_records_the_cheaper_model_prices_higher() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[optimize]\nsmall_prompt_tokens = 300000\nrightsize_min_records = 1\n");
    let log = [
        // b0: prompt 200,000 (not above 200k). Opus 150000×5 + 50000×0.5 + 100×25 = 777,500 → $0.7775;
        //     Sonnet 150000×3 + 50000×0.3 + 100×15 = 466,500 → $0.4665; saving $0.311.
        rec("b0", "2026-11-06T10:00:00Z", "ATLAS", "opus-4.5", 150000, 100, r#""cache_read_tokens":50000"#),
        // b1: prompt 200,001, so Sonnet's long-context tier: 150000×6 + 50001×0.6 + 100×22.5 = 932,250.6
        //     → $0.9322506, dearer than Opus's 777,500.5 → $0.7775005: left out.
        rec("b1", "2026-11-06T10:01:00Z", "ATLAS", "opus-4.5", 150000, 100, r#""cache_read_tokens":50001"#),
    ]
    .concat();
    sc.write("log.jsonl", log);
    let out = sc.cmd("tt-optimize").args(["--format", "jsonl", "--type", "rightsize", "log.jsonl"]).succeeds();
    let s = suggestions(&out);
    assert_eq!(s.len(), 1, "{}", out.stdout);
    assert_eq!(s[0]["saving_usd"].to_string(), "0.311");
    assert_eq!(s[0]["evidence"]["records"], 1);
    assert_eq!(s[0]["evidence"]["record_ids"].to_string(), r#"["b0"]"#);
}

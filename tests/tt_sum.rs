//! tt-sum: grouping, windows and time zones, formats, sorting, pricing on the fly, exactness, errors, pipes.
mod common;
use common::*;

use rust_decimal::Decimal;
use std::str::FromStr;

/// A record line with an explicit cost (or none when `cost` is empty).
fn rec(ts: &str, agent: &str, model: &str, input: u64, output: u64, cost: &str, extra: &str) -> String {
    let cost = if cost.is_empty() { String::new() } else { format!(",\"cost_usd\":{cost}") };
    format!(
        "{{\"v\":1,\"id\":\"{ts}{agent}\",\"ts\":\"{ts}\",\"agent\":\"{agent}\",\"model\":\"{model}\",\"input_tokens\":{input},\"output_tokens\":{output}{cost}{extra}}}\n"
    )
}

/// Five records over three days of November 2026 (the 23rd is a Monday).
fn log() -> String {
    [
        rec(
            "2026-11-20T10:00:00Z",
            "ATLAS",
            "sonnet-4.5",
            50000,
            15000,
            "0.375",
            r#","session":"s1","tags":{"team":"web"}"#,
        ),
        rec(
            "2026-11-20T23:30:00Z",
            "ATLAS",
            "sonnet-4.5",
            10000,
            30000,
            "0.48",
            r#","session":"s1","tags":{"team":"web"}"#,
        ),
        rec("2026-11-22T09:15:00Z", "BOLT", "gpt-4o", 1000, 200, "", r#","session":"s2","cache_read_tokens":400"#),
        rec("2026-11-23T08:00:00Z", "BOLT", "gpt-4o", 2000, 100, "0.006", r#","session":"s3","cache_write_tokens":5"#),
        rec("2026-11-23T12:00:00Z", "CARA", "haiku-4.5", 100, 10, "0.00015", ""),
    ]
    .concat()
}

fn scenario() -> Scenario {
    let sc = Scenario::new();
    sc.write("usage.jsonl", log());
    sc
}

const ALL: &str = r#""window":{"period":"all","start":null,"end":null}"#;

#[test]
fn by_agent_jsonl_rows_then_total() {
    let sc = scenario();
    // gpt-4o 1000 in + 400 cache read + 200 out, priced on the fly: 1000*2.5 + 400*1.25 + 200*10 = 5000 → 0.005
    let want = format!(
        "{{\"kind\":\"summary\",{ALL},\"group\":{{\"agent\":\"ATLAS\"}},\"records\":2,\"sessions\":1,\"input_tokens\":60000,\"output_tokens\":45000,\"cache_read_tokens\":0,\"cache_write_tokens\":0,\"total_tokens\":105000,\"cost_usd\":0.855,\"unpriced_records\":0}}\n\
         {{\"kind\":\"summary\",{ALL},\"group\":{{\"agent\":\"BOLT\"}},\"records\":2,\"sessions\":2,\"input_tokens\":3000,\"output_tokens\":300,\"cache_read_tokens\":400,\"cache_write_tokens\":5,\"total_tokens\":3705,\"cost_usd\":0.011,\"unpriced_records\":0}}\n\
         {{\"kind\":\"summary\",{ALL},\"group\":{{\"agent\":\"CARA\"}},\"records\":1,\"sessions\":0,\"input_tokens\":100,\"output_tokens\":10,\"cache_read_tokens\":0,\"cache_write_tokens\":0,\"total_tokens\":110,\"cost_usd\":0.00015,\"unpriced_records\":0}}\n\
         {{\"kind\":\"summary\",{ALL},\"group\":{{}},\"records\":5,\"sessions\":3,\"input_tokens\":63100,\"output_tokens\":45310,\"cache_read_tokens\":400,\"cache_write_tokens\":5,\"total_tokens\":108815,\"cost_usd\":0.86615,\"unpriced_records\":0}}\n"
    );
    // Read from a file (the log, or one named), the total row says which, so a gate can read the same log.
    let from = format!(",\"from\":[\"{}\"]}}\n", std::fs::canonicalize(sc.log_path()).unwrap().display());
    let with_from = format!("{}{from}", want.strip_suffix("}\n").unwrap());
    sc.cmd("tt-sum").args(["--by", "agent"]).succeeds().stdout_is(&with_from).stderr_is("");
    sc.cmd("tt-sum").args(["--by", "agent", "usage.jsonl"]).succeeds().stdout_is(&with_from);
    // From stdin or `-`, it cannot say: no `from`.
    sc.cmd("tt-sum").args(["--by", "agent"]).pipe_in(log()).succeeds().stdout_is(&want);
    sc.cmd("tt-sum").args(["--by", "agent", "-"]).pipe_in(log()).succeeds().stdout_is(&want);
}

#[test]
fn total_only_and_empty_or_missing_log() {
    let sc = Scenario::new();
    let empty = format!(
        "{{\"kind\":\"summary\",{ALL},\"group\":{{}},\"records\":0,\"sessions\":0,\"input_tokens\":0,\"output_tokens\":0,\"cache_read_tokens\":0,\"cache_write_tokens\":0,\"total_tokens\":0,\"cost_usd\":0,\"unpriced_records\":0}}\n"
    );
    // No log yet: nothing spent (in the log that will be there).
    let from = format!(",\"from\":[\"{}\"]}}\n", std::path::absolute(sc.log_path()).unwrap().display());
    sc.cmd("tt-sum").succeeds().stdout_is(&format!("{}{from}", empty.strip_suffix("}\n").unwrap()));
    // A file named on the command line must exist.
    sc.cmd("tt-sum").arg("nope.jsonl").fails_with(2).one_error_line("tt-sum").stderr_has("nope.jsonl");
}

#[test]
fn table_format() {
    let sc = scenario();
    sc.cmd("tt-sum").args(["--by", "agent", "--format", "table"]).succeeds().stdout_is(
        "all time
AGENT  RECORDS  SESSIONS   INPUT  OUTPUT  CACHE READ  CACHE WRITE  TOTAL TOKENS     COST
────────────────────────────────────────────────────────────────────────────────────────
ATLAS        2         1  60,000  45,000           0            0       105,000  $0.8550
BOLT         2         2   3,000     300         400            5         3,705  $0.0110
CARA         1         0     100      10           0            0           110  $0.0002
────────────────────────────────────────────────────────────────────────────────────────
TOTAL        5         3  63,100  45,310         400            5       108,815  $0.8662
",
    );
}

#[test]
fn csv_json_markdown_formats() {
    let sc = scenario();
    sc.cmd("tt-sum").args(["--by", "model", "--format", "csv", "--sort", "name"]).succeeds().stdout_is(
        "kind,period,start,end,model,records,sessions,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced_records,omitted_groups
group,all,,,gpt-4o,2,2,3000,300,400,5,3705,0.011,0,
group,all,,,haiku-4.5,1,0,100,10,0,0,110,0.00015,0,
group,all,,,sonnet-4.5,2,1,60000,45000,0,0,105000,0.855,0,
total,all,,,,5,3,63100,45310,400,5,108815,0.86615,0,0
",
    );
    let out = sc.cmd("tt-sum").args(["--by", "model", "--format", "json"]).succeeds();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 4);
    assert_eq!(v[3]["cost_usd"].to_string(), "0.86615");
    sc.cmd("tt-sum").args(["--by", "agent", "--format", "markdown", "--top", "1"]).succeeds().stdout_is(
        "**all time**

| AGENT | RECORDS | SESSIONS | INPUT | OUTPUT | CACHE READ | CACHE WRITE | TOTAL TOKENS | COST |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ATLAS | 2 | 1 | 60,000 | 45,000 | 0 | 0 | 105,000 | $0.8550 |
| TOTAL | 5 | 3 | 63,100 | 45,310 | 400 | 5 | 108,815 | $0.8662 |

… and 2 more groups (left out by --top; the total counts them)
",
    );
}

/// The groups of a JSONL output, as `key=value|…` strings, with their record counts.
fn groups(out: &Out) -> Vec<(String, u64)> {
    out.jsonl()
        .iter()
        .filter(|r| !r["group"].as_object().unwrap().is_empty())
        .map(|r| {
            let g = r["group"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("null")))
                .collect::<Vec<_>>()
                .join("|");
            (g, r["records"].as_u64().unwrap())
        })
        .collect()
}

fn g(items: &[(&str, u64)]) -> Vec<(String, u64)> {
    items.iter().map(|(a, b)| (a.to_string(), *b)).collect()
}

#[test]
fn several_keys_tags_sessions_and_missing_values() {
    let sc = scenario();
    let out = sc.cmd("tt-sum").args(["--by", "day,agent"]).succeeds();
    assert_eq!(
        groups(&out),
        g(&[
            ("day=2026-11-20|agent=ATLAS", 2),
            ("day=2026-11-22|agent=BOLT", 1),
            ("day=2026-11-23|agent=BOLT", 1),
            ("day=2026-11-23|agent=CARA", 1)
        ])
    );
    let out = sc.cmd("tt-sum").args(["--by", "tag:team", "--sort", "name"]).succeeds();
    assert_eq!(groups(&out), g(&[("tag:team=null", 3), ("tag:team=web", 2)]));
    let out = sc.cmd("tt-sum").args(["--by", "session", "--sort", "tokens"]).succeeds();
    assert_eq!(groups(&out), g(&[("session=s1", 2), ("session=s3", 1), ("session=s2", 1), ("session=null", 1)]));
    // None of these records has these fields: one group of nulls (the real values are tested below).
    let out = sc.cmd("tt-sum").args(["--by", "provider,task,project,branch,host,user"]).succeeds();
    assert_eq!(groups(&out).len(), 1);
    for by in ["hour", "week", "month"] {
        sc.cmd("tt-sum").args(["--by", by]).succeeds();
    }
    let out = sc.cmd("tt-sum").args(["--by", "month"]).succeeds();
    assert_eq!(groups(&out), g(&[("month=2026-11", 5)]));
    let out = sc.cmd("tt-sum").args(["--by", "hour", "--top", "2"]).succeeds();
    assert_eq!(groups(&out), g(&[("hour=2026-11-20T10:00", 1), ("hour=2026-11-20T23:00", 1)]));
    sc.cmd("tt-sum").args(["--by", "colour"]).fails_with(2).one_error_line("tt-sum").stderr_has("cannot group by");
    sc.cmd("tt-sum").args(["--by", "agent,agent"]).fails_with(2).one_error_line("tt-sum");
}

#[test]
fn time_zone_moves_day_boundaries_and_week_start_comes_from_config() {
    let sc = scenario();
    // 23:30 UTC on the 20th is the 21st in Berlin.
    let out = sc.cmd("tt-sum").args(["--by", "day", "--tz", "Europe/Berlin"]).succeeds();
    assert_eq!(
        groups(&out),
        g(&[("day=2026-11-20", 1), ("day=2026-11-21", 1), ("day=2026-11-22", 1), ("day=2026-11-23", 2)])
    );
    // Weeks start on Monday (the 23rd) by default; on Sunday (the 22nd) when the config says so.
    let out = sc.cmd("tt-sum").args(["--by", "week"]).succeeds();
    assert_eq!(groups(&out), g(&[("week=2026-11-16", 3), ("week=2026-11-23", 2)]));
    sc.write("tt.toml", "week_start = \"sunday\"\ntz = \"Europe/Berlin\"\n");
    let out = sc.cmd("tt-sum").args(["--by", "week"]).succeeds();
    assert_eq!(groups(&out), g(&[("week=2026-11-15", 2), ("week=2026-11-22", 3)]));
    // The zone of the config is used for windows too, and shown in the bounds.
    let out = sc.cmd("tt-sum").args(["--period", "today", "--today", "2026-11-21"]).succeeds();
    let r = &out.jsonl()[0];
    assert_eq!(r["window"]["start"], "2026-11-21T00:00:00+01:00");
    assert_eq!(r["records"], 1);
    sc.cmd("tt-sum").args(["--tz", "Mars/Olympus"]).fails_with(2).one_error_line("tt-sum").stderr_has("time zone");
}

fn records_in(sc: &Scenario, args: &[&str]) -> u64 {
    let out = sc.cmd("tt-sum").args(args).succeeds();
    out.jsonl().last().unwrap()["records"].as_u64().unwrap()
}

#[test]
fn periods_relative_to_today() {
    let sc = scenario();
    let t = ["--today", "2026-11-23"];
    for (period, want) in [
        ("today", 2),
        ("yesterday", 1),
        ("week", 2),
        ("last-week", 3),
        ("month", 5),
        ("last-month", 0),
        ("year", 5),
        ("all", 5),
    ] {
        assert_eq!(records_in(&sc, &["--period", period, t[0], t[1]]), want, "{period}");
    }
    let out = sc.cmd("tt-sum").args(["--period", "last-month", "--today", "2026-11-23"]).succeeds();
    assert_eq!(
        out.jsonl()[0]["window"],
        serde_json::json!({"period":"last-month","start":"2026-10-01T00:00:00Z","end":"2026-11-01T00:00:00Z"})
    );
    sc.cmd("tt-sum")
        .args(["--period", "fortnight"])
        .fails_with(2)
        .one_error_line("tt-sum")
        .stderr_has("unknown period");
    sc.cmd("tt-sum").args(["--today", "someday"]).fails_with(2).one_error_line("tt-sum");
}

#[test]
fn since_and_until() {
    let sc = scenario();
    // Dates: since is inclusive from midnight, until inclusive of the whole day.
    assert_eq!(records_in(&sc, &["--since", "2026-11-22"]), 3);
    assert_eq!(records_in(&sc, &["--until", "2026-11-20"]), 2);
    assert_eq!(records_in(&sc, &["--since", "2026-11-20", "--until", "2026-11-22"]), 3);
    // Date-times: until is exclusive.
    assert_eq!(records_in(&sc, &["--until", "2026-11-23T08:00:00Z"]), 3);
    assert_eq!(records_in(&sc, &["--until", "2026-11-23T08:00:01Z"]), 4);
    assert_eq!(records_in(&sc, &["--since", "2026-11-20 23:30"]), 4);
    // Combined with a period: the intersection, labelled custom.
    let out = sc
        .cmd("tt-sum")
        .args(["--period", "week", "--today", "2026-11-23", "--since", "2026-11-23T10:00:00Z"])
        .succeeds();
    let r = &out.jsonl()[0];
    assert_eq!(r["records"], 1);
    assert_eq!(
        r["window"],
        serde_json::json!({"period":"custom","start":"2026-11-23T10:00:00Z","end":"2026-11-30T00:00:00Z"})
    );
    sc.cmd("tt-sum").args(["--since", "last tuesday"]).fails_with(2).one_error_line("tt-sum").stderr_has("--since");
    // --since after --until is an empty window: an error, not an empty report.
    sc.cmd("tt-sum")
        .args(["--since", "2026-11-22", "--until", "2026-11-20"])
        .fails_with(2)
        .stderr_is("tt-sum: error: `--since 2026-11-22` is after `--until 2026-11-20`: the window would be empty\n");
    // The 21st to the 20th (inclusive) is empty too: since = until = midnight of the 21st.
    sc.cmd("tt-sum").args(["--since", "2026-11-21", "--until", "2026-11-20"]).fails_with(2).stderr_has("is after");
    sc.cmd("tt-sum")
        .args(["--since", "2026-11-21T10:00:00Z", "--until", "2026-11-21T10:00:00Z"])
        .fails_with(2)
        .stderr_has("is not before");
    // One day: since the 20th until the 20th.
    assert_eq!(records_in(&sc, &["--since", "2026-11-20", "--until", "2026-11-20"]), 2);
}

#[test]
fn today_stops_counting_at_the_end_of_the_pinned_day() {
    let sc = scenario();
    // Pinned to the 22nd: the two records of the 23rd have not happened yet, in any window holding "now".
    for period in ["month", "week", "year", "all"] {
        assert_eq!(records_in(&sc, &["--period", period, "--today", "2026-11-22"]), 3, "{period}");
    }
    // The window shown is still the whole month.
    let out = sc.cmd("tt-sum").args(["--period", "month", "--today", "2026-11-22"]).succeeds();
    assert_eq!(out.jsonl()[0]["window"]["end"], "2026-12-01T00:00:00Z");
    // Pinned to a time: up to that instant (exclusive).
    assert_eq!(records_in(&sc, &["--today", "2026-11-23T08:00:00Z"]), 3);
    assert_eq!(records_in(&sc, &["--today", "2026-11-23T08:00:01Z"]), 4);
    // Without --today the clock is not a bound.
    assert_eq!(records_in(&sc, &[]), 5);
}

#[test]
fn sort_and_top() {
    let sc = scenario();
    let out = sc.cmd("tt-sum").args(["--by", "agent", "--sort", "tokens"]).succeeds();
    assert_eq!(groups(&out), g(&[("agent=ATLAS", 2), ("agent=BOLT", 2), ("agent=CARA", 1)]));
    let out = sc.cmd("tt-sum").args(["--by", "agent", "--sort", "name", "--top", "2"]).succeeds();
    assert_eq!(groups(&out), g(&[("agent=ATLAS", 2), ("agent=BOLT", 2)]));
    // The total still covers every group.
    assert_eq!(out.jsonl().last().unwrap()["records"], 5);
    let out = sc.cmd("tt-sum").args(["--by", "day", "--top", "1"]).succeeds();
    assert_eq!(groups(&out), g(&[("day=2026-11-20", 2)]));
    // The total row says how many groups --top left out (days 22 and 23), and only when it left some out.
    assert_eq!(out.jsonl().last().unwrap()["omitted_groups"], 2);
    let out = sc.cmd("tt-sum").args(["--by", "agent", "--top", "3"]).succeeds();
    assert_eq!(out.jsonl().last().unwrap().get("omitted_groups"), None);
    // --top 0: the total alone, all three groups left out.
    let out = sc.cmd("tt-sum").args(["--by", "agent", "--top", "0"]).succeeds();
    assert_eq!(
        out.stdout,
        format!(
            "{{\"kind\":\"summary\",{ALL},\"group\":{{}},\"records\":5,\"sessions\":3,\"input_tokens\":63100,\"output_tokens\":45310,\"cache_read_tokens\":400,\"cache_write_tokens\":5,\"total_tokens\":108815,\"cost_usd\":0.86615,\"unpriced_records\":0,\"omitted_groups\":3,\"from\":[\"{}\"]}}\n",
            std::fs::canonicalize(sc.log_path()).unwrap().display()
        )
    );
    sc.cmd("tt-sum").args(["--sort", "colour"]).fails_with(2);
    sc.cmd("tt-sum").args(["--top", "-1"]).fails_with(2).one_error_line("tt-sum");
}

#[test]
fn every_record_field_groups_with_its_real_values() {
    let sc = Scenario::new();
    let full = |id: &str, provider: &str, task: &str, project: &str, branch: &str, host: &str, user: &str| {
        format!(
            "{{\"v\":1,\"id\":\"{id}\",\"ts\":\"2026-11-20T10:00:00Z\",\"agent\":\"A\",\"model\":\"m\",\"provider\":\"{provider}\",\"task\":\"{task}\",\"project\":\"{project}\",\"branch\":\"{branch}\",\"host\":\"{host}\",\"user\":\"{user}\",\"input_tokens\":1,\"output_tokens\":0,\"cost_usd\":1}}\n"
        )
    };
    sc.write(
        "usage.jsonl",
        [
            full("1", "anthropic", "t1", "api", "main", "ci-1", "ann"),
            full("2", "anthropic", "t1", "api", "main", "ci-1", "ann"),
            full("3", "openai", "t2", "web", "fix", "ci-2", "bob"),
        ]
        .concat(),
    );
    for (key, want) in [
        ("provider", [("provider=anthropic", 2), ("provider=openai", 1)]),
        ("task", [("task=t1", 2), ("task=t2", 1)]),
        ("project", [("project=api", 2), ("project=web", 1)]),
        ("branch", [("branch=fix", 1), ("branch=main", 2)]),
        ("host", [("host=ci-1", 2), ("host=ci-2", 1)]),
        ("user", [("user=ann", 2), ("user=bob", 1)]),
    ] {
        let out = sc.cmd("tt-sum").args(["--by", key, "--sort", "name"]).succeeds();
        assert_eq!(groups(&out), g(&want), "{key}");
    }
    let out = sc.cmd("tt-sum").args(["--by", "provider,task,project,branch,host,user", "--sort", "name"]).succeeds();
    assert_eq!(
        groups(&out),
        g(&[
            ("provider=anthropic|task=t1|project=api|branch=main|host=ci-1|user=ann", 2),
            ("provider=openai|task=t2|project=web|branch=fix|host=ci-2|user=bob", 1)
        ])
    );
}

#[test]
fn config_and_log_flags() {
    let sc = scenario();
    // --log reads another log; --config adds a layer (here: the week starts on Sunday, the zone is Berlin).
    sc.write("other/usage.jsonl", rec("2026-11-22T23:30:00Z", "ZED", "m", 1, 1, "1", ""));
    let out = sc.cmd("tt-sum").args(["--log", "other/usage.jsonl", "--by", "agent"]).succeeds();
    assert_eq!(groups(&out), g(&[("agent=ZED", 1)]));
    sc.write("other/tt.toml", "week_start = \"sunday\"\ntz = \"Europe/Berlin\"\n");
    let out = sc.cmd("tt-sum").args(["--config", "other/tt.toml", "--by", "week"]).succeeds();
    assert_eq!(groups(&out), g(&[("week=2026-11-15", 2), ("week=2026-11-22", 3)]));
    // 23:30 UTC on the 22nd is the 23rd in Berlin.
    let out =
        sc.cmd("tt-sum").args(["--config", "other/tt.toml", "--log", "other/usage.jsonl", "--by", "day"]).succeeds();
    assert_eq!(groups(&out), g(&[("day=2026-11-23", 1)]));
    sc.cmd("tt-sum").args(["--config", "other/missing.toml"]).fails_with(2).one_error_line("tt-sum");
    // Zone names in any case.
    let out = sc.cmd("tt-sum").args(["--by", "day", "--tz", "europe/berlin"]).succeeds();
    assert_eq!(groups(&out).len(), 4);
    sc.cmd("tt-sum")
        .args(["--tz", "utc"])
        .succeeds()
        .stdout_is(&sc.cmd("tt-sum").args(["--tz", "UTC"]).succeeds().stdout);
}

#[test]
fn csv_bounds_are_written_like_the_jsonl_rows() {
    let sc = scenario();
    let out = sc.cmd("tt-sum").args(["--period", "month", "--today", "2026-11-23", "--format", "csv"]).succeeds();
    assert!(out.stdout.contains("\ntotal,month,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,5,"), "{}", out.stdout);
    let out = sc
        .cmd("tt-sum")
        .args(["--period", "month", "--today", "2026-11-23", "--format", "csv", "--tz", "Europe/Berlin"])
        .succeeds();
    assert!(
        out.stdout.contains("\ntotal,month,2026-11-01T00:00:00+01:00,2026-12-01T00:00:00+01:00,"),
        "{}",
        out.stdout
    );
}

#[test]
fn unpriced_records_are_priced_like_tt_price_and_unknown_models_counted() {
    let sc = Scenario::new();
    let lines = [
        rec("2026-03-01T09:00:00Z", "A", "gpt-4.1-2025-04-14", 1000, 10, "", ""),
        rec("2026-03-01T09:01:00Z", "A", "claude-quill-9", 5, 5, "", ""),
        rec("2026-03-01T09:02:00Z", "B", "claude-quill-9", 6, 6, "", ""),
    ]
    .concat();
    let priced = sc.cmd("tt-price").pipe_in(&lines).succeeds().stdout;
    let want_cost =
        serde_json::from_str::<serde_json::Value>(priced.lines().next().unwrap()).unwrap()["cost_usd"].to_string();
    assert_eq!(want_cost, "0.00208");
    let out = sc.cmd("tt-sum").pipe_in(&lines).succeeds();
    let total = &out.jsonl()[0];
    assert_eq!(total["cost_usd"].to_string(), want_cost);
    assert_eq!(total["unpriced_records"], 2);
    assert_eq!(
        out.stderr,
        "tt-sum: warning: 2 records could not be priced (unknown model: claude-quill-9); they are counted as unpriced, not as $0\n"
    );
    // A group whose records are all unpriced: cost_usd 0 in the contract, with unpriced_records = records.
    let by_agent = sc.cmd("tt-sum").args(["--by", "agent"]).pipe_in(&lines).succeeds();
    let b = &by_agent.jsonl()[1];
    assert_eq!((b["group"]["agent"].as_str(), b["cost_usd"].to_string().as_str()), (Some("B"), "0"));
    assert_eq!(b["unpriced_records"], b["records"]);
    // Pricing on the fly and pricing first give the same sums.
    sc.cmd("tt-sum").pipe_in(&priced).succeeds().stdout_is(&out.stdout);
    // The table shows the unpriced column when there are some, and a group with only unpriced records has no
    // cost (not $0).
    sc.cmd("tt-sum").args(["--format", "table", "--by", "agent"]).pipe_in(&lines).succeeds().stdout_is(
        "all time
AGENT  RECORDS  SESSIONS  INPUT  OUTPUT  CACHE READ  CACHE WRITE  TOTAL TOKENS     COST  UNPRICED
─────────────────────────────────────────────────────────────────────────────────────────────────
A            2         0  1,005      15           0            0         1,020  $0.0021         1
B            1         0      6       6           0            0            12        –         1
─────────────────────────────────────────────────────────────────────────────────────────────────
TOTAL        3         0  1,011      21           0            0         1,032  $0.0021         2
",
    );
    // Without --by there are no groups: the total row alone.
    sc.cmd("tt-sum").args(["--format", "table"]).pipe_in(&lines).succeeds().stdout_is(
        "all time
       RECORDS  SESSIONS  INPUT  OUTPUT  CACHE READ  CACHE WRITE  TOTAL TOKENS     COST  UNPRICED
─────────────────────────────────────────────────────────────────────────────────────────────────
TOTAL        3         0  1,011      21           0            0         1,032  $0.0021         2
",
    );
}

#[test]
fn bad_lines_are_errors_with_file_and_line() {
    let sc = Scenario::new();
    let mut text = log();
    text.push('\n'); // a blank line is fine
    text.push_str(&rec("2026-11-23T12:00:00Z", "X", "m", 1, 1, "-1", ""));
    sc.write("bad.jsonl", &text);
    sc.cmd("tt-sum").arg("bad.jsonl").fails_with(2).one_error_line("tt-sum").stderr_is(
        "tt-sum: error: bad.jsonl:7: field `cost_usd`: must not be negative (tt-log --repair moves bad lines aside)\n",
    );
    sc.cmd("tt-sum").pipe_in("{\"v\":1}\n").fails_with(2).stderr_is("tt-sum: error: <stdin>:1: missing field `id`\n");
    sc.cmd("tt-sum").pipe_in("not json\n").fails_with(2).one_error_line("tt-sum").stderr_has("<stdin>:1: invalid JSON");
}

/// A generated log big enough to be split between threads: totals match an independent exact sum, and an
/// error late in the file still names its line.
#[test]
fn exact_totals_on_a_generated_log_match_an_independent_sum() {
    let sc = Scenario::new();
    let out = std::process::Command::new(bin("tt-gen"))
        .args(["log", "--records", "40000", "--seed", "7", "--unpriced-pct", "0"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.len() > 9 * 1024 * 1024, "the log must be big enough to be read by several threads");
    sc.write("big.jsonl", &text);

    // The independent computation: serde_json + rust_decimal, per agent.
    // (records, tokens, cost, unpriced); the generator's few records of an unknown model have no cost.
    let mut want: std::collections::BTreeMap<String, (u64, u64, Decimal, u64)> = Default::default();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let e = want.entry(v["agent"].as_str().unwrap().to_string()).or_default();
        e.0 += 1;
        for k in ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"] {
            e.1 += v[k].as_u64().unwrap_or(0);
        }
        match &v["cost_usd"] {
            serde_json::Value::Null => e.3 += 1,
            c => e.2 += Decimal::from_str(&c.to_string()).unwrap(),
        }
    }
    let out = sc.cmd("tt-sum").args(["--by", "agent", "--sort", "name", "big.jsonl"]).succeeds();
    let rows = out.jsonl();
    assert_eq!(rows.len(), want.len() + 1);
    for (r, (agent, (n, tokens, cost, unpriced))) in rows.iter().zip(&want) {
        assert_eq!(r["unpriced_records"].as_u64().unwrap(), *unpriced);
        assert_eq!(r["group"]["agent"], agent.as_str());
        assert_eq!(r["records"].as_u64().unwrap(), *n);
        assert_eq!(r["total_tokens"].as_u64().unwrap(), *tokens);
        assert_eq!(Decimal::from_str(&r["cost_usd"].to_string()).unwrap(), *cost, "{agent}");
    }
    let total: Decimal = want.values().map(|w| w.2).sum();
    assert_eq!(Decimal::from_str(&rows.last().unwrap()["cost_usd"].to_string()).unwrap(), total);
    assert_eq!(rows.last().unwrap()["records"], 40000);

    // A bad line near the end (in the second thread's half) is reported with its true line number.
    let mut lines: Vec<&str> = text.lines().collect();
    lines[39_990] =
        r#"{"v":1,"id":"x","ts":"2026-11-01T00:00:00Z","agent":"A","model":"m","input_tokens":"12","output_tokens":1}"#;
    sc.write("bad.jsonl", lines.join("\n") + "\n");
    sc.cmd("tt-sum").arg("bad.jsonl").fails_with(2).stderr_is(
        "tt-sum: error: bad.jsonl:39991: field `input_tokens`: expected a non-negative integer, got \"12\" (tt-log --repair moves bad lines aside)\n",
    );
}

#[test]
fn broken_pipe_and_pipefail() {
    let sc = scenario();
    sc.bash("set -o pipefail; tt-sum --by day,agent --format table | head -1").succeeds().stdout_is("all time\n");
    sc.bash("set -o pipefail; tt-sum --by agent | head -c 10 >/dev/null").succeeds();
}

/// Output larger than a pipe's buffer, read by `head -1`: the write fails with EPIPE mid-output, which is a
/// quiet exit 0 in every format — the summary rows' CSV writer once turned it into `csv: Broken pipe`, exit 2.
#[test]
fn a_reader_closing_a_large_output_is_a_quiet_exit_0_in_every_format() {
    let sc = Scenario::new();
    let log: String = (0..20_000)
        .map(|i| format!(
            "{{\"v\":1,\"id\":\"r{i}\",\"ts\":\"2026-11-02T10:00:00Z\",\"agent\":\"A\",\"model\":\"sonnet-4.5\",\"input_tokens\":1,\"output_tokens\":1,\"session\":\"s{i}\"}}\n"
        ))
        .collect();
    sc.write("many.jsonl", &log);
    for format in ["csv", "jsonl", "json", "markdown", "table"] {
        sc.bash(&format!("set -o pipefail; tt-sum many.jsonl --by session --format {format} | head -1 > /dev/null"))
            .succeeds()
            .stderr_is("");
    }
    // The same rows through tt-export's CSV (one writer for both).
    sc.bash(
        "set -o pipefail; tt-sum many.jsonl --by session --format jsonl | tt-export --format csv | head -1 >/dev/null",
    )
    .succeeds()
    .stderr_is("");
}

#[test]
fn help_has_examples() {
    let sc = Scenario::new();
    sc.cmd("tt-sum").arg("--help").succeeds().stdout_has("Examples:").stdout_has("tt-sum --period month --by agent");
}

/// The reader's two paths — the quick one for lines in tt's own compact shape, the general one for any valid
/// JSON (spaces, escapes, keys in another order) — give the same sums, and a line of invalid UTF-8 in the
/// middle of a big file is still reported with its own line number (blocks are validated at once, lines one
/// by one only when a block fails).
#[test]
fn compact_and_spaced_lines_sum_the_same_and_bad_utf8_is_found() {
    let sc = Scenario::new();
    let out = std::process::Command::new(bin("tt-gen"))
        .args(["log", "--records", "20000", "--seed", "3", "--unpriced-pct", "10"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    sc.write("compact.jsonl", &text);
    // The same records with a space after every colon and every agent name escaped as \u0041-style text.
    let spaced: String = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let agent = v["agent"].as_str().unwrap();
            let escaped: String = agent.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
            l.replace("\":", "\": ").replace(&format!("\"agent\": \"{agent}\""), &format!("\"agent\": \"{escaped}\""))
                + "\n"
        })
        .collect();
    assert_ne!(spaced, text);
    sc.write("spaced.jsonl", &spaced);
    let compact = sc.cmd("tt-sum").args(["--by", "agent,day", "compact.jsonl"]).succeeds().stdout;
    let general = sc.cmd("tt-sum").args(["--by", "agent,day", "spaced.jsonl"]).succeeds().stdout;
    assert_eq!(compact.replace("compact.jsonl", "spaced.jsonl"), general);

    let mut bytes = text.into_bytes();
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1)).collect();
    let at = line_starts[12_344] + 30; // inside line 12,345, in a string
    bytes[at] = 0xff;
    sc.write("bad.jsonl", &bytes);
    sc.cmd("tt-sum").arg("bad.jsonl").fails_with(2).one_error_line("tt-sum").stderr_has("bad.jsonl:12345: ");
}

/// Sums past what their types hold are an error, never printed wrapped or saturated.
#[test]
fn sums_that_overflow_are_refused() {
    let sc = Scenario::new();
    let big = u64::MAX / 2 + 1;
    sc.write(
        "tokens.jsonl",
        [
            rec("2026-11-20T10:00:00Z", "A", "m", big, 0, "1", ""),
            rec("2026-11-20T11:00:00Z", "A", "m", big, 0, "1", ""),
        ]
        .concat(),
    );
    sc.cmd("tt-sum").arg("tokens.jsonl").fails_with(2).one_error_line("tt-sum").stderr_has("too large to be exact");
    sc.write(
        "dollars.jsonl",
        [
            rec("2026-11-20T10:00:00Z", "A", "m", 1, 0, "50000000000000000000000000000", ""),
            rec("2026-11-20T11:00:00Z", "B", "m", 1, 0, "50000000000000000000000000000", ""),
        ]
        .concat(),
    );
    sc.cmd("tt-sum").args(["--by", "agent", "dollars.jsonl"]).fails_with(2).one_error_line("tt-sum");
}

/// Time zone names are matched in any letter case, on the command line and in the config alike.
#[test]
fn time_zone_names_in_any_case() {
    let sc = scenario();
    let berlin = sc.cmd("tt-sum").args(["--by", "day", "--tz", "Europe/Berlin"]).succeeds().stdout;
    sc.write("tt.toml", "tz = \"europe/berlin\"\n");
    assert_eq!(sc.cmd("tt-sum").args(["--by", "day"]).succeeds().stdout, berlin);
    assert_eq!(sc.cmd("tt-sum").args(["--by", "day", "--tz", "EUROPE/BERLIN"]).succeeds().stdout, berlin);
    sc.write("tt.toml", "tz = \"Mars/Olympus\"\n");
    sc.cmd("tt-sum").fails_with(2).one_error_line("tt-sum").stderr_has("tt.toml:1: key `tz`");
}

#[test]
fn an_empty_group_key_is_an_error() {
    let sc = scenario();
    for by in ["", "agent,", ",agent", "agent,,model", " "] {
        sc.cmd("tt-sum")
            .args(["--by", by])
            .fails_with(2)
            .one_error_line("tt-sum")
            .stderr_has(&format!("--by {by:?} has an empty key"));
    }
}

#[test]
fn groups_left_out_by_top_are_said_in_every_format() {
    let sc = scenario();
    // By cost: ATLAS $0.855, BOLT $0.011, CARA $0.00015; --top 1 keeps ATLAS and leaves out 2 groups, which the
    // total still counts: 5 records, $0.855 + $0.011 + $0.00015 = $0.86615.
    sc.cmd("tt-sum").args(["--by", "agent", "--top", "1", "--format", "table"]).succeeds().stdout_is(
        "all time
AGENT  RECORDS  SESSIONS   INPUT  OUTPUT  CACHE READ  CACHE WRITE  TOTAL TOKENS     COST
────────────────────────────────────────────────────────────────────────────────────────
ATLAS        2         1  60,000  45,000           0            0       105,000  $0.8550
────────────────────────────────────────────────────────────────────────────────────────
TOTAL        5         3  63,100  45,310         400            5       108,815  $0.8662
… and 2 more groups (left out by --top; the total counts them)
",
    );
    sc.cmd("tt-sum")
        .args(["--by", "agent", "--top", "2", "--format", "table"])
        .succeeds()
        .stdout_has("\n… and 1 more group (left out by --top; the total counts it)\n");
    // Nothing left out, nothing said.
    let out = sc.cmd("tt-sum").args(["--by", "agent", "--top", "3", "--format", "table"]).succeeds();
    assert!(!out.stdout.contains("more group"), "{}", out.stdout);
    // CSV: the total row's last column, `omitted_groups`; empty on group rows.
    sc.cmd("tt-sum").args(["--by", "agent", "--top", "1", "--format", "csv"]).succeeds().stdout_is(
        "kind,period,start,end,agent,records,sessions,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced_records,omitted_groups
group,all,,,ATLAS,2,1,60000,45000,0,0,105000,0.855,0,
total,all,,,,5,3,63100,45310,400,5,108815,0.86615,0,2
",
    );
}

#[test]
fn a_group_named_total_is_not_the_total_row_in_csv() {
    let sc = Scenario::new();
    // An agent literally called TOTAL: its row is a `group`, the total row is `total` with an empty key cell.
    // haiku-4.5: 1000 × 1 = 1,000 → $0.001; with the other 2000 × 1 = $0.002: $0.003 in all.
    sc.write(
        "usage.jsonl",
        rec("2026-11-20T10:00:00Z", "TOTAL", "haiku-4.5", 1000, 0, "", "")
            + &rec("2026-11-20T11:00:00Z", "B", "haiku-4.5", 2000, 0, "", ""),
    );
    sc.cmd("tt-sum").args(["--by", "agent", "--format", "csv", "--sort", "name"]).succeeds().stdout_is(
        "kind,period,start,end,agent,records,sessions,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced_records,omitted_groups
group,all,,,B,1,0,2000,0,0,0,2000,0.002,0,
group,all,,,TOTAL,1,0,1000,0,0,0,1000,0.001,0,
total,all,,,,2,0,3000,0,0,0,3000,0.003,0,0
",
    );
    // Without --by: the total row alone, still marked.
    let out = sc.cmd("tt-sum").args(["--format", "csv"]).succeeds();
    assert_eq!(out.stdout.lines().nth(1), Some("total,all,,,2,0,3000,0,0,0,3000,0.003,0,0"));
}

#[test]
fn one_unpriced_record_is_singular() {
    let sc = Scenario::new();
    sc.cmd("tt-sum").pipe_in(rec("2026-03-01T09:01:00Z", "A", "claude-quill-9", 5, 5, "", "")).succeeds().stderr_is(
        "tt-sum: warning: 1 record could not be priced (unknown model: claude-quill-9); it is counted as unpriced, \
             not as $0\n",
    );
}

#[test]
fn summary_rows_are_not_records_and_the_error_says_so() {
    let sc = scenario();
    let rows = sc.cmd("tt-sum").args(["--by", "agent"]).succeeds().stdout;
    // tt-sum | tt-sum: standard input is gone when the error is found, so the hint says what tt-sum reads.
    sc.bash("set -o pipefail\ntt-sum --by agent | tt-sum").fails_with(2).one_error_line("tt-sum").stderr_has(
        "<stdin>:1: missing field `v` (schema version); tt-sum reads usage records, not its own summary rows \
             (those go to tt-budget or tt-export)",
    );
    // A file of rows is read again: they are summary rows.
    sc.write("rows.jsonl", &rows);
    sc.cmd("tt-sum").arg("rows.jsonl").fails_with(2).one_error_line("tt-sum").stderr_has(
        "rows.jsonl:1: missing field `v` (schema version); these look like tt-sum summary rows, not usage records \
         (summary rows go to tt-budget or tt-export)",
    );
    // A line that lacks `v` and is no summary row gets no such hint: it is a bad line, which can be moved aside.
    sc.write("odd.jsonl", log() + "{\"id\":\"x\"}\n");
    sc.cmd("tt-sum").arg("odd.jsonl").fails_with(2).stderr_is(
        "tt-sum: error: odd.jsonl:6: missing field `v` (schema version) (tt-log --repair moves bad lines aside)\n",
    );
}

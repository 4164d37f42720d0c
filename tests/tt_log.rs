//! tt-log: the seed examples, every flag, provider responses, validation, concurrency, torn lines.
mod common;
use common::*;

#[test]
fn seed_example_logs_and_prices_exactly() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["ATLAS", "sonnet-4.5", "50000", "15000", "Built TokenTracker"])
        .succeeds()
        .stdout_is("")
        .stderr_is("logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750\n");
    let r = &sc.records()[0];
    assert_eq!(r["cost_usd"].to_string(), "0.375");
    assert_eq!(r["agent"], "ATLAS");
    assert_eq!(r["model"], "sonnet-4.5");
    assert_eq!(r["notes"], "Built TokenTracker");
    assert_eq!(r["price"], "claude-sonnet-4-5");
    assert_eq!(r["provider"], "anthropic");
    assert_eq!(r["source"], "cli");
    assert_eq!(r["v"], 1);
    assert_eq!(r["user"], "tester");
    // RFC 3339 UTC with a Z, and a UUIDv7 id.
    assert!(r["ts"].as_str().unwrap().ends_with('Z'));
    assert_eq!(&r["id"].as_str().unwrap()[14..15], "7");
}

#[test]
fn second_seed_example_is_exact() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["NOVA", "claude-sonnet-4-5-20250929", "10000", "30000"])
        .succeeds()
        .stderr_is("logged 40,000 tokens (claude-sonnet-4-5-20250929) for NOVA - $0.4800\n");
    assert_eq!(sc.records()[0]["cost_usd"].to_string(), "0.48");
}

#[test]
fn every_flag_lands_in_the_record() {
    let sc = Scenario::new();
    let out = sc
        .cmd("tt-log")
        .args([
            "--agent",
            "ci-review",
            "--model",
            "opus-4.5",
            "--input",
            "1_000",
            "--output",
            "2,000",
            "--cache-read",
            "30000",
            "--cache-write",
            "4000",
            "--cache-write-1h",
            "5000",
            "--reasoning",
            "500",
            "--session",
            "s-1",
            "--task",
            "review",
            "--project",
            "api",
            "--provider",
            "anthropic",
            "--branch",
            "feat/x",
            "--commit",
            "abc123",
            "--tag",
            "pr=142",
            "--tag",
            "team=core",
            "--note",
            "looked at it",
            "--duration",
            "1.5s",
            "--ts",
            "2026-11-20T10:00:00Z",
            "--source",
            "manual",
            "--print",
        ])
        .succeeds();
    // 1000*5 + 2000*25 + 30000*0.5 + 4000*6.25 + 5000*10 = 5000+50000+15000+25000+50000 = 145000 → 0.145
    let want = r#"{"v":1,"id":"ID","ts":"2026-11-20T10:00:00.000Z","agent":"ci-review","model":"opus-4.5","provider":"anthropic","input_tokens":1000,"output_tokens":2000,"cache_read_tokens":30000,"cache_write_tokens":4000,"cache_write_1h_tokens":5000,"reasoning_tokens":500,"session":"s-1","task":"review","project":"api","branch":"feat/x","commit":"abc123","host":"HOST","user":"tester","duration_ms":1500,"notes":"looked at it","tags":{"pr":"142","team":"core"},"source":"manual","cost_usd":0.145,"price":"claude-opus-4-5"}"#;
    let rec = &sc.records()[0];
    let got = out
        .stdout
        .trim_end()
        .replace(rec["id"].as_str().unwrap(), "ID")
        .replace(&format!("\"host\":\"{}\"", rec["host"].as_str().unwrap()), "\"host\":\"HOST\"");
    assert_eq!(got, want);
    assert_eq!(sc.log(), format!("{}\n", out.stdout.trim_end()));
    assert_eq!(out.stderr, "logged 42,000 tokens (opus-4.5) for ci-review - $0.1450\n");
}

#[test]
fn environment_gives_defaults() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .env("TT_AGENT", "builder")
        .env("TT_MODEL", "haiku-4.5")
        .env("TT_SESSION", "sess-9")
        .env("TT_TASK", "compile")
        .env("TT_PROJECT", "rlm")
        .args(["--input", "1000", "--output", "100", "-q"])
        .succeeds()
        .stderr_is("");
    let r = &sc.records()[0];
    assert_eq!((r["agent"].as_str(), r["model"].as_str()), (Some("builder"), Some("haiku-4.5")));
    assert_eq!(
        (r["session"].as_str(), r["task"].as_str(), r["project"].as_str()),
        (Some("sess-9"), Some("compile"), Some("rlm"))
    );
    // 1000*1 + 100*5 = 1500 → 0.0015
    assert_eq!(r["cost_usd"].to_string(), "0.0015");
}

#[test]
fn dry_run_appends_nothing() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "2", "--dry-run"])
        .succeeds()
        .stdout_has("\"agent\":\"A\"")
        .stderr_has("would log 3 tokens");
    assert_eq!(sc.log(), "");
}

fn from(provider: &str, fixture_name: &str) -> (Out, serde_json::Value, Scenario) {
    let sc = Scenario::new();
    let body = std::fs::read(fixture(&format!("providers/{fixture_name}"))).unwrap();
    let out = sc.cmd("tt-log").args(["--from", provider, "--agent", "bot"]).pipe_in(body).succeeds();
    let r = sc.records().remove(0);
    (out, r, sc)
}

#[test]
fn from_anthropic_response_maps_cache_tiers() {
    let (out, r, _sc) = from("anthropic", "anthropic.json");
    assert_eq!(r["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(r["input_tokens"], 2095);
    assert_eq!(r["output_tokens"], 503);
    assert_eq!(r["cache_read_tokens"], 120000);
    assert_eq!(r["cache_write_tokens"], 1000);
    assert_eq!(r["cache_write_1h_tokens"], 2000);
    assert_eq!(r["source"], "anthropic");
    // 2095*3 + 503*15 + 120000*0.3 + 1000*3.75 + 2000*6 = 65580 → 0.06558
    assert_eq!(r["cost_usd"].to_string(), "0.06558");
    assert_eq!(out.stderr, "logged 125,598 tokens (claude-sonnet-4-5-20250929) for bot - $0.0656\n");
}

#[test]
fn from_claude_print_json_takes_the_model_from_model_usage() {
    let (_, r, _sc) = from("anthropic", "claude-print.json");
    assert_eq!(r["model"], "claude-opus-4-5-20251101");
    assert_eq!(r["cache_write_tokens"], 5512);
    // 4*5 + 412*25 + 13842*0.5 + 5512*6.25 = 51691 → 0.051691
    assert_eq!(r["cost_usd"].to_string(), "0.051691");
}

#[test]
fn from_bare_usage_object_with_model_flag() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a", "--model", "haiku-4.5"])
        .pipe_in(r#"{"input_tokens":100,"output_tokens":10}"#)
        .succeeds();
    assert_eq!(sc.records()[0]["cost_usd"].to_string(), "0.00015");
}

#[test]
fn from_openai_chat_subtracts_cached_tokens() {
    let (_, r, _sc) = from("openai", "openai-chat.json");
    assert_eq!((r["input_tokens"].as_u64(), r["cache_read_tokens"].as_u64()), (Some(6200), Some(12800)));
    assert_eq!(r["output_tokens"], 1000);
    assert!(r.get("reasoning_tokens").is_none());
    // 6200*2.5 + 12800*1.25 + 1000*10 = 41500 → 0.0415
    assert_eq!(r["cost_usd"].to_string(), "0.0415");
    assert_eq!(r["price"], "gpt-4o");
}

#[test]
fn from_openai_responses_keeps_reasoning_inside_output() {
    let (_, r, _sc) = from("openai", "openai-responses.json");
    assert_eq!((r["input_tokens"].as_u64(), r["cache_read_tokens"].as_u64()), (Some(4000), Some(32000)));
    assert_eq!((r["output_tokens"].as_u64(), r["reasoning_tokens"].as_u64()), (Some(4500), Some(4000)));
    // 4000*2 + 32000*0.5 + 4500*8 = 60000 → 0.06
    assert_eq!(r["cost_usd"].to_string(), "0.06");
}

#[test]
fn from_gemini_bills_thoughts_as_output_and_applies_long_context() {
    let (_, r, _sc) = from("gemini", "gemini.json");
    assert_eq!(r["model"], "gemini-2.5-pro");
    assert_eq!((r["input_tokens"].as_u64(), r["cache_read_tokens"].as_u64()), (Some(200000), Some(50000)));
    assert_eq!((r["output_tokens"].as_u64(), r["reasoning_tokens"].as_u64()), (Some(4000), Some(2000)));
    // prompt 250,000 > 200k: 200000*2.5 + 50000*0.25 + 4000*15 = 572500 → 0.5725
    assert_eq!(r["cost_usd"].to_string(), "0.5725");
    assert_eq!(r["price"], "gemini-2.5-pro:above_200k");
    assert_eq!(r["source"], "gemini");
}

#[test]
fn from_rejects_a_response_without_usage() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["--from", "openai", "--agent", "a"])
        .pipe_in(r#"{"id":"x","model":"gpt-4o"}"#)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("no openai usage object");
    sc.cmd("tt-log")
        .args(["--from", "gemini", "--agent", "a"])
        .pipe_in("{not json")
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("<stdin>:1: invalid JSON");
    assert_eq!(sc.log(), "");
}

#[test]
fn estimate_from_counts_about_four_chars_a_token() {
    let sc = Scenario::new();
    sc.write("prompt.txt", "x".repeat(4001));
    sc.cmd("tt-log")
        .args(["--agent", "a", "--model", "sonnet-4.5", "--estimate-from", "prompt.txt", "--output", "0"])
        .succeeds();
    let r = &sc.records()[0];
    assert_eq!(r["input_tokens"], 1001);
    assert_eq!(r["estimated"], true);
    assert_eq!(r["source"], "estimate");
    sc.cmd("tt-log")
        .args(["--agent", "a", "--model", "sonnet-4.5", "--estimate-from", "-"])
        .pipe_in("abcdefgh")
        .succeeds();
    assert_eq!(sc.records()[1]["input_tokens"], 2);
}

#[test]
fn git_branch_and_commit_come_from_the_repository() {
    let sc = Scenario::new();
    sc.write(".git/HEAD", "ref: refs/heads/feature/budget\n");
    sc.write(".git/refs/heads/feature/budget", "0123456789abcdef0123456789abcdef01234567\n");
    std::fs::create_dir_all(sc.path().join("sub/dir")).unwrap();
    sc.cmd("tt-log").current_dir(sc.path().join("sub/dir")).args(["a", "sonnet-4.5", "1", "1"]).succeeds();
    let r = &sc.records()[0];
    assert_eq!(r["branch"], "feature/budget");
    assert_eq!(r["commit"], "0123456789abcdef0123456789abcdef01234567");
    // packed refs
    let sc = Scenario::new();
    sc.write(".git/HEAD", "ref: refs/heads/main\n");
    sc.write(
        ".git/packed-refs",
        "# pack-refs with: peeled fully-peeled sorted\nfedcba9876543210fedcba9876543210fedcba98 refs/heads/main\n",
    );
    sc.cmd("tt-log").args(["a", "sonnet-4.5", "1", "1"]).succeeds();
    assert_eq!(sc.records()[0]["commit"], "fedcba9876543210fedcba9876543210fedcba98");
    sc.cmd("tt-log").args(["a", "sonnet-4.5", "1", "1", "--no-git"]).succeeds();
    assert!(sc.records()[1].get("branch").is_none());
}

#[test]
fn ts_accepts_dates_in_the_configured_time_zone() {
    let sc = Scenario::new();
    sc.write("tt.toml", "tz = \"Europe/Berlin\"\n");
    sc.cmd("tt-log").args(["a", "sonnet-4.5", "1", "1", "--ts", "2026-07-01 12:00"]).succeeds();
    assert_eq!(sc.records()[0]["ts"], "2026-07-01T10:00:00.000Z");
}

/// Each refusal: exit 2, one `tt-log: error:` line, the log byte-for-byte unchanged.
#[test]
fn bad_input_is_refused_and_the_log_is_unchanged() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "10", "10"]).succeeds();
    let before = std::fs::read(sc.log_path()).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["ATLAS", "sonnet-4.5", "-5000", "100"], "input tokens must be a non-negative integer, got \"-5000\""),
        (vec!["ATLAS", "sonnet-4.5", "100", "-1"], "output tokens must be a non-negative integer"),
        (
            vec!["ATLAS", "sonnet-4.5", "1000000000", "100"],
            "input tokens 1,000,000,000 exceed the maximum of 100,000,000",
        ),
        (vec!["ATLAS", "sonnet-4.5", "12.5", "100"], "must be a non-negative integer, got \"12.5\""),
        (vec!["ATLAS", "sonnet-4.5", "lots", "100"], "must be a non-negative integer"),
        (vec!["", "sonnet-4.5", "1", "1"], "agent must not be empty"),
        (vec!["   ", "sonnet-4.5", "1", "1"], "agent must not be empty"),
        (vec!["ATLAS", "", "1", "1"], "model must not be empty"),
        (vec!["AT\u{7}LAS", "sonnet-4.5", "1", "1"], "agent must not contain control characters"),
        (vec!["ATLAS", "sonnet-4.5", "1", "1", "--ts", "2025-13-01"], "not a valid time: \"2025-13-01\""),
        (vec!["ATLAS", "sonnet-4.5", "1", "1", "--ts", "2025-02-30T00:00:00Z"], "not a valid time"),
        (vec!["ATLAS", "mystery-model", "1", "1", "--strict"], "unknown model \"mystery-model\""),
        (vec!["ATLAS", "sonnet-4.5", "1", "1", "--tag", "novalue"], "--tag wants KEY=VALUE"),
        (vec!["ATLAS", "sonnet-4.5", "1", "1", "--duration", "soon"], "duration must be"),
        (
            vec!["ATLAS", "sonnet-4.5", "1", "10", "--reasoning", "11"],
            "reasoning tokens (11) cannot exceed output tokens (10)",
        ),
        (vec!["ATLAS", "sonnet-4.5"], "no token counts"),
        (vec!["ATLAS", "sonnet-4.5", "1", "1", "--agent", "OTHER"], "agent given twice"),
    ];
    let long = "x".repeat(201);
    let mut cases = cases;
    cases.push((vec![long.as_str(), "sonnet-4.5", "1", "1"], "agent is longer than 200 characters"));
    for (args, want) in cases {
        let out = sc.cmd("tt-log").args(&args).fails_with(2).one_error_line("tt-log");
        assert!(out.stderr.contains(want), "{args:?}: {} !~ {want}", out.stderr);
        assert_eq!(std::fs::read(sc.log_path()).unwrap(), before, "{args:?} changed the log");
    }
}

#[test]
fn sql_injection_strings_are_stored_verbatim_as_data() {
    let sc = Scenario::new();
    let evil = "Robert'); DROP TABLE usage;--";
    sc.cmd("tt-log").args([evil, "sonnet-4.5", "1", "1", "\"; rm -rf / #"]).succeeds();
    let r = &sc.records()[0];
    assert_eq!(r["agent"], evil);
    assert_eq!(r["notes"], "\"; rm -rf / #");
    assert_eq!(sc.log().lines().count(), 1);
}

#[test]
fn unknown_model_is_logged_unpriced_with_a_warning() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["A", "claude-quill-9", "100", "10"])
        .succeeds()
        .stderr_is("tt-log: warning: unknown model \"claude-quill-9\": logged unpriced (add it to the price table; tt-price --list shows it)\nlogged 110 tokens (claude-quill-9) for A - unpriced\n");
    let r = &sc.records()[0];
    assert!(r.get("cost_usd").is_none());
    assert!(r.get("price").is_none());
}

#[test]
fn max_tokens_is_configurable() {
    let sc = Scenario::new();
    sc.write("tt.toml", "max_tokens = 2_000_000_000\n");
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1000000000", "1"]).succeeds();
}

#[test]
fn malformed_config_names_file_line_and_key() {
    let sc = Scenario::new();
    let cfg = sc.write("bad.toml", "tz = \"UTC\"\n\n[models.my-model]\ninput = 3.0\noutput = \"lots\"\n");
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has(&format!("{}:5: key `models.my-model.output`", cfg.display()));
    let cfg = sc.write("bad2.toml", "[models.x]\ninput = -1.0\noutput = 1\n");
    sc.cmd("tt-log")
        .args(["A", "x", "1", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .stderr_has(":2: key `models.x.input`: must not be negative");
    let cfg = sc.write("bad3.toml", "tzz = \"UTC\"\n");
    sc.cmd("tt-log")
        .args(["A", "x", "1", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .stderr_has(":1: key `tzz`: unknown field `tzz`");
    sc.write("tt.toml", "week_start = \"someday\"\n");
    sc.cmd("tt-log")
        .args(["A", "x", "1", "1"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("tt.toml:1: key `week_start`: not a week day");
    assert_eq!(sc.log(), "");
}

#[test]
fn config_layers_later_wins() {
    let sc = Scenario::new();
    // user config < project tt.toml < TT_CONFIG < --config
    sc.write(".config/tt/config.toml", "[models.house]\ninput = 1\noutput = 1\n");
    sc.cmd("tt-log").args(["A", "house", "1000000", "0"]).succeeds().stderr_has("$1.0000");
    sc.write("proj/tt.toml", "[models.house]\ninput = 2\noutput = 2\n");
    std::fs::create_dir_all(sc.path().join("proj/deep")).unwrap();
    sc.cmd("tt-log")
        .current_dir(sc.path().join("proj/deep"))
        .args(["A", "house", "1000000", "0"])
        .succeeds()
        .stderr_has("$2.0000");
    let envcfg = sc.write("env.toml", "[models.house]\ninput = 3\noutput = 3\n");
    sc.cmd("tt-log")
        .current_dir(sc.path().join("proj"))
        .env("TT_CONFIG", &envcfg)
        .args(["A", "house", "1000000", "0"])
        .succeeds()
        .stderr_has("$3.0000");
    let flagcfg = sc.write("flag.toml", "[models.house]\ninput = 4\noutput = 4\n");
    sc.cmd("tt-log")
        .current_dir(sc.path().join("proj"))
        .env("TT_CONFIG", &envcfg)
        .args(["A", "house", "1000000", "0", "--config"])
        .arg(&flagcfg)
        .succeeds()
        .stderr_has("$4.0000");
}

#[test]
fn log_path_from_flag_env_and_config() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--log", "flag.jsonl"]).succeeds();
    assert_eq!(sc.read("flag.jsonl").lines().count(), 1);
    sc.write("tt.toml", "log = \"logs/project.jsonl\"\n");
    sc.cmd("tt-log").env_remove("TT_LOG").args(["A", "sonnet-4.5", "1", "1"]).succeeds();
    assert_eq!(sc.read("logs/project.jsonl").lines().count(), 1);
    std::fs::remove_file(sc.path().join("tt.toml")).unwrap();
    sc.cmd("tt-log").env_remove("TT_LOG").args(["A", "sonnet-4.5", "1", "1"]).succeeds();
    assert_eq!(sc.read(".local/share/tt/usage.jsonl").lines().count(), 1);
}

#[test]
fn dated_price_history_prices_at_the_records_time() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "[models.m]\ninput = 1\noutput = 2\n[[models.m.history]]\nuntil = 2026-01-01\ninput = 10\noutput = 20\n",
    );
    sc.cmd("tt-log").args(["A", "m", "1000000", "0", "--ts", "2025-12-31T23:59:59Z"]).succeeds().stderr_has("$10.00");
    sc.cmd("tt-log").args(["A", "m", "1000000", "0", "--ts", "2026-01-01T00:00:00Z"]).succeeds().stderr_has("$1.00");
}

#[test]
fn concurrent_appends_never_tear_or_lose_a_record() {
    let sc = Scenario::new();
    let children: Vec<_> = (0..32)
        .map(|i| {
            let mut c = sc
                .cmd("tt-log")
                .args([format!("agent-{i}"), "sonnet-4.5".into(), "100".into(), "10".into(), "n".repeat(2000)])
                .cmd;
            c.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .stdin(std::process::Stdio::null());
            c.spawn().unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let recs = sc.records();
    assert_eq!(recs.len(), 32);
    let mut agents: Vec<String> = recs.iter().map(|r| r["agent"].as_str().unwrap().to_string()).collect();
    agents.sort();
    agents.dedup();
    assert_eq!(agents.len(), 32);
    assert!(recs.iter().all(|r| r["notes"].as_str().unwrap().len() == 2000));
}

#[test]
fn a_torn_last_line_is_moved_aside_on_the_next_append_so_readers_work_again() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1"]).succeeds();
    let good = sc.log();
    // A crash mid-write left half a record without its newline: readers take it for a record still being
    // written and leave it out (issue 11 item 4; tests/hardening_readers.rs).
    std::fs::write(sc.log_path(), format!("{good}{{\"v\":1,\"id\":\"torn")).unwrap();
    assert_eq!(sc.cmd("tt-sum").args(["--format", "jsonl"]).succeeds().jsonl()[0]["records"], 1);
    let torn = sc.path().join("usage.jsonl.torn");
    sc.cmd("tt-log").args(["B", "sonnet-4.5", "1", "1"]).succeeds().stderr_has(&format!(
        "tt-log: warning: {}: the last line was torn (a crash mid-write?): moved its 17 bytes to {}\n",
        sc.log_path().display(),
        torn.display()
    ));
    let log = sc.log();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(format!("{}\n", lines[0]), good);
    assert!(lines[1].contains("\"agent\":\"B\""));
    assert!(log.ends_with('\n'));
    // Nothing is lost: the fragment is in the side file, after a line saying when and from where.
    let saved = std::fs::read_to_string(&torn).unwrap();
    let saved: Vec<&str> = saved.lines().collect();
    assert_eq!(saved.len(), 2);
    assert!(saved[0].starts_with("# ") && saved[0].contains("removed the last 17 bytes"), "{}", saved[0]);
    assert_eq!(saved[1], "{\"v\":1,\"id\":\"torn");
    // And the log reads again.
    let out = sc.cmd("tt-sum").args(["--format", "jsonl"]).succeeds();
    assert_eq!(out.jsonl()[0]["records"], 2);
}

#[test]
fn a_complete_last_record_without_its_newline_only_gets_the_newline() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1"]).succeeds();
    let good = sc.log();
    std::fs::write(sc.log_path(), good.trim_end()).unwrap();
    sc.cmd("tt-log")
        .args(["B", "sonnet-4.5", "1", "1"])
        .succeeds()
        .stderr_is("logged 2 tokens (sonnet-4.5) for B - $0.0000\n");
    let log = sc.log();
    assert!(log.starts_with(&good));
    assert_eq!(log.lines().count(), 2);
    assert!(!sc.path().join("usage.jsonl.torn").exists());
}

#[test]
fn a_file_that_is_not_a_log_is_not_cut() {
    let sc = Scenario::new();
    let junk = "x".repeat(2 << 20);
    sc.write("usage.jsonl", &junk);
    sc.cmd("tt-log")
        .args(["B", "sonnet-4.5", "1", "1"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("without a newline: not a tt log? (left as it is)");
    assert_eq!(sc.log(), junk);
}

#[test]
fn record_flags_are_refused_with_import() {
    let sc = Scenario::new();
    sc.write("other.jsonl", "");
    sc.cmd("tt-log")
        .args(["--import", "other.jsonl", "--input", "5"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("--input describes one logged record; it cannot be used with --import");
    sc.cmd("tt-log").args(["--import", "codex", "--tag", "a=b"]).fails_with(2).stderr_has("--tag describes");
    assert_eq!(sc.log(), "");
}

/// A panic must be exit 2 with one line in release builds too: the release profile must unwind.
#[test]
fn release_builds_unwind_so_a_panic_is_still_one_line_and_exit_2() {
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    for line in manifest.lines() {
        let l = line.split('#').next().unwrap().replace(' ', "");
        assert_ne!(l, "panic=\"abort\"", "a profile sets panic = \"abort\": panics would exit 134, not 2");
    }
}

/// Inputs that used to overflow a multiplication or an addition (a panic, or a wrong number in release).
#[test]
fn huge_values_are_errors_never_panics() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "1", "--duration", "79228162514264337593543950335h"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("duration \"79228162514264337593543950335h\" is too long");
    let cfg = sc.write("big.toml", "[models.m]\ninput = 1e28\noutput = 1\n");
    sc.cmd("tt-log")
        .args(["A", "m", "100000000", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has(":2: key `models.m.input`: too large: at most 1000000 USD per million tokens");
    // 1e30 does not fit a Decimal at all: still "too large", not "must be a finite number".
    let cfg = sc.write("bigger.toml", "[models.m]\ninput = 1\noutput = 1e30\n");
    sc.cmd("tt-log")
        .args(["A", "m", "1", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has(":3: key `models.m.output`: too large: at most 1000000");
    // max_tokens is bounded (10^12), so records' sums stay far inside readers' range …
    let cfg = sc.write("huge.toml", "max_tokens = 9223372036854775807\n");
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has(":1: key `max_tokens`: too large: at most 1,000,000,000,000");
    // … and the largest price accepted prices the largest counts exactly: tt-log up to the largest max_tokens …
    let cfg = sc.write("max.toml", "max_tokens = 1_000_000_000_000\n[models.m]\ninput = 1000000\noutput = 1000000\n");
    sc.cmd("tt-log").args(["A", "m", "1000000000000", "1000000000000", "--config"]).arg(&cfg).succeeds();
    assert_eq!(sc.records()[0]["cost_usd"].to_string(), "2000000000000");
    // … and tt-price any u64 a log line may hold, in every token field.
    let max = u64::MAX;
    let line = format!(
        "{{\"v\":1,\"id\":\"x\",\"ts\":\"2026-01-02T03:04:05Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":{max},\"output_tokens\":{max},\"cache_read_tokens\":{max},\"cache_write_tokens\":{max},\"cache_write_1h_tokens\":{max}}}\n"
    );
    let out = sc.cmd("tt-price").arg("--config").arg(&cfg).pipe_in(line).succeeds();
    assert_eq!(out.jsonl()[0]["cost_usd"].to_string(), "92233720368547758075");
}

#[test]
fn provider_counts_that_overflow_or_exceed_max_tokens_are_refused() {
    let sc = Scenario::new();
    for (provider, body, want) in [
        (
            "gemini",
            r#"{"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":18446744073709551615,"thoughtsTokenCount":2},"modelVersion":"gemini-2.5-flash"}"#,
            "<stdin>: usage: output + thought tokens overflows",
        ),
        (
            "gemini",
            r#"{"usageMetadata":{"promptTokenCount":18446744073709551615,"toolUsePromptTokenCount":1,"candidatesTokenCount":1}}"#,
            "<stdin>: usage: input + tool-use prompt tokens overflows",
        ),
        (
            "anthropic",
            r#"{"usage":{"input_tokens":1,"output_tokens":1,"cache_creation":{"ephemeral_5m_input_tokens":18446744073709551615,"ephemeral_1h_input_tokens":1}}}"#,
            "overflows",
        ),
        (
            "gemini",
            r#"{"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":100000000,"thoughtsTokenCount":2}}"#,
            "<stdin>: output tokens 100,000,002 exceed the maximum of 100,000,000",
        ),
    ] {
        let out = sc.cmd("tt-log").args(["--from", provider, "--agent", "a", "--model", "m"]).pipe_in(body).run();
        let out = out.code(2).one_error_line("tt-log");
        assert!(out.stderr.contains(want), "{body}: {}", out.stderr);
    }
    assert_eq!(sc.log(), "");
}

/// Every string field is validated like agent and model, and trimmed the same way.
#[test]
fn every_string_field_is_validated_and_trimmed() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "10", "10"]).succeeds();
    let before = std::fs::read(sc.log_path()).unwrap();
    let long = "c".repeat(5000);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--source", "a\u{1}b"], "source must not contain control characters"),
        (vec!["--source", ""], "source must not be empty"),
        (vec!["--source", "  "], "source must not be empty"),
        (vec!["--branch", "main\nfake"], "branch must not contain control characters"),
        (vec!["--commit", long.as_str()], "commit is longer than 200 characters"),
        (vec!["--provider", "open\tai"], "provider must not contain control characters"),
        (vec!["--session", "s\u{202e}1"], "session must not contain invisible format characters (U+202E)"),
        (vec!["--task", "\u{200b}"], "task must not contain invisible format characters (U+200B)"),
        (vec!["--project", "p\u{feff}"], "project must not contain invisible format characters (U+FEFF)"),
        (vec!["--tag", "k=v\u{2028}w"], "tag k must not contain invisible format characters (U+2028)"),
        (vec!["--tag", "k="], "tag k must not be empty"),
        (vec!["--tag", " =v"], "tag key must not be empty"),
        (vec!["--note", "a\u{1b}[31mred"], "note must not contain control or invisible format characters"),
    ];
    for (extra, want) in cases {
        let out = sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "1", "1"]).args(&extra).fails_with(2);
        let out = out.one_error_line("tt-log");
        assert!(out.stderr.contains(want), "{extra:?}: {} !~ {want}", out.stderr);
        assert_eq!(std::fs::read(sc.log_path()).unwrap(), before, "{extra:?} changed the log");
    }
    for name in ["AT\u{202e}LAS", "\u{200b}", "A\u{2066}B"] {
        sc.cmd("tt-log")
            .args([name, "sonnet-4.5", "1", "1"])
            .fails_with(2)
            .stderr_has("agent must not contain invisible");
    }
    assert_eq!(std::fs::read(sc.log_path()).unwrap(), before);
    // Leading and trailing whitespace is trimmed from every field; inner spaces and other scripts are kept.
    sc.cmd("tt-log")
        .args([" ATLAS ", " sonnet-4.5", "1", "1", "  a note \n"])
        .args(["--session", " s 1 ", "--task", "review\t", "--branch", " feat/x ", "--commit", " abc "])
        .args(["--tag", " team = Zürich ", "--source", " ci ", "--provider", " anthropic "])
        .succeeds();
    let r = sc.records().pop().unwrap();
    assert_eq!((r["agent"].as_str(), r["model"].as_str()), (Some("ATLAS"), Some("sonnet-4.5")));
    assert_eq!((r["session"].as_str(), r["task"].as_str()), (Some("s 1"), Some("review")));
    assert_eq!((r["branch"].as_str(), r["commit"].as_str()), (Some("feat/x"), Some("abc")));
    assert_eq!((r["notes"].as_str(), r["source"].as_str()), (Some("a note"), Some("ci")));
    assert_eq!((r["tags"]["team"].as_str(), r["provider"].as_str()), (Some("Zürich"), Some("anthropic")));
    // The readers refuse such names in a log too, with the same words.
    let line = r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A\u202eB","model":"m","input_tokens":1,"output_tokens":2}"#;
    sc.write("bad.jsonl", format!("{line}\n"));
    sc.cmd("tt-sum").arg("bad.jsonl").fails_with(2).stderr_has("bad.jsonl:1: agent must not contain invisible");
    sc.cmd("tt-price").arg("bad.jsonl").fails_with(2).stderr_has("bad.jsonl:1: agent must not contain invisible");
}

#[test]
fn from_anthropic_stream_merges_message_start_and_delta() {
    let (out, r, _sc) = from("anthropic", "anthropic-stream.json");
    assert_eq!(r["model"], "claude-haiku-4-5");
    assert_eq!((r["input_tokens"].as_u64(), r["cache_read_tokens"].as_u64()), (Some(1000), Some(5000)));
    assert_eq!(r["output_tokens"], 300);
    // 1000*1 + 5000*0.1 + 300*5 = 3000 → 0.003
    assert_eq!(r["cost_usd"].to_string(), "0.003");
    assert_eq!(out.stderr, "logged 6,300 tokens (claude-haiku-4-5) for bot - $0.0030\n");
    // A delta that carries newer input or cache counts wins over message_start.
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a"])
        .pipe_in(r#"[{"type":"message_start","message":{"model":"claude-haiku-4-5","usage":{"input_tokens":10,"output_tokens":1}}},{"type":"message_delta","usage":{"input_tokens":12,"cache_creation_input_tokens":40,"output_tokens":7}}]"#)
        .succeeds();
    let r = &sc.records()[0];
    assert_eq!((r["input_tokens"].as_u64(), r["output_tokens"].as_u64()), (Some(12), Some(7)));
    assert_eq!(r["cache_write_tokens"], 40);
}

#[test]
fn from_openai_responses_stream_reads_response_completed() {
    let (_, r, _sc) = from("openai", "openai-responses-stream.json");
    assert_eq!(r["model"], "gpt-5-2025-08-07");
    assert_eq!((r["input_tokens"].as_u64(), r["cache_read_tokens"].as_u64()), (Some(12000), Some(8000)));
    assert_eq!((r["output_tokens"].as_u64(), r["reasoning_tokens"].as_u64()), (Some(3000), Some(2000)));
    // 12000*1.25 + 8000*0.125 + 3000*10 = 46000 → 0.046
    assert_eq!(r["cost_usd"].to_string(), "0.046");
    // The completed event on its own, as a webhook or a script might keep it.
    let stream: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("providers/openai-responses-stream.json")).unwrap())
            .unwrap();
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["--from", "openai", "--agent", "a"]).pipe_in(stream[2].to_string()).succeeds();
    assert_eq!(sc.records()[0]["cost_usd"].to_string(), "0.046");
}

/// clap's errors stay one line but keep what matters.
#[test]
fn usage_errors_are_one_line_with_the_detail() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["--from", "foo"]).fails_with(2).one_error_line("tt-log").stderr_is(
        "tt-log: error: invalid value 'foo' for '--from <PROVIDER>' (possible values: anthropic, openai, gemini, bedrock, xai, openrouter, azure) (see tt-log --help)\n",
    );
    sc.cmd("tt-log")
        .args(["--inputt", "5"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("unexpected argument '--inputt' found (tip: a similar argument exists: '--input')");
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "1"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("3 values required for '--quote <MODEL> <INPUT> <OUTPUT>' but 2 were provided");
}

#[test]
fn json_errors_name_the_line_of_a_multi_line_response() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a"])
        .pipe_in("{\n  \"model\": \"claude-haiku-4-5\",\n  \"usage\": {\n    \"input_tokens\": 1,\n    \"output_tokens\": x\n  }\n}\n")
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_is("tt-log: error: <stdin>:5: invalid JSON: expected value (column 22)\n");
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("nothing on stdin: --from anthropic reads an API response");
    sc.cmd("tt-log")
        .args(["--from", "openai", "--agent", "a"])
        .pipe_in(" \n")
        .fails_with(2)
        .stderr_has("nothing on stdin");
    assert_eq!(sc.log(), "");
}

#[test]
fn config_errors_name_file_line_and_key() {
    let sc = Scenario::new();
    for (text, want) in [
        ("log = \"x\"\ntz = \"Mars/Base\"\n", ":2: key `tz`: unknown time zone \"Mars/Base\""),
        ("\nmax_tokens = 0\n", ":2: key `max_tokens`: must be positive"),
        ("[models.m]\ninput = 1\n", ":2: key `models.m`: missing `output` price"),
        ("[models.m]\n", ":1: key `models.m`: missing `input` price"),
        ("[models.m.above_200k]\ninput = 1\n", ":1: key `models.m`: missing `input` price"),
        (
            "[models.m]\ninput = 1\noutput = 2\nabove_200k = { input = 2 }\n",
            ":4: key `models.m.above_200k`: missing `output` price",
        ),
        (
            "[models.m]\ninput = 1\noutput = 2\n[[models.m.history]]\nfrom = 2026-02-01\nuntil = 2026-01-01\ninput = 1\noutput = 1\n",
            ":5: key `models.m.history`: #1: `from` (2026-02-01T00:00:00Z) must be before `until` (2026-01-01T00:00:00Z)",
        ),
        (
            "[models.m]\ninput = 1\noutput = 2\n[[models.m.history]]\nuntil = 2026-01-01\ninput = 1\noutput = 1\n[[models.m.history]]\nfrom = 2025-06-01\nuntil = 2025-07-01\ninput = 2\noutput = 2\n",
            ":9: key `models.m.history`: #2: overlaps history #1 (line 5): dated prices must not overlap",
        ),
        (
            "[models.m]\ninput = 1\noutput = 2\n[[models.m.history]]\ninput = 1\noutput = 1\n",
            ":5: key `models.m.history`: #1: needs `from` and/or `until`",
        ),
        ("[models.m]\ninput = 1\noutput = 2\naliases = [\"a\", \" \"]\n", ":4: key `models.m.aliases`: empty alias"),
        (
            "[[budget]]\nname = \"b\"\nperiod = \"month\"\n",
            ":2: key `budget` (#1): b: needs `limit_usd` and/or `limit_tokens`",
        ),
        (
            "[optimize]\n\nbudget_percentile = 0\n",
            ":3: key `optimize.budget_percentile`: must be between 1 and 100, got 0",
        ),
    ] {
        let cfg = sc.write("c.toml", text);
        let out = sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--config"]).arg(&cfg).fails_with(2);
        let out = out.one_error_line("tt-log");
        assert!(out.stderr.contains(&format!("{}{want}", cfg.display())), "{text}: {} !~ {want}", out.stderr);
    }
    // An alias claimed by two models names both places.
    let a = sc.write("a.toml", "[models.one]\ninput = 1\noutput = 1\naliases = [\"x\"]\n");
    let b = sc.write("b.toml", "# another layer\n[models.two]\ninput = 1\noutput = 1\naliases = [\"y\",\n  \"X\"]\n");
    sc.cmd("tt-log")
        .env("TT_CONFIG", &a)
        .args(["A", "sonnet-4.5", "1", "1", "--config"])
        .arg(&b)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has(&format!(
            "{}:6: key `models.two.aliases`: alias `x` is already claimed by `one` ({}:4)",
            b.display(),
            a.display()
        ));
    assert_eq!(sc.log(), "");
}

#[test]
fn token_counts_take_digits_or_proper_thousands_groups_only() {
    let sc = Scenario::new();
    for ok in ["1000", "1,000", "1_000", "1_000_000", "12,345,678"] {
        sc.cmd("tt-log").args(["A", "sonnet-4.5", ok, "0", "-q"]).succeeds();
    }
    let got: Vec<u64> = sc.records().iter().map(|r| r["input_tokens"].as_u64().unwrap()).collect();
    assert_eq!(got, [1000, 1000, 1000, 1_000_000, 12_345_678]);
    let before = sc.log();
    for bad in ["12,5", "1,0,0", "1__0", "_1", "1_", " 5", "5 ", "1,000_000", "1234,567", "+5", "0x10", "1e3", "١٢"] {
        let out = sc.cmd("tt-log").args(["A", "sonnet-4.5", bad, "0"]).fails_with(2).one_error_line("tt-log");
        assert!(out.stderr.contains("input tokens must be a non-negative integer"), "{bad:?}: {}", out.stderr);
    }
    sc.cmd("tt-price").args(["--quote", "sonnet-4.5", "1,0,0", "1"]).fails_with(2).one_error_line("tt-price");
    assert_eq!(sc.log(), before);
}

#[test]
fn user_falls_back_to_the_password_database() {
    let sc = Scenario::new();
    // A uid without a name in the password database (a container run with `--user 1234`) gives no user.
    let me = std::process::Command::new("id").arg("-un").output().unwrap();
    let me = me.status.success().then(|| String::from_utf8(me.stdout).unwrap().trim().to_string());
    sc.cmd("tt-log").env_remove("USER").env_remove("LOGNAME").args(["A", "sonnet-4.5", "1", "1"]).succeeds();
    assert_eq!(sc.records()[0]["user"].as_str(), me.as_deref());
    sc.cmd("tt-log").env_remove("USER").env("LOGNAME", "lg").args(["A", "sonnet-4.5", "1", "1"]).succeeds();
    assert_eq!(sc.records()[1]["user"], "lg");
}

#[test]
fn estimates_decode_stdin_and_files_alike_and_refuse_a_contradicting_input() {
    let sc = Scenario::new();
    let bytes = b"abc\xff\xfeefgh".to_vec();
    sc.write("p.bin", &bytes);
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "--estimate-from", "p.bin", "--output", "0"]).succeeds();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "--estimate-from", "-", "--output", "0"]).pipe_in(&bytes).succeeds();
    let r = sc.records();
    assert_eq!((r[0]["input_tokens"].as_u64(), r[1]["input_tokens"].as_u64()), (Some(3), Some(3)));
    let before = sc.log();
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "--estimate-from", "p.bin", "--input", "5"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("--input contradicts --estimate-from");
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "5", "1", "--estimate-from", "p.bin"])
        .fails_with(2)
        .stderr_has("INPUT / --input contradicts --estimate-from");
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a", "--output", "5"])
        .pipe_in(r#"{"input_tokens":1,"output_tokens":1}"#)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("OUTPUT / --output contradicts --from");
    assert_eq!(sc.log(), before);
}

#[test]
fn ts_takes_the_forms_tt_sum_since_takes_and_refuses_implausible_years() {
    let sc = Scenario::new();
    sc.write("tt.toml", "tz = \"America/New_York\"\n");
    // 02:30 does not exist on 2026-03-08 in New York: the first time that does (03:00 EDT = 07:00Z).
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--ts", "2026-03-08T02:30"]).succeeds();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--ts", "2026-03-09"]).succeeds();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--ts", "2026-03-09 08:15:30"]).succeeds();
    let ts: Vec<String> = sc.records().iter().map(|r| r["ts"].as_str().unwrap().to_string()).collect();
    assert_eq!(ts, ["2026-03-08T07:00:00.000Z", "2026-03-09T04:00:00.000Z", "2026-03-09T12:15:30.000Z"]);
    for old in ["0001-01-01", "1900-01-01T00:00:00Z", "1999-12-31 12:00"] {
        sc.cmd("tt-log")
            .args(["A", "sonnet-4.5", "1", "1", "--ts", old])
            .fails_with(2)
            .one_error_line("tt-log")
            .stderr_has("is before 2000");
    }
    assert_eq!(sc.log().lines().count(), 3);
}

#[test]
fn print_failing_after_the_append_says_the_record_was_logged() {
    let sc = Scenario::new();
    let full = std::fs::File::create("/dev/full").unwrap();
    let mut c = sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--print"]).cmd;
    let o = c.stdout(full).stderr(std::process::Stdio::piped()).stdin(std::process::Stdio::null()).output().unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "{err}");
    let id = sc.records()[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        err,
        format!(
            "tt-log: error: the record was logged (id {id}), but --print could not write it: No space left on device\n"
        )
    );
}

#[test]
fn print_into_a_closed_pipe_is_quiet_and_the_record_is_logged() {
    let sc = Scenario::new();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut c = sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--print"]).cmd;
    let o = c.stdout(writer).stderr(std::process::Stdio::piped()).stdin(std::process::Stdio::null()).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8(o.stderr).unwrap(), "logged 2 tokens (sonnet-4.5) for A - $0.0000\n");
    assert_eq!(sc.records().len(), 1);
}

#[test]
fn control_characters_in_a_path_are_escaped_so_errors_stay_one_line() {
    let sc = Scenario::new();
    sc.write("blocker", "a file, not a directory");
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "1", "--log", "blocker/evil\nname/usage.jsonl"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("blocker/evil\\nname");
    sc.cmd("tt-price")
        .arg("no\rsuch\u{1b}[2J.jsonl")
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("no\\rsuch\\u{1b}[2J.jsonl");
}

#[test]
fn flags_win_over_the_environment() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .env("TT_AGENT", "env-agent")
        .env("TT_MODEL", "haiku-4.5")
        .env("TT_SESSION", "env-s")
        .env("TT_TASK", "env-t")
        .env("TT_PROJECT", "env-p")
        .args(["--agent", "flag-agent", "--model", "sonnet-4.5", "--session", "flag-s", "--task", "flag-t"])
        .args(["--project", "flag-p", "--input", "1", "--output", "1", "--log", "flag.jsonl"])
        .succeeds();
    // --log beats TT_LOG.
    assert_eq!(sc.log(), "");
    let r: serde_json::Value = serde_json::from_str(sc.read("flag.jsonl").trim()).unwrap();
    assert_eq!((r["agent"].as_str(), r["model"].as_str()), (Some("flag-agent"), Some("sonnet-4.5")));
    assert_eq!(
        (r["session"].as_str(), r["task"].as_str(), r["project"].as_str()),
        (Some("flag-s"), Some("flag-t"), Some("flag-p"))
    );
    // The positional seed form beats the environment as well.
    sc.cmd("tt-log")
        .env("TT_AGENT", "env-agent")
        .env("TT_MODEL", "haiku-4.5")
        .args(["POS", "opus-4.5", "1", "1"])
        .succeeds();
    let r = &sc.records()[0];
    assert_eq!((r["agent"].as_str(), r["model"].as_str()), (Some("POS"), Some("opus-4.5")));
}

#[test]
fn durations_take_ms_s_m_and_h() {
    let sc = Scenario::new();
    for d in ["250", "250ms", "1.5s", "2m", "0.25h", "0"] {
        sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--duration", d]).succeeds();
    }
    let ms: Vec<u64> = sc.records().iter().map(|r| r["duration_ms"].as_u64().unwrap()).collect();
    assert_eq!(ms, [250, 250, 1500, 120_000, 900_000, 0]);
    for bad in ["-1s", "1d", "s", "1.5.2s"] {
        sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--duration", bad]).fails_with(2).one_error_line("tt-log");
    }
}

/// tt never writes colour, on a terminal or not, so NO_COLOR always holds.
#[test]
fn output_is_never_coloured_even_on_a_terminal() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1"]).succeeds();
    // `script` gives the tools a terminal for stdout (skipped where util-linux's script is missing).
    if std::process::Command::new("script").arg("--version").output().is_err() {
        return;
    }
    for cmd in [
        "tt-log B sonnet-4.5 1 1",
        "tt-price --list",
        "tt-price --quote sonnet-4.5 1 1",
        "tt-sum",
        "tt-log --nope",
        "tt-log --help",
        "tt-price --help",
    ] {
        let out = sc
            .bash(&format!("script -qec '{cmd}' /dev/null"))
            .env_remove("NO_COLOR")
            .env("TERM", "xterm-256color")
            .run();
        assert!(!out.stdout.contains('\u{1b}') && !out.stderr.contains('\u{1b}'), "{cmd}: {:?}", out.stdout);
    }
}

/// `ts` must be a time every reader takes: RFC 3339 has four-digit years, and a leap second is not a real time.
#[test]
fn ts_beyond_the_year_9999_in_utc_or_on_a_leap_second_is_refused() {
    let sc = Scenario::new();
    for args in [
        vec!["--ts", "9999-12-31T23:59:59-23:59"],
        vec!["--ts", "2026-11-23T14:05:60Z"],
        vec!["--ts", "2026-11-23 14:05:60"],
        vec!["--ts", "+10000-01-01T00:00:00Z"],
    ] {
        sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1"]).args(&args).fails_with(2).one_error_line("tt-log");
    }
    sc.write("tt.toml", "tz = \"Pacific/Honolulu\"\n");
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "1", "--ts", "9999-12-31 23:00"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("after the year 9999");
    assert_eq!(sc.log(), "");
    // The last representable second is fine, and every reader takes it.
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--ts", "9999-12-31T23:59:59Z"]).succeeds();
    assert_eq!(sc.records()[0]["ts"], "9999-12-31T23:59:59.000Z");
    sc.cmd("tt-sum").succeeds();
    sc.cmd("tt-price").succeeds();
}

/// Every dated price has its own label, including a history entry that only has `until` (the README's example).
#[test]
fn dated_prices_are_labelled_by_version_even_without_from() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "[models.claude-sonnet-4-5]\nprovider = \"anthropic\"\ninput = 3.0\noutput = 15.0\n\
         aliases = [\"sonnet-4.5\", \"claude-sonnet-4-5-20250929\"]\n\
         [[models.claude-sonnet-4-5.history]]\nuntil = 2025-10-01\ninput = 3.5\noutput = 16.0\n\
         [[models.claude-sonnet-4-5.history]]\nfrom = 2025-10-01\nuntil = 2025-11-01T12:00:00Z\ninput = 3.25\noutput = 15.5\n",
    );
    sc.cmd("tt-log")
        .args(["ATLAS", "claude-sonnet-4-5-20250929", "50000", "15000", "--ts", "2025-09-01"])
        .succeeds()
        .stderr_has("$0.4150");
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "50000", "15000", "--ts", "2025-10-15"]).succeeds();
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "50000", "15000", "--ts", "2025-11-02"]).succeeds();
    let labels: Vec<String> = sc.records().iter().map(|r| r["price"].as_str().unwrap().to_string()).collect();
    assert_eq!(labels, ["claude-sonnet-4-5@until-2025-10-01", "claude-sonnet-4-5@2025-10-01", "claude-sonnet-4-5"]);
    assert_eq!(sc.records()[0]["cost_usd"].to_string(), "0.415");
}

/// Names the config gives (providers, model names, aliases) follow the rules of record names, with file:line:key.
#[test]
fn config_names_are_validated_like_record_names() {
    let sc = Scenario::new();
    for (text, want) in [
        (
            "[models.m]\ninput = 1\noutput = 1\nprovider = \"\"\n",
            ":4: key `models.m.provider`: provider must not be empty",
        ),
        (
            "[models.m]\ninput = 1\noutput = 1\nprovider = \"a\\tb\"\n",
            ":4: key `models.m.provider`: provider must not contain control characters",
        ),
        (
            "[models.m]\ninput = 1\noutput = 1\nprovider = \" anthropic\"\n",
            ":4: key `models.m.provider`: provider must not start or end with whitespace",
        ),
        ("[models.\"\"]\ninput = 1\noutput = 1\n", ":2: key `models.`: model name must not be empty"),
        (
            "\n[models.\"weird\\nname\"]\ninput = 1\noutput = 1\n",
            ":3: key `models.weird\\nname`: model name must not contain control characters",
        ),
        (
            "[models.m]\ninput = 1\noutput = 1\naliases = [\"a\\u202eb\"]\n",
            ":4: key `models.m.aliases`: alias must not contain invisible format characters (U+202E)",
        ),
        (
            "[models.m]\ninput = 1\noutput = 1\naliases = [\"a\\u0000\"]\n",
            ":4: key `models.m.aliases`: alias must not contain control characters",
        ),
    ] {
        let cfg = sc.write("c.toml", text);
        let out =
            sc.cmd("tt-log").args(["A", "m", "1", "1", "--config"]).arg(&cfg).fails_with(2).one_error_line("tt-log");
        assert!(out.stderr.contains(&format!("{}{want}", cfg.display())), "{text}: {} !~ {want}", out.stderr);
    }
    let long = format!("[models.{}]\ninput = 1\noutput = 1\n", "m".repeat(201));
    let cfg = sc.write("c.toml", long);
    sc.cmd("tt-price").args(["--list", "--config"]).arg(&cfg).fails_with(2).stderr_has("longer than 200 characters");
    assert_eq!(sc.log(), "");
}

/// Config entries never silently shadow each other: a model named like another model's alias, or two spellings of
/// one name in a file, are errors naming both places; an override without `aliases` keeps the earlier ones.
#[test]
fn config_entries_never_shadow_each_other_silently() {
    let sc = Scenario::new();
    let prices = std::fs::read_to_string(repo_root().join("config/prices.toml")).unwrap();
    let line_of = |needle: &str| prices[..prices.find(needle).unwrap()].matches('\n').count() + 1;
    let sonnet = line_of("aliases = [\"sonnet-4.5\"");
    let cfg = sc.write("tt.toml", "# prices\n[models.\"sonnet-4.5\"]\ninput = 9\noutput = 9\n");
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "1", "1"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has(&format!(
            "{}:3: key `models.sonnet-4.5`: `sonnet-4.5` is already an alias of `claude-sonnet-4-5` (builtin:prices.toml:{sonnet})",
            cfg.display()
        ));
    // An alias that is another model's name, the other way round.
    let opus = line_of("[models.claude-opus-4-5]") + 1;
    sc.write("tt.toml", "[models.mine]\ninput = 1\noutput = 1\naliases = [\"claude-opus-4-5\"]\n");
    sc.cmd("tt-log").args(["A", "mine", "1", "1"]).fails_with(2).one_error_line("tt-log").stderr_has(&format!(
        "{}:4: key `models.mine.aliases`: alias `claude-opus-4-5` is already the name of the model `claude-opus-4-5` \
             (builtin:prices.toml:{opus})",
        cfg.display()
    ));
    // Names ignore case: two spellings in one file are one model written twice.
    sc.write("tt.toml", "[models.M]\ninput = 1\noutput = 1\n\n[models.m]\ninput = 2\noutput = 2\n");
    sc.cmd("tt-log").args(["A", "m", "1", "1"]).fails_with(2).one_error_line("tt-log").stderr_has(&format!(
        "{}:6: key `models.m`: the same model as `models.M` (line 2): model names ignore case",
        cfg.display()
    ));
    assert_eq!(sc.log(), "");
    // An override without `aliases` keeps the built-in ones, so the seed's names still work…
    sc.write("tt.toml", "[models.claude-sonnet-4-5]\nprovider = \"anthropic\"\ninput = 6\noutput = 30\n");
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "50000", "15000"]).succeeds().stderr_has("$0.7500");
    sc.cmd("tt-price")
        .args(["--quote", "claude-sonnet-4.5", "1000000", "0", "--format", "value"])
        .succeeds()
        .stdout_is("6\n");
    // … `unset = ["aliases"]` drops them (a layer's aliases add to the earlier ones, so `aliases = []` is refused).
    sc.write("tt.toml", "[models.claude-sonnet-4-5]\ninput = 6\noutput = 30\nunset = [\"aliases\"]\n");
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "1", "1", "--strict"]).fails_with(2).stderr_has("unknown model");
    sc.write("tt.toml", "[models.claude-sonnet-4-5]\ninput = 6\noutput = 30\naliases = []\n");
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "1", "1"]).fails_with(2).one_error_line("tt-log").stderr_has(
        &format!("{}:1: key `models.claude-sonnet-4-5.aliases`: `aliases = []` adds no alias", cfg.display()),
    );
    assert_eq!(sc.records().len(), 1);
}

/// With --from, the response says which model ran: it wins over TT_MODEL, and an explicit --model must agree.
#[test]
fn from_the_responses_model_wins_and_a_contradicting_model_is_refused() {
    let sc = Scenario::new();
    let body = r#"{"model":"claude-sonnet-4-5","usage":{"input_tokens":1000,"output_tokens":100}}"#;
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a", "--model", "opus-4.5"])
        .pipe_in(body)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("--model opus-4.5 contradicts the response's model claude-sonnet-4-5");
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a", "--model", "claude-quill-9"])
        .pipe_in(body)
        .fails_with(2)
        .stderr_has("contradicts the response's model");
    assert_eq!(sc.log(), "");
    // Another spelling of the same price entry agrees (and is kept); TT_MODEL is only a default.
    sc.cmd("tt-log").args(["--from", "anthropic", "--agent", "a", "--model", "sonnet-4.5"]).pipe_in(body).succeeds();
    sc.cmd("tt-log").args(["--from", "anthropic", "--agent", "a"]).env("TT_MODEL", "opus-4.5").pipe_in(body).succeeds();
    let recs = sc.records();
    let models: Vec<&str> = recs.iter().map(|r| r["model"].as_str().unwrap()).collect();
    assert_eq!(models, ["sonnet-4.5", "claude-sonnet-4-5"]);
    assert!(
        recs.iter()
            .all(|r| r["price"] == "claude-sonnet-4-5" && matches!(r["cost_usd"].to_string().as_str(), "0.0045"))
    );
}

/// Merging tt logs and bundles takes records as they are: flags that would change or check them are refused.
#[test]
fn import_of_logs_refuses_flags_it_would_ignore() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["A", "claude-quill-9", "1", "1", "--log", "other.jsonl"]).succeeds();
    for flag in [&["--strict"][..], &["--no-git"], &["--agent", "X"]] {
        let out = sc.cmd("tt-log").args(["--import", "other.jsonl"]).args(flag).fails_with(2).one_error_line("tt-log");
        assert!(
            out.stderr.contains(&format!("{} does not apply to --import of tt logs and bundles", flag[0])),
            "{}",
            out.stderr
        );
    }
    assert!(!sc.log_path().exists());
    sc.cmd("tt-log").args(["--import", "other.jsonl"]).succeeds();
    assert_eq!(sc.records()[0]["agent"], "A");
}

#[test]
fn odd_input_gets_a_clear_one_line_refusal() {
    let sc = Scenario::new();
    for (args, stdin, want) in [
        (&["A", "sonnet-4.5", "100"][..], None, "no OUTPUT: the seed form is AGENT MODEL INPUT OUTPUT"),
        (&["A", "sonnet-4.5", "1", "1", "--duration", "-1s"], None, "duration must be milliseconds"),
        (&["A", "sonnet-4.5", "1", "1", "--tag", "k=1", "--tag", "k=2"], None, "--tag k given twice"),
        (&["--agent", "a", "--model", "sonnet-4.5", "--estimate-from", ""], None, "--estimate-from needs a file name"),
        (&["--from", "anthropic", "--agent", "a", "--model", "m"], Some(&b"{\"usage\":{}}"[..]), "no token counts in the usage object"),
        (
            &["--from", "gemini", "--agent", "a", "--model", "gemini-2.5-pro"],
            Some(b"{\"usageMetadata\":{\"totalTokenCount\":100}}"),
            "no token counts in the usage object (only `totalTokenCount`",
        ),
        (
            &["--from", "openai", "--agent", "a", "--model", "o3"],
            Some(b"{\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"completion_tokens_details\":{\"reasoning_tokens\":6}}}"),
            "reasoning tokens (6) exceed output tokens (5)",
        ),
        (&["--from", "anthropic", "--agent", "a", "--model", "m"], Some(b"{\n\"usage\": \xff}"), "<stdin>:2: invalid UTF-8"),
    ] {
        let mut run = sc.cmd("tt-log").args(args);
        if let Some(s) = stdin {
            run = run.pipe_in(s);
        }
        let out = run.fails_with(2).one_error_line("tt-log");
        assert!(out.stderr.contains(want), "{args:?}: {} !~ {want}", out.stderr);
        assert!(!out.stderr.contains("tip:"), "{}", out.stderr);
    }
    assert_eq!(sc.log(), "");
    // `--tag k=1 --tag j=1`, OUTPUT by flag, and a BOM before the JSON are all fine.
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "100", "--output", "0", "--tag", "k=1", "--tag", "j=1"]).succeeds();
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a"])
        .pipe_in("\u{feff}{\"model\":\"haiku-4.5\",\"usage\":{\"input_tokens\":1000,\"output_tokens\":0}}")
        .succeeds()
        .stderr_has("$0.0010");
    assert_eq!(sc.records().len(), 2);
}

#[test]
fn config_and_log_path_mistakes_are_named() {
    let sc = Scenario::new();
    let cfg = sc.write("c.toml", "tz = \"UTC\"\nlog = \"\"\n");
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has(&format!("{}:2: key `log`: must not be empty", cfg.display()));
    let cfg = sc.write("c.toml", b"tz = \"UTC\"\n# caf\xe9\n");
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "1", "--config"])
        .arg(&cfg)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has(&format!("{}:2: invalid UTF-8 at byte 16", cfg.display()));
    sc.write("notes.txt", "x");
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "1", "--log", "notes.txt/sub/usage.jsonl"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("notes.txt/sub/usage.jsonl: cannot create the log: notes.txt is a file, not a directory");
    assert_eq!(sc.read("notes.txt"), "x");
}

/// Readers take optional strings tt-log would refuse (other writers made the log); tables and markdown show them
/// escaped, so a session id can neither break a row nor send escape codes to the terminal.
#[test]
fn strings_read_from_a_log_are_escaped_in_tables() {
    let sc = Scenario::new();
    sc.write(
        "odd.jsonl",
        "{\"v\":1,\"id\":\"a\",\"ts\":\"2026-01-02T03:04:05Z\",\"agent\":\"A\",\"model\":\"sonnet-4.5\",\"input_tokens\":1,\"output_tokens\":1,\"session\":\"x\\ny\\u001b[31m\\u202e\"}\n",
    );
    for fmt in ["table", "markdown"] {
        let out = sc.cmd("tt-sum").args(["--by", "session", "--format", fmt, "odd.jsonl"]).succeeds();
        assert!(!out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{202e}'), "{fmt}: {:?}", out.stdout);
        // Markdown shows the same text: the escapes' backslashes and the `[` escaped in turn (one escaper).
        let shown = if fmt == "markdown" { "x\\\\ny\\\\u{1b}\\[31m\\\\u{202e}" } else { "x\\ny\\u{1b}[31m\\u{202e}" };
        assert!(out.stdout.contains(shown), "{fmt}: {}", out.stdout);
        let rows = out.stdout.lines().filter(|l| l.contains("31m")).count();
        assert_eq!(rows, 1, "{fmt}: the value stays on one line:\n{}", out.stdout);
    }
}

/// Version numbers resolve spelled with a dot or a dash, and Bedrock cross-region ids resolve to their model.
#[test]
fn dashed_versions_and_bedrock_cross_region_ids_are_priced() {
    let sc = Scenario::new();
    for (model, price) in [
        ("sonnet-4-5", "claude-sonnet-4-5"),
        ("opus-4-5", "claude-opus-4-5"),
        ("haiku-4-5", "claude-haiku-4-5"),
        ("gpt-4-1", "gpt-4.1"),
        ("gemini-2-5-pro", "gemini-2.5-pro"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("apac.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
    ] {
        let out = sc.cmd("tt-log").args(["A", model, "1000", "100", "--strict", "--print"]).succeeds();
        let r: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
        assert_eq!(r["price"], price, "{model}");
        assert_eq!(r["model"], model, "the record keeps the spelling it was given");
    }
    sc.cmd("tt-price")
        .args(["--quote", "gpt-4-1-mini", "1000000", "0", "--format", "value"])
        .succeeds()
        .stdout_is("0.4\n");
}

/// A captured stream as `curl -N` prints it — server-sent events, `data: [DONE]` included — is read like the
/// array of its events: Anthropic's input and cache counts from message_start, output from the last delta;
/// OpenAI Responses' usage from response.completed.
#[test]
fn from_reads_server_sent_event_captures() {
    let (_, r, _sc) = from("anthropic", "anthropic-stream.sse");
    assert_eq!(r["model"], "claude-haiku-4-5");
    assert_eq!((r["input_tokens"].as_u64(), r["cache_read_tokens"].as_u64()), (Some(1000), Some(5000)));
    assert_eq!(r["output_tokens"], 300);
    // haiku 4.5: 1000×1 + 5000×0.1 + 300×5 = 3,000 → $0.003
    assert_eq!(r["cost_usd"].to_string(), "0.003");
    let (_, r, _sc) = from("openai", "openai-responses-stream.sse");
    assert_eq!(r["model"], "gpt-4o");
    // 100 input of which 20 cached: 80 uncached; 80×2.5 + 20×1.25 + 10×10 = 325 → $0.000325
    assert_eq!((r["input_tokens"].as_u64(), r["cache_read_tokens"].as_u64()), (Some(80), Some(20)));
    assert_eq!(r["cost_usd"].to_string(), "0.000325");
    // A stream with a broken event names its line; text that is neither JSON nor a stream is a JSON error.
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["--from", "openai", "--agent", "b"])
        .pipe_in("data: {\"a\":1}\ndata: {broken\n")
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("<stdin>:2: invalid JSON in a stream event");
    sc.cmd("tt-log")
        .args(["--from", "openai", "--agent", "b"])
        .pipe_in("hello\n")
        .fails_with(2)
        .stderr_has("<stdin>:1: invalid JSON");
    assert_eq!(sc.log(), "");
}

/// An estimate of nothing is refused like `--from` with nothing on stdin: no zero-token record.
#[test]
fn estimate_from_empty_text_is_refused() {
    let sc = Scenario::new();
    sc.write("empty.md", "  \n");
    for (arg, input) in [("-", Some("")), ("empty.md", None)] {
        let mut c = sc.cmd("tt-log").args(["--agent", "d", "--model", "haiku-4.5", "--estimate-from", arg]);
        if let Some(i) = input {
            c = c.pipe_in(i);
        }
        c.fails_with(2).one_error_line("tt-log").stderr_has("nothing to estimate");
    }
    assert!(!sc.log_path().exists() || sc.log().is_empty());
}

/// A `claude -p` result naming several models in `modelUsage` does not say which one its usage is: tt asks
/// for the model instead of guessing, and takes it from MODEL / --model / TT_MODEL.
#[test]
fn a_result_naming_several_models_asks_which_one() {
    let sc = Scenario::new();
    let doc = r#"{"type":"result","usage":{"input_tokens":10,"output_tokens":5},"modelUsage":{"claude-sonnet-4-5-20250929":{"inputTokens":10},"claude-haiku-4-5-20251001":{"inputTokens":3}}}"#;
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a"])
        .pipe_in(doc)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("names 2 models in modelUsage (claude-sonnet-4-5-20250929, claude-haiku-4-5-20251001)");
    assert!(!sc.log_path().exists() || sc.log().is_empty());
    sc.cmd("tt-log")
        .args(["--from", "anthropic", "--agent", "a"])
        .env("TT_MODEL", "sonnet-4.5")
        .pipe_in(doc)
        .succeeds();
    assert_eq!(sc.records()[0]["model"], "sonnet-4.5");
}

/// A pull request's CI checks out a detached HEAD (GitHub Actions: the merge commit): the branch comes from the
/// CI's variables then. TT_BRANCH, the user's word, beats git and CI; --branch beats TT_BRANCH.
#[test]
fn a_detached_head_logs_the_branch_ci_names() {
    let sc = Scenario::new();
    let git = |args: &str| {
        let out = sc
            .bash(&format!("git -c user.name=t -c user.email=t@example.invalid -c init.defaultBranch=trunk {args}"))
            .succeeds();
        out.stdout.trim().to_string()
    };
    git("init -q");
    git("commit -q --allow-empty -m first");
    git("checkout -q --detach");
    let commit = git("rev-parse HEAD");
    let logged = |args: &[&str], env: &[(&str, &str)]| -> serde_json::Value {
        let mut c = sc.cmd("tt-log").args(["a", "sonnet-4.5", "1", "1", "-q"]).args(args);
        for (k, v) in env {
            c = c.env(k, v);
        }
        c.succeeds();
        sc.records().pop().unwrap()
    };
    // Detached, no CI: the commit and no branch.
    let r = logged(&[], &[]);
    assert_eq!((r.get("branch"), r["commit"].as_str()), (None, Some(commit.as_str())));
    for var in ["GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "TT_BRANCH"] {
        let r = logged(&[], &[(var, "feature/gate")]);
        assert_eq!(
            (r["branch"].as_str(), r["commit"].as_str()),
            (Some("feature/gate"), Some(commit.as_str())),
            "{var}"
        );
    }
    // A pull request: GITHUB_HEAD_REF is its branch (GITHUB_REF_NAME is `142/merge`); a push leaves it empty.
    let ci = [("GITHUB_HEAD_REF", "pr-branch"), ("GITHUB_REF_NAME", "142/merge"), ("CI_COMMIT_REF_NAME", "gl")];
    assert_eq!(logged(&[], &ci)["branch"], "pr-branch");
    let push = [("GITHUB_HEAD_REF", ""), ("GITHUB_REF_NAME", "main"), ("CI_COMMIT_REF_NAME", "gl")];
    assert_eq!(logged(&[], &push)["branch"], "main");
    assert_eq!(logged(&[], &[("GITHUB_REF_NAME", ""), ("CI_COMMIT_REF_NAME", "gl")])["branch"], "gl");
    let with_tt = [ci[0], ci[1], ci[2], ("TT_BRANCH", "mine")];
    assert_eq!(logged(&[], &with_tt)["branch"], "mine");
    assert_eq!(logged(&["--branch", "flag"], &with_tt)["branch"], "flag");
    // On a branch the CI variables do not count, TT_BRANCH does; --no-git reads no git and no CI, but TT_BRANCH
    // is not git.
    git("checkout -q trunk");
    assert_eq!(logged(&[], &ci)["branch"], "trunk");
    assert_eq!(logged(&[], &with_tt)["branch"], "mine");
    assert!(logged(&["--no-git"], &ci).get("branch").is_none());
    assert_eq!(logged(&["--no-git"], &with_tt)["branch"], "mine");
    // TT_BRANCH is checked as --branch is; a CI variable tt cannot use is left out.
    let before = sc.log();
    sc.cmd("tt-log")
        .args(["a", "sonnet-4.5", "1", "1"])
        .env("TT_BRANCH", "a\u{7}b")
        .fails_with(2)
        .stderr_is("tt-log: error: branch must not contain control characters: \"a\\u{7}b\"\n");
    assert_eq!(sc.log(), before);
    git("checkout -q --detach");
    assert!(logged(&[], &[("GITHUB_HEAD_REF", "a\u{7}b")]).get("branch").is_none());
}

/// A typo of a known model is still logged, unpriced — with the name it is one edit from.
#[test]
fn an_unknown_model_one_edit_from_a_known_one_gets_a_hint() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["A", "sonet-4.5", "100", "10"]).succeeds().stderr_is(
        "tt-log: warning: unknown model \"sonet-4.5\" (did you mean \"sonnet-4.5\"?): logged unpriced (add it to \
         the price table; tt-price --list shows it)\nlogged 110 tokens (sonet-4.5) for A - unpriced\n",
    );
    let r = &sc.records()[0];
    assert_eq!(r["model"], "sonet-4.5");
    assert!(r.get("cost_usd").is_none() && r.get("price").is_none());
    // Several names one edit away (a replaced digit): up to three, in table order; a swap counts as one edit.
    sc.cmd("tt-log").args(["A", "sonnet-4.7", "1", "1", "-q"]).succeeds().stderr_is(
        "tt-log: warning: unknown model \"sonnet-4.7\" (did you mean \"sonnet-3.7\", \"sonnet-4.5\" or \
         \"sonnet-4.6\"?): logged unpriced (add it to the price table; tt-price --list shows it)\n",
    );
    sc.cmd("tt-log").args(["A", "GTP-4o", "1", "1", "-q"]).succeeds().stderr_has("(did you mean \"gpt-4o\"?)");
    // --strict refuses it, with the same hint, and appends nothing.
    let before = sc.log();
    sc.cmd("tt-log").args(["A", "sonet-4.5", "100", "10", "--strict"]).fails_with(2).stderr_is(
        "tt-log: error: unknown model \"sonet-4.5\" (--strict; did you mean \"sonnet-4.5\"?): add it to the price \
         table (see tt-price --list)\n",
    );
    assert_eq!(sc.log(), before);
    // A name far from every known one: no hint.
    sc.cmd("tt-log").args(["A", "mystery-model", "1", "1", "-q"]).succeeds().stderr_is(
        "tt-log: warning: unknown model \"mystery-model\": logged unpriced (add it to the price table; tt-price \
         --list shows it)\n",
    );
    sc.cmd("tt-log").args(["A", "mystery-model", "1", "1", "--strict"]).fails_with(2).stderr_is(
        "tt-log: error: unknown model \"mystery-model\" (--strict): add it to the price table (see tt-price --list)\n",
    );
}

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
        .args(["A", "claude-fable-5", "100", "10"])
        .succeeds()
        .stderr_is("tt-log: warning: unknown model \"claude-fable-5\": logged unpriced (add it to the price table; tt-price --list shows it)\nlogged 110 tokens (claude-fable-5) for A - unpriced\n");
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
    // A crash mid-write left half a record without its newline: every reader refuses the log.
    std::fs::write(sc.log_path(), format!("{good}{{\"v\":1,\"id\":\"torn")).unwrap();
    sc.cmd("tt-sum").fails_with(2).one_error_line("tt-sum");
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

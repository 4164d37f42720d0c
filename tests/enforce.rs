//! tt-log --enforce: atomic check-and-append under the log lock, the race, scopes and windows, and the sidecar
//! index (incremental, rebuilt when the log or the budgets change).
mod common;
use common::*;

const TOKENS_10K: &str = "[[budget]]\nname = \"daily-tokens\"\nperiod = \"day\"\nlimit_tokens = 10000\n";

fn log_1000(sc: &Scenario, agent: &str) -> Out {
    sc.cmd("tt-log").args([agent, "sonnet-4.5", "500", "500", "--enforce", "--no-git", "-q"]).run()
}

#[test]
fn forty_processes_race_for_a_10k_token_budget_and_exactly_ten_win() {
    let sc = Scenario::new();
    sc.write("tt.toml", TOKENS_10K);
    let children: Vec<_> = (0..40)
        .map(|_| {
            let mut r = sc.cmd("tt-log").args(["RACER", "sonnet-4.5", "500", "500", "--enforce", "--no-git", "-q"]);
            r.cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
            r.cmd.spawn().unwrap()
        })
        .collect();
    let mut codes = Vec::new();
    for c in children {
        let o = c.wait_with_output().unwrap();
        codes.push(o.status.code());
        if o.status.code() == Some(1) {
            assert!(String::from_utf8_lossy(&o.stderr).contains("would go over its limit"));
        }
    }
    assert_eq!(codes.iter().filter(|c| **c == Some(0)).count(), 10, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == Some(1)).count(), 30, "{codes:?}");
    let recs = sc.records();
    assert_eq!(recs.len(), 10);
    let total: u64 =
        recs.iter().map(|r| r["input_tokens"].as_u64().unwrap() + r["output_tokens"].as_u64().unwrap()).sum();
    assert_eq!(total, 10_000);
}

#[test]
fn refusal_leaves_the_log_unchanged_and_says_why() {
    let sc = Scenario::new();
    sc.write("tt.toml", TOKENS_10K);
    for _ in 0..10 {
        log_1000(&sc, "A").success();
    }
    let before = sc.log();
    let out = log_1000(&sc, "A").code(1);
    let today = chrono_today();
    assert_eq!(
        out.stderr,
        format!(
            "tt-log: error: refused, nothing logged: budget \"daily-tokens\" would go over its limit: 10,000 of 10,000 tokens used in the day from {today}, 0 tokens left; this record needs 1,000 tokens\n"
        )
    );
    assert_eq!(sc.log(), before);
    // Without --enforce the record is logged (the budget is a gate only where asked for).
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--no-git", "-q"]).succeeds();
    assert_eq!(sc.records().len(), 11);
}

fn chrono_today() -> String {
    let out = std::process::Command::new("date").args(["-u", "+%Y-%m-%d"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn dollar_limits_scopes_and_windows() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        r#"
[[budget]]
name = "atlas-daily"
period = "day"
scope = { agent = "ATLAS" }
limit_usd = 1
"#,
    );
    // 0.375 each: two fit ($0.75), the third would make $1.125.
    let seed = ["sonnet-4.5", "50000", "15000", "--enforce", "--no-git", "-q"];
    sc.cmd("tt-log").arg("ATLAS").args(seed).succeeds();
    sc.cmd("tt-log").arg("ATLAS").args(seed).succeeds();
    sc.cmd("tt-log")
        .arg("ATLAS")
        .args(seed)
        .fails_with(1)
        .stderr_has("budget \"atlas-daily\" would go over its limit: $0.7500 of $1.00 used")
        .stderr_has("$0.2500 left; this record needs $0.3750");
    // Another agent is out of scope.
    sc.cmd("tt-log").arg("BOLT").args(seed).succeeds();
    // A back-dated record is checked in its own window and in today's: today's is full, so it is refused (a
    // `--ts` must not step around today's limit) …
    sc.cmd("tt-log")
        .arg("ATLAS")
        .args(seed)
        .args(["--ts", "2026-01-05T10:00:00Z"])
        .fails_with(1)
        .stderr_has("(a back-dated record must fit the current window too)");
    // … while one that fits both is logged in its own day.
    sc.cmd("tt-log")
        .args(["ATLAS", "sonnet-4.5", "100", "100", "--enforce", "--no-git", "-q"])
        .args(["--ts", "2026-01-05T10:00:00Z"])
        .succeeds();
    // An unknown model cannot be checked against a dollar limit: refused, not counted as $0.
    sc.cmd("tt-log")
        .args(["ATLAS", "claude-quill-9", "1", "1", "--enforce", "--no-git", "-q"])
        .fails_with(1)
        .stderr_has("has no price");
    assert_eq!(sc.records().len(), 4);
}

#[test]
fn session_budgets_apply_per_session() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"per-session\"\nperiod = \"session\"\nlimit_tokens = 2000\n");
    let run = |session: &str| {
        sc.cmd("tt-log")
            .args(["A", "sonnet-4.5", "500", "500", "--enforce", "--no-git", "-q", "--session", session])
            .run()
    };
    run("s1").success();
    run("s1").success();
    run("s1").code(1).stderr_is(
        "tt-log: error: refused, nothing logged: budget \"per-session\" would go over its limit: 2,000 of 2,000 \
         tokens used in session s1, 0 tokens left; this record needs 1,000 tokens\n",
    );
    run("s2").success();
    // No session: a session budget does not apply.
    log_1000(&sc, "A").success();
}

#[test]
fn the_index_counts_what_others_appended_and_is_rebuilt_when_things_change() {
    let sc = Scenario::new();
    sc.write("tt.toml", TOKENS_10K);
    log_1000(&sc, "A").success();
    let index = sc.path().join("usage.jsonl.tt-index");
    assert!(index.exists());
    // Plain appends (no --enforce) do not touch the index, but the next check counts them.
    for _ in 0..8 {
        sc.cmd("tt-log").args(["A", "sonnet-4.5", "500", "500", "--no-git", "-q"]).succeeds();
    }
    log_1000(&sc, "A").success(); // 10,000 exactly
    log_1000(&sc, "A").code(1);
    let text = std::fs::read_to_string(&index).unwrap();
    // A journal: window lines, each batch closed by a `#{…}` commit line holding how far the log was counted.
    let commit = text.lines().rfind(|l| l.starts_with('#')).unwrap();
    let v: serde_json::Value = serde_json::from_str(&commit[1..]).unwrap();
    assert_eq!(v["lines"], 10);
    assert_eq!(v["offset"].as_u64().unwrap(), sc.log().len() as u64);

    // The budgets changed: rebuilt with the new limit.
    sc.write("tt.toml", TOKENS_10K.replace("10000", "11000"));
    log_1000(&sc, "A").success();
    log_1000(&sc, "A").code(1);

    // The log was replaced by a shorter one: rebuilt from it.
    let lines: Vec<String> = sc.log().lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::remove_file(sc.log_path()).unwrap();
    sc.write("usage.jsonl", lines.concat());
    for _ in 0..8 {
        log_1000(&sc, "A").success();
    }
    log_1000(&sc, "A").code(1);
    assert_eq!(sc.records().len(), 11);

    // Rewritten in place with the same length but other contents: the tail hash notices.
    let log = sc.log().replace("\"input_tokens\":500", "\"input_tokens\":100");
    std::fs::write(sc.log_path(), &log).unwrap();
    log_1000(&sc, "A").success(); // 11 × 600 = 6,600, + 1,000

    // A journal torn by a crash (a window line without its commit) is compacted, the torn line ignored.
    let mut torn = std::fs::read_to_string(&index).unwrap();
    torn.push_str("0\t2099-01-01\t1\t0\t999999\t0\n");
    std::fs::write(&index, torn).unwrap();
    log_1000(&sc, "A").success(); // 8,600
    assert!(std::fs::read_to_string(&index).unwrap().ends_with("}\n"));

    // A deleted or corrupt index is rebuilt.
    std::fs::write(&index, "{not json").unwrap();
    log_1000(&sc, "A").success(); // 9,600
    std::fs::remove_file(&index).unwrap();
    log_1000(&sc, "A").success(); // 10,600 of 11,000
    log_1000(&sc, "A").code(1);
}

#[test]
fn a_bad_line_in_the_log_is_an_error_with_its_line_number() {
    let sc = Scenario::new();
    sc.write("tt.toml", TOKENS_10K);
    log_1000(&sc, "A").success();
    let mut log = sc.log();
    log.push_str("{\"v\":1}\n");
    sc.write("usage.jsonl", &log);
    log_1000(&sc, "A").code(2).one_error_line("tt-log").stderr_has("usage.jsonl:2: missing field `id`");
    assert_eq!(sc.log(), log);
}

#[test]
fn dry_run_runs_the_check_and_appends_nothing() {
    let sc = Scenario::new();
    sc.write("tt.toml", TOKENS_10K);
    let today = chrono_today();
    let dry = |input: &str| {
        sc.cmd("tt-log").args(["A", "sonnet-4.5", input, "500", "--enforce", "--dry-run", "--no-git", "-q"]).run()
    };
    // No log yet: the record alone is checked (10,500 > 10,000), and no log is created.
    dry("10000").code(1).stderr_is(&format!(
        "tt-log: error: would be refused: budget \"daily-tokens\" would go over its limit: 0 of 10,000 tokens used \
         in the day from {today}, 10,000 tokens left; this record needs 10,500 tokens\n"
    ));
    assert!(!sc.log_path().exists());
    dry("9500").success();
    assert!(!sc.log_path().exists());
    // 9 × 1,000 logged: 1,000 more fits, 1,001 does not — and a dry run never appends.
    for _ in 0..9 {
        log_1000(&sc, "A").success();
    }
    let before = sc.log();
    dry("500").success().stdout_has("\"input_tokens\":500");
    dry("501")
        .code(1)
        .stderr_has("would be refused: budget \"daily-tokens\" would go over its limit: 9,000 of 10,000 tokens")
        .stderr_has("1,000 tokens left; this record needs 1,001 tokens");
    assert_eq!(sc.log(), before);
    // The real call agrees with the dry run.
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "501", "500", "--enforce", "--no-git", "-q"]).fails_with(1);
    log_1000(&sc, "A").success();
    // Without --enforce a dry run checks nothing.
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "501", "500", "--dry-run", "--no-git", "-q"]).succeeds();
    assert_eq!(sc.records().len(), 10);
}

#[test]
fn invalid_budgets_are_errors_for_enforce_too() {
    let sc = Scenario::new();
    for (toml, what) in [
        ("limit_tokens = 0\n", "`limit_tokens` must be more than 0"),
        ("limit_tokens = 10\nwarn_at = [0.5, 0.5]\n", "strictly ascending"),
        ("limit_tokens = 10\nwarn_at = [0.5, 1.5]\n", "at most 1"),
    ] {
        sc.write("tt.toml", format!("[[budget]]\nname = \"b\"\nperiod = \"day\"\n{toml}"));
        log_1000(&sc, "A")
            .code(2)
            .one_error_line("tt-log")
            .stderr_has("tt.toml:2: key `budget` (#1): b: ")
            .stderr_has(what);
    }
    assert_eq!(sc.log(), "");
}

#[test]
fn a_log_whose_sums_overflow_is_an_error_not_a_pass() {
    let sc = Scenario::new();
    sc.write("tt.toml", TOKENS_10K);
    let today = chrono_today();
    let big = |id: &str| {
        format!(
            "{{\"v\":1,\"id\":\"{id}\",\"ts\":\"{today}T00:00:01Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":18446744073709551615,\"output_tokens\":0}}\n"
        )
    };
    sc.write("usage.jsonl", big("a") + &big("b"));
    let before = sc.log();
    log_1000(&sc, "A").code(2).one_error_line("tt-log").stderr_has("too large to sum exactly");
    assert_eq!(sc.log(), before);
}

#[test]
fn enforce_with_no_budgets_warns_once_and_logs() {
    let sc = Scenario::new();
    let warning = "tt-log: warning: --enforce: no budgets are configured, so there is nothing to enforce (add a \
                   [[budget]] to tt.toml; see tt-budget --help)\n";
    log_1000(&sc, "A").success().stderr_is(warning);
    assert_eq!(sc.records().len(), 1);
    // No index for nothing to enforce.
    assert!(!sc.path().join("usage.jsonl.tt-index").exists());
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "1", "--enforce", "--dry-run", "--no-git", "-q"])
        .succeeds()
        .stderr_is(warning);
    assert_eq!(sc.records().len(), 1);
}

#[test]
fn a_dry_run_writes_nothing_not_even_the_index() {
    let sc = Scenario::new();
    sc.write("tt.toml", TOKENS_10K);
    let index = sc.path().join("usage.jsonl.tt-index");
    let dry = || sc.cmd("tt-log").args(["A", "sonnet-4.5", "500", "500", "--enforce", "--dry-run", "--no-git", "-q"]);
    // A log written without --enforce: no index yet, and a dry run does not create one.
    for _ in 0..3 {
        sc.cmd("tt-log").args(["A", "sonnet-4.5", "500", "500", "--no-git", "-q"]).succeeds();
    }
    dry().succeeds();
    assert!(!index.exists());
    // With an index: a dry run leaves it byte for byte, though the log grew since.
    log_1000(&sc, "A").success();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "500", "500", "--no-git", "-q"]).succeeds();
    let before = std::fs::read(&index).unwrap();
    dry().succeeds();
    assert_eq!(std::fs::read(&index).unwrap(), before);
    // …and it counted what was appended since: 5,000 logged, so 5,000 more fit and 5,001 do not.
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "4500", "500", "--enforce", "--dry-run", "--no-git", "-q"]).succeeds();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "4501", "500", "--enforce", "--dry-run", "--no-git", "-q"]).fails_with(1);
    // A torn last line is left for the real call to repair: the log is only read.
    let mut log = sc.log();
    log.push_str("{\"v\":1,\"id\":\"torn");
    std::fs::write(sc.log_path(), &log).unwrap();
    dry().succeeds();
    assert_eq!(sc.log(), log);
    assert!(!sc.path().join("usage.jsonl.torn").exists());
    assert_eq!(std::fs::read(&index).unwrap(), before);
}

#[test]
fn model_scopes_count_every_spelling_of_the_model() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"sonnet\"\nperiod = \"day\"\nscope = { model = \"claude-sonnet-4-5\" }\nlimit_tokens = 2500\n",
    );
    let log = |model: &str| sc.cmd("tt-log").args(["A", model, "500", "500", "--enforce", "--no-git", "-q"]).run();
    log("sonnet-4.5").success();
    log("claude-sonnet-4-5-20250929").success();
    // 2,000 of 2,500 tokens: a third spelling of the same model is refused.
    log("anthropic/claude-sonnet-4-5")
        .code(1)
        .stderr_has("budget \"sonnet\" would go over its limit: 2,000 of 2,500 tokens used in the day from");
    // Another model is not in the scope.
    log("haiku-4.5").success();
    // An index rebuilt from the log counts the same.
    std::fs::remove_file(sc.path().join("usage.jsonl.tt-index")).unwrap();
    log("sonnet-4.5").code(1);
    assert_eq!(sc.records().len(), 3);
}

#[test]
fn one_token_is_one_token() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"tiny\"\nperiod = \"day\"\nlimit_tokens = 1\n");
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "0", "--enforce", "--no-git", "-q"]).succeeds();
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "1", "0", "--enforce", "--no-git", "-q"])
        .fails_with(1)
        .stderr_has("1 of 1 tokens used in the day from")
        .stderr_has(", 0 tokens left; this record needs 1 token\n");
}

/// `--ts` does not step around a budget under `--enforce`: a record dated ahead of now is refused as unusable
/// (exit 2: spend that has not happened cannot be checked); one dated in the past must fit its own window and the
/// current one.
#[test]
fn enforce_checks_back_dated_records_in_the_current_window_and_refuses_future_ones() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"monthly\"\nperiod = \"month\"\nlimit_tokens = 2000\n");
    let log = |extra: &[&str]| {
        sc.cmd("tt-log").args(["A", "sonnet-4.5", "500", "500", "--enforce", "--no-git", "-q"]).args(extra).run()
    };
    log(&[]).success();
    log(&[]).success();
    // This month is full: neither last year nor next year gets around it.
    log(&["--ts", "2025-06-15T12:00:00Z"]).code(1).stderr_has("must fit the current window too");
    log(&["--ts", "9999-12-31T00:00:00Z"])
        .code(2)
        .one_error_line("tt-log")
        .stderr_has("ahead of now: spend that has not happened cannot be checked");
    // The same under --dry-run.
    log(&["--ts", "9999-12-31T00:00:00Z", "--dry-run"]).code(2);
    log(&["--ts", "2025-06-15T12:00:00Z", "--dry-run"]).code(1);
    assert_eq!(sc.records().len(), 2);
    // Without --enforce a record may be dated anywhere (imports and backfills do that).
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "500", "500", "--no-git", "-q", "--ts", "2025-06-15T12:00:00Z"])
        .succeeds();
}

/// A record without a session under a session budget is a session of its own: it is checked against the limit
/// alone (it was not checked at all).
#[test]
fn a_record_without_a_session_is_its_own_session_under_a_session_budget() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"per-session\"\nperiod = \"session\"\nlimit_tokens = 2000\n");
    let log = |i: &str, o: &str| sc.cmd("tt-log").args(["A", "sonnet-4.5", i, o, "--enforce", "--no-git", "-q"]).run();
    log("500", "500").success();
    log("500", "500").success();
    log("2000", "1").code(1).stderr_has("(a record without a session is a session of its own)");
    assert_eq!(sc.records().len(), 2);
}

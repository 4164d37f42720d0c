//! tt-budget: levels at their exact boundaries, forecasts, gates, the estimate check, summary rows vs records,
//! GitHub output, and exit codes in pipelines under `set -o pipefail`.
mod common;
use common::*;

fn rec(ts: &str, agent: &str, input: u64, cost: &str, extra: &str) -> String {
    format!(
        "{{\"v\":1,\"id\":\"{ts}{agent}{input}\",\"ts\":\"{ts}\",\"agent\":\"{agent}\",\"model\":\"sonnet-4.5\",\"input_tokens\":{input},\"output_tokens\":0,\"cost_usd\":{cost}{extra}}}\n"
    )
}

const TODAY: [&str; 2] = ["--today", "2026-11-15"];

/// One record of `cost` dollars and `tokens` tokens on 2026-11-10.
fn one(cost: &str, tokens: u64) -> Scenario {
    let sc = Scenario::new();
    sc.write("usage.jsonl", rec("2026-11-10T12:00:00Z", "ATLAS", tokens, cost, ""));
    sc
}

fn level_of(out: &Out) -> String {
    out.jsonl()[0]["level"].as_str().unwrap().to_string()
}

#[test]
fn dollar_levels_at_exact_boundaries() {
    for (cost, level, percent) in [
        ("0", "ok", "0"),
        ("49.99", "ok", "49.99"),
        ("50", "info", "50"),
        ("79.99", "info", "79.99"),
        ("80", "warning", "80"),
        ("94.99", "warning", "94.99"),
        ("95", "critical", "95"),
        ("100", "critical", "100"),
        ("100.01", "over", "100.01"),
    ] {
        let sc = one(cost, 1);
        let out = sc.cmd("tt-budget").args(["--limit-usd", "100"]).args(TODAY).succeeds();
        assert_eq!(level_of(&out), level, "${cost}");
        assert_eq!(out.jsonl()[0]["percent"].to_string(), percent, "${cost}");
        // --fail-over trips strictly above the limit: spending exactly the limit is allowed.
        let code = if level == "over" { 1 } else { 0 };
        sc.cmd("tt-budget").args(["--limit-usd", "100", "--fail-over"]).args(TODAY).fails_with(code);
    }
}

#[test]
fn token_levels_at_exact_boundaries() {
    for (tokens, level) in [
        (4999, "ok"),
        (5000, "info"),
        (7999, "info"),
        (8000, "warning"),
        (9499, "warning"),
        (9500, "critical"),
        (10000, "critical"),
        (10001, "over"),
    ] {
        let sc = one("0", tokens);
        let out = sc
            .cmd("tt-budget")
            .args(["--limit-tokens", "10,000", "--period", "day", "--today", "2026-11-10"])
            .succeeds();
        assert_eq!(level_of(&out), level, "{tokens} tokens");
    }
}

#[test]
fn custom_thresholds_and_fail_at() {
    let sc = one("90", 1);
    let out = sc.cmd("tt-budget").args(["--limit-usd", "100", "--warn-at", "0.9"]).args(TODAY).succeeds();
    assert_eq!(level_of(&out), "warning");
    let out = sc.cmd("tt-budget").args(["--limit-usd", "100", "--warn-at", "0.7,0.9"]).args(TODAY).succeeds();
    assert_eq!(level_of(&out), "critical");
    for (fail_at, code) in
        [("info", 1), ("warning", 1), ("critical", 0), ("over", 0), ("0.9", 1), ("0.9001", 0), ("90%", 1), ("91%", 0)]
    {
        sc.cmd("tt-budget").args(["--limit-usd", "100", "--fail-at", fail_at]).args(TODAY).fails_with(code);
    }
    sc.cmd("tt-budget")
        .args(["--limit-usd", "100", "--fail-at", "warning"])
        .args(TODAY)
        .fails_with(1)
        .stderr_is("tt-budget: error: ad-hoc is at 90% (--fail-at warning): $90.00 of $100.00\n");
    sc.cmd("tt-budget")
        .args(["--limit-usd", "100", "--fail-at", "sometimes"])
        .fails_with(2)
        .one_error_line("tt-budget");
}

/// $10 on the 5th and $20 on the 12th of a 30-day month; on the 15th (the day fully elapsed) half the month is
/// gone, so the month is heading for $60 and a $50 limit is reached 25 days in: on the 26th.
fn month_scenario() -> Scenario {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        [rec("2026-11-05T10:00:00Z", "ATLAS", 1000, "10", ""), rec("2026-11-12T10:00:00Z", "BOLT", 2000, "20", "")]
            .concat(),
    );
    sc.write(
        "tt.toml",
        r#"
[[budget]]
name = "team-monthly"
period = "month"
limit_usd = 50

[[budget]]
name = "atlas-monthly"
period = "month"
scope = { agent = "ATLAS" }
limit_usd = 20
"#,
    );
    sc
}

#[test]
fn forecast_to_the_end_of_the_month_and_the_limit_date() {
    let sc = month_scenario();
    let out = sc.cmd("tt-budget").args(TODAY).succeeds();
    assert_eq!(
        out.stdout,
        r#"{"kind":"budget","name":"team-monthly","period":"month","scope":{},"window":{"period":"month","start":"2026-11-01T00:00:00Z","end":"2026-12-01T00:00:00Z"},"session":null,"records":2,"spent_usd":30,"spent_tokens":3000,"unpriced_records":0,"limit_usd":50,"limit_tokens":null,"remaining_usd":20,"remaining_tokens":null,"percent":60,"level":"info","forecast":{"projected_usd":60,"projected_tokens":6000,"projected_percent":120,"projected_level":"over","limit_date":"2026-11-26"}}
{"kind":"budget","name":"atlas-monthly","period":"month","scope":{"agent":"ATLAS"},"window":{"period":"month","start":"2026-11-01T00:00:00Z","end":"2026-12-01T00:00:00Z"},"session":null,"records":1,"spent_usd":10,"spent_tokens":1000,"unpriced_records":0,"limit_usd":20,"limit_tokens":null,"remaining_usd":10,"remaining_tokens":null,"percent":50,"level":"info","forecast":{"projected_usd":20,"projected_tokens":2000,"projected_percent":100,"projected_level":"critical","limit_date":null}}
"#
    );
    sc.cmd("tt-budget").args(TODAY).args(["--format", "table"]).succeeds().stdout_is(
        "BUDGET         SCOPE        WINDOW                  SPENT   LIMIT    LEFT  USED  LEVEL  FORECAST  LIMIT ON
────────────────────────────────────────────────────────────────────────────────────────────────────────────
team-monthly   -            month from 2026-11-01  $30.00  $50.00  $20.00   60%  info     $60.00  2026-11-26
atlas-monthly  agent=ATLAS  month from 2026-11-01  $10.00  $20.00  $10.00   50%  info     $20.00  -
",
    );
    // --fail-projected trips on the team budget only.
    sc.cmd("tt-budget").args(TODAY).arg("--fail-projected").fails_with(1).stderr_is(
        "tt-budget: error: team-monthly is projected over its limit by the end of the month: $60.00 of $50.00\n",
    );
    sc.cmd("tt-budget").args(TODAY).args(["--fail-projected", "--budget", "atlas-monthly"]).succeeds();
    // A total budget has no window end: nothing is projected, but the limit date comes from the recent burn —
    // $30 from the 5th (its first record's day; less than 30 days back) to the end of December 2nd, 28 days:
    // $20 left at $30/28 a day is 18⅔ days → December 21st.
    let out = sc.cmd("tt-budget").args(["--today", "2026-12-02", "--limit-usd", "50", "--period", "total"]).succeeds();
    assert_eq!(
        out.jsonl()[0]["forecast"],
        serde_json::json!({"projected_usd":null,"projected_tokens":null,"projected_percent":null,"projected_level":null,"limit_date":"2026-12-21"})
    );
}

#[test]
fn estimate_check_go_or_defer() {
    let sc = month_scenario();
    let team = ["--budget", "team-monthly"];
    // A task that fits: the one "go" line, and no report (unless --verbose).
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(team)
        .args(["--estimate-usd", "20"])
        .succeeds()
        .stdout_is("")
        .stderr_is("tt-budget: go: ~$20.00 fits: team-monthly ($20.00 left)\n");
    let report = out_of(&sc, &["--today", "2026-11-15", "--budget", "team-monthly"]);
    for verbose in ["--verbose", "-v"] {
        sc.cmd("tt-budget")
            .args(TODAY)
            .args(team)
            .args(["--estimate-usd", "20", verbose])
            .succeeds()
            .stdout_is(&report)
            .stderr_is("tt-budget: go: ~$20.00 fits: team-monthly ($20.00 left)\n");
    }
    // A task to defer: the report too.
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(team)
        .args(["--estimate-usd", "20.01"])
        .fails_with(1)
        .stdout_is(&report)
        .stderr_is("tt-budget: error: team-monthly: $20.00 left; this task needs ~$20.01: defer it\n");
    // Tokens priced as input tokens of the model: 4M × $1/MTok = $4 fits, 21M = $21 does not.
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(team)
        .args(["--estimate-tokens", "4000000", "--model", "haiku-4.5"])
        .succeeds();
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(team)
        .args(["--estimate-tokens", "21000000", "--model", "haiku-4.5"])
        .fails_with(1)
        .stderr_has("this task needs ~21,000,000 tokens ($21.00): defer it");
    // Every budget is checked: the ATLAS budget has $10 left.
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(["--estimate-usd", "15"])
        .fails_with(1)
        .stderr_is("tt-budget: error: atlas-monthly: $10.00 left; this task needs ~$15.00: defer it\n");
    sc.cmd("tt-budget")
        .args(["--estimate-tokens", "1", "--model", "claude-quill-9"])
        .fails_with(2)
        .one_error_line("tt-budget");
    sc.cmd("tt-budget").args(["--estimate-usd", "-1"]).fails_with(2).one_error_line("tt-budget");
}

#[test]
fn summary_rows_are_matched_to_budgets_by_period_and_scope() {
    let sc = month_scenario();
    // By agent: the total row answers the team budget, the ATLAS row the ATLAS budget.
    let out = sc.bash("tt-sum --period month --today 2026-11-15 --by agent | tt-budget --today 2026-11-15").succeeds();
    let rows = out.jsonl();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0]["name"].as_str(), rows[0]["spent_usd"].to_string().as_str()), (Some("team-monthly"), "30"));
    assert_eq!((rows[1]["name"].as_str(), rows[1]["spent_usd"].to_string().as_str()), (Some("atlas-monthly"), "10"));
    // The same evaluation as reading the log (forecast included).
    let direct = sc.cmd("tt-budget").args(TODAY).succeeds();
    assert_eq!(out.stdout, direct.stdout);
    // Without --by the rows answer only the unscoped budget; they name the log they came from, so the one they
    // leave out is checked from that log: the same report as reading the log.
    sc.bash("tt-sum --period month --today 2026-11-15 | tt-budget --today 2026-11-15")
        .succeeds()
        .stdout_is(&direct.stdout)
        .stderr_is("");
    // Rows of records piped into tt-sum cannot say where they came from: the one left out is named, with the
    // rows it needs (and only the team budget is reported, from the rows).
    let out =
        sc.bash("tt-sum --period month --today 2026-11-15 < usage.jsonl | tt-budget --today 2026-11-15").succeeds();
    assert_eq!(out.stdout, direct.stdout.lines().next().unwrap().to_string() + "\n");
    assert_eq!(
        out.stderr,
        "tt-budget: warning: atlas-monthly (month, agent=ATLAS) not checked: these summary rows do not answer it; \
         it needs `tt-sum --period month --by agent` rows\n"
    );
    // Rows of another period answer nothing: from the log, every budget is checked from it…
    sc.bash("tt-sum --today 2026-11-15 | tt-budget --today 2026-11-15 --format table")
        .succeeds()
        .stdout_is(&sc.cmd("tt-budget").args(TODAY).args(["--format", "table"]).succeeds().stdout)
        .stderr_is("");
    // …and without a source, a warning per budget and no empty table (under a gate, exit 2).
    sc.bash("tt-sum < usage.jsonl | tt-budget --format table").succeeds().stdout_is("").stderr_is(
        "tt-budget: warning: team-monthly (month) not checked: these summary rows do not answer it; it needs \
         `tt-sum --period month` rows\n\
         tt-budget: warning: atlas-monthly (month, agent=ATLAS) not checked: these summary rows do not answer it; \
         it needs `tt-sum --period month --by agent` rows\n",
    );
    // Raw records on stdin are evaluated like the log.
    sc.bash("cat usage.jsonl | tt-budget --today 2026-11-15").succeeds().stdout_is(&direct.stdout);
    // A broken row names its line.
    sc.cmd("tt-budget")
        .pipe_in("{\"kind\":\"summary\"}\n")
        .fails_with(2)
        .stderr_is("tt-budget: error: <stdin>:1: summary row: missing field `window`\n");
}

#[test]
fn session_and_daily_token_budgets() {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        [
            rec("2026-11-15T08:00:00Z", "A", 3000, "0", r#","session":"s1""#),
            rec("2026-11-15T09:00:00Z", "A", 3000, "0", r#","session":"s1""#),
            rec("2026-11-15T10:00:00Z", "B", 5000, "0", r#","session":"s2""#),
            rec("2026-11-14T10:00:00Z", "B", 9000, "0", r#","session":"s3""#),
        ]
        .concat(),
    );
    sc.write(
        "tt.toml",
        r#"
[[budget]]
name = "per-session"
period = "session"
limit_tokens = 8000

[[budget]]
name = "daily-tokens"
period = "day"
limit_tokens = 20000
"#,
    );
    let out = sc.cmd("tt-budget").args(TODAY).succeeds();
    let rows = out.jsonl();
    assert_eq!(rows[0]["session"], "s3");
    assert_eq!(rows[0]["level"], "over");
    assert_eq!(rows[1]["spent_tokens"], 11000);
    assert_eq!(rows[1]["level"], "info");
    sc.cmd("tt-budget")
        .args(TODAY)
        .arg("--fail-over")
        .fails_with(1)
        .stderr_is("tt-budget: error: per-session (session s3) is over its limit: 9,000 of 8,000 tokens\n");
    // From rows grouped by session.
    let out = sc.bash("tt-sum --by session | tt-budget --budget per-session").succeeds();
    assert_eq!(out.jsonl()[0]["session"], "s3");
}

#[test]
fn exit_codes_under_pipefail() {
    let sc = month_scenario();
    let run = |script: &str| {
        let out = sc.bash(&format!("set -o pipefail\n{script}\necho \"exit=$?\"")).run();
        out.stdout.lines().last().unwrap_or_default().to_string()
    };
    let gate = "tt-sum --period month --today 2026-11-15 | tt-budget --today 2026-11-15 --fail-over >/dev/null";
    assert_eq!(run(gate), "exit=0");
    sc.write("tt.toml", "[[budget]]\nname = \"tight\"\nperiod = \"month\"\nlimit_usd = 25\n");
    assert_eq!(run(gate), "exit=1");
    // A broken pipeline is exit 2, never mistaken for a verdict.
    let mut log = sc.log();
    log.push_str("{broken\n");
    sc.write("usage.jsonl", log);
    assert_eq!(run(&format!("{gate} 2>/dev/null")), "exit=2");
    sc.write("tt.toml", "[[budget]]\nname = \"bad\"\nperiod = \"fortnight\"\nlimit_usd = 1\n");
    assert_eq!(run("tt-budget --fail-over 2>/dev/null"), "exit=2");
}

/// Every form of the gate the docs give catches every kind of budget (tests/docs.rs checks the docs give them).
#[test]
fn the_gate_forms_of_the_docs_catch_every_budget() {
    let bare = "tt-sum | tt-budget --fail-over";
    let by_agent = "tt-sum --period month --by agent | tt-budget --fail-over";
    // The error for rows that cannot say which log they came from (docs/guide.md shows it).
    let shown = "tt-budget: error: the gate cannot decide: these summary rows do not answer atlas-daily (day, \
                 agent=ATLAS) and do not say which log they came from; run `tt-budget` on the log instead (it checks \
                 every budget), or give it `tt-sum --period today --by agent` rows too\n";
    // Every way to gate from rows, and a combination of rows of every budget's own window.
    let combined = "(tt-sum --period today --by agent; tt-sum --period month --by agent; tt-sum --by session) | tt-budget --fail-over";
    let gates = [bare, "tt-sum --period month | tt-budget --fail-over", by_agent, "tt-budget --fail-over", combined];

    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        r#"
[[budget]]
name = "team-monthly"
period = "month"
limit_usd = 100

[[budget]]
name = "atlas-daily"
period = "day"
scope = { agent = "ATLAS" }
limit_usd = 5

[[budget]]
name = "per-session"
period = "session"
limit_tokens = 5000
"#,
    );
    // Records dated today, so the real clock's windows hold them: ATLAS is over its $5 a day.
    let today = chrono_today();
    let at = format!("{today}T00:00:00Z");
    sc.write("usage.jsonl", rec(&at, "ATLAS", 1, "6", r#","session":"s1""#));
    // The all-time rows answer no budget here, the monthly rows only team-monthly, but they name the log they
    // came from: the budgets they do not answer are checked from it, so every form catches a build over a daily
    // budget.
    for gate in gates {
        sc.bash(&format!("set -o pipefail; {gate}"))
            .fails_with(1)
            .stderr_is("tt-budget: error: atlas-daily is over its limit: $6.00 of $5.00\n");
    }
    // Monthly rows of records piped into tt-sum cannot say which log they came from: no verdict (exit 2), never
    // a pass.
    let unsourced = "tt-budget: error: the gate cannot decide: these summary rows do not answer atlas-daily (day, \
                     agent=ATLAS), per-session (session) and do not say which log they came from; run `tt-budget` on \
                     the log instead (it checks every budget), or give it `tt-sum --period today --by agent` and \
                     `tt-sum --by session` rows too\n";
    sc.bash("set -o pipefail; tt-sum --period month < usage.jsonl | tt-budget --fail-over")
        .fails_with(2)
        .stdout_is("")
        .stderr_is(unsourced);
    // Rows of records piped in that answer all but the daily budget: the docs' error, word for word.
    sc.bash("set -o pipefail; (tt-sum --period month < usage.jsonl; cat usage.jsonl | tt-sum --by session) | tt-budget --fail-over")
        .fails_with(2)
        .stderr_is(shown);
    // The session budget too: 6,000 tokens in session s1.
    sc.write("usage.jsonl", rec(&at, "NOVA", 6000, "1", r#","session":"s1""#));
    for gate in gates {
        sc.bash(&format!("set -o pipefail; {gate}"))
            .fails_with(1)
            .stderr_is("tt-budget: error: per-session (session s1) is over its limit: 6,000 of 5,000 tokens\n");
    }
    sc.bash("set -o pipefail; tt-sum --period month < usage.jsonl | tt-budget --fail-over")
        .fails_with(2)
        .stderr_is(unsourced);
    // Within every budget, every form passes.
    sc.write("usage.jsonl", rec(&at, "ATLAS", 5000, "5", r#","session":"s1""#));
    for gate in gates {
        sc.bash(&format!("set -o pipefail; {gate}")).succeeds().stderr_is("");
    }
}

fn chrono_today() -> String {
    let out = std::process::Command::new("date").args(["-u", "+%Y-%m-%d"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn github_annotations_and_step_summary() {
    let sc = one("85", 1);
    let summary = sc.path().join("summary.md");
    sc.cmd("tt-budget")
        .args(["--limit-usd", "100", "--name", "team"])
        .args(TODAY)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .succeeds()
        .stderr_is("::warning title=tt budget team::budget team is warning at 85%25: $85.00 of $100.00; projected $170.00 of $100.00\n");
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        "### Token budgets

| BUDGET | SCOPE | WINDOW | SPENT | LIMIT | LEFT | USED | LEVEL | FORECAST | LIMIT ON |
| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- |
| team | - | month from 2026-11-01 | $85.00 | $100.00 | $15.00 | 85% | warning | $170.00 | 2026-11-18 |

```mermaid
xychart-beta
    title \"team: spend per day of the month from 2026-11-01\"
    x-axis \"day\" [\"11-01\", \"11-02\", \"11-03\", \"11-04\", \"11-05\", \"11-06\", \"11-07\", \"11-08\", \"11-09\", \"11-10\", \"11-11\", \"11-12\", \"11-13\", \"11-14\", \"11-15\"]
    y-axis \"USD\" 0 --> 100
    bar [0, 0, 0, 0, 0, 0, 0, 0, 0, 85, 0, 0, 0, 0, 0]
    line [3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333, 3.3333]
```

"
    );
    let sc = one("101", 1);
    sc.cmd("tt-budget").args(["--limit-usd", "100", "--github", "--fail-over"]).args(TODAY).fails_with(1).stderr_is(
        "::error title=tt budget ad-hoc::ad-hoc is over its limit: $101.00 of $100.00\n\
             tt-budget: error: ad-hoc is over its limit: $101.00 of $100.00\n",
    );
    // Over without a gate asking about it: still an error annotation (the build passes).
    sc.cmd("tt-budget")
        .args(["--limit-usd", "100", "--github"])
        .args(TODAY)
        .succeeds()
        .stderr_has("::error title=tt budget ad-hoc::budget ad-hoc is over at 101%25: $101.00 of $100.00");
    // Below warning: no annotation.
    let sc = one("10", 1);
    sc.cmd("tt-budget").args(["--limit-usd", "100"]).args(TODAY).env("GITHUB_ACTIONS", "true").succeeds().stderr_is("");
}

#[test]
fn formats_and_errors() {
    let sc = month_scenario();
    sc.cmd("tt-budget").args(TODAY).args(["--format", "csv"]).succeeds().stdout_has(
        "name,period,scope,window_start,window_end,session,spent_usd,spent_tokens,unpriced_records,limit_usd,limit_tokens,remaining_usd,remaining_tokens,percent,level,projected_usd,projected_tokens,limit_date\nteam-monthly,month,,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,,30,3000,0,50,,20,,60,info,60,6000,2026-11-26\n",
    );
    sc.cmd("tt-budget").args(TODAY).args(["--format", "markdown"]).succeeds().stdout_has("| team-monthly | - |");
    let out = sc.cmd("tt-budget").args(TODAY).args(["--format", "json"]).succeeds();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap().as_array().unwrap().len(), 2);
    sc.cmd("tt-budget")
        .args(["--budget", "nope"])
        .fails_with(2)
        .one_error_line("tt-budget")
        .stderr_has("no budget named");
    sc.cmd("tt-budget").args(["--limit-usd", "1", "--scope", "colour=red"]).fails_with(2).one_error_line("tt-budget");
    sc.cmd("tt-budget").args(["--limit-usd", "1", "--period", "fortnight"]).fails_with(2).one_error_line("tt-budget");
    let empty = Scenario::new();
    empty.cmd("tt-budget").fails_with(2).one_error_line("tt-budget").stderr_has("no budgets configured");
    // Scoped ad-hoc budget.
    let out = sc.cmd("tt-budget").args(["--limit-usd", "40", "--scope", "agent=BOLT"]).args(TODAY).succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"], 20);
    sc.cmd("tt-budget").arg("--help").succeeds().stdout_has("Examples:");
}

/// A valid row of the month of November 2026 (a total row when `group` is `{}`).
fn row(group: &str, records: u64, tokens: u64, cost: &str, unpriced: u64) -> String {
    format!(
        "{{\"kind\":\"summary\",\"window\":{{\"period\":\"month\",\"start\":\"2026-11-01T00:00:00Z\",\"end\":\"2026-12-01T00:00:00Z\"}},\"group\":{group},\"records\":{records},\"sessions\":0,\"input_tokens\":{tokens},\"output_tokens\":0,\"cache_read_tokens\":0,\"cache_write_tokens\":0,\"total_tokens\":{tokens},\"cost_usd\":{cost},\"unpriced_records\":{unpriced}}}\n"
    )
}

#[test]
fn summary_rows_missing_a_count_or_the_cost_are_errors_not_zero() {
    let sc = month_scenario();
    let good = row("{}", 2, 3000, "30", 0);
    sc.cmd("tt-budget").args(TODAY).args(["--budget", "team-monthly"]).pipe_in(&good).succeeds();
    for (field, broken) in [
        ("cost_usd", good.replace(",\"cost_usd\":30", "")),
        ("cost_usd", good.replace("\"cost_usd\":30", "\"cost_usd\":null")),
        ("records", good.replace("\"records\":2,", "")),
        ("total_tokens", good.replace("\"total_tokens\":3000,", "")),
        ("input_tokens", good.replace("\"input_tokens\":3000,", "")),
        ("unpriced_records", good.replace(",\"unpriced_records\":0", "")),
    ] {
        // The second line is the broken one: the error names it.
        sc.cmd("tt-budget")
            .args(TODAY)
            .pipe_in(format!("{good}{broken}"))
            .fails_with(2)
            .stderr_is(&format!("tt-budget: error: <stdin>:2: summary row: missing field `{field}`\n"));
    }
    // Counts that do not add up are not believed either.
    sc.cmd("tt-budget")
        .args(TODAY)
        .pipe_in(good.replace("\"total_tokens\":3000", "\"total_tokens\":2999"))
        .fails_with(2)
        .one_error_line("tt-budget")
        .stderr_has("<stdin>:1: summary row: field `total_tokens`: not the sum");
}

/// ATLAS spent $25 (1,000 tokens) and BOLT $20 (200,000 tokens) in November: ATLAS is over its $20.
fn atlas_over() -> Scenario {
    let sc = month_scenario();
    sc.write(
        "usage.jsonl",
        [rec("2026-11-05T10:00:00Z", "ATLAS", 1000, "25", ""), rec("2026-11-12T10:00:00Z", "BOLT", 200000, "20", "")]
            .concat(),
    );
    sc
}

#[test]
fn rows_cut_by_top_are_an_error_not_an_unspent_budget() {
    let sc = atlas_over();
    // Rows of records piped in (no `from`): they answer only what they hold.
    let sum = "tt-sum <usage.jsonl --period month --today 2026-11-15 --by agent";
    // --sort tokens --top 1 keeps only BOLT's row; the total says one group was left out.
    let out = sc.bash(&format!("{sum} --sort tokens --top 1")).succeeds();
    let rows = out.jsonl();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["group"]["agent"], "BOLT");
    assert_eq!(rows[1]["omitted_groups"], 1);
    // ATLAS's row is missing because it was cut, not because ATLAS spent nothing: exit 2, never "ok".
    sc.bash(&format!("set -o pipefail; {sum} --sort tokens --top 1 | tt-budget --today 2026-11-15 --fail-over"))
        .fails_with(2)
        .stdout_is("")
        .stderr_is(
            "tt-budget: error: budget atlas-monthly (month, agent=ATLAS) cannot be checked from these rows: they \
             were cut with --top (1 group left out), so its rows may be missing; run tt-sum without --top for the \
             gate\n",
        );
    // Rows of the log itself are answered as the log is, cut or not: ATLAS is over.
    sc.bash("tt-sum --period month --today 2026-11-15 --by agent --sort tokens --top 1 | tt-budget --today 2026-11-15 --fail-over")
        .fails_with(1)
        .stderr_is("tt-budget: error: atlas-monthly is over its limit: $25.00 of $20.00\n");
    // All rows: the gate sees ATLAS at $25 of $20.
    sc.bash(&format!("{sum} | tt-budget --today 2026-11-15 --fail-over"))
        .fails_with(1)
        .stderr_is("tt-budget: error: atlas-monthly is over its limit: $25.00 of $20.00\n");
    // A cut that kept the budget's own row (one row per agent, so it is complete) is still a verdict.
    sc.bash(&format!("{sum} --sort cost --top 1 | tt-budget --today 2026-11-15 --fail-over"))
        .fails_with(1)
        .stderr_is("tt-budget: error: atlas-monthly is over its limit: $25.00 of $20.00\n");
    // --top that cuts nothing writes no omitted_groups.
    let out = sc.bash(&format!("{sum} --top 2")).succeeds();
    assert!(out.jsonl()[2].get("omitted_groups").is_none(), "{}", out.stdout);
    // Grouped by more than the scope, any cut row may have held some of ATLAS's spend.
    sc.bash(&format!("{sum},model --sort cost --top 1 | tt-budget --today 2026-11-15 --budget atlas-monthly"))
        .fails_with(2)
        .stderr_has("cut with --top");
}

#[test]
fn rows_of_other_windows_are_not_the_budgets_spend() {
    let sc = atlas_over();
    // October: another $26 for BOLT.
    let mut log = sc.log();
    log.push_str(&rec("2026-10-12T10:00:00Z", "BOLT", 2000, "26", ""));
    sc.write("usage.jsonl", log);
    // This month's rows answer the monthly budget; last month's beside them are not its spend (not a sum either).
    let both = "{ tt-sum --period month --today 2026-11-15; tt-sum --period last-month --today 2026-11-15; }";
    let out = sc.bash(&format!("{both} | tt-budget --today 2026-11-15 --fail-over --budget team-monthly")).succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"], 45);
    // Last month alone does not answer this month's budget. Rows of records piped into tt-sum cannot say which
    // log they came from: a warning naming both windows, and under a gate no verdict.
    let last = "tt-sum --period last-month --today 2026-11-15 < usage.jsonl | tt-budget --today 2026-11-15 --budget \
                team-monthly";
    sc.bash(last).succeeds().stdout_is("").stderr_is(
        "tt-budget: warning: team-monthly not checked: the rows cover 2026-10-01 – 2026-10-31, the budget's window \
         is 2026-11-01 – 2026-11-30 (tt-sum --period month)\n",
    );
    sc.bash(&format!("{last} --fail-over")).fails_with(2).stdout_is("").stderr_is(
        "tt-budget: error: the gate cannot decide: these summary rows do not answer team-monthly (month; the rows \
         cover 2026-10-01 – 2026-10-31, the budget's window is 2026-11-01 – 2026-11-30) and do not say which log \
         they came from; run `tt-budget` on the log instead (it checks every budget), or give it `tt-sum --period \
         month` rows too\n",
    );
    // Rows from the log: the budget is checked from the log, over this month ($45, 90%), not October's $26.
    let last = "tt-sum --period last-month --today 2026-11-15 | tt-budget --today 2026-11-15 --budget team-monthly";
    let direct = out_of(&sc, &["--today", "2026-11-15", "--budget", "team-monthly"]);
    assert!(direct.contains("\"spent_usd\":45,"), "{direct}");
    sc.bash(last).succeeds().stdout_is(&direct).stderr_is("");
    sc.bash(&format!("{last} --fail-at warning"))
        .fails_with(1)
        .stdout_is(&direct)
        .stderr_is("tt-budget: error: team-monthly is at 90% (--fail-at warning): $45.00 of $50.00\n");
    // Two sets of rows for the same window that agree are one answer (the team total twice: $45, not $90).
    let out = sc
        .bash("{ tt-sum --period month --today 2026-11-15 --by agent; tt-sum --period month --today 2026-11-15 --by model; } | tt-budget --today 2026-11-15")
        .succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"], 45);
    assert_eq!(out.jsonl()[1]["spent_usd"], 25);
    // Rows of one window that disagree (two different logs) are an error, not a choice.
    sc.write("other.jsonl", rec("2026-11-06T10:00:00Z", "ATLAS", 1, "1", ""));
    sc.bash("{ tt-sum --period month --today 2026-11-15; tt-sum --period month --today 2026-11-15 other.jsonl; } | tt-budget --today 2026-11-15 --budget team-monthly")
        .fails_with(2)
        .stderr_has("two sets of rows for the same window");
}

#[test]
fn unpriced_records_make_the_dollar_spend_a_visible_lower_bound() {
    let sc = Scenario::new();
    let mystery = r#"{"v":1,"id":"m1","ts":"2026-11-10T12:00:00Z","agent":"A","model":"mystery-9","input_tokens":100,"output_tokens":0}"#;
    sc.write("usage.jsonl", format!("{mystery}\n"));
    let out = sc.cmd("tt-budget").args(["--limit-usd", "10", "--name", "team"]).args(TODAY).succeeds().stderr_is(
        "tt-budget: warning: 1 record in budget team could not be priced (unknown model, no cost_usd); its \
             dollar spend is a lower bound\n",
    );
    assert_eq!(out.jsonl()[0]["unpriced_records"], 1);
    assert_eq!(out.jsonl()[0]["spent_usd"], 0);
    // The table has an UNPRICED column, and nothing spent is $0, not $0.0000.
    sc.cmd("tt-budget").args(["--limit-usd", "10", "--format", "table"]).args(TODAY).succeeds().stdout_is(
        "BUDGET  SCOPE  WINDOW                 SPENT  UNPRICED   LIMIT    LEFT  USED  LEVEL  FORECAST  LIMIT ON
──────────────────────────────────────────────────────────────────────────────────────────────────────
ad-hoc  -      month from 2026-11-01     $0         1  $10.00  $10.00    0%  ok           $0  -
",
    );
    // A token budget counts the tokens whatever the price: no warning.
    sc.cmd("tt-budget").args(["--limit-tokens", "1000"]).args(TODAY).succeeds().stderr_is("");
    // From tt-sum's rows: the same.
    sc.bash("tt-sum --period month --today 2026-11-15 | tt-budget --limit-usd 10 --today 2026-11-15")
        .succeeds()
        .stderr_has("1 record in budget ad-hoc could not be priced");
}

#[test]
fn ad_hoc_flags_without_a_limit_are_errors_not_ignored() {
    let sc = month_scenario();
    for flags in [&["--scope", "agent=ATLAS"][..], &["--period", "day"], &["--warn-at", "0.1"], &["--name", "foo"]] {
        sc.cmd("tt-budget").args(TODAY).args(flags).fails_with(2).one_error_line("tt-budget").stderr_has(&format!(
            "tt-budget: error: {} describes an ad-hoc budget, which needs --limit-usd or --limit-tokens",
            flags[0]
        ));
    }
    // An ad-hoc budget and configured ones at once is ambiguous.
    sc.cmd("tt-budget")
        .args(["--limit-usd", "5", "--budget", "team-monthly"])
        .args(TODAY)
        .fails_with(2)
        .one_error_line("tt-budget");
    // With a limit, --period day is the ad-hoc budget's: today (the 15th) nothing was spent.
    let out = sc.cmd("tt-budget").args(["--limit-usd", "5", "--period", "day"]).args(TODAY).succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"], 0);
}

#[test]
fn zero_limits_and_bad_thresholds_are_refused() {
    let sc = month_scenario();
    // A zero limit has no percentage: refused (a tiny limit says "almost nothing").
    for flags in [["--limit-usd", "0"], ["--limit-usd", "$0.00"], ["--limit-tokens", "0"]] {
        sc.cmd("tt-budget")
            .args(flags)
            .args(TODAY)
            .fails_with(2)
            .one_error_line("tt-budget")
            .stderr_has("must be more than 0");
    }
    for (warn_at, what) in [
        ("0.9,0.5", "strictly ascending"),
        ("0.5,0.5", "strictly ascending"),
        ("0,0.5", "above 0 and at most 1"),
        ("1.5", "above 0 and at most 1"),
        ("0.2,0.4,0.6,0.8", "1 to 3 thresholds"),
        ("half", "wants fractions"),
    ] {
        sc.cmd("tt-budget")
            .args(["--limit-usd", "100", "--warn-at", warn_at])
            .args(TODAY)
            .fails_with(2)
            .one_error_line("tt-budget")
            .stderr_has("--warn-at")
            .stderr_has(what);
    }
    // 1 is a threshold too: warning only at the limit itself.
    sc.cmd("tt-budget").args(["--limit-usd", "30", "--warn-at", "1"]).args(TODAY).succeeds();
    // The same rules for configured budgets, naming the file, the line and the budget.
    for (extra, what) in [
        ("limit_usd = 0", "`limit_usd` must be more than $0"),
        ("limit_usd = 5\nwarn_at = [0.5, 0.5]", "`warn_at` thresholds must be strictly ascending"),
        ("limit_usd = 5\nwarn_at = [0.8, 1.01]", "at most 1"),
        ("limit_usd = 5\nwarn_at = [0.1, 0.2, 0.3, 0.4]", "1 to 3 thresholds"),
        ("limit_usd = 5\nwarn_at = [0.9, 0.5]", "strictly ascending"),
    ] {
        sc.write("tt.toml", format!("[[budget]]\nname = \"b\"\nperiod = \"month\"\n{extra}\n"));
        sc.cmd("tt-budget")
            .args(TODAY)
            .fails_with(2)
            .one_error_line("tt-budget")
            .stderr_has("tt.toml:2: key `budget` (#1): b: ")
            .stderr_has(what);
    }
    // warn_at from the config: [0.25, 0.6] is warning from 25% and critical from 60%; $30 of $50 is 60%.
    sc.write("tt.toml", "[[budget]]\nname = \"b\"\nperiod = \"month\"\nlimit_usd = 50\nwarn_at = [0.25, 0.6]\n");
    assert_eq!(level_of(&sc.cmd("tt-budget").args(TODAY).succeeds()), "critical");
    sc.write("tt.toml", "[[budget]]\nname = \"b\"\nperiod = \"month\"\nlimit_usd = 50\nwarn_at = [0.25, 0.61]\n");
    assert_eq!(level_of(&sc.cmd("tt-budget").args(TODAY).succeeds()), "warning");
}

#[test]
fn the_estimate_check_says_how_far_over_a_budget_already_is() {
    let sc = atlas_over();
    // ATLAS: $25 of $20 — already $5 over, so even a free task is deferred, and the message says by how much.
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(["--budget", "atlas-monthly", "--estimate-usd", "0"])
        .fails_with(1)
        .stderr_is("tt-budget: error: atlas-monthly: already over by $5.00; this task needs ~$0: defer it\n");
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(["--limit-tokens", "1000", "--scope", "agent=BOLT", "--estimate-tokens", "1"])
        .fails_with(1)
        .stderr_is("tt-budget: error: ad-hoc: already over by 199,000 tokens; this task needs ~1 token: defer it\n");
}

#[test]
fn today_stops_the_window_at_the_pinned_day() {
    // $10 on the 5th and $20 on the 12th.
    let sc = month_scenario();
    let team = ["--budget", "team-monthly"];
    // On the 1st nothing had been spent yet: the records of the 5th and the 12th are in the future.
    let out = sc.cmd("tt-budget").args(["--today", "2026-11-01"]).args(team).succeeds();
    let e = &out.jsonl()[0];
    assert_eq!((e["spent_usd"].to_string(), e["records"].to_string()), ("0".into(), "0".into()));
    assert_eq!(e["forecast"]["projected_usd"], 0);
    // On the 10th: $10 in 10 of 30 days → $10 × 30 / 10 = $30 projected (the $20 of the 12th is not counted).
    let out = sc.cmd("tt-budget").args(["--today", "2026-11-10"]).args(team).succeeds();
    let e = &out.jsonl()[0];
    assert_eq!(e["spent_usd"], 10);
    assert_eq!(e["forecast"]["projected_usd"], 30);
    // tt-sum agrees (its window still shows the whole month), and so does the pipeline.
    let out = sc.cmd("tt-sum").args(["--period", "month", "--today", "2026-11-10"]).succeeds();
    let r = &out.jsonl()[0];
    assert_eq!((r["cost_usd"].to_string(), r["window"]["end"].as_str()), ("10".into(), Some("2026-12-01T00:00:00Z")));
    let piped =
        sc.bash("tt-sum --period month --today 2026-11-10 | tt-budget --today 2026-11-10 --budget team-monthly");
    assert_eq!(piped.succeeds().stdout, out_of(&sc, &["--today", "2026-11-10", "--budget", "team-monthly"]));
}

fn out_of(sc: &Scenario, args: &[&str]) -> String {
    sc.cmd("tt-budget").args(args).succeeds().stdout
}

#[test]
fn week_and_year_budgets_multi_field_and_tag_scopes_both_limits_and_tz() {
    let sc = Scenario::new();
    let tagged = |ts: &str, agent: &str, tokens: u64, cost: &str, project: &str, team: &str| {
        rec(ts, agent, tokens, cost, &format!(r#","project":"{project}","tags":{{"team":"{team}"}}"#))
    };
    sc.write(
        "usage.jsonl",
        [
            // Sunday 2026-11-15 (a week starting Sunday holds it; a Monday week does not).
            tagged("2026-11-15T10:00:00Z", "ATLAS", 1000, "4", "api", "web"),
            // Saturday the 14th, 23:30 UTC: Sunday the 15th in Berlin.
            tagged("2026-11-14T23:30:00Z", "ATLAS", 2000, "3", "api", "web"),
            tagged("2026-11-13T10:00:00Z", "BOLT", 4000, "2", "api", "ops"),
            tagged("2026-02-01T10:00:00Z", "ATLAS", 8000, "1", "web", "web"),
        ]
        .concat(),
    );
    sc.write(
        "tt.toml",
        r#"week_start = "sunday"

[[budget]]
name = "weekly"
period = "week"
limit_usd = 10

[[budget]]
name = "atlas-api"
period = "year"
scope = { agent = "ATLAS", project = "api" }
limit_usd = 8
limit_tokens = 2500

[[budget]]
name = "web-team"
period = "year"
scope = { "tag:team" = "web" }
limit_usd = 100
"#,
    );
    let today = ["--today", "2026-11-15"];
    let out = sc.cmd("tt-budget").args(today).succeeds();
    let rows = out.jsonl();
    // The week from Sunday the 15th (UTC) holds only the $4 of that day: 40% of $10.
    assert_eq!(rows[0]["window"]["start"], "2026-11-15T00:00:00Z");
    assert_eq!((rows[0]["spent_usd"].to_string(), rows[0]["level"].as_str()), ("4".into(), Some("ok")));
    // ATLAS on api this year: $7 of $8 (87.5%) and 3,000 of 2,500 tokens (120%): the more used limit decides.
    assert_eq!(rows[1]["spent_usd"], 7);
    assert_eq!(rows[1]["spent_tokens"], 3000);
    assert_eq!((rows[1]["percent"].to_string(), rows[1]["level"].as_str()), ("120".into(), Some("over")));
    // tag:team=web this year: 4 + 3 + 1 = $8.
    assert_eq!(rows[2]["spent_usd"], 8);
    sc.cmd("tt-budget")
        .args(today)
        .arg("--fail-over")
        .fails_with(1)
        .stderr_is("tt-budget: error: atlas-api is over its limit: $7.00 of $8.00, 3,000 of 2,500 tokens\n");
    // In Berlin the Saturday-night record is on Sunday: the week holds $4 + $3 = $7.
    let out = sc.cmd("tt-budget").args(today).args(["--tz", "Europe/Berlin", "--budget", "weekly"]).succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"], 7);
    assert_eq!(out.jsonl()[0]["window"]["start"], "2026-11-15T00:00:00+01:00");
    // Zone names in any case.
    let utc = sc.cmd("tt-budget").args(today).args(["--tz", "utc"]).succeeds();
    assert_eq!(utc.stdout, out_of(&sc, &today));
    // From rows: year rows grouped by agent and project answer the multi-field budget, tag rows the tag one.
    let out = sc
        .bash("tt-sum --period year --today 2026-11-15 --by agent,project | tt-budget --today 2026-11-15 --budget atlas-api")
        .succeeds();
    assert_eq!(out.jsonl()[0]["spent_tokens"], 3000);
    let out = sc
        .bash("tt-sum --period year --today 2026-11-15 --by tag:team | tt-budget --today 2026-11-15 --budget web-team")
        .succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"], 8);
    let out =
        sc.bash("tt-sum --period week --today 2026-11-15 | tt-budget --today 2026-11-15 --budget weekly").succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"], 4);
}

#[test]
fn config_and_log_flags() {
    let sc = month_scenario();
    // --config names the config file (here outside the project), --log the log.
    sc.write("elsewhere/budgets.toml", "[[budget]]\nname = \"tight\"\nperiod = \"month\"\nlimit_usd = 25\n");
    sc.write("elsewhere/other.jsonl", rec("2026-11-03T10:00:00Z", "X", 1, "26", ""));
    let out = sc.cmd("tt-budget").args(TODAY).args(["--config", "elsewhere/budgets.toml"]).succeeds();
    assert_eq!(
        out.jsonl().iter().map(|e| e["name"].as_str().unwrap()).collect::<Vec<_>>(),
        ["team-monthly", "atlas-monthly", "tight"]
    );
    sc.cmd("tt-budget")
        .args(TODAY)
        .args([
            "--config",
            "elsewhere/budgets.toml",
            "--log",
            "elsewhere/other.jsonl",
            "--budget",
            "tight",
            "--fail-over",
        ])
        .fails_with(1)
        .stderr_is("tt-budget: error: tight is over its limit: $26.00 of $25.00\n");
    sc.cmd("tt-budget").args(["--config", "elsewhere/missing.toml"]).fails_with(2).one_error_line("tt-budget");
}

#[test]
fn sums_too_large_to_be_exact_are_errors_not_saturated() {
    let sc = Scenario::new();
    // Two records of u64::MAX tokens: their sum does not fit, so no verdict can be given (exit 2).
    let big = |id: &str| {
        format!(
            "{{\"v\":1,\"id\":\"{id}\",\"ts\":\"2026-11-10T12:00:00Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":18446744073709551615,\"output_tokens\":0,\"cost_usd\":1,\"session\":\"s\"}}\n"
        )
    };
    sc.write("usage.jsonl", big("a") + &big("b"));
    for period in ["month", "session"] {
        sc.cmd("tt-budget")
            .args(["--limit-tokens", "10", "--period", period])
            .args(TODAY)
            .fails_with(2)
            .one_error_line("tt-budget")
            .stderr_has("the spend is too large to sum exactly");
    }
    // Dollars past what a decimal holds: the same.
    let rich = |id: &str| {
        format!(
            "{{\"v\":1,\"id\":\"{id}\",\"ts\":\"2026-11-10T12:00:00Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":0,\"cost_usd\":70000000000000000000000000000}}\n"
        )
    };
    sc.write("usage.jsonl", rich("a") + &rich("b"));
    sc.cmd("tt-budget")
        .args(["--limit-usd", "10"])
        .args(TODAY)
        .fails_with(2)
        .one_error_line("tt-budget")
        .stderr_has("too large");
    // One such record is a verdict (over), not a panic, even for a tiny limit.
    sc.write("usage.jsonl", rich("a"));
    sc.cmd("tt-budget").args(["--limit-usd", "0.0001", "--fail-projected"]).args(TODAY).fails_with(1);
}

/// GitHub Actions (and many process runners) start every step with stdin an empty pipe, closed at once: that
/// is "nothing on stdin", so the gate reads the log — it never sees zero records and passes an over-budget
/// build. A pipe with data is still read, also when its first block was read ahead to tell the two apart.
#[test]
fn an_empty_pipe_on_stdin_is_nothing_on_stdin_so_the_gate_reads_the_log() {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        "{\"v\":1,\"id\":\"a\",\"ts\":\"2026-11-10T10:00:00Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1,\"cost_usd\":5}\n",
    );
    let gate = ["--limit-usd", "1", "--period", "total", "--fail-over"];
    sc.cmd("tt-budget").args(gate).pipe_in("").fails_with(1).stderr_has("ad-hoc is over its limit: $5.00 of $1.00");
    // The same in a shell, as a CI step runs it: `true |` gives tt-sum an empty pipe, tt-sum's rows feed the gate.
    sc.bash("set -o pipefail; true | tt-sum --period all | tt-budget --limit-usd 1 --period total --fail-over")
        .fails_with(1);
    let rows = sc.cmd("tt-sum").pipe_in("").succeeds().stdout;
    assert!(rows.contains("\"records\":1,"), "{rows}");
    // Data on the pipe is read, all of it (more than the block read ahead).
    let many: String = (0..5000)
        .map(|i| format!("{{\"v\":1,\"id\":\"r{i}\",\"ts\":\"2026-11-10T10:00:00Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1,\"cost_usd\":0.001}}\n"))
        .collect();
    assert!(many.len() > 64 * 1024);
    let out = sc.cmd("tt-sum").pipe_in(&many).succeeds().stdout;
    assert!(out.contains("\"records\":5000,") && out.contains("\"cost_usd\":5,"), "{out}");
    let out = sc.cmd("tt-budget").args(gate).pipe_in(&many).fails_with(1).stdout;
    assert!(out.contains("\"records\":5000,"), "{out}");
}

/// A reader that closes stdout early (`| true`, `| head -0`) stops the report, never the gate: the verdict, the
/// annotations and the job summary still follow, so an over-budget build is never passed by a closed pipe.
#[test]
fn a_reader_that_closes_early_stops_the_report_not_the_gate() {
    let sc = one("30", 1);
    let summary = sc.path().join("summary.md");
    // `sleep` first, so the reader has surely gone when tt-budget writes: the write is a broken pipe.
    let closed = |flags: &str| {
        let out = sc.bash(&format!(
            "{{ sleep 0.3; tt-budget {flags} --today 2026-11-15; }} | true; echo rc=${{PIPESTATUS[0]}}"
        ));
        out.env("GITHUB_STEP_SUMMARY", &summary).run()
    };
    let out = closed("--limit-usd 0.01 --fail-over");
    assert_eq!(out.stdout, "rc=1\n", "{}", out.stderr);
    assert_eq!(out.stderr, "tt-budget: error: ad-hoc is over its limit: $30.00 of $0.0100\n");
    let out = closed("--limit-usd 40 --estimate-usd 20");
    assert_eq!(out.stdout, "rc=1\n");
    assert_eq!(out.stderr, "tt-budget: error: ad-hoc: $10.00 left; this task needs ~$20.00: defer it\n");
    for flags in ["--limit-usd 40 --fail-at info", "--limit-usd 40 --fail-projected"] {
        assert_eq!(closed(flags).stdout, "rc=1\n", "{flags}");
    }
    // GitHub output after a closed pipe: the annotation and the job summary are still written.
    let out = closed("--limit-usd 0.01 --fail-over --github --format table");
    assert_eq!(out.stdout, "rc=1\n");
    assert!(out.stderr.starts_with("::error title=tt budget ad-hoc::ad-hoc is over its limit"), "{}", out.stderr);
    assert!(std::fs::read_to_string(&summary).unwrap().contains("| ad-hoc | - | month from 2026-11-01 | $30.00 |"));
    // A budget within its limit is still a pass, and a closed pipe is still quiet.
    let out = closed("--limit-usd 100 --fail-over");
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("rc=0\n", ""));
}

/// Under a gate (--fail-over, --fail-at, --fail-projected, --estimate-*), a budget the rows do not answer is
/// checked from the log they came from; rows that cannot say (records piped into tt-sum) are no verdict (exit
/// 2) — never a pass, whether they answer no budget, some, or not one asked for by name.
#[test]
fn under_a_gate_rows_that_check_nothing_are_an_error_not_a_pass() {
    let sc = atlas_over();
    let today = "--today 2026-11-15";
    let unsourced = |which: &str, rows: &str| {
        format!(
            "tt-budget: error: the gate cannot decide: these summary rows do not answer {which} and do not say which \
             log they came from; run `tt-budget` on the log instead (it checks every budget), or give it {rows} \
             rows too\n"
        )
    };
    let neither = unsourced(
        "team-monthly (month), atlas-monthly (month, agent=ATLAS)",
        "`tt-sum --period month` and `tt-sum --period month --by agent`",
    );
    let atlas = unsourced("atlas-monthly (month, agent=ATLAS)", "`tt-sum --period month --by agent`");
    // All-time rows answer neither monthly budget. Without a source: exit 2 for every gate, never 0. From the
    // log: both are checked from it — the same report, verdict and exit code as `tt-budget` on the log.
    for gate in ["--fail-over", "--fail-at warning", "--fail-projected", "--estimate-usd 100", "--estimate-tokens 5"] {
        sc.bash(&format!("tt-sum {today} < usage.jsonl | tt-budget {today} {gate}"))
            .fails_with(2)
            .stdout_is("")
            .stderr_is(&neither);
        let piped = sc.bash(&format!("tt-sum {today} | tt-budget {today} {gate}")).fails_with(1);
        let direct = sc.bash(&format!("tt-budget {today} {gate}")).fails_with(1);
        assert_eq!((&piped.stdout, &piped.stderr), (&direct.stdout, &direct.stderr), "{gate}");
        assert!(piped.stderr.contains("atlas-monthly"), "{gate}: {}", piped.stderr);
    }
    // The same budgets from the log: over.
    sc.cmd("tt-budget")
        .args(TODAY)
        .arg("--fail-over")
        .fails_with(1)
        .stderr_is("tt-budget: error: atlas-monthly is over its limit: $25.00 of $20.00\n");
    // Rows answering some budgets: the rest (ATLAS's, over) is checked from the log; without a source, it is
    // named and there is no verdict — also when it was asked for by name.
    for budgets in ["", " --budget atlas-monthly --budget team-monthly"] {
        sc.bash(&format!("tt-sum --period month {today} | tt-budget {today} --fail-over{budgets}"))
            .fails_with(1)
            .stdout_is(&out_of(&sc, &TODAY))
            .stderr_is("tt-budget: error: atlas-monthly is over its limit: $25.00 of $20.00\n");
        sc.bash(&format!("tt-sum --period month {today} < usage.jsonl | tt-budget {today} --fail-over{budgets}"))
            .fails_with(2)
            .stdout_is("")
            .stderr_is(&atlas);
    }
    // A budget not asked for is not needed: the rows answer the one asked for ($45 of $50: a pass).
    sc.bash(&format!(
        "tt-sum --period month {today} < usage.jsonl | tt-budget {today} --fail-over --budget team-monthly"
    ))
    .succeeds()
    .stdout_is(&out_of(&sc, &["--today", "2026-11-15", "--budget", "team-monthly"]))
    .stderr_is("");
    // Without a gate, rows that answer nothing and cannot say where they came from are only a report: warnings,
    // exit 0. From the log, the report is the log's.
    sc.bash(&format!("tt-sum {today} < usage.jsonl | tt-budget {today}")).succeeds().stdout_is("").stderr_is(
        "tt-budget: warning: team-monthly (month) not checked: these summary rows do not answer it; it needs \
         `tt-sum --period month` rows\n\
         tt-budget: warning: atlas-monthly (month, agent=ATLAS) not checked: these summary rows do not answer it; \
         it needs `tt-sum --period month --by agent` rows\n",
    );
    sc.bash(&format!("tt-sum {today} | tt-budget {today}")).succeeds().stdout_is(&out_of(&sc, &TODAY)).stderr_is("");
    // The combined-rows form the README gives checks every budget at once, like reading the log — from stdin too.
    for input in ["", " < usage.jsonl"] {
        let combined = format!(
            "(tt-sum --period month --by agent {today}{input}; tt-sum --by session {today}{input}) | tt-budget {today}"
        );
        assert_eq!(sc.bash(&combined).succeeds().stdout, out_of(&sc, &TODAY));
        sc.bash(&format!("{combined} --fail-over"))
            .fails_with(1)
            .stderr_is("tt-budget: error: atlas-monthly is over its limit: $25.00 of $20.00\n");
    }
}

/// Rows must be whole tt-sum outputs: group rows not closed by their total row (cut, `grep`ped), groups that do
/// not add up to their total, and counts no records could give are errors — never a scoped budget at $0.
#[test]
fn rows_without_their_total_or_that_do_not_add_up_are_refused() {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        [rec("2026-11-05T10:00:00Z", "ATLAS", 1000, "5", ""), rec("2026-11-06T10:00:00Z", "NOVA", 1000, "7", "")]
            .concat(),
    );
    let gate = "tt-budget --limit-usd 0.01 --period total --scope agent=ATLAS --fail-over";
    let no_total = "tt-budget: error: summary rows end without their total row (the row with an empty group that \
                    closes each tt-sum output): truncated or filtered input? give tt-budget whole tt-sum outputs\n";
    sc.bash(&format!("tt-sum --by agent | grep NOVA | {gate}")).fails_with(2).stderr_is(no_total);
    sc.bash(&format!("tt-sum --by agent | head -1 | {gate}")).fails_with(2).stderr_is(no_total);
    // A total row of another window does not close them either.
    sc.bash(&format!("(tt-sum --by agent | head -1; tt-sum --period month --today 2026-11-15) | {gate}"))
        .fails_with(2)
        .stderr_is(no_total);
    // A group row filtered out: the rest no longer add up to the total.
    sc.bash(&format!("tt-sum --by agent | grep -v ATLAS | {gate}")).fails_with(2).stderr_is(
        "tt-budget: error: summary rows do not add up to their total row (records: the groups give 1, the total \
         2): filtered or edited input? give tt-budget whole tt-sum outputs\n",
    );
    // Whole rows: ATLAS's $5 is over $0.01.
    sc.bash(&format!("tt-sum --by agent | {gate}")).fails_with(1).stderr_has("ad-hoc is over its limit: $5.00 of");
    // Counts no records could give.
    let total = |records: u64, tokens: u64, cost: &str, unpriced: u64, sessions: u64| {
        row("{}", records, tokens, cost, unpriced).replace("\"sessions\":0", &format!("\"sessions\":{sessions}"))
    };
    for (bad, what) in [
        (total(0, 0, "5", 0, 0), "`cost_usd` 5 with `records` 0"),
        (total(0, 10, "0", 0, 0), "10 tokens with `records` 0"),
        (total(1, 10, "0", 0, 2), "2 sessions but 1 records"),
        (total(1, 10, "3", 1, 0), "`cost_usd` 3 while every record is unpriced"),
    ] {
        sc.cmd("tt-budget").args(["--limit-usd", "1", "--fail-over"]).args(TODAY).pipe_in(bad).fails_with(2).stderr_is(
            &format!(
                "tt-budget: error: <stdin>:1: summary row: inconsistent counts: {what} (edited or hand-made input?)\n"
            ),
        );
    }
    sc.cmd("tt-budget").args(["--limit-usd", "1"]).args(TODAY).pipe_in(total(0, 0, "0", 0, 0)).succeeds();
}

/// The estimate is checked against the budgets that apply to the task (its context from flags or tt-log's
/// environment), and a session budget against the task's own session.
#[test]
fn the_estimate_is_checked_against_the_budgets_that_apply_to_the_task() {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        [
            rec("2026-11-15T08:00:00Z", "ATLAS", 10000, "4.5", r#","session":"s1""#),
            rec("2026-11-15T09:00:00Z", "NOVA", 90000, "1", r#","session":"big""#),
        ]
        .concat(),
    );
    sc.write(
        "tt.toml",
        r#"
[[budget]]
name = "team-monthly"
period = "month"
limit_usd = 50

[[budget]]
name = "atlas-daily"
period = "day"
scope = { agent = "ATLAS" }
limit_usd = 5

[[budget]]
name = "per-session"
period = "session"
limit_tokens = 100000

[[budget]]
name = "gpt"
period = "month"
scope = { model = "gpt-4o" }
limit_usd = 1
"#,
    );
    let est_in = |args: &[&str], env: &[(&str, &str)]| {
        let mut r = sc.cmd("tt-budget").args(TODAY).args(["--estimate-usd", "12"]).args(args);
        for (k, v) in env {
            r = r.env(k, v);
        }
        r.run()
    };
    let est = |args: &[&str]| est_in(args, &[]);
    // No context: every budget applies (conservative), so ATLAS's $0.50 left and the gpt-4o budget's $1 defer it.
    est(&[]).code(1).stderr_is(
        "tt-budget: error: atlas-daily: $0.5000 left; this task needs ~$12.00: defer it; gpt: $1.00 left; this task \
         needs ~$12.00: defer it\n",
    );
    // A NOVA task on sonnet: ATLAS's and the gpt-4o budget do not apply; a new session starts at 0 (not at the
    // 90,000 tokens of the biggest session).
    // (A dollar estimate says nothing of a token limit: the go says so.)
    let go = "tt-budget: go: ~$12.00 fits: team-monthly ($44.50 left); per-session in a new session (100,000 tokens \
              left; no token estimate); not for this task: atlas-daily (agent=NOVA), gpt (model=sonnet-4.5)\n";
    est(&["--agent", "NOVA", "--model", "sonnet-4.5"]).success().stderr_is(go);
    // tt-log's environment gives the same context.
    est_in(&[], &[("TT_AGENT", "NOVA"), ("TT_MODEL", "sonnet-4.5")]).success().stderr_is(go);
    // A model scope matches every spelling of its model: a task on the dated gpt-4o id is checked against it.
    est(&["--agent", "NOVA", "--model", "gpt-4o-2024-08-06"])
        .code(1)
        .stderr_is("tt-budget: error: gpt: $1.00 left; this task needs ~$12.00: defer it\n");
    // Session budgets: the task's session so far.
    let tokens = |session: &str, n: &str| {
        sc.cmd("tt-budget")
            .args(TODAY)
            .args(["--budget", "per-session", "--estimate-tokens", n])
            .env("TT_SESSION", session)
            .run()
    };
    tokens("s1", "90000")
        .success()
        .stderr_is("tt-budget: go: ~90,000 tokens fits: per-session in session s1 (90,000 tokens left)\n");
    tokens("big", "10001").code(1).stderr_is(
        "tt-budget: error: per-session (session big): 10,000 tokens left; this task needs ~10,001 tokens: defer it\n",
    );
    tokens("new", "100000").success();
    // From rows grouped by session: the same answer.
    sc.bash("tt-sum --by session | TT_SESSION=big tt-budget --budget per-session --estimate-tokens 10001")
        .fails_with(1)
        .stderr_has("per-session (session big): 10,000 tokens left");
    // The "$0" warning only when a dollar budget is actually checked with unpriced tokens.
    tokens("s1", "1")
        .success()
        .stderr_is("tt-budget: go: ~1 token fits: per-session in session s1 (90,000 tokens left)\n");
    sc.cmd("tt-budget").args(TODAY).args(["--budget", "team-monthly", "--estimate-tokens", "1"]).succeeds().stderr_has(
        "tt-budget: warning: --estimate-tokens without --model (or TT_MODEL) or --estimate-usd: the dollar limit \
             of team-monthly is checked with $0 for this task\n",
    );
    // TT_MODEL prices the tokens: 4M input tokens of haiku-4.5 are $4.
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(["--budget", "team-monthly", "--estimate-tokens", "4000000"])
        .env("TT_MODEL", "haiku-4.5")
        .succeeds()
        .stderr_is("tt-budget: go: ~4,000,000 tokens ($4.00) fits: team-monthly ($44.50 left)\n");
    // No budget applies: go, and why.
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(["--budget", "atlas-daily", "--estimate-usd", "99", "--agent", "NOVA"])
        .succeeds()
        .stderr_is(
            "tt-budget: go: ~$99.00: no budget applies to this task; not for this task: atlas-daily (agent=NOVA)\n",
        );
    // Context flags describe the estimate's task: without an estimate they are an error, not ignored.
    for flags in [&["--agent", "NOVA"][..], &["--model", "opus-4.5"], &["--session", "s1"], &["--tag", "team=web"]] {
        sc.cmd("tt-budget")
            .args(TODAY)
            .args(flags)
            .fails_with(2)
            .one_error_line("tt-budget")
            .stderr_has("describes the task of a pre-task check");
    }
    // …while the environment is simply not used then.
    sc.cmd("tt-budget").args(TODAY).env("TT_AGENT", "NOVA").succeeds();
}

/// A model scope counts every spelling of its model (aliases, dated ids, prefixes), in records and in rows
/// grouped by model.
#[test]
fn model_scopes_match_every_spelling_of_the_model() {
    let sc = Scenario::new();
    let on = |id: &str, model: &str, cost: &str| {
        format!(
            "{{\"v\":1,\"id\":\"{id}\",\"ts\":\"2026-11-10T10:00:00Z\",\"agent\":\"A\",\"model\":\"{model}\",\"input_tokens\":1,\"output_tokens\":0,\"cost_usd\":{cost}}}\n"
        )
    };
    sc.write(
        "usage.jsonl",
        [
            on("a", "sonnet-4.5", "1"),
            on("b", "claude-sonnet-4-5-20250929", "2"),
            on("c", "anthropic/claude-sonnet-4-5", "4"),
            on("d", "gpt-4o-2024-08-06", "8"),
            on("e", "mystery-model", "16"),
        ]
        .concat(),
    );
    let spent = |out: Out| out.jsonl()[0]["spent_usd"].to_string();
    let budget = |scope: &str| ["--limit-usd", "100", "--period", "total", "--scope", scope].map(String::from);
    for (scope, want) in [
        ("model=claude-sonnet-4-5", "7"),
        ("model=sonnet-4.5", "7"),
        ("model=gpt-4o", "8"),
        // A model the price table does not know matches literally.
        ("model=mystery-model", "16"),
        ("model=mystery", "0"),
    ] {
        assert_eq!(spent(sc.cmd("tt-budget").args(budget(scope)).succeeds()), want, "{scope}");
        // Rows grouped by model: every spelling's row counts.
        let piped =
            sc.bash(&format!("tt-sum --by model <usage.jsonl | tt-budget {}", budget(scope).join(" "))).succeeds();
        assert_eq!(spent(piped), want, "{scope} from rows");
    }
    // The README's `{ model = "gpt-4o" }` in a config counts what `tt-log --from openai` logs.
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"gpt\"\nperiod = \"total\"\nscope = { model = \"gpt-4o\" }\nlimit_usd = 5\n",
    );
    sc.cmd("tt-budget")
        .arg("--fail-over")
        .fails_with(1)
        .stderr_is("tt-budget: error: gpt is over its limit: $8.00 of $5.00\n");
    // Rows cut by --top may have lost one spelling: no verdict (unless they are the log's, answered as the log).
    sc.bash("tt-sum --by model --top 2 <usage.jsonl | tt-budget --budget gpt --fail-over")
        .fails_with(2)
        .stderr_has("cut with --top");
    sc.bash("tt-sum --by model --top 2 | tt-budget --budget gpt --fail-over")
        .fails_with(1)
        .stderr_is("tt-budget: error: gpt is over its limit: $8.00 of $5.00\n");
}

/// GitHub Actions: an `::error::` for whatever makes the gate fail, `::warning::` for budgets not checked and
/// unpriced spend, and the job summary says which budgets were skipped and why the gate failed.
#[test]
fn github_output_names_every_reason_the_gate_fails() {
    let sc = month_scenario();
    let gh = |script: &str| sc.bash(script).env("GITHUB_ACTIONS", "true");
    // --fail-projected on a budget still at ok by its spend ($30 of $50 is info; atlas at 50%): an error.
    gh("tt-budget --today 2026-11-15 --fail-projected").run().code(1).stderr_is(
        "::error title=tt budget team-monthly::team-monthly is projected over its limit by the end of the month: \
         $60.00 of $50.00\n\
         tt-budget: error: team-monthly is projected over its limit by the end of the month: $60.00 of $50.00\n",
    );
    // --fail-at info: an error for each budget it trips.
    let out = gh("tt-budget --today 2026-11-15 --fail-at info").run().code(1);
    assert!(
        out.stderr.starts_with(
            "::error title=tt budget team-monthly::team-monthly is at 60%25 (--fail-at info): $30.00 of $50.00\n\
         ::error title=tt budget atlas-monthly::atlas-monthly is at 50%25 (--fail-at info): $10.00 of $20.00\n"
        ),
        "{}",
        out.stderr
    );
    // An estimate to defer.
    gh("tt-budget --today 2026-11-15 --estimate-usd 15").run().code(1).stderr_is(
        "::error title=tt budget atlas-monthly::atlas-monthly: $10.00 left; this task needs ~$15.00: defer it\n\
         tt-budget: error: atlas-monthly: $10.00 left; this task needs ~$15.00: defer it\n",
    );
    // Budgets the rows (of records piped into tt-sum, so they cannot say which log they came from) do not
    // answer: a warning each, in the log and in the job summary.
    let summary = sc.path().join("summary.md");
    gh("tt-sum --period month --today 2026-11-15 < usage.jsonl | tt-budget --today 2026-11-15")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .succeeds()
        .stderr_is(
            "tt-budget: warning: atlas-monthly (month, agent=ATLAS) not checked: these summary rows do not answer \
             it; it needs `tt-sum --period month --by agent` rows\n\
             ::warning title=tt budget atlas-monthly::atlas-monthly (month, agent=ATLAS) not checked: these summary \
             rows do not answer it; it needs `tt-sum --period month --by agent` rows\n",
        );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("| team-monthly | - | month from 2026-11-01 | $30.00 |"), "{md}");
    assert!(
        md.contains(
            "Warnings (budgets not checked, spend that could not be priced):\n\n- atlas-monthly (month, agent=ATLAS) \
             not checked: these summary rows do not answer it; it needs `tt-sum --period month --by agent` rows\n"
        ),
        "{md}"
    );
    assert!(!md.contains("gate failed"), "{md}");
    // Under a gate those rows are no verdict: exit 2, with an `::error::` saying why (and, when the job summary
    // is written, it says why too — never a table of budgets that passed).
    std::fs::remove_file(&summary).unwrap();
    let why = "the gate cannot decide: these summary rows do not answer atlas-monthly (month, agent=ATLAS) and do \
               not say which log they came from; run `tt-budget` on the log instead (it checks every budget), or \
               give it `tt-sum --period month --by agent` rows too";
    gh("tt-sum --period month --today 2026-11-15 < usage.jsonl | tt-budget --today 2026-11-15 --fail-over")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .run()
        .code(2)
        .stdout_is("")
        .stderr_is(&format!("tt-budget: error: {why}\n::error title=tt-budget::{why}\n"));
    if let Ok(md) = std::fs::read_to_string(&summary) {
        assert!(
            md.contains("these summary rows do not answer atlas-monthly (month, agent=ATLAS) and do not say"),
            "{md}"
        );
        assert!(!md.contains("| atlas-monthly |") && !md.contains("| team-monthly |"), "{md}");
        std::fs::remove_file(&summary).unwrap();
    }
    // Rows from the log: the budget they do not answer is checked from it, so nothing goes unchecked — the
    // report, the annotations and the summary are those of reading the log.
    let from_log = gh("tt-sum --period month --today 2026-11-15 | tt-budget --today 2026-11-15 --fail-at info")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .run()
        .code(1);
    let md = std::fs::read_to_string(&summary).unwrap();
    std::fs::remove_file(&summary).unwrap();
    let direct = gh("tt-budget --today 2026-11-15 --fail-at info").env("GITHUB_STEP_SUMMARY", &summary).run().code(1);
    assert_eq!((&from_log.stdout, &from_log.stderr), (&direct.stdout, &direct.stderr));
    // But for the chart: rows on stdin cannot be read again for the days' spend, so only the direct read has it.
    let direct_md = std::fs::read_to_string(&summary).unwrap();
    let (before, rest) = direct_md.split_once("```mermaid\n").unwrap();
    let after = rest.split_once("```\n\n").unwrap().1;
    assert_eq!(md, format!("{before}{after}"));
    assert!(md.contains("- atlas-monthly is at 50% (--fail-at info): $10.00 of $20.00\n"), "{md}");
    assert!(!md.contains("not checked"), "{md}");
    // The verdict is in the summary too.
    std::fs::remove_file(&summary).unwrap();
    gh("tt-budget --today 2026-11-15 --fail-projected").env("GITHUB_STEP_SUMMARY", &summary).run().code(1);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.ends_with(
            "**The budget gate failed:**\n\n- team-monthly is projected over its limit by the end of the month: $60.00 \
             of $50.00\n\n"
        ),
        "{md}"
    );
    // Unpriced spend: a warning annotation.
    sc.write(
        "usage.jsonl",
        r#"{"v":1,"id":"m1","ts":"2026-11-10T12:00:00Z","agent":"A","model":"mystery-9","input_tokens":100,"output_tokens":0}
"#,
    );
    gh("tt-budget --today 2026-11-15 --budget team-monthly")
        .succeeds()
        .stderr_has("::warning title=tt budget team-monthly::1 record in budget team-monthly could not be priced");
}

/// Total (all-time) budgets: no window end, so nothing projected and --fail-projected does not apply; the limit
/// date comes from the burn of the last 30 days.
#[test]
fn total_budgets_get_a_limit_date_from_the_last_30_days() {
    let sc = Scenario::new();
    // $100 long ago, then $30 in the 30 days before the end of November 15th ($1 a day): $70 left of $200 →
    // 70 days after the end of the 15th: January 25th (as a window's limit date, the day the limit is reached).
    sc.write(
        "usage.jsonl",
        [rec("2026-01-10T10:00:00Z", "A", 1, "100", ""), rec("2026-11-01T10:00:00Z", "A", 1, "30", "")].concat(),
    );
    let total = ["--limit-usd", "200", "--period", "total"];
    let out = sc.cmd("tt-budget").args(total).args(TODAY).succeeds();
    assert_eq!(out.jsonl()[0]["forecast"]["limit_date"], "2027-01-25");
    assert_eq!(out.jsonl()[0]["forecast"]["projected_usd"], serde_json::Value::Null);
    sc.cmd("tt-budget").args(total).args(TODAY).args(["--format", "table"]).succeeds().stdout_is(
        "BUDGET  SCOPE  WINDOW    SPENT    LIMIT    LEFT  USED  LEVEL  FORECAST  LIMIT ON
──────────────────────────────────────────────────────────────────────────────────
ad-hoc  -      total   $130.00  $200.00  $70.00   65%  info          -  2027-01-25
",
    );
    // Nothing projected, so --fail-projected cannot trip on it — even with the limit date a day away.
    sc.cmd("tt-budget").args(["--limit-usd", "131", "--period", "total", "--fail-projected"]).args(TODAY).succeeds();
    // Nothing burned in the last 30 days: no date. From rows (no burn in them): no forecast at all.
    let out = sc.cmd("tt-budget").args(total).args(["--today", "2026-12-31"]).succeeds();
    assert_eq!(out.jsonl()[0]["forecast"]["limit_date"], serde_json::Value::Null);
    let out = sc.bash("tt-sum <usage.jsonl | tt-budget --limit-usd 200 --period total").succeeds();
    assert_eq!(out.jsonl()[0]["forecast"], serde_json::Value::Null);
    // Rows of the log are answered as the log: the same date as tt-budget alone.
    let out = sc.bash("tt-sum | tt-budget --limit-usd 200 --period total --today 2026-11-15").succeeds();
    assert_eq!(out.jsonl()[0]["forecast"]["limit_date"], "2027-01-25");
}

#[test]
fn percentages_never_contradict_the_level_and_amounts_that_differ_never_print_the_same() {
    // 49.99996% is ok: shown as 49.99, not 50 (the info threshold); 100.0001% is over: 100.01, not 100.
    for (cost, percent, level) in
        [("49.99996", "49.99", "ok"), ("100.0001", "100.01", "over"), ("100", "100", "critical")]
    {
        let sc = one(cost, 1);
        let out = sc.cmd("tt-budget").args(["--limit-usd", "100"]).args(TODAY).succeeds();
        assert_eq!((out.jsonl()[0]["percent"].to_string(), level_of(&out)), (percent.to_string(), level.to_string()));
    }
    let sc = one("49.99996", 1);
    sc.cmd("tt-budget")
        .args(["--limit-usd", "100", "--fail-at", "0.4"])
        .args(TODAY)
        .fails_with(1)
        .stderr_is("tt-budget: error: ad-hoc is at 49.99% (--fail-at 40%): $50.00 of $100.00\n");
    // $1.9375 projected against a limit of $1.9374: both with 4 places, never "$1.94 of $1.94".
    let sc = one("0.96875", 1);
    sc.cmd("tt-budget")
        .args(["--limit-usd", "1.9374", "--fail-projected", "--today", "2026-11-15"])
        .fails_with(1)
        .stderr_is(
            "tt-budget: error: ad-hoc is projected over its limit by the end of the month: $1.9375 of $1.9374\n",
        );
    let out =
        sc.cmd("tt-budget").args(["--limit-usd", "1.9374", "--format", "table", "--today", "2026-11-15"]).succeeds();
    assert!(out.stdout.contains("$0.9688  $1.9374  $0.9687   50%  info    $1.9375  2026-11-30"), "{}", out.stdout);
    // Over by less than a hundredth of a cent is still shown.
    let sc = one("1.000001", 1);
    sc.cmd("tt-budget")
        .args(["--limit-usd", "1", "--estimate-usd", "0"])
        .args(TODAY)
        .fails_with(1)
        .stderr_is("tt-budget: error: ad-hoc: already over by $0.000001; this task needs ~$0: defer it\n");
}

#[test]
fn names_scopes_and_thresholds_are_checked_as_typed() {
    let sc = one("60", 1);
    // Control characters in a name would break tables and annotations: refused, naming the file.
    sc.write("tt.toml", "[[budget]]\nname = \"a\\nb\"\nperiod = \"month\"\nlimit_usd = 1\n");
    sc.cmd("tt-budget")
        .fails_with(2)
        .one_error_line("tt-budget")
        .stderr_has("tt.toml")
        .stderr_has("the name must not contain control characters");
    // Empty scope values match nothing: refused, in the config and on the command line.
    sc.write("tt.toml", "[[budget]]\nname = \"b\"\nperiod = \"month\"\nscope = { agent = \"\" }\nlimit_usd = 1\n");
    sc.cmd("tt-budget")
        .fails_with(2)
        .one_error_line("tt-budget")
        .stderr_has("tt.toml")
        .stderr_has("scope `agent` has an empty value");
    sc.write("tt.toml", "");
    sc.cmd("tt-budget")
        .args(["--limit-usd", "1", "--scope", "agent="])
        .fails_with(2)
        .one_error_line("tt-budget")
        .stderr_has("--scope agent= has an empty value");
    // --warn-at takes percentages like --fail-at does.
    let a = sc.cmd("tt-budget").args(["--limit-usd", "100", "--warn-at", "50%,70%"]).args(TODAY).succeeds();
    let b = sc.cmd("tt-budget").args(["--limit-usd", "100", "--warn-at", "0.5,0.7"]).args(TODAY).succeeds();
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(level_of(&a), "warning");
    // Levels in any case; `ok` is refused (it would always fail).
    sc.cmd("tt-budget").args(["--limit-usd", "50", "--fail-at", "OVER"]).args(TODAY).fails_with(1);
    sc.cmd("tt-budget").args(["--limit-usd", "100", "--fail-at", "Warning"]).args(TODAY).succeeds();
    sc.cmd("tt-budget")
        .args(["--limit-usd", "100", "--fail-at", "ok"])
        .args(TODAY)
        .fails_with(2)
        .one_error_line("tt-budget")
        .stderr_has("every budget is at ok or above, so it would always fail");
}

#[test]
fn input_that_is_not_jsonl_says_what_tt_budget_reads() {
    let sc = one("1", 1);
    for format in ["json", "csv", "table", "markdown"] {
        sc.bash(&format!("tt-sum --format {format} | tt-budget --limit-usd 1 --fail-over"))
            .fails_with(2)
            .one_error_line("tt-budget")
            .stderr_has("<stdin>:1: ")
            .stderr_has(": expected tt-sum's JSONL rows or records (use tt-sum's default or --format jsonl)");
    }
}

/// Blank lines alone on stdin (`echo | …`, an empty `$rows` echoed into the gate) are nothing on stdin too:
/// the gate reads the log. Blank lines before real input are kept, so line numbers stay right.
#[test]
fn blank_lines_alone_on_stdin_are_nothing_on_stdin() {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        "{\"v\":1,\"id\":\"a\",\"ts\":\"2026-11-10T10:00:00Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1,\"cost_usd\":5}\n",
    );
    let gate = ["--limit-usd", "1", "--period", "total", "--fail-over"];
    for blank in ["\n", "\n\n \n", "\r\n"] {
        sc.cmd("tt-budget").args(gate).pipe_in(blank).fails_with(1).stderr_has("ad-hoc is over its limit");
    }
    sc.bash("rows=''; echo \"$rows\" | tt-budget --limit-usd 1 --period total --fail-over").fails_with(1);
    sc.cmd("tt-sum").pipe_in("\n\n{\"v\":1}\n").fails_with(2).stderr_has("<stdin>:3: ");
}

/// Input named explicitly (a file, `/dev/null`, `-`) that holds nothing is no verdict under a gate: the step
/// that should have written it failed. The default log being empty is a fresh project: nothing spent.
#[test]
fn explicit_empty_input_under_a_gate_is_an_error_not_a_pass() {
    let sc = Scenario::new();
    sc.write("empty.jsonl", "");
    sc.write("blank.jsonl", "\n\n");
    let budget = ["--limit-usd", "1", "--period", "total"];
    let msg = |name: &str| {
        format!(
            "tt-budget: error: no records or summary rows in {name}: nothing to check (give no file to check the \
             usage log)\n"
        )
    };
    for gate in [&["--fail-over"][..], &["--fail-at", "warning"], &["--fail-projected"], &["--estimate-usd", "0.5"]] {
        for file in ["empty.jsonl", "blank.jsonl", "/dev/null"] {
            sc.cmd("tt-budget").args(budget).args(gate).arg(file).fails_with(2).stderr_is(&msg(file));
        }
        sc.cmd("tt-budget").args(budget).args(gate).arg("-").fails_with(2).stderr_is(&msg("<stdin>"));
    }
    sc.bash("set -o pipefail; true | tt-budget --limit-usd 1 --period total --fail-over -")
        .fails_with(2)
        .stderr_is(&msg("<stdin>"));
    // A CI step whose tt-sum failed left an empty rows file: the gate must not pass.
    sc.bash("tt-sum --period nope > rows.jsonl 2>/dev/null; tt-budget --limit-usd 1 --fail-over rows.jsonl")
        .fails_with(2)
        .stderr_is(&msg("rows.jsonl"));
    // Several inputs, all empty, are named together; one that holds records is a verdict.
    sc.cmd("tt-budget")
        .args(budget)
        .args(["--fail-over", "empty.jsonl", "blank.jsonl"])
        .fails_with(2)
        .stderr_is(&msg("empty.jsonl, blank.jsonl"));
    sc.write("one.jsonl", rec("2026-11-10T12:00:00Z", "ATLAS", 1, "2", ""));
    sc.cmd("tt-budget").args(budget).args(["--fail-over", "empty.jsonl", "one.jsonl"]).fails_with(1);
    // Without a gate, a report as before (nothing spent); the default log, empty or not there yet, passes.
    let out = sc.cmd("tt-budget").args(budget).arg("empty.jsonl").succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"], 0);
    sc.cmd("tt-budget").args(budget).arg("--fail-over").succeeds();
    sc.write("usage.jsonl", "");
    sc.cmd("tt-budget").args(budget).arg("--fail-over").succeeds();
}

fn session_scenario() -> Scenario {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        [
            rec("2026-11-30T10:00:00Z", "ATLAS", 400_000, "1", r#","session":"S""#),
            rec("2026-12-01T10:00:00Z", "ATLAS", 200_000, "1", r#","session":"S""#),
        ]
        .concat(),
    );
    sc.write("tt.toml", "[[budget]]\nname = \"per-session\"\nperiod = \"session\"\nlimit_tokens = 500_000\n");
    sc
}

/// A session's spend is all of it: rows cut to a window (today, this month, --since) do not answer a session
/// budget, only all-time rows grouped by session do.
#[test]
fn session_budgets_take_only_all_time_rows() {
    let sc = session_scenario();
    let today = "--today 2026-12-01";
    let over = "tt-budget: error: per-session (session S) is over its limit: 600,000 of 500,000 tokens\n";
    let direct = out_of(&sc, &["--today", "2026-12-01"]);
    for (window, covers) in [
        ("--period today", "2026-12-01"),
        ("--period month", "2026-12-01 – 2026-12-31"),
        ("--since 2026-12-01", "from 2026-12-01T00:00:00Z"),
    ] {
        // Rows of records piped into tt-sum (no source to check it from): no verdict under the gate, a warning
        // naming both windows without.
        let sum = format!("tt-sum {today} {window} --by session < usage.jsonl");
        sc.bash(&format!("set -o pipefail; {sum} | tt-budget {today} --fail-over"))
            .fails_with(2)
            .stdout_is("")
            .stderr_is(&format!(
                "tt-budget: error: the gate cannot decide: these summary rows do not answer per-session (session; \
                 the rows cover {covers}, the budget's window is all time) and do not say which log they came \
                 from; run `tt-budget` on the log instead (it checks every budget), or give it `tt-sum --by \
                 session` rows too\n"
            ));
        sc.bash(&format!("{sum} | tt-budget {today}")).succeeds().stdout_is("").stderr_is(&format!(
            "tt-budget: warning: per-session not checked: the rows cover {covers}, the budget's window is all time \
             (tt-sum --by session)\n"
        ));
        // Rows from the log: the budget is checked from the log — session S's 600,000 tokens, not the 200,000
        // these rows hold of it (December's).
        let sum = format!("tt-sum {today} {window} --by session");
        sc.bash(&format!("set -o pipefail; {sum} | tt-budget {today} --fail-over"))
            .fails_with(1)
            .stdout_is(&direct)
            .stderr_is(over);
        sc.bash(&format!("{sum} | tt-budget {today}")).succeeds().stdout_is(&direct).stderr_is("");
    }
    // All-time rows: session S has used 600,000 tokens.
    sc.bash(&format!("set -o pipefail; tt-sum {today} --by session < usage.jsonl | tt-budget {today} --fail-over"))
        .fails_with(1)
        .stdout_is(&direct)
        .stderr_is(over);
    sc.cmd("tt-budget").args([today, "--fail-over"].iter().flat_map(|a| a.split(' '))).fails_with(1).stderr_is(over);
}

/// The estimate from rows: when the rows answer only budgets that do not apply to the task, while one that
/// applies was not answered, there is no verdict — never "go: no budget applies".
#[test]
fn the_estimate_from_rows_needs_the_budgets_that_apply_to_the_task() {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        [rec("2026-11-30T08:00:00Z", "ATLAS", 1000, "4", ""), rec("2026-11-20T08:00:00Z", "NOVA", 1000, "40", "")]
            .concat(),
    );
    let config = r#"
[[budget]]
name = "team-monthly"
period = "month"
limit_usd = 50

[[budget]]
name = "atlas-daily"
period = "day"
scope = { agent = "ATLAS" }
limit_usd = 5
"#;
    sc.write("tt.toml", config);
    let today = "--today 2026-11-30";
    // Today's rows by agent answer atlas-daily, which does not apply to a NOVA task, and not team-monthly, which
    // does. Rows of records piped into tt-sum cannot say which log they came from (`< usage.jsonl`), so
    // team-monthly cannot be checked from it either: no verdict — never "go: no budget applies".
    let est_from = |input: &str, usd: &str| {
        sc.bash(&format!(
            "tt-sum {today} --period today --by agent{input} | tt-budget {today} --estimate-usd {usd} --agent NOVA"
        ))
        .run()
    };
    let unsourced = "tt-budget: error: the gate cannot decide: these summary rows do not answer team-monthly (month) \
                     and do not say which log they came from; run `tt-budget` on the log instead (it checks every \
                     budget), or give it `tt-sum --period month` rows too\n";
    let direct =
        |usd: &str| sc.cmd("tt-budget").args(["--today", "2026-11-30", "--estimate-usd", usd, "--agent", "NOVA"]).run();
    // The same verdict as from the log. (Not always the same report: a budget the rows answer shows the rows'
    // window, `today`, where the log's report says `day`.)
    let same = |a: Out, b: Out| {
        assert_eq!((a.code, &a.stderr), (b.code, &b.stderr), "{}", a.stdout);
        a
    };
    for usd in ["500", "5"] {
        est_from(" < usage.jsonl", usd).code(2).stdout_is("").stderr_is(unsourced);
    }
    // Rows from the log: team-monthly is checked from it, as `tt-budget` on the log checks it — $6 left: $500
    // is deferred, $5 fits (the go line alone, no report).
    same(est_from("", "500"), direct("500"))
        .code(1)
        .stderr_is("tt-budget: error: team-monthly: $6.00 left; this task needs ~$500.00: defer it\n");
    same(est_from("", "5"), direct("5")).code(0).stdout_is("").stderr_is(
        "tt-budget: go: ~$5.00 fits: team-monthly ($6.00 left); not for this task: atlas-daily (agent=NOVA)\n",
    );
    // Rows that answer some budgets that apply (team-daily) but not all (team-monthly): without a source still no
    // verdict; from the log the rest is checked from it, whatever the budgets the rows answered say.
    sc.write("tt.toml", format!("{config}\n[[budget]]\nname = \"team-daily\"\nperiod = \"day\"\nlimit_usd = 100\n"));
    for usd in ["500", "50", "5"] {
        est_from(" < usage.jsonl", usd).code(2).stdout_is("").stderr_is(unsourced);
    }
    same(est_from("", "500"), direct("500")).code(1).stderr_is(
        "tt-budget: error: team-monthly: $6.00 left; this task needs ~$500.00: defer it; team-daily: $96.00 left; \
         this task needs ~$500.00: defer it\n",
    );
    // $50 fits team-daily's $96 (the rows' answer) but not team-monthly's $6 (the log's).
    let out = est_from("", "50").code(1);
    assert_eq!(out.stderr, "tt-budget: error: team-monthly: $6.00 left; this task needs ~$50.00: defer it\n");
    assert_eq!(out.stderr, direct("50").code(1).stderr);
    same(est_from("", "5"), direct("5")).code(0).stdout_is("").stderr_is(
        "tt-budget: go: ~$5.00 fits: team-monthly ($6.00 left); team-daily ($96.00 left); not for this task: \
         atlas-daily (agent=NOVA)\n",
    );
    // Rows answering every budget that applies need no source: decided on them, the budget that does not apply
    // (atlas-daily) only warned about.
    sc.write("tt.toml", config);
    sc.bash(&format!("tt-sum {today} --period month < usage.jsonl | tt-budget {today} --estimate-usd 5 --agent NOVA"))
        .succeeds()
        .stdout_is("")
        .stderr_is(
            "tt-budget: warning: atlas-daily (day, agent=ATLAS) not checked: these summary rows do not answer it; \
             it needs `tt-sum --period today --by agent` rows\n\
             tt-budget: go: ~$5.00 fits: team-monthly ($6.00 left)\n",
        );
    sc.bash(&format!("tt-sum {today} --period month < usage.jsonl | tt-budget {today} --estimate-usd 7 --agent NOVA"))
        .fails_with(1)
        .stderr_has("tt-budget: error: team-monthly: $6.00 left; this task needs ~$7.00: defer it\n");
    // From the log, atlas-daily is checked from it too (and skipped as not for this task): the direct answer.
    same(
        sc.bash(&format!("tt-sum {today} --period month | tt-budget {today} --estimate-usd 5 --agent NOVA")).run(),
        direct("5"),
    )
    .code(0)
    .stdout_is("")
    .stderr_is("tt-budget: go: ~$5.00 fits: team-monthly ($6.00 left); not for this task: atlas-daily (agent=NOVA)\n");
}

/// Calendar budgets are answered only by rows of their current window in tt-budget's own calendar (its zone
/// and --today): yesterday's rows, last month's, rows of another --today or --tz are not today's spend.
#[test]
fn calendar_budgets_take_only_rows_of_their_current_window() {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        [
            rec("2026-11-29T12:00:00Z", "ATLAS", 1000, "1", ""),
            rec("2026-11-30T12:00:00Z", "ATLAS", 1000, "6", ""),
            rec("2026-10-15T12:00:00Z", "ATLAS", 1000, "1", ""),
        ]
        .concat(),
    );
    sc.write(
        "tt.toml",
        r#"
[[budget]]
name = "atlas-daily"
period = "day"
scope = { agent = "ATLAS" }
limit_usd = 5

[[budget]]
name = "team-monthly"
period = "month"
limit_usd = 6.5
"#,
    );
    let tb = "tt-budget --today 2026-11-30";
    let over_day = "tt-budget: error: atlas-daily is over its limit: $6.00 of $5.00\n";
    let both_over = "tt-budget: error: atlas-daily is over its limit: $6.00 of $5.00; team-monthly is over its limit: \
                     $7.00 of $6.50\n";
    // Today's rows: over (and team-monthly, which they do not answer, from the log: over too).
    sc.bash(&format!("set -o pipefail; tt-sum --today 2026-11-30 --period today --by agent | {tb} --fail-over"))
        .fails_with(1)
        .stderr_is(both_over);
    sc.bash(&format!(
        "set -o pipefail; tt-sum --today 2026-11-30 --period today --by agent < usage.jsonl | {tb} --fail-over \
         --budget atlas-daily"
    ))
    .fails_with(1)
    .stderr_is(over_day);
    // Rows of another window are not the budget's spend: rows from the log leave the budget to be checked from
    // the log — ATLAS's $6 of today, never the rows' $1 of yesterday (or October's $1) — so the gate's verdict
    // and report are those of `tt-budget` on the log. Rows of records piped into tt-sum cannot say which log
    // they came from: no verdict under the gate (naming both windows), a warning naming both without.
    let daily = out_of(&sc, &["--today", "2026-11-30", "--budget", "atlas-daily"]);
    let monthly = out_of(&sc, &["--today", "2026-11-30", "--budget", "team-monthly"]);
    let unsourced = |daily_why: &str, monthly_why: &str| {
        format!(
            "tt-budget: error: the gate cannot decide: these summary rows do not answer atlas-daily (day, \
             agent=ATLAS{daily_why}), team-monthly (month{monthly_why}) and do not say which log they came from; run \
             `tt-budget` on the log instead (it checks every budget), or give it `tt-sum --period today --by agent` \
             and `tt-sum --period month` rows too\n"
        )
    };
    let yesterday = "tt-sum --today 2026-11-30 --period yesterday --by agent";
    sc.bash(&format!("set -o pipefail; {yesterday} | {tb} --budget atlas-daily --fail-over"))
        .fails_with(1)
        .stdout_is(&daily)
        .stderr_is(over_day);
    sc.bash(&format!("set -o pipefail; {yesterday} | {tb} --fail-over"))
        .fails_with(1)
        .stdout_is(&(daily.clone() + &monthly))
        .stderr_is(both_over);
    sc.bash(&format!("set -o pipefail; {yesterday} < usage.jsonl | {tb} --fail-over"))
        .fails_with(2)
        .stdout_is("")
        .stderr_is(&unsourced("; the rows cover 2026-11-29, the budget's window is 2026-11-30", ""));
    sc.bash(&format!("{yesterday} < usage.jsonl | {tb} --budget atlas-daily")).succeeds().stdout_is("").stderr_is(
        "tt-budget: warning: atlas-daily not checked: the rows cover 2026-11-29, the budget's window is 2026-11-30 \
         (tt-sum --period today --by agent)\n",
    );
    // Last month's rows for a month budget.
    let last_month = "tt-sum --today 2026-11-30 --period last-month";
    sc.bash(&format!("{last_month} < usage.jsonl | {tb} --budget team-monthly")).succeeds().stdout_is("").stderr_is(
        "tt-budget: warning: team-monthly not checked: the rows cover 2026-10-01 – 2026-10-31, the budget's window \
         is 2026-11-01 – 2026-11-30 (tt-sum --period month)\n",
    );
    sc.bash(&format!("{last_month} < usage.jsonl | {tb} --fail-over")).fails_with(2).stderr_is(&unsourced(
        "",
        "; the rows cover 2026-10-01 – 2026-10-31, the budget's window is 2026-11-01 – 2026-11-30",
    ));
    sc.bash(&format!("{last_month} | {tb} --budget team-monthly")).succeeds().stdout_is(&monthly).stderr_is("");
    sc.bash(&format!("{last_month} | {tb} --fail-over")).fails_with(1).stderr_is(both_over);
    // Rows made with another --today.
    let other_day = "tt-sum --today 2026-11-29 --period today --by agent";
    sc.bash(&format!("{other_day} < usage.jsonl | {tb} --fail-over"))
        .fails_with(2)
        .stderr_is(&unsourced("; the rows cover 2026-11-29, the budget's window is 2026-11-30", ""));
    sc.bash(&format!("{other_day} < usage.jsonl | {tb} --budget atlas-daily"))
        .succeeds()
        .stdout_is("")
        .stderr_has("the rows cover 2026-11-29, the budget's window is 2026-11-30");
    sc.bash(&format!("{other_day} | {tb} --fail-over")).fails_with(1).stderr_is(both_over);
    sc.bash(&format!("{other_day} | {tb} --budget atlas-daily")).succeeds().stdout_is(&daily).stderr_is("");
    // Rows of another time zone: the same date, other instants (the offsets say which).
    let berlin = "tt-sum --tz Europe/Berlin --today 2026-11-30 --period today --by agent";
    sc.bash(&format!("{berlin} < usage.jsonl | {tb} --fail-over")).fails_with(2).stderr_is(&unsourced(
        "; the rows cover 2026-11-30 (UTC+01:00), the budget's window is 2026-11-30 (UTC+00:00)",
        "",
    ));
    sc.bash(&format!("{berlin} < usage.jsonl | {tb} --budget atlas-daily")).succeeds().stderr_is(
        "tt-budget: warning: atlas-daily not checked: the rows cover 2026-11-30 (UTC+01:00), the budget's window is \
         2026-11-30 (UTC+00:00) (tt-sum --period today --by agent)\n",
    );
    sc.bash(&format!("{berlin} | {tb} --budget atlas-daily")).succeeds().stdout_is(&daily).stderr_is("");
    // In tt-budget's own zone they answer atlas-daily (the rest from the log, in that zone too).
    sc.bash(&format!("{berlin} < usage.jsonl | {tb} --tz Europe/Berlin --budget atlas-daily --fail-over"))
        .fails_with(1)
        .stderr_is(over_day);
    sc.bash(&format!("{berlin} | {tb} --tz Europe/Berlin --fail-over")).fails_with(1).stderr_is(both_over);
    // The month's rows in the same calendar: $7 of $6.50 (atlas-daily from the log).
    sc.bash(&format!("tt-sum --today 2026-11-30 --period month | {tb} --fail-over"))
        .fails_with(1)
        .stdout_is(&(daily.clone() + &monthly))
        .stderr_is(both_over);
    sc.bash(&format!(
        "tt-sum --today 2026-11-30 --period month < usage.jsonl | {tb} --budget team-monthly --fail-over"
    ))
    .fails_with(1)
    .stdout_is(&monthly)
    .stderr_is("tt-budget: error: team-monthly is over its limit: $7.00 of $6.50\n");
}

/// A bad line in the usage log tt-budget reads itself is the log's error, without the hint about what to pipe in.
#[test]
fn a_bad_log_line_gets_no_hint_about_piped_input() {
    let sc = one("1", 1);
    let mut log = sc.log();
    log.push_str("not json\n");
    sc.write("usage.jsonl", log);
    let out = sc.cmd("tt-budget").args(["--limit-usd", "5", "--fail-over"]).fails_with(2).one_error_line("tt-budget");
    assert!(out.stderr.contains("usage.jsonl:2: "), "{}", out.stderr);
    assert!(!out.stderr.contains("expected tt-sum's JSONL rows"), "{}", out.stderr);
    // The same line piped in or named keeps the hint.
    for r in [sc.cmd("tt-budget").pipe_in("not json\n"), sc.cmd("tt-budget").arg("usage.jsonl")] {
        r.args(["--limit-usd", "5", "--fail-over"]).fails_with(2).stderr_has("expected tt-sum's JSONL rows or records");
    }
}

/// Seconds since the Unix epoch, now.
fn epoch_now() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(d.as_secs()).unwrap()
}

/// An instant (seconds since the epoch) in RFC 3339, UTC: `2026-11-15T10:00:00Z`.
fn rfc3339(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Wait while the UTC clock is within `margin` seconds before a midnight, so records stamped now and the
/// tools' own "now" fall in the same day (and week, month, year).
fn away_from_midnight(margin: i64) {
    let left = 86_400 - epoch_now().rem_euclid(86_400);
    if left <= margin {
        std::thread::sleep(std::time::Duration::from_secs(u64::try_from(left).unwrap() + 1));
    }
}

#[test]
fn rfc3339_helper_is_the_calendar() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_795_261_599), "2026-11-21T11:46:39Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
}

/// The bare pipeline `tt-sum | tt-budget --fail-over` (all-time rows, which answer only an unscoped total
/// budget) gates every configured budget — day, week, month, year, total and session, scoped or not: the ones
/// the rows do not answer are checked from the log the rows came from. One over its limit is exit 1 naming it;
/// spend of exactly the limit is not over (exit 0). Pinned by `--today` on both tools (the log is scanned), and
/// at the real "now" with records tt-log stamps now (the log's index answers).
#[test]
fn the_bare_pipeline_gates_every_budget() {
    let pipeline = |today: &str| format!("set -o pipefail; tt-sum{today} | tt-budget{today} --fail-over");
    for period in ["day", "week", "month", "year", "total", "session"] {
        for scoped in [false, true] {
            let name = if scoped { format!("atlas-{period}") } else { period.to_string() };
            let scope = if scoped { "scope = { agent = \"ATLAS\" }\n" } else { "" };
            let config = format!("[[budget]]\nname = \"{name}\"\nperiod = \"{period}\"\n{scope}limit_usd = 5\n");
            let who = if period == "session" { format!("{name} (session s1)") } else { name.clone() };
            let over = format!("tt-budget: error: {who} is over its limit: $5.01 of $5.00\n");
            let calendar = !matches!(period, "total" | "session");
            let what = format!("{period}, scoped: {scoped}");
            // Rows of the log are answered as the log is: the same report as tt-budget alone.
            let as_direct = |out: &Out, sc: &Scenario| assert_eq!(out.stdout, out_of(sc, &TODAY), "{what}");

            // Pinned: records at fixed instants of 2026-11-15 (and, for a calendar budget, $50 the year before,
            // outside its window; for a scoped one, $100 of NOVA's, outside its scope).
            let sc = Scenario::new();
            sc.write("tt.toml", &config);
            let mut log = rec("2026-11-15T10:00:00Z", "ATLAS", 1000, "5", r#","session":"s1""#);
            if calendar {
                log.push_str(&rec("2025-06-01T10:00:00Z", "ATLAS", 1000, "50", r#","session":"old""#));
            }
            if scoped {
                log.push_str(&rec("2026-11-15T09:00:00Z", "NOVA", 1000, "100", r#","session":"s2""#));
            }
            sc.write("usage.jsonl", &log);
            let pinned = pipeline(" --today 2026-11-15");
            let out = sc.bash(&pinned).succeeds().stderr_is("");
            as_direct(&out, &sc);
            assert_eq!((out.jsonl()[0]["spent_usd"].to_string(), level_of(&out)), ("5".into(), "critical".into()));
            log.push_str(&rec("2026-11-15T11:00:00Z", "ATLAS", 1000, "0.01", r#","session":"s1""#));
            sc.write("usage.jsonl", &log);
            let out = sc.bash(&pinned).fails_with(1).stderr_is(&over);
            as_direct(&out, &sc);
            assert!(!sc.path().join("usage.jsonl.tt-index").exists(), "{what}: --today scans the log");

            // At the real "now": tt-log stamps the records now ($1 a million input tokens of haiku-4.5).
            let sc = Scenario::new();
            sc.write("tt.toml", &config);
            away_from_midnight(30);
            let log = |args: &str| {
                sc.bash(&format!("tt-log --no-git -q --model haiku-4.5 --output 0 {args}")).succeeds();
            };
            log("--agent ATLAS --input 5000000 --session s1");
            if calendar {
                log("--agent ATLAS --input 50000000 --session old --ts 2025-06-01T10:00:00Z");
            }
            if scoped {
                log("--agent NOVA --input 100000000 --session s2");
            }
            let now = pipeline("");
            let out = sc.bash(&now).succeeds().stderr_is("");
            assert_eq!((out.jsonl()[0]["spent_usd"].to_string(), level_of(&out)), ("5".into(), "critical".into()));
            log("--agent ATLAS --input 10000 --session s1");
            sc.bash(&now).fails_with(1).stderr_is(&over);
            sc.cmd("tt-budget").arg("--fail-over").fails_with(1).stderr_is(&over);
            // Those not answered by the rows were checked from the log through its index.
            std::fs::remove_file(sc.path().join("usage.jsonl.tt-index")).unwrap();
            sc.bash(&now).fails_with(1).stderr_is(&over);
            assert!(sc.path().join("usage.jsonl.tt-index").exists(), "{what}");
        }
    }
}

/// Rows of records piped into tt-sum (`tt-sum < usage.jsonl`, `cat usage.jsonl | tt-sum`, a process
/// substitution) do not say which log they came from: a budget they do not answer cannot be checked, so under
/// a gate that is no verdict (exit 2, one line naming it and the rows that would answer it), never a pass;
/// without a gate, a warning. Rows of the log, or of a file given to tt-sum, are checked from it.
#[test]
fn rows_without_a_source_under_a_gate_are_exit_2() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"daily\"\nperiod = \"day\"\nlimit_usd = 5\n");
    sc.write("usage.jsonl", rec("2026-11-15T10:00:00Z", "ATLAS", 1000, "6", ""));
    let today = "--today 2026-11-15";
    let error = "tt-budget: error: the gate cannot decide: these summary rows do not answer daily (day) and do not \
                 say which log they came from; run `tt-budget` on the log instead (it checks every budget), or give \
                 it `tt-sum --period today` rows too\n";
    let warning = "tt-budget: warning: daily (day) not checked: these summary rows do not answer it; it needs \
                   `tt-sum --period today` rows\n";
    for rows in [
        format!("tt-sum {today} < usage.jsonl"),
        format!("cat usage.jsonl | tt-sum {today}"),
        format!("tt-sum {today} - < usage.jsonl"),
        format!("tt-sum {today} <(cat usage.jsonl)"),
    ] {
        // The daily budget is over ($6 of $5): a pass would be wrong, so it is no verdict.
        sc.bash(&format!("set -o pipefail; {rows} | tt-budget {today} --fail-over"))
            .fails_with(2)
            .stdout_is("")
            .stderr_is(error)
            .one_error_line("tt-budget");
        sc.bash(&format!("set -o pipefail; {rows} | tt-budget {today}")).succeeds().stdout_is("").stderr_is(warning);
    }
    // The rows really lack a source: no `from` in their total row.
    let rows = sc.bash(&format!("tt-sum {today} < usage.jsonl")).succeeds();
    assert!(rows.jsonl()[0].get("from").is_none(), "{}", rows.stdout);
    // Rows of the log, or of the file named: `from` says which, and the budget is checked from it.
    let over = "tt-budget: error: daily is over its limit: $6.00 of $5.00\n";
    let direct = sc.cmd("tt-budget").args(TODAY).arg("--fail-over").fails_with(1).stderr_is(over);
    let log = std::fs::canonicalize(sc.log_path()).unwrap().display().to_string();
    for rows in [format!("tt-sum {today}"), format!("tt-sum {today} usage.jsonl")] {
        let out = sc.bash(&rows).succeeds();
        assert_eq!(out.jsonl()[0]["from"], serde_json::json!([log]), "{rows}");
        sc.bash(&format!("set -o pipefail; {rows} | tt-budget {today} --fail-over"))
            .fails_with(1)
            .stdout_is(&direct.stdout)
            .stderr_is(over);
    }
}

/// The log's index (`usage.jsonl.tt-index`, which `tt-budget` reading the log creates and keeps up to date)
/// answers exactly as a scan of the log (`tt-budget usage.jsonl` reads the file named) — the report byte for
/// byte, and the estimate's answer — however the index got where it is: made, current, caught up after
/// appends (tt-log's and tt-log --enforce's own journal entries), deleted, damaged, truncated, for a log
/// replaced by another, or after the config changed.
#[test]
fn the_index_answers_exactly_as_a_scan() {
    let sc = Scenario::new();
    let config = r#"
[[budget]]
name = "day"
period = "day"
limit_usd = 100000

[[budget]]
name = "atlas-day"
period = "day"
scope = { agent = "ATLAS" }
limit_usd = 0.5
limit_tokens = 300000

[[budget]]
name = "week"
period = "week"
limit_tokens = 1000000000

[[budget]]
name = "sonnet-week"
period = "week"
scope = { model = "claude-sonnet-4-5" }
limit_usd = 2

[[budget]]
name = "month"
period = "month"
limit_usd = 100000

[[budget]]
name = "nova-month"
period = "month"
scope = { agent = "NOVA" }
limit_usd = 3

[[budget]]
name = "year"
period = "year"
limit_usd = 100000
limit_tokens = 1000000000

[[budget]]
name = "web-year"
period = "year"
scope = { "tag:team" = "web" }
limit_usd = 10

[[budget]]
name = "total"
period = "total"
limit_usd = 160

[[budget]]
name = "atlas-api-total"
period = "total"
scope = { agent = "ATLAS", project = "api" }
limit_usd = 15

[[budget]]
name = "session"
period = "session"
limit_usd = 40

[[budget]]
name = "bolt-session"
period = "session"
scope = { agent = "BOLT" }
limit_usd = 0.4
"#;
    sc.write("tt.toml", config);
    // A few hundred records of three agents, seven sessions (and none), five models (one the price table does
    // not know; one a dated spelling of sonnet-4.5), over the last year and a bit, most recent ones today, and
    // one three days ahead; a third with cost_usd, the rest priced from the table.
    let records = |seed: u64, n: u64| -> String {
        let now = epoch_now();
        let mut x = seed;
        let mut next = move |m: u64| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % m
        };
        let mut out = String::new();
        for i in 0..n {
            let back = match i % 5 {
                0 => next(6 * 3600),
                1 => next(7 * 86_400),
                2 => next(40 * 86_400),
                3 => next(400 * 86_400),
                _ => next(60 * 86_400),
            };
            let ts = if i == n / 2 { now + 3 * 86_400 } else { now - i64::try_from(back).unwrap() };
            let agent = ["ATLAS", "NOVA", "BOLT"][usize::try_from(next(3)).unwrap()];
            let model = ["sonnet-4.5", "claude-sonnet-4-5-20250929", "haiku-4.5", "gpt-4o", "mystery-9"]
                [usize::try_from(next(5)).unwrap()];
            let mut extra = String::new();
            if i % 3 == 0 {
                extra.push_str(&format!(",\"cost_usd\":{}.{:04}", next(2), next(10_000)));
            }
            if let Some(s) = [None, Some("s1"), Some("s2"), Some("s3"), Some("s4"), Some("s5"), Some("s6"), Some("s7")]
                [usize::try_from(next(8)).unwrap()]
            {
                extra.push_str(&format!(",\"session\":\"{s}\""));
            }
            if next(2) == 0 {
                extra.push_str(",\"project\":\"api\"");
            }
            if next(3) == 0 {
                extra.push_str(&format!(
                    ",\"tags\":{{\"team\":\"{}\"}}",
                    ["web", "ops"][usize::try_from(next(2)).unwrap()]
                ));
            }
            out.push_str(&format!(
                "{{\"v\":1,\"id\":\"r{seed}-{i}\",\"ts\":\"{}\",\"agent\":\"{agent}\",\"model\":\"{model}\",\"input_tokens\":{},\"output_tokens\":{},\"cache_read_tokens\":{}{extra}}}\n",
                rfc3339(ts),
                next(200_000),
                next(20_000),
                next(50_000)
            ));
        }
        out
    };
    sc.write("usage.jsonl", records(1, 300));
    let index = sc.path().join("usage.jsonl.tt-index");
    // What is compared: the report, the estimate (a go with the report, a bare go line, a deferral, in a
    // session, priced from tokens), a gate.
    let asks: [&[&str]; 6] = [
        &["--format", "jsonl"],
        &["--estimate-usd", "0.01", "--agent", "NOVA", "--model", "gpt-4o", "--session", "s2", "--verbose"],
        &["--estimate-usd", "0.01", "--agent", "ZED", "--model", "haiku-4.5", "--session", "new", "--tag", "team=ops"],
        &["--estimate-usd", "0.5"],
        &[
            "--estimate-tokens",
            "20000",
            "--model",
            "haiku-4.5",
            "--agent",
            "BOLT",
            "--session",
            "s3",
            "--tag",
            "team=web",
        ],
        &["--fail-at", "warning"],
    ];
    // Forecasts are to the second: each round runs within one second of the clock, and is run again (the index
    // put back as it was) when a second boundary fell inside it.
    let compare = |stage: &str| {
        let before = std::fs::read(&index).ok();
        for _ in 0..10 {
            match &before {
                Some(b) => std::fs::write(&index, b).unwrap(),
                None => {
                    let _ = std::fs::remove_file(&index);
                }
            }
            let sub = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
            std::thread::sleep(std::time::Duration::from_nanos(u64::from(1_000_000_000 - sub) + 2_000_000));
            let second = epoch_now();
            let by_index: Vec<Out> = asks.iter().map(|a| sc.cmd("tt-budget").args(*a).run()).collect();
            let by_scan: Vec<Out> =
                asks.iter().map(|a| sc.cmd("tt-budget").args(*a).arg("usage.jsonl").run()).collect();
            if epoch_now() != second {
                continue;
            }
            for ((a, i), s) in asks.iter().zip(&by_index).zip(&by_scan) {
                assert_eq!((i.code, &i.stdout, &i.stderr), (s.code, &s.stdout, &s.stderr), "{stage}: {a:?}");
                assert!(matches!(i.code, Some(0 | 1)), "{stage}: {a:?}: {}", i.stderr);
            }
            // The report has every budget, and spend in the all-time ones (what the calendar windows hold
            // depends on the date: on the 1st of a month, this month has little).
            let report = by_index[0].jsonl();
            assert_eq!(report.len(), 12, "{stage}");
            let all_time = report.iter().filter(|e| matches!(e["period"].as_str(), Some("total" | "session")));
            assert!(
                all_time.into_iter().all(|e| e["records"].as_u64().unwrap() > 0),
                "{stage}: {}",
                by_index[0].stdout
            );
            assert!(index.exists(), "{stage}: the index is made");
            return by_index;
        }
        panic!("{stage}: no second of the clock held a round");
    };
    let first = compare("a new index");
    // The comparison can fail: levels differ between budgets, and the unpriced records are warned about.
    let levels: std::collections::BTreeSet<String> =
        first[0].jsonl().iter().map(|e| e["level"].as_str().unwrap().to_string()).collect();
    assert!(levels.len() >= 3 && levels.contains("over") && levels.contains("ok"), "{levels:?}\n{}", first[0].stdout);
    assert!(first[0].stderr.contains("could not be priced"), "{}", first[0].stderr);
    assert_eq!(first[3].code, Some(1), "$0.50 more is deferred: {}", first[3].stderr);
    assert_eq!((first[2].code, first[2].stdout.as_str()), (Some(0), ""), "a ZED task fits: {}", first[2].stderr);
    compare("a current index");
    // Appended with tt-log (stamped now; one of a model without a price), and with tt-log --enforce, which
    // journals its record into the index itself.
    away_from_midnight(30);
    for args in [
        "--agent ATLAS --model sonnet-4.5 --input 40000 --output 2000 --session s1",
        "--agent NOVA --model mystery-9 --input 1000 --output 10 --session s2 --tag team=web",
        "--agent BOLT --model haiku-4.5 --input 300000 --output 100 --session s3 --project api",
    ] {
        sc.bash(&format!("tt-log --no-git -q {args}")).succeeds();
    }
    compare("after tt-log appended");
    sc.bash("tt-log --no-git -q --enforce --agent ZED --model haiku-4.5 --input 1000 --output 10 --session z")
        .succeeds();
    // Each batch is appended to the journal (the index is not rebuilt): the first count, the catch-up, the enforce.
    assert_eq!(std::fs::read_to_string(&index).unwrap().lines().filter(|l| l.starts_with('#')).count(), 3);
    compare("after tt-log --enforce journalled a record");
    std::fs::remove_file(&index).unwrap();
    compare("after the index was deleted");
    // A window line's numbers overwritten with garbage: the index is rebuilt as soon as an answer needs the line
    // (every line of a total budget, budget 8), never read as nothing spent.
    let text = std::fs::read_to_string(&index).unwrap();
    let line = text.lines().find(|l| l.starts_with("8\t")).unwrap().to_string();
    let key = line.split('\t').nth(1).unwrap();
    std::fs::write(&index, text.replacen(&line, &format!("8\t{key}\tgarbage\t$$\tx\t-"), 1)).unwrap();
    compare("after a window line was damaged");
    assert!(!std::fs::read_to_string(&index).unwrap().contains("garbage"));
    // A damaged line of a window no answer needs now (an old month of budget 4) does not change any answer.
    let text = std::fs::read_to_string(&index).unwrap();
    let line = text.lines().find(|l| l.starts_with("4\t")).unwrap().to_string();
    let key = line.split('\t').nth(1).unwrap();
    std::fs::write(&index, text.replacen(&line, &format!("4\t{key}\tgarbage\t$$\tx\t-"), 1)).unwrap();
    compare("after an old window's line was damaged");
    // Truncated in the middle of a window line, and in the middle of its commit line.
    let text = std::fs::read_to_string(&index).unwrap();
    let mid = text.find("\n4\t").unwrap() + 4;
    std::fs::write(&index, &text[..mid]).unwrap();
    compare("after the index was cut mid-line");
    let text = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, &text[..text.len() - 20]).unwrap();
    compare("after the index was cut in its commit line");
    // The log replaced by another: rewritten in place (the same file), and renamed over (another file).
    sc.write("usage.jsonl", records(2, 250));
    compare("after the log was rewritten in place");
    sc.write("usage.jsonl.new", records(3, 320));
    std::fs::rename(sc.path().join("usage.jsonl.new"), sc.log_path()).unwrap();
    compare("after another log was renamed over it");
    // Another time zone and week start in the config: other windows, the index made anew for them.
    sc.write("tt.toml", format!("tz = \"Asia/Kolkata\"\nweek_start = \"sunday\"\n{config}"));
    compare("after the config's zone changed");
}

/// The index keeps each session budget's worst session as records arrive (spend only grows, so it is the old
/// worst or a session just counted): the answer is always the one a scan gives — when a session overtakes it,
/// on a tie (the first by name), when many sessions arrive at once, and for an estimate in any session.
#[test]
fn the_worst_session_is_kept_as_records_arrive() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"per-session\"\nperiod = \"session\"\nlimit_tokens = 1000\n");
    let log = |session: &str, tokens: u64| {
        sc.bash(&format!("tt-log --no-git -q A sonnet-4.5 {tokens} 0 --session {session}")).succeeds();
    };
    let same = |what: &str| {
        let indexed = sc.cmd("tt-budget").args(["--format", "jsonl"]).succeeds().stdout;
        let scanned = sc.cmd("tt-budget").args(["--format", "jsonl", "usage.jsonl"]).succeeds().stdout;
        assert_eq!(indexed, scanned, "{what}");
        for s in ["m", "b", "zz", "new"] {
            let est = ["--estimate-tokens", "100", "--session", s];
            let indexed = sc.cmd("tt-budget").args(est).run();
            let scanned = sc.cmd("tt-budget").args(est).arg("usage.jsonl").run();
            assert_eq!((indexed.code, &indexed.stderr), (scanned.code, &scanned.stderr), "{what}: session {s}");
        }
        serde_json::from_str::<serde_json::Value>(indexed.lines().next().unwrap()).unwrap()["session"]
            .as_str()
            .unwrap()
            .to_string()
    };
    log("m", 300);
    log("b", 200);
    assert_eq!(same("two sessions"), "m");
    log("b", 200); // b overtakes m
    assert_eq!(same("b overtook m"), "b");
    log("m", 100); // a tie at 400: the first by name
    assert_eq!(same("a tie"), "b");
    log("a", 400); // another tie, earlier by name
    assert_eq!(same("a tie earlier by name"), "a");
    // Many sessions at once (more than the index follows one by one), one of them the new worst.
    let mut lines = String::new();
    for k in 0..100 {
        let tokens = if k == 77 { 900 } else { 10 };
        lines.push_str(&format!(
            "{{\"v\":1,\"id\":\"bulk{k}\",\"ts\":\"2026-12-01T10:00:00Z\",\"agent\":\"A\",\"model\":\"sonnet-4.5\",\"input_tokens\":{tokens},\"output_tokens\":0,\"session\":\"s{k:03}\"}}\n"
        ));
    }
    sc.write("bulk.jsonl", lines);
    sc.bash("cat bulk.jsonl >> usage.jsonl").succeeds();
    assert_eq!(same("a hundred sessions appended at once"), "s077");
    log("zz", 950);
    assert_eq!(same("after the bulk"), "zz");
    // The index file holds the worst session in its last commit.
    let index = std::fs::read_to_string(sc.path().join("usage.jsonl.tt-index")).unwrap();
    assert!(index.lines().last().unwrap().contains("\"worst\":[\"zz\"]"), "{index}");
}

/// What reservations hold is visible: inside SPENT (it counts), and in a HELD column of its own; the JSON says
/// it as `held_usd` / `held_tokens`, only when something is held.
#[test]
fn held_amounts_are_shown_beside_the_spend() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"total\"\nlimit_usd = 10\n");
    // Long ago: nothing burned lately, so no limit date (the table does not depend on the day it runs).
    sc.write("usage.jsonl", rec("2025-01-10T12:00:00Z", "ATLAS", 1000, "2", ""));
    let plain = sc.cmd("tt-budget").succeeds();
    assert!(plain.jsonl()[0].get("held_usd").is_none(), "{}", plain.stdout);
    let id = sc.cmd("tt-budget").args(["--estimate-usd", "3", "--reserve"]).succeeds().stdout;
    assert!(id.starts_with("r-") && id.ends_with('\n') && id.lines().count() == 1, "{id}");
    let out = sc.cmd("tt-budget").succeeds();
    let e = &out.jsonl()[0];
    assert_eq!(
        (e["spent_usd"].to_string(), e["held_usd"].to_string(), e["records"].to_string()),
        ("5".into(), "3".into(), "1".into())
    );
    sc.cmd("tt-budget").args(["--format", "table"]).env("COLUMNS", "200").succeeds().stdout_is(
        "BUDGET  SCOPE  WINDOW  SPENT   HELD   LIMIT   LEFT  USED  LEVEL  FORECAST  LIMIT ON
───────────────────────────────────────────────────────────────────────────────────
team    -      total   $5.00  $3.00  $10.00  $5.00   50%  info          -  -
",
    );
}

/// `--brief`: a gate that passes says so in one line (with the budget closest to its limit); one that fails
/// still prints the report and why; without a gate it changes nothing.
#[test]
fn brief_gates_say_ok_in_one_line() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"a\"\nperiod = \"total\"\nlimit_usd = 10\n\n[[budget]]\nname = \"b\"\nperiod = \"total\"\nlimit_usd = 4\n",
    );
    sc.write("usage.jsonl", rec("2025-01-10T12:00:00Z", "ATLAS", 1000, "3", ""));
    sc.cmd("tt-budget")
        .args(["--fail-over", "--brief"])
        .succeeds()
        .stdout_is("")
        .stderr_is("tt-budget: ok: 2 budgets within their limits; most used: b at 75% (info)\n");
    let report = sc.cmd("tt-budget").succeeds().stdout;
    assert_eq!(sc.cmd("tt-budget").arg("--brief").succeeds().stdout, report);
    sc.write("usage.jsonl", rec("2025-01-10T12:00:00Z", "ATLAS", 1000, "5", ""));
    let out = sc.cmd("tt-budget").args(["--fail-over", "--brief"]).fails_with(1);
    assert_eq!(out.jsonl().len(), 2);
    assert_eq!(out.stderr, "tt-budget: error: b is over its limit: $5.00 of $4.00\n");
}

/// The index proves its own lines: a number changed in place (same length, so nothing else gives it away) is
/// found by the hash its commit keeps, and the index is rebuilt — the gate never sees less spent than the log
/// holds.
#[test]
fn an_index_edited_in_place_is_rebuilt_never_believed() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"total\"\nlimit_usd = 5\n");
    sc.write("usage.jsonl", rec("2025-01-10T12:00:00Z", "ATLAS", 1000, "6", ""));
    sc.cmd("tt-budget").arg("--fail-over").fails_with(1);
    let index = sc.path().join("usage.jsonl.tt-index");
    let text = std::fs::read_to_string(&index).unwrap();
    // The total window's line: `0⇥⇥1⇥6⇥1000⇥0` → six dollars become zero, same length.
    let line = text.lines().find(|l| l.starts_with("0\t\t")).unwrap().to_string();
    let zeroed = line.replacen("\t6\t", "\t0\t", 1);
    assert_ne!(line, zeroed);
    std::fs::write(&index, text.replacen(&line, &zeroed, 1)).unwrap();
    sc.cmd("tt-budget")
        .arg("--fail-over")
        .fails_with(1)
        .stderr_is("tt-budget: error: team is over its limit: $6.00 of $5.00\n");
    assert!(std::fs::read_to_string(&index).unwrap().contains(&line));
    // The same holds for the index tt-log --enforce reads.
    std::fs::write(&index, std::fs::read_to_string(&index).unwrap().replacen(&line, &zeroed, 1)).unwrap();
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "10", "1", "--enforce", "--no-git"]).fails_with(1);
}

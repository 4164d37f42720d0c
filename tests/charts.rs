//! Charts: tt-sum's bars (`--chart`), tt-budget's gauges and the Mermaid charts of markdown and the GitHub job
//! summary, each compared with a golden file in `tests/golden/` (`TT_BLESS=1 cargo test --test charts` rewrites
//! them; review the diff). Every run pins the day (`--today`), the width and the locale, and runs without colour
//! (stdout is a pipe, and the harness sets `NO_COLOR`).
mod common;
use common::*;

const TODAY: [&str; 2] = ["--today", "2026-11-08"];

/// Eight records over the first week of November 2026, and three budgets (tests/fixtures/charts).
fn scenario() -> Scenario {
    let sc = Scenario::new();
    sc.write("usage.jsonl", std::fs::read(fixture("charts/usage.jsonl")).unwrap());
    sc.write("tt.toml", std::fs::read(fixture("charts/tt.toml")).unwrap());
    sc
}

/// tt-sum in a UTF-8 locale.
fn sum(sc: &Scenario, args: &[&str]) -> Run {
    sc.cmd("tt-sum").args(TODAY).args(args).env("LC_ALL", "C.UTF-8")
}

fn widest(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn daily_bars_against_the_monthly_budget_at_80_columns() {
    let sc = scenario();
    let out = sum(&sc, &["--period", "month", "--chart"]).succeeds().stdout_golden("sum-day.txt").stderr_is("");
    assert!(widest(&out.stdout) <= 80);
    // 80 is also what COLUMNS and --width say.
    sum(&sc, &["--period", "month", "--chart"]).env("COLUMNS", "80").succeeds().stdout_is(&out.stdout);
    sum(&sc, &["--period", "month", "--chart", "--width", "80"]).succeeds().stdout_is(&out.stdout);
    // --by day is what --chart takes without --by.
    sum(&sc, &["--period", "month", "--chart", "--by", "day"]).succeeds().stdout_is(&out.stdout);
}

#[test]
fn ascii_with_the_flag_or_a_locale_that_is_not_utf8() {
    let sc = scenario();
    let out = sum(&sc, &["--period", "month", "--chart", "--ascii"]).succeeds().stdout_golden("sum-day-ascii.txt");
    assert!(out.stdout.is_ascii(), "{}", out.stdout);
    for (k, v) in [("LC_ALL", "C"), ("LC_ALL", ""), ("LC_ALL", "POSIX")] {
        let run = sc.cmd("tt-sum").args(TODAY).args(["--period", "month", "--chart"]).env("LANG", "C");
        run.env(k, v).env("LC_CTYPE", "").succeeds().stdout_is(&out.stdout);
    }
    // LC_ALL decides before LANG.
    sc.cmd("tt-sum")
        .args(TODAY)
        .args(["--period", "month", "--chart"])
        .env("LC_ALL", "C")
        .env("LANG", "en_US.UTF-8")
        .succeeds()
        .stdout_is(&out.stdout);
}

#[test]
fn stacked_by_model_with_a_legend() {
    let sc = scenario();
    sum(&sc, &["--period", "month", "--by", "day,model", "--chart"]).succeeds().stdout_golden("sum-day-model.txt");
    sum(&sc, &["--period", "month", "--by", "day,model", "--chart", "--ascii"])
        .succeeds()
        .stdout_golden("sum-day-model-ascii.txt");
}

#[test]
fn tokens_by_agent_against_the_daily_token_budget() {
    let sc = scenario();
    // The agent named `DORA"x` is shown as it is: text, no markup on a terminal.
    sum(&sc, &["--by", "day,agent", "--chart", "tokens"]).succeeds().stdout_golden("sum-tokens-agent.txt");
}

#[test]
fn narrow_terminals_lose_the_amounts_before_the_bars_and_no_line_is_too_long() {
    let sc = scenario();
    let out = sum(&sc, &["--period", "month", "--chart", "--width", "40"]).succeeds().stdout_golden("sum-day-40.txt");
    assert!(widest(&out.stdout) <= 40, "{}", out.stdout);
    for w in ["20", "24", "33", "57", "61", "132"] {
        for by in ["day", "day,model", "hour"] {
            let out = sum(&sc, &["--period", "week", "--by", by, "--chart", "--width", w]).succeeds();
            assert!(widest(&out.stdout) <= w.parse().unwrap(), "{w} {by}:\n{}", out.stdout);
        }
    }
    sum(&sc, &["--chart", "--width", "19"]).fails_with(2).one_error_line("tt-sum").stderr_has("too narrow");
}

#[test]
fn weeks_and_the_share_of_the_current_one_gone_by() {
    let sc = scenario();
    // At noon on the 8th, half of that Sunday is gone: the week's share so far is drawn too.
    sc.cmd("tt-sum")
        .args(["--today", "2026-11-08T12:00", "--period", "month", "--by", "week", "--chart"])
        .env("LC_ALL", "C.UTF-8")
        .succeeds()
        .stdout_golden("sum-week.txt");
}

#[test]
fn markdown_gets_a_mermaid_chart_before_the_table() {
    let sc = scenario();
    let out =
        sum(&sc, &["--period", "month", "--chart", "--format", "markdown"]).succeeds().stdout_golden("sum-day.md");
    assert!(out.stdout.contains("```mermaid\nxychart-beta\n"), "{}", out.stdout);
    // The same table as without the chart.
    let plain = sum(&sc, &["--period", "month", "--by", "day", "--format", "markdown"]).succeeds();
    let table = plain.stdout.split_once("\n\n").unwrap().1;
    assert!(out.stdout.ends_with(table), "{}", out.stdout);
}

#[test]
fn charts_are_for_people_not_for_data_formats() {
    let sc = scenario();
    for f in ["json", "jsonl", "csv"] {
        sum(&sc, &["--chart", "--format", f]).fails_with(2).stderr_is(&format!(
            "tt-sum: error: --chart draws for people: use --format table or markdown, or drop --chart for {f}\n"
        ));
    }
    sum(&sc, &["--chart", "--by", "agent"]).fails_with(2).one_error_line("tt-sum").stderr_has("calendar key");
    sum(&sc, &["--chart", "--by", "day,agent,model"]).fails_with(2).one_error_line("tt-sum");
    sum(&sc, &["--chart", "--by", "hour", "--period", "year"]).fails_with(2).one_error_line("tt-sum");
    sum(&sc, &["--chart", "kilos"]).fails_with(2).one_error_line("tt-sum");
    sum(&sc, &["--ascii"]).fails_with(2).one_error_line("tt-sum");
    // Without --format, a chart is drawn in a pipe too (not JSONL).
    sum(&sc, &["--period", "month", "--chart"]).succeeds().stdout_has("spend per day");
    // A window with nothing in it says so.
    sc.write("empty.jsonl", "");
    // (A file goes before --chart, whose value is optional: `--chart empty.jsonl` would be a measure.)
    sum(&sc, &["empty.jsonl", "--chart"])
        .succeeds()
        .stdout_is("spend per day, all time\nnothing to chart: no records in this window\n");
}

#[test]
fn budget_gauges_below_the_table() {
    let sc = scenario();
    let budget = |extra: &[&str]| {
        sc.cmd("tt-budget").args(TODAY).args(["--format", "table", "--chart"]).args(extra).env("LC_ALL", "C.UTF-8")
    };
    let out = budget(&[]).succeeds().stdout_golden("budget-gauges.txt");
    assert!(widest(out.stdout.split_once("\n\n").unwrap().1) <= 80, "{}", out.stdout);
    budget(&["--ascii"]).succeeds().stdout_golden("budget-gauges-ascii.txt");
    let narrow = budget(&["--width", "40"]).succeeds().stdout_golden("budget-gauges-40.txt");
    assert!(widest(narrow.stdout.split_once("\n\n").unwrap().1) <= 40, "{}", narrow.stdout);
    // Over the limit: the scale goes past it, and the limit is marked.
    let over = sc
        .cmd("tt-budget")
        .args(TODAY)
        .args(["--format", "table", "--chart", "--limit-usd", "10", "--period", "week"])
        .env("LC_ALL", "C.UTF-8")
        .succeeds()
        .stdout_golden("budget-gauge-over.txt");
    assert!(over.stdout.contains('│'), "{}", over.stdout);
    // In a pipe without --chart: the table alone, as ever; data formats refuse --chart.
    let plain = sc.cmd("tt-budget").args(TODAY).args(["--format", "table"]).succeeds();
    assert_eq!(out.stdout.split_once("\n\n").unwrap().0, plain.stdout.trim_end());
    sc.cmd("tt-budget").args(["--chart", "--format", "jsonl"]).fails_with(2).one_error_line("tt-budget");
}

#[test]
fn the_job_summary_charts_the_most_used_budget() {
    let sc = scenario();
    let summary = sc.path().join("summary.md");
    sc.cmd("tt-budget").args(TODAY).env("GITHUB_ACTIONS", "true").env("GITHUB_STEP_SUMMARY", &summary).succeeds();
    let md = std::fs::read_to_string(&summary).unwrap();
    golden("budget-summary.md", &md);
    // atlas-weekly is used most (68.5%): its days, ATLAS's records only, against $10/7 a day.
    assert!(md.contains("title \"atlas-weekly: spend per day of the week from 2026-11-02\""), "{md}");
    // Rows on stdin cannot be read again: the table only.
    let rows = sc.cmd("tt-sum").args(TODAY).args(["--period", "month"]).succeeds().stdout;
    std::fs::remove_file(&summary).unwrap();
    sc.cmd("tt-budget")
        .args(TODAY)
        .args(["--budget", "team-monthly"])
        .pipe_in(rows)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .succeeds();
    assert!(!std::fs::read_to_string(&summary).unwrap().contains("mermaid"));
}

/// The README's chart is this golden file (and tests/docs.rs runs the README's command), so neither can drift.
#[test]
fn the_readme_shows_the_golden_chart() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let chart = std::fs::read_to_string(repo_root().join("tests/golden/sum-day.txt")).unwrap();
    let block = format!("$ tt-sum --period month --today 2026-11-08 --chart --width 80\n{chart}```\n");
    assert!(readme.contains(&block), "README.md's chart is not tests/golden/sum-day.txt");
}

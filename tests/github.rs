//! Under GitHub Actions every tool's exit-2 error is also a workflow command (`::error title=tool::…`, escaped
//! as the runner unescapes it), so a broken step says why in the run's annotations; the budget gate also says
//! in the job summary that it could not decide. Exit 1 and a closed pipe are not annotated by the shared main.
mod common;
use common::*;

/// The workflow-command escaping of a message, written out independently of the core's.
fn escaped(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// `err` is the tool's whole stderr under GitHub Actions: the usual error line, then its annotation.
fn assert_annotated(tool: &str, err: &str, message: &str) {
    assert_eq!(err, format!("{tool}: error: {message}\n::error title={tool}::{}\n", escaped(message)), "{tool}");
}

/// One bad invocation of each tool, and its message.
fn bad_runs(sc: &Scenario) -> Vec<(&'static str, Run, String)> {
    let missing = sc.path().join("missing.jsonl");
    let no_file = format!("{}: No such file or directory", missing.display());
    vec![
        (
            "tt-log",
            sc.cmd("tt-log").args(["A", "sonnet-4.5", "lots", "1"]),
            "input tokens must be a non-negative integer, got \"lots\"".to_string(),
        ),
        ("tt-sum", sc.cmd("tt-sum").arg(&missing), no_file.clone()),
        ("tt-budget", sc.cmd("tt-budget").arg("--limit-usd").arg("1").arg(&missing), no_file.clone()),
        ("tt-export", sc.cmd("tt-export").arg(&missing), no_file.clone()),
        ("tt-optimize", sc.cmd("tt-optimize").arg(&missing), no_file),
        (
            "tt-price",
            sc.cmd("tt-price").args(["--quote", "mystery", "1", "1"]),
            "unknown model \"mystery\" (tt-price --list shows the known models and aliases)".to_string(),
        ),
    ]
}

#[test]
fn every_tools_errors_are_annotated_under_github_actions() {
    let sc = Scenario::new();
    for (tool, run, message) in bad_runs(&sc) {
        let out = run.env("GITHUB_ACTIONS", "true").fails_with(2);
        assert_annotated(tool, &out.stderr, &message);
        assert_eq!(out.stdout, "", "{tool}");
    }
    // Not under GitHub Actions (or with the variable set to anything but `true`): the one line only.
    for (tool, run, message) in bad_runs(&sc) {
        run.fails_with(2).stderr_is(&format!("{tool}: error: {message}\n"));
    }
    for (tool, run, _) in bad_runs(&sc) {
        run.env("GITHUB_ACTIONS", "false").fails_with(2).one_error_line(tool);
    }
}

#[test]
fn usage_errors_are_annotated_too() {
    let sc = Scenario::new();
    let out = sc.cmd("tt-sum").args(["--nope"]).env("GITHUB_ACTIONS", "true").fails_with(2);
    assert_annotated(
        "tt-sum",
        &out.stderr,
        "unexpected argument '--nope' found (tip: a similar argument exists: '--top') (see tt-sum --help)",
    );
}

#[test]
fn annotations_are_escaped() {
    let sc = Scenario::new();
    // A `%` would start an escape and a newline would end the command: the file name has both. The error line
    // shows the newline as `\n` (one line), and the annotation says exactly what the line says.
    let name = "50%\r\nof it.jsonl";
    let out = sc.cmd("tt-sum").arg(name).env("GITHUB_ACTIONS", "true").fails_with(2);
    assert_eq!(
        out.stderr,
        "tt-sum: error: 50%\\r\\nof it.jsonl: No such file or directory\n\
         ::error title=tt-sum::50%25\\r\\nof it.jsonl: No such file or directory\n"
    );
    // Messages with a `%` of their own.
    let out = sc.cmd("tt-budget").args(["--limit-usd", "1", "--warn-at", "150%"]).env("GITHUB_ACTIONS", "true").run();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let line = out.stderr.lines().next().unwrap().strip_prefix("tt-budget: error: ").unwrap().to_string();
    assert!(line.contains('%'), "{line}");
    assert_annotated("tt-budget", &out.stderr, &line);
    assert!(out.stderr.contains("%25"), "{}", out.stderr);
}

#[test]
fn tt_budgets_github_flag_annotates_its_errors() {
    let sc = Scenario::new();
    let missing = sc.path().join("missing.jsonl");
    let out = sc.cmd("tt-budget").args(["--github", "--limit-usd", "1"]).arg(&missing).fails_with(2);
    assert_annotated("tt-budget", &out.stderr, &format!("{}: No such file or directory", missing.display()));
}

#[test]
fn exit_1_and_a_closed_pipe_are_not_annotated_by_the_shared_main() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "1000000", "100000", "--ts", "2026-11-02T10:00:00Z"]).succeeds();
    // Over budget: tt-budget's own annotation for the failed gate, none for a tt-budget error.
    let out = sc
        .cmd("tt-budget")
        .args(["--limit-usd", "1", "--period", "total", "--fail-over", "--format", "csv"])
        .env("GITHUB_ACTIONS", "true")
        .fails_with(1);
    assert!(out.stderr.contains("::error title=tt budget ad-hoc::"), "{}", out.stderr);
    assert!(!out.stderr.contains("title=tt-budget::"), "{}", out.stderr);
    // A reader that stops early: a quiet exit 0, nothing on stderr.
    let line = sc.log();
    sc.write("big.jsonl", line.repeat(5000));
    sc.bash("tt-export --format csv big.jsonl | head -c 10 >/dev/null; echo \"${PIPESTATUS[0]}\"")
        .env("GITHUB_ACTIONS", "true")
        .succeeds()
        .stdout_is("0\n")
        .stderr_is("");
}

#[test]
fn the_budget_gate_says_in_the_job_summary_that_it_could_not_decide() {
    let sc = Scenario::new();
    let summary = sc.write("summary.md", "earlier step\n");
    // Backtick spans are commands or values and stay code (their `*` is not escaped); the rest is plain text.
    let out = sc
        .cmd("tt-budget")
        .args(["--limit-usd", "1", "--scope", "a*b=x"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .fails_with(2);
    assert_annotated("tt-budget", &out.stderr, "--scope: `a*b` is not a record field");
    assert_eq!(
        sc.read("summary.md"),
        "earlier step\n### Token budgets\n\n**The budget gate could not decide:** --scope: `a*b` is not a record \
         field\n\n"
    );
    // Without GitHub Actions, or with GITHUB_STEP_SUMMARY empty, nothing is written.
    sc.cmd("tt-budget")
        .args(["--limit-usd", "1", "--scope", "a*b=x"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .fails_with(2)
        .one_error_line("tt-budget");
    sc.cmd("tt-budget")
        .args(["--limit-usd", "1", "--scope", "a*b=x"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", "")
        .fails_with(2);
    assert_eq!(sc.read("summary.md").matches("### Token budgets").count(), 1);
    // Markup outside code is escaped: a file name with `*` and `_` in it.
    let out = sc
        .cmd("tt-budget")
        .args(["--limit-usd", "1", "no_such*file.jsonl"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .fails_with(2);
    assert_annotated("tt-budget", &out.stderr, "no_such*file.jsonl: No such file or directory");
    assert!(
        sc.read("summary.md").ends_with(
            "### Token budgets\n\n**The budget gate could not decide:** no\\_such\\*file.jsonl: No such file or \
             directory\n\n"
        ),
        "{}",
        sc.read("summary.md")
    );
    // Other tools have no summary section.
    sc.cmd("tt-sum")
        .arg("missing.jsonl")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .fails_with(2);
    assert_eq!(sc.read("summary.md").matches("### Token budgets").count(), 2);
}

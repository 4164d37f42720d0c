//! contrib/tt.sh, the bash helpers build scripts source: run under `set -euo pipefail` (and without it) with
//! the real tools on PATH and a fake `claude` that prints what `claude -p --output-format json` prints.
mod common;
use common::*;

/// The script's first lines: strict mode, the helpers, and two fake agent CLIs.
fn prelude() -> String {
    format!(
        r#"set -euo pipefail
source '{}'
cat > fake-claude <<'END'
#!/bin/sh
# What `claude -p --output-format json` prints (trimmed), then the exit status asked for.
echo '{{"type":"result","subtype":"success","is_error":false,"duration_ms":2100,"result":"Done.","session_id":"abc","usage":{{"input_tokens":50000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":15000}},"modelUsage":{{"claude-sonnet-4-5-20250929":{{}}}}}}'
exit "${{FAKE_EXIT:-0}}"
END
cat > fake-stream <<'END'
#!/bin/sh
# `--output-format stream-json`: many lines, the usage on the last.
echo '{{"type":"system","subtype":"init","model":"claude-sonnet-4-5-20250929"}}'
echo '{{"type":"assistant","message":{{"content":[{{"type":"text","text":"hi"}}]}}}}'
echo '{{"type":"result","usage":{{"input_tokens":1000,"output_tokens":200}}}}'
END
chmod +x fake-claude fake-stream
"#,
        repo_root().join("contrib/tt.sh").display()
    )
}

const CLAUDE_JSON: &str = r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":2100,"result":"Done.","session_id":"abc","usage":{"input_tokens":50000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":15000},"modelUsage":{"claude-sonnet-4-5-20250929":{}}}
"#;

const LOGGED: &str = "logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750\n";

#[test]
fn tt_run_passes_output_through_logs_usage_and_keeps_the_exit_status() {
    let sc = Scenario::new();
    sc.bash(&format!(
        r#"{}
tt_run ATLAS sonnet-4.5 --task build --tag pr=7 -- ./fake-claude -p --output-format json "Build it"
export FAKE_EXIT=3
status=0
tt_run ATLAS sonnet-4.5 -- ./fake-claude || status=$?
echo "status=$status"
"#,
        prelude()
    ))
    .succeeds()
    .stdout_is(&format!("{CLAUDE_JSON}{CLAUDE_JSON}status=3\n"))
    .stderr_is(&format!("{LOGGED}{LOGGED}"));
    let r = sc.records();
    assert_eq!(r.len(), 2);
    assert_eq!((r[0]["input_tokens"].as_u64(), r[0]["output_tokens"].as_u64()), (Some(50000), Some(15000)));
    assert_eq!(r[0]["source"], "anthropic");
    assert_eq!(r[0]["task"], "build");
    assert_eq!(r[0]["tags"]["pr"], "7");
    assert_eq!(r[0]["cost_usd"].to_string(), "0.375");
    // One session id for the whole build, set by sourcing.
    let session = r[0]["session"].as_str().unwrap();
    assert!(session.starts_with("build-"), "{session}");
    assert_eq!(r[1]["session"], r[0]["session"]);
}

#[test]
fn tt_run_reads_streamed_output_and_the_model_from_the_response() {
    let sc = Scenario::new();
    sc.bash(&format!(
        "{}\ntt_run ATLAS - -- ./fake-claude >/dev/null\ntt_run ATLAS sonnet-4.5 -- ./fake-stream | wc -l\n",
        prelude()
    ))
    .succeeds()
    .stdout_is("3\n")
    .stderr_is(
        "logged 65,000 tokens (claude-sonnet-4-5-20250929) for ATLAS - $0.3750\n\
         logged 1,200 tokens (sonnet-4.5) for ATLAS - $0.0060\n",
    );
    assert_eq!(sc.records().len(), 2);
}

#[test]
fn tt_run_never_fails_the_build_because_of_logging() {
    let sc = Scenario::new();
    let out = sc
        .bash(&format!(
            "{}\ntt_run ATLAS sonnet-4.5 -- echo 'not json at all'\necho \"status=$?\"\n\
             tt_run ATLAS sonnet-4.5 -- true\necho done\n",
            prelude()
        ))
        .succeeds()
        .stdout_is("not json at all\nstatus=0\ndone\n");
    let err: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(err.len(), 2, "{}", out.stderr);
    assert!(err[0].starts_with("tt_run: warning: usage not logged: <stdin>:1: invalid JSON"), "{err:?}");
    assert!(err[1].starts_with("tt_run: warning: usage not logged: nothing on stdin"), "{err:?}");
    assert_eq!(sc.log(), "");
    // Under `set -e` a failing command still stops the script, as it would without tt_run.
    sc.bash(&format!("{}\ntt_run ATLAS sonnet-4.5 -- false\necho unreachable\n", prelude()))
        .fails_with(1)
        .stdout_is("");
    // Usage errors are exit 2 and say how to call it.
    sc.bash(&format!("{}\ntt_run ATLAS sonnet-4.5 ./fake-claude\n", prelude()))
        .fails_with(2)
        .stderr_is("tt_run: error: no command: tt_run AGENT MODEL [TT-LOG FLAGS…] -- CMD [ARG…]\n");
}

#[test]
fn helpers_work_without_strict_mode_too() {
    let sc = Scenario::new();
    let script = prelude().replace("set -euo pipefail\n", "");
    sc.bash(&format!(
        "{script}\nFAKE_EXIT=4 tt_run ATLAS sonnet-4.5 -- ./fake-claude >/dev/null\necho \"status=$?\"\n"
    ))
    .succeeds()
    .stdout_is("status=4\n")
    .stderr_is(LOGGED);
    assert_eq!(sc.records().len(), 1);
}

/// A month budget of $1.00 and a log holding $0.75 of it (2026-11-18).
fn budgeted() -> Scenario {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"team-monthly\"\nperiod = \"month\"\nlimit_usd = 1\n");
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "100000", "30000", "--ts", "2026-11-18T10:00:00Z"]).succeeds();
    sc
}

#[test]
fn tt_guard_stops_the_build_when_over_budget() {
    let sc = budgeted();
    // Under budget: one line, then the build goes on. stdin is a pipe full of junk: tt_guard must not read it.
    sc.bash(&format!("{}\ntt_guard --today 2026-11-18\necho continued\n", prelude()))
        .pipe_in("junk that is not JSON\n")
        .succeeds()
        .stdout_is("continued\n")
        .stderr_is("tt-budget: ok: 1 budget within its limit; most used: team-monthly at 75% (info)\n");
    // --verbose: the table too.
    let out = sc.bash(&format!("{}\ntt_guard --today 2026-11-18 --verbose\n", prelude())).succeeds();
    assert!(out.stdout.starts_with("BUDGET "), "{}", out.stdout);
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "100000", "30000", "--ts", "2026-11-18T11:00:00Z"]).succeeds();
    let out = sc.bash(&format!("{}\ntt_guard --today 2026-11-18\necho \"not reached\"\n", prelude())).fails_with(1);
    assert!(out.stdout.contains("team-monthly"), "{}", out.stdout);
    assert!(out.stdout.contains("$1.50"), "{}", out.stdout);
    assert!(!out.stdout.contains("not reached"));
    assert!(
        out.stderr.ends_with(
            "tt_guard: error: over budget: stopping the build (see the budget report above; raise the limit in \
             tt.toml or wait for the next period)\n"
        ),
        "{}",
        out.stderr
    );
    // tt-sum rows piped in on purpose, with `-`.
    sc.bash(&format!(
        "{}\ntt-sum --period month --today 2026-11-18 | tt_guard - --today 2026-11-18 >/dev/null\n",
        prelude()
    ))
    .fails_with(1)
    .stderr_has("tt_guard: error: over budget");
    // A budget that cannot be checked also stops the build, with its own exit code.
    sc.write("tt.toml", "[[budget]]\nname = 1\n");
    sc.bash(&format!("{}\ntt_guard\necho \"not reached\"\n", prelude()))
        .fails_with(2)
        .stdout_is("")
        .stderr_has("tt_guard: error: could not check the budget (tt-budget exit 2): stopping the build\n");
}

#[test]
fn tt_afford_answers_go_or_defer() {
    let sc = budgeted();
    sc.bash(&format!(
        "{}\nfor usd in 0.20 0.30; do\n  if tt_afford \"$usd\" --today 2026-11-18 >/dev/null 2>&1; then echo \"$usd go\"; \
         else echo \"$usd defer\"; fi\ndone\n",
        prelude()
    ))
    .succeeds()
    .stdout_is("0.20 go\n0.30 defer\n");
}

#[test]
fn tt_report_appends_the_markdown_report_to_the_ci_summary() {
    let sc = budgeted();
    let report = sc.cmd("tt-export").args(["--format", "markdown", "--today", "2026-11-18"]).succeeds().stdout;
    assert!(report.starts_with("## Token usage: week of 2026-11-16 – 2026-11-22\n"), "{report}");
    sc.write("summary.md", "# Build\n\n");
    sc.bash(&format!("{}\ntt_report --today 2026-11-18\n", prelude()))
        .env("GITHUB_STEP_SUMMARY", sc.path().join("summary.md"))
        .succeeds()
        .stdout_is("");
    assert_eq!(sc.read("summary.md"), format!("# Build\n\n{report}"));
    // Without a CI summary file, the report goes to stdout.
    sc.bash(&format!("{}\ntt_report --today 2026-11-18\n", prelude())).succeeds().stdout_is(&report);
}

#[test]
fn tt_quote_prints_dollars_for_scripts() {
    let sc = Scenario::new();
    sc.bash(&format!(
        "{}\ncost=\"$(tt_quote sonnet-4.5 50000 15000)\"\necho \"cost=$cost\"\n\
         tt_quote opus-4.5 10000 2000 --cache-read 100000\n",
        prelude()
    ))
    .succeeds()
    .stdout_is("cost=0.375\n0.15\n");
}

#[test]
fn sourcing_sets_ci_defaults_without_overriding_the_callers() {
    let sc = Scenario::new();
    let src = repo_root().join("contrib/tt.sh");
    let script =
        format!("set -euo pipefail\nsource '{}'\necho \"$TT_SESSION ${{TT_PROJECT:-unset}}\"\n", src.display());
    sc.bash(&script)
        .env("GITHUB_RUN_ID", "4242")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .env("GITHUB_REPOSITORY", "acme/rocket")
        .succeeds()
        .stdout_is("gh-4242-2 rocket\n");
    sc.bash(&script).env("CI_PIPELINE_ID", "77").env("CI_PROJECT_NAME", "lab").succeeds().stdout_is("gl-77 lab\n");
    sc.bash(&script)
        .env("GITHUB_RUN_ID", "4242")
        .env("TT_SESSION", "mine")
        .env("TT_PROJECT", "proj")
        .succeeds()
        .stdout_is("mine proj\n");
    // Sourcing twice is harmless; outside git and CI only the session is set.
    let out = sc.bash(&format!("{script}source '{}'\n", src.display())).succeeds();
    assert!(out.stdout.starts_with("build-") && out.stdout.ends_with(" unset\n"), "{}", out.stdout);
}

#[test]
fn tt_log_warns_instead_of_failing_the_build() {
    let sc = Scenario::new();
    sc.bash(&format!("{}\ntt_log ATLAS sonnet-4.5 50000 15000\ntt_log ATLAS sonnet-4.5 -5 10\necho done\n", prelude()))
        .succeeds()
        .stdout_is("done\n")
        .stderr_is(&format!(
            "{LOGGED}tt_log: warning: usage not logged: input tokens must be a non-negative integer, got \"-5\"\n"
        ));
    assert_eq!(sc.records().len(), 1);
}

#[test]
fn tt_report_warns_instead_of_failing_the_build() {
    // A bad line in the log makes tt-export fail (exit 2); under `set -e` the build goes on, as with tt_run and
    // tt_log, and the CI summary is left as it was.
    let sc = budgeted();
    std::fs::OpenOptions::new()
        .append(true)
        .open(sc.log_path())
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"v\":1,\"id\":\"broken\"}\n"))
        .unwrap();
    sc.write("summary.md", "# Build\n\n");
    let warning = format!(
        "tt_report: warning: report not written: {}:2: missing field `ts` (tt-log --repair moves bad lines aside)\n",
        sc.log_path().display()
    );
    sc.bash(&format!("{}\ntt_report --today 2026-11-18\necho continued\n", prelude()))
        .env("GITHUB_STEP_SUMMARY", sc.path().join("summary.md"))
        .succeeds()
        .stdout_is("continued\n")
        .stderr_is(&warning);
    assert_eq!(sc.read("summary.md"), "# Build\n\n");
    // Without a CI summary: nothing on stdout but the script's own output.
    sc.bash(&format!("{}\ntt_report --today 2026-11-18\necho continued\n", prelude()))
        .succeeds()
        .stdout_is("continued\n")
        .stderr_is(&warning);
    // Input piped in on purpose with `-` is read, and its problems are warnings too.
    sc.bash(&format!("{}\necho 'not json' | tt_report -\necho continued\n", prelude()))
        .succeeds()
        .stdout_is("continued\n")
        .stderr_has("tt_report: warning: report not written: <stdin>:1: invalid JSON");
}

#[test]
fn with_no_budgets_tt_guard_and_tt_afford_warn_and_the_build_goes_on() {
    // A fresh install: a log, no [[budget]] anywhere. Under `set -euo pipefail` the build must not stop.
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "100000", "30000", "--ts", "2026-11-18T10:00:00Z"]).succeeds();
    sc.bash(&format!(
        "{}\ntt_guard --today 2026-11-18\necho guarded\nif tt_afford 2.50; then echo go; else echo defer; fi\n\
         tt_afford 1000000\necho done\n",
        prelude()
    ))
    .succeeds()
    .stdout_is("guarded\ngo\ndone\n")
    .stderr_is(
        "tt_guard: warning: no budgets configured; nothing to check\n\
         tt_afford: warning: no budgets: any spend fits\n\
         tt_afford: warning: no budgets: any spend fits\n",
    );
    // Rows piped in with `-` and no budgets: the same.
    sc.bash(&format!("{}\ntt-sum --period month | tt_guard -\necho guarded\n", prelude()))
        .succeeds()
        .stdout_is("guarded\n")
        .stderr_is("tt_guard: warning: no budgets configured; nothing to check\n");
    // An ad-hoc limit is a budget: checked as usual.
    sc.bash(&format!("{}\ntt_guard --today 2026-11-18 --limit-usd 0.10 >/dev/null\necho \"not reached\"\n", prelude()))
        .fails_with(1)
        .stdout_is("")
        .stderr_has("tt_guard: error: over budget");
}

#[test]
fn tt_guard_and_tt_afford_still_fail_on_real_errors() {
    // A bad config: exit 2 from both, with tt-budget's own error on stderr.
    let sc = budgeted();
    sc.write("tt.toml", "[[budget]]\nname = 1\n");
    let out = sc
        .bash(&format!(
            "{}\nstatus=0\ntt_afford 1 || status=$?\necho \"afford=$status\"\ntt_guard\necho \"not reached\"\n",
            prelude()
        ))
        .fails_with(2)
        .stdout_is("afford=2\n");
    let err: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(err.len(), 3, "{}", out.stderr);
    assert!(err[0].starts_with("tt-budget: error: "), "{}", out.stderr);
    assert!(err[1].starts_with("tt-budget: error: "), "{}", out.stderr);
    assert_eq!(err[2], "tt_guard: error: could not check the budget (tt-budget exit 2): stopping the build");
    // A bad line in the log, with budgets configured: exit 2 too.
    let sc = budgeted();
    std::fs::OpenOptions::new()
        .append(true)
        .open(sc.log_path())
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"v\":1,\"id\":\"broken\"}\n"))
        .unwrap();
    let missing_ts = format!(
        "tt-budget: error: {}:2: missing field `ts` (tt-log --repair moves bad lines aside)\n",
        sc.log_path().display()
    );
    sc.bash(&format!(
        "{}\nstatus=0\ntt_afford 0.10 --today 2026-11-18 || status=$?\necho \"afford=$status\"\n",
        prelude()
    ))
    .succeeds()
    .stdout_is("afford=2\n")
    .stderr_is(&missing_ts);
    sc.bash(&format!("{}\ntt_guard --today 2026-11-18\necho \"not reached\"\n", prelude()))
        .fails_with(2)
        .stdout_is("")
        .stderr_is(&format!(
            "{missing_ts}tt_guard: error: could not check the budget (tt-budget exit 2): stopping the build\n"
        ));
}

/// The reserve → run → settle pattern: tt_reserve holds the task's estimate and exports TT_RESERVATION, the
/// task's usage settles it (tt_settle, or any tt-log while TT_RESERVATION is set), and tt_release frees a hold
/// whose task did not run. A go is one line; a defer returns 1 and holds nothing.
#[test]
fn tt_reserve_settle_and_release() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"total\"\nlimit_usd = 1\n");
    let out = sc
        .bash(&format!(
            "{}\ntt_reserve 0.50 --agent A 2>reserve.err\necho \"held ${{TT_RESERVATION:0:2}}\"\n\
             tt_settle A sonnet-4.5 1000 100 --no-git -q\necho \"after settle: ${{TT_RESERVATION:-unset}}\"\n\
             if tt_reserve 0.999 --agent A 2>/dev/null; then echo go; else echo \"defer $? ${{TT_RESERVATION:-unset}}\"; fi\n\
             tt_reserve 0.50 --agent B 2>/dev/null\ntt_release 2>release.err\necho \"after release: ${{TT_RESERVATION:-unset}}\"\n",
            prelude()
        ))
        .succeeds();
    assert_eq!(out.stdout, "held r-\nafter settle: unset\ndefer 1 unset\nafter release: unset\n");
    assert_eq!(sc.read("reserve.err").lines().count(), 1, "{}", sc.read("reserve.err"));
    assert!(sc.read("reserve.err").starts_with("tt-budget: go: ~$0.5000 fits: team ($1.00 left)"));
    assert!(sc.read("release.err").starts_with("tt-budget: released r-"));
    let recs = sc.records();
    assert_eq!(recs.len(), 1);
    assert!(recs[0]["reservation"].as_str().unwrap().starts_with("r-"));
    // Nothing held any more: the whole limit but the record's $0.0045 is left.
    let team = sc.cmd("tt-budget").succeeds().jsonl()[0].clone();
    assert_eq!((team["spent_usd"].to_string(), team.get("held_usd")), ("0.0045".to_string(), None));
    // Settling or releasing with nothing reserved is an error (2), not a silent success.
    sc.bash(&format!("{}\ntt_settle A sonnet-4.5 1 1 || echo $?\ntt_release || echo $?\n", prelude()))
        .succeeds()
        .stdout_is("2\n2\n");
}

/// tt_afford's answer is one line: the go (or the reason to defer) on stderr, nothing on stdout.
#[test]
fn tt_afford_says_go_in_one_line() {
    let sc = budgeted();
    let out = sc.bash(&format!("{}\ntt_afford 0.20 --today 2026-11-18\n", prelude())).succeeds();
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("tt-budget: go: ~$0.2000 fits: team-monthly"), "{}", out.stderr);
}

/// The pattern end to end, as a build script writes it: `tt_reserve 1 --agent A && run && tt_settle …`.
/// TT_RESERVATION is set (to the id, exported to the task) while the task runs and unset after; the log has the
/// task's record naming that id; nothing stays held. The go is tt-budget's one line; tt_reserve prints nothing
/// on stdout.
#[test]
fn tt_reserve_run_tt_settle_end_to_end() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 5\n");
    let out = sc
        .bash(&format!(
            "{}\nrun() {{ echo \"running with ${{TT_RESERVATION:-unset}}\"; bash -c 'echo \"the task sees $TT_RESERVATION\"'; }}\n\
             tt_reserve 1 --agent A && run && tt_settle A sonnet-4.5 1000 100 --no-git\n\
             echo \"after: ${{TT_RESERVATION:-unset}}\"\n",
            prelude()
        ))
        .succeeds();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    let id = lines[0].strip_prefix("running with ").unwrap();
    assert!(id.starts_with("r-") && id.len() == 38, "{id}");
    assert_eq!(lines[1], format!("the task sees {id}"));
    assert_eq!(lines[2], "after: unset");
    let err: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(err.len(), 2, "{}", out.stderr);
    assert!(err[0].starts_with("tt-budget: go: ~$1.00 fits: team ($5.00 left) (held as "), "{}", err[0]);
    assert!(err[0].contains(id), "{}", err[0]);
    assert_eq!(err[1], "logged 1,100 tokens (sonnet-4.5) for A - $0.0045");
    let recs = sc.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["reservation"], id);
    assert_eq!(recs[0]["agent"], "A");
    // The hold is settled: the report counts the record only.
    let team = sc.cmd("tt-budget").succeeds().jsonl()[0].clone();
    assert_eq!((team["spent_usd"].to_string(), team.get("held_usd")), ("0.0045".to_string(), None));
    let holds = sc.read("usage.jsonl.tt-holds");
    assert_eq!(holds.lines().count(), 2, "{holds}");
    assert!(holds.lines().nth(1).unwrap().contains(&format!("\"end\":\"{id}\"")), "{holds}");
}

/// A defer (1) runs nothing and leaves TT_RESERVATION unset; a check that cannot be made is 2; with no budgets
/// configured the pattern still runs and logs the usage (plainly: there is no hold to settle), and tt_release
/// has nothing to free.
#[test]
fn tt_reserve_defer_error_and_no_budgets() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 5\n");
    let out = sc
        .bash(&format!(
            "{}\nst=0; tt_reserve 6 --agent A && echo ran || st=$?\necho \"defer $st ${{TT_RESERVATION:-unset}}\"\n\
             st=0; tt_reserve 1 --ttl soon || st=$?\necho \"error $st ${{TT_RESERVATION:-unset}}\"\n",
            prelude()
        ))
        .succeeds();
    assert_eq!(out.stdout, "defer 1 unset\nerror 2 unset\n");
    assert!(
        out.stderr.starts_with("tt-budget: error: team: $5.00 left; this task needs ~$6.00: defer it\n"),
        "{}",
        out.stderr
    );
    assert!(!sc.path().join("usage.jsonl.tt-holds").exists());

    sc.write("tt.toml", "");
    sc.bash(&format!(
        "{}\ntt_reserve 1 --agent A && echo ran && tt_settle A sonnet-4.5 1000 100 --no-git -q\n\
         echo \"after: ${{TT_RESERVATION:-unset}}\"\ntt_reserve 1 && tt_release && echo released\n",
        prelude()
    ))
    .succeeds()
    .stdout_is("ran\nafter: unset\nreleased\n")
    .stderr_is(
        "tt_reserve: warning: no budgets: any spend fits (nothing held)\n\
         tt_reserve: warning: no budgets: any spend fits (nothing held)\n",
    );
    let recs = sc.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].get("reservation"), None);
}

/// The go answers are one line each, nothing on stdout: tt_afford's, and tt_guard's with an estimate.
#[test]
fn go_answers_of_tt_afford_and_tt_guard_are_one_line() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 5\n");
    for helper in ["tt_afford 1 --agent A", "tt_guard --estimate-usd 1 --agent A"] {
        sc.bash(&format!("{}\n{helper}\n", prelude()))
            .succeeds()
            .stdout_is("")
            .stderr_is("tt-budget: go: ~$1.00 fits: team ($5.00 left)\n");
    }
}

//! `tt-log --import claude-code|codex`: agent transcripts into the usage log.
//!
//! The fixtures in `tests/fixtures/{claude-code,codex}` are modelled on real transcripts and hold every quirk
//! the importer must survive (streaming copies, sidechains, subagent files, progress-line usage, malformed and
//! glued lines, a torn last line, `<synthetic>` and API-error lines, unknown models; Codex `info: null`,
//! repeated and cumulative-only totals, model switches, a forked subagent replaying its parent, a torn event and
//! an unterminated last line). The expected records and costs were worked out by hand (see the comments). The
//! real-transcript tests run on `../shared/realdata` when that folder exists; their totals were computed
//! independently with a Python script (`bench/realdata_totals.py`).
// Test helpers panic on a failed setup step, like the tests themselves.
#![allow(clippy::unwrap_used)]
mod common;
use std::path::{Path, PathBuf};

use common::*;

/// A scenario with the fixture trees copied in: `claude/` (a Claude config dir) and `codex/` (a CODEX_HOME).
fn scenario() -> (Scenario, PathBuf) {
    let sc = Scenario::new();
    copy_tree(&fixture("claude-code"), &sc.path().join("claude"));
    copy_tree(&fixture("codex"), &sc.path().join("codex"));
    let root = std::fs::canonicalize(sc.path()).unwrap();
    (sc, root)
}

/// One record in a line: what matters, without ids, host and user.
fn brief(r: &serde_json::Value) -> String {
    let n = |k: &str| r.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let s = |k: &str| r.get(k).map(|v| v.as_str().map_or(v.to_string(), str::to_string)).unwrap_or_default();
    let tags = r.get("tags").map(|t| format!(" tags={t}")).unwrap_or_default();
    format!(
        "{} {} {} in={} out={} cr={} cw={} cw1h={} rs={} ${} {}/{}/{}{}",
        s("ts"),
        s("agent"),
        s("model"),
        n("input_tokens"),
        n("output_tokens"),
        n("cache_read_tokens"),
        n("cache_write_tokens"),
        n("cache_write_1h_tokens"),
        n("reasoning_tokens"),
        s("cost_usd"),
        s("session"),
        s("project"),
        s("branch"),
        tags
    )
}

/// The records in time order (the log has them in file order).
fn briefs(records: &[serde_json::Value]) -> String {
    let mut lines: Vec<String> = records.iter().map(|r| brief(r) + "\n").collect();
    lines.sort();
    lines.concat()
}

// Claude fixture, by hand:
// msg_A/req_1 streamed on 3 lines (output 5, 120, 60): the 120 line is kept. sonnet-4 at 3/15/0.30/3.75:
//   10*3 + 120*15 + 1000*0.30 + 200*3.75 = 2880 → $0.00288
// msg_B sidechain (inline, haiku 1/5): 20 + 150 = 170 → $0.00017
// line 7 malformed; two <synthetic> lines (one an API error) skipped
// msg_C glued to a summary object, 1-hour cache writes (sonnet-4.5, 1h write 6): 6 + 6000 + 1500 + 18000
//   = 25506 → $0.025506
// msg_D in a progress line AND in subagents/agent-a1.jsonl: once. haiku: 7 + 350 + 70 = 427 → $0.000427
// msg_G only in the subagent file: 3 + 45 = 48 → $0.000048
// msg_E claude-quill-9: unknown, logged unpriced
// line 13 torn (no newline): skipped, retried next time
const CLAUDE_RECORDS: &str = "\
2026-03-01T10:00:02.000Z claude-code claude-sonnet-4-20250514 in=10 out=120 cr=1000 cw=200 cw1h=0 rs=0 $0.00288 s1/shop/main
2026-03-01T10:01:00.000Z claude-code claude-haiku-4-5-20251001 in=20 out=30 cr=0 cw=0 cw1h=0 rs=0 $0.00017 s1/shop/main tags={\"sidechain\":\"true\"}
2026-03-01T10:04:00.000Z claude-code claude-sonnet-4-5-20250929 in=2 out=400 cr=5000 cw=0 cw1h=3000 rs=0 $0.025506 s1/shop/main
2026-03-01T10:05:00.000Z claude-code claude-haiku-4-5-20251001 in=7 out=70 cr=700 cw=0 cw1h=0 rs=0 $0.000427 s1/shop/main tags={\"sidechain\":\"true\"}
2026-03-01T10:05:30.000Z claude-code claude-haiku-4-5-20251001 in=3 out=9 cr=0 cw=0 cw1h=0 rs=0 $0.000048 s1/shop/main tags={\"sidechain\":\"true\"}
2026-03-01T10:06:00.000Z claude-code claude-quill-9 in=1 out=2 cr=0 cw=0 cw1h=0 rs=0 $ s1/shop/main
";

// Codex fixture, by hand (gpt-5 1.25/10, cached 0.125; gpt-4.1 2/8, cached 0.50):
// parent: info null (skipped); T1 {in 1000, cached 200, out 100, rs 40}: 800*1.25 + 200*0.125 + 100*10 = 2025
//   → $0.002025; line 6 an event torn by a crash (malformed, skipped); T1 repeated (skipped); T2 cumulative only {2500, 1200, 180, 60}: difference {1500, 1000, 80,
//   20} → 500*1.25 + 1000*0.125 + 80*10 = 1550 → $0.00155; model switch to gpt-4.1; T3 last {1500, 800, 120}:
//   700*2 + 800*0.5 + 120*8 = 2760 → $0.00276; line 11 an event without its newline (torn: skipped, read again
//   next time)
// fork: two session_meta lines, replays the parent's events (re-stamped) — counted once — then its own turn
//   last {1000, 1000, 50, 10} on gpt-5: 0 + 125 + 500 = 625 → $0.000625, session = the fork, branch = its own
const P: &str = "019d0000-0000-7000-8000-00000000000a";
const F: &str = "019d0000-0000-7000-8000-00000000000b";
// archived_sessions/ (flat, no date folders): one request, gpt-5 {in 200, cached 100, out 100}: 100*1.25 +
//   100*0.125 + 100*10 = 1137.5 → $0.0011375
const A: &str = "019c0000-0000-7000-8000-0000000000aa";

fn codex_records() -> String {
    format!(
        "\
2026-02-10T09:00:30.000Z codex gpt-5 in=100 out=100 cr=100 cw=0 cw1h=0 rs=0 $0.0011375 {A}/old/main
2026-04-11T14:53:21.000Z codex gpt-5 in=800 out=100 cr=200 cw=0 cw1h=0 rs=40 $0.002025 {P}/api/main
2026-04-11T14:54:00.000Z codex gpt-5 in=500 out=80 cr=1000 cw=0 cw1h=0 rs=20 $0.00155 {P}/api/main
2026-04-11T14:55:30.000Z codex gpt-4.1 in=700 out=120 cr=800 cw=0 cw1h=0 rs=0 $0.00276 {P}/api/main
2026-04-11T20:15:31.000Z codex gpt-5 in=0 out=50 cr=1000 cw=0 cw1h=0 rs=10 $0.000625 {F}/api/feature
"
    )
}

#[test]
fn claude_code_fixture_gives_exact_records() {
    let (sc, root) = scenario();
    let s1 = root.join("claude/projects/-home-dev-shop/s1.jsonl");
    sc.cmd("tt-log")
        .args(["--import", "claude-code"])
        .env("CLAUDE_CONFIG_DIR", sc.path().join("claude"))
        .succeeds()
        .stdout_is("")
        .stderr_is(&format!(
            "\
tt-log: warning: {s1}:7: malformed line skipped (invalid JSON: EOF while parsing a value (column 109))
tt-log: warning: {s1}:13: incomplete last line skipped (invalid JSON: EOF while parsing a string (column 138))
tt-log: warning: unknown model \"claude-quill-9\": 1 record logged unpriced (add it to the price table; tt-price --list shows it)
claude-code: 2 files read, added 6 records (10,574 tokens, $0.0290, 1 unpriced), skipped 3 duplicates and 2 malformed lines
",
            s1 = s1.display()
        ));
    let recs = sc.records();
    assert_eq!(briefs(&recs), CLAUDE_RECORDS);
    for r in &recs {
        assert_eq!(r["source"], "claude-code");
        assert_eq!(r["v"], 1);
    }
}

#[test]
fn codex_fixture_counts_growing_totals_once_and_the_fork_replay_never() {
    let (sc, root) = scenario();
    let parent = root.join(format!("codex/sessions/2026/04/11/rollout-2026-04-11T14-53-07-{P}.jsonl"));
    let parent = parent.display();
    sc.cmd("tt-log").args(["--import", "codex"]).env("CODEX_HOME", sc.path().join("codex")).succeeds().stderr_is(
        &format!(
            "\
tt-log: warning: {parent}:6: malformed line skipped (invalid JSON: EOF while parsing a string (column 130))
tt-log: warning: {parent}:11: incomplete last line skipped (invalid JSON: EOF while parsing a string (column 150))
codex: 3 files read, added 5 records (5,650 tokens, $0.0081), skipped 3 duplicates and 2 malformed lines
"
        ),
    );
    assert_eq!(briefs(&sc.records()), codex_records());
}

#[test]
fn a_fork_imported_before_its_parent_is_not_double_counted() {
    let (sc, _) = scenario();
    let dir = sc.path().join("codex/sessions/2026/04/11");
    let fork = dir.join(format!("rollout-2026-04-11T20-15-02-{F}.jsonl"));
    let parent = dir.join(format!("rollout-2026-04-11T14-53-07-{P}.jsonl"));
    // The fork alone: its replay stands for the parent's usage (stamped at replay time) plus its own turn.
    sc.cmd("tt-log").args(["--import", "codex"]).arg(&fork).succeeds();
    assert_eq!(sc.records().len(), 4);
    // Then the parent: every one of its requests is already there (same source identity, other timestamp).
    sc.cmd("tt-log").args(["--import", "codex"]).arg(&parent).succeeds().stderr_has(
        "codex: 1 file read, added 0 records (0 tokens, $0.0000), skipped 3 duplicates and 2 malformed lines\n",
    );
    let total: u64 = sc
        .records()
        .iter()
        .map(|r| {
            ["input_tokens", "output_tokens", "cache_read_tokens"].iter().map(|k| r[k].as_u64().unwrap()).sum::<u64>()
        })
        .sum();
    assert_eq!(total, 5350);
}

#[test]
fn importing_twice_adds_nothing_even_without_the_state_file() {
    let (sc, _) = scenario();
    let claude = sc.path().join("claude");
    let run = || sc.cmd("tt-log").args(["--import", "claude-code"]).env("CLAUDE_CONFIG_DIR", &claude).succeeds();
    run();
    let first = sc.log();
    // The subagent file is unchanged and not read again; s1.jsonl ends with a torn line, so it is re-read from
    // the end of its last complete line (and the torn line warned about again).
    run().stderr_has("s1.jsonl:13: incomplete last line skipped").stderr_has(
        "claude-code: 2 files read (1 unchanged), added 0 records (0 tokens, $0.0000), skipped 0 duplicates and 1 malformed line\n",
    );
    assert_eq!(sc.log(), first);
    // Without the offsets everything is read again, and every request is found in the log by its id.
    std::fs::remove_file(sc.path().join("usage.jsonl.tt-import.json")).unwrap();
    run().stderr_has("added 0 records (0 tokens, $0.0000), skipped 9 duplicates and 2 malformed lines\n");
    assert_eq!(sc.log(), first);
    // Codex too.
    let codex = || sc.cmd("tt-log").args(["--import", "codex"]).env("CODEX_HOME", sc.path().join("codex")).succeeds();
    codex();
    let with_codex = sc.log();
    // The parent's unterminated last line is read again (and still reported); its malformed line 6 is not.
    codex().stderr_has(":11: incomplete last line skipped").stderr_has(
        "codex: 3 files read (2 unchanged), added 0 records (0 tokens, $0.0000), skipped 0 duplicates and 1 malformed line\n",
    );
    assert_eq!(sc.log(), with_codex);
}

#[test]
fn a_reimport_reads_only_the_new_lines() {
    let (sc, root) = scenario();
    let s1 = root.join("claude/projects/-home-dev-shop/s1.jsonl");
    let run = || sc.cmd("tt-log").args(["--import", "claude-code"]).arg(root.join("claude")).succeeds();
    run();
    // Claude Code finishes the torn line and writes a new request; line 7 (malformed) is not read again.
    let mut text = std::fs::read_to_string(&s1).unwrap();
    text.push_str(
        r#"kens":4,"output_tokens":40},"model":"claude-haiku-4-5"},"requestId":"req_7","sessionId":"s1","cwd":"/home/dev/shop","gitBranch":"main"}
{"type":"assistant","timestamp":"2026-03-01T10:08:00.000Z","sessionId":"s1","cwd":"/home/dev/shop","gitBranch":"main","requestId":"req_8","message":{"id":"msg_H","model":"claude-haiku-4-5","content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":1,"output_tokens":1}}}
"#,
    );
    std::fs::write(&s1, text).unwrap();
    // The session is over (its last request is complete once the file is left alone).
    idle(&s1);
    let out = run().stderr_is(
        "claude-code: 2 files read (1 unchanged), added 2 records (46 tokens, $0.0002), skipped 0 duplicates and 0 malformed lines\n",
    );
    assert!(!out.stderr.contains(":7:"));
    let recs = sc.records();
    assert_eq!(recs.len(), 8);
    // haiku 4*1 + 40*5 = 204 → $0.000204; 1 + 5 = 6 → $0.000006
    assert_eq!(
        briefs(&recs[6..]),
        "\
2026-03-01T10:07:00.000Z claude-code claude-haiku-4-5 in=4 out=40 cr=0 cw=0 cw1h=0 rs=0 $0.000204 s1/shop/main
2026-03-01T10:08:00.000Z claude-code claude-haiku-4-5 in=1 out=1 cr=0 cw=0 cw1h=0 rs=0 $0.000006 s1/shop/main
"
    );
}

#[test]
fn a_truncated_or_rotated_file_is_read_again_from_the_start() {
    let (sc, root) = scenario();
    let sub = root.join("claude/projects/-home-dev-shop/s1/subagents/agent-a1.jsonl");
    let run = || sc.cmd("tt-log").args(["--import", "claude-code"]).arg(root.join("claude")).succeeds();
    run();
    let lines: Vec<String> = std::fs::read_to_string(&sub).unwrap().lines().map(str::to_string).collect();
    // Truncated to its first line: shorter than the saved offset, so read from the start; nothing is new.
    std::fs::write(&sub, format!("{}\n", lines[0])).unwrap();
    idle(&sub);
    run().stderr_has("added 0 records (0 tokens, $0.0000), skipped 1 duplicate and");
    // Rotated: a different file of the same name, longer than before (the saved head no longer matches).
    let other = lines[1].replace("msg_G", "msg_K").replace("req_6", "req_9");
    std::fs::write(&sub, format!("{other}\n{}\n{}\n", lines[0], lines[1])).unwrap();
    idle(&sub);
    run().stderr_has("added 1 record (12 tokens, $0.0000), skipped 2 duplicates and");
    assert_eq!(sc.records().len(), 7);
}

#[test]
fn dry_run_prints_what_would_be_added_and_writes_nothing() {
    let (sc, root) = scenario();
    let out = sc
        .cmd("tt-log")
        .args(["--import", "codex"])
        .arg(root.join("codex"))
        .arg("--dry-run")
        .succeeds()
        .stderr_has("codex: 3 files read, would add 5 records (5,650 tokens, $0.0081)");
    assert_eq!(briefs(&out.jsonl()), codex_records());
    assert!(!sc.log_path().exists());
    assert!(!sc.path().join("usage.jsonl.tt-import.json").exists());
    // --print writes the appended records too, and --agent renames the agent (ids stay those of the source).
    let printed = sc
        .cmd("tt-log")
        .args(["--import", "codex", "--print", "--agent", "ci-codex"])
        .arg(root.join("codex"))
        .succeeds()
        .jsonl();
    assert_eq!(printed.len(), 5);
    assert!(printed.iter().all(|r| r["agent"] == "ci-codex"));
    assert_eq!(
        out.jsonl().iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        printed.iter().map(|r| r["id"].clone()).collect::<Vec<_>>()
    );
}

#[test]
fn two_machines_importing_one_transcript_make_the_same_ids() {
    let (a, root) = scenario();
    let b = Scenario::new();
    a.cmd("tt-log").args(["--import", "claude-code"]).arg(root.join("claude")).succeeds();
    b.cmd("tt-log").args(["--import", "claude-code"]).arg(root.join("claude")).succeeds();
    let ids = |sc: &Scenario| sc.records().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    // Merging B's log into A's adds nothing (the merge import skips known ids).
    let merged_before = a.log();
    a.cmd("tt-log").args(["--import"]).arg(b.log_path()).run();
    assert_eq!(a.log(), merged_before);
}

#[test]
fn default_directories_and_errors() {
    let (sc, _) = scenario();
    // A comma-separated CLAUDE_CONFIG_DIR; a missing entry is ignored when another exists.
    sc.cmd("tt-log")
        .args(["--import", "claude-code"])
        .env(
            "CLAUDE_CONFIG_DIR",
            format!("{},{}", sc.path().join("nowhere").display(), sc.path().join("claude").display()),
        )
        .succeeds()
        .stderr_has("added 6 records");
    // ~/.claude is the default (HOME is the scenario).
    let home = Scenario::new();
    copy_tree(&fixture("claude-code"), &home.path().join(".claude"));
    home.cmd("tt-log").args(["--import", "claude-code"]).succeeds().stderr_has("added 6 records");
    // ~/.codex for Codex; nothing there is an error naming where it looked.
    let empty = Scenario::new();
    empty
        .cmd("tt-log")
        .args(["--import", "codex"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("no codex data found (looked in ");
    empty.cmd("tt-log").args(["--import", "claude-code", "missing-dir"]).fails_with(2).one_error_line("tt-log");
    assert!(!empty.log_path().exists());
}

#[test]
fn the_claude_code_hook_imports_the_finished_session() {
    let (sc, root) = scenario();
    let s1 = root.join("claude/projects/-home-dev-shop/s1.jsonl");
    let hook = repo_root().join("contrib/claude-code-hook.sh");
    let input = format!(
        r#"{{"session_id":"s1","transcript_path":"{}","cwd":"/home/dev/shop","hook_event_name":"Stop","stop_hook_active":false}}"#,
        s1.display()
    );
    // The hook is silent and exits 0; the session and its subagents file are imported.
    sc.bash(&format!("{} ; echo \"exit=$?\"", hook.display()))
        .pipe_in(&input)
        .succeeds()
        .stdout_is("exit=0\n")
        .stderr_is("");
    assert_eq!(briefs(&sc.records()), CLAUDE_RECORDS);
    // Run again (the next Stop): nothing new.
    sc.bash(&hook.display().to_string()).pipe_in(&input).succeeds();
    assert_eq!(sc.records().len(), 6);
    // Bad hook input never fails the agent's session, but tt-log itself reports it.
    sc.bash(&hook.display().to_string()).pipe_in("not json").succeeds().stderr_is("");
    sc.cmd("tt-log")
        .args(["--import", "claude-code", "-"])
        .pipe_in(r#"{"session_id":"s1"}"#)
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("no `transcript_path`");
}

// ---- real transcripts (../shared/realdata): skipped when absent -------------------------------------------

fn realdata() -> Option<PathBuf> {
    common::realdata(&["claude/projects"])
}

/// A copy of the real transcripts in the scenario (`real/claude`, `real/codex`), as they are when their
/// sessions are over: idle for an hour (`idle_files`: true), or as just copied or checked out, with fresh mtimes —
/// what a tree that was written a moment ago looks like (`idle_files`: false). The copy is writable, whatever the
/// permissions of `../shared`.
fn real_tree(sc: &Scenario, data: &Path, idle_files: bool) -> PathBuf {
    let root = sc.path().join("real");
    for dir in ["claude", "codex"] {
        if data.join(dir).is_dir() {
            copy_files(&data.join(dir), &root.join(dir), idle_files);
        }
    }
    root
}

/// The totals of `bench/realdata_totals.py` (an independent implementation of the counting rules, in Python)
/// for one source: (records, tokens, per-model lines in the format of [`sums`]).
fn independent_totals(tree: &Path, source: &str) -> (u64, u64, String) {
    let out = std::process::Command::new("python3")
        .arg(repo_root().join("bench/realdata_totals.py"))
        .arg(tree)
        .output()
        .expect("python3 runs bench/realdata_totals.py (.ci/run installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let head = format!("## {source}: ");
    let section = &text[text.find(&head).unwrap_or_else(|| panic!("no {head:?} in {text}")) + head.len()..];
    let (first, rest) = section.split_once('\n').unwrap();
    let (records, tokens) = first.split_once(" records, ").unwrap();
    let tokens = tokens.strip_suffix(" tokens").unwrap().replace(',', "");
    let models: String = rest.lines().take_while(|l| !l.starts_with("## ")).map(|l| format!("{l}\n")).collect();
    (records.parse().unwrap(), tokens.parse().unwrap(), models)
}

/// Token sums per model over the log: "model [in, out, cache_read, cache_write, cache_write_1h, reasoning,
/// records]".
fn sums(sc: &Scenario) -> String {
    let mut m: std::collections::BTreeMap<String, [u64; 7]> = Default::default();
    for r in sc.records() {
        let e = m.entry(r["model"].as_str().unwrap().to_string()).or_default();
        for (i, k) in [
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cache_write_1h_tokens",
            "reasoning_tokens",
        ]
        .iter()
        .enumerate()
        {
            e[i] += r.get(*k).and_then(|v| v.as_u64()).unwrap_or(0);
        }
        e[6] += 1;
    }
    m.iter().map(|(k, v)| format!("{k} {v:?}\n")).collect()
}

/// Import one source of the real tree.
fn import_real(sc: &Scenario, tree: &Path, source: &str) -> Out {
    let (var, dir) = if source == "codex" { ("CODEX_HOME", "codex") } else { ("CLAUDE_CONFIG_DIR", "claude") };
    sc.cmd("tt-log").args(["--import", source]).env(var, tree.join(dir)).succeeds()
}

/// Check the log against the independent totals of `source`, and that `out` (the import that completed it)
/// says it added `added` records (all of them: `None`) and read no malformed line.
fn matches_independent_totals(sc: &Scenario, tree: &Path, source: &str, out: &Out, added: Option<u64>) {
    let (records, tokens, models) = independent_totals(tree, source);
    assert!(records > 0, "no {source} requests in the real data: nothing was checked");
    assert_eq!(sums(sc), models);
    let summary = match added {
        None => format!(
            "added {} ({} tokens, $",
            tt_core::money::plural(records, "record"),
            tt_core::money::thousands(tokens)
        ),
        Some(n) => format!("added {} (", tt_core::money::plural(n, "record")),
    };
    assert!(out.stderr.contains(&summary), "{summary:?} in {}", out.stderr);
    assert!(out.stderr.contains("and 0 malformed lines\n"), "{}", out.stderr);
}

#[test]
fn real_claude_code_transcripts_match_independent_totals() {
    let Some(data) = realdata() else { return };
    let sc = Scenario::new();
    let tree = real_tree(&sc, &data, true);
    // With the realdata of this writing: 11 files, 825 records, 67,293,564 tokens; claude-quill-9 is unknown.
    let out = import_real(&sc, &tree, "claude-code");
    matches_independent_totals(&sc, &tree, "claude-code", &out, None);
    assert!(!out.stderr.contains("read again next time"), "{}", out.stderr);
    // Unknown models are logged, unpriced — never at $0 — and each is named in a warning.
    let known = sc.cmd("tt-price").arg("--list").succeeds().stdout;
    for r in sc.records() {
        let model = r["model"].as_str().unwrap();
        if r.get("cost_usd").is_none() {
            assert!(out.stderr.contains(&format!("unknown model \"{model}\"")), "{model}: {}", out.stderr);
            assert!(!known.contains(&format!("\"{model}\"")), "{model} is in the price table but was not priced");
        }
    }
    sc.cmd("tt-log")
        .args(["--import", "claude-code"])
        .env("CLAUDE_CONFIG_DIR", tree.join("claude"))
        .succeeds()
        .stderr_has("added 0 records");
}

#[test]
fn real_codex_rollouts_match_independent_totals() {
    let Some(data) = common::realdata(&["claude/projects", "codex"]) else { return };
    let sc = Scenario::new();
    let tree = real_tree(&sc, &data, true);
    // With the realdata of this writing: 6 files, 385 records, 42,105,987 tokens. Each file's counted requests
    // add up to its final cumulative total_tokens (the fork: only its own two turns, 276,780 tokens above the
    // parent's 4,245,375 at the fork point).
    let out = import_real(&sc, &tree, "codex");
    matches_independent_totals(&sc, &tree, "codex", &out, None);
    assert!(!out.stderr.contains("read again next time"), "{}", out.stderr);
}

#[test]
fn a_just_copied_real_tree_holds_back_what_may_still_be_written_and_says_so() {
    let Some(data) = realdata() else { return };
    for source in ["claude-code", "codex"] {
        if source == "codex" && !data.join("codex").is_dir() {
            continue;
        }
        let sc = Scenario::new();
        // Fresh mtimes: to the importer these sessions may still be running.
        let tree = real_tree(&sc, &data, false);
        let first = import_real(&sc, &tree, source);
        let (records, _, _) = independent_totals(&tree, source);
        let got = sc.records().len() as u64;
        // What waits is said, never silently left out. The last request of every Claude Code conversation may
        // still stream: each session holds one back. Codex writes an event once it is done, so a rollout waits
        // only when its last line has no newline yet (it may be half written): one per such file.
        if source == "claude-code" {
            assert!(got < records, "{source}: {got} of {records} records");
            assert!(first.stderr.contains("; held back "), "{}", first.stderr);
            assert!(first.stderr.contains(" still being written"), "{}", first.stderr);
        } else {
            // Rollouts whose last line, without its newline, may be a request (a `token_count` event).
            let unterminated = files_under(&tree.join("codex"))
                .iter()
                .filter(|f| f.file_name().is_some_and(|n| n.to_string_lossy().starts_with("rollout-")))
                .filter(|f| {
                    let b = std::fs::read(f).unwrap();
                    let tail = &b[b.iter().rposition(|&c| c == b'\n').map_or(0, |k| k + 1)..];
                    !tail.is_empty() && String::from_utf8_lossy(tail).contains("\"token_count\"")
                })
                .count() as u64;
            if unterminated > 0 {
                let held = if unterminated == 1 {
                    "; 1 last line without its newline yet (read again next time)\n".to_string()
                } else {
                    format!("; {unterminated} last lines without their newline yet (read again next time)\n")
                };
                assert!(first.stderr.ends_with(&held), "{held:?} in {}", first.stderr);
            } else {
                assert!(!first.stderr.contains("read again next time"), "{}", first.stderr);
            }
        }
        // Once the sessions are idle, the next import adds exactly the rest.
        for f in files_under(&tree) {
            idle(&f);
        }
        let second = import_real(&sc, &tree, source);
        matches_independent_totals(&sc, &tree, source, &second, Some(records - got));
        assert!(!second.stderr.contains("read again next time"), "{}", second.stderr);
        // Told the sessions are over, one import of the fresh copy takes everything at once.
        let at_once = Scenario::new();
        let tree = real_tree(&at_once, &data, false);
        let (var, dir) = if source == "codex" { ("CODEX_HOME", "codex") } else { ("CLAUDE_CONFIG_DIR", "claude") };
        let out = at_once.cmd("tt-log").args(["--import", source, "--finished"]).env(var, tree.join(dir)).succeeds();
        matches_independent_totals(&at_once, &tree, source, &out, None);
        assert!(!out.stderr.contains("read again next time"), "{}", out.stderr);
    }
}

#[test]
fn finished_imports_the_last_requests_of_fresh_transcripts_at_once() {
    // A fresh file whose last request would wait, and whose last line has no newline yet.
    let sc = Scenario::new();
    let t = sc.write(
        "claude/projects/-home-dev-shop/s9.jsonl",
        copy_of("msg_1", "req_1", 5) + &copy_of("msg_1", "req_1", 120) + copy_of("msg_2", "req_2", 7).trim_end(),
    );
    sc.cmd("tt-log").args(["--import", "claude-code", "--finished"]).arg(&t).succeeds().stderr_is(
        "claude-code: 1 file read, added 2 records (147 tokens, $0.0020), skipped 1 duplicate and 0 malformed \
             lines\n",
    );
    assert_eq!(outputs(&sc), [120, 7]);
    // Read again (the last line still has no newline): found in the log, nothing added twice.
    sc.cmd("tt-log").args(["--import", "claude-code", "--finished"]).arg(&t).succeeds().stderr_has("added 0 records");
    // Without --import, or with a tt log to merge, it means nothing: refused.
    sc.cmd("tt-log").args(["--finished", "a", "m", "1", "2"]).fails_with(2).one_error_line("tt-log");
    sc.cmd("tt-log")
        .args(["--import"])
        .arg(sc.log_path())
        .arg("--finished")
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("--finished does not apply to --import of tt logs and bundles");
    assert_eq!(outputs(&sc), [120, 7]);
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(files_under(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn paths_may_follow_other_flags() {
    let (sc, root) = scenario();
    sc.cmd("tt-log")
        .args(["--import", "codex", "--dry-run"])
        .arg(root.join("codex"))
        .succeeds()
        .stderr_has("codex: 3 files read, would add 5 records");
}

#[test]
fn concurrent_imports_never_duplicate() {
    let (sc, root) = scenario();
    // Eight imports at once (hooks of several sessions ending together): the log lock serialises them.
    sc.bash(&format!(
        "for i in 1 2 3 4 5 6 7 8; do tt-log --import claude-code -q {} & done; wait",
        root.join("claude").display()
    ))
    .succeeds();
    assert_eq!(briefs(&sc.records()), CLAUDE_RECORDS);
}

// ---- streaming: a request is imported once it is complete -------------------------------------------------

/// One streamed copy of a Claude Code assistant message.
fn copy_of(msg: &str, req: &str, output: u64) -> String {
    format!(
        r#"{{"type":"assistant","timestamp":"2026-03-02T09:00:00.000Z","sessionId":"s9","cwd":"/home/dev/shop","gitBranch":"main","requestId":"{req}","message":{{"id":"{msg}","model":"claude-sonnet-4-20250514","content":[{{"type":"text","text":"…"}}],"usage":{{"input_tokens":10,"output_tokens":{output}}}}}}}
"#
    )
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    std::fs::File::options().append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
}

fn outputs(sc: &Scenario) -> Vec<u64> {
    sc.records().iter().map(|r| r["output_tokens"].as_u64().unwrap()).collect()
}

#[test]
fn a_request_still_streaming_is_held_back_until_the_transcript_is_idle() {
    let sc = Scenario::new();
    let t = sc.write("claude/projects/-home-dev-shop/s9.jsonl", copy_of("msg_1", "req_1", 5));
    let run = || sc.cmd("tt-log").args(["--import", "claude-code"]).arg(sc.path().join("claude")).succeeds();
    // The first copy of a message being written: not imported yet (its output is still growing).
    run().stderr_is(
        "claude-code: 1 file read, added 0 records (0 tokens, $0.0000), skipped 0 duplicates and 0 malformed lines; \
         held back 1 request still being written (read again next time)\n",
    );
    assert_eq!(sc.log(), "");
    // Claude Code writes the next copy with the final count; the file is still fresh: held back again.
    append(&t, &copy_of("msg_1", "req_1", 120));
    run().stderr_has("added 0 records").stderr_has("held back 1 request");
    // Two minutes without a write: the message is finished, and its last copy (the most tokens) is imported.
    idle(&t);
    run().stderr_is(
        "claude-code: 1 file read, added 1 record (130 tokens, $0.0018), skipped 1 duplicate and 0 malformed lines\n",
    );
    assert_eq!(outputs(&sc), [120]);
    run().stderr_has("(1 unchanged), added 0 records");
    assert_eq!(outputs(&sc), [120]);
    // A second machine importing the finished file makes the same record: merging finds nothing new, and the
    // two logs agree.
    let other = Scenario::new();
    other.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds().stderr_has("added 1 record");
    assert_eq!(other.log().replace(&other_host(&other), ""), sc.log().replace(&other_host(&sc), ""));
    sc.cmd("tt-log").arg("--import").arg(other.log_path()).succeeds().stderr_has(": 0 new, 1 already present");
    assert_eq!(outputs(&sc), [120]);
}

/// The host field of a scenario's records (the same machine here).
fn other_host(sc: &Scenario) -> String {
    sc.records().first().and_then(|r| r["host"].as_str().map(str::to_string)).unwrap_or_default()
}

#[test]
fn a_request_is_complete_once_the_next_request_of_its_conversation_follows() {
    let sc = Scenario::new();
    let t = sc.write("claude/projects/-home-dev-shop/s9.jsonl", copy_of("msg_1", "req_1", 5));
    let run = || sc.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds();
    run().stderr_has("added 0 records").stderr_has("held back 1 request");
    // Claude Code runs a tool while the message still streams: its result (a user line) comes between two copies
    // of one message, as in real transcripts. Not a sign that the message is done: still held back.
    append(&t, &copy_of("msg_1", "req_1", 60));
    append(
        &t,
        "{\"type\":\"user\",\"timestamp\":\"2026-03-02T09:00:05.000Z\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"content\":\"ok\"}]}}\n",
    );
    run().stderr_has("added 0 records").stderr_has("held back 1 request");
    append(&t, &copy_of("msg_1", "req_1", 120));
    // A subagent's request (reported in a progress line) is another conversation: msg_1 still waits.
    append(
        &t,
        r#"{"type":"progress","timestamp":"2026-03-02T09:00:06.000Z","sessionId":"s9","data":{"type":"agent_progress","agentId":"a7","message":{"type":"assistant","timestamp":"2026-03-02T09:00:06.000Z","requestId":"req_s","message":{"id":"msg_s","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":4,"output_tokens":2}}}}}
"#,
    );
    run().stderr_has("added 0 records").stderr_has("held back 2 requests");
    // The main thread's next request: msg_1 is over, and its best copy is imported — every copy since the first
    // was read again, so nothing is lost. No mtime trick: the file is fresh. The subagent's request is over too
    // (the main thread asks again only once its tools, subagents included, have returned). The new one waits.
    append(&t, &copy_of("msg_2", "req_2", 7));
    run().stderr_has("added 2 records (136 tokens").stderr_has("held back 1 request");
    assert_eq!(outputs(&sc), [120, 2]);
    append(&t, &copy_of("msg_2", "req_2", 9));
    append(&t, &copy_of("msg_3", "req_3", 1));
    run().stderr_has("added 1 record (19 tokens").stderr_has("held back 1 request");
    assert_eq!(outputs(&sc), [120, 2, 9]);
    // Left alone, the last one is complete too.
    idle(&t);
    run().stderr_is(
        "claude-code: 1 file read, added 1 record (11 tokens, $0.0000), skipped 0 duplicates and 0 malformed lines\n",
    );
    assert_eq!(outputs(&sc), [120, 2, 9, 1]);
}

#[test]
fn the_hook_at_stop_imports_the_last_request_at_once() {
    let sc = Scenario::new();
    let t = sc.write("claude/projects/-home-dev-shop/s9.jsonl", copy_of("msg_1", "req_1", 5));
    append(&t, &copy_of("msg_1", "req_1", 120));
    let hook = |event: &str| {
        format!(r#"{{"session_id":"s9","transcript_path":"{}","hook_event_name":"{event}"}}"#, t.display())
    };
    // An event in the middle of a turn says nothing about the transcript's end: the last request waits.
    sc.cmd("tt-log")
        .args(["--import", "claude-code", "-"])
        .pipe_in(hook("PostToolUse"))
        .succeeds()
        .stderr_has("added 0 records")
        .stderr_has("held back 1 request");
    // Stop (and SessionEnd): the turn is over, the transcript complete; nothing is held back.
    sc.cmd("tt-log").args(["--import", "claude-code", "-"]).pipe_in(hook("Stop")).succeeds().stderr_is(
        "claude-code: 1 file read, added 1 record (130 tokens, $0.0018), skipped 1 duplicate and 0 malformed lines\n",
    );
    assert_eq!(outputs(&sc), [120]);
    // Through the contrib hook script, too.
    append(&t, &copy_of("msg_2", "req_2", 3));
    let script = repo_root().join("contrib/claude-code-hook.sh");
    sc.bash(&script.display().to_string()).pipe_in(hook("SessionEnd")).succeeds().stderr_is("");
    assert_eq!(outputs(&sc), [120, 3]);
}

#[test]
fn copies_in_a_sessions_progress_lines_and_its_subagent_file_keep_the_most_tokens() {
    // The parent reports the subagent's request in a progress line before its output was final; the subagent's
    // own file has the final copy. Read in one import, the larger copy is kept whichever file comes first.
    let sc = Scenario::new();
    let progress = r#"{"type":"progress","timestamp":"2026-03-02T09:00:01.000Z","sessionId":"s9","cwd":"/home/dev/shop","data":{"type":"agent_progress","message":{"type":"assistant","timestamp":"2026-03-02T09:00:00.000Z","requestId":"req_s","message":{"id":"msg_s","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":4,"output_tokens":2}}}}}
{"type":"user","timestamp":"2026-03-02T09:00:09.000Z","sessionId":"s9","message":{"role":"user","content":"next"}}
"#;
    let sub = r#"{"type":"assistant","timestamp":"2026-03-02T09:00:00.000Z","sessionId":"s9","isSidechain":true,"requestId":"req_s","message":{"id":"msg_s","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":4,"output_tokens":50}}}
"#;
    let s = sc.write("claude/projects/-home-dev-shop/s9.jsonl", progress);
    let a = sc.write("claude/projects/-home-dev-shop/s9/subagents/agent-x.jsonl", sub);
    idle(&s);
    idle(&a);
    sc.cmd("tt-log")
        .args(["--import", "claude-code"])
        .arg(sc.path().join("claude"))
        .succeeds()
        .stderr_has("2 files read, added 1 record (54 tokens");
    assert_eq!(outputs(&sc), [50]);
}

// ---- implausible and incomplete usage lines ------------------------------------------------------------------

#[test]
fn implausible_token_counts_are_malformed_lines() {
    let sc = Scenario::new();
    let line = |n: u64, input: &str, output: &str| {
        format!(
            r#"{{"type":"assistant","timestamp":"2026-03-02T09:00:0{n}.000Z","sessionId":"s9","requestId":"r{n}","message":{{"id":"m{n}","model":"claude-sonnet-4-20250514","usage":{{"input_tokens":{input},"output_tokens":{output}}}}}}}
"#
        )
    };
    let text = [
        line(1, "18446744073709551615", "18446744073709551615"),
        line(2, "1e12", "1"),
        line(3, "1000000000000", "1"),
        line(4, "10", "20"),
        // Usage but no timestamp: a request that cannot be dated is reported, not dropped silently.
        r#"{"type":"assistant","sessionId":"s9","requestId":"r5","message":{"id":"m5","model":"claude-sonnet-4-20250514","usage":{"input_tokens":3,"output_tokens":4}}}
"#
        .to_string(),
        "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"done\"}}\n".to_string(),
    ]
    .concat();
    let t = sc.write("claude/projects/-home-dev-shop/s9.jsonl", text);
    idle(&t);
    let out = sc.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds();
    let f = std::fs::canonicalize(&t).unwrap();
    let f = f.display();
    let max = "exceed the maximum of 100,000,000 per record (raise `max_tokens` in the config if this is real)";
    assert_eq!(
        out.stderr,
        format!(
            "tt-log: warning: {f}:1: malformed line skipped (implausible usage: input tokens 18,446,744,073,709,551,615 {max})
tt-log: warning: {f}:2: malformed line skipped (invalid JSON: invalid type: floating point `1000000000000.0`, expected u64 (column 177))
tt-log: warning: {f}:3: malformed line skipped (implausible usage: input tokens 1,000,000,000,000 {max})
tt-log: warning: {f}:5: malformed line skipped (usage without a `timestamp`)
claude-code: 1 file read, added 1 record (30 tokens, $0.0003), skipped 0 duplicates and 4 malformed lines
"
        )
    );
    assert_eq!(outputs(&sc), [20]);
    // The limit is the config's: raised, the same line of a trillion input tokens is imported.
    let sc2 = Scenario::new();
    sc2.write("tt.toml", "max_tokens = 1_000_000_000_000\n");
    sc2.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds().stderr_has("added 2 records");
}

#[test]
fn implausible_codex_events_are_malformed_and_do_not_move_the_running_total() {
    let sc = Scenario::new();
    let ev = |ts: &str, total: &str, last: &str| {
        format!(
            r#"{{"timestamp":"{ts}","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{total},"last_token_usage":{last}}}}}}}
"#
        )
    };
    let u = |i: u64, o: u64| {
        format!(r#"{{"input_tokens":{i},"cached_input_tokens":0,"output_tokens":{o},"total_tokens":{}}}"#, i + o)
    };
    let huge = r#"{"input_tokens":18446744073709551615,"cached_input_tokens":0,"output_tokens":18446744073709551615,"total_tokens":18446744073709551615}"#;
    let text = [
        r#"{"timestamp":"2026-04-11T14:53:07.000Z","type":"session_meta","payload":{"id":"019d0000-0000-7000-8000-0000000000cc","cwd":"/home/dev/api"}}
{"timestamp":"2026-04-11T14:53:08.000Z","type":"turn_context","payload":{"model":"gpt-5","cwd":"/home/dev/api"}}
"#
        .to_string(),
        ev("2026-04-11T14:53:20.000Z", &u(100, 10), &u(100, 10)),
        ev("2026-04-11T14:53:30.000Z", &u(300, 20), huge),
        ev("2026-04-11T14:53:40.000Z", &u(400, 30), &u(100, 10)),
    ]
    .concat();
    let t = sc.write("codex/sessions/2026/04/11/rollout-2026-04-11T14-53-07-x.jsonl", text);
    let f = std::fs::canonicalize(&t).unwrap();
    sc.cmd("tt-log").args(["--import", "codex"]).arg(&t).succeeds().stderr_is(&format!(
        "tt-log: warning: {}:4: malformed line skipped (implausible usage: input tokens 18,446,744,073,709,551,615 \
         exceed the maximum of 100,000,000 per record (raise `max_tokens` in the config if this is real))
codex: 1 file read, added 2 records (220 tokens, $0.0005), skipped 0 duplicates and 1 malformed line\n",
        f.display()
    ));
}

// ---- where transcripts are found -------------------------------------------------------------------------

#[test]
fn the_xdg_config_claude_directory_is_a_default_too() {
    // Newer Claude Code versions keep their data in ~/.config/claude ($XDG_CONFIG_HOME/claude).
    let sc = Scenario::new();
    copy_tree(&fixture("claude-code"), &sc.path().join(".config/claude"));
    sc.cmd("tt-log")
        .args(["--import", "claude-code"])
        .succeeds()
        .stderr_has("claude-code: 2 files read, added 6 records");
    assert_eq!(briefs(&sc.records()), CLAUDE_RECORDS);
    // Both defaults at once: ~/.claude and ~/.config/claude are both read (and a request in both counts once).
    copy_tree(&fixture("claude-code"), &sc.path().join(".claude"));
    sc.cmd("tt-log")
        .args(["--import", "claude-code"])
        .succeeds()
        .stderr_has("claude-code: 4 files read (1 unchanged), added 0 records");
    assert_eq!(sc.records().len(), 6);
}

#[test]
fn codex_archived_sessions_are_imported() {
    // `codex` moves old rollouts to archived_sessions/ (flat, no date folders); they count like the others, from
    // the default ~/.codex and from a CODEX_HOME alike.
    let sc = Scenario::new();
    copy_tree(&fixture("codex"), &sc.path().join(".codex"));
    sc.cmd("tt-log").args(["--import", "codex"]).succeeds().stderr_has("codex: 3 files read, added 5 records");
    let archived: Vec<serde_json::Value> = sc.records().into_iter().filter(|r| r["session"] == A).collect();
    assert_eq!(briefs(&archived), codex_records().lines().next().unwrap().to_string() + "\n");
    // Only archived_sessions/ there: still a Codex home.
    let only = Scenario::new();
    copy_tree(&fixture("codex/archived_sessions"), &only.path().join("home/archived_sessions"));
    only.cmd("tt-log")
        .args(["--import", "codex"])
        .env("CODEX_HOME", only.path().join("home"))
        .succeeds()
        .stderr_has("codex: 1 file read, added 1 record (300 tokens, $0.0011)");
}

#[test]
fn an_unreadable_directory_is_skipped_with_a_warning() {
    let sc = Scenario::new();
    copy_tree(&fixture("claude-code"), &sc.path().join("claude"));
    let locked = sc.path().join("claude/projects/-home-dev-locked");
    std::fs::create_dir_all(&locked).unwrap();
    sc.write("claude/projects/-home-dev-locked/s.jsonl", copy_of("msg_1", "req_1", 5));
    // A dangling symlink among the entries is not a transcript and not an error.
    std::os::unix::fs::symlink(sc.path().join("gone"), sc.path().join("claude/projects/dangling.jsonl")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads any directory: drop the capabilities that let it, so the directory is unreadable for real.
    let prefix = if is_root() { "setpriv --bounding-set=-dac_override,-dac_read_search " } else { "" };
    // Where that cannot be done (a container without CAP_SETPCAP, a user holding CAP_DAC_OVERRIDE) the directory
    // stays readable, and there is nothing to test.
    let probe =
        sc.bash(&format!("{prefix}true && ! {prefix}cat {} 2>/dev/null", locked.join("s.jsonl").display())).run();
    if probe.code != Some(0) {
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("skipped: a directory with mode 000 cannot be made unreadable here");
        return;
    }
    let out = sc.bash(&format!("{prefix}tt-log --import claude-code {}", sc.path().join("claude").display())).run();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = out.success();
    assert!(
        out.stderr.starts_with(&format!("tt-log: warning: {}: Permission denied (skipped)\n", locked.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("claude-code: 2 files read, added 6 records"), "{}", out.stderr);
}

fn is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n")
}

#[test]
fn importing_a_real_transcript_while_it_is_written_gives_the_records_of_the_finished_file() {
    let Some(data) = realdata() else { return };
    // The transcript where Claude Code ran tools while messages streamed: tool results, progress and snapshot
    // lines between the copies of one message, the output count growing after them.
    let src = data.join("claude/projects/entireio-external-agents/130c7a5b-784a-46b4-a59d-fb6d5f519045.jsonl");
    let Ok(text) = std::fs::read_to_string(&src) else {
        eprintln!("skipped: {} is absent", src.display());
        return;
    };
    let live = Scenario::new();
    let t = live.write("claude/projects/p/130c7a5b.jsonl", "");
    // An import after every line Claude Code writes (as a hook on every event would), then one when it is over.
    for line in text.split_inclusive('\n') {
        append(&t, line);
        live.cmd("tt-log").args(["--import", "claude-code", "-q"]).arg(&t).succeeds();
    }
    idle(&t);
    live.cmd("tt-log").args(["--import", "claude-code", "-q"]).arg(&t).succeeds();
    // The reference: one import of the finished file (idle, as a session that is over).
    let once = Scenario::new();
    let done = once.write("claude/projects/p/130c7a5b.jsonl", &text);
    idle(&done);
    once.cmd("tt-log").args(["--import", "claude-code", "-q"]).arg(&done).succeeds();
    assert_eq!(with_ids(&live), with_ids(&once));
    // And that is every request of the file (23 in the realdata of this writing), by the independent count.
    let (records, _, models) = independent_totals(once.path(), "claude-code");
    assert!(records > 0);
    assert_eq!(sums(&once), models);
}

// ---- lines written in parts: the offset never moves into a line still being written -------------------------

fn append_bytes(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    std::fs::File::options().create(true).append(true).open(path).unwrap().write_all(bytes).unwrap();
}

/// Every record with its id, sorted: what two ways of importing the same transcripts must agree on.
fn with_ids(sc: &Scenario) -> Vec<String> {
    let mut v: Vec<String> = sc.records().iter().map(|r| format!("{} {}", r["id"], brief(r))).collect();
    v.sort();
    v
}

/// A small seeded generator (xorshift64*): a failing replay is re-run exactly by its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
    /// A chunk size: often a few bytes (splits inside keys, numbers and markers), else up to 400.
    fn chunk(&mut self) -> usize {
        (if self.below(3) == 0 { 1 + self.below(4) } else { 1 + self.below(400) }) as usize
    }
}

/// Write `files` (path in the scenario, bytes) chunk by chunk — `interleave`: in a random order of files, else
/// one file after the other — with an import (`args`) after every chunk; then leave them idle and import once
/// more. Returns the scenario.
fn replay(seed: u64, files: &[(PathBuf, Vec<u8>)], interleave: bool, args: &[&str]) -> Scenario {
    let sc = Scenario::new();
    let mut rng = Rng(seed);
    let paths: Vec<PathBuf> = files.iter().map(|(rel, _)| sc.path().join(rel)).collect();
    for p in &paths {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    }
    let mut done = vec![0usize; files.len()];
    let mut imports = 0;
    loop {
        let open: Vec<usize> = (0..files.len()).filter(|&i| done[i] < files[i].1.len()).collect();
        let Some(&first) = open.first() else { break };
        let i = if interleave { open[rng.below(open.len() as u64) as usize] } else { first };
        let end = (done[i] + rng.chunk()).min(files[i].1.len());
        append_bytes(&paths[i], &files[i].1[done[i]..end]);
        done[i] = end;
        sc.cmd("tt-log").args(args).succeeds();
        imports += 1;
    }
    assert!(imports > 20, "seed {seed}: only {imports} imports");
    for p in &paths {
        idle(p);
    }
    sc.cmd("tt-log").args(args).succeeds();
    sc
}

#[test]
fn importing_after_every_chunk_of_bytes_gives_the_records_of_one_import() {
    let (once, root) = scenario();
    once.cmd("tt-log").args(["--import", "claude-code", "-q"]).arg(root.join("claude")).succeeds();
    once.cmd("tt-log").args(["--import", "codex", "-q"]).arg(root.join("codex")).succeeds();
    let (claude_once, codex_once): (Vec<String>, Vec<String>) =
        with_ids(&once).into_iter().partition(|l| l.contains(" claude-code "));
    let read = |rel: &str| (PathBuf::from(rel), std::fs::read(fixture(rel)).unwrap());
    let claude = [
        read("claude-code/projects/-home-dev-shop/s1.jsonl"),
        read("claude-code/projects/-home-dev-shop/s1/subagents/agent-a1.jsonl"),
    ];
    let dir = "codex/sessions/2026/04/11";
    // Codex files one after the other, in path order: a fork replaying its parent is written after it.
    let codex = [
        read("codex/archived_sessions/rollout-2026-02-10T09-00-00-019c0000-0000-7000-8000-0000000000aa.jsonl"),
        read(&format!("{dir}/rollout-2026-04-11T14-53-07-{P}.jsonl")),
        read(&format!("{dir}/rollout-2026-04-11T20-15-02-{F}.jsonl")),
    ];
    for seed in [7, 2026] {
        // The session and its subagent's file written at the same time, in any order.
        let live = replay(seed, &claude, true, &["--import", "claude-code", "-q", "claude-code"]);
        assert_eq!(with_ids(&live), claude_once, "claude-code, seed {seed}");
        let live = replay(seed, &codex, false, &["--import", "codex", "-q", "codex"]);
        assert_eq!(with_ids(&live), codex_once, "codex, seed {seed}");
    }
}

/// A Codex rollout of one session: meta, model, two requests.
const ROLLOUT: &str = r#"{"timestamp":"2026-05-01T10:00:00.000Z","type":"session_meta","payload":{"id":"019e0000-0000-7000-8000-0000000000dd","forked_from_id":null,"cwd":"/home/dev/web","git":{"commit_hash":"abc","branch":"topic"}}}
{"timestamp":"2026-05-01T10:00:01.000Z","type":"turn_context","payload":{"cwd":"/home/dev/web","model":"gpt-5"}}
{"timestamp":"2026-05-01T10:00:05.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":300,"cached_input_tokens":100,"output_tokens":30,"reasoning_output_tokens":0,"total_tokens":330},"last_token_usage":{"input_tokens":300,"cached_input_tokens":100,"output_tokens":30,"reasoning_output_tokens":0,"total_tokens":330}}}}
{"timestamp":"2026-05-01T10:00:09.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":700,"cached_input_tokens":300,"output_tokens":50,"reasoning_output_tokens":0,"total_tokens":750},"last_token_usage":{"input_tokens":400,"cached_input_tokens":200,"output_tokens":20,"reasoning_output_tokens":0,"total_tokens":420}}}}
"#;

/// Write `text` in parts cut at `cuts` (byte offsets), importing after each part with `import`; every import must
/// succeed without a warning. Then once more when the file is idle.
fn write_in_parts(path: &Path, text: &str, cuts: &[usize], import: &dyn Fn() -> Out) {
    let mut from = 0;
    for &cut in cuts.iter().chain([text.len()].iter()) {
        append_bytes(path, &text.as_bytes()[from..cut]);
        from = cut;
        let out = import();
        assert!(!out.stderr.contains("warning"), "cut at {cut}: {}", out.stderr);
    }
    idle(path);
    import();
}

#[test]
fn a_codex_line_written_in_parts_is_read_whole() {
    let once = Scenario::new();
    let t = once.write("codex/sessions/2026/05/01/rollout-2026-05-01T10-00-00-d.jsonl", ROLLOUT);
    idle(&t);
    once.cmd("tt-log").args(["--import", "codex"]).arg(&t).succeeds().stderr_has("added 2 records (750 tokens");
    let lines: Vec<usize> = ROLLOUT.match_indices('\n').map(|(i, _)| i + 1).collect();
    // Cut inside session_meta before and after its marker, inside turn_context, inside a token_count line
    // before its marker and after it, and right before a newline.
    let cuts = [20, 90, lines[0] + 40, lines[1] + 60, lines[1] + 200, lines[2] - 1, lines[2] + 100];
    let sc = Scenario::new();
    let t = sc.path().join("codex/sessions/2026/05/01/rollout-2026-05-01T10-00-00-d.jsonl");
    std::fs::create_dir_all(t.parent().unwrap()).unwrap();
    write_in_parts(&t, ROLLOUT, &cuts, &|| sc.cmd("tt-log").args(["--import", "codex"]).arg(&t).succeeds());
    // The same records, ids, session, project and branch as one import of the finished file.
    assert_eq!(with_ids(&sc), with_ids(&once));
    assert!(sc.records().iter().all(|r| r["session"] == "019e0000-0000-7000-8000-0000000000dd"
        && r["project"] == "web"
        && r["branch"] == "topic"));
}

#[test]
fn a_claude_code_line_written_in_parts_is_read_whole() {
    let text = [
        "{\"type\":\"user\",\"timestamp\":\"2026-03-02T08:59:00.000Z\",\"sessionId\":\"s9\",\"message\":{\"role\":\"user\",\"content\":\"go\"}}\n".to_string(),
        copy_of("msg_1", "req_1", 120),
        copy_of("msg_2", "req_2", 7),
    ]
    .concat();
    let once = Scenario::new();
    let t = once.write("claude/projects/-home-dev-shop/s9.jsonl", &text);
    idle(&t);
    once.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds().stderr_has("added 2 records");
    let lines: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
    let usage = lines[0] + copy_of("msg_1", "req_1", 120).find("\"usage\"").unwrap();
    // Nothing pending yet: cut in the first request's line before `"usage"`, then inside its usage, then in the
    // next line before and after its usage.
    let cuts = [lines[0] + 30, usage - 3, usage + 12, lines[1] + 50, lines[1] + usage - lines[0] + 20];
    let sc = Scenario::new();
    let t = sc.path().join("claude/projects/-home-dev-shop/s9.jsonl");
    std::fs::create_dir_all(t.parent().unwrap()).unwrap();
    write_in_parts(&t, &text, &cuts, &|| sc.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds());
    assert_eq!(with_ids(&sc), with_ids(&once));
}

// ---- holding back is decided for a session's whole group of files ------------------------------------------

/// A Claude Code assistant line: `(session, request, output)` with the given sidechain flag.
fn request_line(ts: &str, msg: &str, req: &str, output: u64, sidechain: bool) -> String {
    format!(
        r#"{{"type":"assistant","timestamp":"{ts}","sessionId":"S","requestId":"{req}","cwd":"/w/proj","gitBranch":"main","isSidechain":{sidechain},"message":{{"id":"{msg}","model":"claude-sonnet-4-5","content":[],"usage":{{"input_tokens":10,"output_tokens":{output}}}}}}}
"#
    )
}

/// A subagent's request reported in the parent's `progress` line.
fn progress_line(ts: &str, agent: &str, msg: &str, req: &str, output: u64) -> String {
    format!(
        r#"{{"type":"progress","timestamp":"{ts}","sessionId":"S","cwd":"/w/proj","data":{{"agentId":"{agent}","message":{{"type":"assistant","timestamp":"{ts}","requestId":"{req}","message":{{"id":"{msg}","model":"claude-sonnet-4-5","usage":{{"input_tokens":10,"output_tokens":{output}}}}}}}}}}}
"#
    )
}

/// Output counts by message id, sorted by id.
fn outputs_by_message(sc: &Scenario) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = sc
        .records()
        .iter()
        .map(|r| (r["ts"].as_str().unwrap()[11..19].to_string(), r["output_tokens"].as_u64().unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn a_request_one_file_of_a_session_holds_back_is_held_for_the_whole_session() {
    // The parent reports its subagent's requests in progress lines while they stream (output 3), then the main
    // thread goes on: in the parent's file they look complete. The subagent's own file is still writing the
    // final copy of its last request (output 700): that request waits for it in every file.
    let sc = Scenario::new();
    let s = sc.write(
        "claude/projects/p/S.jsonl",
        [
            request_line("2026-11-01T10:00:00Z", "m1", "r1", 100, false),
            progress_line("2026-11-01T10:00:05Z", "ag1", "m2", "r2", 3),
            progress_line("2026-11-01T10:00:06Z", "ag1", "m4", "r4", 3),
            request_line("2026-11-01T10:01:00Z", "m3", "r3", 100, false),
        ]
        .concat(),
    );
    let a = sc.write(
        "claude/projects/p/S/subagents/agent-ag1.jsonl",
        [
            request_line("2026-11-01T10:00:05Z", "m2", "r2", 3, true),
            request_line("2026-11-01T10:00:05Z", "m2", "r2", 500, true),
            request_line("2026-11-01T10:00:06Z", "m4", "r4", 3, true),
        ]
        .concat(),
    );
    let run = || sc.cmd("tt-log").args(["--import", "claude-code"]).arg(sc.path().join("claude")).succeeds();
    // r1 and r2 are complete; r3 (the main thread's last) and r4 (the subagent's last) are held back.
    run().stderr_has("2 files read, added 2 records").stderr_has("held back 2 requests");
    assert_eq!(outputs_by_message(&sc), [("10:00:00".into(), 100), ("10:00:05".into(), 500)]);
    append(&a, &request_line("2026-11-01T10:00:06Z", "m4", "r4", 700, true));
    run().stderr_has("added 0 records").stderr_has("held back 2 requests");
    // Both files left alone: everything is complete, and r4 keeps its final copy from the subagent's file.
    idle(&s);
    idle(&a);
    run().stderr_has("added 2 records").stderr_has("malformed lines\n");
    let want = [("10:00:00".into(), 100), ("10:00:05".into(), 500), ("10:00:06".into(), 700), ("10:01:00".into(), 100)];
    assert_eq!(outputs_by_message(&sc), want);
    // What one import of the finished files gives.
    let once = Scenario::new();
    once.cmd("tt-log").args(["--import", "claude-code"]).arg(sc.path().join("claude")).succeeds();
    assert_eq!(with_ids(&sc), with_ids(&once));
}

#[test]
fn subagent_stop_completes_only_the_subagents_own_transcript() {
    let sc = Scenario::new();
    let s = sc.write(
        "claude/projects/p/S.jsonl",
        [
            request_line("2026-11-01T10:00:00Z", "m1", "r1", 100, false),
            request_line("2026-11-01T10:01:00Z", "m2", "r2", 5, false),
        ]
        .concat(),
    );
    let a = sc.write(
        "claude/projects/p/S/subagents/agent-A.jsonl",
        request_line("2026-11-01T10:00:05Z", "ma", "ra", 400, true),
    );
    let b = sc.write(
        "claude/projects/p/S/subagents/agent-B.jsonl",
        request_line("2026-11-01T10:00:07Z", "mb", "rb", 3, true),
    );
    let hook = |event: &str, agent: Option<&Path>| {
        let agent =
            agent.map(|p| format!(r#","agent_id":"A","agent_transcript_path":"{}""#, p.display())).unwrap_or_default();
        format!(r#"{{"session_id":"S","transcript_path":"{}","hook_event_name":"{event}"{agent}}}"#, s.display())
    };
    let run = |input: String| sc.cmd("tt-log").args(["--import", "claude-code", "-"]).pipe_in(input).succeeds();
    // Subagent A finished, B still streams, and so does the main thread: only A's request is complete (r1 was
    // followed by r2).
    run(hook("SubagentStop", Some(&a))).stderr_has("3 files read, added 2 records").stderr_has("held back 2 requests");
    assert_eq!(outputs_by_message(&sc), [("10:00:00".into(), 100), ("10:00:05".into(), 400)]);
    // Without the subagent's transcript in the hook input, SubagentStop completes nothing.
    append(&b, &request_line("2026-11-01T10:00:07Z", "mb", "rb", 90, true));
    run(hook("SubagentStop", None)).stderr_has("added 0 records").stderr_has("held back 2 requests");
    // Stop: the main thread's turn is over, so its transcript is complete; B's file is still being written.
    append(&s, &request_line("2026-11-01T10:01:00Z", "m2", "r2", 100, false));
    run(hook("Stop", None)).stderr_has("added 1 record").stderr_has("held back 1 request");
    append(&b, &request_line("2026-11-01T10:00:07Z", "mb", "rb", 900, true));
    // SessionEnd: the session is over, its subagents' files too.
    run(hook("SessionEnd", None)).stderr_has("added 1 record").stderr_has("malformed lines\n");
    let want = [("10:00:00".into(), 100), ("10:00:05".into(), 400), ("10:00:07".into(), 900), ("10:01:00".into(), 100)];
    assert_eq!(outputs_by_message(&sc), want);
}

#[test]
fn interleaved_inline_subagents_wait_for_the_main_thread() {
    // Claude Code 1.0.x writes subagents' lines inline in the session file (`isSidechain: true`), and parallel
    // subagents interleave there: B's request following A's says nothing about A being done.
    let sc = Scenario::new();
    let lines = [
        request_line("2026-11-01T10:00:00Z", "m0", "r0", 50, false),
        request_line("2026-11-01T10:00:01Z", "ma", "ra", 5, true),
        request_line("2026-11-01T10:00:02Z", "mb", "rb", 5, true),
        request_line("2026-11-01T10:00:01Z", "ma", "ra", 200, true),
        request_line("2026-11-01T10:00:02Z", "mb", "rb", 300, true),
    ];
    let s = sc.write("claude/projects/p/S.jsonl", "");
    let run = || sc.cmd("tt-log").args(["--import", "claude-code"]).arg(sc.path().join("claude")).succeeds();
    for l in &lines {
        append(&s, l);
        run();
    }
    // Nothing is complete yet: the main thread's request (its Task calls are running) and both subagents'.
    assert_eq!(sc.log(), "");
    run().stderr_has("added 0 records").stderr_has("held back 3 requests");
    // The main thread asks again once every subagent has returned: all are complete, with their last copies.
    append(&s, &request_line("2026-11-01T10:01:00Z", "m1", "r1", 7, false));
    run().stderr_has("added 3 records").stderr_has("held back 1 request");
    assert_eq!(outputs_by_message(&sc), [("10:00:00".into(), 50), ("10:00:01".into(), 200), ("10:00:02".into(), 300)]);
    // Interleaved subagents left without a main-thread request after them: complete once the file is idle.
    for l in &lines[1..] {
        append(&s, &l.replace("\"ma\"", "\"mc\"").replace("\"mb\"", "\"md\""));
        run();
    }
    idle(&s);
    run().stderr_has("added 3 records").stderr_has("malformed lines\n");
    let once = Scenario::new();
    once.cmd("tt-log").args(["--import", "claude-code"]).arg(sc.path().join("claude")).succeeds();
    assert_eq!(with_ids(&sc), with_ids(&once));
    assert_eq!(outputs(&sc).iter().sum::<u64>(), 50 + 200 + 300 + 7 + 200 + 300);
}

#[test]
fn a_stop_hook_during_a_half_written_last_line_keeps_the_request_held() {
    let sc = Scenario::new();
    let t = sc.write("claude/projects/-home-dev-shop/s9.jsonl", copy_of("msg_1", "req_1", 5));
    let last = copy_of("msg_1", "req_1", 900);
    // The hook runs while the last copy is half on disk: taking its word would keep the copy with 5 for good.
    append(&t, &last[..100]);
    let stop = format!(r#"{{"session_id":"s9","transcript_path":"{}","hook_event_name":"Stop"}}"#, t.display());
    let hook = || sc.cmd("tt-log").args(["--import", "claude-code", "-"]).pipe_in(&stop).succeeds();
    hook().stderr_is(
        "claude-code: 1 file read, added 0 records (0 tokens, $0.0000), skipped 0 duplicates and 0 malformed lines; \
         held back 1 request still being written (read again next time)\n",
    );
    assert_eq!(sc.log(), "");
    // The line is finished: the hook's word holds again.
    append(&t, &last[100..]);
    hook().stderr_has("added 1 record (910 tokens").stderr_has("malformed lines\n");
    assert_eq!(outputs(&sc), [900]);
}

#[test]
fn copies_of_one_request_minutes_apart_are_one_record_with_the_last_copy() {
    // A tool runs for ten minutes between two copies of one streaming message (a build, a test suite): nothing
    // is written meanwhile. The file is quiet, but not for IDLE_COMPLETE: the request is still held back.
    let sc = Scenario::new();
    let t = sc.write("claude/projects/-home-dev-shop/s9.jsonl", copy_of("msg_1", "req_1", 5));
    let ten_minutes_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::options().write(true).open(&t).unwrap().set_modified(ten_minutes_ago).unwrap();
    let run = || sc.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds();
    run().stderr_has("added 0 records").stderr_has("held back 1 request");
    append(&t, &copy_of("msg_1", "req_1", 900));
    run().stderr_has("added 0 records").stderr_has("held back 1 request");
    idle(&t);
    run().stderr_has("added 1 record (910 tokens");
    assert_eq!(outputs(&sc), [900]);
}

// ---- flags -------------------------------------------------------------------------------------------------

#[test]
fn a_closed_stdout_stops_the_printing_but_not_the_import() {
    // Enough records that the output outgrows the pipe: `head -1` is gone while tt-log still prints.
    let sc = Scenario::new();
    let text: String =
        (0..1500).map(|i| copy_of(&format!("msg_{i}"), &format!("req_{i}"), i + 1)).collect::<Vec<_>>().concat();
    let t = sc.write("claude/projects/-home-dev-shop/s9.jsonl", text);
    idle(&t);
    let out = sc
        .bash(&format!(
            "tt-log --import claude-code --print {} | head -1 > first.jsonl; echo \"${{PIPESTATUS[0]}}\"",
            t.display()
        ))
        .succeeds()
        .stdout_is("0\n")
        .stderr_has("claude-code: 1 file read, added 1,500 records");
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
    assert_eq!(sc.records().len(), 1500);
    let first: serde_json::Value = serde_json::from_str(sc.read("first.jsonl").trim_end()).unwrap();
    assert_eq!(first, sc.records()[0]);
    // The state was saved too: nothing is added again.
    sc.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds().stderr_has("(1 unchanged), added 0 records");
}

#[test]
fn strict_is_refused_with_import() {
    let (sc, root) = scenario();
    sc.cmd("tt-log")
        .args(["--import", "claude-code", "--strict"])
        .arg(root.join("claude"))
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("--strict");
    sc.cmd("tt-log")
        .args(["--import", "codex", "--strict"])
        .arg(root.join("codex"))
        .fails_with(2)
        .one_error_line("tt-log");
    assert!(!sc.log_path().exists());
}

// ---- usage in every shape the sources write --------------------------------------------------------------

#[test]
fn codex_events_with_only_last_token_usage_are_counted_with_a_running_total() {
    let ev = |ts: &str, info: &str| {
        format!(
            r#"{{"timestamp":"2026-05-02T10:00:{ts}.000Z","type":"event_msg","payload":{{"type":"token_count","info":{{{info}}}}}}}
"#
        )
    };
    let u = |i: u64, c: u64, o: u64| {
        format!(r#"{{"input_tokens":{i},"cached_input_tokens":{c},"output_tokens":{o},"total_tokens":{}}}"#, i + o)
    };
    let text = [
        r#"{"timestamp":"2026-05-02T10:00:00.000Z","type":"session_meta","payload":{"id":"019e0000-0000-7000-8000-0000000000ee","cwd":"/home/dev/web"}}
{"timestamp":"2026-05-02T10:00:01.000Z","type":"turn_context","payload":{"model":"gpt-5"}}
"#
        .to_string(),
        ev("10", &format!(r#""last_token_usage":{}"#, u(100, 0, 10))),
        // Codex repeats an event unchanged: a repeat, not a second request.
        ev("11", &format!(r#""last_token_usage":{}"#, u(100, 0, 10))),
        ev("20", &format!(r#""last_token_usage":{}"#, u(200, 50, 20))),
        // Cumulative totals again, above the running total of the two (330): counted with their last usage.
        ev("30", &format!(r#""total_token_usage":{},"last_token_usage":{}"#, u(700, 150, 50), u(400, 100, 20))),
    ]
    .concat();
    let once = Scenario::new();
    let t = once.write("codex/sessions/2026/05/02/rollout-2026-05-02T10-00-00-e.jsonl", &text);
    idle(&t);
    once.cmd("tt-log").args(["--import", "codex"]).arg(&t).succeeds().stderr_has("added 3 records (750 tokens");
    let s = "019e0000-0000-7000-8000-0000000000ee";
    assert_eq!(
        briefs(&once.records()),
        format!(
            "\
2026-05-02T10:00:10.000Z codex gpt-5 in=100 out=10 cr=0 cw=0 cw1h=0 rs=0 $0.000225 {s}/web/
2026-05-02T10:00:20.000Z codex gpt-5 in=150 out=20 cr=50 cw=0 cw1h=0 rs=0 $0.00039375 {s}/web/
2026-05-02T10:00:30.000Z codex gpt-5 in=300 out=20 cr=100 cw=0 cw1h=0 rs=0 $0.0005875 {s}/web/
"
        )
    );
    // An import after every line gives the same records and ids: the running total is saved with the offset.
    let sc = Scenario::new();
    let t = sc.path().join("codex/sessions/2026/05/02/rollout-2026-05-02T10-00-00-e.jsonl");
    std::fs::create_dir_all(t.parent().unwrap()).unwrap();
    let cuts: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
    write_in_parts(&t, &text, &cuts, &|| sc.cmd("tt-log").args(["--import", "codex"]).arg(&t).succeeds());
    assert_eq!(with_ids(&sc), with_ids(&once));
}

#[test]
fn claude_cache_writes_are_split_by_the_breakdown_within_the_total() {
    // (cache_creation_input_tokens, cache_creation breakdown) → 5-minute and 1-hour writes.
    let cases = [
        // Only the breakdown: its two counts.
        (None, r#"{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":50}"#, "cw=100 cw1h=50"),
        (Some("null"), r#"{"ephemeral_5m_input_tokens":7}"#, "cw=7 cw1h=0"),
        // The total is the total: a larger 1-hour count is cut to it.
        (Some("10"), r#"{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":1000}"#, "cw=0 cw1h=10"),
        (Some("300"), r#"{"ephemeral_5m_input_tokens":200,"ephemeral_1h_input_tokens":100}"#, "cw=200 cw1h=100"),
        (Some("300"), r#"{"ephemeral_5m_input_tokens":999}"#, "cw=300 cw1h=0"),
        (Some("40"), "null", "cw=40 cw1h=0"),
    ];
    let mut text = String::new();
    let mut want = Vec::new();
    for (i, (total, breakdown, split)) in cases.iter().enumerate() {
        let total = total.map(|t| format!(r#""cache_creation_input_tokens":{t},"#)).unwrap_or_default();
        // Each line twice: plain (the fast reader), and with an escaped cwd (serde reads it).
        for (j, cwd) in ["/w/proj", r"/w/pro\u006a"].iter().enumerate() {
            let sec = i * 2 + j;
            text.push_str(&format!(
                r#"{{"type":"assistant","timestamp":"2026-03-02T09:00:{sec:02}.000Z","sessionId":"s9","cwd":"{cwd}","requestId":"r{sec}","message":{{"id":"m{sec}","model":"claude-sonnet-4-20250514","usage":{{"input_tokens":1,{total}"cache_creation":{breakdown},"output_tokens":1}}}}}}
"#
            ));
            want.push(format!("09:00:{sec:02}.000Z {split}"));
        }
    }
    let sc = Scenario::new();
    let t = sc.write("claude/projects/p/s9.jsonl", text);
    idle(&t);
    sc.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds().stderr_has("0 malformed lines");
    let got: Vec<String> = sc
        .records()
        .iter()
        .map(|r| {
            let n = |k: &str| r.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            let ts = r["ts"].as_str().unwrap();
            format!("{} cw={} cw1h={}", &ts[11..], n("cache_write_tokens"), n("cache_write_1h_tokens"))
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_symlinked_project_directory_is_followed_once() {
    let sc = Scenario::new();
    let real = sc.path().join("elsewhere/-home-dev-shop");
    let t = sc.write("elsewhere/-home-dev-shop/s9.jsonl", copy_of("msg_1", "req_1", 120));
    idle(&t);
    std::fs::create_dir_all(sc.path().join("claude/projects")).unwrap();
    std::os::unix::fs::symlink(&real, sc.path().join("claude/projects/-home-dev-shop")).unwrap();
    // Two links to it, and a loop inside it: each file is read once, and the walk ends.
    std::os::unix::fs::symlink(&real, sc.path().join("claude/projects/again")).unwrap();
    std::os::unix::fs::symlink(&real, real.join("loop")).unwrap();
    sc.cmd("tt-log")
        .args(["--import", "claude-code"])
        .env("CLAUDE_CONFIG_DIR", sc.path().join("claude"))
        .succeeds()
        .stderr_is(
            "claude-code: 1 file read, added 1 record (130 tokens, $0.0018), skipped 0 duplicates and 0 malformed lines\n",
        );
}

#[test]
fn a_whole_last_line_without_its_newline_is_imported_once_its_file_is_idle() {
    // Claude Code: the line is not read while the file is fresh (its writer may not be done with it), and the
    // summary says it waits.
    let sc = Scenario::new();
    let line = copy_of("msg_1", "req_1", 120);
    let t = sc.write("claude/projects/-home-dev-shop/s9.jsonl", line.trim_end());
    let run = || sc.cmd("tt-log").args(["--import", "claude-code"]).arg(&t).succeeds();
    run().stderr_is(
        "claude-code: 1 file read, added 0 records (0 tokens, $0.0000), skipped 0 duplicates and 0 malformed lines; \
         1 last line without its newline yet (read again next time)\n",
    );
    // Left alone, it is a whole record: imported, though the offset stays at its start (it is read again, and
    // found in the log, until its newline comes).
    idle(&t);
    run().stderr_has("1 file read, added 1 record (130 tokens");
    run().stderr_has("1 file read, added 0 records (0 tokens, $0.0000), skipped 1 duplicate and 0 malformed lines\n");
    append(&t, "\n");
    idle(&t);
    run().stderr_has("added 0 records (0 tokens, $0.0000), skipped 1 duplicate");
    run().stderr_has("(1 unchanged), added 0 records");
    assert_eq!(outputs(&sc), [120]);
    // Codex: the same, and the reader's state is the one before that line.
    let sc = Scenario::new();
    let t = sc.write("codex/sessions/2026/05/01/rollout-2026-05-01T10-00-00-d.jsonl", ROLLOUT.trim_end());
    let run = || sc.cmd("tt-log").args(["--import", "codex"]).arg(&t).succeeds();
    run()
        .stderr_has("added 1 record (330 tokens")
        .stderr_has("0 malformed lines; 1 last line without its newline yet (read again next time)\n");
    idle(&t);
    run().stderr_has("added 1 record (420 tokens").stderr_has("0 malformed lines\n");
    run().stderr_has("added 0 records (0 tokens, $0.0000), skipped 1 duplicate and 0 malformed lines\n");
    let once = Scenario::new();
    let full = once.write("codex/sessions/2026/05/01/rollout-2026-05-01T10-00-00-d.jsonl", ROLLOUT);
    idle(&full);
    once.cmd("tt-log").args(["--import", "codex"]).arg(&full).succeeds();
    assert_eq!(with_ids(&sc), with_ids(&once));
}

/// Flags that would mean nothing for a transcript import are refused, not ignored.
#[test]
fn flags_that_mean_nothing_for_transcripts_are_refused() {
    let sc = Scenario::new();
    std::fs::create_dir_all(sc.path().join("cc/projects")).unwrap();
    sc.cmd("tt-log")
        .args(["--import", "claude-code", "cc", "--no-git"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("--no-git does not apply to --import of transcripts");
    assert!(!sc.log_path().exists() || sc.log().is_empty());
}

/// A record's billing beyond its tokens: cost, price label, service tier, speed, tool calls.
fn billed(r: &serde_json::Value) -> String {
    [
        "model",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "service_tier",
        "speed",
        "web_search_requests",
        "web_fetch_requests",
        "cost_usd",
        "price",
    ]
    .iter()
    .filter_map(|k| Some(format!("{k}={}", r.get(*k)?)))
    .collect::<Vec<_>>()
    .join(" ")
}

/// Claude Code usage says how a request was billed. By hand:
/// fast mode on Opus 4.8 (× 2): (1,000 × $5 + 2,000 × $25 + 10,000 × $0.50) / 1M × 2 = $0.12, + 2 web searches
///   at $0.01 = $0.14 (its single `message` iteration equals the top-level usage: nothing changes);
/// a compaction pass and an advisor call on Opus 4.6 in `iterations`: tokens summed, each pass at its own model:
///   (60,385 × 3 + 592 × 15) + (12,000 × 5 + 1,600 × 25) + (23,000 × 3 + 1,000 × 15 + 5,000 × 0.3) = $0.375535;
/// `service_tier: "batch"` on Haiku 4.5 (batch $0.50 / $2.50): 10,000 × 0.5 + 1,000 × 2.5 = $0.0075.
#[test]
fn claude_code_billing_fields_are_imported_and_priced() {
    let sc = Scenario::new();
    let dir = sc.path().join("claude-billing");
    copy_tree(&fixture("claude-code-billing"), &dir);
    sc.cmd("tt-log").arg("--import").arg("claude-code").arg(&dir).succeeds().stderr_is(
        "claude-code: 1 file read, added 3 records (127,577 tokens, $0.5230), skipped 0 duplicates and 0 malformed lines\n",
    );
    let got: Vec<String> = sc.records().iter().map(billed).collect();
    assert_eq!(
        got,
        [
            "model=\"claude-opus-4-8\" input_tokens=1000 output_tokens=2000 cache_read_tokens=10000 speed=\"fast\" \
             web_search_requests=2 web_fetch_requests=1 cost_usd=0.14 price=\"claude-opus-4-8:fast\"",
            "model=\"claude-sonnet-4-6\" input_tokens=95385 output_tokens=3192 cache_read_tokens=5000 \
             cost_usd=0.375535 price=\"claude-sonnet-4-6\"",
            "model=\"claude-haiku-4-5-20251001\" input_tokens=10000 output_tokens=1000 service_tier=\"batch\" \
             cost_usd=0.0075 price=\"claude-haiku-4-5:batch\"",
        ]
    );
}

/// Codex `thread_settings_applied` (and a `turn_context` naming a tier) set the service tier of the requests
/// after it. gpt-5.5 (standard $5 / $30 / $0.50, priority $12.50 / $75 / $1.25, flex $2.50 / $15 / $0.25):
/// T1 standard 1,000 × 5 + 100 × 30 = $0.008; T2 priority 1,000 × 12.5 + 1,000 × 1.25 + 200 × 75 = $0.02875;
/// T3 after settings without a tier: standard 500 × 5 + 500 × 0.5 + 100 × 30 = $0.00575; T4 after a
/// turn_context with `service_tier: "flex"`: 1,000 × 2.5 + 100 × 15 = $0.004.
#[test]
fn codex_service_tier_settings_price_the_turns_after_them() {
    let sc = Scenario::new();
    let dir = sc.path().join("codex-tiers");
    copy_tree(&fixture("codex-tiers"), &dir);
    sc.cmd("tt-log").arg("--import").arg("codex").arg(&dir).succeeds().stderr_is(
        "codex: 1 file read, added 4 records (5,500 tokens, $0.0465), skipped 0 duplicates and 0 malformed lines\n",
    );
    let got: Vec<String> = sc.records().iter().map(billed).collect();
    assert_eq!(
        got,
        [
            "model=\"gpt-5.5\" input_tokens=1000 output_tokens=100 cost_usd=0.008 price=\"gpt-5.5\"",
            "model=\"gpt-5.5\" input_tokens=1000 output_tokens=200 cache_read_tokens=1000 service_tier=\"priority\" \
             cost_usd=0.02875 price=\"gpt-5.5:priority\"",
            "model=\"gpt-5.5\" input_tokens=500 output_tokens=100 cache_read_tokens=500 cost_usd=0.00575 \
             price=\"gpt-5.5\"",
            "model=\"gpt-5.5\" input_tokens=1000 output_tokens=100 service_tier=\"flex\" cost_usd=0.004 \
             price=\"gpt-5.5:flex\"",
        ]
    );
}

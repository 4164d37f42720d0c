//! `tt-log --import claude-code|codex`: agent transcripts into the usage log.
//!
//! The fixtures in `tests/fixtures/{claude-code,codex}` are modelled on real transcripts and hold every quirk
//! the importer must survive (streaming copies, sidechains, subagent files, progress-line usage, malformed and
//! glued lines, a torn last line, `<synthetic>` and API-error lines, unknown models; Codex `info: null`,
//! repeated and cumulative-only totals, model switches, a forked subagent replaying its parent). The expected
//! records and costs were worked out by hand (see the comments). The last tests run on the real transcripts in
//! `../shared/realdata` when that folder exists; their totals were computed independently with a Python script
//! (`bench/realdata_totals.py`).
// Test helpers panic on a failed setup step, like the tests themselves.
#![allow(clippy::unwrap_used)]
mod common;
use std::path::{Path, PathBuf};

use common::*;

/// Copy a fixture tree. The transcripts are finished sessions: their mtimes are put an hour back, past the
/// time after which an idle transcript's last request counts as complete.
fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
            idle(&to);
        }
    }
}

/// Make a transcript look left alone for an hour (as a finished session is).
fn idle(path: &Path) {
    let ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(ago).unwrap();
}

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
// msg_E claude-fable-5: unknown, logged unpriced
// line 13 torn (no newline): skipped, retried next time
const CLAUDE_RECORDS: &str = "\
2026-03-01T10:00:02.000Z claude-code claude-sonnet-4-20250514 in=10 out=120 cr=1000 cw=200 cw1h=0 rs=0 $0.00288 s1/shop/main
2026-03-01T10:01:00.000Z claude-code claude-haiku-4-5-20251001 in=20 out=30 cr=0 cw=0 cw1h=0 rs=0 $0.00017 s1/shop/main tags={\"sidechain\":\"true\"}
2026-03-01T10:04:00.000Z claude-code claude-sonnet-4-5-20250929 in=2 out=400 cr=5000 cw=0 cw1h=3000 rs=0 $0.025506 s1/shop/main
2026-03-01T10:05:00.000Z claude-code claude-haiku-4-5-20251001 in=7 out=70 cr=700 cw=0 cw1h=0 rs=0 $0.000427 s1/shop/main tags={\"sidechain\":\"true\"}
2026-03-01T10:05:30.000Z claude-code claude-haiku-4-5-20251001 in=3 out=9 cr=0 cw=0 cw1h=0 rs=0 $0.000048 s1/shop/main tags={\"sidechain\":\"true\"}
2026-03-01T10:06:00.000Z claude-code claude-fable-5 in=1 out=2 cr=0 cw=0 cw1h=0 rs=0 $ s1/shop/main
";

// Codex fixture, by hand (gpt-5 1.25/10, cached 0.125; gpt-4.1 2/8, cached 0.50):
// parent: info null (skipped); T1 {in 1000, cached 200, out 100, rs 40}: 800*1.25 + 200*0.125 + 100*10 = 2025
//   → $0.002025; T1 repeated (skipped); T2 cumulative only {2500, 1200, 180, 60}: difference {1500, 1000, 80,
//   20} → 500*1.25 + 1000*0.125 + 80*10 = 1550 → $0.00155; model switch to gpt-4.1; T3 last {1500, 800, 120}:
//   700*2 + 800*0.5 + 120*8 = 2760 → $0.00276
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
tt-log: warning: unknown model \"claude-fable-5\": 1 record logged unpriced (add it to the price table; tt-price --list shows it)
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
    let (sc, _) = scenario();
    sc.cmd("tt-log").args(["--import", "codex"]).env("CODEX_HOME", sc.path().join("codex")).succeeds().stderr_is(
        "codex: 3 files read, added 5 records (5,650 tokens, $0.0081), skipped 3 duplicates and 0 malformed lines\n",
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
    sc.cmd("tt-log").args(["--import", "codex"]).arg(&parent).succeeds().stderr_is(
        "codex: 1 file read, added 0 records (0 tokens, $0.0000), skipped 3 duplicates and 0 malformed lines\n",
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
    codex().stderr_is("codex: 3 files read (3 unchanged), added 0 records (0 tokens, $0.0000), skipped 0 duplicates and 0 malformed lines\n");
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
    let p = repo_root().join("../shared/realdata");
    if p.join("claude/projects").is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

/// Token sums per model over the log: "model in out cache_read cache_write cache_write_1h reasoning records".
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

#[test]
fn real_claude_code_transcripts_match_independent_totals() {
    let Some(data) = realdata() else { return };
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["--import", "claude-code"])
        .env("CLAUDE_CONFIG_DIR", data.join("claude"))
        .succeeds()
        .stderr_has("claude-code: 11 files read, added 825 records (67,293,564 tokens, $")
        .stderr_has("skipped 824 duplicates and 0 malformed lines\n")
        .stderr_has("unknown model \"claude-fable-5\": 57 records logged unpriced");
    // Computed by bench/realdata_totals.py: dedup on message.id + requestId keeping the line with the most
    // tokens, progress-line subagent usage included, <synthetic> and zero-usage lines skipped.
    assert_eq!(
        sums(&sc),
        "\
claude-fable-5 [113, 33403, 3887431, 0, 119699, 0, 57]
claude-haiku-4-5-20251001 [68, 339, 396824, 0, 61617, 0, 11]
claude-opus-4-5-20251101 [1121, 7671, 6046951, 369100, 0, 0, 77]
claude-opus-4-6 [281, 16870, 18118323, 0, 440685, 0, 207]
claude-opus-4-7 [204, 122441, 10587071, 0, 727932, 0, 94]
claude-opus-4-8 [12254, 97442, 11142622, 0, 241878, 0, 79]
claude-sonnet-4-20250514 [1040, 56515, 4075332, 198421, 0, 0, 197]
claude-sonnet-4-5-20250929 [1061, 24839, 9651396, 852620, 0, 0, 103]
"
    );
    // Unknown models are logged, unpriced — never at $0.
    for r in sc.records() {
        if r["model"] == "claude-fable-5" {
            assert!(r.get("cost_usd").is_none());
        }
    }
    sc.cmd("tt-log")
        .args(["--import", "claude-code"])
        .env("CLAUDE_CONFIG_DIR", data.join("claude"))
        .succeeds()
        .stderr_has("added 0 records");
}

#[test]
fn real_codex_rollouts_match_independent_totals() {
    let Some(data) = realdata() else { return };
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["--import", "codex"])
        .env("CODEX_HOME", data.join("codex"))
        .succeeds()
        .stderr_has("codex: 6 files read, added 385 records (42,105,987 tokens, $")
        .stderr_has("skipped 43 duplicates and 0 malformed lines\n");
    // Each file's counted requests add up to its final cumulative total_tokens (the fork: only its own two
    // turns, 276,780 tokens above the parent's 4,245,375 at the fork point).
    assert_eq!(
        sums(&sc),
        "\
gpt-5.4 [2142989, 97051, 28483456, 0, 0, 22190, 257]
gpt-5.5 [194483, 8611, 668160, 0, 0, 6603, 19]
gpt-5.6-sol [443643, 44714, 9301760, 0, 0, 21142, 94]
gpt-5.6-terra [54722, 9246, 657152, 0, 0, 2325, 15]
"
    );
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
fn the_readme_import_commands_run_as_written() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme.find("## Importing agent logs").expect("README has the import section");
    let open = start + readme[start..].find("```sh\n").unwrap() + 6;
    let script = &readme[open..open + readme[open..].find("```").unwrap()];
    let sc = Scenario::new();
    copy_tree(&fixture("claude-code"), &sc.path().join(".claude"));
    copy_tree(&fixture("codex"), &sc.path().join(".codex"));
    let out = sc.bash(&format!("set -euo pipefail\n{script}")).succeeds();
    assert!(out.stderr.contains("claude-code: 2 files read, added 6 records"), "{}", out.stderr);
    assert!(out.stderr.contains("codex: 3 files read, added 5 records"), "{}", out.stderr);
    assert!(out.stderr.contains("claude-code: 2 files read (1 unchanged), added 0 records"), "{}", out.stderr);
    assert_eq!(sc.records().len(), 11);
    assert!(out.stdout.contains("2026-03-01") && out.stdout.contains("2026-04-11"), "{}", out.stdout);
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
    // Stop (and SubagentStop, SessionEnd): the turn is over, the transcript complete; nothing is held back.
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
    sc2.write("tt.toml", "max_tokens = 2_000_000_000_000\n");
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
    let text = std::fs::read_to_string(&src).unwrap();
    let live = Scenario::new();
    let t = live.write("claude/projects/p/130c7a5b.jsonl", "");
    // An import after every line Claude Code writes (as a hook on every event would), then one when it is over.
    for line in text.split_inclusive('\n') {
        append(&t, line);
        live.cmd("tt-log").args(["--import", "claude-code", "-q"]).arg(&t).succeeds();
    }
    idle(&t);
    live.cmd("tt-log").args(["--import", "claude-code", "-q"]).arg(&t).succeeds();
    let once = Scenario::new();
    once.cmd("tt-log").args(["--import", "claude-code", "-q"]).arg(&src).succeeds();
    let key = |sc: &Scenario| {
        let mut v: Vec<String> = sc.records().iter().map(|r| format!("{} {}", r["id"], brief(r))).collect();
        v.sort();
        v
    };
    assert_eq!(key(&live), key(&once));
    assert_eq!(once.records().len(), 23);
}

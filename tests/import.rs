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

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
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

fn codex_records() -> String {
    format!(
        "\
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
        "codex: 2 files read, added 4 records (5,350 tokens, $0.0070), skipped 3 duplicates and 0 malformed lines\n",
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
    codex().stderr_is("codex: 2 files read (2 unchanged), added 0 records (0 tokens, $0.0000), skipped 0 duplicates and 0 malformed lines\n");
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
    run().stderr_has("added 0 records (0 tokens, $0.0000), skipped 1 duplicate and");
    // Rotated: a different file of the same name, longer than before (the saved head no longer matches).
    let other = lines[1].replace("msg_G", "msg_K").replace("req_6", "req_9");
    std::fs::write(&sub, format!("{other}\n{}\n{}\n", lines[0], lines[1])).unwrap();
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
        .stderr_has("codex: 2 files read, would add 4 records (5,350 tokens, $0.0070)");
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
    assert_eq!(printed.len(), 4);
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
        .stderr_has("codex: 2 files read, would add 4 records");
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
    assert!(out.stderr.contains("codex: 2 files read, added 4 records"), "{}", out.stderr);
    assert!(out.stderr.contains("claude-code: 2 files read (1 unchanged), added 0 records"), "{}", out.stderr);
    assert_eq!(sc.records().len(), 10);
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

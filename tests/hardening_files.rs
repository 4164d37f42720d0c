//! Issue 11, the files tt writes: `tt-export -o` never replaces the log or its side files (item 1), temporary
//! files have random names and side files are never written through planted symlinks (item 5), a failed append
//! leaves nothing behind (item 6), and what tt creates is private — files 0600, its data directory 0700 (item 12).
mod common;
use common::*;

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// Records of two agents.
const LOG: &str = r#"{"v":1,"id":"019ab000-0000-7000-8000-000000000001","ts":"2026-11-16T09:00:00.000Z","agent":"A","model":"sonnet-4.5","input_tokens":50000,"output_tokens":15000,"host":"laptop","source":"cli","cost_usd":0.375,"price":"claude-sonnet-4-5"}
{"v":1,"id":"019ab000-0000-7000-8000-000000000002","ts":"2026-11-17T10:30:00.000Z","agent":"B","model":"opus-4.5","input_tokens":10000,"output_tokens":2000,"host":"laptop","source":"cli","cost_usd":0.1,"price":"claude-opus-4-5"}
"#;

/// A victim file outside tt's reach: whatever is planted must leave it as it is.
const VICTIM: &str = "precious: must never change\n";

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// A scenario with the two-agent log and a victim file.
fn scenario() -> (Scenario, PathBuf) {
    let sc = Scenario::new();
    sc.write("usage.jsonl", LOG);
    let victim = sc.write("victim.txt", VICTIM);
    (sc, victim)
}

/// Plant symlinks to `victim` at `name(pid)` for the PIDs the next processes are likely to get (PIDs are
/// handed out in order): the old code's temporary names were `<file>.tmp<PID>`.
fn plant_pid_links(victim: &Path, name: impl Fn(u32) -> PathBuf) {
    let me = std::process::id();
    for pid in me.saturating_sub(50)..me + 4000 {
        let _ = symlink(victim, name(pid));
    }
}

fn assert_victim_untouched(victim: &Path) {
    assert_eq!(std::fs::read_to_string(victim).unwrap(), VICTIM, "the victim file was written through a link");
}

// ---------------------------------------------------------------------------------------------------------------
// Item 1: `-o` never replaces the log.

#[test]
fn export_o_refuses_the_usage_log_in_every_format() {
    let (sc, _) = scenario();
    let log = sc.log_path();
    for args in [
        vec!["--agent", "A", "--format", "jsonl"],
        vec!["--format", "csv"],
        vec!["--format", "json"],
        vec!["--format", "prometheus"],
        vec!["--bundle"],
    ] {
        sc.cmd("tt-export")
            .args(&args)
            .arg("-o")
            .arg(&log)
            .fails_with(2)
            .one_error_line("tt-export")
            .stderr_has("is the usage log");
        assert_eq!(sc.log(), LOG, "{args:?} changed the log");
    }
    // Named through $TT_LOG as the issue's reproduction does, and relative to the working directory.
    sc.bash(r#"tt-export --agent A --format jsonl -o "$TT_LOG""#).fails_with(2).one_error_line("tt-export");
    sc.cmd("tt-export").args(["--format", "csv", "-o", "./usage.jsonl"]).fails_with(2).one_error_line("tt-export");
    assert_eq!(sc.log(), LOG);
}

#[test]
fn export_o_refuses_links_to_the_log_and_its_side_files() {
    let (sc, _) = scenario();
    let log = sc.log_path();
    let inode = std::fs::metadata(&log).unwrap().ino();
    symlink(&log, sc.path().join("link")).unwrap();
    std::fs::hard_link(&log, sc.path().join("hard")).unwrap();
    sc.cmd("tt-export").args(["--bundle", "-o", "link"]).fails_with(2).one_error_line("tt-export");
    sc.cmd("tt-export").args(["--format", "jsonl", "-o", "hard"]).fails_with(2).one_error_line("tt-export");
    assert_eq!(sc.log(), LOG);
    assert_eq!(std::fs::metadata(&log).unwrap().ino(), inode, "the log was replaced");
    assert!(std::fs::symlink_metadata(sc.path().join("link")).unwrap().file_type().is_symlink());
    // Side files, existing or not yet, directly or through a link.
    sc.write("usage.jsonl.tt-index", "index\n");
    for side in [".tt-index", ".tt-holds", ".tt-import.json", ".tt-history.jsonl", ".torn"] {
        let p = format!("usage.jsonl{side}");
        sc.cmd("tt-export").args(["-o", &p]).fails_with(2).one_error_line("tt-export").stderr_has("side file");
        let l = format!("side{side}");
        symlink(sc.path().join(&p), sc.path().join(&l)).unwrap();
        sc.cmd("tt-export").args(["-o", &l]).fails_with(2).one_error_line("tt-export");
    }
    assert_eq!(sc.read("usage.jsonl.tt-index"), "index\n");
    assert!(!sc.path().join("usage.jsonl.torn").exists());
    assert_eq!(sc.log(), LOG);
}

#[test]
fn export_o_refuses_an_input_file_but_writes_elsewhere() {
    let (sc, _) = scenario();
    let other = sc.write("other.jsonl", LOG);
    sc.cmd("tt-export")
        .arg(&other)
        .args(["--format", "csv", "-o"])
        .arg(&other)
        .fails_with(2)
        .one_error_line("tt-export");
    assert_eq!(sc.read("other.jsonl"), LOG);
    // An input file's own name given with `--log` is the log.
    sc.cmd("tt-export").args(["--log", "other.jsonl", "-o", "other.jsonl"]).fails_with(2);
    assert_eq!(sc.read("other.jsonl"), LOG);
    // Anything else is written as before.
    sc.cmd("tt-export").args(["--agent", "A", "--format", "jsonl", "-o", "a.jsonl"]).succeeds();
    assert_eq!(sc.read("a.jsonl"), LOG.lines().next().unwrap().to_string() + "\n");
    sc.cmd("tt-export").arg(&other).args(["-o", "-"]).succeeds();
}

// ---------------------------------------------------------------------------------------------------------------
// Item 5: temporary files and side files never follow planted links.

#[test]
fn export_o_temp_file_is_not_a_predictable_name() {
    let (sc, victim) = scenario();
    plant_pid_links(&victim, |pid| sc.path().join(format!(".out.csv.tmp.{pid}")));
    sc.cmd("tt-export").args(["--format", "csv", "-o", "out.csv"]).succeeds();
    assert_victim_untouched(&victim);
    assert!(sc.read("out.csv").starts_with("id,ts,"), "{}", sc.read("out.csv"));
}

#[test]
fn index_temp_file_is_not_a_predictable_name() {
    let (sc, victim) = scenario();
    sc.write("tt.toml", "[[budget]]\nname = \"daily\"\nperiod = \"day\"\nlimit_tokens = 1000000\n");
    plant_pid_links(&victim, |pid| sc.path().join(format!("usage.jsonl.tt-index.tmp{pid}")));
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "10", "10", "--enforce", "--no-git", "-q"]).succeeds();
    assert_victim_untouched(&victim);
    assert!(sc.path().join("usage.jsonl.tt-index").is_file());
}

#[test]
fn import_offsets_temp_file_is_not_a_predictable_name() {
    let (sc, victim) = scenario();
    let claude = sc.path().join("claude");
    copy_tree(&fixture("claude-code"), &claude);
    plant_pid_links(&victim, |pid| sc.path().join(format!("usage.jsonl.tt-import.json.tmp{pid}")));
    sc.cmd("tt-log").args(["--import", "claude-code"]).env("CLAUDE_CONFIG_DIR", &claude).succeeds();
    assert_victim_untouched(&victim);
    assert!(sc.path().join("usage.jsonl.tt-import.json").is_file());
}

#[test]
fn holds_compaction_temp_file_is_not_a_predictable_name() {
    let (sc, victim) = scenario();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 1000\n");
    let id = sc.cmd("tt-budget").args(["--estimate-usd", "1", "--reserve"]).succeeds().stdout.trim().to_string();
    sc.cmd("tt-budget").args(["--release", &id]).succeeds();
    // Grow the holds file past the compaction threshold (64 KiB) with ended holds.
    let holds = sc.path().join("usage.jsonl.tt-holds");
    let text = std::fs::read_to_string(&holds).unwrap();
    std::fs::write(&holds, text.repeat(70_000 / text.len() + 1)).unwrap();
    plant_pid_links(&victim, |pid| sc.path().join(format!("usage.jsonl.tt-holds.tmp{pid}")));
    sc.cmd("tt-budget").args(["--estimate-usd", "1", "--reserve"]).succeeds();
    assert_victim_untouched(&victim);
    assert!(std::fs::metadata(&holds).unwrap().len() < 4096, "the holds file was not compacted");
}

#[test]
fn a_link_at_the_torn_file_is_not_written_through() {
    let (sc, victim) = scenario();
    // A torn last line: the next append would move it to `<log>.torn`.
    let torn = format!("{LOG}{{\"v\":1,\"id\":\"019ab000-00");
    sc.write("usage.jsonl", &torn);
    symlink(&victim, sc.path().join("usage.jsonl.torn")).unwrap();
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "10", "10", "--no-git", "-q"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("symbolic link");
    assert_victim_untouched(&victim);
    // Nothing was cut from the log either: the fragment had nowhere safe to go.
    assert_eq!(sc.log(), torn);
}

#[test]
fn links_at_the_holds_and_history_files_are_not_written_through() {
    let (sc, victim) = scenario();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 1000\n");
    symlink(&victim, sc.path().join("usage.jsonl.tt-holds")).unwrap();
    sc.cmd("tt-budget").args(["--estimate-usd", "1", "--reserve"]).fails_with(2).one_error_line("tt-budget");
    assert_victim_untouched(&victim);

    let other = sc.write("other.jsonl", LOG.replace("019ab000", "019ab111"));
    symlink(&victim, sc.path().join("usage.jsonl.tt-history.jsonl")).unwrap();
    sc.cmd("tt-log").arg("--import").arg(&other).fails_with(2).stderr_has("symbolic link");
    assert_victim_untouched(&victim);
}

// ---------------------------------------------------------------------------------------------------------------
// Item 6: a failed append is rolled back.

/// A file size limit (`ulimit -f`, SIGXFSZ ignored so the write fails with EFBIG instead of killing tt) stops a
/// merge part-way through its one write: the log must be left exactly as it was, with no partial batch and no
/// torn line. (A unit test in tt-core's log.rs covers a write failing with ENOSPC half-way.)
#[test]
fn a_write_cut_short_by_a_file_size_limit_leaves_the_log_as_it_was() {
    let (sc, _) = scenario();
    // 50 new records, ~11 KiB: the limit lets a few KiB through, then the write fails.
    let mut batch = String::new();
    for i in 0..50 {
        batch.push_str(&LOG.lines().next().unwrap().replace("000000000001", &format!("{:012}", 1000 + i)));
        batch.push('\n');
    }
    sc.write("batch.jsonl", &batch);
    let before = std::fs::read(sc.log_path()).unwrap();
    // ulimit -f counts 512-byte blocks in POSIX shells; bash counts 1024 — either way past the log, before the
    // batch's end.
    let blocks = (before.len() + 3000) / 1024 + 1;
    sc.bash(&format!("trap '' XFSZ; ulimit -f {blocks} && exec tt-log --import batch.jsonl"))
        .fails_with(2)
        .stderr_has("usage.jsonl");
    assert_eq!(std::fs::read(sc.log_path()).unwrap(), before, "a partial batch was left in the log");
    // With SIGXFSZ at its default (it kills the process), the same: the write that reaches the limit is cut
    // short without the signal, and tt does not retry it (a retry would raise the signal before the roll back).
    sc.bash(&format!("ulimit -f {blocks} && exec tt-log --import batch.jsonl")).fails_with(2).stderr_has("short write");
    assert_eq!(std::fs::read(sc.log_path()).unwrap(), before, "a partial batch was left in the log (default SIGXFSZ)");
    // The next append works and readers see whole records.
    sc.cmd("tt-log").args(["--import", "batch.jsonl"]).succeeds();
    assert_eq!(sc.records().len(), 52);
}

// ---------------------------------------------------------------------------------------------------------------
// Item 12: private by default.

#[test]
fn a_fresh_log_and_its_directory_are_private_under_umask_022() {
    let sc = Scenario::new();
    sc.bash("umask 022 && unset TT_LOG && tt-log A sonnet-4.5 10 10 --no-git -q").succeeds();
    let dir = sc.path().join(".local/share/tt");
    assert_eq!(mode(&dir), 0o700, "data directory");
    assert_eq!(mode(&dir.join("usage.jsonl")), 0o600, "log");

    // Side files and exports too.
    sc.write("tt.toml", "[[budget]]\nname = \"daily\"\nperiod = \"day\"\nlimit_tokens = 1000000\n");
    sc.bash(
        "umask 022 && tt-log A sonnet-4.5 10 10 --no-git -q && printf '%s' '{\"v\":1' >> \"$TT_LOG\" \
         && tt-log A sonnet-4.5 10 10 --enforce --no-git -q",
    )
    .succeeds()
    .stderr_has("torn");
    sc.bash("umask 022 && tt-export --format csv -o out.csv && tt-budget --estimate-usd 1 --reserve").succeeds();
    for f in ["usage.jsonl", "usage.jsonl.torn", "usage.jsonl.tt-index", "usage.jsonl.tt-holds", "out.csv"] {
        assert_eq!(mode(&sc.path().join(f)), 0o600, "{f}");
    }
    let claude = sc.path().join("claude");
    copy_tree(&fixture("claude-code"), &claude);
    sc.bash("umask 022 && tt-log --import claude-code").env("CLAUDE_CONFIG_DIR", &claude).succeeds();
    assert_eq!(mode(&sc.path().join("usage.jsonl.tt-import.json")), 0o600);
    let other = sc.write("other.jsonl", LOG);
    sc.bash(&format!("umask 022 && tt-log --import {}", other.display())).succeeds();
    assert_eq!(mode(&sc.path().join("usage.jsonl.tt-history.jsonl")), 0o600);
}

#[test]
fn an_existing_file_keeps_its_mode() {
    let (sc, _) = scenario();
    // A shared team log is an opt-in: the file made group-readable first stays so.
    std::fs::set_permissions(sc.log_path(), std::fs::Permissions::from_mode(0o664)).unwrap();
    sc.write("out.csv", "old\n");
    std::fs::set_permissions(sc.path().join("out.csv"), std::fs::Permissions::from_mode(0o644)).unwrap();
    sc.bash("umask 077 && tt-log A sonnet-4.5 10 10 --no-git -q && tt-export --format csv -o out.csv").succeeds();
    assert_eq!(mode(&sc.log_path()), 0o664);
    assert_eq!(mode(&sc.path().join("out.csv")), 0o644);
}

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

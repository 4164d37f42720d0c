//! `tt-log --repair`: the lines readers refuse (a block of NULs left by a crash, half a line, invalid JSON or
//! UTF-8) move to `<log>.rejected` with their line numbers; valid lines keep their bytes and order; a clean log,
//! a dry run and a missing log change nothing; writers racing a repair lose nothing (issue 11, item 13).
mod common;
use common::*;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

const HINT: &str = "(tt-log --repair moves bad lines aside)";
const BUDGET: &str = "[[budget]]\nname = \"monthly-tokens\"\nperiod = \"month\"\nlimit_tokens = 100000\n";

/// A valid record line (with its newline), as tt-log writes it, timestamped now.
fn record(sc: &Scenario, agent: &str, input: u64, output: u64) -> Vec<u8> {
    let out = sc
        .cmd("tt-log")
        .args([agent, "sonnet-4.5", &input.to_string(), &output.to_string(), "--dry-run", "--no-git", "-q"])
        .succeeds();
    assert!(out.stdout.ends_with('\n') && out.stdout.lines().count() == 1, "{}", out.stdout);
    out.stdout.into_bytes()
}

/// Four valid records with bad lines between them: line 2 a block of NULs (the crash pattern on ext4), line 4
/// half a record, line 6 invalid JSON, line 8 bytes that are not UTF-8; line 9 is blank (readers skip it).
/// The damaged log, the lines a repair keeps, and the bad lines (line number, bytes).
type Damaged = (Vec<u8>, Vec<u8>, Vec<(u64, Vec<u8>)>);

fn damaged(sc: &Scenario) -> Damaged {
    let good: Vec<Vec<u8>> = [("A", 1000, 100), ("B", 2000, 200), ("C", 3000, 300), ("D", 4000, 400)]
        .iter()
        .map(|(a, i, o)| record(sc, a, *i, *o))
        .collect();
    let bad: Vec<(u64, Vec<u8>)> = vec![
        (2, vec![0u8; 4096]),
        (4, good[1][..good[1].len() / 2].to_vec()),
        (6, b"{\"v\":1,\"id\":oops}".to_vec()),
        (8, b"\xff\xfe{\"v\":1}\r".to_vec()),
    ];
    let mut log = Vec::new();
    let mut kept = Vec::new();
    for (i, g) in good.iter().enumerate() {
        log.extend_from_slice(g);
        kept.extend_from_slice(g);
        log.extend_from_slice(&bad[i].1);
        log.push(b'\n');
    }
    log.extend_from_slice(b"  \n");
    kept.extend_from_slice(b"  \n");
    (log, kept, bad)
}

fn ino(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).unwrap().ino()
}

#[test]
fn bad_lines_move_to_the_rejected_file_and_readers_work_again() {
    let sc = Scenario::new();
    sc.write("tt.toml", BUDGET);
    let (log, kept, bad) = damaged(&sc);
    std::fs::write(sc.log_path(), &log).unwrap();
    let mode = std::fs::metadata(sc.log_path()).unwrap().permissions().mode();
    // An index left from before: it counted the old file.
    let index = sc.path().join("usage.jsonl.tt-index");
    std::fs::write(&index, "stale\n").unwrap();
    let rejected = sc.path().join("usage.jsonl.rejected");

    // Every reader stops at the first bad line, and says how to get past it.
    for tool in ["tt-sum", "tt-export", "tt-optimize"] {
        let out = sc.cmd(tool).fails_with(2).one_error_line(tool);
        assert!(out.stderr.contains("usage.jsonl:2: invalid JSON"), "{tool}: {}", out.stderr);
        assert!(out.stderr.trim_end().ends_with(HINT), "{tool}: {}", out.stderr);
    }
    sc.cmd("tt-budget").fails_with(2).stderr_has(HINT);

    // A dry run lists what would move, and changes nothing.
    let before = ino(&sc.log_path());
    let out = sc.cmd("tt-log").args(["--repair", "--dry-run"]).succeeds();
    let listed: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(listed.len(), 4, "{}", out.stdout);
    assert!(listed[0].starts_with(r"line 2: 4,096 bytes: \x00\x00\x00"), "{}", listed[0]);
    assert!(listed[0].ends_with("…: invalid JSON: expected value (column 1)"), "{}", listed[0]);
    assert!(listed[1].starts_with("line 4: "), "{}", listed[1]);
    assert!(listed[2].starts_with("line 6: 17 bytes: "), "{}", listed[2]);
    assert!(listed[3].starts_with(r"line 8: 10 bytes: \xff\xfe"), "{}", listed[3]);
    assert!(out.stderr.contains("would move 4 bad lines (lines 2, 4, 6, 8) of 9"), "{}", out.stderr);
    assert_eq!(std::fs::read(sc.log_path()).unwrap(), log);
    assert_eq!(ino(&sc.log_path()), before);
    assert!(!rejected.exists());
    assert!(index.exists());

    // The repair.
    let out = sc.cmd("tt-log").arg("--repair").succeeds();
    assert_eq!(
        out.stderr,
        format!(
            "{}: moved 4 bad lines (lines 2, 4, 6, 8) to {}; 5 lines kept; the budget index will be rebuilt\n",
            sc.log_path().display(),
            rejected.display()
        )
    );
    // The log holds exactly the valid lines, byte for byte, in order (the blank line too).
    assert_eq!(std::fs::read(sc.log_path()).unwrap(), kept);
    assert_eq!(std::fs::metadata(sc.log_path()).unwrap().permissions().mode(), mode, "the log keeps its mode");
    // The rejected file: each bad line, byte for byte, after a comment with its line number.
    let side = std::fs::read(&rejected).unwrap();
    assert_eq!(std::fs::metadata(&rejected).unwrap().permissions().mode() & 0o777, 0o600);
    let mut rest = &side[..];
    for (line, bytes) in &bad {
        let nl = rest.iter().position(|&b| b == b'\n').unwrap();
        let header = std::str::from_utf8(&rest[..nl]).unwrap();
        assert!(header.starts_with(&format!("# line {line} ({} bytes at offset ", bytes.len())), "{header}");
        assert!(header.contains("moved by tt-log --repair at "), "{header}");
        rest = &rest[nl + 1..];
        assert_eq!(&rest[..bytes.len()], &bytes[..], "line {line}");
        assert_eq!(rest[bytes.len()], b'\n');
        rest = &rest[bytes.len() + 1..];
    }
    assert!(rest.is_empty());
    assert!(!index.exists(), "the stale index is gone");

    // Readers work again, with the right totals.
    let rows = sc.cmd("tt-sum").args(["--format", "jsonl"]).succeeds().jsonl();
    assert_eq!(rows[0]["records"], 4);
    assert_eq!(rows[0]["input_tokens"], 10000);
    assert_eq!(rows[0]["output_tokens"], 1000);
    sc.cmd("tt-export").succeeds();
    let b = sc.cmd("tt-budget").succeeds().jsonl();
    assert_eq!(b[0]["name"], "monthly-tokens");
    assert_eq!(b[0]["spent_tokens"], 11000);
    assert_eq!(b[0]["records"], 4);
    // The index is rebuilt from the new log, and --enforce counts what is there.
    sc.cmd("tt-log").args(["E", "sonnet-4.5", "500", "500", "--enforce", "--no-git", "-q"]).succeeds();
    assert!(index.exists());
    assert_eq!(sc.cmd("tt-budget").succeeds().jsonl()[0]["spent_tokens"], 12000);

    // A second repair has nothing to do: same file, same bytes, the rejected file untouched.
    let (before, bytes) = (ino(&sc.log_path()), std::fs::read(sc.log_path()).unwrap());
    sc.cmd("tt-log").arg("--repair").succeeds().stderr_has("nothing to repair (6 lines, none refused by the readers)");
    assert_eq!(ino(&sc.log_path()), before);
    assert_eq!(std::fs::read(sc.log_path()).unwrap(), bytes);
    assert_eq!(std::fs::read(&rejected).unwrap(), side);
}

#[test]
fn a_clean_log_is_left_alone() {
    let sc = Scenario::new();
    let mut log = record(&sc, "A", 10, 1);
    log.extend(record(&sc, "B", 20, 2));
    std::fs::write(sc.log_path(), &log).unwrap();
    let meta = std::fs::metadata(sc.log_path()).unwrap();
    for args in [&["--repair", "--dry-run"][..], &["--repair"][..]] {
        let out = sc.cmd("tt-log").args(args).succeeds();
        assert_eq!(
            out.stderr,
            format!("{}: nothing to repair (2 lines, none refused by the readers)\n", sc.log_path().display())
        );
        assert_eq!(out.stdout, "");
        let now = std::fs::metadata(sc.log_path()).unwrap();
        assert_eq!((now.ino(), now.mtime(), now.mtime_nsec()), (meta.ino(), meta.mtime(), meta.mtime_nsec()));
        assert_eq!(std::fs::read(sc.log_path()).unwrap(), log);
        assert!(!sc.path().join("usage.jsonl.rejected").exists());
    }
    // No log: nothing to repair, and nothing created.
    std::fs::remove_file(sc.log_path()).unwrap();
    sc.cmd("tt-log").arg("--repair").succeeds().stderr_has("no log here: nothing to repair");
    assert!(!sc.log_path().exists());
}

#[test]
fn a_dry_run_changes_nothing_even_with_a_torn_last_line() {
    let sc = Scenario::new();
    let mut log = record(&sc, "A", 10, 1);
    log.extend_from_slice(&[0u8; 100]);
    log.push(b'\n');
    log.extend_from_slice(b"{\"v\":1,\"id\":\"tor");
    std::fs::write(sc.log_path(), &log).unwrap();
    let out = sc.cmd("tt-log").args(["--repair", "--dry-run", "--log"]).arg(sc.log_path()).succeeds();
    assert!(out.stdout.starts_with(r"line 2: 100 bytes: \x00"), "{}", out.stdout);
    assert!(out.stderr.contains("would move 1 bad line (line 2) of 3"), "{}", out.stderr);
    assert!(out.stderr.contains("its unterminated last line (16 bytes"), "{}", out.stderr);
    assert_eq!(std::fs::read(sc.log_path()).unwrap(), log);
    assert!(!sc.path().join("usage.jsonl.rejected").exists());
    assert!(!sc.path().join("usage.jsonl.torn").exists());
    // The real repair moves the torn tail to `.torn` (as any append would) and the NULs to `.rejected`.
    sc.cmd("tt-log").arg("--repair").succeeds().stderr_has("moved 1 bad line (line 2)");
    assert_eq!(std::fs::read(sc.log_path()).unwrap(), record_line(&log));
    assert!(sc.read("usage.jsonl.torn").ends_with("{\"v\":1,\"id\":\"tor\n"));
}

fn record_line(log: &[u8]) -> Vec<u8> {
    log[..=log.iter().position(|&b| b == b'\n').unwrap()].to_vec()
}

#[test]
fn a_symlinked_log_stays_a_link_and_keeps_its_mode() {
    let sc = Scenario::new();
    let (log, kept, _) = damaged(&sc);
    let real = sc.write("volume/usage.jsonl", &log);
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink(&real, sc.log_path()).unwrap();
    sc.cmd("tt-log").arg("--repair").succeeds();
    assert!(std::fs::symlink_metadata(sc.log_path()).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(&real).unwrap(), kept);
    assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640);
    assert!(sc.path().join("usage.jsonl.rejected").exists());
    // A link planted at the rejected file is refused, never written through.
    std::fs::write(&real, &log).unwrap();
    std::fs::remove_file(sc.path().join("usage.jsonl.rejected")).unwrap();
    let victim = sc.write("victim", "keep");
    std::os::unix::fs::symlink(&victim, sc.path().join("usage.jsonl.rejected")).unwrap();
    sc.cmd("tt-log").arg("--repair").fails_with(2).stderr_has("is a symbolic link");
    assert_eq!(sc.read("victim"), "keep");
    assert_eq!(std::fs::read(&real).unwrap(), log);
}

#[test]
fn writers_racing_a_repair_lose_nothing() {
    let sc = Scenario::new();
    let (log, kept, _) = damaged(&sc);
    std::fs::write(sc.log_path(), &log).unwrap();
    let mut runs: Vec<Run> =
        (0..24).map(|i| sc.cmd("tt-log").args([&format!("W{i}"), "sonnet-4.5", "1", "1", "--no-git", "-q"])).collect();
    runs.insert(8, sc.cmd("tt-log").arg("--repair"));
    for out in run_all(runs) {
        out.success();
    }
    // Whatever the order, every appended record is in the log that is now at the path, after the kept lines or
    // among them: none went to the replaced file. (A writer may have appended before the repair: its record is
    // valid and kept.)
    let now = std::fs::read(sc.log_path()).unwrap();
    let text = String::from_utf8(now).unwrap();
    for i in 0..24 {
        assert!(text.contains(&format!("\"agent\":\"W{i}\"")), "W{i} lost:\n{text}");
    }
    for line in String::from_utf8(kept).unwrap().lines().filter(|l| !l.trim().is_empty()) {
        assert!(text.contains(line));
    }
    assert_eq!(sc.cmd("tt-sum").args(["--format", "jsonl"]).succeeds().jsonl()[0]["records"], 28);
}

#[test]
fn repair_is_its_own_command() {
    let sc = Scenario::new();
    sc.cmd("tt-log").args(["--repair", "--agent", "A"]).fails_with(2).stderr_has("--agent");
    sc.cmd("tt-log").args(["--repair", "--import", "claude-code"]).fails_with(2);
    sc.cmd("tt-log").args(["--repair", "--settle", "r-x"]).fails_with(2).stderr_has("--settle");
    // From a pipe there is no file to repair: no hint.
    let (log, _, _) = damaged(&sc);
    let out = sc.cmd("tt-sum").pipe_in(log).fails_with(2);
    assert!(out.stderr.contains("<stdin>:2: invalid JSON") && !out.stderr.contains(HINT), "{}", out.stderr);
}

//! Inputs a user hands tt by mistake or by habit (issue 11, items 8 and 13): a byte order mark at the start of a
//! file, dates before 2000 in any date flag, local times in a daylight-saving gap or fold, and config or prompt
//! files without end (`/dev/zero`, a FIFO, a huge file). Every test runs the real binaries.
mod common;
use common::*;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn rec(ts: &str, agent: &str, input: u64, cost: &str) -> String {
    format!(
        "{{\"v\":1,\"id\":\"{ts}{agent}\",\"ts\":\"{ts}\",\"agent\":\"{agent}\",\"model\":\"sonnet-4.5\",\"input_tokens\":{input},\"output_tokens\":10,\"cost_usd\":{cost}}}\n"
    )
}

/// Two records (1000 + 2000 input tokens, $30 + $50) after a UTF-8 byte order mark, as an editor on Windows saves
/// a file.
fn bom_log() -> Vec<u8> {
    let text = rec("2026-11-10T10:00:00Z", "ATLAS", 1000, "30") + &rec("2026-11-11T10:00:00Z", "BOLT", 2000, "50");
    [BOM, text.as_bytes()].concat()
}

fn total(out: &Out) -> serde_json::Value {
    out.jsonl().last().unwrap().clone()
}

/// Run `c` (stdin closed) for at most `secs` seconds: its exit code and stderr, or `None` when it had to be
/// killed (it was still reading).
fn run_within(mut c: Command, secs: u64) -> Option<(i32, String)> {
    let mut child = c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return Some((status.code().unwrap_or(-1), err));
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(sc: &Scenario, name: &str) -> std::path::PathBuf {
    let p = sc.path().join(name);
    assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
    p
}

/// Item 13: a BOM at the start of the log was "expected value" at line 1. Every reader skips it there (the bulk
/// reader of tt-sum and tt-budget, the record reader of tt-export, from the log, a file argument and stdin), and
/// only there: a BOM at the start of a later line is still a bad line.
#[test]
fn a_bom_at_the_start_of_a_file_is_skipped_by_every_reader() {
    let sc = Scenario::new();
    sc.write("usage.jsonl", bom_log());
    sc.write("copy.jsonl", bom_log());
    for args in [vec![], vec!["copy.jsonl"]] {
        let t = total(&sc.cmd("tt-sum").args(&args).args(["--format", "jsonl"]).succeeds());
        assert_eq!((t["records"].as_u64(), t["input_tokens"].as_u64()), (Some(2), Some(3000)), "{args:?}");
    }
    let t = total(&sc.cmd("tt-sum").args(["--format", "jsonl", "-"]).pipe_in(bom_log()).succeeds());
    assert_eq!(t["records"].as_u64(), Some(2));

    // tt-budget from the log (the index is built from it) and from the file as an argument.
    let out = sc.cmd("tt-budget").args(["--limit-usd", "100", "--today", "2026-11-15", "--format", "jsonl"]).succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"].to_string(), "80", "{}", out.stdout);
    sc.cmd("tt-budget").args(["--limit-usd", "70", "--today", "2026-11-15", "--fail-over"]).fails_with(1);
    let out = sc
        .cmd("tt-budget")
        .args(["copy.jsonl", "--limit-usd", "100", "--today", "2026-11-15", "--format", "jsonl"])
        .succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"].to_string(), "80", "{}", out.stdout);
    // Summary rows with a BOM (a file saved by an editor) are read too.
    let rows = sc.cmd("tt-sum").args(["--period", "month", "--today", "2026-11-15", "--format", "jsonl"]).succeeds();
    let out = sc
        .cmd("tt-budget")
        .args(["--limit-usd", "100", "--today", "2026-11-15", "--format", "jsonl"])
        .pipe_in([BOM, rows.stdout.as_bytes()].concat())
        .succeeds();
    assert_eq!(out.jsonl()[0]["spent_usd"].to_string(), "80", "{}", out.stdout);

    // The owned-record reader (tt-export) too.
    let out = sc.cmd("tt-export").args(["copy.jsonl", "--format", "jsonl"]).succeeds();
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert!(!out.stdout.as_bytes().starts_with(BOM));

    // Only at the very start: a BOM at the start of line 2 is a bad line 2.
    let text = bom_log();
    let mut mid = text[3..].to_vec();
    let nl = mid.iter().position(|&b| b == b'\n').unwrap() + 1;
    mid.splice(nl..nl, BOM.iter().copied());
    sc.write("mid.jsonl", &mid);
    sc.cmd("tt-sum").arg("mid.jsonl").fails_with(2).one_error_line("tt-sum").stderr_has("mid.jsonl:2");
    sc.cmd("tt-export").arg("mid.jsonl").fails_with(2).one_error_line("tt-export").stderr_has("mid.jsonl:2");
}

/// A config saved with a BOM is read like one without.
#[test]
fn a_config_with_a_bom_is_read() {
    let sc = Scenario::new();
    sc.write("usage.jsonl", bom_log());
    sc.write("tt.toml", [BOM, b"[[budget]]\nname = \"m\"\nperiod = \"month\"\nlimit_usd = 70\n"].concat());
    sc.cmd("tt-budget").args(["--today", "2026-11-15", "--fail-over"]).fails_with(1).stderr_has("m");
}

/// Item 13: `--today 0000-01-01` was accepted where `--ts` refuses years before 2000. Every date flag now has
/// `--ts`'s bounds, with a one-line error naming the flag.
#[test]
fn every_date_flag_refuses_years_before_2000_like_ts() {
    let sc = Scenario::new();
    sc.write("usage.jsonl", rec("2026-11-10T10:00:00Z", "ATLAS", 1000, "30"));
    for (tool, flag, value) in [
        ("tt-sum", "--today", "0000-01-01"),
        ("tt-sum", "--today", "1999-12-31T23:00:00Z"),
        ("tt-sum", "--since", "1999-12-31"),
        ("tt-sum", "--until", "0001-01-01T00:00:00Z"),
        ("tt-sum", "--since", "1970-01-01 00:00"),
        ("tt-budget", "--today", "0000-01-01"),
        ("tt-export", "--today", "1900-01-01"),
        ("tt-optimize", "--since", "1999-01-01"),
    ] {
        let mut r = sc.cmd(tool).args([flag, value]);
        if tool == "tt-budget" {
            r = r.args(["--limit-usd", "100"]);
        }
        r.fails_with(2).one_error_line(tool).stderr_has(&format!("{flag}: time {value:?} is before 2000"));
    }
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "1", "1", "--at", "1999-06-01"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("is before 2000");
    // After 9999 in UTC, as for --ts.
    sc.cmd("tt-sum")
        .args(["--since", "9999-12-31T23:59:59-05:00"])
        .fails_with(2)
        .one_error_line("tt-sum")
        .stderr_has("after the year 9999");
    // The bounds themselves are fine.
    sc.cmd("tt-sum").args(["--since", "2000-01-01", "--until", "9999-12-31", "--today", "2000-01-01"]).succeeds();
}

/// Item 13: a local time in a daylight-saving gap moved silently. It still moves (documented in tests/tt_log.rs:
/// `--ts` in a gap is logged at the time after it), now with a warning naming the gap; a time that occurs twice
/// (clocks going back) is the earlier, with a warning naming both. An offset or an ordinary time warns of nothing.
#[test]
fn local_times_in_a_dst_gap_or_fold_warn() {
    let sc = Scenario::new();
    sc.write("tt.toml", "tz = \"Europe/Berlin\"\n");
    // 2026-03-29 02:00–03:00 does not exist in Berlin; 2026-10-25 02:00–03:00 happens twice.
    let out = sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--ts", "2026-03-29T02:30"]).succeeds();
    out.stderr_has("tt-log: warning: \"2026-03-29T02:30\" does not exist in Europe/Berlin")
        .stderr_has("daylight-saving gap")
        .stderr_has("2026-03-29T01:00:00Z");
    let out = sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--ts", "2026-10-25 02:30"]).succeeds();
    out.stderr_has("tt-log: warning: \"2026-10-25 02:30\" occurs twice in Europe/Berlin")
        .stderr_has("took the earlier, 2026-10-25 02:30:00+02:00 (2026-10-25T00:30:00Z)");
    for ts in ["2026-03-29T03:30", "2026-10-25T02:30:00+01:00", "2026-03-29"] {
        let out = sc.cmd("tt-log").args(["A", "sonnet-4.5", "1", "1", "--ts", ts]).succeeds();
        assert!(!out.stderr.contains("warning"), "{ts}: {}", out.stderr);
    }
    let ts: Vec<String> = sc.records().iter().map(|r| r["ts"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        ts,
        [
            "2026-03-29T01:00:00.000Z",
            "2026-10-25T00:30:00.000Z",
            "2026-03-29T01:30:00.000Z",
            "2026-10-25T01:30:00.000Z",
            "2026-03-28T23:00:00.000Z"
        ]
    );
    // The window flags read local times the same way, and say so the same way.
    sc.cmd("tt-sum")
        .args(["--since", "2026-03-29 02:15", "--today", "2026-10-25T02:45"])
        .succeeds()
        .stderr_has("tt-sum: warning: \"2026-03-29 02:15\" does not exist in Europe/Berlin")
        .stderr_has("tt-sum: warning: \"2026-10-25T02:45\" occurs twice in Europe/Berlin");
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "1", "1", "--at", "2026-03-29T02:30"])
        .succeeds()
        .stderr_has("daylight-saving gap");
}

/// Item 8: `--config /dev/zero` was read until memory ran out, and a FIFO as config hung. A config is a regular
/// file of at most 16 MiB: a device, FIFO or directory is refused at once (before reading; a FIFO without a
/// writer does not block the open), a larger file is an error naming it. `/dev/null` stays an empty config.
#[test]
fn config_reads_are_bounded_and_refuse_what_is_not_a_file() {
    let sc = Scenario::new();
    let fifo = mkfifo(&sc, "cfg.fifo");
    sc.write("big.toml", vec![b'#'; 16 * 1024 * 1024 + 1]);
    std::fs::create_dir(sc.path().join("dir.toml")).unwrap();
    for (path, says) in [
        ("/dev/zero".into(), "is a device, not a regular file"),
        (fifo.display().to_string(), "is a FIFO (a pipe), not a regular file"),
        ("big.toml".into(), "big.toml: is larger than 16 MiB"),
        ("dir.toml".into(), "dir.toml: is a directory"),
    ] {
        for via_env in [false, true] {
            let mut c = sc.cmd("tt-sum").cmd;
            if via_env {
                c.env("TT_CONFIG", &path);
            } else {
                c.args(["--config", &path]);
            }
            let (code, err) = run_within(c, 20).unwrap_or_else(|| panic!("config {path} was read without end"));
            assert_eq!(code, 2, "{path}: {err}");
            assert!(err.starts_with("tt-sum: error: config ") && err.contains(says), "{path}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
    // Exactly 16 MiB of comments is still a config.
    sc.write("edge.toml", vec![b'#'; 16 * 1024 * 1024]);
    sc.cmd("tt-sum").args(["--config", "edge.toml"]).succeeds();
    sc.cmd("tt-sum").args(["--config", "/dev/null"]).succeeds();
}

/// Item 8: `--estimate-from /dev/zero` was read without bound. A prompt is read up to 16 MiB; more is an error
/// naming the file, from a file and from stdin. A FIFO stays allowed (`<(…)`), as it does for the log.
#[test]
fn estimate_reads_are_bounded_and_fifos_still_work() {
    let sc = Scenario::new();
    let mut c = sc.cmd("tt-log").cmd;
    c.args(["A", "sonnet-4.5", "--output", "0", "--estimate-from", "/dev/zero"]);
    let (code, err) = run_within(c, 20).expect("--estimate-from /dev/zero was read without end");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--estimate-from /dev/zero: larger than 16 MiB"), "{err}");
    sc.write("big.txt", vec![b'a'; 16 * 1024 * 1024 + 1]);
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "--output", "0", "--estimate-from", "big.txt"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("--estimate-from big.txt: larger than 16 MiB");
    sc.cmd("tt-log")
        .args(["A", "sonnet-4.5", "--output", "0", "--estimate-from", "-"])
        .pipe_in(vec![b'a'; 16 * 1024 * 1024 + 1])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("--estimate-from <stdin>: larger than 16 MiB");
    assert_eq!(sc.log(), "");
    // 16 MiB exactly is a (large) prompt: 4Mi tokens at 4 characters a token.
    sc.write("edge.txt", vec![b'a'; 16 * 1024 * 1024]);
    sc.cmd("tt-log").args(["A", "sonnet-4.5", "--output", "0", "--estimate-from", "edge.txt"]).succeeds();
    assert_eq!(sc.records()[0]["input_tokens"], 4 * 1024 * 1024);
    // Process substitution: a FIFO for the prompt, and for the log a reader reads.
    sc.bash("tt-log A sonnet-4.5 --output 0 --estimate-from <(printf 'abcdefgh')").succeeds();
    assert_eq!(sc.records()[1]["input_tokens"], 2);
    let out = sc.bash("tt-sum --format jsonl --log <(cat \"$TT_LOG\")").succeeds();
    assert_eq!(total(&out)["records"].as_u64(), Some(2));
}

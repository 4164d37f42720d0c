//! Readers under hostile or unlucky input (issue 11): a record being appended while a tool reads, lines without
//! end, repeated keys, token sums past 64 bits. Every test runs the real binaries.
mod common;
use common::*;

fn rec(ts: &str, agent: &str, input: u64, output: u64, extra: &str) -> String {
    format!(
        "{{\"v\":1,\"id\":\"{ts}{agent}\",\"ts\":\"{ts}\",\"agent\":\"{agent}\",\"model\":\"sonnet-4.5\",\"input_tokens\":{input},\"output_tokens\":{output},\"cost_usd\":0.5{extra}}}\n"
    )
}

/// Two whole records: 1000 + 2000 input tokens, 10 + 20 output.
fn two() -> String {
    [rec("2026-11-20T10:00:00Z", "ATLAS", 1000, 10, ""), rec("2026-11-21T10:00:00Z", "BOLT", 2000, 20, "")].concat()
}

/// A record longer than a page, cut part-way through (as a reader sees a write in progress).
fn half_written() -> String {
    let notes = "n".repeat(10_000);
    let whole = rec("2026-11-22T10:00:00Z", "CARA", 5000, 50, &format!(",\"notes\":\"{notes}\""));
    whole[..6000].to_string()
}

fn total(out: &Out) -> serde_json::Value {
    out.jsonl().last().unwrap().clone()
}

/// Issue 11 item 4: a last line without its newline that is not yet whole JSON is a record still being written:
/// every reader leaves it out and succeeds with the whole records, from the log, a file argument and stdin.
#[test]
fn a_record_being_appended_is_left_out_by_every_reader() {
    let sc = Scenario::new();
    let text = two() + &half_written();
    sc.write("usage.jsonl", &text);
    for args in [vec![], vec!["usage.jsonl"]] {
        let t = total(&sc.cmd("tt-sum").args(&args).args(["--format", "jsonl"]).succeeds());
        assert_eq!((t["records"].as_u64(), t["input_tokens"].as_u64()), (Some(2), Some(3000)), "{args:?}");
    }
    let t = total(&sc.cmd("tt-sum").args(["--format", "jsonl", "-"]).pipe_in(&text).succeeds());
    assert_eq!(t["records"].as_u64(), Some(2));
    // A split between reader threads (a file over 8 MiB) ends the same way.
    let big: String = (0..40_000).map(|i| rec(&format!("2026-11-20T10:00:{:02}Z", i % 60), "A", 1, 1, "")).collect();
    sc.write("big.jsonl", big + &half_written());
    let t = total(&sc.cmd("tt-sum").args(["--format", "jsonl", "big.jsonl"]).succeeds());
    assert_eq!(t["records"].as_u64(), Some(40_000));

    let csv = sc.cmd("tt-export").args(["--format", "csv"]).succeeds().stdout;
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let priced = sc.cmd("tt-price").arg("usage.jsonl").succeeds().stdout;
    assert_eq!(priced.lines().count(), 2, "{priced}");
    let out = sc.cmd("tt-budget").args(["--limit-tokens", "100000", "--today", "2026-11-22"]).succeeds();
    assert_eq!(out.jsonl()[0]["spent_tokens"].as_u64(), Some(3030), "{}", out.stdout);
    sc.cmd("tt-optimize").args(["--format", "jsonl", "usage.jsonl"]).succeeds();
    sc.cmd("tt-price").args(["--missing"]).succeeds();
}

/// A whole record that only lacks its newline counts everywhere; whole JSON that is not a record is still an
/// error (it is not being written: it is wrong).
#[test]
fn a_whole_last_record_without_its_newline_counts_and_a_bad_one_is_an_error() {
    let sc = Scenario::new();
    let mut text = two();
    text.pop();
    sc.write("usage.jsonl", &text);
    let t = total(&sc.cmd("tt-sum").args(["--format", "jsonl"]).succeeds());
    assert_eq!((t["records"].as_u64(), t["input_tokens"].as_u64()), (Some(2), Some(3000)));
    assert_eq!(sc.cmd("tt-export").args(["--format", "csv"]).succeeds().stdout.lines().count(), 3);
    assert_eq!(sc.cmd("tt-price").arg("usage.jsonl").succeeds().stdout.lines().count(), 2);

    sc.write("bad.jsonl", two() + r#"{"v":1,"id":"x"}"#);
    for tool in ["tt-sum", "tt-export", "tt-price"] {
        sc.cmd(tool).arg("bad.jsonl").fails_with(2).one_error_line(tool).stderr_has("bad.jsonl:3: missing field `ts`");
    }
}

/// Issue 11 item 8: a line is at most 16 MiB; `/dev/zero` as the log is an error at once, not an abort.
#[test]
fn lines_longer_than_16_mib_are_errors_not_out_of_memory() {
    let sc = Scenario::new();
    for tool in ["tt-sum", "tt-export", "tt-optimize"] {
        sc.bash(&format!("timeout 60 {tool} --log /dev/zero"))
            .fails_with(2)
            .one_error_line(tool)
            .stderr_has("/dev/zero:1: line longer than 16 MiB");
    }
    sc.bash("timeout 60 tt-price /dev/zero").fails_with(2).stderr_has("/dev/zero:1: line longer than 16 MiB");
    // A device cannot be repaired: its error has no `tt-log --repair` hint (a regular file's has, below).
    sc.bash("timeout 60 tt-sum /dev/zero")
        .fails_with(2)
        .stderr_is("tt-sum: error: /dev/zero:1: line longer than 16 MiB\n");
    // After a good line, in a file and on stdin; a line of exactly 16 MiB is read (and refused as JSON).
    let mut long = two().into_bytes();
    long.extend(std::iter::repeat_n(b' ', 16 * 1024 * 1024 + 1));
    long.push(b'\n');
    sc.write("long.jsonl", &long);
    sc.cmd("tt-sum")
        .arg("long.jsonl")
        .fails_with(2)
        .stderr_is("tt-sum: error: long.jsonl:3: line longer than 16 MiB (tt-log --repair moves bad lines aside)\n");
    sc.cmd("tt-export").arg("long.jsonl").fails_with(2).stderr_has("long.jsonl:3: line longer than 16 MiB");
    sc.cmd("tt-sum").arg("-").pipe_in(&long).fails_with(2).stderr_has("<stdin>:3: line longer than 16 MiB");
    let mut exact = vec![b'x'; 16 * 1024 * 1024];
    exact.push(b'\n');
    sc.write("exact.jsonl", &exact);
    sc.cmd("tt-sum").arg("exact.jsonl").fails_with(2).stderr_has("exact.jsonl:1: invalid JSON");
    sc.cmd("tt-export").arg("exact.jsonl").fails_with(2).stderr_has("exact.jsonl:1: invalid JSON");
}

/// Issue 11 item 9: a key given twice is refused by both parsers, with one message, so every tool agrees.
#[test]
fn repeated_keys_are_refused_by_every_reader_alike() {
    let sc = Scenario::new();
    let line = r#"{"v":1,"id":"x","ts":"2026-11-20T10:00:00Z","agent":"A","model":"sonnet-4.5","input_tokens":"x","input_tokens":3500,"output_tokens":1}"#;
    sc.write("dup.jsonl", format!("{}{line}\n", two()));
    for tool in ["tt-sum", "tt-price", "tt-optimize", "tt-export"] {
        sc.cmd(tool)
            .arg("dup.jsonl")
            .fails_with(2)
            .one_error_line(tool)
            .stderr_has("dup.jsonl:3: field `input_tokens`: repeated");
    }
    sc.cmd("tt-budget")
        .args(["--limit-tokens", "100", "dup.jsonl"])
        .fails_with(2)
        .stderr_has("dup.jsonl:3: field `input_tokens`: repeated");
    // Compact or spaced, a schema key or not, spelled with an escape or not.
    for line in [
        r#"{"v":1,"id":"x","ts":"2026-11-20T10:00:00Z","agent":"A","model":"m","input_tokens":1,"output_tokens":1,"agent":"B"}"#,
        r#"{ "v":1, "id":"x", "ts":"2026-11-20T10:00:00Z", "agent":"A", "model":"m", "input_tokens":1, "output_tokens":1, "z":1, "z":2 }"#,
        r#"{"v":1,"id":"x","ts":"2026-11-20T10:00:00Z","agent":"A","model":"m","input_tokens":1,"output_tokens":1,"\u0076":1}"#,
    ] {
        sc.write("dup.jsonl", format!("{line}\n"));
        let e = sc.cmd("tt-sum").arg("dup.jsonl").fails_with(2).stderr;
        let e2 = sc.cmd("tt-price").arg("dup.jsonl").fails_with(2).stderr;
        assert!(e.contains(": repeated") && e["tt-sum".len()..] == e2["tt-price".len()..], "{e} / {e2}");
    }
    // Inside `tags` a repeated key is kept as before: the last one counts, for both parsers.
    sc.write(
        "tags.jsonl",
        rec("2026-11-20T10:00:00Z", "A", 1, 1, r#","tags":{"team":"a","team":"b"}"#)
            + &rec("2026-11-21T10:00:00Z", "B", 1, 1, r#", "tags" : {"team":"a", "team":"b"}"#),
    );
    let rows = sc.cmd("tt-sum").args(["--by", "tag:team", "--format", "jsonl", "tags.jsonl"]).succeeds().jsonl();
    assert_eq!(rows[0]["group"]["tag:team"], "b", "{rows:?}");
    assert_eq!(rows[0]["records"], 2);
    sc.cmd("tt-export").args(["--format", "csv", "tags.jsonl"]).succeeds().stdout_has(r#"{""team"":""b""}"#);
}

/// Issue 11 item 10: CSV's `total_tokens` is the exact sum, also past 2^64 − 1 (it used to saturate there).
#[test]
fn csv_total_tokens_is_exact_past_64_bits() {
    let sc = Scenario::new();
    sc.write("usage.jsonl", rec("2026-11-20T10:00:00Z", "A", u64::MAX, 2, r#","cache_read_tokens":3"#));
    let csv = sc.cmd("tt-export").args(["--format", "csv"]).succeeds().stdout;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "total_tokens").unwrap();
    assert_eq!(row[at], "18446744073709551620", "{csv}");
}

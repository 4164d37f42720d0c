//! `tt-log --import FILE…`: merging tt logs and bundles between machines — both ways, idempotent, validated
//! before anything is written, tamper-evident bundles, dry run, import history.
mod common;
use common::*;

/// Three records logged on a laptop.
const LAPTOP: &str = r#"{"v":1,"id":"019ab000-0000-7000-8000-000000000001","ts":"2026-11-16T09:00:00.000Z","agent":"ATLAS","model":"sonnet-4.5","input_tokens":50000,"output_tokens":15000,"host":"laptop","source":"cli","cost_usd":0.375,"price":"claude-sonnet-4-5"}
{"v":1,"id":"019ab000-0000-7000-8000-000000000002","ts":"2026-11-17T10:30:00.000Z","agent":"ATLAS","model":"opus-4.5","input_tokens":10000,"output_tokens":2000,"host":"laptop","source":"cli","cost_usd":0.1,"price":"claude-opus-4-5"}
{"v":1,"id":"019ab000-0000-7000-8000-000000000003","ts":"2026-11-18T11:00:00.000Z","agent":"reviewer","model":"gpt-4o","input_tokens":12000,"output_tokens":800,"cache_read_tokens":4000,"host":"laptop","source":"openai","cost_usd":0.043,"price":"gpt-4o"}
"#;

/// Two records on a desktop: one of them came over from the laptop before (same id).
const DESKTOP: &str = r#"{"v":1,"id":"019ab000-0000-7000-8000-000000000003","ts":"2026-11-18T11:00:00.000Z","agent":"reviewer","model":"gpt-4o","input_tokens":12000,"output_tokens":800,"cache_read_tokens":4000,"host":"laptop","source":"openai","cost_usd":0.043,"price":"gpt-4o"}
{"v":1,"id":"019ab000-0000-7000-8000-000000000004","ts":"2026-11-19T08:15:00.000Z","agent":"builder","model":"haiku-4.5","input_tokens":2000,"output_tokens":500,"host":"desktop","source":"cli","cost_usd":0.0045,"price":"claude-haiku-4-5"}
"#;

fn ids(log: &str) -> Vec<String> {
    let mut v: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn two_machines_merge_both_ways_without_duplicates() {
    let sc = Scenario::new();
    sc.write("laptop.jsonl", LAPTOP);
    sc.write("desktop.jsonl", DESKTOP);
    // Desktop pulls the laptop's log.
    sc.cmd("tt-log").args(["--log", "desktop.jsonl", "--import", "laptop.jsonl"]).succeeds().stdout_is("").stderr_is(
        "laptop.jsonl: log: 3 records: 2 new, 1 already present, 0 invalid\nimported 2 records into desktop.jsonl\n",
    );
    // Laptop pulls the desktop's (now merged) log.
    sc.cmd("tt-log").args(["--log", "laptop.jsonl", "--import", "desktop.jsonl"]).succeeds().stderr_is(
        "desktop.jsonl: log: 4 records: 1 new, 3 already present, 0 invalid\nimported 1 record into laptop.jsonl\n",
    );
    let laptop = sc.read("laptop.jsonl");
    let desktop = sc.read("desktop.jsonl");
    assert_eq!(ids(&laptop).len(), 4);
    assert_eq!(ids(&laptop), ids(&desktop));
    // New records are appended after the existing ones, exactly as they were.
    assert_eq!(desktop, format!("{DESKTOP}{}\n{}\n", LAPTOP.lines().next().unwrap(), LAPTOP.lines().nth(1).unwrap()));
    // And once more each way: nothing changes.
    for (into, from) in [("laptop.jsonl", "desktop.jsonl"), ("desktop.jsonl", "laptop.jsonl")] {
        sc.cmd("tt-log").args(["--log", into, "--import", from]).succeeds().stderr_has(": 0 new, 4 already present");
    }
    assert_eq!(sc.read("laptop.jsonl"), laptop);
    assert_eq!(sc.read("desktop.jsonl"), desktop);
}

#[test]
fn importing_the_same_file_twice_adds_nothing_the_second_time() {
    let sc = Scenario::new();
    sc.write("laptop.jsonl", LAPTOP);
    sc.cmd("tt-log").args(["--import", "laptop.jsonl"]).succeeds();
    let once = sc.log();
    assert_eq!(once, LAPTOP);
    sc.cmd("tt-log").args(["--import", "laptop.jsonl", "laptop.jsonl"]).succeeds().stderr_is(&format!(
        "laptop.jsonl: log: 3 records: 0 new, 3 already present, 0 invalid\n\
             laptop.jsonl: log: 3 records: 0 new, 3 already present, 0 invalid\n\
             imported 0 records into {}\n",
        sc.log_path().display()
    ));
    assert_eq!(sc.log(), once);
    // Ids repeated inside one import count once.
    let sc = Scenario::new();
    sc.write("twice.jsonl", format!("{LAPTOP}{LAPTOP}"));
    sc.cmd("tt-log").args(["--import", "twice.jsonl"]).succeeds().stderr_has("6 records: 3 new, 3 already present");
    assert_eq!(sc.log(), LAPTOP);
}

#[test]
fn an_invalid_line_anywhere_refuses_the_whole_import() {
    let sc = Scenario::new();
    sc.write("desktop.jsonl", DESKTOP);
    sc.cmd("tt-log").args(["--import", "desktop.jsonl"]).succeeds();
    let before = sc.log();
    let mut lines: Vec<&str> = LAPTOP.lines().collect();
    lines.insert(
        1,
        r#"{"v":1,"id":"bad","ts":"2026-13-01T00:00:00Z","agent":"A","model":"m","input_tokens":1,"output_tokens":1}"#,
    );
    lines.push(r#"{"kind":"summary","group":{},"records":3}"#);
    lines.push(r#"{"v":1,"id":"torn","ts":"2026-11-1"#);
    sc.write("laptop.jsonl", lines.join("\n"));
    let out = sc.cmd("tt-log").args(["--import", "desktop.jsonl", "laptop.jsonl"]).fails_with(2);
    let err: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(err[0], "desktop.jsonl: log: 2 records: 0 new, 2 already present, 0 invalid");
    assert_eq!(err[1], "laptop.jsonl: log: 6 records: 2 new, 1 already present, 3 invalid");
    assert!(err[2].starts_with("tt-log: error: laptop.jsonl:2: field `ts`: not an RFC 3339 timestamp"), "{}", err[2]);
    assert_eq!(
        err[3],
        "tt-log: error: laptop.jsonl:5: a tt-sum summary row, not a usage record (import logs or bundles)"
    );
    assert!(err[4].starts_with("tt-log: error: laptop.jsonl:6: invalid JSON: EOF while parsing"), "{}", err[4]);
    assert_eq!(err[5], "tt-log: error: nothing imported: 3 invalid lines (the log is unchanged)");
    assert_eq!(err.len(), 6);
    assert_eq!(sc.log(), before);
    // Nothing was imported, so the history only holds the first, good import.
    assert_eq!(sc.read("usage.jsonl.tt-history.jsonl").lines().count(), 1);
}

#[test]
fn dry_run_shows_what_would_be_added_and_writes_nothing() {
    let sc = Scenario::new();
    sc.write("desktop.jsonl", DESKTOP);
    sc.write("laptop.jsonl", LAPTOP);
    sc.cmd("tt-log").args(["--import", "desktop.jsonl"]).succeeds();
    let before = sc.log();
    let history = sc.read("usage.jsonl.tt-history.jsonl");
    let new: String = LAPTOP.lines().take(2).map(|l| format!("{l}\n")).collect();
    sc.cmd("tt-log").args(["--import", "laptop.jsonl", "--dry-run"]).succeeds().stdout_is(&new).stderr_is(&format!(
        "laptop.jsonl: log: 3 records: 2 new, 1 already present, 0 invalid\n\
             would import 2 records into {} (dry run: nothing written)\n",
        sc.log_path().display()
    ));
    assert_eq!(sc.log(), before);
    assert_eq!(sc.read("usage.jsonl.tt-history.jsonl"), history);
    // Files after a flag are files too (not the seed form's AGENT MODEL …).
    sc.write("desktop2.jsonl", DESKTOP);
    sc.cmd("tt-log")
        .args(["--import", "desktop.jsonl", "--dry-run", "laptop.jsonl", "desktop2.jsonl"])
        .succeeds()
        .stdout_is(&new)
        .stderr_has("laptop.jsonl: log: 3 records: 2 new")
        .stderr_has("desktop2.jsonl: log: 2 records: 0 new, 2 already present");
    // A dry run into a log that does not exist yet does not create it.
    sc.cmd("tt-log").args(["--log", "new/usage.jsonl", "--import", "laptop.jsonl", "--dry-run", "-q"]).succeeds();
    assert!(!sc.path().join("new").exists());
}

#[test]
fn import_history_says_when_from_where_and_how_many() {
    let sc = Scenario::new();
    let laptop = sc.write("laptop.jsonl", LAPTOP);
    sc.cmd("tt-log").args(["--import", "laptop.jsonl"]).succeeds();
    sc.cmd("tt-log").args(["--import", "-"]).pipe_in(DESKTOP).succeeds();
    let h: Vec<serde_json::Value> =
        sc.read("usage.jsonl.tt-history.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0]["kind"], "import");
    assert_eq!(h[0]["from"], std::fs::canonicalize(laptop).unwrap().display().to_string());
    assert_eq!(h[0]["format"], "log");
    assert_eq!(
        (h[0]["records"].as_u64(), h[0]["added"].as_u64(), h[0]["present"].as_u64()),
        (Some(3), Some(3), Some(0))
    );
    assert_eq!(h[0]["by"], "tester");
    assert!(h[0]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(h[1]["from"], "<stdin>");
    assert_eq!((h[1]["added"].as_u64(), h[1]["present"].as_u64()), (Some(1), Some(1)));
}

#[test]
fn bundles_carry_metadata_and_merge_both_ways() {
    let sc = Scenario::new();
    sc.write("laptop.jsonl", LAPTOP);
    sc.write("desktop.jsonl", DESKTOP);
    sc.cmd("tt-export")
        .args(["--log", "laptop.jsonl", "--bundle", "-o", "laptop.ttb"])
        .env("SOURCE_DATE_EPOCH", "1795420800")
        .succeeds()
        .stdout_is("");
    sc.cmd("tt-export").args(["--log", "desktop.jsonl", "--bundle", "-o", "desktop.ttb"]).succeeds();
    sc.cmd("tt-log")
        .args(["--log", "desktop.jsonl", "--import", "laptop.ttb"])
        .succeeds()
        .stderr_is(&format!(
            "laptop.ttb: bundle from tester@{} exported 2026-11-23T08:00:00Z: 3 records: 2 new, 1 already present, 0 invalid\n\
             imported 2 records into desktop.jsonl\n",
            host()
        ));
    sc.cmd("tt-log")
        .args(["--log", "laptop.jsonl", "--import", "desktop.ttb"])
        .succeeds()
        .stderr_has("1 new, 1 already present");
    assert_eq!(ids(&sc.read("laptop.jsonl")), ids(&sc.read("desktop.jsonl")));
    // The history remembers which bundle it was.
    let h: serde_json::Value =
        serde_json::from_str(sc.read("desktop.jsonl.tt-history.jsonl").lines().next().unwrap()).unwrap();
    assert_eq!(h["format"], "bundle");
    assert_eq!(h["bundle"]["exported_at"], "2026-11-23T08:00:00Z");
    assert!(h["bundle"]["checksum"].as_str().unwrap().starts_with("sha256:"));
}

#[test]
fn a_tampered_bundle_is_refused() {
    let sc = Scenario::new();
    sc.write("laptop.jsonl", LAPTOP);
    sc.cmd("tt-export").args(["--log", "laptop.jsonl", "--bundle", "-o", "laptop.ttb"]).succeeds();
    let bundle = sc.read("laptop.ttb");
    // The checksum is what `tail -n +2 | sha256sum` says.
    let sum = std::process::Command::new("sh")
        .arg("-c")
        .arg("tail -n +2 laptop.ttb | sha256sum")
        .current_dir(sc.path())
        .output()
        .unwrap();
    let sum = String::from_utf8(sum.stdout).unwrap();
    assert!(bundle.lines().next().unwrap().contains(&format!("\"checksum\":\"sha256:{}\"", &sum[..64])));
    // Only the refusal is reported: no "N new" counts for records that cannot be trusted. The record count is
    // checked before the checksum, so a bundle cut short is told as truncated, not as changed.
    let cut = bundle.len() - 40;
    for (name, tampered, why) in [
        (
            "edited.ttb",
            bundle.replace("\"output_tokens\":15000", "\"output_tokens\":1500"),
            "bundle checksum mismatch: the header says sha256:".to_string(),
        ),
        (
            "dropped.ttb",
            bundle.lines().take(3).map(|l| format!("{l}\n")).collect::<String>(),
            "the bundle is truncated: the header says 3 records, the file holds 2 records (an interrupted copy?)"
                .into(),
        ),
        (
            "torn.ttb",
            bundle[..cut].to_string(),
            "the bundle is truncated: the header says 3 records, the file holds 2 records and an incomplete last line \
             (an interrupted copy?)"
                .into(),
        ),
        (
            "added.ttb",
            format!("{bundle}{}", DESKTOP.lines().nth(1).unwrap()),
            "the bundle header says 3 records, the file holds 4 records: lines were added after export".into(),
        ),
    ] {
        sc.write(name, tampered);
        for dry in [false, true] {
            let out = sc.cmd("tt-log").args(["--import", name]).args(dry.then_some("--dry-run")).fails_with(2);
            let lines: Vec<&str> = out.stderr.lines().collect();
            assert_eq!(lines.len(), 2, "{}", out.stderr);
            assert!(lines[0].starts_with(&format!("tt-log: error: {name}: {why}")), "{}", out.stderr);
            assert_eq!(lines[1], "tt-log: error: nothing imported: 1 damaged bundle (the log is unchanged)");
            assert_eq!(out.stdout, "");
            assert_eq!(sc.log(), "");
        }
    }
    sc.cmd("tt-log").args(["--import", "laptop.ttb"]).succeeds();
    assert_eq!(sc.log(), LAPTOP);
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string()
}

/// Two machines imported the same Claude Code request but kept different streamed copies of it, so their
/// derived ids share the hash bits and differ only in the timestamp bits: a merge must see one request.
#[test]
fn imported_copies_with_different_timestamps_are_one_record() {
    let sc = Scenario::new();
    let a = r#"{"v":1,"id":"019ab000-0000-7abc-8def-0123456789ab","ts":"2026-11-16T09:00:00.000Z","agent":"claude-code","model":"sonnet-4.5","input_tokens":10,"output_tokens":5,"source":"claude-code"}
"#;
    let b = r#"{"v":1,"id":"019ab000-0007-7abc-8def-0123456789ab","ts":"2026-11-16T09:00:00.007Z","agent":"claude-code","model":"sonnet-4.5","input_tokens":10,"output_tokens":9,"source":"claude-code"}
"#;
    sc.write("a.jsonl", a);
    sc.write("b.jsonl", b);
    sc.cmd("tt-log")
        .args(["--log", "a.jsonl", "--import", "b.jsonl"])
        .succeeds()
        .stderr_is("b.jsonl: log: 1 record: 0 new, 1 already present, 0 invalid\nimported 0 records into a.jsonl\n");
    assert_eq!(sc.read("a.jsonl"), a);
}

#[test]
fn records_with_implausible_token_counts_are_refused() {
    let sc = Scenario::new();
    let rec = |n: u64, input: &str, output: &str, cache: &str| {
        format!(
            r#"{{"v":1,"id":"019ab000-0000-7000-8000-00000000010{n}","ts":"2026-11-16T09:00:00.000Z","agent":"ATLAS","model":"sonnet-4.5","input_tokens":{input},"output_tokens":{output},"cache_read_tokens":{cache}}}
"#
        )
    };
    sc.write("laptop.jsonl", LAPTOP);
    sc.write(
        "bad.jsonl",
        [rec(1, "18446744073709551615", "18446744073709551615", "0"), rec(2, "1000", "10", "0")].concat(),
    );
    // Above the receiving config's max_tokens (the limit tt-log applies to everything it appends): the line is
    // invalid and nothing is imported — a log that sums to more than 2^64 tokens would break every total.
    let out = sc.cmd("tt-log").args(["--import", "laptop.jsonl", "bad.jsonl"]).fails_with(2);
    assert_eq!(
        out.stderr.lines().collect::<Vec<_>>(),
        [
            "laptop.jsonl: log: 3 records: 3 new, 0 already present, 0 invalid",
            "bad.jsonl: log: 2 records: 1 new, 0 already present, 1 invalid",
            "tt-log: error: bad.jsonl:1: field `input_tokens`: 18,446,744,073,709,551,615 exceeds the maximum of \
             100,000,000 per record (raise `max_tokens` in the config if this is real)",
            "tt-log: error: nothing imported: 1 invalid line (the log is unchanged)",
        ]
    );
    assert_eq!(sc.log(), "");
    // max_tokens itself is bounded (10^12), so counts that would add up past 2^64 cannot be configured in.
    sc.write("tt.toml", "max_tokens = 9_000_000_000_000_000_000\n");
    sc.cmd("tt-log").args(["--import", "laptop.jsonl"]).fails_with(2).one_error_line("tt-log").stderr_has("max_tokens");
    assert_eq!(sc.log(), "");
    // A plausible line under a raised limit goes in.
    sc.write("tt.toml", "max_tokens = 1_000_000_000_000\n");
    let big = "900000000000";
    sc.write("ok.jsonl", rec(4, big, "1", "0"));
    sc.cmd("tt-log").args(["--import", "ok.jsonl"]).succeeds().stderr_has("1 new");
}

#[test]
fn a_bundle_with_an_unreadable_header_is_a_bad_bundle() {
    let sc = Scenario::new();
    sc.write("laptop.jsonl", LAPTOP);
    sc.cmd("tt-export").args(["--log", "laptop.jsonl", "--bundle", "-o", "laptop.ttb"]).succeeds();
    let bundle = sc.read("laptop.ttb");
    for (name, header_edit, why) in [
        (
            "v2.ttb",
            ("\"bundle_version\":1", "\"bundle_version\":2"),
            "bundle version 2 is not supported (this tt reads version 1)",
        ),
        ("md5.ttb", ("\"checksum\":\"sha256:", "\"checksum\":\"md5:"), "bundle header: unsupported checksum \"md5:"),
    ] {
        let (first, rest) = bundle.split_once('\n').unwrap();
        sc.write(name, format!("{}\n{rest}", first.replace(header_edit.0, header_edit.1)));
        let out = sc.cmd("tt-log").args(["--import", name]).fails_with(2);
        let lines: Vec<&str> = out.stderr.lines().collect();
        // Only the refusal: no counts of records from a bundle that cannot be read.
        assert_eq!(lines.len(), 2, "{}", out.stderr);
        assert!(lines[0].starts_with(&format!("tt-log: error: {name}: bad bundle header: {why}")), "{}", lines[0]);
        assert_eq!(lines[1], "tt-log: error: nothing imported: 1 damaged bundle (the log is unchanged)");
        assert_eq!(sc.log(), "");
    }
}

#[test]
fn a_mistyped_source_is_one_clear_error() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["--import", "claude"])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_is("tt-log: error: --import claude: no such file, and not a transcript source (claude-code, codex)\n");
    // A missing file is named as such.
    sc.cmd("tt-log").args(["--import", "laptop.ttb"]).fails_with(2).one_error_line("tt-log").stderr_has("laptop.ttb");
    assert!(!sc.log_path().exists());
}

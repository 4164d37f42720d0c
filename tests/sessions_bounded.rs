//! Distinct sessions are counted in bounded memory: exactly up to 65,536 per group, then as a stated estimate
//! (issue 11, item 7). A log where every record has its own session once kept every session name of every group.
mod common;
use common::*;

#[test]
fn many_sessions_are_estimated_and_say_so_few_stay_exact() {
    let sc = Scenario::new();
    let n = 70_000;
    let mut log = String::with_capacity(n * 160);
    for i in 0..n {
        log.push_str(&format!(
            "{{\"v\":1,\"id\":\"a{i}\",\"ts\":\"2026-11-02T10:00:00Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1,\"session\":\"s-{i}\"}}\n"
        ));
    }
    for (i, s) in ["x", "y", "x"].iter().enumerate() {
        log.push_str(&format!(
            "{{\"v\":1,\"id\":\"b{i}\",\"ts\":\"2026-11-02T10:00:00Z\",\"agent\":\"B\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1,\"session\":\"{s}\"}}\n"
        ));
    }
    let f = sc.write("u.jsonl", &log);
    let rows = sc.cmd("tt-sum").arg(&f).args(["--by", "agent", "--format", "jsonl"]).succeeds().jsonl();
    let a = rows.iter().find(|r| r["group"]["agent"] == "A").unwrap();
    let b = rows.iter().find(|r| r["group"]["agent"] == "B").unwrap();
    let est = a["sessions"].as_u64().unwrap() as f64;
    assert!((est - n as f64).abs() / (n as f64) < 0.05, "{est}");
    assert_eq!(a["sessions_estimated"], true);
    assert_eq!((b["sessions"].as_u64(), b.get("sessions_estimated")), (Some(2), None));
    // The total row unites both: an estimate too, and its records are exact.
    let total = rows.last().unwrap();
    assert_eq!((total["records"].as_u64(), total["sessions_estimated"].as_bool()), (Some(n as u64 + 3), Some(true)));
    // The table marks the estimate.
    let table = sc.cmd("tt-sum").arg(&f).args(["--by", "agent", "--format", "table"]).succeeds().stdout;
    assert!(table.lines().any(|l| l.starts_with("A ") && l.contains('≈')), "{table}");
    // Rows carrying the flag are still read by the tools that take rows.
    let jsonl = sc.cmd("tt-sum").arg(&f).args(["--format", "jsonl"]).succeeds().stdout;
    sc.cmd("tt-budget")
        .args(["--limit-tokens", "1000000", "--period", "total", "--format", "jsonl"])
        .pipe_in(&jsonl)
        .succeeds();
}

/// tt-export's json document keeps its records in a spool file, not in memory: the document is the same
/// whichever way it is built (checked here on a log of distinct sessions: every record present, in order, and
/// the totals' sessions estimated).
#[test]
fn tt_export_json_spools_its_records() {
    let sc = Scenario::new();
    let mut log = String::new();
    for i in 0..3000 {
        log.push_str(&format!(
            "{{\"v\":1,\"id\":\"r{i}\",\"ts\":\"2026-11-02T10:00:00Z\",\"agent\":\"A\",\"model\":\"sonnet-4.5\",\"input_tokens\":1,\"output_tokens\":1,\"session\":\"s{i}\"}}\n"
        ));
    }
    let f = sc.write("u.jsonl", &log);
    let out = sc.cmd("tt-export").arg(&f).args(["--format", "json"]).succeeds().stdout;
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let records = doc["records"].as_array().unwrap();
    assert_eq!(records.len(), 3000);
    assert_eq!((records[0]["id"].as_str(), records[2999]["id"].as_str()), (Some("r0"), Some("r2999")));
    assert_eq!((doc["totals"]["records"].as_u64(), doc["totals"]["sessions"].as_u64()), (Some(3000), Some(3000)));
    // No records: an empty array.
    let empty = sc.write("e.jsonl", "");
    let out = sc.cmd("tt-export").arg(&empty).args(["--format", "json"]).succeeds().stdout;
    assert!(out.ends_with(",\n  \"records\": []\n}\n"), "{out}");
}

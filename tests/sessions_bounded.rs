//! Distinct sessions are counted in bounded memory: exactly up to 65,536 per group, then as a stated estimate
//! (issue 11, item 7). A log where every record has its own session once kept every session name of every group.
//! tt-optimize needs every session's cost and requests, so it keeps them all, exactly, in about 100 bytes each.
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

/// `n` records of agent A on Sonnet 4.5, each in its own session `s00000`, `s00001`, …, one a second apart:
/// 2,000 input tokens and no output ($0.006 each), except every 700th record, which also writes 2,000 output
/// tokens ($0.006 + $0.03 = $0.036). Also `more`: two more requests of session `s00007`, a minute and two
/// after its first, of 1,500 input tokens ($0.0045 each).
fn single_record_sessions(n: u64) -> (String, String) {
    let line = |id: &str, ts: u64, session: &str, input: u64, output: u64| {
        format!(
            "{{\"v\":1,\"id\":\"{id}\",\"ts\":\"2026-11-02T{:02}:{:02}:{:02}Z\",\"agent\":\"A\",\"model\":\"sonnet-4.5\",\
             \"input_tokens\":{input},\"output_tokens\":{output},\"session\":\"{session}\"}}\n",
            ts / 3600 % 24,
            ts / 60 % 60,
            ts % 60
        )
    };
    let mut log = String::with_capacity(n as usize * 150);
    for i in 0..n {
        log.push_str(&line(&format!("r{i:05}"), i, &format!("s{i:05}"), 2000, if i % 700 == 0 { 2000 } else { 0 }));
    }
    let more = line("r70000", 67, "s00007", 1500, 0) + &line("r70001", 127, "s00007", 1500, 0);
    (log, more)
}

/// tt-optimize keeps what it needs of every session exactly, however many there are (issue 11, item 7): a
/// session's cost for the session outliers' percentile, its requests for caching, its name for the tasks.
/// 70,000 single-record sessions — more than tt-sum counts exactly — give the exact report, the same in any
/// order and however the input arrives (a file read by two threads, a pipe, a pipe named as a file); a
/// session seen once in one file and twice in another is one session of three requests.
#[test]
fn tt_optimize_reports_many_single_record_sessions_exactly() {
    let sc = Scenario::new();
    let (log, more) = single_record_sessions(70_000);
    sc.write("u.jsonl", &log);
    sc.write("more.jsonl", &more);
    // rightsize: every record but the 100 with output is small: 69,900 × $0.006 + 2 × $0.0045 = $419.409 on
    //   Sonnet, 69,900 × $0.002 + 2 × $0.0015 = $139.803 on Haiku; the ten largest savings ($0.004) by id.
    // outlier, session_outlier: median and p95 $0.006, threshold 3 × $0.006 = $0.018; the 100 at $0.036 are
    //   above it, $3.60 in all, $3.00 above the median (s00007, at $0.015, is not).
    // caching: s00007, 3 requests within 5 minutes, P = 1,500: 1,500 × (3 × (3 − 0.30) − (3.75 − 0.30)) / 10^6
    //   = 1,500 × 4.65 / 10^6 = $0.006975; its first record r00007 is found by the second pass.
    // efficiency: 70,000 tasks exactly; $419.409 + 100 × $0.036 = $423.009.
    // tasks: the five at $0.036, by name.
    let want = [
        r#"{"kind":"suggestion","rank":1,"type":"rightsize","saving_usd":279.606,"evidence":{"agent":"A","model":"claude-sonnet-4-5","suggested_model":"claude-haiku-4-5","records":69902,"cost_usd":419.409,"cost_at_suggested_usd":139.803,"rule":{"max_output_tokens":1000,"max_prompt_tokens":20000},"record_ids":["r00001","r00002","r00003","r00004","r00005","r00006","r00007","r00008","r00009","r00010"]},"message":"A used claude-sonnet-4-5 for 69,902 small requests (output ≤ 1,000 and prompt ≤ 20,000 tokens); on claude-haiku-4-5 they would have cost $139.80 instead of $419.41, $279.61 less"}"#,
        r#"{"kind":"suggestion","rank":2,"type":"outlier","saving_usd":3,"evidence":{"agent":"A","records":100,"cost_usd":3.6,"median_usd":0.006,"percentile":95,"percentile_usd":0.006,"threshold_usd":0.018,"percentiles_exact":false,"record_ids":["r00000","r00700","r01400","r02100","r02800","r03500","r04200","r04900","r05600","r06300"]},"message":"A: 100 records cost more than $0.0180 (max of p95 $0.0060 and 3× the median $0.0060), $3.60 in all; at the median they would have cost $3.00 less — look at what made them expensive"}"#,
        r#"{"kind":"suggestion","rank":3,"type":"session_outlier","saving_usd":3,"evidence":{"agent":"A","sessions":100,"cost_usd":3.6,"median_usd":0.006,"percentile":95,"percentile_usd":0.006,"threshold_usd":0.018,"session_ids":["s00000","s00700","s01400","s02100","s02800","s03500","s04200","s04900","s05600","s06300"]},"message":"A: 100 sessions cost more than $0.0180 (max of p95 $0.0060 and 3× the median session $0.0060), $3.60 in all; at the median they would have cost $3.00 less"}"#,
        r#"{"kind":"suggestion","rank":4,"type":"caching","saving_usd":0.006975,"evidence":{"agent":"A","session":"s00007","model":"claude-sonnet-4-5","requests":3,"prompt_tokens":5000,"cache_read_tokens":0,"cache_hit_ratio":0,"repeated_prefix_tokens":1500,"cache_writes":1,"cache_reads":2,"max_gap_seconds":300,"first_record_id":"r00007","saving_model":"the repeated prefix written to the 5-minute cache by the first request of every run of requests at most 5 minutes apart, and read by every other request"},"message":"session s00007 (A, claude-sonnet-4-5): 3 requests each resent at least 1,500 uncached prompt tokens with a cache hit ratio of 0%; caching that prefix (written once, read 2 times) would have saved $0.0070"}"#,
        r#"{"kind":"efficiency","rank":1,"agent":"A","records":70002,"unpriced_records":0,"tasks":70000,"input_tokens":140003000,"output_tokens":200000,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":140203000,"output_input_ratio":0.0014,"cache_hit_ratio":0,"cost_usd":423.009,"tokens_per_task":2002.9,"cost_per_task_usd":0.006043,"relative_cost_per_task":1}"#,
        r#"{"kind":"task","agent":"A","task":"s00000","records":1,"unpriced_records":0,"input_tokens":2000,"output_tokens":2000,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":4000,"output_input_ratio":1,"cache_hit_ratio":0,"cost_usd":0.036}"#,
        r#"{"kind":"task","agent":"A","task":"s00700","records":1,"unpriced_records":0,"input_tokens":2000,"output_tokens":2000,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":4000,"output_input_ratio":1,"cache_hit_ratio":0,"cost_usd":0.036}"#,
        r#"{"kind":"task","agent":"A","task":"s01400","records":1,"unpriced_records":0,"input_tokens":2000,"output_tokens":2000,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":4000,"output_input_ratio":1,"cache_hit_ratio":0,"cost_usd":0.036}"#,
        r#"{"kind":"task","agent":"A","task":"s02100","records":1,"unpriced_records":0,"input_tokens":2000,"output_tokens":2000,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":4000,"output_input_ratio":1,"cache_hit_ratio":0,"cost_usd":0.036}"#,
        r#"{"kind":"task","agent":"A","task":"s02800","records":1,"unpriced_records":0,"input_tokens":2000,"output_tokens":2000,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":4000,"output_input_ratio":1,"cache_hit_ratio":0,"cost_usd":0.036}"#,
        r#"{"kind":"total","window":{"period":"all","start":null,"end":null},"records":70002,"unpriced_records":0,"suggestions":4}"#,
    ]
    .map(|l| format!("{l}\n"))
    .concat();
    sc.cmd("tt-optimize").args(["--format", "jsonl", "u.jsonl", "more.jsonl"]).succeeds().stdout_is(&want);
    // Newest first, from a pipe (spooled, then split between threads as a file of 10 MB).
    let reversed: String = log.lines().rev().map(|l| format!("{l}\n")).collect();
    sc.cmd("tt-optimize").args(["--format", "jsonl", "-", "more.jsonl"]).pipe_in(&reversed).succeeds().stdout_is(&want);
    // After the two more, from a pipe named as a file: read twice too (kept on disk like stdin). Otherwise the
    // second pass would find the pipe at its end, and miss the record outliers and the caching suggestion's
    // first record.
    sc.cmd("tt-optimize")
        .args(["--format", "jsonl", "more.jsonl", "/dev/stdin"])
        .pipe_in(&log)
        .succeeds()
        .stdout_is(&want);
}

/// The peak resident memory of `run`'s process in KiB (`VmHWM`), read from /proc while it runs: a lower bound
/// of the true peak, and close to it, as the peak is reached before the report is written. `None` without
/// /proc (not Linux).
fn peak_kib(run: Run) -> Option<u64> {
    let mut cmd = run.cmd;
    cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    loop {
        let hwm = std::fs::read_to_string(&status).ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
        peak = peak.max(hwm);
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "{st}");
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Memory follows the number of sessions, but small (issue 11, item 7): 200,000 single-record sessions took
/// 320 MB when every session had its own strings and heap blocks (1.6 GB for a million), and take about 35 MB
/// now (100 bytes a session). The bound leaves room for the debug build and other allocators.
#[test]
fn tt_optimize_memory_per_session_is_small() {
    if !std::path::Path::new("/proc/self/status").exists() {
        return;
    }
    let sc = Scenario::new();
    let (log, _) = single_record_sessions(200_000);
    sc.write("u.jsonl", &log);
    let peak = peak_kib(sc.cmd("tt-optimize").args(["--format", "jsonl", "u.jsonl"])).unwrap();
    assert!(peak < 100 * 1024, "peak resident memory {peak} KiB for 200,000 sessions");
}

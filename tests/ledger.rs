//! The team ledger against a real PostgreSQL server (tests/common/pg.rs): every reader sees exactly the records
//! a JSONL log holds, appends are idempotent by record id under races, the schema is tt's and versioned, and a
//! ledger that cannot be reached, refuses the login or refuses a request is exit 2 in one line with no
//! password in it.
mod common;
use common::*;

/// A log with the shapes that matter to a ledger: costs and none, unknown fields (nested, in odd places),
/// escapes and non-ASCII text, tags, sessions, hosts, several days and months.
fn log() -> String {
    let mut s = String::new();
    let agents = ["ATLAS", "BOLT", "CARA"];
    let models = ["claude-sonnet-4-5", "gpt-5", "gemini-2.5-pro", "mystery-model-x"];
    for i in 0..60u64 {
        let day = 1 + i % 28;
        let month = if i % 3 == 0 { 10 } else { 11 };
        let (agent, model) = (agents[i as usize % 3], models[i as usize % 4]);
        let cost = if i % 5 == 0 { String::new() } else { format!(",\"cost_usd\":0.{:04}{}", i * 37 % 10000, i % 7) };
        let extra = match i % 6 {
            0 => r#","session":"s-1","tags":{"team":"web","pr":"12"}"#.to_string(),
            1 => r#","session":"s-2","host":"ci-runner-7","zz_unknown":{"nested":[1,2,{"a":"b\\c"}]}"#.to_string(),
            2 => r#","project":"shop","notes":"tab\there \"quoted\" back\\slash é ✓","host":"laptop"}"#
                .trim_end_matches('}')
                .to_string(),
            3 => r#","session":"s-3","cache_read_tokens":1200,"cache_write_tokens":300,"task":"lint""#.to_string(),
            4 => r#","project":"api","branch":"feat/x","commit":"abc123","user":"ann","duration_ms":1500"#.to_string(),
            _ => r#","reasoning_tokens":40,"service_tier":"batch","x-custom":true"#.to_string(),
        };
        s.push_str(&format!(
            "{{\"v\":1,\"id\":\"rec-{i:03}\",\"ts\":\"2026-{month:02}-{day:02}T{:02}:{:02}:00Z\",\"agent\":\"{agent}\",\"model\":\"{model}\",\"input_tokens\":{},\"output_tokens\":{}{extra}{cost}}}\n",
            i % 24,
            i % 60,
            1000 + i * 113,
            50 + i * 7
        ));
    }
    s
}

/// A scenario whose JSONL log holds [`log`], and a fresh ledger holding the same records (merged with
/// `tt-log --import`), or `None` when there is no server.
fn both() -> Option<(Scenario, pg::Db)> {
    let db = pg::db()?;
    let sc = Scenario::new();
    sc.write("usage.jsonl", log());
    sc.cmd("tt-log")
        .args(["--import", "usage.jsonl", "--log", &db.uri])
        .succeeds()
        .stderr_has("usage.jsonl: log: 60 records: 60 new, 0 already present, 0 invalid");
    Some((sc, db))
}

#[test]
fn the_ledger_gives_back_every_line_exactly() {
    let Some((sc, db)) = both() else { return };
    // Each line is kept as the merge wrote it (as it writes a file log), in the order it was added.
    sc.cmd("tt-log").args(["--import", "usage.jsonl", "--log", "merged.jsonl"]).succeeds();
    let merged = sc.read("merged.jsonl");
    assert_eq!(db.sql("SELECT line FROM tt.records ORDER BY seq"), merged);
    let file = sc.cmd("tt-export").args(["--format", "jsonl"]).succeeds().stdout;
    assert_eq!(file.lines().count(), 60);
    let out = sc.cmd("tt-export").args(["--format", "jsonl", "--log", &db.uri]).succeeds();
    assert_eq!(out.stdout, file);
    // Readers also take the ledger as a file argument, and from TT_LOG.
    let out = sc.cmd("tt-export").args(["--format", "jsonl", &db.uri]).succeeds();
    assert_eq!(out.stdout, file);
    let out = sc.cmd("tt-export").args(["--format", "jsonl"]).env("TT_LOG", &db.uri).succeeds();
    assert_eq!(out.stdout, file);
    // And a merge pulls the team's records back into a local log, byte for byte.
    sc.cmd("tt-log").args(["--import", &db.uri, "--log", "pulled.jsonl"]).succeeds().stderr_has("60 new");
    assert_eq!(sc.read("pulled.jsonl"), merged);
}

/// A total row's `from` (wherever it is in the output) names its source, which differs between the two logs by
/// design.
fn strip_from(s: &str) -> String {
    let mut out = s.to_string();
    while let Some(i) = out.find(",\"from\":[") {
        let j = out[i..].find(']').map_or(out.len(), |j| i + j + 1);
        out.replace_range(i..j, "");
    }
    out
}

/// tt-sum with `args` on the JSONL log (`file`: the default log, else that file) and on the ledger: the same
/// output but for `from`, the same warnings; returns what the ledger run said about how it summed
/// (`TT_LEDGER_EXPLAIN`).
fn sum_both(sc: &Scenario, db: &pg::Db, file: Option<&str>, args: &[&str]) -> String {
    let from_file = sc.cmd("tt-sum").args(file).args(args).succeeds();
    let ledger = sc.cmd("tt-sum").args(args).args(["--log", &db.uri]).env("TT_LEDGER_EXPLAIN", "1").succeeds();
    assert!(!from_file.stdout.is_empty(), "{args:?}");
    assert_eq!(strip_from(&ledger.stdout), strip_from(&from_file.stdout), "{args:?}");
    let (explain, warnings) = ledger.stderr.split_once('\n').unwrap_or((&ledger.stderr, ""));
    assert_eq!(warnings, from_file.stderr, "{args:?}");
    // The streaming read of the same ledger agrees too.
    let streamed = sc.cmd("tt-sum").args(args).args(["--log", &db.uri]).env("TT_LEDGER_PUSHDOWN", "0").succeeds();
    assert_eq!(streamed.stdout, ledger.stdout, "{args:?}");
    explain.to_string()
}

#[test]
fn tt_sum_gives_the_same_rows_from_both_logs() {
    let Some((sc, db)) = both() else { return };
    let windows: &[&[&str]] = &[
        &["--period", "all"],
        &["--since", "2026-11-03", "--until", "2026-11-20"],
        &["--period", "month", "--today", "2026-11-15"],
        &["--period", "last-month", "--today", "2026-11-15", "--tz", "Asia/Kathmandu"],
        &["--since", "2026-10-04T05:06:00Z", "--until", "2026-11-10T23:00:00.000001-03:30"],
    ];
    for by in [
        "agent",
        "model",
        "session",
        "project",
        "host",
        "user",
        "commit",
        "day",
        "week",
        "month",
        "hour",
        "agent,model",
        "host,day",
        "tag:team",
    ] {
        for window in windows {
            let explain = sum_both(&sc, &db, None, &[&["--by", by][..], window].concat());
            let want = if by.starts_with("tag:") { "streamed the records (a tag key" } else { "summed in the ledger" };
            assert!(explain.starts_with(&format!("tt-sum: {want}")), "--by {by} {window:?}: {explain}");
        }
    }
    // Every format, with and without --top and --sort; and no --by at all.
    for format in ["csv", "table", "json", "markdown", "jsonl"] {
        for extra in [&["--by", "host"][..], &["--by", "agent,day", "--top", "3", "--sort", "tokens"], &[]] {
            sum_both(&sc, &db, None, &[&["--format", format][..], extra, &["--tz", "America/New_York"]].concat());
        }
    }
    // The total row names the ledger, password-free, so a gate can read it again.
    let out = sc.cmd("tt-sum").args(["--log", &db.uri]).succeeds();
    assert!(out.stdout.contains(&format!("\"from\":[\"{}\"]", db.uri)), "{}", out.stdout);
}

/// Records at the places where summing in the server could go wrong: nanosecond times a hair before a window
/// bound, a bucket boundary or a grain (the ledger's column holds microseconds), weeks across daylight-saving
/// changes, zones a quarter-hour off, records without a cost of a tiered model (priced here by each record's
/// own tokens), unknown models, several hosts.
fn edge_log() -> String {
    let times = [
        "2026-03-29T00:59:59.9999996Z",  // Berlin's clocks go forward at 01:00Z; rounds up onto it
        "2026-03-29T01:00:00Z",          // exactly on it
        "2026-10-31T22:59:59.99999951Z", // Berlin's November starts at 23:00Z; rounds up onto it
        "2026-10-25T00:59:59.9999999Z",  // Berlin's clocks go back at 01:00Z
        "2026-10-25T01:30:00Z",          // the second 02:30 in Berlin
        "2026-10-25T00:30:00Z",          // the first 02:30 in Berlin
        "2026-11-01T05:59:59.9999995Z",  // New York's clocks go back at 06:00Z
        "2026-11-01T06:00:00.000000499Z",
        "2026-03-08T06:59:59.999Z",     // New York's clocks go forward at 07:00Z
        "2026-03-08T07:14:59.9999999Z", // a grain's last instant
        "2026-11-15T18:14:59.9999999Z", // Kathmandu's hour starts at :15Z
        "2026-11-15T18:15:00Z",
        "2026-11-30T23:59:59.9999999Z", // a --until's midnight
        "2026-12-01T00:00:00Z",
        "2026-11-03T00:00:00Z", // a --since's midnight
        "2026-11-02T23:59:59.9999999Z",
    ];
    let mut s = String::new();
    for (i, ts) in times.iter().enumerate() {
        for k in 0..4u64 {
            let n = i as u64 * 4 + k;
            let (model, input) = match n % 4 {
                0 => ("claude-sonnet-4-5", 250_000 + n), // above the 200k tier when priced here
                1 => ("claude-sonnet-4-5", 1_000 + n),
                2 => ("gpt-5", 5_000 + n),
                _ => ("no-such-model", 10 + n),
            };
            let cost = if n.is_multiple_of(3) {
                String::new()
            } else {
                format!(",\"cost_usd\":0.{:06}", n * 7919 % 1_000_000)
            };
            let host = ["laptop", "ci-runner-1", "ci-runner-2"][n as usize % 3];
            s.push_str(&format!(
                "{{\"v\":1,\"id\":\"edge-{n:03}\",\"ts\":\"{ts}\",\"agent\":\"A{}\",\"model\":\"{model}\",\"input_tokens\":{input},\"output_tokens\":{},\"cache_write_tokens\":{},\"host\":\"{host}\",\"session\":\"s{}\"{cost}}}\n",
                n % 2,
                n * 3,
                n * 11,
                n % 5
            ));
        }
    }
    s
}

#[test]
fn tt_sum_in_the_server_is_exact_at_the_edges() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("edge.jsonl", edge_log());
    sc.cmd("tt-log").args(["--import", "edge.jsonl", "--log", &db.uri]).succeeds();
    // The column really is rounded: what the server sees differs from the lines on these records.
    assert_eq!(db.sql("SELECT count(*) FROM tt.records WHERE ts = '2026-10-31T23:00:00Z'"), "4\n");
    let windows: &[&[&str]] = &[
        &[],
        &["--since", "2026-03-29T01:00:00Z", "--until", "2026-11-01T06:00:00Z"],
        &["--since", "2026-11-03", "--until", "2026-11-30"],
        &["--period", "month", "--today", "2026-11-30"],
    ];
    for tz in ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu"] {
        for by in ["hour", "day", "week", "month", "host", "model,week", "session,day"] {
            for window in windows {
                let args = [&["--by", by, "--tz", tz][..], window].concat();
                let explain = sum_both(&sc, &db, Some("edge.jsonl"), &args);
                assert!(explain.starts_with("tt-sum: summed in the ledger"), "{args:?}: {explain}");
            }
        }
    }
    // Weeks from Sunday, from the config.
    sc.write("tt.toml", "week_start = \"sunday\"\ntz = \"Europe/Berlin\"\n");
    sum_both(&sc, &db, Some("edge.jsonl"), &["--by", "week,agent"]);
}

#[test]
fn tt_sum_says_when_it_sums_in_the_server_and_streams_what_it_cannot_prove() {
    let Some((sc, db)) = both() else { return };
    // The server's sums: far fewer rows than records come back, and the records without a cost as lines.
    let explain = sum_both(&sc, &db, None, &["--by", "agent"]);
    assert_eq!(explain, "tt-sum: summed in the ledger (5 partial sums, 12 lines read here)");
    // A window bound finer than the column's microseconds, a tag key: streamed, with the reason.
    let explain = sum_both(&sc, &db, None, &["--by", "agent", "--since", "2026-11-03T00:00:00.0000001Z"]);
    assert!(explain.contains("streamed the records (a window bound finer than a microsecond"), "{explain}");
    // A cost with more decimals than the integer sums hold: the server leaves it to be read as a line, and the
    // sum that takes it cannot be proved the same in any order.
    sc.write("more.jsonl", "{\"v\":1,\"id\":\"rec-fine\",\"ts\":\"2026-11-29T10:00:00Z\",\"agent\":\"DUKE\",\"model\":\"gpt-5\",\"input_tokens\":10,\"output_tokens\":1,\"cost_usd\":0.1000000000000000000001}\n");
    sc.cmd("tt-log").args(["--import", "more.jsonl", "--log", &db.uri]).succeeds();
    sc.cmd("tt-log").args(["--import", "more.jsonl"]).succeeds();
    let explain = sum_both(&sc, &db, None, &["--by", "agent"]);
    assert!(explain.contains("streamed the records (sums too large, or with too many decimals"), "{explain}");
    // A file is always streamed.
    let out = sc.cmd("tt-sum").env("TT_LEDGER_EXPLAIN", "1").succeeds();
    assert_eq!(out.stderr.lines().next(), Some("tt-sum: streamed the records"));
}

/// Records whose sum of picodollars passes a `bigint` (2^63: about $9.2 million in one group) or whose cost is
/// not a `bigint` of picodollars ($9,000,000 or more; more than 12 decimals).
fn huge_log() -> String {
    let rec = |n: u32, agent: &str, input: u64, cost: &str| {
        format!(
            "{{\"v\":1,\"id\":\"huge-{n}\",\"ts\":\"2026-11-0{}T10:00:00Z\",\"agent\":\"{agent}\",\"model\":\"gpt-5\",\"input_tokens\":{input},\"output_tokens\":1,\"session\":\"s{n}\",\"cost_usd\":{cost}}}\n",
            1 + n % 3
        )
    };
    [
        rec(1, "BIG", 60_000_000, "5000000"),
        rec(2, "BIG", 60_000_000, "5000000.5"),
        rec(3, "RICH", 10, "9000000"),
        rec(4, "RICH", 10, "0.0000000000001"),
        rec(5, "PLAIN", 10, "0.25"),
        rec(6, "PLAIN", 10, "0.000000000003"),
    ]
    .concat()
}

#[test]
fn sums_past_a_bigint_are_summed_again_wide_and_odd_costs_read_as_lines() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("huge.jsonl", huge_log());
    sc.cmd("tt-log").args(["--import", "huge.jsonl", "--log", &db.uri]).succeeds();
    // The server's picodollars: none for $9,000,000 and for a 13th decimal, which are read as lines.
    assert_eq!(
        db.sql("SELECT id, cost_pico FROM tt.records ORDER BY id"),
        "huge-1|5000000000000000000\nhuge-2|5000000500000000000\nhuge-3|\nhuge-4|\nhuge-5|250000000000\nhuge-6|3\n"
    );
    // BIG's picodollars pass 2^63: the bigint sum fails, the numeric one runs, and the rows are a file's.
    for by in ["agent", "agent,day", "session"] {
        let explain = sum_both(&sc, &db, Some("huge.jsonl"), &["--by", by]);
        assert!(explain.starts_with("tt-sum: summed in the ledger"), "--by {by}: {explain}");
    }
    let out = sc.cmd("tt-sum").args(["--by", "agent", "--format", "csv", "--log", &db.uri]).succeeds();
    assert!(out.stdout.contains("BIG,2,2,120000000,2,"), "{}", out.stdout);
    assert!(out.stdout.contains(",10000000.5,"), "{}", out.stdout);
}

#[test]
fn a_ledger_of_mostly_unpriced_records_is_streamed_by_choice() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    // Four in five without a cost: the server would sum one record in five, the client read the rest.
    let log: String = (0..200u32)
        .map(|n| {
            let cost = if n % 5 == 0 { ",\"cost_usd\":0.5" } else { "" };
            format!(
                "{{\"v\":1,\"id\":\"u-{n}\",\"ts\":\"2026-11-02T10:{:02}:00Z\",\"agent\":\"A{}\",\"model\":\"gpt-5\",\"input_tokens\":{n},\"output_tokens\":1{cost}}}\n",
                n % 60,
                n % 3
            )
        })
        .collect();
    sc.write("u.jsonl", log);
    sc.cmd("tt-log").args(["--import", "u.jsonl", "--log", &db.uri]).succeeds();
    // The choice goes by the server's statistics (autovacuum's, here made at once).
    db.sql("ANALYZE tt.records");
    let explain = sum_both(&sc, &db, Some("u.jsonl"), &["--by", "agent"]);
    assert_eq!(
        explain,
        "tt-sum: streamed the records (about 80% of the records have no cost the server sums: read in parts instead)"
    );
}

#[test]
fn every_reader_agrees_between_the_two_logs() {
    let Some((sc, db)) = both() else { return };
    let cfg = "[[budget]]\nname = \"team\"\nlimit_usd = 1.5\nperiod = \"total\"\n\n[[budget]]\nname = \"atlas\"\nlimit_usd = 0.2\nperiod = \"total\"\nscope = { agent = \"ATLAS\" }\n";
    sc.write("tt.toml", cfg);
    let runs: &[(&str, &[&str])] = &[
        ("tt-budget", &["--format", "json"]),
        ("tt-optimize", &["--format", "json"]),
        ("tt-price", &["--missing", "--format", "jsonl"]),
        ("tt-price", &[]),
        ("tt-export", &["--format", "csv"]),
        ("tt-export", &["--format", "markdown", "--today", "2026-11-30"]),
    ];
    for (tool, args) in runs {
        let file = sc.cmd(tool).args(*args).run();
        let ledger = sc.cmd(tool).args(*args).args(["--log", &db.uri]).run();
        assert_eq!(ledger.code, file.code, "{tool} {args:?}: {}", ledger.stderr);
        assert_eq!(ledger.stdout, file.stdout, "{tool} {args:?}");
    }
    // The gate fails the same way on both.
    let file = sc.cmd("tt-budget").arg("--fail-over").run();
    let ledger = sc.cmd("tt-budget").args(["--fail-over", "--log", &db.uri]).run();
    assert_eq!((ledger.code, file.code), (Some(1), Some(1)), "{}", ledger.stderr);
}

#[test]
fn merges_into_a_ledger_are_idempotent() {
    let Some((sc, db)) = both() else { return };
    sc.cmd("tt-log")
        .args(["--import", "usage.jsonl", "--log", &db.uri])
        .succeeds()
        .stderr_has("usage.jsonl: log: 60 records: 0 new, 60 already present, 0 invalid");
    // A bundle of the same records adds nothing either; one with a new record adds exactly it.
    sc.cmd("tt-export").args(["--bundle", "-o", "b.ttb"]).succeeds();
    sc.cmd("tt-log").args(["--import", "b.ttb", "--log", &db.uri]).succeeds().stderr_has("0 new, 60 already present");
    sc.write("more.jsonl", "{\"v\":1,\"id\":\"rec-new\",\"ts\":\"2026-11-29T10:00:00Z\",\"agent\":\"DUKE\",\"model\":\"gpt-5\",\"input_tokens\":10,\"output_tokens\":1}\n");
    sc.cmd("tt-log").args(["--import", "more.jsonl", "usage.jsonl", "--log", &db.uri]).succeeds();
    assert_eq!(db.sql("SELECT count(*) FROM tt.records"), "61\n");
    assert_eq!(
        db.sql("SELECT agent, input_tokens, cost_usd IS NULL FROM tt.records WHERE id = 'rec-new'"),
        "DUKE|10|t\n"
    );
}

#[test]
fn concurrent_merges_add_each_record_once() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    let all = log();
    let lines: Vec<&str> = all.lines().collect();
    // Six overlapping slices, merged at once by six processes.
    let runs = (0..6)
        .map(|k| {
            let part: String = lines[k * 8..k * 8 + 20].iter().map(|l| format!("{l}\n")).collect();
            let f = sc.write(&format!("part{k}.jsonl"), part);
            sc.cmd("tt-log").arg("--import").arg(f).args(["--log", &db.uri])
        })
        .collect();
    let outs = run_all(runs);
    let mut added = 0;
    for o in outs {
        assert_eq!(o.code, Some(0), "{}", o.stderr);
        let n: u64 = o.stderr.split(" new,").next().unwrap().rsplit(' ').next().unwrap().parse().unwrap();
        added += n;
    }
    // Lines 0..60 covered once each: every record added exactly once, and the reports add up to it.
    assert_eq!(added, 60);
    assert_eq!(db.sql("SELECT count(*), count(DISTINCT id) FROM tt.records"), "60|60\n");
}

#[test]
fn transcripts_import_into_a_ledger_once() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    copy_tree(&fixture("claude-code"), &sc.path().join("claude"));
    // A budget the import takes across a level: the ledger says so as a file log does.
    sc.write("tt.toml", "[[budget]]\nname = \"all\"\nperiod = \"total\"\nlimit_usd = 0.03\n");
    let import = || {
        sc.cmd("tt-log")
            .args(["--import", "claude-code", "--log", &db.uri])
            .env("CLAUDE_CONFIG_DIR", sc.path().join("claude"))
            .run()
    };
    let first = import();
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(first.stderr.contains("added 6 records (10,574 tokens, $0.0290, 1 unpriced)"), "{}", first.stderr);
    // The same import into a file gives the same records, and the same alert.
    let alerts = |s: &str| s.lines().filter(|l| l.contains(" is now ")).map(String::from).collect::<Vec<_>>();
    let to_file = sc
        .cmd("tt-log")
        .args(["--import", "claude-code"])
        .env("CLAUDE_CONFIG_DIR", sc.path().join("claude"))
        .succeeds();
    assert_eq!(alerts(&first.stderr), alerts(&to_file.stderr));
    assert_eq!(alerts(&first.stderr).len(), 1, "{}", first.stderr);
    let lines = db.sql("SELECT line FROM tt.records ORDER BY seq");
    assert_eq!(lines, sc.log());
    // Again, with the offsets forgotten: every record is already there.
    let state = std::fs::read_dir(sc.path().join(".local/state/tt/ledgers")).unwrap().count();
    assert_eq!(state, 1, "the offsets of a ledger import live in the machine's state directory");
    std::fs::remove_dir_all(sc.path().join(".local/state/tt/ledgers")).unwrap();
    let again = import();
    assert!(again.stderr.contains("added 0 records"), "{}", again.stderr);
    assert_eq!(db.sql("SELECT count(*) FROM tt.records"), "6\n");
}

#[test]
fn the_schema_is_versioned_with_views_for_dashboards() {
    let Some((sc, db)) = both() else { return };
    assert_eq!(db.sql("SELECT value FROM tt.meta WHERE key = 'schema_version'"), "6\n");
    // The view's money is the log's, to the last digit (records without a cost are counted, not summed).
    let view = db.sql("SELECT sum(cost_usd), sum(records), sum(unpriced_records) FROM tt.daily_spend");
    let logged: rust_decimal::Decimal = log()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap().get("cost_usd").map(|c| c.to_string()))
        .map(|c| c.parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    assert_eq!(view, format!("{}|60|12\n", logged.normalize()));
    assert_eq!(db.sql("SELECT count(*) FROM tt.daily_spend_by_host WHERE host = 'ci-runner-7'"), "10\n");
    // A ledger migrated by a newer tt is refused, never written or misread.
    db.sql("UPDATE tt.meta SET value = '99' WHERE key = 'schema_version'");
    sc.cmd("tt-sum")
        .args(["--log", &db.uri])
        .fails_with(2)
        .one_error_line("tt-sum")
        .stderr_has("its schema is version 99, newer than this tt knows (6); upgrade tt");
    // A ledger of an older version is migrated forward, its records kept.
    db.sql(
        "DROP TABLE tt.kept; ALTER TABLE tt.records DROP COLUMN xact; \
         DROP TABLE tt.holds; DROP INDEX tt.records_reservation; DROP INDEX tt.records_loose; \
         ALTER TABLE tt.records DROP COLUMN cost_pico; DROP AGGREGATE tt.total(bigint); \
         CREATE INDEX records_agent_ts ON tt.records \
         (agent, ts); CREATE INDEX records_project_ts ON tt.records (project, ts); CREATE INDEX records_model_ts \
         ON tt.records (model, ts); UPDATE tt.meta SET value = '1'",
    );
    sc.cmd("tt-sum").args(["--log", &db.uri]).succeeds().stdout_has("\"records\":60,");
    assert_eq!(db.sql("SELECT value FROM tt.meta WHERE key = 'schema_version'"), "6\n");
    assert_eq!(db.sql("SELECT count(*) FROM tt.holds"), "0\n");
    // The cost in picodollars is the server's, from every record's cost_usd, those added before it included.
    assert_eq!(db.sql("SELECT count(*) FROM tt.records WHERE cost_pico <> cost_usd * 1e12"), "0\n");
    assert_eq!(db.sql("SELECT count(cost_pico), count(cost_usd) FROM tt.records"), "48|48\n");
    assert_eq!(
        db.sql("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'tt' AND tablename = 'records'"),
        "records_id_key_key,records_loose,records_pkey,records_reservation,records_session,records_ts,records_xact\n"
    );
    // The records from before transactions were noted have none, and a budget check counts them all the same.
    assert_eq!(db.sql("SELECT count(*) FROM tt.records WHERE xact IS NULL"), "60\n");
    let spent = db.sql(
        "SELECT sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens) \
         FROM tt.records",
    );
    let enforce = |limit: &str| {
        sc.write("tt.toml", format!("[[budget]]\nname = \"all\"\nperiod = \"total\"\nlimit_tokens = {limit}\n"));
        sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "1", "0", "--enforce", "--no-git", "-q", "--log", &db.uri]).run()
    };
    assert_eq!(enforce(spent.trim()).code, Some(1));
    let one_more = (spent.trim().parse::<u64>().unwrap() + 1).to_string();
    assert_eq!(enforce(&one_more).code, Some(0));
    assert_eq!(enforce(&one_more).code, Some(1));
    assert_eq!(db.sql("SELECT count(*) FROM tt.kept"), "2\n", "a sum kept per config");
}

#[test]
fn the_schema_is_created_once_by_racing_first_writers() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("a.jsonl", log());
    let runs = (0..5).map(|_| sc.cmd("tt-log").args(["--import", "a.jsonl", "--log", &db.uri])).collect();
    for o in run_all(runs) {
        assert_eq!(o.code, Some(0), "{}", o.stderr);
    }
    assert_eq!(db.sql("SELECT count(*) FROM tt.records"), "60\n");
}

#[test]
fn unreachable_ledgers_and_bad_logins_are_one_line_without_the_password() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("usage.jsonl", log());
    let port = pg::server().unwrap().port;
    // A wrong password.
    let wrong = format!("postgresql://tt:Hunter2-secret@127.0.0.1:{port}/{}?sslmode=disable", db.name);
    let out = sc.cmd("tt-sum").args(["--log", &wrong]).fails_with(2).one_error_line("tt-sum");
    assert!(!out.stderr.contains("Hunter2"), "{}", out.stderr);
    out.stderr_has(&format!("ledger postgresql://tt@127.0.0.1:{port}/{}?sslmode=disable", db.name))
        .stderr_has("password authentication failed for user \"tt\"");
    // No server there.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = format!("postgresql://tt:Hunter2-secret@127.0.0.1:{free}/x?sslmode=disable");
    let out = sc.cmd("tt-log").args(["--import", "usage.jsonl", "--log", &down]).fails_with(2).one_error_line("tt-log");
    assert!(!out.stderr.contains("Hunter2"), "{}", out.stderr);
    out.stderr_has("Connection refused");
    // A role without rights on tt's tables.
    sc.cmd("tt-sum").args(["--log", &db.uri]).succeeds();
    db.sql("DROP ROLE IF EXISTS tt_nobody; CREATE ROLE tt_nobody LOGIN");
    let nobody = db.uri.replace("user=tt", "user=tt_nobody");
    sc.cmd("tt-sum").args(["--log", &nobody]).fails_with(2).one_error_line("tt-sum").stderr_has("permission denied");
    // A URI tt cannot read is a usage error before any connection.
    sc.cmd("tt-sum")
        .args(["--log", "postgresql://h/db?sslmode=sometimes"])
        .fails_with(2)
        .one_error_line("tt-sum")
        .stderr_has("sslmode \"sometimes\": want disable, allow, prefer, require, verify-ca or verify-full");
}

#[test]
fn passwords_come_from_pgpassword_and_pgpass_like_libpq() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    let port = pg::server().unwrap().port;
    let uri = format!("postgresql://tt@127.0.0.1:{port}/{}?sslmode=disable", db.name);
    sc.cmd("tt-sum").args(["--log", &uri]).env("PGPASSWORD", "tt-test").succeeds();
    let pgpass = sc.write(".pgpass", format!("127.0.0.1:{port}:*:tt:tt-test\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    sc.cmd("tt-sum").args(["--log", &uri]).succeeds();
    // A .pgpass others may read is ignored, as libpq ignores it.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    sc.cmd("tt-sum").args(["--log", &uri]).fails_with(2).stderr_has("password");
    // PGHOST/PGPORT/PGUSER/PGDATABASE fill an otherwise empty URI.
    let pg = pg::server().unwrap();
    sc.cmd("tt-sum")
        .args(["--log", "postgresql://"])
        .env("PGHOST", &pg.dir)
        .env("PGPORT", port.to_string())
        .env("PGUSER", "tt")
        .env("PGDATABASE", &db.name)
        .succeeds();
}

#[test]
fn tt_log_appends_to_a_ledger_from_many_processes() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    let runs = (0..12)
        .map(|k| {
            sc.cmd("tt-log")
                .args([&format!("agent-{}", k % 4), "gpt-5", "1000", "100", "--session", &format!("s{k}")])
                .env("TT_LOG", &db.uri)
        })
        .collect();
    for o in run_all(runs) {
        assert_eq!(o.code, Some(0), "{}", o.stderr);
        assert!(o.stderr.starts_with("logged 1,100 tokens (gpt-5) for agent-"), "{}", o.stderr);
    }
    assert_eq!(db.sql("SELECT count(*), count(DISTINCT id), sum(input_tokens) FROM tt.records"), "12|12|12000\n");
    // gpt-5: 1000 in at $1.25/M + 100 out at $10/M = $0.00225 a record, exactly.
    sc.cmd("tt-sum")
        .args(["--by", "agent", "--format", "csv"])
        .env("TT_LOG", &db.uri)
        .succeeds()
        .stdout_has("group,all,,,agent-0,3,3,3000,300,0,0,3300,0.00675,0,\n");
}

#[test]
fn a_ledger_has_nothing_to_repair() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["--repair", "--log", &db.uri])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("is a ledger: every record was checked as it was added, so there is nothing to repair");
    // Nothing was created beside it under a file name made of the URI.
    assert!(!sc.path().join("postgresql:").exists());
}

#[test]
fn tls_is_verified_against_the_roots_given() {
    let Some(db) = pg::db() else { return };
    let pg = pg::server().unwrap();
    let Some(ca) = &pg.tls_ca else {
        // The server speaks TLS when openssl made it a certificate (scripts/test-postgres.sh).
        skipped("ledger TLS test: the test server has no certificate", "openssl not installed");
        return;
    };
    let sc = Scenario::new();
    sc.write("usage.jsonl", log());
    // `tt_tls` may only log in over TLS: a report that works went through a verified TLS connection.
    let uri =
        |mode: &str, host: &str| format!("postgresql://tt_tls:tt-test@{host}:{}/{}?sslmode={mode}", pg.port, db.name);
    let ca = ca.display().to_string();
    sc.cmd("tt-log")
        .args(["--import", "usage.jsonl", "--log", &format!("{}&sslrootcert={ca}", uri("verify-full", "localhost"))])
        .succeeds();
    sc.cmd("tt-sum")
        .args(["--log", &uri("require", "127.0.0.1")])
        .env("PGSSLROOTCERT", &ca)
        .succeeds()
        .stdout_has("\"records\":60,");
    // Without the CA, tt does not take the server's word for who it is, even where libpq's `require` would.
    for mode in ["require", "verify-full", "prefer"] {
        let out = sc.cmd("tt-sum").args(["--log", &uri(mode, "localhost")]).fails_with(2).one_error_line("tt-sum");
        assert!(out.stderr.contains("certificate"), "{mode}: {}", out.stderr);
        assert!(!out.stderr.contains("tt-test"), "{}", out.stderr);
    }
    // Without TLS, this role is refused by the server.
    sc.cmd("tt-sum")
        .args(["--log", &uri("disable", "localhost")])
        .fails_with(2)
        .one_error_line("tt-sum")
        .stderr_has("no encryption");
}

/// Rows of `tt.records` read so far, by the server's own statistics: (read by sequential scans, fetched through
/// indexes). Read once every other client of the database has gone: a backend flushes its statistics before it
/// leaves `pg_stat_activity`, so what the last `tt-log` read is counted by then.
fn rows_read(db: &pg::Db) -> (u64, u64) {
    let others = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                  AND backend_type = 'client backend' AND pid <> pg_backend_pid()";
    let start = std::time::Instant::now();
    while db.sql(others) != "0\n" {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "a client of the ledger did not go away");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let stats = db.sql(
        "SELECT coalesce(seq_tup_read, 0), coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables \
         WHERE relid = 'tt.records'::regclass",
    );
    let (seq, idx) = stats.trim().split_once('|').unwrap();
    (seq.parse().unwrap(), idx.parse().unwrap())
}

/// A record line with id `id`, as tt writes them.
fn record(id: &str, agent: &str) -> String {
    format!(
        "{{\"v\":1,\"id\":\"{id}\",\"ts\":\"2026-11-20T10:00:00Z\",\"agent\":\"{agent}\",\"model\":\"gpt-5\",\
         \"input_tokens\":10,\"output_tokens\":1}}\n"
    )
}

#[test]
fn a_merge_asks_the_ledger_about_its_own_records_only() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    // Two records with UUID-shaped ids (their identity is the id's hash bits), then a hundred thousand more
    // put in with SQL (text ids: their key is `x` and the id).
    let uuid = |stamp: &str, tail: &str| format!("{stamp}-0000-7abc-9def-{tail}");
    sc.write(
        "first.jsonl",
        record(&uuid("0190a000", "000000000001"), "A") + &record(&uuid("0190a000", "000000000002"), "A"),
    );
    sc.cmd("tt-log").args(["--import", "first.jsonl", "--log", &db.uri]).succeeds();
    const BULK: u64 = 100_000;
    db.sql(&format!(
        "INSERT INTO tt.records (id_key, id, ts, agent, model, input_tokens, output_tokens, cache_read_tokens, \
         cache_write_tokens, cache_write_1h_tokens, line) \
         SELECT 'xbulk-' || g, 'bulk-' || g, '2026-11-01T00:00:00Z', 'BULK', 'gpt-5', 1, 1, 0, 0, 0, \
         format('{{\"v\":1,\"id\":\"bulk-%s\",\"ts\":\"2026-11-01T00:00:00Z\",\"agent\":\"BULK\",\"model\":\"gpt-5\",\
         \"input_tokens\":1,\"output_tokens\":1}}', g) FROM generate_series(1, {BULK}) g; \
         ANALYZE tt.records; ALTER TABLE tt.records SET (autovacuum_enabled = false)"
    ));
    // Known: both UUIDs (one under another timestamp: the same request, as another machine derived it) and
    // three bulk ids. New: four, one of them twice in the file (a duplicate within the merge itself).
    let mut more = record(&uuid("0190ffff", "000000000001"), "B") + &record(&uuid("0190a000", "000000000002"), "B");
    for id in ["bulk-1", "bulk-50000", "bulk-100000"] {
        more += &record(id, "B");
    }
    for id in ["new-1", "new-2", &uuid("0190a000", "000000000003"), "new-1", "new-3"] {
        more += &record(id, "C");
    }
    sc.write("more.jsonl", more);
    let before = rows_read(&db);
    sc.cmd("tt-log")
        .args(["--import", "more.jsonl", "--dry-run", "--log", &db.uri])
        .succeeds()
        .stderr_has("more.jsonl: log: 10 records: 4 new, 6 already present, 0 invalid")
        .stderr_has("would import 4 records into");
    sc.cmd("tt-log")
        .args(["--import", "more.jsonl", "--log", &db.uri])
        .succeeds()
        .stderr_has("more.jsonl: log: 10 records: 4 new, 6 already present, 0 invalid")
        .stderr_has("imported 4 records into");
    let after = rows_read(&db);
    // Reading every id (what a merge did before) is a sequential scan of all 100,002 rows; asking about ten ids
    // fetches at most those rows through the unique index, for the dry run and the merge.
    let read = (after.0 - before.0) + (after.1 - before.1);
    assert!(read <= 40, "the merges read {read} rows of the ledger (sequential, indexed: {before:?} → {after:?})");
    assert_eq!(db.sql("SELECT count(*) FROM tt.records WHERE agent = 'C'"), "4\n");
    assert_eq!(db.sql("SELECT count(*) FROM tt.records"), format!("{}\n", BULK + 2 + 4));
    // The same file again: everything is there, counted the same way.
    sc.cmd("tt-log")
        .args(["--import", "more.jsonl", "--log", &db.uri])
        .succeeds()
        .stderr_has("more.jsonl: log: 10 records: 0 new, 10 already present, 0 invalid");
}

#[test]
fn a_transcript_import_into_a_ledger_counts_as_into_a_file() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    copy_tree(&fixture("claude-code"), &sc.path().join("claude"));
    let import = |log: &str, dry: bool| {
        let out = sc
            .cmd("tt-log")
            .args(["--import", "claude-code", "--log", log])
            .args(dry.then_some("--dry-run"))
            .env("CLAUDE_CONFIG_DIR", sc.path().join("claude"))
            .run();
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let summary = out.stderr.lines().find(|l| l.starts_with("claude-code: ")).unwrap().to_string();
        summary.replace(log, "LOG")
    };
    // Every record, into a file; then half of them into a second file and into the ledger, which the imports
    // below find there (and in a ledger, among many others).
    import("all.jsonl", false);
    let all = sc.read("all.jsonl");
    let half: String = all.lines().take(3).map(|l| format!("{l}\n")).collect();
    sc.write("half.jsonl", &half);
    sc.write("part.jsonl", &half);
    sc.cmd("tt-log").args(["--import", "half.jsonl", "--log", &db.uri]).succeeds();
    db.sql(
        "INSERT INTO tt.records (id_key, id, ts, agent, model, input_tokens, output_tokens, cache_read_tokens, \
         cache_write_tokens, cache_write_1h_tokens, line) SELECT 'xbulk-' || g, 'bulk-' || g, now(), 'BULK', \
         'gpt-5', 1, 1, 0, 0, 0, '{}' FROM generate_series(1, 5000) g",
    );
    // A dry run, then the import: the same words and counts as into the file holding the same half.
    let file_dry = import("part.jsonl", true);
    assert!(file_dry.contains("would add 3 records"), "{file_dry}");
    assert_eq!(import(&db.uri, true), file_dry);
    let file = import("part.jsonl", false);
    assert!(file.contains("added 3 records"), "{file}");
    assert_eq!(import(&db.uri, false), file);
    let mut lines: Vec<String> =
        db.sql("SELECT line FROM tt.records WHERE agent <> 'BULK'").lines().map(String::from).collect();
    let mut want: Vec<String> = all.lines().map(String::from).collect();
    lines.sort();
    want.sort();
    assert_eq!(lines, want);
}

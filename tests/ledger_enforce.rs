//! `tt-log --enforce` against a team ledger (a real PostgreSQL server, tests/common/pg.rs): processes on many
//! "machines" racing for one budget get exactly what it admits, and every decision — pass, refusal and its
//! words, dry run — is the one the same records in a JSONL log give.
mod common;
use common::*;

const TOKENS_10K: &str = "[[budget]]\nname = \"daily-tokens\"\nperiod = \"day\"\nlimit_tokens = 10000\n";

#[test]
fn forty_processes_on_eight_hosts_race_for_a_10k_budget_and_exactly_ten_win() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("tt.toml", TOKENS_10K);
    // Warm the schema first, so the race is about the budget (the schema's own race has its test).
    sc.cmd("tt-sum").args(["--log", &db.uri]).succeeds();
    // Every check that sees a record past the kept sum keeps a newer one, while the others count from it; plain
    // appends of no tokens (their alerts read the kept sums too, and keep them) race along.
    let children: Vec<_> = (0..50)
        .map(|k| {
            let args: &[&str] = if k < 40 {
                &["RACER", "sonnet-4.5", "500", "500", "--enforce", "--no-git", "-q", "--log", &db.uri]
            } else {
                &["IDLE", "sonnet-4.5", "0", "0", "--no-git", "--log", &db.uri]
            };
            let mut r = sc
                .cmd("tt-log")
                .args(args)
                .env("TT_LEDGER_KEEP_AFTER", "1")
                .env("USER", format!("runner-{}", k % 8))
                .env("HOSTNAME", format!("host-{}", k % 8));
            r.cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
            r.cmd.spawn().unwrap()
        })
        .collect();
    let mut codes = Vec::new();
    for c in children {
        let o = c.wait_with_output().unwrap();
        codes.push(o.status.code());
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        match o.status.code() {
            // A plain append says what it logged, after any alert.
            Some(0) => assert!(
                err.is_empty()
                    || err.lines().all(|l| l.contains("daily-tokens is now") || l.starts_with("logged 0 tokens")),
                "{err}"
            ),
            Some(1) => assert!(err.contains("would go over its limit"), "{err}"),
            _ => panic!("{err}"),
        }
    }
    assert_eq!(codes[..40].iter().filter(|c| **c == Some(0)).count(), 10, "{codes:?}");
    assert_eq!(codes[..40].iter().filter(|c| **c == Some(1)).count(), 30, "{codes:?}");
    assert!(codes[40..].iter().all(|c| *c == Some(0)), "{codes:?}");
    assert_eq!(db.sql("SELECT count(*), sum(input_tokens + output_tokens) FROM tt.records"), "20|10000\n");
}

/// Run the same `tt-log` call against the JSONL log and the ledger: the same exit code and the same words.
fn both(sc: &Scenario, db: &pg::Db, args: &[&str]) -> Out {
    let file = sc.cmd("tt-log").args(args).args(["--no-git", "-q"]).run();
    let ledger = sc.cmd("tt-log").args(args).args(["--no-git", "-q", "--log", &db.uri]).run();
    assert_eq!(ledger.code, file.code, "{args:?}\nfile: {}\nledger: {}", file.stderr, ledger.stderr);
    assert_eq!(ledger.stderr, file.stderr, "{args:?}");
    ledger
}

#[test]
fn every_decision_is_the_file_logs_decision() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        r#"
[[budget]]
name = "atlas-daily"
period = "day"
scope = { agent = "ATLAS" }
limit_usd = 1

[[budget]]
name = "per-session"
period = "session"
scope = { agent = "BOLT" }
limit_tokens = 3000

[[budget]]
name = "all-time"
period = "total"
limit_usd = 2.5

[[budget]]
name = "monthly-opus"
period = "month"
scope = { model = "claude-opus-4-1" }
limit_usd = 0.5

[[budget]]
name = "web-tokens"
period = "week"
scope = { "tag:team" = "web" }
limit_tokens = 100000
"#,
    );
    // A record logged without its cost (imported from elsewhere): the checks price it, as readers do.
    let now = {
        let out = std::process::Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]).output();
        String::from_utf8(out.unwrap().stdout).unwrap().trim().to_string()
    };
    sc.write(
        "earlier.jsonl",
        format!(
            "{{\"v\":1,\"id\":\"imported-1\",\"ts\":\"{now}\",\"agent\":\"ATLAS\",\"model\":\"sonnet-4.5\",\
             \"input_tokens\":50000,\"output_tokens\":15000,\"tags\":{{\"team\":\"web\"}}}}\n"
        ),
    );
    sc.cmd("tt-log").args(["--import", "earlier.jsonl", "-q"]).succeeds();
    sc.cmd("tt-log").args(["--import", "earlier.jsonl", "-q", "--log", &db.uri]).succeeds();
    let yesterday = {
        let out = std::process::Command::new("date").args(["-u", "-d", "yesterday", "+%Y-%m-%dT12:00:00Z"]).output();
        String::from_utf8(out.unwrap().stdout).unwrap().trim().to_string()
    };
    let steps: Vec<Vec<&str>> = vec![
        // $0.375 each for ATLAS, after the imported $0.375: one more fits the day's $1, the next does not.
        vec!["ATLAS", "sonnet-4.5", "50000", "15000", "--enforce"],
        vec!["ATLAS", "sonnet-4.5", "50000", "15000", "--enforce"],
        vec!["ATLAS", "sonnet-4.5", "50000", "15000", "--enforce", "--dry-run"],
        vec!["ATLAS", "sonnet-4.5", "50000", "15000", "--enforce"],
        // Another agent is outside ATLAS's scope, but inside the session and total budgets.
        vec!["BOLT", "gpt-5", "1000", "500", "--session", "s1", "--enforce"],
        vec!["BOLT", "gpt-5", "1000", "500", "--session", "s1", "--enforce"],
        vec!["BOLT", "gpt-5", "1000", "500", "--session", "s1", "--enforce"],
        vec!["BOLT", "gpt-5", "1000", "500", "--session", "s2", "--enforce"],
        // A model scope matches its other spellings (an alias resolving to the same price).
        vec!["CARA", "claude-opus-4-1", "20000", "2000", "--enforce"],
        vec!["CARA", "claude-opus-4-1-20250805", "20000", "2000", "--enforce"],
        // A back-dated record must fit its own window and the current one.
        vec!["ATLAS", "sonnet-4.5", "50000", "15000", "--enforce", "--ts", &yesterday],
        // A tag scope: the imported 65,000 tokens and 20,000 more fit 100,000; 20,000 again do not.
        vec!["EVE", "gpt-5", "20000", "0", "--tag", "team=web", "--enforce"],
        vec!["EVE", "gpt-5", "20000", "0", "--tag", "team=web", "--enforce"],
        // Without --enforce anything is logged, and then the total budget refuses what follows.
        vec!["DUKE", "claude-opus-4-1", "100000", "10000"],
        vec!["DUKE", "gpt-5", "10", "10", "--enforce"],
        vec!["DUKE", "gpt-5", "10", "10", "--enforce", "--dry-run"],
    ];
    let codes: Vec<i32> = steps.iter().map(|s| both(&sc, &db, s).code.unwrap()).collect();
    assert_eq!(codes, [0, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1], "every budget passes and refuses");
    // The two logs hold the same records (ids and times aside).
    let key = |v: &serde_json::Value| format!("{} {} {} {}", v["agent"], v["model"], v["input_tokens"], v["cost_usd"]);
    let file: Vec<String> =
        sc.cmd("tt-export").args(["--format", "jsonl"]).succeeds().jsonl().iter().map(key).collect();
    let ledger: Vec<String> =
        sc.cmd("tt-export").args(["--format", "jsonl", "--log", &db.uri]).succeeds().jsonl().iter().map(key).collect();
    assert_eq!(ledger, file);
}

#[test]
fn a_gate_on_a_ledger_that_cannot_be_reached_fails_closed() {
    let Some(_) = pg::server() else { return };
    let sc = Scenario::new();
    sc.write("tt.toml", TOKENS_10K);
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = format!("postgresql://tt@127.0.0.1:{free}/x?sslmode=disable");
    sc.cmd("tt-log")
        .args(["A", "gpt-5", "10", "1", "--enforce", "--log", &down])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("Connection refused");
    sc.cmd("tt-budget").args(["--fail-over", "--log", &down]).fails_with(2).stderr_has("Connection refused");
}

const TEAM_10: &str = "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 10\n";

/// Reservers and `tt-log --enforce` writers on several hosts race for the same $10 of a ledger: the ledger's
/// lock serialises both kinds across machines, so exactly ten get in, and the holds and records fill it.
#[test]
fn reservers_and_enforced_writers_on_many_hosts_race_for_one_ledger_budget() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("tt.toml", TEAM_10);
    sc.cmd("tt-sum").args(["--log", &db.uri]).succeeds();
    let runs = (0..30)
        .map(|i| {
            let r = if i % 2 == 0 {
                sc.cmd("tt-budget").args(["--estimate-usd", "1", "--agent", "ATLAS", "--reserve"])
            } else {
                // $1.00: haiku-4.5 at $1 per million input tokens.
                sc.cmd("tt-log").args(["WRITER", "haiku-4.5", "1000000", "0", "--enforce", "--no-git", "-q"])
            };
            r.env("TT_LOG", &db.uri).env("HOSTNAME", format!("host-{}", i % 6))
        })
        .collect();
    let out = run_all(runs);
    let ok = out.iter().filter(|r| r.code == Some(0)).count();
    let refused = out.iter().filter(|r| r.code == Some(1)).count();
    assert_eq!((ok, refused), (10, 20), "{out:#?}");
    let holds: u64 = db.sql("SELECT count(*) FROM tt.holds").trim().parse().unwrap();
    let records: u64 = db.sql("SELECT count(*) FROM tt.records").trim().parse().unwrap();
    assert_eq!(holds + records, 10);
    let report = sc.cmd("tt-budget").env("TT_LOG", &db.uri).succeeds().jsonl();
    assert_eq!(report[0]["spent_usd"].to_string(), "10");
    assert_eq!(report[0]["held_usd"].to_string(), holds.to_string());
}

/// The ledger's locks are per budget window: a writer on another machine holding one window's lock stops the
/// checks that read that window (an enforced append, a reservation) until it lets go, and nothing else — a
/// writer whose record counts in another budget's window, and a plain append, go straight through.
#[test]
fn a_check_waits_for_the_lock_of_the_windows_it_reads_and_no_other() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"atlas-daily\"\nperiod = \"day\"\nlimit_usd = 100\nscope = { agent = \"ATLAS\" }\n\n\
         [[budget]]\nname = \"hermes-daily\"\nperiod = \"day\"\nlimit_usd = 100\nscope = { agent = \"HERMES\" }\n",
    );
    let log = |agent: &str| {
        sc.cmd("tt-log").args([agent, "haiku-4.5", "1000", "0", "--enforce", "--no-git", "-q", "--log", &db.uri])
    };
    // Which lock ATLAS's check takes: TT_LEDGER_EXPLAIN names it.
    let said = log("ATLAS").env("TT_LEDGER_EXPLAIN", "1").succeeds().stderr;
    let today = said.split(" / ").nth(2).and_then(|s| s.split(' ').next()).unwrap_or_default().to_string();
    assert!(said.starts_with("ledger: lock atlas-daily / Day / "), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    let key: i64 = said.rsplit("(key ").next().unwrap().trim_end().trim_end_matches(')').parse().unwrap();
    assert_eq!(today.len(), 10, "{said}");

    let held = db.hold_lock(key);
    let mut atlas = log("ATLAS");
    atlas.cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let mut atlas = atlas.cmd.spawn().unwrap();
    let mut reserve = sc
        .cmd("tt-budget")
        .args(["--estimate-usd", "1", "--agent", "ATLAS", "--reserve", "--log", &db.uri])
        .cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Another budget's window, a reservation in it, and a plain append: not held up.
    let hermes = sc.cmd("tt-budget").args(["--estimate-usd", "1", "--agent", "HERMES", "--reserve", "--log", &db.uri]);
    let plain = sc.cmd("tt-log").args(["ATLAS", "haiku-4.5", "1000", "0", "--no-git", "-q", "--log", &db.uri]);
    for run in [log("HERMES"), hermes, plain] {
        assert_eq!(within_a_minute(run), Some(0));
    }
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(atlas.try_wait().unwrap(), None, "ATLAS's check went on while its window was locked");
    assert_eq!(reserve.try_wait().unwrap(), None, "a reservation went on while a window it reads was locked");
    drop(held);
    assert_eq!(atlas.wait().unwrap().code(), Some(0));
    assert_eq!(reserve.wait().unwrap().code(), Some(0));
    assert_eq!(db.sql("SELECT agent, count(*) FROM tt.records GROUP BY agent ORDER BY agent"), "ATLAS|3\nHERMES|1\n");
}

/// The exit code of `run`, which must end within a minute (it is killed, and the test fails, if not).
fn within_a_minute(run: Run) -> Option<i32> {
    let mut run = run;
    run.cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut child = run.cmd.spawn().unwrap();
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("still waiting after a minute");
}

/// Replace reservation ids (random) with `r-ID`, and the times they expire with `TIME`, so two logs' words can
/// be compared.
fn masked(s: &str) -> String {
    let s = expiry_masked(s);
    let s = s.as_str();
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("r-") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        if tail.len() >= 36 && tail[..36].bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            out.push_str("r-ID");
            rest = &tail[36..];
        } else {
            out.push_str("r-");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

fn expiry_masked(s: &str) -> String {
    // A forecast projects from the time of the call: two calls a few milliseconds apart may differ in it.
    let mut s = s.to_string();
    while let Some(i) = s.find("\"forecast\":{") {
        let end = s[i..].find('}').map_or(s.len(), |j| i + j + 1);
        s.replace_range(i..end, "\"forecast\":\"F\"");
    }
    let s = s.as_str();
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("until 20") {
        out.push_str(&rest[..i]);
        out.push_str("until TIME");
        let tail = &rest[i + 6..];
        rest = &tail[tail.find('Z').map_or(tail.len(), |z| z + 1)..];
    }
    out.push_str(rest);
    out
}

/// Reserve, settle, release and the gate: each step gives the same answer on a ledger as on a JSONL log.
#[test]
fn reservations_on_a_ledger_answer_as_on_a_file() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("tt.toml", TEAM_10);
    let run = |tool: &str, args: &[&str], ledger: bool| {
        let mut r = sc.cmd(tool).args(args);
        if ledger {
            r = r.env("TT_LOG", &db.uri);
        }
        r.run()
    };
    // Each log's own reservation ids, as its first two steps printed them.
    let mut ids: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let steps: Vec<(&str, Vec<&str>)> = vec![
        ("tt-budget", vec!["--estimate-usd", "4", "--agent", "ATLAS", "--reserve"]),
        ("tt-budget", vec!["--estimate-usd", "4", "--agent", "BOLT", "--reserve"]),
        // $8 held: a third $4 does not fit, a $2 does (and is then released).
        ("tt-budget", vec!["--estimate-usd", "4", "--agent", "CARA", "--reserve"]),
        ("tt-budget", vec!["--format", "json"]),
        ("tt-log", vec!["--settle", "ID0", "ATLAS", "sonnet-4.5", "50000", "15000", "--no-git"]),
        ("tt-budget", vec!["--format", "json"]),
        ("tt-budget", vec!["--release", "ID1"]),
        ("tt-budget", vec!["--release", "ID1"]),
        ("tt-budget", vec!["--format", "json"]),
        ("tt-log", vec!["WRITER", "haiku-4.5", "9000000", "0", "--enforce", "--no-git", "-q"]),
        ("tt-log", vec!["WRITER", "haiku-4.5", "1000000", "0", "--enforce", "--no-git", "-q"]),
        ("tt-budget", vec!["--fail-over"]),
    ];
    for (n, (tool, args)) in steps.iter().enumerate() {
        let mut outs = Vec::new();
        for (k, ledger) in [false, true].into_iter().enumerate() {
            let a: Vec<String> = args
                .iter()
                .map(|a| match *a {
                    "ID0" => ids[k][0].clone(),
                    "ID1" => ids[k][1].clone(),
                    a => a.to_string(),
                })
                .collect();
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let o = run(tool, &a, ledger);
            if n < 2 {
                assert_eq!(o.code, Some(0), "{}", o.stderr);
                ids[k].push(o.stdout.trim().to_string());
            }
            outs.push(o);
        }
        let (file, ledger) = (&outs[0], &outs[1]);
        assert_eq!(ledger.code, file.code, "step {n} {tool} {args:?}: {}", ledger.stderr);
        assert_eq!(masked(&ledger.stdout), masked(&file.stdout), "step {n}");
        assert_eq!(masked(&ledger.stderr), masked(&file.stderr), "step {n}");
    }
    assert_eq!(db.sql("SELECT count(*) FROM tt.holds WHERE line LIKE '{\"hold\"%'"), "2\n");
}

/// tt-budget's answer from a ledger is the file log index's answer, for every kind of budget: the server's
/// sums by window, by session and by local day (a total budget's burn) in the config's time zone.
#[test]
fn tt_budget_counts_a_ledger_as_the_index_counts_a_file() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "tz = \"America/New_York\"\n\n[[budget]]\nname = \"month\"\nperiod = \"month\"\nlimit_usd = 50\n\n\
         [[budget]]\nname = \"atlas-day\"\nperiod = \"day\"\nscope = { agent = \"ATLAS\" }\nlimit_tokens = 90000\n\n\
         [[budget]]\nname = \"per-session\"\nperiod = \"session\"\nlimit_tokens = 100000\n\n\
         [[budget]]\nname = \"all-time\"\nperiod = \"total\"\nlimit_usd = 20\n\n\
         [[budget]]\nname = \"gpt-week\"\nperiod = \"week\"\nscope = { model = \"gpt-5\" }\nlimit_usd = 5\n",
    );
    // Records over the last 40 days around local midnight, with and without their cost, in a few sessions.
    let mut lines = String::new();
    for k in 0..120i64 {
        let ts = {
            let out = std::process::Command::new("date")
                .args(["-u", "-d", &format!("{} hours ago", k * 8 + 1), "+%Y-%m-%dT%H:%M:%SZ"])
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        let agent = ["ATLAS", "BOLT", "CARA"][k as usize % 3];
        let model = ["sonnet-4.5", "gpt-5", "gpt-5-2025-08-07"][k as usize % 3];
        let cost = if k % 4 == 0 { String::new() } else { format!(",\"cost_usd\":0.0{}", 10 + k) };
        lines.push_str(&format!(
            "{{\"v\":1,\"id\":\"b-{k}\",\"ts\":\"{ts}\",\"agent\":\"{agent}\",\"model\":\"{model}\",\"input_tokens\":{},\"output_tokens\":{},\"session\":\"s{}\"{cost}}}\n",
            1000 + k * 97,
            100 + k,
            k % 7
        ));
    }
    // Two records within half a microsecond of today's local midnight, one on each side: the server's
    // microsecond column rounds both onto it, and only their own nanoseconds say which day they are in.
    let midnight = {
        let out = std::process::Command::new("date")
            .args(["-u", "-d", "TZ=\"America/New_York\" 00:00 today", "+%s"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().parse::<i64>().unwrap()
    };
    let at = |secs: i64, frac: &str| {
        let out =
            std::process::Command::new("date").args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%S"]).output();
        format!("{}.{frac}Z", String::from_utf8(out.unwrap().stdout).unwrap().trim())
    };
    for (k, ts) in [(0, at(midnight - 1, "9999996")), (1, at(midnight, "0000004"))] {
        lines.push_str(&format!(
            "{{\"v\":1,\"id\":\"edge-{k}\",\"ts\":\"{ts}\",\"agent\":\"ATLAS\",\"model\":\"gpt-5\",\"input_tokens\":{},\"output_tokens\":0,\"cost_usd\":0.{k}1}}\n",
            40000 + k * 30000
        ));
    }
    sc.write("recent.jsonl", lines);
    sc.cmd("tt-log").args(["--import", "recent.jsonl", "-q"]).succeeds();
    sc.cmd("tt-log").args(["--import", "recent.jsonl", "-q", "--log", &db.uri]).succeeds();
    for args in [
        &["--format", "json"][..],
        &["--format", "json", "--estimate-usd", "1", "--session", "s3"][..],
        &["--fail-over"][..],
    ] {
        let file = sc.cmd("tt-budget").args(args).run();
        let ledger = sc.cmd("tt-budget").args(args).args(["--log", &db.uri]).run();
        assert_eq!(ledger.code, file.code, "{args:?}: {}", ledger.stderr);
        assert_eq!(masked(&ledger.stdout), masked(&file.stdout), "{args:?}");
        assert_eq!(masked(&ledger.stderr), masked(&file.stderr), "{args:?}");
        if args[0] == "--format" {
            assert!(file.stdout.contains("\"name\":\"all-time\""), "{}", file.stdout);
        }
    }
}

/// The level alerts `tt-log --enforce` prints as a record moves a budget across a level are a file log's, word
/// for word.
#[test]
fn enforced_appends_on_a_ledger_give_the_file_logs_alerts() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 1\n\n[[budget]]\nname = \"all\"\nperiod = \"total\"\nlimit_usd = 2\n");
    let mut said = 0;
    for tokens in ["500000", "240000", "250000", "10000"] {
        let args = ["ATLAS", "haiku-4.5", tokens, "0", "--enforce", "--no-git"];
        let file = sc.cmd("tt-log").args(args).run();
        let ledger = sc.cmd("tt-log").args(args).args(["--log", &db.uri]).run();
        assert_eq!((ledger.code, &ledger.stderr), (file.code, &file.stderr), "{tokens}");
        said += file.stderr.matches(" is now ").count();
    }
    assert!(said >= 2, "the steps cross levels");
}

/// A plain `tt-log` (no `--enforce`) into a ledger prints the level alerts a file log's prints, word for word,
/// and none with `-q` or `budget_alerts = false`.
#[test]
fn plain_appends_on_a_ledger_give_the_file_logs_alerts() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 1\n\n[[budget]]\nname = \"all\"\nperiod = \"total\"\nlimit_usd = 2\n\n[[budget]]\nname = \"per-session\"\nperiod = \"session\"\nlimit_tokens = 600000\n",
    );
    let mut said = 0;
    for tokens in ["500000", "240000", "250000", "10000", "900000", "100000"] {
        let args = ["ATLAS", "haiku-4.5", tokens, "0", "--session", "s-1", "--no-git"];
        let file = sc.cmd("tt-log").args(args).run();
        let ledger = sc.cmd("tt-log").args(args).args(["--log", &db.uri]).run();
        assert_eq!((ledger.code, &ledger.stderr), (file.code, &file.stderr), "{tokens}");
        said += file.stderr.matches(" is now ").count();
        // tt-budget counts the month from the same kept sums, to the same report (but for the projections,
        // which move with the clock between the two runs).
        let budget = |log: &[&str]| -> Vec<String> {
            let out = sc.cmd("tt-budget").args(["--format", "csv"]).args(log).run().stdout;
            let without_projections = |l: &str| {
                let f: Vec<&str> = l.split(',').collect();
                [&f[..15], &f[17..]].concat().join(",")
            };
            out.lines().map(without_projections).collect()
        };
        assert_eq!(budget(&["--log", &db.uri]), budget(&[]), "{tokens}");
    }
    assert!(said >= 4, "the steps cross levels of all three budgets");
    let quiet = sc.cmd("tt-log").args(["ATLAS", "haiku-4.5", "900000", "0", "--no-git", "-q", "--log", &db.uri]);
    quiet.succeeds().stderr_is("");
}

#[test]
fn a_record_committed_after_a_kept_sum_was_made_is_counted_by_the_next_check() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"all-time\"\nperiod = \"total\"\nlimit_tokens = 10000\n");
    let log = |tokens: &str| {
        sc.cmd("tt-log")
            .args(["ATLAS", "sonnet-4.5", tokens, "0", "--enforce", "--no-git", "-q", "--log", &db.uri])
            .run()
    };
    // Another machine's transaction, begun before the checks below and still open while they run.
    let mut other = db.session();
    other.run("BEGIN; SELECT pg_current_xact_id();");
    assert_eq!(log("1000").code, Some(0));
    assert_eq!(log("1000").code, Some(0));
    // The checks kept the window's sum in the ledger: the next check adds only what came after it.
    assert_eq!(db.sql("SELECT count(*) FROM tt.kept"), "1\n");
    // The other machine's record (7,500 tokens) commits now, in a transaction older than the checks' records.
    let line = r#"{"v":1,"id":"late","ts":"2026-11-20T10:00:00Z","agent":"LATE","model":"claude-sonnet-4-5","input_tokens":4000,"output_tokens":3500}"#;
    other.run(&format!(
        "INSERT INTO tt.records (id_key, id, ts, agent, model, input_tokens, output_tokens, cache_read_tokens, \
         cache_write_tokens, cache_write_1h_tokens, line) VALUES ('xlate', 'late', '2026-11-20T10:00:00Z', 'LATE', \
         'claude-sonnet-4-5', 4000, 3500, 0, 0, 0, '{line}'); COMMIT;"
    ));
    // 9,500 tokens are spent: 1,000 more would go over; 500 more would not.
    let refused = log("1000");
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(refused.stderr.contains("would go over its limit"), "{}", refused.stderr);
    assert_eq!(log("500").code, Some(0));
    assert_eq!(log("1").code, Some(1));
    // A kept sum is renewed once a check reads a few dozen records past it, not on every check.
    let horizon = || db.sql("SELECT horizon FROM tt.kept");
    let first = horizon();
    let zero = |from: usize, n: usize| -> String {
        (from..from + n)
            .map(|k| format!("{{\"v\":1,\"id\":\"zero-{k}\",\"ts\":\"2026-11-21T10:00:00Z\",\"agent\":\"ZERO\",\"model\":\"claude-sonnet-4-5\",\"input_tokens\":0,\"output_tokens\":0}}\n"))
            .collect()
    };
    sc.write("few.jsonl", zero(0, 10));
    sc.cmd("tt-log").args(["--import", "few.jsonl", "--log", &db.uri]).succeeds();
    assert_eq!(log("0").code, Some(0));
    assert_eq!(horizon(), first, "ten records past the kept sum: read, not kept");
    sc.write("more.jsonl", zero(10, 70));
    sc.cmd("tt-log").args(["--import", "more.jsonl", "--log", &db.uri]).succeeds();
    assert_eq!(log("0").code, Some(0));
    assert_ne!(horizon(), first, "eighty past it: a newer sum kept");
    assert_eq!(log("1").code, Some(1), "and the newer sum counts every record");
}

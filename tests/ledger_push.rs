//! Offline first, against a real PostgreSQL server (tests/common/pg.rs): `tt-export --to` pushes a log into a
//! ledger idempotently and resumably, keeps every line byte for byte (unknown fields included), draws no
//! progress bar into a pipe; `tt-log` keeps a record in a spool when the ledger is out of reach and pushes it
//! with the next write, never for a gate (`--enforce`) and never when the server answered and said no.
mod common;
use common::*;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;

/// `n` records with the shapes that matter: costs and none, unknown fields (nested), escapes and non-ASCII
/// text, several agents and days; `id` numbers from `from`.
fn log(from: u64, n: u64) -> String {
    let agents = ["ATLAS", "BOLT", "CARA"];
    let mut s = String::new();
    for i in from..from + n {
        let extra = match i % 4 {
            0 => r#","session":"s-1","tags":{"team":"web"},"zz_unknown":{"nested":[1,2,{"a":"b\\c"}]}"#,
            1 => r#","notes":"tab\there \"quoted\" back\\slash é ✓","x-custom":true"#,
            2 => r#","host":"laptop","cost_usd":0.0123"#,
            _ => r#","reasoning_tokens":40,"service_tier":"batch""#,
        };
        s.push_str(&format!(
            "{{\"v\":1,\"id\":\"rec-{i:06}\",\"ts\":\"2026-11-{:02}T{:02}:00:00Z\",\"agent\":\"{}\",\"model\":\"claude-sonnet-4-5\",\"input_tokens\":{},\"output_tokens\":{}{extra}}}\n",
            1 + i % 28,
            i % 24,
            agents[i as usize % 3],
            1000 + i,
            50 + i % 97
        ));
    }
    s
}

/// The ledger's lines, in the order they were added.
fn lines(db: &pg::Db) -> String {
    db.sql("SELECT line FROM tt.records ORDER BY seq")
}

/// This machine's spool files (of any ledger) in the scenario's state directory.
fn spools(sc: &Scenario) -> Vec<PathBuf> {
    let dir = sc.path().join(".local/state/tt/ledgers");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".spool.jsonl")).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// A TCP port on 127.0.0.1 where nothing listens (asked of the kernel, then let go).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A TCP proxy on `port` to the test server: the ledger "comes back" at an address that failed before.
fn proxy(port: u16, to: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the freed port can be bound again");
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else { continue };
            let pipe = |mut a: TcpStream, mut b: TcpStream| {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = a.read(&mut buf) {
                        if n == 0 || b.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = b.shutdown(std::net::Shutdown::Write);
                });
            };
            pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
            pipe(server, client);
        }
    });
}

#[test]
fn a_push_adds_what_the_ledger_lacks_and_a_second_adds_nothing() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    let text = log(0, 60);
    sc.write("usage.jsonl", &text);
    sc.cmd("tt-export")
        .args(["--to", &db.uri])
        .succeeds()
        .stdout_is("")
        .stderr_is(&format!("pushed 60 records to {} (0 already there)\n", db.uri));
    // Every line exactly as logged, in the log's order.
    assert_eq!(lines(&db), text);
    sc.cmd("tt-export")
        .args(["--to", &db.uri, "usage.jsonl"])
        .succeeds()
        .stderr_is(&format!("pushed 0 records to {} (60 already there)\n", db.uri));
    assert_eq!(db.sql("SELECT count(*) FROM tt.records"), "60\n");
    // The filters select what is pushed; --quiet says nothing.
    let db2 = pg::db().unwrap();
    sc.cmd("tt-export")
        .args(["--to", &db2.uri, "--agent", "BOLT", "--where", "host=laptop"])
        .succeeds()
        .stderr_is(&format!("pushed 5 records to {} (0 already there)\n", db2.uri));
    let want: String =
        text.lines().filter(|l| l.contains("\"BOLT\"") && l.contains("laptop")).map(|l| format!("{l}\n")).collect();
    assert_eq!(lines(&db2), want);
    sc.cmd("tt-export").args(["--to", &db2.uri, "--quiet"]).succeeds().stderr_is("");
    assert_eq!(db2.sql("SELECT count(*) FROM tt.records"), "60\n");
}

#[test]
fn pushed_lines_come_back_byte_for_byte() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    let text = log(0, 40);
    assert!(text.contains("zz_unknown") && text.contains("é ✓") && text.contains("b\\\\c"));
    sc.write("mine.jsonl", &text);
    sc.cmd("tt-export").args(["--to", &db.uri, "mine.jsonl"]).succeeds();
    // Pulled back into a local log by a merge, and read by any reader: the same bytes.
    sc.cmd("tt-log")
        .args(["--import", &db.uri, "--log", "pulled.jsonl"])
        .succeeds()
        .stderr_has("40 records: 40 new, 0 already present, 0 invalid");
    assert_eq!(sc.read("pulled.jsonl"), text);
    let from_ledger = sc.cmd("tt-export").args(["--format", "jsonl", &db.uri]).succeeds().stdout;
    let from_file = sc.cmd("tt-export").args(["--format", "jsonl", "mine.jsonl"]).succeeds().stdout;
    assert_eq!(from_ledger, from_file);
    // From stdin, and from one ledger to another.
    let db2 = pg::db().unwrap();
    sc.cmd("tt-export")
        .args(["--to", &db2.uri, &db.uri])
        .succeeds()
        .stderr_is(&format!("pushed 40 records to {} (0 already there)\n", db2.uri));
    assert_eq!(lines(&db2), text);
    let db3 = pg::db().unwrap();
    sc.cmd("tt-export").args(["--to", &db3.uri, "-"]).pipe_in(&text).succeeds();
    assert_eq!(lines(&db3), text);
}

#[test]
fn an_interrupted_push_keeps_its_batches_and_a_rerun_sends_the_rest() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    // Part of a log, pushed; then the whole: only the rest is added, after what was there, in order.
    let (head, all) = (log(0, 25), log(0, 60));
    sc.write("part.jsonl", &head);
    sc.write("usage.jsonl", &all);
    sc.cmd("tt-export").args(["--to", &db.uri, "part.jsonl"]).succeeds().stderr_has("pushed 25 records");
    sc.cmd("tt-export")
        .args(["--to", &db.uri])
        .succeeds()
        .stderr_is(&format!("pushed 35 records to {} (25 already there)\n", db.uri));
    assert_eq!(lines(&db), all);

    // A push stopped part way (here by a line that is no record, after the first batch of 50,000): the
    // committed batch stays, the error says so, and once the line is fixed a re-run adds only the rest.
    let db = pg::db().unwrap();
    let (first, rest) = (log(0, 50_000), log(50_000, 700));
    sc.write("big.jsonl", format!("{first}{{\"v\":1,\"id\":\"broken\"}}\n{rest}"));
    let out = sc.cmd("tt-export").args(["--to", &db.uri, "big.jsonl"]).fails_with(2).one_error_line("tt-export");
    assert!(
        out.stderr.contains("big.jsonl:50001: ")
            && out.stderr.contains(
                "(50,000 records before it were pushed: 50,000 added, 0 already there; a re-run adds only the rest)"
            ),
        "{}",
        out.stderr
    );
    assert_eq!(db.sql("SELECT count(*) FROM tt.records"), "50000\n");
    sc.write("big.jsonl", format!("{first}{rest}"));
    sc.cmd("tt-export")
        .args(["--to", &db.uri, "big.jsonl"])
        .succeeds()
        .stderr_is(&format!("pushed 700 records to {} (50,000 already there)\n", db.uri));
    assert_eq!(lines(&db), format!("{first}{rest}"));
}

/// A push of several batches goes over two connections, one copying a batch while the other inserts the one
/// before: the records still come in the order they were read, and a batch that fails on either connection
/// keeps the batches before it and adds none after.
#[test]
fn a_push_over_two_connections_keeps_the_logs_order() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    // Five batches of 50,000 and a short one: three for one connection, three for the other. A duplicate
    // of an earlier batch's record in a later one is already there.
    let all = log(0, 260_000);
    sc.write("usage.jsonl", format!("{all}{}", log(7, 1)));
    sc.cmd("tt-export")
        .args(["--to", &db.uri])
        .succeeds()
        .stderr_is(&format!("pushed 260,000 records to {} (1 already there)\n", db.uri));
    same_lines(&lines(&db), &all);

    // The third batch (the first connection's second) stops the push: the two before it are in, and
    // nothing of the fourth, whichever connection got to it.
    let db = pg::db().unwrap();
    let (head, tail) = (log(0, 100_000), log(100_000, 120_000));
    sc.write("big.jsonl", format!("{head}{{\"v\":1,\"id\":\"broken\"}}\n{tail}"));
    let out = sc.cmd("tt-export").args(["--to", &db.uri, "big.jsonl"]).fails_with(2).one_error_line("tt-export");
    assert!(
        out.stderr.contains("big.jsonl:100001: ") && out.stderr.contains("(100,000 records before it were pushed"),
        "{}",
        out.stderr
    );
    same_lines(&lines(&db), &head);
}

/// The pages of `db`'s records that hold both records with a cost the server sums and records without.
fn mixed_pages(db: &pg::Db) -> u32 {
    db.sql(
        "SELECT count(*) FROM (SELECT (ctid::text::point)[0] FROM tt.records GROUP BY 1 \
         HAVING bool_or(cost_pico IS NULL) AND bool_or(cost_pico IS NOT NULL)) p",
    )
    .trim()
    .parse()
    .unwrap()
}

#[test]
fn records_without_a_cost_are_stored_together_and_read_back_in_the_logs_order() {
    // A quarter of `log`'s records carry a cost: scattered among the others, records without one would share
    // every page with them, and a report reading their lines would read the whole table.
    let sc = Scenario::new();
    sc.write("usage.jsonl", log(0, 3000));
    // A push (one batch) and an import (batches of 2,000 rows): a page is mixed where a batch's records with a
    // cost end, or where the next batch's begin.
    let (pushed, imported) = match (pg::db(), pg::db()) {
        (Some(a), Some(b)) => (a, b),
        _ => return,
    };
    sc.cmd("tt-export").args(["--to", &pushed.uri]).succeeds();
    sc.cmd("tt-log").args(["--import", "usage.jsonl", "--log", &imported.uri]).succeeds();
    for (db, batches) in [(&pushed, 1), (&imported, 2)] {
        assert!(mixed_pages(db) < 2 * batches, "{} mixed pages", mixed_pages(db));
        same_lines(&lines(db), &log(0, 3000));
    }
}

#[test]
fn a_big_ledger_is_read_in_parts_that_add_up_to_the_log() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    // Big enough to be read over two connections (one per core, from 20,000 records), in two ranges of seq.
    sc.write("usage.jsonl", log(0, 60_000));
    sc.cmd("tt-export").args(["--to", &db.uri]).succeeds();
    let file = |args: &[&str]| sc.cmd("tt-sum").args(args).succeeds().stdout;
    let ledger = |args: &[&str]| {
        sc.cmd("tt-sum").args(args).args(["--log", &db.uri]).env("TT_LEDGER_PUSHDOWN", "0").succeeds().stdout
    };
    for by in ["agent,day", "session", "host,month"] {
        let (f, l) = (file(&["--by", by, "--format", "csv"]), ledger(&["--by", by, "--format", "csv"]));
        assert_eq!(l, f, "--by {by}");
    }
    // tt-budget reads it in parts too, to the same verdict.
    sc.write("tt.toml", "[[budget]]\nname = \"all\"\nperiod = \"month\"\nlimit_usd = 100\n");
    let budget = |log: &str| {
        sc.cmd("tt-budget").args(["--today", "2026-11-28", "--format", "csv", "--log", log]).succeeds().stdout
    };
    assert_eq!(budget(&db.uri), budget("usage.jsonl"));
    // A record stored out of its place (an update writes a new version elsewhere; a batch stores its records
    // without a cost after the others): the parts, read as stored, are not in the order added, and the sums
    // are the same.
    let out_of_place = || {
        db.sql("SELECT count(*) FROM (SELECT seq < lag(seq) OVER (ORDER BY ctid) AS back FROM tt.records) s WHERE back")
    };
    let before = out_of_place();
    db.sql("UPDATE tt.records SET host = host WHERE seq = (SELECT min(seq) + 10 FROM tt.records)");
    assert!(out_of_place().trim().parse::<u32>().unwrap() > before.trim().parse::<u32>().unwrap());
    let (f, l) = (file(&["--by", "agent,day", "--format", "csv"]), ledger(&["--by", "agent,day", "--format", "csv"]));
    assert_eq!(l, f);
    // A bad line in the second part is named by its place in the whole ledger, as a streaming read names it.
    db.sql("UPDATE tt.records SET line = '{\"v\":1,\"id\":' WHERE seq = (SELECT min(seq) + 44999 FROM tt.records)");
    let out =
        sc.cmd("tt-sum").args(["--log", &db.uri]).env("TT_LEDGER_PUSHDOWN", "0").fails_with(2).one_error_line("tt-sum");
    assert!(out.stderr.starts_with(&format!("tt-sum: error: {}:45000: ", db.uri)), "{}", out.stderr);
}

/// `got` is `want`, line for line (a mismatch names the first line that differs, not two long texts).
fn same_lines(got: &str, want: &str) {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    if let Some(k) = (0..g.len().min(w.len())).find(|&k| g[k] != w[k]) {
        panic!("line {} differs:\n got: {}\nwant: {}", k + 1, g[k], w[k]);
    }
    assert_eq!(g.len(), w.len(), "lines");
    assert_eq!(got, want);
}

#[test]
fn no_progress_bar_is_drawn_into_a_pipe() {
    let Some(db) = pg::db() else { return };
    let sc = Scenario::new();
    sc.write("usage.jsonl", log(0, 3000));
    // stderr is a pipe here: the summary line and nothing else, no `\r` redraws (not even with a slow push).
    let out = sc.cmd("tt-export").args(["--to", &db.uri]).env_remove("CI").succeeds();
    assert_eq!(out.stderr, format!("pushed 3,000 records to {} (0 already there)\n", db.uri));
}

#[test]
fn push_mistakes_are_usage_errors() {
    let sc = Scenario::new();
    sc.write("usage.jsonl", log(0, 3));
    sc.cmd("tt-export")
        .args(["--to", "team.jsonl"])
        .fails_with(2)
        .stderr_is("tt-export: error: --to takes a ledger's postgresql:// URI, not \"team.jsonl\"\n");
    sc.cmd("tt-export").args(["--to", "postgresql:///x", "--format", "csv"]).fails_with(2);
    sc.cmd("tt-export").args(["--to", "postgresql:///x", "--bundle"]).fails_with(2);
    // --quiet is not only --to's: any export may be asked for no progress bar.
    sc.cmd("tt-export").args(["--quiet", "--format", "csv", "usage.jsonl"]).succeeds().stderr_is("");
    sc.cmd("tt-export")
        .args(["--to", "postgresql:///x?host=/nowhere", "postgresql:///x?host=/nowhere"])
        .fails_with(2)
        .stderr_is("tt-export: error: --to postgresql:///x?host=/nowhere: that is the ledger being read\n");
}

#[test]
fn a_ledger_out_of_reach_spools_and_the_next_write_pushes_the_spool() {
    let Some(db) = pg::db() else { return };
    let pg = pg::server().unwrap();
    let sc = Scenario::new();
    // One URI throughout: first nothing listens at its port, then the server is there (through a proxy).
    let port = free_port();
    let uri = format!("postgresql://tt:tt-test@127.0.0.1:{port}/{}?sslmode=disable", db.name);
    let name = format!("postgresql://tt@127.0.0.1:{port}/{}?sslmode=disable", db.name);
    let first = sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "100", "10", "--log", &uri]).succeeds();
    assert!(first.stderr.starts_with(&format!("tt-log: warning: ledger {name} unreachable (")), "{}", first.stderr);
    let spool = spools(&sc);
    assert_eq!(spool.len(), 1, "one spool");
    let spool = &spool[0];
    assert!(
        first.stderr.contains(&format!("): record kept in {}; it is pushed with the next write\n", spool.display())),
        "{}",
        first.stderr
    );
    assert!(first.stderr.ends_with("logged 110 tokens (sonnet-4.5) for ATLAS - $0.0005\n"), "{}", first.stderr);
    assert!(!first.stderr.contains(":tt-test@"), "no password in messages");
    sc.cmd("tt-log").args(["BOLT", "sonnet-4.5", "200", "20", "--log", &uri, "--quiet"]).succeeds();
    let spooled = std::fs::read_to_string(spool).unwrap();
    assert_eq!(spooled.lines().count(), 2);
    // Readers of the ledger do not read the spool (they cannot reach the ledger either); it is a tt log.
    sc.cmd("tt-sum").args(["--log", &uri]).fails_with(2);
    sc.cmd("tt-sum").arg(spool).succeeds().stdout_has("\"records\":2");

    // The ledger is back: the next write pushes the spool first, then logs its own record, and removes it.
    proxy(port, pg.port);
    sc.cmd("tt-log")
        .args(["CARA", "sonnet-4.5", "300", "30", "--log", &uri])
        .succeeds()
        .stderr_has(&format!("tt-log: warning: pushed 2 spooled records to {name}\n"));
    assert!(spools(&sc).is_empty(), "the spool is removed once pushed");
    let ledger = lines(&db);
    assert_eq!(ledger.lines().count(), 3);
    assert!(ledger.starts_with(&spooled), "spooled records first, as logged:\n{ledger}");
    // A spool pushed again (a crash between the push and its removal) adds nothing twice.
    std::fs::write(spool, &spooled).unwrap();
    sc.cmd("tt-log")
        .args(["ATLAS", "sonnet-4.5", "1", "1", "--log", &uri])
        .succeeds()
        .stderr_has(&format!("tt-log: warning: pushed 2 spooled records to {name} (2 already there)\n"));
    assert_eq!(db.sql("SELECT count(*) FROM tt.records"), "4\n");
    // Nothing spooled: a write says nothing about a spool.
    let quiet = sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "1", "1", "--log", &uri]).succeeds();
    assert!(!quiet.stderr.contains("spool"), "{}", quiet.stderr);
    // `--push-spool` pushes without logging anything.
    std::fs::create_dir_all(spool.parent().unwrap()).unwrap();
    std::fs::write(spool, log(900, 3)).unwrap();
    sc.cmd("tt-log")
        .args(["--push-spool", "--log", &uri])
        .succeeds()
        .stderr_is(&format!("tt-log: pushed 3 spooled records to {name}\n"));
    sc.cmd("tt-log")
        .args(["--push-spool", "--log", &uri])
        .succeeds()
        .stderr_is(&format!("tt-log: nothing spooled for {name}\n"));
    assert_eq!(db.sql("SELECT count(*) FROM tt.records"), "8\n");
    assert!(spools(&sc).is_empty());
}

#[test]
fn a_gate_or_a_refused_login_never_spools() {
    let Some(db) = pg::db() else { return };
    let pg = pg::server().unwrap();
    let sc = Scenario::new();
    let dead = format!("postgresql://tt:tt-test@127.0.0.1:{}/{}?sslmode=disable", free_port(), db.name);
    sc.write(".config/tt/config.toml", "[[budget]]\nname = \"daily\"\nperiod = \"day\"\nlimit_tokens = 10000\n");
    // --enforce: a gate that cannot check fails closed, nothing kept aside.
    sc.cmd("tt-log")
        .args(["ATLAS", "sonnet-4.5", "100", "10", "--enforce", "--log", &dead])
        .fails_with(2)
        .one_error_line("tt-log");
    assert!(spools(&sc).is_empty(), "--enforce never spools");
    // A server that answered and said no: an error to fix, not a spool.
    let wrong = format!("postgresql://tt:wrong@127.0.0.1:{}/{}?sslmode=disable", pg.port, db.name);
    sc.cmd("tt-log")
        .args(["ATLAS", "sonnet-4.5", "100", "10", "--log", &wrong])
        .fails_with(2)
        .one_error_line("tt-log")
        .stderr_has("password authentication failed");
    let missing = format!("postgresql:///no_such_db?host={}&port={}&user=tt", pg.dir.display(), pg.port);
    sc.cmd("tt-log")
        .args(["ATLAS", "sonnet-4.5", "100", "10", "--log", &missing])
        .fails_with(2)
        .stderr_has("does not exist");
    assert!(spools(&sc).is_empty(), "no spool for a refused login or a missing database");
    // --push-spool is for a ledger.
    sc.cmd("tt-log").args(["--push-spool"]).fails_with(2).stderr_has("--push-spool");
    // A Unix socket where no server is: unreachable, spooled.
    let gone = format!("postgresql:///{}?host={}&port=1&user=tt", db.name, sc.path().display());
    sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5", "100", "10", "--log", &gone]).succeeds().stderr_has("unreachable");
    assert_eq!(spools(&sc).len(), 1);
}

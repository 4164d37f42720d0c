//! Reservations (`tt-budget --reserve`, `tt-log --settle`, `tt-budget --release`) and the level alerts tt-log
//! prints as it appends: races of many agents against one budget, the lifecycle of a hold, and what each
//! tool says.

mod common;
use common::*;

/// A monthly dollar budget of `limit` and a daily token budget scoped to ATLAS.
fn budgets(limit: &str) -> String {
    format!(
        "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = {limit}\n\n\
         [[budget]]\nname = \"atlas-tokens\"\nperiod = \"day\"\nscope = {{ agent = \"ATLAS\" }}\nlimit_tokens = 1000000\n"
    )
}

/// A record of `cost` dollars now (so it counts in this month's window).
fn log_cost(sc: &Scenario, agent: &str, cost: &str) {
    let ts = chrono_now();
    let line = format!(
        "{{\"v\":1,\"id\":\"{agent}{cost}{ts}\",\"ts\":\"{ts}\",\"agent\":\"{agent}\",\"model\":\"sonnet-4.5\",\"input_tokens\":1,\"output_tokens\":0,\"cost_usd\":{cost}}}\n"
    );
    let mut text = sc.log();
    text.push_str(&line);
    sc.write("usage.jsonl", text);
}

/// Now, as RFC 3339 (from `date`, so the tests need no clock crate of their own).
fn chrono_now() -> String {
    let out = std::process::Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Start `n` reservers of `args` at once; their (exit code, stdout) when all are done.
fn race(sc: &Scenario, n: usize, args: &[&str]) -> Vec<(Option<i32>, String)> {
    run_all((0..n).map(|_| sc.cmd("tt-budget").args(args)).collect()).into_iter().map(|o| (o.code, o.stdout)).collect()
}

fn holds(sc: &Scenario) -> Vec<serde_json::Value> {
    std::fs::read_to_string(sc.path().join("usage.jsonl.tt-holds"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// N agents race for a budget that fits K of their estimates: exactly K hold (each with its own id on stdout),
/// the rest hear "defer" with nothing on stdout — for several N and K, with spend already in the window, in
/// dollars and in tokens.
#[test]
fn n_reservers_where_k_fit_get_exactly_k_holds() {
    for (n, k, spent) in [(10, 1, None), (20, 5, None), (40, 10, Some("3")), (16, 16, None)] {
        let sc = Scenario::new();
        // $1 an estimate; the limit leaves room for exactly k of them on top of what was spent.
        let limit = k + spent.map_or(0, |s: &str| s.parse::<usize>().unwrap());
        sc.write("tt.toml", budgets(&limit.to_string()));
        if let Some(s) = spent {
            log_cost(&sc, "BOLT", s);
        }
        let out = race(&sc, n, &["--estimate-usd", "1", "--agent", "ATLAS", "--reserve"]);
        let won: Vec<&String> = out.iter().filter(|(c, _)| *c == Some(0)).map(|(_, o)| o).collect();
        let lost = out.iter().filter(|(c, o)| *c == Some(1) && o.is_empty()).count();
        assert_eq!((won.len(), lost), (k, n - k), "n={n} k={k}: {out:?}");
        let mut ids: Vec<&str> = won.iter().map(|o| o.trim()).collect();
        assert!(ids.iter().all(|i| i.starts_with("r-") && i.len() == 38), "{ids:?}");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), k, "distinct ids");
        assert_eq!(holds(&sc).len(), k, "n={n} k={k}");
        // The report counts them: spent (with the holds) is exactly the limit, nothing over.
        let report = sc.cmd("tt-budget").succeeds();
        let team = &report.jsonl()[0];
        assert_eq!(team["spent_usd"].to_string(), limit.to_string(), "n={n} k={k}");
        assert_eq!(team["held_usd"].to_string(), k.to_string());
        assert_eq!(team["level"], "critical");
    }
}

/// Tokens too: 12 racers of 300,000 tokens each for ATLAS's daily 1,000,000-token budget — exactly 3 hold.
#[test]
fn token_reservations_race_exactly() {
    let sc = Scenario::new();
    sc.write("tt.toml", budgets("1000000"));
    let out = race(&sc, 12, &["--estimate-tokens", "300000", "--agent", "ATLAS", "--model", "haiku-4.5", "--reserve"]);
    assert_eq!(out.iter().filter(|(c, _)| *c == Some(0)).count(), 3, "{out:?}");
    assert_eq!(out.iter().filter(|(c, _)| *c == Some(1)).count(), 9, "{out:?}");
    // Another agent's task does not count in ATLAS's budget: NOVA still fits.
    sc.cmd("tt-budget")
        .args(["--estimate-tokens", "300000", "--agent", "NOVA", "--model", "haiku-4.5", "--reserve"])
        .succeeds();
}

/// The lifecycle of a hold: it counts until the real usage settles it (the record names it), a settled or
/// released hold no longer counts, a bad id logs nothing.
#[test]
fn a_hold_counts_until_it_is_settled_or_released() {
    let sc = Scenario::new();
    sc.write("tt.toml", budgets("10"));
    let id = sc.cmd("tt-budget").args(["--estimate-usd", "6", "--agent", "ATLAS", "--reserve"]).succeeds().stdout;
    let id = id.trim().to_string();
    // $6 held of $10: a second $6 does not fit.
    sc.cmd("tt-budget")
        .args(["--estimate-usd", "6", "--agent", "NOVA", "--reserve"])
        .fails_with(1)
        .stdout_is("")
        .stderr_is("tt-budget: error: team: $4.00 left; this task needs ~$6.00: defer it\n");
    // The real usage is $0.375 (sonnet-4.5, 50,000 in and 15,000 out): settled, the hold is gone.
    sc.cmd("tt-log")
        .args(["--settle", &id, "ATLAS", "sonnet-4.5", "50000", "15000", "--no-git"])
        .succeeds()
        .stderr_is("logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750\n");
    assert_eq!(sc.records()[0]["reservation"], id.as_str());
    let team = sc.cmd("tt-budget").succeeds().jsonl()[0].clone();
    assert_eq!((team["spent_usd"].to_string(), team.get("held_usd")), ("0.375".to_string(), None));
    assert_eq!(holds(&sc).last().unwrap()["end"], id.as_str());
    // Settling again (a task's second record) logs it quietly; an id never made logs it with a warning.
    sc.cmd("tt-log")
        .args(["--settle", &id, "ATLAS", "sonnet-4.5", "100", "10", "--no-git", "-q"])
        .succeeds()
        .stderr_is("");
    let other = "r-01a24100-0000-7000-8000-000000000000";
    sc.cmd("tt-log")
        .args(["--settle", other, "ATLAS", "sonnet-4.5", "100", "10", "--no-git", "-q"])
        .succeeds()
        .stderr_is(&format!("tt-log: warning: no reservation {other} in this log: logged, nothing to settle\n"));
    // A malformed id is refused before anything is logged.
    let before = sc.log();
    sc.cmd("tt-log")
        .args(["--settle", "r-nope", "ATLAS", "sonnet-4.5", "100", "10", "--no-git"])
        .fails_with(2)
        .stderr_is("tt-log: error: --settle wants the id tt-budget --reserve printed (r-…), got \"r-nope\"\n");
    assert_eq!(sc.log(), before);
    sc.cmd("tt-log")
        .args(["ATLAS", "sonnet-4.5", "100", "10", "--no-git"])
        .env("TT_RESERVATION", "garbage")
        .fails_with(2)
        .stderr_is(
            "tt-log: error: TT_RESERVATION wants the id tt-budget --reserve printed (r-…), got \"garbage\"; unset it, \
             or set it to such an id\n",
        );
    assert_eq!(sc.log(), before);
    // TT_RESERVATION settles too; release frees a hold for the next reserver.
    let id2 = sc.cmd("tt-budget").args(["--estimate-usd", "9", "--reserve"]).succeeds().stdout.trim().to_string();
    sc.cmd("tt-budget").args(["--estimate-usd", "9", "--reserve"]).fails_with(1);
    sc.cmd("tt-budget").args(["--release", &id2]).succeeds().stderr_is(&format!("tt-budget: released {id2}\n"));
    sc.cmd("tt-budget")
        .args(["--release", &id2])
        .succeeds()
        .stderr_is(&format!("tt-budget: {id2} was already released\n"));
    sc.cmd("tt-budget").args(["--release", other]).fails_with(2).one_error_line("tt-budget");
    let id3 = sc.cmd("tt-budget").args(["--estimate-usd", "9", "--reserve"]).succeeds().stdout.trim().to_string();
    sc.cmd("tt-log")
        .args(["ATLAS", "haiku-4.5", "1000", "100", "--no-git", "-q"])
        .env("TT_RESERVATION", &id3)
        .succeeds();
    assert_eq!(sc.records().last().unwrap()["reservation"], id3.as_str());
    assert_eq!(sc.cmd("tt-budget").succeeds().jsonl()[0].get("held_usd"), None);
}

/// An unsettled hold lapses after its TTL: `--ttl`, else the config's `reservation_ttl`.
#[test]
fn holds_lapse_after_their_ttl() {
    let sc = Scenario::new();
    sc.write("tt.toml", format!("reservation_ttl = \"3s\"\n{}", budgets("10")));
    sc.cmd("tt-budget").args(["--estimate-usd", "8", "--reserve", "--ttl", "2s"]).succeeds();
    sc.cmd("tt-budget").args(["--estimate-usd", "8"]).fails_with(1);
    std::thread::sleep(std::time::Duration::from_millis(2300));
    sc.cmd("tt-budget").args(["--estimate-usd", "8", "--reserve"]).succeeds();
    let h = holds(&sc);
    let span = |h: &serde_json::Value| {
        let t = |k: &str| chrono_ms(h[k].as_str().unwrap());
        t("expires") - t("at")
    };
    assert_eq!((span(&h[0]), span(&h[1])), (2000, 3000));
    // Bad TTLs are usage errors.
    for bad in ["0s", "soon"] {
        sc.cmd("tt-budget").args(["--estimate-usd", "1", "--reserve", "--ttl", bad]).fails_with(2);
    }
    sc.write("tt.toml", format!("reservation_ttl = \"forever\"\n{}", budgets("10")));
    sc.cmd("tt-budget").fails_with(2).stderr_has("reservation_ttl");
}

/// Milliseconds of an RFC 3339 time tt wrote (`2026-12-04T12:00:00.123Z`), within a day.
fn chrono_ms(t: &str) -> i64 {
    let time = t.split('T').nth(1).unwrap().trim_end_matches('Z');
    let (hms, ms) = time.split_once('.').unwrap_or((time, "0"));
    let p: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 + format!("{ms:0<3}")[..3].parse::<i64>().unwrap()
}

/// `tt-log --enforce` counts the holds of other tasks, but not the one its record settles.
#[test]
fn enforce_counts_other_holds_but_not_the_one_it_settles() {
    let sc = Scenario::new();
    sc.write("tt.toml", budgets("2"));
    let id = sc.cmd("tt-budget").args(["--estimate-usd", "1.5", "--agent", "NOVA", "--reserve"]).succeeds().stdout;
    let id = id.trim();
    // A $0.75 record (sonnet-4.5, 100,000 in / 30,000 out) beside the $1.50 hold would make $2.25 of $2.
    let record = ["ATLAS", "sonnet-4.5", "100000", "30000", "--no-git", "--enforce"];
    sc.cmd("tt-log").args(record).fails_with(1).stderr_has("budget \"team\" would go over its limit");
    assert_eq!(sc.log(), "");
    // The same record settling that hold replaces it: $0.75 of $2.
    sc.cmd("tt-log").args(record).args(["--settle", id]).succeeds();
    assert_eq!(sc.records().len(), 1);
    let team = sc.cmd("tt-budget").succeeds().jsonl()[0].clone();
    assert_eq!(team["spent_usd"].to_string(), "0.75");
}

/// --reserve holds against the configured budgets now, in the log: anything else is a usage error.
#[test]
fn reserve_needs_an_estimate_the_log_and_now() {
    let sc = Scenario::new();
    sc.write("tt.toml", budgets("10"));
    sc.cmd("tt-budget").arg("--reserve").fails_with(2).one_error_line("tt-budget");
    sc.cmd("tt-budget").args(["--estimate-usd", "1", "--reserve", "--today", "2026-11-15"]).fails_with(2);
    sc.cmd("tt-budget").args(["--estimate-usd", "1", "--reserve", "--limit-usd", "5"]).fails_with(2);
    sc.write("rows.jsonl", "");
    sc.cmd("tt-budget").args(["--estimate-usd", "1", "--reserve", "rows.jsonl"]).fails_with(2);
    assert!(holds(&sc).is_empty());
}

/// tt-log says when what it appends moves a budget across a level — once, at the highest level crossed — and
/// is quiet with --quiet or `budget_alerts = false`; imports and --enforce say it too, and the index stays
/// exact.
#[test]
fn tt_log_alerts_when_a_budget_crosses_a_level() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"total\"\nlimit_usd = 1\n");
    // $0.3750: 37.5%, no level crossed.
    let log = |args: &[&str]| sc.cmd("tt-log").args(["ATLAS", "sonnet-4.5"]).args(args).arg("--no-git").run();
    let out = log(&["50000", "15000"]);
    assert_eq!(out.stderr, "logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750\n");
    // Another $0.3750: 75% — info.
    let out = log(&["50000", "15000"]);
    assert_eq!(
        out.stderr,
        "tt-log: warning: budget team is now info at 75%: $0.7500 of $1.00\nlogged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750\n"
    );
    // $0.21 more: 96% — warning and critical crossed at once: the highest is said.
    let out = log(&["20000", "10000"]);
    assert!(
        out.stderr.starts_with("tt-log: warning: budget team is now critical at 96%: $0.9600 of $1.00\n"),
        "{}",
        out.stderr
    );
    // Quiet: no alert.
    assert_eq!(log(&["1000", "100", "-q"]).stderr, "");
    // An import that pushes it over says so.
    sc.write(
        "more.jsonl",
        "{\"v\":1,\"id\":\"m1\",\"ts\":\"2026-11-10T10:00:00Z\",\"agent\":\"NOVA\",\"model\":\"x\",\"input_tokens\":1,\"output_tokens\":0,\"cost_usd\":0.5}\n",
    );
    sc.cmd("tt-log")
        .args(["--import", "more.jsonl"])
        .succeeds()
        .stderr_has("tt-log: warning: budget team is now over at 146.");
    // With the switch off, nothing — even with --enforce refusing nothing (a fresh budget).
    sc.write("tt.toml", "budget_alerts = false\n[[budget]]\nname = \"big\"\nperiod = \"total\"\nlimit_usd = 3\n");
    assert_eq!(log(&["100000", "30000", "-q", "--enforce"]).code, Some(0));
    assert_eq!(log(&["1000", "100", "--enforce"]).stderr, "logged 1,100 tokens (sonnet-4.5) for ATLAS - $0.0045\n");
    // On again, --enforce alerts too, and the index it keeps answers as a scan does.
    sc.write("tt.toml", "[[budget]]\nname = \"big\"\nperiod = \"total\"\nlimit_usd = 3\n");
    let out = log(&["50000", "15000", "--enforce"]);
    assert!(out.stderr.starts_with("tt-log: warning: budget big is now warning at 86.4"), "{}", out.stderr);
    let indexed = sc.cmd("tt-budget").succeeds().stdout;
    let scanned = sc.cmd("tt-budget").arg("usage.jsonl").succeeds().stdout;
    assert_eq!(indexed, scanned);
}

/// Everyone who keeps the index at once — plain tt-log (its alerts), tt-log --enforce, tt-budget readers that
/// catch it up, reservers — never leaves it wrong: afterwards it answers exactly as a scan of the log.
#[test]
fn concurrent_writers_and_readers_keep_the_index_exact() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        format!(
            "{}\n[[budget]]\nname = \"per-session\"\nperiod = \"session\"\nlimit_tokens = 100000000\n",
            budgets("1000000")
        ),
    );
    let mut children = Vec::new();
    for k in 0..48 {
        let session = format!("s{}", k % 7);
        let (tool, args): (&str, Vec<String>) = match k % 4 {
            0 => (
                "tt-log",
                vec!["ATLAS".into(), "sonnet-4.5".into(), "1200".into(), "300".into(), "--session".into(), session],
            ),
            1 => (
                "tt-log",
                vec![
                    "NOVA".into(),
                    "haiku-4.5".into(),
                    "900".into(),
                    "90".into(),
                    "--enforce".into(),
                    "--session".into(),
                    session,
                ],
            ),
            2 => ("tt-budget", vec!["--format".into(), "jsonl".into()]),
            _ => (
                "tt-budget",
                vec!["--estimate-usd".into(), "0.01".into(), "--session".into(), session, "--reserve".into()],
            ),
        };
        let mut r = sc.cmd(tool).args(&args);
        if tool == "tt-log" {
            r = r.arg("--no-git");
        }
        r.cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        children.push(r.cmd.spawn().unwrap());
    }
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(sc.records().len(), 24);
    assert_eq!(holds(&sc).len(), 12);
    let indexed = sc.cmd("tt-budget").succeeds().stdout;
    let scanned = sc.cmd("tt-budget").arg("usage.jsonl").succeeds().stdout;
    // A scan of the file knows no holds (of dollars, no tokens): the records and tokens agree.
    let counts = |s: &str| {
        s.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["name"].clone(), v["records"].clone(), v["spent_tokens"].clone(), v["session"].clone())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&indexed), counts(&scanned));
    // And once the holds lapse or are released, byte for byte.
    for h in holds(&sc) {
        sc.cmd("tt-budget").args(["--release", h["hold"].as_str().unwrap()]).succeeds();
    }
    assert_eq!(sc.cmd("tt-budget").succeeds().stdout, sc.cmd("tt-budget").arg("usage.jsonl").succeeds().stdout);
}

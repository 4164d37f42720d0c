//! The progress bar of imports, merges and exports: drawn on a terminal's stderr, never into a pipe, under CI
//! or with `--quiet`, and gone before the summary.
//!
//! A terminal here is a pseudo-terminal made by `script` (util-linux, as `tests/docs.rs` uses it), 120 columns
//! wide; `TT_PROGRESS_DELAY_MS=0` makes the bar appear at the first update instead of after a second. What the
//! terminal shows is compared with golden files once the parts that depend on timing are normalised: every
//! redraw's numbers become `N` and its bar `[bar]`, and each distinct redraw is listed once (see `split_bar`).
mod common;

use common::*;

/// A tt log of `n` generated records (the same every time).
fn log(n: u64) -> String {
    let agents = ["ATLAS", "BOLT", "CARA"];
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "{{\"v\":1,\"id\":\"0190d1c2-0000-7000-8000-{i:012}\",\"ts\":\"2026-11-{:02}T{:02}:00:00Z\",\"agent\":\"{}\",\
             \"model\":\"claude-sonnet-4-5\",\"input_tokens\":{},\"output_tokens\":{}}}\n",
            1 + i % 28,
            i % 24,
            agents[i as usize % 3],
            1000 + i,
            50 + i % 97
        ));
    }
    s
}

/// What a terminal shows when `command` runs in a bash on it (stdin, stdout and stderr all the terminal), with
/// the bar asked to appear at once: `\r\n` read as `\n` (the terminal's own line ends), the scenario's
/// directory as `/home/me`.
fn on_terminal(sc: &Scenario, command: &str, env: &[(&str, &str)]) -> String {
    let inner = format!("stty cols 120 rows 40 2>/dev/null; {command}");
    let mut run = sc.bash(&format!("script -qec {} /dev/null", quote(&inner))).env("TT_PROGRESS_DELAY_MS", "0");
    for (k, v) in env {
        run = run.env(k, v);
    }
    let out = run.succeeds();
    let real = std::fs::canonicalize(sc.path()).unwrap().display().to_string();
    out.stdout.replace("\r\n", "\n").replace(&real, "/home/me").replace(&sc.path().display().to_string(), "/home/me")
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `script` runs here (it is util-linux's, installed with every Debian); otherwise say so and skip.
fn script_present() -> bool {
    let ok = tool_present("script", &["-qec", "true", "/dev/null"]);
    if !ok {
        skipped("progress bars on a terminal", "`script` (util-linux) is not installed");
    }
    ok
}

/// The terminal's text split into the bar's redraws and what follows them; asserts how a bar is drawn: each
/// redraw starts with `\r`, the last one is blank (the bar erased) and what follows starts on a clean line.
fn split_bar(text: &str) -> (Vec<String>, String) {
    let Some((bars, rest)) = text.rsplit_once('\r') else { panic!("no bar was drawn:\n{text}") };
    let mut frames: Vec<&str> = bars.split('\r').collect();
    assert_eq!(frames.remove(0), "", "the bar starts a line of its own: {text:?}");
    let blank = frames.pop().unwrap_or_else(|| panic!("no redraw before the blank: {text:?}"));
    assert!(!blank.is_empty() && blank.chars().all(|c| c == ' '), "the last redraw blanks the line: {blank:?}");
    assert!(!frames.is_empty(), "at least one bar before the blank: {text:?}");
    for f in &frames {
        assert!(!f.contains('\n'), "a redraw never moves to another line: {f:?}");
        assert!(f.trim_end().chars().count() < 120, "narrower than the terminal: {f:?}");
        assert!(blank.len() >= f.trim_end().len(), "the blank covers the bar: {f:?}");
    }
    // A redraw before anything was read has no time left yet: the same line cut short, left out when a longer
    // one follows (how many redraws come before the first block is read depends on the machine's load).
    let mut seen: Vec<String> = Vec::new();
    for f in frames {
        let n = normalise(f.trim_end());
        seen.retain(|s| !n.starts_with(s.as_str()));
        if !seen.iter().any(|s| s.starts_with(&n)) {
            seen.push(n);
        }
    }
    (seen, rest.to_string())
}

/// A redraw without what depends on timing: runs of digits (with their `,` and `.`) as `N`, the bar as
/// `[bar]`, runs of spaces as one, and a time left in any unit as `N s left`.
fn normalise(frame: &str) -> String {
    numbers(frame).replace("N h N min left", "N s left").replace("N min N s left", "N s left")
}

fn numbers(frame: &str) -> String {
    let mut out = String::new();
    let mut chars = frame.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(|d| d.is_ascii_digit() || *d == ',' || *d == '.') {
                chars.next();
            }
            out.push('N');
        } else if c == '[' {
            let mut inner = String::new();
            while let Some(&d) = chars.peek()
                && d != ']'
            {
                inner.push(d);
                chars.next();
            }
            chars.next();
            assert!(inner.chars().all(|d| matches!(d, '=' | '>' | ' ')), "a bar of = > and spaces: {inner:?}");
            out.push_str("[bar]");
        } else if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out
}

/// The golden text of a run: the distinct redraws (each under `bar: `), then what the terminal showed after.
fn transcript(text: &str) -> String {
    let (frames, rest) = split_bar(text);
    let mut s: String = frames.iter().map(|f| format!("bar: {f}\n")).collect();
    s.push_str("--- then:\n");
    s.push_str(&rest);
    s
}

#[test]
fn a_merge_draws_records_bytes_rate_and_time_left_then_blanks_the_line() {
    if !script_present() {
        return;
    }
    let sc = Scenario::new();
    sc.write("laptop.jsonl", log(20_000));
    let text = on_terminal(&sc, "tt-log --import laptop.jsonl", &[]);
    golden("progress/merge.txt", &transcript(&text));
    assert_eq!(sc.log().lines().count(), 20_000);
}

#[test]
fn an_import_of_transcripts_draws_the_bytes_it_reads() {
    if !script_present() {
        return;
    }
    let sc = Scenario::new();
    copy_tree(&fixture("claude-code"), &sc.path().join("claude"));
    copy_tree(&fixture("codex"), &sc.path().join("codex"));
    let claude = on_terminal(&sc, "tt-log --import claude-code claude", &[]);
    let codex = on_terminal(&sc, "tt-log --import codex codex", &[]);
    // Again: only what the last import left unread (a last line without its newline) is read, and is the total.
    let again = on_terminal(&sc, "tt-log --import claude-code claude", &[]);
    let runs = [claude, codex, again].map(|t| transcript(&t));
    golden("progress/import.txt", &runs.concat());
}

#[test]
fn an_export_draws_when_its_output_is_not_the_terminal() {
    if !script_present() {
        return;
    }
    let sc = Scenario::new();
    sc.write("usage.jsonl", log(20_000));
    let to_file = on_terminal(&sc, "tt-export --format csv -o usage.csv", &[]);
    let redirected = on_terminal(&sc, "tt-export --format jsonl > usage.out.jsonl", &[]);
    golden("progress/export.txt", &format!("{}{}", transcript(&to_file), transcript(&redirected)));
    assert_eq!(sc.read("usage.csv").lines().count(), 20_001);
    assert_eq!(sc.read("usage.out.jsonl").lines().count(), 20_000);
    // Records printed on the terminal itself: a bar would be drawn over them.
    let on_screen = on_terminal(&sc, "tt-export --format csv --agent CARA --since 2026-11-28", &[]);
    assert!(!on_screen.contains('\r') && on_screen.starts_with("id,"), "{on_screen}");
}

#[test]
fn no_bar_under_ci_with_quiet_or_into_a_pipe() {
    if !script_present() {
        return;
    }
    let sc = Scenario::new();
    sc.write("laptop.jsonl", log(5_000));
    sc.write("desktop.jsonl", log(6_000));
    // CI set: the summary as in a pipe, no `\r` anywhere.
    let ci = on_terminal(&sc, "tt-log --import laptop.jsonl --dry-run > /dev/null", &[("CI", "true")]);
    assert!(!ci.contains('\r'), "{ci:?}");
    assert!(ci.ends_with("would import 5,000 records into /home/me/usage.jsonl (dry run: nothing written)\n"), "{ci}");
    // --quiet: nothing at all on the terminal, whichever tool.
    let quiet = on_terminal(&sc, "tt-log --import laptop.jsonl --quiet", &[]);
    assert_eq!(quiet, "");
    let quiet = on_terminal(&sc, "tt-export --format csv -o quiet.csv --quiet", &[]);
    assert_eq!(quiet, "");
    assert_eq!(sc.read("quiet.csv").lines().count(), 5_001);
    // stderr a pipe (here into cat, on the terminal): the lines a pipe always had.
    let piped = on_terminal(&sc, "tt-log --import desktop.jsonl 2>&1 | cat", &[]);
    assert_eq!(
        piped,
        "desktop.jsonl: log: 6,000 records: 1,000 new, 5,000 already present, 0 invalid\nimported 1,000 records into \
         /home/me/usage.jsonl\n"
    );
    // And as every other test runs the tools: stderr a pipe, the bar asked to show at once, no trace of it.
    sc.write("more.jsonl", log(7_000));
    let log_path = sc.log_path().display().to_string();
    sc.cmd("tt-log").args(["--import", "more.jsonl"]).env("TT_PROGRESS_DELAY_MS", "0").succeeds().stderr_is(&format!(
        "more.jsonl: log: 7,000 records: 1,000 new, 6,000 already present, 0 invalid\nimported 1,000 records into \
         {log_path}\n"
    ));
    sc.cmd("tt-export")
        .args(["--format", "csv", "-o", "x.csv"])
        .env("TT_PROGRESS_DELAY_MS", "0")
        .succeeds()
        .stderr_is("");
    copy_tree(&fixture("codex"), &sc.path().join("codex"));
    // Records printed to the terminal the bar would be drawn on (--dry-run, --print): none.
    let printing = on_terminal(&sc, "tt-log --import codex codex --dry-run", &[]);
    assert!(!printing.contains('\r') && printing.contains("\ncodex: 3 files read, would add 5 records"), "{printing}");
    let out = sc.cmd("tt-log").args(["--import", "codex", "codex"]).env("TT_PROGRESS_DELAY_MS", "0").succeeds();
    assert!(
        !out.stderr.contains('\r') && out.stderr.contains("\ncodex: 3 files read, added 5 records"),
        "{}",
        out.stderr
    );
}

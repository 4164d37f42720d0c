//! `tt-log --repair`: move the lines the readers refuse out of the log, into `<log>.rejected`.
//!
//! The glue only: finding the bad lines, keeping them and rewriting the log under its lock are
//! [`tt_core::log::repair_bad_lines`]. What is printed: with `--dry-run`, one line per bad line on stdout
//! (`line N: B bytes: first bytes…: why`) and a summary on stderr; otherwise the summary on stderr (none with
//! `--quiet`). Nothing to repair is exit 0, with a line saying so.

use std::io::Write;
use std::path::Path;

use tt_core::error::{Error, Result};
use tt_core::log::{BAD_HEAD, BadLine, Repair, repair_bad_lines};

/// Run `tt-log --repair [--dry-run]` on `log`.
pub fn run(log: &Path, dry_run: bool, quiet: bool) -> Result<()> {
    let p = log.display().to_string();
    let Some(mut repair) = repair_bad_lines(log, dry_run)? else {
        say(quiet, &format!("{p}: no log here: nothing to repair"));
        return Ok(());
    };
    // What taking the lock repaired first (a torn last line moved aside): said after the summary, whatever it is.
    let repaired = std::mem::take(&mut repair.warnings);
    let result = report(log, dry_run, quiet, &repair);
    for w in repaired {
        tt_core::cli::warn("tt-log", w);
    }
    result
}

/// Say what the repair found, and did.
fn report(log: &Path, dry_run: bool, quiet: bool, repair: &Repair) -> Result<()> {
    let p = log.display().to_string();
    let lines = |n: usize| format!("{n} bad line{}", if n == 1 { "" } else { "s" });
    let numbers = repair.bad.iter().map(|b| b.line.to_string()).collect::<Vec<_>>().join(", ");
    let numbers = format!("line{} {numbers}", if repair.bad.len() == 1 { "" } else { "s" });
    let torn = repair.torn_tail.map(|n| {
        format!("; its unterminated last line ({n} bytes, torn or being written) goes to {p}.torn on the next append")
    });
    if dry_run {
        let mut out = tt_core::output::stdout();
        let listed = repair.bad.iter().try_for_each(|b| writeln!(out, "{}", describe(b))).and_then(|()| out.flush());
        match listed {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(Error::io("<stdout>", e)),
        }
        let what = if repair.bad.is_empty() {
            format!("{p}: nothing to repair ({} lines, none refused by the readers)", repair.lines)
        } else {
            format!(
                "{p}: would move {} ({numbers}) of {} to {}; nothing changed (dry run)",
                lines(repair.bad.len()),
                repair.lines,
                repair.rejected.display()
            )
        };
        say(quiet, &format!("{what}{}", torn.unwrap_or_default()));
        return Ok(());
    }
    if repair.bad.is_empty() {
        say(quiet, &format!("{p}: nothing to repair ({} lines, none refused by the readers)", repair.lines));
        return Ok(());
    }
    say(
        quiet,
        &format!(
            "{p}: moved {} ({numbers}) to {}; {} lines kept{}",
            lines(repair.bad.len()),
            repair.rejected.display(),
            repair.lines - repair.bad.len() as u64,
            if repair.index_removed { "; the budget index will be rebuilt" } else { "" }
        ),
    );
    Ok(())
}

/// `line 17: 4,096 bytes: \x00\x00…: invalid JSON: expected a value (column 1)`.
fn describe(b: &BadLine) -> String {
    let more = if b.len > BAD_HEAD as u64 { "…" } else { "" };
    format!("line {}: {} bytes: {}{more}: {}", b.line, tt_core::money::thousands(b.len), b.head.escape_ascii(), b.why)
}

fn say(quiet: bool, s: &str) {
    if !quiet {
        let _ = writeln!(std::io::stderr(), "{s}");
    }
}

//! `tt-log --repair`: move the lines the readers refuse out of the log, into `<log>.rejected`.
//!
//! The glue only: finding the bad lines, keeping them and rewriting the log under its lock are
//! [`tt_core::log::repair_bad_lines`], the words [`tt_core::log::Repair::summary`]. What is printed: with
//! `--dry-run`, one line per bad line on stdout (`line N: B bytes: first bytes…: why`) and a summary on stderr;
//! otherwise the summary on stderr (none with `--quiet`). Nothing to repair is exit 0, with a line saying so.

use std::io::Write;
use std::path::Path;

use tt_core::error::{Error, Result};
use tt_core::log::repair_bad_lines;

/// Run `tt-log --repair [--dry-run]` on `log`.
pub fn run(log: &Path, dry_run: bool, quiet: bool) -> Result<()> {
    let say = |s: &str| {
        if !quiet {
            let _ = writeln!(std::io::stderr(), "{s}");
        }
    };
    let Some(mut repair) = repair_bad_lines(log, dry_run)? else {
        say(&format!("{}: no log here: nothing to repair", log.display()));
        return Ok(());
    };
    // What taking the lock repaired first (a torn last line moved aside): said after the summary, whatever it is.
    let repaired = std::mem::take(&mut repair.warnings);
    let mut result = Ok(());
    if dry_run {
        let mut out = tt_core::output::stdout();
        let listed = repair.bad.iter().try_for_each(|b| writeln!(out, "{}", b.describe())).and_then(|()| out.flush());
        result = tt_core::output::printed(listed).map(drop).map_err(|e| Error::io("<stdout>", e));
    }
    if result.is_ok() {
        say(&repair.summary(log, dry_run));
    }
    for w in repaired {
        tt_core::cli::warn("tt-log", w);
    }
    result
}

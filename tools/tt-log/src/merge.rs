//! `tt-log --import FILE…`: merge tt logs and `tt-export --bundle` files into the log, new ids only.
//!
//! Every line of every file is validated (and a bundle's checksum verified) before anything is written: one bad
//! line and nothing is imported. Ids are the identity of a record, so importing the same file twice, or A into B
//! and B into A, never duplicates anything. The new records are appended in one write under the log lock, and
//! each imported file is noted in the import history next to the log (`usage.jsonl.tt-history.jsonl`). The
//! merge and the words of its report are [`tt_core::bundle::Merge`]'s; this prints them.

use std::io::Write;

use tt_core::config::Config;
use tt_core::error::Result;

use crate::Cli;

/// Import tt JSONL logs or bundles, and report the merge on stderr (the new records on stdout with `--print`
/// or `--dry-run`).
pub fn run(cli: &Cli, config: &Config, files: &[String]) -> Result<()> {
    let log = cli.common.log_path(config)?;
    let files: Vec<String> = files.iter().chain(cli.positional()).cloned().collect();
    let sources = tt_core::input::sources(&files, std::path::Path::new(""));
    let merge = tt_core::bundle::merge(&log, &sources, config, cli.dry_run, !cli.quiet)?;
    let mut err = std::io::stderr().lock();
    if !cli.quiet {
        for l in merge.file_lines() {
            let _ = writeln!(err, "{l}");
        }
    }
    if !merge.ok() {
        let (lines, refused) = merge.refusal();
        for l in lines {
            let _ = writeln!(err, "tt-log: error: {l}");
        }
        return Err(refused);
    }
    drop(err);
    // The alerts, then what taking the locks repaired (a torn last line moved aside).
    for a in merge.alerts.iter().chain(&merge.warnings) {
        tt_core::cli::warn("tt-log", a);
    }
    if cli.print || cli.dry_run {
        let mut out = tt_core::output::stdout();
        out.write_all(merge.plan.lines.as_bytes())?;
        out.flush()?;
    }
    if !cli.quiet {
        let _ = writeln!(std::io::stderr(), "{}", merge.summary(&log));
    }
    Ok(())
}

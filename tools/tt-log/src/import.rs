//! `tt-log --import SOURCE [PATH…]`: agent transcripts (`claude-code`, `codex`, read by `tt_core::import`), or
//! tt logs and `tt-export --bundle` files merged into the log, new ids only ([`tt_core::bundle::merge`]).
//!
//! A merge validates every line of every file (and a bundle's checksum) before anything is written: one bad
//! line and nothing is imported. Ids are the identity of a record, so importing the same file twice, or A into B
//! and B into A, never duplicates anything. The new records are appended in one write under the log lock, and
//! each imported file is noted in the import history next to the log (`usage.jsonl.tt-history.jsonl`). What is
//! said is the core's words ([`tt_core::import::Report`], [`tt_core::bundle::Merge`]); this prints them.
//!
//! Both draw a progress bar on a terminal's stderr once they have run about a second (`importing`, `merging`:
//! records and bytes read, rate, time left; see [`tt_core::progress`]), blanked before anything is printed.

use std::io::Write;

use tt_core::config::Config;
use tt_core::error::Result;
use tt_core::import::{self, Source};
use tt_core::progress::Progress;

use crate::Cli;

/// Import agent transcripts from `paths` (the default directories without), then report one summary line.
pub fn transcripts(cli: &Cli, config: &Config, source: Source, paths: &[String]) -> Result<()> {
    if let Some(a) = &cli.agent {
        tt_core::record::check_name("agent", a)?;
    }
    let log = cli.common.log_path(config)?;
    let args = paths.iter().chain(cli.positional()).map(String::as_str);
    let (resolved, finished) =
        import::hook::resolve(args, &mut || tt_core::input::read_all("<stdin>", tt_core::input::stdin()))?;
    let found = import::discover(source, &resolved)?;
    for w in &found.warnings {
        tt_core::cli::warn("tt-log", w);
    }
    let opts = import::Options {
        agent: cli.agent.clone(),
        dry_run: cli.dry_run,
        // TT_IMPORT_THREADS: threads reading transcripts (default two, or one on a single CPU); for benchmarks.
        threads: std::env::var("TT_IMPORT_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(0),
        finished,
        all_finished: cli.finished,
        alerts: !cli.quiet,
    };
    let mut out = tt_core::output::stdout();
    // A closed stdout (`--print | head -1`) stops the printing, never the import: the records are still
    // appended and the summary still goes to stderr.
    let mut show = cli.print || cli.dry_run;
    // No bar over records printed to the same terminal. How much there is to read is known once the import has
    // looked at the files from their saved offsets; it is only looked for when the bar may show.
    let mut bar = Progress::new("importing", None, cli.quiet || (show && tt_core::output::stdout_is_terminal()));
    let shown = bar.shown();
    let mut tell = |d: import::Done| {
        bar.set_total(Some(d.of));
        bar.update(d.requests, d.bytes);
    };
    let progress: Option<&mut dyn FnMut(import::Done)> = if shown { Some(&mut tell) } else { None };
    let sink = &mut |line: &str| {
        if show {
            show = tt_core::output::printed(writeln!(out, "{line}"))?;
        }
        Ok(())
    };
    let report = import::import(source, &found.files, &log, config, &opts, sink, progress)?;
    bar.finish();
    if show {
        tt_core::output::printed(out.flush())?;
    }
    for w in report.warnings.iter().chain(&report.alerts).cloned().chain(report.unpriced_warnings()) {
        tt_core::cli::warn("tt-log", w);
    }
    if !cli.quiet {
        let _ = writeln!(std::io::stderr(), "{}", report.summary(source, cli.dry_run));
    }
    Ok(())
}

/// Import tt JSONL logs or bundles, and report the merge on stderr (the new records on stdout with `--print`
/// or `--dry-run`).
pub fn merge(cli: &Cli, config: &Config, files: &[String]) -> Result<()> {
    let log = cli.common.log_path(config)?;
    let files: Vec<String> = files.iter().chain(cli.positional()).cloned().collect();
    let sources = tt_core::input::sources(&files, std::path::Path::new(""))?;
    let mut bar = Progress::new("merging", tt_core::input::Source::total_size(&sources), cli.quiet);
    let merge =
        tt_core::bundle::merge(&log, &sources, config, cli.dry_run, !cli.quiet, &mut |n, bytes| bar.update(n, bytes))?;
    bar.finish();
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

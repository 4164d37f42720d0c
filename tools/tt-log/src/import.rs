//! `tt-log --import claude-code|codex [PATH…]`: agent transcripts, read by `tt_core::import`. (tt logs and
//! bundles are [`crate::merge`]'s.)

use std::io::Write;

use tt_core::config::Config;
use tt_core::error::Result;
use tt_core::import::{self, Source};

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
    // TT_IMPORT_THREADS: worker threads reading transcripts (default two, or one on a single CPU); for benchmarks.
    let threads = std::env::var("TT_IMPORT_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let opts = import::Options {
        agent: cli.agent.clone(),
        dry_run: cli.dry_run,
        threads,
        finished,
        all_finished: cli.finished,
        alerts: !cli.quiet,
    };
    let mut out = tt_core::output::stdout();
    // A closed stdout (`--print | head -1`) stops the printing, never the import: the records are still
    // appended and the summary still goes to stderr.
    let mut show = cli.print || cli.dry_run;
    let report = import::import(source, &found.files, &log, config, &opts, &mut |line| {
        if show {
            show = tt_core::output::printed(writeln!(out, "{line}"))?;
        }
        Ok(())
    })?;
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

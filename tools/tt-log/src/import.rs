//! `tt-log --import SOURCE [PATH…]`: agent transcripts (`claude-code`, `codex`) or tt logs and bundles.
//!
//! Dispatch only: agent transcripts are read by `tt_core::import`, tt logs and bundles by [`crate::merge`].

use std::io::Write;
use std::path::PathBuf;

use tt_core::config::Config;
use tt_core::error::{Error, Result};
use tt_core::import::{self, Source};
use tt_core::money;

use crate::Cli;

/// Run an import. `source` is `claude-code`, `codex`, or the first file of a tt log / bundle import.
pub fn run(cli: &Cli, config: &Config, source: &str, paths: &[String]) -> Result<()> {
    match source {
        "claude-code" | "codex" => {
            let source = Source::parse(source).ok_or_else(|| tt_core::Error::usage("unknown import source"))?;
            transcripts(cli, config, source, paths)
        }
        file => {
            if file != "-" && std::fs::symlink_metadata(file).is_err() && !file.contains(['/', '.']) {
                // `--import claude`: neither a source nor a file; say both.
                return Err(Error::usage(format!(
                    "--import {file}: no such file, and not a transcript source (claude-code, codex)"
                )));
            }
            let mut files = vec![file.to_string()];
            files.extend(paths.iter().cloned());
            crate::merge::run(cli, config, &files)
        }
    }
}

/// `tt-log --import claude-code|codex [PATH…]`: import agent transcripts, then report one summary line.
fn transcripts(cli: &Cli, config: &Config, source: Source, paths: &[String]) -> Result<()> {
    if cli.strict {
        // A transcript import logs a request of an unknown model unpriced, with a warning per model: refusing
        // it would refuse a whole transcript for one line, so --strict is refused rather than ignored.
        return Err(Error::usage(
            "--strict refuses one logged record of an unknown model; it cannot be used with --import",
        ));
    }
    if let Some(a) = &cli.agent {
        tt_core::record::check_name("agent", a)?;
    }
    let log = cli.common.log_path(config)?;
    // `--import codex --dry-run DIR`: clap takes DIR for the seed form's AGENT; it is a path here.
    let positional = [&cli.pos_agent, &cli.pos_model, &cli.pos_input, &cli.pos_output, &cli.pos_note];
    let mut finished = import::Finished::default();
    let mut resolved = Vec::new();
    for p in paths.iter().chain(positional.into_iter().flatten()) {
        if p == "-" {
            resolved.extend(import::hook::paths(
                &tt_core::input::read_all("<stdin>", tt_core::input::stdin())?,
                &mut finished,
            )?);
        } else {
            resolved.push(PathBuf::from(p));
        }
    }
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
    let files = found.files;
    let mut out = tt_core::output::stdout();
    // A closed stdout (`--print | head -1`) stops the printing, never the import: the records are still
    // appended and the summary still goes to stderr.
    let mut show = cli.print || cli.dry_run;
    let printed = |r: std::io::Result<()>| match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Error::from(e)),
        Ok(()) => Ok(true),
    };
    let report = import::import(source, &files, &log, config, &opts, &mut |line| {
        if show {
            show = printed(writeln!(out, "{line}"))?;
        }
        Ok(())
    })?;
    if show {
        printed(out.flush())?;
    }
    for w in report.warnings.iter().chain(&report.alerts) {
        tt_core::cli::warn("tt-log", w);
    }
    for (model, n) in &report.unpriced {
        tt_core::cli::warn(
            "tt-log",
            format!(
                "unknown model {model:?}: {} logged unpriced (add it to the price table; tt-price --list shows it)",
                money::plural(*n, "record")
            ),
        );
    }
    if !cli.quiet {
        let _ = writeln!(std::io::stderr(), "{}", summary(source, &report, cli.dry_run));
    }
    Ok(())
}

/// The one line an import ends with: files read, records added (tokens, dollars, unpriced), duplicates and
/// malformed lines skipped, and what waits for the next run.
fn summary(source: Source, report: &import::Report, dry_run: bool) -> String {
    let unpriced: u64 = report.unpriced.values().sum();
    let unpriced = if unpriced > 0 { format!(", {unpriced} unpriced") } else { String::new() };
    let verb = if dry_run { "would add" } else { "added" };
    let unchanged = if report.unchanged > 0 { format!(" ({} unchanged)", report.unchanged) } else { String::new() };
    // What waits for the next import: requests that may still be streaming, and last lines still being
    // written that may hold one (a file just copied looks like one being written too: see IDLE_COMPLETE).
    let mut waiting = Vec::new();
    if report.held > 0 {
        waiting.push(format!("held back {} still being written", money::plural(report.held, "request")));
    }
    if report.unfinished > 0 {
        let lines = if report.unfinished == 1 {
            "1 last line without its newline yet".to_string()
        } else {
            format!("{} last lines without their newline yet", money::thousands(report.unfinished))
        };
        waiting.push(lines);
    }
    let held =
        if waiting.is_empty() { String::new() } else { format!("; {} (read again next time)", waiting.join("; ")) };
    format!(
        "{}: {} read{unchanged}, {verb} {} ({} tokens, ${}{unpriced}), skipped {} and {}{held}",
        source.name(),
        money::plural(report.files as u64, "file"),
        money::plural(report.added, "record"),
        money::thousands(report.tokens),
        money::fixed(report.cost, 4),
        money::plural(report.duplicates, "duplicate"),
        money::plural(report.malformed, "malformed line"),
    )
}

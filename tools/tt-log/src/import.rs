//! `tt-log --import SOURCE [PATH…]`: agent transcripts (`claude-code`, `codex`) or tt logs and bundles.
//!
//! Dispatch only: agent transcripts are read by `tt_core::import`, tt logs and bundles by [`crate::merge`].

use std::io::Write;
use std::path::PathBuf;

use tt_core::cli::Outcome;
use tt_core::config::Config;
use tt_core::error::{Error, Result};
use tt_core::import::{self, Source};
use tt_core::money;

use crate::Cli;

/// Run an import. `source` is `claude-code`, `codex`, or the first file of a tt log / bundle import.
pub fn run(cli: &Cli, config: &Config, source: &str, paths: &[String]) -> Result<Outcome> {
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
fn transcripts(cli: &Cli, config: &Config, source: Source, paths: &[String]) -> Result<Outcome> {
    if let Some(a) = &cli.agent {
        tt_core::record::check_name("agent", a)?;
    }
    let log = cli.common.log_path(config)?;
    // `--import codex --dry-run DIR`: clap takes DIR for the seed form's AGENT; it is a path here.
    let positional = [&cli.pos_agent, &cli.pos_model, &cli.pos_input, &cli.pos_output, &cli.pos_note];
    let mut finished = false;
    let mut resolved = Vec::new();
    for p in paths.iter().chain(positional.into_iter().flatten()) {
        if p == "-" {
            let (path, done) = hook_input()?;
            finished |= done;
            resolved.push(path);
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
    let opts = import::Options { agent: cli.agent.clone(), dry_run: cli.dry_run, threads, finished };
    let files = found.files;
    let mut out = tt_core::output::stdout();
    let show = cli.print || cli.dry_run;
    let report = import::import(source, &files, &log, config, &opts, &mut |line| {
        if show {
            writeln!(out, "{line}")?;
        }
        Ok(())
    })?;
    out.flush()?;
    for w in &report.warnings {
        tt_core::cli::warn("tt-log", w);
    }
    for (model, n) in &report.unpriced {
        tt_core::cli::warn(
            "tt-log",
            format!(
                "unknown model {model:?}: {} logged unpriced (add it to the price table; tt-price --list shows it)",
                plural(*n, "record")
            ),
        );
    }
    if !cli.quiet {
        let unpriced: u64 = report.unpriced.values().sum();
        let unpriced = if unpriced > 0 { format!(", {unpriced} unpriced") } else { String::new() };
        let verb = if cli.dry_run { "would add" } else { "added" };
        let unchanged = if report.unchanged > 0 { format!(" ({} unchanged)", report.unchanged) } else { String::new() };
        let held = if report.held > 0 {
            format!("; held back {} still being written (read again next time)", plural(report.held, "request"))
        } else {
            String::new()
        };
        let _ = writeln!(
            std::io::stderr(),
            "{}: {} read{unchanged}, {verb} {} ({} tokens, ${}{unpriced}), skipped {} and {}{held}",
            source.name(),
            plural(report.files as u64, "file"),
            plural(report.added, "record"),
            money::thousands(report.tokens),
            money::fixed(report.cost, 4),
            plural(report.duplicates, "duplicate"),
            plural(report.malformed, "malformed line"),
        );
    }
    Ok(Outcome::Ok)
}

fn plural(n: u64, what: &str) -> String {
    format!("{} {what}{}", money::thousands(n), if n == 1 { "" } else { "s" })
}

/// The `-` path: a Claude Code hook's JSON on stdin, which names the transcript in `transcript_path`. True
/// with it when the hook's event (`hook_event_name`) is `Stop`, `SubagentStop` or `SessionEnd`: the transcript
/// is complete then, so nothing at its end is held back as possibly still streaming.
fn hook_input() -> Result<(PathBuf, bool)> {
    let text = tt_core::input::read_all("<stdin>", tt_core::input::stdin())?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::data(format!("<stdin>: {}", tt_core::record::json_error_message(&e))))?;
    let finished =
        matches!(doc.get("hook_event_name").and_then(|v| v.as_str()), Some("Stop" | "SubagentStop" | "SessionEnd"));
    match doc.get("transcript_path").and_then(|v| v.as_str()).filter(|s| !s.is_empty()) {
        Some(s) => Ok((PathBuf::from(s), finished)),
        None => Err(Error::data("<stdin>: no `transcript_path` in the hook input")),
    }
}

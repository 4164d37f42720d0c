//! `tt-optimize`: where the money goes and evidenced, priced ways to spend less.
//!
//! The CLI glue only: the analyses live in [`tt_core::optimize`], the windows in [`tt_core::period`], the
//! line reader in [`tt_core::scan`]. Records are read twice — once for every analysis, once more to find the
//! records above each agent's outlier threshold and the first records of the sessions that make a caching
//! suggestion — so standard input is first copied to a temporary file (memory stays bounded; the disk holds
//! the copy while the tool runs).

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use rust_decimal::Decimal;
use tt_core::cli::{CommonArgs, HELP_FOOTER};
use tt_core::error::{Error, Result};
use tt_core::input::Source;
use tt_core::optimize::{Analyzer, Type};
use tt_core::output::Format;
use tt_core::period::Period;
use tt_core::scan::{self, View};

const EXAMPLES: &str = "\
Examples:
  tt-optimize                                   ranked suggestions for the whole log (a table on a terminal)
  tt-optimize --period last-month --min-saving 5
  tt-optimize --format markdown > optimize.md   a report for a PR or a chat
  tt-optimize --type rightsize,caching | jq -r 'select(.kind==\"suggestion\") | .message'
  tt-optimize --today 2026-11-30 --type budget  budget advice: trend, forecast, recommended limits
  cat ci-usage.jsonl | tt-optimize --format json

Rules (thresholds, the cheaper-model ladder) are the [optimize] table of the config; `tt-price --list` shows
the prices every saving is computed with.";

/// Evidenced suggestions to spend less on AI agents.
#[derive(Debug, Parser)]
#[command(
    name = "tt-optimize",
    version = tt_core::cli::VERSION,
    about = "Evidenced, priced suggestions to spend less on AI agents",
    long_about = "Read usage records and suggest how to spend less: small requests that a cheaper model of the \
same provider would do (re-priced exactly), sessions that resend a large prompt without caching it, records and \
sessions far above their agent's normal cost, and a recommended limit for each configured budget from its history. \
Every suggestion carries its saving in dollars (or says why it has none) and its evidence: agents, sessions, \
record ids. Also an agent efficiency table (tokens and cost per task, output/input and cache hit ratios) and the \
most expensive tasks. Suggestions are ranked by saving; the same input always gives the same report.",
    after_help = format!("{EXAMPLES}\n\n{HELP_FOOTER}"),
)]
pub struct Cli {
    /// Usage logs to read (`-` for stdin) [default: stdin when piped, else the usage log].
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Output format [default: table on a terminal, jsonl in a pipe].
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json", "jsonl", "markdown"])]
    format: Option<String>,
    /// Hide suggestions saving less than this many dollars (`5`, `0.16` or `$0.16`; advice without a saving is
    /// kept).
    #[arg(long, value_name = "USD")]
    min_saving: Option<String>,
    /// Only these suggestion types (comma-separated): rightsize, caching, outlier, session_outlier, budget.
    #[arg(long = "type", value_name = "TYPES", value_delimiter = ',',
          value_parser = tt_core::cli::Words(tt_core::optimize::Type::NAMES), hide_possible_values = true)]
    types: Vec<String>,
    /// How many of the most expensive tasks to list.
    #[arg(long, value_name = "N", default_value_t = 5)]
    tasks: usize,

    #[command(flatten)]
    window: tt_core::period::WindowArgs,
    #[command(flatten)]
    common: CommonArgs,
}

/// The clap definition (for `main`, completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Run tt-optimize.
pub fn run(m: &clap::ArgMatches) -> Result<()> {
    let cli: Cli = tt_core::cli::parse_args(m)?;
    let format = Format::choose(cli.format.as_deref())?;
    let min_saving = min_saving(cli.min_saving.as_deref())?;
    let types = types(&cli.types)?;
    let config = cli.common.config()?;
    let warn = |w| tt_core::cli::warn("tt-optimize", w);
    let cal = cli.window.calendar(&config.tz, config.week_start)?.report(warn);
    let window = cli.window.window(&cal, Period::All)?.report(warn);

    // Files given, else `--log`, else stdin when it has data, else the usage log. A usage log that does not
    // exist yet is simply empty (as for tt-sum); files named on the command line must exist.
    let (sources, _) = cli.common.sources(&cli.files, &config)?;
    let (files, spools) = files_to_read(sources)?;

    // Pass 1: every analysis. Big files are split between threads; their states merge exactly.
    let new = || Analyzer::new(&config, cal, window.clone(), cli.tasks);
    let mut analyzer = new();
    for (name, path) in &files {
        for part in read(name, path, &new, |a, v| a.observe(v))? {
            analyzer.merge(part);
        }
    }
    // Pass 2: the records above their agent's outlier threshold, and the first records of the sessions that
    // make a caching suggestion.
    let second = match analyzer.second_pass() {
        None => None,
        Some(fresh) => {
            let new = || fresh.clone();
            let mut all = fresh.clone();
            for (name, path) in &files {
                for part in read(name, path, &new, |s, v| s.observe(v))? {
                    all.merge(part);
                }
            }
            Some(all)
        }
    };
    drop(spools);
    let mut report = analyzer.finish(second)?;
    report.filter(min_saving, &types);
    let mut out = tt_core::output::stdout();
    report.write(format, &mut out)?;
    out.flush()?;
    Ok(())
}

/// `--min-saving`: `5`, `0.16` or `$0.16`, as tt-budget takes dollars.
fn min_saving(given: Option<&str>) -> Result<Option<Decimal>> {
    match given {
        None => Ok(None),
        Some(s) => match tt_core::money::parse_decimal(s.trim().strip_prefix('$').unwrap_or(s)) {
            Some(d) if d >= Decimal::ZERO => Ok(Some(d)),
            _ => Err(Error::usage(format!("--min-saving: not a non-negative amount of dollars: {s:?}"))),
        },
    }
}

/// `--type`: the suggestion types to keep (none: all of them).
fn types(given: &[String]) -> Result<Vec<Type>> {
    given
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            Type::parse(t).ok_or_else(|| {
                Error::usage(format!("--type: unknown suggestion type {t:?} (want {})", Type::NAMES.join(", ")))
            })
        })
        .collect()
}

/// Files to read: the name the user gave each, and the path to open.
type Files = Vec<(String, PathBuf)>;

/// The files both passes read, by the name the user gave and the path to open, and the spools that keep what
/// cannot be read twice (stdin, pipes) on disk until both passes are done.
fn files_to_read(sources: Vec<Source>) -> Result<(Files, Vec<Spool>)> {
    let mut files: Files = Vec::new();
    let mut spools = Vec::new();
    let mut stdin_spooled = false;
    for src in sources {
        match src {
            Source::File(p) => {
                let name = p.display().to_string();
                // A pipe named as a file (`/dev/stdin`, `<(…)`, a FIFO) cannot be read twice either: the second
                // pass would find it at its end, and miss the records it looks for. Kept on disk like stdin.
                // Devices are read as they are (`/dev/zero` must meet the line-length limit, not fill the disk).
                let is_pipe = std::fs::metadata(&p).is_ok_and(|m| m.file_type().is_fifo());
                if is_pipe {
                    let f = std::fs::File::open(&p).map_err(|e| Error::io(&name, e))?;
                    let s = Spool::from_reader(&name, f)?;
                    files.push((name, s.path.clone()));
                    spools.push(s);
                } else {
                    files.push((name, p));
                }
            }
            Source::Ledger(ref t) => {
                // Read twice: the ledger's lines once, kept on disk like stdin (a second query could see
                // records added in between, and the passes must agree).
                let name = t.name().to_string();
                let s = Spool::from_reader(&name, src.reader()?)?;
                files.push((name, s.path.clone()));
                spools.push(s);
            }
            Source::Stdin => {
                // Read twice means stdin must be kept: on disk, not in memory. A second `-` finds stdin at its
                // end, as in every tool, so it adds nothing.
                if !stdin_spooled {
                    let s = Spool::from_reader("<stdin>", tt_core::input::stdin())?;
                    files.push(("<stdin>".into(), s.path.clone()));
                    spools.push(s);
                    stdin_spooled = true;
                }
            }
        }
    }
    Ok((files, spools))
}

/// Fold every record of one file into states made by `new` (one per thread for big files, in file order),
/// with the zero-copy reader; errors name `file:line`, the file as the user named it.
fn read<S: Send>(
    name: &str,
    path: &Path,
    new: &(impl Fn() -> S + Sync),
    step: impl Fn(&mut S, &View<'_>) + Sync,
) -> Result<Vec<S>> {
    scan::fold(&Source::File(path.to_path_buf()), new, |s, v| {
        step(s, v);
        Ok(())
    })
    .map_err(|e| match e.message().strip_prefix(&path.display().to_string()) {
        Some(rest) if rest.starts_with(':') => Error::new(e.kind(), format!("{name}{rest}")),
        _ => e,
    })
}

/// Standard input (or a pipe named as a file) copied to a temporary file, removed when dropped.
struct Spool {
    path: PathBuf,
}

impl Spool {
    /// `name` is what errors reading `r` call it.
    fn from_reader(name: &str, mut r: impl std::io::Read) -> Result<Spool> {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        // A run can spool several inputs: a counter keeps their names apart within the same nanosecond.
        static SPOOLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SPOOLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tt-optimize-{}-{nanos}-{n}.jsonl", std::process::id()));
        // Private to the user (usage data can be sensitive), and never an existing file.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(format!("temporary file {}", path.display()), e))?;
        let spool = Spool { path };
        std::io::copy(&mut r, &mut f).map_err(|e| Error::io(name, e))?;
        Ok(spool)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

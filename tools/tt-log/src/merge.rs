//! `tt-log --import FILE…`: merge tt logs and `tt-export --bundle` files into the log, new ids only.
//!
//! Every line of every file is validated (and a bundle's checksum verified) before anything is written: one bad
//! line and nothing is imported. Ids are the identity of a record, so importing the same file twice, or A into B
//! and B into A, never duplicates anything. The new records are appended in one write under the log lock, and
//! each imported file is noted in the import history next to the log (`usage.jsonl.tt-history.jsonl`).

use std::collections::HashSet;
use std::io::{BufReader, Write};
use std::path::Path;

use tt_core::bundle::{self, Plan, TtFile};
use tt_core::cli::Outcome;
use tt_core::config::Config;
use tt_core::error::{Error, Result};
use tt_core::input::Source;
use tt_core::log::LockedLog;
use tt_core::money::thousands;

use crate::Cli;

/// How many bad lines are listed before the rest are only counted.
const MAX_LISTED: usize = 10;

/// Import tt JSONL logs or bundles.
pub fn run(cli: &Cli, config: &Config, files: &[String]) -> Result<Outcome> {
    let log = cli.common.log_path(config)?;
    // `--import a.ttb --dry-run b.jsonl`: clap gives `b.jsonl` to the seed form's AGENT; it is a file here.
    let positional = [&cli.pos_agent, &cli.pos_model, &cli.pos_input, &cli.pos_output, &cli.pos_note];
    let sources: Vec<Source> = files
        .iter()
        .chain(positional.into_iter().flatten())
        .map(|f| if f == "-" { Source::Stdin } else { Source::File(f.into()) })
        .collect();
    let read: Vec<TtFile> =
        sources.iter().map(|s| bundle::read_tt_file(s, config.max_tokens)).collect::<Result<_>>()?;
    let ok = read.iter().all(TtFile::is_ok);

    if !ok || cli.dry_run {
        // Nothing will be written: read the log without locking (and without creating it).
        let existing = read_ids_unlocked(&log)?;
        let plan = bundle::plan(&read, &existing);
        if !cli.quiet {
            report(&read, &plan)?;
        }
        if !ok {
            return Err(refusal(&read));
        }
        print_new(cli, &plan)?;
        if !cli.quiet {
            let _ = writeln!(
                std::io::stderr(),
                "would import {} into {} (dry run: nothing written)",
                records(plan.added),
                log.display()
            );
        }
        return Ok(Outcome::Ok);
    }

    let mut locked = LockedLog::open(&log)?;
    let watch = if cli.quiet { None } else { tt_core::enforce::watch(&mut locked, config) };
    let existing = {
        use std::io::{Seek, SeekFrom};
        let name = log.display().to_string();
        let f = locked.file();
        f.seek(SeekFrom::Start(0)).map_err(|e| Error::io(&name, e))?;
        bundle::log_ids(&name, BufReader::with_capacity(256 * 1024, &*f))?
    };
    let plan = bundle::plan(&read, &existing);
    locked.append(&plan.lines)?;
    let alerts = watch.map(|w| w.alerts(&mut locked, config)).unwrap_or_default();
    write_history(&log, &sources, &read, &plan)?;
    drop(locked);
    if !cli.quiet {
        report(&read, &plan)?;
    }
    for a in alerts {
        tt_core::cli::warn("tt-log", a);
    }
    print_new(cli, &plan)?;
    if !cli.quiet {
        let _ = writeln!(std::io::stderr(), "imported {} into {}", records(plan.added), log.display());
    }
    Ok(Outcome::Ok)
}

fn read_ids_unlocked(log: &Path) -> Result<HashSet<tt_core::id::IdKey>> {
    match std::fs::File::open(log) {
        Ok(f) => bundle::log_ids(&log.display().to_string(), BufReader::with_capacity(256 * 1024, f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
        Err(e) => Err(Error::io(log.display(), e)),
    }
}

/// One line per file on stderr: what it is and what it would add. A damaged bundle (a bad header, count or
/// checksum) gets none: counts of records that cannot be trusted would mislead, and [`refusal`] says what is
/// wrong with it.
fn report(read: &[TtFile], plan: &Plan) -> Result<()> {
    let mut err = std::io::stderr().lock();
    for (f, fp) in read.iter().zip(&plan.files).filter(|(f, _)| f.problem.is_none()) {
        let what = match &f.header {
            Some(h) => {
                let from: Vec<&str> = [h.exported_by.as_deref(), h.host.as_deref()].into_iter().flatten().collect();
                let from = if from.is_empty() { String::new() } else { format!(" from {}", from.join("@")) };
                format!("bundle{from} exported {}", h.exported_at)
            }
            None => "log".to_string(),
        };
        let _ = writeln!(
            err,
            "{}: {what}: {}: {} new, {} already present, {} invalid",
            f.name,
            records(f.records.len() as u64 + f.invalid.len() as u64),
            thousands(fp.added),
            thousands(fp.present),
            thousands(f.invalid.len() as u64)
        );
    }
    Ok(())
}

/// List the bad lines and build the error that refuses the whole import.
fn refusal(read: &[TtFile]) -> Error {
    let mut err = std::io::stderr().lock();
    let mut listed = 0;
    let mut invalid = 0;
    for f in read {
        if let Some(p) = &f.problem {
            let _ = writeln!(err, "tt-log: error: {}: {p}", f.name);
        }
        for bad in &f.invalid {
            invalid += 1;
            if listed < MAX_LISTED {
                let _ = writeln!(err, "tt-log: error: {}:{}: {}", f.name, bad.line, bad.error);
                listed += 1;
            }
        }
    }
    if invalid > listed {
        let _ = writeln!(err, "tt-log: error: … and {} more invalid lines", invalid - listed);
    }
    let damaged = read.iter().filter(|f| f.problem.is_some()).count();
    let mut why = Vec::new();
    if invalid > 0 {
        why.push(format!("{invalid} invalid line{}", if invalid == 1 { "" } else { "s" }));
    }
    if damaged > 0 {
        why.push(format!("{damaged} damaged bundle{}", if damaged == 1 { "" } else { "s" }));
    }
    Error::data(format!("nothing imported: {} (the log is unchanged)", why.join(" and ")))
}

fn print_new(cli: &Cli, plan: &Plan) -> Result<()> {
    if cli.print || cli.dry_run {
        let mut out = tt_core::output::stdout();
        out.write_all(plan.lines.as_bytes())?;
        out.flush()?;
    }
    Ok(())
}

fn write_history(log: &Path, sources: &[Source], read: &[TtFile], plan: &Plan) -> Result<()> {
    let at = tt_core::record::format_ts(chrono::Utc::now());
    let mut lines = String::new();
    for ((src, f), fp) in sources.iter().zip(read).zip(&plan.files) {
        let from = match src {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(p) => std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()).display().to_string(),
        };
        lines.push_str(&bundle::history_line(&at, &from, f, fp));
        lines.push('\n');
    }
    // Written while the log lock is held, so history lines never interleave between importers.
    // The history holds import lines, not records: a complete last line is any JSON object.
    LockedLog::open_lines(&bundle::history_path(log))?.append(&lines)
}

fn records(n: u64) -> String {
    tt_core::money::count(n, "record")
}

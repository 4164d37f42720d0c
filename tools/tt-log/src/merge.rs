//! `tt-log --import FILE…`: merge tt logs and `tt-export --bundle` files into the log, new ids only.
//!
//! Every line of every file is validated (and a bundle's checksum verified) before anything is written: one bad
//! line and nothing is imported. Ids are the identity of a record, so importing the same file twice, or A into B
//! and B into A, never duplicates anything. The new records are appended in one write under the log lock, and
//! each imported file is noted in the import history next to the log (`usage.jsonl.tt-history.jsonl`).

use std::io::Write;

use tt_core::bundle::{self, Plan, TtFile};
use tt_core::config::Config;
use tt_core::error::{Error, Result};
use tt_core::input::Source;
use tt_core::money::thousands;

use crate::Cli;

/// How many bad lines are listed before the rest are only counted.
const MAX_LISTED: usize = 10;

/// Import tt JSONL logs or bundles (the merge itself is `tt_core::bundle::merge`; this reports it).
pub fn run(cli: &Cli, config: &Config, files: &[String]) -> Result<()> {
    let log = cli.common.log_path(config)?;
    // `--import a.ttb --dry-run b.jsonl`: clap gives `b.jsonl` to the seed form's AGENT; it is a file here.
    let positional = [&cli.pos_agent, &cli.pos_model, &cli.pos_input, &cli.pos_output, &cli.pos_note];
    let sources: Vec<Source> = files
        .iter()
        .chain(positional.into_iter().flatten())
        .map(|f| if f == "-" { Source::Stdin } else { Source::File(f.into()) })
        .collect();
    let merge = bundle::merge(&log, &sources, config, cli.dry_run, !cli.quiet)?;
    if !cli.quiet {
        report(&merge.read, &merge.plan)?;
    }
    if !merge.ok() {
        return Err(refusal(&merge.read));
    }
    // The alerts, then what taking the locks repaired (a torn last line moved aside).
    for a in merge.alerts.iter().chain(&merge.warnings) {
        tt_core::cli::warn("tt-log", a);
    }
    print_new(cli, &merge.plan)?;
    if !cli.quiet {
        let (verb, tail) =
            if merge.written { ("imported", "") } else { ("would import", " (dry run: nothing written)") };
        let _ = writeln!(std::io::stderr(), "{verb} {} into {}{tail}", records(merge.plan.added), log.display());
    }
    Ok(())
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

fn records(n: u64) -> String {
    tt_core::money::plural(n, "record")
}

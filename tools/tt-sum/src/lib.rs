//! `tt-sum`: aggregate the usage log into summary rows, per group and in total.
//!
//! The CLI glue only: windows come from [`tt_core::period`], the sums from [`tt_core::rollup`] (in a ledger's
//! server, or by reading every record with [`tt_core::scan`]) into [`tt_core::aggregate`], whose JSONL
//! [`Summary`] row is the contract tt-budget and tt-export read.

use std::cmp::Ordering;
use std::io::Write;

use clap::{CommandFactory, Parser};
use tt_core::aggregate::{Group, Key, RowWindow, Summary};
use tt_core::cli::{CommonArgs, HELP_FOOTER};
use tt_core::error::{Error, Result};
use tt_core::input::Source;
use tt_core::money;
use tt_core::output::Format;
use tt_core::period::Period;

const EXAMPLES: &str = "\
Examples:
  tt-sum                                   all time, in total
  tt-sum --period month --by agent         this month, per agent
  tt-sum --period today --by model,agent   today, per model and agent
  tt-sum --by day --since 2026-11-01 --until 2026-11-07
  tt-sum --by tag:team --sort tokens --top 5
  tt-sum --period last-month --tz Europe/Berlin --format markdown
  tt-sum --period month | tt-budget --fail-over
  cat team-a.jsonl team-b.jsonl | tt-sum --by project
  tt-sum --period month --chart                   a bar per day of this month, against the budget
  tt-sum --period month --by day,model --chart    the bars stacked by model
  tt-sum --period year --by month --chart tokens --ascii
  tt-sum --period month --chart --format markdown >> \"$GITHUB_STEP_SUMMARY\"

Charts (--chart): one bar per --by calendar bucket (day when --by is not given), stacked by a second
--by key, fitted to the width. The tightest unscoped day, week, month or year budget in the config
with a limit in the chart's measure is drawn in: each bucket's share of its limit (the limit times
the bucket's length in days over the budget period's, so a $50 monthly budget is $1.67 a day of a
30-day month) as a │ across the bars, the share of the current bucket gone by as a ┆, and a last
line with the budget's current window: spent so far against the limit pro-rated to now. Unicode
blocks unless --ascii or the locale (LC_ALL, LC_CTYPE, LANG) is not UTF-8; colour only for stacked
bars on a terminal, without NO_COLOR. With --format markdown: a Mermaid xychart-beta of the totals
and the budget's share, then the table.";

/// Aggregate the usage log.
#[derive(Debug, Parser)]
#[command(
    name = "tt-sum",
    version = tt_core::cli::VERSION,
    about = "Aggregate the tt usage log: tokens and dollars per agent, model, session, day, …",
    long_about = "Sum usage records per group and in total over a time window. Records without cost_usd are \
priced with the price table on the fly; records of unknown models are counted as unpriced, never as $0. Reads \
the files given, else stdin when it is not a terminal, else the usage log. Prints a table on a terminal and \
JSONL summary rows in a pipe (one per group, then the total with an empty group) — the rows tt-budget reads.",
    after_help = format!("{EXAMPLES}\n\n{HELP_FOOTER}"),
)]
pub struct Cli {
    /// Files of records to read (`-` for stdin) [default: stdin if piped, else the usage log].
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Group by these keys, comma-separated: agent, model, provider, session, task, project, branch, host,
    /// user, commit, source, tag:KEY, hour, day, week, month.
    #[arg(long, value_name = "KEYS", value_parser = tt_core::cli::Words(tt_core::aggregate::Key::NAMES), hide_possible_values = true)]
    by: Option<String>,
    /// Output format: table, json, jsonl, csv, markdown [default: table on a terminal, else jsonl].
    #[arg(long, value_name = "FORMAT", value_parser = tt_core::cli::REPORT_FORMATS, hide_possible_values = true)]
    format: Option<String>,
    #[arg(long, help = tt_core::output::CSV_EXACT_HELP)]
    csv_exact: bool,
    /// Order of the groups: cost, tokens (both largest first) or name [default: name when grouping by time,
    /// else cost].
    #[arg(long, value_name = "KEY", value_parser = ["cost", "tokens", "name"])]
    sort: Option<String>,
    /// Only the first N groups (the total still covers every group; a chart still shows every group).
    #[arg(long, value_name = "N")]
    top: Option<usize>,
    /// Draw a bar chart of dollars (usd) or tokens per calendar bucket of --by instead of the table (see
    /// Charts below) [default: usd; --by day].
    #[arg(long, value_name = "MEASURE", num_args = 0..=1, default_missing_value = "usd",
          value_parser = ["usd", "tokens"])]
    chart: Option<String>,
    /// With --chart: ASCII only (#, |, :), whatever the locale.
    #[arg(long, requires = "chart")]
    ascii: bool,
    /// With --chart: fit the chart to N columns [default: COLUMNS, else the terminal's width, else 80].
    #[arg(long, value_name = "N", requires = "chart")]
    width: Option<usize>,

    #[command(flatten)]
    window: tt_core::period::WindowArgs,
    #[command(flatten)]
    common: CommonArgs,
}

/// The clap definition (for `main`, completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Run `tt-sum`.
pub fn run(m: &clap::ArgMatches) -> Result<()> {
    let cli: Cli = tt_core::cli::parse_args(m)?;
    let config = cli.common.config()?;
    let measure = cli.chart.as_deref().map(tt_core::chart::Measure::parse).transpose()?;
    // A chart is for people: a table (its bars) or markdown (Mermaid) even in a pipe, never data formats.
    let format = match (&measure, cli.format.as_deref()) {
        (Some(_), None) => Format::Table,
        (Some(_), Some(f)) if !matches!(Format::parse(f)?, Format::Table | Format::Markdown) => {
            return Err(Error::usage(format!(
                "--chart draws for people: use --format table or markdown, or drop --chart for {f}"
            )));
        }
        (_, f) => Format::choose(f)?,
    };
    tt_core::output::csv_exact_flag(format, cli.csv_exact)?;
    tt_core::chart::terminal::check_width(cli.width, "a chart")?;
    let keys = match &cli.by {
        Some(s) => Key::parse_list(s)?,
        // A chart is over time: by day unless told otherwise.
        None if measure.is_some() => vec![Key::Time(tt_core::period::Unit::Day)],
        None => Vec::new(),
    };
    let warn = |w| tt_core::cli::warn("tt-sum", w);
    let cal = cli.window.calendar(&config.tz, config.week_start)?.report(warn);
    let window = cli.window.window(&cal, Period::All)?.report(warn);
    // Files given, else `--log`, else stdin when it has data, else the usage log (one that does not exist yet is
    // simply empty).
    let (sources, _) = cli.common.sources(&cli.files, &config)?;
    // Two diagnostics for ledgers (docs/ledger.md): whether the server summed the records, and a way to make
    // it not (to compare, or to step around a server that sums slowly).
    let env = |k: &str, v: &str| std::env::var_os(k).is_some_and(|x| x == v);
    let summed = tt_core::rollup::sum(&sources, &keys, cal, &window, &config.prices, !env("TT_LEDGER_PUSHDOWN", "0"))
        .map_err(|e| not_records_hint(e, &sources))?;
    if env("TT_LEDGER_EXPLAIN", "1") {
        let _ = writeln!(std::io::stderr(), "tt-sum: {}", summed.how);
    }
    let agg = summed.agg;
    let unknown = agg.unknown_models();
    let (mut groups, total) = agg.finish();
    if total.unpriced > 0 {
        let one = total.unpriced == 1;
        tt_core::cli::warn(
            "tt-sum",
            format!(
                "{} record{} could not be priced (unknown model{}: {}); {} counted as unpriced, not as $0",
                money::thousands(total.unpriced),
                if one { "" } else { "s" },
                if unknown.len() == 1 { "" } else { "s" },
                unknown.join(", "),
                if one { "it is" } else { "they are" },
            ),
        );
    }
    let by_time = keys.iter().any(|k| matches!(k, Key::Time(_)));
    let sort = cli.sort.as_deref().unwrap_or(if by_time { "name" } else { "cost" });
    groups.sort_by(|a, b| order(sort, a, b));
    let rw = RowWindow::of(&window);
    let names: Vec<String> = keys.iter().map(Key::name).collect();
    let row =
        |g: &Group| Summary::new(rw.clone(), names.iter().cloned().zip(g.values.iter().cloned()).collect(), &g.totals);
    // The chart shows every group (before --top), against the tightest budget that answers it.
    let chart = match measure {
        Some(m) => {
            let rows: Vec<Summary> = groups.iter().map(row).collect();
            let title = window_title(&window);
            Some(tt_core::chart::for_summary(&rows, &keys, m, &cal, &window, &title, &config.budgets)?)
        }
        None => None,
    };
    // Groups --top leaves out are still in the total, and the total row says how many there were, so a reader
    // (tt-budget) never takes a cut group for one that spent nothing.
    let mut omitted = 0;
    if let Some(n) = cli.top {
        omitted = groups.len().saturating_sub(n) as u64;
        groups.truncate(n);
    }
    let mut rows: Vec<Summary> = groups.iter().map(row).collect();
    let mut total_row = Summary::new(rw, Vec::new(), &total);
    total_row.omitted_groups = (omitted > 0).then_some(omitted);
    total_row.from = read_from(&sources, &cli.common, &config);
    rows.push(total_row);
    let mut out = tt_core::output::stdout();
    match &chart {
        Some(c) if format == Format::Table => tt_core::chart::terminal::write(
            &mut out,
            c,
            &tt_core::chart::terminal::Style::detect(cli.ascii, cli.width),
        )?,
        _ => render(&mut out, format, &names, &rows, &window, chart.as_ref())?,
    }
    out.flush()?;
    Ok(())
}

/// The files the records came from, for the total row's `from` (see [`Summary::from`]): the usage log (also
/// when it does not exist yet: nothing spent), or the regular files given; `None` when stdin, a pipe or a
/// device was read — a gate cannot read those again.
fn read_from(sources: &[Source], common: &CommonArgs, config: &tt_core::Config) -> Option<Vec<String>> {
    let absolute = |p: &std::path::Path| {
        std::fs::canonicalize(p).ok().or_else(|| std::path::absolute(p).ok()).map(|p| p.display().to_string())
    };
    if sources.is_empty() {
        return absolute(&common.log_path(config).ok()?).map(|p| vec![p]);
    }
    sources
        .iter()
        .map(|s| match s {
            Source::File(p) if std::fs::metadata(p).is_ok_and(|m| m.is_file()) => absolute(p),
            // A gate reads a ledger again by its name (without the password: it comes from the environment).
            Source::Ledger(t) => Some(t.name().to_string()),
            _ => None,
        })
        .collect()
}

/// A line without the schema version `v` is often not a record at all but one of tt-sum's own summary rows
/// (`tt-sum | tt-sum`): say so. A file's line is read again to tell; standard input is gone by then, so for it
/// the hint says what tt-sum reads instead.
fn not_records_hint(e: Error, sources: &[Source]) -> Error {
    const NO_V: &str = ": missing field `v` (schema version)";
    // Summary rows are not a damaged log: the repair hint gives way to this one.
    let msg = e.message().strip_suffix(&format!(" ({})", tt_core::input::REPAIR_HINT)).unwrap_or(e.message());
    let Some((name, line)) = msg.strip_suffix(NO_V).and_then(|p| p.rsplit_once(':')) else { return e };
    let Ok(line) = line.parse::<usize>() else { return e };
    let summary = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v["kind"] == "summary" && v.get("v").is_none())
    };
    let hint = match sources.iter().find(|s| s.name() == name) {
        Some(src @ Source::File(_)) => {
            use std::io::BufRead;
            let text = src.open().ok().and_then(|r| r.lines().nth(line.saturating_sub(1))).and_then(|l| l.ok());
            if !text.is_some_and(|t| summary(&t)) {
                return e;
            }
            "these look like tt-sum summary rows, not usage records (summary rows go to tt-budget or tt-export)"
        }
        Some(Source::Stdin) => {
            "tt-sum reads usage records, not its own summary rows (those go to tt-budget or tt-export)"
        }
        // A ledger holds only records (it refuses anything else when they are added).
        Some(Source::Ledger(_)) | None => return e,
    };
    Error::new(e.kind(), format!("{msg}; {hint}"))
}

fn order(sort: &str, a: &Group, b: &Group) -> Ordering {
    let name = || a.values.cmp(&b.values);
    match sort {
        "tokens" => b.totals.total_tokens().cmp(&a.totals.total_tokens()).then_with(name),
        "name" => name(),
        _ => b
            .totals
            .cost
            .cmp(&a.totals.cost)
            .then_with(|| b.totals.total_tokens().cmp(&a.totals.total_tokens()))
            .then_with(name),
    }
}

/// Write the rows in `format`; in markdown, `chart` (a Mermaid block) goes between the title and the table.
pub fn render(
    out: &mut impl Write,
    format: Format,
    keys: &[String],
    rows: &[Summary],
    window: &tt_core::period::Window,
    chart: Option<&tt_core::chart::Chart>,
) -> Result<()> {
    match format {
        Format::Jsonl => {
            for r in rows {
                writeln!(out, "{}", r.to_json())?;
            }
        }
        Format::Json => {
            tt_core::output::write_json_array(out, rows.iter().map(|x| x.to_json()))?;
        }
        Format::Csv => tt_core::aggregate::write_csv(out, keys, rows)?,
        Format::Table | Format::Markdown => {
            let t = tt_core::aggregate::rows_table(keys, rows);
            let title = window_title(window);
            let omitted = tt_core::aggregate::omitted_note(rows);
            if format == Format::Markdown {
                writeln!(out, "**{title}**\n")?;
                if let Some(c) = chart {
                    tt_core::chart::mermaid::write(out, c)?;
                    writeln!(out)?;
                }
                t.render_markdown(out)?;
                if let Some(o) = omitted {
                    writeln!(out, "\n{o}")?;
                }
            } else {
                writeln!(out, "{title}")?;
                t.render_text(out)?;
                if let Some(o) = omitted {
                    writeln!(out, "{o}")?;
                }
            }
        }
    }
    Ok(())
}

/// `month 2026-11-01 → 2026-12-01 (UTC)`, `all time`: local dates (with the time when not midnight).
fn window_title(w: &tt_core::period::Window) -> String {
    let local = |t: Option<chrono::DateTime<chrono::Utc>>| match t {
        None => "…".to_string(),
        Some(t) => {
            let l = t.with_timezone(&w.tz);
            if l.time() == chrono::NaiveTime::MIN {
                l.format("%Y-%m-%d").to_string()
            } else {
                l.format("%Y-%m-%d %H:%M").to_string()
            }
        }
    };
    if w.start.is_none() && w.end.is_none() {
        return "all time".into();
    }
    format!("{} {} → {} ({})", w.period, local(w.start), local(w.end), w.tz.name())
}

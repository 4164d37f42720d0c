//! `tt-export`: usage records or tt-sum summary rows in the formats other tools read, and portable bundles.
//!
//! CLI glue over `tt_core::export` (formats, filter, totals, atomic files), `tt_core::bundle` (the bundle
//! format), `tt_core::report` (the markdown team report), `tt_core::html` (the HTML report) and
//! `tt_core::period` (windows).

use std::io::Write;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};
use serde_json::Value;
use tt_core::aggregate::{Summary, Totals};
use tt_core::cli::{CommonArgs, HELP_FOOTER};
use tt_core::error::{Error, Result};
use tt_core::export::{self, Filter, Prometheus, Sink};
use tt_core::input;
use tt_core::period::{Calendar, Period};
use tt_core::progress::Progress;
use tt_core::{Config, Record};

const EXAMPLES: &str = "\
Examples:
  tt-export --format csv > usage.csv                      every record, for a spreadsheet or a database
  duckdb -c \"SELECT agent, sum(cost_usd) FROM read_csv('usage.csv',
    types = {'cost_usd': 'DECIMAL(38,10)'}) GROUP BY agent\"      money read as DECIMAL stays exact
  tt-export --format markdown >> \"$GITHUB_STEP_SUMMARY\"    this week's team report
  tt-export --format html --period month -o report.html  the month as one page: charts, budgets, suggestions
  tt-export --format prometheus -o /var/lib/node_exporter/textfile/tt.prom
  tt-sum --by agent,model | tt-export --format csv        summary rows work too
  tt-export --bundle --since 2026-11-01 -o laptop.ttb     a portable bundle for another machine
  tt-log --import laptop.ttb                              … merged there, new records only
  tt-export --to postgresql://ci@db.example.com/team      push the records the team's ledger lacks
  tt-export --to \"$TT_TEAM_LEDGER\" --since 2026-11-01     … only those (a re-run adds only the rest)
  tt-log --import postgresql://ci@db.example.com/team --log team.jsonl   pull the team's back as JSONL";

/// Export usage records or summaries: CSV, JSON, JSONL, markdown, HTML, Prometheus, bundles.
#[derive(Debug, Parser)]
#[command(
    name = "tt-export",
    version = tt_core::cli::VERSION,
    about = "Export usage as CSV, JSON, JSONL, a markdown or HTML report, Prometheus metrics or a portable bundle",
    long_about = "Reads usage records (files, `-`, stdin, or the default log) or tt-sum summary rows, and writes \
them in the format another tool reads. Records without a cost are priced with the price table, as tt-price would. \
--bundle writes a portable bundle (metadata, checksum, then the records) that `tt-log --import` merges on another \
machine without duplicates. An export that takes more than about a second shows a progress bar on stderr when that \
is a terminal the output does not go to (not under CI).",
    after_help = format!("{EXAMPLES}\n\n{HELP_FOOTER}"),
)]
pub struct Cli {
    /// Record or summary-row files (`-` for stdin) [default: stdin if piped, else the usage log].
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// csv (RFC 4180, header row), json (one report document), jsonl, markdown (the weekly team report), html
    /// (the report as one self-contained page: spend over time by model and agent, budget gauges with their
    /// forecast, top sessions and tasks, tt-optimize's suggestions) or prometheus (text exposition for
    /// node_exporter's textfile collector) [default: jsonl].
    #[arg(short, long, value_name = "FORMAT",
          value_parser = ["csv", "json", "jsonl", "ndjson", "markdown", "md", "html", "prometheus"])]
    format: Option<String>,
    #[arg(long, help = tt_core::output::CSV_EXACT_HELP)]
    csv_exact: bool,
    /// Write a portable bundle: a metadata line (who, where, when, filter, count, SHA-256) and the records.
    #[arg(long, conflicts_with = "format")]
    bundle: bool,
    /// Push the records to a team ledger (a `postgresql://` URI) instead of writing them: the ones it lacks
    /// are added, in batches each committed on its own, so an interrupted push keeps what it sent and a re-run
    /// adds only the rest. The filters select what is pushed; records go as logged. A progress bar on a
    /// terminal; `pushed N records to LEDGER (M already there)` at the end.
    #[arg(long, value_name = "URI", conflicts_with_all = ["format", "bundle", "output", "csv_exact"])]
    to: Option<String>,
    /// No progress bar (and with --to, no summary line); warnings and errors still print.
    #[arg(short, long)]
    quiet: bool,
    /// Write to FILE instead of stdout, atomically (a temporary file in the same directory, then a rename).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only this agent (repeatable).
    #[arg(long, value_name = "NAME")]
    agent: Vec<String>,
    /// Only this model (repeatable; aliases match, so sonnet-4.5 selects claude-sonnet-4-5-20250929).
    #[arg(long, value_name = "NAME")]
    model: Vec<String>,
    /// Only records whose FIELD is VALUE (repeatable): project=api, tag:team=infra, host=laptop …
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    matching: Vec<String>,
    #[command(flatten)]
    window: tt_core::period::WindowArgs,
    #[command(flatten)]
    common: CommonArgs,
}

/// The clap definition (for `main`, completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Csv,
    Json,
    Jsonl,
    Markdown,
    Html,
    Prometheus,
    Bundle,
}

/// Run `tt-export`.
pub fn run(m: &clap::ArgMatches) -> Result<()> {
    let cli: Cli = tt_core::cli::parse_args(m)?;
    let config = cli.common.config()?;
    let kind = match (cli.bundle, cli.format.as_deref()) {
        (true, _) => Kind::Bundle,
        (_, Some("csv")) => Kind::Csv,
        (_, Some("json")) => Kind::Json,
        (_, Some("markdown" | "md")) => Kind::Markdown,
        (_, Some("html")) => Kind::Html,
        (_, Some("prometheus")) => Kind::Prometheus,
        _ => Kind::Jsonl,
    };
    if cli.csv_exact && kind != Kind::Csv {
        return Err(Error::usage("--csv-exact is for --format csv"));
    }
    tt_core::output::set_csv_exact(cli.csv_exact);
    let cal = cli.window.calendar(&config.tz, config.week_start)?.report(warn);
    // Prometheus counters must only go up: a time window drops its series when the window moves on (a month
    // ends), which a scraper reads as a counter reset. The whole log is the only window they can have.
    if kind == Kind::Prometheus
        && (cli.window.since.is_some()
            || cli.window.until.is_some()
            || cli.window.period.as_deref().is_some_and(|p| p != "all"))
    {
        return Err(Error::usage(
            "prometheus exports the whole log: its counters must only go up, and a time window (--period, \
             --since, --until) would drop series when the window moves on",
        ));
    }
    let filter = build_filter(&cli, &cal, kind)?;
    // Files given, else `--log`, else stdin when it has data, else the usage log (one that does not exist yet is
    // simply empty).
    let (sources, _) = cli.common.sources(&cli.files, &config)?;
    if let Some(uri) = &cli.to {
        return push(&cli, &config, &filter, &sources, uri);
    }
    // `-o` never replaces the log, a file being read, or their side files (checked before anything is opened).
    if let Some(out) = &cli.output {
        let inputs: Vec<PathBuf> = sources
            .iter()
            .filter_map(|s| match s {
                input::Source::File(p) => Some(p.clone()),
                input::Source::Stdin | input::Source::Ledger(_) => None,
            })
            .collect();
        export::refuse_own_files(out, cli.common.log_path(&config).ok().as_deref(), &inputs)?;
    }

    let mut exporter = Exporter::new(kind, &cli, &config, &cal, filter)?;
    // A bar over the records written to this terminal would garble them: only for `-o` or a redirected stdout.
    let on_screen = cli.output.is_none() && tt_core::output::stdout_is_terminal();
    let mut bar = Progress::new("exporting", input::Source::total_size(&sources), on_screen || cli.quiet);
    let (mut records, bytes) = (0u64, std::cell::Cell::new(0u64));
    for src in &sources {
        input::for_each_line(&src.name(), src.open_counted(&bytes)?, |_, line| {
            records += 1;
            if records.is_multiple_of(PROGRESS_EVERY) {
                bar.update(records, bytes.get());
            }
            exporter.line(line)
        })?;
    }
    bar.update(records, bytes.get());
    exporter.finish()?;
    bar.finish();
    Ok(())
}

/// How often the progress bar hears of the lines read, in lines (it redraws at most ten times a second anyway;
/// this keeps the clock out of the loop).
const PROGRESS_EVERY: u64 = 1024;

/// `--to`: push the records read to a ledger (see [`tt_core::ledger::push`]), with a progress bar on a terminal.
fn push(cli: &Cli, config: &Config, filter: &Filter, sources: &[input::Source], uri: &str) -> Result<()> {
    if !tt_core::ledger::is_uri(uri) {
        return Err(Error::usage(format!("--to takes a ledger's postgresql:// URI, not {uri:?}")));
    }
    let target = tt_core::ledger::Target::parse(uri)?;
    if sources.iter().any(|s| matches!(s, input::Source::Ledger(t) if *t == target)) {
        return Err(Error::usage(format!("--to {}: that is the ledger being read", target.name())));
    }
    let filtered = cli.window.filters() || !cli.agent.is_empty() || !cli.model.is_empty() || !cli.matching.is_empty();
    // The bar's percentage is of the bytes read: known for files, not for stdin or a ledger.
    let total = input::Source::total_size(sources);
    let read = std::cell::Cell::new(0u64);
    let mut bar = Progress::new("pushing", total, cli.quiet);
    let mut ledger = tt_core::ledger::Ledger::open(&target)?;
    let feed = |send: &mut dyn FnMut(&str) -> Result<()>| -> Result<()> {
        for src in sources {
            input::for_each_line(&src.name(), src.open_counted(&read)?, |_, line| {
                let text = input::utf8(line)?;
                if filtered && !filter.matches(&Record::parse(text)?, &config.prices) {
                    return Ok(());
                }
                send(text)
            })?;
        }
        Ok(())
    };
    let pushed = ledger.push(feed, &mut |records, _| bar.update(records, read.get()))?;
    bar.finish();
    if !cli.quiet {
        let _ = writeln!(
            std::io::stderr(),
            "pushed {} to {} ({} already there)",
            tt_core::money::plural(pushed.added, "record"),
            target.name(),
            tt_core::money::thousands(pushed.already())
        );
    }
    Ok(())
}

/// A warning about what was asked (a local time in a daylight-saving gap or fold), on stderr.
fn warn(w: String) {
    tt_core::cli::warn("tt-export", w);
}

fn build_filter(cli: &Cli, cal: &Calendar, kind: Kind) -> Result<Filter> {
    // The reports (markdown, html) are weekly unless a window is given; every other format takes the whole log.
    let default = if matches!(kind, Kind::Markdown | Kind::Html) { Period::Week } else { Period::All };
    let window = cli.window.window(cal, default)?.report(warn);
    Filter::from_flags(window, &cli.window, &cli.agent, &cli.model, &cli.matching)
}

/// Receives lines, writes or collects what the format needs, and finishes the output.
struct Exporter<'a> {
    kind: Kind,
    config: &'a Config,
    cal: &'a Calendar,
    filter: Filter,
    sink: Option<Sink>,
    /// The CSV writer owns the sink while it writes; its header goes out with the first record.
    csv: Option<csv::Writer<Sink>>,
    csv_header: bool,
    totals: Totals,
    /// True once a record went into the json document's spool (the next one is preceded by a comma).
    kept_any: bool,
    /// A bundle's record lines, or the json document's, spooled to disk until what goes before them (a header
    /// with the count and checksum, the totals) can be written: memory stays flat however many records.
    spool: Option<export::Spool>,
    checksum: tt_core::bundle::Checksum,
    prometheus: Prometheus,
    report: tt_core::report::Weekly<'a>,
    /// The HTML report, for `--format html` only (it keeps a spool file for its second pass).
    html: Option<tt_core::html::Report<'a>>,
    /// Summary rows, when the input is tt-sum output.
    rows: Vec<Summary>,
    /// True when the user gave a filter flag (which summary rows cannot honour).
    filtered: bool,
    seen_records: bool,
}

impl<'a> Exporter<'a> {
    fn new(kind: Kind, cli: &Cli, config: &'a Config, cal: &'a Calendar, filter: Filter) -> Result<Exporter<'a>> {
        let mut sink = Some(Sink::open(cli.output.as_deref())?);
        let report = tt_core::report::Weekly::new(config, cal, &filter);
        let html = match kind {
            Kind::Html => {
                Some(tt_core::html::Report::new(config, cal, &filter, &export::spool_dir(cli.output.as_deref()))?)
            }
            _ => None,
        };
        let csv = match (kind, sink.take()) {
            (Kind::Csv, Some(s)) => Some(export::csv_writer(s)),
            (_, s) => {
                sink = s;
                None
            }
        };
        Ok(Exporter {
            kind,
            config,
            cal,
            filter,
            sink,
            csv,
            csv_header: false,
            totals: Totals::default(),
            kept_any: false,
            spool: match kind {
                Kind::Bundle | Kind::Json => Some(export::Spool::new(&export::spool_dir(cli.output.as_deref()))?),
                _ => None,
            },
            checksum: tt_core::bundle::Checksum::new(),
            prometheus: Prometheus::default(),
            report,
            html,
            rows: Vec::new(),
            filtered: cli.window.filters()
                || !cli.agent.is_empty()
                || !cli.model.is_empty()
                || !cli.matching.is_empty(),
            seen_records: false,
        })
    }

    fn sink(&mut self) -> Result<&mut Sink> {
        self.sink.as_mut().ok_or_else(|| Error::data("output already finished"))
    }

    /// One input line: a record, or a tt-sum summary row.
    fn line(&mut self, line: &[u8]) -> Result<()> {
        let text = input::utf8(line)?;
        // One parser decides what a line is, here as in every reader: a repeated key is refused.
        let map = tt_core::record::parse_object(text)?;
        if map.get("kind").and_then(Value::as_str) == Some("summary") {
            if self.seen_records {
                return Err(Error::data("a tt-sum summary row among usage records: export one or the other"));
            }
            if self.kind == Kind::Bundle {
                return Err(Error::usage("bundles carry usage records, not tt-sum summary rows"));
            }
            if self.filtered {
                return Err(Error::usage(
                    "--period/--since/--until/--agent/--model/--where select records; tt-sum rows are already \
                     summed (give those flags to tt-sum instead)",
                ));
            }
            self.rows.push(Summary::from_value(&Value::Object(map))?);
            return Ok(());
        }
        if !self.rows.is_empty() {
            return Err(Error::data("a usage record among tt-sum summary rows: export one or the other"));
        }
        self.seen_records = true;
        let mut r = Record::from_map(map)?;
        if self.kind == Kind::Markdown {
            // The report needs every record: budgets have their own windows (this month, today …).
            export::price_missing(&mut r, &self.config.prices);
            return self.report.add(line, &r);
        }
        if let Some(html) = self.html.as_mut() {
            // As the markdown report: every record, for the budgets' own windows.
            export::price_missing(&mut r, &self.config.prices);
            return html.add(line, &r);
        }
        if !self.filter.matches(&r, &self.config.prices) {
            return Ok(());
        }
        if self.kind == Kind::Bundle {
            // Bundles carry records exactly as logged: the receiving machine prices them with its own table.
            let mut json = r.to_json();
            json.push('\n');
            self.checksum.update(json.as_bytes());
            if let Some(spool) = self.spool.as_mut() {
                spool.write_all(json.as_bytes())?;
            }
            self.totals.records += 1;
            return Ok(());
        }
        export::price_missing(&mut r, &self.config.prices);
        export::add_record(&mut self.totals, &r);
        match self.kind {
            Kind::Csv => {
                self.csv_header()?;
                if let Some(w) = self.csv.as_mut() {
                    w.write_record(export::csv_row(&r)).map_err(export::csv_error)?;
                }
            }
            Kind::Jsonl => {
                let json = r.to_json();
                let out = self.sink()?;
                out.write_all(json.as_bytes())?;
                out.write_all(b"\n")?;
            }
            Kind::Json => {
                let sep: &[u8] = if self.kept_any { b",\n    " } else { b"    " };
                self.kept_any = true;
                if let Some(spool) = self.spool.as_mut() {
                    spool.write_all(sep)?;
                    spool.write_all(r.to_json().as_bytes())?;
                }
            }
            Kind::Prometheus => self.prometheus.add(&r),
            Kind::Markdown | Kind::Html | Kind::Bundle => {}
        }
        Ok(())
    }

    fn csv_header(&mut self) -> Result<()> {
        if !self.csv_header
            && let Some(w) = self.csv.as_mut()
        {
            w.write_record(export::CSV_COLUMNS).map_err(export::csv_error)?;
            self.csv_header = true;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        if self.rows.is_empty() {
            self.csv_header()?;
        }
        if let Some(w) = self.csv.take() {
            // Keep the io error's kind: a closed pipe must stay a quiet exit 0.
            let sink = w.into_inner().map_err(|e| Error::from(std::io::Error::new(e.error().kind(), e.to_string())))?;
            self.sink = Some(sink);
        }
        if !self.rows.is_empty() {
            let rows = std::mem::take(&mut self.rows);
            let mut sink = self.sink.take().ok_or_else(|| Error::data("output already finished"))?;
            rows_out(self.kind, &rows, self.config, self.cal, &mut sink)?;
            return sink.finish();
        }
        match self.kind {
            Kind::Csv | Kind::Jsonl | Kind::Markdown | Kind::Html => {}
            Kind::Json => {
                self.totals.check("the sums")?;
                let head = json_head(&self.filter, &self.totals);
                let (spool, any) = (self.spool.take(), self.kept_any);
                let out = self.sink()?;
                out.write_all(head.as_bytes())?;
                match spool.filter(|_| any) {
                    None => out.write_all(b",\n  \"records\": []\n}\n")?,
                    Some(spool) => {
                        out.write_all(b",\n  \"records\": [\n")?;
                        spool.copy_to(out)?;
                        out.write_all(b"\n  ]\n}\n")?;
                    }
                }
            }
            Kind::Prometheus => {
                let text = self.prometheus.render()?;
                self.sink()?.write_all(text.as_bytes())?;
            }
            Kind::Bundle => {
                let (branch, commit) =
                    std::env::current_dir().map(|d| tt_core::machine::git_info(&d)).unwrap_or((None, None));
                let header = tt_core::bundle::Header {
                    exported_at: export::stamp(export::now()),
                    exported_by: tt_core::machine::user(),
                    host: tt_core::machine::host(),
                    tool: format!("tt-export {}", env!("CARGO_PKG_VERSION")),
                    branch,
                    commit,
                    filter: self.filter.described.clone(),
                    records: self.totals.records,
                    checksum: std::mem::take(&mut self.checksum).finish(),
                };
                let spool = self.spool.take();
                let out = self.sink()?;
                out.write_all(header.to_json().as_bytes())?;
                out.write_all(b"\n")?;
                if let Some(spool) = spool {
                    spool.copy_to(out)?;
                }
            }
        }
        if let Some(html) = self.html.take() {
            let text = html.render()?;
            let mut sink = self.sink.take().ok_or_else(|| Error::data("output already finished"))?;
            sink.write_all(text.as_bytes())?;
            return sink.finish();
        }
        if self.kind == Kind::Markdown {
            let text = self.report.render()?;
            let mut sink = self.sink.take().ok_or_else(|| Error::data("output already finished"))?;
            sink.write_all(text.as_bytes())?;
            return sink.finish();
        }
        self.sink.take().ok_or_else(|| Error::data("output already finished"))?.finish()
    }
}

/// The json format: one report document — what, when, which filter, the totals, then the records. This is the
/// document up to its totals; the records follow from the spool.
fn json_head(filter: &Filter, totals: &Totals) -> String {
    let mut s = String::from("{\n  \"kind\": \"report\",\n  \"generated_at\": ");
    s.push_str(&Value::String(export::stamp(export::now())).to_string());
    s.push_str(&format!(",\n  \"tool\": \"tt-export {}\",\n  \"window\": ", env!("CARGO_PKG_VERSION")));
    s.push_str(&window_json(&filter.window));
    s.push_str(",\n  \"filter\": ");
    s.push_str(&Value::Object(filter.described.clone()).to_string());
    s.push_str(",\n  \"totals\": ");
    s.push_str(&export::totals_json(totals));
    s
}

/// The window as `{"period","start","end"}`, plus `"counted_until"` when `--today` cut it short: the instant
/// after which records were left out (the bounds stay the period's, as in tt-sum's rows).
fn window_json(w: &tt_core::period::Window) -> String {
    let text = |t: Option<String>| t.map(Value::String).unwrap_or(Value::Null).to_string();
    let cut = match w.cutoff.filter(|c| w.end.is_none_or(|e| *c < e)) {
        Some(c) => format!(",\"counted_until\":{}", text(Some(tt_core::period::format_in(c, w.tz)))),
        None => String::new(),
    };
    format!(
        "{{\"period\":{},\"start\":{},\"end\":{}{cut}}}",
        Value::String(w.period.clone()),
        text(w.start_text()),
        text(w.end_text())
    )
}

/// Summary rows in the chosen format.
fn rows_out(kind: Kind, rows: &[Summary], config: &Config, cal: &Calendar, out: &mut Sink) -> Result<()> {
    match kind {
        Kind::Jsonl => {
            for r in rows {
                out.write_all(r.to_json().as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
        Kind::Csv => tt_core::aggregate::write_csv(out, &tt_core::aggregate::group_keys(rows), rows)?,
        Kind::Json => out.write_all(export::rows_json(rows)?.as_bytes())?,
        Kind::Markdown => out.write_all(tt_core::report::summary_markdown(rows, config, cal)?.as_bytes())?,
        Kind::Prometheus => out.write_all(export::rows_prometheus(rows)?.as_bytes())?,
        Kind::Html => {
            return Err(Error::usage(
                "the HTML report is made from usage records (its charts, sessions and suggestions need them), not \
                 tt-sum summary rows",
            ));
        }
        Kind::Bundle => return Err(Error::usage("bundles carry usage records, not tt-sum summary rows")),
    }
    Ok(())
}

//! `tt-budget`: evaluate budgets, warn at thresholds, forecast, and gate a build.
//!
//! The CLI glue only: evaluation, levels and forecasts are [`tt_core::budget`]; reading is
//! [`tt_core::scan`]; summary rows are [`tt_core::aggregate::Summary`].

use std::collections::BTreeMap;
use std::io::Write;

use clap::{CommandFactory, Parser};
use rust_decimal::Decimal;
use tt_core::aggregate::Summary;
use tt_core::budget::{Evaluation, FailAt, Level, Tally, budget_label, parse_fail_at, rows_needed, spend_from_rows};
use tt_core::cli::{CommonArgs, HELP_FOOTER, Outcome};
use tt_core::config::{Budget, BudgetPeriod, default_warn_at};
use tt_core::error::{Error, Result};
use tt_core::input::Source;
use tt_core::output::{Format, Table, csv_safe};
use tt_core::period::Calendar;
use tt_core::scan::View;
use tt_core::{Config, Tokens, money};

const EXAMPLES: &str = "\
Examples:
  tt-budget                                          every configured budget, over its current window
  tt-budget --fail-over                              exit 1 when a budget is over its limit
  tt-sum --period month | tt-budget --fail-over      the same, from tt-sum's summary rows
  tt-budget --fail-at warning                        exit 1 at 80% (or critical, over, 0.9, 90%)
  tt-budget --fail-projected                         exit 1 when the month-end forecast exceeds a limit
  tt-budget --limit-usd 60 --period month --scope agent=ATLAS --fail-over
  tt-budget --estimate-usd 4.50                      go or defer? exit 1 if $4.50 more would go over
  tt-budget --estimate-tokens 400000 --model opus-4.5
  GITHUB_ACTIONS=true tt-budget --fail-over          annotations and a job summary table in GitHub Actions";

/// Evaluate budgets.
#[derive(Debug, Parser)]
#[command(
    name = "tt-budget",
    version,
    about = "Compare spend with budgets, warn at thresholds, forecast, and fail the build",
    long_about = "Evaluate budgets: spent, limit, remaining, percent used, level (ok, info ≥50%, warning ≥80%, \
critical ≥95%, over >100% by default) and a forecast to the end of the window. Reads tt-sum summary rows or raw \
records on stdin (always to the end); with nothing on stdin, reads the usage log and evaluates every configured \
budget over its own current window. Prints the report first, then fails (exit 1) if a gate trips; any error is \
exit 2, so a broken pipeline is never mistaken for a verdict.",
    after_help = format!("{EXAMPLES}\n\n{HELP_FOOTER}"),
)]
pub struct Cli {
    /// Files of summary rows or records (`-` for stdin) [default: stdin if piped, else the usage log].
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Exit 1 when any budget is over its limit.
    #[arg(long)]
    fail_over: bool,
    /// Exit 1 when any budget is at this level or above (info, warning, critical, over) or at this fraction
    /// of a limit (0.9 or 90%).
    #[arg(long, value_name = "LEVEL|FRACTION")]
    fail_at: Option<String>,
    /// Exit 1 when a forecast to the end of the window exceeds a limit.
    #[arg(long)]
    fail_projected: bool,
    /// Pre-task check: exit 1 if spending this many dollars more would push a budget over its limit.
    #[arg(long, value_name = "USD")]
    estimate_usd: Option<String>,
    /// Pre-task check in tokens (priced as input tokens of --model for dollar limits).
    #[arg(long, value_name = "N")]
    estimate_tokens: Option<String>,
    /// The model that prices --estimate-tokens.
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// Only these configured budgets (repeatable).
    #[arg(long = "budget", value_name = "NAME")]
    budgets: Vec<String>,
    /// An ad-hoc budget instead of the configured ones: a dollar limit.
    #[arg(long, value_name = "USD")]
    limit_usd: Option<String>,
    /// An ad-hoc budget: a token limit.
    #[arg(long, value_name = "N")]
    limit_tokens: Option<String>,
    /// The ad-hoc budget's period: day, week, month, year, total, session.
    #[arg(long, value_name = "PERIOD", default_value = "month")]
    period: String,
    /// The ad-hoc budget's scope, FIELD=VALUE (repeatable): agent=ATLAS, tag:team=web.
    #[arg(long = "scope", value_name = "FIELD=VALUE")]
    scope: Vec<String>,
    /// The ad-hoc budget's thresholds, comma-separated fractions [default: 0.5,0.8,0.95].
    #[arg(long, value_name = "FRACTIONS")]
    warn_at: Option<String>,
    /// The ad-hoc budget's name.
    #[arg(long, value_name = "NAME", default_value = "ad-hoc")]
    name: String,
    /// Emit GitHub Actions annotations and a job summary (automatic when GITHUB_ACTIONS=true).
    #[arg(long)]
    github: bool,
    /// Time zone for budget windows (IANA name) [default: config `tz`, else UTC].
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Pretend today is this date (the day counts as fully elapsed), for reproducible reports.
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
    /// Output format: table, json, jsonl, csv, markdown [default: table on a terminal, else jsonl].
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,

    #[command(flatten)]
    common: CommonArgs,
}

/// The clap definition (for `main`, completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// What one input turned out to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Rows,
    Records,
}

/// The per-chunk state of reading an input.
struct Reader<'c> {
    mode: Option<Mode>,
    rows: Vec<Summary>,
    tally: Tally<'c>,
}

/// Run `tt-budget`.
pub fn run(m: &clap::ArgMatches) -> Result<Outcome> {
    let cli: Cli = tt_core::cli::parse_args(m)?;
    let config = cli.common.config()?;
    let format = Format::choose(cli.format.as_deref())?;
    let cal = Calendar::from_flags(&config, cli.tz.as_deref(), cli.today.as_deref())?;
    let fail_at = cli.fail_at.as_deref().map(parse_fail_at).transpose()?;
    let budgets = budgets(&cli, m, &config)?;
    let estimate = estimate(&cli, &config, &cal)?;

    // Read every input to the end (a writer upstream must never see a closed pipe because we stopped early).
    let sources = sources(&cli.files, &cli.common, &config)?;
    let mut seen: Option<Mode> = None;
    let mut rows = Vec::new();
    let mut tally = Tally::new(&budgets, &cal, &config.prices);
    for src in &sources {
        let parts = tt_core::scan::fold_lines(
            src,
            || Reader { mode: None, rows: Vec::new(), tally: Tally::new(&budgets, &cal, &config.prices) },
            |st, line| {
                let mode = match st.mode {
                    Some(m) => m,
                    None => {
                        let m = if looks_like_row(line) { Mode::Rows } else { Mode::Records };
                        st.mode = Some(m);
                        m
                    }
                };
                match mode {
                    Mode::Rows => st.rows.push(Summary::from_json(tt_core::input::utf8(line)?)?),
                    Mode::Records => st.tally.add(&View::parse(line)?),
                }
                Ok(())
            },
        )?;
        for p in parts {
            if let Some(m) = p.mode {
                if seen.is_some_and(|s| s != m) {
                    return Err(Error::data(format!(
                        "{}: mixes tt-sum summary rows and usage records; give one or the other",
                        src.name()
                    )));
                }
                seen = Some(m);
            }
            rows.extend(p.rows);
            tally.merge(p.tally);
        }
    }

    let evals = if !rows.is_empty() {
        let answers = spend_from_rows(&budgets, &rows, &cal)?;
        // A budget the rows cannot answer is not checked: say so for each one, with the rows that would.
        for b in &answers.unanswered {
            tt_core::cli::warn(
                "tt-budget",
                format!(
                    "{} ({}) not checked: these summary rows do not answer it; it needs `{}` rows",
                    b.name,
                    budget_label(b),
                    rows_needed(b)
                ),
            );
        }
        answers.evaluations
    } else {
        tally.finish()?
    };
    for e in evals.iter().filter(|e| e.limit_usd.is_some() && e.spent.unpriced > 0) {
        let n = e.spent.unpriced;
        tt_core::cli::warn(
            "tt-budget",
            format!(
                "{} record{} in budget {} could not be priced (unknown model, no cost_usd); its dollar spend is a \
                 lower bound",
                money::thousands(n),
                if n == 1 { "" } else { "s" },
                e.name
            ),
        );
    }

    let mut out = tt_core::output::stdout();
    render(&mut out, format, &evals)?;
    out.flush()?;

    let github = cli.github || std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    if github {
        github_output(&evals)?;
    }

    // The gates, after the report.
    let mut failures = Vec::new();
    for e in &evals {
        let who = match &e.session {
            Some(s) => format!("{} (session {s})", e.name),
            None => e.name.clone(),
        };
        if cli.fail_over && e.level == Level::Over {
            failures.push(format!("{who} is over its limit: {}", e.spent_text()));
        } else if let Some(f) = fail_at
            && f.tripped(e)
        {
            let at = match f {
                FailAt::Level(l) => l.as_str().to_string(),
                FailAt::Fraction(x) => format!("{}%", (x * Decimal::ONE_HUNDRED).normalize()),
            };
            failures.push(format!("{who} is at {}% (--fail-at {at}): {}", e.percent(), e.spent_text()));
        }
        if cli.fail_projected
            && let Some(f) = &e.forecast
            && f.level == Level::Over
        {
            failures.push(format!(
                "{who} is projected over its limit by the end of the {}: {}",
                e.period.as_str(),
                projected_text(e)
            ));
        }
    }
    if let Some((usd, tokens, what)) = &estimate {
        let mut go = Vec::new();
        for e in &evals {
            if e.would_exceed(*usd, *tokens) {
                failures.push(format!("{}: {}; this task needs ~{what}: defer it", e.name, e.left_text()));
            } else {
                go.push(format!("{} ({})", e.name, e.left_text()));
            }
        }
        if failures.is_empty() {
            let _ = writeln!(std::io::stderr(), "tt-budget: go: ~{what} fits: {}", go.join("; "));
        }
    }
    if failures.is_empty() { Ok(Outcome::Ok) } else { Err(Error::condition(failures.join("; "))) }
}

/// A summary row has `"kind":"summary"`; a usage record never does.
fn looks_like_row(line: &[u8]) -> bool {
    memchr_find(line, b"\"kind\"") && std::str::from_utf8(line).is_ok_and(Summary::is_summary_line)
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The budgets to evaluate: the ad-hoc one from flags, else the configured ones (optionally by name). Flags
/// that shape an ad-hoc budget are refused without a limit (they would be ignored), and every budget is
/// validated ([`tt_core::budget::validate`]).
fn budgets(cli: &Cli, m: &clap::ArgMatches, config: &Config) -> Result<Vec<Budget>> {
    let given = |id: &str| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if cli.limit_usd.is_none() && cli.limit_tokens.is_none() {
        if let Some(flag) = [("period", "--period"), ("scope", "--scope"), ("warn_at", "--warn-at"), ("name", "--name")]
            .iter()
            .find_map(|(id, flag)| given(id).then_some(*flag))
        {
            return Err(Error::usage(format!(
                "{flag} describes an ad-hoc budget, which needs --limit-usd or --limit-tokens (configured budgets \
                 take theirs from the config; pick them with --budget NAME)"
            )));
        }
    } else {
        if !cli.budgets.is_empty() {
            return Err(Error::usage(
                "--budget picks configured budgets; --limit-usd / --limit-tokens define an ad-hoc one instead: give \
                 one or the other",
            ));
        }
        let period = BudgetPeriod::parse(&cli.period).ok_or_else(|| {
            Error::usage(format!("--period must be day, week, month, year, total or session, got {:?}", cli.period))
        })?;
        let mut scope = BTreeMap::new();
        for s in &cli.scope {
            let (k, v) =
                s.split_once('=').ok_or_else(|| Error::usage(format!("--scope wants FIELD=VALUE, got {s:?}")))?;
            if !tt_core::record::is_scope_field(k) {
                return Err(Error::usage(format!("--scope: `{k}` is not a record field")));
            }
            if scope.insert(k.to_string(), v.to_string()).is_some() {
                return Err(Error::usage(format!("--scope: `{k}` given twice")));
            }
        }
        let warn_at = match &cli.warn_at {
            None => default_warn_at(),
            Some(s) => {
                let mut w = Vec::new();
                for p in s.split(',') {
                    match money::parse_decimal(p) {
                        Some(d) => w.push(d),
                        None => {
                            return Err(Error::usage(format!(
                                "--warn-at wants fractions such as 0.5,0.8,0.95, got {s:?}"
                            )));
                        }
                    }
                }
                tt_core::budget::check_warn_at(&w).map_err(|m| Error::usage(format!("--warn-at {m}")))?;
                w
            }
        };
        let positive = |flag: &str, zero: bool| -> Result<()> {
            if zero {
                return Err(Error::usage(format!(
                    "{flag} must be more than 0: a zero limit has no percentage (to allow almost nothing, give a \
                     tiny limit such as 0.01)"
                )));
            }
            Ok(())
        };
        let limit_usd = cli.limit_usd.as_deref().map(|s| usd_arg("--limit-usd", s)).transpose()?;
        positive("--limit-usd", limit_usd.is_some_and(|l| l.is_zero()))?;
        let limit_tokens = cli.limit_tokens.as_deref().map(|s| tokens_arg("--limit-tokens", s)).transpose()?;
        positive("--limit-tokens", limit_tokens == Some(0))?;
        let b = Budget {
            name: cli.name.clone(),
            period,
            scope,
            limit_usd,
            limit_tokens,
            warn_at,
            source: "command line".into(),
        };
        tt_core::budget::validate(&b)?;
        return Ok(vec![b]);
    }
    for n in &cli.budgets {
        if !config.budgets.iter().any(|b| &b.name == n) {
            return Err(Error::usage(format!(
                "no budget named {n:?} (configured: {})",
                config.budgets.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let list: Vec<Budget> =
        config.budgets.iter().filter(|b| cli.budgets.is_empty() || cli.budgets.contains(&b.name)).cloned().collect();
    if list.is_empty() {
        return Err(Error::config(
            "no budgets configured: add a [[budget]] to tt.toml (see tt-budget --help) or give --limit-usd / --limit-tokens",
        ));
    }
    tt_core::budget::validate_all(&list)?;
    Ok(list)
}

fn usd_arg(flag: &str, s: &str) -> Result<Decimal> {
    match money::parse_decimal(s.trim().trim_start_matches('$')) {
        Some(d) if d >= Decimal::ZERO => Ok(d),
        _ => Err(Error::usage(format!("{flag} wants a non-negative amount of dollars, got {s:?}"))),
    }
}

fn tokens_arg(flag: &str, s: &str) -> Result<u64> {
    let clean: String = s.trim().chars().filter(|c| *c != '_' && *c != ',').collect();
    clean.parse::<u64>().map_err(|_| Error::usage(format!("{flag} wants a non-negative integer, got {s:?}")))
}

/// The pre-task estimate: dollars, tokens, and how to say it.
fn estimate(cli: &Cli, config: &Config, cal: &Calendar) -> Result<Option<(Decimal, u64, String)>> {
    let usd = cli.estimate_usd.as_deref().map(|s| usd_arg("--estimate-usd", s)).transpose()?;
    let tokens = cli.estimate_tokens.as_deref().map(|s| tokens_arg("--estimate-tokens", s)).transpose()?;
    if cli.model.is_some() && tokens.is_none() {
        return Err(Error::usage("--model prices --estimate-tokens; give --estimate-tokens N too"));
    }
    Ok(match (usd, tokens) {
        (None, None) => None,
        (Some(u), None) => Some((u, 0, usd_cell(u))),
        (u, Some(t)) => {
            let priced = match (&cli.model, u) {
                (_, Some(u)) => Some(u),
                (Some(m), None) => {
                    let entry = config.prices.resolve(m).ok_or_else(|| {
                        Error::usage(format!(
                            "unknown model {m:?}: cannot price --estimate-tokens (see tt-price --list)"
                        ))
                    })?;
                    let tk = Tokens { input: t, ..Default::default() };
                    Some(tt_core::price::cost_with(entry, cal.now, &tk))
                }
                (None, None) => None,
            };
            let text = match priced {
                Some(p) => format!("{} tokens ({})", money::thousands(t), money::usd(p)),
                None => format!("{} tokens", money::thousands(t)),
            };
            if priced.is_none()
                && config.budgets.iter().any(|b| b.limit_usd.is_some())
                && cli.limit_usd.is_none()
                && cli.limit_tokens.is_none()
            {
                tt_core::cli::warn(
                    "tt-budget",
                    "--estimate-tokens without --model or --estimate-usd: dollar limits are checked with $0",
                );
            }
            Some((priced.unwrap_or(Decimal::ZERO), t, text))
        }
    })
}

/// Files given, else stdin when it has data, else the usage log (a log that does not exist yet is empty).
fn sources(files: &[String], common: &CommonArgs, config: &Config) -> Result<Vec<Source>> {
    if !files.is_empty() || tt_core::input::stdin_has_data() {
        return Ok(tt_core::input::sources(files, std::path::Path::new("")));
    }
    let log = common.log_path(config)?;
    Ok(if log.exists() { vec![Source::File(log)] } else { Vec::new() })
}

/// Dollars in a table cell: `$0` for nothing (not `$0.0000`), else as everywhere.
fn usd_cell(d: Decimal) -> String {
    if d.is_zero() { "$0".into() } else { money::usd(d) }
}

fn money_or_tokens(usd: Option<Decimal>, tokens: Option<i128>) -> String {
    let mut parts = Vec::new();
    if let Some(u) = usd {
        parts.push(usd_cell(u));
    }
    if let Some(t) = tokens {
        parts.push(format!("{} tok", money::thousands_i(t)));
    }
    if parts.is_empty() { "-".into() } else { parts.join(" · ") }
}

fn spent_cell(e: &Evaluation) -> String {
    let usd = (e.limit_usd.is_some() || e.limit_tokens.is_none()).then_some(e.spent.usd);
    let tok = e.limit_tokens.map(|_| i128::from(e.spent.tokens));
    money_or_tokens(usd, tok)
}

fn projected_text(e: &Evaluation) -> String {
    match &e.forecast {
        None => "-".into(),
        Some(f) => {
            let usd = e.limit_usd.map(|_| f.usd);
            let tok = e.limit_tokens.map(|_| i128::from(f.tokens));
            let lim = money_or_tokens(e.limit_usd, e.limit_tokens.map(i128::from));
            format!("{} of {lim}", money_or_tokens(usd, tok))
        }
    }
}

fn window_cell(e: &Evaluation) -> String {
    match (&e.session, &e.window.start) {
        (Some(s), _) => format!("session {s}"),
        (None, Some(start)) => format!("{} from {}", e.period.as_str(), start.format("%Y-%m-%d")),
        (None, None) => e.period.as_str().to_string(),
    }
}

/// The report table (also the GitHub job summary).
fn table(evals: &[Evaluation]) -> Table {
    // An UNPRICED column when some spend could not be priced: those budgets' dollars are a lower bound.
    let unpriced = evals.iter().any(|e| e.spent.unpriced > 0);
    let mut headers =
        vec!["BUDGET", "SCOPE", "WINDOW", "SPENT", "LIMIT", "LEFT", "USED", "LEVEL", "FORECAST", "LIMIT ON"];
    if unpriced {
        headers.insert(4, "UNPRICED");
    }
    let mut t = Table::new(&headers, &["SPENT", "UNPRICED", "LIMIT", "LEFT", "USED", "FORECAST"]);
    for e in evals {
        let forecast = match &e.forecast {
            None => "-".into(),
            Some(f) => money_or_tokens(e.limit_usd.map(|_| f.usd), e.limit_tokens.map(|_| i128::from(f.tokens))),
        };
        let limit_on = e
            .forecast
            .as_ref()
            .and_then(|f| f.limit_date)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "-".into());
        let scope = e.scope_text();
        let mut cells =
            vec![e.name.clone(), if scope.is_empty() { "-".into() } else { scope }, window_cell(e), spent_cell(e)];
        if unpriced {
            cells.push(if e.spent.unpriced > 0 { money::thousands(e.spent.unpriced) } else { "-".into() });
        }
        cells.extend([
            money_or_tokens(e.limit_usd, e.limit_tokens.map(i128::from)),
            money_or_tokens(e.remaining_usd(), e.remaining_tokens()),
            format!("{}%", e.percent()),
            e.level.as_str().to_string(),
            forecast,
            limit_on,
        ]);
        t.row(cells);
    }
    t
}

fn render(out: &mut impl Write, format: Format, evals: &[Evaluation]) -> Result<()> {
    match format {
        Format::Jsonl => {
            for e in evals {
                writeln!(out, "{}", e.to_json())?;
            }
        }
        Format::Json => {
            tt_core::output::write_json_array(out, evals.iter().map(|x| x.to_json()))?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let csv_err = |e: csv::Error| Error::data(format!("csv: {e}"));
            w.write_record([
                "name",
                "period",
                "scope",
                "window_start",
                "window_end",
                "session",
                "spent_usd",
                "spent_tokens",
                "unpriced_records",
                "limit_usd",
                "limit_tokens",
                "remaining_usd",
                "remaining_tokens",
                "percent",
                "level",
                "projected_usd",
                "projected_tokens",
                "limit_date",
            ])
            .map_err(csv_err)?;
            for e in evals {
                let f = e.forecast.as_ref();
                let rec: Vec<String> = vec![
                    csv_safe(&e.name).into_owned(),
                    e.period.as_str().into(),
                    csv_safe(&e.scope_text()).into_owned(),
                    e.window.start.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default(),
                    e.window.end.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default(),
                    csv_safe(e.session.as_deref().unwrap_or("")).into_owned(),
                    money::canonical(e.spent.usd),
                    e.spent.tokens.to_string(),
                    e.spent.unpriced.to_string(),
                    e.limit_usd.map(money::canonical).unwrap_or_default(),
                    e.limit_tokens.map(|t| t.to_string()).unwrap_or_default(),
                    e.remaining_usd().map(money::canonical).unwrap_or_default(),
                    e.remaining_tokens().map(|t| t.to_string()).unwrap_or_default(),
                    e.percent().to_string(),
                    e.level.as_str().into(),
                    f.map(|f| money::canonical(f.usd)).unwrap_or_default(),
                    f.map(|f| f.tokens.to_string()).unwrap_or_default(),
                    f.and_then(|f| f.limit_date).map(|d| d.to_string()).unwrap_or_default(),
                ];
                w.write_record(&rec).map_err(csv_err)?;
            }
            let bytes = w.into_inner().map_err(|e| Error::data(format!("csv: {e}")))?;
            out.write_all(&bytes)?;
        }
        // No budget evaluated (the warnings said why): no table, not an empty header.
        Format::Table | Format::Markdown if evals.is_empty() => {}
        Format::Table => table(evals).render_text(out)?,
        Format::Markdown => table(evals).render_markdown(out)?,
    }
    Ok(())
}

/// GitHub Actions: `::warning::`/`::error::` workflow commands (on stderr, which the runner reads like stdout,
/// so stdout stays the report) for budgets at warning or above, and the table appended to the job summary.
fn github_output(evals: &[Evaluation]) -> Result<()> {
    let mut err = std::io::stderr().lock();
    for e in evals.iter().filter(|e| e.level >= Level::Warning) {
        let cmd = if e.level == Level::Over { "error" } else { "warning" };
        let mut msg = format!("budget {} is {} at {}%: {}", e.name, e.level.as_str(), e.percent(), e.spent_text());
        if let Some(f) = &e.forecast
            && f.level == Level::Over
        {
            msg.push_str(&format!("; projected {}", projected_text(e)));
        }
        let _ = writeln!(err, "::{cmd} title=tt budget {}::{}", escape_property(&e.name), escape_data(&msg));
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let mut md = Vec::new();
        writeln!(md, "### Token budgets\n")?;
        if evals.is_empty() {
            writeln!(md, "No budget was checked (see the job log for why).")?;
        } else {
            table(evals).render_markdown(&mut md)?;
        }
        writeln!(md)?;
        let p = std::path::PathBuf::from(path);
        let mut f =
            std::fs::OpenOptions::new().create(true).append(true).open(&p).map_err(|e| Error::io(p.display(), e))?;
        f.write_all(&md).map_err(|e| Error::io(p.display(), e))?;
    }
    Ok(())
}

/// Workflow-command data escaping (`%`, CR, LF), as the runner expects.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Workflow-command property escaping (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

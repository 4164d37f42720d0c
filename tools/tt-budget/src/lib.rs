//! `tt-budget`: evaluate budgets, warn at thresholds, forecast, and gate a build.
//!
//! The CLI glue: flags, choosing who answers each budget, and rendering. Evaluation, levels and forecasts are
//! [`tt_core::budget`]; the pass/fail/go decision is [`tt_core::budget::gate`]; spend from the log comes from
//! its index ([`tt_core::enforce::counts`]), from records by [`tt_core::scan`], from rows by
//! [`tt_core::budget::evaluate_from_rows`].

use std::io::Write;

use clap::{CommandFactory, Parser};
use tt_core::answer::{Request, answer};
use tt_core::args::{parse_token_flag, parse_usd};
use tt_core::budget::gate::{Estimate, Failure, Gate, Note, TaskContext, parse_fail_at};
use tt_core::budget::{Budget, Evaluation};
use tt_core::cli::{CommonArgs, HELP_FOOTER};
use tt_core::error::{Error, Result};
use tt_core::output::Format;
use tt_core::period::Calendar;
use tt_core::{Config, money};

const EXAMPLES: &str = "\
Examples:
  tt-budget                                          every configured budget, over its current window
  tt-budget --fail-over                              the CI gate: exit 1 when any budget is over its limit
  tt-sum | tt-budget --fail-over                     the same gate: rows name their log, which answers the rest
  tt-budget --fail-at warning                        exit 1 at 80% (or critical, over, 0.9, 90%)
  tt-budget --fail-projected                         exit 1 when a forecast to the window's end exceeds a limit
  tt-budget --limit-usd 60 --period month --scope agent=ATLAS --fail-over
  tt-budget --estimate-usd 4.50 --agent ATLAS        go or defer? exit 1 if $4.50 more would go over
  tt-budget --estimate-tokens 400000 --model opus-4.5
  tt-budget --estimate-usd 4.50 --agent ATLAS --reserve   check and hold: prints the id (exit 1: defer)
  tt-log --settle ID ATLAS sonnet-4.5 50000 15000    the real usage replaces the hold
  tt-budget --release ID                             free a reservation early
  GITHUB_ACTIONS=true tt-budget --fail-over          annotations and a job summary table in GitHub Actions
  tt-budget --chart --format table | less            the gauges in a pipe too

On a terminal the table is followed by a gauge per budget (--chart draws them anywhere): the
share of the limit used, ┃ the forecast to the window's end and │ the limit when spend or
forecast is past it (ASCII with --ascii or a locale that is not UTF-8: #, |, !). The GitHub job
summary also gets a Mermaid xychart-beta of the most used day, week, month or year budget: its
spend per day (per hour for a daily budget, per month for a yearly one) against its pro-rated
limit, when its records can be read again (the log or files, not stdin).

The estimate is checked against the budgets that apply to the task: a budget scoped to a field
that the task's context (--agent, --model, --session, --task, --project, --provider, --branch,
--tag, or TT_AGENT, TT_MODEL, TT_SESSION, TT_TASK, TT_PROJECT) gives with another value is
skipped; a scope field the context does not give is assumed to match, so that budget is checked.
A session budget is checked against the spend of the context's session so far (none given, or a
session not logged yet: a new session, at 0). --fail-projected applies to day, week, month and
year budgets: a total budget has no window end to project to (its limit date comes from the burn
of the last 30 days).";

/// Evaluate budgets.
#[derive(Debug, Parser)]
#[command(
    name = "tt-budget",
    version = tt_core::cli::VERSION,
    about = "Compare spend with budgets, warn at thresholds, forecast, and fail the build",
    long_about = "Evaluate budgets: spent, limit, remaining, percent used, level (ok, info ≥50%, warning ≥80%, \
critical ≥95%, over >100% by default) and a forecast to the end of the window. Reads tt-sum summary rows or raw \
records on stdin (always to the end); with nothing on stdin, reads the usage log (through its index) and \
evaluates every configured budget over its own current window. A gate never passes a budget it did not check: \
budgets the rows do not answer are checked from the log the rows came from, or are an error. Prints the report first, then fails (exit 1) if a gate trips; any error is \
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
    #[arg(long, value_name = "LEVEL|FRACTION", value_parser = tt_core::cli::Words(&["info", "warning", "critical", "over"]), hide_possible_values = true)]
    fail_at: Option<String>,
    /// Exit 1 when a forecast to the end of the window exceeds a limit (day, week, month and year budgets).
    #[arg(long)]
    fail_projected: bool,
    /// Pre-task check: exit 1 if spending this many dollars more would push a budget over its limit.
    #[arg(long, value_name = "USD", group = "estimate")]
    estimate_usd: Option<String>,
    /// Pre-task check in tokens (priced as input tokens of --model for dollar limits).
    #[arg(long, value_name = "N", group = "estimate")]
    estimate_tokens: Option<String>,
    /// The task's model: prices --estimate-tokens, and budgets scoped to another model are not checked
    /// [env: TT_MODEL].
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// The task's agent: budgets scoped to another agent are not checked by the estimate [env: TT_AGENT].
    #[arg(long, value_name = "NAME")]
    agent: Option<String>,
    /// The task's session: session budgets check the estimate on top of its spend so far [env: TT_SESSION].
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// The task's task name, for the estimate's budgets [env: TT_TASK].
    #[arg(long, value_name = "NAME")]
    task: Option<String>,
    /// The task's project, for the estimate's budgets [env: TT_PROJECT].
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// The task's provider, for the estimate's budgets.
    #[arg(long, value_name = "NAME")]
    provider: Option<String>,
    /// The task's git branch, for the estimate's budgets.
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
    /// The task's tag, KEY=VALUE (repeatable), for the estimate's budgets.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    /// Only these configured budgets (repeatable).
    #[arg(long = "budget", value_name = "NAME")]
    budgets: Vec<String>,
    /// An ad-hoc budget instead of the configured ones: a dollar limit.
    #[arg(long, value_name = "USD")]
    limit_usd: Option<String>,
    /// An ad-hoc budget: a token limit.
    #[arg(long, value_name = "N")]
    limit_tokens: Option<String>,
    /// The ad-hoc budget's period: day, week, month, year, total, session. Checked over its current window
    /// (`month` is this month, the window tt-sum --period month reports); the report windows of tt-sum's
    /// --period (today, last-month, …) are not budget periods.
    #[arg(long, value_name = "PERIOD", default_value = "month",
          value_parser = tt_core::cli::Words(&["day", "week", "month", "year", "total", "session"]), hide_possible_values = true)]
    period: String,
    /// The ad-hoc budget's scope, FIELD=VALUE (repeatable): agent=ATLAS, tag:team=web.
    #[arg(long = "scope", value_name = "FIELD=VALUE")]
    scope: Vec<String>,
    /// The ad-hoc budget's thresholds, comma-separated fractions or percentages [default: 0.5,0.8,0.95].
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
    #[arg(long, value_name = "FORMAT", value_parser = tt_core::cli::REPORT_FORMATS, hide_possible_values = true)]
    format: Option<String>,
    #[arg(long, help = tt_core::output::CSV_EXACT_HELP)]
    csv_exact: bool,
    /// With an estimate that fits: print the report too, not only the one-line "go".
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Draw a gauge per budget below the table, also when stdout is not a terminal (on one they are drawn
    /// anyway).
    #[arg(long)]
    chart: bool,
    /// With the gauges: ASCII only (#, ., |, !), whatever the locale.
    #[arg(long)]
    ascii: bool,
    /// Fit the gauges to N columns [default: COLUMNS, else the terminal's width, else 80].
    #[arg(long, value_name = "N")]
    width: Option<usize>,
    /// Under a gate that passes: one line on stderr (`ok: …`, with the most used budget) instead of the report;
    /// a gate that fails still prints the report and why.
    #[arg(long)]
    brief: bool,
    /// With --estimate-*: check and hold the estimate atomically (under the log's lock) when it fits, and print
    /// the reservation's id; log the real usage with `tt-log --settle ID …`.
    #[arg(long, requires = "estimate")]
    reserve: bool,
    /// How long an unsettled reservation holds [default: config `reservation_ttl`, else 1h].
    #[arg(long, value_name = "DURATION", requires = "reserve")]
    ttl: Option<String>,
    /// Free a reservation early (it no longer holds its amount).
    #[arg(long, value_name = "ID", conflicts_with_all = ["estimate", "fail_over", "fail_at", "fail_projected"])]
    release: Option<String>,

    #[command(flatten)]
    common: CommonArgs,
}

/// The clap definition (for `main`, completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Run `tt-budget`.
pub fn run(m: &clap::ArgMatches) -> Result<()> {
    let cli: Cli = tt_core::cli::parse_args(m)?;
    let config = cli.common.config()?;
    let log = cli.common.log_path(&config)?;
    if let Some(id) = &cli.release {
        let released = tt_core::reserve::release(&log, id)?;
        let _ = writeln!(std::io::stderr(), "tt-budget: {}", released.value);
        released.warnings.into_iter().for_each(|w| tt_core::cli::warn("tt-budget", w));
        return Ok(());
    }
    let format = Format::choose(cli.format.as_deref())?;
    tt_core::output::csv_exact_flag(format, cli.csv_exact)?;
    if cli.chart && format != Format::Table {
        return Err(Error::usage(format!(
            "--chart draws gauges below the table: use --format table, or drop --chart for {}",
            format.name()
        )));
    }
    tt_core::chart::terminal::check_width(cli.width, "the gauges")?;
    let cal = config.calendar(cli.tz.as_deref(), cli.today.as_deref())?.report(|w| tt_core::cli::warn("tt-budget", w));
    let budgets = budgets(&cli, m, &config)?;
    let context = context(&cli)?;
    let gate = Gate {
        fail_over: cli.fail_over,
        fail_at: cli.fail_at.as_deref().map(parse_fail_at).transpose()?,
        fail_projected: cli.fail_projected,
        estimate: estimate(&cli, &config, &cal, &context)?,
    };
    let (sources, from_log) = cli.common.sources(&cli.files, &config)?;
    let ad_hoc = cli.limit_usd.is_some() || cli.limit_tokens.is_some();
    let ttl = cli.ttl.as_deref().map(ttl).transpose()?.unwrap_or(config.reservation_ttl);
    let mut locked = reservation_lock(&cli, &config, &cal, &log, from_log, ad_hoc, &context)?;
    let request = Request {
        budgets: &budgets,
        cal: &cal,
        config: &config,
        log: &log,
        sources: &sources,
        from_log,
        named: !cli.files.is_empty(),
        ad_hoc,
    };
    let answers = answer(&request, &gate, &context, &config, locked.as_mut())?;
    let verdict =
        gate.decide(&budgets, &answers.evals, &|i, s| answers.session_spent(i, s), &context, &cal, &config.prices);
    let evals = &answers.evals;
    let notes: Vec<Note> = answers.notes.iter().cloned().chain(verdict.notes).collect();
    let failures = verdict.failures;
    for n in &notes {
        tt_core::cli::warn("tt-budget", &n.message);
    }
    // A reservation that fits is held before the lock is released.
    let mut held = None;
    if let (Some(l), Some(est)) = (&mut locked, &gate.estimate)
        && failures.is_empty()
    {
        held = Some(tt_core::reserve::hold(l, est.usd, est.tokens, &context, ttl)?);
    }
    drop(locked);

    // The job summary's chart: read only when there is a job summary to write it to.
    let chart = if (cli.github || tt_core::github::active()) && tt_core::github::summary_path().is_some() {
        tt_core::chart::for_evaluations(&budgets, evals, &sources, &cal, &config.prices)
    } else {
        None
    };
    say(
        &cli,
        format,
        evals,
        held.as_ref(),
        (gate.is_on(), verdict.go.as_deref()),
        (&failures, &notes),
        chart.as_ref(),
    )?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::condition(failures.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; ")))
    }
}

/// `--reserve`: the log's lock (a ledger's: the windows' locks), under which the check and the hold happen (a reservation holds
/// against the configured budgets as the log stands now); `None` without `--reserve`.
fn reservation_lock(
    cli: &Cli,
    config: &Config,
    cal: &Calendar,
    log: &std::path::Path,
    from_log: bool,
    ad_hoc: bool,
    context: &TaskContext,
) -> Result<Option<tt_core::store::Writer>> {
    if !cli.reserve {
        return Ok(None);
    }
    if !from_log {
        return Err(Error::usage("--reserve holds against the usage log: give no files and nothing on stdin"));
    }
    if cli.today.is_some() || ad_hoc || !tt_core::enforce::answers_for(config, cal) {
        return Err(Error::usage(
            "--reserve holds now, against the configured budgets in the config's time zone: drop --today, --tz \
             and --limit-*",
        ));
    }
    // In a ledger, the locks of the budget windows the verdict reads and the hold counts in.
    let locks = tt_core::enforce::ledger::reserve_locks(config, context, chrono::Utc::now())?;
    let at = tt_core::store::Log::at(log)?;
    Ok(Some(at.lock_parts(&tt_core::ledger::Locks::Only(locks))?.report(|w| tt_core::cli::warn("tt-budget", w))))
}

/// What tt-budget says once the gate has decided: the report on stdout (or the reservation's id, or nothing
/// for a one-line answer), GitHub's annotations and job summary, and the "go" line on stderr.
fn say(
    cli: &Cli,
    format: Format,
    evals: &[Evaluation],
    held: Option<&tt_core::reserve::Hold>,
    (gate_on, go): (bool, Option<&str>),
    (failures, notes): (&[Failure], &[Note]),
    chart: Option<&tt_core::chart::Chart>,
) -> Result<()> {
    // The report, unless the answer is one line: an estimate that fits (the report with --verbose), or a
    // reservation (stdout is its id alone, for `TT_RESERVATION=$(tt-budget … --reserve)`). A reader that
    // closed stdout early (`| head -1`) stops the report, never the gate: the annotations, the job summary and
    // the exit code below still follow.
    let mut out = tt_core::output::stdout();
    let written = match &held {
        Some(h) => writeln!(out, "{}", h.id).map_err(Error::from),
        None if cli.reserve || (go.is_some() && failures.is_empty() && !cli.verbose) => Ok(()),
        None if cli.brief && gate_on && failures.is_empty() && go.is_none() => {
            let _ = writeln!(std::io::stderr(), "tt-budget: {}", brief_line(evals));
            Ok(())
        }
        None => tt_core::budget::render::write(&mut out, format, evals).and_then(|()| {
            // Gauges below a table for people: on a terminal, or asked for.
            if format == Format::Table && !evals.is_empty() && (cli.chart || tt_core::output::stdout_is_terminal()) {
                writeln!(out)?;
                tt_core::chart::gauge::write(
                    &mut out,
                    evals,
                    &tt_core::chart::terminal::Style::detect(cli.ascii, cli.width),
                )?;
            }
            Ok(())
        }),
    };
    match written.and_then(|()| out.flush().map_err(Error::from)) {
        Ok(()) => {}
        Err(e) if e.is_broken_pipe() => {}
        Err(e) => return Err(e),
    }
    if cli.github || tt_core::github::active() {
        github_output(evals, failures, notes, chart)?;
    }
    if let Some(go) = go.filter(|_| failures.is_empty()) {
        let held = held.map(|h| format!(" (held as {} until {})", h.id, tt_core::record::format_ts(h.expires)));
        let _ = writeln!(std::io::stderr(), "tt-budget: {go}{}", held.unwrap_or_default());
    }
    Ok(())
}

/// `--brief`'s line for a gate that passed: how many budgets, and the one closest to its limit.
fn brief_line(evals: &[Evaluation]) -> String {
    let most = evals.iter().max_by(|a, b| a.fraction.cmp(&b.fraction).then_with(|| b.name.cmp(&a.name)));
    match most {
        None => "ok: no budget to check".into(),
        Some(e) => format!(
            "ok: {} within {}; most used: {} at {}% ({})",
            money::plural(evals.len() as u64, "budget"),
            if evals.len() == 1 { "its limit" } else { "their limits" },
            tt_core::budget::gate::who(e),
            e.percent(),
            e.level.as_str()
        ),
    }
}

/// `--ttl`: a duration such as 30m or 2h.
fn ttl(t: &str) -> Result<chrono::Duration> {
    tt_core::args::parse_duration(t)
        .ok()
        .filter(|ms| *ms > 0)
        .and_then(|ms| i64::try_from(ms).ok())
        .map(chrono::Duration::milliseconds)
        .ok_or_else(|| Error::usage(format!("--ttl wants a duration such as 30m or 2h, got {t:?}")))
}

/// The task's context for the estimate: flags, else tt-log's environment defaults. Flags that describe the task
/// are refused without an estimate (they would be ignored); the environment is simply not used then.
fn context(cli: &Cli) -> Result<TaskContext> {
    let estimating = cli.estimate_usd.is_some() || cli.estimate_tokens.is_some();
    let flags = [
        ("agent", "--agent", &cli.agent, Some("TT_AGENT")),
        ("model", "--model", &cli.model, Some("TT_MODEL")),
        ("session", "--session", &cli.session, Some("TT_SESSION")),
        ("task", "--task", &cli.task, Some("TT_TASK")),
        ("project", "--project", &cli.project, Some("TT_PROJECT")),
        ("provider", "--provider", &cli.provider, None),
        ("branch", "--branch", &cli.branch, None),
    ];
    if !estimating
        && let Some(flag) = flags
            .iter()
            .find_map(|(_, f, v, _)| v.is_some().then_some(*f))
            .or((!cli.tags.is_empty()).then_some("--tag"))
    {
        return Err(Error::usage(format!(
            "{flag} describes the task of a pre-task check; give --estimate-usd or --estimate-tokens too"
        )));
    }
    let mut c = TaskContext::default();
    if !estimating {
        return Ok(c);
    }
    for (field, flag, value, env) in flags {
        let v = value.clone().or_else(|| env.and_then(|e| std::env::var(e).ok()));
        if let Some(v) = v.map(|v| v.trim().to_string()) {
            if v.is_empty() {
                if value.is_some() {
                    return Err(Error::usage(format!("{flag} must not be empty")));
                }
                continue;
            }
            c.fields.insert(field.to_string(), v);
        }
    }
    for t in &cli.tags {
        let (k, v) = t.split_once('=').ok_or_else(|| Error::usage(format!("--tag wants KEY=VALUE, got {t:?}")))?;
        if k.trim().is_empty() || v.trim().is_empty() {
            return Err(Error::usage(format!("--tag wants KEY=VALUE with neither empty, got {t:?}")));
        }
        c.fields.insert(format!("tag:{}", k.trim()), v.trim().to_string());
    }
    Ok(c)
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
        let adhoc = tt_core::budget::adhoc::AdHoc {
            name: cli.name.clone(),
            period: cli.period.clone(),
            scope: cli.scope.clone(),
            warn_at: cli.warn_at.clone(),
            limit_usd: cli.limit_usd.clone(),
            limit_tokens: cli.limit_tokens.clone(),
        };
        return Ok(vec![adhoc.build()?]);
    }
    tt_core::budget::adhoc::pick(&config.budgets, &cli.budgets)
}

/// The pre-task estimate: dollars, tokens and how to say it. Tokens are priced as input tokens of the task's
/// model (`--model`, else `TT_MODEL`) unless `--estimate-usd` gives the dollars.
fn estimate(cli: &Cli, config: &Config, cal: &Calendar, context: &TaskContext) -> Result<Option<Estimate>> {
    let usd = cli.estimate_usd.as_deref().map(|s| parse_usd("--estimate-usd", s)).transpose()?;
    let tokens = cli.estimate_tokens.as_deref().map(|s| parse_token_flag("--estimate-tokens", s)).transpose()?;
    let from = if cli.model.is_some() { "" } else { " (from TT_MODEL)" };
    Estimate::new(usd, tokens, context.get("model").map(|m| (m, from)), &config.prices, cal)
}

/// GitHub Actions: workflow commands on stderr (which the runner reads like stdout, so stdout stays the
/// report) — an `::error::` for every reason the gate fails, whatever it is (over, `--fail-at`,
/// `--fail-projected`, an estimate to defer); for budgets not failing it, `::warning::` at warning or critical
/// and `::error::` over the limit; a `::warning::` for every budget not checked and every unpriced spend — and
/// the table, the chart of the most used budget, the budgets not checked and the gate's verdict appended to the
/// job summary.
fn github_output(
    evals: &[Evaluation],
    failures: &[Failure],
    notes: &[Note],
    chart: Option<&tt_core::chart::Chart>,
) -> Result<()> {
    let _ = write!(std::io::stderr().lock(), "{}", tt_core::github::gate_commands(evals, failures, notes));
    if tt_core::github::summary_path().is_some() {
        tt_core::github::append_summary(&tt_core::github::gate_summary(evals, failures, notes, chart)?)?;
    }
    Ok(())
}

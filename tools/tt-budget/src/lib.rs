//! `tt-budget`: evaluate budgets, warn at thresholds, forecast, and gate a build.
//!
//! The CLI glue only: evaluation, levels and forecasts are [`tt_core::budget`]; reading is
//! [`tt_core::scan`]; summary rows are [`tt_core::aggregate::Summary`].

use std::collections::BTreeMap;
use std::io::Write;

use clap::{CommandFactory, Parser};
use rust_decimal::Decimal;
use tt_core::aggregate::Summary;
use tt_core::budget::{
    Evaluation, FailAt, Level, RowAnswers, Spent, Tally, TaskContext, budget_label, parse_fail_at, rows_needed,
    spend_from_rows_priced, tokens_text, usd_distinct,
};
use tt_core::cli::{CommonArgs, HELP_FOOTER, Outcome};
use tt_core::config::{Budget, BudgetPeriod, default_warn_at};
use tt_core::error::{Error, Result};
use tt_core::input::Source;
use tt_core::output::{Format, Table, csv_safe};
use tt_core::period::Calendar;
use tt_core::price::Pricer;
use tt_core::scan::View;
use tt_core::{Config, Tokens, money};

const EXAMPLES: &str = "\
Examples:
  tt-budget                                          every configured budget, over its current window
  tt-budget --fail-over                              the CI gate: exit 1 when any budget is over its limit
  tt-sum --period month | tt-budget --fail-over      only the monthly budgets these rows answer (others: warned)
  tt-budget --fail-at warning                        exit 1 at 80% (or critical, over, 0.9, 90%)
  tt-budget --fail-projected                         exit 1 when a forecast to the window's end exceeds a limit
  tt-budget --limit-usd 60 --period month --scope agent=ATLAS --fail-over
  tt-budget --estimate-usd 4.50 --agent ATLAS        go or defer? exit 1 if $4.50 more would go over
  tt-budget --estimate-tokens 400000 --model opus-4.5
  GITHUB_ACTIONS=true tt-budget --fail-over          annotations and a job summary table in GitHub Actions

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
    /// Exit 1 when a forecast to the end of the window exceeds a limit (day, week, month and year budgets).
    #[arg(long)]
    fail_projected: bool,
    /// Pre-task check: exit 1 if spending this many dollars more would push a budget over its limit.
    #[arg(long, value_name = "USD")]
    estimate_usd: Option<String>,
    /// Pre-task check in tokens (priced as input tokens of --model for dollar limits).
    #[arg(long, value_name = "N")]
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
    /// The ad-hoc budget's period: day, week, month, year, total, session.
    #[arg(long, value_name = "PERIOD", default_value = "month")]
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

/// A warning about one budget (or none): printed on stderr, and a `::warning::` in GitHub Actions.
struct Note {
    budget: Option<String>,
    message: String,
}

/// A reason the gate fails: the `tt-budget: error:` line, and an `::error::` in GitHub Actions.
struct Failure {
    budget: String,
    message: String,
}

/// The pre-task estimate: dollars and tokens, how to say it, and whether the dollars are known (a price or
/// --estimate-usd) rather than $0 for want of a model.
struct Estimate {
    usd: Decimal,
    tokens: u64,
    text: String,
    priced: bool,
}

/// Where the evaluations came from, for the per-session spend an estimate needs.
enum Spend<'a, 'c> {
    Records(&'a Tally<'c>),
    Rows(&'a RowAnswers<'a>),
}

impl Spend<'_, '_> {
    fn session(&self, i: usize, session: &str) -> Spent {
        match self {
            Spend::Records(t) => t.session_spent(i, session),
            Spend::Rows(r) => r.session_spent(i, session),
        }
    }
}

/// Run `tt-budget`.
pub fn run(m: &clap::ArgMatches) -> Result<Outcome> {
    let cli: Cli = tt_core::cli::parse_args(m)?;
    let config = cli.common.config()?;
    let format = Format::choose(cli.format.as_deref())?;
    let cal = Calendar::from_flags(&config, cli.tz.as_deref(), cli.today.as_deref())?;
    let fail_at = cli.fail_at.as_deref().map(parse_fail_at).transpose()?;
    let budgets = budgets(&cli, m, &config)?;
    let context = context(&cli)?;
    let estimate = estimate(&cli, &config, &cal, &context)?;
    let gate = cli.fail_over || fail_at.is_some() || cli.fail_projected || estimate.is_some();

    // Read every input to the end (a writer upstream must never see a closed pipe because we stopped early).
    let (sources, from_log) = sources(&cli.files, &cli.common, &config)?;
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
                    Mode::Rows => {
                        let row = Summary::from_json(tt_core::input::utf8(line)?)?;
                        tt_core::budget::check_row(&row)?;
                        st.rows.push(row);
                    }
                    // The log holds records by definition: what tt-budget reads is a hint for input given to it.
                    Mode::Records => {
                        st.tally.add(&View::parse(line).map_err(|e| if from_log { e } else { format_hint(line, e) })?)
                    }
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

    // Inputs named explicitly (files or `-`) that hold nothing are no verdict under a gate: an earlier step
    // that failed to write them must not pass the build. (The log being empty is a fresh project: nothing spent.)
    if gate && !cli.files.is_empty() && seen.is_none() {
        let names: Vec<String> = sources.iter().map(Source::name).collect();
        return Err(Error::data(format!(
            "no records or summary rows in {}: nothing to check (give no file to check the usage log)",
            names.join(", ")
        )));
    }

    let mut notes: Vec<Note> = Vec::new();
    let answers;
    let (evals, spend) = if !rows.is_empty() {
        answers = spend_from_rows_priced(&budgets, &rows, &cal, &config.prices)?;
        unanswered(&cli, gate, &answers)?;
        if estimate.is_some() {
            estimate_unanswered(&context, &answers, &config)?;
        }
        // A budget the rows cannot answer is not checked: say so for each one, with the rows that would.
        for (b, other) in answers.unanswered.iter().zip(&answers.other_window) {
            let message = match other {
                Some(why) => format!("{} not checked: {why} ({})", b.name, rows_needed(b)),
                None => format!(
                    "{} ({}) not checked: these summary rows do not answer it; it needs `{}` rows",
                    b.name,
                    budget_label(b),
                    rows_needed(b)
                ),
            };
            notes.push(Note { budget: Some(b.name.clone()), message });
        }
        (answers.evaluations.clone(), Spend::Rows(&answers))
    } else {
        (tally.finish()?, Spend::Records(&tally))
    };
    for e in evals.iter().filter(|e| e.limit_usd.is_some() && e.spent.unpriced > 0) {
        let n = e.spent.unpriced;
        notes.push(Note {
            budget: Some(e.name.clone()),
            message: format!(
                "{} record{} in budget {} could not be priced (unknown model, no cost_usd); its dollar spend is a \
                 lower bound",
                money::thousands(n),
                if n == 1 { "" } else { "s" },
                e.name
            ),
        });
    }

    // The gates (decided before anything is written, so a closed stdout cannot change the verdict).
    let mut failures = Vec::new();
    for e in &evals {
        let who = who(e);
        if cli.fail_over && e.level == Level::Over {
            failures.push(Failure {
                budget: e.name.clone(),
                message: format!("{who} is over its limit: {}", e.spent_text()),
            });
        } else if let Some(f) = fail_at
            && f.tripped(e)
        {
            let at = match f {
                FailAt::Level(l) => l.as_str().to_string(),
                FailAt::Fraction(x) => format!("{}%", (x * Decimal::ONE_HUNDRED).normalize()),
            };
            failures.push(Failure {
                budget: e.name.clone(),
                message: format!("{who} is at {}% (--fail-at {at}): {}", e.percent(), e.spent_text()),
            });
        }
        if cli.fail_projected
            && let Some(f) = &e.forecast
            && f.level == Level::Over
        {
            failures.push(Failure {
                budget: e.name.clone(),
                message: format!(
                    "{who} is projected over its limit by the end of the {}: {}",
                    e.period.as_str(),
                    projected_text(e)
                ),
            });
        }
    }
    let mut go = None;
    if let Some(est) = &estimate {
        go = check_estimate(est, &context, &budgets, &evals, &spend, &cal, &config, &mut notes, &mut failures);
    }

    for n in &notes {
        tt_core::cli::warn("tt-budget", &n.message);
    }

    // The report. A reader that closed stdout early (`| head -1`, `| true`) stops the report, never the gate:
    // the annotations, the job summary and the exit code below still follow.
    let mut out = tt_core::output::stdout();
    match render(&mut out, format, &evals).and_then(|()| out.flush().map_err(Error::from)) {
        Ok(()) => {}
        Err(e) if e.is_broken_pipe() => {}
        Err(e) => return Err(e),
    }

    let github = cli.github || std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    if github {
        github_output(&evals, &failures, &notes)?;
    }
    if let Some(go) = go.filter(|_| failures.is_empty()) {
        let _ = writeln!(std::io::stderr(), "tt-budget: {go}");
    }
    if failures.is_empty() {
        Ok(Outcome::Ok)
    } else {
        Err(Error::condition(failures.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; ")))
    }
}

/// `team-monthly`, or `per-session (session s3)`.
fn who(e: &Evaluation) -> String {
    match &e.session {
        Some(s) => format!("{} (session {s})", e.name),
        None => e.name.clone(),
    }
}

/// Under a gate, rows that check nothing are no verdict (exit 2), and so is a budget asked for by name
/// (`--budget NAME`) that they do not answer. Without a gate, or for configured budgets the rows answer only
/// some of, the rest get a warning each.
fn unanswered(cli: &Cli, gate: bool, answers: &RowAnswers<'_>) -> Result<()> {
    if !gate || answers.unanswered.is_empty() {
        return Ok(());
    }
    let needs = |bs: &[&&Budget]| {
        bs.iter().map(|b| format!("{} needs `{}` rows", b.name, rows_needed(b))).collect::<Vec<_>>().join(", ")
    };
    if answers.evaluations.is_empty() {
        let all: Vec<&&Budget> = answers.unanswered.iter().collect();
        return Err(Error::data(format!(
            "these summary rows answer none of the budgets ({}), so there is no verdict; for the gate run \
             `tt-budget` without rows on stdin (it reads the log and checks every budget), or give it the rows \
             they need",
            needs(&all)
        )));
    }
    let named: Vec<&&Budget> = answers.unanswered.iter().filter(|b| cli.budgets.contains(&b.name)).collect();
    if !named.is_empty() {
        return Err(Error::data(format!(
            "--budget asks for budgets these summary rows do not answer ({}); run `tt-budget` without rows on \
             stdin to read the log, or give it the rows they need",
            needs(&named)
        )));
    }
    Ok(())
}

/// The pre-task check from rows: when budgets that apply to the task (see [`TaskContext`]) were left out by the
/// rows and none that applies was answered, there is no verdict (exit 2) — "no budget applies" would be
/// wrong. When some that apply were answered, the estimate is decided on those and the others get their
/// "not checked" warning.
fn estimate_unanswered(context: &TaskContext, answers: &RowAnswers<'_>, config: &Config) -> Result<()> {
    let mut pricer = Pricer::new(&config.prices);
    let left_out: Vec<&&Budget> =
        answers.unanswered.iter().filter(|b| context.excludes(&b.scope, &mut pricer).is_none()).collect();
    if left_out.is_empty() || answers.evaluations.iter().any(|e| context.excludes(&e.scope, &mut pricer).is_none()) {
        return Ok(());
    }
    Err(Error::data(format!(
        "these summary rows answer none of the budgets that apply to this task ({}), so there is no verdict; run \
         `tt-budget` without rows on stdin (it reads the log), or give it the rows they need",
        left_out.iter().map(|b| format!("{} needs `{}` rows", b.name, rows_needed(b))).collect::<Vec<_>>().join(", ")
    )))
}

/// The pre-task check: every budget that applies to the task (see [`TaskContext`]) must hold the estimate on
/// top of what it has spent; a session budget, on top of the context's session. Refusals become failures
/// ("defer it"); the "go" line, when all fit, is returned.
#[allow(clippy::too_many_arguments)]
fn check_estimate(
    est: &Estimate,
    context: &TaskContext,
    budgets: &[Budget],
    evals: &[Evaluation],
    spend: &Spend<'_, '_>,
    cal: &Calendar,
    config: &Config,
    notes: &mut Vec<Note>,
    failures: &mut Vec<Failure>,
) -> Option<String> {
    let mut pricer = Pricer::new(&config.prices);
    let (mut fits, mut skipped, mut unpriced) = (Vec::new(), Vec::new(), Vec::new());
    let mut deferred = false;
    for (i, e) in evals.iter().enumerate() {
        if let Some(why) = context.excludes(&e.scope, &mut pricer) {
            skipped.push(format!("{} ({why})", e.name));
            continue;
        }
        let checked = match (e.period, budgets.iter().find(|b| b.name == e.name)) {
            (BudgetPeriod::Session, Some(b)) => {
                let s = context.get("session");
                let spent = s.map(|s| spend.session(i, s)).unwrap_or_default();
                Evaluation::new(b, e.window.clone(), s.map(String::from), spent, cal.now, cal)
            }
            _ => e.clone(),
        };
        let (who, fit) = match (checked.period, &checked.session) {
            (BudgetPeriod::Session, Some(s)) => {
                (format!("{} (session {s})", checked.name), format!("{} in session {s}", checked.name))
            }
            (BudgetPeriod::Session, None) => {
                (format!("{} (a new session)", checked.name), format!("{} in a new session", checked.name))
            }
            _ => (checked.name.clone(), checked.name.clone()),
        };
        if checked.limit_usd.is_some() && !est.priced {
            unpriced.push(checked.name.clone());
        }
        let (left, need) = estimate_texts(&checked, est);
        if checked.would_exceed(est.usd, est.tokens) {
            deferred = true;
            failures.push(Failure {
                budget: checked.name.clone(),
                message: format!("{who}: {left}; this task needs ~{need}: defer it"),
            });
        } else {
            fits.push(format!("{fit} ({left})"));
        }
    }
    if !unpriced.is_empty() {
        notes.push(Note {
            budget: None,
            message: format!(
                "--estimate-tokens without --model (or TT_MODEL) or --estimate-usd: the dollar limit{} of {} {} \
                 checked with $0 for this task",
                if unpriced.len() == 1 { "" } else { "s" },
                unpriced.join(", "),
                if unpriced.len() == 1 { "is" } else { "are" }
            ),
        });
    }
    if deferred {
        return None;
    }
    let skipped =
        if skipped.is_empty() { String::new() } else { format!("; not for this task: {}", skipped.join(", ")) };
    Some(if fits.is_empty() {
        format!("go: ~{}: no budget applies to this task{skipped}", est.text)
    } else {
        format!("go: ~{} fits: {}{skipped}", est.text, fits.join("; "))
    })
}

/// What is left of a budget and what the task needs, for the estimate's message: dollar amounts that differ
/// never print the same (`$20.0000 left; this task needs ~$20.0001`).
fn estimate_texts(e: &Evaluation, est: &Estimate) -> (String, String) {
    let mut left = e.left_text();
    let mut need = est.text.clone();
    if let Some(r) = e.remaining_usd().filter(|r| *r >= Decimal::ZERO)
        && est.priced
    {
        let [l, n] = usd_distinct([r, est.usd]);
        if n != money::usd(est.usd) {
            let mut parts = vec![format!("{l} left")];
            if let Some(t) = e.remaining_tokens() {
                parts.push(if t < 0 {
                    format!("already over by {}", tokens_text(-t))
                } else {
                    format!("{} left", tokens_text(t))
                });
            }
            left = parts.join(", ");
            need = if est.tokens > 0 { format!("{} ({n})", tokens_text(i128::from(est.tokens))) } else { n };
        }
    }
    (left, need)
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

/// A record line that failed to parse: when it is not a JSON object at all (tt-sum's `--format json` array, a
/// table, CSV), say what tt-budget reads.
fn format_hint(line: &[u8], e: Error) -> Error {
    if line.trim_ascii_start().starts_with(b"{") {
        return e;
    }
    Error::new(
        e.kind(),
        format!("{}: expected tt-sum's JSONL rows or records (use tt-sum's default or --format jsonl)", e.message()),
    )
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
            if v.trim().is_empty() {
                return Err(Error::usage(format!(
                    "--scope {k}= has an empty value, which no record has; leave --scope {k} out to count every {k}"
                )));
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
                    match tt_core::budget::parse_fraction(p) {
                        Some(d) => w.push(d),
                        None => {
                            return Err(Error::usage(format!(
                                "--warn-at wants fractions or percentages such as 0.5,0.8,0.95 or 50%,80%,95%, got \
                                 {s:?}"
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

/// The pre-task estimate: dollars, tokens and how to say it. Tokens are priced as input tokens of the task's
/// model (`--model`, else `TT_MODEL`) unless `--estimate-usd` gives the dollars.
fn estimate(cli: &Cli, config: &Config, cal: &Calendar, context: &TaskContext) -> Result<Option<Estimate>> {
    let usd = cli.estimate_usd.as_deref().map(|s| usd_arg("--estimate-usd", s)).transpose()?;
    let tokens = cli.estimate_tokens.as_deref().map(|s| tokens_arg("--estimate-tokens", s)).transpose()?;
    Ok(match (usd, tokens) {
        (None, None) => None,
        (Some(u), None) => Some(Estimate { usd: u, tokens: 0, text: usd_cell(u), priced: true }),
        (u, Some(t)) => {
            let priced = match (context.get("model"), u) {
                (_, Some(u)) => Some(u),
                (Some(m), None) => {
                    let from = if cli.model.is_some() { "" } else { " (from TT_MODEL)" };
                    let entry = config.prices.resolve(m).ok_or_else(|| {
                        Error::usage(format!(
                            "unknown model {m:?}{from}: cannot price --estimate-tokens (see tt-price --list)"
                        ))
                    })?;
                    let tk = Tokens { input: t, ..Default::default() };
                    Some(tt_core::price::cost_with(entry, cal.now, &tk))
                }
                (None, None) => None,
            };
            let text = match priced {
                Some(p) => format!("{} ({})", tokens_text(i128::from(t)), money::usd(p)),
                None => tokens_text(i128::from(t)),
            };
            Some(Estimate { usd: priced.unwrap_or(Decimal::ZERO), tokens: t, text, priced: priced.is_some() })
        }
    })
}

/// Files given, else stdin when it has data, else the usage log (a log that does not exist yet is empty); and
/// whether it is the log.
fn sources(files: &[String], common: &CommonArgs, config: &Config) -> Result<(Vec<Source>, bool)> {
    if !files.is_empty() || tt_core::input::stdin_has_data() {
        return Ok((tt_core::input::sources(files, std::path::Path::new("")), false));
    }
    let log = common.log_path(config)?;
    Ok((if log.exists() { vec![Source::File(log)] } else { Vec::new() }, true))
}

/// Dollars in a table cell: `$0` for nothing (not `$0.0000`), else as everywhere.
fn usd_cell(d: Decimal) -> String {
    if d.is_zero() { "$0".into() } else { money::usd(d) }
}

/// The dollar amounts of one budget's row — spent, limit, left, projected — as cells: `$0` for nothing, else
/// with enough places that amounts that differ never print the same (`$1.9375` and `$1.9374`, not `$1.94`
/// twice).
struct UsdCells {
    spent: String,
    limit: String,
    left: String,
    projected: String,
}

impl UsdCells {
    fn of(e: &Evaluation) -> UsdCells {
        let values = [
            e.spent.usd,
            e.limit_usd.unwrap_or_default(),
            e.remaining_usd().unwrap_or_default(),
            e.forecast.as_ref().map_or(Decimal::ZERO, |f| f.usd),
        ];
        let mut t = usd_distinct(values);
        for (text, v) in t.iter_mut().zip(values) {
            if v.is_zero() {
                *text = "$0".into();
            }
        }
        let [spent, limit, left, projected] = t;
        UsdCells { spent, limit, left, projected }
    }
}

fn money_or_tokens(usd: Option<String>, tokens: Option<i128>) -> String {
    let mut parts = Vec::new();
    if let Some(u) = usd {
        parts.push(u);
    }
    if let Some(t) = tokens {
        parts.push(format!("{} tok", money::thousands_i(t)));
    }
    if parts.is_empty() { "-".into() } else { parts.join(" · ") }
}

fn spent_cell(e: &Evaluation, c: &UsdCells) -> String {
    let usd = (e.limit_usd.is_some() || e.limit_tokens.is_none()).then(|| c.spent.clone());
    let tok = e.limit_tokens.map(|_| i128::from(e.spent.tokens));
    money_or_tokens(usd, tok)
}

fn limit_cell(e: &Evaluation, c: &UsdCells) -> String {
    money_or_tokens(e.limit_usd.map(|_| c.limit.clone()), e.limit_tokens.map(i128::from))
}

fn forecast_cell(e: &Evaluation, c: &UsdCells) -> String {
    match &e.forecast {
        None => "-".into(),
        Some(f) => {
            money_or_tokens(e.limit_usd.map(|_| c.projected.clone()), e.limit_tokens.map(|_| i128::from(f.tokens)))
        }
    }
}

/// `$60.00 of $50.00`: the forecast against the limit, for messages.
fn projected_text(e: &Evaluation) -> String {
    let c = UsdCells::of(e);
    match &e.forecast {
        None => "-".into(),
        Some(_) => format!("{} of {}", forecast_cell(e, &c), limit_cell(e, &c)),
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
        let c = UsdCells::of(e);
        let limit_on = e.limit_date().map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "-".into());
        let scope = e.scope_text();
        let mut cells =
            vec![e.name.clone(), if scope.is_empty() { "-".into() } else { scope }, window_cell(e), spent_cell(e, &c)];
        if unpriced {
            cells.push(if e.spent.unpriced > 0 { money::thousands(e.spent.unpriced) } else { "-".into() });
        }
        cells.extend([
            limit_cell(e, &c),
            money_or_tokens(e.limit_usd.map(|_| c.left.clone()), e.remaining_tokens()),
            format!("{}%", e.percent()),
            e.level.as_str().to_string(),
            forecast_cell(e, &c),
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
                    e.limit_date().map(|d| d.to_string()).unwrap_or_default(),
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

/// GitHub Actions: workflow commands on stderr (which the runner reads like stdout, so stdout stays the
/// report) — an `::error::` for every reason the gate fails, whatever it is (over, `--fail-at`,
/// `--fail-projected`, an estimate to defer); for budgets not failing it, `::warning::` at warning or critical
/// and `::error::` over the limit; a `::warning::` for every budget not checked and every unpriced spend — and
/// the table, the budgets not checked and the gate's verdict appended to the job summary.
fn github_output(evals: &[Evaluation], failures: &[Failure], notes: &[Note]) -> Result<()> {
    let mut err = std::io::stderr().lock();
    let title = |name: &str| format!("tt budget {}", escape_property(name));
    for f in failures {
        let _ = writeln!(err, "::error title={}::{}", title(&f.budget), escape_data(&f.message));
    }
    for e in evals.iter().filter(|e| e.level >= Level::Warning && !failures.iter().any(|f| f.budget == e.name)) {
        let cmd = if e.level == Level::Over { "error" } else { "warning" };
        let mut msg = format!("budget {} is {} at {}%: {}", e.name, e.level.as_str(), e.percent(), e.spent_text());
        if let Some(f) = &e.forecast
            && f.level == Level::Over
        {
            msg.push_str(&format!("; projected {}", projected_text(e)));
        }
        let _ = writeln!(err, "::{cmd} title={}::{}", title(&e.name), escape_data(&msg));
    }
    for n in notes {
        let t = match &n.budget {
            Some(b) => title(b),
            None => "tt budget".into(),
        };
        let _ = writeln!(err, "::warning title={t}::{}", escape_data(&n.message));
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
        if !notes.is_empty() {
            writeln!(md, "Warnings (budgets not checked, spend that could not be priced):\n")?;
            for n in notes {
                writeln!(md, "- {}", tt_core::output::markdown_text(&n.message))?;
            }
            writeln!(md)?;
        }
        if !failures.is_empty() {
            writeln!(md, "**The budget gate failed:**\n")?;
            for f in failures {
                writeln!(md, "- {}", tt_core::output::markdown_text(&f.message))?;
            }
            writeln!(md)?;
        }
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

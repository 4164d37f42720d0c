//! Who answers each budget tt-budget is asked about: the log's index, a read of records, or tt-sum's summary
//! rows — and, for the budgets the rows leave out, the log they name. The result is the evaluations in the order
//! the budgets were asked for, each with where its per-session spend comes from (for an estimate in a session),
//! and the warnings for budgets nobody could answer outside a gate.
//!
//! Invariants:
//! * Fail closed: under a gate every budget it needs is answered, or [`answer`] returns the exit-2 error naming
//!   each one and the rows that would answer it ([`crate::budget::gate::unchecked`]).
//! * Rows of tt-budget's own log (their total row's `from`) are answered as the log is: the same evaluations
//!   as without rows, once the rows are checked to be whole tt-sum outputs.
//! * Every input is read to the end (a writer upstream never sees a closed pipe because the gate stopped early).
//!
//! A module of its own rather than part of [`crate::budget`]: it asks the log's index ([`crate::enforce`]) and
//! reads the [`Config`], and both of those are built on `budget` — inside it, it would make them a cycle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::aggregate::Summary;
use crate::budget::gate::{Gate, Note, TaskContext, unchecked};
use crate::budget::{
    Budget, Evaluation, RowAnswers, Spent, Tally, budget_label, check_row, check_rows, evaluate_from_rows, rows_needed,
};
use crate::config::Config;
use crate::enforce::Counts;
use crate::error::{Error, Result};
use crate::input::Source;
use crate::period::Calendar;
use crate::price::Pricer;
use crate::scan::View;

/// What a gate asks about and where from.
pub struct Request<'a> {
    /// The budgets, in the order to report them.
    pub budgets: &'a [Budget],
    /// The calendar (zone, week, "now").
    pub cal: &'a Calendar,
    /// The config (prices, the configured budgets the index counts).
    pub config: &'a Config,
    /// The usage log.
    pub log: &'a Path,
    /// The inputs to read (files, stdin, or the log), and whether they are the log.
    pub sources: &'a [Source],
    /// True when the sources are the usage log.
    pub from_log: bool,
    /// True when files (or `-`) were named on the command line.
    pub named: bool,
    /// True for an ad-hoc budget (`--limit-*`), which no index counts.
    pub ad_hoc: bool,
}

/// Where one budget's per-session spend comes from.
enum Sessions {
    None,
    Map(BTreeMap<String, Spent>),
    Counts(usize, usize),
    Tally(usize, usize),
}

/// The budgets answered: evaluations in the order asked, and warnings for those not checked (outside a gate).
pub struct Answers<'c> {
    /// The evaluations.
    pub evals: Vec<Evaluation>,
    /// Warnings: budgets the rows do not answer and nothing else could.
    pub notes: Vec<Note>,
    sessions: Vec<Sessions>,
    counts: Vec<Counts>,
    tallies: Vec<Tally<'c>>,
}

impl<'c> Answers<'c> {
    /// What session `session` has spent (holds included) of the session budget of evaluation `i`.
    pub fn session_spent(&self, i: usize, session: &str) -> Spent {
        match self.sessions.get(i) {
            Some(Sessions::Map(m)) => m.get(session).copied().unwrap_or_default(),
            // The index answers for the session the gate was asked about (the estimate's task's) only.
            Some(Sessions::Counts(c, k)) => self.counts[*c].session.get(*k).copied().unwrap_or_default(),
            Some(Sessions::Tally(t, k)) => self.tallies[*t].session_spent(*k, session),
            Some(Sessions::None) | None => Spent::default(),
        }
    }

    fn push(&mut self, e: Evaluation, s: Sessions) {
        self.evals.push(e);
        self.sessions.push(s);
    }

    fn push_counts(&mut self, c: Counts, budgets: &[Budget]) {
        let k = self.counts.len();
        for (i, e) in c.evals.iter().enumerate().take(budgets.len()) {
            self.push(e.clone(), Sessions::Counts(k, i));
        }
        self.counts.push(c);
    }

    /// Every budget answered by a read of records; the tally is kept for its sessions' spend.
    fn push_tally(&mut self, tally: Tally<'c>) -> Result<()> {
        let k = self.tallies.len();
        for (i, e) in tally.finish()?.into_iter().enumerate() {
            self.push(e, Sessions::Tally(k, i));
        }
        self.tallies.push(tally);
        Ok(())
    }
}

/// Answer every budget of `req`. `locked` is the log, locked by a caller that holds a reservation's check and
/// hold under one lock; the index is then read and caught up under that lock (a ledger is counted on the
/// connection that holds its lock).
pub fn answer<'c>(
    req: &Request<'_>,
    gate: &Gate,
    context: &TaskContext,
    config: &'c Config,
    locked: Option<&mut crate::store::Writer>,
) -> Result<Answers<'c>> {
    let mut out =
        Answers { evals: Vec::new(), notes: Vec::new(), sessions: Vec::new(), counts: Vec::new(), tallies: Vec::new() };
    let (budgets, cal) = (req.budgets, req.cal);
    // From the log, configured budgets are answered by its index (milliseconds, not a scan of every record) —
    // or, for a ledger, by the same count made from its records, reservations included.
    let indexed = !req.ad_hoc && crate::enforce::answers_for(config, cal);
    if req.from_log && indexed {
        out.push_counts(counts(req.log, config, budgets, cal, context.get("session"), locked)?, budgets);
        return Ok(out);
    }
    let read = read(req.sources, req.from_log, budgets, cal, config)?;
    // Inputs named explicitly that hold nothing are no verdict under a gate: an earlier step that failed to
    // write them must not pass the build. (The log being empty is a fresh project: nothing spent.)
    if gate.is_on() && req.named && read.seen.is_none() {
        let names: Vec<String> = req.sources.iter().map(Source::name).collect();
        return Err(Error::data(format!(
            "no records or summary rows in {}: nothing to check (give no file to check the usage log)",
            names.join(", ")
        )));
    }
    if read.rows.is_empty() {
        out.push_tally(read.tally)?;
        return Ok(out);
    }
    let from = rows_from(&read.rows);
    // Rows of this very log (`tt-sum | tt-budget`): the same answer as tt-budget alone.
    if let Some(f) = &from
        && is_the_log(f, req.log)
    {
        check_rows(&read.rows)?;
        if indexed {
            out.push_counts(counts(req.log, config, budgets, cal, context.get("session"), None)?, budgets);
        } else {
            let src: Vec<Source> = crate::store::Log::at(req.log)?.source().into_iter().collect();
            let r = self::read(&src, true, budgets, cal, config)?;
            out.push_tally(r.tally)?;
        }
        return Ok(out);
    }
    answer_rows(out, req, gate, context, config, &read.rows, from.as_deref())
}

/// The index's answer for the log at `log` (see [`crate::enforce::counts`]), on the caller's locked log when
/// there is one; for a ledger, the same count made from its records on one connection.
fn counts(
    log: &Path,
    config: &Config,
    budgets: &[Budget],
    cal: &crate::period::Calendar,
    session: Option<&str>,
    locked: Option<&mut crate::store::Writer>,
) -> Result<crate::enforce::Counts> {
    use crate::store::{Log, Writer};
    match (locked, Log::at(log)?) {
        (Some(Writer::File(f)), _) => crate::enforce::counts_locked(f.file(), log, config, budgets, cal, session),
        (Some(Writer::Ledger(l)), _) => crate::enforce::ledger::counts(l, config, budgets, cal, session),
        (None, Log::File(_)) => crate::enforce::counts(log, config, budgets, cal, session),
        (None, Log::Ledger(t)) => {
            crate::enforce::ledger::counts(&mut crate::ledger::Ledger::open(&t)?, config, budgets, cal, session)
        }
    }
}

/// Answer from summary rows that are not of this log (`out` has nothing yet): each budget by the rows, else by
/// the files the rows name (`from`), else — outside a gate — with a note that it was not checked.
fn answer_rows<'c>(
    mut out: Answers<'c>,
    req: &Request<'_>,
    gate: &Gate,
    context: &TaskContext,
    config: &'c Config,
    summary: &[Summary],
    from: Option<&[String]>,
) -> Result<Answers<'c>> {
    let (budgets, cal) = (req.budgets, req.cal);
    let rows = evaluate_from_rows(budgets, summary, cal, &config.prices)?;
    let left: Vec<Budget> = rows.unanswered.iter().map(|b| (*b).clone()).collect();
    // The budgets the rows leave out: from the files the rows name, else no verdict under a gate.
    let mut others: Option<(Vec<Evaluation>, Vec<Sessions>)> = None;
    match from {
        Some(files) if !left.is_empty() => {
            let sources = named_files(files, &left)?;
            let r = read(&sources, true, &left, cal, config)?;
            if !r.rows.is_empty() {
                return Err(Error::data(format!("{}: holds summary rows, not records", files.join(", "))));
            }
            let k = out.tallies.len();
            let evals = r.tally.finish()?;
            let sessions = (0..evals.len()).map(|i| Sessions::Tally(k, i)).collect();
            out.tallies.push(r.tally);
            others = Some((evals, sessions));
        }
        _ => out.notes.extend(not_checked(&rows, gate, context, config)?),
    }
    // In the order the budgets were asked for, whoever answered each.
    let mut others = others.map(|(e, s)| e.into_iter().zip(s).map(Some).collect::<Vec<_>>());
    for b in budgets {
        if let Some(k) = rows.evaluations.iter().position(|e| e.name == b.name) {
            let s = rows.sessions.get(k).cloned().flatten().map_or(Sessions::None, Sessions::Map);
            out.push(rows.evaluations[k].clone(), s);
        } else if let Some(o) = &mut others
            && let Some(k) = left.iter().position(|x| x.name == b.name)
            && let Some((e, s)) = o[k].take()
        {
            out.push(e, s);
        }
    }
    Ok(out)
}

/// The notes for the budgets the rows leave out when nothing else can answer them; an error (no verdict)
/// when the gate needs one of them.
fn not_checked(rows: &RowAnswers<'_>, gate: &Gate, context: &TaskContext, config: &Config) -> Result<Vec<Note>> {
    let mut pricer = Pricer::new(&config.prices);
    let missing: Vec<(&Budget, Option<String>)> = rows
        .unanswered
        .iter()
        .zip(&rows.other_window)
        .filter(|(b, _)| gate.needs(b, context, &mut pricer))
        .map(|(b, why)| (*b, why.clone()))
        .collect();
    if !missing.is_empty() {
        return Err(unchecked(&missing));
    }
    let mut notes = Vec::new();
    for (b, other) in rows.unanswered.iter().zip(&rows.other_window) {
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
    Ok(notes)
}

/// What was read: summary rows, or records counted into a tally; and what any input held.
struct Read<'c> {
    rows: Vec<Summary>,
    tally: Tally<'c>,
    seen: Option<Mode>,
}

/// What one input turned out to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Rows,
    Records,
}

/// Read every input to the end: summary rows, or records into a tally.
fn read<'c>(
    sources: &[Source],
    from_log: bool,
    budgets: &[Budget],
    cal: &Calendar,
    config: &'c Config,
) -> Result<Read<'c>> {
    struct Part<'c> {
        mode: Option<Mode>,
        rows: Vec<Summary>,
        tally: Tally<'c>,
    }
    let mut seen: Option<Mode> = None;
    let mut rows = Vec::new();
    let mut tally = Tally::new(budgets, cal, &config.prices);
    for src in sources {
        let parts = crate::scan::fold_lines(
            src,
            || Part { mode: None, rows: Vec::new(), tally: Tally::new(budgets, cal, &config.prices) },
            |st, line| {
                let mode = *st.mode.get_or_insert(if looks_like_row(line) { Mode::Rows } else { Mode::Records });
                match mode {
                    Mode::Rows => {
                        let row = Summary::from_json(crate::input::utf8(line)?)?;
                        check_row(&row)?;
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
    Ok(Read { rows, tally, seen })
}

/// A summary row has `"kind":"summary"`; a usage record never does.
fn looks_like_row(line: &[u8]) -> bool {
    memchr::memmem::find(line, b"\"kind\"").is_some() && std::str::from_utf8(line).is_ok_and(Summary::is_summary_line)
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

/// The files every total row says its records came from, when they all say the same (see
/// [`Summary::from`]); `None` when any does not say, or they disagree.
fn rows_from(rows: &[Summary]) -> Option<Vec<String>> {
    let mut totals = rows.iter().filter(|r| r.is_total());
    let first = totals.next()?.from.clone()?;
    totals.all(|r| r.from.as_ref() == Some(&first)).then_some(first)
}

/// True when `files` (a total row's `from`) is the usage log `log` alone.
fn is_the_log(files: &[String], log: &Path) -> bool {
    if let Ok(crate::store::Log::Ledger(t)) = crate::store::Log::at(log) {
        return files.len() == 1 && files[0] == t.name();
    }
    let path = std::fs::canonicalize(log).ok().or_else(|| std::path::absolute(log).ok());
    files.len() == 1 && path.is_some_and(|p| p.display().to_string() == files[0])
}

/// The files rows name, to read the budgets they leave out: each must still be there.
fn named_files(files: &[String], left: &[Budget]) -> Result<Vec<Source>> {
    files
        .iter()
        .map(|f| {
            if crate::ledger::is_uri(f) {
                return Source::from_arg(f);
            }
            let p = PathBuf::from(f);
            if p.is_file() {
                Ok(Source::File(p))
            } else {
                Err(Error::data(format!(
                    "the summary rows came from {f}, which is not there: the budgets they do not answer ({}) cannot \
                     be checked; run `tt-budget` on the log",
                    left.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(", ")
                )))
            }
        })
        .collect()
}

//! Which of tt-sum's summary rows answer which budget: rows are read as the sets tt-sum writes (group rows,
//! then the total row that closes them), checked to be whole, and a set answers a budget when its window is
//! the budget's own and its groups can express the budget's scope.
//!
//! Invariants:
//! * Rows are read as whole tt-sum outputs: a set without its total row, or whose groups do not add up to it,
//!   is an error, never a budget with nothing spent.
//! * A calendar budget is answered only by rows of its current window in the caller's calendar; a session
//!   budget only by all-time rows grouped by `session`; rows cut by `--top` that may hold a budget's spend are
//!   an error.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration};
use rust_decimal::Decimal;

use super::{Budget, BudgetPeriod, Evaluation, Spent, budget_label, same_model, tokens_text, worst_session};
use crate::aggregate::{RowWindow, Summary};
use crate::error::{Error, Result};
use crate::money;
use crate::period::Calendar;
use crate::price::Pricer;
use crate::scan::Field;

/// The budget period a summary row's window answers (`month` and `last-month` both answer monthly budgets).
pub fn row_period(period: &str) -> Option<BudgetPeriod> {
    Some(match period {
        "today" | "yesterday" | "day" => BudgetPeriod::Day,
        "week" | "last-week" => BudgetPeriod::Week,
        "month" | "last-month" => BudgetPeriod::Month,
        "year" => BudgetPeriod::Year,
        "all" | "total" => BudgetPeriod::Total,
        _ => return None,
    })
}

/// What tt-sum's rows answered: an evaluation per answered budget (in budget order), and the budgets no row
/// answers.
#[derive(Debug, Clone)]
pub struct RowAnswers<'b> {
    /// The budgets answered.
    pub evaluations: Vec<Evaluation>,
    /// The budgets left out: no row set has their window and scope.
    pub unanswered: Vec<&'b Budget>,
    /// Beside each budget left out: why, when rows of its period but of another window were given (`the rows
    /// cover 2026-11-29, the budget's window is 2026-11-30`); `None` when no rows were of its period at all.
    pub other_window: Vec<Option<String>>,
    /// Beside each evaluation of a session budget: every session's spend (for the pre-task estimate, which is
    /// checked against the session the task runs in).
    pub sessions: Vec<Option<BTreeMap<String, Spent>>>,
}

impl RowAnswers<'_> {
    /// What `session` spent of the session budget of evaluation `i`; nothing for a session not in the rows.
    pub fn session_spent(&self, i: usize, session: &str) -> Spent {
        self.sessions.get(i).and_then(Option::as_ref).and_then(|m| m.get(session)).copied().unwrap_or_default()
    }
}

/// One tt-sum output: the group rows of one window and `--by` keys, and the total row that closes them.
struct RowSet<'r> {
    window: &'r RowWindow,
    keys: Vec<&'r str>,
    groups: Vec<&'r Summary>,
    total: &'r Summary,
}

impl RowSet<'_> {
    /// Groups `--top` left out (so a group row that is missing may have been cut, not be zero).
    fn omitted(&self) -> u64 {
        self.total.omitted_groups.unwrap_or(0)
    }
    /// True when the set is known to hold no records at all: every budget of its period spent nothing.
    fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.total.records == 0
    }
    fn has_time_key(&self) -> bool {
        self.keys.iter().any(|k| is_time_key(k))
    }
}

/// Refuse a summary row whose counts cannot come from records: tokens, a cost or sessions without records,
/// more sessions than records, or a cost when every record is unpriced. Errors start with `summary row:`; the
/// caller adds file:line.
pub fn check_row(r: &Summary) -> Result<()> {
    let bad =
        |what: &str| Err(Error::data(format!("summary row: inconsistent counts: {what} (edited or hand-made input?)")));
    if r.records == 0 {
        if r.total_tokens > 0 {
            return bad(&format!("{} with `records` 0", tokens_text(i128::from(r.total_tokens))));
        }
        if !r.cost_usd.is_zero() {
            return bad(&format!("`cost_usd` {} with `records` 0", money::canonical(r.cost_usd)));
        }
    }
    if r.sessions > r.records {
        return bad(&format!("{} sessions but {} records", r.sessions, r.records));
    }
    if r.records > 0 && r.unpriced_records == r.records && !r.cost_usd.is_zero() {
        return bad(&format!("`cost_usd` {} while every record is unpriced", money::canonical(r.cost_usd)));
    }
    Ok(())
}

const NO_TOTAL: &str = "summary rows end without their total row (the row with an empty group that closes each \
                        tt-sum output): truncated or filtered input? give tt-budget whole tt-sum outputs";

/// Split rows into the sets tt-sum wrote: group rows, then their total row. Every set must end with its total
/// row, and its group rows must add up to it (less, by what `--top` cut, when the total says groups were left
/// out): rows that were cut off, filtered (`grep`) or edited are an error, never read as "nothing spent".
/// Check rows as whole tt-sum outputs (each set closed by its total row, its groups adding up to it), whatever
/// budgets they answer.
pub fn check_rows(rows: &[Summary]) -> Result<()> {
    row_sets(rows).map(|_| ())
}

fn row_sets(rows: &[Summary]) -> Result<Vec<RowSet<'_>>> {
    let mut sets: Vec<RowSet<'_>> = Vec::new();
    let mut open: Option<(&RowWindow, Vec<&str>, Vec<&Summary>)> = None;
    for r in rows {
        check_row(r)?;
        if r.is_total() {
            let (keys, groups) = match open.take() {
                Some((w, keys, groups)) if w == &r.window => (keys, groups),
                Some(_) => return Err(Error::data(NO_TOTAL)),
                None => (Vec::new(), Vec::new()),
            };
            check_sums(&groups, r)?;
            sets.push(RowSet { window: &r.window, keys, groups, total: r });
        } else {
            let keys: Vec<&str> = r.group.iter().map(|(k, _)| k.as_str()).collect();
            if let Some((w, k, _)) = &open
                && (*w != &r.window || *k != keys)
            {
                return Err(Error::data(NO_TOTAL));
            }
            open.get_or_insert_with(|| (&r.window, keys, Vec::new())).2.push(r);
        }
    }
    if open.is_some() {
        return Err(Error::data(NO_TOTAL));
    }
    Ok(sets)
}

/// The group rows of a set must add up to its total row: records, tokens, dollars and unpriced records
/// (each at most the total when `--top` left groups out).
fn check_sums(groups: &[&Summary], total: &Summary) -> Result<()> {
    if groups.is_empty() {
        // Ungrouped (tt-sum without --by): the total row is all there is.
        return Ok(());
    }
    let mut sum = Spent::default();
    for g in groups {
        sum.merge(&row_spent(g));
    }
    let cut = total.omitted_groups.is_some_and(|n| n > 0);
    let t = row_spent(total);
    let fits = |a: Decimal, b: Decimal| if cut { a <= b } else { a == b };
    let d = Decimal::from;
    for (what, a, b) in [
        ("records", d(sum.records), d(t.records)),
        ("tokens", d(sum.tokens), d(t.tokens)),
        ("cost_usd", sum.usd, t.usd),
        ("unpriced records", d(sum.unpriced), d(t.unpriced)),
    ] {
        if sum.overflow || !fits(a, b) {
            return Err(Error::data(format!(
                "summary rows do not add up to their total row ({what}: the groups give {}, the total {}): \
                 filtered or edited input? give tt-budget whole tt-sum outputs",
                money::canonical(a),
                money::canonical(b)
            )));
        }
    }
    Ok(())
}

/// How a budget answered by a row set sees it: spend for a calendar or total budget, spend per session for a
/// session budget.
#[derive(Debug, Clone, PartialEq)]
enum RowSpend {
    Window(Spent),
    Sessions(BTreeMap<String, Spent>),
}

/// The scope as row group keys (`tag:team` stays `tag:team`) and values.
fn row_scope(b: &Budget) -> Vec<(String, &str)> {
    b.scope
        .iter()
        .map(|(k, v)| (Field::parse(k).map(|f| f.name().into_owned()).unwrap_or_else(|| k.clone()), v.as_str()))
        .collect()
}

/// The spend of `b` in one row set, if the set answers it; an error when it would answer it but `--top` may
/// have cut the rows that matter. `same_model` says whether two model names are one model (rows of several
/// spellings of a model all count toward a budget scoped to it).
fn answer(
    b: &Budget,
    scope: &[(String, &str)],
    set: &RowSet<'_>,
    same_model: &mut impl FnMut(&str, &str) -> bool,
) -> Result<Option<RowSpend>> {
    let session = b.period == BudgetPeriod::Session;
    if !session && row_period(&set.window.period) != Some(b.period) {
        return Ok(None);
    }
    if !session && set.is_empty() {
        return Ok(Some(RowSpend::Window(Spent::default())));
    }
    if !session && scope.is_empty() {
        return Ok(Some(RowSpend::Window(row_spent(set.total))));
    }
    let needs: Vec<&str> =
        session.then_some("session").into_iter().chain(scope.iter().map(|(k, _)| k.as_str())).collect();
    if set.groups.is_empty() || set.has_time_key() || !needs.iter().all(|k| set.keys.contains(k)) {
        return Ok(None);
    }
    let mut matching: Vec<&Summary> = Vec::new();
    for r in set.groups.iter().copied() {
        let all = scope.iter().all(|(k, v)| match r.value(k) {
            Some(Some(have)) => have == *v || (k == "model" && same_model(have, v)),
            _ => false,
        });
        if all {
            matching.push(r);
        }
    }
    let omitted = set.omitted();
    // A cut row would be read as nothing spent. With one row per scope value (grouped by the scope's fields
    // only) a row that is there is complete; otherwise any cut row may have held some of the spend. A model
    // has several spellings, each its own row: one of them may have been cut.
    let complete =
        !session && set.keys.len() == needs.len() && !matching.is_empty() && !scope.iter().any(|(k, _)| k == "model");
    if omitted > 0 && !complete {
        return Err(Error::data(format!(
            "budget {} ({}) cannot be checked from these rows: they were cut with --top ({} group{} left out), so \
             its rows may be missing; run tt-sum without --top for the gate",
            b.name,
            budget_label(b),
            money::thousands(omitted),
            if omitted == 1 { "" } else { "s" }
        )));
    }
    if session {
        let mut per: BTreeMap<String, Spent> = BTreeMap::new();
        for r in matching {
            if let Some(Some(s)) = r.value("session") {
                per.entry(s.to_string()).or_default().merge(&row_spent(r));
            }
        }
        return Ok(Some(RowSpend::Sessions(per)));
    }
    let mut sp = Spent::default();
    for r in matching {
        sp.merge(&row_spent(r));
    }
    Ok(Some(RowSpend::Window(sp)))
}

/// The tt-sum command whose rows answer `b`: `tt-sum --period today --by agent`.
pub fn rows_needed(b: &Budget) -> String {
    let mut cmd = String::from("tt-sum");
    let period = match b.period {
        BudgetPeriod::Day => Some("today"),
        BudgetPeriod::Week => Some("week"),
        BudgetPeriod::Month => Some("month"),
        BudgetPeriod::Year => Some("year"),
        BudgetPeriod::Total => Some("all"),
        BudgetPeriod::Session => None,
    };
    if let Some(p) = period {
        let _ = write!(cmd, " --period {p}");
    }
    let mut by: Vec<String> = Vec::new();
    if b.period == BudgetPeriod::Session {
        by.push("session".into());
    }
    by.extend(row_scope(b).into_iter().map(|(k, _)| k));
    if !by.is_empty() {
        let _ = write!(cmd, " --by {}", by.join(","));
    }
    cmd
}

fn window_text(w: &RowWindow) -> String {
    match (w.start, w.end) {
        (Some(s), Some(e)) => format!("{} {} – {}", w.period, fmt_bound(&s), fmt_bound(&e)),
        (Some(s), None) => format!("{} from {}", w.period, fmt_bound(&s)),
        (None, Some(e)) => format!("{} until {}", w.period, fmt_bound(&e)),
        (None, None) => w.period.clone(),
    }
}

fn fmt_bound(t: &DateTime<chrono::FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Evaluate the budgets that tt-sum's rows answer.
///
/// The rows are read as the sets tt-sum writes (group rows, then their total row; a set without its total row,
/// or whose groups do not add up to it, is an error). A set answers a budget when its window is of the
/// budget's and its groups can express the scope: no scope → the total row; a scope → the rows grouped by (at
/// least) the scope's fields, summed over those whose values match (a model scope: every spelling that
/// resolves to its model in `prices`; none matching: nothing was spent). The window must be the budget's own:
/// for a day, week, month or year budget its current window in `cal` (its zone and "today": the same start and
/// end instants — yesterday's rows, or rows of another `--today` or `--tz`, are not today's spend); for a
/// total budget all time. Session budgets take all-time sets grouped by `session` (a session's spend in a
/// window is not its spend) and evaluate the session that used most. A set without records answers every
/// budget of its window with zero.
///
/// Errors, never a wrong verdict: sets of the same window disagreeing, and a scoped or session budget whose
/// rows `--top` may have cut. Budgets no set answers are returned as unanswered, with the window of the rows
/// of their kind that were given instead, if any.
pub fn evaluate_from_rows<'b>(
    budgets: &'b [Budget],
    rows: &[Summary],
    cal: &Calendar,
    prices: &crate::price::PriceTable,
) -> Result<RowAnswers<'b>> {
    let mut pricer = Pricer::new(prices);
    rows_answer(budgets, rows, cal, &mut |a, b| same_model(&mut pricer, a, b))
}

fn rows_answer<'b>(
    budgets: &'b [Budget],
    rows: &[Summary],
    cal: &Calendar,
    same_model: &mut impl FnMut(&str, &str) -> bool,
) -> Result<RowAnswers<'b>> {
    let sets = row_sets(rows)?;
    let mut out =
        RowAnswers { evaluations: Vec::new(), unanswered: Vec::new(), other_window: Vec::new(), sessions: Vec::new() };
    for b in budgets {
        let scope = row_scope(b);
        let wanted = budget_row_window(b, cal);
        let mut found: Option<(&RowWindow, RowSpend)> = None;
        let mut other: Option<&RowWindow> = None;
        for set in &sets {
            if !same_window(set.window, &wanted) {
                // Rows of the budget's kind but of another window (yesterday's for a day budget, another
                // --today or --tz, a session budget's rows cut to a period) are not its spend.
                let kind = match b.period {
                    BudgetPeriod::Session => set.keys.contains(&"session"),
                    p => row_period(&set.window.period) == Some(p),
                };
                if kind {
                    other = other.or(Some(set.window));
                }
                continue;
            }
            let Some(spend) = answer(b, &scope, set, same_model)? else { continue };
            match &found {
                // Every set that answers has the budget's window, so two of them must agree.
                None => found = Some((set.window, spend)),
                Some((_, earlier)) if *earlier != spend => {
                    return Err(Error::data(format!(
                        "budget {} ({}) is answered by two sets of rows for the same window ({}) that disagree; \
                         give tt-budget the rows of one tt-sum run per period",
                        b.name,
                        budget_label(b),
                        window_text(set.window)
                    )));
                }
                Some(_) => {}
            }
        }
        match found {
            None => {
                out.unanswered.push(b);
                out.other_window.push(other.map(|w| {
                    let (have, want) = cover_texts(w, &wanted);
                    format!("the rows cover {have}, the budget's window is {want}")
                }));
            }
            Some((w, RowSpend::Window(sp))) => {
                sp.check(&b.name)?;
                out.evaluations.push(Evaluation::new(b, w.clone(), None, sp, cal.now, cal));
                out.sessions.push(None);
            }
            Some((w, RowSpend::Sessions(per))) => {
                for sp in per.values() {
                    sp.check(&b.name)?;
                }
                let w = RowWindow { period: "session".into(), ..w.clone() };
                out.evaluations.push(worst_session(b, w, per.iter(), cal));
                out.sessions.push(Some(per));
            }
        }
    }
    Ok(out)
}

/// The window of rows that answer `b`: its current window in `cal` (the one holding "now") for a day, week,
/// month or year budget; all time for a total or session budget.
fn budget_row_window(b: &Budget, cal: &Calendar) -> RowWindow {
    match b.period {
        BudgetPeriod::Total | BudgetPeriod::Session => RowWindow { period: "all".into(), start: None, end: None },
        p => RowWindow::of(&cal.current_budget_window(p)),
    }
}

/// True when rows of window `w` answer a budget whose window is `want`: all-time rows (`all`, no bounds) for
/// all time; otherwise rows of the budget's period with the same start and end instants.
fn same_window(w: &RowWindow, want: &RowWindow) -> bool {
    if want.start.is_none() && want.end.is_none() {
        return matches!(w.period.as_str(), "all" | "total") && w.start.is_none() && w.end.is_none();
    }
    row_period(&w.period) == row_period(&want.period) && w.start == want.start && w.end == want.end
}

/// Two windows as dates for a message (`2026-11-29`, `2026-11-23 – 2026-11-29`, `all time`), with their UTC
/// offsets when the dates alone would read the same (rows of another time zone).
fn cover_texts(have: &RowWindow, want: &RowWindow) -> (String, String) {
    let text = |w: &RowWindow, offset: bool| {
        let day = |t: &DateTime<chrono::FixedOffset>| t.time() == chrono::NaiveTime::MIN;
        let s = match (w.start, w.end) {
            (None, None) => return "all time".to_string(),
            (Some(s), Some(e)) if day(&s) && day(&e) => {
                let (first, last) = (s.date_naive(), (e - Duration::days(1)).date_naive());
                if first == last { first.to_string() } else { format!("{first} – {last}") }
            }
            (Some(s), Some(e)) => format!("{} – {}", fmt_bound(&s), fmt_bound(&e)),
            (Some(s), None) => format!("from {}", fmt_bound(&s)),
            (None, Some(e)) => format!("until {}", fmt_bound(&e)),
        };
        match w.start.or(w.end) {
            Some(t) if offset => format!("{s} (UTC{})", t.offset()),
            _ => s,
        }
    };
    let (a, b) = (text(have, false), text(want, false));
    if a == b { (text(have, true), text(want, true)) } else { (a, b) }
}

fn is_time_key(k: &str) -> bool {
    matches!(k, "hour" | "day" | "week" | "month")
}

fn row_spent(r: &Summary) -> Spent {
    Spent { records: r.records, usd: r.cost_usd, tokens: r.total_tokens, unpriced: r.unpriced_records, overflow: false }
}

//! `tt-log --enforce` against a team ledger: the same check as for a file log, exact across machines.
//!
//! The caller holds the lock of every budget window the check reads ([`window_locks`], taken by
//! `ledger::Ledger::take`), which every machine checking a record in that window takes too, so no checked
//! record can be added to such a window between the check and the append, on this machine or any other;
//! checks in other windows go on meanwhile. A window's lock is named by its budget and its key
//! (`atlas-daily`, `Day`, `2026-12-04`), so the machines sharing a ledger must share its budgets: a budget
//! only one machine knows guards only that machine's writes. The spend of each
//! window the record is checked in is counted on that connection by the server (`ledger::sum`, tt-sum's own:
//! priced records summed by model and scope fields, unpriced ones priced here one by one), put into an in-memory index, and
//! judged by the same `refusals` as a file log's. A calendar or total budget's window is not summed whole on
//! every call: the ledger keeps its sum up to a transaction horizon below which every transaction had ended
//! (`ledger::kept`), and a check adds only the records of the transactions since, read in one snapshot — the
//! kept sum is proved by the server's own transaction ids, not trusted because some writer says so.
//!
//! `counts` answers tt-budget the same way a file log's index does, from the records the current windows can
//! hold, counted one by one by the index's own code.

use chrono::{DateTime, Utc};

use super::{Index, fingerprint, refusals, windows_to_check};
use crate::budget::gate::TaskContext;
use crate::budget::{Budget, BudgetPeriod, Spent, scope_of};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::ledger::sum::Query;
use crate::period::Calendar;
use crate::price::Pricer;
use crate::record::Record;
use crate::scan::{Field, View};

/// A record that passed the check: the spend it was checked against, for the level alerts it sets off.
pub struct Passed {
    index: Index,
    cal: Calendar,
}

impl Passed {
    /// After the append: one line per budget window the record moved across a level (the alerts a file log's
    /// `tt-log --enforce` prints), none when alerts are off.
    pub fn alerts(&self, config: &Config, record: &Record) -> Vec<String> {
        self.alerts_of(config, &format!("{}\n", record.to_json()))
    }

    /// [`Passed::alerts`] for the records `lines` added (whole JSONL lines: an import's).
    pub fn alerts_of(&self, config: &Config, lines: &str) -> Vec<String> {
        if super::alert_calendar(config).is_none() {
            return Vec::new();
        }
        let budgets = &config.budgets;
        let scopes: Vec<_> = budgets.iter().map(scope_of).collect();
        let mut pricer = Pricer::new(&config.prices);
        let mut added = crate::budget::Ledger::new(budgets.len());
        for line in lines.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(view) = View::parse(line.as_bytes()) else { return Vec::new() };
            let cost = view.cost_usd.or_else(|| pricer.cost(&view.model, view.ts, &view.tokens, &view.billing));
            added.add(budgets, &scopes, &self.cal, &view, cost, &mut pricer);
        }
        super::crossings(&self.index, &added, budgets, &self.cal)
    }
}

/// A budget window a check reads: the budget's index, the window's key (as `budget::Ledger::key` names it),
/// and an instant in it.
type Window = (usize, String, DateTime<Utc>);

/// The budget windows the record `view` is checked in at `now` (`enforce::windows_to_check`), added to `out`
/// without repeats and without the session of its own a record without one is (nothing has been spent in it).
fn windows(
    config: &Config,
    cal: &Calendar,
    view: &View<'_>,
    now: DateTime<Utc>,
    pricer: &mut Pricer<'_>,
    out: &mut Vec<Window>,
) {
    for (i, b) in config.budgets.iter().enumerate() {
        if !view.matches(&scope_of(b), &mut |a, m| crate::budget::same_model(pricer, a, m)) {
            continue;
        }
        let session = view.session.as_deref();
        for (key, at, _) in windows_to_check(b, cal, view.ts, session, now).unwrap_or_default() {
            if let Some(key) = key.filter(|k| !out.iter().any(|(j, o, _)| *j == i && o == k)) {
                out.push((i, key, at));
            }
        }
    }
}

/// [`windows`] of one record.
fn windows_of(config: &Config, cal: &Calendar, record: &Record, now: DateTime<Utc>) -> Result<Vec<Window>> {
    let line = record.to_json();
    let mut out = Vec::new();
    windows(config, cal, &View::parse(line.as_bytes())?, now, &mut Pricer::new(&config.prices), &mut out);
    Ok(out)
}

/// The name of the lock of budget `b`'s window `key` (`ledger::Locks::Only`): every machine checking a record
/// in that window takes it, whatever the record; two budgets, or two windows of one, have two.
pub fn window_lock(b: &Budget, key: &str) -> String {
    format!("{}\u{0}{:?}\u{0}{key}", b.name, b.period)
}

/// The locks a check of `record` at `now` takes in a ledger: one per budget window it reads (see [`check`]).
pub fn window_locks(config: &Config, record: &Record, now: DateTime<Utc>) -> Result<Vec<String>> {
    let cal = Calendar::new(config.timezone()?, config.week_start, record.ts);
    Ok(windows_of(config, &cal, record, now)?.iter().map(|(i, k, _)| window_lock(&config.budgets[*i], k)).collect())
}

/// The locks `tt-budget --reserve` takes in a ledger at `now` for a task of `context`: the current window of
/// every budget the hold will count in (those whose scope the context does not rule out, as
/// `reserve::Hold::applies` decides); for a session budget, the task's session's window, none without a
/// session (a hold without one is a session of its own). The verdict also reads the other budgets, as any
/// tt-budget does: a snapshot, which nothing the reservation adds can change.
pub fn reserve_locks(config: &Config, context: &TaskContext, now: DateTime<Utc>) -> Result<Vec<String>> {
    let cal = Calendar::new(config.timezone()?, config.week_start, now);
    let mut pricer = Pricer::new(&config.prices);
    let session = context.get("session");
    Ok(config
        .budgets
        .iter()
        .filter(|b| context.excludes(&b.scope, &mut pricer).is_none())
        .filter_map(|b| crate::budget::Ledger::key(b, &cal, now, session).map(|k| window_lock(b, &k)))
        .collect())
}

/// Check `record` against every configured budget it counts in, as of `now`. The caller holds the locks of
/// [`window_locks`] for the same `now` (none for a dry run): no record can be added to a window the check reads
/// between the check and the append, on this machine or any other. A refusal is exit 1 (`refused, nothing
/// logged: …`, or `would be refused: …` for a dry run), as for a file log.
pub fn check(
    ledger: &mut Ledger,
    config: &Config,
    record: &Record,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Passed> {
    let budgets: Vec<Budget> = config.budgets.clone();
    let cal = Calendar::new(config.timezone()?, config.week_start, record.ts);
    let scopes: Vec<_> = budgets.iter().map(scope_of).collect();
    let index = counted(ledger, config, &cal, windows_of(config, &cal, record, now)?)?;
    // What reservations hold counts too, but for the one this record settles.
    let settles = record.extra.get(crate::reserve::FIELD).and_then(serde_json::Value::as_str);
    let mut holds = crate::reserve::read_ledger(ledger)?.active_in_ledger(ledger, now)?;
    holds.retain(|h| Some(h.id.as_str()) != settles);
    match refusals(&index, &holds, &budgets, &scopes, &cal, config, record, now)? {
        Some(Ok(_)) => Ok(Passed { index, cal }),
        Some(Err(r)) if dry_run => Err(Error::condition(format!("would be refused: {}", r.join("; ")))),
        Some(Err(r)) => Err(Error::condition(format!("refused, nothing logged: {}", r.join("; ")))),
        // An index built in memory from the ledger is never damaged; were it, nothing is let through.
        None => Err(Error::data(format!("ledger {}: the budget check could not be counted", ledger.name()))),
    }
}

/// Before a plain append (no check, no lock): the spend of every window `record` counts in, for the level
/// alerts it sets off ([`Passed::alerts`]); `None` when alerts are off or the ledger could not be counted (an
/// append is not refused for its alerts). Without the windows' locks, a writer racing this one may make both
/// tell of one crossing, or neither: alerts say what is seen, the gate is `--enforce`.
pub fn watch(ledger: &mut Ledger, config: &Config, record: &Record, now: DateTime<Utc>) -> Option<Passed> {
    super::alert_calendar(config)?;
    let cal = Calendar::new(config.timezone().ok()?, config.week_start, record.ts);
    let index = counted(ledger, config, &cal, windows_of(config, &cal, record, now).ok()?).ok()?;
    Some(Passed { index, cal })
}

/// [`watch`] before many records are added (whole JSONL lines: an import's): the spend of every window one of
/// them counts in, each read once; `None` also when a line is not a record (the append will say so).
pub fn watch_lines(ledger: &mut Ledger, config: &Config, lines: &str, now: DateTime<Utc>) -> Option<Passed> {
    super::alert_calendar(config)?;
    let cal = Calendar::new(config.timezone().ok()?, config.week_start, now);
    // Each line read in place (no record built), with one pricer for all.
    let (mut pricer, mut all) = (Pricer::new(&config.prices), Vec::new());
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        windows(config, &cal, &View::parse(line.as_bytes()).ok()?, now, &mut pricer, &mut all);
    }
    let index = counted(ledger, config, &cal, all).ok()?;
    Some(Passed { index, cal })
}

/// The spend of each of `windows` ([`windows`]), counted by the server (see `spent_in`) from the sums the
/// ledger keeps (`spent_kept`), in an index as a file log's check builds it.
fn counted(ledger: &mut Ledger, config: &Config, cal: &Calendar, windows: Vec<Window>) -> Result<Index> {
    let budgets = &config.budgets;
    let scopes: Vec<_> = budgets.iter().map(scope_of).collect();
    let mut index = Index::empty(fingerprint(config), 0, 0, budgets.len());
    let mut pricer = Pricer::new(&config.prices);
    for (i, key, at) in windows {
        let b = &budgets[i];
        let within = match b.period {
            BudgetPeriod::Total => Within::All,
            BudgetPeriod::Session => Within::Session(&key),
            p => {
                let w = cal.budget_window(p, at);
                match (w.start, w.end) {
                    (Some(a), Some(z)) => Within::Between(a, z),
                    _ => Within::All,
                }
            }
        };
        let spent = match within {
            // One session's records are few and found through their index: nothing worth keeping.
            Within::Session(_) => spent_in(ledger, &scopes[i], within, ALL, &mut pricer)?,
            _ => spent_kept(ledger, &kept_key(config, b, &key, within), &scopes[i], within, &mut pricer)?,
        };
        index.delta.windows[i].insert(key, spent);
    }
    Ok(index)
}

/// The spend of the records `within` that budget scope `scope` takes: the server sums the priced records by
/// model and the scope's fields, and the groups the scope matches (by the rule records are matched with,
/// `scan::field_matches`) are added up; the records without a cost are priced here one by one, as a reader
/// prices them, and those whose microsecond `ts` column sits on a bound are judged by their line's own time
/// (`ledger::sum`). Exactly what the same records counted one by one give.
fn spent_in(
    ledger: &mut Ledger,
    scope: &[(Field, String)],
    within: Within<'_>,
    xact: Xacts,
    pricer: &mut Pricer<'_>,
) -> Result<Spent> {
    let mut spent = Spent::default();
    spent_by(ledger, scope, within, xact, None, pricer, &mut |_, s| spent.merge(s))?;
    Ok(spent)
}

/// The records added by the transactions in a range (`ledger::sum::Query::xact`).
type Xacts = (Option<u64>, Option<u64>);

/// How many records a check reads beyond a kept sum before it keeps a newer one.
const KEEP_AFTER: u64 = 64;

/// [`KEEP_AFTER`], or `TT_LEDGER_KEEP_AFTER` (for tests: 1 renews the kept sum on every check that sees a
/// record past it, so racing checks keep sums while others count from them).
fn keep_after() -> u64 {
    std::env::var("TT_LEDGER_KEEP_AFTER").ok().and_then(|v| v.parse().ok()).unwrap_or(KEEP_AFTER)
}

/// Every record, whatever transaction added it.
const ALL: Xacts = (None, None);

/// Under what a window's spend is kept in the ledger (`ledger::kept`): the budget's name, for whoever reads
/// `tt.kept`, then a hash of everything that decides the sum — this tt, the config's fingerprint (budgets,
/// zone, week start, prices, catalogue), the window (the name of its lock) and its bounds.
fn kept_key(config: &Config, b: &Budget, window: &str, within: Within<'_>) -> String {
    // The window's bounds too: a key names one set of records whatever calendar the caller counted in.
    let all = format!(
        "{}\u{0}{}\u{0}{}\u{0}{within:?}",
        env!("CARGO_PKG_VERSION"),
        fingerprint(config),
        window_lock(b, window)
    );
    let (x, y) = crate::id::fnv128(all.as_bytes());
    format!("{}:{x:016x}{y:016x}", b.name)
}

/// [`spent_in`] for every transaction, from the sum kept under `key` and the records added since its horizon,
/// read in one snapshot; then the sum up to that snapshot's horizon is kept for the next check, when it is
/// the window's first or the check read [`KEEP_AFTER`] records or more past the kept one. The kept sum holds the records of the transactions below its horizon, every one
/// of which had ended when it was summed (see `ledger::kept`): what it adds up to is what a sum of every
/// record gives.
fn spent_kept(
    ledger: &mut Ledger,
    key: &str,
    scope: &[(Field, String)],
    within: Within<'_>,
    pricer: &mut Pricer<'_>,
) -> Result<Spent> {
    let kept = ledger.kept(key)?;
    let from = kept.as_ref().map(|k| k.horizon);
    if from.is_none() {
        // The window's first sum (a scan anyway): the reads of the next checks need the planner to know `xact`.
        ledger.know_xact()?;
    }
    let mut spent = match &kept {
        Some(k) => Spent {
            records: k.records,
            tokens: k.tokens,
            usd: crate::money::parse_decimal(&k.usd)
                .ok_or_else(|| Error::ledger(format!("ledger {}: the kept sum {key:?} is damaged", ledger.name())))?,
            unpriced: k.unpriced,
            overflow: k.overflow,
        },
        None => Spent::default(),
    };
    // What was added after the kept sum, and, when a newer sum is worth keeping (a kept sum is a write: a
    // transaction, its WAL), the part of it below this snapshot's horizon and that horizon. A check that keeps
    // nothing reads one range, [kept horizon, ∞); the index on `xact` finds a few dozen records in well under
    // a millisecond.
    let (added, renew) = ledger.at_one_instant(|l, now| match from {
        None => {
            let since = spent_in(l, scope, within, (None, Some(now)), pricer)?;
            let mut added = spent_in(l, scope, within, (Some(now), None), pricer)?;
            added.merge(&since);
            Ok((added, Some((since, now))))
        }
        Some(f) => {
            let added = spent_in(l, scope, within, (Some(f), None), pricer)?;
            // A sum kept by a check whose snapshot was later than this one's is never replaced by this one:
            // counted from its horizon on, this check sees every record its own snapshot sees and some
            // committed since, never fewer.
            if now > f && added.records >= keep_after() {
                Ok((added, Some((spent_in(l, scope, within, (Some(f), Some(now)), pricer)?, now))))
            } else {
                Ok((added, None))
            }
        }
    })?;
    if let Some((since, horizon)) = renew {
        let mut upto = spent;
        upto.merge(&since);
        let k = crate::ledger::kept::Kept {
            horizon,
            records: upto.records,
            tokens: upto.tokens,
            usd: upto.usd.to_string(),
            unpriced: upto.unpriced,
            overflow: upto.overflow,
        };
        ledger.keep(key, &k)?;
    }
    spent.merge(&added);
    Ok(spent)
}

/// What a group of records is keyed by, beside the scope's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// Nothing: one sum.
    Nothing,
    /// The session (`None` for records without one).
    Session,
    /// The UTC quarter hour of `ts` (see [`QUARTER`]), as its start.
    Quarter,
}

/// Which records a budget's spend is summed over.
#[derive(Debug, Clone, Copy)]
enum Within<'a> {
    /// Every record (a total budget).
    All,
    /// The records of one session (a session budget).
    Session(&'a str),
    /// The records dated in `[start, end)` (a calendar budget's window).
    Between(DateTime<Utc>, DateTime<Utc>),
}

/// The seconds of the grain a total budget's spend is summed by: every time zone's offset is a whole number of
/// quarter hours, so a quarter lies within one local day of any zone, and its start names that day exactly
/// (the server's time zone data is never asked).
const QUARTER: u32 = 900;

/// Where a scope field's value is in a partial sum's row.
enum Place {
    Column(usize),
    Tag(usize),
    Session,
}

/// [`spent_in`], keyed by `by`: `put` gets each part of the spend with its key (a session, or the start of a
/// quarter hour), any number of times per key. The server's half is `ledger::sum`, tt-sum's own.
fn spent_by(
    ledger: &mut Ledger,
    scope: &[(Field, String)],
    within: Within<'_>,
    xact: Xacts,
    by: Option<By>,
    pricer: &mut Pricer<'_>,
    put: &mut dyn FnMut(Key<'_>, &Spent),
) -> Result<()> {
    let by = by.unwrap_or(By::Nothing);
    let mut q =
        Query { sessions: by == By::Session, grain: (by == By::Quarter).then_some(QUARTER), xact, ..Query::default() };
    let places: Vec<Place> = scope
        .iter()
        .map(|(f, _)| match (f, crate::rollup::column(f)) {
            (_, Some(c)) => {
                q.columns.push(c);
                Place::Column(q.columns.len() - 1)
            }
            (Field::Tag(k), None) => {
                q.tags.push(k.clone());
                Place::Tag(q.tags.len() - 1)
            }
            _ => {
                q.sessions = true;
                Place::Session
            }
        })
        .collect();
    let (from, to) = match within {
        Within::All => (None, None),
        Within::Session(s) => {
            q.session = Some(s.to_string());
            (None, None)
        }
        Within::Between(a, z) => {
            (q.since, q.before) = (Some(a), vec![z]);
            (Some(a), Some(z))
        }
    };
    let columns = q.columns.len();
    ledger.partial_sums(&q, |p| {
        let takes = scope.iter().zip(&places).all(|((f, want), place)| {
            let v = match place {
                Place::Column(i) => p.values[*i].as_deref(),
                Place::Tag(i) => p.values[columns + i].as_deref(),
                Place::Session => p.session.as_deref(),
            };
            crate::scan::field_matches(f, v, want, &mut |a, m| crate::budget::same_model(pricer, a, m))
        });
        if !takes {
            return Ok(true);
        }
        let mut tokens = Some(0u64);
        for t in &p.tokens {
            tokens = tokens.zip(t.parse::<u64>().ok()).and_then(|(a, b)| a.checked_add(b));
        }
        let usd = crate::money::parse_decimal(&p.cost);
        let spent = Spent {
            records: p.records,
            tokens: tokens.unwrap_or(0),
            usd: usd.unwrap_or_default(),
            unpriced: 0,
            // A sum past what u64 tokens or Decimal dollars hold is said, as a file log's count says it.
            overflow: tokens.is_none() || usd.is_none(),
        };
        let key = match by {
            By::Nothing => Key::None,
            By::Session => Key::Session(p.session.as_deref()),
            By::Quarter => Key::At(p.grain.unwrap_or_default()),
        };
        put(key, &spent);
        Ok(true)
    })?;
    let name = ledger.name().to_string();
    let mut n = 0u64;
    let mut bad = None;
    ledger.loose_lines(&q, |line| {
        n += 1;
        let v = match View::parse(line) {
            Ok(v) => v,
            Err(e) => {
                bad = Some(e.context(format!("{name}: record {n} read one by one")));
                return Ok(false);
            }
        };
        // The line's own time decides whether it is in the window (see `ledger::sum`).
        let inside = from.is_none_or(|a| v.ts >= a) && to.is_none_or(|z| v.ts < z);
        if inside && v.matches(scope, &mut |a, m| crate::budget::same_model(pricer, a, m)) {
            let cost = v.cost_usd.or_else(|| pricer.cost(&v.model, v.ts, &v.tokens, &v.billing));
            let mut spent = Spent::default();
            spent.add(v.tokens.total(), cost);
            let key = match by {
                By::Nothing => Key::None,
                By::Session => Key::Session(v.session.as_deref()),
                By::Quarter => Key::At(v.ts),
            };
            put(key, &spent);
        }
        Ok(true)
    })?;
    bad.map_or(Ok(()), Err)
}

/// The key of a part of the spend (see [`spent_by`]).
#[derive(Debug, Clone, Copy)]
enum Key<'a> {
    None,
    Session(Option<&'a str>),
    /// A time in the part's quarter hour (its records' local day is this time's).
    At(chrono::DateTime<Utc>),
}

/// Evaluate `asked` (configured budgets) at `cal.now` from the ledger, what reservations hold on top: what the
/// file log's index answers (`super::counts`). The server sums each budget's spend (`spent_by`): a calendar
/// budget's current window; a session budget's every session; a total budget's every local day (its sum, and
/// the days its burn rate and forecast need). They fill an in-memory index under the keys the file log's index
/// uses, evaluated by the same `evaluate_index`. `len` is the ledger's last record number.
pub fn counts(
    ledger: &mut Ledger,
    config: &Config,
    asked: &[Budget],
    cal: &Calendar,
    session: Option<&str>,
) -> Result<super::Counts> {
    let budgets = &config.budgets;
    let mut index = Index::empty(fingerprint(config), 0, 0, budgets.len());
    let mut pricer = Pricer::new(&config.prices);
    for b in asked {
        let Some(i) = budgets.iter().position(|c| c == b) else { continue };
        let scope = scope_of(b);
        let windows = &mut index.delta.windows[i];
        match b.period {
            BudgetPeriod::Session => {
                spent_by(ledger, &scope, Within::All, ALL, Some(By::Session), &mut pricer, &mut |k, sp| {
                    // A record without a session counts in no session.
                    if let Key::Session(Some(s)) = k {
                        windows.entry(s.to_string()).or_default().merge(sp);
                    }
                })?;
            }
            BudgetPeriod::Total => {
                spent_by(ledger, &scope, Within::All, ALL, Some(By::Quarter), &mut pricer, &mut |k, sp| {
                    if let Key::At(t) = k {
                        for key in crate::budget::Ledger::keys(b, cal, t, None) {
                            windows.entry(key).or_default().merge(sp);
                        }
                    }
                })?;
            }
            p => {
                let w = cal.budget_window(p, cal.now);
                let (Some(start), Some(end)) = (w.start, w.end) else { continue };
                let key = crate::budget::Ledger::key(b, cal, cal.now, None).unwrap_or_default();
                // The window a check of a record logged now reads, under the same key: one kept sum serves both.
                let within = Within::Between(start, end);
                let spent = spent_kept(ledger, &kept_key(config, b, &key, within), &scope, within, &mut pricer)?;
                windows.insert(key, spent);
            }
        }
    }
    let holds = crate::reserve::read_ledger(ledger)?.active_in_ledger(ledger, Utc::now())?;
    let (evals, session) = super::evaluate_index(&index, config, asked, cal, &holds, session)
        .ok_or_else(|| Error::data(format!("ledger {}: the budgets could not be counted", ledger.name())))??;
    Ok(super::Counts { holds, len: ledger.last_seq()?, evals, session })
}

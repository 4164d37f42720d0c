//! Where a budget's spend comes from when records are read: [`Tally`], one streaming pass over records for
//! every budget, and [`Ledger`], the same spend kept per window key for the log's index (`crate::enforce`).
//!
//! The two must agree: [`evaluate_windows`] (the index's answer) gives exactly what [`Tally::evaluate`] gives
//! from the records, which is why they live side by side. A session budget is answered by the session that
//! used most of it ([`worst_session`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{Budget, BudgetPeriod, Evaluation, Spent, burn, burn_days, levels, same_model, scope_of};
use crate::aggregate::RowWindow;
use crate::distinct::FxMap;
use crate::error::Result;
use crate::period::{Calendar, Window};
use crate::price::Pricer;
use crate::scan::{Field, View};

/// Spend of every budget over its current window, from records in one streaming pass.
#[derive(Debug)]
pub struct Tally<'c> {
    budgets: Vec<Budget>,
    cal: Calendar,
    windows: Vec<Window>,
    scopes: Vec<Vec<(Field, String)>>,
    periods: Vec<BudgetPeriod>,
    spent: Vec<Spent>,
    sessions: Vec<FxMap<String, Spent>>,
    /// For `total` budgets: spend in the burn days (`[burn_from, burn_to)`, see [`super::Burn`]), and the first
    /// record's time.
    recent: Vec<Spent>,
    first: Vec<Option<DateTime<Utc>>>,
    burn_from: DateTime<Utc>,
    burn_to: DateTime<Utc>,
    pricer: Pricer<'c>,
}

impl<'c> Tally<'c> {
    /// A tally of `budgets`, each over its window at `cal.now`.
    pub fn new(budgets: &[Budget], cal: &Calendar, prices: &'c crate::price::PriceTable) -> Tally<'c> {
        Tally {
            budgets: budgets.to_vec(),
            cal: *cal,
            windows: budgets.iter().map(|b| cal.current_budget_window(b.period)).collect(),
            scopes: budgets.iter().map(scope_of).collect(),
            periods: budgets.iter().map(|b| b.period).collect(),
            spent: vec![Spent::default(); budgets.len()],
            sessions: budgets.iter().map(|_| FxMap::default()).collect(),
            recent: vec![Spent::default(); budgets.len()],
            first: vec![None; budgets.len()],
            burn_from: burn_days(cal).0,
            burn_to: burn_days(cal).1,
            pricer: Pricer::new(prices),
        }
    }

    /// Count one record.
    #[inline]
    pub fn add(&mut self, v: &View<'_>) {
        let mut cost = None;
        let mut priced = false;
        for i in 0..self.windows.len() {
            if !self.windows[i].contains(v.ts)
                || !v.matches(&self.scopes[i], &mut |a, b| same_model(&mut self.pricer, a, b))
            {
                continue;
            }
            if !priced {
                cost = v.cost_usd.or_else(|| self.pricer.cost(&v.model, v.ts, &v.tokens, &v.billing));
                priced = true;
            }
            match self.periods[i] {
                BudgetPeriod::Session => {
                    if let Some(s) = v.session.as_deref() {
                        match self.sessions[i].get_mut(s) {
                            Some(sp) => sp.add(v.tokens.total(), cost),
                            None => {
                                let mut sp = Spent::default();
                                sp.add(v.tokens.total(), cost);
                                self.sessions[i].insert(s.to_string(), sp);
                            }
                        }
                    }
                }
                BudgetPeriod::Total => {
                    self.spent[i].add(v.tokens.total(), cost);
                    if v.ts >= self.burn_from && v.ts < self.burn_to {
                        self.recent[i].add(v.tokens.total(), cost);
                    }
                    self.first[i] = Some(self.first[i].map_or(v.ts, |f| f.min(v.ts)));
                }
                _ => self.spent[i].add(v.tokens.total(), cost),
            }
        }
    }

    /// Merge a tally of another chunk.
    pub fn merge(&mut self, o: Tally<'_>) {
        for (a, b) in self.spent.iter_mut().zip(o.spent.iter()) {
            a.merge(b);
        }
        for (a, b) in self.recent.iter_mut().zip(o.recent.iter()) {
            a.merge(b);
        }
        for (a, b) in self.first.iter_mut().zip(o.first.iter()) {
            *a = match (*a, *b) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
        }
        for (a, b) in self.sessions.iter_mut().zip(o.sessions) {
            for (k, v) in b {
                a.entry(k).or_default().merge(&v);
            }
        }
    }

    /// Evaluate every budget given to [`Tally::new`] at its calendar's "now".
    pub fn finish(&self) -> Result<Vec<Evaluation>> {
        self.evaluate(&self.budgets, &self.cal)
    }

    /// What session `session` spent of session budget `i` (in the order given to [`Tally::new`]); nothing
    /// for a session not seen.
    pub fn session_spent(&self, i: usize, session: &str) -> Spent {
        self.sessions.get(i).and_then(|m| m.get(session)).copied().unwrap_or_default()
    }

    /// Evaluate `budgets` (the ones given to [`Tally::new`], in the same order) at `cal.now`; an error when a
    /// sum overflowed.
    pub fn evaluate(&self, budgets: &[Budget], cal: &Calendar) -> Result<Vec<Evaluation>> {
        budgets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let w = RowWindow::of(&self.windows[i]);
                if b.period == BudgetPeriod::Session {
                    for sp in self.sessions[i].values() {
                        sp.check(&b.name)?;
                    }
                    Ok(worst_session(b, w, self.sessions[i].iter(), cal))
                } else {
                    self.spent[i].check(&b.name)?;
                    let mut e = Evaluation::new(b, w, None, self.spent[i], cal.now, cal);
                    if b.period == BudgetPeriod::Total {
                        e.burn = Some(burn(&e, self.recent[i], self.first[i], self.burn_from, cal));
                    }
                    Ok(e)
                }
            })
            .collect()
    }
}

/// The session that used most of a session budget: the highest fraction of its limit, the first by name on a
/// tie — whatever order the sessions come in.
pub(crate) fn most_used<'s, K: AsRef<str> + ?Sized + 's>(
    b: &Budget,
    sessions: impl Iterator<Item = (&'s K, &'s Spent)>,
) -> Option<(&'s str, &'s Spent)> {
    let mut best: Option<(Decimal, &str, &Spent)> = None;
    for (k, sp) in sessions {
        let k = k.as_ref();
        let (f, _) = levels(b, sp.usd, sp.tokens);
        if best.is_none_or(|(bf, bk, _)| (f, bk) > (bf, k)) {
            best = Some((f, k, sp));
        }
    }
    best.map(|(_, k, sp)| (k, sp))
}

/// The session that used most of a session budget ([`most_used`]), evaluated; an empty evaluation when there
/// are none. Only the winner is evaluated in full (a log can hold tens of thousands of sessions).
pub(crate) fn worst_session<'s, K: AsRef<str> + ?Sized + 's>(
    b: &Budget,
    w: RowWindow,
    sessions: impl Iterator<Item = (&'s K, &'s Spent)>,
    cal: &Calendar,
) -> Evaluation {
    match most_used(b, sessions) {
        Some((k, sp)) => Evaluation::new(b, w, Some(k.to_string()), *sp, cal.now, cal),
        None => Evaluation::new(b, w, None, Spent::default(), cal.now, cal),
    }
}

/// Per-budget, per-window spend of a whole log, kept up to date incrementally (the index behind
/// `tt-log --enforce` and `tt-budget`). Windows are keyed by their local start (`2026-11-23`, `2026-11`,
/// `2026`), the session id for session budgets, and `""` for total budgets — which also keep their spend per
/// local day under `@2026-11-23` keys, for the burn rate ([`super::Burn`]) and the first record's day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    /// Per budget (in config order): window key → spend.
    pub windows: Vec<BTreeMap<String, Spent>>,
}

impl Ledger {
    /// An empty ledger for `n` budgets.
    pub fn new(n: usize) -> Ledger {
        Ledger { windows: vec![BTreeMap::new(); n] }
    }

    /// The key of the window of `b` holding a record at `ts` in `session` (`None`: the budget does not apply,
    /// a session budget and a record without a session).
    pub fn key(b: &Budget, cal: &Calendar, ts: DateTime<Utc>, session: Option<&str>) -> Option<String> {
        let d = cal.local_date(ts);
        Some(match b.period {
            BudgetPeriod::Total => String::new(),
            BudgetPeriod::Session => session?.to_string(),
            BudgetPeriod::Day => d.format("%Y-%m-%d").to_string(),
            BudgetPeriod::Week => cal.week_of(d).format("%Y-%m-%d").to_string(),
            BudgetPeriod::Month => d.format("%Y-%m").to_string(),
            BudgetPeriod::Year => d.format("%Y").to_string(),
        })
    }

    /// Every key a record at `ts` in `session` counts under for budget `b`: its window's, and for a total
    /// budget also its day's (`@2026-11-23`). Empty when the budget does not apply (see [`Ledger::key`]).
    pub fn keys(b: &Budget, cal: &Calendar, ts: DateTime<Utc>, session: Option<&str>) -> Vec<String> {
        let Some(k) = Ledger::key(b, cal, ts, session) else { return Vec::new() };
        if b.period == BudgetPeriod::Total {
            return vec![k, Ledger::day_key(cal.local_date(ts))];
        }
        vec![k]
    }

    /// The key of a total budget's spend on local day `d`.
    pub fn day_key(d: NaiveDate) -> String {
        format!("@{}", d.format("%Y-%m-%d"))
    }

    /// Count one record for every budget whose scope it matches (a model scope through `pricer`'s
    /// resolution, see [`same_model`]).
    pub fn add(
        &mut self,
        budgets: &[Budget],
        scopes: &[Vec<(Field, String)>],
        cal: &Calendar,
        v: &View<'_>,
        cost: Option<Decimal>,
        pricer: &mut Pricer<'_>,
    ) {
        for (i, b) in budgets.iter().enumerate() {
            if !v.matches(&scopes[i], &mut |a, m| same_model(pricer, a, m)) {
                continue;
            }
            if let Some(k) = Ledger::key(b, cal, v.ts, v.session.as_deref()) {
                self.windows[i].entry(k).or_default().add(v.tokens.total(), cost);
                if b.period == BudgetPeriod::Total {
                    self.windows[i]
                        .entry(Ledger::day_key(cal.local_date(v.ts)))
                        .or_default()
                        .add(v.tokens.total(), cost);
                }
            }
        }
    }

    /// Merge another ledger over the same budgets.
    pub fn merge(&mut self, o: Ledger) {
        for (a, b) in self.windows.iter_mut().zip(o.windows) {
            for (k, v) in b {
                a.entry(k).or_default().merge(&v);
            }
        }
    }

    /// Spend of budget `i` in window `key`.
    pub fn spent(&self, i: usize, key: &str) -> Spent {
        self.windows.get(i).and_then(|w| w.get(key)).copied().unwrap_or_default()
    }

    /// Evaluate budget `b` (number `i` of the budgets this ledger counts): see [`evaluate_windows`].
    pub fn evaluate(&self, i: usize, b: &Budget, cal: &Calendar) -> Result<Evaluation> {
        let empty = BTreeMap::new();
        let windows = self.windows.get(i).unwrap_or(&empty);
        evaluate_windows(
            b,
            cal,
            &|k| windows.get(k).copied().unwrap_or_default(),
            windows.iter().map(|(k, v)| (k.as_str(), v)),
        )
    }
}

/// Evaluate budget `b` over its current window at `cal.now` from its spend per window (keyed as [`Ledger`]
/// keys them), exactly as [`Tally`] does from the records: the window's spend (`spent(key)`), the worst
/// session of a session budget and a total budget's burn (both from `all`, every window of the budget). `cal`
/// must not be pinned by `--today` (windows are counted whole) and must be the calendar the keys were made in.
pub fn evaluate_windows<'s>(
    b: &Budget,
    cal: &Calendar,
    spent: &dyn Fn(&str) -> Spent,
    all: impl Iterator<Item = (&'s str, &'s Spent)>,
) -> Result<Evaluation> {
    debug_assert!(!cal.pinned);
    let w = RowWindow::of(&cal.current_budget_window(b.period));
    match b.period {
        BudgetPeriod::Session => {
            let sessions: Vec<(&str, &Spent)> = all.collect();
            for (_, sp) in &sessions {
                sp.check(&b.name)?;
            }
            Ok(worst_session(b, w, sessions.into_iter(), cal))
        }
        BudgetPeriod::Total => {
            let total = spent("");
            total.check(&b.name)?;
            let mut e = Evaluation::new(b, w, None, total, cal.now, cal);
            let (from, to) = burn_days(cal);
            let (first_day, last_day) = (cal.local_date(from), cal.local_date(to - Duration::seconds(1)));
            let mut recent = Spent::default();
            let mut first = None;
            for (k, sp) in all {
                let Some(day) = k.strip_prefix('@').and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else {
                    continue;
                };
                first = Some(first.map_or(day, |f: NaiveDate| f.min(day)));
                if day >= first_day && day <= last_day {
                    recent.merge(sp);
                }
            }
            e.burn = Some(burn(&e, recent, first.map(|d| cal.midnight(d)), from, cal));
            Ok(e)
        }
        _ => {
            let now = Ledger::key(b, cal, cal.now, None).map(|k| spent(&k)).unwrap_or_default();
            now.check(&b.name)?;
            Ok(Evaluation::new(b, w, None, now, cal.now, cal))
        }
    }
}

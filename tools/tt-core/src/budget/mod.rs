//! Budgets: what a budget is, and how spend stands against it — limits, alert levels, forecasts and burn.
//!
//! A [`Budget`] (period, scope, `limit_usd` and/or `limit_tokens`, `warn_at`) is written in a config table or
//! given as `--limit-*` flags; the config loader parses it and asks [`rules`] whether it holds. Over its window
//! it is evaluated into an [`Evaluation`]: spent, remaining, the fraction used, the [`Level`] and a
//! [`Forecast`]. The rest of the concept lives in the submodules:
//! * `tally` — where spend comes from records: [`Tally`] (one streaming pass for all budgets) and [`Ledger`]
//!   (per-window spend for the log's index, so `tt-log --enforce` checks one new record without re-reading
//!   the log; [`Ledger::evaluate`] gives exactly what [`Tally`] gives).
//! * `rows` — which of tt-sum's summary rows answer which budget ([`evaluate_from_rows`]).
//! * [`gate`] — the gate's decision from evaluations, and the pre-task estimate's [`gate::TaskContext`].
//!
//! Invariants:
//! * A model scope matches every spelling of the model the price table resolves to the same entry
//!   ([`same_model`]); other scope fields match exactly.
//! * Summary rows are read as whole tt-sum outputs: group rows that are not closed by their total row, or that
//!   do not add up to it, are an error, never a budget with nothing spent.
//! * Percentages shown never contradict the level (cut below the limit, above 100 over it), and dollar amounts
//!   shown side by side that differ never print the same ([`usd_distinct`]).
//! * Levels are decided by exact decimal comparison, never by a rounded percentage: with the default
//!   `warn_at = [0.5, 0.8, 0.95]`, spend ≥ 50% of the limit is `info`, ≥ 80% `warning`, ≥ 95% `critical`,
//!   and strictly more than the limit `over` — spending exactly the limit is allowed (critical, not over).
//! * With both limits, the budget is as used as its most used limit.
//! * Unpriced records never count as $0 silently: they are counted and reported beside the spend.
//!
//! This module knows no `Config`: the config loader builds budgets from TOML and calls [`rules`], never the
//! other way round (see `tests/layers.rs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::aggregate::RowWindow;
use crate::error::{Error, Result};
use crate::money;
use crate::period::{Calendar, Window, first_of_month, next_month, ymd};
use crate::price::Pricer;
use crate::record::push_json_string;
use crate::scan::Field;

pub mod adhoc;
pub mod gate;
pub mod render;
mod rows;
mod tally;

pub use rows::{RowAnswers, check_row, check_rows, evaluate_from_rows, row_period, rows_needed};
pub use tally::{Ledger, Tally, evaluate_windows};
pub(crate) use tally::{most_used, worst_session};

/// The budget period a limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BudgetPeriod {
    /// A calendar day in the configured time zone.
    Day,
    /// A week starting on the configured week day.
    Week,
    /// A calendar month.
    Month,
    /// A calendar year.
    Year,
    /// All time.
    Total,
    /// Each session separately (per-session limits).
    Session,
}

impl BudgetPeriod {
    /// Parse `day|week|month|year|total|session` (also `daily`, `weekly`, `monthly`, `yearly`, `all`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "day" | "daily" => Self::Day,
            "week" | "weekly" => Self::Week,
            "month" | "monthly" => Self::Month,
            "year" | "yearly" => Self::Year,
            "total" | "all" => Self::Total,
            "session" => Self::Session,
            _ => return None,
        })
    }
    /// The canonical name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
            Self::Total => "total",
            Self::Session => "session",
        }
    }
}

/// A configured budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Its name, unique across layers.
    pub name: String,
    /// The period it resets on.
    pub period: BudgetPeriod,
    /// Record fields that must match for spend to count (`agent = "ATLAS"`, `tag:team = "x"`).
    pub scope: BTreeMap<String, String>,
    /// Dollar limit.
    pub limit_usd: Option<Decimal>,
    /// Token limit (all tokens: input, output and cache).
    pub limit_tokens: Option<u64>,
    /// Fractions of the limit at which to warn, ascending.
    pub warn_at: Vec<Decimal>,
    /// Which file defined it.
    pub source: String,
}

/// The default warning thresholds: info at 50%, warning at 80%, critical at 95%.
pub fn default_warn_at() -> Vec<Decimal> {
    vec![Decimal::new(5, 1), Decimal::new(8, 1), Decimal::new(95, 2)]
}

// A budget period's windows are the budget's concept, so they are defined here; they are methods of the calendar
// because that is what they read as (`cal.budget_window(b.period, at)`), and `period` stays free of budgets.
impl Calendar {
    /// The window of a budget period that holds `at` (`total` is unbounded; `session` has no calendar window
    /// and gives an unbounded one named `session`).
    pub fn budget_window(&self, p: BudgetPeriod, at: DateTime<Utc>) -> Window {
        let d = self.local_date(at);
        let (start, end) = match p {
            BudgetPeriod::Total => return Window::all(self.tz).named("total"),
            BudgetPeriod::Session => return Window::all(self.tz).named("session"),
            BudgetPeriod::Day => (d, d + Duration::days(1)),
            BudgetPeriod::Week => {
                let w = self.week_of(d);
                (w, w + Duration::days(7))
            }
            BudgetPeriod::Month => (first_of_month(d), next_month(d)),
            BudgetPeriod::Year => (ymd(d.year(), 1, 1), ymd(d.year() + 1, 1, 1)),
        };
        Window {
            period: p.as_str().into(),
            start: Some(self.midnight(start)),
            end: Some(self.midnight(end)),
            tz: self.tz,
            cutoff: None,
        }
    }

    /// The current window of a budget period (the one holding "now"; with `--today`, records after it do not
    /// count).
    pub fn current_budget_window(&self, p: BudgetPeriod) -> Window {
        Window { cutoff: self.cutoff(), ..self.budget_window(p, self.inside_today()) }
    }
}

/// How close a budget is to its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Below the first threshold.
    Ok,
    /// At or above the lowest threshold (50% by default).
    Info,
    /// At or above the warning threshold (80%).
    Warning,
    /// At or above the critical threshold (95%).
    Critical,
    /// Over the limit.
    Over,
}

impl Level {
    /// Parse `ok|info|warning|critical|over` (any letter case; `warn` for warning).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "ok" => Level::Ok,
            "info" => Level::Info,
            "warning" | "warn" => Level::Warning,
            "critical" => Level::Critical,
            "over" => Level::Over,
            _ => return None,
        })
    }
    /// The name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Critical => "critical",
            Level::Over => "over",
        }
    }
}

/// Spend in a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    /// Records.
    pub records: u64,
    /// Dollars of the priced records.
    pub usd: Decimal,
    /// All tokens.
    pub tokens: u64,
    /// Records that could not be priced.
    pub unpriced: u64,
    /// True when a sum went past what `u64` tokens or `Decimal` dollars hold: the sums are wrong, and
    /// [`Spent::check`] makes that an error instead of a silently saturated number.
    pub overflow: bool,
}

impl Spent {
    /// Add one record's spend.
    #[inline]
    pub fn add(&mut self, tokens: u64, cost: Option<Decimal>) {
        self.records += 1;
        match self.tokens.checked_add(tokens) {
            Some(t) => self.tokens = t,
            None => self.overflow = true,
        }
        match cost {
            Some(c) => match self.usd.checked_add(c) {
                Some(u) => self.usd = u,
                None => self.overflow = true,
            },
            None => self.unpriced += 1,
        }
    }
    /// Add another spend.
    pub fn merge(&mut self, o: &Spent) {
        self.records = self.records.saturating_add(o.records);
        self.unpriced = self.unpriced.saturating_add(o.unpriced);
        self.overflow |= o.overflow;
        match (self.tokens.checked_add(o.tokens), self.usd.checked_add(o.usd)) {
            (Some(t), Some(u)) => {
                self.tokens = t;
                self.usd = u;
            }
            _ => self.overflow = true,
        }
    }
    /// An error naming budget `name` when a sum overflowed.
    pub fn check(&self, name: &str) -> Result<()> {
        if self.overflow {
            return Err(Error::data(format!(
                "budget {name}: the spend is too large to sum exactly (tokens past {}, or dollars past {}); is a \
                 record's count or cost wrong?",
                u64::MAX,
                Decimal::MAX
            )));
        }
        Ok(())
    }
}

/// Check a budget's limits and thresholds, which every tool evaluating it relies on: at least one limit, each
/// more than zero (a zero limit is refused rather than given a meaning: "no spend at all" is better said with
/// a tiny limit, and a percentage of zero is undefined), and `warn_at` of 1 to 3 fractions in (0, 1], strictly
/// ascending. Errors name the budget and where it was defined.
pub fn validate(b: &Budget) -> Result<()> {
    rules(b).map_err(|what| Error::config(format!("budget {} ({}): {what}", b.name, b.source)))
}

/// The rules every budget keeps, wherever it was written (a config table or `--limit-*` flags): what is wrong,
/// if anything. The config loader adds its file, line and key; [`validate`] the budget's name and source.
pub fn rules(b: &Budget) -> std::result::Result<(), String> {
    // Names and scope values are shown in tables, annotations and messages: a control character would break
    // them (and no record field can hold one, so such a scope would match nothing).
    if b.name.chars().any(char::is_control) {
        return Err("the name must not contain control characters (it is shown in tables and messages)".into());
    }
    for (k, v) in &b.scope {
        if v.trim().is_empty() {
            return Err(format!(
                "scope `{k}` has an empty value, which no record has; leave `{k}` out of the scope to count every {k}"
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(format!("scope `{k}` must not contain control characters, got {v:?}"));
        }
    }
    if b.limit_usd.is_none() && b.limit_tokens.is_none() {
        return Err("needs `limit_usd` and/or `limit_tokens`".into());
    }
    if let Some(l) = b.limit_usd
        && l <= Decimal::ZERO
    {
        return Err(format!("`limit_usd` must be more than $0, got {}", money::canonical(l)));
    }
    if b.limit_tokens == Some(0) {
        return Err("`limit_tokens` must be more than 0".into());
    }
    check_warn_at(&b.warn_at).map_err(|m| format!("`warn_at` {m}"))
}

/// `warn_at` must be 1 to 3 fractions in (0, 1], strictly ascending; the reason when it is not.
pub fn check_warn_at(w: &[Decimal]) -> std::result::Result<(), String> {
    let text = || w.iter().map(|d| money::canonical(*d)).collect::<Vec<_>>().join(", ");
    if w.is_empty() || w.len() > 3 {
        return Err(format!("wants 1 to 3 thresholds (info, warning, critical), got {} ([{}])", w.len(), text()));
    }
    if let Some(x) = w.iter().find(|x| **x <= Decimal::ZERO || **x > Decimal::ONE) {
        return Err(format!(
            "thresholds are fractions of the limit above 0 and at most 1 (0.8 means 80%), got {} in [{}]",
            money::canonical(*x),
            text()
        ));
    }
    if w.windows(2).any(|p| p[0] >= p[1]) {
        return Err(format!("thresholds must be strictly ascending, got [{}]", text()));
    }
    Ok(())
}

/// A budget's scope as typed fields.
pub fn scope_of(b: &Budget) -> Vec<(Field, String)> {
    b.scope.iter().filter_map(|(k, v)| Field::parse(k).map(|f| (f, v.clone()))).collect()
}

/// True when two model names resolve to one price-table entry (an alias, a dated id, a provider prefix: what
/// tt-price resolves), so a budget scoped to `claude-sonnet-4-5` counts records logged as `sonnet-4.5`.
/// Resolutions are cached in `pricer`, once per distinct name. Literal equality is the caller's first test.
pub fn same_model(pricer: &mut Pricer<'_>, a: &str, b: &str) -> bool {
    match (pricer.entry(a), pricer.entry(b)) {
        (Some(x), Some(y)) => std::ptr::eq(x, y),
        _ => false,
    }
}

/// The level of `spent` against a limit, with `warn_at` thresholds (ascending fractions). One threshold is a
/// warning; two are warning and critical; with three or more the highest is critical, the next warning, and
/// the rest info.
pub fn level(spent: Decimal, limit: Decimal, warn_at: &[Decimal]) -> Level {
    if spent > limit {
        return Level::Over;
    }
    let n = warn_at.len();
    for (i, t) in warn_at.iter().enumerate().rev() {
        if t.checked_mul(limit).is_some_and(|x| spent >= x) {
            let from_top = n - 1 - i;
            return match (n, from_top) {
                (1, _) => Level::Warning,
                (_, 0) if n >= 2 => Level::Critical,
                (_, 1) => Level::Warning,
                _ => Level::Info,
            };
        }
    }
    Level::Ok
}

/// Where spend is heading by the end of the window, at the burn rate so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    /// Dollars projected at the window's end.
    pub usd: Decimal,
    /// Tokens projected at the window's end.
    pub tokens: u64,
    /// The projected fraction of the (most used) limit.
    pub fraction: Decimal,
    /// The level the projection would reach.
    pub level: Level,
    /// The local date the limit will be reached at this rate, when that is before the window ends (and the
    /// budget is not over already).
    pub limit_date: Option<NaiveDate>,
}

/// How many days back the burn rate of a `total` budget (all time, no window end to project to) is measured.
pub const BURN_DAYS: i64 = 30;

/// The recent burn of a `total` budget and the date its limit is reached at that rate. A total budget has no
/// window end, so nothing is projected; only this date is given. The burn is measured in whole local days (so
/// the enforce index, which keeps a total budget's spend per day, answers it exactly): the spend of the last
/// [`BURN_DAYS`] days, today included, over the time since the midnight that starts them (or since the midnight
/// of the day of its first record, when that is later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burn {
    /// Where the burn was measured from (up to "now").
    pub since: DateTime<Utc>,
    /// What was spent since then.
    pub spent: Spent,
    /// The local date the limit is reached at that rate (none when nothing was burned, the budget is already
    /// over, or it is more than 100 years away).
    pub limit_date: Option<NaiveDate>,
}

/// A budget evaluated over one window.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The budget's name.
    pub name: String,
    /// Its period.
    pub period: BudgetPeriod,
    /// Its scope.
    pub scope: BTreeMap<String, String>,
    /// The window evaluated.
    pub window: RowWindow,
    /// For session budgets: the session evaluated (the one that used most).
    pub session: Option<String>,
    /// What was spent.
    pub spent: Spent,
    /// Dollar limit.
    pub limit_usd: Option<Decimal>,
    /// Token limit.
    pub limit_tokens: Option<u64>,
    /// The fraction of the most used limit (cut, never rounded up, to 10 places; levels use exact values).
    pub fraction: Decimal,
    /// The level.
    pub level: Level,
    /// The forecast, for calendar windows still running.
    pub forecast: Option<Forecast>,
    /// For `total` budgets evaluated from records: the recent burn and the date the limit is reached.
    pub burn: Option<Burn>,
    /// What reservations hold of it (already inside `spent`, which is what counts against the limit).
    pub held: Spent,
}

/// Fractions are capped here (a trillion times the limit): past that, "how far over" no longer matters, and
/// the cap keeps percentages and projections from overflowing.
const FRACTION_CAP: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0); // 1e12

fn ratio(a: Decimal, b: Decimal) -> Decimal {
    if b <= Decimal::ZERO {
        // Zero limits are refused by `validate`; should one get here, any spend is over.
        return if a.is_zero() { Decimal::ZERO } else { FRACTION_CAP };
    }
    // Cut, never rounded up: 49.99996% must not read as 50% (info) when it is still ok.
    a.checked_div(b).map_or(FRACTION_CAP, |r| r.min(FRACTION_CAP).round_dp_with_strategy(10, RoundingStrategy::ToZero))
}

pub(crate) fn levels(b: &Budget, usd: Decimal, tokens: u64) -> (Decimal, Level) {
    let mut frac = Decimal::ZERO;
    let mut lvl = Level::Ok;
    if let Some(l) = b.limit_usd {
        frac = frac.max(ratio(usd, l));
        lvl = lvl.max(level(usd, l, &b.warn_at));
    }
    if let Some(l) = b.limit_tokens {
        let (t, l) = (Decimal::from(tokens), Decimal::from(l));
        frac = frac.max(ratio(t, l));
        lvl = lvl.max(level(t, l, &b.warn_at));
    }
    (frac, lvl)
}

impl Evaluation {
    /// Evaluate `b` with `spent` in `window`, at `now`, forecasting with `cal`'s zone.
    pub fn new(
        b: &Budget,
        window: RowWindow,
        session: Option<String>,
        spent: Spent,
        now: DateTime<Utc>,
        cal: &Calendar,
    ) -> Evaluation {
        let (fraction, level) = levels(b, spent.usd, spent.tokens);
        let forecast = forecast(b, &window, &spent, level, now, cal);
        Evaluation {
            name: b.name.clone(),
            period: b.period,
            scope: b.scope.clone(),
            window,
            session,
            spent,
            limit_usd: b.limit_usd,
            limit_tokens: b.limit_tokens,
            fraction,
            level,
            forecast,
            burn: None,
            held: Spent::default(),
        }
    }

    /// The same evaluation with `held` (what reservations hold) counted on top of the spend: levels, remaining
    /// amounts and estimates then see it; `records` and the forecast stay the records'.
    pub fn with_held(self, b: &Budget, held: Spent, cal: &Calendar) -> Evaluation {
        if held == Spent::default() {
            return self;
        }
        let mut spent = self.spent;
        spent.merge(&held);
        spent.records = self.spent.records;
        let (burn, forecast) = (self.burn, self.forecast);
        let mut e = Evaluation::new(b, self.window, self.session, spent, cal.now, cal);
        // A hold is spend about to happen once, not a rate: the forecast is the records' projection with the
        // holds on top, once (its limit date, from the records' rate, stays).
        e.burn = burn;
        e.forecast = forecast.map(|f| {
            let usd = f.usd.checked_add(held.usd).unwrap_or(Decimal::MAX);
            let tokens = f.tokens.saturating_add(held.tokens);
            let (fraction, level) = levels(b, usd, tokens);
            Forecast { usd, tokens, fraction, level, ..f }
        });
        e.held = held;
        e
    }

    /// The date the limit will be reached: from the forecast of a running window, or from the recent burn of a
    /// `total` budget.
    pub fn limit_date(&self) -> Option<NaiveDate> {
        match (&self.forecast, &self.burn) {
            (Some(f), _) => f.limit_date,
            (None, Some(b)) => b.limit_date,
            (None, None) => None,
        }
    }

    /// Dollars left (negative when over).
    pub fn remaining_usd(&self) -> Option<Decimal> {
        self.limit_usd.map(|l| l - self.spent.usd)
    }

    /// Tokens left (negative when over).
    pub fn remaining_tokens(&self) -> Option<i128> {
        self.limit_tokens.map(|l| i128::from(l) - i128::from(self.spent.tokens))
    }

    /// The used percentage, 2 places, rounded so it never contradicts the level: down (49.99996% is 49.99, not
    /// the 50 of `info`), except over the limit, where it is above 100 (100.0001% is 100.01).
    pub fn percent(&self) -> Decimal {
        percent_of(self.fraction, self.level == Level::Over)
    }

    /// The forecast's percentage of the limit, rounded as [`Evaluation::percent`] is (`None` without a forecast).
    pub fn projected_percent(&self) -> Option<Decimal> {
        self.forecast.as_ref().map(|f| percent_of(f.fraction, f.level == Level::Over))
    }

    /// Would spending `usd` and `tokens` more push this budget over a limit?
    pub fn would_exceed(&self, usd: Decimal, tokens: u64) -> bool {
        self.limit_usd.is_some_and(|l| self.spent.usd.checked_add(usd).is_none_or(|total| total > l))
            || self.limit_tokens.is_some_and(|l| u128::from(self.spent.tokens) + u128::from(tokens) > u128::from(l))
    }

    /// `$12.34 of $60.00` / `9,000 of 10,000 tokens`, for messages (amounts that differ never print the same).
    pub fn spent_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(l) = self.limit_usd {
            let [spent, limit] = usd_distinct([self.spent.usd, l]);
            parts.push(format!("{spent} of {limit}"));
        }
        if let Some(l) = self.limit_tokens {
            parts.push(format!("{} of {} tokens", money::thousands(self.spent.tokens), money::thousands(l)));
        }
        parts.join(", ")
    }

    /// `$60.00 of $50.00`: the forecast against the limit, for messages (`-` without a forecast), told apart
    /// as the report's cells are ([`UsdCells`]).
    pub fn projected_text(&self) -> String {
        let Some(f) = &self.forecast else { return "-".into() };
        let c = UsdCells::of(self);
        format!(
            "{} of {}",
            amount(self.limit_usd.map(|_| c.projected.clone()), self.limit_tokens.map(|_| i128::from(f.tokens))),
            amount(self.limit_usd.map(|_| c.limit.clone()), self.limit_tokens.map(i128::from))
        )
    }

    /// What is left, for messages: `$12.34 left`, `1,000 tokens left` — or, for a limit already passed,
    /// `already over by $5.00` (never a clamped "$0 left" that hides how far over it is).
    pub fn left_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = self.remaining_usd() {
            parts.push(if r < Decimal::ZERO {
                format!("already over by {}", usd_distinct([-r, Decimal::ZERO])[0])
            } else {
                format!("{} left", usd_distinct([r, Decimal::ZERO])[0])
            });
        }
        if let Some(r) = self.remaining_tokens() {
            parts.push(if r < 0 {
                format!("already over by {}", tokens_text(-r))
            } else {
                format!("{} left", tokens_text(r))
            });
        }
        parts.join(", ")
    }

    /// The scope as `agent=ATLAS,project=api` (empty for none).
    pub fn scope_text(&self) -> String {
        self.scope.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
    }

    /// The evaluation as one JSON line (`"kind":"budget"`).
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(400);
        s.push_str("{\"kind\":\"budget\",\"name\":");
        push_json_string(&mut s, &self.name);
        s.push_str(",\"period\":");
        push_json_string(&mut s, self.period.as_str());
        s.push_str(",\"scope\":{");
        for (i, (k, v)) in self.scope.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            push_json_string(&mut s, k);
            s.push(':');
            push_json_string(&mut s, v);
        }
        s.push_str("},\"window\":{\"period\":");
        push_json_string(&mut s, &self.window.period);
        for (k, v) in [("start", &self.window.start), ("end", &self.window.end)] {
            let _ = write!(s, ",\"{k}\":");
            match v {
                Some(t) => push_json_string(&mut s, &t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                None => s.push_str("null"),
            }
        }
        s.push_str("},\"session\":");
        opt_str(&mut s, self.session.as_deref());
        let _ = write!(
            s,
            ",\"records\":{},\"spent_usd\":{},\"spent_tokens\":{},\"unpriced_records\":{},\"limit_usd\":{},\
             \"limit_tokens\":{},\"remaining_usd\":{},\"remaining_tokens\":{},\"percent\":{},\"level\":\"{}\",\
             {}\"forecast\":",
            self.spent.records,
            money::canonical(self.spent.usd),
            self.spent.tokens,
            self.spent.unpriced,
            opt(self.limit_usd.map(money::canonical)),
            opt(self.limit_tokens),
            opt(self.remaining_usd().map(money::canonical)),
            opt(self.remaining_tokens()),
            self.percent(),
            self.level.as_str(),
            if self.held == Spent::default() {
                String::new()
            } else {
                format!("\"held_usd\":{},\"held_tokens\":{},", money::canonical(self.held.usd), self.held.tokens)
            },
        );
        match (&self.forecast, &self.burn) {
            (None, None) => s.push_str("null"),
            (None, Some(b)) => {
                // No window end: nothing to project, only the date the limit is reached at the recent burn.
                s.push_str(
                    "{\"projected_usd\":null,\"projected_tokens\":null,\"projected_percent\":null,\
                     \"projected_level\":null,\"limit_date\":",
                );
                opt_str(&mut s, b.limit_date.map(|d| d.format("%Y-%m-%d").to_string()).as_deref());
                s.push('}');
            }
            (Some(f), _) => {
                let _ = write!(
                    s,
                    "{{\"projected_usd\":{},\"projected_tokens\":{},\"projected_percent\":{},\"projected_level\":\"{}\",\
                     \"limit_date\":",
                    money::canonical(f.usd),
                    f.tokens,
                    percent_of(f.fraction, f.level == Level::Over),
                    f.level.as_str()
                );
                opt_str(&mut s, f.limit_date.map(|d| d.format("%Y-%m-%d").to_string()).as_deref());
                s.push('}');
            }
        }
        s.push('}');
        s
    }
}

/// A fraction as a percentage, 2 places (fractions are capped, so this cannot overflow): cut below the limit,
/// so a level is never contradicted by a rounded-up number; over the limit rounded up and above 100.
fn percent_of(f: Decimal, over: bool) -> Decimal {
    let p = f.checked_mul(Decimal::ONE_HUNDRED).unwrap_or(Decimal::MAX);
    if over {
        p.round_dp_with_strategy(2, RoundingStrategy::AwayFromZero).max(Decimal::new(10001, 2)).normalize()
    } else {
        p.round_dp_with_strategy(2, RoundingStrategy::ToZero).normalize()
    }
}

/// The dollar amounts of one budget's report — spent, limit, left, projected — as text: `$0` for nothing, else
/// with enough places that amounts that differ never print the same (`$1.9375` and `$1.9374`, not `$1.94` twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdCells {
    /// Spent.
    pub spent: String,
    /// The limit.
    pub limit: String,
    /// What is left.
    pub left: String,
    /// The forecast.
    pub projected: String,
}

impl UsdCells {
    /// The cells of `e`.
    pub fn of(e: &Evaluation) -> UsdCells {
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

/// An amount in dollars, tokens or both (`$12.00 · 3,000 tok`), `-` for neither.
pub fn amount(usd: Option<String>, tokens: Option<i128>) -> String {
    let mut parts: Vec<String> = usd.into_iter().collect();
    parts.extend(tokens.map(|t| format!("{} tok", money::thousands_i(t))));
    if parts.is_empty() { "-".into() } else { parts.join(" · ") }
}

/// `1 token`, `1,000 tokens`.
pub fn tokens_text(n: i128) -> String {
    format!("{} token{}", money::thousands_i(n), if n == 1 || n == -1 { "" } else { "s" })
}

/// Dollar amounts for one message or table row: as [`money::usd`] writes them (`$1.94`, `$0.3750`), with more
/// places when two amounts that differ would print the same (`$1.9375 of $1.9374`, never `$1.94 of $1.94`) or
/// an amount that is not zero would print as zero.
pub fn usd_distinct<const N: usize>(values: [Decimal; N]) -> [String; N] {
    let clash = |texts: &[String]| {
        (0..N).any(|i| {
            (!values[i].is_zero() && texts[i].bytes().all(|c| !c.is_ascii_digit() || c == b'0'))
                || (0..i).any(|j| values[i] != values[j] && texts[i] == texts[j])
        })
    };
    let texts: [String; N] = values.map(money::usd);
    if !clash(&texts) {
        return texts;
    }
    for places in 3..=28 {
        let t: [String; N] = values.map(|d| {
            let s = money::fixed(d, places);
            match s.strip_prefix('-') {
                Some(rest) => format!("-${rest}"),
                None => format!("${s}"),
            }
        });
        if !clash(&t) {
            return t;
        }
    }
    texts
}

fn opt(v: Option<impl std::fmt::Display>) -> String {
    v.map_or_else(|| "null".to_string(), |v| v.to_string())
}

fn opt_str(s: &mut String, v: Option<&str>) {
    match v {
        Some(v) => push_json_string(s, v),
        None => s.push_str("null"),
    }
}

/// Project spend to the end of a running calendar window: spent × window length ÷ time elapsed.
fn forecast(
    b: &Budget,
    w: &RowWindow,
    spent: &Spent,
    level_now: Level,
    now: DateTime<Utc>,
    cal: &Calendar,
) -> Option<Forecast> {
    let (start, end) = (w.start?.with_timezone(&Utc), w.end?.with_timezone(&Utc));
    let total = (end - start).num_seconds();
    let elapsed = (now.min(end) - start).num_seconds();
    if total <= 0 || elapsed <= 0 {
        return None;
    }
    let (t, e) = (Decimal::from(total), Decimal::from(elapsed));
    // A projection past what a Decimal holds is saturated: it is far over any limit either way.
    let usd = spent.usd.checked_mul(t).and_then(|x| x.checked_div(e)).unwrap_or(Decimal::MAX).round_dp(4);
    let tokens = u64::try_from(u128::from(spent.tokens) * total as u128 / elapsed as u128).unwrap_or(u64::MAX);
    let (fraction, level) = levels(b, usd, tokens);
    // The limit date: when the burn rate so far crosses the most constraining limit, if inside the window.
    let mut limit_date = None;
    if level_now != Level::Over && now < end {
        let mut at: Option<DateTime<Utc>> = None;
        let mut consider = |spent: Decimal, limit: Decimal| {
            if spent > Decimal::ZERO {
                // Seconds after `start` at which spend reaches the limit: limit ÷ (spent ÷ elapsed).
                let Some(secs) = limit.checked_mul(e).and_then(|x| x.checked_div(spent)).map(|x| x.ceil()) else {
                    return;
                };
                if let Ok(secs) = i64::try_from(secs)
                    && secs < total
                {
                    let when = start + Duration::seconds(secs);
                    at = Some(at.map_or(when, |a| a.min(when)));
                }
            }
        };
        if let Some(l) = b.limit_usd {
            consider(spent.usd, l);
        }
        if let Some(l) = b.limit_tokens {
            consider(Decimal::from(spent.tokens), Decimal::from(l));
        }
        limit_date = at.map(|t| cal.local_date(t));
    }
    Some(Forecast { usd, tokens, fraction, level, limit_date })
}

/// The instants bounding a total budget's burn days — the last [`BURN_DAYS`] local days, today included: the
/// midnight that starts the first of them, and the midnight that ends today.
pub fn burn_days(cal: &Calendar) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = cal.today();
    (cal.midnight(today - Duration::days(BURN_DAYS - 1)), cal.midnight(today + Duration::days(1)))
}

/// The burn of a `total` budget: what was spent from `from` (or the midnight of the first record's day, when
/// later) until now, and when the limit is reached at that rate.
pub(crate) fn burn(
    e: &Evaluation,
    recent: Spent,
    first: Option<DateTime<Utc>>,
    from: DateTime<Utc>,
    cal: &Calendar,
) -> Burn {
    let since = match first {
        Some(f) => from.max(cal.midnight(cal.local_date(f))),
        None => from,
    };
    let elapsed = (cal.now - since).num_seconds();
    let mut at: Option<DateTime<Utc>> = None;
    if e.level != Level::Over && elapsed > 0 {
        let mut consider = |left: Decimal, burned: Decimal| {
            if burned <= Decimal::ZERO || left < Decimal::ZERO {
                return;
            }
            // Seconds from now until the limit is passed: left ÷ (burned ÷ elapsed).
            let Some(secs) = left.checked_mul(Decimal::from(elapsed)).and_then(|x| x.checked_div(burned)) else {
                return;
            };
            if let Ok(secs) = i64::try_from(secs.ceil())
                && secs <= 36_500 * 86_400
            {
                let when = cal.now + Duration::seconds(secs);
                at = Some(at.map_or(when, |a| a.min(when)));
            }
        };
        if let Some(r) = e.remaining_usd() {
            consider(r, recent.usd);
        }
        if let Some(r) = e.remaining_tokens() {
            consider(Decimal::from(r), Decimal::from(recent.tokens));
        }
    }
    Burn { since, spent: recent, limit_date: at.map(|t| cal.local_date(t)) }
}

/// `day, agent=ATLAS`: a budget's period and scope, for messages.
pub fn budget_label(b: &Budget) -> String {
    let mut parts = vec![b.period.as_str().to_string()];
    parts.extend(b.scope.iter().map(|(k, v)| format!("{k}={v}")));
    parts.join(", ")
}

/// A fraction of a limit as users type it: `0.8` or `80%` (`--fail-at`, `--warn-at`).
pub fn parse_fraction(s: &str) -> Option<Decimal> {
    let t = s.trim();
    match t.strip_suffix('%') {
        Some(n) => money::parse_decimal(n).and_then(|d| d.checked_div(Decimal::ONE_HUNDRED)),
        None => money::parse_decimal(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        money::parse_decimal(s).unwrap()
    }

    #[test]
    fn level_boundaries_are_exact() {
        let w = default_warn_at();
        let l = d("60");
        for (spent, want) in [
            ("29.99", Level::Ok),
            ("30", Level::Info),
            ("47.99", Level::Info),
            ("48", Level::Warning),
            ("56.99", Level::Warning),
            ("57", Level::Critical),
            ("60", Level::Critical),
            ("60.0001", Level::Over),
        ] {
            assert_eq!(level(d(spent), l, &w), want, "{spent}");
        }
        assert_eq!(level(d("9"), d("10"), &[d("0.9")]), Level::Warning);
    }

    fn cal(tz: &str, today: &str) -> Calendar {
        Calendar::from_flags(crate::period::parse_tz(tz).unwrap(), chrono::Weekday::Mon, Some(today)).unwrap().value
    }

    fn at(c: &Calendar, s: &str) -> DateTime<Utc> {
        c.parse_instant(s).unwrap().value
    }

    #[test]
    fn budget_windows_follow_the_pinned_calendar() {
        // A date-time at midnight pins the first instant of its own day, so its month is the new one.
        let c = cal("UTC", "2026-12-01T00:00");
        assert_eq!(c.current_budget_window(BudgetPeriod::Month).start_text().unwrap(), "2026-12-01T00:00:00Z");
        // With --today, the current window stops counting at "now"; the window holding a later instant does not.
        let c = cal("UTC", "2026-11-15");
        let (after, last) = (at(&c, "2026-11-16T00:00:00Z"), at(&c, "2026-11-15T23:59:59Z"));
        let w = c.current_budget_window(BudgetPeriod::Month);
        assert!(w.contains(last) && !w.contains(after), "{w:?}");
        assert_eq!(w.end_text().unwrap(), "2026-12-01T00:00:00Z");
        assert!(c.budget_window(BudgetPeriod::Month, after).contains(after));
        let w = c.budget_window(BudgetPeriod::Week, after);
        assert_eq!((w.period.as_str(), w.start_text().unwrap().as_str()), ("week", "2026-11-16T00:00:00Z"));
        assert_eq!(c.budget_window(BudgetPeriod::Session, after).period, "session");
    }
}

//! Budget evaluation: spend against limits, alert levels, forecasts and the pre-task estimate check.
//!
//! A configured [`Budget`] (period, scope, `limit_usd` and/or `limit_tokens`, `warn_at`) is evaluated over
//! its window into an [`Evaluation`]: spent, remaining, the fraction used, the [`Level`] and a [`Forecast`].
//! Spend comes from records ([`Tally`], one streaming pass for all budgets) or from tt-sum's summary rows
//! ([`spend_from_rows_priced`]). [`Ledger`] keeps per-window spend for every budget so `tt-log --enforce` can
//! check one new record without re-reading the log. [`TaskContext`] says which budgets a pre-task estimate
//! is checked against.
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

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::aggregate::{FxMap, RowWindow, Summary};
use crate::config::{Budget, BudgetPeriod};
use crate::error::{Error, Result};
use crate::money;
use crate::period::{Calendar, Window};
use crate::price::Pricer;
use crate::record::push_json_string;
use crate::scan::{Field, View};

pub mod answer;
pub mod gate;

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
    /// For `total` budgets: spend in the burn days (`[burn_from, burn_to)`, see [`Burn`]), and the first
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

/// `day, agent=ATLAS`: a budget's period and scope, for messages.
pub fn budget_label(b: &Budget) -> String {
    let mut parts = vec![b.period.as_str().to_string()];
    parts.extend(b.scope.iter().map(|(k, v)| format!("{k}={v}")));
    parts.join(", ")
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
pub fn spend_from_rows_priced<'b>(
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

/// Per-budget, per-window spend of a whole log, kept up to date incrementally (the index behind
/// `tt-log --enforce` and `tt-budget`). Windows are keyed by their local start (`2026-11-23`, `2026-11`,
/// `2026`), the session id for session budgets, and `""` for total budgets — which also keep their spend per
/// local day under `@2026-11-23` keys, for the burn rate ([`Burn`]) and the first record's day.
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

/// Parse `--fail-at`: a level name (any case), a fraction (`0.9`) or a percentage (`90%`). `ok` is refused:
/// every budget is at `ok` or above, so it would always fail.
pub fn parse_fail_at(s: &str) -> Result<FailAt> {
    let wants = "--fail-at wants a level (info, warning, critical, over), a fraction (0.9) or a percentage (90%)";
    match Level::parse(s) {
        Some(Level::Ok) => {
            return Err(Error::usage(format!(
                "{wants}, got {s:?}: every budget is at ok or above, so it would always fail"
            )));
        }
        Some(l) => return Ok(FailAt::Level(l)),
        None => {}
    }
    match parse_fraction(s) {
        Some(d) if d > Decimal::ZERO => Ok(FailAt::Fraction(d)),
        _ => Err(Error::usage(format!("{wants}, got {s:?}"))),
    }
}

/// A fraction of a limit as users type it: `0.8` or `80%` (`--fail-at`, `--warn-at`).
pub fn parse_fraction(s: &str) -> Option<Decimal> {
    let t = s.trim();
    match t.strip_suffix('%') {
        Some(n) => money::parse_decimal(n).and_then(|d| d.checked_div(Decimal::ONE_HUNDRED)),
        None => money::parse_decimal(t),
    }
}

/// What a pre-task estimate is for: the record fields the task's records will have (`--agent`, `--model`, or
/// `TT_AGENT`, `TT_MODEL`, … as tt-log takes them). A budget applies to the task unless its scope names a
/// field the context gives with another value (a model through the price table: `sonnet-4.5` is
/// `claude-sonnet-4-5`); a scope field the context does not give is assumed to match, so the budget is
/// checked (the conservative answer). A session budget is checked against the context's session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskContext {
    /// The fields given, by canonical name (`agent`, `tag:team`).
    pub fields: BTreeMap<String, String>,
}

impl TaskContext {
    /// The context's value of a field (`session`, `tag:team`).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// The scope field the context contradicts (`agent=NOVA`), if any: the budget then does not apply.
    pub fn excludes(&self, scope: &BTreeMap<String, String>, pricer: &mut Pricer<'_>) -> Option<String> {
        for (k, want) in scope {
            let key = Field::parse(k).map_or_else(|| k.clone(), |f| f.name().into_owned());
            if let Some(have) = self.fields.get(&key)
                && have != want
                && !(key == "model" && same_model(pricer, have, want))
            {
                return Some(format!("{key}={have}"));
            }
        }
        None
    }

    /// `agent=NOVA, model=opus-4.5`, for messages.
    pub fn text(&self) -> String {
        self.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    }
}

/// A `--fail-at` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailAt {
    /// At this level or above.
    Level(Level),
    /// At this fraction of a limit or above.
    Fraction(Decimal),
}

impl FailAt {
    /// True when `e` trips the threshold.
    pub fn tripped(&self, e: &Evaluation) -> bool {
        match self {
            FailAt::Level(l) => e.level >= *l,
            FailAt::Fraction(f) => {
                let at = |spent: Decimal, limit: Decimal| f.checked_mul(limit).is_some_and(|x| spent >= x);
                e.limit_usd.is_some_and(|l| at(e.spent.usd, l))
                    || e.limit_tokens.is_some_and(|l| at(Decimal::from(e.spent.tokens), Decimal::from(l)))
            }
        }
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
        let w = crate::config::default_warn_at();
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
}

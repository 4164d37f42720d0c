//! Charts of spend over time: the data model every chart renderer draws from.
//!
//! A [`Chart`] is a run of calendar buckets (hours, days, weeks or months, in the report's zone, with no gaps:
//! a day nothing was spent is a bucket of 0), each holding one exact amount per series — one series, or one
//! per value of a second `--by` key when the bars are stacked — and, when a budget answers the chart, the
//! budget's limit pro-rated to the bucket. It is built from tt-sum's summary rows ([`Chart::from_rows`]) or
//! from the records a budget counts ([`for_budget`]), and drawn by [`terminal`] (bars on a terminal),
//! [`mermaid`] (an `xychart-beta` for markdown and job summaries); [`gauge`] draws budget evaluations as
//! gauges.
//!
//! Amounts are exact decimals: dollars as they were summed, tokens as whole numbers. Renderers scale them to
//! cells with decimal arithmetic, never through a float.
//!
//! The budget line: a budget's limit is a rate (so much a day, week, month or year), so a bucket's share of it
//! is the limit times the bucket's length over its period's length, counted in local days (an hour is 1/24 of
//! a day): a monthly $50 budget in a 30-day month is $1.6667 a day, $11.67 a week of 7 days, $50 a month; a
//! daily $5 budget is $155 for a 31-day month. A bar past its share spent faster than the budget allows. The
//! bucket holding "now" also gets the share of the part of it that has gone by, when that is less (the pace so
//! far), and the chart says how the budget's current window stands: spent so far against the limit pro-rated
//! to now.

pub mod gauge;
pub mod mermaid;
pub mod terminal;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::aggregate::{Key, Summary};
use crate::budget::{Budget, BudgetPeriod};
use crate::error::{Error, Result};
use crate::input::Source;
use crate::money;
use crate::period::{Calendar, Unit, Window};
use crate::price::{PriceTable, Pricer};

/// The most buckets a chart fills: a year of days, a month of hours, with room. More is a window too wide for
/// its unit, and the answer is an error that says how to narrow it, not ten thousand lines.
pub const MAX_BUCKETS: usize = 1500;

/// The most series a stacked chart shows one by one; the rest are summed into [`OTHER`]. Past five, glyphs
/// stop being told apart at a glance.
pub const MAX_SERIES: usize = 5;

/// The series that holds the values beyond [`MAX_SERIES`] − 1.
pub const OTHER: &str = "(other)";

/// The series of the records that lack the stacking field (`--by day,branch` for records with no branch).
pub const NONE: &str = "(none)";

/// What a chart measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Dollars (priced records; unpriced ones are not in them).
    Usd,
    /// All tokens.
    Tokens,
}

impl Measure {
    /// Parse a `--chart` value: `usd` (or `cost`) or `tokens`.
    pub fn parse(s: &str) -> Result<Measure> {
        match s {
            "usd" | "cost" => Ok(Measure::Usd),
            "tokens" => Ok(Measure::Tokens),
            _ => Err(Error::usage(format!("--chart draws usd or tokens, not {s:?}"))),
        }
    }

    /// An amount as tt prints it: `$12.34`, `$0.3750`, `1,234,567`, and `$0` for nothing (as budget reports
    /// say it: a day without spend reads at a glance).
    pub fn text(self, d: Decimal) -> String {
        match self {
            Measure::Usd => money::usd_or_zero(d),
            Measure::Tokens => money::thousands_i(d.trunc().to_i128().unwrap_or(0)),
        }
    }

    /// What the amounts are, for titles and axes.
    pub fn noun(self) -> &'static str {
        match self {
            Measure::Usd => "spend",
            Measure::Tokens => "tokens",
        }
    }

    /// A summary row's amount.
    fn of(self, r: &Summary) -> Decimal {
        match self {
            Measure::Usd => r.cost_usd,
            Measure::Tokens => Decimal::from(r.total_tokens),
        }
    }

    /// A budget's limit in this measure, if it has one.
    fn limit(self, b: &Budget) -> Option<Decimal> {
        match self {
            Measure::Usd => b.limit_usd,
            Measure::Tokens => b.limit_tokens.map(Decimal::from),
        }
    }
}

/// One calendar bucket and its amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The bucket's key, as tt-sum writes it (`2026-11-23`, `2026-11-23T14:00`, `2026-11`).
    pub key: String,
    /// Its first instant.
    pub start: DateTime<Utc>,
    /// The instant after it.
    pub end: DateTime<Utc>,
    /// One amount per series (one, unstacked).
    pub values: Vec<Decimal>,
    /// The budget's limit pro-rated to this bucket.
    pub limit: Option<Decimal>,
    /// For the bucket holding "now": the limit pro-rated to the part of it gone by, when less than `limit`.
    pub so_far: Option<Decimal>,
}

impl Bucket {
    /// The sum of its series.
    pub fn total(&self) -> Decimal {
        self.values.iter().copied().sum()
    }
}

/// The budget a chart is drawn against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLine {
    /// The budget's name (text from a config: renderers make it inert).
    pub name: String,
    /// Its period.
    pub period: BudgetPeriod,
    /// Its limit, per period.
    pub limit: Decimal,
    /// What the chart shows of its current window: spent so far, and the limit pro-rated to now (`None` when
    /// the chart does not cover the window's start, so its sum would not be the window's spend).
    pub window: Option<(Decimal, Decimal)>,
}

/// A chart: buckets in time order, series, and the budget drawn in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// What it shows (`spend per day, month 2026-11-01 → 2026-12-01 (UTC)`).
    pub title: String,
    /// Dollars or tokens.
    pub measure: Measure,
    /// The bucket unit.
    pub unit: Unit,
    /// The series names, largest first (empty: one unnamed series).
    pub series: Vec<String>,
    /// The buckets, in time order, without gaps.
    pub buckets: Vec<Bucket>,
    /// The budget, when one answers the chart.
    pub budget: Option<BudgetLine>,
}

impl Chart {
    /// The largest amount drawn: a bucket's total or its budget share (0 for an empty chart).
    pub fn max(&self) -> Decimal {
        self.buckets.iter().flat_map(|b| [b.total(), b.limit.unwrap_or_default()]).max().unwrap_or_default()
    }

    /// A chart of tt-sum's rows grouped by `keys`: one calendar key (the buckets) and at most one other (the
    /// stacks). Total rows are left out; buckets run without gaps from the window's start (else the first
    /// row's) to its end, "now" or the last row's, whichever is first (but never before the last row's).
    pub fn from_rows(
        rows: &[Summary],
        keys: &[Key],
        measure: Measure,
        cal: &Calendar,
        window: &Window,
        title: String,
    ) -> Result<Chart> {
        let (unit, time_name, stack) = chart_keys(keys)?;
        let stack_name = stack.as_ref().map(Key::name);
        // Series: the stacking key's values, largest first, the smallest folded into OTHER past MAX_SERIES.
        let series = match &stack_name {
            None => Vec::new(),
            Some(k) => {
                // Keyed, not searched: a stacking key such as the session can have as many values as rows.
                let mut by_name: std::collections::HashMap<&str, Decimal> = std::collections::HashMap::new();
                for r in rows.iter().filter(|r| !r.is_total()) {
                    *by_name.entry(r.value(k).flatten().unwrap_or(NONE)).or_default() += measure.of(r);
                }
                let mut sums: Vec<(String, Decimal)> = by_name.into_iter().map(|(n, s)| (n.to_string(), s)).collect();
                sums.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                let mut names: Vec<String> = sums.into_iter().map(|(n, _)| n).collect();
                if names.len() > MAX_SERIES {
                    names.truncate(MAX_SERIES - 1);
                    names.push(OTHER.to_string());
                }
                names
            }
        };
        let width = series.len().max(1);
        let mut at: Vec<(DateTime<Utc>, usize, Decimal)> = Vec::new();
        for r in rows.iter().filter(|r| !r.is_total()) {
            let Some(Some(key)) = r.value(&time_name) else { continue };
            let t = instant_of(cal, unit, key)
                .ok_or_else(|| Error::data(format!("summary row: {time_name} {key:?} is not a {time_name}")))?;
            let s = match &stack_name {
                None => 0,
                Some(k) => {
                    let name = r.value(k).flatten().unwrap_or(NONE);
                    series.iter().position(|n| n == name).unwrap_or(series.len().saturating_sub(1))
                }
            };
            at.push((t, s, measure.of(r)));
        }
        let mut buckets = fill(cal, unit, window, at.iter().map(|(t, _, _)| *t), width)?;
        for (t, s, v) in at {
            if let Some(b) = buckets.iter_mut().find(|b| b.start <= t && t < b.end) {
                b.values[s] += v;
            }
        }
        Ok(Chart { title, measure, unit, series, buckets, budget: None })
    }

    /// Draw `b` in: every bucket gets its share of the limit (see the module's words), the bucket holding "now"
    /// its share so far, and the chart the budget's current window as it stands.
    pub fn with_budget(mut self, b: &Budget, cal: &Calendar) -> Chart {
        let Some(limit) = self.measure.limit(b) else { return self };
        for k in &mut self.buckets {
            let (num, den) = share(cal, self.unit, k.start, k.end, b.period);
            let share = limit * num / den;
            k.limit = Some(share.round_dp(8));
            if k.start <= cal.now && cal.now < k.end {
                let gone = fraction(k.start, cal.now, k.end);
                let so_far = (share * gone).round_dp(8);
                k.so_far = (so_far < share).then_some(so_far);
            }
        }
        let w = cal.current_budget_window(b.period);
        let window = match (w.start, w.end, self.buckets.first()) {
            (Some(start), Some(end), Some(first)) if first.start <= start => {
                let spent: Decimal =
                    self.buckets.iter().filter(|k| k.start >= start && k.end <= end).map(Bucket::total).sum();
                let pace = (limit * fraction(start, cal.now.clamp(start, end), end)).round_dp(8);
                Some((spent, pace))
            }
            _ => None,
        };
        self.budget = Some(BudgetLine { name: b.name.clone(), period: b.period, limit, window });
        self
    }
}

/// The smallest "nice" axis top (1, 2 or 5 times a power of ten) at or above `max`, with its tick step. `max`
/// must be above zero.
pub fn nice_top(max: Decimal) -> (Decimal, Decimal) {
    // The power of ten at or below max: Decimal spans 1e-28 … 7.9e28, so both loops end within 57 steps.
    let mut p = Decimal::ONE;
    while p > max && p.scale() < 28 {
        p /= Decimal::TEN;
    }
    while let Some(next) = p.checked_mul(Decimal::TEN) {
        if next > max {
            break;
        }
        p = next;
    }
    for (m, ticks) in [(1, 5), (2, 4), (5, 5), (10, 5)] {
        if let Some(top) = p.checked_mul(Decimal::from(m))
            && top >= max
        {
            return (top, top / Decimal::from(ticks));
        }
    }
    (max, max)
}

/// The budget a chart of everything is drawn against: the unscoped calendar budgets (day, week, month, year)
/// with a limit in the chart's measure, and of those the tightest — the smallest share of the last bucket —
/// the first of equals. A scoped budget counts only some records, so it never answers a chart of all of them.
pub fn pick_budget<'b>(budgets: &'b [Budget], chart: &Chart, cal: &Calendar) -> Option<&'b Budget> {
    let last = chart.buckets.last()?;
    budgets
        .iter()
        .filter(|b| b.scope.is_empty() && calendar_period(b.period))
        .filter_map(|b| {
            let (num, den) = share(cal, chart.unit, last.start, last.end, b.period);
            chart.measure.limit(b).map(|l| (b, l * num / den))
        })
        .min_by(|a, b| a.1.cmp(&b.1))
        .map(|(b, _)| b)
}

/// tt-sum's chart of its summary rows (every group, before `--top`): titled "dollars per day, WINDOW" (the
/// measure, the calendar key, `window_title`), drawn against the budget [`pick_budget`] finds, if any.
pub fn for_summary(
    rows: &[Summary],
    keys: &[Key],
    measure: Measure,
    cal: &Calendar,
    window: &Window,
    window_title: &str,
    budgets: &[Budget],
) -> Result<Chart> {
    let (_, unit, _) = chart_keys(keys)?;
    let title = format!("{} per {unit}, {window_title}", measure.noun());
    let chart = Chart::from_rows(rows, keys, measure, cal, window, title)?;
    Ok(match pick_budget(budgets, &chart, cal).cloned() {
        Some(b) => chart.with_budget(&b, cal),
        None => chart,
    })
}

/// The chart of a budget's current window for a job summary: what the records of its scope spent per day
/// (per hour for a daily budget, per month for a yearly one), against the budget's share. `None` for budgets
/// without a calendar window (total, session) or without a limit in `measure`.
pub fn for_budget(
    sources: &[Source],
    b: &Budget,
    measure: Measure,
    cal: &Calendar,
    prices: &PriceTable,
) -> Result<Option<Chart>> {
    if !calendar_period(b.period) || measure.limit(b).is_none() {
        return Ok(None);
    }
    let unit = match b.period {
        BudgetPeriod::Day => Unit::Hour,
        BudgetPeriod::Year => Unit::Month,
        _ => Unit::Day,
    };
    let window = cal.current_budget_window(b.period);
    let scope = crate::budget::scope_of(b);
    // Grouped by the scope's fields too, so the groups outside the scope can be left out: the same rule as a
    // budget's tally (`scan::field_matches`, every spelling of a model).
    let mut keys = vec![Key::Time(unit)];
    keys.extend(scope.iter().map(|(f, _)| Key::Field(f.clone())));
    let agg = crate::rollup::sum(sources, &keys, *cal, &window, prices, true)?.agg;
    let (groups, _) = agg.finish();
    let rw = crate::aggregate::RowWindow::of(&window);
    let names: Vec<String> = keys.iter().map(Key::name).collect();
    let mut pricer = Pricer::new(prices);
    let rows: Vec<Summary> = groups
        .iter()
        .filter(|g| {
            scope.iter().zip(g.values.iter().skip(1)).all(|((f, want), v)| {
                crate::scan::field_matches(f, v.as_deref(), want, &mut |a, b| {
                    crate::budget::same_model(&mut pricer, a, b)
                })
            })
        })
        .map(|g| {
            let group = names.iter().cloned().zip(g.values.iter().cloned()).take(1).collect();
            Summary::new(rw.clone(), group, &g.totals)
        })
        .collect();
    let title = format!(
        "{}: {} per {} of the {} from {}",
        b.name,
        measure.noun(),
        unit.as_str(),
        b.period.as_str(),
        window.start.map(|s| cal.local_date(s).to_string()).unwrap_or_default()
    );
    let chart = Chart::from_rows(&rows, &keys[..1], measure, cal, &window, title)?;
    Ok(Some(chart.with_budget(b, cal)))
}

/// The chart a budget report's job summary shows: the budget used most (the highest fraction of a limit, the
/// first of equals) among the evaluated calendar budgets, over its current window, in dollars when it has a
/// dollar limit, else tokens. `None` when there is no such budget, or when its records cannot be read again:
/// stdin was read already, or the input is summary rows, not records (a chart is an extra: it never turns a
/// report into an error).
pub fn for_evaluations(
    budgets: &[Budget],
    evals: &[crate::budget::Evaluation],
    sources: &[Source],
    cal: &Calendar,
    prices: &PriceTable,
) -> Option<Chart> {
    if sources.iter().any(|s| matches!(s, Source::Stdin)) {
        return None;
    }
    let mut best: Option<(&crate::budget::Evaluation, &Budget)> = None;
    for e in evals.iter().filter(|e| calendar_period(e.period) && e.session.is_none()) {
        let Some(b) = budgets.iter().find(|b| b.name == e.name) else { continue };
        if best.is_none_or(|(x, _)| e.fraction > x.fraction) {
            best = Some((e, b));
        }
    }
    let (_, b) = best?;
    let measure = if b.limit_usd.is_some() { Measure::Usd } else { Measure::Tokens };
    for_budget(sources, b, measure, cal, prices).ok().flatten()
}

fn calendar_period(p: BudgetPeriod) -> bool {
    matches!(p, BudgetPeriod::Day | BudgetPeriod::Week | BudgetPeriod::Month | BudgetPeriod::Year)
}

/// The calendar unit and its key's name, and the stacking key, of a chart's `--by` keys.
fn chart_keys(keys: &[Key]) -> Result<(Unit, String, Option<Key>)> {
    let times: Vec<Unit> = keys.iter().filter_map(|k| if let Key::Time(u) = k { Some(*u) } else { None }).collect();
    let others: Vec<&Key> = keys.iter().filter(|k| !matches!(k, Key::Time(_))).collect();
    match (times.as_slice(), others.as_slice()) {
        ([u], []) => Ok((*u, u.as_str().to_string(), None)),
        ([u], [k]) => Ok((*u, u.as_str().to_string(), Some((*k).clone()))),
        ([], _) => Err(Error::usage(
            "--chart draws amounts over time: give --by a calendar key (hour, day, week or month), and at most \
             one other key to stack by (--by day,model)",
        )),
        (_, _) => {
            Err(Error::usage("--chart takes one calendar key and at most one other key to stack by (--by day,model)"))
        }
    }
}

/// An instant inside the bucket a key names (the key as `Calendar::bucket` writes it).
fn instant_of(cal: &Calendar, unit: Unit, key: &str) -> Option<DateTime<Utc>> {
    match unit {
        Unit::Hour => NaiveDateTime::parse_from_str(key, "%Y-%m-%dT%H:%M").ok().map(|n| cal.local_to_utc(n)),
        Unit::Day | Unit::Week => NaiveDate::parse_from_str(key, "%Y-%m-%d").ok().map(|d| cal.midnight(d)),
        Unit::Month => NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d").ok().map(|d| cal.midnight(d)),
    }
}

/// The buckets from the window's start (else the first instant in `at`) to the last of: the window's end or
/// "now", whichever is first, and the last instant in `at` — each with `width` zero amounts.
fn fill(
    cal: &Calendar,
    unit: Unit,
    window: &Window,
    at: impl Iterator<Item = DateTime<Utc>>,
    width: usize,
) -> Result<Vec<Bucket>> {
    let (mut lo, mut hi): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = (None, None);
    for t in at {
        lo = Some(lo.map_or(t, |l| l.min(t)));
        hi = Some(hi.map_or(t, |h| h.max(t)));
    }
    let first = window.start.or(lo);
    // The last instant the window covers so far: its end or "now" (pinned by --today), whichever is first.
    let until = [window.end, window.cutoff, window.start.map(|_| cal.now)]
        .into_iter()
        .flatten()
        .min()
        .map(|t| t - Duration::nanoseconds(1));
    let last = match (until, hi) {
        (Some(u), Some(h)) => Some(u.max(h)),
        (u, h) => u.or(h),
    };
    let (Some(first), Some(last)) = (first, last) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    let mut t = first;
    while t <= last {
        if out.len() == MAX_BUCKETS {
            return Err(Error::usage(format!(
                "a chart of more than {MAX_BUCKETS} {}s is too long to read: narrow the window (--period, --since) \
                 or take a longer unit (--by week, month)",
                unit.as_str()
            )));
        }
        let (key, start, end) = cal.bucket(unit, t);
        out.push(Bucket { key, start, end, values: vec![Decimal::ZERO; width], limit: None, so_far: None });
        t = end;
    }
    Ok(out)
}

/// The share of a `period` budget's limit that a bucket `[start, end)` of `unit` holds, as a fraction
/// (numerator, denominator: multiplied before dividing, so a week of a 30-day month is exactly 7/30): its length
/// over the length of the period holding its start, in local days (an hour is 1/24 of a day).
fn share(
    cal: &Calendar,
    unit: Unit,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    period: BudgetPeriod,
) -> (Decimal, Decimal) {
    let days = |a: DateTime<Utc>, b: DateTime<Utc>| (cal.local_date(b) - cal.local_date(a)).num_days();
    let w = cal.budget_window(period, start);
    let whole = match (w.start, w.end) {
        (Some(s), Some(e)) => Decimal::from(days(s, e).max(1)),
        _ => return (Decimal::ZERO, Decimal::ONE),
    };
    match unit {
        Unit::Hour => (Decimal::ONE, whole * Decimal::from(24)),
        _ => (Decimal::from(days(start, end)), whole),
    }
}

/// How far `now` is through `[start, end)`, from 0 to 1.
fn fraction(start: DateTime<Utc>, now: DateTime<Utc>, end: DateTime<Utc>) -> Decimal {
    let whole = (end - start).num_milliseconds();
    if whole <= 0 {
        return Decimal::ONE;
    }
    let gone = (now - start).num_milliseconds().clamp(0, whole);
    Decimal::from(gone) / Decimal::from(whole)
}

/// Text from a log or a config, for a chart's labels: one line, no control characters (shown escaped as in
/// tables).
pub(crate) fn label(s: &str) -> String {
    crate::output::text_cell(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{RowWindow, Totals};
    use crate::period::Period;

    fn cal(today: &str) -> Calendar {
        Calendar::from_flags(chrono_tz::UTC, chrono::Weekday::Mon, Some(today)).unwrap().value
    }

    fn row(w: &Window, group: &[(&str, &str)], cost: &str) -> Summary {
        let mut r = Summary::new(
            RowWindow::of(w),
            group.iter().map(|(k, v)| (k.to_string(), Some(v.to_string()))).collect(),
            &Totals::default(),
        );
        r.cost_usd = money::parse_decimal(cost).unwrap();
        r
    }

    fn budget(period: BudgetPeriod, usd: &str) -> Budget {
        Budget {
            name: "team".into(),
            period,
            scope: Default::default(),
            limit_usd: money::parse_decimal(usd),
            limit_tokens: None,
            warn_at: crate::budget::default_warn_at(),
            source: String::new(),
        }
    }

    #[test]
    fn buckets_run_without_gaps_to_now() {
        let c = cal("2026-11-05");
        let w = c.window(Period::Month);
        let rows = vec![row(&w, &[("day", "2026-11-02")], "1.5"), row(&w, &[("day", "2026-11-04")], "2")];
        let chart = Chart::from_rows(&rows, &[Key::Time(Unit::Day)], Measure::Usd, &c, &w, "t".into()).unwrap();
        let keys: Vec<&str> = chart.buckets.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(keys, ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]);
        assert_eq!(chart.buckets[1].values, vec![money::parse_decimal("1.5").unwrap()]);
        assert_eq!(chart.max(), Decimal::from(2));
    }

    #[test]
    fn stacks_keep_the_largest_series_and_fold_the_rest() {
        let c = cal("2026-11-01");
        let w = c.window(Period::Today);
        let rows: Vec<Summary> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .enumerate()
            .map(|(i, m)| row(&w, &[("day", "2026-11-01"), ("model", m)], &(i + 1).to_string()))
            .collect();
        let keys = [Key::Time(Unit::Day), Key::parse("model").unwrap()];
        let chart = Chart::from_rows(&rows, &keys, Measure::Usd, &c, &w, "t".into()).unwrap();
        assert_eq!(chart.series, ["f", "e", "d", "c", OTHER]);
        let v: Vec<String> = chart.buckets[0].values.iter().map(|d| d.to_string()).collect();
        assert_eq!(v, ["6", "5", "4", "3", "3"]);
    }

    #[test]
    fn a_monthly_limit_is_shared_by_the_days_of_its_month() {
        let c = cal("2026-11-15");
        let w = c.window(Period::Month);
        let chart = Chart::from_rows(&[], &[Key::Time(Unit::Day)], Measure::Usd, &c, &w, "t".into()).unwrap();
        let chart = chart.with_budget(&budget(BudgetPeriod::Month, "30"), &c);
        assert_eq!(chart.buckets.len(), 15);
        assert!(chart.buckets.iter().all(|b| b.limit == Some(Decimal::ONE) && b.so_far.is_none()));
        // Half of November gone (the 15th counts as over): $15 pro-rated, nothing spent.
        assert_eq!(chart.budget.unwrap().window, Some((Decimal::ZERO, Decimal::from(15))));
        // A daily budget across a 31-day month; a week of a monthly budget.
        let c = cal("2026-12-31");
        let share = |u, s: &str, e: &str, p| {
            let at = |d: &str| c.midnight(NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
            share(&c, u, at(s), at(e), p)
        };
        let n = |x: i64| Decimal::from(x);
        assert_eq!(share(Unit::Month, "2026-12-01", "2027-01-01", BudgetPeriod::Day), (n(31), n(1)));
        assert_eq!(share(Unit::Week, "2026-11-02", "2026-11-09", BudgetPeriod::Month), (n(7), n(30)));
        assert_eq!(share(Unit::Hour, "2026-11-02", "2026-11-02", BudgetPeriod::Day), (n(1), n(24)));
    }

    #[test]
    fn charts_need_one_calendar_key() {
        for keys in ["agent", "day,week", "day,agent,model"] {
            assert!(chart_keys(&Key::parse_list(keys).unwrap()).is_err(), "{keys}");
        }
        assert!(chart_keys(&Key::parse_list("model,day").unwrap()).is_ok());
    }

    #[test]
    fn too_many_buckets_is_an_error() {
        let c = cal("2026-11-15");
        let w = c.window(Period::Year);
        assert!(Chart::from_rows(&[], &[Key::Time(Unit::Hour)], Measure::Usd, &c, &w, "t".into()).is_err());
    }
}

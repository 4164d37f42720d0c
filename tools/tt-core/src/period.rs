//! Time windows and calendar buckets, in a time zone.
//!
//! A [`Calendar`] knows the time zone, the first day of the week and "now" (which `--today DATE` pins for
//! reproducible reports). It turns a [`Period`] (`today`, `last-month`, …) into a [`Window`] — a half-open
//! range `[start, end)` of UTC instants — and puts a timestamp into its calendar [`Unit`] bucket (`hour`,
//! `day`, `week`, `month`) with a stable text key. It reads the times users type in its zone (`--since`,
//! `--until`, `--today`, and `--ts` through [`parse_when`]).
//!
//! A calendar is built from values — a time zone and a week start — and knows nothing of the config or of
//! budgets: `Config::calendar` builds the one a tool runs in, and a budget period's windows are
//! `crate::budget`'s (as methods of [`Calendar`] defined there).
//!
//! Invariants:
//! * Windows are half-open: `start <= ts < end`. `--until DATE` is inclusive of that whole day because it is
//!   turned into the next local midnight; `--until DATETIME` is the exclusive end itself.
//! * Calendar boundaries are local midnights in the calendar's time zone, converted to UTC; a midnight that
//!   does not exist (a DST gap) moves to the first instant that does.
//! * Keys sort in time order as text: hour `2026-11-23T14:00`, day `2026-11-23`, week = the date its week
//!   starts (`2026-11-23`), month `2026-11`.
//! * A local time typed in a daylight-saving gap moves past the gap, one typed in a fold is the earlier of its
//!   two instants; either way the result carries a warning saying so (the core never prints: see
//!   [`Warned`]).

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::args::{Words, check_years};
use crate::error::{Error, Result, Warned};

/// A named report window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// The current local day.
    Today,
    /// The day before.
    Yesterday,
    /// The current week (from the configured week start).
    Week,
    /// The week before.
    LastWeek,
    /// The current calendar month.
    Month,
    /// The month before.
    LastMonth,
    /// The current calendar year.
    Year,
    /// All time.
    All,
}

impl Period {
    /// Every name `--period` accepts, for help texts.
    pub const NAMES: &'static [&'static str] =
        &["today", "yesterday", "week", "last-week", "month", "last-month", "year", "all"];

    /// Parse a `--period` value.
    pub fn parse(s: &str) -> Result<Period> {
        Ok(match s {
            "today" | "day" => Period::Today,
            "yesterday" => Period::Yesterday,
            "week" => Period::Week,
            "last-week" => Period::LastWeek,
            "month" => Period::Month,
            "last-month" => Period::LastMonth,
            "year" => Period::Year,
            "all" | "total" => Period::All,
            _ => {
                return Err(Error::usage(format!("unknown period {s:?} (want one of: {})", Period::NAMES.join(", "))));
            }
        })
    }

    /// The canonical name, as written in summary rows.
    pub fn as_str(&self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::Yesterday => "yesterday",
            Period::Week => "week",
            Period::LastWeek => "last-week",
            Period::Month => "month",
            Period::LastMonth => "last-month",
            Period::Year => "year",
            Period::All => "all",
        }
    }
}

/// A half-open range of instants `[start, end)`; `None` is unbounded. `period` names it (`month`, `custom`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// What the window is: a [`Period`] name, a budget period (`day`, `total`, `session`), or `custom`.
    pub period: String,
    /// Inclusive start.
    pub start: Option<DateTime<Utc>>,
    /// Exclusive end.
    pub end: Option<DateTime<Utc>>,
    /// The zone its bounds are shown in.
    pub tz: Tz,
    /// With `--today`: the pinned "now". Records at or after it do not count, although the window's bounds
    /// (what reports show) stay the period's: a report made with `--today` is the same whenever it runs,
    /// whatever was logged since.
    pub cutoff: Option<DateTime<Utc>>,
}

impl Window {
    /// All time.
    pub fn all(tz: Tz) -> Window {
        Window { period: "all".into(), start: None, end: None, tz, cutoff: None }
    }

    /// True when `ts` falls inside (and before the cutoff).
    #[inline]
    pub fn contains(&self, ts: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| ts >= s) && self.end.is_none_or(|e| ts < e) && self.cutoff.is_none_or(|c| ts < c)
    }

    /// True when the window has no bounds and no cutoff at all (so timestamps need not even be compared).
    pub fn is_unbounded(&self) -> bool {
        self.start.is_none() && self.end.is_none() && self.cutoff.is_none()
    }

    /// The start as RFC 3339 in the window's zone (`None` when unbounded).
    pub fn start_text(&self) -> Option<String> {
        self.start.map(|t| format_in(t, self.tz))
    }

    /// The end as RFC 3339 in the window's zone.
    pub fn end_text(&self) -> Option<String> {
        self.end.map(|t| format_in(t, self.tz))
    }

    /// Narrow to `[since, until)`; the result is `custom` when a bound was given.
    pub fn restrict(mut self, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Window {
        if let Some(s) = since {
            self.start = Some(self.start.map_or(s, |a| a.max(s)));
        }
        if let Some(u) = until {
            self.end = Some(self.end.map_or(u, |e| e.min(u)));
        }
        if since.is_some() || until.is_some() {
            self.period = "custom".into();
        }
        self
    }
}

/// An instant as RFC 3339 seconds in `tz` (`Z` for UTC itself).
pub fn format_in(t: DateTime<Utc>, tz: Tz) -> String {
    if tz == chrono_tz::UTC {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    } else {
        t.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }
}

/// A calendar unit for `--by hour|day|week|month`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A local hour.
    Hour,
    /// A local day.
    Day,
    /// A week from the configured week start.
    Week,
    /// A calendar month.
    Month,
}

impl Unit {
    /// Parse `hour|day|week|month`.
    pub fn parse(s: &str) -> Option<Unit> {
        Some(match s {
            "hour" => Unit::Hour,
            "day" => Unit::Day,
            "week" => Unit::Week,
            "month" => Unit::Month,
            _ => return None,
        })
    }
    /// The name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Unit::Hour => "hour",
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
        }
    }
}

/// Time zone, week start and "now": everything calendar arithmetic needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// The zone days and months are counted in.
    pub tz: Tz,
    /// The first day of a week.
    pub week_start: Weekday,
    /// The present instant (pinned by `--today`).
    pub now: DateTime<Utc>,
    /// True when `--today` pinned `now`: the windows that hold "now" then stop there (see [`Window::cutoff`]).
    pub pinned: bool,
    /// True when `--today` gave a date: `now` is then the midnight that ends it, and "today" is the day before
    /// that instant. A date-time (`--today 2026-12-01T00:00`) is an instant of its own day.
    day_end: bool,
}

impl Calendar {
    /// A calendar.
    pub fn new(tz: Tz, week_start: Weekday, now: DateTime<Utc>) -> Calendar {
        Calendar { tz, week_start, now, pinned: false, day_end: false }
    }

    /// The calendar of a tool: zone `tz`, weeks from `week_start`, and "now" from `--today` (else the clock);
    /// with a warning when `--today` is a local time in a daylight-saving gap or fold.
    ///
    /// `--today DATE` pins "now" to the *end* of that local day, so the day counts as fully elapsed: reports
    /// and forecasts made with it are reproducible. `--today` also takes a date-time or RFC 3339 instant.
    pub fn from_flags(tz: Tz, week_start: Weekday, today: Option<&str>) -> Result<Warned<Calendar>> {
        let mut cal = Calendar::new(tz, week_start, Utc::now());
        let mut warnings = Vec::new();
        if let Some(t) = today {
            cal.pinned = true;
            cal.now = match NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d") {
                Ok(d) => {
                    cal.day_end = true;
                    check_years(t, cal.midnight(d)).map_err(|e| e.context("--today"))?;
                    cal.midnight(d + Duration::days(1))
                }
                Err(_) => cal
                    .parse_instant(t)
                    .ok_or_else(|| {
                        Error::usage(format!("--today: not a date: {t:?} (want 2026-11-23 or 2026-11-23T14:00)"))
                    })?
                    .warn_into(&mut warnings),
            };
            if !cal.day_end {
                check_years(t, cal.now).map_err(|e| e.context("--today"))?;
            }
        }
        Ok(Warned { value: cal, warnings })
    }

    /// The local date of "now". With `--today DATE` pinning now to the next midnight, that is DATE.
    pub fn today(&self) -> NaiveDate {
        self.local_date(self.inside_today())
    }

    /// An instant of today: `now`, or its last nanosecond when `--today DATE` set `now` to the midnight after.
    pub(crate) fn inside_today(&self) -> DateTime<Utc> {
        if self.day_end { self.now - Duration::nanoseconds(1) } else { self.now }
    }

    /// The local date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The first instant of local day `d`.
    pub fn midnight(&self, d: NaiveDate) -> DateTime<Utc> {
        self.local_to_utc(d.and_hms_opt(0, 0, 0).unwrap_or_default())
    }

    /// A local date-time as an instant; inside a DST gap, the first instant after it.
    pub fn local_to_utc(&self, naive: NaiveDateTime) -> DateTime<Utc> {
        let mut n = naive;
        // A gap is at most a few hours; step forward until the local time exists.
        for _ in 0..48 {
            if let Some(t) = self.tz.from_local_datetime(&n).earliest() {
                return t.with_timezone(&Utc);
            }
            n += Duration::minutes(30);
        }
        naive.and_utc()
    }

    /// The first day of the week holding `d`.
    pub fn week_of(&self, d: NaiveDate) -> NaiveDate {
        let back = (7 + d.weekday().num_days_from_monday() - self.week_start.num_days_from_monday()) % 7;
        d - Duration::days(i64::from(back))
    }

    /// With `--today`, where the windows around "now" stop counting records.
    pub(crate) fn cutoff(&self) -> Option<DateTime<Utc>> {
        self.pinned.then_some(self.now)
    }

    /// The window of a named period around "now" (with `--today`, records after it do not count).
    pub fn window(&self, p: Period) -> Window {
        let today = self.today();
        let (start, end) = match p {
            Period::All => return Window { cutoff: self.cutoff(), ..Window::all(self.tz) },
            Period::Today => (today, today + Duration::days(1)),
            Period::Yesterday => (today - Duration::days(1), today),
            Period::Week => {
                let w = self.week_of(today);
                (w, w + Duration::days(7))
            }
            Period::LastWeek => {
                let w = self.week_of(today);
                (w - Duration::days(7), w)
            }
            Period::Month => (first_of_month(today), next_month(today)),
            Period::LastMonth => {
                let first = first_of_month(today);
                (first_of_month(first - Duration::days(1)), first)
            }
            Period::Year => (ymd(today.year(), 1, 1), ymd(today.year() + 1, 1, 1)),
        };
        Window {
            period: p.as_str().into(),
            start: Some(self.midnight(start)),
            end: Some(self.midnight(end)),
            tz: self.tz,
            cutoff: self.cutoff(),
        }
    }

    /// Parse `--since`: RFC 3339, a local date-time, or a local date (its midnight). Years as `--ts` takes
    /// them ([`check_years`]).
    pub fn parse_since(&self, s: &str) -> Result<Warned<DateTime<Utc>>> {
        self.parse_bound("--since", s, false)
    }

    /// Parse `--until`: like `--since`, but a date means the end of that day (inclusive).
    pub fn parse_until(&self, s: &str) -> Result<Warned<DateTime<Utc>>> {
        self.parse_bound("--until", s, true)
    }

    /// A window bound; the years are checked on the instant the text names (a date's own midnight, also for
    /// `--until`, whose bound is the midnight after it).
    fn parse_bound(&self, flag: &str, s: &str, until: bool) -> Result<Warned<DateTime<Utc>>> {
        let t = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            check_years(t, self.midnight(d)).map_err(|e| e.context(flag))?;
            return Ok(Warned::new(self.midnight(if until { d + Duration::days(1) } else { d })));
        }
        let at = self.parse_instant(t).ok_or_else(|| bad_bound(flag, s))?;
        check_years(t, at.value).map_err(|e| e.context(flag))?;
        Ok(at)
    }

    /// RFC 3339, or a naive local date-time (`2026-11-23T14:05`, `2026-11-23 14:05:30`) read in the calendar's
    /// zone by `Calendar::typed_local` (with its warning, for a local time in a daylight-saving gap or fold).
    pub fn parse_instant(&self, s: &str) -> Option<Warned<DateTime<Utc>>> {
        let t = s.trim();
        if let Ok(d) = DateTime::parse_from_rfc3339(t) {
            return Some(Warned::new(d.with_timezone(&Utc)));
        }
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .map(|n| self.typed_local(t, n))
    }

    /// A local date-time a user typed (`s`), as an instant. One that does not exist (a daylight-saving gap:
    /// clocks skip forward) moves forward as [`Calendar::local_to_utc`] moves it, and one that occurs twice
    /// (clocks go back) is the earlier; either way a warning says so and how to say it exactly (an offset).
    /// Moving rather than refusing is documented behaviour: `--ts` in a gap is logged at the time after it.
    fn typed_local(&self, s: &str, naive: NaiveDateTime) -> Warned<DateTime<Utc>> {
        let tz = self.tz;
        let shown = |t: DateTime<Utc>| {
            let local = t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S%:z");
            format!("{local} ({})", t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => Warned::new(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => {
                let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                let (early, late) = if a <= b { (a, b) } else { (b, a) };
                let why = format!(
                    "{s:?} occurs twice in {tz} (clocks go back that night): took the earlier, {}; the later is {} \
                     (give an offset to choose)",
                    shown(early),
                    shown(late)
                );
                Warned::with(early, Some(why))
            }
            LocalResult::None => {
                let t = self.local_to_utc(naive);
                let why = format!(
                    "{s:?} does not exist in {tz}: it falls in a daylight-saving gap (clocks skip forward that \
                     night); took {}, after the gap (give an offset to say otherwise)",
                    shown(t)
                );
                Warned::with(t, Some(why))
            }
        }
    }

    /// The bucket of `ts` in `unit`: its key and its `[start, end)` range.
    pub fn bucket(&self, unit: Unit, ts: DateTime<Utc>) -> (String, DateTime<Utc>, DateTime<Utc>) {
        let local = ts.with_timezone(&self.tz).naive_local();
        let d = local.date();
        match unit {
            Unit::Hour => {
                // Subtract the time into the local hour: exact for every offset, and contiguous across DST.
                let into = Duration::seconds(i64::from(local.minute() * 60 + local.second()))
                    + Duration::nanoseconds(i64::from(local.nanosecond() % 1_000_000_000));
                let s = ts - into;
                (local.format("%Y-%m-%dT%H:00").to_string(), s, s + Duration::hours(1))
            }
            Unit::Day => (d.format("%Y-%m-%d").to_string(), self.midnight(d), self.midnight(d + Duration::days(1))),
            Unit::Week => {
                let w = self.week_of(d);
                (w.format("%Y-%m-%d").to_string(), self.midnight(w), self.midnight(w + Duration::days(7)))
            }
            Unit::Month => {
                let f = first_of_month(d);
                (f.format("%Y-%m").to_string(), self.midnight(f), self.midnight(next_month(d)))
            }
        }
    }
}

impl Window {
    pub(crate) fn named(mut self, name: &str) -> Window {
        self.period = name.into();
        self
    }
}

/// Buckets timestamps into one unit, remembering the last bucket: logs are mostly in time order, so nearly
/// every record falls into the bucket of the one before and costs two comparisons, not a time-zone lookup.
#[derive(Debug, Clone)]
pub struct Bucketer {
    cal: Calendar,
    unit: Unit,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    key: String,
}

impl Bucketer {
    /// A bucketer for `unit`.
    pub fn new(cal: Calendar, unit: Unit) -> Bucketer {
        Bucketer { cal, unit, start: DateTime::<Utc>::MAX_UTC, end: DateTime::<Utc>::MIN_UTC, key: String::new() }
    }

    /// The key of the bucket holding `ts`.
    #[inline]
    pub fn key(&mut self, ts: DateTime<Utc>) -> &str {
        if !(ts >= self.start && ts < self.end) {
            let (k, s, e) = self.cal.bucket(self.unit, ts);
            self.key = k;
            self.start = s;
            self.end = e;
        }
        &self.key
    }
}

fn bad_bound(flag: &str, s: &str) -> Error {
    Error::usage(format!(
        "{flag}: not a date or time: {s:?} (want 2026-11-23, 2026-11-23T14:05 or RFC 3339 such as 2026-11-23T14:05:00Z)"
    ))
}

pub(crate) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

pub(crate) fn first_of_month(d: NaiveDate) -> NaiveDate {
    ymd(d.year(), d.month(), 1)
}

pub(crate) fn next_month(d: NaiveDate) -> NaiveDate {
    if d.month() == 12 { ymd(d.year() + 1, 1, 1) } else { ymd(d.year(), d.month() + 1, 1) }
}

/// The number of days in the month holding `d`.
pub fn days_in_month(d: NaiveDate) -> i64 {
    (next_month(d) - first_of_month(d)).num_days()
}

/// Parse an IANA time zone name (`UTC`, `Europe/Berlin`), in any letter case.
pub fn parse_tz(name: &str) -> Result<Tz> {
    let n = name.trim();
    n.parse::<Tz>()
        .ok()
        .or_else(|| chrono_tz::TZ_VARIANTS.iter().find(|z| z.name().eq_ignore_ascii_case(n)).copied())
        .ok_or_else(|| {
            Error::usage(format!("unknown time zone {name:?} (want an IANA name such as Europe/Berlin or UTC)"))
        })
}

/// Parse `--ts`: RFC 3339, a local date-time (`2026-11-23 14:05`, `2026-11-23T14:05:30`) or a local date (its
/// midnight) in time zone `tz` — the forms `tt-sum --since` takes, read by the same calendar code
/// (a local time in a daylight-saving gap moves to a time that exists, with a warning naming the gap; one that
/// occurs twice is the earlier, with a warning). Times outside [`check_years`] are refused, and so is a leap
/// second (`14:05:60`): tt's timestamps are real, representable times every reader takes.
pub fn parse_when(s: &str, tz: Tz) -> Result<Warned<DateTime<Utc>>> {
    let t = s.trim();
    let cal = Calendar::new(tz, Weekday::Mon, Utc::now());
    let when = match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) => Some(Warned::new(cal.midnight(d))),
        Err(_) => cal.parse_instant(t),
    };
    match when {
        Some(d) if d.value.timestamp_subsec_nanos() >= 1_000_000_000 => {
            Err(Error::data(format!("not a real time: {s:?} (second 60: a leap second is not a time tt records)")))
        }
        Some(d) => {
            check_years(s, d.value).map_err(|e| Error::data(e.message().to_string()))?;
            Ok(d)
        }
        None => Err(Error::data(format!(
            "not a valid time: {s:?} (want RFC 3339 such as 2026-11-23T14:05:00Z, or 2026-11-23 / 2026-11-23 14:05)"
        ))),
    }
}

/// The window flags every reader shares (`--period --since --until --tz --today`), so "the same windows as
/// tt-sum" is the same code in tt-sum, tt-optimize and tt-export.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WindowArgs {
    /// Only records in this window: today, yesterday, week, last-week, month, last-month, year, all
    /// [default: all; tt-export's markdown report: week].
    #[arg(long, value_name = "PERIOD", value_parser = Words(Period::NAMES), hide_possible_values = true)]
    pub period: Option<String>,
    /// Only records at or after this time (a date is its local midnight; or a local date-time, or RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only records up to this date (inclusive), or before this time.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Time zone for periods and day/week/month keys (IANA name) [default: config `tz`, else UTC].
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Take this date (or time) as today, for reproducible reports and forecasts.
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

impl WindowArgs {
    /// The calendar these flags ask for: `--tz`, else `tz` (the config's); weeks from `week_start` (the
    /// config's); `--today`, else the clock.
    pub fn calendar(&self, tz: &str, week_start: Weekday) -> Result<Warned<Calendar>> {
        Calendar::from_flags(parse_tz(self.tz.as_deref().unwrap_or(tz))?, week_start, self.today.as_deref())
    }

    /// The window these flags select on `cal`; `default` when no `--period` is given.
    pub fn window(&self, cal: &Calendar, default: Period) -> Result<Warned<Window>> {
        let period = self.period.as_deref().map(Period::parse).transpose()?.unwrap_or(default);
        let mut warnings = Vec::new();
        let since = self.since.as_deref().map(|s| cal.parse_since(s)).transpose()?.map(|t| t.warn_into(&mut warnings));
        let until = self.until.as_deref().map(|s| cal.parse_until(s)).transpose()?.map(|t| t.warn_into(&mut warnings));
        if let (Some(s), Some(u), Some(st), Some(ut)) = (since, until, &self.since, &self.until)
            && s >= u
        {
            // An `--until` date ends at the next midnight: a `--since` at that midnight is after the date.
            let until_date = NaiveDate::parse_from_str(ut.trim(), "%Y-%m-%d").is_ok();
            let how = if s > u || until_date { "is after" } else { "is not before" };
            return Err(Error::usage(format!(
                "`--since {}` {how} `--until {}`: the window would be empty",
                st.trim(),
                ut.trim()
            )));
        }
        Ok(Warned { value: cal.window(period).restrict(since, until), warnings })
    }

    /// True when any of `--period`, `--since`, `--until` was given.
    pub fn filters(&self) -> bool {
        self.period.is_some() || self.since.is_some() || self.until.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn cal(tz: &str, today: &str) -> Calendar {
        Calendar::from_flags(parse_tz(tz).unwrap(), Weekday::Mon, Some(today)).unwrap().value
    }

    fn at(c: &Calendar, s: &str) -> DateTime<Utc> {
        c.parse_instant(s).unwrap().value
    }

    #[test]
    fn windows_in_utc() {
        let c = cal("UTC", "2026-11-23"); // a Monday
        let w = c.window(Period::Week);
        assert_eq!(w.start_text().unwrap(), "2026-11-23T00:00:00Z");
        assert_eq!(w.end_text().unwrap(), "2026-11-30T00:00:00Z");
        let w = c.window(Period::LastMonth);
        assert_eq!(w.start_text().unwrap(), "2026-10-01T00:00:00Z");
        assert_eq!(w.end_text().unwrap(), "2026-11-01T00:00:00Z");
        let w = c.window(Period::Today);
        assert!(w.contains(at(&c, "2026-11-23T23:59:59.999Z")));
        assert!(!w.contains(at(&c, "2026-11-24T00:00:00Z")));
        assert_eq!(c.parse_until("2026-11-23").unwrap(), c.parse_since("2026-11-24").unwrap());
    }

    #[test]
    fn a_pinned_midnight_is_the_start_of_its_own_day() {
        // A date pins the end of that day; a date-time at midnight is the first instant of its day.
        let c = cal("UTC", "2026-11-30");
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(c.window(Period::Month).start_text().unwrap(), "2026-11-01T00:00:00Z");
        let c = cal("UTC", "2026-12-01T00:00");
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(c.window(Period::Month).start_text().unwrap(), "2026-12-01T00:00:00Z");
    }

    #[test]
    fn today_cuts_off_the_windows_around_now() {
        let c = cal("UTC", "2026-11-15");
        let after = at(&c, "2026-11-16T00:00:00Z");
        let last = at(&c, "2026-11-15T23:59:59Z");
        for w in [c.window(Period::Month), c.window(Period::All)] {
            assert!(w.contains(last) && !w.contains(after), "{w:?}");
        }
        // The bounds stay the period's.
        assert_eq!(c.window(Period::Month).end_text().unwrap(), "2026-12-01T00:00:00Z");
        // Without --today nothing is cut (the clock is not a bound).
        let mut free = c;
        free.pinned = false;
        assert!(free.window(Period::All).contains(after) && free.window(Period::All).is_unbounded());
        assert!(!c.window(Period::All).is_unbounded());
    }

    #[test]
    fn zones_in_any_case() {
        assert_eq!(parse_tz("utc").unwrap(), chrono_tz::UTC);
        assert_eq!(parse_tz("europe/berlin").unwrap(), chrono_tz::Europe::Berlin);
        assert!(parse_tz("Mars/Olympus").is_err());
    }

    #[test]
    fn windows_in_a_zone_and_week_start() {
        let mut c = cal("Europe/Berlin", "2026-03-29"); // DST starts that Sunday
        let w = c.window(Period::Today);
        assert_eq!(w.start_text().unwrap(), "2026-03-29T00:00:00+01:00");
        assert_eq!(w.end_text().unwrap(), "2026-03-30T00:00:00+02:00");
        c.week_start = Weekday::Sun;
        assert_eq!(c.window(Period::Week).start_text().unwrap(), "2026-03-29T00:00:00+01:00");
        let (k, _, _) = c.bucket(Unit::Day, at(&c, "2026-03-28T23:30:00Z"));
        assert_eq!(k, "2026-03-29");
        let (k, _, _) = c.bucket(Unit::Month, at(&c, "2026-03-31T22:30:00Z"));
        assert_eq!(k, "2026-04");
    }

    #[test]
    fn local_times_in_a_gap_or_fold_come_back_with_a_warning() {
        let c = cal("Europe/Berlin", "2026-11-01");
        let gap = c.parse_instant("2026-03-29T02:30").unwrap();
        assert_eq!(gap.value, at(&c, "2026-03-29T01:00:00Z"));
        assert!(gap.warnings.len() == 1 && gap.warnings[0].contains("daylight-saving gap"), "{gap:?}");
        let fold = c.parse_since("2026-10-25 02:30").unwrap();
        assert_eq!(fold.value, at(&c, "2026-10-25T00:30:00Z"));
        assert!(fold.warnings.len() == 1 && fold.warnings[0].contains("occurs twice"), "{fold:?}");
        assert!(c.parse_instant("2026-10-25 03:30").unwrap().warnings.is_empty());
        let pinned = Calendar::from_flags(chrono_tz::Europe::Berlin, Weekday::Mon, Some("2026-10-25T02:45")).unwrap();
        assert!(pinned.warnings[0].contains("occurs twice"), "{pinned:?}");
        let flags = WindowArgs { since: Some("2026-03-29 02:15".into()), ..WindowArgs::default() };
        let w = flags.window(&c, Period::All).unwrap();
        assert!(w.warnings[0].contains("does not exist"), "{w:?}");
    }

    #[test]
    fn when_takes_the_since_forms_and_refuses_old_years() {
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        // 02:30 does not exist on 2026-03-08 in New York (clocks jump from 02:00 to 03:00).
        assert_eq!(parse_when("2026-03-08T02:30", ny).unwrap().value.to_rfc3339(), "2026-03-08T07:00:00+00:00");
        assert_eq!(parse_when("2026-03-09", ny).unwrap().value.to_rfc3339(), "2026-03-09T04:00:00+00:00");
        assert!(parse_when("0001-01-01T00:00:00Z", ny).is_err());
        assert!(parse_when("1900-01-01", ny).is_err());
        // The representable end: 9999-12-31T23:59:59Z is fine, anything that is 10000 in UTC is not.
        let utc = chrono_tz::UTC;
        assert!(parse_when("9999-12-31T23:59:59Z", utc).is_ok());
        assert!(parse_when("9999-12-31T23:59:59-23:59", utc).is_err());
        let hnl: chrono_tz::Tz = "Pacific/Honolulu".parse().unwrap();
        assert!(parse_when("9999-12-31 23:00", hnl).is_err());
        assert!(parse_when("9999-12-31 13:00", hnl).is_ok());
        for leap in ["2026-11-23T14:05:60Z", "2026-11-23T14:05:60.5+01:00", "2026-11-23 14:05:60"] {
            assert!(parse_when(leap, utc).is_err(), "{leap}");
        }
    }
}

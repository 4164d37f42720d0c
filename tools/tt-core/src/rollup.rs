//! Summing a log into groups, where it is fastest: in the ledger's server when that gives exactly the sums a
//! read of every record gives, else by streaming the records through [`aggregate::aggregate`].
//!
//! tt-sum asks [`sum`] and never knows which happened (but for [`How`], which it can show). The pushdown is
//! used for one ledger read alone, grouped by typed columns and calendar keys, in a window of whole
//! microseconds; anything else streams. It never gives a different answer, because the server only does the
//! part that is exact by construction and the client does the rest with the streaming path's own code:
//!
//! * **The server** (`ledger::sum`) sums, per group, session and — for calendar keys — 15-minute grain of UTC
//!   time, the records that carry a `cost_usd`: counts, tokens and dollars as `numeric`, so nothing rounds.
//! * **The client** adds those partial sums to an [`Aggregator`] ([`Aggregator::add_partial`]): group keys
//!   from the columns, calendar buckets from each grain with the report's [`Calendar`] (a grain lies in one
//!   bucket of every zone whose offsets are multiples of 15 minutes — checked for each grain, and a grain
//!   that crosses a bucket sends the whole report to the streaming path), distinct sessions by name, costs
//!   in the same integer units a record's cost goes into. The records without a cost, and those whose
//!   microsecond `ts` sits exactly on a window bound or a grain's start (where a line's nanoseconds could put
//!   it on the other side: see `ledger::sum`), come as lines and go through [`Aggregator::add`], priced with
//!   the report's table, windowed and bucketed on their own `ts`, exactly as a file's records are. They come
//!   over a second connection while the server sums on the first, into an aggregator of their own that is
//!   then merged ([`Aggregator::merge`], exact in any order).
//! * **Anything not provably the same streams instead**: a tag key (it lives in the line), several sources, a
//!   window bound finer than a microsecond, a sum past `u64` or with more than 18 decimals, dollars past
//!   $10^10 (where decimal additions could round in an order-dependent way), a line the reader refuses (the
//!   streaming read reports it with its place).

use chrono::{DateTime, Duration, Utc};

use crate::aggregate::{self, Aggregator, FxMap, Key, Partial};
use crate::error::Result;
use crate::input::Source;
use crate::ledger::sum::Query;
use crate::ledger::{Ledger, Target};
use crate::period::{Calendar, Window};
use crate::price::PriceTable;
use crate::scan::{Field, View};

/// The grain calendar keys are summed in by the server: every current zone's offset is a multiple of it, so
/// every local hour, day, week and month starts on a grain boundary.
const GRAIN: u32 = 15 * 60;

/// Above this share of records without a cost the server sums (by the server's statistics), the report
/// streams instead: measured by `bench/ledger_sum.sh`'s shapes, where the pushdown wins at 10% and loses at
/// 100%.
const LOOSE_MAX: f64 = 0.5;

/// How the sums were made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// By reading every record; why the ledger's server did not sum them (empty when no ledger was read).
    Streamed(String),
    /// By the ledger's server: the partial sums it returned, and the lines the client read itself.
    Pushed {
        /// Rows of partial sums.
        partials: u64,
        /// Lines read and summed by the client (unpriced records, records on an edge).
        lines: u64,
    },
}

impl std::fmt::Display for How {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            How::Streamed(why) if why.is_empty() => write!(f, "streamed the records"),
            How::Streamed(why) => write!(f, "streamed the records ({why})"),
            How::Pushed { partials, lines } => {
                write!(f, "summed in the ledger ({partials} partial sums, {lines} lines read here)")
            }
        }
    }
}

/// The groups of a report, and how they were summed.
pub struct Rollup<'c> {
    /// The sums, checked (see [`Aggregator::check`]).
    pub agg: Aggregator<'c>,
    /// How they were made.
    pub how: How,
}

/// Sum `sources` into groups by `keys` inside `window`, pricing with `prices`: in the ledger's server when
/// that is exact (see the module docs) and `pushdown` allows it, else by streaming them — the same sums
/// either way.
pub fn sum<'c>(
    sources: &[Source],
    keys: &[Key],
    cal: Calendar,
    window: &Window,
    prices: &'c PriceTable,
    pushdown: bool,
) -> Result<Rollup<'c>> {
    let why = match sources {
        [Source::Ledger(_)] if !pushdown => "TT_LEDGER_PUSHDOWN=0".to_string(),
        [Source::Ledger(t)] => match plan(keys, window) {
            Ok(q) => match pushed(t, Report { q: &q, keys, cal, window, prices })? {
                Ok(r) => return Ok(r),
                Err(why) => why,
            },
            Err(why) => why,
        },
        _ => String::new(),
    };
    let agg = aggregate::aggregate(sources, keys, cal, window, prices)?;
    Ok(Rollup { agg, how: How::Streamed(why) })
}

/// The server's query for `keys` and `window`, or why there is none.
fn plan(keys: &[Key], window: &Window) -> std::result::Result<Query, String> {
    // Always by session: the client counts distinct sessions.
    let mut q = Query { sessions: true, ..Query::default() };
    for k in keys {
        match k {
            Key::Time(_) => q.grain = Some(GRAIN),
            Key::Field(Field::Tag(_)) => return Err("a tag key: tags are read from each record's line".into()),
            // The session is always grouped by (the client counts distinct sessions); every other field has
            // its column.
            Key::Field(f) => q.columns.extend(column(f)),
        }
    }
    let whole = |t: &DateTime<Utc>| t.timestamp_subsec_nanos().is_multiple_of(1000);
    let bounds = [window.start, window.end, window.cutoff];
    if !bounds.iter().flatten().all(whole) {
        return Err("a window bound finer than a microsecond, the ledger's precision".into());
    }
    q.since = window.start;
    q.before = [window.end, window.cutoff].into_iter().flatten().collect();
    Ok(q)
}

/// The typed column of `tt.records` that holds a record field, for the fields a report can group by on the
/// server: `None` for the session (grouped by on its own: `Query::sessions`) and tags (in the line).
pub fn column(f: &Field) -> Option<&'static str> {
    Some(match f {
        Field::Agent => "agent",
        Field::Model => "model",
        Field::Provider => "provider",
        Field::Task => "task",
        Field::Project => "project",
        Field::Branch => "branch",
        Field::Commit => "git_commit",
        Field::Host => "host",
        Field::User => "user_name",
        Field::Source => "source",
        Field::Session | Field::Tag(_) => return None,
    })
}

/// A report the server sums: its query, and what the client finishes it with.
#[derive(Clone, Copy)]
struct Report<'a, 'c> {
    q: &'a Query,
    keys: &'a [Key],
    cal: Calendar,
    window: &'a Window,
    prices: &'c PriceTable,
}

impl<'c> Report<'_, 'c> {
    /// An empty aggregator of the report's groups, as the streaming path makes it.
    fn aggregator(&self) -> Aggregator<'c> {
        Aggregator::new(self.keys.to_vec(), self.cal, self.window.clone(), self.prices)
    }
}

/// Sum in the server and finish here; `Ok(Err(why))` when the result could not be proved exact (the caller
/// streams instead), `Err` for the ledger's errors (which a streaming read would meet too).
fn pushed<'c>(target: &Target, r: Report<'_, 'c>) -> Result<std::result::Result<Rollup<'c>, String>> {
    let mut ledger = Ledger::open(target)?;
    // Mostly lines to read here, the server's sums save little, and one connection reading them is slower
    // than the streaming read's connection per core.
    if let Some(share) = ledger.loose_share()?.filter(|s| *s > LOOSE_MAX) {
        return Ok(Err(format!(
            "about {:.0}% of the records have no cost the server sums: read in parts instead",
            share * 100.0
        )));
    }
    // The loose lines come over a second connection at the same time, summed into an aggregator of their own
    // (aggregators merge exactly): the server scans for both on two cores while this thread adds the sums.
    // Both read one snapshot, so a write committed meanwhile is in both halves or in neither.
    let snapshot = ledger.share_snapshot()?;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (summed, loose) = std::thread::scope(|scope| {
        let loose = scope.spawn(|| loose_lines(target, &snapshot, r, &stop));
        let summed = partials(&mut ledger, r);
        if !matches!(summed, Ok(Ok(_))) {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let loose = loose.join().unwrap_or_else(|_| Ok(Err("the loose lines' thread panicked".into())));
        (summed, loose)
    });
    let (mut agg, partials) = match summed? {
        Ok(a) => a,
        Err(why) => return Ok(Err(why)),
    };
    let (lines_agg, lines) = match loose? {
        Ok(a) => a,
        Err(why) => return Ok(Err(why)),
    };
    agg.merge(lines_agg);
    // Overflowing sums are the streaming read's error to report, and rounding ones are not provably the same.
    if agg.check().is_err() || !agg.summed_in_units() {
        return Ok(Err("sums too large, or with too many decimals, to be exact in any order".into()));
    }
    Ok(Ok(Rollup { agg, how: How::Pushed { partials, lines } }))
}

/// The server's partial sums, added to an aggregator of their own; `Ok(Err(why))` when one cannot be proved
/// exact. With the number of rows of sums.
fn partials<'c>(ledger: &mut Ledger, r: Report<'_, 'c>) -> Result<std::result::Result<(Aggregator<'c>, u64), String>> {
    let Report { q, keys, cal, .. } = r;
    let mut agg = r.aggregator();
    let mut unfit: Option<String> = None;
    // Where each key's value is in a row: the n-th column, the session, or (calendar keys) the grain.
    let mut next = 0;
    let place: Vec<Option<usize>> = keys
        .iter()
        .map(|k| match k {
            Key::Field(Field::Session) | Key::Time(_) => None,
            Key::Field(_) => {
                next += 1;
                Some(next - 1)
            }
        })
        .collect();
    let mut grains: FxMap<i64, bool> = FxMap::default();
    let mut partials = 0u64;
    ledger.partial_sums(q, |p| {
        partials += 1;
        let tokens: Option<Vec<u64>> = p.tokens.iter().map(|t| t.parse::<u64>().ok()).collect();
        let cost = rust_decimal::Decimal::from_str_exact(&p.cost).ok();
        let (Some(tokens), Some(cost)) = (tokens, cost) else {
            unfit = Some("a sum past what tt's exact types hold".into());
            return Ok(false);
        };
        let at = p.grain.unwrap_or(DateTime::UNIX_EPOCH);
        if p.grain.is_some() && !*grains.entry(at.timestamp()).or_insert_with(|| in_one_bucket(&cal, keys, at)) {
            unfit = Some(format!("the 15-minute grain from {at} crosses a calendar bucket of {}", cal.tz));
            return Ok(false);
        }
        let values: Vec<Option<&str>> = keys
            .iter()
            .zip(&place)
            .map(|(k, place)| match (k, place) {
                (Key::Field(Field::Session), _) => p.session.as_deref(),
                (_, Some(i)) => p.values[*i].as_deref(),
                _ => None,
            })
            .collect();
        let partial = Partial {
            values: &values,
            at,
            session: p.session.as_deref(),
            records: p.records,
            tokens: [tokens[0], tokens[1], tokens[2], tokens[3]],
            cost,
        };
        if !agg.add_partial(&partial) {
            unfit = Some("a cost with more than 18 decimals, or past $10^10".into());
            return Ok(false);
        }
        Ok(true)
    })?;
    if let Some(why) = unfit {
        return Ok(Err(why));
    }
    Ok(Ok((agg, partials)))
}

/// The lines of the records the server does not sum (see the module docs), read over a connection of their
/// own (in the sums' snapshot) and added to an aggregator of their own, as a file's records are; stops early when `stop` is set (the
/// report streams instead). With the number of lines.
fn loose_lines<'c>(
    target: &Target,
    snapshot: &str,
    r: Report<'_, 'c>,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<std::result::Result<(Aggregator<'c>, u64), String>> {
    let mut ledger = Ledger::join_snapshot(target, snapshot)?;
    let mut agg = r.aggregator();
    let mut unfit: Option<String> = None;
    let mut lines = 0u64;
    ledger.loose_lines(r.q, |line| {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            unfit = Some("stopped".into());
            return Ok(false);
        }
        match View::parse(line) {
            Ok(v) => {
                agg.add(&v);
                lines += 1;
                Ok(true)
            }
            Err(_) => {
                unfit = Some("a line the reader refuses (the streaming read says where)".into());
                Ok(false)
            }
        }
    })?;
    Ok(match unfit {
        Some(why) => Err(why),
        None => Ok((agg, lines)),
    })
}

/// True when the grain starting at `at` lies in one bucket of each calendar key: its first and last instants
/// fall in the same bucket, and that bucket holds the whole grain.
fn in_one_bucket(cal: &Calendar, keys: &[Key], at: DateTime<Utc>) -> bool {
    let last = at + Duration::seconds(i64::from(GRAIN)) - Duration::nanoseconds(1);
    keys.iter().all(|k| match k {
        Key::Time(u) => {
            let first = cal.bucket(*u, at);
            first.1 <= at && last < first.2 && cal.bucket(*u, last) == first
        }
        Key::Field(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn grains_lie_in_one_bucket_in_quarter_hour_zones_only() {
        let keys = [Key::Time(crate::period::Unit::Hour), Key::Time(crate::period::Unit::Week)];
        for tz in ["Europe/Berlin", "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns"] {
            let cal = Calendar::new(tz.parse().unwrap(), Weekday::Sun, Utc::now());
            // Across both of 2026's clock changes, every grain.
            let mut t = utc("2026-01-01T00:00:00Z");
            while t < utc("2027-01-01T00:00:00Z") {
                assert!(in_one_bucket(&cal, &keys, t), "{tz} {t}");
                t += Duration::seconds(i64::from(GRAIN));
            }
        }
        // Monrovia kept -0:44:30 until 1972: its hours start mid-grain, so such a report streams.
        let cal = Calendar::new("Africa/Monrovia".parse().unwrap(), Weekday::Mon, Utc::now());
        assert!(!in_one_bucket(&cal, &keys[..1], utc("1970-06-01T00:30:00Z")));
    }

    #[test]
    fn plans_stream_what_the_server_cannot_sum() {
        let w = Window::all(chrono_tz::UTC);
        let keys = Key::parse_list("agent,session,user,day").unwrap();
        let q = plan(&keys, &w).unwrap();
        assert_eq!(q.columns, ["agent", "user_name"]);
        assert_eq!(q.grain, Some(GRAIN));
        assert!(plan(&Key::parse_list("tag:team").unwrap(), &w).unwrap_err().contains("tag"));
        let fine = Window { start: Some(utc("2026-11-01T00:00:00.0000001Z")), ..w };
        assert!(plan(&[], &fine).unwrap_err().contains("microsecond"));
    }
}

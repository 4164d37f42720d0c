//! Prompt caching: sessions that resend a large prompt without reading it from the prompt cache.
//!
//! Per session and model (caches are per model) we keep the number of requests, the prompt and cache-read
//! token sums, and the smallest uncached input of any request — the *repeated prefix* `P`: every request of the
//! session sent at least that many uncached tokens, so `P` is a conservative size for what they share.
//!
//! A cache lives only so long: a request can read the prefix only when it comes at most `cache_max_gap` (the
//! cache's lifetime, 5 minutes by default) after the previous request of its session and model. The requests
//! in time order therefore fall into *runs* — a new run starts after every longer pause — and the first request
//! of each run (earliest `ts`; of requests at the same instant, the one whose write costs the most) has to write
//! the prefix again. The saving model: had the first request of every run written `P` tokens to the cache (the
//! 5-minute cache, or the 1-hour one when `cache_max_gap` is longer than 5 minutes) and every other request
//! read them from it, each reading request would pay `cache_read` instead of `input` for `P` tokens, and each
//! writing one `cache_write` instead of `input`:
//!
//! ```text
//! saving = P × Σ_{reading requests} (input − cache_read)  −  P × Σ_{first request of each run} (cache_write − input)
//! ```
//!
//! with each request's own rates (its price entry at its `ts`; moving tokens between input and cache keeps the
//! whole prompt the same, so a long-context tier stays as it was). A session is a candidate when it has at
//! least `cache_min_requests` requests, a cache hit ratio (cache read / prompt) below `cache_max_hit_ratio`,
//! `P ≥ cache_min_prefix_tokens`, and a positive saving (models whose cache reads cost as much as input never
//! qualify, nor do sessions whose requests are all further apart than the cache lives).
//!
//! Bounded, exact and independent of the input's order and of how it is split between threads: each
//! group keeps its runs as intervals (`start`, `end`, the first request's cost), merged as records arrive in
//! any order. The size that bounds them is the number of distinct *slots* the requests fall in (`ts` divided
//! by `cache_max_gap`; a run covers consecutive slots and two runs never share one), which, unlike the number
//! of runs, can only grow as records are added — so it is the same for the whole input and never larger for
//! a part of it. Above [`MAX_SLOTS`] a group whose records are in time order (either way) in the log keeps
//! only its first and last runs and folds the others into sums: nothing can join them any more, and a
//! neighbouring part of the log can only touch the outer two. A group above it whose records are out of order
//! keeps no runs and gets no saving (a stated reason): it would need one interval per run.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::stats::{opt_json, pct, plural, sat_add};
use super::{Suggestion, Type};
use crate::config::OptimizeSettings;
use crate::money;
use crate::price::{ModelEntry, per_million, rates_at};
use crate::record::{Billing, Tokens};

/// How many distinct `cache_max_gap` slots a group out of time order may span before its runs are dropped
/// (4,096 five-minute slots: about 14 days of requests).
pub const MAX_SLOTS: u64 = 4096;

/// The lifetime of the 5-minute cache: a longer `cache_max_gap` is priced at the 1-hour cache's write rate.
fn five_minutes() -> Duration {
    Duration::minutes(5)
}

/// Requests that follow each other within the cache's lifetime: one cache write, then reads.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// What the first request's write costs more than a read would have saved: `(input − cache_read) +
    /// (cache_write − input)` = `cache_write − cache_read`, USD per million tokens.
    first_cost: Decimal,
}

impl Run {
    /// The two runs as one (they are within the gap of each other).
    fn join(a: Run, b: Run) -> Run {
        let first_cost = match a.start.cmp(&b.start) {
            std::cmp::Ordering::Less => a.first_cost,
            std::cmp::Ordering::Greater => b.first_cost,
            std::cmp::Ordering::Equal => a.first_cost.max(b.first_cost),
        };
        Run { start: a.start.min(b.start), end: a.end.max(b.end), first_cost }
    }
}

/// The order of a group's records in the log (file order), to know when runs can be folded.
#[derive(Debug, Clone, Copy)]
struct FileOrder {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    /// Every record at or after the one before it in the log.
    ascending: bool,
    /// Every record at or before the one before it.
    descending: bool,
}

impl FileOrder {
    fn new(ts: DateTime<Utc>) -> FileOrder {
        FileOrder { first: ts, last: ts, ascending: true, descending: true }
    }
    fn push(&mut self, ts: DateTime<Utc>) {
        self.ascending &= ts >= self.last;
        self.descending &= ts <= self.last;
        self.last = ts;
    }
    /// `self` then `o` (the part of the log that follows).
    fn then(&mut self, o: &FileOrder) {
        self.ascending = self.ascending && o.ascending && o.first >= self.last;
        self.descending = self.descending && o.descending && o.first <= self.last;
        self.last = o.last;
    }
    fn monotone(&self) -> bool {
        self.ascending || self.descending
    }
}

/// One session's requests on one model.
///
/// The first record's id is not kept (it would be a string per session, on a log where every record has its
/// own session): only `first_ts`, and the second pass over the records finds the smallest id at that instant
/// for the groups that make a suggestion ([`super::SecondPass`]).
#[derive(Debug, Clone)]
pub struct Group<'c> {
    model: &'c ModelEntry,
    requests: u64,
    prompt: u64,
    cache_read: u64,
    min_input: u64,
    /// Σ (input − cache_read) rate over every request, USD per million tokens.
    gain: Decimal,
    first_ts: DateTime<Utc>,
    order: FileOrder,
    /// The runs not folded, sorted by start, each more than the gap after the one before.
    runs: Vec<Run>,
    /// Slots covered by `runs`.
    open_slots: u64,
    /// Runs folded into sums (only when the records are in time order), their slots and first costs.
    sealed_runs: u64,
    sealed_slots: u64,
    sealed_cost: Decimal,
    /// Out of time order over more than [`MAX_SLOTS`] slots: runs dropped, no saving.
    unordered: bool,
}

fn slot(ts: DateTime<Utc>, gap: Duration) -> i64 {
    ts.timestamp_millis().div_euclid(gap.num_milliseconds().max(1))
}

fn slots(r: &Run, gap: Duration) -> u64 {
    (slot(r.end, gap) - slot(r.start, gap)).unsigned_abs() + 1
}

impl<'c> Group<'c> {
    fn new(model: &'c ModelEntry, ts: DateTime<Utc>, t: &Tokens) -> Group<'c> {
        Group {
            model,
            requests: 0,
            prompt: 0,
            cache_read: 0,
            min_input: t.input,
            gain: Decimal::ZERO,
            first_ts: ts,
            // One run is the common case: the smallest allocation that holds it.
            order: FileOrder::new(ts),
            runs: Vec::with_capacity(1),
            open_slots: 0,
            sealed_runs: 0,
            sealed_slots: 0,
            sealed_cost: Decimal::ZERO,
            unordered: false,
        }
    }

    /// Add a run, joining the runs within `gap` of it.
    fn absorb(&mut self, mut r: Run, gap: Duration) {
        let mut i = self.runs.partition_point(|x| x.start <= r.start);
        if i > 0 && r.start - self.runs[i - 1].end <= gap {
            let left = self.runs.remove(i - 1);
            self.open_slots -= slots(&left, gap);
            r = Run::join(left, r);
            i -= 1;
        }
        while i < self.runs.len() && self.runs[i].start - r.end <= gap {
            let right = self.runs.remove(i);
            self.open_slots -= slots(&right, gap);
            r = Run::join(r, right);
        }
        self.open_slots += slots(&r, gap);
        self.runs.insert(i, r);
    }

    /// Keep the state bounded once the requests span more than [`MAX_SLOTS`] slots.
    fn settle(&mut self, gap: Duration) {
        if self.unordered || self.open_slots + self.sealed_slots <= MAX_SLOTS {
            return;
        }
        if self.order.monotone() {
            // In time order, new records (and the neighbouring parts of the log) can only reach the first or
            // the last run: the ones between are final.
            while self.runs.len() > 2 {
                let r = self.runs.remove(1);
                let n = slots(&r, gap);
                self.open_slots -= n;
                self.sealed_slots += n;
                self.sealed_runs += 1;
                sat_add(&mut self.sealed_cost, r.first_cost);
            }
        } else {
            self.unordered = true;
            self.runs = Vec::new();
        }
    }
}

/// Add a request at `ts` to its session's group for `entry`; `gap` is the cache's lifetime (`cache_max_gap`).
pub fn observe<'c>(
    groups: &mut Vec<Group<'c>>,
    entry: &'c ModelEntry,
    ts: DateTime<Utc>,
    t: &Tokens,
    billing: &Billing,
    gap: Duration,
) {
    let r = rates_at(entry, ts, t, billing);
    let write = if gap > five_minutes() { r.cache_write_1h } else { r.cache_write };
    let i = match groups.iter().position(|g| g.model.name == entry.name) {
        Some(i) => {
            groups[i].order.push(ts);
            i
        }
        None => {
            // Most sessions use one model: grow one group at a time, not by the default four.
            groups.reserve_exact(1);
            groups.push(Group::new(entry, ts, t));
            groups.len() - 1
        }
    };
    let g = &mut groups[i];
    g.requests += 1;
    g.prompt = g.prompt.saturating_add(t.prompt());
    g.cache_read = g.cache_read.saturating_add(t.cache_read);
    g.min_input = g.min_input.min(t.input);
    sat_add(&mut g.gain, r.input - r.cache_read);
    g.first_ts = g.first_ts.min(ts);
    if !g.unordered {
        g.absorb(Run { start: ts, end: ts, first_cost: write - r.cache_read }, gap);
        g.settle(gap);
    }
}

/// Combine the groups of another part of the input into `into` (`from` being the part of the log that
/// follows `into`'s).
pub fn merge<'c>(into: &mut Vec<Group<'c>>, from: Vec<Group<'c>>, gap: Duration) {
    for o in from {
        let Some(g) = into.iter_mut().find(|g| g.model.name == o.model.name) else {
            into.reserve_exact(1);
            into.push(o);
            continue;
        };
        g.requests += o.requests;
        g.prompt = g.prompt.saturating_add(o.prompt);
        g.cache_read = g.cache_read.saturating_add(o.cache_read);
        g.min_input = g.min_input.min(o.min_input);
        sat_add(&mut g.gain, o.gain);
        g.first_ts = g.first_ts.min(o.first_ts);
        g.order.then(&o.order);
        if g.unordered || o.unordered {
            g.unordered = true;
            g.runs = Vec::new();
            continue;
        }
        g.sealed_runs += o.sealed_runs;
        g.sealed_slots += o.sealed_slots;
        sat_add(&mut g.sealed_cost, o.sealed_cost);
        for r in o.runs {
            g.absorb(r, gap);
        }
        g.settle(gap);
    }
}

impl<'c> Group<'c> {
    /// The model.
    pub fn model(&self) -> &'c ModelEntry {
        self.model
    }

    /// When the group's first request was made (its id is the smallest of the group's records at that instant).
    pub fn first_ts(&self) -> DateTime<Utc> {
        self.first_ts
    }

    /// True when this session makes a suggestion (with a saving, or with the reason it has none).
    pub fn qualifies(&self, s: &OptimizeSettings) -> bool {
        self.assess(s).is_some()
    }

    /// The cache hit ratio and the saving (`None`: out of order, no saving computed) when the session makes a
    /// suggestion.
    fn assess(&self, s: &OptimizeSettings) -> Option<(Decimal, Option<Decimal>)> {
        if self.requests < s.cache_min_requests || self.min_input < s.cache_min_prefix_tokens || self.prompt == 0 {
            return None;
        }
        let hit = Decimal::from(self.cache_read) / Decimal::from(self.prompt);
        if hit >= s.cache_max_hit_ratio {
            return None;
        }
        if self.unordered {
            return Some((hit, None));
        }
        let mut writes = self.sealed_cost;
        for r in &self.runs {
            sat_add(&mut writes, r.first_cost);
        }
        let p = Decimal::from(self.min_input);
        let saving = self.gain.checked_sub(writes).and_then(|g| g.checked_mul(p)).map(per_million)?;
        (saving > Decimal::ZERO).then_some((hit, Some(saving)))
    }

    /// The suggestion for this session, if it qualifies; `first_id` is the id of its first record.
    pub fn suggestion(&self, s: &OptimizeSettings, agent: &str, session: &str, first_id: &str) -> Option<Suggestion> {
        let (hit, saving) = self.assess(s)?;
        let p = self.min_input;
        let gap_text = duration_text(s.cache_max_gap);
        let cache = if s.cache_max_gap > five_minutes() { "1-hour" } else { "5-minute" };
        let runs = self.sealed_runs + self.runs.len() as u64;
        let no_saving_reason = saving.is_none().then(|| {
            format!(
                "the session's records are out of time order in the log and span more than {} slots of \
                 {gap_text}: too many runs to place every request within the cache's lifetime with bounded \
                 memory (sort the log by ts for a saving)",
                money::thousands(MAX_SLOTS)
            )
        });
        let hit4 = super::stats::ratio(Decimal::from(self.cache_read), Decimal::from(self.prompt), 4);
        let mut e = Map::new();
        e.insert("agent".into(), agent.into());
        e.insert("session".into(), session.into());
        e.insert("model".into(), self.model.name.clone().into());
        e.insert("requests".into(), self.requests.into());
        e.insert("prompt_tokens".into(), self.prompt.into());
        e.insert("cache_read_tokens".into(), self.cache_read.into());
        e.insert("cache_hit_ratio".into(), opt_json(hit4));
        e.insert("repeated_prefix_tokens".into(), p.into());
        if self.unordered {
            e.insert("cache_writes".into(), Value::Null);
            e.insert("cache_reads".into(), Value::Null);
        } else {
            e.insert("cache_writes".into(), runs.into());
            e.insert("cache_reads".into(), (self.requests - runs).into());
        }
        e.insert("max_gap_seconds".into(), s.cache_max_gap.num_seconds().into());
        e.insert("first_record_id".into(), first_id.into());
        e.insert(
            "saving_model".into(),
            Value::from(format!(
                "the repeated prefix written to the {cache} cache by the first request of every run of requests \
                 at most {gap_text} apart, and read by every other request"
            )),
        );
        let what = match saving {
            Some(v) => format!(
                "caching that prefix (written {}, read {}) would have saved {}",
                times(runs),
                times(self.requests - runs),
                money::usd(v)
            ),
            None => format!(
                "no saving computed: its records are out of time order over more than {} slots of {gap_text}",
                money::thousands(MAX_SLOTS)
            ),
        };
        Some(Suggestion {
            kind: Type::Caching,
            saving,
            no_saving_reason,
            message: format!(
                "session {session} ({agent}, {}): {} each resent at least {} uncached prompt tokens with a cache hit \
                 ratio of {}; {what}",
                self.model.name,
                plural(self.requests, "request"),
                money::thousands(p),
                pct(hit),
            ),
            evidence: e,
            brief: format!("session: {session}, first record {first_id}"),
            key: format!("{agent}\u{0}{session}\u{0}{}", self.model.name),
        })
    }
}

/// `once`, `3 times`.
fn times(n: u64) -> String {
    if n == 1 { "once".into() } else { plural(n, "time") }
}

/// A gap for messages: `5 minutes`, `1 hour`, `90 seconds`.
fn duration_text(d: Duration) -> String {
    let s = d.num_seconds();
    if s % 3600 == 0 {
        plural((s / 3600) as u64, "hour")
    } else if s % 60 == 0 {
        plural((s / 60) as u64, "minute")
    } else {
        plural(s as u64, "second")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::record::Record;

    /// A Sonnet 4.5 request of 2,000 uncached input tokens at `secs` after the start.
    fn rec(i: usize, secs: i64) -> Record {
        let ts = crate::record::parse_ts("2026-01-01T00:00:00Z").unwrap() + Duration::seconds(secs);
        let t = Tokens { input: 2000, ..Default::default() };
        Record::new(format!("r{i:05}"), ts, "A".into(), "sonnet-4.5".into(), t)
    }

    /// Observe `records` in parts cut at `cuts`, merged in order: (saving, cache writes, runs kept).
    fn analyse(config: &Config, records: &[Record], cuts: &[usize]) -> (Option<Decimal>, Value, usize) {
        let entry = config.prices.resolve("sonnet-4.5").unwrap();
        let gap = config.optimize.cache_max_gap;
        let mut bounds = vec![0];
        bounds.extend_from_slice(cuts);
        bounds.push(records.len());
        let mut all: Vec<Group> = Vec::new();
        for w in bounds.windows(2) {
            let mut part = Vec::new();
            for r in &records[w[0]..w[1]] {
                observe(&mut part, entry, r.ts, &r.tokens, &r.billing, gap);
            }
            merge(&mut all, part, gap);
        }
        assert_eq!(all.len(), 1);
        let s = all[0].suggestion(&config.optimize, "A", "s", "r00000").unwrap();
        (s.saving, s.evidence["cache_writes"].clone(), all[0].runs.len())
    }

    #[test]
    fn runs_in_time_order_are_folded_and_stay_exact_however_the_log_is_split() {
        let config = Config::from_str_layer("test", "").unwrap();
        // 5,000 pairs of requests a minute apart, the pairs 10 minutes apart: 5,000 runs in 5,000 slots of 5
        // minutes (more than MAX_SLOTS, so the runs between the first and the last are folded). Sonnet 4.5: a
        // read saves input − cache_read = 3 − 0.30 = 2.70 per MTok; a run's first request pays cache_write −
        // cache_read = 3.75 − 0.30 = 3.45 instead. saving = 2,000 × (10,000 × 2.70 − 5,000 × 3.45) / 10^6 =
        // 2,000 × (27,000 − 17,250) / 10^6 = 2,000 × 9,750 / 10^6 = 19.5.
        let mut rs: Vec<Record> = (0..10_000).map(|i| rec(i, (i as i64 / 2) * 600 + (i as i64 % 2) * 60)).collect();
        let want = (Some(Decimal::from_str_exact("19.5").unwrap()), Value::from(5000));
        for _ in 0..2 {
            // Cuts inside a pair (the run is joined when the parts merge) and between pairs.
            for cuts in [&[][..], &[1], &[5001], &[9999], &[3333, 6666, 6667]] {
                let (saving, writes, kept) = analyse(&config, &rs, cuts);
                assert_eq!((saving, writes), want, "cuts {cuts:?}");
                assert!(kept <= 2, "{kept} runs kept");
            }
            // The same log newest first.
            rs.reverse();
        }
    }

    #[test]
    fn runs_out_of_order_are_exact_while_bounded_and_have_no_saving_beyond() {
        let config = Config::from_str_layer("test", "").unwrap();
        // 150 pairs as above, in a scrambled order: 2,000 × (300 × 2.70 − 150 × 3.45) / 10^6 = 2,000 × 292.5 /
        // 10^6 = 0.585, in any order and any split.
        let n = 300;
        let sorted: Vec<Record> = (0..n).map(|i| rec(i, (i as i64 / 2) * 600 + (i as i64 % 2) * 60)).collect();
        let scrambled: Vec<Record> = (0..n).map(|i| sorted[(i * 7919) % n].clone()).collect();
        let want = (Some(Decimal::from_str_exact("0.585").unwrap()), Value::from(150));
        for cuts in [&[][..], &[1], &[150], &[77, 201]] {
            let (saving, writes, _) = analyse(&config, &scrambled, cuts);
            assert_eq!((saving, writes), want, "cuts {cuts:?}");
        }
        assert_eq!(analyse(&config, &sorted, &[]).0, want.0);
        // 5,000 pairs scrambled: more than MAX_SLOTS slots out of order — no runs kept, no saving, in any split.
        let n = 10_000;
        let sorted: Vec<Record> = (0..n).map(|i| rec(i, (i as i64 / 2) * 600 + (i as i64 % 2) * 60)).collect();
        let scrambled: Vec<Record> = (0..n).map(|i| sorted[(i * 7919) % n].clone()).collect();
        for cuts in [&[][..], &[4000], &[9000]] {
            assert_eq!(analyse(&config, &scrambled, cuts), (None, Value::Null, 0), "cuts {cuts:?}");
        }
        // In order but one part after the other out of order (newest part first): the same.
        let mut parts = sorted[5000..].to_vec();
        parts.extend_from_slice(&sorted[..5000]);
        assert_eq!(analyse(&config, &parts, &[5000]), (None, Value::Null, 0));
    }

    #[test]
    fn requests_at_the_same_instant_charge_the_dearest_write() {
        let config = Config::from_str_layer("test", "").unwrap();
        let entry = config.prices.resolve("sonnet-4.5").unwrap();
        let gap = config.optimize.cache_max_gap;
        // Two requests at once, one of 250,000 tokens (the long-context tier: write 7.50, read 0.60), then one a
        // minute later. Whichever comes first in the log, the big one is taken as the writer: the run's first
        // cost is max(3.75 − 0.30, 7.50 − 0.60) = 6.90.
        let mut big = rec(0, 0);
        big.tokens.input = 250_000;
        let both = [big, rec(1, 0), rec(2, 60)];
        let costs: Vec<Decimal> = [[0, 1, 2], [1, 0, 2], [2, 1, 0]]
            .iter()
            .map(|order| {
                let mut g = Vec::new();
                for &i in order {
                    observe(&mut g, entry, both[i].ts, &both[i].tokens, &both[i].billing, gap);
                }
                g[0].runs[0].first_cost
            })
            .collect();
        assert_eq!(costs, vec![Decimal::from_str_exact("6.90").unwrap(); 3]);
    }
}

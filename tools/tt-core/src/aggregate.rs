//! Grouping records into [`Summary`] rows: the engine of `tt-sum`, and the row contract tt-budget and
//! tt-export read.
//!
//! An [`Aggregator`] takes [`View`]s one at a time, keeps those inside its [`Window`], prices unpriced ones on
//! the fly (exactly as tt-price would; a model the table does not know is counted as unpriced, never as $0),
//! and adds them to the [`Totals`] of their group. Memory grows with the number of groups (and distinct
//! sessions, which `sessions` counts), never with the number of records. Aggregators built on separate
//! chunks of a file [`merge`](Aggregator::merge) exactly.
//!
//! The JSONL row (one per group, then the total with an empty group):
//!
//! ```json
//! {"kind":"summary","window":{"period":"month","start":"2026-11-01T00:00:00Z","end":"2026-12-01T00:00:00Z"},
//!  "group":{"agent":"ATLAS"},"records":2,"sessions":1,"input_tokens":60000,"output_tokens":45000,
//!  "cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":105000,"cost_usd":0.855,"unpriced_records":0}
//! ```
//!
//! `cache_write_tokens` counts 5-minute and 1-hour cache writes together, so `total_tokens` is always the sum
//! of the four token columns. `cost_usd` is an exact decimal (a JSON number with as many digits as needed);
//! `start`/`end` are `null` for an unbounded window.

use chrono::{DateTime, FixedOffset, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::distinct::Distinct;
use crate::error::{Error, Result};
use crate::money;
use crate::period::{Bucketer, Calendar, Unit, Window};
use crate::price::{PriceTable, Pricer};
use crate::record::{Tokens, push_json_string};
use crate::scan::{Field, View};

/// The fast maps of group keys, named here too because aggregates are what they were made for; their home is
/// [`crate::distinct`], with the other hashing.
pub use crate::distinct::{FxHasher, FxMap, FxSet};

/// One `--by` key: a record field or a calendar unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A record field (`agent`, `tag:team`, …).
    Field(Field),
    /// A calendar bucket of `ts` in the report's time zone.
    Time(Unit),
}

impl Key {
    /// Every simple key name, for help texts (`tag:KEY` comes on top).
    pub const NAMES: &'static [&'static str] = &[
        "agent", "model", "provider", "session", "task", "project", "branch", "host", "user", "commit", "source",
        "hour", "day", "week", "month",
    ];

    /// Parse one key name.
    pub fn parse(name: &str) -> Result<Key> {
        let name = name.trim();
        if let Some(u) = Unit::parse(name) {
            return Ok(Key::Time(u));
        }
        Field::parse(name).map(Key::Field).ok_or_else(|| {
            Error::usage(format!("cannot group by {name:?} (want {}, or tag:KEY)", Key::NAMES.join(", ")))
        })
    }

    /// Parse a comma-separated list (`day,agent`); an empty key (`--by ''`, `agent,`) and duplicates are errors.
    pub fn parse_list(s: &str) -> Result<Vec<Key>> {
        let mut keys = Vec::new();
        for part in s.split(',') {
            if part.trim().is_empty() {
                return Err(Error::usage(format!(
                    "--by {s:?} has an empty key (want comma-separated keys: {}, or tag:KEY)",
                    Key::NAMES.join(", ")
                )));
            }
            let k = Key::parse(part)?;
            if keys.contains(&k) {
                return Err(Error::usage(format!("--by names {:?} twice", part.trim())));
            }
            keys.push(k);
        }
        Ok(keys)
    }

    /// The name, as used in the `group` object.
    pub fn name(&self) -> String {
        match self {
            Key::Field(f) => f.name().into_owned(),
            Key::Time(u) => u.as_str().to_string(),
        }
    }
}

/// Sums of one group. Exact: integer tokens and a decimal cost.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Records counted.
    pub records: u64,
    /// Uncached input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Cache-read tokens.
    pub cache_read: u64,
    /// Cache-write tokens (5-minute and 1-hour).
    pub cache_write: u64,
    /// The cost of the priced records.
    pub cost: Decimal,
    /// Records whose model has no price.
    pub unpriced: u64,
    /// Distinct sessions, in bounded memory (exact up to a bound, then an estimate: see [`crate::distinct`]).
    sessions: Distinct,
    /// Logs are written session by session: skipping the set when the session repeats saves most lookups.
    last_session: Option<String>,
    /// A sum went past what its type holds (tokens past `u64::MAX`, dollars past `Decimal::MAX`): the sums
    /// are then wrong, and [`Totals::check`] says so instead of printing them.
    overflow: bool,
}

impl Totals {
    /// Add one record.
    #[inline]
    pub fn add(&mut self, t: &Tokens, cost: Option<Decimal>, session: Option<&str>) {
        self.add_usage(t, cost.is_some(), session);
        if let Some(c) = cost {
            self.add_cost(c);
        }
    }

    /// Add an amount to the cost (checked).
    #[inline]
    fn add_cost(&mut self, c: Decimal) {
        match self.cost.checked_add(c) {
            Some(sum) => self.cost = sum,
            None => self.overflow = true,
        }
    }

    /// Add one record's tokens and session; `priced` tells whether its cost is added separately (else it
    /// counts as unpriced).
    #[inline]
    fn add_usage(&mut self, t: &Tokens, priced: bool, session: Option<&str>) {
        self.records += 1;
        self.add_tokens([
            Some(t.input),
            Some(t.output),
            Some(t.cache_read),
            t.cache_write.checked_add(t.cache_write_1h),
        ]);
        if !priced {
            self.unpriced += 1;
        }
        if let Some(s) = session
            && self.last_session.as_deref() != Some(s)
        {
            self.sessions.insert(s);
            // Reuse the buffer: a new allocation at every change of session shows in profiles.
            match &mut self.last_session {
                Some(last) => {
                    last.clear();
                    last.push_str(s);
                }
                None => self.last_session = Some(s.to_string()),
            }
        }
    }

    /// Add the usage of `records` priced records summed elsewhere, all of one session (see [`Partial`]).
    fn add_partial_usage(&mut self, records: u64, tokens: [u64; 4], session: Option<&str>) {
        match self.records.checked_add(records) {
            Some(n) => self.records = n,
            None => self.overflow = true,
        }
        self.add_tokens(tokens.map(Some));
        if let Some(s) = session {
            self.sessions.insert(s);
        }
    }

    /// Add input, output, cache-read and cache-write counts (`None`: already overflowed), checked.
    #[inline]
    fn add_tokens(&mut self, n: [Option<u64>; 4]) {
        let sums = [
            (&mut self.input, n[0]),
            (&mut self.output, n[1]),
            (&mut self.cache_read, n[2]),
            (&mut self.cache_write, n[3]),
        ];
        for (sum, n) in sums {
            match n.and_then(|n| sum.checked_add(n)) {
                Some(x) => *sum = x,
                None => self.overflow = true,
            }
        }
    }

    /// An error if a sum overflowed (the sums would be wrong); `what` names the sums (`"the sums"`).
    pub fn check(&self, what: &str) -> Result<()> {
        if self.overflow || self.total_tokens_checked().is_none() {
            return Err(Error::data(format!(
                "{what} are too large to be exact (tokens past {}, or dollars past {}): is a record's count or \
                 cost wrong?",
                u64::MAX,
                Decimal::MAX
            )));
        }
        Ok(())
    }

    fn total_tokens_checked(&self) -> Option<u64> {
        self.input.checked_add(self.output)?.checked_add(self.cache_read)?.checked_add(self.cache_write)
    }

    /// Add another group's sums (sessions are united, not added).
    pub fn merge(&mut self, o: Totals) {
        self.records += o.records;
        self.overflow |= o.overflow;
        self.add_tokens([Some(o.input), Some(o.output), Some(o.cache_read), Some(o.cache_write)]);
        self.add_cost(o.cost);
        self.unpriced += o.unpriced;
        self.sessions.merge(o.sessions);
    }

    /// All tokens.
    pub fn total_tokens(&self) -> u64 {
        self.input.saturating_add(self.output).saturating_add(self.cache_read).saturating_add(self.cache_write)
    }

    /// Distinct non-empty sessions (an estimate when [`Totals::sessions_estimated`]).
    pub fn sessions(&self) -> u64 {
        self.sessions.count()
    }

    /// True when there were too many sessions to count exactly in bounded memory (see [`crate::distinct`]).
    pub fn sessions_estimated(&self) -> bool {
        self.sessions.is_estimate()
    }
}

/// Records summed elsewhere, all priced and of one session, that [`Aggregator::add_partial`] adds as a whole:
/// what a ledger's `GROUP BY` returns (see `crate::rollup`).
#[derive(Debug, Clone)]
pub struct Partial<'a> {
    /// One value per key, in `--by` order (`None`: the records lack the field); ignored for calendar keys.
    pub values: &'a [Option<&'a str>],
    /// An instant of the calendar bucket every one of the records falls in (used for calendar keys only).
    pub at: DateTime<Utc>,
    /// Their session.
    pub session: Option<&'a str>,
    /// How many records.
    pub records: u64,
    /// Their input, output, cache-read and cache-write (5-minute and 1-hour) tokens.
    pub tokens: [u64; 4],
    /// Their cost.
    pub cost: Decimal,
}

/// One group's values (in `--by` order; `None` when the record lacks the field) and sums.
#[derive(Debug, Clone)]
pub struct Group {
    /// Values, one per key.
    pub values: Vec<Option<String>>,
    /// Sums.
    pub totals: Totals,
}

/// The scale of [`Slot::units`]: costs with at most this many decimals (every price tt ships, and far more)
/// are summed as integers.
const UNIT_SCALE: u32 = 18;
/// [`Slot::units`] is moved into the decimal sum before it passes this, so it always converts exactly
/// (a `Decimal` holds 96-bit mantissas, about 7.9e28).
const UNIT_FLUSH: i128 = 10i128.pow(27);
/// 10^0 … 10^18.
const POW10: [u64; 19] = {
    let mut a = [1u64; 19];
    let mut i = 1;
    while i < 19 {
        a[i] = a[i - 1] * 10;
        i += 1;
    }
    a
};

/// A group being summed: its [`Totals`], and the part of its cost not yet added to them, as an integer count
/// of 10^-18 dollars. Adding integers is several times cheaper than adding `Decimal`s, and exact.
#[derive(Debug, Clone)]
struct Slot {
    key: Vec<u8>,
    group: Group,
    units: i128,
    /// A cost was added as a decimal, not as units (more than 18 decimals, or a huge amount): its sum is
    /// then exact only while no decimal addition rounds (see [`Aggregator::summed_in_units`]).
    decimal: bool,
}

impl Slot {
    #[inline]
    fn add(&mut self, t: &Tokens, cost: Option<Decimal>, session: Option<&str>) {
        let totals = &mut self.group.totals;
        totals.add_usage(t, cost.is_some(), session);
        let Some(c) = cost else { return };
        let (m, scale) = (c.mantissa(), c.scale());
        // A mantissa below 2^64 times at most 10^18 is below 2^124, and the sum stays below UNIT_FLUSH + 2^124:
        // no overflow is possible, so the hot path needs no checked arithmetic (and multiplies 64 by 64 bits).
        match (u64::try_from(m.unsigned_abs()), POW10.get((UNIT_SCALE.wrapping_sub(scale)) as usize)) {
            (Ok(mag), Some(&p)) if scale <= UNIT_SCALE => {
                let u = (u128::from(mag) * u128::from(p)) as i128;
                self.units += if m < 0 { -u } else { u };
                if self.units.unsigned_abs() >= UNIT_FLUSH as u128 {
                    self.flush();
                }
            }
            _ => {
                // Very many decimals or a huge amount: settle in decimals.
                self.decimal = true;
                self.flush();
                self.group.totals.add_cost(c);
            }
        }
    }

    /// Move the integer part of the cost into the totals' decimal.
    fn flush(&mut self) {
        if self.units != 0 {
            match Decimal::try_from_i128_with_scale(self.units, UNIT_SCALE) {
                Ok(d) => self.group.totals.add_cost(d),
                Err(_) => self.group.totals.overflow = true,
            }
            self.units = 0;
        }
    }

    fn finish(mut self) -> Group {
        self.flush();
        self.group
    }
}

/// Streams records into groups.
pub struct Aggregator<'c> {
    keys: Vec<Key>,
    window: Window,
    pricer: Pricer<'c>,
    bucketers: Vec<Option<Bucketer>>,
    /// Encoded group key → index in `slots`.
    index: FxMap<Vec<u8>, usize>,
    /// The groups with their encoded keys, in order of first appearance. Without keys, one slot with an empty
    /// key holds everything; with keys, the total is the sum of the groups, made at the end (so each record
    /// is added once, not to its group and again to a total).
    slots: Vec<Slot>,
    /// The group of the previous record: logs come in runs of one agent/session, so comparing the new key
    /// with the last one's usually spares hashing it and probing the map.
    last: usize,
    key_buf: Vec<u8>,
}

/// The value of one group key for a record: its calendar bucket, or the field's value.
#[inline(always)]
fn key_value<'v>(k: &Key, b: &'v mut Option<Bucketer>, v: &'v View<'_>) -> Option<std::borrow::Cow<'v, str>> {
    match (k, b) {
        (_, Some(b)) => Some(std::borrow::Cow::Borrowed(b.key(v.ts))),
        (Key::Field(f), None) => v.get(f),
        (Key::Time(_), None) => None,
    }
}

impl<'c> Aggregator<'c> {
    /// An aggregator grouping by `keys`, keeping records inside `window`, pricing with `prices`; calendar keys
    /// use `cal`.
    pub fn new(keys: Vec<Key>, cal: Calendar, window: Window, prices: &'c PriceTable) -> Self {
        let bucketers =
            keys.iter().map(|k| if let Key::Time(u) = k { Some(Bucketer::new(cal, *u)) } else { None }).collect();
        Aggregator {
            keys,
            window,
            pricer: Pricer::new(prices),
            bucketers,
            index: FxMap::default(),
            slots: Vec::new(),
            last: 0,
            key_buf: Vec::with_capacity(64),
        }
    }

    /// Add one record (ignored when outside the window).
    #[inline]
    pub fn add(&mut self, v: &View<'_>) {
        if !self.window.contains(v.ts) {
            return;
        }
        let cost = match v.cost_usd {
            Some(c) => Some(c),
            None => self.pricer.cost(&v.model, v.ts, &v.tokens, &v.billing),
        };
        // Logs come in runs of one agent/session: when the record's key values are the previous group's, that
        // is its group, found without encoding the key.
        let same = self.slots.get(self.last).is_some_and(|slot| {
            self.keys
                .iter()
                .zip(self.bucketers.iter_mut())
                .zip(&slot.group.values)
                .all(|((k, b), want)| key_value(k, b, v).as_deref() == want.as_deref())
        });
        if !same {
            // The group key: each value length-prefixed (or a 0xff marker when absent), so no two different
            // value lists ever encode the same bytes. Empty without keys.
            self.key_buf.clear();
            for (k, b) in self.keys.iter().zip(self.bucketers.iter_mut()) {
                encode(&mut self.key_buf, key_value(k, b, v).as_deref());
            }
            self.last = self.slot();
        }
        let at = self.last;
        if let Some(slot) = self.slots.get_mut(at) {
            slot.add(&v.tokens, cost, v.session.as_deref());
        }
    }

    /// Add a [`Partial`]: records summed elsewhere (a ledger's `GROUP BY`), which must lie inside the window.
    /// Its cost goes into the same integer units a record's does, so the group's sum is the one adding its
    /// records one by one gives. Returns false, adding nothing, when the cost cannot be units exactly (more
    /// than 18 decimals, or $10^10 or more): the caller then sums the records one by one instead.
    pub fn add_partial(&mut self, p: &Partial<'_>) -> bool {
        let units = match u64::try_from(p.cost.mantissa()) {
            // A cost's scale is at most 28, so the power is at most 10^18 when it is not past UNIT_SCALE.
            Ok(m) if p.cost.scale() <= UNIT_SCALE => {
                i128::from(m) * i128::from(POW10[(UNIT_SCALE - p.cost.scale()) as usize])
            }
            _ => return false,
        };
        if units >= 10i128.pow(28) {
            return false;
        }
        self.key_buf.clear();
        // A calendar key has a bucketer; a field key takes its value from the partial.
        for (i, b) in self.bucketers.iter_mut().enumerate() {
            let value = match b {
                Some(b) => Some(b.key(p.at)),
                None => p.values.get(i).copied().flatten(),
            };
            encode(&mut self.key_buf, value);
        }
        self.last = self.slot();
        let Some(slot) = self.slots.get_mut(self.last) else { return false };
        slot.group.totals.add_partial_usage(p.records, p.tokens, p.session);
        // Below UNIT_FLUSH + 10^28: no overflow, and the flush converts exactly.
        slot.units += units;
        if slot.units >= UNIT_FLUSH {
            slot.flush();
        }
        true
    }

    /// True when every cost was summed as integer units and all of them together are below $10^10: then no
    /// decimal addition rounded, so the sums are exact whatever order the records were added in.
    pub fn summed_in_units(&mut self) -> bool {
        let mut total = Decimal::ZERO;
        for slot in &mut self.slots {
            if slot.decimal {
                return false;
            }
            slot.flush();
            match total.checked_add(slot.group.totals.cost) {
                Some(t) => total = t,
                None => return false,
            }
        }
        total < Decimal::from(10_000_000_000u64)
    }

    /// The slot of the key in `key_buf`, made if new.
    #[cold]
    fn slot(&mut self) -> usize {
        if let Some(&at) = self.index.get(self.key_buf.as_slice()) {
            return at;
        }
        let values = decode_key(&self.key_buf, self.keys.len());
        self.index.insert(self.key_buf.clone(), self.slots.len());
        self.slots.push(Slot {
            key: self.key_buf.clone(),
            group: Group { values, totals: Totals::default() },
            units: 0,
            decimal: false,
        });
        self.slots.len() - 1
    }

    /// Fold another aggregator (over another chunk of the same input) into this one.
    pub fn merge(&mut self, other: Aggregator<'_>) {
        for m in other.pricer.unknown() {
            self.pricer.entry(&m);
        }
        for slot in other.slots {
            match self.index.get(&slot.key).and_then(|&at| self.slots.get_mut(at)) {
                Some(mine) => {
                    mine.decimal |= slot.decimal;
                    let key_less = slot.finish();
                    mine.group.totals.merge(key_less.totals);
                }
                None => {
                    self.index.insert(slot.key.clone(), self.slots.len());
                    self.slots.push(slot);
                }
            }
        }
    }

    /// An error when a group's sums, or the total of all of them, went past what their types hold: the
    /// sums would be wrong, so they are refused rather than printed saturated or wrapped.
    pub fn check(&mut self) -> Result<()> {
        let mut total = Totals::default();
        for slot in &mut self.slots {
            slot.flush();
            slot.group.totals.check("the sums")?;
            let t = &slot.group.totals;
            total.records += t.records;
            total.add_tokens([Some(t.input), Some(t.output), Some(t.cache_read), Some(t.cache_write)]);
            total.add_cost(t.cost);
        }
        total.check("the sums")
    }

    /// Model names that could not be priced (records counted as unpriced), sorted.
    pub fn unknown_models(&self) -> Vec<String> {
        self.pricer.unknown()
    }

    /// The keys.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The groups (in no particular order; none without keys) and the total.
    pub fn finish(self) -> (Vec<Group>, Totals) {
        let groups: Vec<Group> = self.slots.into_iter().map(Slot::finish).collect();
        let mut total = Totals::default();
        if self.keys.is_empty() {
            if let Some(g) = groups.into_iter().next() {
                total = g.totals;
            }
            return (Vec::new(), total);
        }
        for g in &groups {
            total.merge(g.totals.clone());
        }
        (groups, total)
    }
}

/// Append one key value to an encoded group key: length-prefixed, or a 0xff marker when absent, so no two
/// different value lists ever encode the same bytes.
#[inline]
fn encode(buf: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(s) => {
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        None => buf.extend_from_slice(&[0xff; 4]),
    }
}

fn decode_key(mut b: &[u8], n: usize) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(n);
    while b.len() >= 4 {
        let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        b = &b[4..];
        if len == u32::MAX {
            out.push(None);
        } else {
            let l = (len as usize).min(b.len());
            out.push(Some(String::from_utf8_lossy(&b[..l]).into_owned()));
            b = &b[l..];
        }
    }
    out
}

/// The window of a summary row, as written: the period name and the bounds with their UTC offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWindow {
    /// `all`, `month`, `custom`, …
    pub period: String,
    /// Inclusive start.
    pub start: Option<DateTime<FixedOffset>>,
    /// Exclusive end.
    pub end: Option<DateTime<FixedOffset>>,
}

impl RowWindow {
    /// From a [`Window`], with its bounds in the window's zone.
    pub fn of(w: &Window) -> RowWindow {
        let fix = |t: DateTime<Utc>| t.with_timezone(&w.tz).fixed_offset();
        RowWindow { period: w.period.clone(), start: w.start.map(fix), end: w.end.map(fix) }
    }

    /// True when `ts` is inside.
    pub fn contains(&self, ts: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| ts >= s) && self.end.is_none_or(|e| ts < e)
    }
}

fn fmt_bound(t: &DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One summary row: a group's sums in a window (the total row has an empty group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The window.
    pub window: RowWindow,
    /// Key name → value (`None` when the records lack the field), in `--by` order.
    pub group: Vec<(String, Option<String>)>,
    /// Records.
    pub records: u64,
    /// Distinct sessions.
    pub sessions: u64,
    /// True when `sessions` is an estimate (too many to count exactly in bounded memory); written as
    /// `"sessions_estimated":true` after `sessions`, only then.
    pub sessions_estimated: bool,
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache-read tokens.
    pub cache_read_tokens: u64,
    /// Cache-write tokens (5-minute and 1-hour).
    pub cache_write_tokens: u64,
    /// All tokens.
    pub total_tokens: u64,
    /// Exact cost of the priced records.
    pub cost_usd: Decimal,
    /// Records that could not be priced.
    pub unpriced_records: u64,
    /// On a total row: how many groups `--top` left out (`None` when none were; written only then).
    pub omitted_groups: Option<u64>,
    /// On a total row: the files the records were read from (absolute paths; the usage log, or the files
    /// given), so a gate can check from the same log the budgets these rows do not answer. `None` when the
    /// records came from a pipe, which cannot be read again (written only when known).
    pub from: Option<Vec<String>>,
}

impl Summary {
    /// A row from sums.
    pub fn new(window: RowWindow, group: Vec<(String, Option<String>)>, t: &Totals) -> Summary {
        Summary {
            window,
            group,
            records: t.records,
            sessions: t.sessions(),
            sessions_estimated: t.sessions_estimated(),
            input_tokens: t.input,
            output_tokens: t.output,
            cache_read_tokens: t.cache_read,
            cache_write_tokens: t.cache_write,
            total_tokens: t.total_tokens(),
            cost_usd: t.cost,
            unpriced_records: t.unpriced,
            omitted_groups: None,
            from: None,
        }
    }

    /// True for the total row.
    pub fn is_total(&self) -> bool {
        self.group.is_empty()
    }

    /// A group value by key name (`Some(None)` when the key is present with a null value).
    pub fn value(&self, key: &str) -> Option<Option<&str>> {
        self.group.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_deref())
    }

    /// The row as one JSON line (no newline), in the contract's field order.
    pub fn to_json(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(320);
        s.push_str("{\"kind\":\"summary\",\"window\":{\"period\":");
        push_json_string(&mut s, &self.window.period);
        for (k, v) in [("start", &self.window.start), ("end", &self.window.end)] {
            let _ = write!(s, ",\"{k}\":");
            match v {
                Some(t) => push_json_string(&mut s, &fmt_bound(t)),
                None => s.push_str("null"),
            }
        }
        s.push_str("},\"group\":{");
        for (i, (k, v)) in self.group.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            push_json_string(&mut s, k);
            s.push(':');
            match v {
                Some(v) => push_json_string(&mut s, v),
                None => s.push_str("null"),
            }
        }
        let _ = write!(
            s,
            "}},\"records\":{},\"sessions\":{}{},\"input_tokens\":{},\"output_tokens\":{},\"cache_read_tokens\":{},\
             \"cache_write_tokens\":{},\"total_tokens\":{},\"cost_usd\":{},\"unpriced_records\":{}}}",
            self.records,
            self.sessions,
            if self.sessions_estimated { ",\"sessions_estimated\":true" } else { "" },
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.total_tokens,
            money::canonical(self.cost_usd),
            self.unpriced_records
        );
        if let Some(n) = self.omitted_groups {
            s.pop();
            let _ = write!(s, ",\"omitted_groups\":{n}}}");
        }
        if let Some(from) = &self.from {
            s.pop();
            s.push_str(",\"from\":[");
            for (i, f) in from.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_json_string(&mut s, f);
            }
            s.push_str("]}");
        }
        s
    }

    /// Parse a row written by [`Summary::to_json`] (by this or another tt tool). Errors name the field; the
    /// caller adds file:line.
    pub fn from_json(line: &str) -> Result<Summary> {
        let v: Value = serde_json::from_str(line).map_err(|e| Error::data(crate::record::json_error_message(&e)))?;
        Summary::from_value(&v)
    }

    /// True when a JSON line looks like a summary row (`"kind":"summary"`) rather than a usage record.
    pub fn is_summary_line(line: &str) -> bool {
        serde_json::from_str::<Value>(line)
            .ok()
            .is_some_and(|v| v.get("kind").and_then(Value::as_str) == Some("summary"))
    }

    /// From a parsed JSON object. Every count and `cost_usd` must be present: a row missing one is an error,
    /// never read as 0. Errors start with `summary row:` and name the field; the caller adds file:line.
    pub fn from_value(v: &Value) -> Result<Summary> {
        Summary::parse_value(v).map_err(|e| Error::data(format!("summary row: {}", e.message())))
    }

    fn parse_value(v: &Value) -> Result<Summary> {
        let o = v.as_object().ok_or_else(|| Error::data("expected a JSON object"))?;
        match o.get("kind").and_then(Value::as_str) {
            Some("summary") => {}
            Some(k) => return Err(Error::data(format!("expected a summary row, got kind {k:?}"))),
            None => return Err(Error::data("missing field `kind` (expected a tt-sum summary row)")),
        }
        let window = row_window(o)?;
        let group = row_group(o)?;
        let int = |k: &str| -> Result<u64> {
            match o.get(k) {
                None | Some(Value::Null) => Err(Error::data(format!("missing field `{k}`"))),
                Some(v) => {
                    v.as_u64().ok_or_else(|| Error::data(format!("field `{k}`: expected a non-negative integer")))
                }
            }
        };
        let cost_usd = row_cost(o)?;
        let omitted_groups = match o.get("omitted_groups") {
            None | Some(Value::Null) => None,
            Some(_) => Some(int("omitted_groups")?),
        };
        let from = row_from(o)?;
        let row = Summary {
            window,
            group,
            records: int("records")?,
            sessions: int("sessions")?,
            sessions_estimated: match o.get("sessions_estimated") {
                None | Some(Value::Null) | Some(Value::Bool(false)) => false,
                Some(Value::Bool(true)) => true,
                Some(_) => return Err(Error::data("field `sessions_estimated`: expected true or false")),
            },
            input_tokens: int("input_tokens")?,
            output_tokens: int("output_tokens")?,
            cache_read_tokens: int("cache_read_tokens")?,
            cache_write_tokens: int("cache_write_tokens")?,
            total_tokens: int("total_tokens")?,
            cost_usd,
            unpriced_records: int("unpriced_records")?,
            omitted_groups,
            from,
        };
        let sum = [row.output_tokens, row.cache_read_tokens, row.cache_write_tokens]
            .iter()
            .try_fold(row.input_tokens, |a, b| a.checked_add(*b));
        if sum != Some(row.total_tokens) {
            return Err(Error::data(
                "field `total_tokens`: not the sum of input, output, cache read and cache write tokens",
            ));
        }
        if row.unpriced_records > row.records {
            return Err(Error::data("field `unpriced_records`: more than `records`"));
        }
        Ok(row)
    }
}

/// A summary row's `window`.
fn row_window(o: &Map<String, Value>) -> Result<RowWindow> {
    let w = o.get("window").and_then(Value::as_object).ok_or_else(|| Error::data("missing field `window`"))?;
    let period = w
        .get("period")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::data("field `window.period`: expected a string"))?
        .to_string();
    let bound = |k: &str| -> Result<Option<DateTime<FixedOffset>>> {
        match w.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
                .map(Some)
                .map_err(|_| Error::data(format!("field `window.{k}`: not an RFC 3339 time: {s:?}"))),
            Some(_) => Err(Error::data(format!("field `window.{k}`: expected a string"))),
        }
    };
    Ok(RowWindow { period, start: bound("start")?, end: bound("end")? })
}

/// A summary row's `group`: its keys in order, a value or null each.
fn row_group(o: &Map<String, Value>) -> Result<Vec<(String, Option<String>)>> {
    let mut group = Vec::new();
    match o.get("group") {
        None | Some(Value::Null) => {}
        Some(Value::Object(g)) => {
            for (k, v) in g {
                let v = match v {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    _ => return Err(Error::data(format!("field `group.{k}`: expected a string or null"))),
                };
                group.push((k.clone(), v));
            }
        }
        Some(_) => return Err(Error::data("field `group`: expected an object")),
    }
    Ok(group)
}

/// A summary row's `cost_usd`, exact: a number or a string, never negative.
fn row_cost(o: &Map<String, Value>) -> Result<Decimal> {
    let cost_usd = match o.get("cost_usd") {
        None | Some(Value::Null) => return Err(Error::data("missing field `cost_usd`")),
        Some(Value::Number(n)) => money::parse_decimal(&n.to_string())
            .ok_or_else(|| Error::data(format!("field `cost_usd`: not a decimal number: {n}")))?,
        Some(Value::String(s)) => money::parse_decimal(s)
            .ok_or_else(|| Error::data(format!("field `cost_usd`: not a decimal number: {s}")))?,
        Some(_) => return Err(Error::data("field `cost_usd`: expected a number")),
    };
    if cost_usd.is_sign_negative() && !cost_usd.is_zero() {
        return Err(Error::data("field `cost_usd`: must not be negative"));
    }
    Ok(cost_usd)
}

/// A summary row's `from`: the files its records came from, absent when they came from a pipe.
fn row_from(o: &Map<String, Value>) -> Result<Option<Vec<String>>> {
    Ok(match o.get("from") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|f| f.as_str().map(String::from))
                .collect::<Option<Vec<String>>>()
                .filter(|f| !f.is_empty())
                .ok_or_else(|| Error::data("field `from`: expected a non-empty array of file names"))?,
        ),
        Some(_) => return Err(Error::data("field `from`: expected an array of file names")),
    })
}

/// Aggregate `sources` with up to a few threads per large file: the groups and the total.
pub fn aggregate<'c>(
    sources: &[crate::input::Source],
    keys: &[Key],
    cal: Calendar,
    window: &Window,
    prices: &'c PriceTable,
) -> Result<Aggregator<'c>> {
    let mut acc = Aggregator::new(keys.to_vec(), cal, window.clone(), prices);
    for src in sources {
        let parts = crate::scan::fold(
            src,
            || Aggregator::new(keys.to_vec(), cal, window.clone(), prices),
            |agg, v| {
                agg.add(v);
                Ok(())
            },
        )?;
        for p in parts {
            acc.merge(p);
        }
    }
    acc.check()?;
    Ok(acc)
}

/// The sum columns of a summary row, in the contract's order (CSV headers of tt-sum and tt-export).
pub const SUM_COLUMNS: [&str; 9] = [
    "records",
    "sessions",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "total_tokens",
    "cost_usd",
    "unpriced_records",
];

/// Summary rows as a table (tt-sum's table and markdown): one column per key, the sums, and UNPRICED when any
/// record is unpriced; the total row last, after a rule. On a narrow screen the groups, their total tokens and
/// cost (and what could not be priced) stay.
pub fn rows_table(keys: &[String], rows: &[Summary]) -> crate::output::Table {
    use crate::output::Table;
    let unpriced = rows.iter().any(|r| r.unpriced_records > 0);
    let mut headers: Vec<String> = keys.iter().map(|k| k.to_uppercase()).collect();
    if headers.is_empty() {
        headers.push(String::new());
    }
    let nums = ["RECORDS", "SESSIONS", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "TOTAL TOKENS", "COST"];
    headers.extend(nums.iter().map(|s| s.to_string()));
    if unpriced {
        headers.push("UNPRICED".into());
    }
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut right: Vec<&str> = nums.to_vec();
    right.push("UNPRICED");
    let mut t = Table::new(&h, &right);
    // On a narrow screen the groups, their total tokens and cost (and what could not be priced) stay.
    t.may_drop(&["SESSIONS", "CACHE WRITE", "CACHE READ", "RECORDS", "OUTPUT", "INPUT"]);
    for r in rows {
        let mut cells: Vec<String> = if r.is_total() {
            let mut c = vec!["TOTAL".to_string()];
            c.extend(std::iter::repeat_n(String::new(), keys.len().saturating_sub(1)));
            // A rule separates the groups from the total; with no groups there is nothing to separate.
            if !t.rows.is_empty() {
                t.rule();
            }
            c
        } else {
            r.group.iter().map(|(_, v)| v.clone().unwrap_or_else(|| "(none)".into())).collect()
        };
        cells.extend([
            money::thousands(r.records),
            // An estimate (too many sessions to count exactly in bounded memory) says so.
            if r.sessions_estimated {
                format!("≈{}", money::thousands(r.sessions))
            } else {
                money::thousands(r.sessions)
            },
            money::thousands(r.input_tokens),
            money::thousands(r.output_tokens),
            money::thousands(r.cache_read_tokens),
            money::thousands(r.cache_write_tokens),
            money::thousands(r.total_tokens),
            // A group whose every record is unpriced has no cost, not a cost of $0.
            if r.records > 0 && r.unpriced_records == r.records { "–".to_string() } else { money::usd(r.cost_usd) },
        ]);
        if unpriced {
            cells.push(money::thousands(r.unpriced_records));
        }
        t.row(cells);
    }
    t
}

/// The note under a table of rows cut by `--top`: how many groups were left out (the total counts them).
pub fn omitted_note(rows: &[Summary]) -> Option<String> {
    // Groups --top left out: counted in the total, and said under the table.
    rows.iter().rev().find(|r| r.is_total()).and_then(|r| r.omitted_groups).map(|n| {
        format!(
            "… and {} more group{} (left out by --top; the total counts {})",
            money::thousands(n),
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" }
        )
    })
}

/// The group keys of some summary rows, in the order they first appear (rows read from a pipe may come from
/// several tt-sum runs).
pub fn group_keys(rows: &[Summary]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for r in rows {
        for (k, _) in &r.group {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

/// Summary rows as CSV — the one writer, for tt-sum and tt-export alike: `kind` (`group`, or `total` with
/// empty key cells, so a group named TOTAL is still a group), the window, one column per key in `keys`, the
/// [`SUM_COLUMNS`], and `omitted_groups` (the total row only: how many groups `--top` left out). Text from
/// the log goes through `output::csv_safe` (formula neutralisation, unless `--csv-exact`).
pub fn write_csv(out: &mut impl std::io::Write, keys: &[String], rows: &[Summary]) -> Result<()> {
    let mut w = crate::output::csv_writer(out);
    let mut header: Vec<&str> = vec!["kind", "period", "start", "end"];
    header.extend(keys.iter().map(String::as_str));
    header.extend(SUM_COLUMNS);
    header.push("omitted_groups");
    w.write_record(&header).map_err(crate::output::csv_error)?;
    let bound = |t: Option<DateTime<FixedOffset>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
    };
    let safe = |v: &str| crate::output::csv_safe(v).into_owned();
    for r in rows {
        let mut cells = vec![
            if r.is_total() { "total" } else { "group" }.to_string(),
            safe(&r.window.period),
            bound(r.window.start),
            bound(r.window.end),
        ];
        cells.extend(keys.iter().map(|k| r.value(k).flatten().map(safe).unwrap_or_default()));
        cells.extend([
            r.records.to_string(),
            r.sessions.to_string(),
            r.input_tokens.to_string(),
            r.output_tokens.to_string(),
            r.cache_read_tokens.to_string(),
            r.cache_write_tokens.to_string(),
            r.total_tokens.to_string(),
            money::canonical(r.cost_usd),
            r.unpriced_records.to_string(),
            if r.is_total() { r.omitted_groups.unwrap_or(0).to_string() } else { String::new() },
        ]);
        w.write_record(&cells).map_err(crate::output::csv_error)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_round_trip() {
        let w = Window::all(chrono_tz::UTC);
        let mut t = Totals::default();
        t.add(&Tokens { input: 1, output: 2, cache_write_1h: 3, ..Default::default() }, None, Some("s"));
        t.add(&Tokens::default(), money::parse_decimal("0.1000000000000000000001"), Some("s"));
        let row =
            Summary::new(RowWindow::of(&w), vec![("agent".into(), Some("A\"".into())), ("task".into(), None)], &t);
        let j = row.to_json();
        assert_eq!(
            j,
            r#"{"kind":"summary","window":{"period":"all","start":null,"end":null},"group":{"agent":"A\"","task":null},"records":2,"sessions":1,"input_tokens":1,"output_tokens":2,"cache_read_tokens":0,"cache_write_tokens":3,"total_tokens":6,"cost_usd":0.1000000000000000000001,"unpriced_records":1}"#
        );
        assert_eq!(Summary::from_json(&j).unwrap(), row);
    }
}

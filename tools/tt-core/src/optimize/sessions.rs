//! One agent's state per task and per session, small for names seen once.
//!
//! A name is a *task* when it is a record's `task`, or its `session` when it has no task (the efficiency table
//! counts tasks and lists the dearest), and a *session* when it is a record's `session` (session outliers,
//! caching). Both roles share one entry of the agent's [`NameTable`].
//!
//! Most names of a normal log gather many records, but on a log where every record has its own session every
//! name has one, and then the state of a name is most of tt-optimize's memory. So a name seen in one record
//! keeps only that record's part ([`Contribution`]: tokens, cost, time, model, service tier — 80 bytes in the
//! table, no heap; the full state is a heap block of 120 bytes and one of 168 per model), and becomes the full
//! state ([`Many`]) when a second record or another part of the input names it. The full state is built by
//! replaying the kept record exactly as it was first observed, then the new one, so the result is the same as
//! building it at once: it does not depend on the order of the records or on how the input was split.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::caching::{self, Group};
use super::stats::sat_add;
use super::{TaskStats, TokenSums};
use crate::config::OptimizeSettings;
use crate::price::ModelEntry;
use crate::record::{Billing, Service, Tokens};

/// The name is a task of the record.
pub const TASK: u8 = 1;
/// The name is the session of the record.
pub const SESSION: u8 = 2;

/// What one record brings to a name: everything its analyses read, so it can be replayed.
#[derive(Debug, Clone, Copy)]
pub struct Contribution<'c> {
    /// When.
    pub ts: DateTime<Utc>,
    /// Its tokens.
    pub tokens: Tokens,
    /// Its cost when priced (zero otherwise).
    pub cost: Decimal,
    /// False for a record with neither a logged cost nor a known model.
    pub priced: bool,
    /// Its model's price entry, when known (caching needs it).
    pub model: Option<&'c ModelEntry>,
    /// Its service tier and fast mode: with the tokens and the time they choose the rates caching compares.
    /// Tool calls are left out, as they are priced per call, never in the rates.
    pub service: Service,
    /// Fast mode.
    pub fast: bool,
    /// The roles of the name the record is kept for in a [`Slot::One`] (here, in what would be padding, rather
    /// than beside it in the slot, where it would cost 8 bytes a name).
    pub roles: u8,
}

impl Contribution<'_> {
    fn billing(&self) -> Billing {
        Billing { service: self.service, fast: self.fast, ..Billing::default() }
    }
}

/// The full state of a name that more than one record (or part of the input) names.
#[derive(Debug, Default)]
pub struct Many<'c> {
    roles: u8,
    /// As a task.
    task: TaskStats,
    /// As a session: the cost of its priced records, how many there are, and its caching groups (one per model).
    cost: Decimal,
    priced: u64,
    caching: Vec<Group<'c>>,
}

impl<'c> Many<'c> {
    fn add(&mut self, c: &Contribution<'c>, roles: u8, gap: Duration) {
        self.roles |= roles;
        if roles & TASK != 0 {
            let t = &mut self.task;
            t.records += 1;
            t.tokens.add(&c.tokens);
            if c.priced {
                sat_add(&mut t.cost, c.cost);
            } else {
                t.unpriced += 1;
            }
        }
        if roles & SESSION != 0 {
            if c.priced {
                sat_add(&mut self.cost, c.cost);
                self.priced += 1;
            }
            if let Some(entry) = c.model {
                caching::observe(&mut self.caching, entry, c.ts, &c.tokens, &c.billing(), gap);
            }
        }
    }

    /// `o` is the state of the part of the input that follows this one's (the caching runs need the order).
    fn merge(&mut self, o: Many<'c>, gap: Duration) {
        self.roles |= o.roles;
        self.task.merge(o.task);
        sat_add(&mut self.cost, o.cost);
        self.priced += o.priced;
        caching::merge(&mut self.caching, o.caching, gap);
    }
}

/// A name's state: one record's part, or the full state.
#[derive(Debug)]
pub enum Slot<'c> {
    /// Named by one record only, in the roles its `roles` gives.
    One(Contribution<'c>),
    /// Named more than once.
    Many(Box<Many<'c>>),
}

impl<'c> Slot<'c> {
    /// The state of a name the record `c` names in `roles`.
    pub fn new(c: &Contribution<'c>, roles: u8) -> Slot<'c> {
        Slot::One(Contribution { roles, ..*c })
    }

    fn into_many(self, gap: Duration) -> Box<Many<'c>> {
        match self {
            Slot::Many(m) => m,
            Slot::One(c) => {
                let mut m = Box::<Many<'c>>::default();
                m.add(&c, c.roles, gap);
                m
            }
        }
    }

    /// Add a record that names this name in `roles`.
    pub fn add(&mut self, c: &Contribution<'c>, roles: u8, gap: Duration) {
        match self {
            Slot::Many(m) => m.add(c, roles, gap),
            Slot::One(first) => {
                // The record kept is replayed first, as it came first.
                let mut m = Box::<Many<'c>>::default();
                m.add(first, first.roles, gap);
                m.add(c, roles, gap);
                *self = Slot::Many(m);
            }
        }
    }

    /// Combine with the same name's state in the part of the input that follows this one's.
    pub fn merge(&mut self, o: Slot<'c>, gap: Duration) {
        let o = o.into_many(gap);
        match self {
            Slot::Many(m) => m.merge(*o, gap),
            Slot::One(first) => {
                let mut m = Box::<Many<'c>>::default();
                m.add(first, first.roles, gap);
                m.merge(*o, gap);
                *self = Slot::Many(m);
            }
        }
    }

    fn roles(&self) -> u8 {
        match self {
            Slot::One(c) => c.roles,
            Slot::Many(m) => m.roles,
        }
    }

    /// The name as a task, if it is one.
    pub fn task(&self) -> Option<TaskStats> {
        if self.roles() & TASK == 0 {
            return None;
        }
        Some(match self {
            Slot::One(c) => {
                let mut tokens = TokenSums::default();
                tokens.add(&c.tokens);
                TaskStats { records: 1, unpriced: u64::from(!c.priced), tokens, cost: c.cost }
            }
            Slot::Many(m) => m.task,
        })
    }

    /// The name as a session, if it is one: its cost, when it has a priced record.
    pub fn session(&self) -> Option<Option<Decimal>> {
        if self.roles() & SESSION == 0 {
            return None;
        }
        Some(match self {
            Slot::One(c) => c.priced.then_some(c.cost),
            Slot::Many(m) => (m.priced > 0).then_some(m.cost),
        })
    }

    /// Call `f` with each of the session's caching groups that make a suggestion. A name seen once has one
    /// request per group; its group is only built when one request can make a suggestion (`cache_min_requests`
    /// ≤ 1), so a log of single-record sessions does not build a million groups to drop them.
    pub fn suggesting_groups(&self, s: &OptimizeSettings, mut f: impl FnMut(&Group<'c>)) {
        let groups = match self {
            Slot::One(c) => match c.model {
                Some(entry) if c.roles & SESSION != 0 && s.cache_min_requests <= 1 => {
                    let mut g = Vec::new();
                    caching::observe(&mut g, entry, c.ts, &c.tokens, &c.billing(), s.cache_max_gap);
                    std::borrow::Cow::Owned(g)
                }
                _ => return,
            },
            Slot::Many(m) => std::borrow::Cow::Borrowed(&m.caching[..]),
        };
        groups.iter().filter(|g| g.qualifies(s)).for_each(&mut f);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// A session of 10,000 requests in time order (pairs a minute apart, the pairs 10 minutes apart), started
    /// as one record and grown by records and merged parts, keeps its order: the kept record is replayed
    /// before the ones that came after it, so the runs can be folded and the saving is the one
    /// `caching`'s own test computes (19.5), however the session is cut and in either direction.
    #[test]
    fn a_session_grown_from_one_record_keeps_its_order() {
        let config = Config::from_str_layer("test", "").unwrap();
        let entry = config.prices.resolve("sonnet-4.5").unwrap();
        let (s, gap) = (&config.optimize, config.optimize.cache_max_gap);
        let base = crate::record::parse_ts("2026-01-01T00:00:00Z").unwrap();
        let n = 10_000;
        let at = |i: i64| Contribution {
            ts: base + Duration::seconds((i / 2) * 600 + (i % 2) * 60),
            tokens: Tokens { input: 2000, ..Tokens::default() },
            cost: Decimal::ZERO,
            priced: false,
            model: Some(entry),
            service: Service::Standard,
            fast: false,
            roles: 0,
        };
        for newest_first in [false, true] {
            let c = |i: i64| at(if newest_first { n - 1 - i } else { i });
            for cut in [1, 2, 5001, n - 1] {
                let mut a = Slot::new(&c(0), SESSION);
                (1..cut).for_each(|i| a.add(&c(i), SESSION, gap));
                let mut b = Slot::new(&c(cut), SESSION);
                (cut + 1..n).for_each(|i| b.add(&c(i), SESSION, gap));
                a.merge(b, gap);
                let mut savings = Vec::new();
                a.suggesting_groups(s, |g| savings.extend(g.suggestion(s, "A", "s", "r").map(|x| x.saving)));
                assert_eq!(savings, [Some(Decimal::new(195, 1))], "cut {cut}, newest first {newest_first}");
            }
        }
    }

    #[test]
    fn a_name_seen_once_costs_no_more_than_its_record() {
        // The reason for `One`: a log where every record has its own session keeps one of these per record.
        assert!(std::mem::size_of::<Slot<'_>>() <= 80, "{}", std::mem::size_of::<Slot<'_>>());
    }
}

//! Outliers: records and sessions far above their agent's normal cost.
//!
//! An agent's threshold is `max(p<outlier_percentile>, outlier_factor × median)` of its record costs (or of its
//! session costs), nearest-rank, for agents with at least `outlier_min_records` priced records (sessions): a
//! record or session costing *more* than that is an outlier. Both conditions matter: the percentile alone would
//! flag the top 5% of any agent, the factor alone would flag half of an agent whose costs vary widely.
//!
//! The "saving" of an outlier is its excess over the agent's median — what it would have cost had it been a
//! typical request (session) of that agent. It is an upper bound of what investigating it can save, not a
//! priced alternative; the message says so.
//!
//! Session costs are kept per session anyway (compactly, see `super::sessions`), so session thresholds are
//! exact. Record costs are not kept: the
//! record threshold comes from a bounded per-agent sample (exact up to [`super::stats::SAMPLE_SIZE`] records,
//! see [`super::stats::Sample`]), and a second pass over the records finds those above it — exactly, with exact
//! sums.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::stats::{Sample, money_json, percentile, sat_add};

use super::{Suggestion, TopIds, Type, Usage};
use crate::config::OptimizeSettings;
use crate::money;

/// An agent's normal cost and the threshold above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    /// Median cost.
    pub median: Decimal,
    /// The configured percentile's cost.
    pub percentile: Decimal,
    /// max(percentile, factor × median).
    pub threshold: Decimal,
}

/// The threshold of ascending `sorted` costs, if there are enough of them.
pub fn threshold(s: &OptimizeSettings, sorted: &[Decimal]) -> Option<Threshold> {
    if (sorted.len() as u64) < s.outlier_min_records.max(1) {
        return None;
    }
    let median = percentile(sorted, 50)?;
    let p = percentile(sorted, s.outlier_percentile)?;
    let factor = s.outlier_factor.checked_mul(median).unwrap_or(Decimal::MAX);
    Some(Threshold { median, percentile: p, threshold: p.max(factor) })
}

#[derive(Debug, Clone)]
struct AgentOutliers {
    t: Threshold,
    exact: bool,
    count: u64,
    cost: Decimal,
    excess: Decimal,
    top: TopIds,
}

/// The second pass over the records: each agent's threshold, and the records above it.
#[derive(Debug, Clone, Default)]
pub struct RecordPass {
    agents: HashMap<String, AgentOutliers>,
}

impl RecordPass {
    /// Thresholds from each agent's cost sample.
    pub fn new<'a>(s: &OptimizeSettings, samples: impl Iterator<Item = (&'a str, &'a Sample)>) -> RecordPass {
        let mut agents = HashMap::new();
        for (name, sample) in samples {
            if let Some(t) = threshold(s, &sample.sorted()) {
                let a = AgentOutliers {
                    t,
                    exact: sample.is_exact(),
                    count: 0,
                    cost: Decimal::ZERO,
                    excess: Decimal::ZERO,
                    top: TopIds::default(),
                };
                agents.insert(name.to_string(), a);
            }
        }
        RecordPass { agents }
    }

    /// Combine with the pass over another part of the input (same thresholds).
    pub fn merge(&mut self, o: RecordPass) {
        for (name, oa) in o.agents {
            if let Some(a) = self.agents.get_mut(&name) {
                a.count += oa.count;
                sat_add(&mut a.cost, oa.cost);
                sat_add(&mut a.excess, oa.excess);
                a.top.merge(oa.top);
            }
        }
    }

    /// True when some agent has a threshold.
    pub fn is_needed(&self) -> bool {
        !self.agents.is_empty()
    }

    /// Compare one priced record with its agent's threshold.
    pub fn observe(&mut self, u: &impl Usage, cost: Decimal) {
        if let Some(a) = self.agents.get_mut(u.agent())
            && cost > a.t.threshold
        {
            a.count += 1;
            sat_add(&mut a.cost, cost);
            sat_add(&mut a.excess, cost - a.t.median);
            a.top.offer(cost, u.id());
        }
    }

    /// One suggestion per agent with outliers.
    pub fn suggestions(&self, s: &OptimizeSettings) -> Vec<Suggestion> {
        let mut out = Vec::new();
        for (agent, a) in &self.agents {
            if a.count == 0 {
                continue;
            }
            let mut e = evidence(s, agent, &a.t, a.count, a.cost, "records");
            e.insert("percentiles_exact".into(), a.exact.into());
            e.insert("record_ids".into(), Value::Array(a.top.ids()));
            out.push(Suggestion {
                kind: Type::Outlier,
                saving: Some(a.excess),
                no_saving_reason: None,
                message: format!(
                    "{agent}: {} cost more than {} (max of p{} {} and {}× the median {}), {} in all; at the median \
                     they would have cost {} less — look at what made them expensive",
                    super::stats::plural(a.count, "record"),
                    money::usd(a.t.threshold),
                    s.outlier_percentile,
                    money::usd(a.t.percentile),
                    money::canonical(s.outlier_factor),
                    money::usd(a.t.median),
                    money::usd(a.cost),
                    money::usd(a.excess),
                ),
                evidence: e,
                brief: format!("records: {}", a.top.brief(a.count)),
                key: agent.clone(),
            });
        }
        out
    }
}

/// Sessions of one agent far above its normal session cost: `sorted` holds the costs of its priced sessions
/// in ascending order, and `sessions` yields the same sessions as (id, cost), in any order (the sums are exact
/// and the listed ids are the top of a total order, so the order does not matter).
pub fn session_outliers<'a>(
    s: &OptimizeSettings,
    agent: &str,
    sorted: &[Decimal],
    sessions: impl Iterator<Item = (&'a str, Decimal)>,
) -> Option<Suggestion> {
    let t = threshold(s, sorted)?;
    let (mut n, mut cost, mut excess, mut top) = (0u64, Decimal::ZERO, Decimal::ZERO, TopIds::default());
    for (id, c) in sessions {
        if c > t.threshold {
            n += 1;
            sat_add(&mut cost, c);
            sat_add(&mut excess, c - t.median);
            top.offer(c, id);
        }
    }
    if n == 0 {
        return None;
    }
    let mut e = evidence(s, agent, &t, n, cost, "sessions");
    e.insert("session_ids".into(), Value::Array(top.ids()));
    Some(Suggestion {
        kind: Type::SessionOutlier,
        saving: Some(excess),
        no_saving_reason: None,
        message: format!(
            "{agent}: {} cost more than {} (max of p{} {} and {}× the median session {}), {} in all; at the median \
             they would have cost {} less",
            super::stats::plural(n, "session"),
            money::usd(t.threshold),
            s.outlier_percentile,
            money::usd(t.percentile),
            money::canonical(s.outlier_factor),
            money::usd(t.median),
            money::usd(cost),
            money::usd(excess),
        ),
        evidence: e,
        brief: format!("sessions: {}", top.brief(n)),
        key: agent.to_string(),
    })
}

fn evidence(
    s: &OptimizeSettings,
    agent: &str,
    t: &Threshold,
    count: u64,
    cost: Decimal,
    what: &str,
) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("agent".into(), agent.into());
    e.insert(what.into(), count.into());
    e.insert("cost_usd".into(), money_json(cost));
    e.insert("median_usd".into(), money_json(t.median));
    e.insert("percentile".into(), s.outlier_percentile.into());
    e.insert("percentile_usd".into(), money_json(t.percentile));
    e.insert("threshold_usd".into(), money_json(t.threshold));
    e
}

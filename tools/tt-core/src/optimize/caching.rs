//! Prompt caching: sessions that resend a large prompt without reading it from the prompt cache.
//!
//! Per session and model (caches are per model) we keep the number of requests, the prompt and cache-read
//! token sums, and the smallest uncached input of any request — the *repeated prefix* `P`: every request of the
//! session sent at least that many uncached tokens, so `P` is a conservative size for what they share.
//!
//! The saving model: had the first request (earliest `ts`, then smallest id) written `P` tokens to the 5-minute
//! cache and every later request read them from it, each later request would pay `cache_read` instead of
//! `input` for `P` tokens, and the first would pay `cache_write` instead of `input` for them:
//!
//! ```text
//! saving = P × Σ_{later requests} (input − cache_read)  −  P × (cache_write − input)_{first request}
//! ```
//!
//! with each request's own rates (its price entry at its `ts`; moving tokens between input and cache keeps the
//! whole prompt the same, so a long-context tier stays as it was). It assumes the requests come within the
//! cache's lifetime of each other. A session is a candidate when it has at least `cache_min_requests` requests,
//! a cache hit ratio (cache read / prompt) below `cache_max_hit_ratio`, `P ≥ cache_min_prefix_tokens`, and a
//! positive saving (models whose cache reads cost as much as input never qualify).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::stats::{count, opt_json, pct};
use super::{Suggestion, Type, Usage};
use crate::config::OptimizeSettings;
use crate::money;
use crate::price::{ModelEntry, per_million, rates_at};
use crate::record::Tokens;

/// One session's requests on one model.
#[derive(Debug, Clone)]
pub struct Group {
    model: String,
    requests: u64,
    prompt: u64,
    cache_read: u64,
    min_input: u64,
    /// Σ (input − cache_read) rate over every request, USD per million tokens.
    gain: Decimal,
    first_ts: DateTime<Utc>,
    first_id: String,
    first_gain: Decimal,
    /// (cache_write − input) rate of the first request.
    first_premium: Decimal,
}

/// Add a request to its session's group for `entry`.
pub fn observe(groups: &mut Vec<Group>, entry: &ModelEntry, u: &impl Usage, t: &Tokens) {
    let r = rates_at(entry, u.ts(), t);
    let gain = r.input - r.cache_read;
    let premium = r.cache_write - r.input;
    let (ts, id) = (u.ts(), u.id());
    match groups.iter_mut().find(|g| g.model == entry.name) {
        Some(g) => {
            g.requests += 1;
            g.prompt = g.prompt.saturating_add(t.prompt());
            g.cache_read = g.cache_read.saturating_add(t.cache_read);
            g.min_input = g.min_input.min(t.input);
            super::stats::sat_add(&mut g.gain, gain);
            if (ts, id) < (g.first_ts, g.first_id.as_str()) {
                g.first_ts = ts;
                g.first_id = id.to_string();
                g.first_gain = gain;
                g.first_premium = premium;
            }
        }
        None => groups.push(Group {
            model: entry.name.clone(),
            requests: 1,
            prompt: t.prompt(),
            cache_read: t.cache_read,
            min_input: t.input,
            gain,
            first_ts: ts,
            first_id: id.to_string(),
            first_gain: gain,
            first_premium: premium,
        }),
    }
}

/// Combine the groups of another part of the input into `into`.
pub fn merge(into: &mut Vec<Group>, from: Vec<Group>) {
    for o in from {
        match into.iter_mut().find(|g| g.model == o.model) {
            Some(g) => {
                g.requests += o.requests;
                g.prompt = g.prompt.saturating_add(o.prompt);
                g.cache_read = g.cache_read.saturating_add(o.cache_read);
                g.min_input = g.min_input.min(o.min_input);
                super::stats::sat_add(&mut g.gain, o.gain);
                if (o.first_ts, o.first_id.as_str()) < (g.first_ts, g.first_id.as_str()) {
                    g.first_ts = o.first_ts;
                    g.first_id = o.first_id;
                    g.first_gain = o.first_gain;
                    g.first_premium = o.first_premium;
                }
            }
            None => into.push(o),
        }
    }
}

impl Group {
    /// The suggestion for this session, if it qualifies.
    pub fn suggestion(&self, s: &OptimizeSettings, agent: &str, session: &str) -> Option<Suggestion> {
        if self.requests < s.cache_min_requests || self.min_input < s.cache_min_prefix_tokens || self.prompt == 0 {
            return None;
        }
        let hit = Decimal::from(self.cache_read) / Decimal::from(self.prompt);
        if hit >= s.cache_max_hit_ratio {
            return None;
        }
        let p = self.min_input;
        let saving = self
            .gain
            .checked_sub(self.first_gain)
            .and_then(|g| g.checked_sub(self.first_premium))
            .and_then(|g| g.checked_mul(Decimal::from(p)))
            .map(per_million)?;
        if saving <= Decimal::ZERO {
            return None;
        }
        let hit4 = super::stats::ratio(Decimal::from(self.cache_read), Decimal::from(self.prompt), 4);
        let mut e = Map::new();
        e.insert("agent".into(), agent.into());
        e.insert("session".into(), session.into());
        e.insert("model".into(), self.model.clone().into());
        e.insert("requests".into(), self.requests.into());
        e.insert("prompt_tokens".into(), self.prompt.into());
        e.insert("cache_read_tokens".into(), self.cache_read.into());
        e.insert("cache_hit_ratio".into(), opt_json(hit4));
        e.insert("repeated_prefix_tokens".into(), p.into());
        e.insert("first_record_id".into(), self.first_id.clone().into());
        e.insert(
            "saving_model".into(),
            Value::from(
                "the repeated prefix written to the 5-minute cache by the first request and read by every later one",
            ),
        );
        Some(Suggestion {
            kind: Type::Caching,
            saving: Some(saving),
            no_saving_reason: None,
            message: format!(
                "session {session} ({agent}, {}): {} each resent at least {} uncached prompt tokens with a cache hit \
                 ratio of {}; caching that prefix (written once, read {}) would have saved {}",
                self.model,
                count(self.requests, "request"),
                money::thousands(p),
                pct(hit),
                count(self.requests - 1, "time"),
                money::usd(saving),
            ),
            evidence: e,
            brief: format!("session: {session}, first record {}", self.first_id),
            key: format!("{agent}\u{0}{session}\u{0}{}", self.model),
        })
    }
}

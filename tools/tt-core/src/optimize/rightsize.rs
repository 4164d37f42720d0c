//! Model right-sizing: small requests on an expensive model that the next cheaper model of the same provider
//! would do.
//!
//! A request is *small* when its output is at most `small_output_tokens` and its whole prompt (input + cache
//! read + cache writes) at most `small_prompt_tokens` (config `[optimize]`). Its saving is exact: the very same
//! tokens priced at the record's own model and at the cheaper one, both from the price table at the record's
//! timestamp (dated prices and long-context tiers applied), so a logged `cost_usd` priced with an older table
//! does not leak into the difference. One suggestion per agent and model, when the agent has at least
//! `rightsize_min_records` small requests on it.
//!
//! The cheaper model is `[optimize.cheaper]`'s entry for the model (one size down: opus → sonnet → haiku,
//! gpt-4o → gpt-4o-mini). A model named there only as a target is the bottom of its ladder and gets none. A
//! model not named there at all (one you added to the price table) gets one derived from the price table: a
//! model of the same provider that is cheaper on input and on output, preferring the longest shared name prefix
//! (the same family), then the smallest step down in price, then the name.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::stats::money_json;
use super::stats::sat_add;
use super::{Suggestion, TopIds, Type, Usage};
use crate::config::OptimizeSettings;
use crate::money;
use crate::price::{ModelEntry, PriceTable, cost_with};
use crate::record::Tokens;

/// The small requests of one agent on one model.
#[derive(Debug, Clone, Default)]
pub struct Group {
    records: u64,
    cost: Decimal,
    cost_cheaper: Decimal,
    cheaper: String,
    top: TopIds,
}

impl Group {
    /// Add one small request — if the cheaper model prices it lower. It may not: a long prompt can cross the
    /// cheaper model's long-context tier (Sonnet 4.5 above 200k costs more than Opus 4.5), and such a record
    /// would only shrink the saving and muddle the evidence.
    pub fn observe(&mut self, entry: &ModelEntry, cheaper: &ModelEntry, u: &impl Usage, t: &Tokens) {
        let now = cost_with(entry, u.ts(), t, &u.billing());
        let alt = cost_with(cheaper, u.ts(), t, &u.billing());
        if alt >= now {
            return;
        }
        self.records += 1;
        sat_add(&mut self.cost, now);
        sat_add(&mut self.cost_cheaper, alt);
        if self.cheaper.is_empty() {
            self.cheaper = cheaper.name.clone();
        }
        self.top.offer(now - alt, u.id());
    }

    /// Combine with the group of another part of the input.
    pub fn merge(&mut self, o: Group) {
        self.records += o.records;
        sat_add(&mut self.cost, o.cost);
        sat_add(&mut self.cost_cheaper, o.cost_cheaper);
        if self.cheaper.is_empty() {
            self.cheaper = o.cheaper;
        }
        self.top.merge(o.top);
    }

    /// The suggestion, if the group is big enough and the cheaper model actually saves.
    pub fn suggestion(&self, s: &OptimizeSettings, agent: &str, model: &str) -> Option<Suggestion> {
        let saving = self.cost - self.cost_cheaper;
        if self.records < s.rightsize_min_records || saving <= Decimal::ZERO {
            return None;
        }
        let mut e = Map::new();
        e.insert("agent".into(), agent.into());
        e.insert("model".into(), model.into());
        e.insert("suggested_model".into(), self.cheaper.clone().into());
        e.insert("records".into(), self.records.into());
        e.insert("cost_usd".into(), money_json(self.cost));
        e.insert("cost_at_suggested_usd".into(), money_json(self.cost_cheaper));
        let mut rule = Map::new();
        rule.insert("max_output_tokens".into(), s.small_output_tokens.into());
        rule.insert("max_prompt_tokens".into(), s.small_prompt_tokens.into());
        e.insert("rule".into(), Value::Object(rule));
        e.insert("record_ids".into(), Value::Array(self.top.ids()));
        Some(Suggestion {
            kind: Type::Rightsize,
            saving: Some(saving),
            no_saving_reason: None,
            message: format!(
                "{agent} used {model} for {} (output ≤ {} and prompt ≤ {} tokens); on {} they would \
                 have cost {} instead of {}, {} less",
                super::stats::plural(self.records, "small request"),
                money::thousands(s.small_output_tokens),
                money::thousands(s.small_prompt_tokens),
                self.cheaper,
                money::usd(self.cost_cheaper),
                money::usd(self.cost),
                money::usd(saving),
            ),
            evidence: e,
            brief: format!("records: {}", self.top.brief(self.records)),
            key: format!("{agent}\u{0}{model}"),
        })
    }
}

/// The cheaper model derived from the price table when `[optimize.cheaper]` has no entry for `entry`.
pub fn derive_cheaper<'t>(prices: &'t PriceTable, entry: &ModelEntry) -> Option<&'t ModelEntry> {
    let provider = entry.provider.as_deref()?;
    let (pi, po) = (entry.base.input, entry.base.output);
    prices
        .candidates_of(provider)
        .into_iter()
        .filter(|c| c.provider.as_deref() == Some(provider) && c.name != entry.name)
        // A model that writes no output (an embedding model) does not do a chat model's work.
        .filter(|c| !c.base.output.is_zero())
        .filter(|c| c.base.input <= pi && c.base.output <= po && (c.base.input < pi || c.base.output < po))
        .max_by(|a, b| {
            shared_prefix(&a.name, &entry.name)
                .cmp(&shared_prefix(&b.name, &entry.name))
                .then((a.base.input + a.base.output).cmp(&(b.base.input + b.base.output)))
                .then_with(|| b.name.cmp(&a.name))
        })
}

fn shared_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn derived_cheaper_models_stay_in_the_family() {
        let c = Config::builtin().unwrap();
        let name = |m: &str| derive_cheaper(&c.prices, c.prices.resolve(m).unwrap()).map(|x| x.name.clone());
        assert_eq!(name("gpt-4o").as_deref(), Some("gpt-4o-mini"));
        assert_eq!(name("gpt-4.1").as_deref(), Some("gpt-4.1-mini"));
        assert_eq!(name("gemini-2.5-flash").as_deref(), Some("gemini-2.5-flash-lite"));
        assert_eq!(name("gpt-5-nano"), None);
        // The bottom of its ladder: no Anthropic model the config names is cheaper on both prices.
        assert_eq!(name("claude-3-5-haiku"), None);
    }

    #[test]
    fn configured_ladder_is_valid() {
        let c = Config::builtin().unwrap();
        assert_eq!(c.optimize.cheaper.get("claude-opus-4-5").map(String::as_str), Some("claude-sonnet-4-5"));
    }
}

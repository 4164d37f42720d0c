//! The `[optimize]` table: tt-optimize's rules ([`OptimizeSettings`]), merged key by key, and the check of
//! its `cheaper` entries against the prices.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

use super::Builder;
use super::values::{Place, Price};
use crate::error::{Error, Result};
use crate::price::PriceTable;

/// The `[optimize]` table: the rules behind tt-optimize's suggestions (defaults in `config/tt.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizeSettings {
    /// Right-sizing: a request is "small" when its output is at most this many tokens …
    pub small_output_tokens: u64,
    /// … and its whole prompt (input + cache) at most this many.
    pub small_prompt_tokens: u64,
    /// Right-sizing: fewest small requests of one agent on one model worth a suggestion.
    pub rightsize_min_records: u64,
    /// Caching: fewest requests of a session on one model worth a suggestion.
    pub cache_min_requests: u64,
    /// Caching: the smallest repeated prefix (uncached input of the session's smallest request) worth caching.
    pub cache_min_prefix_tokens: u64,
    /// Caching: sessions whose cache hit ratio (cache read / prompt) is below this fraction are candidates.
    pub cache_max_hit_ratio: Decimal,
    /// Caching: the cache's lifetime — a request reads the cached prefix only when it comes at most this long
    /// after the previous request of its session and model; a longer pause starts a new run that writes it again.
    pub cache_max_gap: chrono::Duration,
    /// Outliers: a record or session is an outlier above `max(p<outlier_percentile>, outlier_factor × median)`.
    pub outlier_factor: Decimal,
    /// Outliers: the percentile (1–100).
    pub outlier_percentile: u32,
    /// Outliers: fewest priced records (or sessions) an agent needs before its "normal" cost means anything.
    pub outlier_min_records: u64,
    /// Budget advice: the recommended limit is this percentile (1–100) of past complete periods.
    pub budget_percentile: u32,
    /// The next cheaper model of the same provider, by canonical model name (`claude-opus-4-5` →
    /// `claude-sonnet-4-5`). Models not listed fall back to a model derived from the price table.
    pub cheaper: BTreeMap<String, String>,
}

impl Default for OptimizeSettings {
    fn default() -> Self {
        OptimizeSettings {
            small_output_tokens: 1_000,
            small_prompt_tokens: 20_000,
            rightsize_min_records: 3,
            cache_min_requests: 3,
            cache_min_prefix_tokens: 1_024,
            cache_max_hit_ratio: Decimal::new(1, 1),
            cache_max_gap: chrono::Duration::minutes(5),
            outlier_factor: Decimal::from(3),
            outlier_percentile: 95,
            outlier_min_records: 10,
            budget_percentile: 90,
            cheaper: BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOptimize {
    small_output_tokens: Option<u64>,
    small_prompt_tokens: Option<u64>,
    rightsize_min_records: Option<u64>,
    cache_min_requests: Option<u64>,
    cache_min_prefix_tokens: Option<u64>,
    cache_max_hit_ratio: Option<Spanned<Price>>,
    cache_max_gap: Option<Spanned<String>>,
    outlier_factor: Option<Spanned<Price>>,
    outlier_percentile: Option<Spanned<u32>>,
    outlier_min_records: Option<u64>,
    budget_percentile: Option<Spanned<u32>>,
    #[serde(default)]
    cheaper: BTreeMap<String, Spanned<String>>,
}

/// What is wrong with `[optimize.cheaper]`'s `from = to`, if anything: a model not in the price table, two
/// providers, or a `to` that is not cheaper on both input and output.
pub fn cheaper_problem(prices: &PriceTable, from: &str, to: &str) -> Option<String> {
    match (prices.resolve(from), prices.resolve(to)) {
        (None, _) => Some(format!("model `{from}` is not in the price table")),
        (_, None) => Some(format!("model `{to}` is not in the price table")),
        (Some(a), Some(b)) if a.provider.is_some() && b.provider.is_some() && a.provider != b.provider => {
            Some(format!("`{to}` is not a model of the same provider as `{from}`"))
        }
        (Some(a), Some(b)) => {
            let (pa, pb) = (&a.base, &b.base);
            (pb.input > pa.input || pb.output > pa.output || (pb.input == pa.input && pb.output == pa.output))
                .then(|| format!("`{to}` is not cheaper than `{from}`"))
        }
    }
}

impl Builder {
    /// Merge one layer's `[optimize]` table key by key; `cheaper` entries merge by model (`""` removes one).
    /// Errors carry the byte offset of the offending value when known.
    pub(super) fn optimize_layer(
        &mut self,
        ro: RawOptimize,
        place: Place,
    ) -> std::result::Result<(), (Option<usize>, String)> {
        let o = &mut self.optimize;
        let percentile = |key: &str, v: Option<Spanned<u32>>, into: &mut u32| match v {
            Some(p) if !(1..=100).contains(p.get_ref()) => {
                Err((Some(p.span().start), format!("{key}`: must be between 1 and 100, got {}", p.get_ref())))
            }
            Some(p) => {
                *into = p.into_inner();
                Ok(())
            }
            None => Ok(()),
        };
        percentile("outlier_percentile", ro.outlier_percentile, &mut o.outlier_percentile)?;
        percentile("budget_percentile", ro.budget_percentile, &mut o.budget_percentile)?;
        if let Some(r) = ro.cache_max_hit_ratio {
            if r.get_ref().0 > Decimal::ONE {
                return Err((
                    Some(r.span().start),
                    "cache_max_hit_ratio`: is a fraction between 0 and 1 (0.1 means 10%)".into(),
                ));
            }
            o.cache_max_hit_ratio = r.get_ref().0;
        }
        if let Some(g) = ro.cache_max_gap {
            let bad = |m: String| (Some(g.span().start), format!("cache_max_gap`: {m}"));
            let ms = crate::args::parse_duration(g.get_ref()).map_err(|e| bad(e.message().to_string()))?;
            // A prompt cache lives 5 minutes or an hour: a longer gap would count reads no cache gives.
            if !(1000..=3_600_000).contains(&ms) {
                return Err(bad(format!(
                    "must be between \"1s\" and \"1h\" (the 5-minute cache is \"5m\"), got {:?}",
                    g.get_ref()
                )));
            }
            o.cache_max_gap = chrono::Duration::milliseconds(ms as i64);
        }
        if let Some(f) = ro.outlier_factor {
            if f.get_ref().0 < Decimal::ONE {
                return Err((Some(f.span().start), "outlier_factor`: must be at least 1".into()));
            }
            o.outlier_factor = f.get_ref().0;
        }
        for (v, into) in [
            (ro.small_output_tokens, &mut o.small_output_tokens),
            (ro.small_prompt_tokens, &mut o.small_prompt_tokens),
            (ro.rightsize_min_records, &mut o.rightsize_min_records),
            (ro.cache_min_requests, &mut o.cache_min_requests),
            (ro.cache_min_prefix_tokens, &mut o.cache_min_prefix_tokens),
            (ro.outlier_min_records, &mut o.outlier_min_records),
        ] {
            if let Some(v) = v {
                *into = v;
            }
        }
        for (from, to) in ro.cheaper {
            let at = place.at(to.span().start);
            let from = from.trim().to_ascii_lowercase();
            let to = to.get_ref().trim().to_ascii_lowercase();
            if to.is_empty() {
                o.cheaper.remove(&from);
                self.cheaper_source.remove(&from);
            } else {
                o.cheaper.insert(from.clone(), to);
                self.cheaper_source.insert(from, at);
            }
        }
        Ok(())
    }

    /// Every `optimize.cheaper` entry must name two priced models of the same provider, the second cheaper on
    /// both input and output: a mapping that would suggest a dearer model is a config error, not a suggestion.
    /// A *built-in* entry that a user's own prices have made invalid (say haiku repriced above sonnet) is
    /// dropped instead: the user wrote nothing wrong, and tt-log must not fail over a tt-optimize default.
    /// Check the user's `[optimize.cheaper]` entries against the prices: an entry that names an unknown model,
    /// one of another provider or one that is not cheaper is an error naming where it was written. The built-in
    /// entries are not checked here (that would read a dozen catalogue lines at every start): `tt-optimize` drops
    /// those that do not hold ([`cheaper_problem`]).
    pub(super) fn check_cheaper(&mut self, prices: &PriceTable) -> Result<()> {
        for (from, to) in &self.optimize.cheaper {
            let source = self.cheaper_source.get(from).map(String::as_str).unwrap_or("config");
            if source.starts_with("builtin:") {
                continue;
            }
            if let Some(m) = cheaper_problem(prices, from, to) {
                return Err(Error::config(format!("{source}: key `optimize.cheaper.{from}`: {m}")));
            }
        }
        Ok(())
    }
}

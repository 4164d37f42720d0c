//! The `[[budget]]` tables: read, checked against [`crate::budget::rules`], merged by name across layers.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::Builder;
use super::values::{Place, Price};
use crate::budget::{Budget, BudgetPeriod, default_warn_at};
use crate::error::{Error, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBudget {
    name: Spanned<String>,
    period: String,
    #[serde(default)]
    scope: BTreeMap<String, String>,
    limit_usd: Option<Price>,
    limit_tokens: Option<u64>,
    warn_at: Option<Vec<Price>>,
}

impl Builder {
    /// Add one layer's `[[budget]]` tables; a budget replaces an earlier layer's of the same name.
    pub(super) fn budgets_layer(&mut self, budgets: Vec<RawBudget>, place: Place) -> Result<()> {
        // Within one file a name is given once: a second `[[budget]]` of the same name is a mistake (a copied
        // block), not a replacement — that is what a later layer does.
        let mut named: BTreeMap<String, usize> = BTreeMap::new();
        for (i, rb) in budgets.into_iter().enumerate() {
            let at = rb.name.span().start;
            if let Some(&first) = named.get(rb.name.get_ref()) {
                return Err(place.err(
                    at,
                    "budget",
                    format!(
                        "duplicate name {:?} (#{}), already given at {} (one file names a budget once; a later \
                         config layer may replace it)",
                        rb.name.get_ref(),
                        i + 1,
                        place.at(first)
                    ),
                ));
            }
            named.insert(rb.name.get_ref().clone(), at);
            let b = build_budget(rb, place.name)
                .map_err(|m| Error::config(format!("{}: key `budget` (#{}): {m}", place.at(at), i + 1)))?;
            self.budgets.retain(|old| old.name != b.name);
            self.budgets.push(b);
        }
        Ok(())
    }
}

fn build_budget(rb: RawBudget, source: &str) -> std::result::Result<Budget, String> {
    let name = rb.name.get_ref().trim().to_string();
    if name.is_empty() {
        return Err("`name` must not be empty".into());
    }
    let period = BudgetPeriod::parse(&rb.period).ok_or_else(|| {
        format!("{name}: `period` must be day, week, month, year, total or session, got {:?}", rb.period)
    })?;
    for k in rb.scope.keys() {
        if !crate::record::is_scope_field(k) {
            return Err(format!("{name}: scope key `{k}` is not a record field"));
        }
    }
    let budget = Budget {
        name,
        period,
        scope: rb.scope,
        limit_usd: rb.limit_usd.map(|p| p.0),
        limit_tokens: rb.limit_tokens,
        // Checked as written, never sorted: `[0.9, 0.5]` is a mistake to report, not to guess at.
        warn_at: rb.warn_at.map_or_else(default_warn_at, |v| v.into_iter().map(|p| p.0).collect()),
        source: source.to_string(),
    };
    crate::budget::rules(&budget).map_err(|e| format!("{}: {e}", budget.name))?;
    Ok(budget)
}

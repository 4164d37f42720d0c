//! The budgets a gate is asked about: an ad-hoc budget from the command line (`--limit-usd` / `--limit-tokens`
//! with `--period`, `--scope`, `--warn-at`, `--name`), or configured budgets picked by name.
//!
//! An ad-hoc budget obeys the same rules as a configured one (it goes through [`super::validate`]): a limit
//! above 0, scope fields that are record fields with non-empty values, each once, and warning levels that rise.

use std::collections::BTreeMap;

use super::{Budget, BudgetPeriod, default_warn_at};
use crate::args::{parse_token_flag, parse_usd};
use crate::error::{Error, Result};

/// A budget described by flags, every value as typed.
#[derive(Debug, Clone, Default)]
pub struct AdHoc {
    /// `--name`.
    pub name: String,
    /// `--period`: day, week, month, year, total or session (and the `daily` … spellings).
    pub period: String,
    /// `--scope FIELD=VALUE`, in order.
    pub scope: Vec<String>,
    /// `--warn-at`: fractions or percentages, comma-separated.
    pub warn_at: Option<String>,
    /// `--limit-usd`.
    pub limit_usd: Option<String>,
    /// `--limit-tokens`.
    pub limit_tokens: Option<String>,
}

impl AdHoc {
    /// The budget, checked like a configured one; its source is "command line".
    pub fn build(&self) -> Result<Budget> {
        let period = BudgetPeriod::parse(&self.period).ok_or_else(|| {
            Error::usage(format!("--period must be day, week, month, year, total or session, got {:?}", self.period))
        })?;
        let limit_usd = self.limit_usd.as_deref().map(|s| parse_usd("--limit-usd", s)).transpose()?;
        positive("--limit-usd", limit_usd.is_some_and(|l| l.is_zero()))?;
        let limit_tokens = self.limit_tokens.as_deref().map(|s| parse_token_flag("--limit-tokens", s)).transpose()?;
        positive("--limit-tokens", limit_tokens == Some(0))?;
        let b = Budget {
            name: self.name.clone(),
            period,
            scope: self.scope()?,
            limit_usd,
            limit_tokens,
            warn_at: self.warn_at()?,
            source: "command line".into(),
        };
        super::validate(&b)?;
        Ok(b)
    }

    fn scope(&self) -> Result<BTreeMap<String, String>> {
        let mut scope = BTreeMap::new();
        for s in &self.scope {
            let (k, v) =
                s.split_once('=').ok_or_else(|| Error::usage(format!("--scope wants FIELD=VALUE, got {s:?}")))?;
            if !crate::record::is_scope_field(k) {
                return Err(Error::usage(format!("--scope: `{k}` is not a record field")));
            }
            if v.trim().is_empty() {
                return Err(Error::usage(format!(
                    "--scope {k}= has an empty value, which no record has; leave --scope {k} out to count every {k}"
                )));
            }
            if scope.insert(k.to_string(), v.to_string()).is_some() {
                return Err(Error::usage(format!("--scope: `{k}` given twice")));
            }
        }
        Ok(scope)
    }

    fn warn_at(&self) -> Result<Vec<rust_decimal::Decimal>> {
        let Some(s) = &self.warn_at else { return Ok(default_warn_at()) };
        let w = s.split(',').map(super::parse_fraction).collect::<Option<Vec<_>>>().ok_or_else(|| {
            Error::usage(format!(
                "--warn-at wants fractions or percentages such as 0.5,0.8,0.95 or 50%,80%,95%, got {s:?}"
            ))
        })?;
        super::check_warn_at(&w).map_err(|m| Error::usage(format!("--warn-at {m}")))?;
        Ok(w)
    }
}

/// A zero limit has no percentage: refused with the way out.
fn positive(flag: &str, zero: bool) -> Result<()> {
    if zero {
        return Err(Error::usage(format!(
            "{flag} must be more than 0: a zero limit has no percentage (to allow almost nothing, give a tiny limit \
             such as 0.01)"
        )));
    }
    Ok(())
}

/// The configured budgets named in `names` (all of them when none is named), in the config's order. A name
/// that matches none is a usage error listing the configured ones; no budget at all is a config error.
pub fn pick(configured: &[Budget], names: &[String]) -> Result<Vec<Budget>> {
    if let Some(n) = names.iter().find(|n| !configured.iter().any(|b| &b.name == *n)) {
        return Err(Error::usage(format!(
            "no budget named {n:?} (configured: {})",
            configured.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let list: Vec<Budget> =
        configured.iter().filter(|b| names.is_empty() || names.contains(&b.name)).cloned().collect();
    if list.is_empty() {
        return Err(Error::config(
            "no budgets configured: add a [[budget]] to tt.toml (see tt-budget --help) or give --limit-usd / --limit-tokens",
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(limit: &str) -> AdHoc {
        AdHoc { name: "ad-hoc".into(), period: "month".into(), limit_usd: Some(limit.into()), ..AdHoc::default() }
    }

    #[test]
    fn an_ad_hoc_budget_is_checked_like_a_configured_one() {
        let b = month("60").build().unwrap();
        assert_eq!(
            (b.period, b.limit_usd.map(|d| d.to_string()), b.source.as_str()),
            (BudgetPeriod::Month, Some("60".into()), "command line")
        );
        assert_eq!(b.warn_at, default_warn_at());
        assert!(month("0").build().unwrap_err().message().starts_with("--limit-usd must be more than 0"));
        let mut scoped = month("1");
        scoped.scope = vec!["agent=A".into(), "agent=B".into()];
        assert_eq!(scoped.build().unwrap_err().message(), "--scope: `agent` given twice");
        scoped.scope = vec!["colour=red".into()];
        assert_eq!(scoped.build().unwrap_err().message(), "--scope: `colour` is not a record field");
        let mut warn = month("1");
        warn.warn_at = Some("50%,x".into());
        assert!(warn.build().unwrap_err().message().starts_with("--warn-at wants fractions"));
    }

    #[test]
    fn picking_names_what_is_configured() {
        let a = month("1").build().unwrap();
        let b = Budget { name: "team".into(), ..a.clone() };
        assert_eq!(pick(&[a.clone(), b.clone()], &["team".into()]).unwrap().len(), 1);
        assert_eq!(pick(&[a.clone(), b.clone()], &[]).unwrap().len(), 2);
        assert_eq!(
            pick(&[a, b], &["nope".into()]).unwrap_err().message(),
            "no budget named \"nope\" (configured: ad-hoc, team)"
        );
        assert!(pick(&[], &[]).unwrap_err().message().starts_with("no budgets configured"));
    }
}

//! Budget advice: for each configured budget, its history, trend, forecast and a recommended limit.
//!
//! Spend in the budget's scope is summed per calendar period of the budget (day, week, month, year in the
//! configured time zone and week start, the windows of [`crate::period::Calendar`]), or per session for
//! `session` budgets; `total` budgets have no periods and get no advice. Periods between the first one with
//! spend and the current one count, empty ones as $0 — a quiet month is history too.
//!
//! * recommended limit: the `budget_percentile` (nearest-rank) of the *complete* periods' spend, rounded up to
//!   the cent (tokens: of their token totals), when there are at least [`MIN_HISTORY`] complete periods;
//! * trend: the last complete period against the one before;
//! * forecast, level and the date the limit will be reached: the current period evaluated exactly as
//!   tt-budget does ([`crate::budget::Evaluation`]: the burn rate so far, kept up to the end of the period).
//!
//! Advice has no saving: it sets a limit, it does not change what is spent.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

use super::stats::{count, money_json, opt_json, pct, percentile};
use super::{Suggestion, Type, Usage};
use crate::aggregate::{FxMap, RowWindow};
use crate::budget::{Evaluation, Level, Spent};
use crate::config::{Budget, BudgetPeriod, OptimizeSettings};
use crate::money;
use crate::period::{Calendar, format_in};

/// Fewest complete periods (or sessions) a recommendation is based on.
pub const MIN_HISTORY: usize = 3;

/// How many past periods the evidence lists.
const HISTORY_SHOWN: usize = 12;

/// Spend of one budget, per period.
#[derive(Debug, Clone)]
pub struct BudgetState<'c> {
    budget: &'c Budget,
    periods: BTreeMap<DateTime<Utc>, Spent>,
    sessions: FxMap<String, Spent>,
    /// The period the last record fell in: logs are mostly in time order, so most records skip the calendar.
    last: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl<'c> BudgetState<'c> {
    /// State for a budget that can be advised on (not `total`).
    pub fn new(budget: &'c Budget) -> Option<BudgetState<'c>> {
        (budget.period != BudgetPeriod::Total).then(|| BudgetState {
            budget,
            periods: BTreeMap::new(),
            sessions: FxMap::default(),
            last: None,
        })
    }

    /// Combine with the state of another part of the input.
    pub fn merge(&mut self, o: BudgetState<'_>) {
        for (k, sp) in o.periods {
            self.periods.entry(k).or_default().merge(&sp);
        }
        for (k, sp) in o.sessions {
            self.sessions.entry(k).or_default().merge(&sp);
        }
    }

    /// Count one record if it is in the budget's scope.
    pub fn observe(&mut self, u: &impl Usage, cal: &Calendar, cost: Option<Decimal>, tokens: u64) {
        if !self.budget.scope.iter().all(|(k, v)| u.has(k, v)) {
            return;
        }
        if self.budget.period == BudgetPeriod::Session {
            if let Some(s) = u.session() {
                let e = match self.sessions.get_mut(s) {
                    Some(e) => e,
                    None => self.sessions.entry(s.to_string()).or_default(),
                };
                e.add(tokens, cost);
            }
            return;
        }
        let ts = u.ts();
        let start = match self.last {
            Some((s, e)) if ts >= s && ts < e => s,
            _ => {
                let w = cal.budget_window(self.budget.period, ts);
                let (Some(s), Some(e)) = (w.start, w.end) else { return };
                self.last = Some((s, e));
                s
            }
        };
        self.periods.entry(start).or_default().add(tokens, cost);
    }

    /// The advice, if the budget saw any spend.
    pub fn suggestion(&self, s: &OptimizeSettings, cal: &Calendar) -> Option<Suggestion> {
        if self.budget.period == BudgetPeriod::Session {
            return self.session_advice(s);
        }
        let first = *self.periods.keys().next()?;
        let p = self.budget.period;
        let cur = cal.current_budget_window(p);
        let (cur_start, cur_end) = (cur.start?, cur.end?);
        // Complete periods from the first with spend up to the current one, empty ones as zero.
        let mut history: Vec<(DateTime<Utc>, Decimal, u64)> = Vec::new();
        let mut at = first;
        while at < cur_start && history.len() < 1_000_000 {
            let w = cal.budget_window(p, at);
            let (Some(ws), Some(we)) = (w.start, w.end) else { break };
            let sp = self.periods.get(&ws).copied().unwrap_or_default();
            history.push((ws, sp.usd, sp.tokens));
            at = we;
        }
        let spent = self.periods.get(&cur_start).copied().unwrap_or_default();
        let (cur_cost, cur_tokens) = (spent.usd, spent.tokens);
        let eval = Evaluation::new(self.budget, RowWindow::of(&cur), None, spent, cal.now, cal);
        let forecast = eval.forecast.as_ref().map(|f| f.usd);
        let name = &self.budget.name;
        let unit = p.as_str();
        let n = history.len();
        let mut costs: Vec<Decimal> = history.iter().map(|h| h.1).collect();
        costs.sort();
        let mut tokens: Vec<u64> = history.iter().map(|h| h.2).collect();
        tokens.sort();
        let pct_cost = if n >= MIN_HISTORY { percentile(&costs, s.budget_percentile) } else { None };
        let recommended = pct_cost.map(round_cents_up);
        let recommended_tokens = if n >= MIN_HISTORY && self.budget.limit_tokens.is_some() {
            let as_dec: Vec<Decimal> = tokens.iter().map(|t| Decimal::from(*t)).collect();
            percentile(&as_dec, s.budget_percentile)
        } else {
            None
        };
        let over = self.budget.limit_usd.map(|l| history.iter().filter(|h| h.1 > l).count());
        let trend = if n >= 2 {
            let (last, prev) = (history[n - 1].1, history[n - 2].1);
            Some((last, prev, super::stats::ratio(last - prev, prev, 4)))
        } else {
            None
        };

        let mut e = Map::new();
        e.insert("budget".into(), name.clone().into());
        e.insert("period".into(), unit.into());
        e.insert("scope".into(), scope_json(self.budget));
        e.insert("limit_usd".into(), opt_json(self.budget.limit_usd));
        e.insert("limit_tokens".into(), self.budget.limit_tokens.map(Value::from).unwrap_or(Value::Null));
        e.insert("complete_periods".into(), n.into());
        e.insert("percentile".into(), s.budget_percentile.into());
        e.insert("percentile_usd".into(), opt_json(pct_cost));
        e.insert("recommended_limit_usd".into(), opt_json(recommended));
        e.insert("recommended_limit_tokens".into(), opt_json(recommended_tokens));
        e.insert("periods_over_limit".into(), over.map(Value::from).unwrap_or(Value::Null));
        let shown: Vec<Value> = history[n.saturating_sub(HISTORY_SHOWN)..]
            .iter()
            .map(|(start, c, t)| {
                let mut m = Map::new();
                m.insert("start".into(), format_in(*start, cal.tz).into());
                m.insert("cost_usd".into(), money_json(*c));
                m.insert("tokens".into(), (*t).into());
                Value::Object(m)
            })
            .collect();
        e.insert("history".into(), Value::Array(shown));
        let mut c = Map::new();
        c.insert("start".into(), format_in(cur_start, cal.tz).into());
        c.insert("end".into(), format_in(cur_end, cal.tz).into());
        c.insert("cost_usd".into(), money_json(cur_cost));
        c.insert("tokens".into(), cur_tokens.into());
        c.insert("level".into(), eval.level.as_str().into());
        c.insert("forecast_usd".into(), opt_json(forecast));
        let limit_date = eval.forecast.as_ref().and_then(|f| f.limit_date);
        c.insert("limit_date".into(), limit_date.map(|d| Value::from(d.to_string())).unwrap_or(Value::Null));
        e.insert("current".into(), Value::Object(c));
        if let Some((last, prev, change)) = trend {
            let mut t = Map::new();
            t.insert("last_usd".into(), money_json(last));
            t.insert("previous_usd".into(), money_json(prev));
            t.insert("change".into(), opt_json(change));
            e.insert("trend".into(), Value::Object(t));
        }

        let mut msg = format!("budget {name} ({unit}");
        if let Some(l) = self.budget.limit_usd {
            msg.push_str(&format!(", limit {}", money::usd(l)));
        }
        msg.push_str("): ");
        match (pct_cost, recommended) {
            (Some(pc), Some(r)) => {
                msg.push_str(&format!(
                    "p{} of the last {} is {}",
                    s.budget_percentile,
                    count(n as u64, &format!("complete {unit}")),
                    money::usd(pc)
                ));
                if let Some(o) = over {
                    msg.push_str(&format!(" (over the limit in {o} of {n})"));
                }
                msg.push_str(&format!(" → recommended limit {}", money::usd(r)));
                if let Some(t) = recommended_tokens {
                    msg.push_str(&format!(" and {} tokens", money::thousands(t.try_into().unwrap_or(u64::MAX))));
                }
            }
            _ => msg.push_str(&format!(
                "only {} of history, {MIN_HISTORY} needed for a recommendation",
                count(n as u64, &format!("complete {unit}"))
            )),
        }
        msg.push_str(&format!("; this {unit} so far {}", money::usd(cur_cost)));
        if eval.level != Level::Ok {
            msg.push_str(&format!(" ({})", eval.level.as_str()));
        }
        if let Some(f) = forecast {
            msg.push_str(&format!(", forecast {} at the current burn", money::usd(f)));
            if let Some(d) = limit_date {
                msg.push_str(&format!(" (limit reached on {d})"));
            }
        }
        if let Some((last, prev, change)) = trend {
            msg.push_str(&format!("; last {unit} {} vs {} the one before", money::usd(last), money::usd(prev)));
            if let Some(ch) = change {
                let sign = if ch > Decimal::ZERO { "+" } else { "" };
                msg.push_str(&format!(" ({sign}{})", pct(ch)));
            }
        }
        Some(Suggestion {
            kind: Type::Budget,
            saving: None,
            no_saving_reason: Some("budget advice recommends a limit; it does not change what is spent".into()),
            message: msg,
            evidence: e,
            brief: format!("budget: {name}"),
            key: name.clone(),
        })
    }

    fn session_advice(&self, s: &OptimizeSettings) -> Option<Suggestion> {
        if self.sessions.is_empty() {
            return None;
        }
        let name = &self.budget.name;
        let n = self.sessions.len();
        let mut costs: Vec<Decimal> = self.sessions.values().map(|v| v.usd).collect();
        costs.sort();
        let pct_cost = if n >= MIN_HISTORY { percentile(&costs, s.budget_percentile) } else { None };
        let recommended = pct_cost.map(round_cents_up);
        let recommended_tokens = if n >= MIN_HISTORY && self.budget.limit_tokens.is_some() {
            let mut t: Vec<Decimal> = self.sessions.values().map(|v| Decimal::from(v.tokens)).collect();
            t.sort();
            percentile(&t, s.budget_percentile)
        } else {
            None
        };
        let over = self.budget.limit_usd.map(|l| costs.iter().filter(|c| **c > l).count());
        let mut e = Map::new();
        e.insert("budget".into(), name.clone().into());
        e.insert("period".into(), "session".into());
        e.insert("scope".into(), scope_json(self.budget));
        e.insert("limit_usd".into(), opt_json(self.budget.limit_usd));
        e.insert("limit_tokens".into(), self.budget.limit_tokens.map(Value::from).unwrap_or(Value::Null));
        e.insert("sessions".into(), n.into());
        e.insert("percentile".into(), s.budget_percentile.into());
        e.insert("percentile_usd".into(), opt_json(pct_cost));
        e.insert("recommended_limit_usd".into(), opt_json(recommended));
        e.insert("recommended_limit_tokens".into(), opt_json(recommended_tokens));
        e.insert("sessions_over_limit".into(), over.map(Value::from).unwrap_or(Value::Null));
        let mut msg = format!("budget {name} (per session");
        if let Some(l) = self.budget.limit_usd {
            msg.push_str(&format!(", limit {}", money::usd(l)));
        }
        msg.push_str("): ");
        match (pct_cost, recommended) {
            (Some(pc), Some(r)) => {
                msg.push_str(&format!(
                    "p{} of {} is {}",
                    s.budget_percentile,
                    count(n as u64, "session"),
                    money::usd(pc)
                ));
                if let Some(o) = over {
                    msg.push_str(&format!(" (over the limit in {o} of {n})"));
                }
                msg.push_str(&format!(" → recommended limit {}", money::usd(r)));
            }
            _ => msg.push_str(&format!(
                "only {} of history, {MIN_HISTORY} needed for a recommendation",
                count(n as u64, "session")
            )),
        }
        Some(Suggestion {
            kind: Type::Budget,
            saving: None,
            no_saving_reason: Some("budget advice recommends a limit; it does not change what is spent".into()),
            message: msg,
            evidence: e,
            brief: format!("budget: {name}"),
            key: name.clone(),
        })
    }
}

fn round_cents_up(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::AwayFromZero)
}

fn scope_json(b: &Budget) -> Value {
    Value::Object(b.scope.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect())
}

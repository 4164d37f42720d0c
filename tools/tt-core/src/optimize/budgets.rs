//! Budget advice: for each configured budget, its history, trend, forecast and a recommended limit.
//!
//! Spend in the budget's scope is summed per calendar period of the budget (day, week, month, year in the
//! configured time zone and week start, the windows of [`crate::period::Calendar`]), per session for `session`
//! budgets, and per calendar month for `total` budgets. Periods between the first one with spend and the current
//! one count, empty ones as $0 — a quiet month is history too (for the trend and the evidence).
//!
//! * recommended limit: the `budget_percentile` (nearest-rank) of the spend of the *complete* periods that had
//!   any (tokens: of their token totals), rounded up to the cent, when there are at least [`MIN_HISTORY`] of
//!   them. Periods without records are left out of the percentile: with sparse history they would drag it to
//!   $0, and a $0 limit is never useful — nor is any recommendation of $0 made;
//! * periods (sessions) over the limit: those that spent more than any of the budget's limits, dollars or
//!   tokens;
//! * messages speak the budget's own units: dollars for a dollar limit, tokens for a token limit, both (dollars
//!   first) for both; the evidence has both either way;
//! * trend: the last complete period against the one before;
//! * forecast, level and the date the limit will be reached: the current period evaluated exactly as
//!   tt-budget does ([`crate::budget::Evaluation`]: the burn rate so far, kept up to the end of the period), and
//!   a note when the current period has already spent more than the recommended limit;
//! * `total` budgets (all time) have no periods to learn a limit from: their advice is the spend so far, the
//!   burn rate of the last (up to) [`BURN_MONTHS`] complete months and the date the limit is reached at that
//!   rate, with no recommended limit.
//!
//! Advice has no saving: it sets a limit, it does not change what is spent.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

use super::names::NameTable;
use super::stats::{money_json, opt_json, pct, percentile, plural};
use super::{Suggestion, Type, Usage};
use crate::aggregate::RowWindow;
use crate::budget::{Evaluation, Level, Spent};
use crate::config::{Budget, BudgetPeriod, OptimizeSettings};
use crate::error::Result;
use crate::money;
use crate::period::{Calendar, format_in};

/// Fewest complete periods with spend (or sessions) a recommendation is based on.
pub const MIN_HISTORY: usize = 3;

/// How many complete months the burn rate of a `total` budget is measured over (at most).
pub const BURN_MONTHS: usize = 3;

/// How many past periods the evidence lists.
const HISTORY_SHOWN: usize = 12;

const NO_SAVING: &str = "budget advice recommends a limit; it does not change what is spent";

/// The complete periods (start, spend), the current period's window, and its spend.
type History = (Vec<(DateTime<Utc>, Spent)>, crate::period::Window, Spent);

/// Spend of one budget, per period.
#[derive(Debug, Clone)]
pub struct BudgetState<'c> {
    budget: &'c Budget,
    periods: BTreeMap<DateTime<Utc>, Spent>,
    /// Spend per session for a `session` budget, in a compact table: one entry per session of the log.
    sessions: NameTable<Spent>,
    /// The period the last record fell in: logs are mostly in time order, so most records skip the calendar.
    last: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl<'c> BudgetState<'c> {
    /// State for a budget.
    pub fn new(budget: &'c Budget) -> BudgetState<'c> {
        BudgetState { budget, periods: BTreeMap::new(), sessions: NameTable::default(), last: None }
    }

    /// The calendar unit spend is kept in: the budget's period, months for a `total` budget.
    fn unit(&self) -> BudgetPeriod {
        match self.budget.period {
            BudgetPeriod::Total => BudgetPeriod::Month,
            p => p,
        }
    }

    /// Combine with the state of another part of the input.
    pub fn merge(&mut self, o: BudgetState<'_>) {
        for (k, sp) in o.periods {
            self.periods.entry(k).or_default().merge(&sp);
        }
        self.sessions.merge(o.sessions, |a, b| a.merge(&b));
    }

    /// Count one record if it is in the budget's scope.
    pub fn observe(&mut self, u: &impl Usage, cal: &Calendar, cost: Option<Decimal>, tokens: u64) {
        if !self.budget.scope.iter().all(|(k, v)| u.has(k, v)) {
            return;
        }
        if self.budget.period == BudgetPeriod::Session {
            if let Some(s) = u.session() {
                match self.sessions.get_mut(s) {
                    Ok(e) => e.add(tokens, cost),
                    Err(vacant) => {
                        let mut e = Spent::default();
                        e.add(tokens, cost);
                        // A full table is reported by `suggestion`.
                        self.sessions.insert(vacant, s, e);
                    }
                }
            }
            return;
        }
        let ts = u.ts();
        let start = match self.last {
            Some((s, e)) if ts >= s && ts < e => s,
            _ => {
                let w = cal.budget_window(self.unit(), ts);
                let (Some(s), Some(e)) = (w.start, w.end) else { return };
                self.last = Some((s, e));
                s
            }
        };
        self.periods.entry(start).or_default().add(tokens, cost);
    }

    /// The advice, if the budget saw any spend; an error when its sums overflowed.
    pub fn suggestion(&self, s: &OptimizeSettings, cal: &Calendar) -> Result<Option<Suggestion>> {
        if self.sessions.overflowed() {
            return Err(crate::error::Error::data(format!(
                "budget {}: more sessions than tt-optimize can count (4 billion)",
                self.budget.name
            )));
        }
        for sp in self.periods.values().chain(self.sessions.iter().map(|(_, sp)| sp)) {
            sp.check(&self.budget.name)?;
        }
        Ok(match self.budget.period {
            BudgetPeriod::Session => self.session_advice(s),
            BudgetPeriod::Total => self.total_advice(cal),
            _ => self.period_advice(s, cal),
        })
    }

    /// Complete periods of `unit` from the first with spend up to the current one (empty ones as zero), and
    /// the current period's window and spend.
    fn history(&self, cal: &Calendar) -> Option<History> {
        let first = *self.periods.keys().next()?;
        let p = self.unit();
        let cur = cal.current_budget_window(p);
        let cur_start = cur.start?;
        let mut history = Vec::new();
        let mut at = first;
        while at < cur_start && history.len() < 1_000_000 {
            let w = cal.budget_window(p, at);
            let (Some(ws), Some(we)) = (w.start, w.end) else { break };
            history.push((ws, self.periods.get(&ws).copied().unwrap_or_default()));
            at = we;
        }
        let spent = self.periods.get(&cur_start).copied().unwrap_or_default();
        Some((history, cur, spent))
    }

    fn period_advice(&self, s: &OptimizeSettings, cal: &Calendar) -> Option<Suggestion> {
        let (history, cur, spent) = self.history(cal)?;
        let (cur_start, cur_end) = (cur.start?, cur.end?);
        let eval = Evaluation::new(self.budget, RowWindow::of(&cur), None, spent, cal.now, cal);
        // The percentile is over the complete periods that had any records.
        let active: Vec<&Spent> = history.iter().map(|(_, sp)| sp).filter(|sp| sp.records > 0).collect();
        let enough = active.len() >= MIN_HISTORY;
        let mut costs: Vec<Decimal> = active.iter().map(|sp| sp.usd).collect();
        costs.sort();
        let pct_cost = if enough { percentile(&costs, s.budget_percentile) } else { None };
        let mut tokens: Vec<Decimal> = active.iter().map(|sp| Decimal::from(sp.tokens)).collect();
        tokens.sort();
        let pct_tokens = if enough { percentile(&tokens, s.budget_percentile) } else { None };
        let recommended = pct_cost.filter(|c| *c > Decimal::ZERO).map(round_cents_up);
        let recommended_tokens = pct_tokens.filter(|t| self.budget.limit_tokens.is_some() && *t > Decimal::ZERO);
        let above_recommended = (self.budget.limit_usd.is_some() && recommended.is_some_and(|r| spent.usd > r))
            || recommended_tokens.is_some_and(|r| Decimal::from(spent.tokens) > r);
        let f = PeriodFigures {
            history: &history,
            cur_start,
            cur_end,
            spent,
            n_active: active.len(),
            pct_cost,
            pct_tokens,
            recommended,
            recommended_tokens,
            over: active.iter().filter(|sp| self.is_over(sp)).count(),
            unpriced: history.iter().map(|(_, sp)| sp.unpriced).sum::<u64>() + spent.unpriced,
            above_recommended,
            eval,
        };
        let e = self.period_evidence(&f, s, cal);
        let msg = self.period_message(&f, s);
        Some(self.suggestion_of(msg, e))
    }

    /// The evidence of a calendar budget's advice.
    fn period_evidence(&self, f: &PeriodFigures<'_>, s: &OptimizeSettings, cal: &Calendar) -> Map<String, Value> {
        let n = f.history.len();
        let mut e = Map::new();
        e.insert("budget".into(), self.budget.name.clone().into());
        e.insert("period".into(), self.budget.period.as_str().into());
        e.insert("scope".into(), scope_json(self.budget));
        e.insert("limit_usd".into(), opt_json(self.budget.limit_usd));
        e.insert("limit_tokens".into(), self.budget.limit_tokens.map(Value::from).unwrap_or(Value::Null));
        e.insert("complete_periods".into(), n.into());
        e.insert("periods_with_spend".into(), f.n_active.into());
        e.insert("percentile".into(), s.budget_percentile.into());
        e.insert("percentile_usd".into(), opt_json(f.pct_cost));
        e.insert("percentile_tokens".into(), opt_json(f.pct_tokens));
        e.insert("recommended_limit_usd".into(), opt_json(f.recommended));
        e.insert("recommended_limit_tokens".into(), opt_json(f.recommended_tokens));
        e.insert("periods_over_limit".into(), f.over.into());
        e.insert("unpriced_records".into(), f.unpriced.into());
        let shown: Vec<Value> = f.history[n.saturating_sub(HISTORY_SHOWN)..]
            .iter()
            .map(|(start, sp)| {
                let mut m = Map::new();
                m.insert("start".into(), format_in(*start, cal.tz).into());
                m.insert("cost_usd".into(), money_json(sp.usd));
                m.insert("tokens".into(), sp.tokens.into());
                Value::Object(m)
            })
            .collect();
        e.insert("history".into(), Value::Array(shown));
        let forecast = f.forecast();
        let mut c = Map::new();
        c.insert("start".into(), format_in(f.cur_start, cal.tz).into());
        c.insert("end".into(), format_in(f.cur_end, cal.tz).into());
        c.insert("cost_usd".into(), money_json(f.spent.usd));
        c.insert("tokens".into(), f.spent.tokens.into());
        c.insert("level".into(), f.eval.level.as_str().into());
        c.insert("forecast_usd".into(), opt_json(forecast.map(|f| f.0)));
        c.insert("forecast_tokens".into(), forecast.map(|f| Value::from(f.1)).unwrap_or(Value::Null));
        c.insert("limit_date".into(), f.limit_date().map(|d| Value::from(d.to_string())).unwrap_or(Value::Null));
        c.insert("above_recommended".into(), f.above_recommended.into());
        e.insert("current".into(), Value::Object(c));
        if let Some((last, prev)) = &f.trend() {
            let mut t = Map::new();
            t.insert("last_usd".into(), money_json(last.usd));
            t.insert("previous_usd".into(), money_json(prev.usd));
            t.insert("change".into(), opt_json(change_usd(last, prev)));
            t.insert("last_tokens".into(), last.tokens.into());
            t.insert("previous_tokens".into(), prev.tokens.into());
            t.insert("change_tokens".into(), opt_json(change_tokens(last, prev)));
            e.insert("trend".into(), Value::Object(t));
        }
        e
    }

    /// The message of a calendar budget's advice, in the budget's own units: dollars for a dollar limit, tokens
    /// for a token limit, both for both.
    fn period_message(&self, f: &PeriodFigures<'_>, s: &OptimizeSettings) -> String {
        let unit = self.budget.period.as_str();
        let over = f.over;
        let mut msg = self.head(unit);
        let with_spend = plural(f.n_active as u64, &format!("complete {unit}"));
        let recs = self.recommendation(f.recommended, f.recommended_tokens);
        match (f.pct_cost, f.pct_tokens) {
            (Some(pc), Some(pt)) if !recs.is_empty() => {
                msg.push_str(&format!(
                    "p{} of the {with_spend} with spend is {} ({} in {over} of them) → recommended limit {recs}",
                    s.budget_percentile,
                    self.amount_exact(pc, decimal_tokens(pt)),
                    self.over_text()
                ));
            }
            (Some(_), Some(_)) => {
                msg.push_str(&format!("no recommendation: the {with_spend} with spend {}", self.nothing_text()));
            }
            _ => msg.push_str(&format!("no recommendation: only {with_spend} with spend, {MIN_HISTORY} needed")),
        }
        msg.push_str(&format!("; this {unit} so far {}", self.amount(f.spent.usd, f.spent.tokens)));
        if f.eval.level != Level::Ok {
            msg.push_str(&format!(" ({})", f.eval.level.as_str()));
        }
        if f.above_recommended {
            msg.push_str(", already above the recommended limit");
        }
        if let Some((f_usd, f_tokens)) = f.forecast() {
            msg.push_str(&format!(", forecast {} at the current burn", self.amount(f_usd, f_tokens)));
            if let Some(d) = f.limit_date() {
                msg.push_str(&format!(" (limit reached on {d})"));
            }
        }
        if let Some((last, prev)) = &f.trend() {
            msg.push_str(&format!(
                "; last {unit} {} vs {} the one before",
                self.amount(last.usd, last.tokens),
                self.amount(prev.usd, prev.tokens)
            ));
            let change =
                if self.budget.limit_usd.is_some() { change_usd(last, prev) } else { change_tokens(last, prev) };
            if let Some(ch) = change {
                let sign = if ch > Decimal::ZERO { "+" } else { "" };
                msg.push_str(&format!(" ({sign}{})", pct(ch)));
            }
        }
        msg.push_str(&unpriced_note(f.unpriced));
        msg
    }
    /// `budget NAME (month, limit $1.00): `.
    fn head(&self, unit: &str) -> String {
        let mut msg = format!("budget {} ({unit}", self.budget.name);
        if let Some(l) = self.budget.limit_usd {
            msg.push_str(&format!(", limit {}", money::usd_or_zero(l)));
        }
        if let Some(l) = self.budget.limit_tokens {
            msg.push_str(&format!(", limit {} tokens", money::thousands(l)));
        }
        msg.push_str("): ");
        msg
    }

    /// True when `sp` spent more than one of the budget's limits (strictly above, as in tt-budget).
    fn is_over(&self, sp: &Spent) -> bool {
        self.budget.limit_usd.is_some_and(|l| sp.usd > l) || self.budget.limit_tokens.is_some_and(|l| sp.tokens > l)
    }

    /// `over the limit` / `over a limit` (a budget with a dollar and a token limit).
    fn over_text(&self) -> &'static str {
        if self.budget.limit_usd.is_some() && self.budget.limit_tokens.is_some() {
            "over a limit"
        } else {
            "over the limit"
        }
    }

    /// Spend in the budget's units: `$2.00`, `400 tokens`, `$2.00 and 400 tokens`.
    fn amount(&self, usd_: Decimal, tokens: u64) -> String {
        self.amount_with(money::usd_or_zero(usd_), tokens)
    }

    /// [`Self::amount`] with every digit of the dollars when rounding would hide some: the percentile a
    /// recommendation is rounded up from (`$0.30001` → `$0.31`, never "$0.3000 → $0.31").
    fn amount_exact(&self, usd_: Decimal, tokens: u64) -> String {
        let shown = money::usd_or_zero(usd_);
        let places = if usd_.abs() >= Decimal::ONE { 2 } else { 4 };
        let exact = if usd_.round_dp(places) == usd_ { shown } else { format!("${}", money::canonical(usd_)) };
        self.amount_with(exact, tokens)
    }

    fn amount_with(&self, dollars: String, tokens: u64) -> String {
        let tokens = format!("{} tokens", money::thousands(tokens));
        match (self.budget.limit_usd.is_some(), self.budget.limit_tokens.is_some()) {
            (true, true) => format!("{dollars} and {tokens}"),
            (false, true) => tokens,
            _ => dollars,
        }
    }

    /// The recommended limits in the budget's units (`$2.00`, `400 tokens`, both joined by "and"); empty when
    /// there is none (history of $0 / no tokens).
    fn recommendation(&self, usd_: Option<Decimal>, tokens: Option<Decimal>) -> String {
        let mut parts = Vec::new();
        if let Some(r) = usd_.filter(|_| self.budget.limit_usd.is_some()) {
            parts.push(cents(r));
        }
        if let Some(t) = tokens.filter(|_| self.budget.limit_tokens.is_some()) {
            parts.push(format!("{} tokens", money::thousands(decimal_tokens(t))));
        }
        parts.join(" and ")
    }

    /// What a history too small to recommend from spent: `cost $0`, `used no tokens`, or both.
    fn nothing_text(&self) -> &'static str {
        match (self.budget.limit_usd.is_some(), self.budget.limit_tokens.is_some()) {
            (true, true) => "cost $0 and used no tokens",
            (false, true) => "used no tokens",
            _ => "cost $0",
        }
    }

    fn suggestion_of(&self, message: String, evidence: Map<String, Value>) -> Suggestion {
        let name = &self.budget.name;
        Suggestion {
            kind: Type::Budget,
            saving: None,
            no_saving_reason: Some(NO_SAVING.into()),
            message,
            evidence,
            brief: format!("budget: {name}"),
            key: name.clone(),
        }
    }

    /// A `total` budget: what is spent, the recent monthly burn and when the limit is reached at that rate.
    fn total_advice(&self, cal: &Calendar) -> Option<Suggestion> {
        let (history, _, current) = self.history(cal)?;
        let mut spent = current;
        for (_, sp) in &history {
            spent.merge(sp);
        }
        if spent.overflow {
            return None;
        }
        let window = cal.current_budget_window(BudgetPeriod::Total);
        let eval = Evaluation::new(self.budget, RowWindow::of(&window), None, spent, cal.now, cal);
        // The burn: the last (up to) BURN_MONTHS complete months, per day of those months.
        let recent = &history[history.len().saturating_sub(BURN_MONTHS)..];
        let mut burn = Spent::default();
        for (_, sp) in recent {
            burn.merge(sp);
        }
        let days: i64 = recent
            .iter()
            .map(|(start, _)| {
                let w = cal.budget_window(BudgetPeriod::Month, *start);
                w.end.map_or(0, |end| (cal.local_date(end) - cal.local_date(*start)).num_days())
            })
            .sum();
        let months = recent.len();
        let limit_date = days_to_limit(&eval, &burn, days).map(|d| cal.today() + Duration::days(d));
        let per_month = |x: Decimal| (months > 0).then(|| (x / Decimal::from(months as u64)).round_dp(4));

        let mut e = Map::new();
        e.insert("budget".into(), self.budget.name.clone().into());
        e.insert("period".into(), "total".into());
        e.insert("scope".into(), scope_json(self.budget));
        e.insert("limit_usd".into(), opt_json(self.budget.limit_usd));
        e.insert("limit_tokens".into(), self.budget.limit_tokens.map(Value::from).unwrap_or(Value::Null));
        e.insert("spent_usd".into(), money_json(spent.usd));
        e.insert("spent_tokens".into(), spent.tokens.into());
        e.insert("unpriced_records".into(), spent.unpriced.into());
        e.insert("percent".into(), money_json(eval.percent()));
        e.insert("level".into(), eval.level.as_str().into());
        e.insert("burn_months".into(), months.into());
        e.insert("burn_usd".into(), money_json(burn.usd));
        e.insert("burn_tokens".into(), burn.tokens.into());
        e.insert("burn_days".into(), days.into());
        e.insert("monthly_burn_usd".into(), opt_json(per_month(burn.usd)));
        e.insert("limit_date".into(), limit_date.map(|d| Value::from(d.to_string())).unwrap_or(Value::Null));
        e.insert("recommended_limit_usd".into(), Value::Null);
        e.insert("recommended_limit_tokens".into(), Value::Null);
        e.insert("no_recommendation".into(), "an all-time budget has no periods to learn a limit from".into());

        let msg = self.total_message(&eval, &burn, months, limit_date, spent.unpriced);
        Some(self.suggestion_of(msg, e))
    }

    /// The message of a `total` budget's advice: what is spent, and the burn of the last `months` complete
    /// months (`burn`) with the date the limit is reached at that rate.
    fn total_message(
        &self,
        eval: &Evaluation,
        burn: &Spent,
        months: usize,
        limit_date: Option<chrono::NaiveDate>,
        unpriced: u64,
    ) -> String {
        let per_month = |x: Decimal| (months > 0).then(|| (x / Decimal::from(months as u64)).round_dp(4));
        let mut msg = self.head("total");
        msg.push_str("no recommended limit (an all-time budget has no periods to learn one from); ");
        msg.push_str(&format!("{} so far", eval.spent_text()));
        msg.push_str(&format!(" ({}%", eval.percent()));
        if eval.level != Level::Ok {
            msg.push_str(&format!(", {}", eval.level.as_str()));
        }
        msg.push(')');
        if eval.level == Level::Over {
            msg.push_str(&format!(", {}", eval.left_text()));
        } else if months == 0 {
            msg.push_str("; no complete month yet to measure a burn rate");
        } else {
            msg.push_str(&format!(
                "; the last {} burned {}",
                plural(months as u64, "complete month"),
                self.amount(burn.usd, burn.tokens)
            ));
            if let Some(m) = per_month(burn.usd).filter(|_| months > 1) {
                let t = per_month(Decimal::from(burn.tokens)).map(|t| decimal_tokens(t.round())).unwrap_or(0);
                msg.push_str(&format!(" ({} a month)", self.amount(m, t)));
            }
            match limit_date {
                Some(d) => msg.push_str(&format!(" → the limit is reached around {d} at that rate")),
                None => msg.push_str(" → at that rate the limit is not reached"),
            }
        }
        msg.push_str(&unpriced_note(unpriced));
        msg
    }
    fn session_advice(&self, s: &OptimizeSettings) -> Option<Suggestion> {
        if self.sessions.is_empty() {
            return None;
        }
        let n = self.sessions.len();
        let sessions = || self.sessions.iter().map(|(_, sp)| sp);
        let mut costs: Vec<Decimal> = sessions().map(|v| v.usd).collect();
        costs.sort();
        let pct_cost = if n >= MIN_HISTORY { percentile(&costs, s.budget_percentile) } else { None };
        let recommended = pct_cost.filter(|c| *c > Decimal::ZERO).map(round_cents_up);
        let mut tokens: Vec<Decimal> = sessions().map(|v| Decimal::from(v.tokens)).collect();
        tokens.sort();
        let pct_tokens = if n >= MIN_HISTORY { percentile(&tokens, s.budget_percentile) } else { None };
        let recommended_tokens = pct_tokens.filter(|t| self.budget.limit_tokens.is_some() && *t > Decimal::ZERO);
        let over = sessions().filter(|sp| self.is_over(sp)).count();
        let unpriced: u64 = sessions().map(|v| v.unpriced).sum();
        let mut e = Map::new();
        e.insert("budget".into(), self.budget.name.clone().into());
        e.insert("period".into(), "session".into());
        e.insert("scope".into(), scope_json(self.budget));
        e.insert("limit_usd".into(), opt_json(self.budget.limit_usd));
        e.insert("limit_tokens".into(), self.budget.limit_tokens.map(Value::from).unwrap_or(Value::Null));
        e.insert("sessions".into(), n.into());
        e.insert("percentile".into(), s.budget_percentile.into());
        e.insert("percentile_usd".into(), opt_json(pct_cost));
        e.insert("percentile_tokens".into(), opt_json(pct_tokens));
        e.insert("recommended_limit_usd".into(), opt_json(recommended));
        e.insert("recommended_limit_tokens".into(), opt_json(recommended_tokens));
        e.insert("sessions_over_limit".into(), over.into());
        e.insert("unpriced_records".into(), unpriced.into());
        let mut msg = self.head("per session");
        let sessions = plural(n as u64, "session");
        let recs = self.recommendation(recommended, recommended_tokens);
        if let (Some(pc), Some(pt)) = (pct_cost, pct_tokens)
            && !recs.is_empty()
        {
            msg.push_str(&format!(
                "p{} of {sessions} is {} ({} in {over} of {n}) → recommended limit {recs}",
                s.budget_percentile,
                self.amount_exact(pc, decimal_tokens(pt)),
                self.over_text()
            ));
        } else if pct_cost.is_some() {
            msg.push_str(&format!("no recommendation: the {sessions} {}", self.nothing_text()));
        } else {
            msg.push_str(&format!("no recommendation: only {sessions} of history, {MIN_HISTORY} needed"));
        }
        msg.push_str(&unpriced_note(unpriced));
        Some(self.suggestion_of(msg, e))
    }
}

/// What a calendar budget's advice is made of, worked out once for both its evidence and its message.
struct PeriodFigures<'h> {
    /// The complete periods, oldest first.
    history: &'h [(DateTime<Utc>, Spent)],
    cur_start: DateTime<Utc>,
    cur_end: DateTime<Utc>,
    /// The current period's spend.
    spent: Spent,
    /// The current period evaluated as tt-budget does.
    eval: Evaluation,
    /// Complete periods with any records.
    n_active: usize,
    pct_cost: Option<Decimal>,
    pct_tokens: Option<Decimal>,
    recommended: Option<Decimal>,
    recommended_tokens: Option<Decimal>,
    /// Complete periods with spend over a limit.
    over: usize,
    unpriced: u64,
    above_recommended: bool,
}

impl PeriodFigures<'_> {
    /// The current period's forecast: dollars and tokens.
    fn forecast(&self) -> Option<(Decimal, u64)> {
        self.eval.forecast.as_ref().map(|f| (f.usd, f.tokens))
    }

    fn limit_date(&self) -> Option<chrono::NaiveDate> {
        self.eval.forecast.as_ref().and_then(|f| f.limit_date)
    }

    /// The last complete period and the one before.
    fn trend(&self) -> Option<(Spent, Spent)> {
        let n = self.history.len();
        (n >= 2).then(|| (self.history[n - 1].1, self.history[n - 2].1))
    }
}

/// Days from today until spend at the rate of `burn` over `days` passes one of the budget's limits (the first
/// one reached), if it ever does within a century.
fn days_to_limit(eval: &Evaluation, burn: &Spent, days: i64) -> Option<i64> {
    // remaining ÷ (burn ÷ days), rounded up.
    let reach = |remaining: Decimal, burned: Decimal| -> Option<i64> {
        if remaining <= Decimal::ZERO || burned <= Decimal::ZERO || days == 0 {
            return None;
        }
        let d = remaining.checked_mul(Decimal::from(days))?.checked_div(burned)?.ceil();
        i64::try_from(d).ok().filter(|d| *d <= 36_500)
    };
    let mut limit_days: Option<i64> = None;
    if let Some(r) = eval.remaining_usd() {
        limit_days = reach(r, burn.usd);
    }
    if let Some(r) = eval.remaining_tokens() {
        let t = reach(Decimal::from(r.max(0) as u64), Decimal::from(burn.tokens));
        limit_days = match (limit_days, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    limit_days
}

/// The change in dollars from `p` to `l`, as a ratio.
fn change_usd(l: &Spent, p: &Spent) -> Option<Decimal> {
    super::stats::ratio(l.usd - p.usd, p.usd, 4)
}

/// The change in tokens from `p` to `l`, as a ratio.
fn change_tokens(l: &Spent, p: &Spent) -> Option<Decimal> {
    super::stats::ratio(Decimal::from(l.tokens) - Decimal::from(p.tokens), Decimal::from(p.tokens), 4)
}

/// `; 3 records unpriced: the dollars are a lower bound` (empty when there are none).
fn unpriced_note(n: u64) -> String {
    if n == 0 { String::new() } else { format!("; {} unpriced: the dollars are a lower bound", plural(n, "record")) }
}

/// A recommended limit, whole cents: `$0.78`.
fn cents(d: Decimal) -> String {
    format!("${}", money::fixed(d, 2))
}

/// A token count held as a decimal (a percentile of token totals) back as a count.
fn decimal_tokens(d: Decimal) -> u64 {
    d.try_into().unwrap_or(u64::MAX)
}

fn round_cents_up(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::AwayFromZero)
}

fn scope_json(b: &Budget) -> Value {
    Value::Object(b.scope.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect())
}

//! The budget gate: from budgets evaluated (by the log's index, a scan of records, or summary rows), decide
//! pass or fail, and for a pre-task estimate go or defer — with every reason and warning — before anything is
//! printed, so a reader that closes the report early can never turn a failing gate into a pass.
//!
//! Invariants:
//! * Fail closed: a budget the gate could not check is never a pass. The caller evaluates every budget it was
//!   asked about or reports [`unchecked`] (exit 2) naming each one and the command that would check it.
//! * An estimate is checked against every budget that applies to the task ([`TaskContext::excludes`]): a scope
//!   field the context does not give is assumed to match, so without a context every budget is checked.
//! * Held reservations count like spend: a budget whose spend plus holds is over its limit is over.
//!
//! What the gate is asked is here too: the `--fail-at` threshold ([`FailAt`]) and the task a pre-task estimate
//! is for ([`TaskContext`]).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{
    Budget, BudgetPeriod, Evaluation, Level, Spent, parse_fraction, rows_needed, same_model, tokens_text, usd_distinct,
};
use crate::error::{Error, Result};
use crate::money;
use crate::period::Calendar;
use crate::price::{PriceTable, Pricer};
use crate::scan::Field;

/// A warning about one budget (or none): printed on stderr, and a `::warning::` in GitHub Actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The budget it is about.
    pub budget: Option<String>,
    /// The warning.
    pub message: String,
}

/// A reason the gate fails: the `tt-budget: error:` line, and an `::error::` in GitHub Actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The budget that failed.
    pub budget: String,
    /// Why.
    pub message: String,
}

/// A pre-task estimate: dollars and tokens, how to say it, and whether the dollars are known (a price or
/// `--estimate-usd`) rather than $0 for want of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// Dollars.
    pub usd: Decimal,
    /// Tokens.
    pub tokens: u64,
    /// `400,000 tokens ($2.0000)`, for messages.
    pub text: String,
    /// True when the dollars are known.
    pub priced: bool,
}

impl Estimate {
    /// The estimate of `--estimate-usd` and/or `--estimate-tokens`: tokens are priced as input tokens of
    /// `model` (with `from` saying where the model came from, for the error) unless the dollars are given.
    pub fn new(
        usd: Option<Decimal>,
        tokens: Option<u64>,
        model: Option<(&str, &str)>,
        prices: &PriceTable,
        cal: &Calendar,
    ) -> Result<Option<Estimate>> {
        Ok(match (usd, tokens) {
            (None, None) => None,
            (Some(u), None) => Some(Estimate { usd: u, tokens: 0, text: money::usd_or_zero(u), priced: true }),
            (u, Some(t)) => {
                let priced = match (model, u) {
                    (_, Some(u)) => Some(u),
                    (Some((m, from)), None) => {
                        let entry = prices.resolve(m).ok_or_else(|| {
                            let hint = prices.did_you_mean(m).map(|h| format!("; {h}")).unwrap_or_default();
                            Error::usage(format!(
                                "unknown model {m:?}{from}: cannot price --estimate-tokens (see tt-price --list){hint}"
                            ))
                        })?;
                        let tk = crate::Tokens { input: t, ..Default::default() };
                        Some(crate::price::cost_with(entry, cal.now, &tk, &crate::record::Billing::default()))
                    }
                    (None, None) => None,
                };
                let text = match priced {
                    Some(p) => format!("{} ({})", tokens_text(i128::from(t)), money::usd(p)),
                    None => tokens_text(i128::from(t)),
                };
                Some(Estimate { usd: priced.unwrap_or(Decimal::ZERO), tokens: t, text, priced: priced.is_some() })
            }
        })
    }
}

/// What the user asked the gate to fail on.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// `--fail-over`.
    pub fail_over: bool,
    /// `--fail-at LEVEL|FRACTION`.
    pub fail_at: Option<FailAt>,
    /// `--fail-projected`.
    pub fail_projected: bool,
    /// `--estimate-usd` / `--estimate-tokens`.
    pub estimate: Option<Estimate>,
}

/// The gate's decision.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// Why it fails (empty: it passes).
    pub failures: Vec<Failure>,
    /// Warnings.
    pub notes: Vec<Note>,
    /// For an estimate that fits: the one-line "go" answer.
    pub go: Option<String>,
}

impl Gate {
    /// True when anything is to be decided (a `--fail-*` flag or an estimate): then no budget may go unchecked.
    pub fn is_on(&self) -> bool {
        self.fail_over || self.fail_at.is_some() || self.fail_projected || self.estimate.is_some()
    }

    /// Whether the gate needs budget `b` checked: under a `--fail-*` flag every budget; for an estimate alone,
    /// the budgets that apply to the task.
    pub fn needs(&self, b: &Budget, context: &TaskContext, pricer: &mut Pricer<'_>) -> bool {
        if self.fail_over || self.fail_at.is_some() || self.fail_projected {
            return true;
        }
        self.estimate.is_some() && context.excludes(&b.scope, pricer).is_none()
    }

    /// Decide over `evals` (of `budgets`, in the same order). `session_spent(i, s)` is what session `s` has
    /// spent (holds included) of the session budget of evaluation `i`, for an estimate in a session.
    pub fn decide(
        &self,
        budgets: &[Budget],
        evals: &[Evaluation],
        session_spent: &dyn Fn(usize, &str) -> Spent,
        context: &TaskContext,
        cal: &Calendar,
        prices: &PriceTable,
    ) -> Verdict {
        let mut v = Verdict::default();
        for e in evals.iter().filter(|e| e.limit_usd.is_some() && e.spent.unpriced > 0) {
            v.notes.push(Note {
                budget: Some(e.name.clone()),
                message: format!(
                    "{} in budget {} could not be priced (unknown model, no cost_usd); its dollar spend is a lower \
                     bound",
                    money::plural(e.spent.unpriced, "record"),
                    e.name
                ),
            });
        }
        for e in evals {
            let who = who(e);
            if self.fail_over && e.level == Level::Over {
                v.failures.push(Failure {
                    budget: e.name.clone(),
                    message: format!("{who} is over its limit: {}", e.spent_text()),
                });
            } else if let Some(f) = self.fail_at
                && f.tripped(e)
            {
                let at = match f {
                    FailAt::Level(l) => l.as_str().to_string(),
                    FailAt::Fraction(x) => format!("{}%", (x * Decimal::ONE_HUNDRED).normalize()),
                };
                v.failures.push(Failure {
                    budget: e.name.clone(),
                    message: format!("{who} is at {}% (--fail-at {at}): {}", e.percent(), e.spent_text()),
                });
            }
            if self.fail_projected
                && let Some(f) = &e.forecast
                && f.level == Level::Over
            {
                v.failures.push(Failure {
                    budget: e.name.clone(),
                    message: format!(
                        "{who} is projected over its limit by the end of the {}: {}",
                        e.period.as_str(),
                        e.projected_text()
                    ),
                });
            }
        }
        if let Some(est) = &self.estimate {
            v.go = check_estimate(est, context, budgets, evals, session_spent, cal, prices, &mut v);
            if !v.failures.is_empty() {
                v.go = None;
            }
        }
        v
    }
}

/// `team-monthly`, or `per-session (session s3)`.
pub fn who(e: &Evaluation) -> String {
    match &e.session {
        Some(s) => format!("{} (session {s})", e.name),
        None => e.name.clone(),
    }
}

/// The budgets a gate must check and could not, each with why when rows of another window were given: exit 2,
/// naming each and the commands that would check it — never a pass.
pub fn unchecked(missing: &[(&Budget, Option<String>)]) -> Error {
    let each: Vec<String> = missing
        .iter()
        .map(|(b, why)| match why {
            Some(w) => format!("{} ({}; {w})", b.name, super::budget_label(b)),
            None => format!("{} ({})", b.name, super::budget_label(b)),
        })
        .collect();
    let mut rows: Vec<String> = Vec::new();
    for (b, _) in missing {
        let r = format!("`{}`", rows_needed(b));
        if !rows.contains(&r) {
            rows.push(r);
        }
    }
    Error::data(format!(
        "the gate cannot decide: these summary rows do not answer {} and do not say which log they came from; run \
         `tt-budget` on the log instead (it checks every budget), or give it {} rows too",
        each.join(", "),
        rows.join(" and ")
    ))
}

/// The pre-task check: every budget that applies to the task (see [`TaskContext`]) must hold the estimate on
/// top of what it has spent and holds; a session budget, on top of the context's session. Refusals become
/// failures ("defer it"); the "go" line, when all fit, is returned.
#[allow(clippy::too_many_arguments)]
fn check_estimate(
    est: &Estimate,
    context: &TaskContext,
    budgets: &[Budget],
    evals: &[Evaluation],
    session_spent: &dyn Fn(usize, &str) -> Spent,
    cal: &Calendar,
    prices: &PriceTable,
    v: &mut Verdict,
) -> Option<String> {
    let mut pricer = Pricer::new(prices);
    let (mut fits, mut skipped, mut unpriced) = (Vec::new(), Vec::new(), Vec::new());
    let mut deferred = false;
    for (i, e) in evals.iter().enumerate() {
        if let Some(why) = context.excludes(&e.scope, &mut pricer) {
            skipped.push(format!("{} ({why})", e.name));
            continue;
        }
        let checked = match (e.period, budgets.iter().find(|b| b.name == e.name)) {
            (BudgetPeriod::Session, Some(b)) => {
                let s = context.get("session");
                let spent = s.map(|s| session_spent(i, s)).unwrap_or_default();
                Evaluation::new(b, e.window.clone(), s.map(String::from), spent, cal.now, cal)
            }
            _ => e.clone(),
        };
        let (who, fit) = match (checked.period, &checked.session) {
            (BudgetPeriod::Session, Some(s)) => {
                (format!("{} (session {s})", checked.name), format!("{} in session {s}", checked.name))
            }
            (BudgetPeriod::Session, None) => {
                (format!("{} (a new session)", checked.name), format!("{} in a new session", checked.name))
            }
            _ => (checked.name.clone(), checked.name.clone()),
        };
        if checked.limit_usd.is_some() && !est.priced {
            unpriced.push(checked.name.clone());
        }

        let (left, need) = estimate_texts(&checked, est);
        if checked.would_exceed(est.usd, est.tokens) {
            deferred = true;
            v.failures.push(Failure {
                budget: checked.name.clone(),
                message: format!("{who}: {left}; this task needs ~{need}: defer it"),
            });
        } else if checked.limit_tokens.is_some() && est.tokens == 0 {
            // Dollars alone say nothing of a token limit: the go says so (a hold of $X holds no tokens).
            fits.push(format!("{fit} ({left}; no token estimate)"));
        } else {
            fits.push(format!("{fit} ({left})"));
        }
    }
    if !unpriced.is_empty() {
        v.notes.push(Note {
            budget: None,
            message: format!(
                "--estimate-tokens without --model (or TT_MODEL) or --estimate-usd: the dollar limit{} of {} {} \
                 checked with $0 for this task",
                if unpriced.len() == 1 { "" } else { "s" },
                unpriced.join(", "),
                if unpriced.len() == 1 { "is" } else { "are" }
            ),
        });
    }
    if deferred {
        return None;
    }
    let skipped =
        if skipped.is_empty() { String::new() } else { format!("; not for this task: {}", skipped.join(", ")) };
    Some(if fits.is_empty() {
        format!("go: ~{}: no budget applies to this task{skipped}", est.text)
    } else {
        format!("go: ~{} fits: {}{skipped}", est.text, fits.join("; "))
    })
}

/// What is left of a budget and what the task needs, for the estimate's message: dollar amounts that differ
/// never print the same (`$20.0000 left; this task needs ~$20.0001`).
fn estimate_texts(e: &Evaluation, est: &Estimate) -> (String, String) {
    let mut left = e.left_text();
    let mut need = est.text.clone();
    if let Some(r) = e.remaining_usd().filter(|r| *r >= Decimal::ZERO)
        && est.priced
    {
        let [l, n] = usd_distinct([r, est.usd]);
        if n != money::usd(est.usd) {
            let mut parts = vec![format!("{l} left")];
            if let Some(t) = e.remaining_tokens() {
                parts.push(if t < 0 {
                    format!("already over by {}", tokens_text(-t))
                } else {
                    format!("{} left", tokens_text(t))
                });
            }
            left = parts.join(", ");
            need = if est.tokens > 0 { format!("{} ({n})", tokens_text(i128::from(est.tokens))) } else { n };
        }
    }
    (left, need)
}

/// Parse `--fail-at`: a level name (any case), a fraction (`0.9`) or a percentage (`90%`). `ok` is refused:
/// every budget is at `ok` or above, so it would always fail.
pub fn parse_fail_at(s: &str) -> Result<FailAt> {
    let wants = "--fail-at wants a level (info, warning, critical, over), a fraction (0.9) or a percentage (90%)";
    match Level::parse(s) {
        Some(Level::Ok) => {
            return Err(Error::usage(format!(
                "{wants}, got {s:?}: every budget is at ok or above, so it would always fail"
            )));
        }
        Some(l) => return Ok(FailAt::Level(l)),
        None => {}
    }
    match parse_fraction(s) {
        Some(d) if d > Decimal::ZERO => Ok(FailAt::Fraction(d)),
        _ => Err(Error::usage(format!("{wants}, got {s:?}"))),
    }
}

/// What a pre-task estimate is for: the record fields the task's records will have (`--agent`, `--model`, or
/// `TT_AGENT`, `TT_MODEL`, … as tt-log takes them). A budget applies to the task unless its scope names a
/// field the context gives with another value (a model through the price table: `sonnet-4.5` is
/// `claude-sonnet-4-5`); a scope field the context does not give is assumed to match, so the budget is
/// checked (the conservative answer). A session budget is checked against the context's session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskContext {
    /// The fields given, by canonical name (`agent`, `tag:team`).
    pub fields: BTreeMap<String, String>,
}

impl TaskContext {
    /// The context's value of a field (`session`, `tag:team`).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// The scope field the context contradicts (`agent=NOVA`), if any: the budget then does not apply.
    pub fn excludes(&self, scope: &BTreeMap<String, String>, pricer: &mut Pricer<'_>) -> Option<String> {
        for (k, want) in scope {
            let key = Field::parse(k).map_or_else(|| k.clone(), |f| f.name().into_owned());
            if let Some(have) = self.fields.get(&key)
                && have != want
                && !(key == "model" && same_model(pricer, have, want))
            {
                return Some(format!("{key}={have}"));
            }
        }
        None
    }

    /// `agent=NOVA, model=opus-4.5`, for messages.
    pub fn text(&self) -> String {
        self.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    }
}

/// A `--fail-at` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailAt {
    /// At this level or above.
    Level(Level),
    /// At this fraction of a limit or above.
    Fraction(Decimal),
}

impl FailAt {
    /// True when `e` trips the threshold.
    pub fn tripped(&self, e: &Evaluation) -> bool {
        match self {
            FailAt::Level(l) => e.level >= *l,
            FailAt::Fraction(f) => {
                let at = |spent: Decimal, limit: Decimal| f.checked_mul(limit).is_some_and(|x| spent >= x);
                e.limit_usd.is_some_and(|l| at(e.spent.usd, l))
                    || e.limit_tokens.is_some_and(|l| at(Decimal::from(e.spent.tokens), Decimal::from(l)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::RowWindow;
    use chrono::{TimeZone, Utc};
    use std::collections::BTreeMap;

    fn cal() -> Calendar {
        Calendar::new(chrono_tz::UTC, chrono::Weekday::Mon, Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap())
    }

    fn budget(name: &str, usd: i64, scope: &[(&str, &str)]) -> Budget {
        Budget {
            name: name.into(),
            period: BudgetPeriod::Month,
            scope: scope.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            limit_usd: Some(Decimal::from(usd)),
            limit_tokens: None,
            warn_at: crate::budget::default_warn_at(),
            source: "test".into(),
        }
    }

    fn eval(b: &Budget, usd: &str) -> Evaluation {
        let spent = Spent { records: 1, usd: usd.parse().unwrap(), ..Spent::default() };
        let c = cal();
        Evaluation::new(b, RowWindow::of(&c.current_budget_window(b.period)), None, spent, c.now, &c)
    }

    fn decide(gate: &Gate, budgets: &[Budget], evals: &[Evaluation], ctx: &TaskContext) -> Verdict {
        let prices = PriceTable::default();
        gate.decide(budgets, evals, &|_, _| Spent::default(), ctx, &cal(), &prices)
    }

    #[test]
    fn over_fails_only_when_asked_and_exactly_the_limit_is_not_over() {
        let b = vec![budget("team", 10, &[]), budget("exact", 10, &[])];
        let e = vec![eval(&b[0], "10.0001"), eval(&b[1], "10")];
        assert!(decide(&Gate::default(), &b, &e, &TaskContext::default()).failures.is_empty());
        let v = decide(&Gate { fail_over: true, ..Gate::default() }, &b, &e, &TaskContext::default());
        assert_eq!(v.failures.len(), 1);
        assert_eq!(v.failures[0].budget, "team");
        assert!(v.failures[0].message.starts_with("team is over its limit: "), "{}", v.failures[0].message);
    }

    #[test]
    fn fail_at_trips_at_the_level() {
        let b = vec![budget("team", 10, &[])];
        let e = vec![eval(&b[0], "8")];
        let gate = Gate { fail_at: Some(FailAt::Level(Level::Warning)), ..Gate::default() };
        let v = decide(&gate, &b, &e, &TaskContext::default());
        assert_eq!(v.failures.len(), 1);
        assert!(v.failures[0].message.contains("--fail-at warning"));
    }

    #[test]
    fn an_estimate_defers_on_a_budget_that_applies_and_skips_one_that_does_not() {
        let b = vec![budget("atlas", 10, &[("agent", "ATLAS")]), budget("nova", 10, &[("agent", "NOVA")])];
        let e = vec![eval(&b[0], "9"), eval(&b[1], "9")];
        let est = Estimate { usd: Decimal::from(2), tokens: 0, text: "$2.00".into(), priced: true };
        let gate = Gate { estimate: Some(est), ..Gate::default() };
        let ctx = TaskContext { fields: BTreeMap::from([("agent".to_string(), "NOVA".to_string())]) };
        let v = decide(&gate, &b, &e, &ctx);
        assert_eq!(v.failures.len(), 1);
        assert_eq!(v.failures[0].budget, "nova");
        assert!(v.go.is_none());
        // Without a context every budget applies (the conservative answer).
        let v = decide(&gate, &b, &e, &TaskContext::default());
        assert_eq!(v.failures.len(), 2);
        // One that fits says go, on one line.
        let ctx = TaskContext { fields: BTreeMap::from([("agent".to_string(), "OTHER".to_string())]) };
        let v = decide(&gate, &b, &e, &ctx);
        assert!(v.failures.is_empty());
        assert_eq!(
            v.go.as_deref(),
            Some(
                "go: ~$2.00: no budget applies to this task; not for this task: atlas (agent=OTHER), nova (agent=OTHER)"
            )
        );
    }

    #[test]
    fn unchecked_names_every_budget_and_the_rows_that_would_answer_it() {
        let b = budget("atlas", 10, &[("agent", "ATLAS")]);
        let msg = unchecked(&[(&b, None)]).message().to_string();
        assert!(msg.contains("atlas (month, agent=ATLAS)"), "{msg}");
        assert!(msg.contains("`tt-sum --period month --by agent`"), "{msg}");
    }
}

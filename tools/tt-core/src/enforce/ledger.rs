//! `tt-log --enforce` against a team ledger: the same check as for a file log, exact across machines.
//!
//! The caller holds the ledger's writers' lock (`ledger::Ledger::lock`, which every ledger writer takes), so no
//! record can be added between the check and the append, on this machine or any other. The spend the check
//! needs is counted from the ledger's own records on that connection — those dated in any window the record
//! is checked in (read through the `ts` index), those of its session for a session budget, every record for a
//! total budget — into an in-memory index built by the code that builds the file log's index, and judged by
//! the same `refusals`. Nothing is cached between calls: a ledger is shared, so only what it
//! holds under the lock can be trusted.

use chrono::{DateTime, Utc};

use super::{Index, fingerprint, refusals, windows_to_check};
use crate::budget::{Budget, BudgetPeriod, scope_of};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::period::Calendar;
use crate::price::Pricer;
use crate::record::Record;
use crate::scan::View;

/// Check `record` against every configured budget it counts in, with the ledger locked by the caller. A
/// refusal is exit 1 (`refused, nothing logged: …`, or `would be refused: …` for a dry run), as for a file log.
pub fn check(ledger: &mut Ledger, config: &Config, record: &Record, dry_run: bool) -> Result<()> {
    let budgets: Vec<Budget> = config.budgets.clone();
    let cal = Calendar::new(config.timezone()?, config.week_start, record.ts);
    let scopes: Vec<_> = budgets.iter().map(scope_of).collect();
    let mut index = Index::empty(fingerprint(config), 0, 0, budgets.len());
    if let Some(need) = needed(&budgets, &cal, config, record, Utc::now())? {
        let mut pricer = Pricer::new(&config.prices);
        let name = ledger.name().to_string();
        let mut n = 0u64;
        ledger.each_line(need.all, need.since, need.session.as_deref(), &mut |line| {
            n += 1;
            let v = View::parse(line).map_err(|e| e.context(format!("{name}: record {n} of the check")))?;
            let cost = v.cost_usd.or_else(|| pricer.cost(&v.model, v.ts, &v.tokens, &v.billing));
            index.delta.add(&budgets, &scopes, &cal, &v, cost, &mut pricer);
            Ok(())
        })?;
    }
    // What reservations hold counts too, but for the one this record settles.
    let settles = record.extra.get(crate::reserve::FIELD).and_then(serde_json::Value::as_str);
    let mut holds = crate::reserve::read_ledger(ledger)?.active_in_ledger(ledger, Utc::now())?;
    holds.retain(|h| Some(h.id.as_str()) != settles);
    match refusals(&index, &holds, &budgets, &scopes, &cal, config, record)? {
        Some(Ok(_)) => Ok(()),
        Some(Err(r)) if dry_run => Err(Error::condition(format!("would be refused: {}", r.join("; ")))),
        Some(Err(r)) => Err(Error::condition(format!("refused, nothing logged: {}", r.join("; ")))),
        // An index built in memory from the ledger is never damaged; were it, nothing is let through.
        None => Err(Error::data(format!("ledger {}: the budget check could not be counted", ledger.name()))),
    }
}

/// Evaluate `asked` (configured budgets) at `cal.now` from the ledger's records, what reservations hold on top:
/// what the file log's index answers (`super::counts`), counted on this connection from the records the
/// current windows can hold — every record for a total or session budget — by the same code, and evaluated
/// by the same `evaluate_index`. `len` is the ledger's last record number.
pub fn counts(
    ledger: &mut Ledger,
    config: &Config,
    asked: &[Budget],
    cal: &Calendar,
    session: Option<&str>,
) -> Result<super::Counts> {
    let budgets = &config.budgets;
    let scopes: Vec<_> = budgets.iter().map(scope_of).collect();
    let mut index = Index::empty(fingerprint(config), 0, 0, budgets.len());
    let all = asked.iter().any(|b| matches!(b.period, BudgetPeriod::Total | BudgetPeriod::Session));
    let since = asked.iter().filter_map(|b| cal.budget_window(b.period, cal.now).start).min();
    if !asked.is_empty() {
        let mut pricer = Pricer::new(&config.prices);
        let name = ledger.name().to_string();
        let mut n = 0u64;
        // `since` is None only when every asked budget is a total or session one, which reads everything.
        ledger.each_line(all || since.is_none(), since, None, &mut |line| {
            n += 1;
            let v = View::parse(line).map_err(|e| e.context(format!("{name}: record {n} of the count")))?;
            let cost = v.cost_usd.or_else(|| pricer.cost(&v.model, v.ts, &v.tokens, &v.billing));
            index.delta.add(budgets, &scopes, cal, &v, cost, &mut pricer);
            Ok(())
        })?;
    }
    let holds = crate::reserve::read_ledger(ledger)?.active_in_ledger(ledger, Utc::now())?;
    let (evals, session) = super::evaluate_index(&index, config, asked, cal, &holds, session)
        .ok_or_else(|| Error::data(format!("ledger {}: the budgets could not be counted", ledger.name())))??;
    Ok(super::Counts { holds, len: ledger.last_seq()?, evals, session })
}

/// Which of the ledger's records a check of `record` needs.
#[derive(Debug, PartialEq, Eq)]
struct Needed {
    /// Every record (a total budget counts them all).
    all: bool,
    /// The records dated at or after this: the earliest window the record is checked in.
    since: Option<DateTime<Utc>>,
    /// The records of the record's session (a session budget).
    session: Option<String>,
}

/// The records a check of `record` at `now` needs, or `None` when no budget counts it. A superset is harmless
/// (the count keeps only what each budget's scope and window take); a record missed would let spend through,
/// so every window [`windows_to_check`] names is covered.
fn needed(
    budgets: &[Budget],
    cal: &Calendar,
    config: &Config,
    record: &Record,
    now: DateTime<Utc>,
) -> Result<Option<Needed>> {
    let line = record.to_json();
    let view = View::parse(line.as_bytes())?;
    let mut pricer = Pricer::new(&config.prices);
    let mut need = Needed { all: false, since: None, session: None };
    let mut any = false;
    for b in budgets {
        if !view.matches(&scope_of(b), &mut |a, m| crate::budget::same_model(&mut pricer, a, m)) {
            continue;
        }
        any = true;
        match b.period {
            BudgetPeriod::Total => need.all = true,
            BudgetPeriod::Session => need.session = record.session.clone(),
            p => {
                for (_, at, _) in windows_to_check(b, cal, record, now).unwrap_or_default() {
                    let start = cal.budget_window(p, at).start;
                    need.since = match (need.since, start) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (None, s) | (s, None) => s,
                    };
                }
            }
        }
    }
    Ok(any.then_some(need))
}

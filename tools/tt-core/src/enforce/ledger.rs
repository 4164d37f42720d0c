//! `tt-log --enforce` against a team ledger: the same check as for a file log, exact across machines.
//!
//! The caller holds the ledger's writers' lock (`ledger::Ledger::lock`, which every ledger writer takes), so no
//! record can be added between the check and the append, on this machine or any other. The spend of each
//! window the record is checked in is counted on that connection by the server (`ledger::spend`: priced records
//! summed by model and scope fields, unpriced ones priced here one by one), put into an in-memory index, and
//! judged by the same `refusals` as a file log's. Nothing is cached between calls: a ledger is shared, so only
//! what it holds under the lock can be trusted.
//!
//! `counts` answers tt-budget the same way a file log's index does, from the records the current windows can
//! hold, counted one by one by the index's own code.

use chrono::Utc;

use super::{Index, fingerprint, refusals, windows_to_check};
use crate::budget::{Budget, BudgetPeriod, Spent, scope_of};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::ledger::spend::{Column, Within};
use crate::period::Calendar;
use crate::price::Pricer;
use crate::record::Record;
use crate::scan::{Field, View};

/// Check `record` against every configured budget it counts in, with the ledger locked by the caller. A
/// refusal is exit 1 (`refused, nothing logged: …`, or `would be refused: …` for a dry run), as for a file log.
pub fn check(ledger: &mut Ledger, config: &Config, record: &Record, dry_run: bool) -> Result<()> {
    let budgets: Vec<Budget> = config.budgets.clone();
    let cal = Calendar::new(config.timezone()?, config.week_start, record.ts);
    let scopes: Vec<_> = budgets.iter().map(scope_of).collect();
    let mut index = Index::empty(fingerprint(config), 0, 0, budgets.len());
    let mut pricer = Pricer::new(&config.prices);
    let line = record.to_json();
    let view = View::parse(line.as_bytes())?;
    let now = Utc::now();
    // The spend of every window the check will look at, counted by the server (see `spent_in`).
    for (i, b) in budgets.iter().enumerate() {
        if !view.matches(&scopes[i], &mut |a, m| crate::budget::same_model(&mut pricer, a, m)) {
            continue;
        }
        for (key, at, _) in windows_to_check(b, &cal, record, now).unwrap_or_default() {
            // No key: a record without a session is a session of its own, which has spent nothing.
            let Some(key) = key else { continue };
            if index.delta.windows[i].contains_key(&key) {
                continue;
            }
            let within = match b.period {
                BudgetPeriod::Total => Within::All,
                BudgetPeriod::Session => Within::Session(&key),
                p => {
                    let w = cal.budget_window(p, at);
                    match (w.start, w.end) {
                        (Some(a), Some(z)) => Within::Between(a, z),
                        _ => Within::All,
                    }
                }
            };
            let spent = spent_in(ledger, &scopes[i], within, &mut pricer)?;
            index.delta.windows[i].insert(key, spent);
        }
    }
    // What reservations hold counts too, but for the one this record settles.
    let settles = record.extra.get(crate::reserve::FIELD).and_then(serde_json::Value::as_str);
    let mut holds = crate::reserve::read_ledger(ledger)?.active_in_ledger(ledger, now)?;
    holds.retain(|h| Some(h.id.as_str()) != settles);
    match refusals(&index, &holds, &budgets, &scopes, &cal, config, record)? {
        Some(Ok(_)) => Ok(()),
        Some(Err(r)) if dry_run => Err(Error::condition(format!("would be refused: {}", r.join("; ")))),
        Some(Err(r)) => Err(Error::condition(format!("refused, nothing logged: {}", r.join("; ")))),
        // An index built in memory from the ledger is never damaged; were it, nothing is let through.
        None => Err(Error::data(format!("ledger {}: the budget check could not be counted", ledger.name()))),
    }
}

/// The spend of the records `within` that budget scope `scope` takes: the server sums the priced records by
/// model and the scope's fields, and the groups the scope matches (by the rule records are matched with,
/// `scan::field_matches`) are added up; the records without a cost are priced here one by one, as a reader
/// prices them. Exactly what the same records counted one by one give.
fn spent_in(
    ledger: &mut Ledger,
    scope: &[(Field, String)],
    within: Within<'_>,
    pricer: &mut Pricer<'_>,
) -> Result<Spent> {
    let fields: Vec<&Field> = scope.iter().map(|(f, _)| f).collect();
    let columns: Vec<Column> = fields.iter().map(|f| column(f)).collect();
    let mut spent = Spent::default();
    let name = ledger.name().to_string();
    for g in ledger.priced_groups(within, &columns)? {
        let takes = scope.iter().zip(&g.values).all(|((f, want), v)| {
            crate::scan::field_matches(f, v.as_deref(), want, &mut |a, m| crate::budget::same_model(pricer, a, m))
        });
        if !takes {
            continue;
        }
        let tokens = g.tokens.parse::<u64>();
        let usd = crate::money::parse_decimal(&g.usd);
        spent.merge(&Spent {
            records: g.records,
            tokens: *tokens.as_ref().unwrap_or(&0),
            usd: usd.unwrap_or_default(),
            unpriced: 0,
            // A sum past what u64 tokens or Decimal dollars hold is said, as a file log's count says it.
            overflow: tokens.is_err() || usd.is_none(),
        });
    }
    let mut n = 0u64;
    ledger.unpriced_lines(within, &mut |line| {
        n += 1;
        let v = View::parse(line).map_err(|e| e.context(format!("{name}: unpriced record {n}")))?;
        if v.matches(scope, &mut |a, m| crate::budget::same_model(pricer, a, m)) {
            let cost = v.cost_usd.or_else(|| pricer.cost(&v.model, v.ts, &v.tokens, &v.billing));
            spent.add(v.tokens.total(), cost);
        }
        Ok(())
    })?;
    Ok(spent)
}

/// The ledger's column for a scope field.
fn column(f: &Field) -> Column {
    Column::Named(match f {
        Field::Agent => "agent",
        Field::Model => "model",
        Field::Provider => "provider",
        Field::Session => "session",
        Field::Task => "task",
        Field::Project => "project",
        Field::Branch => "branch",
        Field::Commit => "git_commit",
        Field::Host => "host",
        Field::User => "user_name",
        Field::Source => "source",
        Field::Tag(k) => return Column::Tag(k.clone()),
    })
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

//! Budget evaluations in every output format, beside their JSON (`Evaluation::to_json`): the one writer of
//! tt-budget's table, markdown, CSV, JSON and JSONL, so a report means the same whichever way it is read.
//!
//! Cells say what the numbers are: an amount in the budget's own unit (dollars, tokens or both), `-` where
//! there is nothing (no forecast for a total budget, no reservation held), an UNPRICED column only when some
//! spend could not be priced (those dollars are a lower bound) and a HELD column only when reservations hold
//! some of it.

use std::io::Write;

use super::{Evaluation, Spent, UsdCells, amount};
use crate::error::{Error, Result};
use crate::money;
use crate::output::{Format, Table, csv_safe};

fn spent_cell(e: &Evaluation, c: &UsdCells) -> String {
    let usd = (e.limit_usd.is_some() || e.limit_tokens.is_none()).then(|| c.spent.clone());
    let tok = e.limit_tokens.map(|_| i128::from(e.spent.tokens));
    amount(usd, tok)
}

fn limit_cell(e: &Evaluation, c: &UsdCells) -> String {
    amount(e.limit_usd.map(|_| c.limit.clone()), e.limit_tokens.map(i128::from))
}

fn forecast_cell(e: &Evaluation, c: &UsdCells) -> String {
    match &e.forecast {
        None => "-".into(),
        Some(f) => amount(e.limit_usd.map(|_| c.projected.clone()), e.limit_tokens.map(|_| i128::from(f.tokens))),
    }
}

fn window_cell(e: &Evaluation) -> String {
    match (&e.session, &e.window.start) {
        (Some(s), _) => format!("session {s}"),
        (None, Some(start)) => format!("{} from {}", e.period.as_str(), start.format("%Y-%m-%d")),
        (None, None) => e.period.as_str().to_string(),
    }
}

/// The report table (also the GitHub job summary).
pub fn table(evals: &[Evaluation]) -> Table {
    // An UNPRICED column when some spend could not be priced: those budgets' dollars are a lower bound.
    let unpriced = evals.iter().any(|e| e.spent.unpriced > 0);
    // A HELD column when reservations hold some of it (already inside SPENT, which is what counts).
    let held = evals.iter().any(|e| e.held != Spent::default());
    let mut headers = vec!["BUDGET", "SCOPE", "WINDOW", "SPENT"];
    if held {
        headers.push("HELD");
    }
    if unpriced {
        headers.push("UNPRICED");
    }
    headers.extend(["LIMIT", "LEFT", "USED", "LEVEL", "FORECAST", "LIMIT ON"]);
    let mut t = Table::new(&headers, &["SPENT", "HELD", "UNPRICED", "LIMIT", "LEFT", "USED", "FORECAST"]);
    // On a narrow screen: which budget, how much of which limit, and the level stay. (A window cut short loses
    // its date, so only the scope is cut.)
    t.may_drop(&["LIMIT ON", "FORECAST", "SCOPE", "WINDOW", "LEFT"]);
    t.may_abbreviate(&["SCOPE"]);
    for e in evals {
        let c = UsdCells::of(e);
        let limit_on = e.limit_date().map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "-".into());
        let scope = e.scope_text();
        let mut cells =
            vec![e.name.clone(), if scope.is_empty() { "-".into() } else { scope }, window_cell(e), spent_cell(e, &c)];
        if held {
            cells.push(if e.held == Spent::default() {
                "-".into()
            } else {
                let usd = (e.limit_usd.is_some() || e.limit_tokens.is_none()).then(|| money::usd(e.held.usd));
                amount(usd, e.limit_tokens.map(|_| i128::from(e.held.tokens)))
            });
        }
        if unpriced {
            cells.push(if e.spent.unpriced > 0 { money::thousands(e.spent.unpriced) } else { "-".into() });
        }
        cells.extend([
            limit_cell(e, &c),
            amount(e.limit_usd.map(|_| c.left.clone()), e.remaining_tokens()),
            format!("{}%", e.percent()),
            e.level.as_str().to_string(),
            forecast_cell(e, &c),
            limit_on,
        ]);
        t.row(cells);
    }
    t
}

pub fn write(out: &mut impl Write, format: Format, evals: &[Evaluation]) -> Result<()> {
    match format {
        Format::Jsonl => {
            for e in evals {
                writeln!(out, "{}", e.to_json())?;
            }
        }
        Format::Json => {
            crate::output::write_json_array(out, evals.iter().map(|x| x.to_json()))?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "name",
                "period",
                "scope",
                "window_start",
                "window_end",
                "session",
                "spent_usd",
                "spent_tokens",
                "unpriced_records",
                "limit_usd",
                "limit_tokens",
                "remaining_usd",
                "remaining_tokens",
                "percent",
                "level",
                "projected_usd",
                "projected_tokens",
                "limit_date",
            ])
            .map_err(crate::output::csv_error)?;
            for e in evals {
                let f = e.forecast.as_ref();
                let rec: Vec<String> = vec![
                    csv_safe(&e.name).into_owned(),
                    e.period.as_str().into(),
                    csv_safe(&e.scope_text()).into_owned(),
                    e.window.start.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default(),
                    e.window.end.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default(),
                    csv_safe(e.session.as_deref().unwrap_or("")).into_owned(),
                    money::canonical(e.spent.usd),
                    e.spent.tokens.to_string(),
                    e.spent.unpriced.to_string(),
                    e.limit_usd.map(money::canonical).unwrap_or_default(),
                    e.limit_tokens.map(|t| t.to_string()).unwrap_or_default(),
                    e.remaining_usd().map(money::canonical).unwrap_or_default(),
                    e.remaining_tokens().map(|t| t.to_string()).unwrap_or_default(),
                    e.percent().to_string(),
                    e.level.as_str().into(),
                    f.map(|f| money::canonical(f.usd)).unwrap_or_default(),
                    f.map(|f| f.tokens.to_string()).unwrap_or_default(),
                    e.limit_date().map(|d| d.to_string()).unwrap_or_default(),
                ];
                w.write_record(&rec).map_err(crate::output::csv_error)?;
            }
            let bytes = w.into_inner().map_err(|e| Error::data(format!("csv: {e}")))?;
            out.write_all(&bytes)?;
        }
        // No budget evaluated (the warnings said why): no table, not an empty header.
        Format::Table | Format::Markdown if evals.is_empty() => {}
        Format::Table => table(evals).render_text(out)?,
        Format::Markdown => table(evals).render_markdown(out)?,
    }
    Ok(())
}

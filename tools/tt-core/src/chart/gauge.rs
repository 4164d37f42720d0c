//! Budget evaluations as gauges, one line per budget, for tt-budget's report on a terminal:
//!
//! ```text
//! team-monthly   ████████████████████▌░░░░░░░░░░░░░░│░░░░┃   60% → 120%
//! atlas-monthly  █████████████████████████░░░░░░░░░░░░░░░░░┃   50% → 100%
//! ```
//!
//! The gauge runs from 0 to the limit — or, when the spend or the forecast is past it, to the larger of them
//! (at most twice the limit, so the limit never shrinks to a sliver), with the limit marked `│`. The fill is
//! the share of the limit used, in eighths of a cell (the [`terminal`](super::terminal) rule: never nothing
//! for spend that is not 0); `┃` marks the forecast to the window's end (none for total and session budgets),
//! at the end of the gauge when it is past the scale. The percentages are the report's (`USED` and the
//! forecast's), so gauge and table never disagree. ASCII: `#` fill, `.` track, `|` forecast, `!` limit. On a
//! terminal that takes colour the fill is green, yellow from warning and red from critical.

use std::io::Write;

use rust_decimal::Decimal;

use super::label;
use super::terminal::{Style, eighths, rule_cell};
use crate::budget::{Evaluation, Level};
use crate::error::Result;

/// The widest gauge: past this a gauge is no easier to read, only longer.
const MAX_CELLS: usize = 50;

fn fill_color(l: Level) -> &'static str {
    match l {
        Level::Ok | Level::Info => "32",
        Level::Warning => "33",
        Level::Critical | Level::Over => "31",
    }
}

/// One gauge per evaluation, then a line saying what the marks are; no lines for no evaluations.
pub fn lines(evals: &[Evaluation], style: &Style) -> Vec<String> {
    if evals.is_empty() {
        return Vec::new();
    }
    let width = style.width.max(1);
    let u = style.unicode;
    let (fill, track, forecast_mark, limit_mark) = if u { ('█', '░', '┃', '│') } else { ('#', '.', '|', '!') };
    let names: Vec<String> = evals.iter().map(|e| super::terminal::styled(style, &label(&e.name))).collect();
    let used: Vec<String> = evals.iter().map(|e| format!("{}%", e.percent())).collect();
    let ahead: Vec<String> = evals
        .iter()
        .map(|e| e.projected_percent().map(|p| format!(" {} {p}%", if u { "→" } else { "->" })).unwrap_or_default())
        .collect();
    let count = |s: &String| s.chars().count();
    // A name longer than a third of the line is cut: the gauge is what this view is for.
    let nw = names.iter().map(count).max().unwrap_or(0).min((width / 3).max(8));
    let uw = used.iter().map(count).max().unwrap_or(0);
    let mut aw = ahead.iter().map(count).max().unwrap_or(0);
    // Too narrow for the forecast's percentage too: it goes (its mark stays on the gauge).
    let ahead: Vec<String> = if width < nw + uw + aw + 4 + 10 {
        aw = 0;
        vec![String::new(); evals.len()]
    } else {
        ahead
    };
    let cells = width.saturating_sub(nw + uw + aw + 4).clamp(10, MAX_CELLS);
    let two = Decimal::TWO;
    let mut out = Vec::new();
    let mut any_limit = false;
    let mut any_forecast = false;
    for (i, e) in evals.iter().enumerate() {
        let projected = e.forecast.as_ref().map(|f| f.fraction);
        let scale = [Decimal::ONE, e.fraction, projected.unwrap_or_default()].into_iter().max().unwrap_or_default();
        let scale = scale.min(two);
        let mut row: Vec<super::terminal::Cell> = Vec::new();
        let mut name: String = names[i].chars().take(nw).collect();
        if names[i].chars().count() > nw {
            name.pop();
            name.push(if u { '…' } else { '~' });
        }
        row.extend(super::terminal::text_cells(&format!("{name:<nw$}  ")));
        let color = style.color.then(|| fill_color(e.level));
        let e8 = eighths(e.fraction.min(scale), scale, cells);
        let (full, part) = if u { (e8 / 8, e8 % 8) } else { (((e8 + 4) / 8).max(usize::from(e8 > 0)), 0) };
        let mut g: Vec<super::terminal::Cell> = vec![super::terminal::Cell(fill, color); full.min(cells)];
        if part > 0 && g.len() < cells {
            g.push(super::terminal::Cell(super::terminal::EIGHTHS[part], color));
        }
        g.resize(cells, super::terminal::Cell(track, None));
        if scale > Decimal::ONE {
            g[rule_cell(Decimal::ONE, scale, cells)] = super::terminal::Cell(limit_mark, None);
            any_limit = true;
        }
        if let Some(p) = projected {
            g[rule_cell(p.min(scale), scale, cells)] = super::terminal::Cell(forecast_mark, None);
            any_forecast = true;
        }
        row.extend(g);
        row.extend(super::terminal::text_cells(&format!("  {:>uw$}{}", used[i], ahead[i])));
        out.push(super::terminal::line(row, width));
    }
    let mut key = format!("{fill} used");
    if any_forecast {
        key.push_str(&format!("  {forecast_mark} forecast to the window's end"));
    }
    if any_limit {
        key.push_str(&format!("  {limit_mark} limit"));
    }
    out.push(super::terminal::line(super::terminal::text_cells(&key), width));
    out
}

/// Write the gauges, a newline after each line.
pub fn write(out: &mut impl Write, evals: &[Evaluation], style: &Style) -> Result<()> {
    for l in lines(evals, style) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

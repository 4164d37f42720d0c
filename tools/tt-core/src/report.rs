//! The markdown team report: budget status, the window's totals, and spend by agent and by model — pasteable
//! into a pull request, a chat or `$GITHUB_STEP_SUMMARY`.
//!
//! [`Weekly`] sees every record once: those inside the report window and filter make the totals and tables;
//! all of them feed the budget evaluation, since each budget has its own window (this month, today, …).
//! With `--today DATE` the output is a pure function of the log and the config, byte for byte.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::Duration;

use crate::aggregate::{Summary, Totals};
use crate::budget::{Evaluation, Level, Tally};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::export::{Filter, add_record};
use crate::money::{thousands, usd};
use crate::output::Table;
use crate::period::{Calendar, Window};
use crate::record::Record;
use crate::scan::View;

/// Builds the weekly team report from records.
pub struct Weekly<'c> {
    config: &'c Config,
    cal: Calendar,
    filter: Filter,
    total: Totals,
    by_agent: BTreeMap<String, Totals>,
    by_model: BTreeMap<String, Totals>,
    budgets: Tally<'c>,
}

impl<'c> Weekly<'c> {
    /// A report over `filter` (its window is the report's), with `config`'s budgets evaluated at `cal.now`.
    pub fn new(config: &'c Config, cal: &Calendar, filter: &Filter) -> Weekly<'c> {
        Weekly {
            config,
            cal: *cal,
            filter: filter.clone(),
            total: Totals::default(),
            by_agent: BTreeMap::new(),
            by_model: BTreeMap::new(),
            budgets: Tally::new(&config.budgets, cal, &config.prices),
        }
    }

    /// See one record: `line` is its log line (for the budget tally), `r` the parsed record, already priced if
    /// it can be.
    pub fn add(&mut self, line: &[u8], r: &Record) -> Result<()> {
        self.budgets.add(&View::parse(line)?);
        if !self.filter.matches(r, &self.config.prices) {
            return Ok(());
        }
        add_record(&mut self.total, r);
        add_record(self.by_agent.entry(r.agent.clone()).or_default(), r);
        add_record(self.by_model.entry(r.model.clone()).or_default(), r);
        Ok(())
    }

    /// The report.
    pub fn render(self) -> Result<String> {
        // Sums past what their types hold would be printed wrong (saturated, or missing the record that did
        // not fit): refused, as tt-sum refuses them.
        for t in std::iter::once(&self.total).chain(self.by_agent.values()).chain(self.by_model.values()) {
            t.check("the sums")?;
        }
        let mut s = String::new();
        let _ = writeln!(s, "## Token usage: {}\n", window_title(&self.filter.window, &self.cal));
        let budgets = self.budgets.evaluate(&self.config.budgets, &self.cal)?;
        s.push_str(&budget_section(&budgets, true)?);
        let _ = writeln!(s, "### {}\n", capitalise(&window_noun(&self.filter.window)));
        let t = &self.total;
        // The note after it says what is unpriced; the dollars themselves are "–" when nothing is priced.
        let dollars = if t.unpriced > 0 && t.unpriced >= t.records { "–".into() } else { usd(t.cost) };
        let _ = write!(s, "**{} · {} tokens · {dollars}**", records(t.records), thousands(t.total_tokens()));
        if t.unpriced > 0 {
            let _ = write!(s, " ({} unpriced, not in the cost)", records(t.unpriced));
        }
        s.push_str("\n\n");
        if t.records > 0 {
            for (title, groups) in [("Agent", &self.by_agent), ("Model", &self.by_model)] {
                let _ = writeln!(s, "#### By {}\n", title.to_lowercase());
                s.push_str(&group_table(title, groups, t)?);
                s.push('\n');
            }
        }
        Ok(s)
    }
}

/// The budget table: one row per budget with its window, spend, limit, use, forecast and level.
fn budget_section(budgets: &[Evaluation], configured: bool) -> Result<String> {
    let mut s = String::from("### Budgets\n\n");
    if budgets.is_empty() {
        s.push_str(if configured {
            "No budgets configured (see `[[budget]]` in tt.toml).\n\n"
        } else {
            "No budget is answered by these rows.\n\n"
        });
        return Ok(s);
    }
    let right = ["Spent", "Limit", "Used", "Projected"];
    let mut t = Table::new(&["Budget", "Window", "Spent", "Limit", "Used", "Projected", "Status"], &right);
    // Names are escaped below with the one escaper; the status cells are markup.
    t.markup = true;
    for e in budgets {
        let mut name = crate::output::markdown_text(&e.name);
        if !e.scope.is_empty() {
            name = format!("{name} ({})", crate::output::markdown_text(&e.scope_text()));
        }
        let window = match (&e.session, e.window.start, e.window.end) {
            (Some(session), _, _) => format!("session {}", crate::output::markdown_text(session)),
            (None, Some(a), Some(b)) if e.period.as_str() == "day" => {
                let _ = b;
                a.format("%Y-%m-%d").to_string()
            }
            (None, Some(a), Some(b)) => {
                format!("{} – {}", a.format("%Y-%m-%d"), (b - Duration::seconds(1)).format("%Y-%m-%d"))
            }
            _ => e.period.as_str().to_string(),
        };
        let both = |usd: Option<String>, tokens: Option<String>| -> String {
            [usd, tokens].into_iter().flatten().collect::<Vec<_>>().join(" · ")
        };
        let all_unpriced = e.spent.unpriced > 0 && e.spent.unpriced >= e.spent.records;
        let spent = both(
            e.limit_usd.map(|_| match spend(e.spent.usd, e.spent.records, e.spent.unpriced) {
                // No records column here: say how many records the "–" stands for.
                none if all_unpriced => format!("{none} ({} unpriced)", thousands(e.spent.unpriced)),
                some => some,
            }),
            e.limit_tokens.map(|_| format!("{} tokens", thousands(e.spent.tokens))),
        );
        let limit = both(e.limit_usd.map(usd), e.limit_tokens.map(|l| format!("{} tokens", thousands(l))));
        let projected = match &e.forecast {
            Some(f) => both(
                // Nothing priced projects to nothing known, not to $0.
                e.limit_usd.map(|_| if all_unpriced { "–".into() } else { usd(f.usd) }),
                e.limit_tokens.map(|_| format!("{} tokens", thousands(f.tokens))),
            ),
            None => "–".into(),
        };
        let status = match e.level {
            Level::Ok => "✅ ok",
            Level::Info => "ℹ️ info",
            Level::Warning => "⚠️ warning",
            Level::Critical => "🟠 critical",
            Level::Over => "🛑 **over**",
        };
        t.row(vec![name, window, spent, limit, format!("{}%", e.percent()), projected, status.to_string()]);
    }
    let mut buf = Vec::new();
    t.render_markdown(&mut buf)?;
    s.push_str(&String::from_utf8_lossy(&buf));
    s.push('\n');
    // As tt-budget warns: a dollar budget with unpriced records may be further along than it shows.
    let lower: Vec<String> = budgets
        .iter()
        .filter(|e| e.limit_usd.is_some() && e.spent.unpriced > 0)
        .map(|e| crate::output::markdown_text(&e.name))
        .collect();
    if !lower.is_empty() {
        let _ = writeln!(
            s,
            "Unpriced records (unknown model, no `cost_usd`) are not in the dollars: the spend of {} is a lower \
             bound.\n",
            lower.join(", ")
        );
    }
    Ok(s)
}

/// The report of tt-sum summary rows: the budgets they answer, then one table, group columns first, the total
/// row last.
pub fn summary_markdown(rows: &[Summary], config: &Config, cal: &Calendar) -> Result<String> {
    let mut s = String::from("## Token usage");
    rows_window_title(&mut s, rows);
    s.push_str("\n\n");
    if !config.budgets.is_empty() {
        let answers = crate::budget::evaluate_from_rows(&config.budgets, rows, cal, &config.prices)?;
        s.push_str(&budget_section(&answers.evaluations, false)?);
        s.push_str("### Usage\n\n");
    }
    let t = rows_table(rows);
    let mut buf = Vec::new();
    t.render_markdown(&mut buf)?;
    s.push_str(&String::from_utf8_lossy(&buf));
    let unpriced = rows
        .iter()
        .filter(|r| r.is_total())
        .try_fold(0u64, |n, r| n.checked_add(r.unpriced_records))
        .ok_or_else(|| Error::data(format!("the sums are too large to be exact (records past {})", u64::MAX)))?;
    if unpriced > 0 {
        let _ = writeln!(s, "\n{} unpriced, not in the cost.", records(unpriced));
    }
    Ok(s)
}

/// The window of the rows after the title: `: day 2026-01-01 – 2026-01-01`, `: since …`, `: until …`, or
/// `: all time` (nothing without rows).
fn rows_window_title(s: &mut String, rows: &[Summary]) {
    if let Some(r) = rows.first() {
        let w = &r.window;
        match (&w.start, &w.end) {
            (Some(a), Some(b)) => {
                let _ = write!(
                    s,
                    ": {} {} – {}",
                    w.period,
                    a.format("%Y-%m-%d"),
                    (*b - Duration::seconds(1)).format("%Y-%m-%d")
                );
            }
            (Some(a), None) => {
                let _ = write!(s, ": since {}", a.format("%Y-%m-%d"));
            }
            (None, Some(b)) => {
                let _ = write!(s, ": until {}", (*b - Duration::seconds(1)).format("%Y-%m-%d"));
            }
            (None, None) => s.push_str(": all time"),
        }
    }
}

/// The rows as one markdown table: group columns first (every key any row has, in order of appearance), the
/// total row in bold.
fn rows_table(rows: &[Summary]) -> Table {
    let mut keys: Vec<&str> = Vec::new();
    for r in rows {
        for (k, _) in &r.group {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    let mut headers: Vec<String> = keys.iter().map(|k| crate::output::markdown_text(&capitalise(k))).collect();
    headers.extend(["Records", "Input", "Output", "Cache read", "Cache write", "Tokens", "Cost"].map(String::from));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t =
        Table::new(&header_refs, &["Records", "Input", "Output", "Cache read", "Cache write", "Tokens", "Cost"]);
    // Values are escaped below with the one escaper; the total row is markup.
    t.markup = true;
    for r in rows {
        let mut cells: Vec<String> = if r.is_total() {
            let mut c = vec![String::new(); keys.len()];
            if let Some(first) = c.first_mut() {
                *first = "**Total**".into();
            }
            c
        } else {
            keys.iter()
                .map(|k| r.value(k).flatten().map(crate::output::markdown_text).unwrap_or_else(|| "–".into()))
                .collect()
        };
        cells.extend([
            thousands(r.records),
            thousands(r.input_tokens),
            thousands(r.output_tokens),
            thousands(r.cache_read_tokens),
            thousands(r.cache_write_tokens),
            thousands(r.total_tokens),
            spend(r.cost_usd, r.records, r.unpriced_records),
        ]);
        if r.is_total() && keys.is_empty() {
            cells[0] = format!("**{}**", cells[0]);
        }
        t.row(cells);
    }
    t
}

fn group_table(title: &str, groups: &BTreeMap<String, Totals>, total: &Totals) -> Result<String> {
    let mut rows: Vec<(&String, &Totals)> = groups.iter().collect();
    // Biggest spenders first; ties (and unpriced groups) by tokens, then name.
    rows.sort_by(|a, b| b.1.cost.cmp(&a.1.cost).then(b.1.total_tokens().cmp(&a.1.total_tokens())).then(a.0.cmp(b.0)));
    let mut t = Table::new(
        &[title, "Records", "Input", "Output", "Cache read", "Cache write", "Tokens", "Cost", "Share"],
        &["Records", "Input", "Output", "Cache read", "Cache write", "Tokens", "Cost", "Share"],
    );
    // Names are escaped below with the one escaper; the total row is markup.
    t.markup = true;
    let cells = |name: String, g: &Totals| {
        vec![
            name,
            thousands(g.records),
            thousands(g.input),
            thousands(g.output),
            thousands(g.cache_read),
            thousands(g.cache_write),
            thousands(g.total_tokens()),
            cost(g),
            share(g, total),
        ]
    };
    for (name, g) in rows {
        t.row(cells(crate::output::markdown_text(name), g));
    }
    let mut last = cells("**Total**".into(), total);
    last[8] = "100%".into();
    t.row(last);
    let mut buf = Vec::new();
    t.render_markdown(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The cost of a group (see [`spend`]).
fn cost(g: &Totals) -> String {
    spend(g.cost, g.records, g.unpriced)
}

/// Dollars that may leave records out: "–" when none of the `records` could be priced (never a misleading
/// $0), "$1.20 + 3 unpriced" when some could not (the dollars are a lower bound), else the dollars.
pub(crate) fn spend(cost: rust_decimal::Decimal, records: u64, unpriced: u64) -> String {
    match unpriced {
        0 => usd(cost),
        n if n >= records => "–".into(),
        n => format!("{} + {} unpriced", usd(cost), thousands(n)),
    }
}

/// A group's share of the cost (of tokens when nothing is priced), to one decimal; "–" for a group with nothing
/// priced when something else is (its share of the dollars is unknown, not 0%). The HTML report's too.
pub(crate) fn share(g: &Totals, total: &Totals) -> String {
    use rust_decimal::Decimal;
    if total.cost > Decimal::ZERO && g.records > 0 && g.unpriced == g.records {
        return "–".into();
    }
    let (part, whole) = if total.cost > Decimal::ZERO {
        (g.cost, total.cost)
    } else {
        (Decimal::from(g.total_tokens()), Decimal::from(total.total_tokens()))
    };
    if whole.is_zero() {
        return "–".into();
    }
    let pct = (part * Decimal::ONE_HUNDRED / whole)
        .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{pct:.1}%")
}

/// "week of 2026-11-16 (Mon) – 2026-11-22", "2026-11-01 – 2026-11-30", "all time".
pub(crate) fn window_title(w: &Window, cal: &Calendar) -> String {
    let day = |t| cal.local_date(t);
    match (w.start, w.end) {
        (Some(a), Some(b)) => {
            let (a, last) = (day(a), day(b - Duration::nanoseconds(1)));
            match w.period.as_str() {
                "week" | "last-week" => format!("week of {} – {}", a.format("%Y-%m-%d"), last.format("%Y-%m-%d")),
                "today" | "yesterday" => a.format("%Y-%m-%d").to_string(),
                "month" | "last-month" => a.format("%B %Y").to_string(),
                _ if a == last => a.format("%Y-%m-%d").to_string(),
                _ => format!("{} – {}", a.format("%Y-%m-%d"), last.format("%Y-%m-%d")),
            }
        }
        (Some(a), None) => format!("since {}", day(a).format("%Y-%m-%d")),
        (None, Some(b)) => format!("until {}", day(b - Duration::nanoseconds(1)).format("%Y-%m-%d")),
        (None, None) => "all time".into(),
    }
}

/// What the window is called in a heading: "this week", "last month", "all time", "the window".
pub(crate) fn window_noun(w: &Window) -> String {
    match w.period.as_str() {
        "today" => "today".into(),
        "yesterday" => "yesterday".into(),
        "week" => "this week".into(),
        "last-week" => "last week".into(),
        "month" => "this month".into(),
        "last-month" => "last month".into(),
        "year" => "this year".into(),
        "all" => "all time".into(),
        _ => "in the window".into(),
    }
}

pub(crate) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn records(n: u64) -> String {
    crate::money::plural(n, "record")
}

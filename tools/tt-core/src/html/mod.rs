//! The HTML report (`tt-export --format html`): one self-contained page — spend over time stacked by model and
//! by agent, budget gauges with their forecast and the date a limit is reached, the top sessions and tasks,
//! and tt-optimize's suggestions with their evidence.
//!
//! [`Report`] sees every record once, as [`crate::report::Weekly`] does for the markdown report: all of them
//! feed the budget tally (each budget has its own window), and those inside the report's window and filter
//! make the rest. The numbers come from the modules that own them, never recomputed here: the totals and the
//! top sessions an [`Aggregator`] by session (tt-sum's own sums), the time buckets one by `day,model,agent`
//! (what `tt-sum --by day,model,agent` sums), the budgets
//! [`Tally::evaluate`], the suggestions and top tasks an [`Analyzer`] (tt-optimize's analyses, over the same
//! window). The analyzer's second pass re-reads the records in the window from an unlinked spool file, so
//! memory stays flat however long the log is.
//!
//! Invariants:
//! * Self-contained and inert: no script, no external URL, no `xmlns`; a Content-Security-Policy that allows
//!   nothing but the inline stylesheet (and `data:` images, for the empty favicon that stops a browser asking
//!   for one), so even a page edited by hand cannot load anything.
//! * Every string from the log or the config (agents, models, sessions, tasks, budget names, suggestion text and
//!   evidence) goes through [`escape`], in text and in attributes alike.
//! * Money is exact: dollars are `Decimal`s; `data-total` holds the total's exact decimal text (as tt-sum's
//!   `cost_usd`), and the charts compute coordinates from decimals (see [`svg`]).
//! * Deterministic: with `--today` and `$SOURCE_DATE_EPOCH` ([`crate::export::now`]) the page is a pure function
//!   of the log and the config, byte for byte (its golden file is the sample `docs/sample-report.html`).

pub mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::aggregate::{Aggregator, Group, Key, Totals};
use crate::budget::{Evaluation, Tally};
use crate::config::Config;
use crate::error::Result;
use crate::export::{Filter, Spool};
use crate::money::{self, thousands};
use crate::optimize::{Analyzer, Suggestion, TaskEfficiency};
use crate::period::{Calendar, Unit};
use crate::record::Record;
use crate::scan::View;

/// How many sessions and tasks the report lists.
const TOP: usize = 10;

/// More columns than this make bars too thin to see: the chart then keeps the latest ones and says so.
const MAX_BUCKETS: usize = 400;

/// Text (or an attribute value) made inert in HTML: `& < > " '` as character references, control and invisible
/// format characters (bidi overrides, zero-width spaces) shown escaped as in tt's tables
/// ([`crate::output::cell_text`]), so a name can neither add markup nor hide or reorder what is shown.
pub fn escape(s: &str) -> String {
    let s = crate::output::cell_text(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds the HTML report from records.
pub struct Report<'c> {
    config: &'c Config,
    cal: Calendar,
    filter: Filter,
    /// Spend by local day, model and agent (the charts' buckets are made from days).
    days: Aggregator<'c>,
    sessions: Aggregator<'c>,
    budgets: Tally<'c>,
    optimize: Analyzer<'c>,
    /// The lines inside the window and filter, for the analyzer's second pass.
    spool: Spool,
    /// The first and last record inside the window and filter (the chart's range when the window is open).
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

impl<'c> Report<'c> {
    /// A report over `filter` (its window is the report's), with `config`'s budgets evaluated at `cal.now`;
    /// the second pass's spool file goes in `spool_dir`.
    pub fn new(config: &'c Config, cal: &Calendar, filter: &Filter, spool_dir: &Path) -> Result<Report<'c>> {
        let window = filter.window.clone();
        let keys = |k: &[&str]| k.iter().map(|k| Key::parse(k)).collect::<Result<Vec<Key>>>();
        Ok(Report {
            config,
            cal: *cal,
            filter: filter.clone(),
            days: Aggregator::new(keys(&["day", "model", "agent"])?, *cal, window.clone(), &config.prices),
            sessions: Aggregator::new(keys(&["session"])?, *cal, window.clone(), &config.prices),
            budgets: Tally::new(&config.budgets, cal, &config.prices),
            optimize: Analyzer::new(config, *cal, window, TOP),
            spool: Spool::new(spool_dir)?,
            first: None,
            last: None,
        })
    }

    /// See one record: `line` is its log line, `r` the parsed record, already priced if it can be.
    pub fn add(&mut self, line: &[u8], r: &Record) -> Result<()> {
        let v = View::parse(line)?;
        self.budgets.add(&v);
        if !self.filter.matches(r, &self.config.prices) {
            return Ok(());
        }
        self.days.add(&v);
        self.sessions.add(&v);
        self.optimize.observe(&v);
        self.spool.write_all(line)?;
        self.spool.write_all(b"\n")?;
        self.first = Some(self.first.map_or(r.ts, |t| t.min(r.ts)));
        self.last = Some(self.last.map_or(r.ts, |t| t.max(r.ts)));
        Ok(())
    }

    /// The page.
    pub fn render(mut self) -> Result<String> {
        // Sums past what their types hold would be printed wrong: refused, as tt-sum refuses them.
        self.days.check()?;
        self.sessions.check()?;
        let budgets = self.budgets.evaluate(&self.config.budgets, &self.cal)?;
        let second = match self.optimize.second_pass() {
            None => None,
            Some(mut pass) => {
                crate::input::for_each_line("the report's spool", self.spool.into_reader()?, |_, line| {
                    pass.observe(&View::parse(line)?);
                    Ok(())
                })?;
                Some(pass)
            }
        };
        let optimize = self.optimize.finish(second)?;
        let (days, _) = self.days.finish();
        let (sessions, total) = self.sessions.finish();

        let title = format!("Token usage: {}", crate::report::window_title(&self.filter.window, &self.cal));
        let mut s = String::with_capacity(64 * 1024);
        head(&mut s, &title);
        let _ = write!(s, "<header><h1>{}</h1>", escape(&title));
        meta(&mut s, &self.filter, &self.cal);
        s.push_str("</header>\n<main>\n");
        totals_section(&mut s, &total, &self.filter);
        budget_section(&mut s, &budgets, !self.config.budgets.is_empty());
        let range = Range::of(&self.filter, &self.cal, self.first, self.last);
        time_section(&mut s, &days, range.as_ref(), &self.cal, &total);
        sessions_section(&mut s, &sessions, &total);
        tasks_section(&mut s, &optimize.tasks);
        suggestions_section(&mut s, &optimize.suggestions, optimize.records);
        s.push_str("</main>\n<footer><p>Written by tt-export ");
        s.push_str(env!("CARGO_PKG_VERSION"));
        s.push_str(". Costs are exact; records of models without a price are counted as unpriced, never as $0.</p></footer>\n</body>\n</html>\n");
        Ok(s)
    }
}

/// The document's head: charset, viewport, the policy that allows nothing but the inline stylesheet, the
/// stylesheet.
fn head(s: &mut String, title: &str) {
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         img-src data:\">\n",
    );
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // An empty icon: without it a browser asks the server (or the file system) for /favicon.ico.
    s.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    let _ = writeln!(s, "<title>{}</title>", escape(title));
    s.push_str("<style>\n");
    s.push_str(STYLE);
    s.push_str("</style>\n</head>\n<body>\n");
}

/// The stylesheet: a readable column on a desktop, one column on a phone (tables scroll sideways inside their
/// box instead of widening the page), and a print layout that keeps sections whole and colours printed.
const STYLE: &str = "\
:root{--fg:#1d2125;--muted:#5c6670;--line:#d9dee3;--bg:#fff;--card:#f5f7f9}
*{box-sizing:border-box}
body{margin:0 auto;max-width:64rem;padding:1rem;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.5rem;margin:.2rem 0}
h2{font-size:1.15rem;margin:1.6rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
.meta,.note,footer{color:var(--muted);font-size:.85rem}
.meta{margin:.2rem 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.6rem;margin:.6rem 0}
.card{background:var(--card);border-radius:.4rem;padding:.6rem .8rem}
.card .k{color:var(--muted);font-size:.8rem}
.card .v{font-size:1.35rem;font-weight:600;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted)}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name{overflow-wrap:anywhere}
svg{display:block;width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
.grid{stroke:var(--line);stroke-width:1}
.axis{stroke:var(--muted);stroke-width:1}
.s0{fill:#0072b2;background:#0072b2}.s1{fill:#e69f00;background:#e69f00}.s2{fill:#009e73;background:#009e73}
.s3{fill:#cc79a7;background:#cc79a7}.s4{fill:#56b4e9;background:#56b4e9}.s5{fill:#d55e00;background:#d55e00}
.s6{fill:#f0e442;background:#f0e442}.s7{fill:#8a8f94;background:#8a8f94}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.4rem;vertical-align:-1px}
.budget{margin:.8rem 0;padding:.6rem .8rem;background:var(--card);border-radius:.4rem;break-inside:avoid}
.budget h3{margin:0 0 .3rem;display:flex;flex-wrap:wrap;justify-content:space-between;gap:.4rem}
.budget p{margin:.2rem 0;font-size:.9rem}
.gauge{max-width:40rem}
.track{fill:#e3e7eb}
.limit{stroke:var(--fg);stroke-width:2}
.forecast{stroke-width:3;stroke-dasharray:3 2}
.lvl-ok{fill:#2e7d32;stroke:#2e7d32}.lvl-info{fill:#0277bd;stroke:#0277bd}.lvl-warning{fill:#c98a00;stroke:#c98a00}
.lvl-critical{fill:#e65100;stroke:#e65100}.lvl-over{fill:#c62828;stroke:#c62828}
.badge{font-size:.75rem;font-weight:600;border-radius:.8rem;padding:.05rem .55rem;color:#fff;white-space:nowrap}
.badge.lvl-ok{background:#2e7d32}.badge.lvl-info{background:#0277bd}.badge.lvl-warning{background:#c98a00}
.badge.lvl-critical{background:#e65100}.badge.lvl-over{background:#c62828}
ol.suggestions{padding-left:1.4rem}
ol.suggestions li{margin:.7rem 0;break-inside:avoid}
.saving{font-weight:600;font-variant-numeric:tabular-nums}
details{font-size:.85rem;margin-top:.2rem}
summary{cursor:pointer;color:var(--muted)}
dl.evidence{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .6rem;margin:.3rem 0;font-size:.85rem}
dl.evidence dt{color:var(--muted)}
dl.evidence dd{margin:0;overflow-wrap:anywhere}
@media (max-width:36rem){body{padding:.6rem;font-size:14px}.cards{grid-template-columns:1fr 1fr}th,td{padding:.25rem .3rem}svg text{font-size:16px}}
@media print{
@page{margin:12mm}
body{max-width:none;padding:0;font-size:10pt}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.scroll{overflow:visible}
section{break-inside:avoid-page}
h2{break-after:avoid}
tr{break-inside:avoid}
}
";

/// When, by what, over which window and filter.
fn meta(s: &mut String, filter: &Filter, cal: &Calendar) {
    let w = &filter.window;
    let bound = |t: Option<DateTime<Utc>>| t.map(|t| crate::period::format_in(t, w.tz));
    let window = match (bound(w.start), bound(w.end)) {
        (Some(a), Some(b)) => format!("{a} to {b} (end excluded)"),
        (Some(a), None) => format!("from {a}"),
        (None, Some(b)) => format!("until {b} (excluded)"),
        (None, None) => "all time".into(),
    };
    let _ = write!(
        s,
        "<p class=\"meta\">Window: {} · time zone {} · generated {} by tt-export {}</p>",
        escape(&window),
        escape(cal.tz.name()),
        escape(&crate::export::stamp(crate::export::now())),
        env!("CARGO_PKG_VERSION")
    );
    if let Some(c) = w.cutoff.filter(|c| w.end.is_none_or(|e| *c < e)) {
        let _ = write!(
            s,
            "<p class=\"meta\">Counted until {} (<code>--today</code>): later records are left out.</p>",
            escape(&crate::period::format_in(c, w.tz))
        );
    }
    if !filter.fields.is_empty() {
        let parts: Vec<String> =
            filter.fields.iter().map(|(f, vs)| format!("{} = {}", escape(f), escape(&vs.join(" or ")))).collect();
        let _ = write!(s, "<p class=\"meta\">Only records with {}.</p>", parts.join(", "));
    }
}

/// Dollars that may leave records out, as the markdown report writes them: "–" when none could be priced.
fn spend(t: &Totals) -> String {
    crate::report::spend(t.cost, t.records, t.unpriced)
}

fn totals_section(s: &mut String, t: &Totals, filter: &Filter) {
    let noun = crate::report::capitalise(&crate::report::window_noun(&filter.window));
    let _ = write!(s, "<section id=\"totals\"><h2>{}</h2><div class=\"cards\">", escape(&noun));
    let _ = write!(
        s,
        "<div class=\"card\"><div class=\"k\">Cost</div><div class=\"v\" data-total=\"{}\">{}</div></div>",
        money::canonical(t.cost),
        escape(&spend(t))
    );
    let _ = write!(
        s,
        "<div class=\"card\"><div class=\"k\">Tokens</div><div class=\"v\" data-tokens=\"{}\">{}</div></div>",
        t.total_tokens(),
        thousands(t.total_tokens())
    );
    let _ = write!(
        s,
        "<div class=\"card\"><div class=\"k\">Records</div><div class=\"v\" data-records=\"{}\">{}</div></div>",
        t.records,
        thousands(t.records)
    );
    let sessions =
        if t.sessions_estimated() { format!("≈{}", thousands(t.sessions())) } else { thousands(t.sessions()) };
    let _ = write!(s, "<div class=\"card\"><div class=\"k\">Sessions</div><div class=\"v\">{sessions}</div></div>");
    s.push_str("</div>");
    let _ = write!(
        s,
        "<p class=\"note\">Input {} · output {} · cache read {} · cache write {} tokens.",
        thousands(t.input),
        thousands(t.output),
        thousands(t.cache_read),
        thousands(t.cache_write)
    );
    if t.unpriced > 0 {
        let _ = write!(
            s,
            " {} unpriced (unknown model, no <code>cost_usd</code>): not in the dollars, which are a lower bound.",
            escape(&money::plural(t.unpriced, "record"))
        );
    }
    s.push_str("</p></section>\n");
}

/// The budget's window as a reader says it: a day, a range of days, a session, or all time.
fn budget_window(e: &Evaluation) -> String {
    match (&e.session, e.window.start, e.window.end) {
        (Some(session), _, _) => format!("session {session}"),
        (None, Some(a), Some(_)) if e.period.as_str() == "day" => a.format("%Y-%m-%d").to_string(),
        (None, Some(a), Some(b)) => {
            format!("{} – {}", a.format("%Y-%m-%d"), (b - Duration::seconds(1)).format("%Y-%m-%d"))
        }
        (None, None, None) => "all time".into(),
        _ => e.period.as_str().to_string(),
    }
}

fn budget_section(s: &mut String, budgets: &[Evaluation], configured: bool) {
    s.push_str("<section id=\"budgets\"><h2>Budgets</h2>");
    if budgets.is_empty() {
        s.push_str(if configured {
            "<p class=\"note\">No budget has a window to show.</p>"
        } else {
            "<p class=\"note\">No budgets configured (see <code>[[budget]]</code> in tt.toml).</p>"
        });
    }
    for e in budgets {
        let level = e.level.as_str();
        let mut name = e.name.clone();
        if !e.scope.is_empty() {
            name = format!("{name} ({})", e.scope_text());
        }
        let _ = write!(
            s,
            "<div class=\"budget\"><h3><span>{} <span class=\"note\">{} · {}</span></span><span class=\"badge \
             lvl-{level}\">{}</span></h3>",
            escape(&name),
            escape(e.period.as_str()),
            escape(&budget_window(e)),
            escape(level)
        );
        s.push_str(&svg::gauge(&svg::Gauge {
            name: &e.name,
            fraction: e.fraction,
            percent: e.percent(),
            level,
            projected: e.forecast.as_ref().zip(e.projected_percent()).map(|(f, p)| (f.fraction, p)),
            projected_level: e.forecast.as_ref().map(|f| f.level.as_str()),
        }));
        let all_unpriced = e.spent.unpriced > 0 && e.spent.unpriced >= e.spent.records;
        let _ = write!(s, "<p>Spent {} ({}%) · {}</p>", escape(&e.spent_text()), e.percent(), escape(&e.left_text()));
        match &e.forecast {
            Some(f) => {
                let mut line = if all_unpriced && e.limit_tokens.is_none() {
                    "Projected: – (nothing priced)".to_string()
                } else {
                    format!("Projected by the window's end: {} ({})", e.projected_text(), f.level.as_str())
                };
                match f.limit_date {
                    Some(d) => {
                        let _ = write!(line, " · limit reached on {} at this rate", d.format("%Y-%m-%d"));
                    }
                    None if f.level != crate::budget::Level::Over && e.level != crate::budget::Level::Over => {
                        line.push_str(" · the limit holds at this rate");
                    }
                    None => {}
                }
                let _ = write!(s, "<p>{}</p>", escape(&line));
            }
            None => {
                if let Some(b) = &e.burn {
                    let line = match b.limit_date {
                        Some(d) => format!(
                            "At the last {} days' rate the limit is reached on {}",
                            crate::budget::BURN_DAYS,
                            d.format("%Y-%m-%d")
                        ),
                        None => format!("No limit date at the last {} days' rate", crate::budget::BURN_DAYS),
                    };
                    let _ = write!(s, "<p>{}</p>", escape(&line));
                }
            }
        }
        if e.limit_usd.is_some() && e.spent.unpriced > 0 {
            let _ = write!(
                s,
                "<p class=\"note\">{} unpriced: the spend is a lower bound.</p>",
                escape(&money::plural(e.spent.unpriced, "record"))
            );
        }
        s.push_str("</div>");
    }
    s.push_str("</section>\n");
}

/// The span the time charts cover, and the calendar unit of their columns.
struct Range {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    unit: Unit,
}

impl Range {
    /// The window's bounds, or where an open window's records begin or end; the unit is a day up to about two
    /// months, a week up to two years, else a month.
    fn of(filter: &Filter, cal: &Calendar, first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) -> Option<Range> {
        let w = &filter.window;
        let start = w.start.or(first)?;
        let end = match w.end {
            Some(e) => e,
            None => last.map(|l| l + Duration::nanoseconds(1)).filter(|l| *l > start)?,
        };
        let days = (cal.local_date(end - Duration::nanoseconds(1)) - cal.local_date(start)).num_days() + 1;
        let unit = match days {
            ..=62 => Unit::Day,
            63..=731 => Unit::Week,
            _ => Unit::Month,
        };
        Some(Range { start, end, unit })
    }

    /// The buckets' keys from start to end, at most [`MAX_BUCKETS`] (the latest), and whether some were cut.
    fn buckets(&self, cal: &Calendar) -> (Vec<String>, bool) {
        let mut keys = std::collections::VecDeque::new();
        let mut cut = false;
        let mut t = self.start;
        while t < self.end {
            let (key, _, next) = cal.bucket(self.unit, t);
            keys.push_back(key);
            if keys.len() > MAX_BUCKETS {
                keys.pop_front();
                cut = true;
            }
            if next <= t {
                break;
            }
            t = next;
        }
        (keys.into(), cut)
    }
}

/// A bucket key (`2026-11-16`, `2026-11`) as its first day.
fn bucket_day(key: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(key, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d"))
        .ok()
}

/// A column's axis label and its full name (for tooltips).
fn bucket_texts(unit: Unit, key: &str, columns: usize) -> (String, String) {
    let Some(d) = bucket_day(key) else { return (key.to_string(), key.to_string()) };
    match unit {
        Unit::Day if columns <= 14 => (d.format("%a %d").to_string(), d.format("%Y-%m-%d (%a)").to_string()),
        Unit::Day | Unit::Hour => (d.format("%m-%d").to_string(), d.format("%Y-%m-%d (%a)").to_string()),
        Unit::Week => (d.format("%m-%d").to_string(), d.format("week of %Y-%m-%d").to_string()),
        Unit::Month => (d.format("%b %Y").to_string(), d.format("%B %Y").to_string()),
    }
}

/// One stacked chart's series: by the group value at `which` (1: model, 2: agent), dearest first, the rest in
/// one "other" series past [`svg::SERIES`]. Each with its totals, for the legend.
struct Stack {
    series: Vec<svg::Series>,
    totals: Vec<Totals>,
}

fn stack(days: &[Group], which: usize, index: &BTreeMap<String, usize>, unit: Unit, cal: &Calendar, n: usize) -> Stack {
    let mut by: BTreeMap<String, (Vec<Decimal>, Totals)> = BTreeMap::new();
    // Day keys turn into the chart's bucket keys once each (a week or a month holds many days).
    let mut bucket_of: BTreeMap<&str, Option<usize>> = BTreeMap::new();
    for g in days {
        let (Some(Some(day)), name) = (g.values.first(), g.values.get(which).cloned().flatten()) else { continue };
        let at = *bucket_of.entry(day.as_str()).or_insert_with(|| {
            let d = bucket_day(day)?;
            let key = if unit == Unit::Day { day.clone() } else { cal.bucket(unit, cal.midnight(d)).0 };
            index.get(&key).copied()
        });
        let entry =
            by.entry(name.unwrap_or_else(|| "–".into())).or_insert_with(|| (vec![Decimal::ZERO; n], Totals::default()));
        if let Some(i) = at
            && let Some(v) = entry.0.get_mut(i)
        {
            *v += g.totals.cost;
        }
        entry.1.merge(g.totals.clone());
    }
    let mut all: Vec<(String, Vec<Decimal>, Totals)> = by.into_iter().map(|(k, (v, t))| (k, v, t)).collect();
    all.sort_by(|a, b| {
        b.2.cost.cmp(&a.2.cost).then(b.2.total_tokens().cmp(&a.2.total_tokens())).then_with(|| a.0.cmp(&b.0))
    });
    let keep = if all.len() <= svg::SERIES + 1 { all.len() } else { svg::SERIES };
    let rest = all.split_off(keep);
    if !rest.is_empty() {
        let mut values = vec![Decimal::ZERO; n];
        let mut totals = Totals::default();
        let count = rest.len();
        for (_, v, t) in rest {
            for (a, b) in values.iter_mut().zip(v) {
                *a += b;
            }
            totals.merge(t);
        }
        all.push((format!("{count} others"), values, totals));
    }
    let totals = all.iter().map(|(_, _, t)| t.clone()).collect();
    Stack { series: all.into_iter().map(|(name, values, _)| svg::Series { name, values }).collect(), totals }
}

fn time_section(s: &mut String, days: &[Group], range: Option<&Range>, cal: &Calendar, total: &Totals) {
    s.push_str("<section id=\"spend\"><h2>Spend over time</h2>");
    let Some(range) = range else {
        s.push_str("<p class=\"note\">No records in the window.</p></section>\n");
        return;
    };
    let (keys, cut) = range.buckets(cal);
    let index: BTreeMap<String, usize> = keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
    let (labels, tips): (Vec<String>, Vec<String>) =
        keys.iter().map(|k| bucket_texts(range.unit, k, keys.len())).unzip();
    let _ = write!(s, "<p class=\"note\">Dollars per {}, priced records only.", range.unit.as_str());
    if cut {
        let _ =
            write!(s, " The chart shows the latest {MAX_BUCKETS} {}s; the totals count them all.", range.unit.as_str());
    }
    s.push_str("</p>");
    for (which, title) in [(1, "model"), (2, "agent")] {
        let st = stack(days, which, &index, range.unit, cal, keys.len());
        let _ = write!(s, "<h3>By {title}</h3>");
        match svg::stacked_bars(&format!("Spend per {} by {title}", range.unit.as_str()), &labels, &tips, &st.series) {
            Some(chart) => s.push_str(&chart),
            None => s.push_str("<p class=\"note\">No priced spend to chart.</p>"),
        }
        let _ = write!(
            s,
            "<div class=\"scroll\"><table class=\"legend\"><thead><tr><th>{}</th><th class=\"n\">Records</th>\
             <th class=\"n\">Tokens</th><th class=\"n\">Cost</th><th class=\"n\">Share</th></tr></thead><tbody>",
            crate::report::capitalise(title)
        );
        for (k, (ser, t)) in st.series.iter().zip(&st.totals).enumerate() {
            let _ = write!(
                s,
                "<tr><td class=\"name\"><span class=\"swatch s{}\"></span>{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                k.min(svg::SERIES),
                escape(&ser.name),
                thousands(t.records),
                thousands(t.total_tokens()),
                escape(&spend(t)),
                crate::report::share(t, total)
            );
        }
        s.push_str("</tbody></table></div>");
    }
    s.push_str("</section>\n");
}

fn sessions_section(s: &mut String, sessions: &[Group], total: &Totals) {
    let mut rows: Vec<(&str, &Totals)> = sessions
        .iter()
        .filter_map(|g| g.values.first().and_then(|v| v.as_deref()).map(|name| (name, &g.totals)))
        .collect();
    rows.sort_by(|a, b| {
        b.1.cost.cmp(&a.1.cost).then(b.1.total_tokens().cmp(&a.1.total_tokens())).then_with(|| a.0.cmp(b.0))
    });
    let _ = write!(s, "<section id=\"sessions\"><h2>Top sessions</h2>");
    if rows.is_empty() {
        s.push_str("<p class=\"note\">No record in the window names a session.</p></section>\n");
        return;
    }
    if rows.len() > TOP {
        let _ = write!(s, "<p class=\"note\">The {TOP} dearest of {} sessions.</p>", thousands(rows.len() as u64));
    }
    s.push_str(
        "<div class=\"scroll\"><table><thead><tr><th>Session</th><th class=\"n\">Records</th><th class=\"n\">Tokens</th>\
         <th class=\"n\">Cost</th><th class=\"n\">Share</th></tr></thead><tbody>",
    );
    for (name, t) in rows.into_iter().take(TOP) {
        let _ = write!(
            s,
            "<tr><td class=\"name\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            escape(name),
            thousands(t.records),
            thousands(t.total_tokens()),
            escape(&spend(t)),
            crate::report::share(t, total)
        );
    }
    s.push_str("</tbody></table></div></section>\n");
}

fn tasks_section(s: &mut String, tasks: &[TaskEfficiency]) {
    s.push_str("<section id=\"tasks\"><h2>Top tasks</h2>");
    if tasks.is_empty() {
        s.push_str("<p class=\"note\">No records in the window.</p></section>\n");
        return;
    }
    s.push_str(
        "<p class=\"note\">A task is a record's <code>task</code>, else its <code>session</code>; a record with \
         neither is a task of its own (as in tt-optimize).</p><div class=\"scroll\"><table><thead><tr><th>Agent</th>\
         <th>Task</th><th class=\"n\">Records</th><th class=\"n\">Tokens</th><th class=\"n\">Cost</th></tr></thead><tbody>",
    );
    for t in tasks {
        let task = if t.lone { format!("(record {})", t.task) } else { t.task.clone() };
        let cost = t.known_cost().map_or_else(|| "–".to_string(), money::usd);
        let _ = write!(
            s,
            "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            escape(&t.agent),
            escape(&task),
            thousands(t.records),
            thousands(t.tokens.total()),
            escape(&cost)
        );
    }
    s.push_str("</tbody></table></div></section>\n");
}

/// An evidence value as text: strings as they are, lists joined with commas, objects as `key: value` pairs.
fn evidence_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "–".into(),
        // A list of objects (a budget's history) reads better one object per part.
        Value::Array(items) if items.iter().any(Value::is_object) => {
            items.iter().map(evidence_text).collect::<Vec<_>>().join(" | ")
        }
        Value::Array(items) => items.iter().map(evidence_text).collect::<Vec<_>>().join(", "),
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}: {}", evidence_text(v))).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

fn suggestions_section(s: &mut String, suggestions: &[Suggestion], records: u64) {
    let _ = write!(
        s,
        "<section id=\"suggestions\"><h2>Suggestions</h2><p class=\"note\">tt-optimize's analyses of the {} in \
         the window: each saving is an exact re-pricing of the records in its evidence.</p>",
        escape(&money::plural(records, "record"))
    );
    if suggestions.is_empty() {
        s.push_str(
            "<p class=\"note\">No suggestions: nothing in these records matches a rule (see <code>[optimize]</code> \
             in the config).</p></section>\n",
        );
        return;
    }
    s.push_str("<ol class=\"suggestions\">");
    for sug in suggestions {
        let saving = sug.saving.map_or_else(|| "no saving".to_string(), |v| format!("save {}", money::usd(v)));
        // The brief evidence line is always shown (and printed); every field of the evidence is one click away.
        let _ = write!(
            s,
            "<li data-suggestion=\"{}\"><span class=\"saving\">{}</span> · {}<br>{}<br><span class=\"note\">\
             evidence: {}</span>",
            escape(sug.kind.as_str()),
            escape(&saving),
            escape(sug.kind.as_str()),
            escape(&sug.message),
            escape(&sug.brief)
        );
        if let Some(r) = &sug.no_saving_reason {
            let _ = write!(s, "<br><span class=\"note\">no saving: {}</span>", escape(r));
        }
        s.push_str("<details><summary>All evidence</summary><dl class=\"evidence\">");
        for (k, v) in sug.evidence.iter().filter(|(_, v)| !v.is_null()) {
            let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&evidence_text(v)));
        }
        s.push_str("</dl></details></li>");
    }
    s.push_str("</ol></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_hostile_names_inert() {
        for (hostile, want) in [
            ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            ("\"onload=alert(1)", "&quot;onload=alert(1)"),
            ("' onmouseover='x", "&#39; onmouseover=&#39;x"),
            ("</svg><img src=x>", "&lt;/svg&gt;&lt;img src=x&gt;"),
            ("a&b", "a&amp;b"),
            ("&lt;", "&amp;lt;"),
            ("line\nbreak", "line\\nbreak"),
            ("rtl\u{202e}txt", "rtl\\u{202e}txt"),
            ("ATLAS", "ATLAS"),
        ] {
            assert_eq!(escape(hostile), want);
            let e = escape(hostile);
            assert!(!e.contains(['<', '>', '"', '\'']), "{e}");
        }
    }

    #[test]
    fn bucket_keys_read_back_as_days() {
        assert_eq!(bucket_day("2026-11-16"), NaiveDate::from_ymd_opt(2026, 11, 16));
        assert_eq!(bucket_day("2026-11"), NaiveDate::from_ymd_opt(2026, 11, 1));
        assert_eq!(bucket_day("nonsense"), None);
        assert_eq!(bucket_texts(Unit::Day, "2026-11-16", 7).0, "Mon 16");
        assert_eq!(bucket_texts(Unit::Month, "2026-11", 30).1, "November 2026");
    }

    #[test]
    fn evidence_reads_as_text() {
        let v: Value = serde_json::json!({"records": ["a", "b"], "n": 3, "rule": {"p": 95}});
        assert_eq!(evidence_text(&v), "records: a, b; n: 3; rule: p: 95");
    }
}

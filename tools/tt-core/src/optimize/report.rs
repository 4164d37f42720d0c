//! Rendering an optimisation [`Report`]: JSONL for pipes, one JSON document, a ranked text report, markdown.
//!
//! JSONL, the contract for scripts: one `{"kind":"suggestion",…}` line per suggestion in rank order, then one
//! `{"kind":"efficiency",…}` line per agent, one `{"kind":"task",…}` line per listed task (a record with no
//! task and no session is a task of its own: `"task":null` and its `record_id`), and a last
//! `{"kind":"total",…}` line with the window and counts. Amounts are exact JSON numbers; ratios have 4 places.

use std::io::Write;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::stats::opt_json;
use super::{AgentEfficiency, Report, Suggestion, TaskEfficiency, TokenSums, Type};
use crate::error::Result;
use crate::money;
use crate::output::{Format, Table};

impl Report {
    /// Drop suggestions whose saving is below `min_saving` (suggestions without a saving are advice and stay)
    /// and, when `types` is not empty, those of other types.
    pub fn filter(&mut self, min_saving: Option<Decimal>, types: &[Type]) {
        self.suggestions.retain(|s| {
            (types.is_empty() || types.contains(&s.kind))
                && match (min_saving, s.saving) {
                    (Some(min), Some(v)) => v >= min,
                    _ => true,
                }
        });
    }

    /// Write the report in `format` (CSV is not offered: a report of mixed rows is not one table).
    pub fn write(&self, format: Format, out: &mut impl Write) -> Result<()> {
        match format {
            Format::Jsonl => self.write_jsonl(out),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.to_json()).map_err(std::io::Error::from)?;
                writeln!(out)?;
                Ok(())
            }
            Format::Markdown => self.write_markdown(out),
            Format::Table | Format::Csv => self.write_text(out),
        }
    }

    fn window_json(&self) -> Value {
        let mut w = Map::new();
        w.insert("period".into(), self.window.period.clone().into());
        w.insert("start".into(), self.window.start_text().map(Value::from).unwrap_or(Value::Null));
        w.insert("end".into(), self.window.end_text().map(Value::from).unwrap_or(Value::Null));
        Value::Object(w)
    }

    fn total_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), "total".into());
        m.insert("window".into(), self.window_json());
        m.insert("records".into(), self.records.into());
        m.insert("unpriced_records".into(), self.unpriced_records.into());
        m.insert("suggestions".into(), self.suggestions.len().into());
        Value::Object(m)
    }

    /// The whole report as one JSON document.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("window".into(), self.window_json());
        m.insert("records".into(), self.records.into());
        m.insert("unpriced_records".into(), self.unpriced_records.into());
        m.insert(
            "suggestions".into(),
            Value::Array(self.suggestions.iter().enumerate().map(|(i, s)| s.to_json(i + 1)).collect()),
        );
        m.insert(
            "efficiency".into(),
            Value::Array(self.agents.iter().enumerate().map(|(i, a)| agent_json(i + 1, a)).collect()),
        );
        m.insert("tasks".into(), Value::Array(self.tasks.iter().map(task_json).collect()));
        Value::Object(m)
    }

    fn write_jsonl(&self, out: &mut impl Write) -> Result<()> {
        for (i, s) in self.suggestions.iter().enumerate() {
            writeln!(out, "{}", s.to_json(i + 1))?;
        }
        for (i, a) in self.agents.iter().enumerate() {
            writeln!(out, "{}", agent_json(i + 1, a))?;
        }
        for t in &self.tasks {
            writeln!(out, "{}", task_json(t))?;
        }
        writeln!(out, "{}", self.total_json())?;
        Ok(())
    }

    fn window_text(&self) -> String {
        match (self.window.start_text(), self.window.end_text()) {
            (None, None) => "all time".to_string(),
            (Some(s), None) => format!("{} from {s}", self.window.period),
            (None, Some(e)) => format!("{} until {e}", self.window.period),
            (Some(s), Some(e)) => format!("{} {s} – {e}", self.window.period),
        }
    }

    fn write_text(&self, out: &mut impl Write) -> Result<()> {
        writeln!(
            out,
            "tt-optimize: {} ({}), {} suggestion{}",
            super::stats::plural(self.records, "record"),
            self.window_text(),
            self.suggestions.len(),
            if self.suggestions.len() == 1 { "" } else { "s" }
        )?;
        if self.unpriced_records > 0 {
            writeln!(
                out,
                "({} {} unpriced: unknown model and no cost_usd)",
                money::thousands(self.unpriced_records),
                if self.unpriced_records == 1 { "record is" } else { "records are" }
            )?;
        }
        writeln!(out)?;
        if self.suggestions.is_empty() {
            writeln!(out, "No suggestions: nothing in these records matches a rule (see `[optimize]` in the config).")?;
        }
        for (i, s) in self.suggestions.iter().enumerate() {
            writeln!(out, "{:>2}. {} · {}", i + 1, saving_text(s), s.kind.as_str())?;
            writeln!(out, "    {}", s.message)?;
            writeln!(out, "    evidence: {}", s.brief)?;
            if let Some(r) = &s.no_saving_reason {
                writeln!(out, "    no saving: {r}")?;
            }
        }
        if !self.agents.is_empty() {
            writeln!(out)?;
            writeln!(out, "Agent efficiency (cheapest per task first)")?;
            agent_table(&self.agents).render_text(out)?;
        }
        if !self.tasks.is_empty() {
            writeln!(out)?;
            writeln!(out, "Most expensive tasks")?;
            task_table(&self.tasks).render_text(out)?;
        }
        Ok(())
    }

    fn write_markdown(&self, out: &mut impl Write) -> Result<()> {
        let n = self.suggestions.len();
        writeln!(out, "### tt-optimize: {n} suggestion{}", if n == 1 { "" } else { "s" })?;
        writeln!(out)?;
        writeln!(out, "{} ({}).", super::stats::plural(self.records, "record"), self.window_text())?;
        writeln!(out)?;
        if !self.suggestions.is_empty() {
            let mut t = Table::new(&["#", "saving", "type", "suggestion", "evidence"], &["#", "saving"]);
            for (i, s) in self.suggestions.iter().enumerate() {
                t.row(vec![
                    (i + 1).to_string(),
                    saving_text(s),
                    s.kind.as_str().into(),
                    s.message.clone(),
                    s.brief.clone(),
                ]);
            }
            t.render_markdown(out)?;
            writeln!(out)?;
        }
        if !self.agents.is_empty() {
            writeln!(out, "#### Agent efficiency")?;
            writeln!(out)?;
            agent_table(&self.agents).render_markdown(out)?;
            writeln!(out)?;
        }
        if !self.tasks.is_empty() {
            writeln!(out, "#### Most expensive tasks")?;
            writeln!(out)?;
            task_table(&self.tasks).render_markdown(out)?;
        }
        Ok(())
    }
}

fn saving_text(s: &Suggestion) -> String {
    match s.saving {
        Some(v) => money::usd(v),
        None => "—".into(),
    }
}

fn ratio_text(r: Option<Decimal>) -> String {
    r.map(super::stats::pct).unwrap_or_else(|| "—".into())
}

/// A cost cell: "—" when nothing could be priced (unknown, not $0).
fn cost_text(c: Option<Decimal>) -> String {
    c.map(money::usd).unwrap_or_else(|| "—".into())
}

fn agent_table(agents: &[AgentEfficiency]) -> Table {
    // An unpriced column when some records could not be priced: those agents' dollars are a lower bound.
    let unpriced = agents.iter().any(|a| a.unpriced_records > 0);
    let mut heads =
        vec!["agent", "records", "tasks", "tokens/task", "cost/task", "out/in", "cache hit", "cost", "vs median"];
    if unpriced {
        heads.insert(2, "unpriced");
    }
    let mut t = Table::new(&heads, &heads[1..]);
    // On a narrow screen the agent, its cost per task and in all (and what could not be priced) stay.
    t.may_drop(&["out/in", "cache hit", "tokens/task", "records", "tasks", "vs median"]);
    for a in agents {
        let mut row = vec![a.agent.clone(), money::thousands(a.records)];
        if unpriced {
            row.push(money::thousands(a.unpriced_records));
        }
        row.extend([
            money::thousands(a.tasks),
            a.tokens_per_task.map(|d| money::fixed(d, 0)).unwrap_or_else(|| "—".into()),
            cost_text(a.cost_per_task),
            ratio_text(a.tokens.output_ratio()),
            ratio_text(a.tokens.cache_hit_ratio()),
            cost_text(a.known_cost()),
            a.relative_cost_per_task.map(|r| format!("{}×", money::fixed(r, 2))).unwrap_or_else(|| "—".into()),
        ]);
        t.row(row);
    }
    t
}

fn task_table(tasks: &[TaskEfficiency]) -> Table {
    let heads = ["agent", "task", "records", "tokens", "cost", "out/in", "cache hit"];
    let mut t = Table::new(&heads, &heads[2..]);
    // On a narrow screen the task, its agent, tokens and cost stay.
    t.may_drop(&["out/in", "cache hit", "records"]);
    for x in tasks {
        t.row(vec![
            x.agent.clone(),
            if x.lone { format!("(record {})", x.task) } else { x.task.clone() },
            money::thousands(x.records),
            money::thousands(x.tokens.total()),
            cost_text(x.known_cost()),
            ratio_text(x.tokens.output_ratio()),
            ratio_text(x.tokens.cache_hit_ratio()),
        ]);
    }
    t
}

fn token_fields(m: &mut Map<String, Value>, t: &TokenSums) {
    m.insert("input_tokens".into(), t.input.into());
    m.insert("output_tokens".into(), t.output.into());
    m.insert("cache_read_tokens".into(), t.cache_read.into());
    m.insert("cache_write_tokens".into(), t.cache_write.into());
    m.insert("total_tokens".into(), t.total().into());
    m.insert("output_input_ratio".into(), opt_json(t.output_ratio()));
    m.insert("cache_hit_ratio".into(), opt_json(t.cache_hit_ratio()));
}

fn agent_json(rank: usize, a: &AgentEfficiency) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), "efficiency".into());
    m.insert("rank".into(), rank.into());
    m.insert("agent".into(), a.agent.clone().into());
    m.insert("records".into(), a.records.into());
    m.insert("unpriced_records".into(), a.unpriced_records.into());
    m.insert("tasks".into(), a.tasks.into());
    token_fields(&mut m, &a.tokens);
    m.insert("cost_usd".into(), opt_json(a.known_cost()));
    m.insert("tokens_per_task".into(), opt_json(a.tokens_per_task));
    m.insert("cost_per_task_usd".into(), opt_json(a.cost_per_task));
    m.insert("relative_cost_per_task".into(), opt_json(a.relative_cost_per_task));
    Value::Object(m)
}

fn task_json(t: &TaskEfficiency) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), "task".into());
    m.insert("agent".into(), t.agent.clone().into());
    // A record with neither task nor session is a task of its own: `"task":null` and its id.
    if t.lone {
        m.insert("task".into(), Value::Null);
        m.insert("record_id".into(), t.task.clone().into());
    } else {
        m.insert("task".into(), t.task.clone().into());
    }
    m.insert("records".into(), t.records.into());
    m.insert("unpriced_records".into(), t.unpriced_records.into());
    token_fields(&mut m, &t.tokens);
    m.insert("cost_usd".into(), opt_json(t.known_cost()));
    Value::Object(m)
}

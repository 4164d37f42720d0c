//! `tt-price --missing`: the models records name that the price table cannot price.
//!
//! A record is missing a price when it has no `cost_usd` and its model resolves to no entry of the price table;
//! a record that carries a cost is priced, whatever its model. Models are told apart as resolution tells them
//! apart (ignoring case and surrounding whitespace), named by their first spelling in sorted order, as
//! [`crate::price::Pricer::unknown`] names them. Records are read with the bulk scanner ([`crate::scan::fold`]);
//! memory grows with the number of model names, not of records.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::money;
use crate::output::{Format, Table, csv_safe};
use crate::price::PriceTable;
use crate::record::format_ts;

/// One model without a price, and what its records add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The model as records spell it (the first spelling in sorted order when they differ in case).
    pub model: String,
    /// Records without a cost naming this model.
    pub records: u64,
    /// Input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Prompt-cache read tokens.
    pub cache_read: u64,
    /// Cache write tokens, 5-minute and 1-hour together (as in summary rows).
    pub cache_write: u64,
    /// The earliest record's time.
    pub first: DateTime<Utc>,
    /// The latest record's time.
    pub last: DateTime<Utc>,
    /// Names in the price table one edit away ([`PriceTable::suggest`]).
    pub did_you_mean: Vec<String>,
}

impl Missing {
    /// All tokens.
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output).saturating_add(self.cache_read).saturating_add(self.cache_write)
    }

    fn merge(&mut self, o: Missing) {
        if o.model < self.model {
            self.model = o.model;
        }
        self.records = self.records.saturating_add(o.records);
        self.input = self.input.saturating_add(o.input);
        self.output = self.output.saturating_add(o.output);
        self.cache_read = self.cache_read.saturating_add(o.cache_read);
        self.cache_write = self.cache_write.saturating_add(o.cache_write);
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }

    /// The JSONL object.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "kind": "missing_price",
            "model": self.model,
            "records": self.records,
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cache_read_tokens": self.cache_read,
            "cache_write_tokens": self.cache_write,
            "total_tokens": self.total(),
            "first_ts": format_ts(self.first),
            "last_ts": format_ts(self.last),
            "did_you_mean": self.did_you_mean,
        })
        .to_string()
    }
}

/// One reader's state: resolution per model name as spelled (resolution is dear), sums per model.
struct State<'t> {
    prices: &'t PriceTable,
    /// Spelling → its key (trimmed, lower-cased) when the model is unknown, `None` when it resolves.
    resolved: HashMap<String, Option<String>>,
    by_key: HashMap<String, Missing>,
}

impl State<'_> {
    fn add(&mut self, v: &crate::scan::View<'_>) {
        if v.cost_usd.is_some() {
            return;
        }
        let model: &str = &v.model;
        let key = match self.resolved.get(model) {
            Some(k) => k.clone(),
            None => {
                let k = self.prices.resolve(model).is_none().then(|| model.trim().to_lowercase());
                self.resolved.insert(model.to_string(), k.clone());
                k
            }
        };
        let Some(key) = key else { return };
        let t = &v.tokens;
        let one = Missing {
            model: model.to_string(),
            records: 1,
            input: t.input,
            output: t.output,
            cache_read: t.cache_read,
            cache_write: t.cache_write.saturating_add(t.cache_write_1h),
            first: v.ts,
            last: v.ts,
            did_you_mean: Vec::new(),
        };
        match self.by_key.get_mut(&key) {
            Some(m) => m.merge(one),
            None => {
                self.by_key.insert(key, one);
            }
        }
    }
}

/// The models of `sources` without a price, most tokens first (then most records, then by name).
pub fn find(sources: &[crate::input::Source], prices: &PriceTable) -> Result<Vec<Missing>> {
    let mut all: HashMap<String, Missing> = HashMap::new();
    for src in sources {
        let parts = crate::scan::fold(
            src,
            || State { prices, resolved: HashMap::new(), by_key: HashMap::new() },
            |st, v| {
                st.add(v);
                Ok(())
            },
        )?;
        for p in parts {
            for (k, m) in p.by_key {
                match all.get_mut(&k) {
                    Some(a) => a.merge(m),
                    None => {
                        all.insert(k, m);
                    }
                }
            }
        }
    }
    let mut out: Vec<Missing> = all.into_values().collect();
    for m in &mut out {
        m.did_you_mean = prices.suggest(&m.model).into_iter().map(str::to_string).collect();
    }
    out.sort_by(|a, b| b.total().cmp(&a.total()).then(b.records.cmp(&a.records)).then(a.model.cmp(&b.model)));
    Ok(out)
}

/// `--fail-missing`: nothing when every model is priced, else a condition (exit 1, as tt-budget --fail-over)
/// whose one line names the models, so a CI log that kept only stderr still says what to add to the price table.
pub fn fail(rows: &[Missing]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = rows.iter().map(|r| r.model.as_str()).collect();
    let one = rows.len() == 1;
    Err(Error::condition(format!(
        "{} model{} without a price: {} (--fail-missing)",
        rows.len(),
        if one { "" } else { "s" },
        names.join(", ")
    )))
}

/// Write `rows` in `format`, times in tables shown in `tz`. No rows: nothing in JSONL, a table or markdown;
/// `[]` in JSON and the header alone in CSV, so a parser still gets a document.
pub fn render(out: &mut impl Write, format: Format, rows: &[Missing], tz: chrono_tz::Tz) -> Result<()> {
    match format {
        Format::Jsonl => {
            for r in rows {
                writeln!(out, "{}", r.to_json())?;
            }
        }
        Format::Json => crate::output::write_json_array(out, rows.iter().map(Missing::to_json))?,
        Format::Csv => render_csv(out, rows)?,
        Format::Table | Format::Markdown => render_table(out, format, rows, tz)?,
    }
    Ok(())
}

/// `rows` as CSV, the header first (alone when there are no rows).
fn render_csv(out: &mut impl Write, rows: &[Missing]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "model",
        "records",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "total_tokens",
        "first_ts",
        "last_ts",
        "did_you_mean",
    ])
    .map_err(crate::output::csv_error)?;
    for r in rows {
        w.write_record([
            csv_safe(&r.model).into_owned(),
            r.records.to_string(),
            r.input.to_string(),
            r.output.to_string(),
            r.cache_read.to_string(),
            r.cache_write.to_string(),
            r.total().to_string(),
            format_ts(r.first),
            format_ts(r.last),
            csv_safe(&r.did_you_mean.join(" ")).into_owned(),
        ])
        .map_err(crate::output::csv_error)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::data(format!("csv: {e}")))?;
    out.write_all(&bytes)?;
    Ok(())
}

/// `rows` as a table fitted to the screen, or as markdown; nothing at all when there are no rows.
fn render_table(out: &mut impl Write, format: Format, rows: &[Missing], tz: chrono_tz::Tz) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let hints = rows.iter().any(|r| !r.did_you_mean.is_empty());
    let mut headers = vec![
        "model",
        "records",
        "input",
        "output",
        "cache read",
        "cache write",
        "total tokens",
        "first seen",
        "last seen",
    ];
    if hints {
        headers.push("did you mean");
    }
    let mut t = Table::new(&headers, &["records", "input", "output", "cache read", "cache write", "total tokens"]);
    // On a narrow screen the model, how much it used, when it was last seen and the likely fix stay.
    t.may_drop(&["cache write", "cache read", "output", "input", "first seen", "records", "last seen"]);
    t.may_abbreviate(&["model", "did you mean"]);
    let local = |ts: DateTime<Utc>| ts.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    for r in rows {
        let mut cells = vec![
            r.model.clone(),
            money::thousands(r.records),
            money::thousands(r.input),
            money::thousands(r.output),
            money::thousands(r.cache_read),
            money::thousands(r.cache_write),
            money::thousands(r.total()),
            local(r.first),
            local(r.last),
        ];
        if hints {
            cells.push(r.did_you_mean.join(", "));
        }
        t.row(cells);
    }
    if format == Format::Markdown {
        t.render_markdown(out)?;
    } else {
        t.render_text(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing(model: &str) -> Missing {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let (records, input, output, cache_read, cache_write) = (1, 0, 0, 0, 0);
        Missing {
            model: model.into(),
            records,
            input,
            output,
            cache_read,
            cache_write,
            first: t,
            last: t,
            did_you_mean: Vec::new(),
        }
    }

    /// No missing model passes; any is a condition (exit 1) naming them all.
    #[test]
    fn fail_missing_names_the_models() {
        assert!(fail(&[]).is_ok());
        let e = fail(&[missing("a")]).unwrap_err();
        assert_eq!((e.to_string().as_str(), e.exit_code()), ("1 model without a price: a (--fail-missing)", 1));
        let e = fail(&[missing("a"), missing("b-2")]).unwrap_err();
        assert_eq!(e.to_string(), "2 models without a price: a, b-2 (--fail-missing)");
    }
}

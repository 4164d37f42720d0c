//! `tt-price --quote`: what a request would cost, before it runs — with the rate of every kind of token, so
//! the figure can be checked by hand.
//!
//! A [`Quote`] prices the tokens with the same function that prices records ([`price::try_price_with`]), so a
//! quote and the record logged for the same request always agree to the last digit.

use std::io::Write;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::output::{Format, Table, or_list};
use crate::price::{self, ModelEntry, Priced};
use crate::{Billing, Config, Tokens, money};

/// A priced request that has not happened.
pub struct Quote<'c> {
    /// The model as asked for.
    pub model: String,
    /// The price entry it resolved to.
    pub entry: &'c ModelEntry,
    /// When it would run (prices can change over time).
    pub at: DateTime<Utc>,
    /// Its tokens.
    pub tokens: Tokens,
    /// Its service tier, fast mode and tool calls.
    pub billing: Billing,
    /// The cost and the label of what priced it.
    pub priced: Priced,
}

/// A quote as asked for on the command line: every value as typed (`tt-price --quote MODEL INPUT OUTPUT` and
/// its `--cache-*`, `--at`, `--service-tier`, `--fast`, `--web-searches`).
#[derive(Debug, Clone, Default)]
pub struct Ask<'a> {
    /// MODEL.
    pub model: &'a str,
    /// INPUT tokens.
    pub input: &'a str,
    /// OUTPUT tokens.
    pub output: &'a str,
    /// Prompt-cache read tokens.
    pub cache_read: Option<&'a str>,
    /// 5-minute cache write tokens.
    pub cache_write: Option<&'a str>,
    /// 1-hour cache write tokens.
    pub cache_write_1h: Option<&'a str>,
    /// When (RFC 3339, or a date / date-time in the config's time zone); now when not given.
    pub at: Option<&'a str>,
    /// `standard`, `batch`, `flex` or `priority`.
    pub service_tier: Option<&'a str>,
    /// Fast mode.
    pub fast: bool,
    /// Server-side web searches.
    pub web_searches: Option<u64>,
}

/// The formats `--quote` writes (`value`: the cost alone).
pub const FORMATS: &[&str] = &["table", "json", "jsonl", "value"];

impl<'c> Quote<'c> {
    /// The quote `ask` describes: its token counts checked against the config's `max_tokens`, its time read in
    /// the config's zone (a time in a daylight-saving gap or fold is `warn`ed about), its service tier checked.
    pub fn asked(config: &'c Config, ask: &Ask, warn: impl FnMut(String)) -> Result<Self> {
        let max = config.max_tokens;
        let count = |name: &str, v: Option<&str>| v.map_or(Ok(0), |s| crate::args::parse_tokens(name, s, max));
        let tokens = Tokens {
            input: crate::args::parse_tokens("input", ask.input, max)?,
            output: crate::args::parse_tokens("output", ask.output, max)?,
            cache_read: count("cache read", ask.cache_read)?,
            cache_write: count("cache write", ask.cache_write)?,
            cache_write_1h: count("cache write 1h", ask.cache_write_1h)?,
        };
        let at = match ask.at {
            Some(s) => crate::period::parse_when(s, config.timezone()?)?.report(warn),
            None => Utc::now(),
        };
        let mut billing = Billing { fast: ask.fast, web_search: ask.web_searches.unwrap_or(0), ..Default::default() };
        if let Some(s) = ask.service_tier {
            billing.service = crate::record::Service::parse(s).ok_or_else(|| {
                Error::usage(format!("--service-tier: want standard, batch, flex or priority, got {s:?}"))
            })?;
        }
        Quote::new(config, ask.model, tokens, at, billing)
    }

    /// Write the quote in `format` (one of [`FORMATS`]; none: a table on a terminal, else JSONL): the title and
    /// the table, one JSON object, or the cost alone (`value`).
    pub fn write(&self, out: &mut impl Write, format: Option<&str>) -> Result<()> {
        let cannot = |f: &str| Error::usage(format!("--quote cannot write {f:?}; use {}", or_list(FORMATS)));
        let format = match format {
            Some("value") => None,
            Some(f) if FORMATS.contains(&f) => Some(Format::parse(f)?),
            Some(f) => return Err(cannot(f)),
            None => Some(Format::choose(None)?),
        };
        match format {
            None => writeln!(out, "{}", money::canonical(self.priced.cost))?,
            Some(Format::Table) => {
                writeln!(out, "{}", self.title())?;
                self.table().render_text(out)?;
            }
            Some(Format::Json | Format::Jsonl) => writeln!(out, "{}", self.to_json())?,
            Some(f) => return Err(cannot(f.name())),
        }
        Ok(())
    }

    /// Quote `tokens` of `model` at `at`. An unknown model is an error with a "did you mean" hint.
    pub fn new(config: &'c Config, model: &str, tokens: Tokens, at: DateTime<Utc>, billing: Billing) -> Result<Self> {
        let entry = config.prices.resolve(model).ok_or_else(|| {
            // A typo (`sonet-4.5`) is the usual unknown model: name the known one it is one edit from.
            let hint = config.prices.did_you_mean(model).map(|h| format!("{h} ")).unwrap_or_default();
            Error::data(format!("unknown model {model:?} ({hint}tt-price --list shows the known models and aliases)"))
        })?;
        let priced = price::try_price_with(entry, at, &tokens, &billing)?;
        Ok(Quote { model: model.to_string(), entry, at, tokens, billing, priced })
    }

    /// The quote as a table: a line per kind of token (input and output always, the others when used) with
    /// its rate and cost, then the total at four places, as tt-log's confirmation shows the same request.
    pub fn table(&self) -> Table {
        let (t, rates) = (&self.tokens, price::rates_at(self.entry, self.at, &self.tokens, &self.billing));
        let mut table = Table::new(&["tokens", "kind", "$/MTok", "cost"], &["tokens", "$/MTok", "cost"]);
        for (kind, n, rate) in [
            ("input", t.input, rates.input),
            ("output", t.output, rates.output),
            ("cache read", t.cache_read, rates.cache_read),
            ("cache write", t.cache_write, rates.cache_write),
            ("cache write 1h", t.cache_write_1h, rates.cache_write_1h),
        ] {
            if n > 0 || kind == "input" || kind == "output" {
                // Cannot overflow: config prices are at most MAX_RATE (see `price`).
                let c = price::per_million(Decimal::from(n).checked_mul(rate).unwrap_or(Decimal::MAX));
                table.row(vec![money::thousands(n), kind.into(), money::canonical(rate), money::usd4(c)]);
            }
        }
        table.rule();
        table.row(vec![money::thousands(t.total()), "total".into(), String::new(), money::usd4(self.priced.cost)]);
        table
    }

    /// The line above the table: the model, the entry that priced it and where that entry came from.
    pub fn title(&self) -> String {
        format!("{} → {} ({})", self.model, self.priced.label, self.entry.source)
    }

    /// The quote as one JSON object (`"kind":"quote"`), the cost an exact decimal.
    pub fn to_json(&self) -> serde_json::Value {
        let t = &self.tokens;
        serde_json::json!({
            "kind": "quote",
            "model": self.model,
            "price": self.priced.label,
            "input_tokens": t.input,
            "output_tokens": t.output,
            "cache_read_tokens": t.cache_read,
            "cache_write_tokens": t.cache_write,
            "cache_write_1h_tokens": t.cache_write_1h,
            "cost_usd": money::decimal_json(self.priced.cost),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(q: &Quote, format: &str) -> String {
        let mut out = Vec::new();
        q.write(&mut out, Some(format))
            .map_err(|e| e.to_string())
            .map(|()| String::from_utf8(out).unwrap())
            .unwrap_or_else(|e| e)
    }

    /// Every value is read as typed; the quote is written in the format asked for, or refused naming the ones
    /// it has.
    #[test]
    fn a_quote_as_asked() {
        let config = Config::builtin().unwrap();
        let ask =
            Ask { model: "sonnet-4.5", input: "50000", output: "15,000", at: Some("2026-01-01"), ..Ask::default() };
        let mut warned = Vec::new();
        let q = Quote::asked(&config, &ask, |w| warned.push(w)).unwrap();
        assert_eq!((q.tokens.input, q.tokens.output, q.tokens.cache_read), (50_000, 15_000, 0));
        assert_eq!(write(&q, "value"), "0.375\n");
        assert!(write(&q, "json").starts_with("{\"kind\":\"quote\",\"model\":\"sonnet-4.5\""));
        assert!(write(&q, "table").starts_with("sonnet-4.5 → "));
        assert_eq!(write(&q, "csv"), "--quote cannot write \"csv\"; use table, json, jsonl or value");
        assert!(warned.is_empty());
        let bad = Ask { service_tier: Some("cheap"), ..ask };
        assert_eq!(
            Quote::asked(&config, &bad, |_| ()).err().unwrap().to_string(),
            "--service-tier: want standard, batch, flex or priority, got \"cheap\""
        );
        let flex = Ask { service_tier: Some("flex"), fast: true, web_searches: Some(2), ..ask };
        let q = Quote::asked(&config, &flex, |_| ()).unwrap();
        assert_eq!((q.billing.service, q.billing.fast, q.billing.web_search), (crate::record::Service::Flex, true, 2));
    }
}

//! `tt-price --quote`: what a request would cost, before it runs — with the rate of every kind of token, so
//! the figure can be checked by hand.
//!
//! A [`Quote`] prices the tokens with the same function that prices records ([`price::try_price_with`]), so a
//! quote and the record logged for the same request always agree to the last digit.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::output::Table;
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

impl<'c> Quote<'c> {
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

//! The library's front door: track spend from a program that calls agents, without spawning a tool.
//!
//! Three calls cover what `tt-log` and `tt-budget` do for a script: [`price`] a record with the config's
//! table, [`append`] it to the usage log (validated, one write, under the log's lock, like every tt writer),
//! and [`budgets`] to see where every configured budget stands now. The tools use the same functions, so a
//! record written here is the one `tt-log` would write.
//!
//! ```
//! use tt_core::{Config, Record, Tokens, track};
//!
//! # fn main() -> tt_core::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("tt-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let log = dir.join("usage.jsonl");
//! // The layered config (built-in prices, ~/.config/tt/config.toml, tt.toml, $TT_CONFIG) plus a budget.
//! let config = Config::load_with_layer(None, Some(("example", "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 1\n")))?;
//!
//! let tokens = Tokens { input: 20_000, output: 5_000, ..Tokens::default() };
//! let now = chrono::Utc::now();
//! let mut record = Record::new(tt_core::id::new_id(now), now, "ATLAS".into(), "sonnet-4.5".into(), tokens);
//! assert_eq!(track::price(&config, &mut record)?, track::Pricing::Priced);
//! assert_eq!(record.cost_usd.map(|c| c.normalize().to_string()).as_deref(), Some("0.135"));
//! for w in track::append(&log, &[record])?.warnings {
//!     eprintln!("warning: {w}"); // a torn last line a crashed writer left, moved aside
//! }
//!
//! let team = track::budgets(&log, &config)?.into_iter().find(|e| e.name == "team").unwrap();
//! assert_eq!(team.spent_text(), "$0.1350 of $1.00");
//! assert_eq!(team.level.as_str(), "ok");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok(())
//! # }
//! ```
//!
//! `tools/tt-core/examples/track.rs` is the same as a program (`cargo run -p tt-core --example track`).

use std::path::Path;

use crate::budget::Evaluation;
use crate::error::{Error, Result, Warned};
use crate::provider::{self, Iteration};
use crate::{Config, Record};

/// What [`price`] did to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// `cost_usd` and `price` are set.
    Priced,
    /// The model is not in the price table: the record stays unpriced (readers price it later, when the
    /// table knows it). `hint` names a known model one edit away (`did you mean …`), if any.
    UnknownModel {
        /// A `did you mean "sonnet-4.5"?` hint, when a known model is close.
        hint: Option<String>,
    },
    /// The model is known but the request cannot be priced whole (an iteration names an unknown model): the
    /// record stays unpriced, for the reason given.
    Unpriced(String),
}

/// Price `record` with the config's table: its `provider` (when not set), `cost_usd` and `price` label. A
/// record already carrying `cost_usd` is priced again, so the table decides. `iterations` are Anthropic's
/// per-pass counts, each priced at its own model (empty for a plain request); see
/// [`provider::price_request`]. An error is a cost too large to compute exactly.
pub fn price(config: &Config, record: &mut Record) -> Result<Pricing> {
    price_with_iterations(config, record, &[])
}

/// [`price`] for a request that lists Anthropic iterations.
pub fn price_with_iterations(config: &Config, record: &mut Record, iterations: &[Iteration]) -> Result<Pricing> {
    let Some(entry) = config.prices.resolve(&record.model) else {
        // A typo (`sonet-4.5`) is the usual unknown model: searched only here, never on the priced path.
        return Ok(Pricing::UnknownModel { hint: config.prices.did_you_mean(&record.model) });
    };
    if record.provider.is_none() {
        record.provider = entry.provider.clone();
    }
    match provider::price_request(&config.prices, entry, record.ts, &record.tokens, iterations, &record.billing) {
        Ok(p) => {
            record.cost_usd = Some(p.cost);
            record.price = Some(p.label);
            Ok(Pricing::Priced)
        }
        // Without iterations the only failure is a cost too large to compute: refused, never logged wrong.
        Err(why) if iterations.is_empty() => Err(Error::data(why)),
        Err(why) => Ok(Pricing::Unpriced(why)),
    }
}

/// Append `records` to the log at `log` in one write, under its exclusive lock (created 0600 with its
/// directory if missing). Each record's line is read back by the readers' parser first, so nothing is written
/// unless every line is one the readers accept. The warnings are what taking the lock repaired first (a torn
/// last line, left by a crashed writer, moved to `<log>.torn`).
pub fn append(log: &Path, records: &[Record]) -> Result<Warned<()>> {
    let mut lines = String::new();
    for r in records {
        // The round trip through the reader's parser is the validation every tt writer applies.
        let line = r.to_json();
        Record::parse(&line).map_err(|e| e.context(format!("record {}", r.id)))?;
        lines.push_str(&line);
        lines.push('\n');
    }
    let Warned { value: mut locked, warnings } = crate::log::LockedLog::open(log)?;
    locked.append(&lines)?;
    Ok(Warned { value: (), warnings })
}

/// Every configured budget evaluated over its current window now, in the config's time zone, from the log's
/// index (brought up to date, or rebuilt when it cannot be proven consistent), reservations included.
pub fn budgets(log: &Path, config: &Config) -> Result<Vec<Evaluation>> {
    // No `--today`: nothing typed, so nothing to warn about.
    let cal = config.calendar(None, None)?.value;
    Ok(crate::enforce::counts(log, config, &config.budgets, &cal, None)?.evals)
}

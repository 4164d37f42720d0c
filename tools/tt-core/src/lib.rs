//! tt-core: everything the tt tools share.
//!
//! The tools in `tools/tt-*` are thin CLI glue over this crate; other Rust programs can use it as a library to
//! read, price and aggregate tt usage logs. Data flows one way: [`input`] → [`record`] / [`scan`] → [`price`]
//! → aggregate/evaluate → [`output`]. The core never prints: it returns values and [`error::Error`]s, and the
//! shared `main` in [`cli`] reports them.
//!
//! To track spend from a program that calls agents, start at [`track`]: price a record, append it to the log
//! and see where the budgets stand, in three calls (a runnable example is there, and
//! `tools/tt-core/examples/track.rs` is one as a program).

pub mod aggregate;
pub mod answer;
pub mod args;
pub mod budget;
pub mod bundle;
pub mod catalogue;
pub mod chart;
pub mod cli;
pub mod config;
pub mod distinct;
pub mod draft;
pub mod enforce;
pub mod error;
pub mod export;
pub mod fsutil;
pub mod github;
pub mod html;
pub mod id;
pub mod import;
pub mod input;
pub mod ledger;
pub mod litellm;
pub mod log;
pub mod machine;
pub mod money;
pub mod optimize;
pub mod output;
pub mod period;
pub mod price;
pub mod price_diff;
pub mod progress;
pub mod provider;
pub mod quote;
pub mod record;
pub mod report;
pub mod reserve;
pub mod rollup;
pub mod scan;
pub mod spool;
pub mod store;
pub mod track;
pub mod unpriced;

pub use config::Config;
pub use error::{Error, Kind, Result};
pub use record::{Billing, Record, Tokens};

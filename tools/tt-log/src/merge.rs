//! `tt-log --import FILE…`: merge tt logs and `tt-export --bundle` files into the log, new ids only.

use tt_core::cli::Outcome;
use tt_core::config::Config;
use tt_core::error::Result;

use crate::Cli;

/// Import tt JSONL logs or bundles.
pub fn run(cli: &Cli, config: &Config, files: &[String]) -> Result<Outcome> {
    let _ = (cli, config, files);
    Err(tt_core::Error::usage("importing tt logs and bundles is not implemented yet"))
}

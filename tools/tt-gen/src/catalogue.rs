//! `tt-gen catalogue`: write tt's built-in price catalogue from LiteLLM's price map (what
//! `scripts/refresh-catalogue.sh` runs; see `tt_core::catalogue`).

use std::io::Write;

use tt_core::{Error, Result};

/// Write the catalogue of LiteLLM's `model_prices_and_context_window_backup.json` to stdout.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// LiteLLM's JSON price map.
    json: String,
    /// The LiteLLM version it comes from (written in the header).
    #[arg(long)]
    version: String,
}

/// Convert and write.
pub fn run(a: &Args) -> Result<()> {
    let text = std::fs::read_to_string(&a.json).map_err(|e| Error::io(&a.json, e))?;
    let out = tt_core::litellm::to_catalogue(&a.json, &text, &a.version)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    Ok(())
}

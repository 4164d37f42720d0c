//! `tt-log --import SOURCE [PATH…]`: agent transcripts (`claude-code`, `codex`) or tt logs and bundles.
//!
//! Dispatch only: agent transcripts are read by `tt_core::import`, tt logs and bundles by [`crate::merge`].

use tt_core::cli::Outcome;
use tt_core::config::Config;
use tt_core::error::Result;

use crate::Cli;

/// Run an import. `source` is `claude-code`, `codex`, or the first file of a tt log / bundle import.
pub fn run(cli: &Cli, config: &Config, source: &str, paths: &[String]) -> Result<Outcome> {
    match source {
        "claude-code" | "codex" => {
            let _ = (cli, config, paths);
            Err(tt_core::Error::usage("agent transcript import is not implemented yet"))
        }
        file => {
            let mut files = vec![file.to_string()];
            files.extend(paths.iter().cloned());
            crate::merge::run(cli, config, &files)
        }
    }
}

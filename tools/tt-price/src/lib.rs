//! `tt-price` (not yet implemented).
use tt_core::cli::Outcome;
use tt_core::error::Result;
/// The clap definition.
pub fn command() -> clap::Command {
    clap::Command::new("tt-price")
}
/// Run.
pub fn run(_m: &clap::ArgMatches) -> Result<Outcome> {
    Ok(Outcome::Ok)
}

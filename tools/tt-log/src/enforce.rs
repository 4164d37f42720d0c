//! `tt-log --enforce`: check budgets and append atomically under the log lock.
//!
//! The glue only: the check and its sidecar index are [`tt_core::enforce`]. Both halves run while the log is
//! exclusively locked, so concurrent `tt-log --enforce` calls are serialised: each one sees every record the
//! others appended, and exactly as many fit under a limit as the limit allows.

use tt_core::Record;
use tt_core::config::Config;
use tt_core::enforce::Passed;
use tt_core::error::Result;
use tt_core::log::LockedLog;

/// `--enforce --dry-run`: the same check, appending nothing — exit 1 with the reason when the record would be
/// refused, so a dry run answers what the real call would do. Nothing is written (not even the index).
pub fn dry_run(log: &std::path::Path, config: &Config, record: &Record) -> Result<()> {
    if nothing_to_enforce(config) {
        return Ok(());
    }
    tt_core::enforce::check_dry_run(log, config, record)
}

/// Refuse (with a [`tt_core::Kind::Condition`] error naming the budget and the remaining amount) when appending
/// `record` would push a configured budget over its limit. Called with the log locked, before the append.
/// With no budgets configured there is nothing to check (`None`, after a warning): the record is logged.
pub fn check(locked: &mut LockedLog, config: &Config, record: &Record) -> Result<Option<Passed>> {
    if nothing_to_enforce(config) {
        return Ok(None);
    }
    tt_core::enforce::check(locked, config, record).map(Some)
}

/// `--enforce` without a budget to enforce is most likely a config that was not found: say so (one line), and
/// log anyway — a missing budget is not a refusal.
fn nothing_to_enforce(config: &Config) -> bool {
    if !config.budgets.is_empty() {
        return false;
    }
    tt_core::cli::warn(
        "tt-log",
        "--enforce: no budgets are configured, so there is nothing to enforce (add a [[budget]] to tt.toml; see \
         tt-budget --help)",
    );
    true
}

/// After the append, still under the lock: bring the index up to date; the level alerts the record set off.
/// The record is already logged, so a failure here is only a warning (the next call rebuilds or catches up).
pub fn appended(passed: Passed, locked: &mut LockedLog) -> Vec<String> {
    passed.appended(locked).unwrap_or_else(|e| {
        tt_core::cli::warn("tt-log", format!("--enforce index not updated: {e}"));
        Vec::new()
    })
}

//! `tt-log --enforce`: check budgets and append atomically under the log lock (issue: reports and budgets).
//!
//! Not implemented yet: `check` is called with the lock held, before the append.

use tt_core::Record;
use tt_core::config::Config;
use tt_core::error::Result;
use tt_core::log::LockedLog;

/// Refuse (with a [`tt_core::Kind::Condition`] error naming the budget and the remaining amount) when appending
/// `record` would push a configured budget over its limit. Called with the log locked.
pub fn check(_locked: &mut LockedLog, _config: &Config, _record: &Record) -> Result<()> {
    Err(tt_core::Error::usage("--enforce is not implemented yet"))
}

//! Offline first: a record `tt-log` cannot send because the ledger is out of reach is kept in a spool on this
//! machine, and pushed with the next write that reaches the ledger. Nothing is lost, and nothing is counted
//! twice (the ledger adds a record it holds at most once).
//!
//! * **What spools.** Only a server that could not be reached ([`crate::ledger::conn::unreachable`]: refused, no socket,
//!   no route, no DNS, a timeout, a server starting up). A server that answered and said no (a password, a
//!   permission, a schema newer than this tt) is an error, as before: a spool would hide a mistake to fix.
//!   The caller decides whether a write may spool at all: a gate (`--enforce`) that cannot check fails closed.
//! * **Where.** A JSONL log of this machine's, written like the usage log ([`LockedLog`]: locked, whole lines,
//!   0600), at the path the caller gives (`store::Log::side_file(SPOOL)`: under `$XDG_STATE_HOME/tt/ledgers/`,
//!   named after the ledger's password-free name). Readers of the ledger do not read it; it is any tt log, so
//!   `tt-sum SPOOL` does.
//! * **When it is pushed.** Every writer connects through [`writer`]: once it holds its ledger locks, a
//!   spool that exists is locked, sent in one idempotent append and removed, still under its lock. A writer
//!   waiting for that lock to spool finds the file gone and creates a new one (`LockedLog` opens the path again
//!   when the file it locked is no longer there), so a record spooled during a push is never removed unsent.
//!   A push that fails leaves the spool as it is, for the next write.

use std::io::{Read, Seek};
use std::path::Path;

use crate::error::{Error, Result, Warned};
use crate::ledger::reach::{Reach, reach};
use crate::ledger::{Ledger, Locks, Target};
use crate::log::LockedLog;

/// The suffix of a ledger's spool among this machine's side files of it (`store::Log::side_file`).
pub const SPOOL: &str = ".spool.jsonl";

/// Push the spool at `spool` to `target` now (`tt-log --push-spool`): the note saying how many were pushed,
/// `None` when nothing was spooled. Unlike a write, a spool that cannot be pushed is an error.
pub fn push(target: &Target, spool: &Path) -> Result<Warned<Option<String>>> {
    // The spool's own file lock is all a push needs: the append is idempotent and counts what it added.
    let mut l = Ledger::open(target)?;
    if !spool.exists() {
        return Ok(Warned::new(None));
    }
    push_spool(&mut l, spool)
}

/// Connect for writing: `locks` taken (`ledger::Locks`), and the records spooled on this machine (`spool`)
/// pushed first, with a note saying how many (see the module docs). A spool that cannot be pushed is kept, with a
/// warning; the write goes on.
pub fn writer(target: &Target, spool: &Path, locks: &Locks) -> Result<Warned<Ledger>> {
    match reach(target)? {
        Reach::Ledger(l) => locked_after_spool(*l, spool, locks),
        Reach::Unreachable(e, _) => Err(e),
    }
}

/// [`writer`] taking no lock (a plain append reads nothing first), or, when no server answers, `lines` (whole
/// record lines) appended to the spool and `None`, with the warning that says where they are.
pub fn writer_or_spool(target: &Target, spool: &Path, lines: &str) -> Result<Warned<Option<Ledger>>> {
    let why = match reach(target)? {
        Reach::Ledger(l) => {
            let Warned { value, warnings } = locked_after_spool(*l, spool, &Locks::Only(Vec::new()))?;
            return Ok(Warned { value: Some(value), warnings });
        }
        Reach::Unreachable(_, why) => why,
    };
    let Warned { value: mut locked, mut warnings } = LockedLog::open(spool)?;
    locked.append(lines)?;
    let n = lines.lines().filter(|l| !l.trim().is_empty()).count();
    let what = if n == 1 { "record".to_string() } else { crate::money::plural(n as u64, "record") };
    warnings.push(format!(
        "ledger {} unreachable ({why}): {what} kept in {}; it is pushed with the next write",
        target.name(),
        spool.display()
    ));
    Ok(Warned { value: None, warnings })
}

/// Take `locks`, then push and remove the spool if there is one.
fn locked_after_spool(mut l: Ledger, spool: &Path, locks: &Locks) -> Result<Warned<Ledger>> {
    l.take(locks)?;
    let mut warnings = Vec::new();
    // A stat, the common case: no spool, nothing more to do.
    if spool.exists() {
        match push_spool(&mut l, spool) {
            Ok(Warned { value, warnings: w }) => {
                warnings.extend(w);
                warnings.extend(value);
            }
            Err(e) => warnings.push(format!("spooled records not pushed ({e}); they stay in {}", spool.display())),
        }
    }
    Ok(Warned { value: l, warnings })
}

/// Push the spool at `spool` under its lock and remove it: the note saying how many, `None` when it was
/// empty (another writer pushed it first).
fn push_spool(l: &mut Ledger, spool: &Path) -> Result<Warned<Option<String>>> {
    let Warned { value: mut locked, warnings } = LockedLog::open(spool)?;
    let name = spool.display().to_string();
    let mut text = String::new();
    let file = locked.file();
    file.rewind().map_err(|e| Error::io(&name, e))?;
    file.read_to_string(&mut text).map_err(|e| Error::io(&name, e))?;
    let n = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    let note = if n == 0 {
        None
    } else {
        let added = l.append(&text).map_err(|e| e.context(&name))?;
        let already = match n - added {
            0 => String::new(),
            k => format!(" ({} already there)", crate::money::thousands(k)),
        };
        Some(format!("pushed {} to {}{already}", crate::money::plural(n, "spooled record"), l.name()))
    };
    // Removed while still locked: whoever waits for the lock opens the path again and finds no file.
    std::fs::remove_file(spool).map_err(|e| Error::io(&name, e))?;
    drop(locked);
    Ok(Warned { value: note, warnings })
}

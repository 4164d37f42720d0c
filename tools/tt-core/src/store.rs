//! The usage log wherever it lives: a JSONL file ([`crate::log`]) or a team ledger ([`crate::ledger`]).
//!
//! This is the storage seam: the one place that tells the two apart. A log setting (`--log`, `TT_LOG`, config
//! `log`) is a path or a `postgresql://` URI; [`Log::at`] decides which, [`Log::source`] is what readers read,
//! and [`Log::lock`] gives the [`Writer`] every tt writer appends through. Both backends keep the same
//! contract: whole records only, nothing written unless every line is a record the readers accept, and writers
//! that read before they write (merges, imports: [`Writer::known`]) hold the log's lock across both.
//!
//! What each backend does its own way is matched on [`Writer`] by the feature that needs it: the enforce
//! index and the level alerts of a plain append are a file's (`Writer::file`); a ledger's budget sums are
//! `enforce::ledger`'s, its holds a table (`reserve`), its import offsets this machine's ([`Log::side_file`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, Warned};
use crate::id::IdKey;
use crate::input::Source;
use crate::ledger::{Ledger, Locks, Target};
use crate::log::LockedLog;
use crate::spool::SPOOL;

/// Where the usage log is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Log {
    /// A JSONL file.
    File(PathBuf),
    /// A team ledger.
    Ledger(Target),
}

impl Log {
    /// The log a setting names: a ledger for a `postgresql://` or `postgres://` URI, else a file.
    pub fn at(setting: &Path) -> Result<Log> {
        match setting.to_str().filter(|s| crate::ledger::is_uri(s)) {
            Some(uri) => Ok(Log::Ledger(Target::parse(uri)?)),
            None => Ok(Log::File(setting.to_path_buf())),
        }
    }

    /// How messages name the log (a ledger without its password).
    pub fn name(&self) -> String {
        match self {
            Log::File(p) => p.display().to_string(),
            Log::Ledger(t) => t.name().to_string(),
        }
    }

    /// The file, for features that keep side files beside it; `None` for a ledger.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Log::File(p) => Some(p),
            Log::Ledger(_) => None,
        }
    }

    /// Where this machine keeps a side file of the log (`suffix` after the log's name): beside a file log; for
    /// a ledger, in this machine's state directory (`$XDG_STATE_HOME/tt/ledgers/`), under a name derived from
    /// the ledger's (password-free) name — what a machine imported from its own transcripts is its own.
    pub fn side_file(&self, suffix: &str) -> PathBuf {
        match self {
            Log::File(p) => {
                let mut s = p.as_os_str().to_os_string();
                s.push(suffix);
                PathBuf::from(s)
            }
            Log::Ledger(t) => {
                let (hi, lo) = crate::id::fnv128(t.name().as_bytes());
                let dir = crate::machine::xdg_dir("XDG_STATE_HOME", ".local/state")
                    .unwrap_or_else(std::env::temp_dir)
                    .join("tt")
                    .join("ledgers");
                dir.join(format!("{hi:016x}{lo:016x}{suffix}"))
            }
        }
    }

    /// What reading the log reads: `None` for a file that does not exist yet (an empty log).
    pub fn source(&self) -> Option<Source> {
        match self {
            Log::File(p) => p.exists().then(|| Source::File(p.clone())),
            Log::Ledger(t) => Some(Source::Ledger(t.clone())),
        }
    }

    /// Take the whole log's lock for writing (creating a file log, or a ledger's schema, on first use): what a
    /// writer that reads the log before it writes holds across both. The warnings are what taking a file's
    /// lock repaired first (a torn last line moved aside).
    pub fn lock(&self) -> Result<Warned<Writer>> {
        self.lock_parts(&Locks::All)
    }

    /// [`Log::lock`] for a writer that reads only some parts of the log first (`locks`: the budget windows a
    /// check reads, a reservation's state): a file has one lock, so this is its lock; a ledger takes only
    /// those parts' locks, so writers in other windows go on meanwhile (`ledger::Locks`).
    pub fn lock_parts(&self, locks: &Locks) -> Result<Warned<Writer>> {
        Ok(match self {
            Log::File(p) => {
                let Warned { value, warnings } = LockedLog::open(p)?;
                Warned { value: Writer::File(value), warnings }
            }
            Log::Ledger(t) => {
                // Records spooled while the ledger was out of reach are pushed first (`crate::spool`).
                let Warned { value, warnings } = crate::spool::writer(t, &self.side_file(SPOOL), locks)?;
                Warned { value: Writer::Ledger(Box::new(value)), warnings }
            }
        })
    }

    /// The log locked for a plain append, which reads nothing first: a file's lock, no lock in a ledger. A
    /// ledger no server answers for keeps `lines` (whole record lines) in this machine's spool, pushed with the
    /// next write: `None` then, with the warning saying so (`crate::spool`).
    pub fn lock_or_spool(&self, lines: &str) -> Result<Warned<Option<Writer>>> {
        match self {
            Log::File(_) => {
                let Warned { value, warnings } = self.lock()?;
                Ok(Warned { value: Some(value), warnings })
            }
            Log::Ledger(t) => {
                let Warned { value, warnings } = crate::spool::writer_or_spool(t, &self.side_file(SPOOL), lines)?;
                Ok(Warned { value: value.map(|l| Writer::Ledger(Box::new(l))), warnings })
            }
        }
    }
}

/// The log, locked for writing.
pub enum Writer {
    /// A JSONL file under its exclusive lock.
    File(LockedLog),
    /// A ledger connection holding the locks its writer asked for (boxed: a connection is ten times a file's
    /// size).
    Ledger(Box<Ledger>),
}

impl Writer {
    /// Append whole record lines (each ending in `\n`) in one write (a file) or one transaction (a ledger).
    /// Returns how many records were added: a ledger skips the ones it already holds.
    pub fn append(&mut self, lines: &str) -> Result<u64> {
        match self {
            Writer::File(f) => {
                f.append(lines)?;
                Ok(lines.lines().filter(|l| !l.trim().is_empty()).count() as u64)
            }
            Writer::Ledger(l) => l.append(lines),
        }
    }

    /// A number that only grows while records are added: a file's length in bytes, a ledger's last record
    /// number (`seq`, through its index: a count would read the whole table). A smaller one than before means
    /// the log was replaced or cut; a ledger's last number is never below its count, so one noted as a count
    /// by an older tt reads as no smaller.
    pub fn mark(&mut self) -> Result<u64> {
        match self {
            Writer::File(f) => f.len(),
            Writer::Ledger(l) => l.last_seq(),
        }
    }

    /// Which of `candidates` (the identities of records a writer is about to add) the log holds, read under the
    /// lock. A file is read whole, as it must be (it is local, and has no index to ask); a ledger is asked about
    /// the candidates only ([`Ledger::known`]), so the cost follows what is added, not the ledger's size.
    pub fn known(&mut self, candidates: &HashSet<IdKey>) -> Result<HashSet<IdKey>> {
        match self {
            Writer::File(f) => {
                let name = f.path().display().to_string();
                let file = f.file();
                use std::io::Seek;
                file.rewind().map_err(|e| Error::io(&name, e))?;
                let mut ids = crate::log::log_ids(&name, std::io::BufReader::with_capacity(256 * 1024, &*file))?;
                ids.retain(|k| candidates.contains(k));
                Ok(ids)
            }
            Writer::Ledger(l) => l.known(candidates),
        }
    }

    /// The locked JSONL file, for what only a file log has yet; `None` for a ledger.
    pub fn file(&mut self) -> Option<&mut LockedLog> {
        match self {
            Writer::File(f) => Some(f),
            Writer::Ledger(_) => None,
        }
    }
}

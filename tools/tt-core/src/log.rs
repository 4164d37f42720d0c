//! The usage log on disk: locked, append-only, never torn.
//!
//! Invariants:
//! * The log is only ever appended to — no tool rewrites it. The one exception is the repair of a torn tail,
//!   below: an unterminated last line that is not a complete record is moved out, under the lock.
//! * Every append happens under an exclusive `File::lock` on the log itself, so concurrent `tt-log` processes
//!   (parallel CI jobs, many agents) serialise, and a reader holding the lock sees whole records only.
//! * When the lock is taken, a missing final newline (left by a crash mid-write) is repaired: if the
//!   unterminated tail is a complete record, the newline is added; otherwise the fragment would break every
//!   reader, so it is appended to `<log>.torn` (after a `#` line saying when and from where — nothing is lost),
//!   the log is truncated back to its last newline, and a one-line warning names the saved file: returned with
//!   the lock ([`Warned`]) for the caller to report, as the core never prints.
//! * The records of one call go out in a single `write` of whole lines, and the file length is checked after;
//!   a failed or short write is rolled back (`set_len` to the length before), so a batch is all or nothing.
//! * Created files are private: the log 0600, directories made for it 0700 (see [`crate::fsutil`]); an
//!   existing log keeps its mode, which is how a shared team log is set up (create it with wider modes first).
//!   `<log>.torn` and the import history are never opened through a symlink.
//! * The one command that rewrites the log is `tt-log --repair` ([`repair_bad_lines`]): under the lock, the
//!   lines the readers refuse go to `<log>.rejected` and a copy of the rest is renamed over the log. So a lock
//!   taken is only kept when the locked file is still the one at the path (same inode); otherwise the path is
//!   opened again — a writer that opened the old file before the rename would append to a file no longer there.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, Warned};

/// The longest unterminated tail that is repaired automatically. tt's lines are a few KiB at most; a file
/// ending in more than this without a newline is not a torn tt log, and is left alone (an error).
pub const MAX_TORN_TAIL: u64 = 1 << 20;

/// Where the enforce index of `log` is: `<log>.tt-index`. Defined here, beside the log's other side files,
/// because the one rewrite of the log ([`repair_bad_lines`]) deletes it; `crate::enforce` writes it.
pub fn index_path(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_os_string();
    s.push(".tt-index");
    PathBuf::from(s)
}

/// Where a torn tail removed from `log` is kept: `<log>.torn`.
pub fn torn_path(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_os_string();
    s.push(".torn");
    PathBuf::from(s)
}

/// What a complete last line is, for the torn-tail repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lines {
    /// A usage record ([`crate::Record::parse`] accepts it).
    Records,
    /// Any JSON object (tt's side files: import history, …).
    JsonObjects,
}

/// The log, opened for appending and exclusively locked until dropped.
pub struct LockedLog {
    file: File,
    path: PathBuf,
}

impl LockedLog {
    /// Open the usage log (creating the file and its directory if needed), take the exclusive lock, waiting for
    /// it, and repair a torn tail (see the module docs); with the warning to give when a torn line was moved
    /// aside.
    pub fn open(path: &Path) -> Result<Warned<LockedLog>> {
        Self::open_as(path, Lines::Records)
    }

    /// Like [`LockedLog::open`] for a JSONL file of tt's that does not hold records (the import history): a
    /// complete last line is any JSON object.
    pub fn open_lines(path: &Path) -> Result<Warned<LockedLog>> {
        Self::open_as(path, Lines::JsonObjects)
    }

    fn open_as(path: &Path, lines: Lines) -> Result<Warned<LockedLog>> {
        // The last guard of the storage seam: what keeps side files beside a file log must never take a
        // ledger's URI for a file name and write a file called `postgresql:` (`store` decides; this only
        // catches a caller that forgot to ask it).
        if let Some(uri) = path.to_str().filter(|p| crate::ledger::is_uri(p)) {
            return Err(Error::usage(format!(
                "{} is a ledger, not a file: this needs a JSONL log",
                crate::ledger::conn::redact(uri)
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Directories tt creates for the log are private (0700), like the log itself (0600): records name
            // users, hosts and branches. A shared team log is an opt-in: create its directory and the file with
            // the wider modes first; tt never changes the mode of what exists.
            crate::fsutil::create_dirs(dir).map_err(|e| match dir.ancestors().find(|a| a.is_file()) {
                // `--log notes.txt/usage.jsonl`: say which part is in the way, not just "File exists".
                Some(file) => Error::new(
                    crate::error::Kind::Io,
                    format!("{}: cannot create the log: {} is a file, not a directory", path.display(), file.display()),
                ),
                None => Error::io(dir.display(), e),
            })?;
        }
        let mut tries = 0;
        let file = loop {
            let file = match lines {
                // The log may be a symlink the user made (a log on another volume): it is followed.
                Lines::Records => crate::fsutil::private_options()
                    .read(true)
                    .append(true)
                    .create(true)
                    .open(path)
                    .map_err(|e| Error::io(path.display(), e))?,
                // tt's own side files (the import history) are never written through a link.
                Lines::JsonObjects => {
                    crate::fsutil::open_side(path, std::fs::OpenOptions::new().read(true).append(true).create(true))?
                }
            };
            file.lock().map_err(|e| Error::io(format!("{}: lock", path.display()), e))?;
            // The file locked must still be the one at `path`: `tt-log --repair` renames a new log over the old
            // one under the old one's lock, and a writer that opened the old file before that and locked it
            // after would append to a file no longer in the directory (its records lost). Opened again, then.
            if still_at(&file, path, lines) {
                break file;
            }
            tries += 1;
            if tries >= 100 {
                return Err(Error::data(format!(
                    "{}: the file keeps being replaced while tt waits for its lock",
                    path.display()
                )));
            }
        };
        let mut log = LockedLog { file, path: path.to_path_buf() };
        let warning = log.repair(lines)?;
        Ok(Warned::with(log, warning))
    }

    /// Repair an unterminated last line (under the lock): a complete line gets its newline; a fragment is saved
    /// to `<log>.torn` and cut off, and the warning saying so is returned.
    fn repair(&mut self, lines: Lines) -> Result<Option<String>> {
        let len = self.len()?;
        if len == 0 || self.ends_with_newline(len)? {
            return Ok(None);
        }
        let p = self.path.display().to_string();
        let window = len.min(MAX_TORN_TAIL + 1);
        let mut buf = vec![0u8; window as usize];
        self.file.seek(SeekFrom::Start(len - window)).map_err(|e| Error::io(&p, e))?;
        self.file.read_exact(&mut buf).map_err(|e| Error::io(&p, e))?;
        let start = match buf.iter().rposition(|&b| b == b'\n') {
            Some(i) => len - window + i as u64 + 1,
            None if window == len && len <= MAX_TORN_TAIL => 0,
            None => {
                return Err(Error::data(format!(
                    "{p}: ends with more than {} KiB without a newline: not a tt log? (left as it is)",
                    MAX_TORN_TAIL / 1024
                )));
            }
        };
        let tail = &buf[(start - (len - window)) as usize..];
        let complete = std::str::from_utf8(tail).is_ok_and(|t| match lines {
            Lines::Records => crate::Record::parse(t).is_ok(),
            Lines::JsonObjects => serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(t).is_ok(),
        });
        if complete {
            // A crash between the record and its newline: the record is whole, only the newline is missing.
            return self.write_checked(b"\n").map(|()| None);
        }
        let side = torn_path(&self.path);
        let mut saved = Vec::with_capacity(tail.len() + 128);
        saved.extend_from_slice(
            format!(
                "# {} removed the last {} bytes (from offset {start}) of {p}: a torn last line\n",
                crate::record::format_ts(chrono::Utc::now()),
                tail.len()
            )
            .as_bytes(),
        );
        saved.extend_from_slice(tail);
        saved.push(b'\n');
        let sp = side.display().to_string();
        // Never through a symlink planted at `<log>.torn` (see `fsutil`); created 0600.
        let mut f = crate::fsutil::append_side(&side)?;
        f.write_all(&saved).map_err(|e| Error::io(&sp, e))?;
        // The fragment is safely elsewhere before it leaves the log.
        f.sync_all().map_err(|e| Error::io(&sp, e))?;
        self.file.set_len(start).map_err(|e| Error::io(format!("{p}: truncate"), e))?;
        Ok(Some(format!("{p}: the last line was torn (a crash mid-write?): moved its {} bytes to {sp}", tail.len())))
    }

    /// One write of `bytes` at the end, with the length checked after. A failed or short write (a full disk, a
    /// file size limit) is rolled back: the log is cut back to its length before, so a batch is all or nothing
    /// and no torn line is left for readers.
    fn write_checked(&mut self, bytes: &[u8]) -> Result<()> {
        // O_APPEND: the kernel positions each write at the end. A regular file takes a whole write(2) unless
        // something stops it (a full disk, a file-size limit): a short write is that failure, never retried —
        // retrying at a file-size limit raises SIGXFSZ, which kills the process before it can roll back.
        self.write_checked_with(bytes, |f, b| {
            let mut at = 0;
            while at < b.len() {
                match f.write(&b[at..]) {
                    Ok(0) => break,
                    // Short (and not the kernel's cap on one write): stop; the length check rolls back.
                    Ok(n) if n < b.len() - at && n < 0x7fff_f000 => break,
                    Ok(n) => at += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
    }

    /// [`LockedLog::write_checked`] with the write itself given (tests inject failing ones).
    fn write_checked_with(
        &mut self,
        bytes: &[u8],
        write: impl FnOnce(&mut File, &[u8]) -> std::io::Result<()>,
    ) -> Result<()> {
        let p = self.path.display().to_string();
        let before = self.len()?;
        let written = write(&mut self.file, bytes);
        let after = self.len()?;
        let failed = match written {
            Err(e) => Some(Error::io(&p, e)),
            Ok(()) if after != before + bytes.len() as u64 => Some(Error::data(format!(
                "{p}: short write: expected {} bytes, the log grew by {}",
                bytes.len(),
                after.saturating_sub(before)
            ))),
            Ok(()) => None,
        };
        let Some(err) = failed else { return Ok(()) };
        // Under the exclusive lock nothing else wrote since `before`: whatever part of the batch reached the file
        // is taken back out. (A log that grew by more than was written was written by someone ignoring the lock;
        // it is left as it is.)
        if after > before && after <= before + bytes.len() as u64 {
            self.file.set_len(before).map_err(|e| {
                Error::io(format!("{p}: rolling back a failed write ({err}) to {before} bytes: truncate"), e)
            })?;
        }
        Err(err)
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The locked file, for reading under the lock.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Current length in bytes.
    pub fn len(&self) -> Result<u64> {
        Ok(self.file.metadata().map_err(|e| Error::io(self.path.display(), e))?.len())
    }

    /// True when the log is empty.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Append whole lines (each must end with `\n`) in one write. The torn tail was repaired when the lock
    /// was taken; a final newline still missing (a writer that ignores the lock) is added in the same write.
    pub fn append(&mut self, lines: &str) -> Result<()> {
        debug_assert!(lines.is_empty() || lines.ends_with('\n'));
        if lines.is_empty() {
            return Ok(());
        }
        let before = self.len()?;
        let mut buf = String::with_capacity(lines.len() + 1);
        if before > 0 && !self.ends_with_newline(before)? {
            buf.push('\n');
        }
        buf.push_str(lines);
        self.write_checked(buf.as_bytes())
    }

    fn ends_with_newline(&mut self, len: u64) -> Result<bool> {
        let p = self.path.display().to_string();
        self.file.seek(SeekFrom::Start(len - 1)).map_err(|e| Error::io(&p, e))?;
        let mut b = [0u8; 1];
        self.file.read_exact(&mut b).map_err(|e| Error::io(&p, e))?;
        Ok(b[0] == b'\n')
    }
}

/// True when `file` is the file at `path` now (same device and inode; `path` followed through links for the log,
/// not for side files, which are never links).
fn still_at(file: &File, path: &Path, lines: Lines) -> bool {
    use std::os::unix::fs::MetadataExt;
    let now = match lines {
        Lines::Records => std::fs::metadata(path),
        Lines::JsonObjects => std::fs::symlink_metadata(path),
    };
    match (file.metadata(), now) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Where `tt-log --repair` moves the bad lines of `log`: `<log>.rejected`.
pub fn rejected_path(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_os_string();
    s.push(".rejected");
    PathBuf::from(s)
}

/// How many bytes of a bad line [`BadLine::head`] keeps, for showing.
pub const BAD_HEAD: usize = 48;

/// A line of the log that the readers refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Its 1-based line number, as the readers count (blank lines included).
    pub line: u64,
    /// The offset of its first byte in the log.
    pub offset: u64,
    /// Its length in bytes, without its newline.
    pub len: u64,
    /// Its first [`BAD_HEAD`] bytes.
    pub head: Vec<u8>,
    /// Why the readers refuse it (the reader's own message, control characters made spaces).
    pub why: String,
}

/// What `tt-log --repair` found, and did unless it was a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// Lines in the log (blank ones included), before the repair.
    pub lines: u64,
    /// The lines refused by the readers, in log order: moved to [`Repair::rejected`] (or to be, in a dry run).
    pub bad: Vec<BadLine>,
    /// `<log>.rejected`.
    pub rejected: PathBuf,
    /// A dry run only: the length of an unterminated last line that is not a record (a torn write). Readers
    /// leave it out; the next append, or a repair, moves it to `<log>.torn`.
    pub torn_tail: Option<u64>,
    /// The enforce index was deleted (it is rebuilt by the next `--enforce` or `tt-budget`).
    pub index_removed: bool,
    /// What taking the lock repaired first, to warn about: a torn last line moved to `<log>.torn`.
    pub warnings: Vec<String>,
}

impl BadLine {
    /// How `tt-log --repair --dry-run` lists it:
    /// `line 17: 4,096 bytes: \x00\x00…: invalid JSON: expected a value (column 1)`.
    pub fn describe(&self) -> String {
        let more = if self.len > BAD_HEAD as u64 { "…" } else { "" };
        let head = self.head.escape_ascii();
        format!("line {}: {} bytes: {head}{more}: {}", self.line, crate::money::thousands(self.len), self.why)
    }
}

impl Repair {
    /// The line `tt-log --repair` ends with for the log at `log`: nothing to repair, or which lines moved (or
    /// would, with `dry_run`) where, how many were kept, and what else a dry run saw (a torn last line).
    pub fn summary(&self, log: &Path, dry_run: bool) -> String {
        let p = log.display();
        let nothing = format!("{p}: nothing to repair ({} lines, none refused by the readers)", self.lines);
        let lines = |n: usize| format!("{n} bad line{}", if n == 1 { "" } else { "s" });
        let numbers = self.bad.iter().map(|b| b.line.to_string()).collect::<Vec<_>>().join(", ");
        let numbers = format!("line{} {numbers}", if self.bad.len() == 1 { "" } else { "s" });
        if !dry_run {
            if self.bad.is_empty() {
                return nothing;
            }
            return format!(
                "{p}: moved {} ({numbers}) to {}; {} lines kept{}",
                lines(self.bad.len()),
                self.rejected.display(),
                self.lines - self.bad.len() as u64,
                if self.index_removed { "; the budget index will be rebuilt" } else { "" }
            );
        }
        let torn = self.torn_tail.map(|n| {
            format!(
                "; its unterminated last line ({n} bytes, torn or being written) goes to {p}.torn on the next append"
            )
        });
        let what = if self.bad.is_empty() {
            nothing
        } else {
            format!(
                "{p}: would move {} ({numbers}) of {} to {}; nothing changed (dry run)",
                lines(self.bad.len()),
                self.lines,
                self.rejected.display()
            )
        };
        format!("{what}{}", torn.unwrap_or_default())
    }
}

/// Quarantine the lines of the log at `path` that the readers refuse (`tt-log --repair`): invalid JSON, a
/// block of NULs left by a crash, a half line, invalid UTF-8, a record that does not validate, a line longer
/// than [`crate::input::MAX_LINE`]. `Ok(None)` when there is no log.
///
/// * "Bad" means what makes a reader fail: [`crate::scan::View::parse`] (tt-sum, tt-budget, tt-optimize) or
///   [`crate::Record::parse`] (tt-export, merges) refuses the line, after one trailing `\r` is removed; blank
///   lines are skipped by readers and kept.
/// * Under the log's exclusive lock ([`LockedLog::open`], which first moves a torn last line to `<log>.torn`),
///   each bad line is appended to `<log>.rejected` (0600, never through a symlink) as a comment line
///   `# line N (B bytes at offset O) of LOG, moved by tt-log --repair at TS: WHY` followed by the line's bytes
///   exactly as they were (NULs and invalid UTF-8 included) and a newline, then synced. So every entry is two
///   lines, and removing the `#` lines gives the moved lines back.
/// * Then the kept lines, byte for byte and in order, go to a random-named temporary file in the log's real
///   directory (the log may be a symlink: the file it points to is replaced, the link kept), with the log's
///   mode (and owner when allowed); it is synced, locked, and renamed over the log, and the directory synced.
///   Writers waiting for the old file's lock open the log again when they get it ([`LockedLog::open`] checks
///   the inode), and wait on the new file's lock until the repair is done. A log with other hard links is
///   refused: a rename would split them.
/// * The enforce index (`<log>.tt-index`) is deleted (it would see the new inode and rebuild anyway).
/// * Nothing bad: nothing is written at all. `dry_run`: the log is read under a shared lock, nothing is written.
pub fn repair_bad_lines(path: &Path, dry_run: bool) -> Result<Option<Repair>> {
    use std::os::unix::fs::MetadataExt;
    let p = path.display().to_string();
    let rejected = rejected_path(path);
    if let Some(uri) = path.to_str().filter(|p| crate::ledger::is_uri(p)) {
        return Err(Error::usage(format!(
            "{} is a ledger: every record was checked as it was added, so there is nothing to repair",
            crate::ledger::conn::redact(uri)
        )));
    }
    if !path.exists() {
        return Ok(None);
    }
    if dry_run {
        let mut file = File::open(path).map_err(|e| Error::io(&p, e))?;
        file.lock_shared().map_err(|e| Error::io(format!("{p}: lock"), e))?;
        let (lines, bad, torn_tail) = find_bad(&mut file, &p)?;
        return Ok(Some(Repair { lines, bad, rejected, torn_tail, index_removed: false, warnings: Vec::new() }));
    }
    let Warned { value: mut locked, warnings } = LockedLog::open(path)?;
    let (lines, bad, _) = find_bad(&mut locked.file, &p)?;
    let mut repair = Repair { lines, bad, rejected, torn_tail: None, index_removed: false, warnings };
    if repair.bad.is_empty() {
        return Ok(Some(repair));
    }
    let meta = locked.file.metadata().map_err(|e| Error::io(&p, e))?;
    if meta.nlink() > 1 {
        return Err(Error::data(format!(
            "{p}: has {} hard links; a repair replaces the file and would split them (repair a copy, or remove the other links)",
            meta.nlink()
        )));
    }
    let len = meta.len();
    if repair.bad.last().is_some_and(|b| b.offset + b.len >= len) {
        // The lock's repair left the log ending in a newline: someone wrote since, ignoring the lock.
        return Err(Error::data(format!(
            "{p}: changed while it was repaired (a writer that ignores the lock?): left as it is"
        )));
    }
    // 1. The bad lines are safely in `<log>.rejected` before they leave the log.
    let sp = repair.rejected.display().to_string();
    set_aside(&mut locked.file, &repair.bad, &repair.rejected, &p)?;
    // 2. The kept lines, byte for byte, in a new file beside the real log.
    let real = crate::fsutil::resolve_links(path)?;
    let dir = crate::fsutil::dir_of(&real);
    let (tmp, removed) = kept_lines(&mut locked.file, &repair.bad, &meta, &real, &p)?;
    let tp = tmp.path().display().to_string();
    let written = tmp.as_file().metadata().map_err(|e| Error::io(&tp, e))?.len();
    if written != len - removed || locked.len()? != len {
        return Err(Error::data(format!(
            "{p}: changed while it was repaired (a writer that ignores the lock?): left as it is; {sp} holds copies of its bad lines"
        )));
    }
    tmp.as_file().sync_all().map_err(|e| Error::io(&tp, e))?;
    // Locked before it becomes the log: writers that open the new log wait until the repair is over.
    tmp.as_file().lock().map_err(|e| Error::io(format!("{tp}: lock"), e))?;
    // 3. Renamed over the log, under both locks.
    let new = tmp.persist(&real).map_err(|e| Error::io(format!("{p}: replace"), e.error))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    // 4. The index counted the old file: it is rebuilt from the new one.
    repair.index_removed = match std::fs::remove_file(index_path(path)) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(index_path(path).display(), e)),
    };
    let _ = new.unlock();
    drop(locked);
    Ok(Some(repair))
}

/// Append each bad line of the log (`p` in errors) to `rejected` after its `#` comment line, and sync it.
fn set_aside(log: &mut File, bad: &[BadLine], rejected: &Path, p: &str) -> Result<()> {
    let sp = rejected.display().to_string();
    let side = crate::fsutil::append_side(rejected)?;
    let mut out = std::io::BufWriter::new(&side);
    let now = crate::record::format_ts(chrono::Utc::now());
    for b in bad {
        let header = format!(
            "# line {} ({} bytes at offset {}) of {p}, moved by tt-log --repair at {now}: {}\n",
            b.line, b.len, b.offset, b.why
        );
        out.write_all(header.as_bytes()).map_err(|e| Error::io(&sp, e))?;
        copy_range(log, b.offset, b.len, &mut out, p, &sp)?;
        out.write_all(b"\n").map_err(|e| Error::io(&sp, e))?;
    }
    out.flush().map_err(|e| Error::io(&sp, e))?;
    drop(out);
    side.sync_all().map_err(|e| Error::io(&sp, e))
}

/// The log's lines but the `bad` ones, byte for byte, in a new temporary file beside `real` (the log's real
/// path) with the log's mode and, when allowed, owner (`meta`); and how many bytes were left out.
fn kept_lines(
    log: &mut File,
    bad: &[BadLine],
    meta: &std::fs::Metadata,
    real: &Path,
    p: &str,
) -> Result<(tempfile::NamedTempFile, u64)> {
    use std::os::unix::fs::MetadataExt;
    let len = meta.len();
    let dir = crate::fsutil::dir_of(real);
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "usage.jsonl".into());
    let mut tmp = crate::fsutil::temp_in(dir, &name).map_err(|e| Error::io(dir.display(), e))?;
    let tp = tmp.path().display().to_string();
    tmp.as_file().set_permissions(meta.permissions()).map_err(|e| Error::io(&tp, e))?;
    // A shared log keeps its group (and its owner when run as that owner or root); failing that it is ours.
    let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
    let _ = std::os::unix::fs::fchown(tmp.as_file(), None, Some(meta.gid()));
    let mut at = 0u64;
    let mut removed = 0u64;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        for b in bad {
            copy_range(log, at, b.offset - at, &mut w, p, &tp)?;
            at = b.offset + b.len + 1;
            removed += b.len + 1;
        }
        copy_range(log, at, len - at, &mut w, p, &tp)?;
        w.flush().map_err(|e| Error::io(&tp, e))?;
    }
    Ok((tmp, removed))
}

/// Copy `n` bytes of `from` at `offset` to `to` (`fname`, `tname` name them in errors).
fn copy_range(from: &mut File, offset: u64, n: u64, to: &mut impl Write, fname: &str, tname: &str) -> Result<()> {
    from.seek(SeekFrom::Start(offset)).map_err(|e| Error::io(fname, e))?;
    let copied = std::io::copy(&mut Read::by_ref(from).take(n), to).map_err(|e| Error::io(tname, e))?;
    if copied != n {
        return Err(Error::data(format!(
            "{fname}: shorter than expected while repairing it (read {copied} of {n} bytes)"
        )));
    }
    Ok(())
}

/// The lines of `file` (read from its start) that the readers refuse, the number of lines, and the length of an
/// unterminated last line that is not a record (see [`Repair::torn_tail`]).
fn find_bad(file: &mut File, name: &str) -> Result<(u64, Vec<BadLine>, Option<u64>)> {
    use std::io::BufRead;
    file.seek(SeekFrom::Start(0)).map_err(|e| Error::io(name, e))?;
    let mut r = std::io::BufReader::with_capacity(256 * 1024, file);
    let max = crate::input::MAX_LINE;
    let (mut lines, mut offset, mut bad, mut torn) = (0u64, 0u64, Vec::new(), None);
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        let (mut len, mut terminated) = (0u64, false);
        loop {
            let avail = match r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(name, e)),
            };
            if avail.is_empty() {
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            // A line longer than any reader takes is not kept in memory, only measured.
            if buf.len() <= max {
                buf.extend_from_slice(&avail[..take.min(max + 1 - buf.len())]);
            }
            len += take as u64;
            r.consume(take + usize::from(done));
            if done {
                terminated = true;
                break;
            }
        }
        if len == 0 && !terminated {
            return Ok((lines, bad, torn));
        }
        lines += 1;
        let why = if len > max as u64 {
            Some(crate::input::line_too_long().message().to_string())
        } else {
            let l = buf.strip_suffix(b"\r").unwrap_or(&buf);
            if l.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                match crate::scan::View::parse(l) {
                    Err(e) => Some(e.message().to_string()),
                    Ok(_) => match crate::input::utf8(l).and_then(crate::Record::parse) {
                        Err(e) => Some(e.message().to_string()),
                        Ok(_) => None,
                    },
                }
            }
        };
        // A byte order mark at the very start: the line reader itself says whether readers skip it.
        let bom_ok = |l: &[u8]| {
            let line = [l, b"\n"].concat();
            let read = |_, x: &[u8]| crate::scan::View::parse(x).map(drop);
            offset == 0 && l.starts_with(b"\xEF\xBB\xBF") && crate::input::for_each_line("", &line[..], read).is_ok()
        };
        if let Some(why) = why.filter(|_| !bom_ok(&buf)) {
            if !terminated && len <= MAX_TORN_TAIL {
                // Being written, or torn: the lock's repair moves it to `<log>.torn` (a whole JSON value that is
                // not a record too).
                torn = Some(len);
            } else {
                let why = why.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
                bad.push(BadLine { line: lines, offset, len, head: buf[..buf.len().min(BAD_HEAD)].to_vec(), why });
            }
        }
        offset += len + u64::from(terminated);
        if !terminated {
            return Ok((lines, bad, torn));
        }
    }
}

impl Drop for LockedLog {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// The ids of the records in a log, read fast: tt writes `{"v":1,"id":"…"` first, so the id is usually taken
/// straight from the line; anything else is parsed as JSON. Lines without an id (a torn last line left by a
/// crash) are skipped — they are not records.
pub fn log_ids(name: &str, reader: impl std::io::BufRead) -> Result<std::collections::HashSet<crate::id::IdKey>> {
    let mut ids = std::collections::HashSet::new();
    crate::input::for_each_line(name, reader, |_, line| {
        if let Some(id) = fast_id(line) {
            ids.insert(crate::id::id_key(id));
        } else if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(line)
            && let Some(serde_json::Value::String(id)) = m.get("id")
        {
            ids.insert(crate::id::id_key(id));
        }
        Ok(())
    })?;
    Ok(ids)
}

fn fast_id(line: &[u8]) -> Option<&str> {
    const PREFIX: &[u8] = b"{\"v\":1,\"id\":\"";
    let rest = line.strip_prefix(PREFIX)?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    if rest[end] != b'"' || !line.ends_with(b"}") {
        return None;
    }
    std::str::from_utf8(&rest[..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bad line is listed with its number, length, first bytes (escaped, `…` when cut) and why.
    #[test]
    fn bad_line_description() {
        let b = BadLine { line: 17, offset: 0, len: 4096, head: vec![0; BAD_HEAD], why: "invalid JSON".into() };
        assert_eq!(b.describe(), format!("line 17: 4,096 bytes: {}…: invalid JSON", "\\x00".repeat(BAD_HEAD)));
        let b = BadLine { line: 2, offset: 9, len: 3, head: b"{\"a".to_vec(), why: "EOF".into() };
        assert_eq!(b.describe(), "line 2: 3 bytes: {\\\"a: EOF");
    }

    /// What a repair says: nothing to do, what it did, or (a dry run) what it would do and the torn tail.
    #[test]
    fn repair_summary() {
        let log = Path::new("u.jsonl");
        let bad = |line| BadLine { line, offset: 0, len: 1, head: vec![0], why: String::new() };
        let mut r = Repair {
            lines: 10,
            bad: Vec::new(),
            rejected: rejected_path(log),
            torn_tail: None,
            index_removed: false,
            warnings: Vec::new(),
        };
        let nothing = "u.jsonl: nothing to repair (10 lines, none refused by the readers)";
        assert_eq!(r.summary(log, false), nothing);
        assert_eq!(r.summary(log, true), nothing);
        r.bad = vec![bad(3)];
        assert_eq!(r.summary(log, false), "u.jsonl: moved 1 bad line (line 3) to u.jsonl.rejected; 9 lines kept");
        r.bad.push(bad(5));
        r.index_removed = true;
        assert_eq!(
            r.summary(log, false),
            "u.jsonl: moved 2 bad lines (lines 3, 5) to u.jsonl.rejected; 8 lines kept; the budget index will be \
             rebuilt"
        );
        r.torn_tail = Some(7);
        assert_eq!(
            r.summary(log, true),
            "u.jsonl: would move 2 bad lines (lines 3, 5) of 10 to u.jsonl.rejected; nothing changed (dry run); its \
             unterminated last line (7 bytes, torn or being written) goes to u.jsonl.torn on the next append"
        );
        r.bad.clear();
        assert_eq!(
            r.summary(log, true),
            format!(
                "{nothing}; its unterminated last line (7 bytes, torn or being written) goes to u.jsonl.torn on the next append"
            )
        );
    }

    #[test]
    fn fast_id_takes_plain_ids_only() {
        assert_eq!(fast_id(br#"{"v":1,"id":"abc","ts":"x"}"#), Some("abc"));
        assert_eq!(fast_id(br#"{"v":1,"id":"a\"bc","ts":"x"}"#), None);
        assert_eq!(fast_id(br#"{"v":1,"id":"abc","ts":"#), None);
    }

    #[test]
    fn a_writer_waiting_for_the_lock_of_a_replaced_log_opens_it_again() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("usage.jsonl");
        std::fs::write(&path, "{\"v\":1,\"a\":0}\n\0\0\n").unwrap();
        let held = LockedLog::open_lines(&path).unwrap().value;
        let p = path.clone();
        // Opens the old file, then waits for its lock.
        let writer = std::thread::spawn(move || LockedLog::open_lines(&p).unwrap().value.append("{\"b\":1}\n"));
        std::thread::sleep(std::time::Duration::from_millis(200));
        // Replaced under the old file's lock, as `--repair` does.
        let new = d.path().join("new");
        std::fs::write(&new, "{\"v\":1,\"a\":0}\n").unwrap();
        std::fs::rename(&new, &path).unwrap();
        drop(held);
        writer.join().unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"v\":1,\"a\":0}\n{\"b\":1}\n");
    }

    #[test]
    fn a_failed_write_is_rolled_back() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("usage.jsonl");
        std::fs::write(&path, "{\"a\":1}\n").unwrap();
        let before = std::fs::read(&path).unwrap();
        let mut log = LockedLog::open_lines(&path).unwrap().value;
        // Half the batch reaches the file, then the disk is full.
        let e = log
            .write_checked_with(b"{\"b\":2}\n{\"c\":3}\n", |f, b| {
                f.write_all(&b[..b.len() / 2])?;
                Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
            })
            .unwrap_err();
        assert_eq!(e.kind(), crate::error::Kind::Io, "{e}");
        // A write that reports success but did not write everything.
        let e = log.write_checked_with(b"{\"d\":4}\n", |f, b| f.write_all(&b[..3])).unwrap_err();
        assert!(e.to_string().contains("short write"), "{e}");
        drop(log);
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}

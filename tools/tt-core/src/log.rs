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
//!   the log is truncated back to its last newline, and a one-line warning names the saved file.
//! * The records of one call go out in a single `write` of whole lines, and the file length is checked after;
//!   a failed or short write is rolled back (`set_len` to the length before), so a batch is all or nothing.
//! * Created files are private: the log 0600, directories made for it 0700 (see [`crate::fsutil`]); an
//!   existing log keeps its mode, which is how a shared team log is set up (create it with wider modes first).
//!   `<log>.torn` and the import history are never opened through a symlink.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::config::{Config, default_log_path};
use crate::error::{Error, Result};

/// Resolve the log path: `--log`, else `$TT_LOG`, else config `log`, else `$XDG_DATA_HOME/tt/usage.jsonl`.
pub fn log_path(flag: Option<&Path>, config: &Config) -> Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("TT_LOG").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    if let Some(p) = &config.log {
        return Ok(p.clone());
    }
    default_log_path().ok_or_else(|| Error::usage("cannot find the usage log: set --log, TT_LOG or HOME"))
}

/// The longest unterminated tail that is repaired automatically. tt's lines are a few KiB at most; a file
/// ending in more than this without a newline is not a torn tt log, and is left alone (an error).
pub const MAX_TORN_TAIL: u64 = 1 << 20;

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
    /// it, and repair a torn tail (see the module docs).
    pub fn open(path: &Path) -> Result<LockedLog> {
        Self::open_as(path, Lines::Records)
    }

    /// Like [`LockedLog::open`] for a JSONL file of tt's that does not hold records (the import history): a
    /// complete last line is any JSON object.
    pub fn open_lines(path: &Path) -> Result<LockedLog> {
        Self::open_as(path, Lines::JsonObjects)
    }

    fn open_as(path: &Path, lines: Lines) -> Result<LockedLog> {
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
        let mut log = LockedLog { file, path: path.to_path_buf() };
        log.repair(lines)?;
        Ok(log)
    }

    /// Repair an unterminated last line (under the lock): a complete line gets its newline; a fragment is saved
    /// to `<log>.torn` and cut off, with a warning.
    fn repair(&mut self, lines: Lines) -> Result<()> {
        let len = self.len()?;
        if len == 0 || self.ends_with_newline(len)? {
            return Ok(());
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
            return self.write_checked(b"\n");
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
        crate::cli::warn_later(format!(
            "{p}: the last line was torn (a crash mid-write?): moved its {} bytes to {sp}",
            tail.len()
        ));
        Ok(())
    }

    /// One write of `bytes` at the end, with the length checked after. A failed or short write (a full disk, a
    /// file size limit) is rolled back: the log is cut back to its length before, so a batch is all or nothing
    /// and no torn line is left for readers.
    fn write_checked(&mut self, bytes: &[u8]) -> Result<()> {
        // O_APPEND: the kernel positions each write at the end; one write_all of a small buffer is one write(2).
        self.write_checked_with(bytes, |f, b| f.write_all(b))
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

impl Drop for LockedLog {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_is_rolled_back() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("usage.jsonl");
        std::fs::write(&path, "{\"a\":1}\n").unwrap();
        let before = std::fs::read(&path).unwrap();
        let mut log = LockedLog::open_lines(&path).unwrap();
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

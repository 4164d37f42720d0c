//! The usage log on disk: locked, append-only, never torn.
//!
//! Invariants:
//! * The log is only ever appended to — no tool rewrites or truncates it.
//! * Every append happens under an exclusive `File::lock` on the log itself, so concurrent `tt-log` processes
//!   (parallel CI jobs, many agents) serialise, and a reader holding the lock sees whole records only.
//! * Before appending, a missing final newline (left by a crash mid-write) is repaired, so the new record
//!   never glues onto a torn line.
//! * The records of one call go out in a single `write` of whole lines, and the file length is checked after.

use std::fs::{File, OpenOptions};
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

/// The log, opened for appending and exclusively locked until dropped.
pub struct LockedLog {
    file: File,
    path: PathBuf,
}

impl LockedLog {
    /// Open (creating the file and its directory if needed) and take the exclusive lock, waiting for it.
    pub fn open(path: &Path) -> Result<LockedLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| Error::io(path.display(), e))?;
        file.lock().map_err(|e| Error::io(format!("{}: lock", path.display()), e))?;
        Ok(LockedLog { file, path: path.to_path_buf() })
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

    /// Append whole lines (each must end with `\n`) in one write, repairing a torn end first.
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
        let p = self.path.display().to_string();
        // O_APPEND: the kernel positions each write at the end; one write_all of a small buffer is one write(2).
        self.file.write_all(buf.as_bytes()).map_err(|e| Error::io(&p, e))?;
        let after = self.len()?;
        if after != before + buf.len() as u64 {
            return Err(Error::data(format!(
                "{p}: short write: expected {} bytes, the log grew by {}",
                buf.len(),
                after.saturating_sub(before)
            )));
        }
        Ok(())
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

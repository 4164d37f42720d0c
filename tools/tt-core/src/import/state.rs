//! The import state: how far each transcript was read, kept next to the log (`usage.jsonl.tt-import.json`).
//!
//! It only makes re-imports cheap; correctness never depends on it. Record ids are derived from the source, and
//! ids already in the log are skipped, so a lost, stale or deleted state file means re-reading, never double
//! counting. A file is resumed at its saved offset only when it is at least that long and its first bytes still
//! hash the same; a truncated, rotated or rewritten file is read again from the start.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::codex;
use crate::error::{Error, Result};

/// How many leading bytes identify a file.
const HEAD_BYTES: u64 = 4096;

/// The whole state file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// The log's length after the last import; a shorter log means it was replaced, so everything is re-read.
    pub log_len: u64,
    /// Per transcript (absolute path).
    pub files: BTreeMap<String, FileState>,
}

/// How far one transcript was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileState {
    /// Bytes consumed: the end of the last complete line read.
    pub offset: u64,
    /// Hash of the first `min(offset, 4096)` bytes.
    pub head: String,
    /// Codex reader state at `offset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codex: Option<codex::Context>,
}

/// The state file for a log.
pub fn path_for(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_os_string();
    s.push(SUFFIX);
    PathBuf::from(s)
}

/// The state file's suffix after the log's name.
pub const SUFFIX: &str = ".tt-import.json";
impl State {
    /// Load the state; a missing or unreadable file is an empty state (it is only a cache).
    pub fn load(path: &Path) -> State {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<State>(&b).ok())
            .filter(|s| s.version == 1)
            .unwrap_or_default()
    }

    /// Write atomically: a private temp file with a random name in the same directory, then rename (see
    /// [`crate::fsutil::write_atomic`]; a link planted at a guessable temp name is never followed).
    pub fn save(&mut self, path: &Path) -> Result<()> {
        self.version = 1;
        let text = serde_json::to_vec(self).map_err(|e| Error::data(format!("{}: {e}", path.display())))?;
        // A ledger's state lives in this machine's state directory, which may not exist yet (a file log's
        // directory does: the log was just written).
        let dir = crate::fsutil::dir_of(path);
        crate::fsutil::create_dirs(dir).map_err(|e| Error::io(dir.display(), e))?;
        crate::fsutil::write_atomic(path, &text)
    }
}

/// The identity hash of a file's first `min(len, 4096)` bytes.
pub fn head_hash(file: &mut File, len: u64) -> std::io::Result<String> {
    let mut buf = Vec::with_capacity(HEAD_BYTES as usize);
    Read::by_ref(file).take(len.min(HEAD_BYTES)).read_to_end(&mut buf)?;
    let (a, b) = crate::id::fnv128(&buf);
    Ok(format!("{a:016x}{b:016x}"))
}

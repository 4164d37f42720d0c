//! Finding transcript files: the agents' default directories (`CLAUDE_CONFIG_DIR`, `CODEX_HOME`, `~/.claude`,
//! `~/.codex`, …) or the paths given, searched through symlinks with link loops cut, a Claude Code session's
//! `subagents/` taken with it. Unreadable directories are warnings, not errors: one bad entry in `~/.claude`
//! must not stop the import of everything else.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::Source;
use crate::error::{Error, Result};

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// The directories searched when no path is given.
pub fn default_dirs(source: Source) -> Vec<PathBuf> {
    match source {
        Source::ClaudeCode => {
            if let Some(v) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|v| !v.is_empty()) {
                return v
                    .to_string_lossy()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from)
                    .collect();
            }
            let mut dirs: Vec<PathBuf> = home().map(|h| h.join(".claude")).into_iter().collect();
            if let Some(c) = crate::config::xdg_dir("XDG_CONFIG_HOME", ".config") {
                dirs.push(c.join("claude"));
            }
            dirs
        }
        Source::Codex => match std::env::var_os("CODEX_HOME").filter(|v| !v.is_empty()) {
            Some(v) => vec![PathBuf::from(v)],
            None => home().map(|h| h.join(".codex")).into_iter().collect(),
        },
    }
}

/// The transcript files found, and the directories that could not be searched.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Sorted, without repeats, canonical where possible.
    pub files: Vec<PathBuf>,
    /// One line per directory or entry skipped because it could not be read (`DIR: why (skipped)`).
    pub warnings: Vec<String>,
}

/// The transcript files under `paths` (files are taken as they are; directories are searched), or under the
/// default directories when `paths` is empty. A path given that does not exist is an error; a directory that
/// cannot be read inside the search is skipped with a warning, like an unreadable file.
pub fn discover(source: Source, paths: &[PathBuf]) -> Result<Discovery> {
    let mut d = Discovery::default();
    let mut files = Vec::new();
    let mut w = Walk { source, files: &mut files, warnings: &mut d.warnings, seen: HashSet::new() };
    if paths.is_empty() {
        let dirs = default_dirs(source);
        let existing: Vec<&PathBuf> = dirs.iter().filter(|d| d.is_dir()).collect();
        if existing.is_empty() {
            let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            let var = if source == Source::ClaudeCode { "CLAUDE_CONFIG_DIR" } else { "CODEX_HOME" };
            return Err(Error::usage(format!(
                "no {} data found (looked in {}): give a directory or set {var}",
                source.name(),
                if looked.is_empty() { "no directory: HOME is not set".to_string() } else { looked.join(", ") }
            )));
        }
        for dir in existing {
            w.search_root(dir);
        }
    } else {
        for p in paths {
            let meta = std::fs::metadata(p).map_err(|e| Error::io(p.display(), e))?;
            if meta.is_dir() {
                w.search_root(p);
            } else {
                w.files.push(p.clone());
                // A Claude Code session's subagents live in `<session>/subagents/` next to `<session>.jsonl`:
                // importing the session (as the hook does) includes them.
                let beside = p.with_extension("");
                if source == Source::ClaudeCode && beside != *p && beside.is_dir() {
                    w.walk(&beside);
                }
            }
        }
    }
    let mut seen = HashSet::new();
    d.files =
        files.into_iter().map(|f| std::fs::canonicalize(&f).unwrap_or(f)).filter(|f| seen.insert(f.clone())).collect();
    d.files.sort();
    Ok(d)
}

/// The state of a search for transcripts.
struct Walk<'a> {
    source: Source,
    files: &'a mut Vec<PathBuf>,
    warnings: &'a mut Vec<String>,
    /// Canonical paths of the directories searched: a directory reached twice (through a symlink, or a link
    /// loop) is searched once.
    seen: HashSet<PathBuf>,
}

impl Walk<'_> {
    /// Search a configuration directory (its `projects/`, `sessions/`, `archived_sessions/`) or, when it has
    /// none of those, the directory itself.
    fn search_root(&mut self, dir: &Path) {
        let subs: &[&str] = match self.source {
            Source::ClaudeCode => &["projects"],
            Source::Codex => &["sessions", "archived_sessions"],
        };
        let mut found_sub = false;
        for s in subs {
            let d = dir.join(s);
            if d.is_dir() {
                found_sub = true;
                self.walk(&d);
            }
        }
        if !found_sub {
            self.walk(dir);
        }
    }

    /// Search `dir` and the directories in it, symlinked ones too (users link projects in from elsewhere).
    fn walk(&mut self, dir: &Path) {
        if !self.seen.insert(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())) {
            return;
        }
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                self.warnings.push(format!("{} (skipped)", Error::io(dir.display(), e)));
                return;
            }
        };
        for entry in rd {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.warnings.push(format!("{} (skipped)", Error::io(dir.display(), e)));
                    return;
                }
            };
            let path = entry.path();
            // file_type does not follow symlinks; a symlink is followed below, and `seen` ends link loops.
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                Err(e) => {
                    self.warnings.push(format!("{} (skipped)", Error::io(path.display(), e)));
                    continue;
                }
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // What a symlink points to (a dangling one is neither a file nor a directory: ignored).
            let target = if ft.is_symlink() { std::fs::metadata(&path).ok() } else { None };
            if ft.is_dir() || target.as_ref().is_some_and(std::fs::Metadata::is_dir) {
                self.walk(&path);
            } else if name.ends_with(".jsonl")
                && (self.source == Source::ClaudeCode || name.starts_with("rollout-"))
                && (ft.is_file() || target.as_ref().is_some_and(std::fs::Metadata::is_file))
            {
                self.files.push(path);
            }
        }
    }
}

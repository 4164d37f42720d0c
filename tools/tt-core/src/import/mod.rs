//! Importing agent transcripts (Claude Code, Codex CLI) into the usage log.
//!
//! Flow: [`discover`] the transcript files → read each one from where the last import stopped ([`state`]),
//! two groups of files at a time (a Claude Code session with its subagents' files is one group, see `groups`)
//! → hold back, in the whole group, a request at a file's end that may still be streaming ([`IDLE_COMPLETE`])
//! → keep one usage per source request within the group (the line with the most tokens: streaming writes a
//! message several times) → skip requests whose id is already in the log → price → append the new records
//! under the log lock → save the new offsets.
//!
//! Invariants:
//! * Only complete requests are appended. Records are never amended, so a streaming message imported early
//!   would keep its first, smallest copy forever (and a second machine importing the finished file would keep
//!   another); a request is complete once the next request of its conversation follows it (an inline
//!   sidechain request: the main thread's next one, parallel subagents interleave), its file is idle, or the
//!   hook said so and the file does not end with a half-written line (see `read_into`); a request one file of
//!   a group holds back is held back in all of them (see `read_group`).
//! * A saved offset never moves past a last line without its newline: it is still being written.
//! * A record's id is derived from the source's own identity of the request (`message.id` + `requestId`;
//!   Codex: root session + cumulative totals) with [`crate::id::derived_id_from_hash`], so importing the same
//!   transcript twice, on two machines, or through a merged bundle never counts a request twice. Dedup compares
//!   the id's hash bits only ([`crate::id::id_tail`]), not its timestamp, because streamed and replayed copies
//!   of one request carry different times.
//! * The offsets in the state file are a cache: losing them costs a re-read, never a duplicate.
//! * A malformed line is reported (file:line) and skipped; it never aborts an import.

pub mod claude;
pub mod codex;
mod lenient;
pub mod state;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::record::Tokens;
use state::{FileState, State};

/// Which agent wrote the transcripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Claude Code (`~/.claude/projects/**.jsonl`).
    ClaudeCode,
    /// OpenAI Codex CLI (`~/.codex/sessions/**/rollout-*.jsonl`).
    Codex,
}

impl Source {
    /// `claude-code` or `codex`.
    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "claude-code" => Some(Source::ClaudeCode),
            "codex" => Some(Source::Codex),
            _ => None,
        }
    }

    /// The name: also the default agent and the records' `source`.
    pub fn name(self) -> &'static str {
        match self {
            Source::ClaudeCode => "claude-code",
            Source::Codex => "codex",
        }
    }
}

/// What a request was made in: shared by the many requests of one session.
#[derive(Debug, PartialEq, Eq)]
pub struct Ctx {
    model: String,
    session: Option<String>,
    cwd: Option<String>,
    branch: Option<String>,
    sidechain: bool,
}

/// Per-file reader state shared by both formats: the last [`Ctx`] (reused while it does not change, so a
/// session's thousands of requests share one) and the largest plausible token count.
pub struct CtxCache {
    last: Option<Arc<Ctx>>,
    /// The config's `max_tokens`: a request with a larger count in any field is malformed.
    max_tokens: u64,
}

impl Default for CtxCache {
    fn default() -> Self {
        CtxCache::new(u64::MAX)
    }
}

impl CtxCache {
    /// A cache for reading one file, refusing counts above `max_tokens`.
    pub fn new(max_tokens: u64) -> CtxCache {
        CtxCache { last: None, max_tokens }
    }

    /// `Err` (why) when a request's counts are implausible: a field above `max_tokens` (the same limit tt-log
    /// applies to counts typed by hand), or counts whose sum does not fit in 64 bits.
    fn check(&self, t: &Tokens, reasoning: Option<u64>) -> std::result::Result<(), String> {
        let fields = [
            ("input", t.input),
            ("output", t.output),
            ("cache read", t.cache_read),
            ("cache write", t.cache_write),
            ("cache write 1h", t.cache_write_1h),
            ("reasoning", reasoning.unwrap_or(0)),
        ];
        if let Some((k, n)) = fields.iter().find(|(_, n)| *n > self.max_tokens) {
            return Err(format!(
                "implausible usage: {k} tokens {} exceed the maximum of {} per record (raise `max_tokens` in the \
                 config if this is real)",
                crate::money::thousands(*n),
                crate::money::thousands(self.max_tokens)
            ));
        }
        if fields[..5].iter().try_fold(0u64, |a, (_, n)| a.checked_add(*n)).is_none() {
            return Err("implausible usage: the token counts add up to more than 2^64".to_string());
        }
        Ok(())
    }

    fn get(
        &mut self,
        model: &str,
        session: Option<&str>,
        cwd: Option<&str>,
        branch: Option<&str>,
        sidechain: bool,
    ) -> Arc<Ctx> {
        if let Some(c) = &self.last
            && c.model == model
            && c.session.as_deref() == session
            && c.cwd.as_deref() == cwd
            && c.branch.as_deref() == branch
            && c.sidechain == sidechain
        {
            return c.clone();
        }
        let c = Arc::new(Ctx {
            model: model.to_string(),
            session: session.map(str::to_string),
            cwd: cwd.map(str::to_string),
            branch: branch.map(str::to_string),
            sidechain,
        });
        self.last = Some(c.clone());
        c
    }
}

/// One request's usage found in a transcript.
pub struct Found {
    hash: (u64, u64),
    ts: DateTime<Utc>,
    tokens: Tokens,
    reasoning: Option<u64>,
    /// Service tier, fast mode and server-tool calls the transcript reports.
    billing: crate::record::Billing,
    /// Passes priced one by one (Anthropic's `iterations`: several, or one on another model); `tokens` is
    /// their sum. `None` for a request priced as a whole.
    iterations: Option<Box<[crate::provider::Iteration]>>,
    ctx: Arc<Ctx>,
    /// Which conversation in the file made the request: its requests follow one another, so a request is over
    /// once the next one of the same conversation shows up (Claude Code: 0 the main thread, 1 inline sidechain
    /// lines, else one per subagent reporting through `progress` lines; Codex: 0).
    stream: u64,
    /// Where the line it was read from starts in its file (set by the file reader).
    at: u64,
}

/// What reading one line gave.
pub enum LineOutcome {
    /// Not a line that can hold usage; not parsed.
    Skipped,
    /// Parsed (usage, if any, was pushed).
    Read,
    /// Not valid JSON, or usage that makes no sense: why.
    Malformed(String),
}

/// The hash of a source identity `parts.join(":")`.
pub fn key_hash(parts: &[&str]) -> (u64, u64) {
    crate::id::fnv128(parts.join(":").as_bytes())
}

/// Options of an import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Agent name for the records (default: the source name).
    pub agent: Option<String>,
    /// Read and report, but append nothing and keep the state unchanged.
    pub dry_run: bool,
    /// Worker threads reading files (0: two, or one on a single core).
    pub threads: usize,
    /// Transcripts whose writer said it is done with them (a Claude Code hook): their last requests are
    /// complete and nothing of them is held back — unless a file ends with a line still being written (no
    /// newline yet): its last requests then wait as without the hook.
    pub finished: Finished,
    /// Every transcript is of a session that is over (`tt-log --import … --finished`: a copy, an archive, a
    /// restored backup, whose fresh mtimes say nothing): nothing is held back as still being written, and a last
    /// line without its newline is read as in an idle file.
    pub all_finished: bool,
    /// Work out which budgets the imported records move across a level ([`Report::alerts`]).
    pub alerts: bool,
}

/// Transcripts a Claude Code hook says are complete. Paths as given; they are compared with the files found
/// by their canonical paths.
#[derive(Debug, Clone, Default)]
pub struct Finished {
    /// Files whose writer is done: the session's transcript at `Stop` (the main thread's turn is over; a
    /// subagent running in the background may still write its own file), a subagent's own transcript at
    /// `SubagentStop`.
    pub files: Vec<PathBuf>,
    /// Sessions that ended (`SessionEnd`): the transcript and every file of its group (its subagents').
    pub sessions: Vec<PathBuf>,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Transcript files considered.
    pub files: usize,
    /// Files with nothing new since the last import (not read).
    pub unchanged: usize,
    /// Records appended (or that would be, with `dry_run`).
    pub added: u64,
    /// Their tokens.
    pub tokens: u64,
    /// Their cost (priced records only).
    pub cost: rust_decimal::Decimal,
    /// Usage lines of requests already counted: streamed and replayed copies, and requests already in the log.
    pub duplicates: u64,
    /// Lines skipped as malformed.
    pub malformed: u64,
    /// Requests at the end of a transcript that may still be streaming: left for the next import.
    pub held: u64,
    /// Files of the rest that end with a line still being written (no newline yet, the file not idle) that may
    /// hold a request (a usage, a `token_count`): the line is left for the next import, which reads it whole.
    /// (A file that holds a request back reads that line again anyway; it is not counted here.)
    pub unfinished: u64,
    /// Unknown models and how many records of each were logged unpriced.
    pub unpriced: BTreeMap<String, u64>,
    /// Warnings (file:line: …), at most [`MAX_WARNINGS`] of them and a count of the rest.
    pub warnings: Vec<String>,
    /// Budgets the imported records moved across a level (see [`crate::enforce::Watch`]).
    pub alerts: Vec<String>,
}

/// Malformed-line warnings beyond this many are only counted.
pub const MAX_WARNINGS: usize = 20;

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

/// How long a transcript must have been left alone for its last request to count as complete without any
/// other sign. Claude Code writes the copies of a streaming message close together, but it runs tools while a
/// message still streams, and nothing is written while a tool runs: a build or a test suite can keep two copies
/// of one message many minutes apart. Half an hour without a write means the message is finished (or its
/// writer is gone: a crash mid-stream). The hook completes the usual case at once (`Stop`); an import without
/// it (cron) during an active session leaves that session's last request for a later run — nothing is lost.
pub const IDLE_COMPLETE: Duration = Duration::from_secs(30 * 60);

/// What every file of one import is read with.
#[derive(Clone, Copy)]
struct ReadOpts<'a> {
    source: Source,
    /// Canonical paths of the files a hook said are complete ([`Finished::files`]).
    finished: &'a HashSet<PathBuf>,
    /// Canonical paths of the sessions that ended ([`Finished::sessions`]): every file of their groups.
    ended: &'a HashSet<PathBuf>,
    /// When the import started: a file not modified since `now - IDLE_COMPLETE` is complete.
    now: SystemTime,
    /// The config's `max_tokens`.
    max_tokens: u64,
    /// [`Options::all_finished`].
    all_finished: bool,
}

/// The result of reading one file.
struct FileResult {
    key: String,
    state: Option<FileState>,
    /// Every request read, held-back ones included (their fate is decided for the whole group).
    found: Vec<Found>,
    malformed: u64,
    warnings: Vec<String>,
    unchanged: bool,
    /// The requests ([`crate::id::hash_tail`]) this file holds back because they may still be growing (at
    /// most one per conversation in the file; any number of inline sidechain requests, see `note_pending`).
    held: Vec<u128>,
    /// The file ends with a line still being written, left for the next import ([`Report::unfinished`]).
    unfinished: bool,
}

/// The result of reading one group of files ([`groups`]), built into record lines.
struct GroupResult {
    index: usize,
    states: Vec<(String, Option<FileState>)>,
    built: Vec<Built>,
    duplicates: u64,
    malformed: u64,
    warnings: Vec<String>,
    unchanged: usize,
    held: u64,
    unfinished: u64,
}

/// The files read together, as indices into `files` (sorted): a Claude Code session `<s>.jsonl` with its
/// subagents' `<s>/subagents/*.jsonl`, whose requests are also reported in the session's `progress` lines —
/// copies of one request in a group are compared and the best is kept, as within one file. Every other file is
/// a group of its own. Groups are in the order of their first file, members in file order.
fn groups(source: Source, files: &[PathBuf]) -> Vec<Vec<usize>> {
    if source != Source::ClaudeCode {
        return (0..files.len()).map(|i| vec![i]).collect();
    }
    let index: HashMap<&Path, usize> = files.iter().enumerate().map(|(i, f)| (f.as_path(), i)).collect();
    let parent_of = |f: &Path| -> Option<usize> {
        let dir = f.parent()?;
        if dir.file_name()? != "subagents" {
            return None;
        }
        let mut session = dir.parent()?.as_os_str().to_owned();
        session.push(".jsonl");
        index.get(Path::new(&session)).copied()
    };
    let mut leader: Vec<usize> = (0..files.len()).map(|i| parent_of(&files[i]).unwrap_or(i)).collect();
    // Subagents of subagents belong to the top session (parents have shorter paths: no cycles).
    for i in 0..leader.len() {
        let mut l = leader[i];
        while leader[l] != l {
            l = leader[l];
        }
        leader[i] = l;
    }
    let mut by_leader: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, l) in leader.into_iter().enumerate() {
        by_leader.entry(l).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = by_leader.into_values().collect();
    out.sort_by_key(|g| g[0]);
    out
}

fn read_file(o: &ReadOpts, path: &Path, prev: Option<&FileState>, finished: bool) -> FileResult {
    let key = path.display().to_string();
    let mut r = FileResult {
        key: key.clone(),
        state: prev.cloned(),
        found: Vec::new(),
        malformed: 0,
        warnings: Vec::new(),
        unchanged: false,
        held: Vec::new(),
        unfinished: false,
    };
    if let Err(e) = read_into(o, path, prev, finished, &mut r) {
        // An unreadable file (permissions, vanished mid-import) is skipped with a warning, like a bad line.
        r.warnings.push(format!("{} (skipped)", Error::io(&key, e)));
        r.state = prev.cloned();
        r.found.clear();
        r.held.clear();
        r.unfinished = false;
    }
    r
}

/// The last request found so far of one conversation in a file ([`Found::stream`]): it may still be streaming.
struct Pending {
    stream: u64,
    /// Its [`crate::id::hash_tail`].
    key: u128,
}

/// Note the requests `found[before..]` just read. A new request of a conversation completes that
/// conversation's previous one; a new request of the main thread completes every other one too: the main
/// thread asks again only once every tool it started has returned, subagents included.
///
/// Inline sidechain lines ([`Found::stream`] 1) in a session's own transcript (`inline_sidechains`) are not
/// one conversation: older Claude Code (1.0.x) writes every subagent's lines into the session file, and
/// parallel subagents interleave there, with nothing telling them apart. So a sidechain request there is not
/// completed by another sidechain request, only by the main thread's next one (or idle, or the hook). In a
/// subagent's own file (`subagents/*.jsonl`) its sidechain requests are one conversation, made one after
/// another.
fn note_pending(pending: &mut Vec<Pending>, found: &[Found], before: usize, inline_sidechains: bool) {
    for f in &found[before..] {
        let key = crate::id::hash_tail(f.hash);
        if pending.iter().any(|p| p.stream == f.stream && p.key == key) {
            continue;
        }
        if f.stream == 0 {
            pending.clear();
        } else if !(inline_sidechains && f.stream == 1) {
            pending.retain(|p| p.stream != f.stream);
        }
        pending.push(Pending { stream: f.stream, key });
    }
}

/// True for a subagent's own transcript (`<session>/subagents/*.jsonl`, at any depth).
fn is_subagent_file(path: &Path) -> bool {
    path.parent().and_then(Path::file_name).is_some_and(|n| n == "subagents")
}

/// Read a file from where the last import stopped.
///
/// Claude Code writes a streaming message several times (one line per content block, the output count growing),
/// and runs tools while it still streams: tool results, progress and snapshot lines come between the copies of
/// one message (seen in real transcripts). What does mark a request as finished is the next request of the same
/// conversation — the main thread's requests, and each subagent's, are made one after another (but not the
/// interleaved inline sidechain lines of parallel subagents, see [`note_pending`]) — and, for a subagent, the
/// main thread's next request (it asks again only when every tool it ran has returned). So the last request of
/// each conversation still open at the end of the file is complete only when the file has been idle for
/// [`IDLE_COMPLETE`] or the writer said it is done (`finished`, not taken while the file ends with an
/// unterminated line: that may be the last copy, half written). Otherwise this file holds it back
/// ([`FileResult::held`]); [`read_group`] then leaves it out and moves the saved offset back to the line of its
/// first copy (in every file of the group that has one), so the next import reads all its copies again and
/// keeps the best (complete requests read again are found in the log and dropped). Codex writes each
/// `token_count` event once, when the request is done: nothing is held back.
///
/// A last line without its newline is still being written (or was torn by a crash): the saved offset never
/// moves past its start, whatever it holds, so the next import reads it whole. It is read only when the file is
/// idle, and reported as an incomplete line only then if it is not valid.
fn read_into(
    o: &ReadOpts,
    path: &Path,
    prev: Option<&FileState>,
    finished: bool,
    r: &mut FileResult,
) -> std::io::Result<()> {
    let source = o.source;
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let len = meta.len();
    let resume = match prev {
        Some(p) if p.offset <= len && state::head_hash(&mut file, p.offset)? == p.head => Some(p),
        _ => None,
    };
    if let Some(p) = resume
        && p.offset == len
    {
        r.unchanged = true;
        return Ok(());
    }
    let start = resume.map_or(0, |p| p.offset);
    let mut lines = LineCounter::default();
    let mut cx = resume.and_then(|p| p.codex.clone()).unwrap_or_default();
    file.seek(SeekFrom::Start(start))?;
    let mut offset = start;
    let mut read_to = start;
    let mut cache = CtxCache::new(o.max_tokens);
    let mut pending: Vec<Pending> = Vec::new();
    let inline_sidechains = source == Source::ClaudeCode && !is_subagent_file(path);
    // Lines are cut out of a large buffer in place (no copy per line); a line longer than the buffer grows it.
    let mut buf = vec![0u8; 256 << 10];
    let (mut filled, mut eof) = (0usize, false);
    loop {
        if !eof && filled < buf.len() {
            let got = file.read(&mut buf[filled..])?;
            eof = got == 0;
            filled += got;
            read_to += got as u64;
        }
        let mut pos = 0;
        loop {
            // The next line worth reading. Claude Code lines can only matter if they name a `usage`: search
            // the whole block for that and only count the lines in between.
            let (start, end) = match source {
                Source::ClaudeCode => {
                    let Some(hit) = claude::usage_finder().find(&buf[pos..filled]).map(|k| pos + k) else {
                        // Nothing here: skip the complete lines, keep a partial last one for the next read.
                        if let Some(last) = memchr::memrchr(b'\n', &buf[pos..filled]) {
                            pos += last + 1;
                        }
                        break;
                    };
                    let start = memchr::memrchr(b'\n', &buf[pos..hit]).map_or(pos, |k| pos + k + 1);
                    pos = start;
                    match memchr::memchr(b'\n', &buf[hit..filled]) {
                        Some(k) => (start, hit + k),
                        None => break,
                    }
                }
                Source::Codex => match memchr::memchr(b'\n', &buf[pos..filled]) {
                    Some(k) => (pos, pos + k),
                    None => break,
                },
            };
            let before = r.found.len();
            let at = offset + start as u64;
            if let LineOutcome::Malformed(why) = read_one(source, &buf[start..end], &mut cx, &mut cache, &mut r.found) {
                r.malformed += 1;
                let n = lines.line_at(path, at);
                r.warnings.push(format!("{}:{n}: malformed line skipped ({why})", path.display()));
            }
            if r.found.len() > before {
                found_at(&mut r.found[before..], at);
                if source == Source::ClaudeCode {
                    note_pending(&mut pending, &r.found, before, inline_sidechains);
                }
            }
            pos = end + 1;
        }
        offset += pos as u64;
        buf.copy_within(pos..filled, 0);
        filled -= pos;
        if eof {
            break;
        }
        if filled == buf.len() {
            let bigger = buf.len() * 2;
            buf.resize(bigger, 0);
        }
    }
    // Complete: nothing was written for a while (and nothing while reading), or the writer said so — unless
    // the file ends with a line still being written (`filled > 0`): a hook can run while the last copy of the
    // turn's last message is half on disk, and taking the hook's word then would import the previous, smaller
    // copy for good. That file's last requests stay held, as without the hook (the next import, or the idle
    // rule, takes them).
    let idle = read_to == len
        && meta.modified().ok().and_then(|m| o.now.duration_since(m).ok()).is_some_and(|d| d >= IDLE_COMPLETE);
    let complete = idle || o.all_finished || (finished && filled == 0);
    if filled > 0 && complete {
        // A last line without its newline in a file nobody writes any more: a crash mid-write, or a writer that
        // will still add just the newline. Read it (a complete object is imported; read again later, it is found
        // in the log), but keep the offset, and the Codex reader's state, at its start.
        let at_start = (source == Source::Codex).then(|| cx.clone());
        let before = r.found.len();
        let outcome = read_one(source, &buf[..filled], &mut cx, &mut cache, &mut r.found);
        found_at(&mut r.found[before..], offset);
        if let LineOutcome::Malformed(why) = outcome {
            r.malformed += 1;
            let n = lines.line_at(path, offset);
            r.warnings.push(format!("{}:{n}: incomplete last line skipped ({why})", path.display()));
        }
        if let Some(c) = at_start {
            cx = c;
        }
    }
    if !complete {
        r.held = pending.iter().map(|p| p.key).collect();
        // Only a tail that may be a request counts: a half-written tool result or progress line holds none.
        let tail = &buf[..filled];
        r.unfinished = match source {
            Source::ClaudeCode => claude::usage_finder().find(tail).is_some(),
            Source::Codex => memchr::memmem::find(tail, b"\"token_count\"").is_some(),
        };
    }
    file.seek(SeekFrom::Start(0))?;
    let head = state::head_hash(&mut file, offset)?;
    let codex = (source == Source::Codex).then_some(cx);
    r.state = Some(FileState { offset, head, codex });
    Ok(())
}

/// Mark requests as read from the line starting at byte `at` of their file.
fn found_at(found: &mut [Found], at: u64) {
    for f in found {
        f.at = at;
    }
}

/// Line numbers for warnings, counted only when one is needed (counting every line of every file costs more
/// than the rare warning): the file has `n` newlines before byte `at`.
#[derive(Default)]
struct LineCounter {
    at: u64,
    n: u64,
}

impl LineCounter {
    /// The line number (from 1) of the line starting at byte `pos` of `path`.
    fn line_at(&mut self, path: &Path, pos: u64) -> u64 {
        if pos < self.at {
            *self = LineCounter::default();
        }
        if let Ok(mut f) = File::open(path)
            && f.seek(SeekFrom::Start(self.at)).is_ok()
        {
            let mut part = f.take(pos - self.at);
            let mut buf = vec![0u8; 64 << 10];
            while let Ok(got) = part.read(&mut buf)
                && got > 0
            {
                self.n += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
            }
            self.at = pos;
        }
        self.n + 1
    }
}

fn read_one(
    source: Source,
    line: &[u8],
    cx: &mut codex::Context,
    cache: &mut CtxCache,
    out: &mut Vec<Found>,
) -> LineOutcome {
    let mut line = line;
    while let [rest @ .., b'\r'] = line {
        line = rest;
    }
    if line.iter().all(u8::is_ascii_whitespace) {
        return LineOutcome::Skipped;
    }
    match source {
        Source::ClaudeCode => claude::read_line(line, cache, out),
        Source::Codex => codex::read_line(line, cx, cache, out),
    }
}

/// True when `a` is the better copy of a request than `b`: more tokens, then earlier.
fn better(a: &Found, b: &Found) -> bool {
    let (ta, tb) = (a.tokens.total(), b.tokens.total());
    ta > tb || (ta == tb && a.ts < b.ts)
}

/// Keep the best copy of each request, at the place of its first copy.
fn dedup(found: &mut Vec<Found>) {
    let mut first: HashMap<u128, usize> = HashMap::with_capacity(found.len());
    let mut drop = vec![false; found.len()];
    for i in 0..found.len() {
        let tail = crate::id::hash_tail(found[i].hash);
        match first.get(&tail) {
            None => {
                first.insert(tail, i);
            }
            Some(&j) => {
                drop[i] = true;
                if better(&found[i], &found[j]) {
                    found.swap(i, j);
                }
            }
        }
    }
    let mut i = 0;
    found.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}

/// Read the ids' hash tails of every record in the log (the file is read under the caller's lock).
fn log_tails(file: &mut File) -> std::io::Result<HashSet<u128>> {
    file.seek(SeekFrom::Start(0))?;
    let mut set = HashSet::new();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::with_capacity(1024);
    let finder = memchr::memmem::Finder::new(b"\"id\":\"");
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        if let Some(i) = finder.find(&buf)
            && let Some(id) = buf.get(i + 6..i + 6 + 36)
            && let Ok(id) = std::str::from_utf8(id)
            && let Some(t) = crate::id::id_tail(id)
        {
            set.insert(t);
        }
    }
    Ok(set)
}

/// The last component of a working directory (`/home/a/proj` and `C:\Users\a\proj` both give `proj`).
pub fn project_of(cwd: &str) -> Option<&str> {
    cwd.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next().filter(|s| !s.is_empty())
}

/// Import `files` into the log at `log`. `sink` gets the JSON line of every record added (or that would be,
/// with `dry_run`), in the order they are appended.
///
/// The log stays locked from reading its ids to the last append, so a concurrent import or `tt-log` cannot slip
/// a duplicate in between. Records go out as they are found, in writes of about 256 KiB of whole lines
/// (memory stays flat however large the transcripts are); an import that dies midway leaves whole records
/// only, and the next one adds the rest.
pub fn import(
    source: Source,
    files: &[PathBuf],
    log: &Path,
    config: &Config,
    opts: &Options,
    sink: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<Report> {
    let state_path = state::path_for(log);
    let mut locked = if opts.dry_run { None } else { Some(crate::log::LockedLog::open(log)?) };
    let watch = match &mut locked {
        Some(l) if opts.alerts => crate::enforce::watch(l, config),
        _ => None,
    };
    // Loaded under the log lock: a concurrent import (two hooks at once) saves its offsets before this one reads
    // them.
    let mut st = State::load(&state_path);
    let log_len = match &locked {
        Some(l) => l.len()?,
        None => std::fs::metadata(log).map(|m| m.len()).unwrap_or(0),
    };
    if log_len < st.log_len {
        // The log was replaced or truncated: what the state says was imported may not be in it any more.
        st.files.clear();
    }
    // Requests already counted: those in the log, then every one added by this import.
    let mut seen = match &mut locked {
        Some(l) => log_tails(l.file()).map_err(|e| Error::io(log.display(), e))?,
        None => match File::open(log) {
            Ok(mut f) => log_tails(&mut f).map_err(|e| Error::io(log.display(), e))?,
            Err(_) => HashSet::new(),
        },
    };
    let mut report = Report { files: files.len(), ..Report::default() };
    let builder = Builder {
        source,
        agent: opts.agent.clone().unwrap_or_else(|| source.name().to_string()),
        host: crate::machine::host(),
        user: crate::machine::user(),
        config,
    };
    let mut text = String::with_capacity(APPEND_CHUNK + 4096);
    let mut warnings = Vec::new();
    let mut results: Vec<(String, Option<FileState>)> = Vec::with_capacity(files.len());

    let canonical = |v: &[PathBuf]| -> HashSet<PathBuf> {
        v.iter().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())).collect()
    };
    let (finished, ended) = (canonical(&opts.finished.files), canonical(&opts.finished.sessions));
    let ro = ReadOpts {
        source,
        finished: &finished,
        ended: &ended,
        now: SystemTime::now(),
        max_tokens: config.max_tokens,
        all_finished: opts.all_finished,
    };
    let groups = groups(source, files);
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        n => n,
    }
    .min(groups.len().max(1));
    let next = AtomicUsize::new(0);
    let mut outcome: Result<()> = Ok(());
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::sync_channel::<GroupResult>(threads * 2);
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, st, builder, groups, ro) = (&next, &st, &builder, &groups, &ro);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(group) = groups.get(i) else { break };
                    let paths: Vec<&PathBuf> = group.iter().map(|&f| &files[f]).collect();
                    let r = read_group(ro, builder, i, &paths, st);
                    if tx.send(r).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results are taken in file order (whatever order the threads finish in), so which copy of a request
        // found in two groups is kept does not depend on timing.
        let mut pending: BTreeMap<usize, GroupResult> = BTreeMap::new();
        let mut want = 0;
        for r in rx {
            pending.insert(r.index, r);
            while let Some(r) = pending.remove(&want) {
                want += 1;
                if outcome.is_err() {
                    continue;
                }
                report.duplicates += r.duplicates;
                report.malformed += r.malformed;
                report.unchanged += r.unchanged;
                report.held += r.held;
                report.unfinished += r.unfinished;
                warnings.extend(r.warnings);
                for b in r.built {
                    if !seen.insert(b.tail) {
                        report.duplicates += 1;
                        continue;
                    }
                    text.push_str(&b.line);
                    text.push('\n');
                    report.added += 1;
                    report.tokens += b.tokens;
                    match b.cost {
                        Some(c) => report.cost += c,
                        None => *report.unpriced.entry(b.model).or_insert(0) += 1,
                    }
                    outcome = sink(&b.line);
                    if outcome.is_err() {
                        break;
                    }
                    if text.len() >= APPEND_CHUNK {
                        if let Some(l) = &mut locked {
                            outcome = l.append(&text);
                        }
                        text.clear();
                        if outcome.is_err() {
                            break;
                        }
                    }
                }
                results.extend(r.states);
            }
        }
    });
    outcome?;
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - MAX_WARNINGS;
        warnings.truncate(MAX_WARNINGS);
        warnings.push(format!("… and {more} more warnings"));
    }
    report.warnings = warnings;
    if let Some(mut l) = locked {
        l.append(&text)?;
        for (key, fs) in results {
            match fs {
                Some(fs) => st.files.insert(key, fs),
                None => st.files.remove(&key),
            };
        }
        st.log_len = l.len()?;
        st.save(&state_path)?;
        if let Some(w) = watch {
            report.alerts = w.alerts(&mut l, config);
        }
    }
    Ok(report)
}

/// Read one group of files ([`groups`]), keep the best copy of each request across them, and build the records
/// (priced and formatted here, in the reading threads; the main thread only drops requests already counted and
/// writes).
///
/// Holding back is decided for the whole group, like the choice of the best copy: a request one file holds back
/// (its copy there may still grow) is left out of every file of the group — the main thread's next request may
/// have completed the parent's `progress` copy while the subagent's own file is still writing the final one —
/// and every file that has a copy of it keeps its offset at or before that copy, so the next import sees all
/// the copies again.
fn read_group(o: &ReadOpts, builder: &Builder, index: usize, files: &[&PathBuf], st: &State) -> GroupResult {
    let mut g = GroupResult {
        index,
        states: Vec::new(),
        built: Vec::new(),
        duplicates: 0,
        malformed: 0,
        warnings: Vec::new(),
        unchanged: 0,
        held: 0,
        unfinished: 0,
    };
    let ended = files.iter().any(|p| o.ended.contains(p.as_path()));
    let mut read: Vec<(&PathBuf, FileResult)> = files
        .iter()
        .map(|&p| (p, read_file(o, p, st.files.get(&p.display().to_string()), ended || o.finished.contains(p))))
        .collect();
    let held: HashSet<u128> = read.iter().flat_map(|(_, r)| r.held.iter().copied()).collect();
    g.held = held.len() as u64;
    g.unfinished = read.iter().filter(|(_, r)| r.unfinished && r.held.is_empty()).count() as u64;
    let mut found = Vec::new();
    for (path, r) in &mut read {
        if !held.is_empty() {
            let mut back: Option<u64> = None;
            r.found.retain(|f| {
                let keep = !held.contains(&crate::id::hash_tail(f.hash));
                if !keep {
                    back = Some(back.map_or(f.at, |b| b.min(f.at)));
                }
                keep
            });
            if let (Some(back), Some(s)) = (back, &mut r.state)
                && back < s.offset
            {
                // Codex files hold nothing back, so there is no reader state to rewind with the offset.
                match File::open(path.as_path()).and_then(|mut f| state::head_hash(&mut f, back)) {
                    Ok(head) => *s = FileState { offset: back, head, codex: None },
                    Err(e) => {
                        // The file vanished since it was read: its offset stays where it was.
                        r.warnings.push(format!("{} (read again next time)", Error::io(path.display(), e)));
                        r.state = st.files.get(&r.key).cloned();
                    }
                }
            }
        }
        if found.is_empty() {
            found = std::mem::take(&mut r.found);
        } else {
            found.append(&mut r.found);
        }
    }
    for (_, r) in read {
        g.malformed += r.malformed;
        g.warnings.extend(r.warnings);
        g.unchanged += usize::from(r.unchanged);
        g.states.push((r.key, r.state));
    }
    // One usage per request: a streamed message is written several times.
    let before = found.len();
    dedup(&mut found);
    g.duplicates = (before - found.len()) as u64;
    g.built = builder.build(found, &mut g.malformed, &mut g.warnings);
    g
}

/// About how many bytes of records go out in one write.
const APPEND_CHUNK: usize = 256 << 10;

/// A record ready to append: its line and what the summary needs.
struct Built {
    tail: u128,
    line: String,
    tokens: u64,
    cost: Option<rust_decimal::Decimal>,
    /// The model (kept for the unpriced count).
    model: String,
}

/// Turns found requests into priced record lines (shared by the reading threads).
struct Builder<'c> {
    source: Source,
    agent: String,
    host: Option<String>,
    user: Option<String>,
    config: &'c Config,
}

/// What a [`Ctx`] gives every record made in it, worked out once.
struct Prepared<'c> {
    ctx: Arc<Ctx>,
    model_ok: bool,
    session: Option<String>,
    project: Option<String>,
    branch: Option<String>,
    entry: Option<&'c crate::price::ModelEntry>,
    /// The record's JSON between `ts` and the token counts: agent, model, provider.
    head: String,
    /// The record's JSON between the token counts and the cost: session … source.
    tail: String,
}

impl<'c> Builder<'c> {
    fn prepare(&self, ctx: &Arc<Ctx>) -> Prepared<'c> {
        let valid = |field: &str, v: Option<&str>| {
            v.filter(|v| crate::record::check_name(field, v).is_ok()).map(str::to_string)
        };
        let entry = self.config.prices.resolve(&ctx.model);
        let mut p = Prepared {
            ctx: ctx.clone(),
            model_ok: crate::record::check_name("model", &ctx.model).is_ok(),
            session: valid("session", ctx.session.as_deref()),
            project: valid("project", ctx.cwd.as_deref().and_then(project_of)),
            branch: valid("branch", ctx.branch.as_deref()),
            entry,
            head: String::new(),
            tail: String::new(),
        };
        // The parts of the line every record of this context shares, in `Record::to_json`'s field order (a
        // debug-build check compares whole lines with it).
        let field = |s: &mut String, k: &str, v: &str| {
            s.push_str(",\"");
            s.push_str(k);
            s.push_str("\":");
            crate::record::push_json_string(s, v);
        };
        field(&mut p.head, "agent", &self.agent);
        field(&mut p.head, "model", &ctx.model);
        if let Some(pr) = entry.and_then(|e| e.provider.as_deref()) {
            field(&mut p.head, "provider", pr);
        }
        for (k, v) in [
            ("session", &p.session),
            ("project", &p.project),
            ("branch", &p.branch),
            ("host", &self.host),
            ("user", &self.user),
        ] {
            if let Some(v) = v {
                field(&mut p.tail, k, v);
            }
        }
        if ctx.sidechain {
            p.tail.push_str(",\"tags\":{\"sidechain\":\"true\"}");
        }
        field(&mut p.tail, "source", self.source.name());
        p
    }

    fn build(&self, found: Vec<Found>, malformed: &mut u64, warnings: &mut Vec<String>) -> Vec<Built> {
        use std::fmt::Write as _;
        let mut out = Vec::with_capacity(found.len());
        let mut prep: Option<Prepared> = None;
        for f in found {
            let p = match &prep {
                Some(p) if Arc::ptr_eq(&p.ctx, &f.ctx) => p,
                _ => prep.insert(self.prepare(&f.ctx)),
            };
            let id = crate::id::derived_id_from_hash(f.ts, f.hash);
            if !p.model_ok {
                *malformed += 1;
                warnings.push(format!("request {id}: unusable model name {:?} (skipped)", f.ctx.model));
                continue;
            }
            let its = f.iterations.as_deref().unwrap_or_default();
            let priced = p.entry.and_then(|e| {
                crate::provider::price_request(&self.config.prices, e, f.ts, &f.tokens, its, &f.billing)
                    .map_err(|why| warnings.push(format!("request {id}: {why}: imported unpriced")))
                    .ok()
            });
            // The line is written here rather than through `Record::to_json` (the same bytes: checked in debug
            // builds) because building a `Record` per request was a fifth of the import's own time.
            let t = &f.tokens;
            let mut line = String::with_capacity(p.head.len() + p.tail.len() + 220);
            line.push_str("{\"v\":1,\"id\":\"");
            line.push_str(&id);
            line.push_str("\",\"ts\":\"");
            line.push_str(&crate::record::format_ts(f.ts));
            line.push('"');
            line.push_str(&p.head);
            let _ = write!(line, ",\"input_tokens\":{},\"output_tokens\":{}", t.input, t.output);
            for (k, n) in [
                ("cache_read_tokens", t.cache_read),
                ("cache_write_tokens", t.cache_write),
                ("cache_write_1h_tokens", t.cache_write_1h),
            ] {
                if n != 0 {
                    let _ = write!(line, ",\"{k}\":{n}");
                }
            }
            if let Some(n) = f.reasoning {
                let _ = write!(line, ",\"reasoning_tokens\":{n}");
            }
            let b = &f.billing;
            if b.service != crate::record::Service::Standard {
                let _ = write!(line, ",\"service_tier\":\"{}\"", b.service.as_str());
            }
            if b.fast {
                line.push_str(",\"speed\":\"fast\"");
            }
            for (k, n) in b.tool_calls() {
                if n != 0 {
                    let _ = write!(line, ",\"{k}\":{n}");
                }
            }
            line.push_str(&p.tail);
            if let Some(pr) = &priced {
                let _ = write!(line, ",\"cost_usd\":{}", crate::money::canonical(pr.cost));
                line.push_str(",\"price\":");
                crate::record::push_json_string(&mut line, &pr.label);
            }
            line.push('}');
            #[cfg(debug_assertions)]
            {
                let mut r =
                    crate::record::Record::new(id.clone(), f.ts, self.agent.clone(), f.ctx.model.clone(), f.tokens);
                r.reasoning_tokens = f.reasoning;
                r.billing = f.billing;
                r.session = p.session.clone();
                r.project = p.project.clone();
                r.branch = p.branch.clone();
                r.host = self.host.clone();
                r.user = self.user.clone();
                r.source = Some(self.source.name().to_string());
                if f.ctx.sidechain {
                    r.tags.insert("sidechain".to_string(), "true".to_string());
                }
                r.provider = p.entry.and_then(|e| e.provider.clone());
                if let Some(pr) = &priced {
                    r.cost_usd = Some(pr.cost);
                    r.price = Some(pr.label.clone());
                }
                debug_assert_eq!(line, r.to_json());
            }
            out.push(Built {
                tail: crate::id::hash_tail(f.hash),
                line,
                tokens: t.total(),
                cost: priced.map(|pr| pr.cost),
                model: if p.entry.is_none() { f.ctx.model.clone() } else { String::new() },
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_and_its_subagents_files_are_one_group() {
        let files: Vec<PathBuf> = [
            "/p/a.jsonl",
            "/p/a/subagents/x.jsonl",
            "/p/a/subagents/x/subagents/y.jsonl",
            "/p/a/subagents/x.jsonl.bak/z.jsonl",
            "/p/b/subagents/orphan.jsonl",
            "/p/c.jsonl",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(groups(Source::ClaudeCode, &files), vec![vec![0, 1, 2], vec![3], vec![4], vec![5]]);
        assert_eq!(groups(Source::Codex, &files[..2]), vec![vec![0], vec![1]]);
    }

    #[test]
    fn projects_come_from_the_last_cwd_component() {
        assert_eq!(project_of("/home/a/proj"), Some("proj"));
        assert_eq!(project_of("/home/a/proj/"), Some("proj"));
        assert_eq!(project_of("C:\\Users\\a\\CLEANROOM"), Some("CLEANROOM"));
        assert_eq!(project_of("/"), None);
    }
}

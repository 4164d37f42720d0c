//! Importing agent transcripts (Claude Code, Codex CLI) into the usage log.
//!
//! Flow: [`discover()`] the transcript files → read each one from where the last import stopped ([`state`]),
//! two groups of files at a time (a Claude Code session with its subagents' files is one group, see `groups`)
//! → hold back, in the whole group, a request at a file's end that may still be streaming ([`IDLE_COMPLETE`])
//! → keep one usage per source request within the group (the line with the most tokens: streaming writes a
//! message several times) → skip requests whose id is already in the log (a file's ids are read once; a ledger
//! is asked about the requests found, never read whole) → price → append the new records under the log lock →
//! save the new offsets.
//!
//! The parts, one file each:
//! * this file: the pipeline's public face — [`import()`], its [`Options`] and [`Report`] — and what the format
//!   readers hand it: [`Found`] requests made in a [`Ctx`] (shared through a [`CtxCache`]), a [`LineOutcome`] per
//!   line, source identities hashed by [`key_hash`];
//! * `discover.rs`: finding the transcript files ([`discover()`], [`default_dirs`]);
//! * `read.rs`: reading groups of files from their saved offsets on the import's threads, the completeness rule
//!   that holds a request back ([`IDLE_COMPLETE`]), and keeping one copy of each request (within a group, and
//!   against the ids already in the log);
//! * `build.rs`: turning the requests kept into priced record lines;
//! * [`claude`] and [`codex`]: each format's line reader; [`state`]: the saved offsets; `lenient.rs`: serde field
//!   types that tolerate surprises.
//!
//! Invariants:
//! * Only complete requests are appended. Records are never amended, so a streaming message imported early
//!   would keep its first, smallest copy forever (and a second machine importing the finished file would keep
//!   another); a request is complete once the next request of its conversation follows it (an inline
//!   sidechain request: the main thread's next one, parallel subagents interleave), its file is idle, or the
//!   hook said so and the file does not end with a half-written line (see `read_into`); a request one file of
//!   a group holds back is held back in all of them (see `read_group`; both in `read.rs`).
//! * A saved offset never moves past a last line without its newline: it is still being written.
//! * A record's id is derived from the source's own identity of the request (`message.id` + `requestId`;
//!   Codex: root session + cumulative totals) with [`crate::id::derived_id_from_hash`], so importing the same
//!   transcript twice, on two machines, or through a merged bundle never counts a request twice. Dedup compares
//!   the id's hash bits only ([`crate::id::id_tail`]), not its timestamp, because streamed and replayed copies
//!   of one request carry different times.
//! * The offsets in the state file are a cache: losing them costs a re-read, never a duplicate.
//! * A malformed line is reported (file:line) and skipped; it never aborts an import.

mod build;
pub mod claude;
pub mod codex;
mod discover;
pub mod hook;
mod lenient;
mod read;
pub mod state;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::id::IdKey;
use crate::money;
use crate::record::Tokens;
use build::{Builder, Built};
use read::{GroupResult, ReadOpts, Tally, groups, log_tails, read_group};
use state::{FileState, State};

// What moved into the parts keeps its public path (`tt_core::import::discover`, `…::IDLE_COMPLETE`, …).
pub use build::project_of;
pub use discover::{Discovery, default_dirs, discover};
pub use read::IDLE_COMPLETE;

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

/// How far an import is, as its progress callback hears it about ten times a second while files are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Done {
    /// Usage lines read so far (each copy of a streamed request counts).
    pub requests: u64,
    /// Bytes of transcripts read so far.
    pub bytes: u64,
    /// The bytes there are to read: each file from where the last import stopped (a file found rewritten is
    /// read from its start, so `bytes` may pass it).
    pub of: u64,
}

/// How often an import tells its progress callback how far it is.
const TICK: Duration = Duration::from_millis(100);

/// Malformed-line warnings beyond this many are only counted.
pub const MAX_WARNINGS: usize = 20;

impl Report {
    /// The one line an import ends with: files read, records added (tokens, dollars, unpriced), duplicates and
    /// malformed lines skipped, and what waits for the next run (`dry_run`: "would add").
    pub fn summary(&self, source: Source, dry_run: bool) -> String {
        let unpriced: u64 = self.unpriced.values().sum();
        let unpriced = if unpriced > 0 { format!(", {unpriced} unpriced") } else { String::new() };
        let verb = if dry_run { "would add" } else { "added" };
        let unchanged = if self.unchanged > 0 { format!(" ({} unchanged)", self.unchanged) } else { String::new() };
        // What waits for the next import: requests that may still be streaming, and last lines still being
        // written that may hold one (a file just copied looks like one being written too: see IDLE_COMPLETE).
        let mut waiting = Vec::new();
        if self.held > 0 {
            waiting.push(format!("held back {} still being written", money::plural(self.held, "request")));
        }
        if self.unfinished > 0 {
            let lines = if self.unfinished == 1 {
                "1 last line without its newline yet".to_string()
            } else {
                format!("{} last lines without their newline yet", money::thousands(self.unfinished))
            };
            waiting.push(lines);
        }
        let held =
            if waiting.is_empty() { String::new() } else { format!("; {} (read again next time)", waiting.join("; ")) };
        format!(
            "{}: {} read{unchanged}, {verb} {} ({} tokens, ${}{unpriced}), skipped {} and {}{held}",
            source.name(),
            money::plural(self.files as u64, "file"),
            money::plural(self.added, "record"),
            money::thousands(self.tokens),
            money::fixed(self.cost, 4),
            money::plural(self.duplicates, "duplicate"),
            money::plural(self.malformed, "malformed line"),
        )
    }

    /// One warning per unknown model, with how many of its records were logged unpriced and what to do.
    pub fn unpriced_warnings(&self) -> Vec<String> {
        self.unpriced
            .iter()
            .map(|(model, n)| {
                format!(
                    "unknown model {model:?}: {} logged unpriced (add it to the price table; tt-price --list shows \
                     it)",
                    money::plural(*n, "record")
                )
            })
            .collect()
    }
}

/// What `tt-log --import SOURCE …` imports: agent transcripts (`claude-code`, `codex`: `Some`), or tt logs and
/// bundles (`None`: `source` is the first file). A word that is neither a source nor a file (`--import claude`)
/// is refused naming both, rather than reported as a missing file.
pub fn target(source: &str) -> Result<Option<Source>> {
    if let Some(s) = Source::parse(source) {
        return Ok(Some(s));
    }
    if source != "-" && std::fs::symlink_metadata(source).is_err() && !source.contains(['/', '.']) {
        return Err(Error::usage(format!(
            "--import {source}: no such file, and not a transcript source (claude-code, codex)"
        )));
    }
    Ok(None)
}

/// `tt-log`'s flags that describe one hand-logged record: imported records carry their own numbers and
/// context, so each is refused with `--import` rather than silently ignored. In the order they are checked.
pub const RECORD_ONLY_FLAGS: &[&str] = &[
    "--model",
    "--input",
    "--output",
    "--cache-read",
    "--cache-write",
    "--cache-write-1h",
    "--reasoning",
    "--session",
    "--task",
    "--project",
    "--provider",
    "--branch",
    "--commit",
    "--tag",
    "--note",
    "--duration",
    "--ts",
    "--source",
    "--enforce",
    "--settle",
];

/// The flags a merge of tt logs and bundles has no use for: their records are merged exactly as they are, so
/// nothing re-checks (`--strict`), re-labels (`--agent`) or re-reads git, and nothing is streaming.
const MERGE_IGNORES: &[&str] = &["--strict", "--no-git", "--agent", "--finished"];

/// Refuse the `tt-log` flags that make no sense with `--import SOURCE` (see [`target`]): `given(flag)` says
/// whether the user gave `flag` (spelled as typed, `--model`) on the command line. The first refused flag is
/// the error: a flag silently ignored is a wrong answer the user cannot see.
pub fn refuse_flags(source: &str, given: &dyn Fn(&str) -> bool) -> Result<()> {
    if let Some(flag) = RECORD_ONLY_FLAGS.iter().find(|f| given(f)) {
        return Err(Error::usage(format!("{flag} describes one logged record; it cannot be used with --import")));
    }
    if Source::parse(source).is_none() {
        if let Some(flag) = MERGE_IGNORES.iter().find(|f| given(f)) {
            return Err(Error::usage(format!(
                "{flag} does not apply to --import of tt logs and bundles: their records are merged as they are"
            )));
        }
        return Ok(());
    }
    // Transcripts carry their own branch (Claude Code's gitBranch, Codex's session_meta): tt never reads the
    // current repository for them, so --no-git would silently mean nothing.
    if given("--no-git") {
        return Err(Error::usage(
            "--no-git does not apply to --import of transcripts: the branch comes from the transcript itself",
        ));
    }
    // A transcript import logs a request of an unknown model unpriced, with a warning per model: refusing it
    // would refuse a whole transcript for one line, so --strict is refused rather than ignored.
    if given("--strict") {
        return Err(Error::usage(
            "--strict refuses one logged record of an unknown model; it cannot be used with --import",
        ));
    }
    Ok(())
}

/// Import `files` into the log at `log`. `sink` gets the JSON line of every record added (or that would be,
/// with `dry_run`), in the order they are appended.
///
/// The log stays locked from the first read of its ids to the last append, so a concurrent import or `tt-log`
/// cannot slip a duplicate in between. Records go out as they are found, in writes of about 256 KiB of whole
/// lines (memory stays flat however large the transcripts are); an import that dies midway leaves whole
/// records only, and the next one adds the rest.
///
/// `progress`, when given, hears how far the reading is ([`Done`]) about ten times a second; finding how much
/// there is to read costs a look at every file's size, which an import without it does not take.
pub fn import(
    source: Source,
    files: &[PathBuf],
    log: &Path,
    config: &Config,
    opts: &Options,
    sink: &mut dyn FnMut(&str) -> Result<()>,
    mut progress: Option<&mut dyn FnMut(Done)>,
) -> Result<Report> {
    let at = crate::store::Log::at(log)?;
    let state_path = at.side_file(state::SUFFIX);
    // Taking the lock may move a torn last line aside: its warning is the report's first.
    let mut opened = Vec::new();
    let mut locked = if opts.dry_run { None } else { Some(at.lock()?.warn_into(&mut opened)) };
    let watch = match locked.as_mut().and_then(crate::store::Writer::file) {
        Some(l) if opts.alerts => crate::enforce::watch(l, config),
        _ => None,
    };
    // Loaded under the log lock: a concurrent import (two hooks at once) saves its offsets before this one reads
    // them.
    let mut st = State::load(&state_path);
    let log_len = match &mut locked {
        Some(l) => l.mark()?,
        None => match &at {
            crate::store::Log::File(_) => std::fs::metadata(log).map(|m| m.len()).unwrap_or(0),
            // A dry run does not connect for this: the offsets are only a cache.
            crate::store::Log::Ledger(_) => st.log_len,
        },
    };
    if log_len < st.log_len {
        // The log was replaced or truncated: what the state says was imported may not be in it any more.
        st.files.clear();
    }
    let (seen, holds) = counted(&mut locked, &at)?;
    let mut adding = Adding {
        seen,
        holds,
        pending: Vec::new(),
        pending_len: 0,
        text: String::with_capacity(APPEND_CHUNK + 4096),
        report: Report { files: files.len(), ..Report::default() },
        warnings: opened,
        results: Vec::with_capacity(files.len()),
    };
    let builder = Builder {
        source,
        agent: opts.agent.clone().unwrap_or_else(|| source.name().to_string()),
        host: crate::machine::host(),
        user: crate::machine::user(),
        config,
    };
    let canonical = |v: &[PathBuf]| -> HashSet<PathBuf> {
        v.iter().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())).collect()
    };
    let (finished, ended) = (canonical(&opts.finished.files), canonical(&opts.finished.sessions));
    let tally = Tally::default();
    let ro = ReadOpts {
        source,
        finished: &finished,
        ended: &ended,
        now: SystemTime::now(),
        max_tokens: config.max_tokens,
        all_finished: opts.all_finished,
        tally: &tally,
    };
    let of = if progress.is_some() { to_read(files, &st) } else { 0 };
    let mut tick = || {
        if let Some(p) = progress.as_mut() {
            let (requests, bytes) = tally.now();
            p(Done { requests, bytes, of });
        }
    };
    read_groups(&ro, &builder, files, &st, opts.threads, |r| adding.group(r, &mut locked, sink), &mut tick)?;
    adding.count(&mut locked, sink)?;
    let Adding { text, mut report, warnings, results, .. } = adding;
    report.warnings = capped(warnings);
    if let Some(mut l) = locked {
        // A ledger's level alerts: the spend of the windows the new records count in, before they are added.
        let seen = match &mut l {
            crate::store::Writer::Ledger(ledger) if opts.alerts && !text.is_empty() => {
                crate::enforce::ledger::watch_lines(ledger, config, &text, chrono::Utc::now())
            }
            _ => None,
        };
        if !text.is_empty() {
            l.append(&text)?;
        }
        if let Some(seen) = seen {
            report.alerts = seen.alerts_of(config, &text);
        }
        for (key, fs) in results {
            match fs {
                Some(fs) => st.files.insert(key, fs),
                None => st.files.remove(&key),
            };
        }
        st.log_len = l.mark()?;
        st.save(&state_path)?;
        if let (Some(w), Some(l)) = (watch, l.file()) {
            report.alerts = w.alerts(l, config);
        }
    }
    Ok(report)
}

/// The bytes an import has to read: each file from its saved offset (from the start when the file is now
/// shorter; one gone since it was found counts nothing).
fn to_read(files: &[PathBuf], st: &State) -> u64 {
    files
        .iter()
        .filter_map(|f| {
            let len = std::fs::metadata(f).ok()?.len();
            let from = st.files.get(&f.display().to_string()).map_or(0, |s| s.offset);
            Some(if from <= len { len - from } else { len })
        })
        .sum()
}

/// The requests the log is known to hold at the start (by their ids' hashed tails), and how to learn the rest.
/// A file's are all read here, under the lock when there is one: it is local, and one pass is the cheapest
/// way. A ledger's are not read at all: it is asked about the requests found, as they are counted ([`Holds`]).
fn counted(locked: &mut Option<crate::store::Writer>, at: &crate::store::Log) -> Result<(HashSet<u128>, Holds)> {
    match (locked, at) {
        (Some(crate::store::Writer::File(l)), _) => {
            let name = l.path().display().to_string();
            Ok((log_tails(l.file()).map_err(|e| Error::io(name, e))?, Holds::Read))
        }
        (Some(crate::store::Writer::Ledger(_)), _) => Ok((HashSet::new(), Holds::Ask(None))),
        // A dry run takes no lock, so it asks through a connection of its own.
        (None, crate::store::Log::Ledger(t)) => {
            Ok((HashSet::new(), Holds::Ask(Some(Box::new(crate::ledger::Ledger::open(t)?)))))
        }
        (None, crate::store::Log::File(log)) => match File::open(log) {
            Ok(mut f) => Ok((log_tails(&mut f).map_err(|e| Error::io(log.display(), e))?, Holds::Read)),
            Err(_) => Ok((HashSet::new(), Holds::Read)),
        },
    }
}

/// How an import learns which of the requests it found the log already holds.
enum Holds {
    /// All of them were read into [`Adding::seen`] up front (a file log).
    Read,
    /// The ledger is asked about each batch of requests before they are counted (a ledger's ids are not read
    /// whole: a hook adding a few records to a ledger of millions asks about those few). Through the locked
    /// writer, or for a dry run through this connection.
    Ask(Option<Box<crate::ledger::Ledger>>),
}

/// At most [`MAX_WARNINGS`] warnings, then one line saying how many more there were.
fn capped(mut warnings: Vec<String>) -> Vec<String> {
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - MAX_WARNINGS;
        warnings.truncate(MAX_WARNINGS);
        warnings.push(format!("… and {more} more warnings"));
    }
    warnings
}

/// Read the groups of `files` on up to `threads` threads (0: up to 2), handing each group's result to `each`
/// in file order, whatever order the threads finish in. After `each` fails, the rest are read and dropped, and
/// its error is returned. `tick` is called after each group taken and at least every [`TICK`] while the
/// threads read.
fn read_groups(
    ro: &ReadOpts<'_>,
    builder: &Builder<'_>,
    files: &[PathBuf],
    st: &State,
    threads: usize,
    mut each: impl FnMut(GroupResult) -> Result<()>,
    tick: &mut dyn FnMut(),
) -> Result<()> {
    let groups = groups(ro.source, files);
    let threads = match threads {
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
            let (next, groups) = (&next, &groups);
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
        loop {
            match rx.recv_timeout(TICK) {
                Ok(r) => {
                    pending.insert(r.index, r);
                    while let Some(r) = pending.remove(&want) {
                        want += 1;
                        if outcome.is_err() {
                            continue;
                        }
                        outcome = each(r);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            tick();
        }
    });
    outcome
}

/// What an import has taken so far from the groups read, in file order.
struct Adding {
    /// Requests already counted: those known to be in the log, then every one added by this import.
    seen: HashSet<u128>,
    /// How the requests the log holds that `seen` lacks are learned.
    holds: Holds,
    /// Records built but not counted yet, in file order: a ledger is asked about them together.
    pending: Vec<Built>,
    /// Their lines' bytes.
    pending_len: usize,
    /// Record lines not yet appended.
    text: String,
    report: Report,
    warnings: Vec<String>,
    /// Each file's offsets to save (`None`: forget the file).
    results: Vec<(String, Option<FileState>)>,
}

impl Adding {
    /// Take one group's result: its counts and warnings now, its records once about [`APPEND_CHUNK`] bytes of
    /// them wait ([`Adding::count`]).
    fn group(
        &mut self,
        r: GroupResult,
        locked: &mut Option<crate::store::Writer>,
        sink: &mut dyn FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        let report = &mut self.report;
        report.duplicates += r.duplicates;
        report.malformed += r.malformed;
        report.unchanged += r.unchanged;
        report.held += r.held;
        report.unfinished += r.unfinished;
        self.warnings.extend(r.warnings);
        for b in r.built {
            self.pending_len += b.line.len() + 1;
            self.pending.push(b);
            if self.pending_len >= APPEND_CHUNK {
                self.count(locked, sink)?;
            }
        }
        self.results.extend(r.states);
        Ok(())
    }

    /// Count the pending records, in order: a request already counted (in the log, or added before) is a
    /// duplicate; each other one is given to `sink` and appended to `locked` (nothing in a dry run) in writes of
    /// about [`APPEND_CHUNK`] bytes. A ledger is first asked which of them it holds — one lookup for the batch,
    /// under the lock the append is made under, so nothing slips in between.
    fn count(
        &mut self,
        locked: &mut Option<crate::store::Writer>,
        sink: &mut dyn FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        if let Holds::Ask(own) = &mut self.holds {
            let fresh: HashSet<IdKey> =
                self.pending.iter().filter(|b| !self.seen.contains(&b.tail)).map(|b| IdKey::Tail(b.tail)).collect();
            if !fresh.is_empty() {
                let held = match (locked.as_mut(), own) {
                    (Some(w), _) => w.known(&fresh)?,
                    (None, Some(l)) => l.known(&fresh)?,
                    (None, None) => HashSet::new(),
                };
                // Only tails were asked about, so only tails come back.
                self.seen.extend(held.into_iter().filter_map(|k| if let IdKey::Tail(t) = k { Some(t) } else { None }));
            }
        }
        self.pending_len = 0;
        let report = &mut self.report;
        for b in std::mem::take(&mut self.pending) {
            if !self.seen.insert(b.tail) {
                report.duplicates += 1;
                continue;
            }
            self.text.push_str(&b.line);
            self.text.push('\n');
            report.added += 1;
            report.tokens += b.tokens;
            match b.cost {
                Some(c) => report.cost += c,
                None => *report.unpriced.entry(b.model).or_insert(0) += 1,
            }
            sink(&b.line)?;
            if self.text.len() >= APPEND_CHUNK {
                let appended = match locked {
                    Some(l) => l.append(&self.text).map(drop),
                    None => Ok(()),
                };
                self.text.clear();
                appended?;
            }
        }
        Ok(())
    }
}

/// About how many bytes of records go out in one write.
const APPEND_CHUNK: usize = 256 << 10;

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary names every count, in the plural it needs, and what waits for the next import.
    #[test]
    fn summary_line() {
        let mut r =
            Report { files: 3, added: 1, tokens: 12_345, cost: "0.12345".parse().unwrap(), ..Report::default() };
        r.duplicates = 2;
        assert_eq!(
            r.summary(Source::ClaudeCode, false),
            "claude-code: 3 files read, added 1 record (12,345 tokens, $0.1235), skipped 2 duplicates and 0 \
             malformed lines"
        );
        r.unchanged = 2;
        r.malformed = 1;
        r.held = 1;
        r.unfinished = 2;
        r.unpriced.insert("m".into(), 4);
        assert_eq!(
            r.summary(Source::Codex, true),
            "codex: 3 files read (2 unchanged), would add 1 record (12,345 tokens, $0.1235, 4 unpriced), skipped 2 \
             duplicates and 1 malformed line; held back 1 request still being written; 2 last lines without their \
             newline yet (read again next time)"
        );
        r.held = 0;
        r.unfinished = 1;
        assert!(
            r.summary(Source::Codex, false).ends_with("; 1 last line without its newline yet (read again next time)")
        );
        assert_eq!(
            r.unpriced_warnings(),
            ["unknown model \"m\": 4 records logged unpriced (add it to the price table; tt-price --list shows it)"]
        );
    }

    /// A source word is a transcript import; a file, `-` or a path is a merge; a bare word that is neither is
    /// refused naming both.
    #[test]
    fn import_targets() {
        assert_eq!(target("codex").unwrap(), Some(Source::Codex));
        assert_eq!(target("claude-code").unwrap(), Some(Source::ClaudeCode));
        assert_eq!(target("-").unwrap(), None);
        assert_eq!(target("missing.jsonl").unwrap(), None);
        assert_eq!(target("no/such/dir").unwrap(), None);
        assert_eq!(
            target("claude").unwrap_err().to_string(),
            "--import claude: no such file, and not a transcript source (claude-code, codex)"
        );
    }

    /// The first flag of the tables that was given is the refusal, worded for the kind of import.
    #[test]
    fn refused_flags() {
        let refuse = |source: &str, set: &[&str]| {
            refuse_flags(source, &|f| set.contains(&f)).err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert_eq!(refuse("codex", &[]), "");
        assert_eq!(refuse("a.ttb", &["--agent-name"]), "");
        assert_eq!(
            refuse("codex", &["--settle", "--model", "--no-git"]),
            "--model describes one logged record; it cannot be used with --import"
        );
        assert_eq!(
            refuse("claude-code", &["--strict", "--no-git"]),
            "--no-git does not apply to --import of transcripts: the branch comes from the transcript itself"
        );
        assert_eq!(
            refuse("codex", &["--strict", "--agent", "--finished"]),
            "--strict refuses one logged record of an unknown model; it cannot be used with --import"
        );
        assert_eq!(
            refuse("a.ttb", &["--finished", "--agent"]),
            "--agent does not apply to --import of tt logs and bundles: their records are merged as they are"
        );
        assert_eq!(
            refuse("-", &["--finished"]),
            "--finished does not apply to --import of tt logs and bundles: their records are merged as they are"
        );
    }
}

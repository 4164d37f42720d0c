//! Reading transcripts from where the last import stopped, and deciding what of them counts. Files are read in
//! groups (a Claude Code session with its subagents' files, whose requests are copies of one another), one group
//! per task on the import's threads, each file from its saved offset. A request at a file's end that may still
//! be streaming is held back in every file of its group (the completeness rule: [`IDLE_COMPLETE`], the next
//! request, or the hook); of the rest one copy per request is kept, the largest ([`dedup`]), and the log's ids
//! ([`log_tails`]) keep a request already there from being appended again. One file because the rule and the
//! offsets saved with it must agree: a held request moves every offset of its group back to its first copy.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::build::{Builder, Built};
use super::state::{FileState, State};
use super::{CtxCache, Found, LineOutcome, Source, claude, codex, state};
use crate::error::Error;

/// How long a transcript must have been left alone for its last request to count as complete without any
/// other sign. Claude Code writes the copies of a streaming message close together, but it runs tools while a
/// message still streams, and nothing is written while a tool runs: a build or a test suite can keep two copies
/// of one message many minutes apart. Half an hour without a write means the message is finished (or its
/// writer is gone: a crash mid-stream). The hook completes the usual case at once (`Stop`); an import without
/// it (cron) during an active session leaves that session's last request for a later run — nothing is lost.
pub const IDLE_COMPLETE: Duration = Duration::from_secs(30 * 60);

/// What every file of one import is read with.
#[derive(Clone, Copy)]
pub(super) struct ReadOpts<'a> {
    pub(super) source: Source,
    /// Canonical paths of the files a hook said are complete ([`Finished::files`]).
    ///
    /// [`Finished::files`]: super::Finished::files
    pub(super) finished: &'a HashSet<PathBuf>,
    /// Canonical paths of the sessions that ended ([`Finished::sessions`]): every file of their groups.
    ///
    /// [`Finished::sessions`]: super::Finished::sessions
    pub(super) ended: &'a HashSet<PathBuf>,
    /// When the import started: a file not modified since `now - IDLE_COMPLETE` is complete.
    pub(super) now: SystemTime,
    /// The config's `max_tokens`.
    pub(super) max_tokens: u64,
    /// [`Options::all_finished`](super::Options::all_finished).
    pub(super) all_finished: bool,
    /// What the threads have read so far, for the import's progress.
    pub(super) tally: &'a Tally,
}

/// How far the reading threads are: counted a block at a time (one atomic add per 256 KiB read, nothing per
/// line), read by the import's progress ticks.
#[derive(Default)]
pub(super) struct Tally {
    /// Usage lines read (the copies of one request each count).
    pub(super) requests: AtomicU64,
    /// Bytes read from transcripts.
    pub(super) bytes: AtomicU64,
}

impl Tally {
    /// The counts now: (requests, bytes).
    pub(super) fn now(&self) -> (u64, u64) {
        (self.requests.load(Ordering::Relaxed), self.bytes.load(Ordering::Relaxed))
    }
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
    ///
    /// [`Report::unfinished`]: super::Report::unfinished
    unfinished: bool,
}

/// The result of reading one group of files ([`groups`]), built into record lines.
pub(super) struct GroupResult {
    pub(super) index: usize,
    pub(super) states: Vec<(String, Option<FileState>)>,
    pub(super) built: Vec<Built>,
    pub(super) duplicates: u64,
    pub(super) malformed: u64,
    pub(super) warnings: Vec<String>,
    pub(super) unchanged: usize,
    pub(super) held: u64,
    pub(super) unfinished: u64,
}

/// The files read together, as indices into `files` (sorted): a Claude Code session `<s>.jsonl` with its
/// subagents' `<s>/subagents/*.jsonl`, whose requests are also reported in the session's `progress` lines —
/// copies of one request in a group are compared and the best is kept, as within one file. Every other file is
/// a group of its own. Groups are in the order of their first file, members in file order.
pub(super) fn groups(source: Source, files: &[PathBuf]) -> Vec<Vec<usize>> {
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

/// Read one group of files ([`groups`]), keep the best copy of each request across them, and build the records
/// (priced and formatted here, in the reading threads; the main thread only drops requests already counted and
/// writes).
///
/// Holding back is decided for the whole group, like the choice of the best copy: a request one file holds back
/// (its copy there may still grow) is left out of every file of the group — the main thread's next request may
/// have completed the parent's `progress` copy while the subagent's own file is still writing the final one —
/// and every file that has a copy of it keeps its offset at or before that copy, so the next import sees all
/// the copies again.
pub(super) fn read_group(o: &ReadOpts, builder: &Builder, index: usize, files: &[&PathBuf], st: &State) -> GroupResult {
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
    // One read buffer per worker thread, reused from file to file: a fresh 256 KiB buffer per transcript cost
    // its zeroing and page faults every time (about 5% of an import of many small files). A buffer a very long
    // line grew past 1 MiB is let go rather than kept for the rest of the import.
    thread_local! {
        static BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut buf = BUFFER.take();
    let read = read_into(o, path, prev, finished, &mut r, &mut buf);
    if buf.len() <= 1 << 20 {
        BUFFER.set(buf);
    }
    if let Err(e) = read {
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
// Long on purpose: one pass over a transcript's bytes (the loop every import spends its time in) whose state —
// the buffer and its fill, the offset, the Codex context, the pricing cache, the pending requests, the line
// counter — every step reads and moves on; split, each helper would take most of it by `&mut`.
fn read_into(
    o: &ReadOpts,
    path: &Path,
    prev: Option<&FileState>,
    finished: bool,
    r: &mut FileResult,
    buf: &mut Vec<u8>,
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
    // Only `buf[..filled]` is ever read, so what a previous file left in the buffer does not matter.
    if buf.len() < 256 << 10 {
        buf.resize(256 << 10, 0);
    }
    let (mut filled, mut eof) = (0usize, false);
    let mut told = r.found.len();
    loop {
        if !eof && filled < buf.len() {
            let got = file.read(&mut buf[filled..])?;
            eof = got == 0;
            filled += got;
            read_to += got as u64;
            o.tally.bytes.fetch_add(got as u64, Ordering::Relaxed);
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
        o.tally.requests.fetch_add((r.found.len() - told) as u64, Ordering::Relaxed);
        told = r.found.len();
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
pub(super) fn log_tails(file: &mut File) -> std::io::Result<HashSet<u128>> {
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
}

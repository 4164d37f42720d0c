//! The sidecar index of per-budget spend, and what uses it: the check behind `tt-log --enforce`, tt-budget's
//! answer from the log ([`counts`]) and the level alerts tt-log prints as it appends ([`Watch`]).
//!
//! Neither a check nor a report may re-read a million-record log on every call, so beside the log
//! (`usage.jsonl.tt-index`) a journal keeps: how many bytes (and lines) of the log it has counted, a hash of the
//! last bytes it counted, a fingerprint of the budgets / time zone / prices it counted them with, every
//! budget's spend per window ([`Ledger`] keys; total budgets also per day), and each session budget's worst
//! session. Each user counts only the lines appended since (by anyone: plain tt-log, imports, merges) and
//! appends its few window lines and a commit.
//!
//! Invariants:
//! * The index is only written under the log's exclusive lock, appended to or replaced atomically (write +
//!   rename). Readers read it under a shared lock while it is current, and take the exclusive lock to catch it
//!   up; a dry run reads and writes nothing.
//! * It is a cache, never the truth: if the log shrank, was replaced (another inode), its counted bytes no
//!   longer hash the same, or the budgets, zone or prices changed, it is rebuilt from the whole log. A missing,
//!   unreadable or malformed index is rebuilt too, and so is one whose bytes no longer hash as its last commit
//!   says (a number changed in place) or with a line an answer cannot read: damage is never "nothing spent".
//! * Only complete lines are counted into it; a reader counts a complete last record without its newline on
//!   top, in memory, as a scan of the records does (a fragment still being written is not a record yet).
//! * Spend only grows, so a session budget's worst session after a commit is the old worst or a session the
//!   commit touched; readers evaluate only those (and sessions holding reservations).

pub mod ledger;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::budget::{Budget, BudgetPeriod, Evaluation, Ledger, Spent, scope_of};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::input::Source;
use crate::log::{LockedLog, index_path};
use crate::period::{Calendar, Window};
use crate::price::Pricer;
use crate::record::Record;
use crate::reserve::Hold;
use crate::scan::{Field, View};

/// The index file's version; bump when its meaning changes (2: model scopes match every spelling of the model;
/// 3: total budgets also count per day, for their burn rate; 4: commits keep each session budget's worst session;
/// 5: commits hold a hash of every byte before them).
const INDEX_VERSION: u64 = 5;
/// How many bytes before the counted offset are hashed to recognise the log.
const TAIL: u64 = 4096;

/// The index: how far the log was counted, and the spend found.
///
/// On disk it is a journal of text lines: window lines `budget⇥key⇥records⇥usd⇥tokens⇥unpriced` (the key
/// percent-escaped; a window's spend is the sum of its lines), each batch closed by a commit line `#{json}`
/// holding the offset, line count and tail hash of the log counted so far. A call appends its few window lines
/// and a commit in one write — it never rewrites a big index (a session budget over years of sessions) — and
/// lines after the last commit (a crash mid-write) are ignored. When the journal has grown, it is compacted
/// into one line per window and replaced atomically.
#[derive(Debug, Clone)]
pub struct Index {
    fingerprint: String,
    dev: u64,
    ino: u64,
    offset: u64,
    lines: u64,
    tail: String,
    /// Every byte of the file before the last commit line (window lines and earlier commits).
    body: String,
    /// The last commit line, as written (with its newline); empty for a new index.
    last_commit: String,
    /// How many commits the file holds (compaction is due when there are many).
    commits: usize,
    /// True when the file on disk ends exactly at the last commit (safe to append to).
    clean: bool,
    /// Spend counted since the body was read, written on save.
    delta: Ledger,
    /// Per budget, the session that used most of a session budget as of the last commit (`None` for other
    /// budgets and before any session); `None` as a whole when not known (an index of an older tt). Spend only
    /// grows, so after a commit the worst session is the old one or one the commit touched: kept without
    /// re-reading every session's lines (see [`Index::refresh_worst`]).
    worst: Option<Vec<Option<String>>>,
}

/// A fast 64-bit hash of the index's bytes (eight at a time), to tell a body damaged or edited since its commit.
/// Not a defence against someone who recomputes it: the index is a cache the user owns, and the log it counts
/// is what a deliberate edit would change.
fn body_hash(bytes: &[u8]) -> String {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = K ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(31);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(K).rotate_left(31);
    }
    format!("{:016x}", h ^ (h >> 29))
}

fn escape_key(k: &str) -> String {
    let mut s = String::with_capacity(k.len());
    for c in k.chars() {
        match c {
            '%' => s.push_str("%25"),
            '\t' => s.push_str("%09"),
            '\n' => s.push_str("%0A"),
            '\r' => s.push_str("%0D"),
            '#' => s.push_str("%23"),
            c => s.push(c),
        }
    }
    s
}

fn unescape_key(k: &str) -> String {
    k.replace("%09", "\t").replace("%0A", "\n").replace("%0D", "\r").replace("%23", "#").replace("%25", "%")
}

fn window_line(out: &mut String, i: usize, key: &str, s: &Spent) {
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "{i}\t{}\t{}\t{}\t{}\t{}",
        escape_key(key),
        s.records,
        crate::money::canonical(s.usd),
        s.tokens,
        s.unpriced
    );
}

fn parse_spent(fields: &[&str]) -> Option<Spent> {
    Some(Spent {
        records: fields.first()?.parse().ok()?,
        usd: crate::money::parse_decimal(fields.get(1)?)?,
        tokens: fields.get(2)?.parse().ok()?,
        unpriced: fields.get(3)?.parse().ok()?,
        overflow: false,
    })
}

/// Journals longer than this many commits are compacted.
const MAX_COMMITS: usize = 512;

impl Index {
    fn empty(fingerprint: String, dev: u64, ino: u64, n: usize) -> Index {
        Index {
            fingerprint,
            dev,
            ino,
            offset: 0,
            lines: 0,
            tail: String::new(),
            body: String::new(),
            last_commit: String::new(),
            commits: 0,
            clean: false,
            delta: Ledger::new(n),
            worst: Some(vec![None; n]),
        }
    }

    /// Spend of budget `i` in window `key`: the sum of its committed lines, plus what was counted since. `None`
    /// when one of those lines is damaged: the index can no longer be trusted and must be rebuilt.
    fn spent(&self, i: usize, key: &str) -> Option<Spent> {
        let prefix = format!("{i}\t{}\t", escape_key(key));
        let mut total = Spent::default();
        let body = self.body.as_bytes();
        let mut damaged = false;
        let mut add = |at: usize| {
            let end = memchr::memchr(b'\n', &body[at..]).map_or(body.len(), |k| at + k);
            let fields: Vec<&str> = self.body[at + prefix.len()..end].split('\t').collect();
            match parse_spent(&fields) {
                Some(sp) => total.merge(&sp),
                None => damaged = true,
            }
        };
        if self.body.starts_with(&prefix) {
            add(0);
        }
        let needle = format!("\n{prefix}");
        for at in memchr::memmem::find_iter(body, needle.as_bytes()) {
            add(at + 1);
        }
        if damaged {
            return None;
        }
        total.merge(&self.delta.spent(i, key));
        Some(total)
    }

    /// Every window of every budget: the committed lines summed, plus what was counted since. `None` when a
    /// line is damaged (the index must be rebuilt).
    fn ledger(&self) -> Option<Ledger> {
        let n = self.delta.windows.len();
        let mut all = Ledger::new(n);
        for i in 0..n {
            all.windows[i] = self.windows_of(i)?.into_iter().map(|(k, sp)| (k.into_owned(), sp)).collect();
        }
        Some(all)
    }

    /// Every window of budget `i` (keys unescaped): its committed lines summed, plus what was counted since.
    /// `None` when one of its lines is damaged (the index must be rebuilt).
    fn windows_of(&self, i: usize) -> Option<crate::distinct::FxMap<std::borrow::Cow<'_, str>, Spent>> {
        let prefix = format!("{i}\t");
        let mut m: crate::distinct::FxMap<std::borrow::Cow<'_, str>, Spent> = Default::default();
        // The budget's lines found by a SIMD search for `\n{i}\t`, not by walking every line of the journal
        // (tens of thousands of other budgets' session lines).
        let body = self.body.as_bytes();
        let needle = format!("\n{prefix}");
        let starts = self.body.starts_with(&prefix).then_some(0).into_iter();
        let found = memchr::memmem::find_iter(body, needle.as_bytes()).map(|at| at + 1);
        for at in starts.chain(found) {
            let end = memchr::memchr(b'\n', &body[at..]).map_or(body.len(), |k| at + k);
            let l = &self.body[at..end];
            let mut f = l[prefix.len()..].split('\t');
            let key = f.next()?;
            let fields: Vec<&str> = f.collect();
            let sp = parse_spent(&fields).filter(|_| fields.len() == 4)?;
            let key = if key.contains('%') { std::borrow::Cow::Owned(unescape_key(key)) } else { key.into() };
            m.entry(key).or_default().merge(&sp);
        }
        for (k, sp) in self.delta.windows.get(i).into_iter().flatten() {
            m.entry(std::borrow::Cow::Borrowed(k.as_str())).or_default().merge(sp);
        }
        Some(m)
    }

    /// Read the journal: window lines up to the last commit, whose header is the state.
    fn load(path: &Path, n: usize) -> Option<Index> {
        let text = std::fs::read_to_string(path).ok()?;
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        let start = match trimmed.rfind("\n#") {
            Some(k) => k + 1,
            None if text.starts_with('#') => 0,
            None => return None,
        };
        let head_end = text[start..].find('\n').map_or(text.len(), |k| start + k);
        let clean = head_end + 1 == text.len();
        let v: Value = serde_json::from_str(&text[start + 1..head_end]).ok()?;
        if v.get("v")?.as_u64()? != INDEX_VERSION {
            return None;
        }
        // The index proves its own body: a line damaged or edited anywhere before the last commit (a number
        // zeroed, a line cut) no longer hashes the same, and the index is rebuilt — never read as less spent.
        if v.get("body")?.as_str()? != body_hash(&text.as_bytes()[..start]) {
            return None;
        }
        let last_commit = text[start..(head_end + 1).min(text.len())].to_string();
        let commits = memchr::memmem::find_iter(&text.as_bytes()[..start], b"\n#").count() + 1;
        let index = Index {
            fingerprint: v.get("fingerprint")?.as_str()?.to_string(),
            dev: v.get("dev")?.as_u64()?,
            ino: v.get("ino")?.as_u64()?,
            offset: v.get("offset")?.as_u64()?,
            lines: v.get("lines")?.as_u64()?,
            tail: v.get("tail")?.as_str()?.to_string(),
            body: String::new(),
            last_commit,
            commits,
            clean,
            delta: Ledger::new(n),
            worst: v
                .get("worst")
                .and_then(Value::as_array)
                .filter(|w| w.len() == n)
                .map(|w| w.iter().map(|s| s.as_str().map(String::from)).collect()),
        };
        let mut body = text;
        body.truncate(start);
        Some(Index { body, ..index })
    }

    fn commit_line(&self, body: &str) -> String {
        let head = json!({
            "v": INDEX_VERSION,
            "about": "tt-log --enforce cache of per-budget spend; safe to delete (it is rebuilt from the log)",
            "fingerprint": self.fingerprint,
            "dev": self.dev,
            "ino": self.ino,
            "offset": self.offset,
            "lines": self.lines,
            "tail": self.tail,
            "worst": self.worst,
            "body": body_hash(body.as_bytes()),
        });
        format!("#{head}\n")
    }

    /// The worst session of session budget `i` (number `i` of `budgets`) among `candidates`: the most used,
    /// the first by name on a tie (the rule of [`crate::budget::worst_session`]). `None` inside when a line is
    /// damaged.
    fn worst_of<'k>(&self, i: usize, b: &Budget, candidates: impl Iterator<Item = &'k str>) -> Option<Option<String>> {
        let spent: Vec<(&str, Spent)> =
            candidates.map(|k| self.spent(i, k).map(|sp| (k, sp))).collect::<Option<_>>()?;
        Some(crate::budget::most_used(b, spent.iter().map(|(k, sp)| (*k, sp))).map(|(k, _)| k.to_string()))
    }

    /// Bring [`Index::worst`] up to what the delta adds: for each session budget, the old worst session or one
    /// the delta touched — or, when that is not known or the delta touched many, from every session's lines.
    fn refresh_worst(&mut self, budgets: &[Budget]) {
        let n = budgets.len();
        let known = self.worst.clone().filter(|w| w.len() == n);
        let mut out = vec![None; n];
        for (i, b) in budgets.iter().enumerate().filter(|(_, b)| b.period == BudgetPeriod::Session) {
            let touched = self.delta.windows.get(i).map_or(0, BTreeMap::len);
            let worst = match &known {
                Some(w) if touched <= 64 => {
                    let old = w[i].as_deref().into_iter();
                    self.worst_of(i, b, old.chain(self.delta.windows[i].keys().map(String::as_str)))
                }
                _ => self.windows_of(i).map(|m| {
                    crate::budget::most_used(b, m.iter().map(|(k, v)| (k.as_ref(), v))).map(|(k, _)| k.to_string())
                }),
            };
            // A damaged line: not known (readers then read every session, find the damage and rebuild).
            let Some(worst) = worst else {
                self.worst = None;
                return;
            };
            out[i] = worst;
        }
        self.worst = Some(out);
    }

    /// Append the delta and a commit; or, when the journal is long, dirty or new, rewrite it compacted.
    fn save(&mut self, path: &Path, budgets: &[Budget]) -> Result<()> {
        self.refresh_worst(budgets);
        let n = self.delta.windows.len();
        let delta = std::mem::replace(&mut self.delta, Ledger::new(n));
        if self.clean && self.commits < MAX_COMMITS {
            let mut lines = String::new();
            for (i, w) in delta.windows.iter().enumerate() {
                for (key, sp) in w {
                    window_line(&mut lines, i, key, sp);
                }
            }
            // Everything before the new commit: the body, the last commit, the new lines.
            let mut prefix = std::mem::take(&mut self.body);
            prefix.push_str(&self.last_commit);
            prefix.push_str(&lines);
            let commit = self.commit_line(&prefix);
            let text = format!("{lines}{commit}");
            self.body = prefix;
            self.last_commit = commit;
            // Never through a link planted at the index's name (see `fsutil`).
            let mut f = crate::fsutil::open_side(path, std::fs::OpenOptions::new().append(true))?;
            f.write_all(text.as_bytes()).map_err(|e| Error::io(path.display(), e))?;
            self.commits += 1;
            return Ok(());
        }
        // Compact: one line per window. A damaged line is never dropped silently (its spend would vanish):
        // the index is removed instead, and the next call rebuilds it from the log.
        let Some(mut all) = self.ledger() else {
            let _ = std::fs::remove_file(path);
            return Err(Error::data(format!("{}: damaged; removed (it is rebuilt from the log)", path.display())));
        };
        all.merge(delta);
        let mut body = String::new();
        for (i, w) in all.windows.iter().enumerate() {
            for (key, sp) in w {
                window_line(&mut body, i, key, sp);
            }
        }
        let commit = self.commit_line(&body);
        let text = format!("{body}{commit}");
        // A private (0600) temp file with a random name, created exclusively, then renamed: never a guessable
        // `.tmp<PID>` a planted link could redirect.
        crate::fsutil::write_atomic(path, text.as_bytes())?;
        self.body = body;
        self.last_commit = commit;
        self.commits = 1;
        self.clean = true;
        Ok(())
    }
}

/// A check that passed: call [`Passed::appended`] after appending the record to keep the index current.
#[derive(Debug)]
pub struct Passed {
    index: Index,
    path: PathBuf,
    line_len: u64,
    /// The record's spend, and the (budget, window) pairs it counts in.
    spend: (u64, Option<Decimal>),
    windows: Vec<(usize, String)>,
    /// The budgets counted (for the worst sessions kept on save).
    budgets: Vec<Budget>,
    /// The calendar of the level alerts, when they are on (`budget_alerts`).
    alerts: Option<Calendar>,
}

/// What the config contributes to the counts: budgets, zone, week start and prices — the config's entries, the
/// aliases it gives catalogue models, and the built-in catalogue itself (its version and size: a build with
/// another catalogue prices records logged unpriced differently, so its counts are not this one's).
fn fingerprint(config: &Config) -> String {
    let text = format!(
        "{:?}|{}|{:?}|{:?}|{:?}|{}|{}",
        config.budgets,
        config.tz,
        config.week_start,
        config.prices.entries(),
        config.prices.catalogue_aliases(),
        crate::catalogue::source(),
        crate::catalogue::TEXT.len()
    );
    let (a, b) = crate::id::fnv128(text.as_bytes());
    format!("{a:016x}{b:016x}")
}

fn tail_hash(file: &mut File, offset: u64, name: &str) -> Result<String> {
    let from = offset.saturating_sub(TAIL);
    let mut buf = vec![0u8; (offset - from) as usize];
    file.seek(SeekFrom::Start(from)).map_err(|e| Error::io(name, e))?;
    file.read_exact(&mut buf).map_err(|e| Error::io(name, e))?;
    let (a, b) = crate::id::fnv128(&buf);
    Ok(format!("{a:016x}{b:016x}"))
}

/// Count `[index.offset, upto)` of the log (whole lines only) into the index.
/// What counting a record into the index needs.
#[derive(Clone, Copy)]
struct Counting<'a> {
    budgets: &'a [Budget],
    scopes: &'a [Vec<(Field, String)>],
    cal: &'a Calendar,
    config: &'a Config,
}

fn catch_up(index: &mut Index, file: &mut File, log: &Path, upto: u64, how: Counting<'_>) -> Result<()> {
    let Counting { budgets, scopes, cal, config } = how;
    let name = log.display().to_string();
    if upto <= index.offset {
        return Ok(());
    }
    // The whole log from the start: split it between threads like tt-sum does.
    if index.offset == 0 && upto == file.metadata().map_err(|e| Error::io(&name, e))?.len() {
        let parts = crate::scan::fold(
            &Source::File(log.to_path_buf()),
            || (Ledger::new(budgets.len()), Pricer::new(&config.prices), 0u64),
            |(ledger, pricer, n), v| {
                let cost = v.cost_usd.or_else(|| pricer.cost(&v.model, v.ts, &v.tokens, &v.billing));
                ledger.add(budgets, scopes, cal, v, cost, pricer);
                *n += 1;
                Ok(())
            },
        )?;
        for (l, _, _) in parts {
            index.delta.merge(l);
        }
        index.lines = count_lines(file, upto, &name)?;
        index.offset = upto;
        return Ok(());
    }
    file.seek(SeekFrom::Start(index.offset)).map_err(|e| Error::io(&name, e))?;
    let mut buf = Vec::with_capacity((upto - index.offset) as usize);
    Read::by_ref(file).take(upto - index.offset).read_to_end(&mut buf).map_err(|e| Error::io(&name, e))?;
    let mut pricer = Pricer::new(&config.prices);
    let mut line_no = index.lines;
    for raw in buf.split(|&b| b == b'\n') {
        line_no += 1;
        let mut l = raw;
        if let [rest @ .., b'\r'] = l {
            l = rest;
        }
        if l.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v = View::parse(l).map_err(|e| e.context(format!("{name}:{line_no}")))?;
        let cost = v.cost_usd.or_else(|| pricer.cost(&v.model, v.ts, &v.tokens, &v.billing));
        index.delta.add(budgets, scopes, cal, &v, cost, &mut pricer);
    }
    // `buf` ends with a newline, so split gave one empty piece after it that was not a line.
    index.lines = line_no - 1;
    index.offset = upto;
    Ok(())
}

fn count_lines(file: &mut File, upto: u64, name: &str) -> Result<u64> {
    file.seek(SeekFrom::Start(0)).map_err(|e| Error::io(name, e))?;
    let mut r = Read::by_ref(file).take(upto);
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let got = r.read(&mut buf).map_err(|e| Error::io(name, e))?;
        if got == 0 {
            return Ok(n);
        }
        n += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
    }
}

/// The end of the last complete line at or before `len`.
fn last_newline_end(file: &mut File, len: u64, name: &str) -> Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let from = end.saturating_sub(buf.len() as u64);
        let n = (end - from) as usize;
        file.seek(SeekFrom::Start(from)).map_err(|e| Error::io(name, e))?;
        file.read_exact(&mut buf[..n]).map_err(|e| Error::io(name, e))?;
        if let Some(k) = memchr::memrchr(b'\n', &buf[..n]) {
            return Ok(from + k as u64 + 1);
        }
        end = from;
    }
    Ok(0)
}

/// `--enforce` with no budget configured is most likely a config that was not found: the one-line warning
/// that says so, or `None` when there are budgets to enforce. The record is logged either way — a missing
/// budget is not a refusal.
pub fn no_budgets(config: &Config) -> Option<&'static str> {
    config.budgets.is_empty().then_some(
        "--enforce: no budgets are configured, so there is nothing to enforce (add a [[budget]] to tt.toml; see \
         tt-budget --help)",
    )
}

/// Check `record` against every configured budget whose scope it matches, in the window its `ts` falls in.
/// Refuses with a [`crate::Kind::Condition`] error (exit 1) naming the budget and what is left when the record
/// would push one over its limit. Must be called with the log locked; on success, append the record and call
/// [`Passed::appended`] (or [`Passed::discard`] to append nothing).
pub fn check(locked: &mut LockedLog, config: &Config, record: &Record) -> Result<Passed> {
    let log = locked.path().to_path_buf();
    let (index, decision) = count_and_check(locked.file(), &log, config, record)?;
    let ipath = index_path(&log);
    match decision {
        Err(refusals) => {
            // The work done counting the log is still good: keep it for the next call.
            let mut index = index;
            let _ = index.save(&ipath, &config.budgets);
            Err(Error::condition(format!("refused, nothing logged: {}", refusals.join("; "))))
        }
        Ok((spend, windows)) => Ok(Passed {
            index,
            path: ipath,
            line_len: record.to_json().len() as u64 + 1,
            spend,
            windows,
            budgets: config.budgets.clone(),
            alerts: alert_calendar(config),
        }),
    }
}

/// `tt-log --enforce --dry-run`: the same check as [`check`], appending nothing. A refusal is the same exit 1
/// with the reason (`would be refused: …`). Nothing is written at all: the log is opened read-only under a
/// shared lock (so the answer is the one a real call would get now, and a torn last line is left for the real
/// call to repair), the index is read but neither created nor updated, and a log that does not exist yet is
/// not created.
pub fn check_dry_run(log: &Path, config: &Config, record: &Record) -> Result<()> {
    let refused = |r: Vec<String>| Err(Error::condition(format!("would be refused: {}", r.join("; "))));
    if log.exists() {
        let mut file = File::open(log).map_err(|e| Error::io(log.display(), e))?;
        file.lock_shared().map_err(|e| Error::io(format!("{}: lock", log.display()), e))?;
        let (_, decision) = count_and_check(&mut file, log, config, record)?;
        return decision.map(|_| ()).or_else(refused);
    }
    // No log: nothing spent yet; only the record itself is checked.
    let budgets = config.budgets.clone();
    let cal = Calendar::new(config.timezone()?, config.week_start, record.ts);
    let scopes: Vec<Vec<(Field, String)>> = budgets.iter().map(scope_of).collect();
    let index = Index::empty(fingerprint(config), 0, 0, budgets.len());
    match refusals(&index, &[], &budgets, &scopes, &cal, config, record, Utc::now())? {
        Some(decision) => decision.map(|_| ()).or_else(refused),
        None => Err(Error::data("the empty budget index cannot be read")),
    }
}

/// What a passing record adds: its tokens and cost, and the (budget, window key) pairs it counts in.
type Spend = ((u64, Option<Decimal>), Vec<(usize, String)>);

/// Bring the index up to the log's last complete line (in memory) and check `record`: the index, and what the
/// record adds or why it is refused. `file` is the log, locked by the caller. An index found damaged while
/// checking is rebuilt from the whole log, and the record checked again.
fn count_and_check(
    file: &mut File,
    log: &Path,
    config: &Config,
    record: &Record,
) -> Result<(Index, std::result::Result<Spend, Vec<String>>)> {
    let budgets: Vec<Budget> = config.budgets.clone();
    let cal = Calendar::new(config.timezone()?, config.week_start, record.ts);
    let scopes: Vec<Vec<(Field, String)>> = budgets.iter().map(scope_of).collect();
    // What reservations hold counts too, but for the one this record settles.
    let settles = record.extra.get(crate::reserve::FIELD).and_then(serde_json::Value::as_str);
    for saved in [Saved::Load, Saved::Rebuild] {
        let index = counted(file, log, config, &cal, saved)?;
        let now = Utc::now();
        let mut holds = crate::reserve::read(log)?.active(Some(&mut *file), index.offset, now)?;
        holds.retain(|h| Some(h.id.as_str()) != settles);
        if let Some(decision) = refusals(&index, &holds, &budgets, &scopes, &cal, config, record, now)? {
            return Ok((index, decision));
        }
    }
    Err(Error::data(format!("{}: the budget index cannot be built consistently", index_path(log).display())))
}

/// The index of `log`, brought up to its last complete line in memory: the saved one when it still matches the
/// log and the config (and `reuse` allows it), else a new one counted from the whole log. `file` is the log,
/// locked by the caller (shared or exclusive).
fn counted(file: &mut File, log: &Path, config: &Config, cal: &Calendar, saved: Saved) -> Result<Index> {
    let budgets = &config.budgets;
    let scopes: Vec<Vec<(Field, String)>> = budgets.iter().map(scope_of).collect();
    let (saved, upto) = saved_index(file, log, config, saved)?;
    let mut index = saved.unwrap_or_else(|| {
        let (dev, ino) = file.metadata().map(|m| (m.dev(), m.ino())).unwrap_or_default();
        Index::empty(fingerprint(config), dev, ino, budgets.len())
    });
    let name = log.display().to_string();
    catch_up(&mut index, file, log, upto, Counting { budgets, scopes: &scopes, cal, config })?;
    index.tail = if index.offset == 0 { String::new() } else { tail_hash(file, index.offset, &name)? };
    Ok(index)
}

/// Where an index to start from comes from.
enum Saved {
    /// Read the saved one.
    Load,
    /// One read already (under an earlier lock; checked again against the log now).
    Loaded(Option<Index>),
    /// None: count the whole log.
    Rebuild,
}

/// The saved index of `log` when it still matches the log and the config, and the end of the log's last
/// complete line.
fn saved_index(file: &mut File, log: &Path, config: &Config, saved: Saved) -> Result<(Option<Index>, u64)> {
    let name = log.display().to_string();
    let meta = file.metadata().map_err(|e| Error::io(&name, e))?;
    let (dev, ino) = (meta.dev(), meta.ino());
    let upto = last_newline_end(file, meta.len(), &name)?;
    let saved = match saved {
        Saved::Load => Index::load(&index_path(log), config.budgets.len()),
        Saved::Loaded(i) => i,
        Saved::Rebuild => None,
    };
    let index = match saved {
        Some(i) if i.fingerprint == fingerprint(config) && i.dev == dev && i.ino == ino && i.offset <= upto => {
            if i.offset == 0 || tail_hash(file, i.offset, &name)? == i.tail { Some(i) } else { None }
        }
        _ => None,
    };
    Ok((index, upto))
}

/// The budgets asked for, evaluated from the log's index — the answer `tt-budget` gives from the log without
/// re-reading it (see [`counts`]) — with the holds still counting and what each session has spent.
#[derive(Debug)]
pub struct Counts {
    /// The reservations still holding (see [`crate::reserve`]), read under the same lock.
    pub holds: Vec<Hold>,
    /// The log's length when counted.
    pub len: u64,
    /// The budgets asked for, evaluated over their current windows with what reservations hold on top.
    pub evals: Vec<Evaluation>,
    /// Beside each evaluation: what the session asked about (an estimate's task's) has spent of it, holds
    /// included, for a session budget.
    pub session: Vec<Spent>,
}

/// Evaluate `asked` (configured budgets) from the index at `cal.now`, holds on top: `None` when a line the
/// answer needs is damaged (rebuild the index and ask again). Only what is needed is read: the current window's
/// lines of a calendar budget; every line of a session or total budget.
fn evaluate_index(
    index: &Index,
    config: &Config,
    asked: &[Budget],
    cal: &Calendar,
    holds: &[Hold],
    session: Option<&str>,
) -> Option<Result<(Vec<Evaluation>, Vec<Spent>)>> {
    let mut pricer = Pricer::new(&config.prices);
    let mut out = Vec::with_capacity(asked.len());
    let mut sessions = Vec::with_capacity(asked.len());
    let n = config.budgets.len();
    for b in asked {
        let Some(i) = config.budgets.iter().position(|c| c == b) else {
            return Some(Err(Error::data(format!("budget {} is not counted by the index", b.name))));
        };
        let mut in_session = Spent::default();
        let e = match b.period {
            BudgetPeriod::Session => {
                // Each session with what is held for it on top (a hold without a session is one of its own).
                let held = crate::reserve::held_by_session(holds, b, &mut pricer);
                let known = index.worst.as_ref().filter(|w| w.len() == n).map(|w| w[i].clone());
                let mut windows = match known {
                    // The worst session as of the last commit, or one counted since or holding: the only ones
                    // that can be the worst now (spend only grows).
                    Some(worst) if index.delta.windows[i].len() <= 64 => {
                        let mut m = crate::distinct::FxMap::default();
                        let since = index.delta.windows[i].keys().cloned();
                        for k in worst.into_iter().chain(since).chain(held.keys().cloned()) {
                            let sp = index.spent(i, &k)?;
                            m.insert(std::borrow::Cow::Owned(k), sp);
                        }
                        m
                    }
                    _ => index.windows_of(i)?,
                };
                for (k, h) in &held {
                    let sp = windows.entry(std::borrow::Cow::Owned(k.clone())).or_default();
                    let records = sp.records;
                    sp.merge(h);
                    sp.records = records;
                }
                if let Some(s) = session {
                    in_session = match windows.get(s) {
                        Some(sp) => *sp,
                        None => index.spent(i, s)?,
                    };
                }
                let spent = |k: &str| windows.get(k).copied().unwrap_or_default();
                let e = crate::budget::evaluate_windows(b, cal, &spent, windows.iter().map(|(k, v)| (k.as_ref(), v)));
                // What is held in the session shown is said beside its spend, as for other budgets.
                e.map(|mut e| {
                    if let Some(h) = e.session.as_ref().and_then(|s| held.get(s)) {
                        e.held = *h;
                    }
                    e
                })
            }
            BudgetPeriod::Total => {
                let windows = index.windows_of(i)?;
                let spent = |k: &str| windows.get(k).copied().unwrap_or_default();
                crate::budget::evaluate_windows(b, cal, &spent, windows.iter().map(|(k, v)| (k.as_ref(), v)))
            }
            _ => {
                let key = Ledger::key(b, cal, cal.now, None).unwrap_or_default();
                let now = index.spent(i, &key)?;
                crate::budget::evaluate_windows(b, cal, &|_| now, std::iter::empty())
            }
        };
        let held = crate::reserve::held(holds, b, &mut pricer);
        out.push(e.map(|e| if b.period == BudgetPeriod::Session { e } else { e.with_held(b, held, cal) }));
        sessions.push(in_session);
    }
    Some(out.into_iter().collect::<Result<Vec<_>>>().map(|e| (e, sessions)))
}

/// True when the index can answer for calendar `cal`: windows in the config's own zone and week, not pinned by
/// `--today` (the index counts whole windows; a pinned "now" cuts the current one).
pub fn answers_for(config: &Config, cal: &Calendar) -> bool {
    !cal.pinned && config.timezone().is_ok_and(|tz| tz == cal.tz) && config.week_start == cal.week_start
}

/// Evaluate `asked` (configured budgets) at `cal.now` from the log's index, for a reader. The log is read under
/// a shared lock while the saved index is current (nothing is written); when the index must catch up (records
/// were appended since, or it is missing, stale or damaged) the exclusive lock is taken, the log counted from
/// where the index stopped, and the index saved for the next call — a cache, so a save that fails (a read-only
/// directory) costs only speed. A log that does not exist has spent nothing.
pub fn counts(log: &Path, config: &Config, asked: &[Budget], cal: &Calendar, session: Option<&str>) -> Result<Counts> {
    let name = log.display().to_string();
    let mut file = match File::open(log) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let holds = crate::reserve::read(log)?.active(None, 0, chrono::Utc::now())?;
            let index = Index::empty(fingerprint(config), 0, 0, config.budgets.len());
            let (evals, session) = evaluate_index(&index, config, asked, cal, &holds, session)
                .unwrap_or_else(|| Ok(Default::default()))?;
            return Ok(Counts { holds, len: 0, evals, session });
        }
        Err(e) => return Err(Error::io(&name, e)),
    };
    file.lock_shared().map_err(|e| Error::io(format!("{name}: lock"), e))?;
    // The saved index answers as it is when it counted the whole log as it is now.
    let ipath = index_path(log);
    let stamp = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.len(), m.modified().ok(), m.ino()));
    let before = stamp(&ipath);
    let (saved, upto) = saved_index(&mut file, log, config, Saved::Load)?;
    let stale = match saved {
        Some(index) if index.offset == upto => {
            match answer_counts(&mut file, log, config, (asked, cal, session), index)? {
                Some(c) => return Ok(c),
                None => Saved::Rebuild,
            }
        }
        other => Saved::Loaded(other),
    };
    // The index must be brought up to date (or rebuilt): under the exclusive lock, like every index write. The
    // one read above is used again if no one wrote the index in between (it is checked against the log again).
    file.unlock().map_err(|e| Error::io(format!("{name}: unlock"), e))?;
    file.lock().map_err(|e| Error::io(format!("{name}: lock"), e))?;
    let start = match stale {
        Saved::Loaded(_) if stamp(&ipath) != before => Saved::Load,
        s => s,
    };
    counts_from(&mut file, log, config, (asked, cal, session), start)
}

/// [`counts`] for a caller that holds the log's exclusive lock (a reservation, which checks and holds under
/// it): the index is caught up and saved, and rebuilt when a line it needs is damaged.
pub fn counts_locked(
    file: &mut File,
    log: &Path,
    config: &Config,
    asked: &[Budget],
    cal: &Calendar,
    session: Option<&str>,
) -> Result<Counts> {
    counts_from(file, log, config, (asked, cal, session), Saved::Load)
}

/// Catch the index up (from `start`), save it, and answer; a damaged line rebuilds it once.
fn counts_from(
    file: &mut File,
    log: &Path,
    config: &Config,
    asked: (&[Budget], &Calendar, Option<&str>),
    start: Saved,
) -> Result<Counts> {
    let keys = Calendar::new(config.timezone()?, config.week_start, chrono::Utc::now());
    let rebuilding = matches!(start, Saved::Rebuild);
    let mut index = counted(file, log, config, &keys, start)?;
    let _ = index.save(&index_path(log), &config.budgets);
    if let Some(c) = answer_counts(file, log, config, asked, index)? {
        return Ok(c);
    }
    if !rebuilding {
        let mut index = counted(file, log, config, &keys, Saved::Rebuild)?;
        let _ = index.save(&index_path(log), &config.budgets);
        if let Some(c) = answer_counts(file, log, config, asked, index)? {
            return Ok(c);
        }
    }
    Err(Error::data(format!("{}: the budget index cannot be built consistently", index_path(log).display())))
}

/// The answer of an index counted up to the log's last complete line (`None`: a line it needs is damaged): a
/// last record that only lacks its newline is counted too, as a reader of the records counts it (the index
/// itself never takes it: a writer may still be adding to it), and the holds still counting are read.
fn answer_counts(
    file: &mut File,
    log: &Path,
    config: &Config,
    (asked, cal, session): (&[Budget], &Calendar, Option<&str>),
    mut index: Index,
) -> Result<Option<Counts>> {
    let name = log.display().to_string();
    let len = file.metadata().map_err(|e| Error::io(&name, e))?.len();
    if len > index.offset {
        let mut tail = Vec::with_capacity((len - index.offset) as usize);
        file.seek(SeekFrom::Start(index.offset)).map_err(|e| Error::io(&name, e))?;
        Read::by_ref(file).take(len - index.offset).read_to_end(&mut tail).map_err(|e| Error::io(&name, e))?;
        let line = tail.strip_suffix(b"\r").unwrap_or(&tail);
        // A fragment still being written is not a record yet: the next reader sees it whole.
        if let Ok(v) = View::parse(line) {
            let scopes: Vec<Vec<(Field, String)>> = config.budgets.iter().map(scope_of).collect();
            let mut pricer = Pricer::new(&config.prices);
            let cost = v.cost_usd.or_else(|| pricer.cost(&v.model, v.ts, &v.tokens, &v.billing));
            index.delta.add(&config.budgets, &scopes, cal, &v, cost, &mut pricer);
        }
    }
    let holds = crate::reserve::read(log)?.active(Some(file), len, chrono::Utc::now())?;
    let Some(answer) = evaluate_index(&index, config, asked, cal, &holds, session) else { return Ok(None) };
    let (evals, session) = answer?;
    Ok(Some(Counts { holds, len, evals, session }))
}

/// How far ahead of now a record checked by `--enforce` may be dated (clocks of writers sharing a log differ).
const FUTURE_SKEW_MINUTES: i64 = 5;

/// Check `record` against the counted spend: what it adds (its spend and the windows it counts in), or why it
/// may not be appended; `None` when the index turned out damaged (rebuild it and check again). `now` is the
/// caller's, so the windows it counted (or locked) are the ones checked, even across a midnight.
#[allow(clippy::too_many_arguments)] // the check's whole state, each part read once; a struct would only name it
fn refusals(
    index: &Index,
    holds: &[Hold],
    budgets: &[Budget],
    scopes: &[Vec<(Field, String)>],
    cal: &Calendar,
    config: &Config,
    record: &Record,
    now: DateTime<Utc>,
) -> Result<Option<std::result::Result<Spend, Vec<String>>>> {
    // A budget guards spend that has happened: a record dated ahead of now (beyond clock skew) cannot be checked.
    if record.ts > now + chrono::Duration::minutes(FUTURE_SKEW_MINUTES) {
        return Err(Error::usage(format!(
            "--enforce: the record's time {} is more than {FUTURE_SKEW_MINUTES} minutes ahead of now: spend that has \
             not happened cannot be checked against a budget (drop --ts, or log without --enforce)",
            record.ts_text
        )));
    }
    // The record, as a View (so scopes match exactly as they do for logged records).
    let line = record.to_json();
    let view = View::parse(line.as_bytes())?;
    let mut pricer = Pricer::new(&config.prices);
    let cost = record.cost_usd.or_else(|| pricer.cost(&record.model, record.ts, &record.tokens, &record.billing));
    let tokens = record.tokens.total();
    let mut refusals = Vec::new();
    let mut windows = Vec::new();
    for (i, b) in budgets.iter().enumerate() {
        if !view.matches(&scopes[i], &mut |a, m| crate::budget::same_model(&mut pricer, a, m)) {
            continue;
        }
        if b.limit_usd.is_some() && cost.is_none() {
            refusals.push(format!(
                "budget {:?} has a dollar limit and model {:?} has no price, so the record's cost is unknown",
                b.name, record.model
            ));
            continue;
        }
        windows.extend(Ledger::keys(b, cal, record.ts, record.session.as_deref()).into_iter().map(|k| (i, k)));
        let Some(checks) = windows_to_check(b, cal, record.ts, record.session.as_deref(), now) else { continue };
        for (key, at, why) in checks {
            let mut spent = match &key {
                Some(k) => match index.spent(i, k) {
                    Some(sp) => sp,
                    None => return Ok(None),
                },
                None => Spent::default(),
            };
            let held =
                held_in(holds, b, &mut pricer, key.as_deref(), Ledger::key(b, cal, now, record.session.as_deref()));
            let records = spent.records;
            spent.merge(&held);
            spent.records = records;
            spent.check(&b.name)?;
            let window = crate::aggregate::RowWindow::of(&if b.period == BudgetPeriod::Session {
                cal.budget_window(BudgetPeriod::Total, at)
            } else {
                cal.budget_window(b.period, at)
            });
            let e = Evaluation::new(b, window, None, spent, at, cal);
            if e.would_exceed(cost.unwrap_or_default(), tokens) {
                refusals.push(over_limit(b, &e, record, (tokens, cost), why));
                break;
            }
        }
    }
    Ok(Some(if refusals.is_empty() { Ok(((tokens, cost), windows)) } else { Err(refusals) }))
}

/// A window a record must fit: its key (`None`: a session of its own), the time it is judged at, and why it is
/// checked, for the refusal.
type WindowCheck = (Option<String>, DateTime<Utc>, &'static str);

/// The windows of budget `b` the record must fit, each with the time it is judged at and why it is checked (for
/// the refusal); `None` when the budget has no window for the record.
fn windows_to_check(
    b: &Budget,
    cal: &Calendar,
    ts: DateTime<Utc>,
    session: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Vec<WindowCheck>> {
    // The windows the record must fit: its own; for a back-dated record also the current one (the budget
    // guards spend now — a `--ts` in last month must not step around this month's limit); for a record
    // without a session under a session budget, a session of its own (nothing spent yet).
    let mut checks: Vec<WindowCheck> = Vec::new();
    match Ledger::key(b, cal, ts, session) {
        Some(key) => {
            let now_key = Ledger::key(b, cal, now, session);
            checks.push((Some(key.clone()), ts, ""));
            if let Some(k) = now_key.filter(|k| *k != key) {
                checks.push((Some(k), now, " (a back-dated record must fit the current window too)"));
            }
        }
        None if b.period == BudgetPeriod::Session => {
            checks.push((None, ts, " (a record without a session is a session of its own)"));
        }
        None => return None,
    }
    Some(checks)
}

/// What is held in budget `b`'s window `key`, given the key of its current window (`now_key`).
fn held_in(holds: &[Hold], b: &Budget, pricer: &mut Pricer, key: Option<&str>, now_key: Option<String>) -> Spent {
    // Holds are for tasks running now: they count in the current window only (a back-dated record's window
    // holds none).
    match key {
        Some(k) if now_key.as_deref() == Some(k) => {
            if b.period == BudgetPeriod::Session {
                crate::reserve::held_by_session(holds, b, pricer).remove(k).unwrap_or_default()
            } else {
                crate::reserve::held(holds, b, pricer)
            }
        }
        _ => Spent::default(),
    }
}

/// The refusal of a record that would take budget `b` (evaluated as `e`) over its limit; `spend` is the
/// record's tokens and cost, `why` why this window is checked.
fn over_limit(
    b: &Budget,
    e: &Evaluation,
    record: &Record,
    (tokens, cost): (u64, Option<Decimal>),
    why: &str,
) -> String {
    let what = match &record.session {
        Some(s) if b.period == BudgetPeriod::Session => format!("in session {s}"),
        None if b.period == BudgetPeriod::Session => "in its session".to_string(),
        _ => match (b.period, e.window.start) {
            (BudgetPeriod::Total, _) | (_, None) => "in total".to_string(),
            (p, Some(start)) => format!("in the {} from {}", p.as_str(), start.format("%Y-%m-%d")),
        },
    };
    let mut need = Vec::new();
    if let (Some(_), Some(left)) = (b.limit_usd, e.remaining_usd()) {
        // The amount left and the amount needed never print the same.
        let [_, c] = crate::budget::usd_distinct([left.max(Decimal::ZERO), cost.unwrap_or_default()]);
        need.push(c);
    }
    if b.limit_tokens.is_some() {
        need.push(crate::budget::tokens_text(i128::from(tokens)));
    }
    format!(
        "budget {:?} would go over its limit: {} used {what}, {}; this record needs {}{why}",
        b.name,
        e.spent_text(),
        e.left_text(),
        need.join(" and ")
    )
}

impl Passed {
    /// Append nothing after all: keep only the counting done, for the next call.
    pub fn discard(mut self) {
        let _ = self.index.save(&self.path, &self.budgets);
    }

    /// Record the append in the index and save it; the level alerts the record set off (see [`Watch`]), when
    /// they are on. If anything but exactly the record was appended (a torn line repaired first), the index stays
    /// where it was and the next call counts the rest (and no alert is said).
    pub fn appended(mut self, locked: &mut LockedLog) -> Result<Vec<String>> {
        let len = locked.len()?;
        let mut alerts = Vec::new();
        if len == self.index.offset + self.line_len {
            let (tokens, cost) = self.spend;
            let mut added = Ledger::new(self.budgets.len());
            for (i, key) in &self.windows {
                if let Some(w) = added.windows.get_mut(*i) {
                    w.entry(key.clone()).or_default().add(tokens, cost);
                }
            }
            if let Some(cal) = &self.alerts {
                alerts = crossings(&self.index, &added, &self.budgets, cal);
            }
            self.index.delta.merge(added);
            self.index.offset = len;
            self.index.lines += 1;
            let name = locked.path().display().to_string();
            self.index.tail = tail_hash(locked.file(), len, &name)?;
        }
        self.index.save(&self.path, &self.budgets)?;
        Ok(alerts)
    }
}

/// Budget alerts as records are logged: the index as it stood before an append, to tell which budget windows
/// the appended records moved across a level (info, warning, critical, over) — the "alert at 80%" at the
/// moment it happens, from the index (no re-reading of the log).
#[derive(Debug)]
pub struct Watch {
    index: Index,
    cal: Calendar,
}

/// Start watching before an append, with the log exclusively locked; `None` when there is nothing to watch (no
/// budgets, or `budget_alerts = false`) or the index cannot be counted (alerts are a courtesy: they never stop
/// a record from being logged).
pub fn watch(locked: &mut LockedLog, config: &Config) -> Option<Watch> {
    let cal = alert_calendar(config)?;
    let log = locked.path().to_path_buf();
    let index = counted(locked.file(), &log, config, &cal, Saved::Load).ok()?;
    Some(Watch { index, cal })
}

/// The calendar of level alerts; `None` when they are off (no budgets, or `budget_alerts = false`).
fn alert_calendar(config: &Config) -> Option<Calendar> {
    if config.budgets.is_empty() || !config.budget_alerts {
        return None;
    }
    Some(Calendar::new(config.timezone().ok()?, config.week_start, chrono::Utc::now()))
}

/// One line per budget window that `added` moves across a level, from what `index` had counted before.
fn crossings(index: &Index, added: &Ledger, budgets: &[Budget], cal: &Calendar) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, b) in budgets.iter().enumerate() {
        for (key, more) in added.windows.get(i).into_iter().flatten() {
            // A total budget's day keys are parts of its one window, not windows of their own.
            if key.starts_with('@') {
                continue;
            }
            let Some(before) = index.spent(i, key) else { continue };
            let mut now = before;
            now.merge(more);
            let (_, was) = crate::budget::levels(b, before.usd, before.tokens);
            let (_, is) = crate::budget::levels(b, now.usd, now.tokens);
            if is <= was {
                continue;
            }
            let window = crate::aggregate::RowWindow::of(&Window::all(cal.tz));
            let e = Evaluation::new(b, window, None, now, cal.now, cal);
            let which = match b.period {
                BudgetPeriod::Session => format!(" (session {key})"),
                BudgetPeriod::Total => String::new(),
                p => format!(" ({} {key})", p.as_str()),
            };
            lines.push(format!(
                "budget {}{which} is now {} at {}%: {}",
                b.name,
                is.as_str(),
                e.percent(),
                e.spent_text()
            ));
        }
    }
    lines
}

impl Watch {
    /// After the append (still locked): one line per budget window that the appended records moved across a
    /// level; the index is saved with them counted.
    pub fn alerts(mut self, locked: &mut LockedLog, config: &Config) -> Vec<String> {
        let log = locked.path().to_path_buf();
        let name = log.display().to_string();
        let Ok(len) = locked.len() else { return Vec::new() };
        let Ok(upto) = last_newline_end(locked.file(), len, &name) else { return Vec::new() };
        let budgets = &config.budgets;
        let scopes: Vec<Vec<(Field, String)>> = budgets.iter().map(scope_of).collect();
        // The appended lines, counted on their own: the position of the index without its (large) body.
        let mut after = Index::empty(String::new(), 0, 0, budgets.len());
        (after.offset, after.lines) = (self.index.offset, self.index.lines);
        let how = Counting { budgets, scopes: &scopes, cal: &self.cal, config };
        if catch_up(&mut after, locked.file(), &log, upto, how).is_err() {
            return Vec::new();
        }
        let lines = crossings(&self.index, &after.delta, budgets, &self.cal);
        self.index.delta.merge(after.delta);
        (self.index.offset, self.index.lines) = (after.offset, after.lines);
        if let Ok(t) = tail_hash(locked.file(), after.offset, &name) {
            self.index.tail = t;
            let _ = self.index.save(&index_path(&log), budgets);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without budgets `--enforce` has nothing to check, and says so; with one, it checks.
    #[test]
    fn enforce_without_budgets_warns() {
        let none = Config::from_str_layer("t.toml", "").unwrap();
        assert_eq!(
            no_budgets(&none),
            Some(
                "--enforce: no budgets are configured, so there is nothing to enforce (add a [[budget]] to tt.toml; \
                 see tt-budget --help)"
            )
        );
        let one = Config::from_str_layer("t.toml", "[[budget]]\nname = \"b\"\nperiod = \"month\"\nlimit_usd = 10\n");
        assert_eq!(no_budgets(&one.unwrap()), None);
    }
}

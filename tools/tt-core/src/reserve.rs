//! Reservations: check an estimate against the budgets and hold it, atomically, until the real usage is logged.
//!
//! `tt-budget --estimate-usd X --reserve` checks the estimate under the log's exclusive lock against the spend
//! (from the index) plus every hold still counting, and when it fits appends a hold to `<log>.tt-holds` before
//! the lock is released — so N agents racing for a budget that fits K of them get exactly K holds. The real
//! usage is logged with `tt-log --settle ID …`: the record carries `"reservation":"ID"`, and that one append is
//! what ends the hold (the `settled` line written after it only saves the next reader a look at the log). An
//! unsettled hold lapses after its TTL; `tt-budget --release ID` ends it early.
//!
//! Invariants:
//! * The holds file is only written under the log's exclusive lock, in whole lines; a reader ignores a last
//!   line without its newline (a write in progress) and refuses any other malformed line (a damaged holds file
//!   must not let spend through as "nothing held").
//! * A hold counts, in the current window of every budget its task's context does not rule out (the same rule
//!   as the estimate: a scope field the context does not give is assumed to match), until it is settled,
//!   released or expired. A record naming it after the offset the hold was made at settles it, even if the
//!   `settled` line was never written (a crash between the two writes).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::budget::gate::TaskContext;
use crate::budget::{Budget, BudgetPeriod, Spent};
use crate::error::{Error, Result, Warned};
use crate::ledger::Ledger;
use crate::price::Pricer;
use crate::store::Writer;

/// The record field that names the reservation a record settles.
pub const FIELD: &str = "reservation";

/// The holds file beside a log: `usage.jsonl` → `usage.jsonl.tt-holds`.
pub fn holds_path(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_os_string();
    s.push(".tt-holds");
    PathBuf::from(s)
}

/// A new reservation id: `r-` and a UUIDv7 (time-sortable, unique across machines).
pub fn new_id() -> String {
    format!("r-{}", crate::id::new_id(Utc::now()))
}

/// True for text shaped like a reservation id (so a typo'd or empty `--settle` is caught before logging).
pub fn is_id(s: &str) -> bool {
    s.strip_prefix("r-").is_some_and(|u| u.len() == 36 && u.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
}

/// The reservation a record settles: `value` is `tt-log --settle ID`, or `TT_RESERVATION` when `from_env`.
/// The id trimmed, none for an empty value, and a usage error naming where the value came from for text that is
/// not an id — a typo'd id would log a record that settles nothing.
pub fn settle_id(value: Option<&str>, from_env: bool) -> Result<Option<String>> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) if !is_id(id) => {
            let what = if from_env { "TT_RESERVATION" } else { "--settle" };
            Err(Error::usage(format!(
                "{what} wants the id tt-budget --reserve printed (r-…), got {id:?}{}",
                if from_env { "; unset it, or set it to such an id" } else { "" }
            )))
        }
        id => Ok(id.map(str::to_string)),
    }
}

/// One reservation.
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    /// Its id (`r-…`).
    pub id: String,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// When it lapses.
    pub expires: DateTime<Utc>,
    /// The log's length when it was made: a record settling it can only come after.
    pub offset: u64,
    /// Dollars held.
    pub usd: Decimal,
    /// Tokens held.
    pub tokens: u64,
    /// The task's context (agent, model, session, …), which decides the budgets it counts in.
    pub context: TaskContext,
}

impl Hold {
    /// What it holds, as spend (no records).
    pub fn spent(&self) -> Spent {
        Spent { records: 0, usd: self.usd, tokens: self.tokens, unpriced: 0, overflow: false }
    }

    /// True when it counts in budget `b`: its context does not rule out `b`'s scope.
    pub fn applies(&self, b: &Budget, pricer: &mut Pricer<'_>) -> bool {
        self.context.excludes(&b.scope, pricer).is_none()
    }

    /// The session it counts in for a session budget: its context's, else a session of its own.
    pub fn session(&self) -> String {
        self.context.get("session").map_or_else(|| format!("(reservation {})", self.id), String::from)
    }

    fn line(&self) -> String {
        let line = json!({
            "hold": self.id,
            "at": crate::record::format_ts(self.at),
            "expires": crate::record::format_ts(self.expires),
            "offset": self.offset,
            "usd": crate::money::canonical(self.usd),
            "tokens": self.tokens,
            "context": self.context.fields,
        });
        format!("{line}\n")
    }
}

/// What became of a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Never made (here).
    Unknown,
    /// Still holding.
    Active,
    /// Lapsed at its TTL.
    Expired,
    /// Settled or released (the word says which).
    Ended(String),
}

/// The holds file as read: every hold made and how the ended ones ended.
#[derive(Debug, Default)]
pub struct Holds {
    all: Vec<Hold>,
    ended: BTreeMap<String, String>,
}

/// Read the holds file beside `log` (none yet: no holds).
pub fn read(log: &Path) -> Result<Holds> {
    let path = holds_path(log);
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Holds::default()),
        Err(e) => return Err(Error::io(&name, e)),
    };
    parse(&name, &text)
}

/// The holds a log keeps, wherever it keeps them: the file beside a file log, a ledger's `tt.holds`.
pub fn read_from(w: &mut Writer) -> Result<Holds> {
    match w {
        Writer::File(l) => read(l.path()),
        Writer::Ledger(l) => read_ledger(l),
    }
}

/// The holds of a ledger (its `tt.holds` lines, parsed as a holds file's).
pub fn read_ledger(l: &mut Ledger) -> Result<Holds> {
    let text = l.hold_lines()?;
    parse(&format!("{} (tt.holds)", l.name()), &text)
}

/// Parse the lines of a holds file, `name` for errors.
fn parse(name: &str, text: &str) -> Result<Holds> {
    let mut holds = Holds::default();
    // A last line without its newline is a write in progress (another process holds the lock): not yet there.
    let complete = match text.rfind('\n') {
        Some(k) => &text[..=k],
        None => "",
    };
    for (n, line) in complete.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| Error::data(format!("{name}:{}: {what} (delete the file to drop every hold)", n + 1));
        let v: Map<String, Value> = serde_json::from_str(line).map_err(|_| bad("not a hold line"))?;
        if let Some(id) = v.get("end").and_then(Value::as_str) {
            let why = v.get("why").and_then(Value::as_str).unwrap_or("ended");
            holds.ended.insert(id.to_string(), why.to_string());
            continue;
        }
        let text = |k: &str| v.get(k).and_then(Value::as_str).ok_or_else(|| bad(&format!("no `{k}`")));
        let time = |k: &str| {
            text(k).and_then(|t| {
                DateTime::parse_from_rfc3339(t).map(|t| t.to_utc()).map_err(|_| bad(&format!("bad `{k}`")))
            })
        };
        let mut context = TaskContext::default();
        if let Some(c) = v.get("context").and_then(Value::as_object) {
            for (k, val) in c {
                context.fields.insert(k.clone(), val.as_str().ok_or_else(|| bad("bad `context`"))?.to_string());
            }
        }
        holds.all.push(Hold {
            id: text("hold")?.to_string(),
            at: time("at")?,
            expires: time("expires")?,
            offset: v.get("offset").and_then(Value::as_u64).ok_or_else(|| bad("bad `offset`"))?,
            usd: crate::money::parse_decimal(text("usd")?).ok_or_else(|| bad("bad `usd`"))?,
            tokens: v.get("tokens").and_then(Value::as_u64).ok_or_else(|| bad("bad `tokens`"))?,
            context,
        });
    }
    Ok(holds)
}

impl Holds {
    /// The holds still counting at `now`: not ended, not expired, and not settled by a record appended to the
    /// log (`log`, `len` bytes long) since the hold was made.
    pub fn active(&self, log: Option<&mut File>, len: u64, now: DateTime<Utc>) -> Result<Vec<Hold>> {
        let open: Vec<&Hold> = self.all.iter().filter(|h| !self.ended.contains_key(&h.id) && h.expires > now).collect();
        let (Some(from), Some(log)) = (open.iter().map(|h| h.offset).min().filter(|o| *o < len), log) else {
            return Ok(open.into_iter().cloned().collect());
        };
        let settled = settled_since(log, from, len)?;
        Ok(open.into_iter().filter(|h| !settled.contains(&h.id)).cloned().collect())
    }

    /// [`Holds::active`] for a ledger: a record settles a hold when it names it and was added after the hold
    /// was made (its `offset` is the ledger's last record number then).
    pub fn active_in_ledger(&self, l: &mut Ledger, now: DateTime<Utc>) -> Result<Vec<Hold>> {
        let open: Vec<&Hold> = self.all.iter().filter(|h| !self.ended.contains_key(&h.id) && h.expires > now).collect();
        let Some(from) = open.iter().map(|h| h.offset).min() else { return Ok(Vec::new()) };
        let settled = named_ids(l.reservation_lines_after(from)?.as_bytes());
        Ok(open.into_iter().filter(|h| !settled.contains(&h.id)).cloned().collect())
    }

    /// The holds still counting at `now` in the log `w` (see [`Holds::active`]).
    pub fn active_in(&self, w: &mut Writer, now: DateTime<Utc>) -> Result<Vec<Hold>> {
        match w {
            Writer::File(l) => {
                let len = l.len()?;
                self.active(Some(l.file()), len, now)
            }
            Writer::Ledger(l) => self.active_in_ledger(l, now),
        }
    }

    /// What became of reservation `id` at `now` (a settling record in the log is not looked for here).
    pub fn state(&self, id: &str, now: DateTime<Utc>) -> State {
        match (self.all.iter().find(|h| h.id == id), self.ended.get(id)) {
            (None, _) => State::Unknown,
            (Some(_), Some(why)) => State::Ended(why.clone()),
            (Some(h), None) if h.expires <= now => State::Expired,
            (Some(_), None) => State::Active,
        }
    }
}

/// The reservation ids named by records in `[from, len)` of the log.
fn settled_since(log: &mut File, from: u64, len: u64) -> Result<BTreeSet<String>> {
    let mut buf = Vec::with_capacity((len - from) as usize);
    log.seek(SeekFrom::Start(from)).map_err(|e| Error::io("usage log", e))?;
    Read::by_ref(log).take(len - from).read_to_end(&mut buf).map_err(|e| Error::io("usage log", e))?;
    Ok(named_ids(&buf))
}

/// The reservation ids records name in `lines`.
fn named_ids(lines: &[u8]) -> BTreeSet<String> {
    let needle = format!("\"{FIELD}\":\"");
    let mut ids = BTreeSet::new();
    for at in memchr::memmem::find_iter(lines, needle.as_bytes()) {
        let rest = &lines[at + needle.len()..];
        if let Some(end) = memchr::memchr(b'"', rest) {
            ids.insert(String::from_utf8_lossy(&rest[..end]).into_owned());
        }
    }
    ids
}

/// What the holds add to budget `b`: in its current window, every hold that applies; for a session budget, per
/// session.
pub fn held(holds: &[Hold], b: &Budget, pricer: &mut Pricer<'_>) -> Spent {
    let mut s = Spent::default();
    if b.period != BudgetPeriod::Session {
        for h in holds.iter().filter(|h| h.applies(b, pricer)) {
            s.merge(&h.spent());
        }
    }
    s
}

/// What the holds add to session budget `b`, per session they count in.
pub fn held_by_session(holds: &[Hold], b: &Budget, pricer: &mut Pricer<'_>) -> BTreeMap<String, Spent> {
    let mut m: BTreeMap<String, Spent> = BTreeMap::new();
    for h in holds.iter().filter(|h| h.applies(b, pricer)) {
        m.entry(h.session()).or_default().merge(&h.spent());
    }
    m
}

/// Hold `usd` and `tokens` for the task of `context` until `ttl` has passed: the hold, written where the log
/// keeps its holds. The caller holds the log's lock (`w`) and checked the amount against every budget under it;
/// the hold notes where the log ends (a record settling it can only come after).
pub fn hold(w: &mut Writer, usd: Decimal, tokens: u64, context: &TaskContext, ttl: chrono::Duration) -> Result<Hold> {
    let now = Utc::now();
    let offset = match w {
        Writer::File(l) => l.len()?,
        Writer::Ledger(l) => l.last_seq()?,
    };
    let hold = Hold { id: new_id(), at: now, expires: now + ttl, offset, usd, tokens, context: context.clone() };
    append_to(w, &hold.line())?;
    Ok(hold)
}

/// Append one holds line where the log `w` keeps them.
fn append_to(w: &mut Writer, line: &str) -> Result<()> {
    match w {
        Writer::File(l) => append(l.path(), line),
        Writer::Ledger(l) => l.append_hold_line(line),
    }
}

/// After a record naming reservation `id` was appended (under the log's lock), given the hold's state before:
/// the `settled` line for a hold that was open (the record itself already ended it; the line only spares
/// readers a look at the log), and what to tell the user, if anything.
pub fn settled(w: &mut Writer, id: &str, before: State) -> Option<String> {
    match before {
        State::Active => append_end(w, id, "settled", Utc::now())
            .err()
            .map(|e| format!("{id}: settled by the record, but not noted: {e}")),
        State::Unknown => Some(format!("no reservation {id} in this log: logged, nothing to settle")),
        State::Expired => Some(format!("reservation {id} had expired: logged")),
        // A task's later records name its reservation too (TT_RESERVATION): nothing to say.
        State::Ended(why) if why == "settled" => None,
        State::Ended(why) => Some(format!("reservation {id} was already {why}: logged")),
    }
}

/// The name of reservation `id`'s lock in a ledger (`ledger::Locks::Only`): what reads its state and ends it
/// (a settle, a release) takes it, so it ends once.
pub fn lock(id: &str) -> String {
    format!("reservation\u{0}{id}")
}

/// End reservation `id` early, under its lock: what to say (`released r-…`, or that it had already
/// ended), with the warning about a torn last line the lock moved aside, if any. An id never made here is an
/// error.
pub fn release(log: &Path, id: &str) -> Result<Warned<String>> {
    let id = id.trim();
    let at = crate::store::Log::at(log)?;
    let unknown = || Error::usage(format!("no reservation {id:?} in {}", at.name()));
    if at.file().is_some_and(|f| !f.exists()) {
        return Err(unknown());
    }
    let Warned { value: mut w, warnings } = at.lock_parts(&crate::ledger::Locks::Only(vec![lock(id)]))?;
    let now = Utc::now();
    let said = match read_from(&mut w)?.state(id, now) {
        State::Unknown => return Err(unknown()),
        State::Active => {
            append_end(&mut w, id, "released", now)?;
            format!("released {id}")
        }
        State::Expired => format!("{id} had already expired"),
        State::Ended(why) => format!("{id} was already {why}"),
    };
    // The lock is released only as this returns: reading the state and appending its end are one step.
    Ok(Warned { value: said, warnings })
}

/// Append the end of reservation `id` (`settled` or `released`; caller holds the log's lock).
pub fn append_end(w: &mut Writer, id: &str, why: &str, now: DateTime<Utc>) -> Result<()> {
    let line = json!({"end": id, "why": why, "at": crate::record::format_ts(now)});
    append_to(w, &format!("{line}\n"))
}

/// Holds files longer than this are rewritten with only the holds still open (see [`append`]).
const COMPACT_AT: u64 = 64 * 1024;

/// Append one whole line (caller holds the log's exclusive lock). A last line cut short (a crash, a full disk)
/// is dropped first, so the new line never joins it and the file stays readable; a file grown long with holds
/// that ended is first rewritten (atomically) with only the open ones, so reading it stays cheap.
fn append(log: &Path, line: &str) -> Result<()> {
    let path = holds_path(log);
    let name = path.display().to_string();
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(&name, e)),
    };
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |k| k + 1);
    if text.len() as u64 > COMPACT_AT {
        let now = Utc::now();
        let holds = read(log)?;
        let mut kept = String::new();
        for h in holds.all.iter().filter(|h| !holds.ended.contains_key(&h.id) && h.expires > now) {
            kept.push_str(&h.line());
        }
        kept.push_str(line);
        // A private temp file with a random name, renamed over the holds (never a guessable `.tmp<PID>`).
        return crate::fsutil::write_atomic(&path, kept.as_bytes());
    }
    // Never through a link planted at `<log>.tt-holds`; created 0600.
    let f = crate::fsutil::open_side(&path, std::fs::OpenOptions::new().create(true).append(true))?;
    if complete < text.len() {
        f.set_len(complete as u64).map_err(|e| Error::io(&name, e))?;
    }
    (&f).write_all(line.as_bytes()).map_err(|e| Error::io(&name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_recognised() {
        let id = new_id();
        assert!(is_id(&id), "{id}");
        assert!(!is_id("r-"));
        assert!(!is_id(&id[1..]));
    }

    /// A settle id is trimmed; an empty one is none; anything else is refused naming the flag or variable.
    #[test]
    fn settle_ids_are_checked() {
        let id = new_id();
        assert_eq!(settle_id(Some(&format!(" {id} ")), false).unwrap(), Some(id));
        assert_eq!(settle_id(Some("  "), true).unwrap(), None);
        assert_eq!(settle_id(None, false).unwrap(), None);
        assert_eq!(
            settle_id(Some("r-1"), false).unwrap_err().to_string(),
            "--settle wants the id tt-budget --reserve printed (r-…), got \"r-1\""
        );
        assert_eq!(
            settle_id(Some("x"), true).unwrap_err().to_string(),
            "TT_RESERVATION wants the id tt-budget --reserve printed (r-…), got \"x\"; unset it, or set it to such \
             an id"
        );
    }
}

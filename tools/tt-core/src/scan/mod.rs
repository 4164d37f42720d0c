//! Fast, zero-copy reading of usage-log lines, for the tools that only read (`tt-sum`, `tt-budget`,
//! `tt-log --enforce`).
//!
//! [`View::parse`] is a hand-written JSON scanner over one line: strings are borrowed from the line unless
//! they hold escapes, token counts are parsed straight to `u64`, `cost_usd` is parsed exactly from its text
//! (never through `f64`), and `tags` stay as raw text looked up on demand. It applies the same rules as
//! [`Record::parse`] — the same required fields, types, names and schema version — and when it rejects a line
//! the reference parser is asked for the message, so both paths say the same thing. The caller adds
//! `file:line`.
//!
//! [`fold`] streams a [`Source`] through `View::parse` with large reused buffers; a big regular file is split
//! on line boundaries between a few threads, each folding into its own state, and the states come back in
//! file order for the caller to merge. Memory is the buffers plus the states: it never grows with the file.
//!
//! Invariants: every line [`View::parse`] accepts, `Record::parse` accepts too, with the same values; an error
//! names the first bad line in file order, however the work was split.

use std::borrow::Cow;
use std::cell::Cell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use memchr::memchr;
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::input::Source;
use crate::record::{Billing, MAX_NAME_LEN, Record, SCHEMA_VERSION, Service, Tokens, parse_speed};

/// A record field that reports can group by and budgets can be scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `agent`
    Agent,
    /// `model`
    Model,
    /// `provider`
    Provider,
    /// `session`
    Session,
    /// `task`
    Task,
    /// `project`
    Project,
    /// `branch`
    Branch,
    /// `commit`
    Commit,
    /// `host`
    Host,
    /// `user`
    User,
    /// `source`
    Source,
    /// `tag:KEY` — one key of `tags`.
    Tag(String),
}

impl Field {
    /// Parse a field name: `agent`, …, `tag:KEY` (also `tags.KEY`).
    pub fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "agent" => Field::Agent,
            "model" => Field::Model,
            "provider" => Field::Provider,
            "session" => Field::Session,
            "task" => Field::Task,
            "project" => Field::Project,
            "branch" => Field::Branch,
            "commit" => Field::Commit,
            "host" => Field::Host,
            "user" => Field::User,
            "source" => Field::Source,
            _ => {
                let key = name.strip_prefix("tag:").or_else(|| name.strip_prefix("tags."))?;
                if key.is_empty() {
                    return None;
                }
                Field::Tag(key.to_string())
            }
        })
    }

    /// The canonical name (`tag:KEY` for tags).
    pub fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Field::Agent => "agent",
            Field::Model => "model",
            Field::Provider => "provider",
            Field::Session => "session",
            Field::Task => "task",
            Field::Project => "project",
            Field::Branch => "branch",
            Field::Commit => "commit",
            Field::Host => "host",
            Field::User => "user",
            Field::Source => "source",
            Field::Tag(k) => return Cow::Owned(format!("tag:{k}")),
        })
    }
}

/// One log line, validated, with its strings borrowed from the line where possible.
#[derive(Debug, Clone)]
pub struct View<'a> {
    /// The whole line (without its newline).
    pub line: &'a [u8],
    /// `id`
    pub id: Cow<'a, str>,
    /// `ts`, parsed.
    pub ts: DateTime<Utc>,
    /// `agent`
    pub agent: Cow<'a, str>,
    /// `model`
    pub model: Cow<'a, str>,
    /// `provider`
    pub provider: Option<Cow<'a, str>>,
    /// `session`
    pub session: Option<Cow<'a, str>>,
    /// `task`
    pub task: Option<Cow<'a, str>>,
    /// `project`
    pub project: Option<Cow<'a, str>>,
    /// `branch`
    pub branch: Option<Cow<'a, str>>,
    /// `commit`
    pub commit: Option<Cow<'a, str>>,
    /// `host`
    pub host: Option<Cow<'a, str>>,
    /// `user`
    pub user: Option<Cow<'a, str>>,
    /// `source`
    pub source: Option<Cow<'a, str>>,
    /// Token counts.
    pub tokens: Tokens,
    /// `cost_usd`, exact.
    pub cost_usd: Option<Decimal>,
    /// `estimated`
    pub estimated: Option<bool>,
    /// `service_tier`, `speed` and the tool-call counts.
    pub billing: Billing,
    /// The raw text of the `tags` object (validated: an object of strings).
    tags: Option<&'a str>,
}

impl<'a> View<'a> {
    /// Parse and validate one line (no newline). Errors match [`Record::parse`]'s; the caller adds file:line.
    pub fn parse(line: &'a [u8]) -> Result<View<'a>> {
        parse_line(line, None).map_err(|Bad| rejected(line))
    }

    /// The value of a groupable field, if the record has it.
    #[inline]
    pub fn get(&self, f: &Field) -> Option<Cow<'_, str>> {
        let s = match f {
            Field::Agent => &self.agent,
            Field::Model => &self.model,
            Field::Provider => self.provider.as_ref()?,
            Field::Session => self.session.as_ref()?,
            Field::Task => self.task.as_ref()?,
            Field::Project => self.project.as_ref()?,
            Field::Branch => self.branch.as_ref()?,
            Field::Commit => self.commit.as_ref()?,
            Field::Host => self.host.as_ref()?,
            Field::User => self.user.as_ref()?,
            Field::Source => self.source.as_ref()?,
            Field::Tag(k) => return self.tag(k),
        };
        Some(Cow::Borrowed(s.as_ref()))
    }

    /// One tag's value.
    pub fn tag(&self, key: &str) -> Option<Cow<'a, str>> {
        self.tags().into_iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// All tags, in line order (a repeated key appears twice; the last one counts, as in [`Record`]).
    pub fn tags(&self) -> Vec<(Cow<'a, str>, Cow<'a, str>)> {
        let Some(raw) = self.tags else { return Vec::new() };
        let mut c = Cursor::new(raw);
        let mut out = Vec::new();
        // Already validated by parse; a failure here cannot happen and just ends the list.
        let _ = c.object(|c, k| {
            let v = c.string()?;
            out.push((k, v));
            Ok(())
        });
        out
    }

    /// True when `scope` (field name → required value) matches this record. Values compare literally, except
    /// that a model scope also matches when `same_model(record's model, scope's model)` says both name one model
    /// (budgets pass the price table's resolution: aliases, dated ids, prefixes), so every spelling counts.
    pub fn matches(&self, scope: &[(Field, String)], same_model: &mut impl FnMut(&str, &str) -> bool) -> bool {
        scope.iter().all(|(f, want)| {
            self.get(f).is_some_and(|v| v == want.as_str() || (*f == Field::Model && same_model(&v, want)))
        })
    }
}

/// The error for a line the fast path rejected: the reference parser is asked for the message, so both paths
/// report a bad line the same way.
#[cold]
fn rejected(line: &[u8]) -> Error {
    let text = match crate::input::utf8(line) {
        Ok(t) => t,
        Err(e) => return e,
    };
    match Record::parse(text) {
        Err(e) => e,
        Ok(_) => Error::data("record not accepted by the log reader (please report this line)"),
    }
}

/// The fields of the schema, so a key is recognised once and dispatched on as a number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum K {
    V,
    Id,
    Ts,
    Agent,
    Model,
    Provider,
    InputTokens,
    OutputTokens,
    CacheReadTokens,
    CacheWriteTokens,
    CacheWrite1hTokens,
    ReasoningTokens,
    ServiceTier,
    Speed,
    WebSearch,
    WebFetch,
    CodeExecution,
    DurationMs,
    Session,
    Task,
    Project,
    Branch,
    Commit,
    Host,
    User,
    Source,
    Notes,
    Price,
    Estimated,
    CostUsd,
    Tags,
    Other,
}

/// The schema's keys, in the order [`Record::to_json`] writes them (which [`Cursor::known_key`] relies on to
/// find the next key first).
const KEYS: [(&[u8], K); 31] = [
    (b"v", K::V),
    (b"id", K::Id),
    (b"ts", K::Ts),
    (b"agent", K::Agent),
    (b"model", K::Model),
    (b"provider", K::Provider),
    (b"input_tokens", K::InputTokens),
    (b"output_tokens", K::OutputTokens),
    (b"cache_read_tokens", K::CacheReadTokens),
    (b"cache_write_tokens", K::CacheWriteTokens),
    (b"cache_write_1h_tokens", K::CacheWrite1hTokens),
    (b"reasoning_tokens", K::ReasoningTokens),
    (b"service_tier", K::ServiceTier),
    (b"speed", K::Speed),
    (b"web_search_requests", K::WebSearch),
    (b"web_fetch_requests", K::WebFetch),
    (b"code_execution_requests", K::CodeExecution),
    (b"session", K::Session),
    (b"task", K::Task),
    (b"project", K::Project),
    (b"branch", K::Branch),
    (b"commit", K::Commit),
    (b"host", K::Host),
    (b"user", K::User),
    (b"duration_ms", K::DurationMs),
    (b"notes", K::Notes),
    (b"tags", K::Tags),
    (b"source", K::Source),
    (b"estimated", K::Estimated),
    (b"cost_usd", K::CostUsd),
    (b"price", K::Price),
];

/// `key"` (the key and its closing quote) as three little-endian words, and the masks of the bytes that count
/// in each: the longest key (`cache_write_1h_tokens"`, 22 bytes) fits in 24, so any key is recognised with at
/// most three word compares and no call to `memcmp`.
const fn prefix(k: &[u8]) -> [(u64, u64); 3] {
    let mut a = [(0u64, 0u64); 3];
    let mut j = 0;
    while j <= k.len() {
        let byte = if j < k.len() { k[j] } else { b'"' };
        a[j / 8].0 |= (byte as u64) << (8 * (j % 8));
        a[j / 8].1 |= 0xff << (8 * (j % 8));
        j += 1;
    }
    a
}

/// [`prefix`] of every key in [`KEYS`], computed at compile time.
const PREFIXES: [[(u64, u64); 3]; KEYS.len()] = {
    let mut a = [[(0u64, 0u64); 3]; KEYS.len()];
    let mut i = 0;
    while i < KEYS.len() {
        a[i] = prefix(KEYS[i].0);
        i += 1;
    }
    a
};

/// Eight bytes of `b` from `at` as a little-endian word, zero-padded past the end. A padding zero never matches
/// a masked byte of [`PREFIXES`] (key bytes and the quote are never zero), so a short tail cannot match a key.
#[inline]
fn word(b: &[u8], at: usize) -> u64 {
    if let Some(&w) = b.get(at..).and_then(|r| r.first_chunk::<8>()) {
        return u64::from_le_bytes(w);
    }
    let mut w = [0u8; 8];
    match b.get(at..at + 8) {
        Some(s) => w.copy_from_slice(s),
        None => {
            let s = b.get(at..).unwrap_or_default();
            w[..s.len()].copy_from_slice(s);
        }
    }
    u64::from_le_bytes(w)
}

impl K {
    #[inline]
    fn of(key: &[u8]) -> K {
        KEYS.iter().find(|(k, _)| *k == key).map_or(K::Other, |(_, v)| *v)
    }
}

/// A scanning position in one line (already known to be UTF-8).
struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Where [`Cursor::known_key`] starts looking: just after the previous key's place in [`KEYS`].
    hint: usize,
}

/// A line the fast path rejects. It carries no message: [`View::parse`] asks the reference parser for one, so
/// the hot path never builds strings it would throw away.
#[derive(Debug, Clone, Copy)]
struct Bad;

type Fast<T> = std::result::Result<T, Bad>;

#[cold]
fn bad<M>(_why: M) -> Bad {
    Bad
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Cursor<'a> {
        let b = s.as_bytes();
        Cursor { s, b, i: 0, hint: 0 }
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Fast<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(bad(format!("invalid JSON: expected `{}` (column {})", c as char, self.i + 1)))
        }
    }

    /// A key of the schema at the cursor, recognised by comparing the expected bytes (quote included) instead
    /// of scanning for the closing quote; `None` for anything else (the caller falls back to [`Cursor::key`]).
    #[inline]
    fn known_key(&mut self) -> Option<K> {
        let b = self.b;
        let i = self.i;
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let w = [word(b, i + 1), word(b, i + 9), word(b, i + 17)];
        // tt writes the keys in one order, and [`KEYS`] follows it: starting after the previous match usually
        // finds the next key on the first compare.
        let n = KEYS.len();
        for step in 0..n {
            let j = (self.hint + step) % n;
            let p = &PREFIXES[j];
            if w[0] & p[0].1 == p[0].0 && w[1] & p[1].1 == p[1].0 && w[2] & p[2].1 == p[2].0 {
                let (k, v) = KEYS[j];
                self.i = i + 2 + k.len();
                self.hint = j + 1;
                return Some(v);
            }
        }
        None
    }

    /// An object key the schema does not know, as bytes.
    fn key(&mut self) -> Fast<Cow<'a, [u8]>> {
        self.string().map(|k| match k {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        })
    }

    /// A string at the cursor (after whitespace).
    #[inline]
    fn string(&mut self) -> Fast<Cow<'a, str>> {
        self.ws();
        if self.peek() != Some(b'"') {
            return Err(bad(format!("invalid JSON: expected a string (column {})", self.i + 1)));
        }
        let start = self.i + 1;
        // Strings are short: plain loops beat setting up a vector search. Eight bytes at a time (SWAR) up to
        // the word holding a quote, a backslash or a byte below 0x20, then byte by byte.
        let b = self.b;
        let mut j = start;
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        while let Some(w) = b.get(j..j + 8) {
            let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            let q = x ^ (ONES * u64::from(b'"'));
            let e = x ^ (ONES * u64::from(b'\\'));
            let hit = (q.wrapping_sub(ONES) & !q) | (e.wrapping_sub(ONES) & !e) | (x.wrapping_sub(ONES * 0x20) & !x);
            if hit & HIGH != 0 {
                break;
            }
            j += 8;
        }
        let end = loop {
            match b.get(j) {
                Some(b'"') => break j,
                Some(b'\\') => return self.escaped(start),
                Some(c) if *c < 0x20 => return Err(bad("invalid JSON: control character in a string")),
                Some(_) => j += 1,
                None => return Err(bad("invalid JSON: unterminated string")),
            }
        };
        self.i = end + 1;
        // Both ends are next to an ASCII quote, so they are character boundaries.
        self.s.get(start..end).map(Cow::Borrowed).ok_or_else(|| bad("invalid UTF-8 in a string"))
    }

    /// The slow path of [`Cursor::string`]: a string with escapes, decoded into an owned buffer.
    fn escaped(&mut self, start: usize) -> Fast<Cow<'a, str>> {
        let mut out: Vec<u8> = Vec::with_capacity(32);
        let mut i = start;
        let b = self.b;
        loop {
            let Some(&c) = b.get(i) else { return Err(bad("invalid JSON: unterminated string")) };
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *b.get(i + 1).ok_or_else(|| bad("invalid JSON: unterminated string"))?;
                    i += 2;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let hi = hex4(b, i)?;
                            i += 4;
                            let ch = if (0xD800..0xDC00).contains(&hi) {
                                if b.get(i) != Some(&b'\\') || b.get(i + 1) != Some(&b'u') {
                                    return Err(bad("invalid JSON: lone surrogate"));
                                }
                                let lo = hex4(b, i + 2)?;
                                i += 6;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(bad("invalid JSON: lone surrogate"));
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            let ch = ch.ok_or_else(|| bad("invalid JSON: lone surrogate"))?;
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        _ => return Err(bad("invalid JSON: invalid escape")),
                    }
                }
                c if c < 0x20 => return Err(bad("invalid JSON: control character in a string")),
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        self.i = i + 1;
        String::from_utf8(out).map(Cow::Owned).map_err(|_| bad("invalid UTF-8 in a string"))
    }

    /// The text of a JSON number at the cursor, checked against the JSON grammar.
    #[inline]
    fn number(&mut self) -> Fast<&'a [u8]> {
        self.ws();
        let b = self.b;
        let s = self.i;
        let mut i = s;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        let int_start = i;
        let n = digits(&mut i);
        if n == 0 || (n > 1 && b[int_start] == b'0') {
            return Err(bad(format!("invalid JSON: invalid number (column {})", s + 1)));
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return Err(bad(format!("invalid JSON: invalid number (column {})", s + 1)));
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(bad(format!("invalid JSON: invalid number (column {})", s + 1)));
            }
        }
        self.i = i;
        Ok(&b[s..i])
    }

    /// True (and consumes it) when the next value is `null`.
    #[inline]
    fn null(&mut self) -> bool {
        self.ws();
        if self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            true
        } else {
            false
        }
    }

    fn literal(&mut self) -> Fast<Option<bool>> {
        self.ws();
        let r = &self.b[self.i..];
        for (word, v) in [(&b"true"[..], Some(true)), (b"false", Some(false)), (b"null", None)] {
            if r.starts_with(word) {
                self.i += word.len();
                return Ok(v);
            }
        }
        Err(bad(format!("invalid JSON: expected a value (column {})", self.i + 1)))
    }

    /// An object: calls `f` with the cursor after each key's colon; `f` must consume the value.
    fn object(&mut self, mut f: impl FnMut(&mut Self, Cow<'a, str>) -> Fast<()>) -> Fast<()> {
        self.eat(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let k = self.string()?;
            self.eat(b':')?;
            f(self, k)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(bad(format!("invalid JSON: expected `,` or `}}` (column {})", self.i + 1))),
            }
        }
    }

    /// Skip any value, validating it.
    fn skip(&mut self, depth: u32) -> Fast<()> {
        if depth > 127 {
            return Err(bad("invalid JSON: nested too deeply"));
        }
        self.ws();
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') => self.object(|c, _| c.skip(depth + 1)),
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(bad("invalid JSON: expected `,` or `]`")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(|_| ()),
            _ => self.literal().map(|_| ()),
        }
    }

    /// A non-negative integer field (`None` for null), parsed in one pass.
    #[inline]
    fn uint(&mut self, key: &str) -> Fast<Option<u64>> {
        self.ws();
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let mut n: u64 = 0;
        let mut overflow = false;
        while let Some(&d) = b.get(i) {
            if !d.is_ascii_digit() {
                break;
            }
            if i - start < 19 {
                // Nineteen digits always fit in a u64: no overflow check needed for the usual short counts.
                n = n * 10 + u64::from(d - b'0');
            } else {
                match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d - b'0'))) {
                    Some(m) => n = m,
                    None => overflow = true,
                }
            }
            i += 1;
        }
        let bad_int = || bad(format!("field `{key}`: expected a non-negative integer"));
        if i == start {
            if self.null() {
                return Ok(None);
            }
            return Err(bad_int());
        }
        if (i - start > 1 && b[start] == b'0') || overflow || matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
            return Err(bad_int());
        }
        self.i = i;
        Ok(Some(n))
    }

    /// An optional string field (`None` for null).
    #[inline]
    fn opt_str(&mut self, key: &str) -> Fast<Option<Cow<'a, str>>> {
        if self.null() {
            return Ok(None);
        }
        if self.peek() != Some(b'"') {
            return Err(bad(format!("field `{key}`: expected a string")));
        }
        self.string().map(Some)
    }
}

fn hex4(b: &[u8], i: usize) -> Fast<u32> {
    let h = b.get(i..i + 4).ok_or_else(|| bad("invalid JSON: short \\u escape"))?;
    let mut v = 0u32;
    for &c in h {
        let d = (c as char).to_digit(16).ok_or_else(|| bad("invalid JSON: bad \\u escape"))?;
        v = v * 16 + d;
    }
    Ok(v)
}

/// An exact non-negative decimal from JSON number text (or a string's text): plain decimals of up to 19
/// significant digits (`0`, `12`, `0.375`: no sign, no leading zero, digits on both sides of one dot) are
/// assembled directly; anything else goes through the general parser, exactly as [`Record::parse`] reads it.
#[inline]
fn decimal(t: &[u8]) -> Fast<Decimal> {
    if let Some(d) = plain_decimal(t) {
        return Ok(d);
    }
    let s = std::str::from_utf8(t).map_err(|_| bad("field `cost_usd`: not a decimal number"))?;
    match crate::money::parse_decimal(s) {
        Some(d) if d >= Decimal::ZERO => Ok(d),
        Some(_) => Err(bad("field `cost_usd`: must not be negative")),
        None => Err(bad(format!("field `cost_usd`: not a decimal number: {s}"))),
    }
}

/// [`decimal`]'s quick case: `0|[1-9][0-9]*` and an optional `.[0-9]+`, at most 19 digits in all.
#[inline]
fn plain_decimal(t: &[u8]) -> Option<Decimal> {
    let int = t.iter().take_while(|c| c.is_ascii_digit()).count();
    if int == 0 || (int > 1 && t[0] == b'0') {
        return None;
    }
    let frac = match t.get(int) {
        None => 0,
        Some(b'.') => {
            let n = t[int + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || int + 1 + n != t.len() {
                return None;
            }
            n
        }
        Some(_) => return None,
    };
    if int + frac > 19 {
        return None;
    }
    let m = t.iter().filter(|c| c.is_ascii_digit()).fold(0u64, |m, &c| m * 10 + u64::from(c - b'0'));
    Some(Decimal::from_i128_with_scale(i128::from(m), frac as u32))
}

/// Validate agent/model like [`crate::record::check_name`], cheaply for the common printable-ASCII case.
#[inline]
fn check_name(field: &str, s: &str) -> Fast<()> {
    if printable_name(s) {
        return Ok(());
    }
    crate::record::check_name(field, s).map_err(bad)
}

/// True for a name that surely passes [`check_name`]: printable ASCII (0x20 to 0x7e), not blank at either end,
/// not too long. Eight bytes at a time: a byte below 0x20 borrows into its high bit when 0x20 is taken away, one
/// from 0x80 up has it already, and 0x7f gets it when one is added (every false mark lies above a true one, so a
/// name is never wrongly passed).
#[inline(always)]
fn printable_name(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > MAX_NAME_LEN || b[0] == b' ' || b[b.len() - 1] == b' ' {
        return false;
    }
    let mut high = 0u64;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        high |= x | x.wrapping_add(0x0101_0101_0101_0101) | x.wrapping_sub(0x2020_2020_2020_2020) & !x;
    }
    let mut last = [b' '; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    let x = u64::from_le_bytes(last);
    high |= x | x.wrapping_add(0x0101_0101_0101_0101) | x.wrapping_sub(0x2020_2020_2020_2020) & !x;
    high & 0x8080_8080_8080_8080 == 0
}

/// The parse of a line: [`parse_quick`] when the line is in the shape tt writes, else the general
/// [`parse_fast`] (which also finds the error of a bad line).
#[inline]
fn parse_line<'a>(line: &'a [u8], text: Option<&'a str>) -> Fast<View<'a>> {
    match parse_quick(line, text) {
        Some(v) => Ok(v),
        None => parse_fast(line),
    }
}

/// The quick path for lines as tt writes them: compact JSON (no whitespace), strings without escapes, every
/// key of the schema, no `null`s. A string ends at the next quote, found eight bytes at a time together with
/// any backslash or control byte before it ([`quick_string`]), and the scanner only looks at the few bytes
/// between the strings. Anything else — a backslash, whitespace, an unknown key, a `null`, a
/// number in exponent form, an invalid value — returns `None` and the line takes [`parse_fast`], so this path
/// never decides that a line is bad and never accepts one `parse_fast` would reject (the tests compare both
/// on every line they have and on mutations of them).
#[inline]
fn parse_quick<'a>(line: &'a [u8], text: Option<&'a str>) -> Option<View<'a>> {
    // The reader usually validated the whole block the line is in already.
    let text = match text {
        Some(t) => t,
        None => std::str::from_utf8(line).ok()?,
    };
    // A backslash or a control byte sends the line to the general path: inside a string `quick_string` finds
    // it; outside strings only the exact bytes of the structure are taken (keys, digits, `:`, `,`, braces,
    // literals), so a control byte there (whitespace, which tt never writes) is refused as it comes.
    let b = line;
    let mut pos = 1usize;
    let string = |pos: &mut usize| quick_string(b, text, pos);
    let uint = |pos: &mut usize| quick_uint(b, pos);
    if b.first() != Some(&b'{') {
        return None;
    }
    let mut v = None;
    let mut id = None;
    let mut ts_text = None;
    let mut agent = None;
    let mut model = None;
    let mut input = None;
    let mut output = None;
    let mut tokens = Tokens::default();
    let mut opt: [Option<Cow<'_, str>>; 9] = Default::default();
    let mut cost = None;
    let mut estimated = None;
    let mut billing = Billing::default();
    let mut tags = None;
    let mut hint = 0usize;
    // The keys of the previous line, in order: the next line almost always has the same ones.
    let mut shape = SHAPE.get();
    let mut nk = 0usize;
    // The keys seen so far, by their place in KEYS: a repeated key is refused, which the general path decides.
    let mut seen = 0u32;
    loop {
        let j = quick_key(b, &mut pos, shape.get(nk).copied().unwrap_or(NO_KEY), &mut hint)?;
        if seen & (1 << j) != 0 {
            return None;
        }
        seen |= 1 << j;
        if let Some(s) = shape.get_mut(nk) {
            *s = j as u8;
        }
        nk += 1;
        if b.get(pos) != Some(&b':') {
            return None;
        }
        pos += 1;
        match KEYS[j].1 {
            K::V => v = Some(uint(&mut pos)?),
            K::Id => id = Some(string(&mut pos)?),
            K::Ts => ts_text = Some(string(&mut pos)?),
            K::Agent => agent = Some(string(&mut pos)?),
            K::Model => model = Some(string(&mut pos)?),
            K::InputTokens => input = Some(uint(&mut pos)?),
            K::OutputTokens => output = Some(uint(&mut pos)?),
            K::CacheReadTokens => tokens.cache_read = uint(&mut pos)?,
            K::CacheWriteTokens => tokens.cache_write = uint(&mut pos)?,
            K::CacheWrite1hTokens => tokens.cache_write_1h = uint(&mut pos)?,
            K::ReasoningTokens | K::DurationMs => {
                uint(&mut pos)?;
            }
            K::ServiceTier => billing.service = Service::parse(string(&mut pos)?)?,
            K::Speed => billing.fast = parse_speed(string(&mut pos)?)?,
            K::WebSearch => billing.web_search = uint(&mut pos)?,
            K::WebFetch => billing.web_fetch = uint(&mut pos)?,
            K::CodeExecution => billing.code_execution = uint(&mut pos)?,
            K::Provider => opt[0] = Some(Cow::Borrowed(string(&mut pos)?)),
            K::Session => opt[1] = Some(Cow::Borrowed(string(&mut pos)?)),
            K::Task => opt[2] = Some(Cow::Borrowed(string(&mut pos)?)),
            K::Project => opt[3] = Some(Cow::Borrowed(string(&mut pos)?)),
            K::Branch => opt[4] = Some(Cow::Borrowed(string(&mut pos)?)),
            K::Commit => opt[5] = Some(Cow::Borrowed(string(&mut pos)?)),
            K::Host => opt[6] = Some(Cow::Borrowed(string(&mut pos)?)),
            K::User => opt[7] = Some(Cow::Borrowed(string(&mut pos)?)),
            K::Source => opt[8] = Some(Cow::Borrowed(string(&mut pos)?)),
            K::Notes | K::Price => {
                string(&mut pos)?;
            }
            K::Estimated => {
                let r = &b[pos..];
                if r.starts_with(b"true") {
                    estimated = Some(true);
                    pos += 4;
                } else if r.starts_with(b"false") {
                    estimated = Some(false);
                    pos += 5;
                } else {
                    return None;
                }
            }
            K::CostUsd => {
                // Digits and an optional fraction, the shape tt writes (an exponent goes the general way).
                // The mantissa is assembled while scanning; up to 19 digits always fit in a u64.
                let start = pos;
                let mut m: u64 = 0;
                while let Some(&d) = b.get(pos).filter(|d| d.is_ascii_digit()) {
                    m = m.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    pos += 1;
                }
                if pos == start || (pos - start > 1 && b[start] == b'0') {
                    return None;
                }
                let mut digits = pos - start;
                let mut scale = 0;
                if b.get(pos) == Some(&b'.') {
                    pos += 1;
                    let frac = pos;
                    while let Some(&d) = b.get(pos).filter(|d| d.is_ascii_digit()) {
                        m = m.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                        pos += 1;
                    }
                    scale = pos - frac;
                    if scale == 0 {
                        return None;
                    }
                    digits += scale;
                }
                cost = Some(if digits <= 19 {
                    Decimal::from_i128_with_scale(i128::from(m), scale as u32)
                } else {
                    decimal(&b[start..pos]).ok()?
                });
            }
            K::Tags => {
                let start = pos;
                if b.get(pos) != Some(&b'{') {
                    return None;
                }
                pos += 1;
                if b.get(pos) == Some(&b'}') {
                    pos += 1;
                } else {
                    loop {
                        string(&mut pos)?;
                        if b.get(pos) != Some(&b':') {
                            return None;
                        }
                        pos += 1;
                        string(&mut pos)?;
                        match b.get(pos) {
                            Some(b',') => pos += 1,
                            Some(b'}') => {
                                pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                tags = Some(&text[start..pos]);
            }
            K::Other => return None,
        }
        match b.get(pos) {
            Some(b',') => pos += 1,
            Some(b'}') => {
                pos += 1;
                break;
            }
            _ => return None,
        }
    }
    if pos != b.len() || v != Some(SCHEMA_VERSION) {
        return None;
    }
    if let Some(s) = shape.get_mut(nk) {
        *s = NO_KEY;
    }
    SHAPE.set(shape);
    let ts = parse_ts(ts_text?)?;
    let (agent, model) = (agent?, model?);
    check_name("agent", agent).ok()?;
    check_name("model", model).ok()?;
    tokens.input = input?;
    tokens.output = output?;
    let [provider, session, task, project, branch, commit, host, user, source] = opt;
    Some(View {
        line,
        id: Cow::Borrowed(id?),
        ts,
        agent: Cow::Borrowed(agent),
        model: Cow::Borrowed(model),
        provider,
        session,
        task,
        project,
        branch,
        commit,
        host,
        user,
        source,
        tokens,
        cost_usd: cost,
        estimated,
        billing,
        tags,
    })
}

/// The string starting at `pos` (its opening quote), as its text; moves `pos` past its closing quote. `None` when
/// it holds a backslash (an escape: the general path reads it) or a control byte (invalid JSON). Eight bytes at a
/// time up to the word holding the first quote, backslash or control byte — whichever comes first decides, and
/// an escaped quote always comes after its backslash.
#[inline(always)]
fn quick_string<'a>(b: &[u8], text: &'a str, pos: &mut usize) -> Option<&'a str> {
    if b.get(*pos) != Some(&b'"') {
        return None;
    }
    let start = *pos + 1;
    let mut j = start;
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(w) = b.get(j..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*w);
        let quote = x ^ (ONES * u64::from(b'"'));
        let slash = x ^ (ONES * u64::from(b'\\'));
        // Each mask's lowest set high bit is exact (borrows only run upwards from a hit), so the lowest of the
        // three together is the first special byte.
        let hit =
            (quote.wrapping_sub(ONES) & !quote | slash.wrapping_sub(ONES) & !slash | x.wrapping_sub(ONES * 0x20) & !x)
                & HIGH;
        if hit != 0 {
            let end = j + (hit.trailing_zeros() / 8) as usize;
            if b[end] != b'"' {
                return None;
            }
            *pos = end + 1;
            return text.get(start..end);
        }
        j += 8;
    }
    let end = j + memchr(b'"', b.get(j..)?)?;
    if b[j..end].iter().any(|&c| c < 0x20 || c == b'\\') {
        return None;
    }
    *pos = end + 1;
    text.get(start..end)
}

/// A JSON non-negative integer in its shortest form at `pos`, as tt writes token counts; moves `pos` past it.
/// What follows is checked by the caller: only `,` or `}` may (so a fraction, an exponent or a twentieth
/// digit sends the line to the general path).
#[inline(always)]
fn quick_uint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let start = *pos;
    // Eight bytes at once: the run of leading digits, and their value by three multiply-adds.
    if let Some(w) = b.get(start..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*w);
        // A byte is a digit when its value minus '0' is below 10: high nibble 3 and low nibble below 10.
        let d = x.wrapping_sub(0x3030_3030_3030_3030);
        let not_digit = (d | d.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080;
        let len = (not_digit.trailing_zeros() / 8) as usize;
        if len < 8 {
            if len == 0 || (len > 1 && b[start] == b'0') {
                return None;
            }
            // The digits moved to the top bytes, then combined pairwise: 10x + y, 100x + y, 10000x + y.
            let v = d << (8 * (8 - len));
            let v = (v & 0x0f0f_0f0f_0f0f_0f0f).wrapping_mul(10 << 8 | 1) >> 8;
            let v = (v & 0x00ff_00ff_00ff_00ff).wrapping_mul(100 << 16 | 1) >> 16;
            let v = (v & 0x0000_ffff_0000_ffff).wrapping_mul(10000 << 32 | 1) >> 32;
            *pos = start + len;
            return Some(v);
        }
    }
    let mut n: u64 = 0;
    while let Some(&d) = b.get(*pos) {
        if !d.is_ascii_digit() || *pos - start >= 19 {
            break;
        }
        n = n * 10 + u64::from(d - b'0');
        *pos += 1;
    }
    let len = *pos - start;
    if len == 0 || (len > 1 && b[start] == b'0') {
        return None;
    }
    Some(n)
}

/// No key: the end of a [`SHAPE`].
const NO_KEY: u8 = u8::MAX;

thread_local! {
    /// The sequence of [`KEYS`] indexes of the last line [`parse_quick`] read (ended by [`NO_KEY`]), the
    /// prediction for the next line's keys. Per thread, so the reader threads never contend.
    static SHAPE: Cell<[u8; 32]> = const { Cell::new([NO_KEY; 32]) };
}

/// The index in [`KEYS`] of the schema key at `pos` (its opening quote), recognised by word compares of the key
/// and its closing quote; `None` for any other key. `predicted` (the previous line's key at this place) is
/// tried first, then the key after the previous one in schema order (tt writes them in that order), then all.
/// Moves `pos` past the closing quote.
#[inline]
fn quick_key(b: &[u8], pos: &mut usize, predicted: u8, hint: &mut usize) -> Option<usize> {
    let i = *pos;
    if b.get(i) != Some(&b'"') {
        return None;
    }
    // The 24 bytes after the quote as three words: one bounds check away from the end of the line.
    let w = match b.get(i + 1..).and_then(<[u8]>::first_chunk::<24>) {
        Some(c) => {
            let (a, r) = c.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
            let (m, z) = r.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
            let z = z.first_chunk::<8>().unwrap_or(&[0; 8]);
            [u64::from_le_bytes(*a), u64::from_le_bytes(*m), u64::from_le_bytes(*z)]
        }
        None => [word(b, i + 1), word(b, i + 9), word(b, i + 17)],
    };
    // Without branches: the masks of unused words are zero, so they compare equal.
    let is = |j: usize| {
        let p = &PREFIXES[j];
        ((w[0] & p[0].1) ^ p[0].0) | ((w[1] & p[1].1) ^ p[1].0) | ((w[2] & p[2].1) ^ p[2].0) == 0
    };
    let p = usize::from(predicted);
    let j = if p < KEYS.len() && is(p) {
        p
    } else {
        (*hint..KEYS.len()).find(|&j| is(j)).or_else(|| (0..*hint).find(|&j| is(j)))?
    };
    *pos = i + 2 + KEYS[j].0.len();
    *hint = j + 1;
    Some(j)
}

fn parse_fast(line: &[u8]) -> Fast<View<'_>> {
    let text = std::str::from_utf8(line).map_err(|_| bad("invalid UTF-8"))?;
    let mut c = Cursor::new(text);
    let mut v: Option<u64> = None;
    let mut id = None;
    let mut ts_text: Option<Cow<'_, str>> = None;
    let mut agent = None;
    let mut model = None;
    let mut input = None;
    let mut output = None;
    let mut tokens = Tokens::default();
    let mut view_opt: [Option<Cow<'_, str>>; 9] = Default::default();
    let mut cost = None;
    let mut estimated = None;
    let mut billing = Billing::default();
    let mut tags = None;
    c.eat(b'{')?;
    c.ws();
    let mut more = c.peek() != Some(b'}');
    if !more {
        c.i += 1;
    }
    // Keys seen so far: a repeated key (of the schema or not; `tags`' own keys may repeat, the last counting)
    // is refused, as by `Record::parse`.
    let mut seen = 0u32;
    let mut others: Vec<Cow<'_, [u8]>> = Vec::new();
    while more {
        c.ws();
        let key = match c.known_key() {
            Some(k) => k,
            None => {
                let name = c.key()?;
                match K::of(&name) {
                    K::Other => {
                        if others.contains(&name) {
                            return Err(bad("repeated key"));
                        }
                        others.push(name);
                        K::Other
                    }
                    k => k,
                }
            }
        };
        if key != K::Other {
            let bit = 1u32 << (key as u32);
            if seen & bit != 0 {
                return Err(bad("repeated key"));
            }
            seen |= bit;
        }
        c.eat(b':')?;
        c.ws();
        match key {
            K::V => v = c.uint("v").map_err(|_| bad("field `v`: expected an integer"))?,
            K::Id => id = c.opt_str("id")?,
            K::Ts => ts_text = c.opt_str("ts")?,
            K::Agent => agent = c.opt_str("agent")?,
            K::Model => model = c.opt_str("model")?,
            K::InputTokens => input = c.uint("input_tokens")?,
            K::OutputTokens => output = c.uint("output_tokens")?,
            K::CacheReadTokens => tokens.cache_read = c.uint("cache_read_tokens")?.unwrap_or(0),
            K::CacheWriteTokens => tokens.cache_write = c.uint("cache_write_tokens")?.unwrap_or(0),
            K::CacheWrite1hTokens => tokens.cache_write_1h = c.uint("cache_write_1h_tokens")?.unwrap_or(0),
            K::ReasoningTokens | K::DurationMs => {
                c.uint("")?;
            }
            K::ServiceTier => {
                if let Some(t) = c.opt_str("service_tier")? {
                    billing.service = Service::parse(&t).ok_or_else(|| {
                        bad(format!("field `service_tier`: expected standard, batch, flex or priority, got {t:?}"))
                    })?;
                }
            }
            K::Speed => {
                if let Some(t) = c.opt_str("speed")? {
                    billing.fast = parse_speed(&t)
                        .ok_or_else(|| bad(format!("field `speed`: expected fast or standard, got {t:?}")))?;
                }
            }
            K::WebSearch => billing.web_search = c.uint("web_search_requests")?.unwrap_or(0),
            K::WebFetch => billing.web_fetch = c.uint("web_fetch_requests")?.unwrap_or(0),
            K::CodeExecution => billing.code_execution = c.uint("code_execution_requests")?.unwrap_or(0),
            K::Provider => view_opt[0] = c.opt_str("provider")?,
            K::Session => view_opt[1] = c.opt_str("session")?,
            K::Task => view_opt[2] = c.opt_str("task")?,
            K::Project => view_opt[3] = c.opt_str("project")?,
            K::Branch => view_opt[4] = c.opt_str("branch")?,
            K::Commit => view_opt[5] = c.opt_str("commit")?,
            K::Host => view_opt[6] = c.opt_str("host")?,
            K::User => view_opt[7] = c.opt_str("user")?,
            K::Source => view_opt[8] = c.opt_str("source")?,
            K::Notes | K::Price => {
                c.opt_str("")?;
            }
            K::Estimated => {
                estimated = c.literal().map_err(|_| bad("field `estimated`: expected true or false"))?;
            }
            K::CostUsd => {
                cost = if c.null() {
                    None
                } else {
                    match c.peek() {
                        Some(b'"') => {
                            let s = c.string()?;
                            Some(decimal(s.as_bytes())?)
                        }
                        Some(b'-' | b'0'..=b'9') => Some(decimal(c.number()?)?),
                        _ => return Err(bad("field `cost_usd`: expected a number")),
                    }
                }
            }
            K::Tags => {
                if !c.null() {
                    let s = c.i;
                    c.ws();
                    if c.peek() != Some(b'{') {
                        return Err(bad("field `tags`: expected an object of strings"));
                    }
                    c.object(|c, k| {
                        c.ws();
                        if c.peek() != Some(b'"') {
                            return Err(bad(format!("field `tags.{k}`: expected a string")));
                        }
                        c.string().map(|_| ())
                    })?;
                    tags = Some(&text[s..c.i]);
                }
            }
            K::Other => c.skip(1)?,
        }
        c.ws();
        match c.peek() {
            Some(b',') => c.i += 1,
            Some(b'}') => {
                c.i += 1;
                more = false;
            }
            _ => return Err(bad("invalid JSON: expected `,` or `}`")),
        }
    }
    c.ws();
    if c.i != line.len() {
        return Err(bad(format!("invalid JSON: trailing characters (column {})", c.i + 1)));
    }
    match v {
        Some(SCHEMA_VERSION) => {}
        Some(n) => return Err(bad(format!("unsupported schema version {n}"))),
        None => return Err(bad("missing field `v` (schema version)")),
    }
    let id = id.ok_or_else(|| bad("missing field `id`"))?;
    let ts_text = ts_text.ok_or_else(|| bad("missing field `ts`"))?;
    let ts = match parse_ts(&ts_text) {
        Some(t) => t,
        None => crate::record::parse_ts(&ts_text).map_err(|e| bad(format!("field `ts`: {e}")))?,
    };
    let agent = agent.ok_or_else(|| bad("missing field `agent`"))?;
    let model = model.ok_or_else(|| bad("missing field `model`"))?;
    check_name("agent", &agent)?;
    check_name("model", &model)?;
    tokens.input = input.ok_or_else(|| bad("missing field `input_tokens`"))?;
    tokens.output = output.ok_or_else(|| bad("missing field `output_tokens`"))?;
    let [provider, session, task, project, branch, commit, host, user, source] = view_opt;
    Ok(View {
        line,
        id,
        ts,
        agent,
        model,
        provider,
        session,
        task,
        project,
        branch,
        commit,
        host,
        user,
        source,
        tokens,
        cost_usd: cost,
        estimated,
        billing,
        tags,
    })
}

/// RFC 3339 in the shapes tt writes (`2026-11-23T14:05:00.123Z`, `…+01:00`), without chrono's general parser.
/// `None` for anything else — leap seconds, other shapes — which the caller hands to the general parser.
#[inline]
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (pair(b, 11)?, pair(b, 14)?, pair(b, 17)?);
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    // The shape tt-log writes, `…:SS.mmmZ`, without the general loops below.
    if let [.., b'.', x, y, z, b'Z'] = *b
        && b.len() == 24
    {
        let (x, y, z) = (x.wrapping_sub(b'0'), y.wrapping_sub(b'0'), z.wrapping_sub(b'0'));
        if x > 9 || y > 9 || z > 9 {
            return None;
        }
        let millis = u32::from(x) * 100 + u32::from(y) * 10 + u32::from(z);
        let time = NaiveTime::from_num_seconds_from_midnight_opt(h * 3600 + mi * 60 + sec, millis * 1_000_000)?;
        return Some(date_of(b)?.and_time(time).and_utc());
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        i += 1;
        let from = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - from;
        if n == 0 || n > 9 {
            return None;
        }
        nanos = digits(&b[from..i])? * 10u32.pow(9 - n as u32);
    }
    let offset: i64 = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (hh, mm) = (i64::from(pair(b, i + 1)?), i64::from(pair(b, i + 4)?));
            if hh > 23 || mm > 59 {
                return None;
            }
            let o = hh * 3600 + mm * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let date = date_of(b)?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(h * 3600 + mi * 60 + sec, nanos)?;
    let t = date.and_time(time).and_utc();
    if offset == 0 { Some(t) } else { t.checked_sub_signed(TimeDelta::seconds(offset)) }
}

/// The two decimal digits at `b[i..i + 2]` as a number.
#[inline(always)]
fn pair(b: &[u8], i: usize) -> Option<u32> {
    let (x, y) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
    (x < 10 && y < 10).then(|| u32::from(x) * 10 + u32::from(y))
}

/// The value of a run of ASCII digits (at most nine), or `None` if any byte is not a digit.
#[inline]
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
}

thread_local! {
    /// The last date [`date_of`] parsed, by its text: logs are in time order, so nearly every record repeats
    /// the previous one's date, and validating and converting it again is wasted work. Per thread, so the
    /// reader threads never contend.
    static LAST_DATE: Cell<Option<([u8; 10], NaiveDate)>> = const { Cell::new(None) };
}

/// The validated calendar date of the `YYYY-MM-DD` at the start of `b` (at least 10 bytes), cached.
#[inline]
fn date_of(b: &[u8]) -> Option<NaiveDate> {
    let key: [u8; 10] = *b.first_chunk::<10>()?;
    if let Some((k, d)) = LAST_DATE.get()
        && k == key
    {
        return Some(d);
    }
    let (y, mo, d) = (pair(&key, 0)? * 100 + pair(&key, 2)?, pair(&key, 5)?, pair(&key, 8)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in(y, mo) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?;
    LAST_DATE.set(Some((key, date)));
    Some(date)
}

fn days_in(y: u32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Size of each reader's buffer: big enough to make reads cheap, small enough to stay in cache.
const BUF: usize = 256 * 1024;
/// Files smaller than this are read by one thread.
const PARALLEL_MIN: u64 = 8 * 1024 * 1024;

/// Lines of `source` folded into states. Each non-blank line (trailing `\r` removed) is passed to `step`
/// with the state of the chunk it belongs to; large files are split between threads, and the states come
/// back in file order. An error names `source:line` of the first bad line in file order.
pub fn fold_lines<S, I, F>(source: &Source, init: I, step: F) -> Result<Vec<S>>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &[u8]) -> Result<()> + Sync,
{
    fold_text(source, init, |st, line, _| step(st, line))
}

/// [`fold_lines`], with each line also as text when the block it was read in is valid UTF-8 (validating a
/// block at once is cheaper than line by line).
fn fold_text<S, I, F>(source: &Source, init: I, step: F) -> Result<Vec<S>>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &[u8], Option<&str>) -> Result<()> + Sync,
{
    let name = source.name();
    let hint = |e| if matches!(source, Source::File(_)) { crate::log::with_repair_hint(e) } else { e };
    let ctx = |(line, e): (u64, Error)| if line == 0 { e } else { hint(e.context(format!("{name}:{line}"))) };
    match source {
        Source::Stdin => {
            let mut st = init();
            chunk(crate::input::stdin(), &name, false, u64::MAX, &mut st, &step).map_err(ctx)?;
            Ok(vec![st])
        }
        Source::File(p) => {
            let mut f = File::open(p).map_err(|e| Error::io(p.display(), e))?;
            let meta = f.metadata().map_err(|e| Error::io(p.display(), e))?;
            let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4);
            if threads < 2 || !meta.is_file() || meta.len() < PARALLEL_MIN {
                let mut st = init();
                chunk(&mut f, &name, false, u64::MAX, &mut st, &step).map_err(ctx)?;
                return Ok(vec![st]);
            }
            let len = meta.len();
            let bounds: Vec<u64> = (0..=threads as u64).map(|k| len * k / threads as u64).collect();
            let results: Vec<std::result::Result<(S, u64), (u64, Error)>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|k| {
                        let (from, to) = (bounds[k], bounds[k + 1]);
                        let (init, step, name) = (&init, &step, &name);
                        scope.spawn(move || {
                            let mut st = init();
                            let mut f = File::open(p).map_err(|e| (0, Error::io(p.display(), e)))?;
                            // Start one byte early and skip to the first newline: a line belongs to the chunk
                            // its first byte is in.
                            let seek = from.saturating_sub(1);
                            f.seek(SeekFrom::Start(seek)).map_err(|e| (0, Error::io(p.display(), e)))?;
                            let n = chunk(f, name, from > 0, to - seek, &mut st, step)?;
                            Ok((st, n))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|_| Err((0, Error::data("internal error: reader thread failed")))))
                    .collect()
            });
            let mut states = Vec::with_capacity(threads);
            let mut lines_before = 0u64;
            for r in results {
                match r {
                    Ok((st, n)) => {
                        states.push(st);
                        lines_before += n;
                    }
                    Err((line, e)) => return Err(ctx((lines_before + line, e))),
                }
            }
            Ok(states)
        }
    }
}

/// [`fold_lines`] with every line parsed into a [`View`].
pub fn fold<S, I, F>(source: &Source, init: I, step: F) -> Result<Vec<S>>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &View<'_>) -> Result<()> + Sync,
{
    fold_text(source, init, |st, line, text| match parse_line(line, text) {
        // Matched here rather than through `View::parse`, so the view is not moved between two `Result`s.
        Ok(v) => step(st, &v),
        Err(Bad) => Err(rejected(line)),
    })
}

/// Read lines from `r` until the first line starting at or after byte `limit` (relative to where `r` starts).
/// With `skip_first`, the bytes up to and including the first newline belong to the previous chunk. Returns
/// the number of lines read (for line numbers of later chunks) or the 1-based line of the first error.
fn chunk<S, F>(
    mut r: impl Read,
    name: &str,
    skip_first: bool,
    limit: u64,
    st: &mut S,
    step: &F,
) -> std::result::Result<u64, (u64, Error)>
where
    F: Fn(&mut S, &[u8], Option<&str>) -> Result<()>,
{
    let mut buf = vec![0u8; BUF];
    let mut filled = 0usize;
    let mut pos = 0u64; // offset of buf[0] from the start of `r`
    let mut skipping = skip_first;
    let mut eof = false;
    let mut lines = 0u64;
    let mut handle = |line: &[u8], text: Option<&str>, lines: &mut u64| -> std::result::Result<(), (u64, Error)> {
        *lines += 1;
        let (mut l, mut t) = (line, text);
        // A UTF-8 byte order mark at the very start of the input (only there) is not part of the first line.
        if *lines == 1 && !skip_first && l.starts_with(b"\xEF\xBB\xBF") {
            (l, t) = (&l[3..], t.and_then(|t| t.strip_prefix('\u{FEFF}')));
        }
        if let [rest @ .., b'\r'] = l {
            l = rest;
            t = t.and_then(|t| t.strip_suffix('\r'));
        }
        if l.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        step(st, l, t).map_err(|e| (*lines, e))
    };
    loop {
        if !eof {
            if filled == buf.len() {
                // One line longer than the buffer: grow it, up to the longest line a reader takes (and one byte
                // more, to tell a line of exactly that length from a longer one).
                if filled > crate::input::MAX_LINE {
                    return Err((lines + 1, crate::input::line_too_long()));
                }
                buf.resize((buf.len() * 2).min(crate::input::MAX_LINE + 1), 0);
            }
            match r.read(&mut buf[filled..]) {
                Ok(0) => eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err((0, Error::io(name, e))),
            }
        }
        let mut at = 0usize;
        if skipping {
            match memchr(b'\n', &buf[..filled]) {
                Some(k) => {
                    at = k + 1;
                    skipping = false;
                }
                None if eof => return Ok(lines),
                None => {
                    pos += filled as u64;
                    filled = 0;
                    continue;
                }
            }
        }
        // The whole lines of the block, validated as UTF-8 at once (`None` when some line is not: each line
        // is then checked on its own, and the bad one reported).
        let base = at;
        let whole = if eof { filled } else { memchr::memrchr(b'\n', &buf[at..filled]).map_or(at, |k| at + k) };
        let block = std::str::from_utf8(&buf[base..whole]).ok();
        loop {
            if pos + at as u64 >= limit {
                return Ok(lines);
            }
            match memchr(b'\n', &buf[at..filled]) {
                Some(k) => {
                    let text = block.and_then(|t| t.get(at - base..at - base + k));
                    handle(&buf[at..at + k], text, &mut lines)?;
                    at += k + 1;
                }
                None if eof => {
                    if at < filled {
                        if filled - at > crate::input::MAX_LINE {
                            return Err((lines + 1, crate::input::line_too_long()));
                        }
                        // The last line, without its newline: a record still being appended (readers take no
                        // lock) is not yet in the file and is left out; a whole one counts.
                        let text = block.and_then(|t| t.get(at - base..));
                        let line = &buf[at..filled];
                        if let Err(e) = handle(line, text, &mut lines) {
                            if crate::input::still_being_written(line.strip_suffix(b"\r").unwrap_or(line)) {
                                return Ok(lines);
                            }
                            return Err(e);
                        }
                    }
                    return Ok(lines);
                }
                None => break,
            }
        }
        buf.copy_within(at..filled, 0);
        pos += at as u64;
        filled -= at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const LINE: &str = r#"{"v":1,"id":"01","ts":"2026-11-23T14:05:00.250Z","agent":"ATLAS","model":"sonnet-4.5","provider":"anthropic","input_tokens":50000,"output_tokens":15000,"cache_read_tokens":7,"session":"s\u00e9","tags":{"pr":"142","team":"a\"b"},"cost_usd":0.375,"x":[1,{"y":null},-2.5e3]}"#;

    #[test]
    fn parses_like_record() {
        let v = View::parse(LINE.as_bytes()).unwrap();
        let r = Record::parse(LINE).unwrap();
        assert_eq!(v.ts, r.ts);
        assert_eq!(v.agent, r.agent);
        assert_eq!(v.tokens, r.tokens);
        assert_eq!(v.cost_usd, r.cost_usd);
        assert_eq!(v.session.as_deref(), Some("sé"));
        assert_eq!(v.tag("team").as_deref(), Some("a\"b"));
        assert_eq!(v.get(&Field::Tag("pr".into())).as_deref(), Some("142"));
    }

    #[test]
    fn keys_that_only_start_like_schema_keys_are_unknown_fields() {
        let line = r#"{"agentx":"no","v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cache_write_tokensX":"s","cache_write_1h_tokens":4,"tasks":[1],"v2":null}"#;
        let v = View::parse(line.as_bytes()).unwrap();
        assert_eq!(v.agent, "A");
        assert_eq!(v.tokens, Record::parse(line).unwrap().tokens);
        assert_eq!(v.tokens.cache_write_1h, 4);
        assert!(v.task.is_none());
    }

    #[test]
    fn rejects_what_record_rejects() {
        for line in [
            r#"{"v":1,"id":"x","ts":"2026-13-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"","model":"m","input_tokens":1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":-1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1.5,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":-1}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"tags":{"a":1}}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A\u0001","model":"m","input_tokens":1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"z":01}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2} x"#,
            "{\"v\":1,\"id\":\"x\",\"ts\":\"2026-01-02T03:04:05Z\",\"agent\":\"A\tlong enough to take the fast path\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":2}",
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"notes":"bad \q escape"}"#,
            r#"{"v":2,"id":"x"}"#,
            r#"[1]"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":"x","input_tokens":3500,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"input_tokens":1}"#,
            r#"{"v":1,"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"tags":{},"tags":null}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":1,"cost_usd":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"z":1,"z":1}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"z":1,"\u007a":1}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"\u0061gent":"B"}"#,
            r#"{ "v" : 1 , "id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2 , "agent" : "A" }"#,
            // Found by the property tests: text costs the quick decimal reader took as 0 or misread.
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":""}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":" "}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":"."}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":"1..2"}"#,
            r#"{"v":1,"id":"x","#,
        ] {
            let want = Record::parse(line).unwrap_err().to_string();
            let got = View::parse(line.as_bytes()).unwrap_err().to_string();
            assert_eq!(got, want, "{line}");
        }
        let dup = r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":"x","input_tokens":3500,"output_tokens":2}"#;
        assert_eq!(View::parse(dup.as_bytes()).unwrap_err().to_string(), "field `input_tokens`: repeated");
        // The keys of `tags` may repeat: the last one counts, in both parsers.
        let tags = r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"tags":{"a":"1","a":"2"},"x":{"b":1,"b":2}}"#;
        assert_eq!(View::parse(tags.as_bytes()).unwrap().tag("a").as_deref(), Some("2"));
        assert_eq!(Record::parse(tags).unwrap().tags["a"], "2");
    }

    #[test]
    fn fast_ts_matches_chrono() {
        // Repeated and alternating dates, so the cached date is both hit and replaced (also by a bad date).
        for s in [
            "2026-11-23T14:05:00Z",
            "2026-11-23T14:05:00.123456789Z",
            "2026-11-23T00:30:00+01:00",
            "2024-02-29T23:59:59+05:30",
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00.5-08:00",
            "2026-11-23T23:59:59-14:00",
            "0000-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_ts(s), crate::record::parse_ts(s).ok(), "{s}");
        }
        // Every day of four centuries (leap years, century rules), at changing times and offsets.
        let mut day = chrono::NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        for k in 0..146_200u32 {
            let (h, m, sec) = (k % 24, (k * 7) % 60, (k * 13) % 60);
            let off = ["Z", "+00:00", "+05:45", "-09:30", "+14:00", "-12:00"][(k % 6) as usize];
            let s = format!("{}T{h:02}:{m:02}:{sec:02}.{:03}{off}", day.format("%Y-%m-%d"), k % 1000);
            assert_eq!(parse_ts(&s), crate::record::parse_ts(&s).ok(), "{s}");
            day = day.succ_opt().unwrap();
        }
        for s in [
            "2026-11-23T14:05:60Z",
            "2026-00-10T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-23T14:05:00+24:00",
            "2026-11-23T14:05:00.Z",
            "2026-11-23T14:05:00.1a3Z",
            "2026-11-23T14:05:00.12/Z",
            "2026-11-23T14:05:00.:12Z",
            "2026-11-23T14:05:00.123z",
            "2026-1a-23T14:05:00Z",
            "2026-11-23T14:05:00",
        ] {
            assert_eq!(parse_ts(s), None, "{s}");
        }
        assert_eq!(parse_ts("2025-02-29T00:00:00Z"), None);
        assert_eq!(parse_ts("2026-11-23T24:00:00Z"), None);
        assert_eq!(parse_ts("2025-02-29T00:00:00Z"), None);
    }

    /// Lines in the shape tt writes, with every field of the schema somewhere.
    pub(super) const QUICK_LINES: [&str; 4] = [
        r#"{"v":1,"id":"01a04157-ece8-7822-836d-bc791ef93d6e","ts":"2026-08-27T03:51:16.456Z","agent":"release","model":"claude-sonnet-4-5","input_tokens":1128,"output_tokens":927,"cache_read_tokens":12279,"cache_write_tokens":84,"session":"c4fea708156e0c85","project":"api","tags":{"pr":"989"},"cost_usd":0.0212877}"#,
        r#"{"v":1,"id":"x","ts":"2026-11-23T14:05:00Z","agent":"ATLAS","model":"sonnet-4.5","provider":"anthropic","input_tokens":50000,"output_tokens":15000,"cache_read_tokens":0,"cache_write_tokens":5,"cache_write_1h_tokens":6,"reasoning_tokens":7,"session":"s","task":"t","project":"p","branch":"main","commit":"abc","host":"h","user":"u","duration_ms":12,"notes":"Built TokenTracker","tags":{"a":"1","b":"","a":"3"},"source":"cli","estimated":true,"cost_usd":0.375,"price":"claude-sonnet-4-5"}"#,
        r#"{"v":1,"id":"é","ts":"2026-11-23T00:30:00+01:00","agent":"A é","model":"m","input_tokens":0,"output_tokens":9999999999999999999,"tags":{},"estimated":false,"cost_usd":12}"#,
        r#"{"output_tokens":2,"v":1,"model":"m","ts":"2026-01-02T03:04:05.123456789Z","id":"x","input_tokens":1,"agent":"A","cost_usd":"0.5"}"#,
    ];

    /// The quick path accepts only what the general path accepts, with the same values — on tt's own lines
    /// and on every one-byte change of them.
    #[test]
    fn printable_name_is_never_wrong_about_a_name() {
        let mut names: Vec<String> =
            ["a", "release", "claude-sonnet-4-5", "gpt-5.4 mini", " x", "x ", "", "  "].map(String::from).to_vec();
        for c in [0x00u8, 0x01, 0x09, 0x1f, 0x20, 0x41, 0x7e, 0x7f] {
            for len in [1usize, 7, 8, 9, 15, 16, 17, 200, 201] {
                for at in [0, len / 2, len - 1] {
                    let mut n = vec![b'm'; len];
                    n[at] = c;
                    names.push(String::from_utf8(n).unwrap());
                }
            }
        }
        names.extend(
            ["caf\u{e9}", "\u{200b}x", "x\u{7f}", "\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}"].map(String::from),
        );
        for n in &names {
            let sure = printable_name(n);
            let ascii = n.bytes().all(|c| (0x20..0x7f).contains(&c));
            let ends = !n.starts_with(' ') && !n.ends_with(' ');
            assert_eq!(sure, ascii && ends && !n.is_empty() && n.len() <= MAX_NAME_LEN, "{n:?}");
            if sure {
                assert!(crate::record::check_name("agent", n).is_ok(), "{n:?}");
            }
        }
    }

    #[test]
    fn quick_uint_reads_digits_eight_at_a_time_like_one_by_one() {
        // The reference: the shortest-form digits at the start, at most 19 of them.
        let slow = |b: &[u8]| -> Option<(u64, usize)> {
            let len = b.iter().take(19).take_while(|c| c.is_ascii_digit()).count();
            if len == 0 || (len > 1 && b[0] == b'0') {
                return None;
            }
            Some((std::str::from_utf8(&b[..len]).ok()?.parse().ok()?, len))
        };
        let mut numbers: Vec<String> = (0..2000u64).map(|n| n.to_string()).collect();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            numbers.push((x >> (x % 64)).to_string());
        }
        numbers.extend(
            ["00", "01", "0000000", "12345678", "1234567", "18446744073709551615", "99999999999999999999"]
                .map(String::from),
        );
        for n in &numbers {
            for tail in ["", ",", "}", ".5", "e3", "/", ":", "\x00", "0", "00000000"] {
                let text = format!("{n}{tail}");
                let mut pos = 0;
                let quick = quick_uint(text.as_bytes(), &mut pos).map(|v| (v, pos));
                assert_eq!(quick, slow(text.as_bytes()), "{text:?}");
            }
        }
    }

    #[test]
    fn quick_path_agrees_with_the_general_path() {
        let check = |line: &[u8]| {
            if let Some(q) = parse_quick(line, None) {
                match parse_fast(line) {
                    Ok(f) => assert_eq!(format!("{q:?}"), format!("{f:?}"), "{}", String::from_utf8_lossy(line)),
                    Err(Bad) => {
                        panic!("quick accepted a line the general path rejects: {}", String::from_utf8_lossy(line))
                    }
                }
            }
        };
        let mut accepted = 0;
        for line in QUICK_LINES {
            let b = line.as_bytes();
            if parse_quick(b, None).is_some() {
                accepted += 1;
            }
            check(b);
            for i in 0..b.len() {
                for c in [
                    b'"', b'\\', b' ', b'0', b'1', b'9', b'-', b'+', b'.', b'e', b'E', b'{', b'}', b'[', b',', b':',
                    b'n', b't', b'a', 1, 0x7f, 0xc3, 0xff,
                ] {
                    let mut m = b.to_vec();
                    m[i] = c;
                    check(&m);
                    m.insert(i, c);
                    check(&m);
                }
                let mut m = b.to_vec();
                m.remove(i);
                check(&m);
                check(&b[..i]);
            }
        }
        // The first three are in the quick path's shape; the string cost goes the general way.
        assert_eq!(accepted, 3);
        // A schema key given twice, in the quick path's shape: never accepted by either path.
        for line in QUICK_LINES {
            for (k, _) in KEYS {
                let k = std::str::from_utf8(k).unwrap();
                let Some(at) = line.find(&format!("\"{k}\":")) else { continue };
                let end = line[at..].find([',', '}']).map(|e| at + e).unwrap();
                let end = if k == "tags" { at + line[at..].find('}').unwrap() + 1 } else { end };
                let twice = format!("{},{}}}", &line[..line.len() - 1], &line[at..end]);
                assert!(parse_quick(twice.as_bytes(), None).is_none(), "{twice}");
                assert!(parse_fast(twice.as_bytes()).is_err(), "{twice}");
                let want = format!("field `{k}`: repeated");
                assert_eq!(Record::parse(&twice).unwrap_err().to_string(), want, "{twice}");
                assert_eq!(View::parse(twice.as_bytes()).unwrap_err().to_string(), want, "{twice}");
            }
        }
    }

    #[test]
    fn keys_in_any_order_and_at_the_end_of_the_line() {
        for line in [
            r#"{"output_tokens":2,"tags":{},"cost_usd":1.5,"v":1,"model":"m","ts":"2026-01-02T03:04:05Z","id":"x","input_tokens":1,"agent":"A"}"#,
            r#"{"cache_write_1h_tokens":9,"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"reasoning_tokens":3,"cache_write_tokens":4}"#,
            r#"{ "v" : 1 , "id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"ts2":1,"vv":1}"#,
        ] {
            let v = View::parse(line.as_bytes()).unwrap();
            let r = Record::parse(line).unwrap();
            assert_eq!(
                (v.agent.as_ref(), v.model.as_ref(), v.ts, v.tokens, v.cost_usd),
                (r.agent.as_str(), r.model.as_str(), r.ts, r.tokens, r.cost_usd),
                "{line}"
            );
        }
    }
}

/// Property tests: the two parsers agree on arbitrary input (both accept with the same values, or both refuse
/// with the same message), and neither panics. Bounded for the normal test run; a longer run:
/// `PROPTEST_CASES=100000 cargo test --release -p tt-core --lib scan::props`.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// `PROPTEST_CASES` when set, else `n`.
    fn config(n: u32) -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(n);
        ProptestConfig { cases, ..ProptestConfig::default() }
    }

    /// Both parsers on `line`: the same verdict, the same values or the same message; the quick path only ever
    /// accepts what the general path accepts, with the same values.
    fn agree(line: &[u8]) {
        let show = || String::from_utf8_lossy(line).into_owned();
        if let Some(q) = parse_quick(line, None) {
            let f = parse_fast(line).unwrap_or_else(|Bad| panic!("quick accepted what general refuses: {}", show()));
            assert_eq!(format!("{q:?}"), format!("{f:?}"), "{}", show());
        }
        let view = View::parse(line);
        let Ok(text) = std::str::from_utf8(line) else {
            assert!(view.is_err(), "accepted invalid UTF-8: {}", show());
            return;
        };
        match (view, Record::parse(text)) {
            (Ok(v), Ok(r)) => {
                let opt = |o: &Option<Cow<'_, str>>| o.as_deref().map(str::to_string);
                assert_eq!(
                    (v.id.as_ref(), v.ts, v.agent.as_ref(), v.model.as_ref(), v.tokens, v.cost_usd, v.estimated),
                    (r.id.as_str(), r.ts, r.agent.as_str(), r.model.as_str(), r.tokens, r.cost_usd, r.estimated),
                    "{text}"
                );
                assert_eq!(v.billing, r.billing, "{text}");
                assert_eq!(
                    [&v.provider, &v.session, &v.task, &v.project, &v.branch, &v.commit, &v.host, &v.user, &v.source]
                        .map(opt),
                    [&r.provider, &r.session, &r.task, &r.project, &r.branch, &r.commit, &r.host, &r.user, &r.source]
                        .map(Clone::clone),
                    "{text}"
                );
                let tags: std::collections::BTreeMap<String, String> =
                    v.tags().into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                assert_eq!(tags, r.tags, "{text}");
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
            (Ok(_), Err(e)) => panic!("the log reader accepts what Record::parse refuses ({e}): {text}"),
            (Err(e), Ok(_)) => panic!("the log reader refuses what Record::parse accepts ({e}): {text}"),
        }
    }

    /// Valid lines to start from: tt's own shape, spaced, escaped, with unknown fields.
    fn seeds() -> Vec<&'static str> {
        let mut v = tests::QUICK_LINES.to_vec();
        v.push(tests::LINE);
        v.push(
            r#"{ "v" : 1 , "id" : "x\u0041" , "ts" : "2026-01-02T03:04:05.5+01:00" , "agent" : "A\tB" , "model" : "m" , "input_tokens" : 1 , "output_tokens" : 2 , "service_tier" : "batch" , "speed" : "fast" , "web_search_requests" : 3 , "tags" : { "k" : "v" , "k" : "w" } , "cost_usd" : 1e-3 , "zz" : [ true , null , { "a" : "b" } ] }"#,
        );
        v
    }

    /// Bits of JSON that make lines interesting when dropped in anywhere.
    const SNIPPETS: &[&str] = &[
        "\"",
        "\\",
        ",",
        ":",
        "{",
        "}",
        "[",
        "]",
        " ",
        "\t",
        "\n",
        "null",
        "true",
        "false",
        "0",
        "-1",
        "1.5",
        "1e3",
        "18446744073709551615",
        "18446744073709551616",
        "\"x\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\u{e9}",
        "\u{feff}",
        ",\"input_tokens\":1",
        ",\"v\":1",
        ",\"agent\":\"B\"",
        ",\"tags\":{}",
        ",\"tags\":{\"a\":\"1\"}",
        ",\"cost_usd\":\"1.5\"",
        ",\"cost_usd\":-0",
        ",\"z\":1",
        ",\"\\u0076\":1",
        ",\"estimated\":null",
        ",\"service_tier\":\"flex\"",
        ",\"speed\":\"standard\"",
        ",\"ts\":\"2026-02-29T00:00:00Z\"",
    ];

    /// One edit of a line: replace, insert or remove a byte, insert a snippet, cut the line, or repeat a slice.
    #[derive(Debug, Clone)]
    enum Edit {
        Set(usize, u8),
        Insert(usize, u8),
        Remove(usize),
        Snippet(usize, usize),
        Cut(usize),
        Repeat(usize, usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        let byte =
            prop_oneof![any::<u8>(), proptest::sample::select(b"\"\\{}[],: 0123456789-+.eEntfalsru\t\r\n".to_vec())];
        prop_oneof![
            (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
            (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
            any::<usize>().prop_map(Edit::Remove),
            (any::<usize>(), 0..SNIPPETS.len()).prop_map(|(i, k)| Edit::Snippet(i, k)),
            any::<usize>().prop_map(Edit::Cut),
            (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Repeat(i, j)),
        ]
    }

    fn apply(line: &[u8], edits: &[Edit]) -> Vec<u8> {
        let mut b = line.to_vec();
        for e in edits {
            let at = |i: usize, n: usize| if n == 0 { 0 } else { i % n };
            match *e {
                Edit::Set(i, c) if !b.is_empty() => {
                    let i = at(i, b.len());
                    b[i] = c;
                }
                Edit::Insert(i, c) => b.insert(at(i, b.len() + 1), c),
                Edit::Remove(i) if !b.is_empty() => {
                    b.remove(at(i, b.len()));
                }
                Edit::Snippet(i, k) => {
                    let i = at(i, b.len() + 1);
                    b.splice(i..i, SNIPPETS[k].bytes());
                }
                Edit::Cut(i) => b.truncate(at(i, b.len() + 1)),
                Edit::Repeat(i, j) if !b.is_empty() => {
                    let (i, j) = (at(i, b.len()), at(j, b.len()));
                    let (from, to) = (i.min(j), i.max(j));
                    let piece = b[from..to].to_vec();
                    b.splice(to..to, piece);
                }
                _ => {}
            }
        }
        b
    }

    /// A JSON value for a field, of any type, valid for the schema or not.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(vec![
                "null",
                "true",
                "false",
                "0",
                "1",
                "-1",
                "01",
                "1.0",
                "1e2",
                "0.375",
                "\"0.5\"",
                "\" 0.5 \"",
                "\"\"",
                "\" \"",
                "\"a\"",
                "\"A é\"",
                "\"a\\u0000\"",
                "\"\\u200b\"",
                "\"fast\"",
                "\"standard\"",
                "\"batch\"",
                "\"2026-11-23T14:05:00Z\"",
                "\"2026-11-23T14:05:00.123+01:00\"",
                "\"2026-11-23T24:00:00Z\"",
                "{}",
                "{\"a\":\"b\"}",
                "{\"a\":1}",
                "{\"a\":\"b\",\"a\":\"c\"}",
                "[]",
                "[1,\"x\"]",
                "18446744073709551615",
                "18446744073709551616",
                "99999999999999999999999999999999",
            ])
            .prop_map(String::from),
            any::<u64>().prop_map(|n| n.to_string()),
            "[ -~]{0,12}".prop_map(|s| {
                let mut o = String::new();
                crate::record::push_json_string(&mut o, &s);
                o
            }),
        ]
    }

    /// A key: one of the schema's (often), or another.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => proptest::sample::select(KEYS.iter().map(|(k, _)| std::str::from_utf8(k).unwrap_or("v")).collect::<Vec<_>>())
                .prop_map(String::from),
            1 => "[a-z_]{1,6}",
        ]
    }

    /// Objects built from fields: a valid record's required fields plus random ones (repeats included), in
    /// random order, compact or spaced.
    fn object() -> impl Strategy<Value = String> {
        let required = vec![
            ("v".to_string(), "1".to_string()),
            ("id".to_string(), "\"x\"".to_string()),
            ("ts".to_string(), "\"2026-11-23T14:05:00.123Z\"".to_string()),
            ("agent".to_string(), "\"A\"".to_string()),
            ("model".to_string(), "\"m\"".to_string()),
            ("input_tokens".to_string(), "5".to_string()),
            ("output_tokens".to_string(), "7".to_string()),
        ];
        (
            proptest::collection::vec((key(), value()), 0..6),
            proptest::sample::subsequence(required.clone(), 0..=required.len()),
            any::<bool>(),
            any::<u64>(),
        )
            .prop_map(|(extra, req, spaced, seed)| {
                let mut fields = req;
                fields.extend(extra);
                // A cheap deterministic shuffle.
                let n = fields.len();
                for i in (1..n).rev() {
                    let j = (seed.rotate_left(i as u32) % (i as u64 + 1)) as usize;
                    if seed & (1 << (i % 64)) != 0 {
                        fields.swap(i, j);
                    }
                }
                let sep = if spaced { " , " } else { "," };
                let colon = if spaced { " : " } else { ":" };
                let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\"{colon}{v}")).collect();
                format!("{{{}}}", body.join(sep))
            })
    }

    proptest! {
        #![proptest_config(config(1000))]

        #[test]
        fn arbitrary_bytes(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            agree(&line);
        }

        #[test]
        fn arbitrary_text(line in "\\PC{0,200}") {
            agree(line.as_bytes());
        }

        #[test]
        fn mutated_valid_lines(k in 0..6usize, edits in proptest::collection::vec(edit(), 1..6)) {
            let seeds = seeds();
            let line = apply(seeds[k % seeds.len()].as_bytes(), &edits);
            agree(&line);
        }

        #[test]
        fn generated_records(line in object()) {
            agree(line.as_bytes());
        }
    }
}

//! The general scanner: a validating JSON reader of one log line that takes any valid JSON — whitespace,
//! escapes, keys in any order, unknown fields of any shape — and applies [`Record::parse`]'s rules to it. Every
//! line the quick path does not take is decided here. It only says *that* a line is bad ([`Bad`]): finding the
//! words is left to `Record::parse` (see [`View::parse`]), so the hot path never builds a message it would throw
//! away.
//!
//! [`Record::parse`]: crate::record::Record::parse
//! [`Bad`]: super::Bad

use std::borrow::Cow;

use rust_decimal::Decimal;

use super::keys::{K, KEYS, PREFIXES, word};
use super::ts::parse_ts;
use super::{Fast, View, bad};
use crate::record::{Billing, MAX_NAME_LEN, SCHEMA_VERSION, Service, Tokens, parse_speed};

/// A scanning position in one line (already known to be UTF-8).
pub(super) struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Where [`Cursor::known_key`] starts looking: just after the previous key's place in [`KEYS`].
    hint: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(s: &'a str) -> Cursor<'a> {
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
    pub(super) fn string(&mut self) -> Fast<Cow<'a, str>> {
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
    pub(super) fn object(&mut self, mut f: impl FnMut(&mut Self, Cow<'a, str>) -> Fast<()>) -> Fast<()> {
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
/// assembled directly; anything else goes through the general parser, exactly as `Record::parse` reads it.
#[inline]
pub(super) fn decimal(t: &[u8]) -> Fast<Decimal> {
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
pub(super) fn check_name(field: &str, s: &str) -> Fast<()> {
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

/// Parse and validate one line of any valid JSON, by the same rules as [`Record::parse`]; the error says only
/// that the line is bad. The quick path's fallback, and the parser that decides a line's verdict.
///
/// [`Record::parse`]: crate::record::Record::parse
// Long on purpose: one match arm per schema key over locals, the same shape as `parse_quick` and
// `Record::parse` so the three can be compared arm by arm (the property tests hold them equal); it decides every
// line the quick path declines, so it stays one loop with no state passed between helpers.
pub(super) fn parse_fast(line: &[u8]) -> Fast<View<'_>> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

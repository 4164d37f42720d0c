//! The quick path: lines in the shape tt itself writes (compact, no escapes, schema keys only, keys predicted
//! from the previous line) read with a few word-at-a-time loops. It only ever says "not mine": anything it does
//! not recognise returns `None` and goes to the general scanner, which decides — so it can be as narrow and as
//! fast as tt's own lines allow without ever being the one that accepts or refuses a line differently.

use std::borrow::Cow;
use std::cell::Cell;

use memchr::memchr;
use rust_decimal::Decimal;

use super::View;
use super::general::{check_name, decimal};
use super::keys::{K, KEYS, PREFIXES, word};
use super::ts::parse_ts;
use crate::record::{Billing, SCHEMA_VERSION, Service, Tokens, parse_speed};

/// The quick path for lines as tt writes them: compact JSON (no whitespace), strings without escapes, every
/// key of the schema, no `null`s. A string ends at the next quote, found eight bytes at a time together with
/// any backslash or control byte before it ([`quick_string`]), and the scanner only looks at the few bytes
/// between the strings. Anything else — a backslash, whitespace, an unknown key, a `null`, a
/// number in exponent form, an invalid value — returns `None` and the line takes [`parse_fast`], so this path
/// never decides that a line is bad and never accepts one `parse_fast` would reject (the tests compare both
/// on every line they have and on mutations of them).
///
/// [`parse_fast`]: super::general::parse_fast
// Long on purpose: this is the innermost loop of every bulk read (one call per log line). The line's fields are
// locals that one match arm per schema key fills in; split into helpers, they would have to travel in a struct
// through calls on the hottest path, and the key-by-key shape that mirrors `parse_fast` would be lost.
#[inline]
pub(super) fn parse_quick<'a>(line: &'a [u8], text: Option<&'a str>) -> Option<View<'a>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;
    use crate::scan::Bad;
    use crate::scan::general::parse_fast;
    use crate::scan::tests::QUICK_LINES;

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

    /// The quick path accepts only what the general path accepts, with the same values — on tt's own lines
    /// and on every one-byte change of them.
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
}

//! The TOML value types of a config (exact decimals: [`Price`], [`Rate`], [`Fee`]), the check for floats too
//! long to hold exactly, and where in a file an error is (`file:line: key`).

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use toml::Spanned;

use crate::error::Error;
use crate::money::{self, MAX_AMOUNT};
use crate::price::MAX_RATE;

/// A non-negative exact decimal read from a TOML float, integer or string, at most [`MAX_AMOUNT`].
#[derive(Clone, Copy)]
pub(super) struct Price(pub(super) Decimal);

fn too_large<E: de::Error>(max: Decimal, unit: &str) -> E {
    E::custom(format!("too large: at most {max}{unit}"))
}

fn bounded<E: de::Error>(d: Option<Decimal>, finite: bool, max: Decimal, unit: &str) -> Result<Decimal, E> {
    match d {
        Some(d) if d < Decimal::ZERO => Err(E::custom("must not be negative")),
        Some(d) if d > max => Err(too_large(max, unit)),
        Some(d) => Ok(d),
        None if finite => Err(too_large(max, unit)),
        None => Err(E::custom("must be a finite number")),
    }
}

fn decimal_visitor<'de, D: Deserializer<'de>>(d: D, max: Decimal, unit: &'static str) -> Result<Decimal, D::Error> {
    struct V(Decimal, &'static str);
    impl de::Visitor<'_> for V {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a non-negative number")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            bounded(Some(Decimal::from(v)), true, self.0, self.1)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            bounded(Some(Decimal::from(v)), true, self.0, self.1)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            let d = money::decimal_from_f64(v);
            // A TOML float is read as an f64, whose shortest text is kept exactly (3.75 is 3.75). Below what a
            // decimal holds it would silently become 0: refuse that rather than price at $0.
            if v != 0.0 && v.abs() < 1.0 && d.is_none_or(|d| d.is_zero()) {
                return Err(E::custom(format!("too small to hold exactly: {v:e} (write it as a string, \"0.0…\")")));
            }
            bounded(d, v.is_finite(), self.0, self.1)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            match money::parse_decimal(v) {
                Some(d) => bounded(Some(d), true, self.0, self.1),
                // Text that is a number, just not one a Decimal holds (`"1e40"`), is too large, not "not a number".
                None if v.trim().parse::<f64>().is_ok_and(|f| f.is_finite() && f.abs() >= 1.0) => {
                    Err(too_large(self.0, self.1))
                }
                None => Err(E::custom(format!("not a decimal number: {v:?}"))),
            }
        }
    }
    d.deserialize_any(V(max, unit))
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        decimal_visitor(d, MAX_AMOUNT, "").map(Price)
    }
}

/// A price in USD per million tokens: a [`Price`] of at most [`MAX_RATE`] (a dollar a token), the bound that
/// keeps every cost exact.
#[derive(Clone, Copy)]
pub(super) struct Rate(pub(super) Decimal);

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        decimal_visitor(d, MAX_RATE, " USD per million tokens").map(Rate)
    }
}

/// A per-call fee in USD, or the fast-mode factor: at most [`crate::price::MAX_FEE`].
#[derive(Clone, Copy)]
pub(super) struct Fee(pub(super) Decimal);

impl<'de> Deserialize<'de> for Fee {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        decimal_visitor(d, crate::price::MAX_FEE, "").map(Fee)
    }
}

/// Where in a config file something is, for errors of the form `file:line: key `a.b`: message`.
#[derive(Clone, Copy)]
pub(super) struct Place<'a> {
    pub(super) name: &'a str,
    pub(super) text: &'a str,
    /// The offsets of `text`'s newlines, so a line number is a binary search (every model and alias records
    /// where it was written: counting from the start each time made loading quadratic in the file's size).
    pub(super) newlines: &'a [usize],
}

impl Place<'_> {
    /// `file:line` of the byte offset `at` (just `file` when the place is unknown).
    pub(super) fn at(&self, at: impl Into<Option<usize>>) -> String {
        match at.into() {
            Some(at) => format!("{}:{}", self.name, self.newlines.partition_point(|&n| n < at) + 1),
            None => self.name.to_string(),
        }
    }
    /// A config error at byte offset `at` about `key`.
    pub(super) fn err(&self, at: impl Into<Option<usize>>, key: &str, msg: impl std::fmt::Display) -> Error {
        Error::config(format!("{}: key `{key}`: {msg}", self.at(at)))
    }
}

/// The first of some values' offsets: where a table is, told by the values written in it. (Tables themselves
/// carry no reliable span: one that exists only as the parent of `[a.b]` has none at all.)
pub(super) fn first_at(spans: impl IntoIterator<Item = Option<usize>>) -> Option<usize> {
    spans.into_iter().flatten().min()
}

pub(super) fn start<T>(v: &Option<Spanned<T>>) -> Option<usize> {
    v.as_ref().map(|v| v.span().start)
}

/// The 1-based line of byte offset `at` in `text`.
pub(super) fn line_of(text: &str, at: usize) -> usize {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..at.min(text.len())]).count() + 1
}

/// A toml error as `file:line: key `a.b`: message`.
pub(super) fn toml_error(name: &str, text: &str, e: &toml::de::Error) -> Error {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let key = key_at(text, span.start);
            match key {
                Some(k) => Error::config(format!("{name}:{line_no}: key `{k}`: {msg}")),
                None => Error::config(format!("{name}:{line_no}: {msg}")),
            }
        }
        None => Error::config(format!("{name}: {msg}")),
    }
}

/// The most significant digits a TOML float keeps exactly: an f64 holds any decimal of 15 digits.
const FLOAT_DIGITS: usize = 15;

/// The first float value written in `text` with more than [`FLOAT_DIGITS`] significant digits (leading and
/// trailing zeros of its digits do not count): its byte offset, its text and its number of digits. TOML reads
/// a float as an f64, so such a price would change silently; strings, comments, keys, dates and times are
/// skipped (the text is valid TOML: the parser has read it).
pub(super) fn long_float(text: &str) -> Option<(usize, &str, usize)> {
    let b = text.as_bytes();
    let mut i = 0;
    // Inside a value (after `=`, until the end of its line outside brackets) and how deep in brackets.
    let (mut value, mut depth) = (false, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let multi = b[i..].starts_with(if q == b'"' { b"\"\"\"" } else { b"\'\'\'" });
                i += if multi { 3 } else { 1 };
                while i < b.len() {
                    if q == b'"' && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if multi && b[i..].starts_with(if q == b'"' { b"\"\"\"" } else { b"\'\'\'" }) {
                        // A closing fence may have up to two more quotes before it ("""a"""").
                        i += 3;
                        while i < b.len() && b[i] == q {
                            i += 1;
                        }
                        break;
                    }
                    if !multi && (b[i] == q || b[i] == b'\n') {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'=' => value = true,
            b'[' | b'{' if value => depth += 1,
            b']' | b'}' if value => depth = depth.saturating_sub(1),
            b'\n' if depth == 0 => value = false,
            c if value && (c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b'_' | b':')) => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'+' | b'-' | b'.' | b'_' | b':'))
                {
                    i += 1;
                }
                let token = &text[start..i];
                if let Some(digits) = float_digits(token)
                    && digits > FLOAT_DIGITS
                {
                    return Some((start, token, digits));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The significant digits of a TOML float token (`-1_234.5e-3`), `None` for anything else (integers, dates,
/// `inf`, `nan`, keys).
fn float_digits(token: &str) -> Option<usize> {
    let t = token.strip_prefix(['+', '-']).unwrap_or(token);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    if exp.is_none() && !mantissa.contains('.') {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
            return None;
        }
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let ok = |p: &str| p.bytes().all(|c| c.is_ascii_digit() || c == b'_');
    if int.is_empty() || !int.as_bytes()[0].is_ascii_digit() || !ok(int) || !ok(frac) {
        return None;
    }
    let digits: String = format!("{int}{frac}").chars().filter(char::is_ascii_digit).collect();
    Some(digits.trim_start_matches('0').trim_end_matches('0').len())
}

/// The dotted key the byte offset `at` belongs to: the nearest table header above it plus the key on its line.
pub(super) fn key_at(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[at..].find('\n').map(|i| at + i).unwrap_or(text.len());
    let line = text[line_start..line_end].trim();
    let mut table = String::new();
    for l in text[..line_start].lines().rev() {
        let l = l.trim();
        if l.starts_with('[') {
            table = l.trim_matches(|c| c == '[' || c == ']').trim().replace('"', "").to_string();
            break;
        }
    }
    let key = if line.starts_with('[') { None } else { line.split_once('=').map(|(k, _)| k.trim().replace('"', "")) };
    match (table.is_empty(), key) {
        (_, None) if table.is_empty() => None,
        (_, None) => Some(table),
        (true, Some(k)) => Some(k),
        (false, Some(k)) => Some(format!("{table}.{k}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_PRICES, DEFAULT_SETTINGS};

    #[test]
    fn float_digits_count_what_an_f64_must_hold() {
        for (token, want) in [
            ("3.75", Some(3)),
            ("-1_234.5e-3", Some(5)),
            ("0.000000000000000001", Some(1)),
            ("1.50000000000000000000", Some(2)),
            ("3.0000000000000001", Some(17)),
            ("1e16", Some(1)),
            ("12", None),
            ("2026-11-01", None),
            ("07:32:00.12345678901234567", None),
            ("inf", None),
            ("gpt-4.1", None),
        ] {
            assert_eq!(float_digits(token), want, "{token}");
        }
    }

    #[test]
    fn long_floats_are_found_only_in_values() {
        let text = "# 1.2345678901234567\n[a]\nk = \"1.2345678901234567\"\nl = '''\n1.2345678901234567'''\n\
                    m = [1.5, { x = 2.0 }]\nn = 1.2345678901234567\n";
        let (at, float, digits) = long_float(text).unwrap();
        assert_eq!((line_of(text, at), float, digits), (7, "1.2345678901234567", 17));
        assert_eq!(long_float("x = 1.23456789012345\ny = [\n 1.0,\n 2.5e-7,\n]\n"), None);
    }

    #[test]
    fn built_in_tables_hold_no_long_floats() {
        assert_eq!(long_float(DEFAULT_PRICES), None);
        assert_eq!(long_float(DEFAULT_SETTINGS), None);
        assert_eq!(long_float(crate::catalogue::TEXT), None);
    }
}

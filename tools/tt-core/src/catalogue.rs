//! The built-in price catalogue: every model with token prices in LiteLLM's price map, compiled into the
//! binary as text and read only for the names asked for.
//!
//! `data/catalogue.toml` is written by `scripts/refresh-catalogue.sh` from one LiteLLM release (its header names
//! the version): one line per model, `"name" = { provider = …, input = …, … }`, sorted by the quoted name, under a
//! single `[models]` header — a valid tt config layer as a whole. Nothing is parsed at start: a lookup binary
//! searches the lines for the quoted name (about a dozen comparisons among ~4,000 lines).
//!
//! This module only finds lines. A line is config TOML, so the config loader parses it
//! (`config::catalogue_model`, once per model and process), and means exactly what the same TOML in a config
//! would; the price table it builds reads catalogue entries through that parser
//! ([`crate::price::PriceTable::with_catalogue`]). The config's entries come first
//! ([`crate::price::PriceTable::resolve`] asks the catalogue only for names the config does not know), and a
//! config layer that names a catalogue model merges into its entry field by field.

use std::sync::OnceLock;

/// The catalogue's text.
pub const TEXT: &str = include_str!("../data/catalogue.toml");

/// The source name catalogue entries carry (`tt-price --list` shows it), e.g. `litellm-1.110.2`.
pub fn source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let version = TEXT
            .lines()
            .next()
            .and_then(|l| l.split("LiteLLM ").nth(1))
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("unknown");
        format!("builtin:litellm-{version}")
    })
}

/// The model lines: everything after the `[models]` header.
fn body() -> &'static str {
    static BODY: OnceLock<&'static str> = OnceLock::new();
    BODY.get_or_init(|| match TEXT.find("\n[models]\n") {
        Some(i) => &TEXT[i + "\n[models]\n".len()..],
        None => "",
    })
}

/// The quoted key a line starts with (`"gpt-5.5"`), as written.
fn key_of(line: &str) -> &str {
    // Keys are TOML basic strings; a quote inside one is escaped, so the first unescaped quote after the opening
    // one ends it.
    let b = line.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return &line[..=i],
            _ => i += 1,
        }
    }
    line
}

/// The line of the model named `name` (lower-case, as entries are named), if the catalogue has it.
pub fn line(name: &str) -> Option<&'static str> {
    let want = quoted(name);
    let body = body();
    let (mut lo, mut hi) = (0usize, body.len());
    // Invariant: the line sought, if any, starts at or after `lo` and before `hi`; both are line starts.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let b = body.as_bytes();
        let start = memchr::memrchr(b'\n', &b[..mid]).map_or(0, |i| i + 1).max(lo);
        let end = memchr::memchr(b'\n', &b[start..]).map_or(body.len(), |i| start + i);
        let line = &body[start..end];
        match key_of(line).cmp(want.as_str()) {
            std::cmp::Ordering::Equal => return Some(line),
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    None
}

/// The providers whose prefixed entry stands for a model the catalogue has no unprefixed entry of, in order of
/// preference: the model makers' own APIs first, then resellers.
const PREFERRED: [&str; 8] = ["openai", "anthropic", "gemini", "vertex_ai", "xai", "mistral", "deepseek", "chatgpt"];

/// The name of a catalogue entry `PROVIDER/name` (one prefix) for a `name` the catalogue has no entry of, if any:
/// the first of `PREFERRED` that has one, else the first in the catalogue's order. Reads every line: called only
/// after every other spelling failed, once per model (the pricer caches).
pub fn prefixed(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let mut found: Vec<&'static str> = names()
        .filter(|n| {
            n.len() > name.len() + 1 && n.ends_with(name) && n[..n.len() - name.len()].matches('/').count() == 1
        })
        .filter(|n| n.as_bytes()[n.len() - name.len() - 1] == b'/')
        .collect();
    found.sort_by_key(|n| {
        let provider = &n[..n.len() - name.len() - 1];
        PREFERRED.iter().position(|p| *p == provider).unwrap_or(PREFERRED.len())
    });
    found.first().copied()
}

/// The names of the catalogue's models of `provider` (their line says `provider = "…"`), in its order: where the
/// analyses that look for a cheaper model of the same provider start. Reads every line.
pub fn of_provider(provider: &str) -> impl Iterator<Item = &'static str> {
    let needle = format!("provider = {},", quoted(provider));
    names().zip(body().lines().filter(|l| l.starts_with('"'))).filter(move |(_, l)| l.contains(&needle)).map(|(n, _)| n)
}

/// Every model name in the catalogue, in its order.
pub fn names() -> impl Iterator<Item = &'static str> {
    body().lines().filter(|l| l.starts_with('"')).map(|l| {
        let k = key_of(l);
        k.get(1..k.len().saturating_sub(1)).unwrap_or(k)
    })
}

/// `s` quoted as the catalogue's keys and values are: a TOML basic string, written as a JSON string is.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::record::push_json_string(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines are sorted by their quoted name (the binary search relies on it), each name once, and every
    /// one is found by [`line`] and loads.
    #[test]
    fn sorted_unique_and_every_line_found() {
        let lines: Vec<&str> = body().lines().collect();
        assert!(lines.len() > 3000, "{}", lines.len());
        for w in lines.windows(2) {
            assert!(key_of(w[0]) < key_of(w[1]), "{} / {}", key_of(w[0]), key_of(w[1]));
        }
        for name in names() {
            assert!(line(name).is_some(), "{name}");
        }
        assert!(line("no-such-model").is_none());
        assert!(line("").is_none());
        assert!(line("zzzz").is_none());
        assert!(line("!").is_none());
    }

    #[test]
    fn the_whole_file_is_a_config_layer() {
        crate::config::Config::from_str_layer("catalogue", TEXT).unwrap();
    }
}

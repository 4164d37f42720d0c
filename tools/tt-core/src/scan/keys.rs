//! The schema's keys, and how both scanners recognise them: a key and its closing quote are compared as at most
//! three masked little-endian words against a table built at compile time, instead of scanning for the quote
//! and calling `memcmp`. A file of its own because the quick path and the general scanner share it, and the
//! table's order (the order tt writes keys in) is what makes the next key the first one tried.

/// The fields of the schema, so a key is recognised once and dispatched on as a number.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum K {
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
///
/// [`Record::to_json`]: crate::record::Record::to_json
/// [`Cursor::known_key`]: super::general::Cursor::known_key
pub(super) const KEYS: [(&[u8], K); 31] = [
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
pub(super) const PREFIXES: [[(u64, u64); 3]; KEYS.len()] = {
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
pub(super) fn word(b: &[u8], at: usize) -> u64 {
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
    pub(super) fn of(key: &[u8]) -> K {
        KEYS.iter().find(|(k, _)| *k == key).map_or(K::Other, |(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    use crate::record::Record;
    use crate::scan::View;

    #[test]
    fn keys_that_only_start_like_schema_keys_are_unknown_fields() {
        let line = r#"{"agentx":"no","v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cache_write_tokensX":"s","cache_write_1h_tokens":4,"tasks":[1],"v2":null}"#;
        let v = View::parse(line.as_bytes()).unwrap();
        assert_eq!(v.agent, "A");
        assert_eq!(v.tokens, Record::parse(line).unwrap().tokens);
        assert_eq!(v.tokens.cache_write_1h, 4);
        assert!(v.task.is_none());
    }
}

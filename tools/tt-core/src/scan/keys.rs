//! The schema's keys, and how both scanners recognise them: a key and its closing quote are compared as at most
//! three masked little-endian words against a table built at compile time, instead of scanning for the quote
//! and calling `memcmp`. A file of its own because the quick path and the general scanner share it, and the
//! table's order (the order tt writes keys in) is what makes the next key the first one tried.

use crate::record::field;

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
    (field::V.as_bytes(), K::V),
    (field::ID.as_bytes(), K::Id),
    (field::TS.as_bytes(), K::Ts),
    (field::AGENT.as_bytes(), K::Agent),
    (field::MODEL.as_bytes(), K::Model),
    (field::PROVIDER.as_bytes(), K::Provider),
    (field::INPUT_TOKENS.as_bytes(), K::InputTokens),
    (field::OUTPUT_TOKENS.as_bytes(), K::OutputTokens),
    (field::CACHE_READ_TOKENS.as_bytes(), K::CacheReadTokens),
    (field::CACHE_WRITE_TOKENS.as_bytes(), K::CacheWriteTokens),
    (field::CACHE_WRITE_1H_TOKENS.as_bytes(), K::CacheWrite1hTokens),
    (field::REASONING_TOKENS.as_bytes(), K::ReasoningTokens),
    (field::SERVICE_TIER.as_bytes(), K::ServiceTier),
    (field::SPEED.as_bytes(), K::Speed),
    (field::WEB_SEARCH_REQUESTS.as_bytes(), K::WebSearch),
    (field::WEB_FETCH_REQUESTS.as_bytes(), K::WebFetch),
    (field::CODE_EXECUTION_REQUESTS.as_bytes(), K::CodeExecution),
    (field::SESSION.as_bytes(), K::Session),
    (field::TASK.as_bytes(), K::Task),
    (field::PROJECT.as_bytes(), K::Project),
    (field::BRANCH.as_bytes(), K::Branch),
    (field::COMMIT.as_bytes(), K::Commit),
    (field::HOST.as_bytes(), K::Host),
    (field::USER.as_bytes(), K::User),
    (field::DURATION_MS.as_bytes(), K::DurationMs),
    (field::NOTES.as_bytes(), K::Notes),
    (field::TAGS.as_bytes(), K::Tags),
    (field::SOURCE.as_bytes(), K::Source),
    (field::ESTIMATED.as_bytes(), K::Estimated),
    (field::COST_USD.as_bytes(), K::CostUsd),
    (field::PRICE.as_bytes(), K::Price),
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

    /// The scanners' table is the schema's list of fields, in the order records are written.
    #[test]
    fn the_key_table_is_the_schemas_fields_in_order() {
        let keys: Vec<&[u8]> = super::KEYS.iter().map(|(k, _)| *k).collect();
        let known: Vec<&[u8]> = crate::record::KNOWN_FIELDS.iter().map(|f| f.as_bytes()).collect();
        assert_eq!(keys, known);
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
}

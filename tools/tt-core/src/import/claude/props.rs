//! Property tests (issue 11): the fast path and serde agree on mutated real-shaped assistant lines, and neither
//! panics on anything.

use super::*;
use crate::provider::props::{Edit, JSON_SNIPPETS, Tree, apply, config, edit, mutate, tree};
use proptest::prelude::*;
use serde_json::Value;

/// What both paths made of `line`: the outcome and every request found, as text.
fn show(o: &LineOutcome, v: &[Found]) -> String {
    let o = match o {
        LineOutcome::Malformed(_) => "malformed",
        LineOutcome::Read => "read",
        LineOutcome::Skipped => "skipped",
    };
    let v: Vec<String> = v
        .iter()
        .map(|f| {
            format!("{:?} {} {:?} {:?} {} {:?} {:?}", f.hash, f.ts, f.tokens, f.ctx, f.stream, f.billing, f.iterations)
        })
        .collect();
    format!("{o} {v:?}")
}

/// Both paths on `line` (with a `max_tokens` of `max`): the same outcome and the same requests whenever the
/// fast path reads it; the whole reader never panics.
fn agree(line: &[u8], max: u64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let serde = with_serde(line, &mut CtxCache::new(max), &mut b);
    if let Some(quick) = fast(line, &mut CtxCache::new(max), &mut a) {
        assert_eq!(show(&quick, &a), show(&serde, &b), "{}", String::from_utf8_lossy(line));
    }
    let mut c = Vec::new();
    let _ = read_line(line, &mut CtxCache::new(max), &mut c);
}

/// Real-shaped lines: the usage lines of the fixtures' transcripts, and some written for the odd cases.
fn seeds() -> Vec<Value> {
    let files = [
        include_str!("../../../../../tests/fixtures/claude-code/projects/-home-dev-shop/s1.jsonl"),
        include_str!("../../../../../tests/fixtures/claude-code/projects/-home-dev-shop/s1/subagents/agent-a1.jsonl"),
        include_str!("../../../../../tests/fixtures/claude-code-billing/projects/-home-dev-web/s2.jsonl"),
        r#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","sessionId":"s","requestId":"r","cwd":"/a/b","gitBranch":"main","isSidechain":false,"message":{"id":"m","model":"claude-x","content":[{"type":"text","text":"\"usage\": {} \\"}],"usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":30,"cache_read_input_tokens":4,"cache_creation":{"ephemeral_5m_input_tokens":20,"ephemeral_1h_input_tokens":10},"service_tier":"standard","speed":"fast","server_tool_use":{"web_search_requests":1,"web_fetch_requests":0},"iterations":[{"input_tokens":1,"output_tokens":2,"type":"message"},{"input_tokens":5,"output_tokens":6,"model":"claude-y","type":"advisor_message"}]}}}"#,
        r#"{"type":"progress","timestamp":"2026-01-01T00:00:00Z","sessionId":"s","data":{"agentId":"a","message":{"timestamp":"2026-01-01T00:00:01Z","requestId":"q","message":{"id":"m2","model":"claude-x","usage":{"input_tokens":3,"output_tokens":4}}}}}"#,
    ];
    files
        .iter()
        .flat_map(|f| f.lines())
        .filter(|l| l.contains("\"usage\""))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Keys of Claude Code lines, for added and wrapping members.
const KEYS: &[&str] = &[
    "type",
    "timestamp",
    "sessionId",
    "requestId",
    "cwd",
    "gitBranch",
    "isSidechain",
    "message",
    "data",
    "agentId",
    "id",
    "model",
    "content",
    "usage",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "ephemeral_5m_input_tokens",
    "ephemeral_1h_input_tokens",
    "service_tier",
    "speed",
    "server_tool_use",
    "web_search_requests",
    "code_execution_requests",
    "iterations",
];

/// Seed `k` with structural edits, printed compact or spaced, then byte edits and garbage after it.
fn line(k: usize, trees: &[Tree], spaced: bool, edits: &[Edit], tail: &str) -> Vec<u8> {
    let seeds = seeds();
    let doc = mutate(&seeds[k % seeds.len()], trees, KEYS);
    let text = if spaced {
        serde_json::to_string_pretty(&doc).expect("a value prints").replace('\n', " ")
    } else {
        doc.to_string()
    };
    let mut b = apply(text.as_bytes(), edits, JSON_SNIPPETS);
    b.extend_from_slice(tail.as_bytes());
    b
}

fn tail() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        1 => proptest::sample::select(vec![" ", "}", "]", "x", "{}", "{\"type\":\"summary\"}", "\r", "\t\t"])
            .prop_map(String::from),
        1 => "\\PC{0,10}",
    ]
}

fn max_tokens() -> impl Strategy<Value = u64> {
    proptest::sample::select(vec![u64::MAX, crate::config::MAX_MAX_TOKENS, 100_000_000, 5])
}

/// Lines the properties found the fast path accepting while serde refuses them (it now gives up on them).
#[test]
fn regressions_found_by_the_properties() {
    let ok = r#""timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","model":"claude-x","content":[],"usage":{"input_tokens":1}}"#;
    for line in [
        // A raw control character in a string (the fast path skipped it unchecked).
        format!("{{\"type\":\"assistant\",\"cwd\":\"\u{1}/a\",{ok}}}"),
        format!("{{\"type\":\"assistant\",\"uuid\":\"a\tb\",{ok}}}"),
        // An invalid escape or number, or a repeated key, in a member it skipped.
        format!("{{\"type\":\"assistant\",\"uuid\":\"a\\qb\",{ok}}}"),
        format!("{{\"type\":\"assistant\",\"n\":1x2,{ok}}}"),
        format!("{{\"type\":\"assistant\",\"type\":\"assistant\",{ok}}}"),
        // A malformed count on a line that is not an assistant's: serde still reads its usage.
        r#"{"type":["assistant"],"timestamp":"2026-01-01T00:00:00Z","message":{"id":"m","usage":{"input_tokens":""}}}"#
            .to_string(),
    ] {
        let mut out = Vec::new();
        assert!(
            matches!(with_serde(line.as_bytes(), &mut CtxCache::default(), &mut out), LineOutcome::Malformed(_)),
            "{line}"
        );
        agree(line.as_bytes(), u64::MAX);
    }
}

/// Strings serde builds — the value of a `Str` or `Flag` field, and the keys of an object given to one —
/// are checked for UTF-8 and lone surrogates, which serde's skipping of the values it ignores never checks.
/// The fast path read these lines (it checked every string as skipped); serde refuses them.
#[test]
fn strings_serde_builds_are_checked() {
    let ok = br#""timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","model":"claude-x","content":[],"usage":{"input_tokens":1}}}"#;
    for head in [
        &b"{\"type\":\"assistant\",\"isSidechain\":\"\xff\","[..],
        br#"{"type":"assistant","isSidechain":"\ud800","#,
        br#"{"type":"assistant","isSidechain":"\udc00\u0041","#,
        b"{\"type\":\"assistant\",\"isSidechain\":{\"\xe9\":1},",
        br#"{"type":"assistant","isSidechain":{"\ud800":1},"#,
        br#"{"type":"assistant","cwd":{"a\ud800b":1},"#,
    ] {
        let line = [head, &ok[..]].concat();
        let mut out = Vec::new();
        assert!(
            matches!(with_serde(&line, &mut CtxCache::default(), &mut out), LineOutcome::Malformed(_)),
            "{}",
            String::from_utf8_lossy(&line)
        );
        agree(&line, u64::MAX);
    }
    let usage = |u: &[u8]| {
        [&br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{"id":"m","usage":{"input_tokens":1,"#[..], u, b"}}}"]
            .concat()
    };
    for u in [&b"\"speed\":{\"\xff\":1}"[..], br#""service_tier":{"\udfff":1}"#, br#""model":{"\ud800":1}"#] {
        let line = usage(u);
        let mut out = Vec::new();
        assert!(
            matches!(with_serde(&line, &mut CtxCache::default(), &mut out), LineOutcome::Malformed(_)),
            "{}",
            String::from_utf8_lossy(&line)
        );
        agree(&line, u64::MAX);
    }
}

/// [`string`] byte by byte: the reference its eight-bytes-at-a-time walk must match.
fn string_by_bytes(b: &[u8], i: usize, escapes: bool) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' if escapes => match b.get(j + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j += 2,
                _ => return None,
            },
            c if c < 0x20 || c == b'\\' => return None,
            _ => j += 1,
        }
    }
}

/// [`skip_string`] byte by byte.
fn skip_by_bytes(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
}

/// Pieces of string text: plain bytes, every escape (valid or not), quotes, control bytes, UTF-8 of every
/// length and bytes that are not UTF-8 — laid end to end, they put each kind of byte at every offset of an
/// eight-byte word.
const ATOMS: &[&[u8]] = &[
    b"a",
    b"abcdefg",
    b"0123456789abcdef",
    b" ",
    b"\\\"",
    b"\\\\",
    b"\\/",
    b"\\n",
    b"\\t",
    b"\\b",
    b"\\f",
    b"\\r",
    b"\\u00e9",
    b"\\ud800",
    b"\\udc00",
    b"\\ud83d\\ude00",
    b"\\u12",
    b"\\q",
    b"\\",
    b"\"",
    b"\x01",
    b"\x1f",
    b"\t",
    b"\x7f",
    "\u{e9}".as_bytes(),
    "\u{2713}".as_bytes(),
    "\u{1f600}".as_bytes(),
    b"\xff",
    b"\x80",
    b"\xc3",
    b"\xed\xa0\x80",
];

/// String text of up to 24 [`ATOMS`]: any of them; or only plain text and short escapes (what the fast
/// path reads where it skips a value); or only plain text (what it reads where it takes the string) — so
/// that it reads many of the lines rather than only giving up.
fn text() -> impl Strategy<Value = Vec<u8>> {
    let of = |atoms: Vec<&'static [u8]>| {
        proptest::collection::vec(proptest::sample::select(atoms), 0..24).prop_map(|v| v.concat())
    };
    // ATOMS[..4] is ASCII, [4..12] short escapes, [24..27] UTF-8 of two, three and four bytes.
    let (plain, escapes, utf8) = (&ATOMS[..4], &ATOMS[4..12], &ATOMS[24..27]);
    prop_oneof![of(ATOMS.to_vec()), of([plain, escapes, utf8].concat()), of([plain, utf8].concat()),]
}

/// Where [`placed`] puts a generated string in a usage line (as `@` marks it).
const PLACES: &[&str] = &[
    r#"{"type":"assistant","uuid":"@","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","content":[],"usage":{"input_tokens":1}}}"#,
    r#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","cwd":"@","requestId":"r","message":{"id":"m","usage":{"input_tokens":1}}}"#,
    r#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","isSidechain":"@","message":{"id":"m","usage":{"input_tokens":1}}}"#,
    r#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","isSidechain":{"@":1},"message":{"id":"m","usage":{"input_tokens":1}}}"#,
    r#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","@":[1,"@"],"message":{"id":"m","usage":{"input_tokens":1}}}"#,
    r#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{"id":"m","model":"@","usage":{"input_tokens":1}}}"#,
    r#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{"id":"@","content":[{"type":"text","text":"@"}],"usage":{"input_tokens":1,"service_tier":"@"}},"requestId":"@"}"#,
    r#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{"content":"@","usage":{"input_tokens":1,"speed":{"@":"@"},"x":["@"]}},"sessionId":"@"}"#,
    r#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{"content":[{"@":"@"}],"id":"m","usage":{"input_tokens":1,"iterations":[{"input_tokens":2,"model":"@"}]}}}"#,
    r#"{"type":"@","timestamp":"2026-01-01T00:00:00Z","gitBranch":"@","message":{"id":"m","usage":{"input_tokens":1}}}"#,
];

/// [`PLACES`]`[k]` with `s` for every `@`.
fn placed(k: usize, s: &[u8]) -> Vec<u8> {
    let mut line = Vec::new();
    for (n, part) in PLACES[k % PLACES.len()].split('@').enumerate() {
        if n > 0 {
            line.extend_from_slice(s);
        }
        line.extend_from_slice(part.as_bytes());
    }
    line
}

proptest! {
    #![proptest_config(config(512))]

    /// The word-at-a-time string walks end where (and fail when) byte-by-byte ones do: each kind of byte at
    /// every offset of a word, and strings cut anywhere before the end of the input.
    #[test]
    fn string_walks_match_byte_by_byte(
        pad in 0..9usize,
        body in text(),
        after in proptest::collection::vec(proptest::sample::select(b"\"\\ax\x01".to_vec()), 0..12),
        escapes in any::<bool>(),
    ) {
        let mut b = vec![b' '; pad];
        b.push(b'"');
        b.extend_from_slice(&body);
        b.extend_from_slice(&after);
        for end in pad + 1..=b.len() {
            let b = &b[..end];
            prop_assert_eq!(string(b, pad, escapes), string_by_bytes(b, pad, escapes));
            prop_assert_eq!(skip_string(b, pad), skip_by_bytes(b, pad));
        }
    }

    /// Strings of every kind in every place of a usage line: keys and values tt reads, values serde builds
    /// and values it skips, inside `content` (never checked) and after it.
    #[test]
    fn strings_anywhere_agree(k in 0..PLACES.len(), s in text(), max in max_tokens()) {
        agree(&placed(k, &s), max);
    }

    #[test]
    fn arbitrary_bytes(line in proptest::collection::vec(any::<u8>(), 0..200), max in max_tokens()) {
        let mut l = line;
        l.extend_from_slice(b"\"usage\"");
        agree(&l, max);
    }

    #[test]
    fn mutated_assistant_lines_agree(
        k in any::<usize>(),
        trees in proptest::collection::vec(tree(KEYS.len()), 0..6),
        spaced in any::<bool>(),
        tail in tail(),
        max in max_tokens(),
    ) {
        agree(&line(k, &trees, spaced, &[], &tail), max);
    }

    #[test]
    fn mutated_assistant_bytes_agree(
        k in any::<usize>(),
        trees in proptest::collection::vec(tree(KEYS.len()), 0..3),
        edits in proptest::collection::vec(edit(), 1..5),
        tail in tail(),
    ) {
        agree(&line(k, &trees, false, &edits, &tail), u64::MAX);
    }
}

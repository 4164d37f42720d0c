//! Unit tests of the Claude Code reader: the fast path against serde on chosen lines, and its building blocks.

use super::*;

fn both(line: &[u8]) -> Option<(String, String)> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let fa = fast(line, &mut CtxCache::default(), &mut a)?;
    let fb = with_serde(line, &mut CtxCache::default(), &mut b);
    let show = |o: LineOutcome, v: Vec<Found>| {
        let o = match o {
            LineOutcome::Malformed(_) => "malformed",
            _ => "ok",
        };
        let v: Vec<String> = v
            .iter()
            .map(|f| {
                format!(
                    "{:?} {} {:?} {:?} {} {:?} {:?}",
                    f.hash, f.ts, f.tokens, f.ctx, f.stream, f.billing, f.iterations
                )
            })
            .collect();
        format!("{o} {v:?}")
    };
    Some((show(fa, a), show(fb, b)))
}

#[test]
fn the_fast_path_reads_what_serde_reads() {
    let mut lines: Vec<Vec<u8>> = vec![
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","sessionId":"s","requestId":"r","cwd":"/a/b","gitBranch":"","isSidechain":true,"message":{"id":"m","model":"claude-x","content":[{"type":"text","text":"\"usage\": {}"}],"usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":30,"cache_creation":{"ephemeral_1h_input_tokens":10}}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{"model":"<synthetic>","usage":{"input_tokens":0}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{"id":"m","usage":null}}"#.to_vec(),
        br#"{"type":"user","timestamp":"2026-01-01T00:00:00Z","message":{"usage":{"input_tokens":5}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"bad","message":{"id":"m","usage":{"input_tokens":5}}}"#.to_vec(),
        // Escaped quotes and backslashes around the skipped content and after it; braces inside strings.
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","content":[{"t":"x\"}\\"},{"u":"{[\\\""}],"usage":{"input_tokens":3,"output_tokens":4},"z":[1,{"a":"\\"}]},"note":"a\\","n":12}"#.to_vec(),
        // Whitespace everywhere; usage before content.
        br#" { "type" : "assistant" , "timestamp" : "2026-01-01T00:00:00Z" , "message" : { "usage" : { "input_tokens" : 1 } , "id" : "m" , "content" : [ ] } , "requestId" : "q" } "#.to_vec(),
        // Two assistant lines glued together, and one glued to a summary.
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"a","message":{"id":"m1","content":[],"usage":{"input_tokens":1}}}{"type":"assistant","timestamp":"2026-01-01T00:00:01Z","requestId":"b","message":{"id":"m2","content":[],"usage":{"input_tokens":2}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"a","message":{"id":"m1","content":[],"usage":{"input_tokens":1}}}{"type":"summary","summary":"s"}"#.to_vec(),
        // Cache writes: only the breakdown; a 1-hour count above the total; a null total; a null breakdown.
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","usage":{"input_tokens":1,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":50}}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","usage":{"input_tokens":1,"cache_creation_input_tokens":10,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":1000}}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","usage":{"input_tokens":1,"cache_creation_input_tokens":null,"cache_creation":{"ephemeral_5m_input_tokens":7}}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","usage":{"input_tokens":1,"cache_creation_input_tokens":40,"cache_creation":null}}}"#.to_vec(),
        // Billing: speed, tier, server tools; iterations (one equal to the whole, two, one on another model, none).
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","model":"claude-opus-4-8","usage":{"input_tokens":1,"output_tokens":2,"service_tier":"priority","speed":"fast","server_tool_use":{"web_search_requests":3,"web_fetch_requests":1}}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","model":"claude-x","usage":{"input_tokens":1,"output_tokens":2,"iterations":[{"input_tokens":1,"output_tokens":2,"type":"message"}]}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","model":"claude-x","usage":{"input_tokens":1,"output_tokens":2,"iterations":[{"input_tokens":500,"output_tokens":20,"type":"compaction"}, {"input_tokens":1,"output_tokens":2,"cache_creation":{"ephemeral_1h_input_tokens":4},"type":"message"}]}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","model":"claude-x","usage":{"input_tokens":1,"output_tokens":2,"iterations":[{"input_tokens":7,"output_tokens":8,"model":"claude-y","type":"advisor_message"},{"input_tokens":1,"output_tokens":2,"type":"message"}]}}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","requestId":"r","message":{"id":"m","model":"claude-x","usage":{"input_tokens":1,"output_tokens":2,"iterations":[ ]}}}"#.to_vec(),
        // A message that is not an object; an empty message; a truncated line.
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":"usage"}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{},"usage":{}}"#.to_vec(),
        br#"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{"usage":{"input_tokens":1}"#.to_vec(),
    ];
    // Every usage line of the real transcripts, when they are there.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/realdata/claude/projects");
    if let Ok(dirs) = std::fs::read_dir(&root) {
        for d in dirs.flatten() {
            for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
                let text = std::fs::read(f.path()).unwrap();
                lines.extend(
                    text.split(|&c| c == b'\n').filter(|l| usage_finder().find(l).is_some()).map(<[u8]>::to_vec),
                );
            }
        }
    }
    let mut fast_lines = 0;
    for l in &lines {
        if let Some((a, b)) = both(l) {
            fast_lines += 1;
            assert_eq!(a, b, "{}", String::from_utf8_lossy(l));
        }
    }
    eprintln!("fast path: {fast_lines} of {} lines", lines.len());
    assert!(fast_lines >= 18);
}

#[test]
fn request_keys_hash_as_the_importer_hashes_them() {
    let long = "x".repeat(300);
    for parts in [
        &["claude-code", "msg_1", "req_1"][..],
        &["claude-code", "m"],
        &["claude-code", "", ""],
        &["claude-code", &long, "r"],
    ] {
        assert_eq!(key_hash(parts), super::super::key_hash(parts));
    }
}

#[test]
fn the_content_span_is_found_without_parsing() {
    let line = br#"{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"a \"}] { [ \\"}],"usage":{"input_tokens":1}},"x":2}"#;
    let (s, e) = content_span(line).unwrap();
    assert_eq!(&line[s..e], br#"[{"type":"text","text":"a \"}] { [ \\"}]"#);
    assert_eq!(content_span(br#"{"type":"user","message":"text"}"#), None);
    assert_eq!(content_span(br#"{"message":{"content":[1,2"#), None);
    assert_eq!(content_span(br#"{"a":[1,{"b":null}],"message":{"model":"x","content":"hi"}}"#), Some((53, 57)));
}

//! Claude Code transcripts: `projects/<project>/<session>.jsonl` (and `<session>/subagents/*.jsonl`).
//!
//! Usage sits on `type: "assistant"` lines at `message.usage`, and — for Task subagents in some 2.1.x
//! versions — on `type: "progress"` lines at `data.message.message.usage`. One request is written on several
//! lines while it streams (same `message.id` + `requestId`, growing `output_tokens`); the caller keeps the line
//! with the most tokens per key. Lines are read with borrowed serde structs: the large `content` parts are
//! skipped by the parser, never built.

use serde::Deserialize;

use super::lenient::{Flag, Obj, Str, count};
use super::{CtxCache, Found, LineOutcome};
use crate::record::Tokens;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Str<'a>,
    #[serde(borrow)]
    timestamp: Str<'a>,
    #[serde(rename = "sessionId", borrow)]
    session_id: Str<'a>,
    #[serde(rename = "requestId", borrow)]
    request_id: Str<'a>,
    #[serde(borrow)]
    cwd: Str<'a>,
    #[serde(rename = "gitBranch", borrow)]
    git_branch: Str<'a>,
    #[serde(rename = "isSidechain")]
    is_sidechain: Flag,
    #[serde(borrow)]
    message: Obj<Message<'a>>,
    #[serde(borrow)]
    data: Obj<Data<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Data<'a> {
    #[serde(borrow)]
    message: Obj<Inner<'a>>,
}

/// `data.message` of a progress line: a whole subagent transcript line.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Inner<'a> {
    #[serde(borrow)]
    timestamp: Str<'a>,
    #[serde(rename = "requestId", borrow)]
    request_id: Str<'a>,
    #[serde(borrow)]
    message: Obj<Message<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Message<'a> {
    #[serde(borrow)]
    id: Str<'a>,
    #[serde(borrow)]
    model: Str<'a>,
    usage: Obj<Usage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Usage {
    #[serde(deserialize_with = "count")]
    input_tokens: u64,
    #[serde(deserialize_with = "count")]
    output_tokens: u64,
    #[serde(deserialize_with = "count")]
    cache_creation_input_tokens: u64,
    #[serde(deserialize_with = "count")]
    cache_read_input_tokens: u64,
    cache_creation: Obj<CacheCreation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CacheCreation {
    #[serde(deserialize_with = "count")]
    ephemeral_1h_input_tokens: u64,
}

impl Usage {
    fn tokens(&self) -> Tokens {
        // `cache_creation_input_tokens` is the sum of both cache tiers; the breakdown, when present, says how
        // much of it went to the 1-hour cache (priced higher).
        let h1 = self.cache_creation.0.as_ref().map_or(0, |c| c.ephemeral_1h_input_tokens);
        Tokens {
            input: self.input_tokens,
            output: self.output_tokens,
            cache_read: self.cache_read_input_tokens,
            cache_write: self.cache_creation_input_tokens.saturating_sub(h1),
            cache_write_1h: h1,
        }
    }
}

/// Read one physical line: usage found on it goes to `out`. A line can hold several JSON objects glued
/// together (a crash between two writes); each is read.
pub(super) fn read_line(line: &[u8], ctx: &mut CtxCache, out: &mut Vec<Found>) -> LineOutcome {
    // Only lines naming a `usage` can carry usage; skipping the rest unparsed is most of the speed (tool
    // results and file snapshots are the bulk of a transcript).
    if memchr::memmem::find(line, b"\"usage\"").is_none() {
        return LineOutcome::Skipped;
    }
    // The message's `content` (text, thinking, tool calls) is most of an assistant line and tt needs none of
    // it: cut it out with a fast structural scan and let serde parse the small rest. A line the scan does not
    // understand is parsed whole, so the result never depends on the shortcut.
    let spliced;
    let line = match content_span(line) {
        Some((start, end)) => {
            let mut v = Vec::with_capacity(line.len() - (end - start) + 2);
            v.extend_from_slice(&line[..start]);
            v.extend_from_slice(b"[]");
            v.extend_from_slice(&line[end..]);
            spliced = v;
            &spliced[..]
        }
        None => line,
    };
    let mut stream = serde_json::Deserializer::from_slice(line).into_iter::<Line>();
    let mut problem = None;
    loop {
        match stream.next() {
            None => break,
            Some(Ok(l)) => {
                if let Err(e) = take(&l, ctx, out) {
                    problem.get_or_insert(e);
                }
            }
            Some(Err(e)) => return LineOutcome::Malformed(crate::record::json_error_message(&e)),
        }
    }
    match problem {
        Some(e) => LineOutcome::Malformed(e),
        None => LineOutcome::Read,
    }
}

fn take(l: &Line, ctx: &mut CtxCache, out: &mut Vec<Found>) -> Result<(), String> {
    let Some(ts) = l.timestamp.get() else { return Ok(()) };
    if l.kind.get() == Some("assistant")
        && let Some(m) = &l.message.0
    {
        push(m, ts, l.request_id.get(), l, l.is_sidechain.0, ctx, out)?;
    }
    if let Some(inner) = l.data.0.as_ref().and_then(|d| d.message.0.as_ref())
        && let Some(m) = &inner.message.0
    {
        // A subagent's request reported through the parent: its own timestamp and request id; it is
        // subagent (sidechain) work like the lines of `subagents/*.jsonl`.
        push(m, inner.timestamp.get().unwrap_or(ts), inner.request_id.get(), l, true, ctx, out)?;
    }
    Ok(())
}

fn push(
    m: &Message,
    ts: &str,
    request_id: Option<&str>,
    l: &Line,
    sidechain: bool,
    ctx: &mut CtxCache,
    out: &mut Vec<Found>,
) -> Result<(), String> {
    let Some(usage) = &m.usage.0 else { return Ok(()) };
    let model = m.model.get().unwrap_or("unknown");
    // `<synthetic>` lines are Claude Code's own placeholders (interruptions, API errors): no request was made.
    if model == "<synthetic>" {
        return Ok(());
    }
    let tokens = usage.tokens();
    if tokens.total() == 0 {
        return Ok(());
    }
    let when = crate::record::parse_ts(ts).map_err(|e| format!("`timestamp`: {e}"))?;
    let session = l.session_id.get();
    let hash = match (m.id.get(), request_id) {
        (Some(id), Some(req)) => super::key_hash(&["claude-code", id, req]),
        (Some(id), None) => super::key_hash(&["claude-code", id]),
        // No identity at all: the session and time are the best stable stand-in.
        (None, _) => super::key_hash(&["claude-code", session.unwrap_or(""), ts]),
    };
    let ctx = ctx.get(model, session, l.cwd.get(), l.git_branch.get(), sidechain);
    out.push(Found { hash, ts: when, tokens, reasoning: None, ctx });
    Ok(())
}

/// The byte span of the value of `message.content` in a line's first JSON object, found by walking the
/// structure and jumping over strings with `memchr` (no unescaping, no UTF-8 checks). `None` when the line is
/// not shaped so (no such key, an escaped key name, invalid JSON): the caller then parses the whole line.
fn content_span(b: &[u8]) -> Option<(usize, usize)> {
    let mut i = object_start(b, 0)?;
    loop {
        let (key, at) = key(b, i)?;
        if key == b"message" && b.get(at) == Some(&b'{') {
            let mut j = at + 1;
            loop {
                let (key, at) = self::key(b, j)?;
                let end = skip_value(b, at)?;
                if key == b"content" {
                    return Some((at, end));
                }
                j = next_member(b, end)?;
            }
        }
        i = next_member(b, skip_value(b, at)?)?;
    }
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// After `{` (and whitespace) at `i`: the index of the first member.
fn object_start(b: &[u8], i: usize) -> Option<usize> {
    let i = ws(b, i);
    (b.get(i)? == &b'{').then_some(i + 1)
}

/// A member's key (raw bytes between the quotes) and where its value starts.
fn key(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let i = ws(b, i);
    if b.get(i)? != &b'"' {
        return None;
    }
    let end = skip_string(b, i)?;
    let after = ws(b, end);
    if b.get(after)? != &b':' {
        return None;
    }
    Some((&b[i + 1..end - 1], ws(b, after + 1)))
}

/// After a value ending at `i`: the start of the next member (`None` at the end of the object).
fn next_member(b: &[u8], i: usize) -> Option<usize> {
    let i = ws(b, i);
    (b.get(i)? == &b',').then_some(i + 1)
}

/// The index just past the string starting at `i` (a `"`).
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[k] == b'\\' {
            j = k + 2;
        } else {
            return Some(k + 1);
        }
    }
}

/// The index just past the value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while !matches!(b.get(j)?, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                j += 1;
            }
            Some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_span_is_found_without_parsing() {
        let line = br#"{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"a \"}] { [ \\"}],"usage":{"input_tokens":1}},"x":2}"#;
        let (s, e) = content_span(line).unwrap();
        assert_eq!(&line[s..e], br#"[{"type":"text","text":"a \"}] { [ \\"}]"#);
        assert_eq!(content_span(br#"{"type":"user","message":"text"}"#), None);
        assert_eq!(content_span(br#"{"message":{"content":[1,2"#), None);
        assert_eq!(content_span(br#"{"a":[1,{"b":null}],"message":{"model":"x","content":"hi"}}"#), Some((53, 57)));
    }
}

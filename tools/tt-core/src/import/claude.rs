//! Claude Code transcripts: `projects/<project>/<session>.jsonl` (and `<session>/subagents/*.jsonl`).
//!
//! Usage sits on `type: "assistant"` lines at `message.usage`, and — for Task subagents in some 2.1.x
//! versions — on `type: "progress"` lines at `data.message.message.usage`. One request is written on several
//! lines while it streams (same `message.id` + `requestId`, growing `output_tokens`); the caller keeps the line
//! with the most tokens per key. Lines are read with borrowed serde structs: the large `content` parts are
//! skipped by the parser, never built.
//!
//! The usage object is the Messages API's (see [`crate::provider`]): besides the token counts, `service_tier`
//! (`batch`, `priority`, `flex`; `standard` or anything else is the standard tier), `speed: "fast"`,
//! `server_tool_use.{web_search_requests, web_fetch_requests, code_execution_requests}` go to the record's
//! billing. `iterations`, when it lists passes, makes the request's tokens their sum, and when a pass ran on
//! another model (an advisor call) or there are several, each is priced on its own
//! ([`crate::provider::price_iterations`]); Claude Code writes a single `message` iteration equal to the
//! top-level usage, which changes nothing.

use serde::Deserialize;

use serde::Deserializer;

use super::lenient::{Flag, Obj, Str, count, opt_count};
use super::{CtxCache, Found, LineOutcome};
use crate::provider::Iteration;
use crate::record::{Billing, Service, Tokens};

/// A request's summed tokens and, when they must be priced one by one, its iterations.
type Request = (Tokens, Option<Box<[Iteration]>>);

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
    #[serde(rename = "agentId", borrow)]
    agent_id: Str<'a>,
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
    /// Absent or null: `None` (the breakdown alone says how many were written).
    #[serde(deserialize_with = "opt_count")]
    cache_creation_input_tokens: Option<u64>,
    #[serde(deserialize_with = "count")]
    cache_read_input_tokens: u64,
    cache_creation: Obj<CacheCreation>,
    #[serde(deserialize_with = "tier")]
    service_tier: Service,
    #[serde(rename = "speed", deserialize_with = "fast_speed")]
    fast: bool,
    server_tool_use: Obj<ServerTools>,
    /// The passes of the request (Anthropic's `usage.iterations`); each one's own `model`, when it names one.
    #[serde(deserialize_with = "iterations")]
    iterations: Vec<Usage>,
    #[serde(deserialize_with = "owned_str")]
    model: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ServerTools {
    #[serde(deserialize_with = "count")]
    web_search_requests: u64,
    #[serde(deserialize_with = "count")]
    web_fetch_requests: u64,
    #[serde(deserialize_with = "count")]
    code_execution_requests: u64,
}

/// `service_tier`: a tier tt prices apart, else (standard, null, anything unknown) the standard one.
fn service_of(s: Option<&str>) -> Service {
    s.and_then(Service::parse).unwrap_or_default()
}

/// `speed`: fast mode only for `"fast"` (standard, null or anything unknown is normal speed).
fn is_fast(s: Option<&str>) -> bool {
    s.and_then(crate::record::parse_speed).unwrap_or(false)
}

fn tier<'de, D: Deserializer<'de>>(d: D) -> Result<Service, D::Error> {
    Ok(service_of(Str::deserialize(d)?.get()))
}

fn fast_speed<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(is_fast(Str::deserialize(d)?.get()))
}

fn owned_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Str::deserialize(d)?.get().map(str::to_string))
}

/// A list of usage objects; anything else (null, an object…) is no list. Elements that are not objects are
/// skipped; a malformed count in one is a malformed line, as at the top level.
fn iterations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Usage>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<Usage>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any value")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut v = Vec::new();
            while let Some(Obj(u)) = seq.next_element::<Obj<Usage>>()? {
                v.extend(u);
            }
            Ok(v)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CacheCreation {
    #[serde(deserialize_with = "count")]
    ephemeral_5m_input_tokens: u64,
    #[serde(deserialize_with = "count")]
    ephemeral_1h_input_tokens: u64,
}

impl Usage {
    fn tokens(&self) -> Tokens {
        let (m5, h1) = self
            .cache_creation
            .0
            .as_ref()
            .map_or((0, 0), |c| (c.ephemeral_5m_input_tokens, c.ephemeral_1h_input_tokens));
        // `cache_creation_input_tokens`, when there, is the sum of both cache tiers, and the breakdown says how
        // much of it went to the 1-hour cache (priced higher) — never more than the sum. Without it, the
        // breakdown's two counts are all there is.
        let (cache_write, cache_write_1h) = match self.cache_creation_input_tokens {
            Some(total) => (total - h1.min(total), h1.min(total)),
            None => (m5, h1),
        };
        Tokens {
            input: self.input_tokens,
            output: self.output_tokens,
            cache_read: self.cache_read_input_tokens,
            cache_write,
            cache_write_1h,
        }
    }

    fn billing(&self) -> Billing {
        let tools = self.server_tool_use.0.as_ref();
        Billing {
            service: self.service_tier,
            fast: self.fast,
            web_search: tools.map_or(0, |t| t.web_search_requests),
            web_fetch: tools.map_or(0, |t| t.web_fetch_requests),
            code_execution: tools.map_or(0, |t| t.code_execution_requests),
        }
    }

    /// The request's tokens, and its iterations when they must be priced one by one (several passes, or one
    /// on another model than `model`): with `iterations` listed, the tokens are their sum.
    fn request(&self, model: &str) -> Result<Request, String> {
        if self.iterations.is_empty() {
            return Ok((self.tokens(), None));
        }
        let mut sum = Tokens::default();
        for it in &self.iterations {
            let t = it.tokens();
            let add = |a: u64, b: u64| a.checked_add(b).ok_or("usage: the iterations' tokens overflow");
            sum = Tokens {
                input: add(sum.input, t.input)?,
                output: add(sum.output, t.output)?,
                cache_read: add(sum.cache_read, t.cache_read)?,
                cache_write: add(sum.cache_write, t.cache_write)?,
                cache_write_1h: add(sum.cache_write_1h, t.cache_write_1h)?,
            };
        }
        let other = |it: &Usage| it.model.as_deref().is_some_and(|m| m != model);
        if self.iterations.len() == 1 && !other(&self.iterations[0]) {
            return Ok((sum, None));
        }
        let parts = self
            .iterations
            .iter()
            .map(|it| Iteration { model: it.model.clone().filter(|_| other(it)), kind: None, tokens: it.tokens() })
            .collect();
        Ok((sum, Some(parts)))
    }
}

/// Read one physical line: usage found on it goes to `out`. A line can hold several JSON objects glued
/// together (a crash between two writes); each is read.
pub(super) fn read_line(line: &[u8], ctx: &mut CtxCache, out: &mut Vec<Found>) -> LineOutcome {
    // Only lines naming a `usage` can carry usage; skipping the rest unparsed is most of the speed (tool
    // results and file snapshots are the bulk of a transcript).
    if usage_finder().find(line).is_none() {
        return LineOutcome::Skipped;
    }
    if let Some(outcome) = fast(line, ctx, out) {
        return outcome;
    }
    with_serde(line, ctx, out)
}

/// Read a line with serde (every line the fast path gives up on).
fn with_serde(line: &[u8], ctx: &mut CtxCache, out: &mut Vec<Found>) -> LineOutcome {
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

/// Finds `"usage"`, the mark of a line that can carry usage.
pub(super) fn usage_finder() -> &'static memchr::memmem::Finder<'static> {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"usage\""));
    &FINDER
}

/// One request's usage and where it was made.
struct Req<'s> {
    usage: &'s Usage,
    model: Option<&'s str>,
    id: Option<&'s str>,
    request_id: Option<&'s str>,
    ts: Option<&'s str>,
    session: Option<&'s str>,
    cwd: Option<&'s str>,
    branch: Option<&'s str>,
    sidechain: bool,
    /// See [`Found::stream`].
    stream: u64,
}

/// The [`Found::stream`] of a subagent reporting through the parent's `progress` lines.
fn progress_stream(agent: Option<&str>) -> u64 {
    // Never 0 or 1 (the main thread and inline sidechain lines).
    crate::id::fnv128(agent.unwrap_or("").as_bytes()).1 | 2
}

fn take(l: &Line, ctx: &mut CtxCache, out: &mut Vec<Found>) -> Result<(), String> {
    let ts = l.timestamp.get();
    if l.kind.get() == Some("assistant")
        && let Some(m) = &l.message.0
        && let Some(r) = req(l, m, ts, l.request_id.get(), l.is_sidechain.0, u64::from(l.is_sidechain.0))
    {
        push(&r, ctx, out)?;
    }
    if let Some(data) = l.data.0.as_ref()
        && let Some(inner) = data.message.0.as_ref()
        && let Some(m) = &inner.message.0
        // A subagent's request reported through the parent: its own timestamp and request id; it is
        // subagent (sidechain) work like the lines of `subagents/*.jsonl`.
        && let Some(r) = req(
            l,
            m,
            inner.timestamp.get().or(ts),
            inner.request_id.get(),
            true,
            progress_stream(data.agent_id.get()),
        )
    {
        push(&r, ctx, out)?;
    }
    Ok(())
}

fn req<'s>(
    l: &'s Line,
    m: &'s Message,
    ts: Option<&'s str>,
    request_id: Option<&'s str>,
    sidechain: bool,
    stream: u64,
) -> Option<Req<'s>> {
    m.usage.0.as_ref().map(|usage| Req {
        usage,
        model: m.model.get(),
        id: m.id.get(),
        request_id,
        ts,
        session: l.session_id.get(),
        cwd: l.cwd.get(),
        branch: l.git_branch.get(),
        sidechain,
        stream,
    })
}

fn push(r: &Req, ctx: &mut CtxCache, out: &mut Vec<Found>) -> Result<(), String> {
    let model = r.model.unwrap_or("unknown");
    // `<synthetic>` lines are Claude Code's own placeholders (interruptions, API errors): no request was made.
    if model == "<synthetic>" {
        return Ok(());
    }
    let (tokens, iterations) = r.usage.request(model)?;
    ctx.check(&tokens, None)?;
    if tokens.total() == 0 {
        return Ok(());
    }
    let ts = r.ts.ok_or("usage without a `timestamp`")?;
    let when = crate::record::parse_ts(ts).map_err(|e| format!("`timestamp`: {e}"))?;
    let hash = match (r.id, r.request_id) {
        (Some(id), Some(req)) => super::key_hash(&["claude-code", id, req]),
        (Some(id), None) => super::key_hash(&["claude-code", id]),
        // No identity at all: the session and time are the best stable stand-in.
        (None, _) => super::key_hash(&["claude-code", r.session.unwrap_or(""), ts]),
    };
    let ctx = ctx.get(model, r.session, r.cwd, r.branch, r.sidechain);
    out.push(Found {
        hash,
        ts: when,
        tokens,
        reasoning: None,
        billing: r.usage.billing(),
        iterations,
        ctx,
        stream: r.stream,
        at: 0,
    });
    Ok(())
}

/// The plain assistant line read straight from its bytes, without serde: the members tt needs are found by
/// walking the structure (strings are jumped over with `memchr`), and only `usage` is deserialized. `None`
/// hands the line to serde: a progress line, glued objects, a needed string with escapes, anything unusual.
fn fast(b: &[u8], ctx: &mut CtxCache, out: &mut Vec<Found>) -> Option<LineOutcome> {
    let (mut kind, mut ts, mut session, mut request_id, mut cwd, mut branch) = (None, None, None, None, None, None);
    let (mut sidechain, mut message) = (false, None);
    let mut i = object_start(b, 0)?;
    let mut seen = Seen::default();
    let end = loop {
        let (k, at) = key(b, i)?;
        once(&mut seen, k)?;
        let end = match k {
            b"type" => plain_str(b, at, &mut kind)?,
            b"timestamp" => plain_str(b, at, &mut ts)?,
            b"sessionId" => plain_str(b, at, &mut session)?,
            b"requestId" => plain_str(b, at, &mut request_id)?,
            b"cwd" => plain_str(b, at, &mut cwd)?,
            b"gitBranch" => plain_str(b, at, &mut branch)?,
            b"isSidechain" => {
                sidechain = b[at..].starts_with(b"true");
                checked_value(b, at)?
            }
            b"message" if b.get(at) == Some(&b'{') => {
                let (m, end) = fast_message(b, at)?;
                message = Some(m);
                end
            }
            b"data" => return None,
            _ => checked_value(b, at)?,
        };
        let j = ws(b, end);
        match b.get(j)? {
            b',' => i = j + 1,
            b'}' => break j + 1,
            _ => return None,
        }
    };
    if ws(b, end) != b.len() {
        return None;
    }
    let Some((Some(usage), model, id)) = message else { return Some(LineOutcome::Read) };
    // Serde reads (and refuses a malformed) usage on any line, not only on an assistant's.
    let usage = fast_usage(b, usage.0)?;
    if kind != Some("assistant") {
        return Some(LineOutcome::Read);
    }
    let r =
        Req { usage: &usage, model, id, request_id, ts, session, cwd, branch, sidechain, stream: u64::from(sidechain) };
    Some(match push(&r, ctx, out) {
        Ok(()) => LineOutcome::Read,
        Err(e) => LineOutcome::Malformed(e),
    })
}

/// The usage object at `at`, read member by member; `None` (give up) for anything but plain integers or null.
fn fast_usage(b: &[u8], at: usize) -> Option<Usage> {
    let mut u = Usage::default();
    let mut h1 = None;
    members(b, at, &mut |k, vs| {
        match k {
            b"input_tokens" => u.input_tokens = int(b, vs)?.1,
            b"output_tokens" => u.output_tokens = int(b, vs)?.1,
            b"cache_creation_input_tokens" => {
                u.cache_creation_input_tokens = (!b[vs..].starts_with(b"null")).then_some(int(b, vs)?.1);
            }
            b"cache_read_input_tokens" => u.cache_read_input_tokens = int(b, vs)?.1,
            b"service_tier" | b"speed" if b[vs] == b'"' => {
                let mut v = None;
                let end = plain_str(b, vs, &mut v)?;
                if k == b"speed" {
                    u.fast = is_fast(v);
                } else {
                    u.service_tier = service_of(v);
                }
                return Some(end);
            }
            b"server_tool_use" if b[vs] == b'{' => {
                let mut t = ServerTools::default();
                let end = members(b, vs, &mut |k, vs| {
                    let slot = match k {
                        b"web_search_requests" => &mut t.web_search_requests,
                        b"web_fetch_requests" => &mut t.web_fetch_requests,
                        b"code_execution_requests" => &mut t.code_execution_requests,
                        _ => return skip_value(b, vs),
                    };
                    int(b, vs).map(|(end, n)| {
                        *slot = n;
                        end
                    })
                })?;
                u.server_tool_use = Obj(Some(t));
                return Some(end);
            }
            // The passes: each a usage object of its own (Claude Code writes one, equal to the whole).
            b"iterations" if b[vs] == b'[' => {
                let mut i = ws(b, vs + 1);
                if b.get(i) == Some(&b']') {
                    return Some(i + 1);
                }
                loop {
                    if b.get(i) != Some(&b'{') {
                        return None;
                    }
                    let end = skip_value(b, i)?;
                    u.iterations.push(fast_usage(b, i)?);
                    let j = ws(b, end);
                    match b.get(j)? {
                        b',' => i = ws(b, j + 1),
                        b']' => return Some(j + 1),
                        _ => return None,
                    }
                }
            }
            // An iteration's own model (an advisor call on another model).
            b"model" if b[vs] == b'"' => {
                let mut v = None;
                let end = plain_str(b, vs, &mut v)?;
                u.model = v.map(str::to_string);
                return Some(end);
            }
            b"cache_creation" if b[vs] == b'{' => {
                let mut c = CacheCreation::default();
                let end = members(b, vs, &mut |k, vs| match k {
                    b"ephemeral_5m_input_tokens" => int(b, vs).map(|(end, n)| {
                        c.ephemeral_5m_input_tokens = n;
                        end
                    }),
                    b"ephemeral_1h_input_tokens" => int(b, vs).map(|(end, n)| {
                        c.ephemeral_1h_input_tokens = n;
                        end
                    }),
                    _ => skip_value(b, vs),
                })?;
                h1 = Some(c);
                return Some(end);
            }
            _ => return skip_value(b, vs),
        }
        int(b, vs).map(|(end, _)| end)
    })?;
    u.cache_creation = Obj(h1);
    Some(u)
}

/// Call `f(key, value_start) -> value_end` for each member of the object at `at` (`{`); the end of the object.
fn members(b: &[u8], at: usize, f: &mut dyn FnMut(&[u8], usize) -> Option<usize>) -> Option<usize> {
    let mut i = at + 1;
    if b.get(ws(b, i)) == Some(&b'}') {
        return Some(ws(b, i) + 1);
    }
    let mut seen = Seen::default();
    loop {
        let (k, vs) = key(b, i)?;
        once(&mut seen, k)?;
        let j = ws(b, f(k, vs)?);
        match b.get(j)? {
            b',' => i = j + 1,
            b'}' => return Some(j + 1),
            _ => return None,
        }
    }
}

/// A non-negative integer (or `null`, 0) at `at`: its end and value. `None` for anything else.
fn int(b: &[u8], at: usize) -> Option<(usize, u64)> {
    if b[at..].starts_with(b"null") {
        return Some((at + 4, 0));
    }
    let mut n: u64 = 0;
    let mut j = at;
    while let Some(d) = b.get(j).filter(|c| c.is_ascii_digit()) {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        j += 1;
    }
    // Not a plain integer (a fraction, an exponent, a sign, a string): serde decides.
    (j > at && !matches!(b.get(j), Some(b'.' | b'e' | b'E'))).then_some((j, n))
}

type FastMessage<'b> = (Option<(usize, usize)>, Option<&'b str>, Option<&'b str>);

/// `message`'s `usage` span, `model` and `id`, and the end of the object.
fn fast_message(b: &[u8], at: usize) -> Option<(FastMessage<'_>, usize)> {
    let (mut usage, mut model, mut id) = (None, None, None);
    let mut i = at + 1;
    if b.get(ws(b, i)) == Some(&b'}') {
        return Some(((None, None, None), ws(b, i) + 1));
    }
    let mut seen = Seen::default();
    loop {
        let (k, at) = key(b, i)?;
        once(&mut seen, k)?;
        let end = match k {
            b"model" => plain_str(b, at, &mut model)?,
            b"id" => plain_str(b, at, &mut id)?,
            b"usage" => {
                let end = checked_value(b, at)?;
                // Only an object is usage (serde would ignore anything else).
                usage = (b.get(at) == Some(&b'{')).then_some((at, end));
                end
            }
            // The content is most of the line: serde skips it too (see `with_serde`).
            b"content" => skip_value(b, at)?,
            _ => checked_value(b, at)?,
        };
        let j = ws(b, end);
        match b.get(j)? {
            b',' => i = j + 1,
            b'}' => return Some(((usage, model, id), j + 1)),
            _ => return None,
        }
    }
}

/// A string member without escapes into `to` (`null` and non-strings give `None`, as [`Str`] does); the end
/// of the value. `None` (give up) for a string with escapes or invalid UTF-8.
fn plain_str<'b>(b: &'b [u8], at: usize, to: &mut Option<&'b str>) -> Option<usize> {
    let end = checked_value(b, at)?;
    *to = None;
    if b.get(at) == Some(&b'"') {
        let inner = &b[at + 1..end - 1];
        if memchr::memchr(b'\\', inner).is_some() {
            return None;
        }
        *to = Some(std::str::from_utf8(inner).ok()?).filter(|s| !s.is_empty());
    }
    Some(end)
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
    let name = &b[i + 1..end - 1];
    // An escaped or invalid name is serde's to decide. Names are printable ASCII but for a rare one: one pass
    // settles those, the rest is checked in full.
    let plain_ascii = name.iter().all(|&c| (0x20..0x80).contains(&c) && c != b'\\');
    if !plain_ascii && (name.iter().any(|&c| c == b'\\' || c < 0x20) || std::str::from_utf8(name).is_err()) {
        return None;
    }
    let after = ws(b, end);
    if b.get(after)? != &b':' {
        return None;
    }
    Some((name, ws(b, after + 1)))
}

/// After a value ending at `i`: the start of the next member (`None` at the end of the object).
fn next_member(b: &[u8], i: usize) -> Option<usize> {
    let i = ws(b, i);
    (b.get(i)? == &b',').then_some(i + 1)
}

/// The index just past the string starting at `i` (a `"`). Looks for quotes only — escapes such as `\n` are
/// frequent in transcripts and would stop a search for backslashes every few bytes — and counts the
/// backslashes before a quote to tell an escaped one.
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr(b'"', b.get(j..)?)?;
        let backslashes = b[i + 1..k].iter().rev().take_while(|&&c| c == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(k + 1);
        }
        j = k + 1;
    }
}

/// [`skip_value`] for a value the fast path does not skip blindly (everything but `message.content`, which
/// serde never sees either): `None` (give up) unless it is valid JSON as serde reads it — a string without
/// escapes or control characters, else whatever serde parses — so the fast path accepts no line serde
/// refuses.
fn checked_value(b: &[u8], i: usize) -> Option<usize> {
    let end = valid_value(b, i, 0)?;
    // serde decides the rare hard cases (unicode escapes, number edge cases): only for values that hold them.
    let v = &b[i..end];
    let hard = memchr::memmem::find(v, b"\\u").is_some();
    (!hard || serde_json::from_slice::<serde::de::IgnoredAny>(v).is_ok()).then_some(end)
}

/// The end of the JSON value at `i` when it is valid JSON as serde reads it (strings through [`string_ok`],
/// numbers by JSON's grammar, literals, objects and arrays member by member), `None` otherwise or when nested
/// deeper than serde's limit. A walk like [`skip_value`]'s that also checks, so a large value (a tool result)
/// costs no more than skipping it.
fn valid_value(b: &[u8], i: usize, depth: usize) -> Option<usize> {
    if depth > 127 {
        return None;
    }
    match *b.get(i)? {
        b'"' => {
            let end = skip_string(b, i)?;
            string_ok(&b[i + 1..end - 1]).then_some(end)
        }
        b'{' => {
            let mut j = ws(b, i + 1);
            if b.get(j) == Some(&b'}') {
                return Some(j + 1);
            }
            loop {
                if b.get(j) != Some(&b'"') {
                    return None;
                }
                let kend = skip_string(b, j)?;
                if !string_ok(&b[j + 1..kend - 1]) {
                    return None;
                }
                j = ws(b, kend);
                if b.get(j) != Some(&b':') {
                    return None;
                }
                j = ws(b, valid_value(b, ws(b, j + 1), depth + 1)?);
                match b.get(j)? {
                    b',' => j = ws(b, j + 1),
                    b'}' => return Some(j + 1),
                    _ => return None,
                }
            }
        }
        b'[' => {
            let mut j = ws(b, i + 1);
            if b.get(j) == Some(&b']') {
                return Some(j + 1);
            }
            loop {
                j = ws(b, valid_value(b, j, depth + 1)?);
                match b.get(j)? {
                    b',' => j = ws(b, j + 1),
                    b']' => return Some(j + 1),
                    _ => return None,
                }
            }
        }
        b'n' => b[i..].starts_with(b"null").then_some(i + 4),
        b't' => b[i..].starts_with(b"true").then_some(i + 4),
        b'f' => b[i..].starts_with(b"false").then_some(i + 5),
        b'-' | b'0'..=b'9' => {
            let mut j = i + usize::from(b[i] == b'-');
            let digits = |j: &mut usize| {
                let s = *j;
                while matches!(b.get(*j), Some(b'0'..=b'9')) {
                    *j += 1;
                }
                *j > s
            };
            let int_start = j;
            if !digits(&mut j) || (b[int_start] == b'0' && j - int_start > 1) {
                return None;
            }
            if b.get(j) == Some(&b'.') {
                j += 1;
                if !digits(&mut j) {
                    return None;
                }
            }
            if matches!(b.get(j), Some(b'e' | b'E')) {
                j += 1;
                if matches!(b.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                if !digits(&mut j) {
                    return None;
                }
            }
            Some(j)
        }
        _ => None,
    }
}

/// True when `s` holds a byte below 0x20 (a control character, which a JSON string may not hold raw). Eight
/// bytes at a time: a byte below 0x20 borrows into its high bit when 0x20 is taken away and had it clear.
fn has_control(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        if x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0 {
            return true;
        }
    }
    words.remainder().iter().any(|&c| c < 0x20)
}

/// True when `s` (a string's bytes between its quotes) is what serde reads: no control byte, and only JSON's
/// escapes (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`; whether a `\u` escape is a valid
/// surrogate pair is left to serde, see [`checked_value`]).
fn string_ok(s: &[u8]) -> bool {
    if has_control(s) {
        return false;
    }
    if memchr::memchr(b'\\', s).is_none() {
        return true;
    }
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &s[i..]) {
        let at = i + k + 1;
        match s.get(at) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i = at + 1,
            // `\uXXXX`: four hex digits; surrogates are the caller's to check (through serde).
            Some(b'u') if s.get(at + 1..at + 5).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) => i = at + 5,
            _ => return false,
        }
    }
    true
}

/// The keys of one object seen so far, on the stack (an allocation per object showed in profiles): an object
/// with more keys than it holds is serde's to read.
#[derive(Default)]
struct Seen<'b> {
    keys: [&'b [u8]; 32],
    n: usize,
}

/// `None` (give up) when an object names `k` twice (serde refuses a repeated field), or has too many keys to
/// track here.
fn once<'b>(seen: &mut Seen<'b>, k: &'b [u8]) -> Option<()> {
    if seen.n == seen.keys.len() || seen.keys[..seen.n].contains(&k) {
        return None;
    }
    seen.keys[seen.n] = k;
    seen.n += 1;
    Some(())
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
    fn the_content_span_is_found_without_parsing() {
        let line = br#"{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"a \"}] { [ \\"}],"usage":{"input_tokens":1}},"x":2}"#;
        let (s, e) = content_span(line).unwrap();
        assert_eq!(&line[s..e], br#"[{"type":"text","text":"a \"}] { [ \\"}]"#);
        assert_eq!(content_span(br#"{"type":"user","message":"text"}"#), None);
        assert_eq!(content_span(br#"{"message":{"content":[1,2"#), None);
        assert_eq!(content_span(br#"{"a":[1,{"b":null}],"message":{"model":"x","content":"hi"}}"#), Some((53, 57)));
    }
}

/// Property tests (issue 11): the fast path and serde agree on mutated real-shaped assistant lines, and neither
/// panics on anything.
#[cfg(test)]
mod props {
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
                format!(
                    "{:?} {} {:?} {:?} {} {:?} {:?}",
                    f.hash, f.ts, f.tokens, f.ctx, f.stream, f.billing, f.iterations
                )
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
            include_str!("../../../../tests/fixtures/claude-code/projects/-home-dev-shop/s1.jsonl"),
            include_str!("../../../../tests/fixtures/claude-code/projects/-home-dev-shop/s1/subagents/agent-a1.jsonl"),
            include_str!("../../../../tests/fixtures/claude-code-billing/projects/-home-dev-web/s2.jsonl"),
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
            r#"{"type":["assistant"],"timestamp":"2026-01-01T00:00:00Z","message":{"id":"m","usage":{"input_tokens":""}}}"#.to_string(),
        ] {
            let mut out = Vec::new();
            assert!(
                matches!(with_serde(line.as_bytes(), &mut CtxCache::default(), &mut out), LineOutcome::Malformed(_)),
                "{line}"
            );
            agree(line.as_bytes(), u64::MAX);
        }
    }

    proptest! {
        #![proptest_config(config(512))]

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
}

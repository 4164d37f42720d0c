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
    // The fast path first: the file reader only hands over lines naming a `usage` (it searched the block for
    // them), so searching the line again first would cost a search per line for nothing. On a line without
    // one the fast path finds no usage (it matches names as written): it reads nothing, as skipping would, or
    // gives up and the search below skips the line.
    if let Some(outcome) = fast(line, ctx, out) {
        return outcome;
    }
    // Only lines naming a `usage` can carry usage; skipping the rest unparsed is most of the speed (tool
    // results and file snapshots are the bulk of a transcript).
    if usage_finder().find(line).is_none() {
        return LineOutcome::Skipped;
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
        (Some(id), Some(req)) => key_hash(&["claude-code", id, req]),
        (Some(id), None) => key_hash(&["claude-code", id]),
        // No identity at all: the session and time are the best stable stand-in.
        (None, _) => key_hash(&["claude-code", r.session.unwrap_or(""), ts]),
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

/// [`super::key_hash`] without its allocation (one per request read showed in profiles): the parts joined on a
/// stack buffer when they fit.
fn key_hash(parts: &[&str]) -> (u64, u64) {
    let mut buf = [0u8; 192];
    let mut n = 0;
    for (k, p) in parts.iter().enumerate() {
        let sep = usize::from(k > 0);
        let Some(to) = buf.get_mut(n..n + sep + p.len()) else { return super::key_hash(parts) };
        to[..sep].copy_from_slice(&b":"[..sep]);
        to[sep..].copy_from_slice(p.as_bytes());
        n += sep + p.len();
    }
    let h = crate::id::fnv128(&buf[..n]);
    debug_assert_eq!(h, super::key_hash(parts));
    h
}

/// The plain assistant line read straight from its bytes, without serde, in one walk: the members tt needs
/// are read where they stand, and every other value is checked as strictly as serde reads it, or more —
/// giving up is always safe, so a line the fast path reads is one serde reads the same way — except
/// `message.content`, which serde never sees either (see [`with_serde`]) and which is jumped over. `None`
/// hands the line to serde: a progress line, glued objects, a needed string with escapes, a `\u` escape,
/// anything unusual.
fn fast(b: &[u8], ctx: &mut CtxCache, out: &mut Vec<Found>) -> Option<LineOutcome> {
    let (mut ts, mut session, mut request_id, mut cwd, mut branch) = (None, None, None, None, None);
    let (mut assistant, mut sidechain, mut message) = (false, false, None);
    let open = ws(b, 0);
    if b.get(open) != Some(&b'{') {
        return None;
    }
    let mut seen = 0u32;
    let end = members(b, open, |k, at| {
        Some(match k {
            b"type" => {
                once(&mut seen, 0)?;
                let mut kind = None;
                let end = plain_span(b, at, 1, &mut kind)?;
                assistant = kind.is_some_and(|(s, e)| &b[s..e] == b"assistant");
                end
            }
            b"timestamp" => once(&mut seen, 1).and_then(|()| plain_span(b, at, 1, &mut ts))?,
            b"sessionId" => once(&mut seen, 2).and_then(|()| plain_span(b, at, 1, &mut session))?,
            b"requestId" => once(&mut seen, 3).and_then(|()| plain_span(b, at, 1, &mut request_id))?,
            b"cwd" => once(&mut seen, 4).and_then(|()| plain_span(b, at, 1, &mut cwd))?,
            b"gitBranch" => once(&mut seen, 5).and_then(|()| plain_span(b, at, 1, &mut branch))?,
            b"isSidechain" => {
                once(&mut seen, 6)?;
                sidechain = b[at..].starts_with(b"true");
                value(b, at, 1)?
            }
            b"message" => {
                once(&mut seen, 7)?;
                if b.get(at) == Some(&b'{') {
                    let (m, end) = fast_message(b, at)?;
                    message = Some(m);
                    end
                } else {
                    value(b, at, 1)?
                }
            }
            b"data" => return None,
            _ => value(b, at, 1)?,
        })
    })?;
    if ws(b, end) != b.len() {
        return None;
    }
    let m = message.unwrap_or_default();
    // Every byte but `content`'s is UTF-8 (serde checks only the strings it builds, which are among them):
    // two checks for the whole line rather than one per string, and the strings tt reads are taken from them.
    let (cs, ce) = m.content.unwrap_or((b.len(), b.len()));
    let (head, tail) = (std::str::from_utf8(&b[..cs]).ok()?, std::str::from_utf8(&b[ce..]).ok()?);
    let Some(usage) = m.usage else { return Some(LineOutcome::Read) };
    if !assistant {
        return Some(LineOutcome::Read);
    }
    // `None` (give up) only if a span were not on character boundaries, which a span between quotes is.
    let text = |s: Span| match s {
        None => Some(None),
        Some((a, z)) if z <= cs => head.get(a..z).map(Some),
        Some((a, z)) => tail.get(a.checked_sub(ce)?..z - ce).map(Some),
    };
    let r = Req {
        usage: &usage,
        model: text(m.model)?,
        id: text(m.id)?,
        request_id: text(request_id)?,
        ts: text(ts)?,
        session: text(session)?,
        cwd: text(cwd)?,
        branch: text(branch)?,
        sidechain,
        stream: u64::from(sidechain),
    };
    Some(match push(&r, ctx, out) {
        Ok(()) => LineOutcome::Read,
        Err(e) => LineOutcome::Malformed(e),
    })
}

/// Where a non-empty string without escapes lies in the line (between its quotes): a `Str` value tt reads,
/// taken as text once the line is known to be UTF-8.
type Span = Option<(usize, usize)>;

/// What the fast path reads of `message`.
#[derive(Default)]
struct FastMessage {
    /// `usage`, when it is an object.
    usage: Option<Usage>,
    model: Span,
    id: Span,
    /// Where `content`'s value lies: the bytes never checked.
    content: Option<(usize, usize)>,
}

/// The `message` object at `at` (`{`, the line's second level) and its end.
fn fast_message(b: &[u8], at: usize) -> Option<(FastMessage, usize)> {
    let mut m = FastMessage::default();
    let mut seen = 0u32;
    let end = members(b, at, |k, at| {
        Some(match k {
            b"model" => once(&mut seen, 0).and_then(|()| plain_span(b, at, 2, &mut m.model))?,
            b"id" => once(&mut seen, 1).and_then(|()| plain_span(b, at, 2, &mut m.id))?,
            b"usage" => {
                once(&mut seen, 2)?;
                // Only an object is usage (serde's `Obj` ignores anything else).
                if b.get(at) == Some(&b'{') {
                    fast_usage(b, at, 3, m.usage.insert(Usage::default()))?
                } else {
                    value(b, at, 2)?
                }
            }
            // Most of the line, and serde never sees it (`with_serde` cuts the first one out, so a second one
            // would be read: seen once only).
            b"content" => {
                once(&mut seen, 3)?;
                let end = skip_value(b, at)?;
                m.content = Some((at, end));
                end
            }
            _ => value(b, at, 2)?,
        })
    })?;
    Some((m, end))
}

/// The usage object at `at` (`{`, nested `level` deep: the line is level 1) read member by member into `u`
/// (a default one), and its end; `None` (give up) for a count that is not a plain integer or null, or anything
/// else unusual.
// Long on purpose: one match arm per key of Claude's `usage` object (its nested `cache_creation` and
// `server_tool_use` inline), each with its `once` bit; it runs on every assistant line of every transcript an
// import reads, and the arms read best side by side against the serde `Usage` they must agree with.
fn fast_usage(b: &[u8], at: usize, level: usize, u: &mut Usage) -> Option<usize> {
    // Its own members may be objects and arrays (one level more); deeper values check for themselves.
    if level >= MAX_LEVEL {
        return None;
    }
    let mut seen = 0u32;
    members(b, at, |k, vs| {
        Some(match k {
            b"input_tokens" => once(&mut seen, 0).and_then(|()| count_into(b, vs, &mut u.input_tokens))?,
            b"output_tokens" => once(&mut seen, 1).and_then(|()| count_into(b, vs, &mut u.output_tokens))?,
            b"cache_creation_input_tokens" => {
                once(&mut seen, 2)?;
                let (end, n) = int(b, vs)?;
                // `null` is no total (the breakdown alone counts), unlike 0.
                u.cache_creation_input_tokens = (b[vs] != b'n').then_some(n);
                end
            }
            b"cache_read_input_tokens" => {
                once(&mut seen, 3).and_then(|()| count_into(b, vs, &mut u.cache_read_input_tokens))?
            }
            b"cache_creation" => {
                once(&mut seen, 4)?;
                if b.get(vs) == Some(&b'{') {
                    let mut c = CacheCreation::default();
                    let mut seen = 0u32;
                    let end =
                        members(b, vs, |k, vs| {
                            Some(match k {
                                b"ephemeral_5m_input_tokens" => once(&mut seen, 0)
                                    .and_then(|()| count_into(b, vs, &mut c.ephemeral_5m_input_tokens))?,
                                b"ephemeral_1h_input_tokens" => once(&mut seen, 1)
                                    .and_then(|()| count_into(b, vs, &mut c.ephemeral_1h_input_tokens))?,
                                _ => value(b, vs, level + 1)?,
                            })
                        })?;
                    u.cache_creation = Obj(Some(c));
                    end
                } else {
                    value(b, vs, level)?
                }
            }
            b"service_tier" => {
                once(&mut seen, 5)?;
                let (end, v) = plain_text(b, vs, level)?;
                u.service_tier = service_of(v);
                end
            }
            b"speed" => {
                once(&mut seen, 6)?;
                let (end, v) = plain_text(b, vs, level)?;
                u.fast = is_fast(v);
                end
            }
            b"server_tool_use" => {
                once(&mut seen, 7)?;
                if b.get(vs) == Some(&b'{') {
                    let mut t = ServerTools::default();
                    let mut seen = 0u32;
                    let end = members(b, vs, |k, vs| {
                        Some(match k {
                            b"web_search_requests" => {
                                once(&mut seen, 0).and_then(|()| count_into(b, vs, &mut t.web_search_requests))?
                            }
                            b"web_fetch_requests" => {
                                once(&mut seen, 1).and_then(|()| count_into(b, vs, &mut t.web_fetch_requests))?
                            }
                            b"code_execution_requests" => {
                                once(&mut seen, 2).and_then(|()| count_into(b, vs, &mut t.code_execution_requests))?
                            }
                            _ => value(b, vs, level + 1)?,
                        })
                    })?;
                    u.server_tool_use = Obj(Some(t));
                    end
                } else {
                    value(b, vs, level)?
                }
            }
            // The passes: each a usage object of its own (Claude Code writes one, equal to the whole); an
            // element that is not an object is serde's to read.
            b"iterations" => {
                once(&mut seen, 8)?;
                if b.get(vs) == Some(&b'[') {
                    let mut i = ws(b, vs + 1);
                    if b.get(i) == Some(&b']') {
                        i + 1
                    } else {
                        loop {
                            if b.get(i) != Some(&b'{') {
                                return None;
                            }
                            u.iterations.push(Usage::default());
                            let end = fast_usage(b, i, level + 2, u.iterations.last_mut()?)?;
                            let j = ws(b, end);
                            match b.get(j)? {
                                b',' => i = ws(b, j + 1),
                                b']' => break j + 1,
                                _ => return None,
                            }
                        }
                    }
                } else {
                    value(b, vs, level)?
                }
            }
            // An iteration's own model (an advisor call on another model).
            b"model" => {
                once(&mut seen, 9)?;
                let (end, v) = plain_text(b, vs, level)?;
                u.model = v.map(str::to_string);
                end
            }
            _ => value(b, vs, level)?,
        })
    })
}

/// Call `f(key, value_start) -> value_end` for each member of the object at `at` (`{`); the end of the object.
#[inline(always)]
fn members(b: &[u8], at: usize, mut f: impl FnMut(&[u8], usize) -> Option<usize>) -> Option<usize> {
    let mut i = ws(b, at + 1);
    if b.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    loop {
        let (k, vs) = key(b, i)?;
        let j = ws(b, f(k, vs)?);
        match b.get(j)? {
            b',' => i = j + 1,
            b'}' => return Some(j + 1),
            _ => return None,
        }
    }
}

/// Marks the known field number `bit` of an object as seen; `None` (give up) when it already was: serde refuses
/// a repeated field (unknown ones it skips, repeated or not, and so does the fast path).
#[inline(always)]
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    let m = 1 << bit;
    if *seen & m != 0 {
        return None;
    }
    *seen |= m;
    Some(())
}

/// A token count at `at` into `to` (see [`int`]); the end of the value.
#[inline(always)]
fn count_into(b: &[u8], at: usize, to: &mut u64) -> Option<usize> {
    let (end, n) = int(b, at)?;
    *to = n;
    Some(end)
}

/// A non-negative integer (or `null`, 0) at `at`: its end and value. `None` for anything else, and for what
/// JSON refuses (a leading zero) or `u64` cannot hold: serde decides.
fn int(b: &[u8], at: usize) -> Option<(usize, u64)> {
    if b.get(at..at + 4) == Some(b"null") {
        return Some((at + 4, 0));
    }
    let mut n: u64 = 0;
    let mut j = at;
    while let Some(&d) = b.get(j)
        && d.is_ascii_digit()
    {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        j += 1;
    }
    // Not a plain integer (a fraction, an exponent, a sign, a string): serde decides.
    let plain = j > at && (b[at] != b'0' || j == at + 1) && !matches!(b.get(j), Some(b'.' | b'e' | b'E'));
    plain.then_some((j, n))
}

/// [`plain_span`] as text: where the value ends, and the string (`None` for a value that is not a string);
/// `None` when the value is not valid (the line goes to serde).
#[inline]
fn plain_text(b: &[u8], at: usize, depth: usize) -> Option<(usize, Option<&str>)> {
    let mut span = None;
    let end = plain_span(b, at, depth, &mut span)?;
    let text = match span {
        Some((s, e)) => Some(std::str::from_utf8(&b[s..e]).ok()?),
        None => None,
    };
    Some((end, text))
}

/// A `Str` member's value at `at` (inside `depth` objects and arrays): where a string without escapes lies
/// (between its quotes), into `to`; `None` for an empty string, `null` and any other value (as [`Str::get`]
/// gives). The end of the value, or `None` (give up) for a string with escapes (the text tt keeps borrows from
/// the line) or an invalid value.
#[inline(always)]
fn plain_span(b: &[u8], at: usize, depth: usize, to: &mut Span) -> Option<usize> {
    if b.get(at) != Some(&b'"') {
        *to = None;
        return value(b, at, depth);
    }
    let end = string(b, at, false)?;
    *to = (end - at > 2).then_some((at + 1, end - 1));
    Some(end)
}

/// The byte span of the value of `message.content` in a line's first JSON object, found by walking the
/// structure and jumping over strings with `memchr` (no unescaping, no UTF-8 checks). `None` when the line is
/// not shaped so (no such key, an escaped key name, invalid JSON): the caller then parses the whole line.
fn content_span(b: &[u8]) -> Option<(usize, usize)> {
    // A name that is not UTF-8 stops the scan, as it always has ([`key`] leaves that check to its caller).
    let key = |i| key(b, i).filter(|&(k, _)| k.is_ascii() || std::str::from_utf8(k).is_ok());
    let mut i = object_start(b, 0)?;
    loop {
        let (name, at) = key(i)?;
        if name == b"message" && b.get(at) == Some(&b'{') {
            let mut j = at + 1;
            loop {
                let (name, at) = key(j)?;
                let end = skip_value(b, at)?;
                if name == b"content" {
                    return Some((at, end));
                }
                j = next_member(b, end)?;
            }
        }
        i = next_member(b, skip_value(b, at)?)?;
    }
}

#[inline(always)]
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

/// A member's key (raw bytes between the quotes) and where its value starts. `None` for a name with escapes
/// (serde compares names unescaped: it decides), and for one [`string`] refuses.
#[inline(always)]
fn key(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let i = ws(b, i);
    if b.get(i)? != &b'"' {
        return None;
    }
    let end = string(b, i, false)?;
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

/// The index just past the string starting at `i` (a `"`), unchecked. Looks for quotes only — escapes such as
/// `\n` are frequent in the long texts this jumps over and would stop a search for backslashes every few
/// bytes — and counts the backslashes before a quote to tell an escaped one.
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    // Most strings here are short (the names and small values around the long texts): the first 32 bytes eight
    // at a time, up to a quote (the end) or a backslash (the search below takes over), before setting up a
    // vector search.
    for _ in 0..4 {
        let Some(w) = b.get(j..).and_then(<[u8]>::first_chunk::<8>) else { break };
        let x = u64::from_le_bytes(*w);
        let (quote, slash) = (x ^ (ONES * u64::from(b'"')), x ^ (ONES * u64::from(b'\\')));
        let s = (quote.wrapping_sub(ONES) & !quote | slash.wrapping_sub(ONES) & !slash) & HIGH;
        if s != 0 {
            let k = j + (s.trailing_zeros() / 8) as usize;
            if b[k] == b'"' {
                return Some(k + 1);
            }
            break;
        }
        j += 8;
    }
    loop {
        let k = j + memchr::memchr(b'"', b.get(j..)?)?;
        let backslashes = b[i + 1..k].iter().rev().take_while(|&&c| c == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(k + 1);
        }
        j = k + 1;
    }
}

/// How deeply serde nests objects and arrays before refusing a line (its recursion limit of 128 counts the
/// levels it builds or visits, never more than the line's own): the fast path gives up on anything deeper.
const MAX_LEVEL: usize = 127;

/// The end of the JSON value at `i`, which `depth` objects and arrays enclose, when serde reads it — strictly:
/// strings as [`string`] checks them, numbers by JSON's grammar, literals, objects and arrays member by member
/// and no deeper than [`MAX_LEVEL`]. `None` (give up) otherwise.
fn value(b: &[u8], i: usize, depth: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string(b, i, true),
        b'{' | b'[' if depth >= MAX_LEVEL => None,
        b'{' => {
            let mut j = ws(b, i + 1);
            if b.get(j) == Some(&b'}') {
                return Some(j + 1);
            }
            loop {
                if b.get(j) != Some(&b'"') {
                    return None;
                }
                j = ws(b, string(b, j, true)?);
                if b.get(j) != Some(&b':') {
                    return None;
                }
                j = ws(b, value(b, ws(b, j + 1), depth + 1)?);
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
                j = ws(b, value(b, j, depth + 1)?);
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

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of the word `x` that is a quote, a backslash or below 0x20 (a control byte).
/// Only the lowest set bit is sure to be exact (a borrow runs upwards from a hit, never below it), so
/// `trailing_zeros / 8` is the first such byte.
#[inline(always)]
fn specials(x: u64) -> u64 {
    let quote = x ^ (ONES * u64::from(b'"'));
    let slash = x ^ (ONES * u64::from(b'\\'));
    (quote.wrapping_sub(ONES) & !quote | slash.wrapping_sub(ONES) & !slash | x.wrapping_sub(ONES * 0x20) & !x) & HIGH
}

/// The end (just past the closing quote) of the string whose opening quote is at `i`, when serde reads it, or
/// `None` (give up) — also for some strings serde reads, so that one check does for every string, whether
/// serde builds it or skips it:
/// * no byte below 0x20;
/// * only JSON's short escapes (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`), none at all when `escapes`
///   is false; a `\u` escape gives up (serde refuses a lone surrogate only in a string it builds).
///
/// UTF-8 is the caller's to check ([`fast`] checks every byte outside `content` at once; serde checks only the
/// strings it builds). Eight bytes at a time up to the next quote, backslash or control byte.
#[inline(always)]
fn string(b: &[u8], i: usize, escapes: bool) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let hit = match b.get(j..).and_then(<[u8]>::first_chunk::<8>) {
            Some(w) => {
                let s = specials(u64::from_le_bytes(*w));
                if s == 0 {
                    j += 8;
                    continue;
                }
                j + (s.trailing_zeros() / 8) as usize
            }
            None => j + b.get(j..)?.iter().position(|&c| matches!(c, b'"' | b'\\' | 0x00..=0x1f))?,
        };
        match b[hit] {
            b'"' => return Some(hit + 1),
            b'\\'
                if escapes
                    && matches!(b.get(hit + 1), Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't')) =>
            {
                j = hit + 2
            }
            _ => return None,
        }
    }
}

/// The index just past the value starting at `i`, unchecked (for `message.content`, which serde never sees).
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
mod tests;

/// Property tests (issue 11): the fast path and serde agree on mutated real-shaped assistant lines, and neither
/// panics on anything.
#[cfg(test)]
mod props;

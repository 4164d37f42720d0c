//! Codex CLI rollouts: `sessions/YYYY/MM/DD/rollout-*.jsonl` and `archived_sessions/`.
//!
//! `session_meta` lines name the session (and, in a forked subagent, its parent), `turn_context` lines the
//! model in force, and `event_msg` lines of `payload.type == "token_count"` the usage: `info.total_token_usage`
//! (cumulative for the thread) and `info.last_token_usage` (the last request). Codex repeats an event with
//! unchanged totals (and starts with `info: null`), so a request is counted only when the cumulative total
//! grows. A forked subagent file replays its parent's events (re-stamped) with totals that include the
//! parent's; keying every event on the *root* session and its cumulative totals makes the replay collide with
//! the parent's own events, so it is counted once. An event with `last_token_usage` but no cumulative totals
//! adds its usage to the running total, which then stands for the totals in its key (so its id is the same on
//! every import and machine); such an event repeating the previous event's usage exactly is taken for a
//! repeat, as an unchanged total is (Codex's repeats are exact copies, and one request's input includes the
//! whole context before it, so two different requests hardly ever have equal counts).
//!
//! The service tier requests are billed at comes from `event_msg` lines of `payload.type ==
//! "thread_settings_applied"` (`thread_settings.service_tier`: `priority`, `flex`, …; absent or null is the
//! standard tier) and from `turn_context.payload.service_tier` when a turn names one: it holds for the
//! requests after it in that file, until a later line changes it. Codex's `fast` is its name for priority
//! processing.
//!
//! The reader is a small state machine ([`Context`]) saved with the file's offset, so an incremental import
//! resumes in the middle of a file with the model, session and running total it had.

use serde::{Deserialize, Serialize};

use super::lenient::{Obj, Str, count, opt_count};
use super::{CtxCache, Found, LineOutcome};
use crate::record::{Service, Tokens};

/// What the reader knows at a point in a rollout file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Context {
    /// The file's own session id (its first `session_meta`).
    pub session: Option<String>,
    /// The session whose cumulative totals the events continue: the parent of a fork, else the own session.
    pub root: Option<String>,
    /// The model of the last `turn_context`.
    pub model: Option<String>,
    /// The working directory.
    pub cwd: Option<String>,
    /// The git branch of the own session.
    pub branch: Option<String>,
    /// The last cumulative totals counted (or the running sum, for events without totals).
    pub total: Cumulative,
    /// The usage of the last event counted, to know a repeat of an event without totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<Cumulative>,
    /// True once the first `token_count` event was seen (later `session_meta` lines are repeats).
    pub started: bool,
    /// The service tier in force (`priority`, `flex`, `batch`), when not the standard one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
}

/// Cumulative totals of a thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cumulative {
    /// `total_tokens`.
    pub total: u64,
    /// `input_tokens` (cached included).
    pub input: u64,
    /// `cached_input_tokens`.
    pub cached: u64,
    /// `output_tokens` (reasoning included).
    pub output: u64,
    /// `reasoning_output_tokens`.
    pub reasoning: u64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Str<'a>,
    #[serde(borrow)]
    timestamp: Str<'a>,
    #[serde(borrow)]
    payload: Obj<Payload<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Payload<'a> {
    #[serde(rename = "type", borrow)]
    kind: Str<'a>,
    #[serde(borrow)]
    id: Str<'a>,
    #[serde(borrow)]
    forked_from_id: Str<'a>,
    #[serde(borrow)]
    cwd: Str<'a>,
    #[serde(borrow)]
    model: Str<'a>,
    #[serde(borrow)]
    git: Obj<Git<'a>>,
    info: Obj<Info>,
    #[serde(borrow)]
    service_tier: Str<'a>,
    #[serde(borrow)]
    thread_settings: Obj<ThreadSettings<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ThreadSettings<'a> {
    #[serde(borrow)]
    service_tier: Str<'a>,
}

/// A Codex `service_tier` as tt names tiers: `None` for the standard one (and for names tt does not price).
/// Codex's `fast` setting runs turns on priority processing.
fn tier(s: Option<&str>) -> Option<String> {
    let s = s?;
    let service = if s == "fast" { Some(Service::Priority) } else { Service::parse(s) };
    service.filter(|t| *t != Service::Standard).map(|t| t.as_str().to_string())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Git<'a> {
    #[serde(borrow)]
    branch: Str<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Info {
    total_token_usage: Obj<Usage>,
    last_token_usage: Obj<Usage>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct Usage {
    #[serde(deserialize_with = "count")]
    input_tokens: u64,
    #[serde(deserialize_with = "count")]
    cached_input_tokens: u64,
    #[serde(deserialize_with = "count")]
    output_tokens: u64,
    #[serde(deserialize_with = "opt_count")]
    reasoning_output_tokens: Option<u64>,
    #[serde(deserialize_with = "count")]
    total_tokens: u64,
}

impl Cumulative {
    /// The growth from `before` to `self`.
    fn minus(&self, before: &Cumulative) -> Cumulative {
        Cumulative {
            total: self.total.saturating_sub(before.total),
            input: self.input.saturating_sub(before.input),
            cached: self.cached.saturating_sub(before.cached),
            output: self.output.saturating_sub(before.output),
            reasoning: self.reasoning.saturating_sub(before.reasoning),
        }
    }

    /// `self` grown by `more`.
    fn plus(&self, more: &Cumulative) -> Cumulative {
        Cumulative {
            total: self.total.saturating_add(more.total),
            input: self.input.saturating_add(more.input),
            cached: self.cached.saturating_add(more.cached),
            output: self.output.saturating_add(more.output),
            reasoning: self.reasoning.saturating_add(more.reasoning),
        }
    }
}

impl Usage {
    fn cumulative(&self) -> Cumulative {
        Cumulative {
            // Older builds may omit `total_tokens`; input + output is what it adds up to.
            total: if self.total_tokens > 0 {
                self.total_tokens
            } else {
                self.input_tokens.saturating_add(self.output_tokens)
            },
            input: self.input_tokens,
            cached: self.cached_input_tokens,
            output: self.output_tokens,
            reasoning: self.reasoning_output_tokens.unwrap_or(0),
        }
    }
}

/// Read one line, updating `cx`; a counted request goes to `out`.
pub(super) fn read_line(line: &[u8], cx: &mut Context, cache: &mut CtxCache, out: &mut Vec<Found>) -> LineOutcome {
    let f = memchr::memmem::find;
    if f(line, b"\"token_count\"").is_none()
        && f(line, b"\"turn_context\"").is_none()
        && f(line, b"\"session_meta\"").is_none()
        && f(line, b"\"thread_settings_applied\"").is_none()
    {
        return LineOutcome::Skipped;
    }
    let mut stream = serde_json::Deserializer::from_slice(line).into_iter::<Line>();
    let mut problem = None;
    loop {
        match stream.next() {
            None => break,
            Some(Ok(l)) => {
                if let Err(e) = take(&l, cx, cache, out) {
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

fn take(l: &Line, cx: &mut Context, cache: &mut CtxCache, out: &mut Vec<Found>) -> Result<(), String> {
    let Some(p) = &l.payload.0 else { return Ok(()) };
    match l.kind.get() {
        Some("session_meta") => session_meta(p, cx),
        Some("turn_context") => {
            if let Some(m) = p.model.get() {
                cx.model = Some(m.to_string());
            }
            if let Some(c) = p.cwd.get() {
                cx.cwd = Some(c.to_string());
            }
            if let Some(t) = p.service_tier.get() {
                cx.service_tier = tier(Some(t));
            }
        }
        Some("event_msg") if p.kind.get() == Some("thread_settings_applied") => {
            if let Some(ts) = &p.thread_settings.0 {
                cx.service_tier = tier(ts.service_tier.get());
            }
        }
        Some("event_msg") if p.kind.get() == Some("token_count") => token_count(l, p, cx, cache, out)?,
        _ => {}
    }
    Ok(())
}

/// A `session_meta` line: the file's own session (its cwd and branch), and the root of a forked chain.
fn session_meta(p: &Payload, cx: &mut Context) {
    if cx.started {
        return;
    }
    let id = p.id.get().map(str::to_string);
    if cx.session.is_none() {
        // The file's own session: its cwd and branch describe the work.
        cx.session = id.clone();
        cx.cwd = p.cwd.get().map(str::to_string).or(cx.cwd.take());
        cx.branch = p.git.0.as_ref().and_then(|g| g.branch.get()).map(str::to_string);
    }
    // The root is the first session in the chain that was not itself forked.
    if cx.root.is_none() && p.forked_from_id.get().is_none() {
        cx.root = id;
    }
}

/// A `token_count` event: the request it ends, found from the growth of the running totals (none for a repeat
/// or an implausible event).
fn token_count(
    l: &Line,
    p: &Payload,
    cx: &mut Context,
    cache: &mut CtxCache,
    out: &mut Vec<Found>,
) -> Result<(), String> {
    cx.started = true;
    let Some(info) = &p.info.0 else { return Ok(()) };
    let last = info.last_token_usage.0.map(|u| u.cumulative());
    let (total, last) = match (info.total_token_usage.0.map(|u| u.cumulative()), last) {
        (Some(total), _) if total.total <= cx.total.total => {
            // A repeat of the totals already counted (or an older replayed value): no new request.
            return Ok(());
        }
        (Some(total), Some(last)) => (total, last),
        (Some(total), None) => (total, total.minus(&cx.total)),
        (None, Some(last)) if last.total == 0 || cx.last == Some(last) => return Ok(()),
        (None, Some(last)) => (cx.total.plus(&last), last),
        (None, None) => return Ok(()),
    };
    let ts = l.timestamp.get().ok_or("token_count event without `timestamp`")?;
    let when = crate::record::parse_ts(ts).map_err(|e| format!("`timestamp`: {e}"))?;
    let tokens = Tokens {
        // OpenAI counts cached tokens inside input; tt's input is uncached.
        input: last.input.saturating_sub(last.cached),
        output: last.output,
        cache_read: last.cached.min(last.input),
        cache_write: 0,
        cache_write_1h: 0,
    };
    // An implausible event is skipped without moving the running total, so the next event's growth
    // is still measured from the last plausible one.
    cache.check(&tokens, Some(last.reasoning))?;
    cx.total = total;
    cx.last = Some(last);
    if tokens.total() == 0 {
        return Ok(());
    }
    let root = cx.root.as_deref().or(cx.session.as_deref()).unwrap_or("");
    let hash = super::key_hash(&[
        "codex",
        root,
        &total.total.to_string(),
        &total.input.to_string(),
        &total.output.to_string(),
    ]);
    let model = cx.model.as_deref().unwrap_or("unknown");
    let ctx = cache.get(model, cx.session.as_deref(), cx.cwd.as_deref(), cx.branch.as_deref(), false);
    let reasoning = (last.reasoning > 0).then_some(last.reasoning);
    let service = cx.service_tier.as_deref().and_then(Service::parse).unwrap_or_default();
    let billing = crate::record::Billing { service, ..Default::default() };
    out.push(Found { hash, ts: when, tokens, reasoning, billing, iterations: None, ctx, stream: 0, at: 0 });
    Ok(())
}

/// Property tests (issue 11): the rollout reader on arbitrary and mutated event lines never panics, and its
/// state keeps its invariants.
#[cfg(test)]
mod props {
    use super::*;
    use crate::provider::props::{Edit, JSON_SNIPPETS, Tree, apply, config, edit, mutate, tree};
    use proptest::prelude::*;
    use serde_json::Value;

    /// The lines of the fixtures' rollouts.
    fn seeds() -> Vec<Value> {
        [
            include_str!(
                "../../../../tests/fixtures/codex/sessions/2026/04/11/rollout-2026-04-11T14-53-07-019d0000-0000-7000-8000-00000000000a.jsonl"
            ),
            include_str!(
                "../../../../tests/fixtures/codex/sessions/2026/04/11/rollout-2026-04-11T20-15-02-019d0000-0000-7000-8000-00000000000b.jsonl"
            ),
            include_str!(
                "../../../../tests/fixtures/codex-tiers/sessions/2026/07/20/rollout-2026-07-20T10-00-00-019f0000-0000-7000-8000-0000000000c1.jsonl"
            ),
        ]
        .iter()
        .flat_map(|f| f.lines())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
    }

    const KEYS: &[&str] = &[
        "type",
        "timestamp",
        "payload",
        "id",
        "forked_from_id",
        "cwd",
        "model",
        "git",
        "branch",
        "info",
        "service_tier",
        "thread_settings",
        "total_token_usage",
        "last_token_usage",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "reasoning_output_tokens",
        "total_tokens",
    ];

    /// Feed `lines` through one file's reader: no panic; the cumulative total never goes back, every request
    /// found is within `max` per field and its total fits, and the state survives its save and reload.
    fn feed(lines: &[Vec<u8>], max: u64) {
        let (mut cx, mut cache, mut out) = (Context::default(), CtxCache::new(max), Vec::new());
        for l in lines {
            let before = cx.total.total;
            let n = out.len();
            let _ = read_line(l, &mut cx, &mut cache, &mut out);
            assert!(cx.total.total >= before, "the total went back: {}", String::from_utf8_lossy(l));
            for f in &out[n..] {
                let t = &f.tokens;
                let fields = [t.input, t.output, t.cache_read, t.cache_write, t.cache_write_1h];
                assert!(fields.iter().all(|&x| x <= max), "{t:?} above {max}");
                assert!(t.total_exact() <= u128::from(u64::MAX), "{t:?}");
                assert!(t.total() > 0);
            }
            let saved = serde_json::to_string(&cx).expect("the state saves");
            assert_eq!(serde_json::from_str::<Context>(&saved).expect("the state reloads"), cx);
        }
    }

    fn line(k: usize, trees: &[Tree], edits: &[Edit]) -> Vec<u8> {
        let seeds = seeds();
        let doc = mutate(&seeds[k % seeds.len()], trees, KEYS);
        apply(doc.to_string().as_bytes(), edits, JSON_SNIPPETS)
    }

    fn max_tokens() -> impl Strategy<Value = u64> {
        proptest::sample::select(vec![u64::MAX, crate::config::MAX_MAX_TOKENS, 100_000_000, 500])
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn arbitrary_lines(lines in proptest::collection::vec("\\PC{0,120}", 1..6), max in max_tokens()) {
            let tags = ["\"token_count\"", "\"turn_context\"", "\"session_meta\"", "\"thread_settings_applied\""];
            let lines: Vec<Vec<u8>> =
                lines.iter().enumerate().map(|(i, l)| format!("{l}{}", tags[i % 4]).into_bytes()).collect();
            feed(&lines, max);
        }

        #[test]
        fn mutated_rollouts(
            picks in proptest::collection::vec(
                (any::<usize>(), proptest::collection::vec(tree(KEYS.len()), 0..4), proptest::collection::vec(edit(), 0..2)),
                1..10,
            ),
            max in max_tokens(),
        ) {
            let lines: Vec<Vec<u8>> = picks.iter().map(|(k, t, e)| line(*k, t, e)).collect();
            feed(&lines, max);
        }

        #[test]
        fn whole_rollouts_mutated(
            trees in proptest::collection::vec((any::<usize>(), tree(KEYS.len())), 0..6),
            max in max_tokens(),
        ) {
            let seeds = seeds();
            let mut lines: Vec<Value> = seeds.clone();
            for (k, t) in &trees {
                let i = k % lines.len();
                lines[i] = mutate(&lines[i], std::slice::from_ref(t), KEYS);
            }
            let lines: Vec<Vec<u8>> = lines.iter().map(|v| v.to_string().into_bytes()).collect();
            feed(&lines, max);
        }
    }
}

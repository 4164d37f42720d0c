//! Provider usage objects → tt token counts.
//!
//! tt's `input_tokens` is *uncached* input (Anthropic's convention). OpenAI and Gemini report prompt tokens that
//! *include* cached ones, so the cached part is subtracted here and counted once, as `cache_read`.
//!
//! * Anthropic: `usage.{input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens,
//!   cache_creation.{ephemeral_5m_input_tokens, ephemeral_1h_input_tokens}}`.
//! * OpenAI Chat Completions: `usage.{prompt_tokens, completion_tokens, prompt_tokens_details.cached_tokens,
//!   completion_tokens_details.reasoning_tokens}`; Responses: `usage.{input_tokens,
//!   input_tokens_details.cached_tokens, output_tokens, output_tokens_details.reasoning_tokens}`.
//! * Gemini: `usageMetadata.{promptTokenCount, cachedContentTokenCount, candidatesTokenCount,
//!   thoughtsTokenCount, toolUsePromptTokenCount}` — thoughts are billed as output.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::record::Tokens;

/// A provider whose API responses tt can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Anthropic Messages API (and `claude -p --output-format json`).
    Anthropic,
    /// OpenAI Chat Completions or Responses API.
    OpenAi,
    /// Google Gemini API.
    Gemini,
}

impl Provider {
    /// Parse `anthropic|openai|gemini` (also `claude`, `google`).
    pub fn parse(s: &str) -> Result<Provider> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "anthropic" | "claude" => Provider::Anthropic,
            "openai" => Provider::OpenAi,
            "gemini" | "google" => Provider::Gemini,
            _ => return Err(Error::usage(format!("unknown provider {s:?} (anthropic, openai, gemini)"))),
        })
    }
    /// The name written to `source` and `provider`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Gemini => "google",
        }
    }
    /// The `source` value for records read from this provider's responses.
    pub fn source(&self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Gemini => "gemini",
        }
    }
}

/// What a response said about usage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Token counts in tt's convention.
    pub tokens: Tokens,
    /// Reasoning tokens (already inside output).
    pub reasoning: Option<u64>,
    /// The model, when the response names it.
    pub model: Option<String>,
}

/// The JSON document of an API response as read from stdin: one JSON document (a response, a usage object, or
/// an array of stream events), or a captured stream — server-sent events (`event:` / `data:` lines, as
/// `curl -N` prints a streaming request; `data: [DONE]` ends it) or one JSON event per line — which becomes the
/// array of its events. `name` is where the text came from, for errors (`<stdin>:3: …`).
pub fn parse_response(name: &str, text: &str) -> Result<Value> {
    let whole = match serde_json::from_str::<Value>(text) {
        Ok(doc) => return Ok(doc),
        Err(e) => e,
    };
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with(':') || ["event:", "id:", "retry:"].iter().any(|p| l.starts_with(p)) {
            continue;
        }
        let data = l.strip_prefix("data:").map_or(l, str::trim);
        if data == "[DONE]" {
            continue;
        }
        match serde_json::from_str::<Value>(data) {
            Ok(v) => events.push(v),
            // Not a stream either: the error is the document's, where serde found it.
            Err(_) if events.is_empty() && n == 0 => return Err(crate::record::json_doc_error(name, text, &whole)),
            Err(e) => {
                return Err(Error::data(format!(
                    "{name}:{}: invalid JSON in a stream event: {}",
                    n + 1,
                    crate::record::json_error_message(&e)
                )));
            }
        }
    }
    if events.is_empty() {
        return Err(crate::record::json_doc_error(name, text, &whole));
    }
    Ok(Value::Array(events))
}

/// Read the usage of a response (or a bare usage object) from `provider`.
///
/// A JSON array is a captured stream. Anthropic streams are merged in order: `message_start` carries the model
/// and the input and cache counts, each `message_delta` the cumulative output (and, when present, newer input
/// or cache counts), so a later event's field replaces an earlier one's. For OpenAI (chat chunks with
/// `stream_options.include_usage`, or Responses events ending with `response.completed`) and Gemini (chunks
/// whose `usageMetadata` is cumulative) the last element carrying usage is the final count; the model is the
/// last one named.
///
/// A usage object without a single token count (`{"usage":{}}`, Gemini's `{"totalTokenCount":100}` alone) is
/// refused rather than read as zero tokens, and so are reasoning tokens above the output they are part of.
pub fn usage_from(provider: Provider, doc: &Value) -> Result<Usage> {
    let u = usage_from_doc(provider, doc)?;
    if let Some(r) = u.reasoning
        && r > u.tokens.output
    {
        return Err(Error::data(format!(
            "usage: reasoning tokens ({r}) exceed output tokens ({}), which include them",
            u.tokens.output
        )));
    }
    Ok(u)
}

/// The token-count fields of each provider's usage object: one of them must be there.
fn count_keys(p: Provider) -> &'static [&'static str] {
    match p {
        Provider::Anthropic => &[
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "cache_creation",
        ],
        Provider::OpenAi => &["prompt_tokens", "completion_tokens", "input_tokens", "output_tokens"],
        Provider::Gemini => &[
            "promptTokenCount",
            "candidatesTokenCount",
            "cachedContentTokenCount",
            "thoughtsTokenCount",
            "toolUsePromptTokenCount",
        ],
    }
}

fn check_counts(p: Provider, usage: &Value) -> Result<()> {
    let has = |k: &&str| usage.get(*k).is_some_and(|v| !v.is_null());
    if count_keys(p).iter().any(has) {
        return Ok(());
    }
    let total = if p == Provider::Gemini && usage.get("totalTokenCount").is_some() {
        " (only `totalTokenCount`, which does not say how many were input and output)"
    } else {
        ""
    };
    Err(Error::data(format!("no token counts in the usage object{total}: expected {}", expected(p))))
}

fn usage_from_doc(provider: Provider, doc: &Value) -> Result<Usage> {
    if let Value::Array(items) = doc {
        let none = || Error::data(format!("no {} usage object found in the array", provider.as_str()));
        if provider == Provider::Anthropic {
            let mut merged = serde_json::Map::new();
            let mut model = None;
            for item in items {
                if model.is_none() {
                    model = model_of(provider, item);
                }
                if let Some(Value::Object(u)) = usage_object(provider, item) {
                    for (k, v) in u {
                        if !v.is_null() {
                            merged.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            if merged.is_empty() {
                return Err(none());
            }
            let merged = Value::Object(merged);
            check_counts(provider, &merged)?;
            let mut u = anthropic(&merged)?;
            u.model = model;
            return Ok(u);
        }
        let last = items.iter().rev().find(|v| usage_object(provider, v).is_some()).ok_or_else(none)?;
        let mut u = usage_from_doc(provider, last)?;
        if u.model.is_none() {
            u.model = items.iter().rev().find_map(|v| model_of(provider, v));
        }
        return Ok(u);
    }
    let usage = usage_object(provider, doc).ok_or_else(|| {
        Error::data(format!("no {} usage object found (expected {})", provider.as_str(), expected(provider)))
    })?;
    check_counts(provider, usage)?;
    let mut u = match provider {
        Provider::Anthropic => anthropic(usage)?,
        Provider::OpenAi => openai(usage)?,
        Provider::Gemini => gemini(usage)?,
    };
    u.model = model_of(provider, doc);
    Ok(u)
}

fn expected(p: Provider) -> &'static str {
    match p {
        Provider::Anthropic => "`usage.input_tokens` / `usage.output_tokens`",
        Provider::OpenAi => "`usage.prompt_tokens` or `usage.input_tokens`",
        Provider::Gemini => "`usageMetadata.promptTokenCount`",
    }
}

fn usage_object(p: Provider, doc: &Value) -> Option<&Value> {
    let obj = doc.as_object()?;
    let (wrapper, marker): (&str, &[&str]) = match p {
        Provider::Anthropic => ("usage", &["input_tokens", "output_tokens"]),
        Provider::OpenAi => ("usage", &["prompt_tokens", "input_tokens", "completion_tokens", "output_tokens"]),
        Provider::Gemini => ("usageMetadata", &["promptTokenCount", "candidatesTokenCount", "totalTokenCount"]),
    };
    if let Some(u) = obj.get(wrapper).filter(|u| u.is_object()) {
        return Some(u);
    }
    // Anthropic streams put usage in `message` (message_start) and top-level (message_delta); OpenAI Responses
    // streams in `response` (`response.completed`).
    let inner = match p {
        Provider::Anthropic => "message",
        Provider::OpenAi => "response",
        Provider::Gemini => "",
    };
    if let Some(u) = obj.get(inner).and_then(|m| m.get(wrapper)).filter(|u| u.is_object()) {
        return Some(u);
    }
    marker.iter().any(|k| obj.contains_key(*k)).then_some(doc)
}

fn model_of(p: Provider, doc: &Value) -> Option<String> {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string).filter(|s| !s.is_empty());
    match p {
        Provider::Gemini => s(doc.get("modelVersion")).or_else(|| s(doc.get("model"))),
        Provider::Anthropic => {
            s(doc.get("model")).or_else(|| s(doc.get("message").and_then(|m| m.get("model")))).or_else(|| {
                // `claude -p --output-format json` names models in `modelUsage`; use it when there is exactly one.
                let mu = doc.get("modelUsage")?.as_object()?;
                (mu.len() == 1).then(|| mu.keys().next().cloned()).flatten()
            })
        }
        Provider::OpenAi => s(doc.get("model")).or_else(|| s(doc.get("response").and_then(|r| r.get("model")))),
    }
}

/// A non-negative integer field (absent or null is 0).
fn n(v: &Value, path: &[&str]) -> Result<u64> {
    let mut cur = v;
    for k in path {
        match cur.get(*k) {
            Some(x) => cur = x,
            None => return Ok(0),
        }
    }
    match cur {
        Value::Null => Ok(0),
        Value::Number(num) => num.as_u64().ok_or_else(|| {
            Error::data(format!("usage field `{}` is not a non-negative integer: {num}", path.join(".")))
        }),
        other => Err(Error::data(format!("usage field `{}` is not a number: {other}", path.join(".")))),
    }
}

/// `a + b`, or a data error naming what was added: a provider's counts that overflow are refused, never wrapped.
fn add(what: &str, a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| Error::data(format!("usage: {what} overflows ({a} + {b})")))
}

/// Anthropic's usage object (also the one inside Claude Code transcripts).
pub fn anthropic(u: &Value) -> Result<Usage> {
    let creation_total = n(u, &["cache_creation_input_tokens"])?;
    let has_split = u.get("cache_creation").is_some_and(Value::is_object);
    let (w5, w1h) = if has_split {
        let w5 = n(u, &["cache_creation", "ephemeral_5m_input_tokens"])?;
        let w1h = n(u, &["cache_creation", "ephemeral_1h_input_tokens"])?;
        // Older payloads may carry a total larger than the split; the remainder is 5-minute writes.
        let split = add("cache_creation split", w5, w1h)?;
        (add("cache writes", w5, creation_total.saturating_sub(split))?, w1h)
    } else {
        (creation_total, 0)
    };
    let thinking = u.get("output_tokens_details").map(|d| n(d, &["thinking_tokens"])).transpose()?;
    Ok(Usage {
        tokens: Tokens {
            input: n(u, &["input_tokens"])?,
            output: n(u, &["output_tokens"])?,
            cache_read: n(u, &["cache_read_input_tokens"])?,
            cache_write: w5,
            cache_write_1h: w1h,
        },
        reasoning: thinking.filter(|t| *t > 0),
        model: None,
    })
}

fn openai(u: &Value) -> Result<Usage> {
    let chat = u.get("prompt_tokens").is_some() || u.get("completion_tokens").is_some();
    let (prompt, cached, output, reasoning) = if chat {
        (
            n(u, &["prompt_tokens"])?,
            n(u, &["prompt_tokens_details", "cached_tokens"])?,
            n(u, &["completion_tokens"])?,
            n(u, &["completion_tokens_details", "reasoning_tokens"])?,
        )
    } else {
        (
            n(u, &["input_tokens"])?,
            n(u, &["input_tokens_details", "cached_tokens"])?,
            n(u, &["output_tokens"])?,
            n(u, &["output_tokens_details", "reasoning_tokens"])?,
        )
    };
    if cached > prompt {
        return Err(Error::data(format!("cached tokens ({cached}) exceed prompt tokens ({prompt})")));
    }
    Ok(Usage {
        tokens: Tokens { input: prompt - cached, output, cache_read: cached, ..Default::default() },
        reasoning: (reasoning > 0).then_some(reasoning),
        model: None,
    })
}

fn gemini(u: &Value) -> Result<Usage> {
    let prompt = add(
        "promptTokenCount + toolUsePromptTokenCount",
        n(u, &["promptTokenCount"])?,
        n(u, &["toolUsePromptTokenCount"])?,
    )?;
    let cached = n(u, &["cachedContentTokenCount"])?;
    let thoughts = n(u, &["thoughtsTokenCount"])?;
    if cached > prompt {
        return Err(Error::data(format!("cached tokens ({cached}) exceed prompt tokens ({prompt})")));
    }
    Ok(Usage {
        tokens: Tokens {
            input: prompt - cached,
            output: add("candidatesTokenCount + thoughtsTokenCount", n(u, &["candidatesTokenCount"])?, thoughts)?,
            cache_read: cached,
            ..Default::default()
        },
        reasoning: (thoughts > 0).then_some(thoughts),
        model: None,
    })
}

//! Provider usage objects → tt token counts.
//!
//! tt's `input_tokens` is *uncached* input (Anthropic's convention). OpenAI and Gemini report prompt tokens that
//! *include* cached ones, so the cached part is subtracted here and counted once, as `cache_read`.
//!
//! * Anthropic: `usage.{input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens,
//!   cache_creation.{ephemeral_5m_input_tokens, ephemeral_1h_input_tokens}}`. Billing beyond the tokens:
//!   `usage.service_tier` (`standard`, `batch`, `priority`), `usage.speed` (`"fast"`: fast mode) and
//!   `usage.server_tool_use.{web_search_requests, web_fetch_requests, code_execution_requests}` (priced per
//!   call). `usage.iterations` lists the sampling passes one request made — a compaction pass (`type:
//!   "compaction"`), an advisor-tool call (its own `model`), the reply itself (`type: "message"`) — each with
//!   the token fields above; the top-level counts cover only the final pass, but every pass is billed. When
//!   the list is there and not empty, the request's tokens are the **sum** of the iterations' and its cost the
//!   sum of each iteration priced on its own at its own model (the iteration's `model`, else the response's),
//!   see [`price_iterations`].
//! * OpenAI Chat Completions: `usage.{prompt_tokens, completion_tokens, prompt_tokens_details.cached_tokens,
//!   completion_tokens_details.reasoning_tokens}`; Responses: `usage.{input_tokens,
//!   input_tokens_details.cached_tokens, output_tokens, output_tokens_details.reasoning_tokens}`. The response's
//!   top-level `service_tier` (`response.service_tier` in Responses stream events) picks the price set: `flex`,
//!   `priority` and `batch` their own; `default`, `auto`, `standard` and `scale` the standard one.
//! * Azure OpenAI (`--from azure`): OpenAI's shapes (and `service_tier`); the model is the response's `model`
//!   (the model that ran, not the deployment name).
//! * Gemini: `usageMetadata.{promptTokenCount, cachedContentTokenCount, candidatesTokenCount,
//!   thoughtsTokenCount, toolUsePromptTokenCount}` — thoughts are billed as output. The Interactions API
//!   (told apart by its keys): `usage.{total_input_tokens, total_cached_tokens, total_output_tokens,
//!   total_thought_tokens, total_tool_use_tokens}` (`interaction.usage` in a stream's final event), read the
//!   same way: tool-use prompt tokens are input, cached tokens are inside input and counted once as cache
//!   reads, thoughts are output on top of `total_output_tokens`; `total_tokens` is not read.
//! * Amazon Bedrock Converse (`--from bedrock`): `usage.{inputTokens, outputTokens, cacheReadInputTokens,
//!   cacheWriteInputTokens, cacheDetails[].{ttl, inputTokens}}` (ConverseStream: `metadata.usage`). `inputTokens`
//!   is uncached input, as Anthropic's `input_tokens` is; `totalTokens` is not read. Converse responses do not
//!   name the model: it comes from `--model` (Bedrock ids such as `us.anthropic.claude-…-v1:0` resolve in the
//!   price table). InvokeModel with a Claude model returns Anthropic's own body: that is `--from anthropic`.
//! * xAI (`--from xai`): OpenAI's shapes, but chat completions count `completion_tokens_details.reasoning_tokens`
//!   *outside* `completion_tokens`, so output is their sum (the Responses shape is read as OpenAI's).
//! * OpenRouter (`--from openrouter`): OpenAI's shapes, plus `prompt_tokens_details.cache_write_tokens`, which
//!   are inside `prompt_tokens` and counted once, as `cache_write`. `usage.cost` (OpenRouter's own dollar
//!   figure) is kept as [`Usage::provider_cost`], a cross-check, never the price: tt-log writes it as
//!   `provider_cost_usd` and warns when it differs from tt's price by more than 1%. With `usage.is_byok: true`
//!   the cost is OpenRouter's fee alone, so it is kept but not compared.
//!
//! One record is one response: a capture that holds several (two Anthropic `message_start`s, two response ids)
//! is refused rather than read as its last one.

use serde_json::Value;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::price::{ModelEntry, Priced};
use crate::record::{Billing, Service, Tokens};

/// A provider whose API responses tt can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Anthropic Messages API (and `claude -p --output-format json`).
    Anthropic,
    /// OpenAI Chat Completions or Responses API.
    OpenAi,
    /// Google Gemini API.
    Gemini,
    /// Amazon Bedrock Converse / ConverseStream.
    Bedrock,
    /// xAI (OpenAI-shaped; chat reasoning outside completion tokens).
    Xai,
    /// OpenRouter (OpenAI-shaped, with cache writes).
    OpenRouter,
    /// Azure OpenAI (OpenAI-shaped).
    Azure,
}

impl Provider {
    /// Parse `anthropic|openai|gemini|bedrock|xai|openrouter|azure` (also `claude`, `google`, `azure-openai`).
    pub fn parse(s: &str) -> Result<Provider> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "anthropic" | "claude" => Provider::Anthropic,
            "openai" => Provider::OpenAi,
            "gemini" | "google" => Provider::Gemini,
            "bedrock" => Provider::Bedrock,
            "xai" => Provider::Xai,
            "openrouter" => Provider::OpenRouter,
            "azure" | "azure-openai" => Provider::Azure,
            _ => {
                return Err(Error::usage(format!(
                    "unknown provider {s:?} (anthropic, openai, gemini, bedrock, xai, openrouter, azure)"
                )));
            }
        })
    }
    /// The name written to `source` and `provider`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Gemini => "google",
            Provider::Bedrock => "bedrock",
            Provider::Xai => "xai",
            Provider::OpenRouter => "openrouter",
            Provider::Azure => "azure",
        }
    }
    /// The `source` value for records read from this provider's responses.
    pub fn source(&self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Gemini => "gemini",
            Provider::Bedrock => "bedrock",
            Provider::Xai => "xai",
            Provider::OpenRouter => "openrouter",
            Provider::Azure => "azure",
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
    /// Service tier, fast mode and server-side tool calls the response reports.
    pub billing: Billing,
    /// Anthropic's `usage.iterations`, when the response lists them (then `tokens` is their sum).
    pub iterations: Vec<Iteration>,
    /// OpenRouter's own `usage.cost` in USD, as the response wrote it (a cross-check, not the price).
    pub provider_cost: Option<serde_json::Number>,
    /// True when `provider_cost` is not the cost of the tokens (OpenRouter BYOK: only its fee).
    pub provider_cost_partial: bool,
}

/// One sampling pass of a request, billed on its own (an entry of Anthropic's `usage.iterations`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Iteration {
    /// The model that ran it, when not the response's (an advisor-tool call).
    pub model: Option<String>,
    /// Its `type`: `message`, `compaction`, …
    pub kind: Option<String>,
    /// Its tokens.
    pub tokens: Tokens,
}

/// Price one request with its known `entry`: iteration by iteration when it lists iterations (see
/// [`price_iterations`], other models resolved in `prices`), else its tokens. `Err` says why it cannot be
/// priced (an iteration's unknown model, a cost too large to compute exactly).
pub fn price_request(
    prices: &crate::price::PriceTable,
    entry: &ModelEntry,
    ts: DateTime<Utc>,
    tokens: &Tokens,
    iterations: &[Iteration],
    billing: &Billing,
) -> std::result::Result<Priced, String> {
    if iterations.is_empty() {
        return crate::price::try_price_with(entry, ts, tokens, billing).map_err(|e| e.message().to_string());
    }
    price_iterations(entry, &mut |m| prices.resolve(m), ts, iterations, billing)
}

/// The warning when a provider's own figure for a request (`theirs`, e.g. OpenRouter's `usage.cost`) differs
/// from tt's price `ours` by more than 1% of it (any difference from a figure of 0); `None` when they agree.
pub fn cost_mismatch(source: &str, ours: &Priced, theirs: rust_decimal::Decimal, model: &str) -> Option<String> {
    let diff = (ours.cost - theirs).abs();
    let differs =
        if theirs.is_zero() { !diff.is_zero() } else { diff * rust_decimal::Decimal::from(100) > theirs.abs() };
    differs.then(|| {
        format!(
            "{source} says this request cost ${}, tt prices it at ${} ({}): check the price of {model}",
            crate::money::canonical(theirs),
            crate::money::canonical(ours.cost),
            ours.label
        )
    })
}

/// Price a request made of iterations: each iteration priced on its own at its own model (its `model`, else
/// `main`, the response's) with the request's service tier and speed; the per-call tool fees of `billing` are
/// added once, at `main`'s prices. Pricing iteration by iteration (not the summed tokens) matters even on one
/// model: a long-context tier applies to a pass whose prompt is above it, not to the sum of several smaller
/// ones. The label is `main`'s, as its largest-prompt iteration was priced (`main` alone when none ran on it).
///
/// `Err` says why the request cannot be priced: an iteration's model that `resolve` does not know, or a cost
/// too large to compute exactly. Pricing some passes and not others would be a wrong number, not a low one.
pub fn price_iterations<'t>(
    main: &'t ModelEntry,
    resolve: &mut dyn FnMut(&str) -> Option<&'t ModelEntry>,
    ts: DateTime<Utc>,
    iterations: &[Iteration],
    billing: &Billing,
) -> std::result::Result<Priced, String> {
    let tokens_only = Billing { web_search: 0, web_fetch: 0, code_execution: 0, ..*billing };
    let fees_only = Billing { service: billing.service, fast: billing.fast, ..*billing };
    let too_large = || format!("the cost of `{}` with its iterations is too large to compute exactly", main.name);
    let fees = crate::price::try_price_with(main, ts, &Tokens::default(), &fees_only).map_err(|_| too_large())?;
    let mut cost = fees.cost;
    let mut label: Option<(u64, String)> = None;
    for it in iterations {
        let entry = match it.model.as_deref() {
            Some(m) if resolve(m).is_none_or(|e| e.name != main.name) => resolve(m).ok_or_else(|| {
                format!(
                    "unknown model {m:?} of an iteration{}",
                    it.kind.as_deref().map(|k| format!(" ({k})")).unwrap_or_default()
                )
            })?,
            _ => main,
        };
        let p = crate::price::try_price_with(entry, ts, &it.tokens, &tokens_only).map_err(|_| too_large())?;
        cost = cost.checked_add(p.cost).ok_or_else(too_large)?;
        if std::ptr::eq(entry, main) && label.as_ref().is_none_or(|(prompt, _)| it.tokens.prompt() > *prompt) {
            label = Some((it.tokens.prompt(), p.label));
        }
    }
    Ok(Priced { cost, label: label.map_or(fees.label, |(_, l)| l) })
}

/// A JSON value whose objects never repeat a key: serde_json keeps the last of two, so a response with
/// `"input_tokens"` twice would be read as whichever came second — a repeated key is refused instead. The text is
/// walked once to check (values other than objects and arrays are skipped), then read as a [`Value`].
struct Strict(Value);

/// Walks a JSON value, failing on an object that repeats a key.
struct NoRepeatedKeys;

impl<'de> serde::Deserialize<'de> for NoRepeatedKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = NoRepeatedKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<NoRepeatedKeys, E> {
                Ok(NoRepeatedKeys)
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<NoRepeatedKeys, E> {
                Ok(NoRepeatedKeys)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<NoRepeatedKeys, E> {
                Ok(NoRepeatedKeys)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<NoRepeatedKeys, E> {
                Ok(NoRepeatedKeys)
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<NoRepeatedKeys, E> {
                Ok(NoRepeatedKeys)
            }
            fn visit_unit<E>(self) -> std::result::Result<NoRepeatedKeys, E> {
                Ok(NoRepeatedKeys)
            }
            fn visit_none<E>(self) -> std::result::Result<NoRepeatedKeys, E> {
                Ok(NoRepeatedKeys)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<NoRepeatedKeys, D::Error> {
                serde::Deserialize::deserialize(d)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<NoRepeatedKeys, A::Error> {
                while a.next_element::<NoRepeatedKeys>()?.is_some() {}
                Ok(NoRepeatedKeys)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<NoRepeatedKeys, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(k) = a.next_key::<String>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!("the key `{k}` is repeated in one object")));
                    }
                    a.next_value::<NoRepeatedKeys>()?;
                }
                Ok(NoRepeatedKeys)
            }
        }
        d.deserialize_any(V)
    }
}

impl std::str::FromStr for Strict {
    type Err = serde_json::Error;
    fn from_str(text: &str) -> std::result::Result<Strict, serde_json::Error> {
        serde_json::from_str::<NoRepeatedKeys>(text)?;
        serde_json::from_str::<Value>(text).map(Strict)
    }
}

/// The JSON document of an API response as read from stdin: one JSON document (a response, a usage object, or
/// an array of stream events), or a captured stream — server-sent events (`event:` / `data:` lines, as
/// `curl -N` prints a streaming request; `data: [DONE]` ends it) or one JSON event per line — which becomes the
/// array of its events. `name` is where the text came from, for errors (`<stdin>:3: …`).
pub fn parse_response(name: &str, text: &str) -> Result<Value> {
    let whole = match text.parse::<Strict>() {
        Ok(doc) => return Ok(doc.0),
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
        match data.parse::<Strict>() {
            Ok(v) => events.push(v.0),
            // Valid JSON that breaks a rule (a repeated key): that is the error, wherever it is.
            Err(e) if e.classify() == serde_json::error::Category::Data => {
                return Err(Error::data(format!("{name}:{}: {}", n + 1, crate::record::json_error_message(&e))));
            }
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
/// A capture that holds more than one response is refused, saying how many it found: one record is one
/// response, and reading only the last (or merging them) would silently drop the others. Anthropic responses
/// are counted by their `message_start` events (and whole responses with usage); Bedrock's by `messageStart`
/// events and usage objects; OpenAI-shaped and Gemini ones by their distinct response ids (`id` of chat
/// chunks, `response.id` of Responses events, Gemini's `responseId`) — and OpenAI's, which report usage once
/// per response, also by their usage objects. Chunks without ids whose usage may be cumulative (xAI,
/// OpenRouter, Gemini) cannot be told apart and are read as one stream.
///
/// A usage object without a single token count (`{"usage":{}}`, Gemini's `{"totalTokenCount":100}` alone) is
/// refused rather than read as zero tokens, and so are reasoning tokens above the output they are part of.
pub fn usage_from(provider: Provider, doc: &Value) -> Result<Usage> {
    let u = usage_from_doc(provider, doc)?;
    if let Some(r) = u.reasoning
        && r > u.tokens.output
    {
        let hint = if matches!(provider, Provider::OpenAi | Provider::Azure) {
            " (xAI counts them apart: use --from xai)"
        } else {
            ""
        };
        return Err(Error::data(format!(
            "usage: reasoning tokens ({r}) exceed output tokens ({}), which include them{hint}",
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
        Provider::OpenAi | Provider::Azure | Provider::Xai | Provider::OpenRouter => {
            &["prompt_tokens", "completion_tokens", "input_tokens", "output_tokens"]
        }
        Provider::Bedrock => &["inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens"],
        Provider::Gemini => &[
            "promptTokenCount",
            "candidatesTokenCount",
            "cachedContentTokenCount",
            "thoughtsTokenCount",
            "toolUsePromptTokenCount",
            "total_input_tokens",
            "total_output_tokens",
            "total_cached_tokens",
            "total_thought_tokens",
            "total_tool_use_tokens",
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
    } else if p == Provider::Gemini && usage.get("total_tokens").is_some() {
        " (only `total_tokens`, which does not say how many were input and output)"
    } else if p != Provider::Bedrock && count_keys(Provider::Bedrock).iter().any(has) {
        " (its camelCase counts are Bedrock Converse's: use --from bedrock)"
    } else {
        ""
    };
    Err(Error::data(format!("no token counts in the usage object{total}: expected {}", expected(p))))
}

fn usage_from_doc(provider: Provider, doc: &Value) -> Result<Usage> {
    if let Value::Array(items) = doc {
        check_one_response(provider, items)?;
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
        if let Some(tier) = items.iter().rev().find_map(|v| service_tier_value(provider, v)) {
            u.billing.service = openai_service(tier)?;
        }
        return Ok(u);
    }
    let usage = usage_object(provider, doc).ok_or_else(|| {
        Error::data(format!("no {} usage object found (expected {})", provider.as_str(), expected(provider)))
    })?;
    check_counts(provider, usage)?;
    let mut u = match provider {
        Provider::Anthropic => anthropic(usage)?,
        Provider::OpenAi | Provider::Azure | Provider::Xai | Provider::OpenRouter => openai(provider, usage)?,
        Provider::Gemini => gemini(usage)?,
        Provider::Bedrock => bedrock(usage)?,
    };
    u.model = model_of(provider, doc);
    if let Some(tier) = service_tier_value(provider, doc) {
        u.billing.service = openai_service(tier)?;
    }
    Ok(u)
}

/// The `service_tier` an OpenAI or Azure response (or Responses stream event) names, when it names one.
fn service_tier_value(p: Provider, doc: &Value) -> Option<&Value> {
    if !matches!(p, Provider::OpenAi | Provider::Azure) {
        return None;
    }
    let obj = doc.as_object()?;
    obj.get("service_tier").or_else(|| obj.get("response").and_then(|r| r.get("service_tier"))).filter(|v| !v.is_null())
}

/// OpenAI's `service_tier`: `flex`, `priority` and `batch` are priced at their own rates; `default`, `auto`,
/// `standard` and `scale` (Scale Tier units are paid for apart from tokens) at the standard ones.
fn openai_service(v: &Value) -> Result<Service> {
    match v.as_str() {
        Some("default" | "auto" | "scale") => Ok(Service::Standard),
        Some(s) if let Some(t) = Service::parse(s) => Ok(t),
        _ => Err(Error::data(format!(
            "`service_tier` {v} is not one tt prices (default, auto, flex, priority, batch, scale)"
        ))),
    }
}

fn expected(p: Provider) -> &'static str {
    match p {
        Provider::Anthropic => "`usage.input_tokens` / `usage.output_tokens`",
        Provider::OpenAi | Provider::Azure | Provider::Xai | Provider::OpenRouter => {
            "`usage.prompt_tokens` or `usage.input_tokens`"
        }
        Provider::Gemini => "`usageMetadata.promptTokenCount` or `usage.total_input_tokens`",
        Provider::Bedrock => "`usage.inputTokens` / `usage.outputTokens`",
    }
}

/// The `--from` name of a provider, for messages.
fn from_name(p: Provider) -> &'static str {
    match p {
        Provider::Gemini => "gemini",
        other => other.as_str(),
    }
}

/// Refuse an array of events that holds more than one response (see [`usage_from`]).
fn check_one_response(p: Provider, items: &[Value]) -> Result<()> {
    let typed = |v: &Value, t: &str| v.get("type").and_then(Value::as_str) == Some(t);
    let with_usage = || items.iter().filter(|v| usage_object(p, v).is_some());
    let (count, what) = match p {
        Provider::Anthropic => {
            let starts = items.iter().filter(|v| typed(v, "message_start")).count();
            let whole = with_usage().filter(|v| !typed(v, "message_start") && !typed(v, "message_delta")).count();
            let what = match (starts, whole) {
                (s, 0) => format!("{s} `message_start` events"),
                (0, w) => format!("{w} responses with usage"),
                (s, w) => format!("{s} `message_start` events and {w} other responses with usage"),
            };
            (starts + whole, what)
        }
        Provider::Bedrock => {
            let starts = items.iter().filter(|v| v.get("messageStart").is_some()).count();
            let usages = with_usage().count();
            if starts >= usages {
                (starts, format!("{starts} `messageStart` events"))
            } else {
                (usages, format!("{usages} usage objects"))
            }
        }
        _ => {
            let mut ids: Vec<&str> = Vec::new();
            for v in items {
                if let Some(id) = response_id(p, v)
                    && !ids.contains(&id)
                {
                    ids.push(id);
                }
            }
            let usages = if matches!(p, Provider::OpenAi | Provider::Azure) { with_usage().count() } else { 0 };
            if usages > ids.len() {
                (usages, format!("{usages} usage objects"))
            } else {
                (ids.len(), format!("{} response ids: {}", ids.len(), ids.join(", ")))
            }
        }
    };
    if count <= 1 {
        return Ok(());
    }
    Err(Error::data(format!(
        "the input holds {count} responses ({what}), and a record is one response: log each response separately \
         (one tt-log --from {} per response)",
        from_name(p)
    )))
}

/// The id of the response a stream event or response belongs to, when it says.
fn response_id(p: Provider, v: &Value) -> Option<&str> {
    fn id(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).filter(|s| !s.is_empty())
    }
    if p == Provider::Gemini {
        return id(v.get("responseId"));
    }
    // Responses API events carry their response; chat completions and their chunks (and a Responses object
    // itself) carry `id` next to `object`.
    if let Some(r) = v.get("response").filter(|r| r.is_object()) {
        return id(r.get("id"));
    }
    let object = v.get("object").and_then(Value::as_str)?;
    (object.starts_with("chat.completion") || object == "response").then(|| id(v.get("id"))).flatten()
}

fn usage_object(p: Provider, doc: &Value) -> Option<&Value> {
    let obj = doc.as_object()?;
    let (wrapper, marker): (&str, &[&str]) = match p {
        Provider::Anthropic => ("usage", &["input_tokens", "output_tokens"]),
        Provider::OpenAi => ("usage", &["prompt_tokens", "input_tokens", "completion_tokens", "output_tokens"]),
        Provider::Gemini => {
            // The Interactions API: `usage` (`interaction.usage` in a stream's last event) with `total_*` keys.
            let interactions =
                |u: &Value| u.get("total_input_tokens").is_some() || u.get("total_output_tokens").is_some();
            if let Some(u) = obj
                .get("usage")
                .or_else(|| obj.get("interaction").and_then(|i| i.get("usage")))
                .filter(|u| u.is_object() && interactions(u))
            {
                return Some(u);
            }
            ("usageMetadata", &["promptTokenCount", "candidatesTokenCount", "totalTokenCount", "total_input_tokens"])
        }
        Provider::Bedrock => ("usage", &["inputTokens", "outputTokens"]),
        Provider::Xai | Provider::OpenRouter | Provider::Azure => return usage_object(Provider::OpenAi, doc),
    };
    if let Some(u) = obj.get(wrapper).filter(|u| u.is_object()) {
        return Some(u);
    }
    // Anthropic streams put usage in `message` (message_start) and top-level (message_delta); OpenAI Responses
    // streams in `response` (`response.completed`); Bedrock's ConverseStream in `metadata`.
    let inner = match p {
        Provider::Anthropic => "message",
        Provider::OpenAi | Provider::Azure | Provider::Xai | Provider::OpenRouter => "response",
        Provider::Gemini => "",
        Provider::Bedrock => "metadata",
    };
    if let Some(u) = obj.get(inner).and_then(|m| m.get(wrapper)).filter(|u| u.is_object()) {
        return Some(u);
    }
    marker.iter().any(|k| obj.contains_key(*k)).then_some(doc)
}

fn model_of(p: Provider, doc: &Value) -> Option<String> {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string).filter(|s| !s.is_empty());
    match p {
        Provider::Gemini => s(doc.get("modelVersion"))
            .or_else(|| s(doc.get("model")))
            .or_else(|| s(doc.get("interaction").and_then(|i| i.get("model")))),
        Provider::Anthropic => {
            s(doc.get("model")).or_else(|| s(doc.get("message").and_then(|m| m.get("model")))).or_else(|| {
                // `claude -p --output-format json` names models in `modelUsage`; use it when there is exactly one.
                let mu = doc.get("modelUsage")?.as_object()?;
                (mu.len() == 1).then(|| mu.keys().next().cloned()).flatten()
            })
        }
        Provider::OpenAi | Provider::Azure | Provider::Xai | Provider::OpenRouter => {
            s(doc.get("model")).or_else(|| s(doc.get("response").and_then(|r| r.get("model"))))
        }
        // Converse responses do not name the model: `--model` does.
        Provider::Bedrock => None,
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

/// Anthropic's usage object: tokens (summed over `iterations` when it lists them), service tier, speed and
/// server-tool calls.
pub fn anthropic(u: &Value) -> Result<Usage> {
    let (mut tokens, thinking) = anthropic_tokens(u)?;
    let mut iterations = Vec::new();
    if let Some(list) = u.get("iterations").filter(|v| !v.is_null()) {
        let list =
            list.as_array().ok_or_else(|| Error::data(format!("usage field `iterations` is not an array: {list}")))?;
        for (i, it) in list.iter().enumerate() {
            if !it.is_object() {
                return Err(Error::data(format!("usage field `iterations[{i}]` is not an object: {it}")));
            }
            let text = |k: &str| it.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
            let (t, _) = anthropic_tokens(it).map_err(|e| e.context(format!("iterations[{i}]")))?;
            iterations.push(Iteration { model: text("model"), kind: text("type"), tokens: t });
        }
        if !iterations.is_empty() {
            tokens = Tokens::default();
            for it in &iterations {
                tokens = add_tokens(&tokens, &it.tokens)?;
            }
        }
    }
    let name = |key: &str| u.get(key).filter(|v| !v.is_null()).map(|v| (v, v.as_str()));
    let service = match name("service_tier") {
        None => Service::Standard,
        Some((v, s)) => s.and_then(Service::parse).ok_or_else(|| {
            Error::data(format!("usage field `service_tier` {v} is not one tt prices (standard, batch, priority)"))
        })?,
    };
    let fast = match name("speed") {
        None => false,
        Some((v, s)) => s
            .and_then(crate::record::parse_speed)
            .ok_or_else(|| Error::data(format!("usage field `speed` {v} is neither \"fast\" nor \"standard\"")))?,
    };
    let billing = Billing {
        service,
        fast,
        web_search: n(u, &["server_tool_use", "web_search_requests"])?,
        web_fetch: n(u, &["server_tool_use", "web_fetch_requests"])?,
        code_execution: n(u, &["server_tool_use", "code_execution_requests"])?,
    };
    Ok(Usage { tokens, reasoning: thinking.filter(|t| *t > 0), billing, iterations, ..Default::default() })
}

/// Two requests' tokens added field by field (refused on overflow).
fn add_tokens(a: &Tokens, b: &Tokens) -> Result<Tokens> {
    Ok(Tokens {
        input: add("iterations input_tokens", a.input, b.input)?,
        output: add("iterations output_tokens", a.output, b.output)?,
        cache_read: add("iterations cache_read_input_tokens", a.cache_read, b.cache_read)?,
        cache_write: add("iterations cache writes", a.cache_write, b.cache_write)?,
        cache_write_1h: add("iterations 1h cache writes", a.cache_write_1h, b.cache_write_1h)?,
    })
}

/// The token fields of an Anthropic usage object (or of one of its iterations), and its thinking tokens.
fn anthropic_tokens(u: &Value) -> Result<(Tokens, Option<u64>)> {
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
    let tokens = Tokens {
        input: n(u, &["input_tokens"])?,
        output: n(u, &["output_tokens"])?,
        cache_read: n(u, &["cache_read_input_tokens"])?,
        cache_write: w5,
        cache_write_1h: w1h,
    };
    Ok((tokens, thinking))
}

/// OpenAI's usage (chat completions or Responses), and the OpenAI-shaped providers' differences: xAI's chat
/// reasoning tokens are outside `completion_tokens` (output is their sum); OpenRouter's
/// `prompt_tokens_details.cache_write_tokens` are inside `prompt_tokens` (counted once, as cache writes).
fn openai(p: Provider, u: &Value) -> Result<Usage> {
    let chat = u.get("prompt_tokens").is_some() || u.get("completion_tokens").is_some();
    let (prompt, cached, mut output, reasoning) = if chat {
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
    if p == Provider::Xai && chat {
        output = add("completion_tokens + reasoning_tokens", output, reasoning)?;
    }
    let write =
        if p == Provider::OpenRouter && chat { n(u, &["prompt_tokens_details", "cache_write_tokens"])? } else { 0 };
    let cache = add("cached_tokens + cache_write_tokens", cached, write)?;
    if cache > prompt {
        return Err(Error::data(if write == 0 {
            format!("cached tokens ({cached}) exceed prompt tokens ({prompt})")
        } else {
            format!(
                "cached ({cached}) and cache-write ({write}) tokens exceed prompt tokens ({prompt}), which include them"
            )
        }));
    }
    let (provider_cost, provider_cost_partial) = match (p, u.get("cost")) {
        (Provider::OpenRouter, Some(Value::Number(c))) => {
            (Some(c.clone()), u.get("is_byok").and_then(Value::as_bool) == Some(true))
        }
        _ => (None, false),
    };
    Ok(Usage {
        tokens: Tokens { input: prompt - cache, output, cache_read: cached, cache_write: write, ..Default::default() },
        reasoning: (reasoning > 0).then_some(reasoning),
        provider_cost,
        provider_cost_partial,
        ..Default::default()
    })
}

/// Bedrock Converse's usage: counts in Anthropic's convention (input is uncached), camelCase. `cacheDetails`
/// splits the writes by TTL (`5m`, `1h`); writes it does not cover are 5-minute ones.
fn bedrock(u: &Value) -> Result<Usage> {
    let write = n(u, &["cacheWriteInputTokens"])?;
    let (mut w5, mut w1h) = (0u64, 0u64);
    if let Some(details) = u.get("cacheDetails").filter(|d| !d.is_null()) {
        let details = details
            .as_array()
            .ok_or_else(|| Error::data(format!("usage field `cacheDetails` is not an array: {details}")))?;
        for d in details {
            let tokens = n(d, &["inputTokens"])?;
            match d.get("ttl").and_then(Value::as_str) {
                Some("5m") => w5 = add("cacheDetails 5m", w5, tokens)?,
                Some("1h") => w1h = add("cacheDetails 1h", w1h, tokens)?,
                _ => {
                    let ttl = d.get("ttl").map_or_else(|| "missing".to_string(), Value::to_string);
                    return Err(Error::data(format!("usage: cacheDetails ttl {ttl} is neither \"5m\" nor \"1h\"")));
                }
            }
        }
    }
    let split = add("cacheDetails", w5, w1h)?;
    w5 = add("cache writes", w5, write.saturating_sub(split))?;
    Ok(Usage {
        tokens: Tokens {
            input: n(u, &["inputTokens"])?,
            output: n(u, &["outputTokens"])?,
            cache_read: n(u, &["cacheReadInputTokens"])?,
            cache_write: w5,
            cache_write_1h: w1h,
        },
        ..Default::default()
    })
}

/// Gemini's usage: `generateContent`'s `usageMetadata`, or the Interactions API's `usage` (`total_*` keys).
fn gemini(u: &Value) -> Result<Usage> {
    let interactions = u.get("total_input_tokens").is_some() || u.get("total_output_tokens").is_some();
    let k = |classic: &'static str, inter: &'static str| if interactions { inter } else { classic };
    let prompt = add(
        "input + tool-use prompt tokens",
        n(u, &[k("promptTokenCount", "total_input_tokens")])?,
        n(u, &[k("toolUsePromptTokenCount", "total_tool_use_tokens")])?,
    )?;
    let cached = n(u, &[k("cachedContentTokenCount", "total_cached_tokens")])?;
    let thoughts = n(u, &[k("thoughtsTokenCount", "total_thought_tokens")])?;
    let output = n(u, &[k("candidatesTokenCount", "total_output_tokens")])?;
    if cached > prompt {
        return Err(Error::data(format!("cached tokens ({cached}) exceed prompt tokens ({prompt})")));
    }
    Ok(Usage {
        tokens: Tokens {
            input: prompt - cached,
            output: add("output + thought tokens", output, thoughts)?,
            cache_read: cached,
            ..Default::default()
        },
        reasoning: (thoughts > 0).then_some(thoughts),
        ..Default::default()
    })
}

/// Property tests (issue 11): the readers on arbitrary text and on mutated real-shaped responses. The mutators
/// here are shared with the config's and the importers' properties.
#[cfg(test)]
pub(crate) mod props {
    use super::*;
    use proptest::prelude::*;

    /// `PROPTEST_CASES` when set, else `n`.
    pub(crate) fn config(n: u32) -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(n);
        ProptestConfig { cases, ..ProptestConfig::default() }
    }

    /// One edit of a text: replace, insert or remove a byte, insert a snippet, cut the text, or repeat a slice.
    #[derive(Debug, Clone)]
    pub(crate) enum Edit {
        Set(usize, u8),
        Insert(usize, u8),
        Remove(usize),
        Snippet(usize, usize),
        Cut(usize),
        Repeat(usize, usize),
    }

    pub(crate) fn edit() -> impl Strategy<Value = Edit> {
        let byte =
            prop_oneof![any::<u8>(), proptest::sample::select(b"\"\\{}[],:=#' 0123456789-+.eEntfalsru\t\r\n".to_vec())];
        prop_oneof![
            (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
            (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
            any::<usize>().prop_map(Edit::Remove),
            (any::<usize>(), any::<usize>()).prop_map(|(i, k)| Edit::Snippet(i, k)),
            any::<usize>().prop_map(Edit::Cut),
            (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Repeat(i, j)),
        ]
    }

    /// `text` with `edits` applied; snippets are taken from `snippets`.
    pub(crate) fn apply(text: &[u8], edits: &[Edit], snippets: &[&str]) -> Vec<u8> {
        let mut b = text.to_vec();
        let at = |i: usize, n: usize| if n == 0 { 0 } else { i % n };
        for e in edits {
            match *e {
                Edit::Set(i, c) if !b.is_empty() => {
                    let i = at(i, b.len());
                    b[i] = c;
                }
                Edit::Insert(i, c) => b.insert(at(i, b.len() + 1), c),
                Edit::Remove(i) if !b.is_empty() => {
                    b.remove(at(i, b.len()));
                }
                Edit::Snippet(i, k) if !snippets.is_empty() => {
                    let i = at(i, b.len() + 1);
                    b.splice(i..i, snippets[k % snippets.len()].bytes());
                }
                Edit::Cut(i) => b.truncate(at(i, b.len() + 1)),
                Edit::Repeat(i, j) if !b.is_empty() => {
                    let (i, j) = (at(i, b.len()), at(j, b.len()));
                    let (from, to) = (i.min(j), i.max(j));
                    let piece = b[from..to].to_vec();
                    b.splice(to..to, piece);
                }
                _ => {}
            }
        }
        b
    }

    /// Bits of JSON that make documents interesting when dropped in anywhere.
    pub(crate) const JSON_SNIPPETS: &[&str] = &[
        "\"",
        "\\",
        ",",
        ":",
        "{",
        "}",
        "[",
        "]",
        "null",
        "0",
        "-1",
        "1.5",
        "1e3",
        "18446744073709551615",
        "18446744073709551616",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\u{e9}",
        "\u{feff}",
        "\n",
        "data: ",
        "event: x\n",
        "data: [DONE]\n",
        ",\"usage\":{}",
        ",\"input_tokens\":1",
        ",\"output_tokens\":18446744073709551615",
        ",\"iterations\":[{\"input_tokens\":1}]",
        ",\"type\":\"message_start\"",
        ",\"model\":\"m\\\"\"",
        "{\"a\":1}",
    ];

    /// One structural edit of a JSON document: the `n`th node (pre-order, wrapping) changed.
    #[derive(Debug, Clone)]
    pub(crate) enum Tree {
        /// Replace the node with one of [`VALUES`] (parsed).
        Set(usize, usize),
        /// Remove one member or element of the node (a container).
        Drop(usize, usize),
        /// Add a member (one of `keys`, one of [`VALUES`]) to the node (an object), or an element to an array.
        Add(usize, usize, usize),
        /// Repeat one element of an array, or copy one member under another key.
        Dup(usize, usize, usize),
        /// Wrap the node in an array or in `{"<key>": node}`.
        Wrap(usize, usize),
        /// Replace a number with another close to it or far from it.
        Num(usize, u64),
    }

    /// Values worth trying in place of any node.
    pub(crate) const VALUES: &[&str] = &[
        "null",
        "true",
        "0",
        "1",
        "7",
        "-1",
        "1.5",
        "1e2",
        "9007199254740993",
        "1000000000000",
        "18446744073709551615",
        "\"\"",
        "\"fast\"",
        "\"standard\"",
        "\"priority\"",
        "\"batch\"",
        "\"flex\"",
        "\"default\"",
        "\"5m\"",
        "\"1h\"",
        "\"message_start\"",
        "\"message_delta\"",
        "\"assistant\"",
        "\"token_count\"",
        "\"a\\\"b\\\\c\\u0001\\u00e9\\n\"",
        "\"2026-01-01T00:00:00Z\"",
        "\"claude-sonnet-4-5\"",
        "\"gpt-5\"",
        "\"<synthetic>\"",
        "{}",
        "[]",
        "[{}]",
        "{\"input_tokens\":3,\"output_tokens\":4}",
        "[{\"input_tokens\":3,\"output_tokens\":4,\"type\":\"message\"},{\"input_tokens\":5,\"model\":\"claude-haiku-4-5\"}]",
        "{\"ephemeral_5m_input_tokens\":2,\"ephemeral_1h_input_tokens\":9}",
        "{\"cached_tokens\":5}",
        "[{\"ttl\":\"1h\",\"inputTokens\":3}]",
    ];

    pub(crate) fn tree(keys: usize) -> impl Strategy<Value = Tree> {
        let (n, v) = (any::<usize>(), 0..VALUES.len());
        prop_oneof![
            (n, v.clone()).prop_map(|(n, v)| Tree::Set(n, v)),
            (n, any::<usize>()).prop_map(|(n, i)| Tree::Drop(n, i)),
            (n, 0..keys.max(1), v).prop_map(|(n, k, v)| Tree::Add(n, k, v)),
            (n, any::<usize>(), 0..keys.max(1)).prop_map(|(n, i, k)| Tree::Dup(n, i, k)),
            (n, 0..keys.max(1)).prop_map(|(n, k)| Tree::Wrap(n, k)),
            (n, any::<u64>()).prop_map(|(n, x)| Tree::Num(n, x)),
        ]
    }

    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(count).sum(),
            Value::Object(o) => o.values().map(count).sum(),
            _ => 0,
        }
    }

    /// The `n`th node of `v` in pre-order.
    fn nth(v: &mut Value, n: usize) -> Option<&mut Value> {
        let mut left = n;
        let mut cur = v;
        loop {
            if left == 0 {
                return Some(cur);
            }
            left -= 1;
            let children: Vec<usize> = match &*cur {
                Value::Array(a) => a.iter().map(count).collect(),
                Value::Object(o) => o.values().map(count).collect(),
                _ => return None,
            };
            let mut idx = None;
            for (i, c) in children.iter().enumerate() {
                if left < *c {
                    idx = Some(i);
                    break;
                }
                left -= c;
            }
            let i = idx?;
            cur = match cur {
                Value::Array(a) => &mut a[i],
                Value::Object(o) => o.values_mut().nth(i)?,
                _ => return None,
            };
        }
    }

    /// `doc` with the structural `edits` applied (keys for added members from `keys`).
    pub(crate) fn mutate(doc: &Value, edits: &[Tree], keys: &[&str]) -> Value {
        let mut doc = doc.clone();
        let value = |k: usize| serde_json::from_str::<Value>(VALUES[k % VALUES.len()]).unwrap_or(Value::Null);
        let key = |k: usize| keys.get(k % keys.len().max(1)).copied().unwrap_or("x").to_string();
        for e in edits {
            let total = count(&doc);
            let pick = |n: usize| n % total;
            match *e {
                Tree::Set(n, v) => {
                    if let Some(node) = nth(&mut doc, pick(n)) {
                        *node = value(v);
                    }
                }
                Tree::Drop(n, i) => match nth(&mut doc, pick(n)) {
                    Some(Value::Array(a)) if !a.is_empty() => {
                        a.remove(i % a.len());
                    }
                    Some(Value::Object(o)) if !o.is_empty() => {
                        let k = o.keys().nth(i % o.len()).cloned().unwrap_or_default();
                        o.remove(&k);
                    }
                    _ => {}
                },
                Tree::Add(n, k, v) => match nth(&mut doc, pick(n)) {
                    Some(Value::Object(o)) => {
                        o.insert(key(k), value(v));
                    }
                    Some(Value::Array(a)) => a.push(value(v)),
                    _ => {}
                },
                Tree::Dup(n, i, k) => match nth(&mut doc, pick(n)) {
                    Some(Value::Array(a)) if !a.is_empty() => {
                        let c = a[i % a.len()].clone();
                        a.push(c);
                    }
                    Some(Value::Object(o)) if !o.is_empty() => {
                        let c = o.values().nth(i % o.len()).cloned().unwrap_or_default();
                        o.insert(key(k), c);
                    }
                    _ => {}
                },
                Tree::Wrap(n, k) => {
                    if let Some(node) = nth(&mut doc, pick(n)) {
                        let inner = node.take();
                        *node = if k % 2 == 0 {
                            Value::Array(vec![inner])
                        } else {
                            Value::Object([(key(k), inner)].into_iter().collect())
                        };
                    }
                }
                Tree::Num(n, x) => {
                    if let Some(node) = nth(&mut doc, pick(n))
                        && let Some(old) = node.as_u64()
                    {
                        *node = Value::from(match x % 4 {
                            0 => x,
                            1 => old.wrapping_add(x % 3),
                            2 => old.saturating_sub(x % 3),
                            _ => u64::MAX - x % 3,
                        });
                    }
                }
            }
        }
        doc
    }

    /// The recorded responses of tests/fixtures/providers.
    pub(crate) const FIXTURES: &[(&str, &str)] = &[
        ("anthropic-fast.json", include_str!("../../../tests/fixtures/providers/anthropic-fast.json")),
        ("anthropic-iterations.json", include_str!("../../../tests/fixtures/providers/anthropic-iterations.json")),
        ("anthropic-stream.json", include_str!("../../../tests/fixtures/providers/anthropic-stream.json")),
        ("anthropic-stream.sse", include_str!("../../../tests/fixtures/providers/anthropic-stream.sse")),
        ("anthropic-two-responses.sse", include_str!("../../../tests/fixtures/providers/anthropic-two-responses.sse")),
        ("anthropic.json", include_str!("../../../tests/fixtures/providers/anthropic.json")),
        ("azure-chat.json", include_str!("../../../tests/fixtures/providers/azure-chat.json")),
        (
            "bedrock-converse-stream.json",
            include_str!("../../../tests/fixtures/providers/bedrock-converse-stream.json"),
        ),
        ("bedrock-converse.json", include_str!("../../../tests/fixtures/providers/bedrock-converse.json")),
        ("claude-print.json", include_str!("../../../tests/fixtures/providers/claude-print.json")),
        ("gemini-interactions.json", include_str!("../../../tests/fixtures/providers/gemini-interactions.json")),
        ("gemini.json", include_str!("../../../tests/fixtures/providers/gemini.json")),
        ("litellm.json", include_str!("../../../tests/fixtures/providers/litellm.json")),
        ("openai-chat-flex.json", include_str!("../../../tests/fixtures/providers/openai-chat-flex.json")),
        ("openai-chat-two-streams.sse", include_str!("../../../tests/fixtures/providers/openai-chat-two-streams.sse")),
        ("openai-chat.json", include_str!("../../../tests/fixtures/providers/openai-chat.json")),
        (
            "openai-responses-priority.json",
            include_str!("../../../tests/fixtures/providers/openai-responses-priority.json"),
        ),
        (
            "openai-responses-stream.json",
            include_str!("../../../tests/fixtures/providers/openai-responses-stream.json"),
        ),
        ("openai-responses-stream.sse", include_str!("../../../tests/fixtures/providers/openai-responses-stream.sse")),
        ("openai-responses.json", include_str!("../../../tests/fixtures/providers/openai-responses.json")),
        (
            "openrouter-chat-cost-differs.json",
            include_str!("../../../tests/fixtures/providers/openrouter-chat-cost-differs.json"),
        ),
        ("openrouter-chat.json", include_str!("../../../tests/fixtures/providers/openrouter-chat.json")),
        ("xai-chat.json", include_str!("../../../tests/fixtures/providers/xai-chat.json")),
    ];

    const PROVIDERS: [Provider; 7] = [
        Provider::Anthropic,
        Provider::OpenAi,
        Provider::Gemini,
        Provider::Bedrock,
        Provider::Xai,
        Provider::OpenRouter,
        Provider::Azure,
    ];

    /// Keys the readers look at, for added and wrapping members.
    const KEYS: &[&str] = &[
        "usage",
        "usageMetadata",
        "message",
        "response",
        "metadata",
        "interaction",
        "type",
        "id",
        "object",
        "model",
        "modelVersion",
        "responseId",
        "messageStart",
        "service_tier",
        "speed",
        "iterations",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cache_creation",
        "ephemeral_1h_input_tokens",
        "server_tool_use",
        "web_search_requests",
        "output_tokens_details",
        "thinking_tokens",
        "prompt_tokens",
        "completion_tokens",
        "prompt_tokens_details",
        "cached_tokens",
        "cache_write_tokens",
        "completion_tokens_details",
        "reasoning_tokens",
        "cost",
        "is_byok",
        "promptTokenCount",
        "candidatesTokenCount",
        "cachedContentTokenCount",
        "thoughtsTokenCount",
        "toolUsePromptTokenCount",
        "totalTokenCount",
        "total_input_tokens",
        "total_output_tokens",
        "total_cached_tokens",
        "inputTokens",
        "outputTokens",
        "cacheReadInputTokens",
        "cacheWriteInputTokens",
        "cacheDetails",
        "ttl",
        "modelUsage",
    ];

    /// The built-in prices, loaded once.
    fn prices() -> &'static crate::price::PriceTable {
        static P: std::sync::LazyLock<crate::price::PriceTable> =
            std::sync::LazyLock::new(|| crate::config::Config::builtin().expect("built-in config").prices);
        &P
    }

    /// Every provider's reader on `doc`: no panic; an `Ok` usage keeps its invariants and can be priced.
    fn check(doc: &Value) {
        for p in PROVIDERS {
            let Ok(u) = usage_from(p, doc) else { continue };
            if let Some(r) = u.reasoning {
                assert!(r <= u.tokens.output, "{p:?}: reasoning {r} above output in {doc}");
            }
            if u.iterations.is_empty() {
                // Bounded by tt-log's `max_tokens` per field (at most 10^12), a record's total always fits.
                let t = &u.tokens;
                if [t.input, t.output, t.cache_read, t.cache_write, t.cache_write_1h]
                    .iter()
                    .all(|&n| n <= crate::config::MAX_MAX_TOKENS)
                {
                    assert!(t.total_exact() <= u128::from(u64::MAX));
                }
            } else {
                assert_eq!(p, Provider::Anthropic, "iterations from {p:?}: {doc}");
                let mut sum = Tokens::default();
                for it in &u.iterations {
                    sum = add_tokens(&sum, &it.tokens).expect("the reader summed them already");
                }
                assert_eq!(sum, u.tokens, "{p:?}: iterations do not sum to the tokens in {doc}");
            }
            let model = u.model.as_deref().unwrap_or("claude-sonnet-4-5");
            let entry = prices().resolve(model).or_else(|| prices().resolve("claude-sonnet-4-5")).expect("a model");
            let ts = "2026-06-01T00:00:00Z".parse().expect("a time");
            let _ = price_request(prices(), entry, ts, &u.tokens, &u.iterations, &u.billing);
        }
    }

    /// `parse_response` on `text`, then every reader on what it gave.
    fn read(text: &str) {
        match parse_response("fuzz", text) {
            Ok(doc) => check(&doc),
            Err(e) => assert!(e.message().starts_with("fuzz"), "error without its source: {}", e.message()),
        }
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn arbitrary_text(text in "\\PC{0,200}") {
            read(&text);
        }

        #[test]
        fn mutated_fixture_text(k in 0..FIXTURES.len(), edits in proptest::collection::vec(edit(), 1..6)) {
            let text = apply(FIXTURES[k].1.as_bytes(), &edits, JSON_SNIPPETS);
            read(&String::from_utf8_lossy(&text));
        }

        #[test]
        fn mutated_fixture_documents(
            k in 0..FIXTURES.len(),
            edits in proptest::collection::vec(tree(KEYS.len()), 1..8),
        ) {
            let Ok(doc) = parse_response(FIXTURES[k].0, FIXTURES[k].1) else { return Ok(()) };
            let doc = mutate(&doc, &edits, KEYS);
            check(&doc);
            // And as a client would send it: pretty, or one event per line.
            let text = match &doc {
                Value::Array(items) => items.iter().map(Value::to_string).collect::<Vec<_>>().join("\n"),
                other => serde_json::to_string_pretty(other).expect("a value prints"),
            };
            read(&text);
        }

        #[test]
        fn anthropic_iterations_sum_to_the_tokens(
            top in proptest::collection::vec(0..4u64, 0..5),
            its in proptest::collection::vec(proptest::collection::vec((0..5usize, 0..6usize), 0..5), 0..4),
        ) {
            const KEYS: [&str; 5] = [
                "input_tokens",
                "output_tokens",
                "cache_read_input_tokens",
                "cache_creation_input_tokens",
                "ephemeral_1h_input_tokens",
            ];
            const NUMS: [u64; 6] = [0, 1, 1000, 1 << 40, u64::MAX / 2, u64::MAX];
            let usage = |fields: &[(usize, usize)]| {
                let mut o = serde_json::Map::new();
                for &(k, n) in fields {
                    if KEYS[k] == "ephemeral_1h_input_tokens" {
                        o.insert("cache_creation".into(), serde_json::json!({ KEYS[k]: NUMS[n] }));
                    } else {
                        o.insert(KEYS[k].into(), NUMS[n].into());
                    }
                }
                Value::Object(o)
            };
            let mut u = usage(&top.iter().enumerate().map(|(i, &n)| (i, n as usize)).collect::<Vec<_>>());
            u["iterations"] = Value::Array(its.iter().map(|f| usage(f)).collect());
            let doc = serde_json::json!({ "model": "claude-sonnet-4-5", "usage": u });
            match usage_from(Provider::Anthropic, &doc) {
                Ok(got) => {
                    prop_assert_eq!(got.iterations.len(), its.len());
                    check(&doc);
                }
                Err(e) => prop_assert!(
                    e.message().contains("overflows") || e.message().contains("no token counts"),
                    "{}: {}", e.message(), doc
                ),
            }
        }
    }
}

//! The usage record: one line of the JSONL usage log (schema version 1).
//!
//! A [`Record`] is the owned, validated form used by tools that write or pass records through (`tt-log`,
//! `tt-price`, `tt-export`). Fields tt does not know are kept in [`Record::extra`] and written back unchanged, in
//! their original order, so a record passing through a tool loses nothing. Tools that only *read* many records
//! (`tt-sum`, `tt-budget`) use the zero-copy [`crate::scan::View`] instead; both apply the same rules.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::money;

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

/// The longest agent/model/session/task/project name accepted.
pub const MAX_NAME_LEN: usize = 200;

/// Token counts of one request. `input` is *uncached* input; cache reads and writes are separate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Uncached input tokens.
    pub input: u64,
    /// Output tokens (reasoning included).
    pub output: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the 5-minute prompt cache.
    pub cache_write: u64,
    /// Input tokens written to the 1-hour prompt cache.
    pub cache_write_1h: u64,
}

impl Tokens {
    /// The cache counts with their field names, in schema order (written only when not zero).
    pub fn cache_fields(&self) -> [(&'static str, u64); 3] {
        [
            (field::CACHE_READ_TOKENS, self.cache_read),
            (field::CACHE_WRITE_TOKENS, self.cache_write),
            (field::CACHE_WRITE_1H_TOKENS, self.cache_write_1h),
        ]
    }

    /// The whole prompt: input + cache read + cache writes (what long-context tiers are decided on).
    ///
    /// Saturates at `u64::MAX` instead of wrapping: records read from files may hold any `u64` per field
    /// (tt-log itself never writes a field above `max_tokens`), and a sum that wrapped would be a small,
    /// plausible and wrong number.
    pub fn prompt(&self) -> u64 {
        self.input.saturating_add(self.cache_read).saturating_add(self.cache_write).saturating_add(self.cache_write_1h)
    }
    /// Every token of the request (saturating, like [`Tokens::prompt`]).
    pub fn total(&self) -> u64 {
        self.prompt().saturating_add(self.output)
    }
    /// Every token of the request, exactly (a `u128` cannot overflow for five `u64` fields).
    pub fn total_exact(&self) -> u128 {
        [self.input, self.output, self.cache_read, self.cache_write, self.cache_write_1h]
            .iter()
            .map(|&n| u128::from(n))
            .sum()
    }
}

/// The service tier a request was processed at: providers bill batch, flex and priority processing at their own
/// rates (`service_tier` in a record; absent means standard).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// The provider's standard (default) processing.
    #[default]
    Standard,
    /// Batch APIs (asynchronous, usually half price).
    Batch,
    /// OpenAI's flex processing.
    Flex,
    /// Priority processing.
    Priority,
}

impl Service {
    /// Every tier but standard, in the order prices are written.
    pub const PRICED: [Service; 3] = [Service::Batch, Service::Flex, Service::Priority];

    /// A record's `service_tier`: `standard`, `batch`, `flex` or `priority`.
    pub fn parse(s: &str) -> Option<Service> {
        Some(match s {
            "standard" => Service::Standard,
            "batch" => Service::Batch,
            "flex" => Service::Flex,
            "priority" => Service::Priority,
            _ => return None,
        })
    }

    /// The name a record and a price table use.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Standard => "standard",
            Service::Batch => "batch",
            Service::Flex => "flex",
            Service::Priority => "priority",
        }
    }
}

/// A record's or response's `speed`: `Some(true)` for `fast`, `Some(false)` for `standard`, `None` for anything
/// else (the one place the names are read).
pub fn parse_speed(s: &str) -> Option<bool> {
    match s {
        "fast" => Some(true),
        "standard" => Some(false),
        _ => None,
    }
}

/// How a request was billed beyond its token counts: the service tier, fast mode, and server-side tool calls
/// priced per call. The default is a plain request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Billing {
    /// `service_tier`.
    pub service: Service,
    /// `speed: "fast"` (Anthropic's fast mode, billed at a multiple of the token prices).
    pub fast: bool,
    /// `web_search_requests`: server-side web searches.
    pub web_search: u64,
    /// `web_fetch_requests`: server-side web fetches.
    pub web_fetch: u64,
    /// `code_execution_requests`: server-side code-execution sessions.
    pub code_execution: u64,
}

impl Billing {
    /// True for a plain request (standard tier, normal speed, no tool calls).
    pub fn is_plain(&self) -> bool {
        *self == Billing::default()
    }

    /// The tool calls, with their record field names.
    pub fn tool_calls(&self) -> [(&'static str, u64); 3] {
        [
            ("web_search_requests", self.web_search),
            ("web_fetch_requests", self.web_fetch),
            ("code_execution_requests", self.code_execution),
        ]
    }
}

/// One usage record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Unique, time-sortable id (UUIDv7 text for records logged by hand).
    pub id: String,
    /// When the usage happened, UTC.
    pub ts: DateTime<Utc>,
    /// The `ts` text exactly as read, so pass-through never rewrites it.
    pub ts_text: String,
    /// Who spent it.
    pub agent: String,
    /// Which model, as the source named it (aliases are resolved when pricing, not here).
    pub model: String,
    /// Token counts.
    pub tokens: Tokens,
    /// Informational: reasoning tokens, already inside output.
    pub reasoning_tokens: Option<u64>,
    /// Service tier, fast mode and tool calls (what prices a request beyond its tokens).
    pub billing: Billing,
    /// Optional string fields, in schema order: provider, session, task, project, branch, commit, host, user,
    /// notes, source.
    pub provider: Option<String>,
    /// Session id.
    pub session: Option<String>,
    /// Task name.
    pub task: Option<String>,
    /// Project name.
    pub project: Option<String>,
    /// Git branch.
    pub branch: Option<String>,
    /// Git commit.
    pub commit: Option<String>,
    /// Host name.
    pub host: Option<String>,
    /// User name.
    pub user: Option<String>,
    /// Wall time of the request.
    pub duration_ms: Option<u64>,
    /// Free text.
    pub notes: Option<String>,
    /// Free-form labels.
    pub tags: BTreeMap<String, String>,
    /// Where the numbers came from (`cli`, `anthropic`, `claude-code`, …).
    pub source: Option<String>,
    /// True when the token counts are estimates.
    pub estimated: Option<bool>,
    /// Exact cost in USD, written by tt-price / tt-log.
    pub cost_usd: Option<Decimal>,
    /// Which price entry priced it.
    pub price: Option<String>,
    /// Fields tt does not know, kept in order.
    pub extra: Map<String, Value>,
}

/// The schema's field names, each spelled once: every reader, writer and table of columns names a field through
/// these (the scanner's key table, the CSV columns, the record writers), and [`KNOWN_FIELDS`] lists them in the
/// order they are written.
pub mod field {
    pub const V: &str = "v";
    pub const ID: &str = "id";
    pub const TS: &str = "ts";
    pub const AGENT: &str = "agent";
    pub const MODEL: &str = "model";
    pub const PROVIDER: &str = "provider";
    pub const INPUT_TOKENS: &str = "input_tokens";
    pub const OUTPUT_TOKENS: &str = "output_tokens";
    pub const CACHE_READ_TOKENS: &str = "cache_read_tokens";
    pub const CACHE_WRITE_TOKENS: &str = "cache_write_tokens";
    pub const CACHE_WRITE_1H_TOKENS: &str = "cache_write_1h_tokens";
    pub const REASONING_TOKENS: &str = "reasoning_tokens";
    pub const SERVICE_TIER: &str = "service_tier";
    pub const SPEED: &str = "speed";
    pub const WEB_SEARCH_REQUESTS: &str = "web_search_requests";
    pub const WEB_FETCH_REQUESTS: &str = "web_fetch_requests";
    pub const CODE_EXECUTION_REQUESTS: &str = "code_execution_requests";
    pub const SESSION: &str = "session";
    pub const TASK: &str = "task";
    pub const PROJECT: &str = "project";
    pub const BRANCH: &str = "branch";
    pub const COMMIT: &str = "commit";
    pub const HOST: &str = "host";
    pub const USER: &str = "user";
    pub const DURATION_MS: &str = "duration_ms";
    pub const NOTES: &str = "notes";
    pub const TAGS: &str = "tags";
    pub const SOURCE: &str = "source";
    pub const ESTIMATED: &str = "estimated";
    pub const COST_USD: &str = "cost_usd";
    pub const PRICE: &str = "price";
}

/// Names of the fields this schema defines, in the order they are written.
pub const KNOWN_FIELDS: &[&str] = &[
    field::V,
    field::ID,
    field::TS,
    field::AGENT,
    field::MODEL,
    field::PROVIDER,
    field::INPUT_TOKENS,
    field::OUTPUT_TOKENS,
    field::CACHE_READ_TOKENS,
    field::CACHE_WRITE_TOKENS,
    field::CACHE_WRITE_1H_TOKENS,
    field::REASONING_TOKENS,
    field::SERVICE_TIER,
    field::SPEED,
    field::WEB_SEARCH_REQUESTS,
    field::WEB_FETCH_REQUESTS,
    field::CODE_EXECUTION_REQUESTS,
    field::SESSION,
    field::TASK,
    field::PROJECT,
    field::BRANCH,
    field::COMMIT,
    field::HOST,
    field::USER,
    field::DURATION_MS,
    field::NOTES,
    field::TAGS,
    field::SOURCE,
    field::ESTIMATED,
    field::COST_USD,
    field::PRICE,
];

impl Record {
    /// A new record with the required fields; everything optional empty.
    pub fn new(id: String, ts: DateTime<Utc>, agent: String, model: String, tokens: Tokens) -> Self {
        Record {
            id,
            ts_text: format_ts(ts),
            ts,
            agent,
            model,
            tokens,
            reasoning_tokens: None,
            billing: Billing::default(),
            provider: None,
            session: None,
            task: None,
            project: None,
            branch: None,
            commit: None,
            host: None,
            user: None,
            duration_ms: None,
            notes: None,
            tags: BTreeMap::new(),
            source: None,
            estimated: None,
            cost_usd: None,
            price: None,
            extra: Map::new(),
        }
    }

    /// Parse and validate one log line. Errors say which field is wrong; the caller adds file:line.
    pub fn parse(line: &str) -> Result<Record> {
        Record::from_map(parse_object(line)?)
    }

    /// Build a record from a parsed JSON object, validating every known field.
    pub fn from_map(mut map: Map<String, Value>) -> Result<Record> {
        let v = match map.shift_remove(field::V) {
            None => return Err(Error::data("missing field `v` (schema version)")),
            Some(v) => v.as_u64().ok_or_else(|| Error::data("field `v`: expected an integer"))?,
        };
        if v != SCHEMA_VERSION {
            return Err(Error::data(format!(
                "unsupported schema version {v} (this tt reads version {SCHEMA_VERSION})"
            )));
        }
        let id = req_string(&mut map, field::ID)?;
        let ts_text = req_string(&mut map, field::TS)?;
        let ts = parse_ts(&ts_text).map_err(|e| Error::data(format!("field `ts`: {e}")))?;
        let agent = req_string(&mut map, field::AGENT)?;
        let model = req_string(&mut map, field::MODEL)?;
        check_name("agent", &agent)?;
        check_name("model", &model)?;
        let tokens = Tokens {
            input: req_u64(&mut map, field::INPUT_TOKENS)?,
            output: req_u64(&mut map, field::OUTPUT_TOKENS)?,
            cache_read: opt_u64(&mut map, field::CACHE_READ_TOKENS)?.unwrap_or(0),
            cache_write: opt_u64(&mut map, field::CACHE_WRITE_TOKENS)?.unwrap_or(0),
            cache_write_1h: opt_u64(&mut map, field::CACHE_WRITE_1H_TOKENS)?.unwrap_or(0),
        };
        let mut r = Record::new(id, ts, agent, model, tokens);
        r.ts_text = ts_text;
        r.reasoning_tokens = opt_u64(&mut map, field::REASONING_TOKENS)?;
        if let Some(t) = opt_string(&mut map, field::SERVICE_TIER)? {
            r.billing.service = Service::parse(&t).ok_or_else(|| {
                Error::data(format!("field `service_tier`: expected standard, batch, flex or priority, got {t:?}"))
            })?;
        }
        if let Some(t) = opt_string(&mut map, field::SPEED)? {
            r.billing.fast = parse_speed(&t)
                .ok_or_else(|| Error::data(format!("field `speed`: expected fast or standard, got {t:?}")))?;
        }
        r.billing.web_search = opt_u64(&mut map, field::WEB_SEARCH_REQUESTS)?.unwrap_or(0);
        r.billing.web_fetch = opt_u64(&mut map, field::WEB_FETCH_REQUESTS)?.unwrap_or(0);
        r.billing.code_execution = opt_u64(&mut map, field::CODE_EXECUTION_REQUESTS)?.unwrap_or(0);
        r.provider = opt_string(&mut map, field::PROVIDER)?;
        r.session = opt_string(&mut map, field::SESSION)?;
        r.task = opt_string(&mut map, field::TASK)?;
        r.project = opt_string(&mut map, field::PROJECT)?;
        r.branch = opt_string(&mut map, field::BRANCH)?;
        r.commit = opt_string(&mut map, field::COMMIT)?;
        r.host = opt_string(&mut map, field::HOST)?;
        r.user = opt_string(&mut map, field::USER)?;
        r.duration_ms = opt_u64(&mut map, field::DURATION_MS)?;
        r.notes = opt_string(&mut map, field::NOTES)?;
        r.source = opt_string(&mut map, field::SOURCE)?;
        r.price = opt_string(&mut map, field::PRICE)?;
        r.estimated = match map.shift_remove(field::ESTIMATED) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(b),
            Some(_) => return Err(Error::data("field `estimated`: expected true or false")),
        };
        r.cost_usd = match map.shift_remove(field::COST_USD) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(cost_from_text(&n.to_string())?),
            Some(Value::String(s)) => Some(cost_from_text(&s)?),
            Some(_) => return Err(Error::data("field `cost_usd`: expected a number")),
        };
        match map.shift_remove(field::TAGS) {
            None | Some(Value::Null) => {}
            Some(Value::Object(t)) => {
                for (k, v) in t {
                    match v {
                        Value::String(s) => {
                            r.tags.insert(k, s);
                        }
                        _ => return Err(Error::data(format!("field `tags.{k}`: expected a string"))),
                    }
                }
            }
            Some(_) => return Err(Error::data("field `tags`: expected an object of strings")),
        }
        r.extra = map;
        Ok(r)
    }

    /// The record as one JSON line (no trailing newline), fields in schema order, unknown fields last.
    // Long on purpose: one write per schema field, in the schema's order, so the order the log's lines have is
    // the order of this function's lines and can be checked by reading it once; split, it would be spread out.
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(256);
        s.push_str("{\"v\":1");
        push_str_field(&mut s, field::ID, &self.id);
        push_str_field(&mut s, field::TS, &self.ts_text);
        push_str_field(&mut s, field::AGENT, &self.agent);
        push_str_field(&mut s, field::MODEL, &self.model);
        if let Some(p) = &self.provider {
            push_str_field(&mut s, field::PROVIDER, p);
        }
        let _ = write!(s, ",\"input_tokens\":{},\"output_tokens\":{}", self.tokens.input, self.tokens.output);
        for (k, n) in self.tokens.cache_fields() {
            if n != 0 {
                let _ = write!(s, ",\"{k}\":{n}");
            }
        }
        if let Some(n) = self.reasoning_tokens {
            let _ = write!(s, ",\"reasoning_tokens\":{n}");
        }
        // Only what changes the price is written: a standard tier and normal speed are the default.
        if self.billing.service != Service::Standard {
            push_str_field(&mut s, field::SERVICE_TIER, self.billing.service.as_str());
        }
        if self.billing.fast {
            push_str_field(&mut s, field::SPEED, "fast");
        }
        for (k, n) in self.billing.tool_calls() {
            if n != 0 {
                let _ = write!(s, ",\"{k}\":{n}");
            }
        }
        for (k, v) in [
            ("session", &self.session),
            ("task", &self.task),
            ("project", &self.project),
            ("branch", &self.branch),
            ("commit", &self.commit),
            ("host", &self.host),
            ("user", &self.user),
        ] {
            if let Some(v) = v {
                push_str_field(&mut s, k, v);
            }
        }
        if let Some(d) = self.duration_ms {
            let _ = write!(s, ",\"duration_ms\":{d}");
        }
        if let Some(n) = &self.notes {
            push_str_field(&mut s, field::NOTES, n);
        }
        if !self.tags.is_empty() {
            s.push_str(",\"tags\":{");
            for (i, (k, v)) in self.tags.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_json_string(&mut s, k);
                s.push(':');
                push_json_string(&mut s, v);
            }
            s.push('}');
        }
        if let Some(src) = &self.source {
            push_str_field(&mut s, field::SOURCE, src);
        }
        if let Some(e) = self.estimated {
            let _ = write!(s, ",\"estimated\":{e}");
        }
        if let Some(c) = self.cost_usd {
            let _ = write!(s, ",\"cost_usd\":{}", money::canonical(c));
        }
        if let Some(p) = &self.price {
            push_str_field(&mut s, field::PRICE, p);
        }
        for (k, v) in &self.extra {
            s.push(',');
            push_json_string(&mut s, k);
            s.push(':');
            s.push_str(&v.to_string());
        }
        s.push('}');
        s
    }

    /// The value of a groupable field by name (`agent`, `model`, `tag:KEY`, …) for filters and scopes.
    pub fn field(&self, name: &str) -> Option<&str> {
        Some(match name {
            "id" => &self.id,
            "agent" => &self.agent,
            "model" => &self.model,
            "provider" => self.provider.as_deref()?,
            "session" => self.session.as_deref()?,
            "task" => self.task.as_deref()?,
            "project" => self.project.as_deref()?,
            "branch" => self.branch.as_deref()?,
            "commit" => self.commit.as_deref()?,
            "host" => self.host.as_deref()?,
            "user" => self.user.as_deref()?,
            "source" => self.source.as_deref()?,
            _ => {
                let key = name.strip_prefix("tag:").or_else(|| name.strip_prefix("tags."))?;
                self.tags.get(key)?.as_str()
            }
        })
    }
}

/// True for field names a budget scope or a `--by`/filter may name: the string fields and `tag:KEY`.
pub fn is_scope_field(name: &str) -> bool {
    matches!(
        name,
        "agent"
            | "model"
            | "provider"
            | "session"
            | "task"
            | "project"
            | "branch"
            | "commit"
            | "host"
            | "user"
            | "source"
    ) || name.strip_prefix("tag:").or_else(|| name.strip_prefix("tags.")).is_some_and(|k| !k.is_empty())
}

/// Parse a cost: an exact non-negative decimal.
fn cost_from_text(s: &str) -> Result<Decimal> {
    match money::parse_decimal(s) {
        Some(d) if d >= Decimal::ZERO => Ok(d),
        Some(_) => Err(Error::data("field `cost_usd`: must not be negative")),
        None => Err(Error::data(format!("field `cost_usd`: not a decimal number: {s}"))),
    }
}

/// RFC 3339 UTC with milliseconds and `Z`, the form tt writes.
pub fn format_ts(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parse an RFC 3339 timestamp (any offset), giving UTC.
pub fn parse_ts(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 timestamp ({e}): {s:?}"))
}

/// Validate an agent/model/session/… name: non-empty, bounded, no control characters and no invisible
/// format characters (Unicode category Cf: bidi overrides such as U+202E, zero-width spaces, U+FEFF, …) or
/// line/paragraph separators, which would make two different names look the same or reorder a line on screen.
///
/// Printable ASCII that is not all spaces always passes: `scan`'s fast path relies on that and hands every
/// other name to this function, so the two readers never disagree.
pub fn check_name(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::data(format!("{field} must not be empty")));
    }
    if value.chars().count() > MAX_NAME_LEN {
        return Err(Error::data(format!("{field} is longer than {MAX_NAME_LEN} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::data(format!("{field} must not contain control characters: {value:?}")));
    }
    if let Some(c) = value.chars().find(|&c| is_format_char(c)) {
        return Err(Error::data(format!(
            "{field} must not contain invisible format characters (U+{:04X}): {value:?}",
            c as u32
        )));
    }
    Ok(())
}

/// True for Unicode general category Cf (format characters, Unicode 15.1) and the line and paragraph
/// separators U+2028/U+2029: characters that are invisible or change how a line is displayed.
pub fn is_format_char(c: char) -> bool {
    let u = c as u32;
    if u < 0xAD {
        return false;
    }
    matches!(
        u,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// One line as a JSON object, its keys in order, refusing a key given twice (`field `k`: repeated`) — serde_json
/// would keep the last one silently, and a reader that kept the first would see another record. Only the line's
/// own keys are checked: values (`tags`, unknown fields) are read as serde_json reads them, the last of a
/// repeated key counting. Errors: invalid JSON (with its column), not an object, a repeated key — in that order.
pub fn parse_object(line: &str) -> Result<Map<String, Value>> {
    use serde::de::{Deserializer as _, MapAccess, Visitor};
    struct Object {
        map: Map<String, Value>,
        repeated: Option<String>,
    }
    struct ObjectVisitor;
    impl<'de> Visitor<'de> for ObjectVisitor {
        type Value = Object;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> std::result::Result<Object, A::Error> {
            let mut map = Map::new();
            let mut repeated = None;
            while let Some(k) = access.next_key::<String>()? {
                let v: Value = access.next_value()?;
                match map.entry(k) {
                    serde_json::map::Entry::Vacant(e) => {
                        e.insert(v);
                    }
                    serde_json::map::Entry::Occupied(e) => {
                        if repeated.is_none() {
                            repeated = Some(e.key().clone());
                        }
                    }
                }
            }
            Ok(Object { map, repeated })
        }
    }
    let mut de = serde_json::Deserializer::from_str(line);
    let object = de.deserialize_map(ObjectVisitor).and_then(|o| de.end().map(|()| o)).map_err(|e| {
        // The only data error is the visitor's own: the line is JSON, but not an object.
        if e.classify() == serde_json::error::Category::Data {
            Error::data("expected a JSON object")
        } else {
            Error::data(json_error_message(&e))
        }
    })?;
    match object.repeated {
        Some(k) => Err(Error::data(format!("field `{k}`: repeated"))),
        None => Ok(object.map),
    }
}

fn req_string(map: &mut Map<String, Value>, key: &str) -> Result<String> {
    match map.shift_remove(key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(Error::data(format!("missing field `{key}`"))),
        Some(_) => Err(Error::data(format!("field `{key}`: expected a string"))),
    }
}

fn opt_string(map: &mut Map<String, Value>, key: &str) -> Result<Option<String>> {
    match map.shift_remove(key) {
        Some(Value::String(s)) => Ok(Some(s)),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(Error::data(format!("field `{key}`: expected a string"))),
    }
}

fn req_u64(map: &mut Map<String, Value>, key: &str) -> Result<u64> {
    opt_u64(map, key)?.ok_or_else(|| Error::data(format!("missing field `{key}`")))
}

fn opt_u64(map: &mut Map<String, Value>, key: &str) -> Result<Option<u64>> {
    match map.shift_remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| Error::data(format!("field `{key}`: expected a non-negative integer, got {n}"))),
        Some(v) => Err(Error::data(format!("field `{key}`: expected a non-negative integer, got {v}"))),
    }
}

fn push_str_field(s: &mut String, key: &str, value: &str) {
    s.push_str(",\"");
    s.push_str(key);
    s.push_str("\":");
    push_json_string(s, value);
}

/// Append `value` as a JSON string literal.
pub fn push_json_string(s: &mut String, value: &str) {
    s.push('"');
    for c in value.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

/// A JSON document (an API response, a price file) that failed to parse, as `name:line: invalid JSON: …
/// (column N)`; an empty document is "nothing in it" rather than serde_json's "EOF while parsing".
pub fn json_doc_error(name: &str, text: &str, e: &serde_json::Error) -> Error {
    if text.trim().is_empty() {
        return Error::data(format!("{name}: no JSON: the input is empty"));
    }
    Error::data(format!("{name}:{}: {}", e.line(), json_error_message(e)))
}

/// serde_json's messages end with "at line 1 column N"; for one-line records the column is what helps.
pub fn json_error_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    format!("invalid JSON: {msg} (column {})", e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_unknown_fields_and_exact_cost() {
        let line = r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":0.123456789012345678901,"zeta":{"a":[1,2.50]},"alpha":"b"}"#;
        let r = Record::parse(line).unwrap();
        assert_eq!(r.to_json(), line);
        assert_eq!(r.extra.len(), 2);
    }

    #[test]
    fn names_refuse_invisible_format_characters_but_keep_other_scripts() {
        for ok in ["ATLAS", " padded ", "Zürich", "東京", "agent-😀", "a b"] {
            assert!(check_name("agent", ok).is_ok(), "{ok:?}");
        }
        for bad in ["A\u{202e}B", "\u{200b}", "x\u{feff}", "a\u{2028}b", "\u{e0041}", "\u{ad}", "a\u{2066}"] {
            let e = check_name("agent", bad).unwrap_err();
            assert!(e.to_string().contains("invisible format characters"), "{bad:?}: {e}");
        }
        // Printable ASCII is never a format character (scan's fast path relies on it).
        assert!((0x20u8..0x7f).all(|b| !is_format_char(b as char)));
    }

    #[test]
    fn token_sums_saturate() {
        let t = Tokens { input: u64::MAX, output: 1, cache_read: 1, ..Default::default() };
        assert_eq!((t.prompt(), t.total()), (u64::MAX, u64::MAX));
        assert_eq!(t.total_exact(), u128::from(u64::MAX) + 2);
    }

    #[test]
    fn repeated_keys_are_refused_but_not_inside_values() {
        let base =
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2"#;
        for (more, key) in [
            (r#","input_tokens":3"#, "input_tokens"),
            (r#","z":1,"z":1"#, "z"),
            (r#","\u0076":1"#, "v"),
            (r#","tags":{},"tags":{}"#, "tags"),
        ] {
            let e = Record::parse(&format!("{base}{more}}}")).unwrap_err();
            assert_eq!(e.to_string(), format!("field `{key}`: repeated"));
        }
        // Invalid JSON is reported first; a repeated key in `tags` or in an unknown field's value is kept (the last
        // one counts, as before).
        assert!(Record::parse(&format!(r#"{base},"v":1,"x":}}"#)).unwrap_err().to_string().starts_with("invalid JSON"));
        let r = Record::parse(&format!(r#"{base},"tags":{{"a":"1","a":"2"}},"x":{{"b":1,"b":2}}}}"#)).unwrap();
        assert_eq!((r.tags["a"].as_str(), r.extra["x"]["b"].as_u64()), ("2", Some(2)));
        for not_object in ["123", "[1]", "\"s\"", "null", "1.5"] {
            assert_eq!(Record::parse(not_object).unwrap_err().to_string(), "expected a JSON object", "{not_object}");
        }
    }

    #[test]
    fn rejects_bad_fields() {
        for (line, want) in [
            (
                r#"{"v":1,"id":"x","ts":"2026-13-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2}"#,
                "field `ts`",
            ),
            (
                r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"","model":"m","input_tokens":1,"output_tokens":2}"#,
                "agent must not be empty",
            ),
            (
                r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":-1,"output_tokens":2}"#,
                "input_tokens",
            ),
            (r#"{"v":2,"id":"x"}"#, "schema version 2"),
            (r#"{"v":1,"id":"x","#, "invalid JSON"),
        ] {
            let e = Record::parse(line).unwrap_err();
            assert!(e.to_string().contains(want), "{e} !~ {want}");
        }
    }
}

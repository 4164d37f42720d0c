//! Fast, zero-copy reading of usage-log lines, for the tools that only read (`tt-sum`, `tt-budget`, `tt-optimize`,
//! `tt-log --enforce`).
//!
//! [`View::parse`] is a hand-written JSON scanner over one line: strings are borrowed from the line unless
//! they hold escapes, token counts are parsed straight to `u64`, `cost_usd` is parsed exactly from its text
//! (never through `f64`), and `tags` stay as raw text looked up on demand. It applies the same rules as
//! [`Record::parse`] — the same required fields, types, names and schema version — and when it rejects a line
//! the reference parser is asked for the message, so both paths say the same thing. The caller adds
//! `file:line`.
//!
//! [`fold`] streams a [`Source`](crate::input::Source) through `View::parse` with large reused buffers; a big
//! regular file is split on line boundaries between a few threads, each folding into its own state, and the states
//! come back in file order for the caller to merge (a big ledger is split into ranges of its table's pages, read
//! over a connection each, in the order stored). Memory is the buffers plus the states: it never grows with the
//! input.
//!
//! The parts, one file each, so each can be read (and its tests found) on its own:
//! * this file: the public face — [`Field`], [`View`] — and the one place that decides how a line is read: the
//!   quick path first, the general scanner for whatever it does not take, and `Record::parse`'s words for a line
//!   the general scanner refuses;
//! * `keys.rs`: the schema's keys and how both scanners recognise them (a few word compares, no `memcmp`);
//! * `general.rs`: the general validating scanner, for any valid JSON;
//! * `quick.rs`: the quick path, for lines in tt's own compact shape;
//! * `ts.rs`: [`parse_ts`], timestamps in the shapes tt writes, without chrono's general parser;
//! * `blocks.rs`: [`fold`] and [`fold_lines`], the block reader (256 KiB `read`s, UTF-8 validated a block at a
//!   time, big files split between threads);
//! * `props.rs` (tests only): property tests that both scanners agree with `Record::parse` on arbitrary input.
//!
//! Invariants:
//! * Every line [`View::parse`] accepts, `Record::parse` accepts too, with the same values; a line it refuses
//!   gets `Record::parse`'s message.
//! * The quick path only ever says "not mine": it returns a view or nothing, never an error, and never accepts a
//!   line the general scanner refuses (a unit test checks both on tt's lines and every one-byte change of them).
//! * An error names the first bad line in file order, however the work was split.

mod blocks;
mod general;
mod keys;
#[cfg(test)]
mod props;
mod quick;
mod ts;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::record::{Billing, Record, Tokens};
use general::{Cursor, parse_fast};
use quick::parse_quick;

pub use blocks::{fold, fold_lines};
pub use ts::parse_ts;

/// A record field that reports can group by and budgets can be scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `agent`
    Agent,
    /// `model`
    Model,
    /// `provider`
    Provider,
    /// `session`
    Session,
    /// `task`
    Task,
    /// `project`
    Project,
    /// `branch`
    Branch,
    /// `commit`
    Commit,
    /// `host`
    Host,
    /// `user`
    User,
    /// `source`
    Source,
    /// `tag:KEY` — one key of `tags`.
    Tag(String),
}

impl Field {
    /// Parse a field name: `agent`, …, `tag:KEY` (also `tags.KEY`).
    pub fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "agent" => Field::Agent,
            "model" => Field::Model,
            "provider" => Field::Provider,
            "session" => Field::Session,
            "task" => Field::Task,
            "project" => Field::Project,
            "branch" => Field::Branch,
            "commit" => Field::Commit,
            "host" => Field::Host,
            "user" => Field::User,
            "source" => Field::Source,
            _ => {
                let key = name.strip_prefix("tag:").or_else(|| name.strip_prefix("tags."))?;
                if key.is_empty() {
                    return None;
                }
                Field::Tag(key.to_string())
            }
        })
    }

    /// The canonical name (`tag:KEY` for tags).
    pub fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Field::Agent => "agent",
            Field::Model => "model",
            Field::Provider => "provider",
            Field::Session => "session",
            Field::Task => "task",
            Field::Project => "project",
            Field::Branch => "branch",
            Field::Commit => "commit",
            Field::Host => "host",
            Field::User => "user",
            Field::Source => "source",
            Field::Tag(k) => return Cow::Owned(format!("tag:{k}")),
        })
    }
}

/// One log line, validated, with its strings borrowed from the line where possible.
#[derive(Debug, Clone)]
pub struct View<'a> {
    /// The whole line (without its newline).
    pub line: &'a [u8],
    /// `id`
    pub id: Cow<'a, str>,
    /// `ts`, parsed.
    pub ts: DateTime<Utc>,
    /// `agent`
    pub agent: Cow<'a, str>,
    /// `model`
    pub model: Cow<'a, str>,
    /// `provider`
    pub provider: Option<Cow<'a, str>>,
    /// `session`
    pub session: Option<Cow<'a, str>>,
    /// `task`
    pub task: Option<Cow<'a, str>>,
    /// `project`
    pub project: Option<Cow<'a, str>>,
    /// `branch`
    pub branch: Option<Cow<'a, str>>,
    /// `commit`
    pub commit: Option<Cow<'a, str>>,
    /// `host`
    pub host: Option<Cow<'a, str>>,
    /// `user`
    pub user: Option<Cow<'a, str>>,
    /// `source`
    pub source: Option<Cow<'a, str>>,
    /// Token counts.
    pub tokens: Tokens,
    /// `cost_usd`, exact.
    pub cost_usd: Option<Decimal>,
    /// `estimated`
    pub estimated: Option<bool>,
    /// `service_tier`, `speed` and the tool-call counts.
    pub billing: Billing,
    /// The raw text of the `tags` object (validated: an object of strings).
    tags: Option<&'a str>,
}

impl<'a> View<'a> {
    /// Parse and validate one line (no newline). Errors match [`Record::parse`]'s; the caller adds file:line.
    pub fn parse(line: &'a [u8]) -> Result<View<'a>> {
        parse_line(line, None).map_err(|Bad| rejected(line))
    }

    /// The value of a groupable field, if the record has it.
    #[inline]
    pub fn get(&self, f: &Field) -> Option<Cow<'_, str>> {
        let s = match f {
            Field::Agent => &self.agent,
            Field::Model => &self.model,
            Field::Provider => self.provider.as_ref()?,
            Field::Session => self.session.as_ref()?,
            Field::Task => self.task.as_ref()?,
            Field::Project => self.project.as_ref()?,
            Field::Branch => self.branch.as_ref()?,
            Field::Commit => self.commit.as_ref()?,
            Field::Host => self.host.as_ref()?,
            Field::User => self.user.as_ref()?,
            Field::Source => self.source.as_ref()?,
            Field::Tag(k) => return self.tag(k),
        };
        Some(Cow::Borrowed(s.as_ref()))
    }

    /// One tag's value.
    pub fn tag(&self, key: &str) -> Option<Cow<'a, str>> {
        self.tags().into_iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// All tags, in line order (a repeated key appears twice; the last one counts, as in [`Record`]).
    pub fn tags(&self) -> Vec<(Cow<'a, str>, Cow<'a, str>)> {
        let Some(raw) = self.tags else { return Vec::new() };
        let mut c = Cursor::new(raw);
        let mut out = Vec::new();
        // Already validated by parse; a failure here cannot happen and just ends the list.
        let _ = c.object(|c, k| {
            let v = c.string()?;
            out.push((k, v));
            Ok(())
        });
        out
    }

    /// True when `scope` (field name → required value) matches this record. Values compare literally, except
    /// that a model scope also matches when `same_model(record's model, scope's model)` says both name one model
    /// (budgets pass the price table's resolution: aliases, dated ids, prefixes), so every spelling counts.
    pub fn matches(&self, scope: &[(Field, String)], same_model: &mut impl FnMut(&str, &str) -> bool) -> bool {
        scope.iter().all(|(f, want)| field_matches(f, self.get(f).as_deref(), want, same_model))
    }
}

/// The scope rule for one field: the record's `value` of field `f` matches `want` when it is that text, or for
/// the model, a spelling `same_model` resolves to the same price entry. A field the record lacks never matches.
pub fn field_matches(
    f: &Field,
    value: Option<&str>,
    want: &str,
    same_model: &mut impl FnMut(&str, &str) -> bool,
) -> bool {
    value.is_some_and(|v| v == want || (*f == Field::Model && same_model(v, want)))
}

/// The error for a line the fast path rejected: the reference parser is asked for the message, so both paths
/// report a bad line the same way.
#[cold]
fn rejected(line: &[u8]) -> Error {
    let text = match crate::input::utf8(line) {
        Ok(t) => t,
        Err(e) => return e,
    };
    match Record::parse(text) {
        Err(e) => e,
        Ok(_) => Error::data("record not accepted by the log reader (please report this line)"),
    }
}

/// A line the fast path rejects. It carries no message: [`View::parse`] asks the reference parser for one, so
/// the hot path never builds strings it would throw away.
#[derive(Debug, Clone, Copy)]
struct Bad;

type Fast<T> = std::result::Result<T, Bad>;

#[cold]
fn bad<M>(_why: M) -> Bad {
    Bad
}

/// The parse of a line: [`parse_quick`] when the line is in the shape tt writes, else the general
/// [`parse_fast`] (which also finds the error of a bad line).
#[inline]
fn parse_line<'a>(line: &'a [u8], text: Option<&'a str>) -> Fast<View<'a>> {
    match parse_quick(line, text) {
        Some(v) => Ok(v),
        None => parse_fast(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const LINE: &str = r#"{"v":1,"id":"01","ts":"2026-11-23T14:05:00.250Z","agent":"ATLAS","model":"sonnet-4.5","provider":"anthropic","input_tokens":50000,"output_tokens":15000,"cache_read_tokens":7,"session":"s\u00e9","tags":{"pr":"142","team":"a\"b"},"cost_usd":0.375,"x":[1,{"y":null},-2.5e3]}"#;

    /// Lines in the shape tt writes, with every field of the schema somewhere (also read by the quick path's
    /// tests and the property tests).
    pub(super) const QUICK_LINES: [&str; 4] = [
        r#"{"v":1,"id":"01a04157-ece8-7822-836d-bc791ef93d6e","ts":"2026-08-27T03:51:16.456Z","agent":"release","model":"claude-sonnet-4-5","input_tokens":1128,"output_tokens":927,"cache_read_tokens":12279,"cache_write_tokens":84,"session":"c4fea708156e0c85","project":"api","tags":{"pr":"989"},"cost_usd":0.0212877}"#,
        r#"{"v":1,"id":"x","ts":"2026-11-23T14:05:00Z","agent":"ATLAS","model":"sonnet-4.5","provider":"anthropic","input_tokens":50000,"output_tokens":15000,"cache_read_tokens":0,"cache_write_tokens":5,"cache_write_1h_tokens":6,"reasoning_tokens":7,"session":"s","task":"t","project":"p","branch":"main","commit":"abc","host":"h","user":"u","duration_ms":12,"notes":"Built TokenTracker","tags":{"a":"1","b":"","a":"3"},"source":"cli","estimated":true,"cost_usd":0.375,"price":"claude-sonnet-4-5"}"#,
        r#"{"v":1,"id":"é","ts":"2026-11-23T00:30:00+01:00","agent":"A é","model":"m","input_tokens":0,"output_tokens":9999999999999999999,"tags":{},"estimated":false,"cost_usd":12}"#,
        r#"{"output_tokens":2,"v":1,"model":"m","ts":"2026-01-02T03:04:05.123456789Z","id":"x","input_tokens":1,"agent":"A","cost_usd":"0.5"}"#,
    ];

    #[test]
    fn parses_like_record() {
        let v = View::parse(LINE.as_bytes()).unwrap();
        let r = Record::parse(LINE).unwrap();
        assert_eq!(v.ts, r.ts);
        assert_eq!(v.agent, r.agent);
        assert_eq!(v.tokens, r.tokens);
        assert_eq!(v.cost_usd, r.cost_usd);
        assert_eq!(v.session.as_deref(), Some("sé"));
        assert_eq!(v.tag("team").as_deref(), Some("a\"b"));
        assert_eq!(v.get(&Field::Tag("pr".into())).as_deref(), Some("142"));
    }

    #[test]
    fn rejects_what_record_rejects() {
        for line in [
            r#"{"v":1,"id":"x","ts":"2026-13-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"","model":"m","input_tokens":1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":-1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1.5,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":-1}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"tags":{"a":1}}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A\u0001","model":"m","input_tokens":1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"z":01}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2} x"#,
            "{\"v\":1,\"id\":\"x\",\"ts\":\"2026-01-02T03:04:05Z\",\"agent\":\"A\tlong enough to take the fast path\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":2}",
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"notes":"bad \q escape"}"#,
            r#"{"v":2,"id":"x"}"#,
            r#"[1]"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":"x","input_tokens":3500,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"input_tokens":1}"#,
            r#"{"v":1,"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"tags":{},"tags":null}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":1,"cost_usd":2}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"z":1,"z":1}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"z":1,"\u007a":1}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"\u0061gent":"B"}"#,
            r#"{ "v" : 1 , "id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2 , "agent" : "A" }"#,
            // Found by the property tests: text costs the quick decimal reader took as 0 or misread.
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":""}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":" "}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":"."}"#,
            r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"cost_usd":"1..2"}"#,
            r#"{"v":1,"id":"x","#,
        ] {
            let want = Record::parse(line).unwrap_err().to_string();
            let got = View::parse(line.as_bytes()).unwrap_err().to_string();
            assert_eq!(got, want, "{line}");
        }
        let dup = r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":"x","input_tokens":3500,"output_tokens":2}"#;
        assert_eq!(View::parse(dup.as_bytes()).unwrap_err().to_string(), "field `input_tokens`: repeated");
        // The keys of `tags` may repeat: the last one counts, in both parsers.
        let tags = r#"{"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"tags":{"a":"1","a":"2"},"x":{"b":1,"b":2}}"#;
        assert_eq!(View::parse(tags.as_bytes()).unwrap().tag("a").as_deref(), Some("2"));
        assert_eq!(Record::parse(tags).unwrap().tags["a"], "2");
    }

    #[test]
    fn keys_in_any_order_and_at_the_end_of_the_line() {
        for line in [
            r#"{"output_tokens":2,"tags":{},"cost_usd":1.5,"v":1,"model":"m","ts":"2026-01-02T03:04:05Z","id":"x","input_tokens":1,"agent":"A"}"#,
            r#"{"cache_write_1h_tokens":9,"v":1,"id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"reasoning_tokens":3,"cache_write_tokens":4}"#,
            r#"{ "v" : 1 , "id":"x","ts":"2026-01-02T03:04:05Z","agent":"A","model":"m","input_tokens":1,"output_tokens":2,"ts2":1,"vv":1}"#,
        ] {
            let v = View::parse(line.as_bytes()).unwrap();
            let r = Record::parse(line).unwrap();
            assert_eq!(
                (v.agent.as_ref(), v.model.as_ref(), v.ts, v.tokens, v.cost_usd),
                (r.agent.as_str(), r.model.as_str(), r.ts, r.tokens, r.cost_usd),
                "{line}"
            );
        }
    }
}

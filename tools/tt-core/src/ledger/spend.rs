//! Spend counted by the server: what a budget check needs of a ledger, grouped, instead of every record.
//!
//! A budget check needs, for one budget's scope and one window, the records, tokens and dollars the ledger
//! holds. The server sums the records that carry their cost (`numeric`: exact) grouped by the model and the
//! scope's other fields, so the caller can apply the scope rules itself (a model scope matches every spelling
//! that resolves to the same price entry, which only tt's price table knows); the records without a cost come
//! back as lines, for the caller to price one by one exactly as a reader would (a tiered price depends on each
//! record's own tokens). What the caller adds up is what the same records in a file log add up to.

use chrono::{DateTime, Utc};

use super::{Ledger, failed};
use crate::error::Result;

/// Which records to count.
#[derive(Debug, Clone, Copy)]
pub enum Within<'a> {
    /// Every record (a total budget).
    All,
    /// The records of one session (a session budget).
    Session(&'a str),
    /// The records dated in `[start, end)` (a calendar budget's window).
    Between(DateTime<Utc>, DateTime<Utc>),
}

/// A field to group by: a typed column of `tt.records`, one key of the record's `tags`, or the quarter hour
/// a record is dated in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// A typed text column.
    Named(super::sum::Column),
    /// `session`.
    Session,
    /// `tags.KEY`.
    Tag(String),
    /// The start of the UTC quarter hour of `ts`, in seconds since the epoch: every time zone's offset is a
    /// whole number of quarter hours, so a quarter lies within one local day of any zone, and the caller maps
    /// it to its calendar exactly (the server's time zone data is never asked).
    Quarter,
}

/// The seconds of a quarter hour (see [`Column::Quarter`]).
pub const QUARTER: i64 = 900;

/// The typed text columns a group may be keyed by (a whitelist: column names are never taken from input).
pub const COLUMNS: &[&str] = &[
    "agent",
    "model",
    "provider",
    "session",
    "task",
    "project",
    "branch",
    "git_commit",
    "host",
    "user_name",
    "source",
];

/// One group of priced records: the values of the columns asked for (in order; `None` for a field the records
/// do not have), how many records, and their exact sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's values.
    pub values: Vec<Option<String>>,
    /// Records in it.
    pub records: u64,
    /// Their tokens, all kinds (exact, as text: a sum of `bigint`s can pass 64 bits).
    pub tokens: String,
    /// Their dollars (exact `numeric`, as text).
    pub usd: String,
}

impl Ledger {
    /// The priced records `within`, grouped by `columns` (see the module docs).
    pub fn priced_groups(&mut self, within: Within<'_>, columns: &[Column]) -> Result<Vec<Group>> {
        let mut params: Vec<Box<dyn postgres::types::ToSql + Sync>> = Vec::new();
        let mut exprs = Vec::new();
        for c in columns {
            exprs.push(match c {
                Column::Named(c) => c.sql().to_string(),
                Column::Session => "session".to_string(),
                Column::Tag(key) => {
                    params.push(Box::new(key.clone()));
                    format!("(line::jsonb -> 'tags') ->> ${}::text", params.len())
                }
                Column::Quarter => format!("(floor(extract(epoch FROM ts) / {QUARTER}) * {QUARTER})::bigint::text"),
            });
        }
        let quarter = columns.contains(&Column::Quarter);
        let filter = format!("{} AND NOT {}", strict(within, &mut params), edge(within, quarter, &mut params));
        let keys = if exprs.is_empty() { String::new() } else { format!("{}, ", exprs.join(", ")) };
        let group = if exprs.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", (1..=exprs.len()).map(|i| i.to_string()).collect::<Vec<_>>().join(", "))
        };
        let sql = format!(
            "SELECT {keys}count(*), sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens \
             + cache_write_1h_tokens)::text, sum(cost_usd)::text FROM tt.records \
             WHERE cost_usd IS NOT NULL AND {filter}{group}"
        );
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        let name = self.target.name().to_string();
        let rows = self.client.query(&sql, &refs).map_err(|e| failed(&name, "count spend", e))?;
        let n = exprs.len();
        Ok(rows
            .iter()
            .filter(|r| r.get::<_, i64>(n) > 0)
            .map(|r| Group {
                values: (0..n).map(|i| r.get::<_, Option<String>>(i)).collect(),
                records: r.get::<_, i64>(n) as u64,
                tokens: r.get::<_, Option<String>>(n + 1).unwrap_or_else(|| "0".into()),
                usd: r.get::<_, Option<String>>(n + 2).unwrap_or_else(|| "0".into()),
            })
            .collect())
    }

    /// Call `f` with the line of every record `within` that [`Ledger::priced_groups`] leaves out: those without a
    /// cost, and those whose `ts` column sits exactly on a bound of `within` or, with `quarter`, on the start of
    /// a quarter hour. The column holds microseconds and a line may hold nanoseconds, rounded to the nearest
    /// microsecond: only a record within half a microsecond of a bound can land on it, and only such a record
    /// can be on the other side of it than its column says, so its line's own time must decide. The lines come
    /// from a little around `within` (its bounds included): the caller keeps the ones whose own `ts` is in it.
    pub fn other_lines(
        &mut self,
        within: Within<'_>,
        quarter: bool,
        f: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut params: Vec<Box<dyn postgres::types::ToSql + Sync>> = Vec::new();
        let loose = loose(within, &mut params);
        let edge = edge(within, quarter, &mut params);
        let sql = format!("SELECT line FROM tt.records WHERE {loose} AND (cost_usd IS NULL OR {edge}) ORDER BY seq");
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        let name = self.target.name().to_string();
        let rows = self.client.query(&sql, &refs).map_err(|e| failed(&name, "read", e))?;
        for r in &rows {
            f(r.get::<_, &str>(0).as_bytes())?;
        }
        Ok(())
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// The records whose `ts` column is strictly inside `within` (for a window, off its bounds).
fn strict(within: Within<'_>, params: &mut Vec<Box<dyn postgres::types::ToSql + Sync>>) -> String {
    match within {
        Within::Between(a, b) => {
            params.push(Box::new(ts(a)));
            params.push(Box::new(ts(b)));
            let n = params.len();
            format!("ts > (${}::text)::timestamptz AND ts < (${n}::text)::timestamptz", n - 1)
        }
        w => loose(w, params),
    }
}

/// The records whose `ts` column is in `within` or on its bounds.
fn loose(within: Within<'_>, params: &mut Vec<Box<dyn postgres::types::ToSql + Sync>>) -> String {
    match within {
        Within::All => "true".to_string(),
        Within::Session(s) => {
            params.push(Box::new(s.to_string()));
            format!("session = ${}::text", params.len())
        }
        Within::Between(a, b) => {
            params.push(Box::new(ts(a)));
            params.push(Box::new(ts(b)));
            let n = params.len();
            format!("ts >= (${}::text)::timestamptz AND ts <= (${n}::text)::timestamptz", n - 1)
        }
    }
}

/// The records whose `ts` column is exactly on a bound of `within`, or with `quarter` on a quarter hour's start
/// (see [`Ledger::other_lines`]).
fn edge(within: Within<'_>, quarter: bool, params: &mut Vec<Box<dyn postgres::types::ToSql + Sync>>) -> String {
    let mut on = Vec::new();
    if let Within::Between(a, b) = within {
        params.push(Box::new(ts(a)));
        params.push(Box::new(ts(b)));
        let n = params.len();
        on.push(format!("ts = (${}::text)::timestamptz OR ts = (${n}::text)::timestamptz", n - 1));
    }
    if quarter {
        on.push(format!("extract(epoch FROM ts) = floor(extract(epoch FROM ts) / {QUARTER}) * {QUARTER}"));
    }
    if on.is_empty() { "false".to_string() } else { format!("({})", on.join(" OR ")) }
}

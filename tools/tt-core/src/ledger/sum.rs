//! Sums computed by the server: the ledger's half of a report pushed down to PostgreSQL.
//!
//! A report over a ledger can let the server do the `GROUP BY` over the typed columns (which tt fills from each
//! line as it adds it) instead of streaming every line out. This module only runs the SQL; what is asked and how
//! the answer is finished exactly is `crate::rollup`'s (above this layer: it knows windows, buckets and prices).
//!
//! Two queries, which split the records of a window between them with nothing counted twice:
//!
//! * [`Ledger::partial_sums`]: per group, session (and, for calendar keys, a fixed grain of UTC time) the record
//!   count and exact sums (read as text) of the records whose cost is a whole number of picodollars
//!   (`cost_pico`, which the server generates from `cost_usd`), strictly inside the window and off every edge
//!   (below). The sums are `tt.total`, which adds `bigint`s in a `bigint` and fails past its range rather
//!   than round; on that failure the query runs again with PostgreSQL's `numeric` sums, slower and unbounded;
//! * [`Ledger::loose_lines`]: the lines of everything else a report may need — the records without a cost (the
//!   client prices them, with its own table, as it prices a file's), those whose cost has more decimals than
//!   picodollars, and the records on an edge — which the client reads with the code that reads a file,
//!   deciding window and bucket on the line's own `ts`.
//!
//! **Edges.** `ts` is a `timestamptz`, which holds microseconds, while a line's `ts` may have nanoseconds; the
//! column is the line's time rounded to the microsecond. A record's rounded time can differ from its own on
//! which side of an instant `B` (a whole microsecond) it lies only when the rounded time *is* `B`. So a record
//! whose column equals a window bound, or the start of a grain, goes to the lines, and every other record is on
//! the same side of every bound in the column as in its line.

use chrono::{DateTime, SecondsFormat, Utc};

use super::{Ledger, conn};
use crate::error::{Error, Result};

/// What to sum: the group columns, an optional grain of time, and the window. Every instant must be a whole
/// microsecond (the column's precision): the caller checks.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Group by these typed columns of `tt.records` (`agent`, `git_commit`: `rollup::column` names a
    /// field's).
    pub columns: Vec<&'static str>,
    /// Then by these keys of the records' `tags` (read from each line: a budget scoped to a tag).
    pub tags: Vec<String>,
    /// Also group by `session` (tt-sum, which counts distinct sessions exactly; a session budget).
    pub sessions: bool,
    /// Also group by `ts` in bins of this many seconds from the Unix epoch (for calendar keys the client maps).
    pub grain: Option<u32>,
    /// Only records at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only records before each of these instants (a window's end, a pinned "now").
    pub before: Vec<DateTime<Utc>>,
    /// Only the records of this session (a session budget's one session).
    pub session: Option<String>,
    /// Only the records added by the transactions in `[from, to)` (`ledger::kept`'s horizons): `from` `None`
    /// takes every transaction from the first, and the rows from before their transactions were noted;
    /// `to` `None` every one after `from`.
    pub xact: (Option<u64>, Option<u64>),
}

/// One row of [`Ledger::partial_sums`]: the records of one group, session and grain that carry a cost.
#[derive(Debug, Clone)]
pub struct Partial {
    /// The group's values, one per [`Query::columns`] then one per [`Query::tags`] (`None`: the records lack
    /// the field).
    pub values: Vec<Option<String>>,
    /// The session (`None`: the records have none, or [`Query::sessions`] is off).
    pub session: Option<String>,
    /// The grain's first instant, with [`Query::grain`].
    pub grain: Option<DateTime<Utc>>,
    /// Records.
    pub records: u64,
    /// Sums of input, output, cache-read and cache-write (5-minute and 1-hour) tokens, as the server's exact
    /// decimal text: the caller decides whether they fit its types.
    pub tokens: [String; 4],
    /// Sum of the costs in dollars, exact decimal text.
    pub cost: String,
}

/// A string literal for any text (an escape-string literal, whatever `standard_conforming_strings` says): a
/// session or a tag key goes into the SQL of a `COPY`, which takes no parameters.
fn text(s: &str) -> String {
    format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A timestamp literal at microsecond precision (the caller made sure nothing finer is lost).
fn at(t: &DateTime<Utc>) -> String {
    format!("TIMESTAMPTZ '{}'", t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

impl Query {
    /// The grain expression (`date_bin` from the Unix epoch), when there is one.
    fn bin(&self) -> Option<String> {
        self.grain.map(|g| format!("date_bin('{g} seconds', ts, TIMESTAMPTZ '1970-01-01T00:00:00Z')"))
    }

    /// The conditions of the records strictly inside the window and off its edges.
    fn inside(&self) -> Vec<String> {
        let mut w: Vec<String> = self.always();
        if let Some(s) = &self.since {
            w.push(format!("ts > {}", at(s)));
        }
        w.extend(self.before.iter().map(|b| format!("ts < {}", at(b))));
        w
    }

    /// The conditions of [`Query::session`] and [`Query::xact`], on every record either query reads.
    fn always(&self) -> Vec<String> {
        let mut w: Vec<String> = self.session.iter().map(|s| format!("session = {}", text(s))).collect();
        match self.xact {
            (None, None) => {}
            (Some(a), None) => w.push(format!("xact >= '{a}'::xid8")),
            (None, Some(z)) => w.push(format!("(xact < '{z}'::xid8 OR xact IS NULL)")),
            (Some(a), Some(z)) => w.push(format!("xact >= '{a}'::xid8 AND xact < '{z}'::xid8")),
        }
        w
    }

    /// The SQL of [`Ledger::partial_sums`]: with `tt.total`'s `bigint` sums, or with `wide` PostgreSQL's
    /// `numeric` ones.
    fn sums_sql(&self, wide: bool) -> String {
        let mut group: Vec<String> = self.columns.iter().map(|c| c.to_string()).collect();
        group.extend(self.tags.iter().map(|k| format!("(line::jsonb -> 'tags') ->> {}", text(k))));
        let mut select = group.clone();
        let mut cond = vec!["cost_pico IS NOT NULL".to_string()];
        cond.extend(self.inside());
        if let Some(bin) = self.bin() {
            select.push(format!("extract(epoch FROM {bin})::int8"));
            group.push(bin.clone());
            cond.push(format!("ts <> {bin}"));
        }
        if self.sessions {
            select.push("session".into());
            group.push("session".into());
        }
        select.push("count(*)".into());
        let sum = if wide { "sum" } else { "tt.total" };
        format!(
            "SELECT {}, {sum}(input_tokens)::text, {sum}(output_tokens)::text, {sum}(cache_read_tokens)::text, \
             ({sum}(cache_write_tokens) + {sum}(cache_write_1h_tokens))::text, \
             ({sum}(cost_pico)::numeric * 0.000000000001)::text FROM tt.records WHERE {}{}",
            select.join(", "),
            cond.join(" AND "),
            // Without groups an aggregate gives one row even for no records (with NULL sums): none is wanted.
            if group.is_empty() {
                " HAVING count(*) > 0".to_string()
            } else {
                format!(" GROUP BY {}", group.join(", "))
            }
        )
    }

    /// The SQL of [`Ledger::loose_lines`]: inside the window's closure, not summed by the server or on an edge.
    fn lines_sql(&self) -> String {
        let mut cond: Vec<String> = self.always();
        let mut edge = vec!["cost_pico IS NULL".to_string()];
        if let Some(s) = &self.since {
            cond.push(format!("ts >= {}", at(s)));
            edge.push(format!("ts = {}", at(s)));
        }
        for b in &self.before {
            cond.push(format!("ts <= {}", at(b)));
            edge.push(format!("ts = {}", at(b)));
        }
        if let Some(bin) = self.bin() {
            edge.push(format!("ts = {bin}"));
        }
        cond.push(format!("({})", edge.join(" OR ")));
        format!("SELECT line FROM tt.records WHERE {}", cond.join(" AND "))
    }
}

impl Ledger {
    /// Run [`Query`]'s `GROUP BY` and hand each row to `f` as it arrives; `f` may stop the run early with
    /// `Ok(false)`. A `bigint` sum past its range (the server says so before any row, as it hashes every group
    /// before it returns one) runs the query again with `numeric` sums; past its range after rows were handed
    /// over (a plan that returns groups as it goes), the run fails rather than count any group twice.
    pub fn partial_sums(&mut self, q: &Query, mut f: impl FnMut(Partial) -> Result<bool>) -> Result<()> {
        let n = q.columns.len() + q.tags.len();
        let (grain, sessions) = (q.grain.is_some(), q.sessions);
        let handed = std::cell::Cell::new(false);
        let mut each = |row: &postgres::Row| {
            handed.set(true);
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(row.get::<_, Option<String>>(i));
            }
            let mut i = n;
            let grain = if grain {
                i += 1;
                let secs: i64 = row.get(i - 1);
                Some(DateTime::from_timestamp(secs, 0).ok_or_else(|| Error::data("a grain outside time"))?)
            } else {
                None
            };
            let session: Option<String> = if sessions {
                i += 1;
                row.get(i - 1)
            } else {
                None
            };
            let records: i64 = row.get(i);
            let text = |k: usize| row.get::<_, String>(i + 1 + k);
            f(Partial {
                values,
                session,
                grain,
                records: records as u64,
                tokens: [text(0), text(1), text(2), text(3)],
                cost: text(4),
            })
        };
        let fail = |name: &str, (doing, e): (&str, postgres::Error)| {
            Error::ledger(format!("ledger {name}: {doing}: {}", conn::describe(&e)))
        };
        let name = self.target.name().to_string();
        match self.rows(&q.sums_sql(false), &mut each)? {
            Ok(()) => Ok(()),
            Err((_, e)) if past_range(&e) && !handed.get() => {
                self.rows(&q.sums_sql(true), &mut each)?.map_err(|e| fail(&name, e))
            }
            Err((_, e)) if past_range(&e) => Err(Error::ledger(format!(
                "ledger {name}: sum: a sum past 64 bits after some groups were read; \
                 read the records one by one instead (TT_LEDGER_PUSHDOWN=0)"
            ))),
            Err(e) => Err(fail(&name, e)),
        }
    }

    /// The share of the records the server would leave to the client as lines (no cost in whole
    /// picodollars), as the statistics of the last `ANALYZE` or `VACUUM` estimate it (PostgreSQL's autovacuum
    /// keeps them current): cheap to ask, and only a guess, for choosing the faster of two exact ways. `None`
    /// when there are no statistics yet.
    pub fn loose_share(&mut self) -> Result<Option<f64>> {
        let row = self
            .client
            .query_one(
                "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'tt.records_loose'::regclass), \
                        (SELECT reltuples FROM pg_class WHERE oid = 'tt.records'::regclass)",
                &[],
            )
            .map_err(|e| Error::ledger(format!("ledger {}: read: {}", self.target.name(), conn::describe(&e))))?;
        let (loose, all): (f32, f32) = (row.get(0), row.get(1));
        Ok((all > 0.0 && loose >= 0.0).then(|| f64::from(loose) / f64::from(all)))
    }

    /// The lines [`Query`] leaves to the client (see the module docs), each handed to `f` without its
    /// newline; `f` may stop early with `Ok(false)`.
    pub fn loose_lines(&mut self, q: &Query, mut f: impl FnMut(&[u8]) -> Result<bool>) -> Result<()> {
        // A binary COPY: many lines stream several times faster than a query's rows.
        let name = self.target.name().to_string();
        let mut failed = None;
        super::copy::each_line(&mut self.client, &q.lines_sql(), &mut |line| match f(line) {
            Ok(go) => go,
            Err(e) => {
                failed = Some(e);
                false
            }
        })
        .map_err(|e| Error::ledger(format!("ledger {name}: read: {e}")))?;
        failed.map_or(Ok(()), Err)
    }

    /// Run `sql` in a read-only transaction (or, on a connection in a shared snapshot, a savepoint of it) and
    /// hand its rows to `f` as they arrive: the client's channel from the connection holds one batch of
    /// messages at a time, so memory does not grow with the rows. (A cursor would bound it too, but a portal
    /// fetched a batch at a time is never given parallel workers.) The server's errors come back as they are,
    /// with what was being done, for the caller to judge; the transaction or savepoint is closed either way.
    fn rows(
        &mut self,
        sql: &str,
        f: &mut dyn FnMut(&postgres::Row) -> Result<bool>,
    ) -> Result<std::result::Result<(), (&'static str, postgres::Error)>> {
        use postgres::fallible_iterator::FallibleIterator;
        let (begin, done, undo) = if self.in_snapshot {
            ("SAVEPOINT tt_sum", "RELEASE SAVEPOINT tt_sum", "ROLLBACK TO SAVEPOINT tt_sum")
        } else {
            ("BEGIN READ ONLY", "COMMIT", "ROLLBACK")
        };
        // Hashing the groups in memory beats sorting them through temporary files; partial sums from parallel
        // workers are few rows, cheaper to gather than the planner's default guess; compiling the query (JIT)
        // costs more than it saves on a scan of a few hundred MB.
        if let Err(e) = self.client.batch_execute(&format!("{begin}; {SETTINGS}")) {
            let _ = self.client.batch_execute(undo);
            return Ok(Err(("begin", e)));
        }
        let mut run = || -> Result<std::result::Result<(), (&'static str, postgres::Error)>> {
            let mut it = match self.client.query_raw(sql, std::iter::empty::<i32>()) {
                Ok(it) => it,
                Err(e) => return Ok(Err(("sum", e))),
            };
            loop {
                match it.next() {
                    Ok(Some(row)) if !f(&row)? => return Ok(Ok(())),
                    Ok(Some(_)) => {}
                    Ok(None) => return Ok(Ok(())),
                    Err(e) => return Ok(Err(("sum", e))),
                }
            }
        };
        let ran = run();
        match ran {
            Ok(Ok(())) => Ok(self.client.batch_execute(done).map_err(|e| ("commit", e))),
            other => {
                // The server's error (or the caller's) stands; a failure to roll back after it adds nothing.
                let _ = self.client.batch_execute(undo);
                other
            }
        }
    }
}

/// True when the server refused a value past its type's range (SQLSTATE 22003): `tt.total`'s `bigint`.
fn past_range(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| c.code() == "22003")
}

/// The session settings of a sum (for its transaction only).
const SETTINGS: &str = "SET LOCAL work_mem = '64MB'; SET LOCAL parallel_tuple_cost = 0.001; SET LOCAL jit = off";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_queries_split_the_window() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let q = Query {
            columns: vec!["agent", "user_name"],
            grain: Some(900),
            since: Some(t("2026-11-03T00:00:00Z")),
            before: vec![t("2026-11-20T00:00:00.5Z")],
            sessions: true,
            ..Query::default()
        };
        let sums = q.sums_sql(false);
        assert!(sums.contains("SELECT agent, user_name, extract(epoch FROM date_bin('900 seconds'"), "{sums}");
        assert!(sums.contains("WHERE cost_pico IS NOT NULL AND ts > TIMESTAMPTZ '2026-11-03T00:00:00.000000Z'"));
        assert!(sums.contains("AND ts < TIMESTAMPTZ '2026-11-20T00:00:00.500000Z' AND ts <> date_bin("));
        assert!(sums.contains("tt.total(cost_pico)::numeric * 0.000000000001"), "{sums}");
        assert!(q.sums_sql(true).contains(", sum(input_tokens)::text,"), "the wide sums");
        let lines = q.lines_sql();
        assert!(lines.contains("ts >= TIMESTAMPTZ '2026-11-03T00:00:00.000000Z'"), "{lines}");
        assert!(lines.contains("(cost_pico IS NULL OR ts = TIMESTAMPTZ '2026-11-03"), "{lines}");
        assert!(lines.ends_with("OR ts = date_bin('900 seconds', ts, TIMESTAMPTZ '1970-01-01T00:00:00Z'))"));
    }
}

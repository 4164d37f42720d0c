//! The ledger's schema, owned by tt: created on first use and migrated forward, one numbered step at a time.
//!
//! Everything lives in the schema `tt`: `tt.meta` (the schema's version), `tt.records` (one row per record: the
//! line as logged, typed columns for SQL, a unique identity), `tt.holds` (reservations: the lines a file log
//! keeps in `<log>.tt-holds`, in the order written; version 2) and read-only views for dashboards and ad-hoc
//! SQL (`tt.daily_spend`, `tt.daily_spend_by_host`). Their columns are documented in `docs/ledger.md`.
//!
//! A connection first reads the version (one query). Only when it is behind does it take a transaction-level
//! advisory lock, read the version again (another machine may have just migrated) and run the missing steps, so
//! a team's first runs racing each other create the schema once. A ledger whose version is newer than this tt
//! knows is refused: an older tt writing rows a newer schema expects otherwise would damage it.

use crate::error::{Error, Result};

/// The schema version this tt writes and reads.
pub const VERSION: i32 = 4;

/// The advisory lock held while migrating ("tt-schm").
const MIGRATE_LOCK: i64 = 0x74_74_2d_73_63_68_6d;

/// Step `n` (1-based) takes the schema from version `n - 1` to `n`. Version 3 drops the indexes by agent,
/// project and model: no query of tt's reads through them (windows go by `ts`, session budgets by `session`,
/// reports scan), and keeping them up made a push of a million records spend most of its time on the server.
/// Version 4 indexes the records without a cost (few, in a ledger tt writes): the lines the budget sums and
/// reports price one by one are found without a second scan of the table.
const STEPS: &[&str] = &[
    r#"
CREATE SCHEMA IF NOT EXISTS tt;
CREATE TABLE tt.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE tt.records (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_key text NOT NULL UNIQUE,
    id text NOT NULL,
    ts timestamptz NOT NULL,
    agent text NOT NULL,
    model text NOT NULL,
    provider text,
    session text,
    task text,
    project text,
    branch text,
    git_commit text,
    host text,
    user_name text,
    source text,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cache_read_tokens bigint NOT NULL,
    cache_write_tokens bigint NOT NULL,
    cache_write_1h_tokens bigint NOT NULL,
    reasoning_tokens bigint,
    cost_usd numeric,
    line text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX records_ts ON tt.records (ts);
CREATE INDEX records_agent_ts ON tt.records (agent, ts);
CREATE INDEX records_project_ts ON tt.records (project, ts);
CREATE INDEX records_model_ts ON tt.records (model, ts);
CREATE INDEX records_session ON tt.records (session);
CREATE VIEW tt.daily_spend AS
    SELECT (ts AT TIME ZONE 'UTC')::date AS day, agent, model,
           count(*) AS records,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
           sum(cache_read_tokens) AS cache_read_tokens,
           sum(cache_write_tokens + cache_write_1h_tokens) AS cache_write_tokens,
           sum(cost_usd) AS cost_usd,
           count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_records
    FROM tt.records GROUP BY 1, 2, 3;
CREATE VIEW tt.daily_spend_by_host AS
    SELECT (ts AT TIME ZONE 'UTC')::date AS day, coalesce(host, '') AS host,
           count(*) AS records,
           sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens)
               AS total_tokens,
           sum(cost_usd) AS cost_usd,
           count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_records
    FROM tt.records GROUP BY 1, 2;
"#,
    r#"
CREATE TABLE tt.holds (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    line text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX records_reservation ON tt.records (seq) WHERE line LIKE '%"reservation":"%';
"#,
    r#"
DROP INDEX tt.records_agent_ts;
DROP INDEX tt.records_project_ts;
DROP INDEX tt.records_model_ts;
"#,
    r#"
CREATE INDEX IF NOT EXISTS records_unpriced ON tt.records (ts) WHERE cost_usd IS NULL;
"#,
];

/// Bring the schema of the database `client` is connected to up to [`VERSION`] (see the module docs).
pub fn ensure(client: &mut postgres::Client, name: &str) -> Result<()> {
    let fail = |doing: &str, e: postgres::Error| {
        Error::ledger(format!("ledger {name}: {doing}: {}", super::conn::describe(&e)))
    };
    if quick_current(client).map_err(|e| fail("read the schema version", e))? == Some(VERSION) {
        return Ok(());
    }
    let mut tx = client.transaction().map_err(|e| fail("begin", e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK]).map_err(|e| fail("lock the schema", e))?;
    let at = current(&mut tx).map_err(|e| fail("read the schema version", e))?.unwrap_or(0);
    if at > VERSION {
        return Err(Error::ledger(format!(
            "ledger {name}: its schema is version {at}, newer than this tt knows ({VERSION}); upgrade tt"
        )));
    }
    for (i, step) in STEPS.iter().enumerate().skip(at as usize) {
        tx.batch_execute(step).map_err(|e| fail(&format!("create the schema (step {})", i + 1), e))?;
    }
    tx.execute(
        "INSERT INTO tt.meta (key, value) VALUES ('schema_version', $1) \
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        &[&VERSION.to_string()],
    )
    .map_err(|e| fail("record the schema version", e))?;
    tx.commit().map_err(|e| fail("commit the schema", e))
}

/// The version recorded in `tt.meta` in one round trip, the check every connection makes (a write of one record
/// pays for each round trip): a simple query, read as text; `None` when there is no schema yet (no `tt.meta`:
/// the server says so with an error, outside any transaction, so nothing is left to roll back).
fn quick_current(c: &mut postgres::Client) -> std::result::Result<Option<i32>, postgres::Error> {
    let rows = match c.simple_query("SELECT value FROM tt.meta WHERE key = 'schema_version'") {
        Ok(rows) => rows,
        // 42P01 undefined_table, 3F000 invalid_schema_name: no schema yet.
        Err(e) if e.code().is_some_and(|c| matches!(c.code(), "42P01" | "3F000")) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(rows.iter().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse().ok()),
        _ => None,
    }))
}

/// The version recorded in `tt.meta`, or `None` when there is no schema yet.
fn current(c: &mut impl postgres::GenericClient) -> std::result::Result<Option<i32>, postgres::Error> {
    // A scan of the catalog, not `to_regclass`: after waiting for the migration lock, the lookup caches may not
    // yet show a schema another session just committed, while a query's snapshot does.
    let exists: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n \
             ON n.oid = c.relnamespace WHERE n.nspname = 'tt' AND c.relname = 'meta')",
            &[],
        )?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = c.query_opt("SELECT value FROM tt.meta WHERE key = 'schema_version'", &[])?;
    Ok(row.and_then(|r| r.get::<_, String>(0).parse().ok()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_step_per_version() {
        assert_eq!(super::STEPS.len(), super::VERSION as usize);
    }
}

//! Pushing many records into a ledger: `tt-export --to` sends a machine's local log (or any records) to the team's
//! ledger, fast, resumably and idempotently.
//!
//! The records go in batches of [`BATCH_ROWS`], each in a transaction of its own: `COPY … FROM STDIN (FORMAT
//! binary)` into a temporary table, then one `INSERT INTO tt.records … SELECT … ON CONFLICT (id_key) DO
//! NOTHING`. So
//!
//! * an interrupted push keeps every batch it committed, and a re-run adds only the rest: a record's identity is
//!   the same unique `id_key` every writer uses (the row is built by the ledger's own `Row::new`), and the
//!   ledger skips what it holds, whoever added it;
//! * the binary format carries each line's exact bytes (the text format would have every backslash escaped),
//!   so the ledger gives the lines back byte for byte;
//! * parsing and encoding (this thread) overlap the server's work on the previous batch (a thread that owns the
//!   connection while the push runs), which is what makes a million records a matter of seconds on two cores.
//!
//! Unlike a single append, a push is not all or nothing: a record that is not one stops it, with the batches
//! before it kept. That is the point of batches: a push of a million records that fails at the end keeps what
//! it sent.

use std::io::Write;
use std::sync::mpsc::{Receiver, sync_channel};

use super::{Ledger, Row, failed};
use crate::error::{Error, Result};

/// Records per batch (one transaction each): a few seconds of the server's work at most, so an interruption
/// loses little, and big enough that the per-batch round trips do not count.
pub const BATCH_ROWS: usize = 50_000;

/// The session's `temp_buffers` and `work_mem` while it pushes: room for a batch (see [`Ledger::push`]).
const MEMORY: &str = "96MB";

/// How often the progress callback hears of the records read, in records.
const PROGRESS_EVERY: u64 = 1024;

/// The temporary table a batch is copied into, one column per `Row` field, in `INSERT`'s order, then the line's
/// position in the push (so the records are added in the order they were read).
const TEMP: &str = "CREATE TEMPORARY TABLE IF NOT EXISTS tt_push (k text, i text, t text, a text, m text, p text, \
     s text, ta text, pr text, b text, gc text, h text, u text, so text, it int8, ot int8, cr int8, cw int8, \
     cw1 int8, rt int8, c text, l text, n int8) ON COMMIT DELETE ROWS";

/// The number of columns of [`TEMP`].
const COLUMNS: i16 = 23;

/// Moves a batch from the temporary table into the ledger.
const INSERT: &str = "INSERT INTO tt.records (id_key, id, ts, agent, model, provider, session, task, project, \
     branch, git_commit, host, user_name, source, input_tokens, output_tokens, cache_read_tokens, \
     cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, cost_usd, line) \
     SELECT k, i, t::timestamptz, a, m, p, s, ta, pr, b, gc, h, u, so, it, ot, cr, cw, cw1, rt, c::numeric, l \
     FROM pg_temp.tt_push ORDER BY n ON CONFLICT (id_key) DO NOTHING";

/// The binary COPY format's header: signature, flags, no extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// What a push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pushed {
    /// The records sent.
    pub records: u64,
    /// The ones the ledger did not hold yet, now added.
    pub added: u64,
}

impl Pushed {
    /// The records the ledger already held (sent, and skipped).
    pub fn already(&self) -> u64 {
        self.records - self.added
    }
}

/// One batch, encoded: the COPY stream's bytes (header and rows, no trailer) and how many rows.
struct Batch {
    bytes: Vec<u8>,
    rows: u64,
}

impl Batch {
    fn new() -> Batch {
        let mut bytes = Vec::with_capacity(16 << 20);
        bytes.extend_from_slice(HEADER);
        Batch { bytes, rows: 0 }
    }

    /// Add one row: the fields in [`TEMP`]'s order.
    fn add(&mut self, r: &Row, n: u64) {
        let b = &mut self.bytes;
        b.extend_from_slice(&COLUMNS.to_be_bytes());
        for s in [&r.key, &r.id, &r.ts, &r.agent, &r.model] {
            text(b, s);
        }
        for s in &r.text {
            opt_text(b, s.as_deref());
        }
        for v in r.tokens {
            int8(b, v);
        }
        match r.reasoning {
            Some(v) => int8(b, v),
            None => b.extend_from_slice(&(-1i32).to_be_bytes()),
        }
        opt_text(b, r.cost.as_deref());
        text(b, &r.line);
        int8(b, n as i64);
        self.rows += 1;
    }
}

fn text(b: &mut Vec<u8>, s: &str) {
    // A line is at most `input::MAX_LINE` bytes, far below a field's 2 GiB.
    b.extend_from_slice(&(s.len() as i32).to_be_bytes());
    b.extend_from_slice(s.as_bytes());
}

fn opt_text(b: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => text(b, s),
        None => b.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

fn int8(b: &mut Vec<u8>, v: i64) {
    b.extend_from_slice(&8i32.to_be_bytes());
    b.extend_from_slice(&v.to_be_bytes());
}

impl Ledger {
    /// Push records: `feed` hands every record line (without its newline) to the function it is given, which
    /// fails on a line that is not a record; `progress` hears the records and bytes read so far, now and then.
    /// See the module docs for the batches. An error names how many records were committed before it.
    pub fn push<F>(&mut self, feed: F, progress: &mut dyn FnMut(u64, u64)) -> Result<Pushed>
    where
        F: FnOnce(&mut dyn FnMut(&str) -> Result<()>) -> Result<()>,
    {
        let name = self.target.name().to_string();
        // A batch's temporary rows (about 25 MB) and their sort by position fit in memory instead of spilling to
        // files: both settings are this session's own, and must come before its first temporary table.
        let setup = format!("SET temp_buffers = '{MEMORY}'; SET work_mem = '{MEMORY}'; {TEMP}");
        self.client.batch_execute(&setup).map_err(|e| failed(&name, "push: create the temporary table", e))?;
        let client = &mut self.client;
        // Room for one batch waiting while the server works on another: the two sides overlap, memory stays two
        // batches whatever the size of the push.
        let (tx, rx) = sync_channel::<Batch>(1);
        std::thread::scope(|scope| {
            let sender = scope.spawn(|| send(client, rx, &name));
            let (mut batch, mut records, mut bytes) = (Batch::new(), 0u64, 0u64);
            let mut stopped = false;
            let fed = feed(&mut |line: &str| {
                let row = Row::new(line)?;
                batch.add(&row, records);
                records += 1;
                bytes += line.len() as u64 + 1;
                if records.is_multiple_of(PROGRESS_EVERY) {
                    progress(records, bytes);
                }
                if batch.rows as usize >= BATCH_ROWS && tx.send(std::mem::replace(&mut batch, Batch::new())).is_err() {
                    // The sender stopped on an error, which its result gives.
                    stopped = true;
                    return Err(Error::ledger("the push stopped"));
                }
                Ok(())
            });
            if fed.is_ok() && batch.rows > 0 {
                let _ = tx.send(batch);
            }
            progress(records, bytes);
            drop(tx);
            let sent = sender.join().unwrap_or_else(|_| {
                Err((
                    Error::ledger(format!("ledger {name}: push: the connection's thread panicked")),
                    Pushed::default(),
                ))
            });
            match (fed, sent) {
                (Ok(()), Ok(done)) => Ok(done),
                // The server's error is the one to tell when it is what stopped the feed.
                (Ok(()), Err((e, done))) => Err(so_far(e, done)),
                (Err(_), Err((e, done))) if stopped => Err(so_far(e, done)),
                (Err(e), Ok(done) | Err((_, done))) => Err(so_far(e, done)),
            }
        })
    }
}

/// The error, saying what was committed before it (nothing is lost: a re-run adds only the rest).
fn so_far(e: Error, done: Pushed) -> Error {
    if done.records == 0 {
        return e;
    }
    let msg = format!(
        "{} ({} before it were pushed: {} added, {} already there; a re-run adds only the rest)",
        e.message(),
        crate::money::plural(done.records, "record"),
        crate::money::thousands(done.added),
        crate::money::thousands(done.already())
    );
    Error::new(e.kind(), msg)
}

/// The connection's side of a push: each batch copied and inserted in a transaction of its own; what was
/// committed, and on error what was committed before it.
fn send(
    client: &mut postgres::Client,
    rx: Receiver<Batch>,
    name: &str,
) -> std::result::Result<Pushed, (Error, Pushed)> {
    let mut done = Pushed::default();
    for mut batch in rx {
        batch.bytes.extend_from_slice(&(-1i16).to_be_bytes());
        let added = one(client, &batch.bytes).map_err(|e| (failed(name, "push", e), done))?;
        done.records += batch.rows;
        done.added += added;
    }
    Ok(done)
}

/// One batch: COPY into the temporary table and INSERT from it, committed together; how many were added.
fn one(client: &mut postgres::Client, bytes: &[u8]) -> std::result::Result<u64, postgres::Error> {
    let mut tx = client.transaction()?;
    let mut w = tx.copy_in("COPY pg_temp.tt_push FROM STDIN (FORMAT binary)")?;
    // A write fails only when the connection does; `finish` then returns the driver's error, which says why.
    let _ = w.write_all(bytes);
    w.finish()?;
    let added = tx.execute(INSERT, &[])?;
    tx.commit()?;
    Ok(added)
}

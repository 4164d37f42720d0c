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
//! * the work overlaps three ways: this thread parses and encodes a batch while two connections, each owned by
//!   a thread of its own, take turns with the batches before it — one copies its batch into its temporary
//!   table while the other inserts the previous one. The inserts take turns in the order the batches were
//!   read (a baton, `Turn`), so the records are added in the order they were read, as by one connection,
//!   while the server copies and inserts on two cores. A push of one batch opens one connection.
//!
//! Unlike a single append, a push is not all or nothing: a record that is not one stops it, with the batches
//! before it kept. That is the point of batches: a push of a million records that fails at the end keeps what
//! it sent.

use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Condvar, Mutex};

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
/// position in the push: the rows do not always lie in the order they were copied (a page with room left takes
/// a later, shorter row), so the insert sorts them again (see [`INSERT`]).
const TEMP: &str = "CREATE TEMPORARY TABLE IF NOT EXISTS tt_push (k text, i text, t text, a text, m text, p text, \
     s text, ta text, pr text, b text, gc text, h text, u text, so text, it int8, ot int8, cr int8, cw int8, \
     cw1 int8, rt int8, c text, l text, n int8) ON COMMIT DELETE ROWS";

/// The number of columns of [`TEMP`].
const COLUMNS: i16 = 23;

/// Moves a batch from the temporary table into the ledger (`$1`: its rows, `$2`: the first one's position).
/// The batch's records are stored with those that carry a cost first and those without after them (the order
/// they were copied in, [`Batch`]), so a batch's records without a cost lie together on pages of their own: a
/// report reads their lines one by one while the server sums the others, and among the rest they lay on
/// nearly every page, so reading them meant reading the whole table a second time. Their `seq` still follows
/// the order they were read: the batch draws as many numbers as it has rows, in one go, and the record at
/// position `n` takes the `n`-th smallest, so reading by `seq` gives the log back in its order. The sort has one
/// key, a number (2^62 added for a record without a cost): a second key, or a first that ties, would be read
/// from the end of each wide row on every comparison, which made a push a fifth slower.
static INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    super::insert_sql(
        "$1::int8",
        "n - $2::int8 + 1",
        "pg_temp.tt_push",
        "n + CASE WHEN c IS NULL THEN 4611686018427387904 ELSE 0 END",
    )
});

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

impl std::ops::AddAssign for Pushed {
    fn add_assign(&mut self, o: Pushed) {
        self.records += o.records;
        self.added += o.added;
    }
}

/// One batch, encoded: the COPY stream's bytes (header and rows, no trailer), how many rows, the position of
/// the first in the push, and its place among the batches (0, 1, …), which decides its turn to insert. The rows
/// of records with a cost come first, those without after them (`loose` until the batch is sent), each in the
/// order read: the order [`INSERT`] stores them in, which their sort then finds already in place.
struct Batch {
    bytes: Vec<u8>,
    loose: Vec<u8>,
    rows: u64,
    first: u64,
    number: u64,
}

impl Batch {
    fn new(number: u64) -> Batch {
        let mut bytes = Vec::with_capacity(16 << 20);
        bytes.extend_from_slice(HEADER);
        Batch { bytes, loose: Vec::new(), rows: 0, first: 0, number }
    }

    /// Add one row, the record at position `n` of the push: the fields in [`TEMP`]'s order.
    fn add(&mut self, r: &Row, n: u64) {
        if self.rows == 0 {
            self.first = n;
        }
        let b = if r.cost.is_some() { &mut self.bytes } else { &mut self.loose };
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

    /// The whole COPY stream: the rows with a cost, those without, the trailer.
    fn finish(&mut self) {
        self.bytes.append(&mut self.loose);
        self.bytes.extend_from_slice(&(-1i16).to_be_bytes());
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
        prepare(&mut self.client, &name)?;
        let (target, client) = (&self.target, &mut self.client);
        let turn = Turn::default();
        // Room for one batch waiting per connection while the server works on others: memory stays a few
        // batches whatever the size of the push.
        let (tx, rx) = sync_channel::<Batch>(1);
        std::thread::scope(|scope| {
            let first = scope.spawn(|| send(client, rx, &name, &turn));
            // The second connection, opened once there is a second batch.
            let mut second: Option<(SyncSender<Batch>, std::thread::ScopedJoinHandle<'_, Sent>)> = None;
            let (mut batch, mut records, mut bytes, mut number) = (Batch::new(0), 0u64, 0u64, 0u64);
            let mut stopped = false;
            let fed = feed(&mut |line: &str| {
                let row = Row::new(line)?;
                batch.add(&row, records);
                records += 1;
                bytes += line.len() as u64 + 1;
                if records.is_multiple_of(PROGRESS_EVERY) {
                    progress(records, bytes);
                }
                if batch.rows as usize >= BATCH_ROWS {
                    number += 1;
                    let full = std::mem::replace(&mut batch, Batch::new(number));
                    let to = if full.number % 2 == 0 {
                        &tx
                    } else {
                        &second
                            .get_or_insert_with(|| {
                                let (tx2, rx2) = sync_channel::<Batch>(1);
                                let (name, turn) = (&name, &turn);
                                (tx2, scope.spawn(move || other(target, rx2, name, turn)))
                            })
                            .0
                    };
                    if to.send(full).is_err() {
                        // A connection stopped on an error, which its result gives.
                        stopped = true;
                        return Err(Error::ledger("the push stopped"));
                    }
                }
                Ok(())
            });
            if fed.is_ok() && batch.rows > 0 {
                let to = if batch.number % 2 == 0 { Some(&tx) } else { second.as_ref().map(|s| &s.0) };
                match to {
                    Some(to) => drop(to.send(batch)),
                    // The first odd batch, and the last: no need for a second connection.
                    None => drop(tx.send(Batch { number: batch.number, ..batch })),
                }
            }
            progress(records, bytes);
            drop(tx);
            let joined = |h: std::thread::ScopedJoinHandle<'_, Sent>| {
                h.join().unwrap_or_else(|_| Sent {
                    done: Pushed::default(),
                    error: Some(Error::ledger(format!("ledger {name}: push: a connection's thread panicked"))),
                })
            };
            let mut sent = joined(first);
            if let Some((tx2, h)) = second {
                drop(tx2);
                let s2 = joined(h);
                sent.done += s2.done;
                sent.error = sent.error.or(s2.error);
            }
            let Sent { done, error } = sent;
            match (fed, error) {
                (Ok(()), None) => Ok(done),
                // The server's error is the one to tell when it is what stopped the feed.
                (Ok(()), Some(e)) => Err(so_far(e, done)),
                (Err(_), Some(e)) if stopped => Err(so_far(e, done)),
                (Err(e), _) => Err(so_far(e, done)),
            }
        })
    }
}

/// Make a connection ready to push: room for a batch's temporary rows (about 25 MB) and their sort by position
/// in memory instead of spilling to files (both settings are this session's own, and must come before its
/// first temporary table), and the temporary table.
fn prepare(client: &mut postgres::Client, name: &str) -> Result<()> {
    // No JIT: compiling a batch's INSERT costs more than it could save on rows the planner cannot count.
    let setup = format!("SET temp_buffers = '{MEMORY}'; SET work_mem = '{MEMORY}'; SET jit = off; {TEMP}");
    client.batch_execute(&setup).map_err(|e| failed(name, "push: create the temporary table", e))
}

/// Whose turn it is to insert: the number of the next batch, or that the push stopped (a connection failed,
/// so the batches after it must not be added before it).
#[derive(Default)]
struct Turn {
    state: Mutex<(u64, bool)>,
    changed: Condvar,
}

impl Turn {
    /// Wait for batch `number`'s turn: false when the push stopped first.
    fn wait(&self, number: u64) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while !s.1 && s.0 != number {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        !s.1
    }

    /// Batch `number` is in (or, `stop`, failed): the next batch's turn, or no one's.
    fn pass(&self, number: u64, stop: bool) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if stop {
            s.1 = true;
        } else {
            s.0 = number + 1;
        }
        self.changed.notify_all();
    }
}

/// What one connection did: the batches it committed, and the error that stopped it, if one did.
struct Sent {
    done: Pushed,
    error: Option<Error>,
}

/// The second connection's side: opened here, so the feed goes on meanwhile.
fn other(target: &super::Target, rx: Receiver<Batch>, name: &str, turn: &Turn) -> Sent {
    let opened = super::conn::Target::connect(target).and_then(|mut c| prepare(&mut c, name).map(|()| c));
    match opened {
        Ok(mut client) => send(&mut client, rx, name, turn),
        Err(e) => {
            turn.pass(0, true);
            Sent { done: Pushed::default(), error: Some(e) }
        }
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

/// A connection's side of a push: each batch copied into the temporary table, then, on its turn, inserted
/// and committed (a transaction per batch); what was committed, and the error that stopped it.
fn send(client: &mut postgres::Client, rx: Receiver<Batch>, name: &str, turn: &Turn) -> Sent {
    let mut done = Pushed::default();
    for mut batch in rx {
        batch.finish();
        match one(client, &batch, turn) {
            Ok(Some(added)) => {
                done.records += batch.rows;
                done.added += added;
            }
            // The other connection failed: what it was to add before this batch is not in, so neither is this.
            Ok(None) => break,
            Err(e) => {
                turn.pass(batch.number, true);
                return Sent { done, error: Some(failed(name, "push", e)) };
            }
        }
    }
    Sent { done, error: None }
}

/// One batch: COPY into the temporary table, then on its turn INSERT from it and commit; how many were added,
/// `None` when the push stopped before its turn (nothing of it is added).
fn one(client: &mut postgres::Client, batch: &Batch, turn: &Turn) -> std::result::Result<Option<u64>, postgres::Error> {
    let mut tx = client.transaction()?;
    let mut w = tx.copy_in("COPY pg_temp.tt_push FROM STDIN (FORMAT binary)")?;
    // A write fails only when the connection does; `finish` then returns the driver's error, which says why.
    let _ = w.write_all(&batch.bytes);
    w.finish()?;
    if !turn.wait(batch.number) {
        return Ok(None);
    }
    let added = tx.execute(INSERT.as_str(), &[&(batch.rows as i64), &(batch.first as i64)])?;
    tx.commit()?;
    turn.pass(batch.number, false);
    Ok(Some(added))
}

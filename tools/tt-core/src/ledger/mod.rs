//! The team ledger: a PostgreSQL database that is a usage log, shared by a team's machines and CI runners.
//!
//! A ledger holds the same records a JSONL log holds, each line exactly as it was logged (`line`), beside typed
//! columns for SQL (`ts`, `agent`, `model`, token counts as `bigint`, `cost_usd` as `numeric`). Readers get the
//! lines back in the order they were added, so every tool reads a ledger with the code that reads a file and
//! sees exactly the records it would see there, unknown fields included.
//!
//! * **Idempotent appends.** A record's identity is its [`IdKey`] (the hash bits of a
//!   UUID-shaped id, else the id's text), held in a unique column: adding a record the ledger has is a no-op,
//!   so re-imports, merges and retries never count twice.
//! * **Locks by what a writer reads.** A writer takes session advisory locks ([`Ledger::take`]), released when
//!   its connection closes, so a writer that dies cannot leave one held. Writers that read the ledger before
//!   they write (imports, merges: which of the records they are about to add it holds, [`Ledger::known`]) take
//!   the whole ledger's lock ([`Locks::All`]), so two machines importing at once add each record once and
//!   report it once. A budget check takes one lock per budget window it reads ([`Locks::Only`], named by
//!   `enforce::ledger::window_locks`): writers racing for one window take turns, writers in different windows
//!   do not wait for each other. A plain append reads nothing and takes none: the identity column alone keeps
//!   it from counting twice.
//! * **The schema is tt's** (`schema`): created on first use, versioned in `tt.meta`, migrated forward under a
//!   transaction-level advisory lock; a ledger newer than this tt is refused, never written.
//!
//! `conn` reads the URI, libpq's variables and `~/.pgpass`; `copy` streams lines out with `COPY … (FORMAT
//! binary)`.

pub mod conn;
mod copy;
pub mod kept;
pub mod push;
pub mod reach;
mod schema;
pub mod sum;

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::id::{IdKey, id_key};
use crate::record::Record;

pub use conn::{Target, is_uri};
pub use copy::Lines;
pub use schema::VERSION;

/// The advisory lock key of the whole ledger ("tt-log" in ASCII).
const LOG_LOCK: i64 = 0x74_74_2d_6c_6f_67;

/// What a writer locks before it reads and writes (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locks {
    /// The whole ledger: for a writer whose reads before it writes may touch any record (which of its records
    /// the ledger holds).
    All,
    /// Named parts: a budget window a check reads (`budget\u{0}period\u{0}window`), a reservation whose state a
    /// settle or a release reads. None at all for a plain append.
    Only(Vec<String>),
}

impl Locks {
    /// The advisory lock keys, in the order they are taken: ascending, so two writers wanting some of the
    /// same parts never wait for each other in a circle.
    pub fn keys(&self) -> Vec<i64> {
        match self {
            Locks::All => vec![LOG_LOCK],
            Locks::Only(names) => {
                let mut keys: Vec<i64> = names.iter().map(|n| lock_key(n)).collect();
                keys.sort_unstable();
                keys.dedup();
                keys
            }
        }
    }
}

/// The advisory lock key of a named part: 64 bits of its FNV-1a hash. Two names sharing a key only make their
/// writers take turns; a part's key is never the whole ledger's.
fn lock_key(name: &str) -> i64 {
    let (hi, _) = crate::id::fnv128(name.as_bytes());
    match hi as i64 {
        LOG_LOCK => LOG_LOCK ^ 1,
        k => k,
    }
}

/// Ids per lookup of [`Ledger::known`]: one statement's array stays well under a MB, and a merge of a million
/// records is a hundred round trips.
const KNOWN_BATCH: usize = 10_000;

/// Rows per `INSERT`: big enough that a merge is a few statements, small enough to keep one statement's
/// arrays a few MB.
const BATCH: usize = 2000;

/// A connection to a ledger whose schema is current.
pub struct Ledger {
    client: postgres::Client,
    target: Target,
    /// In a repeatable-read transaction whose snapshot other connections share ([`Ledger::share_snapshot`],
    /// [`Ledger::join_snapshot`]): reads run in it, and it ends when the connection closes.
    in_snapshot: bool,
}

impl Ledger {
    /// Connect, and create or migrate the schema when it is not current.
    pub fn open(target: &Target) -> Result<Ledger> {
        let mut client = target.connect()?;
        schema::ensure(&mut client, target.name())?;
        Ok(Ledger { client, target: target.clone(), in_snapshot: false })
    }

    /// How messages name the ledger (no password).
    pub fn name(&self) -> &str {
        self.target.name()
    }

    fn failed(&self, doing: &str, e: postgres::Error) -> Error {
        Error::ledger(format!("ledger {}: {doing}: {}", self.target.name(), conn::describe(&e)))
    }

    /// Take `locks` (see the module docs), each held until this connection closes: one simple query, so one
    /// round trip on the path of every record tt-log writes, whatever the number of locks.
    pub fn take(&mut self, locks: &Locks) -> Result<()> {
        let sql: String = locks.keys().iter().map(|k| format!("SELECT pg_advisory_lock({k});")).collect();
        if sql.is_empty() {
            return Ok(());
        }
        if std::env::var_os("TT_LEDGER_EXPLAIN").is_some_and(|v| v == "1")
            && let Locks::Only(names) = locks
        {
            for n in names {
                eprintln!("ledger: lock {} (key {})", n.replace('\0', " / "), lock_key(n));
            }
        }
        self.client.batch_execute(&sql).map_err(|e| self.failed("lock", e))
    }

    /// Add whole record lines (each ending in `\n`, as a JSONL log holds them); records whose identity the
    /// ledger already holds are skipped. Returns how many were added. The lines must be records
    /// (`Record::parse` accepts them); nothing is added when one is not.
    pub fn append(&mut self, lines: &str) -> Result<u64> {
        let rows: Vec<Row> = lines
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| Row::new(l).map_err(|e| e.context(format!("record {}", i + 1))))
            .collect::<Result<_>>()?;
        let mut added = 0;
        if rows.len() <= BATCH {
            return self.insert(&rows);
        }
        // Several statements: one transaction, so a failure adds nothing.
        let name = self.target.name().to_string();
        let mut tx = self.client.transaction().map_err(|e| failed(&name, "begin", e))?;
        for batch in rows.chunks(BATCH) {
            added += insert(&mut tx, batch).map_err(|e| failed(&name, "append", e))?;
        }
        tx.commit().map_err(|e| failed(&name, "commit", e))?;
        Ok(added)
    }

    fn insert(&mut self, rows: &[Row]) -> Result<u64> {
        insert(&mut self.client, rows).map_err(|e| self.failed("append", e))
    }

    /// Which of `candidates` the ledger holds (what a merge or an import checks the records it is about to add
    /// against). Only the candidates are looked up, through the unique `id_key` column's index, `KNOWN_BATCH`
    /// at a time: an import of a few records into a ledger of millions reads a few rows, not every id.
    pub fn known(&mut self, candidates: &HashSet<IdKey>) -> Result<HashSet<IdKey>> {
        let keys = keyed(candidates);
        let texts: Vec<&str> = keys.keys().map(String::as_str).collect();
        let mut known = HashSet::new();
        for batch in texts.chunks(KNOWN_BATCH) {
            use postgres::types::Type as T;
            // Typed, so one round trip per batch (no prepare first).
            let rows = self
                .client
                .query_typed("SELECT id_key FROM tt.records WHERE id_key = ANY($1)", &[(&batch, T::TEXT_ARRAY)])
                .map_err(|e| self.failed("read ids", e))?;
            // Mapped back through the candidates' own keys, not by parsing the text: what comes back is
            // exactly the identity that was asked about.
            known.extend(rows.iter().filter_map(|r| keys.get(r.get::<_, &str>(0))).map(|&k| k.clone()));
        }
        Ok(known)
    }

    /// The number of the last record added (0 for none). A reservation notes it, as a file log's hold notes
    /// its length: a record that settles the reservation is added after the hold, so it has a greater one.
    pub fn last_seq(&mut self) -> Result<u64> {
        let row = self
            .client
            .query_one("SELECT coalesce(max(seq), 0) FROM tt.records", &[])
            .map_err(|e| self.failed("read", e))?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    /// The lines of the records added after record number `seq` that name a reservation (`"reservation":"…"`),
    /// as one text (what settles a hold made at `seq`).
    pub fn reservation_lines_after(&mut self, seq: u64) -> Result<String> {
        let rows = self
            .client
            .query(
                "SELECT line FROM tt.records WHERE seq > $1 AND line LIKE '%\"reservation\":\"%' ORDER BY seq",
                &[&(seq as i64)],
            )
            .map_err(|e| self.failed("read", e))?;
        Ok(rows.iter().map(|r| format!("{}\n", r.get::<_, &str>(0))).collect())
    }

    /// Every line of the reservations table (`tt.holds`), in the order written, as one text: what a file log
    /// keeps in `<log>.tt-holds`.
    pub fn hold_lines(&mut self) -> Result<String> {
        let rows =
            self.client.query("SELECT line FROM tt.holds ORDER BY seq", &[]).map_err(|e| self.failed("read", e))?;
        Ok(rows.iter().map(|r| format!("{}\n", r.get::<_, &str>(0))).collect())
    }

    /// Add one line to the reservations table (the caller holds the locks of what the line changes).
    pub fn append_hold_line(&mut self, line: &str) -> Result<()> {
        let line = line.trim_end_matches('\n');
        self.client
            .execute("INSERT INTO tt.holds (line) VALUES ($1)", &[&line])
            .map_err(|e| self.failed("write a reservation", e))?;
        Ok(())
    }

    /// Every record line, in the order the records were added, streamed (see [`Lines`]).
    pub fn lines(self) -> Result<Lines> {
        Lines::start(self.client, self.target.name().to_string(), "SELECT line FROM tt.records ORDER BY seq".into())
    }

    /// Start a read-only transaction whose snapshot other connections can read in too
    /// ([`Ledger::join_snapshot`]): reads spread over several connections then see the ledger at one instant,
    /// a write committed meanwhile in all of them or in none. Every read of this connection runs in it.
    pub fn share_snapshot(&mut self) -> Result<String> {
        let name = self.target.name().to_string();
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| failed(&name, "begin", e))?;
        self.in_snapshot = true;
        let snapshot: String = self
            .client
            .query_one("SELECT pg_export_snapshot()", &[])
            .map_err(|e| failed(&name, "share a snapshot", e))?
            .get(0);
        // It goes into SQL text (SET TRANSACTION takes no parameter): the server's form is hex and dashes.
        if !snapshot.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return Err(Error::ledger(format!("ledger {name}: the server exported an odd snapshot id {snapshot:?}")));
        }
        Ok(snapshot)
    }

    /// Another connection to the ledger, reading in `snapshot` (from [`Ledger::share_snapshot`] on a
    /// connection still open). The schema is not looked at again: the first connection did.
    pub fn join_snapshot(target: &Target, snapshot: &str) -> Result<Ledger> {
        let mut client = target.connect()?;
        client
            .batch_execute(&format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{snapshot}'"
            ))
            .map_err(|e| failed(target.name(), "share the snapshot", e))?;
        Ok(Ledger { client, target: target.clone(), in_snapshot: true })
    }

    /// Every record line as up to `parts` streams, each read over a connection of its own so the server reads
    /// them and the client parses them on several cores at once; a ledger of fewer than `min_records` records
    /// is one stream. All connections read one snapshot (the first exports it, the others import it), so the
    /// parts together are the ledger at one instant: a write committed while they start is in all of them or
    /// in none.
    ///
    /// `order` says how the parts are cut: [`Order::Seq`], ranges of `seq` read through its index, give the
    /// lines in the order the records were added (concatenated, they are [`Ledger::lines`]);
    /// [`Order::Stored`], ranges of the table's pages read as they lie, give every line once, in the order
    /// stored — three times as fast on the server, for readers whose sums do not depend on the order.
    pub fn lines_in_parts(mut self, parts: usize, min_records: u64, order: Order) -> Result<Vec<Lines>> {
        let name = self.target.name().to_string();
        let snapshot = self.share_snapshot()?;
        let row = self
            .client
            .query_one(
                "SELECT min(seq), max(seq), pg_relation_size('tt.records') / current_setting('block_size')::bigint, \
                 current_setting('server_version_num')::int FROM tt.records",
                &[],
            )
            .map_err(|e| failed(&name, "read", e))?;
        let (first, last, pages, version): (Option<i64>, Option<i64>, i64, i32) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        // A range of pages is read by itself from PostgreSQL 14 (a TID range scan); before, each part would
        // scan the whole table.
        let order = if version < 140_000 { Order::Seq } else { order };
        let cuts: Vec<i64> = match (first, last) {
            (Some(a), Some(z)) if parts > 1 && (z - a) as u64 >= min_records => {
                let n = parts as i64;
                match order {
                    Order::Seq => (1..n).map(|k| a + (z - a + 1) * k / n).collect(),
                    Order::Stored => (1..n).map(|k| pages * k / n).collect(),
                }
            }
            _ => Vec::new(),
        };
        let select = |k: usize| {
            let bound = |op: &str, v: i64| match order {
                Order::Seq => format!("seq {op} {v}"),
                Order::Stored => format!("ctid {op} '({v},0)'"),
            };
            let from = k.checked_sub(1).map(|i| bound(">=", cuts[i]));
            let to = cuts.get(k).map(|v| bound("<", *v));
            let cond: Vec<String> = from.into_iter().chain(to).collect();
            let cond = if cond.is_empty() { String::new() } else { format!(" WHERE {}", cond.join(" AND ")) };
            match order {
                Order::Seq => format!("SELECT line FROM tt.records{cond} ORDER BY seq"),
                Order::Stored => format!("SELECT line FROM tt.records{cond}"),
            }
        };
        // The other connections import the snapshot while the first's transaction, which exported it, is open.
        let others: Vec<Ledger> =
            cuts.iter().map(|_| Ledger::join_snapshot(&self.target, &snapshot)).collect::<Result<_>>()?;
        let mut streams = vec![Lines::start(self.client, name.clone(), select(0))?];
        for (k, other) in others.into_iter().enumerate() {
            streams.push(Lines::start(other.client, name.clone(), select(k + 1))?);
        }
        Ok(streams)
    }
}

/// How [`Ledger::lines_in_parts`] cuts the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// By `seq`, each part read in `seq` order through its index: the order the records were added.
    Seq,
    /// By the table's pages, each read as stored. Not the order added when writers ran at once: a push's two
    /// connections each fill pages of their own.
    Stored,
}

fn failed(name: &str, doing: &str, e: postgres::Error) -> Error {
    Error::ledger(format!("ledger {name}: {doing}: {}", conn::describe(&e)))
}

/// One record's typed columns, from its line.
struct Row {
    key: String,
    id: String,
    ts: String,
    agent: String,
    model: String,
    text: [Option<String>; 9],
    tokens: [i64; 5],
    reasoning: Option<i64>,
    cost: Option<String>,
    line: String,
}

impl Row {
    fn new(line: &str) -> Result<Row> {
        let r = Record::parse(line)?;
        let big =
            |n: u64| i64::try_from(n).map_err(|_| Error::data(format!("token count {n} is beyond a ledger's bigint")));
        let t = &r.tokens;
        Ok(Row {
            key: key_text(&id_key(&r.id)),
            ts: r.ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            tokens: [big(t.input)?, big(t.output)?, big(t.cache_read)?, big(t.cache_write)?, big(t.cache_write_1h)?],
            reasoning: r.reasoning_tokens.map(big).transpose()?,
            cost: r.cost_usd.map(|c| c.to_string()),
            text: [r.provider, r.session, r.task, r.project, r.branch, r.commit, r.host, r.user, r.source],
            id: r.id,
            agent: r.agent,
            model: r.model,
            line: line.trim_end_matches(['\r', '\n']).to_string(),
        })
    }
}

/// The unique column's text for an identity: `t` and the 74 hash bits in hex, or `x` and the id.
fn key_text(k: &IdKey) -> String {
    match k {
        IdKey::Tail(t) => format!("t{t:019x}"),
        IdKey::Text(s) => format!("x{s}"),
    }
}

/// The candidates an id lookup asks about, by their unique column's text. A text holding a NUL is left out:
/// PostgreSQL's `text` cannot hold one, so no row has it (and sending it would fail the whole lookup).
fn keyed(candidates: &HashSet<IdKey>) -> std::collections::HashMap<String, &IdKey> {
    candidates.iter().map(|k| (key_text(k), k)).filter(|(t, _)| !t.contains('\0')).collect()
}

/// The one `INSERT` every writer adds records with: `count` rows of `from`, a source of the columns `k, i, t, a,
/// m, p, s, ta, pr, b, gc, h, u, so, it, ot, cr, cw, cw1, rt, c, l` (a row's fields, in `Row`'s order), stored in
/// the order of `order`; a record's identity skips what the ledger holds. The rows draw `count` numbers of
/// `seq` in one go, and the row whose position (1-based, in the order given) is `place` takes the
/// `place`-th smallest: a writer may store rows in another order than given (the records without a cost
/// together, after the others: `push::INSERT`), and `seq` still follows the order given.
fn insert_sql(count: &str, place: &str, from: &str, order: &str) -> String {
    format!(
        "WITH r AS (SELECT array_agg(v ORDER BY v) AS q_seqs FROM \
         (SELECT nextval('tt.records_seq_seq') AS v FROM generate_series(1, {count})) g) \
         INSERT INTO tt.records (seq, id_key, id, ts, agent, model, provider, session, task, project, branch, \
         git_commit, host, user_name, source, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, \
         cache_write_1h_tokens, reasoning_tokens, cost_usd, line) OVERRIDING SYSTEM VALUE \
         SELECT q_seqs[{place}], k, i, t::timestamptz, a, m, p, s, ta, pr, b, gc, h, u, so, it, ot, cr, cw, cw1, \
         rt, c::numeric, l FROM {from}, r ORDER BY {order} ON CONFLICT (id_key) DO NOTHING"
    )
}

/// One `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` of `rows`: the number added. As a push stores a
/// batch (`push::INSERT`): the records with a cost first, then those without, together, while `seq` follows
/// the order given (the rows draw their numbers in one go; the `n`-th row takes the `n`-th smallest).
fn insert(c: &mut impl postgres::GenericClient, rows: &[Row]) -> std::result::Result<u64, postgres::Error> {
    let mut order: Vec<(i64, &Row)> = (1..).zip(rows).collect();
    order.sort_by_key(|(_, r)| r.cost.is_none());
    let rows: Vec<&Row> = order.iter().map(|(_, r)| *r).collect();
    let place: Vec<i64> = order.iter().map(|(n, _)| *n).collect();
    let col = |f: &dyn Fn(&Row) -> String| rows.iter().map(|r| f(r)).collect::<Vec<String>>();
    let opt = |i: usize| rows.iter().map(|r| r.text[i].clone()).collect::<Vec<Option<String>>>();
    let num = |i: usize| rows.iter().map(|r| r.tokens[i]).collect::<Vec<i64>>();
    let (key, id, ts, agent, model) = (
        col(&|r| r.key.clone()),
        col(&|r| r.id.clone()),
        col(&|r| r.ts.clone()),
        col(&|r| r.agent.clone()),
        col(&|r| r.model.clone()),
    );
    let texts: Vec<Vec<Option<String>>> = (0..9).map(opt).collect();
    let nums: Vec<Vec<i64>> = (0..5).map(num).collect();
    let reasoning: Vec<Option<i64>> = rows.iter().map(|r| r.reasoning).collect();
    let cost: Vec<Option<String>> = rows.iter().map(|r| r.cost.clone()).collect();
    let line = col(&|r| r.line.clone());
    use postgres::types::Type as T;
    c.execute_typed(
        &insert_sql(
            "cardinality($23::int8[])",
            "n",
            "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
             $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int8[], \
             $16::int8[], $17::int8[], $18::int8[], $19::int8[], $20::int8[], $21::text[], $22::text[], \
             $23::int8[]) WITH ORDINALITY AS u(k, i, t, a, m, p, s, ta, pr, b, gc, h, u, so, it, ot, cr, cw, cw1, \
             rt, c, l, n, o)",
            "o",
        ),
        // Typed, so the statement goes out with its values in one round trip (no prepare first): one record
        // logged is one round trip after the lock.
        &[
            (&key, T::TEXT_ARRAY),
            (&id, T::TEXT_ARRAY),
            (&ts, T::TEXT_ARRAY),
            (&agent, T::TEXT_ARRAY),
            (&model, T::TEXT_ARRAY),
            (&texts[0], T::TEXT_ARRAY),
            (&texts[1], T::TEXT_ARRAY),
            (&texts[2], T::TEXT_ARRAY),
            (&texts[3], T::TEXT_ARRAY),
            (&texts[4], T::TEXT_ARRAY),
            (&texts[5], T::TEXT_ARRAY),
            (&texts[6], T::TEXT_ARRAY),
            (&texts[7], T::TEXT_ARRAY),
            (&texts[8], T::TEXT_ARRAY),
            (&nums[0], T::INT8_ARRAY),
            (&nums[1], T::INT8_ARRAY),
            (&nums[2], T::INT8_ARRAY),
            (&nums[3], T::INT8_ARRAY),
            (&nums[4], T::INT8_ARRAY),
            (&reasoning, T::INT8_ARRAY),
            (&cost, T::TEXT_ARRAY),
            (&line, T::TEXT_ARRAY),
            (&place, T::INT8_ARRAY),
        ],
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A UUID-shaped id's key is its hash bits (so copies with other timestamps share it), any other id's its
    /// text; the prefixes keep a text that looks like hash bits from meeting them.
    #[test]
    fn key_texts_tell_tails_from_texts() {
        let a = "0190a000-0000-7abc-9def-0123456789ab";
        let b = "0190ffff-ffff-7abc-9def-0123456789ab";
        assert_eq!(key_text(&id_key(a)), key_text(&id_key(b)));
        assert!(key_text(&id_key(a)).starts_with('t'));
        assert_eq!(key_text(&IdKey::Tail(0x1f)), "t000000000000000001f");
        assert_eq!(key_text(&id_key("rec-1")), "xrec-1");
        assert_ne!(key_text(&IdKey::Text("t000000000000000001f".into())), key_text(&IdKey::Tail(0x1f)));
    }

    /// A lookup maps each key text back to the candidate it came from, and leaves out what no row can hold.
    #[test]
    fn lookups_map_back_to_their_candidates() {
        let tail = id_key("0190a000-0000-7abc-9def-0123456789ab");
        let text = IdKey::Text("rec-1".into());
        let nul = IdKey::Text("a\0b".into());
        let candidates: HashSet<IdKey> = [tail.clone(), text.clone(), nul].into_iter().collect();
        let keys = keyed(&candidates);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[&key_text(&tail)], &tail);
        assert_eq!(keys["xrec-1"], &text);
    }
}

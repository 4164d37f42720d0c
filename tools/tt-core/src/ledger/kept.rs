//! Sums kept in the ledger for the next check: a budget window's spend up to a transaction horizon.
//!
//! A budget check sums the records of each window it reads; on a big ledger a month's window, or a total
//! budget's whole ledger, is a scan of most of the table on every record `tt-log --enforce` writes. What a
//! check summed is worth keeping for the next one, but only if the next one can prove which records the kept
//! sum holds — writers do not take turns with a check (a plain append takes no lock) and their transactions
//! commit in any order, so "the records up to `seq` N" is not a set anyone can name: a record with a smaller
//! `seq` may still be in a transaction that commits later.
//!
//! The proof is PostgreSQL's own. Every row carries the id of the transaction that added it (`xact`, schema
//! 6, `pg_current_xact_id()` as its default; rows from before the column are `NULL`, all committed before it
//! was added). A snapshot's `xmin` is the oldest transaction still running when it was taken: every transaction
//! below it has ended, committed or not, so **the records with `xact` below a snapshot's `xmin` are final** —
//! none can be added, and the snapshot sees every one that was committed. A kept sum is the spend of exactly
//! those records for a window (its `horizon` is that `xmin`); a check adds what it sees above the horizon, in
//! one snapshot, and keeps a newer sum (up to its own snapshot's `xmin`) once what it read past the kept one is
//! worth a write (`enforce::ledger`). Records are never updated or deleted by tt; rows changed by other means
//! are outside this (`docs/ledger.md`).
//!
//! A kept sum is keyed by what decides it: the tt that summed it, the config's fingerprint (budgets, zone,
//! week start, prices and catalogue: what prices a record and decides its window) and the budget window. A
//! sum kept by one machine serves every machine with the same config.

use super::{Ledger, failed};
use crate::error::{Error, Result};

/// A window's spend as kept: the records whose `xact` is below `horizon` (or `NULL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// A snapshot's `xmin` (a 64-bit transaction id): every transaction below it had ended.
    pub horizon: u64,
    /// Records.
    pub records: u64,
    /// All tokens.
    pub tokens: u64,
    /// Dollars of the priced records, exact decimal text.
    pub usd: String,
    /// Records that could not be priced.
    pub unpriced: u64,
    /// A sum past its type's range (kept so, never wrapped).
    pub overflow: bool,
}

impl Ledger {
    /// Run `f` in one repeatable-read snapshot (every read in it sees the ledger at one instant), with that
    /// snapshot's horizon: the `xmin` below which every transaction had ended when it was taken.
    pub fn at_one_instant<T>(&mut self, f: impl FnOnce(&mut Ledger, u64) -> Result<T>) -> Result<T> {
        let name = self.target.name().to_string();
        if self.in_snapshot {
            return Err(Error::ledger(format!("ledger {name}: a snapshot inside a snapshot")));
        }
        // One round trip: the transaction, and the horizon of its snapshot (taken by that first query).
        let begun = self.client.simple_query(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_snapshot_xmin(pg_current_snapshot())::text",
        );
        self.in_snapshot = true;
        let ran = begun
            .map_err(|e| failed(&name, "read the snapshot", e))
            .and_then(|messages| {
                messages
                    .iter()
                    .find_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse::<u64>().ok()),
                        _ => None,
                    })
                    .ok_or_else(|| Error::ledger(format!("ledger {name}: an odd transaction horizon")))
            })
            .and_then(|horizon| f(self, horizon));
        self.in_snapshot = false;
        match ran {
            Ok(v) => {
                self.client.batch_execute("COMMIT").map_err(|e| failed(&name, "commit", e))?;
                Ok(v)
            }
            Err(e) => {
                // The error that stopped the reads stands; a failure to roll back after it adds nothing.
                let _ = self.client.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Make sure the planner has statistics for `xact`, gathering them (a sample of the table) when it has
    /// none. The reads after a kept horizon ask for the records of the few transactions since; without
    /// statistics (a ledger just loaded or just migrated) the planner guesses a third of the table for them
    /// and reads all of it, a hundred times the work on a ledger of a million records. With them, even old
    /// ones, it looks up the column's current end in its index and reads the few. A role that may not gather
    /// statistics gets the server's warning, not an error: the sums are exact either way.
    pub fn know_xact(&mut self) -> Result<()> {
        let known: bool = self
            .client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = 'tt' AND tablename = 'records' \
                 AND attname = 'xact')",
                &[],
            )
            .map_err(|e| self.failed("read the statistics", e))?
            .get(0);
        if !known {
            self.client.batch_execute("ANALYZE tt.records (xact)").map_err(|e| self.failed("analyze", e))?;
        }
        Ok(())
    }

    /// The sum kept under `key`, if any (none for a role not allowed to read them).
    pub fn kept(&mut self, key: &str) -> Result<Option<Kept>> {
        let row = self
            .client
            .query_opt(
                "SELECT horizon::text, records, tokens::text, usd::text, unpriced, overflow FROM tt.kept \
                 WHERE key = $1",
                &[&key],
            )
            .or_else(|e| match e.code().map(|c| c.code()) {
                // Not allowed to read the kept sums (a grant from before they existed): none to count from.
                Some("42501") => Ok(None),
                _ => Err(self.failed("read a kept sum", e)),
            })?;
        let Some(row) = row else { return Ok(None) };
        let number = |s: String| s.parse::<u64>().ok();
        let (records, unpriced): (i64, i64) = (row.get(1), row.get(4));
        match (number(row.get(0)), number(row.get(2)), u64::try_from(records), u64::try_from(unpriced)) {
            (Some(horizon), Some(tokens), Ok(records), Ok(unpriced)) => {
                Ok(Some(Kept { horizon, records, tokens, usd: row.get(3), unpriced, overflow: row.get(5) }))
            }
            // A row no tt wrote: not a sum to trust, and not one to count from.
            _ => Err(Error::ledger(format!("ledger {}: the kept sum {key:?} is damaged", self.name()))),
        }
    }

    /// Keep `k` under `key`, unless a sum with the same or a later horizon is kept already (two checks racing
    /// keep the later: each is right, the later saves more). A role without the right to keep sums keeps none.
    pub fn keep(&mut self, key: &str, k: &Kept) -> Result<()> {
        let (records, unpriced) = (k.records as i64, k.unpriced as i64);
        self.client
            .execute(
                "INSERT INTO tt.kept AS o (key, horizon, records, tokens, usd, unpriced, overflow) \
                 VALUES ($1, $2::text::xid8, $3, $4::text::numeric, $5::text::numeric, $6, $7) \
                 ON CONFLICT (key) DO UPDATE SET horizon = EXCLUDED.horizon, records = EXCLUDED.records, \
                 tokens = EXCLUDED.tokens, usd = EXCLUDED.usd, unpriced = EXCLUDED.unpriced, \
                 overflow = EXCLUDED.overflow, kept_at = now() WHERE o.horizon < EXCLUDED.horizon",
                &[&key, &k.horizon.to_string(), &records, &k.tokens.to_string(), &k.usd, &unpriced, &k.overflow],
            )
            .map(drop)
            .or_else(|e| match e.code().map(|c| c.code()) {
                // A role allowed to read and append but not to keep sums: its checks sum each window whole
                // (exact, slower), which is the operator's choice, not an error.
                Some("42501") => Ok(()),
                _ => Err(self.failed("keep a sum", e)),
            })
    }
}

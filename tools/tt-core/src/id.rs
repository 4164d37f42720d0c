//! Record ids: unique and sortable by time.
//!
//! Records logged by hand get a UUIDv7 (48-bit Unix milliseconds, then random bits). Imported records get a
//! *derived* id: the same UUIDv7 layout with the timestamp of the usage and bits taken from a hash of the
//! source's own identity (e.g. Claude Code `message.id` + `requestId`), so two machines importing the same
//! transcript produce the same ids and a merge never double counts.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use chrono::{DateTime, Utc};

fn format_uuid(ms: u64, rand_a: u16, rand_b: u64) -> String {
    let hi: u64 = (ms << 16) | 0x7000 | (rand_a as u64 & 0x0fff);
    let lo: u64 = (rand_b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

fn millis(ts: DateTime<Utc>) -> u64 {
    (ts.timestamp_millis().max(0) as u64) & 0xffff_ffff_ffff
}

/// A fresh random UUIDv7 for a record at `ts`.
pub fn new_id(ts: DateTime<Utc>) -> String {
    // RandomState is seeded from the OS per process; mixing in the pid and a clock reading makes ids from
    // processes started in the same millisecond differ.
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_i64(Utc::now().timestamp_nanos_opt().unwrap_or(0));
    let a = h.finish();
    h.write_u64(a);
    let b = h.finish();
    format_uuid(millis(ts), a as u16, b)
}

/// A deterministic UUIDv7-shaped id for a record at `ts` whose source identity is `key`.
pub fn derived_id(ts: DateTime<Utc>, key: &str) -> String {
    let (a, b) = fnv128(key.as_bytes());
    format_uuid(millis(ts), a as u16, b)
}

/// The derived id of a record at `ts` whose source identity hashes to `hash` (see [`fnv128`]); the same as
/// [`derived_id`] of the key that was hashed.
pub fn derived_id_from_hash(ts: DateTime<Utc>, hash: (u64, u64)) -> String {
    format_uuid(millis(ts), hash.0 as u16, hash.1)
}

/// The hash bits a derived id keeps of its source identity (74 bits), without the timestamp. Two ids with the
/// same tail name the same source request even when they were stamped with different times (a streamed
/// message whose lines carry different timestamps, a replayed Codex event).
pub fn hash_tail(hash: (u64, u64)) -> u128 {
    (((hash.0 & 0x0fff) as u128) << 62) | (hash.1 & 0x3fff_ffff_ffff_ffff) as u128
}

/// The [`hash_tail`] of an id in UUID text form (`None` for ids of another shape).
pub fn id_tail(id: &str) -> Option<u128> {
    let b = id.as_bytes();
    if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    let a = hex(id.get(15..18)?)?;
    let hi = hex(id.get(19..23)?)?;
    let lo = hex(id.get(24..36)?)?;
    Some(hash_tail((a, (hi << 48) | lo)))
}

/// The identity of a record for deduplication. A UUID-shaped id is identified by its [`id_tail`] — the bits
/// after the timestamp — because a derived id's timestamp can differ between two copies of the same request
/// (a streamed or replayed line carries a later time) while its hash bits cannot; random UUIDv7 tails have 74
/// random bits, so they do not collide either. Other ids are compared as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdKey {
    /// The hash bits of a UUID-shaped id.
    Tail(u128),
    /// Any other id, verbatim.
    Text(String),
}

/// The [`IdKey`] of an id.
pub fn id_key(id: &str) -> IdKey {
    match id_tail(id) {
        Some(t) => IdKey::Tail(t),
        None => IdKey::Text(id.to_string()),
    }
}

/// FNV-1a, 128-bit, split in two halves. Stable across versions and platforms (unlike std's hashers).
pub fn fnv128(bytes: &[u8]) -> (u64, u64) {
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for &b in bytes {
        h ^= b as u128;
        h = h.wrapping_mul(PRIME);
    }
    ((h >> 64) as u64, h as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_derive_stably() {
        let t1 = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let t2 = "2026-01-01T00:00:01Z".parse::<DateTime<Utc>>().unwrap();
        assert!(new_id(t1) < new_id(t2));
        assert_ne!(new_id(t1), new_id(t1));
        assert_eq!(derived_id(t1, "msg_1/req_1"), derived_id(t1, "msg_1/req_1"));
        assert_ne!(derived_id(t1, "msg_1/req_1"), derived_id(t1, "msg_1/req_2"));
        assert_eq!(new_id(t1).len(), 36);
        assert_eq!(&new_id(t1)[14..15], "7");
        let h = fnv128(b"msg_1/req_1");
        assert_eq!(derived_id_from_hash(t1, h), derived_id(t1, "msg_1/req_1"));
        assert_eq!(id_tail(&derived_id(t1, "msg_1/req_1")), Some(hash_tail(h)));
        assert_eq!(id_tail(&derived_id(t2, "msg_1/req_1")), Some(hash_tail(h)));
        assert_eq!(id_tail("not-an-id"), None);
    }
}

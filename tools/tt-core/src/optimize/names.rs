//! A compact map from names (sessions, tasks) to per-name state, for the analyses that keep state per session.
//!
//! A log where every record has its own session has as many sessions as records, and a `HashMap<String, V>`
//! costs far more than the state itself there: a 24-byte `String` and a separate heap block per name, and
//! buckets of the whole `(String, V)` pair, most of them empty. Here the names are stored back to back in one
//! text arena, the values in one `Vec` in insertion order (each with the arena offset its name ends at), and the
//! index is an open-addressing table of `u32` positions into that `Vec` — 4 bytes per slot, at most 3/4 full.
//! The hash is recomputed from the arena when the index grows, so it is not stored either. Lookups compare the
//! whole name: two names with the same hash are two entries, never one (nothing here is approximate).
//!
//! [`NameTable::merge`] takes the entries of another table from its end, giving back its memory as it goes, so
//! that combining the tables of two threads never holds both in full plus the result.

use crate::aggregate::FxHasher;
use std::hash::Hasher;

/// The most entries a table can hold: a `u32` position, with `u32::MAX` left for "empty". A table that would
/// pass it refuses the name and says so ([`NameTable::overflowed`]); the analysis turns that into an error.
const MAX_ENTRIES: usize = (u32::MAX - 1) as usize;

/// An empty slot of the index.
const EMPTY: u32 = u32::MAX;

/// The table's hash of a name: the Fx hash, whose high bits (the ones the index uses) are well mixed by its
/// final multiplication.
fn hash(name: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(name.as_bytes());
    // A last multiply-xorshift so that names sharing a long prefix still spread over the whole index.
    let x = h.finish().wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29)
}

/// Names to values, compactly (see the module documentation).
#[derive(Debug, Clone)]
pub struct NameTable<V> {
    /// The names, back to back.
    arena: String,
    /// `(end of the name in the arena, value)`, in insertion order; a name starts where the one before ends.
    entries: Vec<(usize, V)>,
    /// Positions into `entries`, or [`EMPTY`]; the length is a power of two (or zero).
    index: Vec<u32>,
    /// A name was refused because the table was full.
    overflowed: bool,
}

impl<V> Default for NameTable<V> {
    fn default() -> Self {
        NameTable { arena: String::new(), entries: Vec::new(), index: Vec::new(), overflowed: false }
    }
}

/// Where a name that is not in the table would go.
pub struct Vacant {
    hash: u64,
}

impl<V> NameTable<V> {
    /// Number of names.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no names.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// True when a name was refused because the table held [`MAX_ENTRIES`] names already.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    fn name_at(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.entries[i - 1].0 };
        self.arena.get(start..self.entries[i].0).unwrap_or_default()
    }

    /// The first slot to probe for `h`: the high bits, as the low ones of an Fx hash mix poorly.
    fn home(&self, h: u64) -> usize {
        let bits = self.index.len().trailing_zeros();
        if bits == 0 { 0 } else { (h >> (64 - bits)) as usize }
    }

    /// The entry named `name`, or where it would go.
    fn find(&self, name: &str) -> Result<usize, Vacant> {
        let h = hash(name);
        if self.index.is_empty() {
            return Err(Vacant { hash: h });
        }
        let mask = self.index.len() - 1;
        let mut at = self.home(h);
        loop {
            match self.index[at] {
                EMPTY => return Err(Vacant { hash: h }),
                i if self.name_at(i as usize) == name => return Ok(i as usize),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// The value of `name`, if present.
    #[cfg(test)]
    pub fn get(&self, name: &str) -> Option<&V> {
        self.find(name).ok().map(|i| &self.entries[i].1)
    }

    /// The value of `name`, or where to [`Self::insert`] it.
    pub fn get_mut(&mut self, name: &str) -> Result<&mut V, Vacant> {
        match self.find(name) {
            Ok(i) => Ok(&mut self.entries[i].1),
            Err(v) => Err(v),
        }
    }

    /// Add `name` (found vacant by [`Self::get_mut`] on this table, unchanged since) with its value; `false`
    /// when the table is full (then [`Self::overflowed`] says so and the value is dropped).
    pub fn insert(&mut self, vacant: Vacant, name: &str, v: V) -> bool {
        if self.entries.len() >= MAX_ENTRIES {
            self.overflowed = true;
            return false;
        }
        // At most 3/4 full, so that probes stay short.
        if (self.entries.len() + 1) * 4 > self.index.len() * 3 {
            self.grow();
        }
        let mask = self.index.len() - 1;
        let mut at = self.home(vacant.hash);
        while self.index[at] != EMPTY {
            at = (at + 1) & mask;
        }
        self.index[at] = self.entries.len() as u32;
        self.arena.push_str(name);
        self.entries.push((self.arena.len(), v));
        true
    }

    fn grow(&mut self) {
        let size = (self.index.len() * 2).max(16);
        self.index = vec![EMPTY; size];
        let mask = size - 1;
        for i in 0..self.entries.len() {
            let mut at = self.home(hash(self.name_at(i)));
            while self.index[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.index[at] = i as u32;
        }
    }

    /// Every name with its value, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        (0..self.entries.len()).map(move |i| (self.name_at(i), &self.entries[i].1))
    }

    /// Add the names of `o`: `f(mine, theirs)` combines a name both have, the others are moved over. `o`'s
    /// entries are taken from its end and its memory given back as it shrinks, so the two tables are never
    /// both whole alongside the grown one.
    pub fn merge(&mut self, mut o: NameTable<V>, mut f: impl FnMut(&mut V, V)) {
        self.overflowed |= o.overflowed;
        if self.entries.is_empty() && !self.overflowed {
            *self = o;
            return;
        }
        // Not needed to take entries from the end; the index is the largest part after the entries.
        o.index = Vec::new();
        while let Some((end, v)) = o.entries.pop() {
            let start = o.entries.last().map_or(0, |e| e.0);
            let name = o.arena.get(start..end).unwrap_or_default();
            match self.get_mut(name) {
                Ok(mine) => f(mine, v),
                Err(vacant) => {
                    self.insert(vacant, name, v);
                }
            }
            o.arena.truncate(start);
            // Give memory back in halves: often enough to keep the peak down, rarely enough to be cheap.
            if o.entries.capacity() > 1024 && o.entries.len() < o.entries.capacity() / 2 {
                o.entries.shrink_to_fit();
                o.arena.shrink_to_fit();
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn add(t: &mut NameTable<u64>, name: &str, n: u64) {
        match t.get_mut(name) {
            Ok(v) => *v += n,
            Err(vacant) => {
                assert!(t.insert(vacant, name, n));
            }
        }
    }

    fn sorted(t: &NameTable<u64>) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = t.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        v.sort();
        v
    }

    #[test]
    fn names_map_to_their_values_through_growth_and_merges() {
        let names: Vec<String> = (0..5000).map(|i| format!("s-{}", i * 7919 % 10007)).collect();
        let mut whole = NameTable::default();
        let mut want = std::collections::BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            add(&mut whole, n, i as u64);
            *want.entry(n.clone()).or_insert(0) += i as u64;
        }
        // The empty name is a name too, and a prefix of others is not them.
        add(&mut whole, "", 1);
        add(&mut whole, "s-1", 0);
        *want.entry(String::new()).or_insert(0) += 1;
        *want.entry("s-1".to_string()).or_insert(0) += 0;
        let want: Vec<(String, u64)> = want.into_iter().collect();
        assert_eq!(sorted(&whole), want);
        assert_eq!(whole.get("s-1"), want.iter().find(|x| x.0 == "s-1").map(|x| &x.1));
        assert_eq!(whole.get("s-"), None);
        // Split in three parts, merged in order: the same map.
        for cut in [0, 1, 2500, 4999] {
            let mut a = NameTable::default();
            let mut b = NameTable::default();
            let mut c = NameTable::default();
            for (i, n) in names.iter().enumerate() {
                add(
                    if i < cut {
                        &mut a
                    } else if i % 2 == 0 {
                        &mut b
                    } else {
                        &mut c
                    },
                    n,
                    i as u64,
                );
            }
            add(&mut c, "", 1);
            add(&mut a, "s-1", 0);
            a.merge(b, |x, y| *x += y);
            a.merge(c, |x, y| *x += y);
            assert_eq!(sorted(&a), want, "cut {cut}");
            assert_eq!(a.len(), want.len());
        }
    }
}

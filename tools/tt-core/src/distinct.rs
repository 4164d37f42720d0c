//! Counting distinct names (sessions) in bounded memory: exact up to [`EXACT_MAX`] per counter, then an estimate;
//! and the fast hasher behind the maps keyed by names from the user's own log ([`FxMap`], [`FxSet`]).
//!
//! A group's distinct sessions used to be a set of every session name, so memory grew with the number of
//! sessions — with records, on a log where each record has its own session. Here a name is kept as a 64-bit
//! hash (exact but for a collision, about 1 in 10^10 at [`EXACT_MAX`] names); past [`EXACT_MAX`] the counter turns
//! into a HyperLogLog sketch of 2^12 one-byte registers (4 KiB, standard error about 1.6%), and its count is an
//! estimate, which every output says ([`Distinct::is_estimate`]). Counters merge (sets united, sketches by
//! register maximum), so split inputs give the same answer as one pass.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A fast non-cryptographic hasher (the Fx hash of rustc) for group keys: the inputs are the user's own log,
/// so hash flooding is not a concern, and SipHash would be a visible share of `tt-sum`'s time.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// A `HashSet` with [`FxHasher`].
pub type FxSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// Names counted exactly per counter before it turns into an estimate.
pub const EXACT_MAX: usize = 65_536;
/// Register index bits of the sketch: 2^12 registers.
const P: u32 = 12;
const M: usize = 1 << P;

/// A distinct count: exact (a set of hashes) or estimated (a HyperLogLog sketch).
#[derive(Debug, Clone, Default)]
pub struct Distinct {
    exact: FxSet<u64>,
    sketch: Option<Box<[u8]>>,
}

/// A name's 64-bit hash: FNV-1a, then the SplitMix64 finaliser so every bit is mixed (the sketch reads the
/// leading zeros of the low bits and the register index from the high ones).
pub fn hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn register(sketch: &mut [u8], h: u64) {
    let i = (h >> (64 - P)) as usize;
    // Leading zeros of the rest, plus one (the rest has 64 - P bits).
    let rank = ((h << P) | (1 << (P - 1))).leading_zeros() as u8 + 1;
    if rank > sketch[i] {
        sketch[i] = rank;
    }
}

impl Distinct {
    /// Count `name`.
    #[inline]
    pub fn insert(&mut self, name: &str) {
        self.insert_hash(hash(name));
    }

    fn insert_hash(&mut self, h: u64) {
        match &mut self.sketch {
            Some(s) => register(s, h),
            None => {
                self.exact.insert(h);
                if self.exact.len() > EXACT_MAX {
                    self.switch_to_sketch();
                }
            }
        }
    }

    fn switch_to_sketch(&mut self) {
        let mut s = vec![0u8; M].into_boxed_slice();
        for &h in &self.exact {
            register(&mut s, h);
        }
        self.exact = FxSet::default();
        self.sketch = Some(s);
    }

    /// Add another counter's names.
    pub fn merge(&mut self, o: Distinct) {
        match (self.sketch.is_some(), o.sketch) {
            (_, Some(os)) => {
                if self.sketch.is_none() {
                    self.switch_to_sketch();
                }
                if let Some(s) = &mut self.sketch {
                    for (a, b) in s.iter_mut().zip(os.iter()) {
                        *a = (*a).max(*b);
                    }
                }
            }
            (true, None) => {
                for h in o.exact {
                    self.insert_hash(h);
                }
            }
            (false, None) => {
                if self.exact.len() < o.exact.len() {
                    let mine = std::mem::replace(&mut self.exact, o.exact);
                    for h in mine {
                        self.insert_hash(h);
                    }
                } else {
                    for h in o.exact {
                        self.insert_hash(h);
                    }
                }
            }
        }
    }

    /// True when [`Distinct::count`] is an estimate.
    pub fn is_estimate(&self) -> bool {
        self.sketch.is_some()
    }

    /// The number of distinct names: exact, or the HyperLogLog estimate (with the small-range correction).
    pub fn count(&self) -> u64 {
        let Some(s) = &self.sketch else { return self.exact.len() as u64 };
        let m = M as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = s.iter().map(|&r| 2f64.powi(-i32::from(r))).sum();
        let raw = alpha * m * m / sum;
        let zeros = s.iter().filter(|&&r| r == 0).count();
        let est = if raw <= 2.5 * m && zeros > 0 { m * (m / zeros as f64).ln() } else { raw };
        // Never below what was counted exactly before the switch.
        (est.round() as u64).max(EXACT_MAX as u64 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_up_to_the_bound_then_within_a_few_percent() {
        let mut d = Distinct::default();
        for i in 0..EXACT_MAX {
            d.insert(&format!("session-{i}"));
            d.insert(&format!("session-{i}"));
        }
        assert_eq!((d.count(), d.is_estimate()), (EXACT_MAX as u64, false));
        for i in EXACT_MAX..1_000_000 {
            d.insert(&format!("session-{i}"));
        }
        assert!(d.is_estimate());
        let err = (d.count() as f64 - 1e6).abs() / 1e6;
        assert!(err < 0.05, "{} ({err})", d.count());
    }

    #[test]
    fn merging_halves_gives_the_count_of_the_whole() {
        let (mut a, mut b, mut whole) = (Distinct::default(), Distinct::default(), Distinct::default());
        for i in 0..200_000 {
            let s = format!("s{i}");
            if i % 2 == 0 {
                a.insert(&s)
            } else {
                b.insert(&s)
            }
            whole.insert(&s);
        }
        a.merge(b);
        assert_eq!(a.count(), whole.count());
        // Small exact sets merge exactly, overlaps counted once.
        let (mut x, mut y) = (Distinct::default(), Distinct::default());
        for s in ["a", "b", "c"] {
            x.insert(s);
        }
        for s in ["c", "d"] {
            y.insert(s);
        }
        x.merge(y);
        assert_eq!((x.count(), x.is_estimate()), (4, false));
    }
}

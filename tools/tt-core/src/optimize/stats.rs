//! Small exact statistics for tt-optimize: nearest-rank percentiles, a deterministic bounded sample, ratios.
//!
//! Percentiles use the nearest-rank method (the smallest value with at least p% of the values at or below it),
//! so every percentile is one of the observed costs — an exact decimal, never an interpolation.
//!
//! Per-agent record costs are kept in a [`Sample`]: the `SAMPLE_SIZE` records whose id hashes lowest
//! ("bottom-k" sampling). Memory per agent is bounded; the percentiles are exact while an agent has at most
//! `SAMPLE_SIZE` priced records and an unbiased estimate above that. The sample depends only on the set of
//! record ids, so it is the same for the same input in any order.

/// Counts with their noun (`1 record`, `1,234 records`), as everywhere in tt.
pub use crate::money::plural;
use rust_decimal::Decimal;
use serde_json::Value;

/// How many record costs per agent the percentile sample keeps.
pub const SAMPLE_SIZE: usize = 10_000;

/// FNV-1a, 64 bits: a fixed, documented hash (std's hasher may change between Rust releases).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A bounded, deterministic sample of costs: the [`SAMPLE_SIZE`] entries with the smallest id hashes.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// A max-heap on the hash, so the entry to evict is on top.
    heap: std::collections::BinaryHeap<(u64, Decimal)>,
    /// Every value offered, sampled or not.
    pub seen: u64,
}

impl Sample {
    /// Offer one value keyed by its record id.
    pub fn offer(&mut self, id: &str, value: Decimal) {
        self.seen += 1;
        self.keep(fnv1a(id.as_bytes()), value);
    }

    /// Combine with the sample of another part of the input: the same as offering both parts to one sample.
    pub fn merge(&mut self, o: Sample) {
        self.seen += o.seen;
        for (h, v) in o.heap {
            self.keep(h, v);
        }
    }

    fn keep(&mut self, h: u64, value: Decimal) {
        if self.heap.len() < SAMPLE_SIZE {
            self.heap.push((h, value));
        } else if let Some(top) = self.heap.peek()
            && (h, value) < *top
        {
            self.heap.pop();
            self.heap.push((h, value));
        }
    }

    /// The sampled values, sorted ascending.
    pub fn sorted(&self) -> Vec<Decimal> {
        let mut v: Vec<Decimal> = self.heap.iter().map(|(_, c)| *c).collect();
        v.sort();
        v
    }

    /// True when the sample holds every value offered (its percentiles are exact).
    pub fn is_exact(&self) -> bool {
        self.seen as usize == self.heap.len()
    }
}

/// The nearest-rank `p`-th percentile (1–100) of ascending `sorted` values; `None` when empty.
pub fn percentile(sorted: &[Decimal], p: u32) -> Option<Decimal> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    // rank = ceil(p/100 · n), at least 1.
    let rank = (u64::from(p) * n).div_ceil(100).max(1);
    sorted.get((rank - 1) as usize).copied()
}

/// `a / b` rounded to `places` decimals (half away from zero); `None` when `b` is zero.
pub fn ratio(a: Decimal, b: Decimal, places: u32) -> Option<Decimal> {
    if b.is_zero() {
        return None;
    }
    a.checked_div(b).map(|q| q.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

/// An exact decimal as a JSON number with exactly its digits (serde_json's arbitrary precision keeps them).
pub fn money_json(d: Decimal) -> Value {
    serde_json::from_str(&crate::money::canonical(d)).unwrap_or(Value::Null)
}

/// An optional decimal as a JSON number or null.
pub fn opt_json(d: Option<Decimal>) -> Value {
    d.map(money_json).unwrap_or(Value::Null)
}

/// `a += b`, saturating at the largest `Decimal` instead of panicking. The analyses' sums are parts of the
/// [`super::Analyzer`]'s exact grand total, which is checked: when a part could saturate, the grand total overflowed
/// and the run is an error, so a saturated sum is never reported.
#[inline]
pub fn sat_add(a: &mut Decimal, b: Decimal) {
    *a = a.checked_add(b).unwrap_or(Decimal::MAX);
}

/// A percentage for messages: `12.5%`.
pub fn pct(fraction: Decimal) -> String {
    let p = fraction
        .checked_mul(Decimal::ONE_HUNDRED)
        .unwrap_or(Decimal::MAX)
        .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{}%", crate::money::canonical(p))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    #[test]
    fn nearest_rank() {
        let v: Vec<Decimal> = (1..=20).map(d).collect();
        assert_eq!(percentile(&v, 50), Some(d(10)));
        assert_eq!(percentile(&v, 95), Some(d(19)));
        assert_eq!(percentile(&v, 100), Some(d(20)));
        assert_eq!(percentile(&v[..1], 95), Some(d(1)));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn sample_is_order_independent() {
        let mut a = Sample::default();
        let mut b = Sample::default();
        let ids: Vec<String> = (0..(SAMPLE_SIZE + 500)).map(|i| format!("id-{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            a.offer(id, d(i as i64));
        }
        for (i, id) in ids.iter().enumerate().rev() {
            b.offer(id, d(i as i64));
        }
        assert_eq!(a.sorted(), b.sorted());
        assert!(!a.is_exact());
        assert_eq!(a.sorted().len(), SAMPLE_SIZE);
    }
}

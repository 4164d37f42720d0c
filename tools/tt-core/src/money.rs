//! Exact money and friendly numbers.
//!
//! Money is a [`Decimal`] everywhere (never `f64`): prices are USD per million tokens, costs are their exact
//! products. Prices written in TOML as floats are converted through their shortest round-trip decimal text, so
//! `3.75` in a config is exactly 3.75, not 3.75000000000000008882.

use rust_decimal::Decimal;
use std::str::FromStr;

pub use rust_decimal::Decimal as Money;

/// One million, the unit prices are quoted in.
pub const MILLION: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// The largest amount of money (a budget limit, a factor) a config or a flag accepts: 10^15, so sums of limits
/// and spend stay far inside `Decimal`'s range.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// Parse an exact decimal (`"0.375"`, `"1e-3"`, `"12"`); `None` when the text is not a number.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.contains(['e', 'E']) { Decimal::from_scientific(s).ok() } else { Decimal::from_str(s).ok() }
}

/// A TOML/JSON float to an exact decimal via its shortest round-trip text (what the user typed).
pub fn decimal_from_f64(f: f64) -> Option<Decimal> {
    if !f.is_finite() {
        return None;
    }
    parse_decimal(&format!("{f}"))
}

/// The canonical text of an amount: normalised, no trailing zeros, no exponent (`0.375`, `12`, `0`).
pub fn canonical(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() { "0".to_string() } else { n.to_string() }
}

/// `d` as an exact JSON number (its canonical digits, never through f64).
pub fn decimal_json(d: Decimal) -> serde_json::Value {
    serde_json::from_str(&canonical(d)).unwrap_or(serde_json::Value::Null)
}

/// An amount rounded half-away-from-zero to `places` decimals, always showing them (`0.3750`).
pub fn fixed(d: Decimal, places: u32) -> String {
    let r = d.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let s = format!("{r:.prec$}", prec = places as usize);
    group_integer_part(&s)
}

/// Dollars for people: `$1,234.56` for amounts of a dollar or more, four places below (`$0.3750`).
pub fn usd(d: Decimal) -> String {
    let places = if d.abs() >= Decimal::ONE { 2 } else { 4 };
    let s = fixed(d, places);
    match s.strip_prefix('-') {
        Some(rest) => format!("-${rest}"),
        None => format!("${s}"),
    }
}

/// [`usd`], but `$0` for nothing: how budget reports, advice and charts say a zero (it reads at a glance).
pub fn usd_or_zero(d: Decimal) -> String {
    if d.is_zero() { "$0".into() } else { usd(d) }
}

/// Dollars to four places, whatever the amount (`$0.3750`, `$1.1750`, `$1,234.5000`): the one rule for the cost of
/// a single request, in `tt-log`'s confirmation and `tt-price --quote`, so the two always show the same figure.
pub fn usd4(d: Decimal) -> String {
    let s = fixed(d, 4);
    match s.strip_prefix('-') {
        Some(rest) => format!("-${rest}"),
        None => format!("${s}"),
    }
}

/// A count with its noun, plural unless it is one: `1 record`, `1,234 records`.
pub fn plural(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// An integer with thousands separators: `65,000`.
pub fn thousands(n: u64) -> String {
    group_integer_part(&n.to_string())
}

/// Same for signed integers.
pub fn thousands_i(n: i128) -> String {
    group_integer_part(&n.to_string())
}

fn group_integer_part(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(65000), "65,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(usd(parse_decimal("0.375").unwrap()), "$0.3750");
        assert_eq!(usd(parse_decimal("1234.5").unwrap()), "$1,234.50");
        assert_eq!(usd4(parse_decimal("1.175").unwrap()), "$1.1750");
        assert_eq!(usd4(parse_decimal("0.00005").unwrap()), "$0.0001");
        assert_eq!(canonical(parse_decimal("0.3750").unwrap()), "0.375");
        assert_eq!(decimal_from_f64(3.75), parse_decimal("3.75"));
        assert_eq!(decimal_from_f64(0.3), parse_decimal("0.3"));
        assert_eq!(parse_decimal("1e-3"), parse_decimal("0.001"));
    }
}

//! Values users type on command lines, parsed the same way by every tool: token counts, amounts, durations,
//! the years a time may have, and the words a flag takes (for completions). Times in a time zone are read by
//! [`crate::period`] (`period::parse_when` for `--ts`), which checks their years here.

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::money;

/// The earliest `--ts` accepted: usage of AI models before 2000 is a typo, not a record.
pub const EARLIEST_YEAR: i32 = 2000;

/// The latest year (UTC) a `ts` may have: RFC 3339 has four-digit years, so a later instant would be written as
/// `+10000-…`, which no reader accepts.
pub const LATEST_YEAR: i32 = 9999;

/// Parse a token count: plain digits (`1000`), or digits in proper thousands groups with one separator,
/// `,` or `_` (`1,000`, `1_000_000`), not above `max`. Anything else (`12,5`, `1__0`, `_1`, ` 5`) is refused.
pub fn parse_tokens(field: &str, s: &str, max: u64) -> Result<u64> {
    let bad = || Error::data(format!("{field} tokens must be a non-negative integer, got {s:?}"));
    let digits = thousands_digits(s).ok_or_else(bad)?;
    let n: u64 = digits.parse().map_err(|_| Error::data(format!("{field} tokens are out of range: {s}")))?;
    if n > max {
        return Err(Error::data(format!(
            "{field} tokens {} exceed the maximum of {} per record (raise `max_tokens` in the config if this is real)",
            money::thousands(n),
            money::thousands(max)
        )));
    }
    Ok(n)
}

/// The digits of `s` when it is plain ASCII digits or digits grouped by threes with a single kind of
/// separator (`,` or `_`) and a first group of one to three digits.
fn thousands_digits(s: &str) -> Option<String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Some(s.to_string());
    }
    let sep = if s.contains(',') { ',' } else { '_' };
    let mut groups = s.split(sep);
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = first.to_string();
    let mut any = false;
    for g in groups {
        if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push_str(g);
        any = true;
    }
    any.then_some(out)
}

/// Parse a dollar amount a flag gives (`12`, `4.50`, `$4.50`): exact, not negative, at most
/// [`money::MAX_AMOUNT`] (10^15, the bound a config's amounts have).
pub fn parse_usd(flag: &str, s: &str) -> Result<Decimal> {
    match money::parse_decimal(s.trim().trim_start_matches('$')) {
        Some(d) if d > money::MAX_AMOUNT => Err(Error::usage(format!(
            "{flag} is too large: at most {} dollars, as in the config, got {s:?}",
            money::MAX_AMOUNT
        ))),
        Some(d) if d >= Decimal::ZERO => Ok(d),
        _ => Err(Error::usage(format!("{flag} wants a non-negative amount of dollars, got {s:?}"))),
    }
}

/// Parse a token count a flag gives, as [`parse_tokens`] reads counts (`1000`, `1,000`, `1_000_000`; not
/// `1,0,0`).
pub fn parse_token_flag(flag: &str, s: &str) -> Result<u64> {
    parse_tokens(flag, s.trim(), u64::MAX)
        .map_err(|_| Error::usage(format!("{flag} wants a non-negative integer (1000, 1,000 or 1_000), got {s:?}")))
}

/// Parse a duration in ms: `250`, `250ms`, `1.5s`, `2m`, `1h`.
pub fn parse_duration(s: &str) -> Result<u64> {
    let t = s.trim();
    let bad = || Error::data(format!("duration must be milliseconds or a number with ms/s/m/h, got {s:?}"));
    let (num, mult) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1u64)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        (t, 1)
    };
    let d = money::parse_decimal(num).filter(|d| !d.is_sign_negative()).ok_or_else(bad)?;
    let too_long = || Error::data(format!("duration {s:?} is too long"));
    let ms = d.checked_mul(Decimal::from(mult)).ok_or_else(too_long)?.round();
    u64::try_from(ms).map_err(|_| too_long())
}

/// The years every time a user types must fall in, `--ts` and `--at` as much as `--today`, `--since` and
/// `--until`: from [`EARLIEST_YEAR`] to [`LATEST_YEAR`], as the instant's UTC year (the instant `s` names; for
/// a date, its midnight). Outside them: a one-line usage error quoting `s`.
pub fn check_years(s: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if t.year() > LATEST_YEAR {
        return Err(Error::usage(format!(
            "time {s:?} is after the year {LATEST_YEAR} in UTC: an RFC 3339 timestamp cannot hold it"
        )));
    }
    if t.year() < EARLIEST_YEAR {
        return Err(Error::usage(format!("time {s:?} is before {EARLIEST_YEAR}: not a plausible usage time")));
    }
    Ok(t)
}

/// A value parser for a flag whose words form a known set but whose value is checked later (a comma list such
/// as `--by agent,day`, `tag:KEY`, or a level that may also be a fraction): it takes any text, like a plain
/// `String` flag, and names the words, so the generated shell completions offer them instead of file names.
/// Use with `hide_possible_values = true` when the flag's help already lists them.
#[derive(Clone, Copy, Debug)]
pub struct Words(pub &'static [&'static str]);

impl clap::builder::TypedValueParser for Words {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|w| clap::builder::PossibleValue::new(*w))))
    }
}

/// The output formats of the report tools (tt-sum, tt-budget), as completions offer them.
pub const REPORT_FORMATS: Words = Words(&["table", "json", "jsonl", "csv", "markdown"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_counts_take_plain_digits_or_proper_groups() {
        for (s, n) in [("0", 0), ("1000", 1000), ("1,000", 1000), ("1_000", 1000), ("12,345,678", 12_345_678)] {
            assert_eq!(parse_tokens("input", s, u64::MAX).unwrap(), n, "{s}");
        }
        for s in ["", "12,5", "1,0,0", "1__0", "_1", "1_", " 5", "5 ", "1,000_000", "1234,567", "-1", "+1", "1.0"] {
            assert!(parse_tokens("input", s, u64::MAX).is_err(), "{s:?} accepted");
        }
        assert!(parse_tokens("input", "18446744073709551616", u64::MAX).is_err());
    }

    #[test]
    fn durations_never_overflow() {
        assert_eq!(parse_duration("1.5s").unwrap(), 1500);
        assert_eq!(parse_duration("2m").unwrap(), 120_000);
        assert!(parse_duration("79228162514264337593543950335h").is_err());
        assert!(parse_duration("18446744073709551616").is_err());
    }
}

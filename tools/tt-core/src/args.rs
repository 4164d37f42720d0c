//! Values users type on command lines, parsed the same way by every tool: token counts, times, durations.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::error::{Error, Result};
use crate::money;

/// Parse a token count: a non-negative integer (`_` and `,` separators allowed) not above `max`.
pub fn parse_tokens(field: &str, s: &str, max: u64) -> Result<u64> {
    let clean: String = s.trim().chars().filter(|c| *c != '_' && *c != ',').collect();
    if clean.is_empty() || !clean.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::data(format!("{field} tokens must be a non-negative integer, got {s:?}")));
    }
    let n: u64 = clean.parse().map_err(|_| Error::data(format!("{field} tokens are out of range: {s}")))?;
    if n > max {
        return Err(Error::data(format!(
            "{field} tokens {} exceed the maximum of {} per record (raise `max_tokens` in the config if this is real)",
            money::thousands(n),
            money::thousands(max)
        )));
    }
    Ok(n)
}

/// Parse a duration in ms: `250`, `250ms`, `1.5s`, `2m`.
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
    let ms = (d * rust_decimal::Decimal::from(mult)).round();
    u64::try_from(ms).map_err(|_| bad())
}

/// Parse `--ts`: RFC 3339, or a naive date / date-time taken in the configured time zone.
pub fn parse_when(s: &str, tz: chrono_tz::Tz) -> Result<DateTime<Utc>> {
    let t = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)));
    match naive.and_then(|n| tz.from_local_datetime(&n).earliest()) {
        Some(d) => Ok(d.with_timezone(&Utc)),
        None => Err(Error::data(format!(
            "not a valid time: {s:?} (want RFC 3339 such as 2026-11-23T14:05:00Z, or 2026-11-23 / 2026-11-23 14:05)"
        ))),
    }
}

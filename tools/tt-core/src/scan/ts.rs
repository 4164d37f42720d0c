//! Timestamps in the shapes tt writes, read without chrono's general parser (which costs more than the rest of a
//! line): `None` for any other shape, and the caller asks `crate::record::parse_ts`, so a shape this does not
//! know is slower, never refused.

use std::cell::Cell;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

/// RFC 3339 in the shapes tt writes (`2026-11-23T14:05:00.123Z`, `…+01:00`), without chrono's general parser.
/// `None` for anything else — leap seconds, other shapes — which the caller hands to the general parser.
#[inline]
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (pair(b, 11)?, pair(b, 14)?, pair(b, 17)?);
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    // The shape tt-log writes, `…:SS.mmmZ`, without the general loops below.
    if let [.., b'.', x, y, z, b'Z'] = *b
        && b.len() == 24
    {
        let (x, y, z) = (x.wrapping_sub(b'0'), y.wrapping_sub(b'0'), z.wrapping_sub(b'0'));
        if x > 9 || y > 9 || z > 9 {
            return None;
        }
        let millis = u32::from(x) * 100 + u32::from(y) * 10 + u32::from(z);
        let time = NaiveTime::from_num_seconds_from_midnight_opt(h * 3600 + mi * 60 + sec, millis * 1_000_000)?;
        return Some(date_of(b)?.and_time(time).and_utc());
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        i += 1;
        let from = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - from;
        if n == 0 || n > 9 {
            return None;
        }
        nanos = digits(&b[from..i])? * 10u32.pow(9 - n as u32);
    }
    let offset: i64 = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (hh, mm) = (i64::from(pair(b, i + 1)?), i64::from(pair(b, i + 4)?));
            if hh > 23 || mm > 59 {
                return None;
            }
            let o = hh * 3600 + mm * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let date = date_of(b)?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(h * 3600 + mi * 60 + sec, nanos)?;
    let t = date.and_time(time).and_utc();
    if offset == 0 { Some(t) } else { t.checked_sub_signed(TimeDelta::seconds(offset)) }
}

/// The two decimal digits at `b[i..i + 2]` as a number.
#[inline(always)]
fn pair(b: &[u8], i: usize) -> Option<u32> {
    let (x, y) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
    (x < 10 && y < 10).then(|| u32::from(x) * 10 + u32::from(y))
}

/// The value of a run of ASCII digits (at most nine), or `None` if any byte is not a digit.
#[inline]
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
}

thread_local! {
    /// The last date [`date_of`] parsed, by its text: logs are in time order, so nearly every record repeats
    /// the previous one's date, and validating and converting it again is wasted work. Per thread, so the
    /// reader threads never contend.
    static LAST_DATE: Cell<Option<([u8; 10], NaiveDate)>> = const { Cell::new(None) };
}

/// The validated calendar date of the `YYYY-MM-DD` at the start of `b` (at least 10 bytes), cached.
#[inline]
fn date_of(b: &[u8]) -> Option<NaiveDate> {
    let key: [u8; 10] = *b.first_chunk::<10>()?;
    if let Some((k, d)) = LAST_DATE.get()
        && k == key
    {
        return Some(d);
    }
    let (y, mo, d) = (pair(&key, 0)? * 100 + pair(&key, 2)?, pair(&key, 5)?, pair(&key, 8)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in(y, mo) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?;
    LAST_DATE.set(Some((key, date)));
    Some(date)
}

fn days_in(y: u32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_ts_matches_chrono() {
        // Repeated and alternating dates, so the cached date is both hit and replaced (also by a bad date).
        for s in [
            "2026-11-23T14:05:00Z",
            "2026-11-23T14:05:00.123456789Z",
            "2026-11-23T00:30:00+01:00",
            "2024-02-29T23:59:59+05:30",
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00.5-08:00",
            "2026-11-23T23:59:59-14:00",
            "0000-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_ts(s), crate::record::parse_ts(s).ok(), "{s}");
        }
        // Every day of four centuries (leap years, century rules), at changing times and offsets.
        let mut day = chrono::NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        for k in 0..146_200u32 {
            let (h, m, sec) = (k % 24, (k * 7) % 60, (k * 13) % 60);
            let off = ["Z", "+00:00", "+05:45", "-09:30", "+14:00", "-12:00"][(k % 6) as usize];
            let s = format!("{}T{h:02}:{m:02}:{sec:02}.{:03}{off}", day.format("%Y-%m-%d"), k % 1000);
            assert_eq!(parse_ts(&s), crate::record::parse_ts(&s).ok(), "{s}");
            day = day.succ_opt().unwrap();
        }
        for s in [
            "2026-11-23T14:05:60Z",
            "2026-00-10T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-23T14:05:00+24:00",
            "2026-11-23T14:05:00.Z",
            "2026-11-23T14:05:00.1a3Z",
            "2026-11-23T14:05:00.12/Z",
            "2026-11-23T14:05:00.:12Z",
            "2026-11-23T14:05:00.123z",
            "2026-1a-23T14:05:00Z",
            "2026-11-23T14:05:00",
        ] {
            assert_eq!(parse_ts(s), None, "{s}");
        }
        assert_eq!(parse_ts("2025-02-29T00:00:00Z"), None);
        assert_eq!(parse_ts("2026-11-23T24:00:00Z"), None);
        assert_eq!(parse_ts("2025-02-29T00:00:00Z"), None);
    }
}

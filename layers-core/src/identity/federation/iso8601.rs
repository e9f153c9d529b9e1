//! ISO 8601 / RFC 3339 UTC timestamps (the STS's `Expiration`) as seconds since the Unix epoch.

/// Parses an ISO 8601 / RFC 3339 UTC time, `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (`+00:00` is
/// accepted for `Z`; the fraction, 1–9 digits, is truncated), into seconds since the Unix
/// epoch. Years 1970–9999; the date must exist (leap years follow the Gregorian rules).
/// Other offsets, missing parts, leap seconds and trailing text give `None`.
#[must_use]
pub(super) fn parse_iso8601_utc(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = b.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits.iter().try_fold(0u64, |acc, d| Some(acc * 10 + u64::from(d - b'0')))
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        i += 1 + digits;
    }
    match &b[i..] {
        b"Z" | b"z" | b"+00:00" => {}
        _ => return None,
    }
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // Within 1970..=9999, with the month and day checked above: a day count ≥ 0.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]
    let days = crate::time::days_from_civil(year as i64, month as u32, day as u32) as u64;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

fn is_leap(y: u64) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_known_instants() {
        let cases = [
            ("1970-01-01T00:00:00Z", 0),
            ("1970-01-01T00:00:01Z", 1),
            ("2014-10-24T23:00:23Z", 1_414_191_623),
            ("2026-11-28T19:00:00Z", 1_795_892_400),
            ("2024-02-29T12:00:00Z", 1_709_208_000),
            ("2000-02-29T00:00:00Z", 951_782_400),
            ("2100-03-01T00:00:00Z", 4_107_542_400),
            ("2400-02-29T00:00:00Z", 13_574_563_200),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
            // Fractional seconds are truncated, up to nanoseconds.
            ("2026-11-28T19:00:00.5Z", 1_795_892_400),
            ("2026-11-28T19:00:00.999Z", 1_795_892_400),
            ("2026-11-28T19:00:00.123456789Z", 1_795_892_400),
            // RFC 3339 spellings of the same UTC instant.
            ("2026-11-28t19:00:00z", 1_795_892_400),
            ("2026-11-28T19:00:00+00:00", 1_795_892_400),
        ];
        for (s, want) in cases {
            assert_eq!(parse_iso8601_utc(s), Some(want), "{s}");
        }
    }

    #[test]
    fn iso8601_refuses_non_utc_and_malformed() {
        let bad = [
            "",
            "2026-11-28",
            "2026-11-28T19:00:00",
            "2026-11-28T19:00Z",
            "2026-11-28T19:00:00+01:00",
            "2026-11-28T19:00:00-05:00",
            "2026-11-28T19:00:00-00:00",
            "2026-11-28T19:00:00+0000",
            "2026-11-28T19:00:00 Z",
            "2026-11-28 19:00:00Z",
            "2026-11-28T19:00:00ZZ",
            "2026-11-28T19:00:00Z ",
            " 2026-11-28T19:00:00Z",
            "2026-11-28T19:00:00.Z",
            "2026-11-28T19:00:00.1234567890Z",
            "2026-11-28T19:00:00,5Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-32T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T23:60:00Z",
            "2016-12-31T23:59:60Z",
            "1969-12-31T23:59:59Z",
            "+2026-11-28T19:00:00Z",
            "20261128T190000Z",
            "2026-1-28T19:00:00Z",
            "２０２６-11-28T19:00:00Z",
            "2026-11-28T19:00:0-Z",
            "1795892400",
        ];
        for s in bad {
            assert_eq!(parse_iso8601_utc(s), None, "{s:?}");
        }
    }

    /// Every day from 1970 to 2200 (leap years by the Gregorian rules) parses to consecutive days.
    #[test]
    fn iso8601_counts_every_day() {
        let mut expected = 0u64;
        for year in 1970..2200u64 {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let lengths = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            for (m, &len) in lengths.iter().enumerate() {
                for d in 1..=len {
                    let s = format!("{year:04}-{:02}-{d:02}T00:00:00Z", m + 1);
                    assert_eq!(parse_iso8601_utc(&s), Some(expected * 86_400), "{s}");
                    expected += 1;
                }
                let past_end = format!("{year:04}-{:02}-{:02}T00:00:00Z", m + 1, len + 1);
                assert_eq!(parse_iso8601_utc(&past_end), None, "{past_end}");
            }
        }
    }
}

//! UTC calendar dates of Unix times, exactly, for any day in `i64` range (Howard Hinnant's
//! `days_from_civil` / `civil_from_days`, proleptic Gregorian): what the federation helper reads
//! STS expirations with, and what an app needs to name a day (`2026-12-06`) without a date
//! crate in its wasm.
//!
//! ```
//! use layers_core::time::{iso8601, ymd, civil_from_days, days_from_civil};
//! assert_eq!(ymd(1_795_892_400), "2026-11-28");
//! assert_eq!(iso8601(1_795_892_400), "2026-11-28T19:00:00Z");
//! assert_eq!(days_from_civil(1970, 1, 1), 0);
//! assert_eq!(civil_from_days(-1), (1969, 12, 31));
//! ```

/// Days since 1970-01-01 of the date `y-m-d` (`m` 1–12, `d` 1–31; not checked against the
/// month's length: callers validate the date first).
#[must_use]
pub const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let (m, d) = (m as i64, d as i64);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (m + 9) % 12; // March = 0 … February = 11
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` that is `days` days after 1970-01-01 (negative: before).
#[must_use]
pub const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // both in 1..=31
    (y, m as u32, d as u32)
}

/// `YYYY-MM-DD` (UTC) of Unix seconds.
#[must_use]
pub fn ymd(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC, RFC 3339) of Unix seconds.
#[must_use]
pub fn iso8601(secs: i64) -> String {
    let (day, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        for (days, date) in [
            (0, (1970, 1, 1)),
            (-1, (1969, 12, 31)),
            (59, (1970, 3, 1)),
            (11_016, (2000, 2, 29)),
            (11_017, (2000, 3, 1)),
            (16_367, (2014, 10, 24)),
            (20_785, (2026, 11, 28)),
            (-719_468, (0, 3, 1)),
            (2_932_896, (9999, 12, 31)),
        ] {
            assert_eq!(civil_from_days(days), date, "{days}");
            assert_eq!(days_from_civil(date.0, date.1, date.2), days, "{date:?}");
        }
        assert_eq!(ymd(1_414_191_623), "2014-10-24");
        assert_eq!(ymd(-1), "1969-12-31");
        assert_eq!(iso8601(1_414_191_623), "2014-10-24T23:00:23Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn every_day_of_four_centuries_round_trips_in_order() {
        let start = days_from_civil(1900, 1, 1);
        let mut prev = civil_from_days(start - 1);
        for days in start..start + 146_097 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            // The next day is the next date of the calendar: the next day of the month, or the
            // first of the next month, or the first of January.
            let expected = [(prev.0, prev.1, prev.2 + 1), (prev.0, prev.1 + 1, 1), (prev.0 + 1, 1, 1)];
            assert!(expected.contains(&(y, m, d)), "{prev:?} then {:?}", (y, m, d));
            prev = (y, m, d);
        }
    }
}

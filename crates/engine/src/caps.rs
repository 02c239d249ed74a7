//! Escalation caps are counted per day and per week in the creator's time zone: the
//! day starts at local midnight, the week on Monday at local midnight. This module
//! turns "now" into those windows as UTC instants, DST included.

use crate::{Error, Result};
use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, TimeZone, Utc};
pub use chrono_tz::Tz;
use serde::Serialize;

/// The current cap windows, as UTC instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CapWindows {
    /// The current day's start (local midnight).
    pub day_start: DateTime<Utc>,
    /// When the daily cap resets (the next local midnight).
    pub day_end: DateTime<Utc>,
    /// The current week's start (local Monday midnight).
    pub week_start: DateTime<Utc>,
    /// When the weekly cap resets (the next local Monday midnight).
    pub week_end: DateTime<Utc>,
}

/// Parse an IANA time zone name ("Europe/Paris").
pub fn parse_tz(name: &str) -> Result<Tz> {
    name.trim().parse::<Tz>().map_err(|_| Error::InvalidValue {
        what: "time zone",
        value: name.to_string(),
        expected: "an IANA name such as UTC, Europe/Paris or America/New_York",
    })
}

/// The first instant of a local date. Where midnight does not exist (a DST jump at
/// 00:00), the day starts at the first local time that does.
fn start_of(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut t = date.and_hms_opt(0, 0, 0).expect("midnight");
    for _ in 0..180 {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(d) => return d.with_timezone(&Utc),
            LocalResult::Ambiguous(a, _) => return a.with_timezone(&Utc),
            LocalResult::None => t += chrono::Duration::minutes(1),
        }
    }
    // No zone skips three hours; this is unreachable in practice.
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// The day and week windows `now` falls in, in time zone `tz`.
pub fn windows(now: DateTime<Utc>, tz: Tz) -> CapWindows {
    let today = now.with_timezone(&tz).date_naive();
    let monday = today - Days::new(today.weekday().num_days_from_monday() as u64);
    CapWindows {
        day_start: start_of(tz, today),
        day_end: start_of(tz, today + Days::new(1)),
        week_start: start_of(tz, monday),
        week_end: start_of(tz, monday + Days::new(7)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn days_and_weeks_follow_the_creators_midnight() {
        let paris = parse_tz("Europe/Paris").unwrap();
        // 23:30 UTC on Tuesday 14 Jan 2025 is already Wednesday 00:30 in Paris (UTC+1).
        let w = windows(utc("2025-01-14T23:30:00Z"), paris);
        assert_eq!(w.day_start, utc("2025-01-14T23:00:00Z"));
        assert_eq!(w.day_end, utc("2025-01-15T23:00:00Z"));
        assert_eq!(w.week_start, utc("2025-01-12T23:00:00Z")); // Monday 13 Jan, local midnight
        assert_eq!(w.week_end, utc("2025-01-19T23:00:00Z"));
        // 22:59 UTC is 23:59 on Tuesday in Paris: still Tuesday's window.
        let w = windows(utc("2025-01-14T22:59:00Z"), paris);
        assert_eq!(w.day_start, utc("2025-01-13T23:00:00Z"));
    }

    #[test]
    fn dst_days_are_23_and_25_hours_long() {
        let ny = parse_tz("America/New_York").unwrap();
        // Spring forward: Sunday 9 March 2025 has 23 hours in New York.
        let w = windows(utc("2025-03-09T12:00:00Z"), ny);
        assert_eq!(w.day_end - w.day_start, chrono::Duration::hours(23));
        // Fall back: Sunday 2 November 2025 has 25 hours.
        let w = windows(utc("2025-11-02T12:00:00Z"), ny);
        assert_eq!(w.day_end - w.day_start, chrono::Duration::hours(25));
        // The week containing the spring change is 167 hours long.
        let w = windows(utc("2025-03-06T12:00:00Z"), ny);
        assert_eq!(w.week_end - w.week_start, chrono::Duration::hours(167));
    }

    #[test]
    fn a_day_that_skips_midnight_starts_at_its_first_minute() {
        // Santiago, Chile moved clocks from 00:00 to 01:00 on 7 September 2025.
        let tz = parse_tz("America/Santiago").unwrap();
        let w = windows(utc("2025-09-07T15:00:00Z"), tz);
        assert_eq!(w.day_start.with_timezone(&tz).format("%H:%M").to_string(), "01:00");
        assert_eq!(w.day_end - w.day_start, chrono::Duration::hours(23));
    }

    #[test]
    fn unknown_zones_are_a_clear_error() {
        let e = parse_tz("Mars/Olympus").unwrap_err().to_string();
        assert!(e.contains("Mars/Olympus") && e.contains("IANA"), "{e}");
        assert!(parse_tz("UTC").is_ok());
    }
}

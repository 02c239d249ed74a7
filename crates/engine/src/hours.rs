//! Availability windows: when the creator takes escalations, in their time zone
//! ("mon–fri 09:00–17:00"). Outside every window an escalation is queued with the time
//! the creator is back, or refused with "back at …", as the creator chooses.

use crate::caps::parse_tz;
use crate::{AvailabilityWindow, Error, Result};
use chrono::{DateTime, Datelike, Days, LocalResult, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Whether the creator is available now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Availability {
    /// No windows are set, or `now` is inside one.
    Open,
    /// Outside every window; the next one opens at `next_open`.
    Closed {
        /// When the next window opens.
        next_open: DateTime<Utc>,
    },
}

fn day(s: &str) -> Result<Weekday> {
    s.trim().parse::<Weekday>().map_err(|_| Error::InvalidValue {
        what: "day",
        value: s.to_string(),
        expected: "mon tue wed thu fri sat sun",
    })
}

fn time(s: &str) -> Result<NaiveTime> {
    let t = s.trim();
    if t == "24:00" {
        return Ok(NaiveTime::MIN);
    }
    NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| Error::InvalidValue {
        what: "time",
        value: s.to_string(),
        expected: "HH:MM from 00:00 to 24:00",
    })
}

/// A window in checked form: days, start, end (end ≤ start means it runs past midnight;
/// "24:00" is the end of the day).
struct Checked {
    days: Vec<Weekday>,
    start: NaiveTime,
    end: NaiveTime,
    to_midnight: bool,
}

fn check(w: &AvailabilityWindow) -> Result<Checked> {
    if w.days.is_empty() {
        return Err(Error::Invalid("an availability window needs at least one day".into()));
    }
    Ok(Checked {
        days: w.days.iter().map(|d| day(d)).collect::<Result<_>>()?,
        start: time(&w.start)?,
        end: time(&w.end)?,
        to_midnight: w.end.trim() == "24:00",
    })
}

/// Validate windows (day names, times) without evaluating them.
pub fn validate(windows: &[AvailabilityWindow]) -> Result<()> {
    windows.iter().try_for_each(|w| check(w).map(|_| ()))
}

/// The first instant at or after local `t` on `date` that exists (DST gaps move it on).
fn local(tz: Tz, date: chrono::NaiveDate, t: NaiveTime) -> DateTime<Utc> {
    let mut dt = date.and_time(t);
    for _ in 0..180 {
        match tz.from_local_datetime(&dt) {
            LocalResult::Single(d) => return d.with_timezone(&Utc),
            LocalResult::Ambiguous(a, _) => return a.with_timezone(&Utc),
            LocalResult::None => dt += chrono::Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&date.and_time(t))
}

/// Is `now` inside a window (in time zone `tz`)? If not, when does the next one open?
pub fn availability(now: DateTime<Utc>, tz: &str, windows: &[AvailabilityWindow]) -> Result<Availability> {
    if windows.is_empty() {
        return Ok(Availability::Open);
    }
    let tz = parse_tz(tz)?;
    let checked: Vec<Checked> = windows.iter().map(check).collect::<Result<_>>()?;
    let today = now.with_timezone(&tz).date_naive();
    let mut next: Option<DateTime<Utc>> = None;
    // Windows that started yesterday may still be open (past midnight); look 8 days on.
    for offset in -1i64..=8 {
        let date = if offset < 0 { today - Days::new(1) } else { today + Days::new(offset as u64) };
        for w in checked.iter().filter(|w| w.days.contains(&date.weekday())) {
            let start = local(tz, date, w.start);
            let end_date = if w.to_midnight || w.end <= w.start { date + Days::new(1) } else { date };
            let end = local(tz, end_date, w.end);
            if start <= now && now < end {
                return Ok(Availability::Open);
            }
            if start > now && next.is_none_or(|n| start < n) {
                next = Some(start);
            }
        }
    }
    Ok(Availability::Closed { next_open: next.expect("a window with a day opens within 8 days") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(days: &[&str], start: &str, end: &str) -> AvailabilityWindow {
        AvailabilityWindow { days: days.iter().map(|d| d.to_string()).collect(), start: start.into(), end: end.into() }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn inside_outside_and_the_next_opening() {
        let office = [w(&["mon", "tue", "wed", "thu", "fri"], "09:00", "17:00")];
        // Friday 2026-11-20, Paris is UTC+1 in winter.
        assert_eq!(availability(at("2026-11-20T08:00:00Z"), "Europe/Paris", &office).unwrap(), Availability::Open);
        // 17:00 local is the end, exclusive.
        assert_eq!(
            availability(at("2026-11-20T16:00:00Z"), "Europe/Paris", &office).unwrap(),
            Availability::Closed { next_open: at("2026-11-23T08:00:00Z") }
        );
        // 09:00 local, inclusive.
        assert_eq!(availability(at("2026-11-23T08:00:00Z"), "Europe/Paris", &office).unwrap(), Availability::Open);
        assert_eq!(availability(at("2026-11-20T16:00:00Z"), "UTC", &[]).unwrap(), Availability::Open);
    }

    #[test]
    fn windows_past_midnight_and_across_dst() {
        let night = [w(&["sat"], "22:00", "02:00")];
        // Sunday 01:00 UTC is inside Saturday's window.
        assert_eq!(availability(at("2026-11-22T01:00:00Z"), "UTC", &night).unwrap(), Availability::Open);
        assert_eq!(
            availability(at("2026-11-22T02:00:00Z"), "UTC", &night).unwrap().clone(),
            Availability::Closed { next_open: at("2026-11-28T22:00:00Z") }
        );
        // New York springs forward on 2026-03-08: 09:00 local is 13:00 UTC that Monday
        // (EDT) but was 14:00 UTC the Monday before (EST).
        let mornings = [w(&["mon"], "09:00", "10:00")];
        assert_eq!(
            availability(at("2026-03-07T12:00:00Z"), "America/New_York", &mornings).unwrap(),
            Availability::Closed { next_open: at("2026-03-09T13:00:00Z") }
        );
        assert_eq!(
            availability(at("2026-02-28T12:00:00Z"), "America/New_York", &mornings).unwrap(),
            Availability::Closed { next_open: at("2026-03-02T14:00:00Z") }
        );
        // A window ending at 24:00 runs to midnight.
        let evening = [w(&["sun"], "20:00", "24:00")];
        assert_eq!(availability(at("2026-11-22T23:59:00Z"), "UTC", &evening).unwrap(), Availability::Open);
    }

    #[test]
    fn bad_windows_are_clear_errors() {
        assert!(validate(&[w(&["funday"], "09:00", "17:00")]).unwrap_err().to_string().contains("funday"));
        assert!(validate(&[w(&["mon"], "9am", "17:00")]).unwrap_err().to_string().contains("HH:MM"));
        assert!(validate(&[w(&[], "09:00", "17:00")]).is_err());
        assert!(availability(at("2026-11-22T01:00:00Z"), "Mars/Base", &[w(&["mon"], "09:00", "10:00")]).is_err());
    }
}

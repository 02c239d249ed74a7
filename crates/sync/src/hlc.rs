//! A hybrid logical clock (after Actual Budget's `send`/`recv`): wall milliseconds, a
//! 16-bit counter and the node, so every change a node makes is stamped later than
//! everything it has made or seen, whatever its wall clock does. It is used only to
//! pick the winner of concurrent edits; the sync cursor is the hub's sequence.
//!
//! Written here rather than taken from `uhlc`, which refuses peers more than 500 ms
//! ahead, keeps its state in memory only and has a 4-bit counter.

use crate::Error;
use std::fmt;
use std::str::FromStr;

/// One timestamp. Its text form (`{millis:015}-{counter:05}-{node:016x}`) sorts as
/// the timestamps do, so the store compares them as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch (the larger of the wall clock and what was seen).
    pub millis: u64,
    /// Orders timestamps within one millisecond.
    pub counter: u16,
    /// The node that made it (ties between nodes go to the larger id).
    pub node: u64,
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}-{:05}-{:016x}", self.millis, self.counter, self.node)
    }
}

impl FromStr for Hlc {
    type Err = Error;
    fn from_str(s: &str) -> Result<Hlc, Error> {
        let bad = || Error::Invalid(format!("{s:?} is not a clock reading (millis-counter-node)"));
        let mut parts = s.split('-');
        let (Some(m), Some(c), Some(n), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        Ok(Hlc {
            millis: m.parse().map_err(|_| bad())?,
            counter: c.parse().map_err(|_| bad())?,
            node: u64::from_str_radix(n, 16).map_err(|_| bad())?,
        })
    }
}

/// A node's clock: the last timestamp it made or saw.
#[derive(Debug, Clone)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    /// The clock of `node`, carrying on from `last` (persisted by the node).
    pub fn new(node: u64, last: Option<Hlc>) -> HlcClock {
        let last = last.map(|l| Hlc { node, ..l }).unwrap_or(Hlc { millis: 0, counter: 0, node });
        HlcClock { last }
    }

    /// The last timestamp made or seen.
    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A timestamp for a change made now (`now_ms` is the wall clock): later than any
    /// before it, even when the wall clock went back.
    pub fn send(&mut self, now_ms: u64) -> Hlc {
        let millis = self.last.millis.max(now_ms);
        let counter = if millis == self.last.millis { self.last.counter.checked_add(1) } else { Some(0) };
        self.last = match counter {
            Some(counter) => Hlc { millis, counter, node: self.last.node },
            // 65,536 changes in one millisecond: borrow the next millisecond.
            None => Hlc { millis: millis + 1, counter: 0, node: self.last.node },
        };
        self.last
    }

    /// Take in a timestamp seen from another node, so what this node does next is
    /// stamped after it. A peer's clock ahead of ours is adopted (a device whose wall
    /// clock is behind still orders its edits after what it has seen).
    pub fn recv(&mut self, remote: Hlc, now_ms: u64) {
        let millis = self.last.millis.max(remote.millis).max(now_ms);
        let counter = match (millis == self.last.millis, millis == remote.millis) {
            (true, true) => self.last.counter.max(remote.counter).checked_add(1),
            (true, false) => self.last.counter.checked_add(1),
            (false, true) => remote.counter.checked_add(1),
            (false, false) => Some(0),
        };
        self.last = match counter {
            Some(counter) => Hlc { millis, counter, node: self.last.node },
            None => Hlc { millis: millis + 1, counter: 0, node: self.last.node },
        };
    }
}

/// How far ahead of the hub's wall clock a device's timestamps may be.
pub const MAX_DRIFT_MS: u64 = 30 * 60 * 1000;

/// Refuse a timestamp too far ahead of `now_ms`: its edits would win every conflict
/// until the rest of the world caught up with that clock.
pub fn check_drift(remote: Hlc, now_ms: u64) -> Result<(), Error> {
    if remote.millis > now_ms + MAX_DRIFT_MS {
        let ahead = (remote.millis - now_ms) / 60_000;
        return Err(Error::ClockAhead(format!(
            "this device's clock is {ahead} minutes ahead of the hub's (at most {} allowed); set its date and time right, then sync again",
            MAX_DRIFT_MS / 60_000
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_sorts_as_timestamps_and_round_trips() {
        let a = Hlc { millis: 9, counter: 65535, node: 0xff };
        let b = Hlc { millis: 10, counter: 0, node: 1 };
        assert!(a < b && a.to_string() < b.to_string());
        assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a);
        assert!("12-x-1".parse::<Hlc>().is_err());
        assert!("12-1".parse::<Hlc>().is_err());
    }

    #[test]
    fn a_clock_going_back_still_moves_forward() {
        let mut c = HlcClock::new(1, None);
        let a = c.send(1_000_000);
        let b = c.send(500_000); // the wall clock jumped back
        assert!(b > a && b.millis == a.millis && b.counter == a.counter + 1);
    }

    #[test]
    fn counter_overflow_borrows_the_next_millisecond() {
        let mut c = HlcClock::new(1, Some(Hlc { millis: 5, counter: u16::MAX, node: 1 }));
        let t = c.send(5);
        assert_eq!((t.millis, t.counter), (6, 0));
    }

    #[test]
    fn a_device_behind_orders_its_edit_after_what_it_saw() {
        let hub_now = 10_000_000;
        let mut device = HlcClock::new(2, None);
        let seen = Hlc { millis: hub_now, counter: 3, node: 1 };
        device.recv(seen, hub_now - 2 * 3_600_000); // two hours behind
        assert!(device.send(hub_now - 2 * 3_600_000) > seen);
    }

    #[test]
    fn drift_limit() {
        let now = 100 * 3_600_000;
        assert!(check_drift(Hlc { millis: now + 10 * 60_000, counter: 0, node: 1 }, now).is_ok());
        let e = check_drift(Hlc { millis: now + 2 * 3_600_000, counter: 0, node: 1 }, now).unwrap_err();
        assert!(matches!(e, Error::ClockAhead(ref m) if m.contains("120 minutes ahead")), "{e}");
    }

    proptest! {
        #[test]
        fn every_timestamp_is_later_than_all_before(steps in proptest::collection::vec((any::<bool>(), 0u64..1_000, 0u64..1_000, any::<u16>()), 1..200)) {
            let mut c = HlcClock::new(7, None);
            let mut last = c.last();
            for (is_send, wall, remote_ms, remote_c) in steps {
                if is_send {
                    let t = c.send(wall);
                    prop_assert!(t > last);
                    last = t;
                } else {
                    let remote = Hlc { millis: remote_ms, counter: remote_c, node: 9 };
                    c.recv(remote, wall);
                    prop_assert!(c.last() > last || c.last().millis > last.millis);
                    prop_assert!((c.last().millis, c.last().counter) > (remote.millis, remote.counter));
                    last = c.last();
                }
            }
        }
    }
}

//! A circuit breaker per provider: closed (calls go through), open after `threshold`
//! failures in a row (calls are refused at once for `cooldown`), then half-open (one
//! trial call; success closes it, failure opens it again).

use serde::Serialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
enum Inner {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// A trial call is out.
    HalfOpen,
}

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

/// Whether a call may go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Go,
    /// The trial call of a half-open breaker.
    Trial,
    Refused {
        remaining: Duration,
    },
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker { threshold: threshold.max(1), cooldown, inner: Mutex::new(Inner::Closed { failures: 0 }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen => BreakerState::HalfOpen,
        }
    }

    /// Ask to make a call.
    pub fn admit(&self) -> Admission {
        let mut g = self.lock();
        match *g {
            Inner::Closed { .. } => Admission::Go,
            Inner::Open { until } => {
                let now = Instant::now();
                if now >= until {
                    *g = Inner::HalfOpen;
                    Admission::Trial
                } else {
                    Admission::Refused { remaining: until - now }
                }
            }
            // One trial at a time.
            Inner::HalfOpen => Admission::Refused { remaining: Duration::ZERO },
        }
    }

    pub fn success(&self) {
        *self.lock() = Inner::Closed { failures: 0 };
    }

    pub fn failure(&self) {
        let mut g = self.lock();
        *g = match *g {
            Inner::Closed { failures } if failures + 1 < self.threshold => Inner::Closed { failures: failures + 1 },
            _ => Inner::Open { until: Instant::now() + self.cooldown },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_half_opens_after_the_cooldown_and_closes_on_success() {
        let b = Breaker::new(3, Duration::from_millis(50));
        for _ in 0..2 {
            assert_eq!(b.admit(), Admission::Go);
            b.failure();
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(matches!(b.admit(), Admission::Refused { .. }));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.admit(), Admission::Trial);
        // Only one trial at a time.
        assert!(matches!(b.admit(), Admission::Refused { .. }));
        b.failure();
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(b.admit(), Admission::Trial);
        b.success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.admit(), Admission::Go);
    }
}

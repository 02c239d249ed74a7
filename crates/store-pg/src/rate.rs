//! Rate limits shared by every hub process: requests counted per key (a fan token, an
//! address) in fixed windows, in the database. Each process still keeps its own
//! in-memory limiter (governor) in front, so a flood is turned away without a round
//! trip; this count is what holds when a fan's requests land on several processes.

use crate::{PgStore, Result};
use chrono::{DateTime, Utc};

/// What a request counted against a limit may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHit {
    /// Within the limit.
    pub allowed: bool,
    /// Requests in this window so far, this one included.
    pub count: u32,
    /// When the window ends.
    pub resets_at: DateTime<Utc>,
}

impl PgStore {
    /// Count a request for `key` in the window of `window_seconds` holding `now`, and
    /// say whether it is within `limit`.
    pub async fn rate_hit(&self, key: &str, now: DateTime<Utc>, window_seconds: i64, limit: u32) -> Result<RateHit> {
        let window = window_seconds.max(1);
        let start = DateTime::from_timestamp(now.timestamp().div_euclid(window) * window, 0).unwrap_or(now);
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO rate_windows (key, window_start, n) VALUES ($1, $2, 1)
                 ON CONFLICT (key, window_start) DO UPDATE SET n = rate_windows.n + 1 RETURNING n",
                &[&key, &start],
            )
            .await?;
        let count = row.get::<_, i32>(0) as u32;
        Ok(RateHit { allowed: count <= limit, count, resets_at: start + chrono::Duration::seconds(window) })
    }

    /// Drop the windows that ended before `before`; returns how many.
    pub async fn prune_rate_windows(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(self.client().await?.execute("DELETE FROM rate_windows WHERE window_start < $1", &[&before]).await?)
    }
}

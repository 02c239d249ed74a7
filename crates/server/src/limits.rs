//! Per-address and per-token rate limits (governor's GCRA, one keyed limiter each),
//! answered `429 rate_limited` with `Retry-After`, and the JSON body reader that turns
//! a body that is too large, not JSON or not UTF-8 into a `{error}` (413, 400, 415).

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use fanline_core::ErrorCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// The hub's two limiters.
pub struct Limiter {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_token: DefaultKeyedRateLimiter<String>,
    /// Made once: making one calibrates it.
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    let n = NonZeroU32::new(n.max(1)).expect("at least one");
    Quota::per_minute(n).allow_burst(n)
}

impl Limiter {
    pub fn new(per_ip: u32, per_token: u32) -> Limiter {
        Limiter {
            by_ip: DefaultKeyedRateLimiter::keyed(per_minute(per_ip)),
            by_token: DefaultKeyedRateLimiter::keyed(per_minute(per_token)),
            clock: DefaultClock::default(),
        }
    }

    /// Let a request through, or say how many seconds until it may come.
    pub fn check(&self, ip: IpAddr, token: Option<&str>) -> Result<(), ApiError> {
        let wait = |not_until: governor::NotUntil<_>| not_until.wait_time_from(self.clock.now()).as_secs() + 1;
        self.by_ip.check_key(&ip).map_err(|n| ApiError::rate_limited(wait(n)))?;
        if let Some(t) = token {
            // Keyed by the token's hash: the limiter's memory never holds a token.
            let key = blake3::hash(t.as_bytes()).to_hex().to_string();
            self.by_token.check_key(&key).map_err(|n| ApiError::rate_limited(wait(n)))?;
        }
        Ok(())
    }

    /// Forget keys idle long enough to have their whole quota back.
    pub fn sweep(&self) {
        self.by_ip.retain_recent();
        self.by_token.retain_recent();
    }
}

/// A JSON body, read within the body limit; every way it can be wrong is a `{error}`.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
        if !json {
            return Err(ApiError {
                status: axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ..ApiError::bad_request("send the body as JSON (Content-Type: application/json)")
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
            } else {
                ApiError::bad_request(format!("the request body could not be read: {e}"))
            }
        })?;
        if std::str::from_utf8(&bytes).is_err() {
            return Err(ApiError::bad_request("the request body is not UTF-8"));
        }
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| ApiError::bad_request(format!("the request body is not the JSON expected: {e}")))
    }
}

use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Clone, Error)]
pub enum Error {
    #[error("cannot reach {provider}: {detail}")]
    Connect { provider: String, detail: String },
    #[error("{provider} timed out ({detail})")]
    Timeout { provider: String, detail: String },
    #[error("{provider} answered HTTP {status}: {body}")]
    Status { provider: String, status: u16, body: String, retry_after: Option<Duration> },
    #[error("{provider} sent something that is not its protocol: {detail}")]
    Protocol { provider: String, detail: String },
    #[error("{provider}'s stream ended before it said it was done")]
    Truncated { provider: String },
    #[error("{provider} is resting after repeated failures (circuit open for {remaining_ms} ms more)")]
    CircuitOpen { provider: String, remaining_ms: u64 },
    #[error("every provider failed: {}", .0.join("; "))]
    AllFailed(Vec<String>),
    #[error("no language model provider is configured")]
    NoProvider,
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// Worth another try: connection errors, timeouts, 5xx and 429, garbled or cut
    /// streams. Other 4xx (a bad key, a bad request) would fail the same way again.
    pub fn retryable(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Timeout { .. } | Error::Protocol { .. } | Error::Truncated { .. } => true,
            Error::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// The same error with `secrets` and anything shaped like a credential removed from
    /// everything it says (see [`redact`](crate::redact)).
    pub fn redacted(self, secrets: &[&str]) -> Error {
        let r = |s: String| crate::redact(&s, secrets);
        match self {
            Error::Connect { provider, detail } => Error::Connect { provider, detail: r(detail) },
            Error::Timeout { provider, detail } => Error::Timeout { provider, detail: r(detail) },
            Error::Status { provider, status, body, retry_after } => {
                Error::Status { provider, status, body: r(body), retry_after }
            }
            Error::Protocol { provider, detail } => Error::Protocol { provider, detail: r(detail) },
            Error::AllFailed(v) => Error::AllFailed(v.into_iter().map(r).collect()),
            Error::Key(s) => Error::Key(r(s)),
            Error::Config(s) => Error::Config(r(s)),
            e @ (Error::Truncated { .. } | Error::CircuitOpen { .. } | Error::NoProvider) => e,
        }
    }

    /// What the server asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

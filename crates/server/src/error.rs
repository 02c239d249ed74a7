//! Every rejection is `{"error": {"code", "message"}}` with a 4xx (or a 5xx when the
//! hub itself failed): the same body the CLI's `--json` and the desktop's IPC show.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fanline_core::{Error, ErrorBody, ErrorCode};
use serde::Serialize;

/// An error on its way out: its body, its status, and when to retry if that is known.
#[derive(Debug)]
pub struct ApiError {
    pub body: ErrorBody,
    pub status: StatusCode,
    pub retry_after: Option<u64>,
    /// A cap's reset time (`409 cap_reached`).
    pub resets_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize)]
struct Wire<'a> {
    error: WireBody<'a>,
}

#[derive(Serialize)]
struct WireBody<'a> {
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resets_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<u64>,
}

/// The HTTP status of an error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        InvalidInput | InvalidPolicy | IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        NotFound | NoAgent => StatusCode::NOT_FOUND,
        Conflict | InFlight | CapReached | ClockAhead | SyncGap => StatusCode::CONFLICT,
        Unauthorized => StatusCode::UNAUTHORIZED,
        Forbidden => StatusCode::FORBIDDEN,
        RateLimited => StatusCode::TOO_MANY_REQUESTS,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        IndexBusy => StatusCode::SERVICE_UNAVAILABLE,
        DatabaseReadOnly | ModelMissing => StatusCode::SERVICE_UNAVAILABLE,
        NoProvider | Llm | HubUnreachable => StatusCode::BAD_GATEWAY,
        Config | DatabaseDamaged | DatabaseTooNew | Database | Index | Embedder | Engine | Io | Keychain | Internal => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            body: ErrorBody { code, message: message.into() },
            status: status_of(code),
            retry_after: None,
            resets_at: None,
        }
    }

    /// A request the hub cannot parse.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, ..ApiError::new(ErrorCode::InvalidInput, message) }
    }

    /// Too many requests; retry after `seconds`.
    pub fn rate_limited(seconds: u64) -> ApiError {
        ApiError {
            retry_after: Some(seconds.max(1)),
            ..ApiError::new(ErrorCode::RateLimited, format!("too many requests; try again in {} s", seconds.max(1)))
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let resets_at = match &e {
            Error::CapReached { resets_at, .. } => Some(*resets_at),
            _ => None,
        };
        let body = e.body();
        if status_of(body.code).is_server_error() {
            tracing::error!(code = %body.code, "{}", body.message);
        }
        ApiError { status: status_of(body.code), body, retry_after: None, resets_at }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let wire = Wire {
            error: WireBody {
                code: self.body.code,
                message: &self.body.message,
                resets_at: self.resets_at,
                retry_after_seconds: self.retry_after,
            },
        };
        let mut r = (self.status, axum::Json(wire)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

/// What a handler returns.
pub type ApiResult<T> = Result<T, ApiError>;

/// Run a use case (blocking: SQLite, the model) off the async threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> fanline_core::Result<T> + Send + 'static) -> ApiResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::new(ErrorCode::Internal, format!("the request's task failed: {e}"))),
    }
}

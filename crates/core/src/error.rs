//! The one error of the use cases, and the `{code, message}` body every boundary (the
//! CLI's `--json`, the desktop's IPC, the HTTP API) shows.

use serde::Serialize;
use std::path::PathBuf;
use thiserror::Error;

/// What went wrong in a use case.
#[derive(Debug, Error)]
pub enum Error {
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] fanline_store::Error),
    /// The search index failed.
    #[error(transparent)]
    Index(#[from] fanline_index::Error),
    /// The embedder failed or is missing.
    #[error(transparent)]
    Embed(#[from] fanline_embed::Error),
    /// The engine refused something (a value outside its set, a malformed plan).
    #[error(transparent)]
    Engine(fanline_engine::Error),
    /// No agent of that name.
    #[error("no agent named {name:?}; create it with `{}`", init_command(.name))]
    NoAgent {
        /// The name asked for.
        name: String,
    },
    /// The caller gave something the use case cannot take.
    #[error("{0}")]
    InvalidInput(String),
    /// It exists already, and the use case would not change it silently.
    #[error("{0}")]
    Conflict(String),
    /// A file could not be read or written.
    #[error("{path}: {detail}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        detail: String,
    },
    /// The policy file is invalid.
    #[error("policy file {path}: {error}")]
    Policy {
        /// The file.
        path: PathBuf,
        /// Where and why.
        error: fanline_engine::route::PolicyError,
    },
    /// A language-model provider failed.
    #[error(transparent)]
    Llm(fanline_llm::Error),
    /// No credentials, or credentials that are wrong, expired or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// The credentials do not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// An idempotency key was used before for a different request.
    #[error("{0}")]
    IdempotencyMismatch(String),
    /// The same request is still being handled.
    #[error("{0}")]
    InFlight(String),
    /// A peer's clock is too far ahead to take its changes.
    #[error("{0}")]
    ClockAhead(String),
    /// A device pushed changes after a hole: the hub says where to start.
    #[error("{0}")]
    SyncGap(String),
    /// The hub could not be reached, or answered with a failure.
    #[error("{0}")]
    Hub(String),
    /// A cap on the creator's questions is reached until `resets_at`.
    #[error("{message}")]
    CapReached {
        /// What the fan reads.
        message: String,
        /// When the cap resets.
        resets_at: chrono::DateTime<chrono::Utc>,
    },
}

impl From<fanline_engine::Error> for Error {
    /// An engine error that carries a port's error (the store, the index, the model,
    /// reached through the routing backend) gives that error back, with its kind.
    fn from(e: fanline_engine::Error) -> Self {
        match e {
            fanline_engine::Error::Port(inner) => match inner.downcast::<Error>() {
                Ok(mine) => *mine,
                Err(other) => Error::Engine(fanline_engine::Error::Port(other)),
            },
            e => Error::Engine(e),
        }
    }
}

/// The use cases' result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The command that creates an agent.
fn init_command(agent: &str) -> String {
    if agent == "default" {
        "fanline init".to_string()
    } else {
        format!("fanline init --agent {agent}")
    }
}

/// A stable code a program can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The configuration is invalid.
    Config,
    /// The database file is damaged or is not a Fanline database.
    DatabaseDamaged,
    /// The database was written by a newer Fanline.
    DatabaseTooNew,
    /// The data directory or the database is read-only.
    DatabaseReadOnly,
    /// Another database failure.
    Database,
    /// What was asked for does not exist.
    NotFound,
    /// It exists already.
    Conflict,
    /// The input is invalid.
    InvalidInput,
    /// Another process is writing the search index.
    IndexBusy,
    /// The search index failed.
    Index,
    /// The embedding model or ONNX Runtime is not installed.
    ModelMissing,
    /// The embedder failed.
    Embedder,
    /// The routing engine failed.
    Engine,
    /// No such agent.
    NoAgent,
    /// A file could not be read or written.
    Io,
    /// The policy file is invalid.
    InvalidPolicy,
    /// No language-model provider is configured.
    NoProvider,
    /// The OS keychain failed.
    Keychain,
    /// A language-model provider failed.
    Llm,
    /// Something failed that should not have (a bug).
    Internal,
    /// No credentials, or wrong, expired or revoked ones.
    Unauthorized,
    /// The credentials do not allow it.
    Forbidden,
    /// An idempotency key used before for a different request.
    IdempotencyMismatch,
    /// The same request is still being handled.
    InFlight,
    /// A cap on the creator's questions is reached.
    CapReached,
    /// Too many requests: try again after the time given.
    RateLimited,
    /// The request is too large.
    PayloadTooLarge,
    /// A device's clock is too far ahead of the hub's.
    ClockAhead,
    /// A push skipped changes the hub does not have yet.
    SyncGap,
    /// The hub could not be reached or failed.
    HubUnreachable,
}

impl ErrorCode {
    /// The code as it is written in `{code, message}`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Config => "config",
            ErrorCode::DatabaseDamaged => "database_damaged",
            ErrorCode::DatabaseTooNew => "database_too_new",
            ErrorCode::DatabaseReadOnly => "database_read_only",
            ErrorCode::Database => "database",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::IndexBusy => "index_busy",
            ErrorCode::Index => "index",
            ErrorCode::ModelMissing => "model_missing",
            ErrorCode::Embedder => "embedder",
            ErrorCode::Engine => "engine",
            ErrorCode::NoAgent => "no_agent",
            ErrorCode::Io => "io",
            ErrorCode::InvalidPolicy => "invalid_policy",
            ErrorCode::NoProvider => "no_provider",
            ErrorCode::Keychain => "keychain",
            ErrorCode::Llm => "llm",
            ErrorCode::Internal => "internal",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::IdempotencyMismatch => "idempotency_mismatch",
            ErrorCode::InFlight => "in_flight",
            ErrorCode::CapReached => "cap_reached",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::ClockAhead => "clock_ahead",
            ErrorCode::SyncGap => "sync_gap",
            ErrorCode::HubUnreachable => "hub_unreachable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error as every boundary (CLI `--json`, IPC, HTTP) shows it: a stable code a
/// program can match on, and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ErrorBody {
    /// What kind of error.
    pub code: ErrorCode,
    /// What happened and what to do.
    pub message: String,
}

impl ErrorBody {
    /// A body for a failure outside the use cases (a panicked task, a closed channel).
    pub fn internal(message: impl Into<String>) -> ErrorBody {
        ErrorBody { code: ErrorCode::Internal, message: message.into() }
    }
}

impl Error {
    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        use fanline_store::Error as S;
        match self {
            Error::Config(_) => ErrorCode::Config,
            Error::Store(S::Corrupt { .. }) => ErrorCode::DatabaseDamaged,
            Error::Store(S::TooNew { .. }) => ErrorCode::DatabaseTooNew,
            Error::Store(S::ReadOnly { .. }) => ErrorCode::DatabaseReadOnly,
            Error::Store(S::NotFound { .. }) => ErrorCode::NotFound,
            Error::Store(S::Conflict { .. }) => ErrorCode::Conflict,
            Error::Store(S::Invalid { .. }) => ErrorCode::InvalidInput,
            Error::Store(_) => ErrorCode::Database,
            Error::Index(fanline_index::Error::Busy) => ErrorCode::IndexBusy,
            Error::Index(_) => ErrorCode::Index,
            Error::Embed(
                fanline_embed::Error::MissingModelFile { .. } | fanline_embed::Error::MissingRuntime { .. },
            ) => ErrorCode::ModelMissing,
            Error::Embed(_) => ErrorCode::Embedder,
            Error::Engine(fanline_engine::Error::InvalidValue { .. } | fanline_engine::Error::Invalid(_)) => {
                ErrorCode::InvalidInput
            }
            Error::Engine(_) => ErrorCode::Engine,
            Error::NoAgent { .. } => ErrorCode::NoAgent,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Io { .. } => ErrorCode::Io,
            Error::Policy { .. } => ErrorCode::InvalidPolicy,
            Error::Llm(fanline_llm::Error::NoProvider) => ErrorCode::NoProvider,
            Error::Llm(fanline_llm::Error::Key(_)) => ErrorCode::Keychain,
            Error::Llm(_) => ErrorCode::Llm,
            Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::IdempotencyMismatch(_) => ErrorCode::IdempotencyMismatch,
            Error::InFlight(_) => ErrorCode::InFlight,
            Error::CapReached { .. } => ErrorCode::CapReached,
            Error::ClockAhead(_) => ErrorCode::ClockAhead,
            Error::SyncGap(_) => ErrorCode::SyncGap,
            Error::Hub(_) => ErrorCode::HubUnreachable,
        }
    }

    /// The error as `{code, message}`.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { code: self.code(), message: self.to_string() }
    }
}

impl From<&Error> for ErrorBody {
    fn from(e: &Error) -> Self {
        e.body()
    }
}

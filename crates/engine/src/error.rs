use thiserror::Error;

/// Errors of the engine and of the ports it calls.
#[derive(Debug, Error)]
pub enum Error {
    #[error("invalid {what}: {value:?} (expected one of: {expected})")]
    InvalidValue { what: &'static str, value: String, expected: &'static str },
    #[error("embedding failed: {0}")]
    Embedding(String),
    #[error("embedder unavailable: {0}")]
    EmbedderUnavailable(String),
    #[error("search failed: {0}")]
    Search(String),
    #[error("storage failed: {0}")]
    Storage(String),
    #[error("routing plan: {0}")]
    Plan(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

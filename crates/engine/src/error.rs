use thiserror::Error;

/// Errors of the engine and of the ports it calls.
#[derive(Debug, Error)]
pub enum Error {
    /// A value outside its closed set (a layer, a tier, a time zone…).
    #[error("invalid {what}: {value:?} (expected one of: {expected})")]
    InvalidValue {
        /// What the value is.
        what: &'static str,
        /// The value given.
        value: String,
        /// What it may be.
        expected: &'static str,
    },
    /// The embedder failed on a text.
    #[error("embedding failed: {0}")]
    Embedding(String),
    /// A port (the store, the index, the model) failed. The error is the port's own,
    /// boxed, so the caller that implemented the port gets it back with its kind
    /// (`Error::port` wraps, a downcast unwraps).
    #[error("{0}")]
    Port(Box<dyn std::error::Error + Send + Sync>),
    /// A routing plan is malformed (a step twice, a dependency missing).
    #[error("routing plan: {0}")]
    Plan(String),
    /// Anything else that is invalid.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wrap a port's error so it travels through the engine with its kind.
    pub fn port(e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Port(Box::new(e))
    }
}

/// The engine's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

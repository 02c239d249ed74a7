use serde::Serialize;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] fanline_store::Error),
    #[error(transparent)]
    Index(#[from] fanline_index::Error),
    #[error(transparent)]
    Embed(#[from] fanline_embed::Error),
    #[error(transparent)]
    Engine(#[from] fanline_engine::Error),
    #[error("no agent named {name:?}; create it with `{}`", init_command(.name))]
    NoAgent { name: String },
    #[error("{0}")]
    InvalidInput(String),
    #[error("{path}: {detail}")]
    Io { path: PathBuf, detail: String },
    #[error("policy file {path}: {error}")]
    Policy { path: PathBuf, error: fanline_engine::route::PolicyError },
    #[error(transparent)]
    Llm(fanline_llm::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The command that creates an agent.
fn init_command(agent: &str) -> String {
    if agent == "default" {
        "fanline init".to_string()
    } else {
        format!("fanline init --agent {agent}")
    }
}

/// The error as every boundary (CLI `--json`, IPC, HTTP) shows it: a stable code a
/// program can match on, and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
}

impl Error {
    pub fn code(&self) -> &'static str {
        use fanline_store::Error as S;
        match self {
            Error::Config(_) => "config",
            Error::Store(S::Corrupt { .. }) => "database_damaged",
            Error::Store(S::TooNew { .. }) => "database_too_new",
            Error::Store(S::NotFound { .. }) => "not_found",
            Error::Store(S::Conflict { .. }) => "conflict",
            Error::Store(S::Invalid { .. }) => "invalid_input",
            Error::Store(_) => "database",
            Error::Index(fanline_index::Error::Busy) => "index_busy",
            Error::Index(_) => "index",
            Error::Embed(
                fanline_embed::Error::MissingModelFile { .. } | fanline_embed::Error::MissingRuntime { .. },
            ) => "model_missing",
            Error::Embed(_) => "embedder",
            Error::Engine(fanline_engine::Error::InvalidValue { .. }) => "invalid_input",
            Error::Engine(_) => "engine",
            Error::NoAgent { .. } => "no_agent",
            Error::InvalidInput(_) => "invalid_input",
            Error::Io { .. } => "io",
            Error::Policy { .. } => "invalid_policy",
            Error::Llm(fanline_llm::Error::NoProvider) => "no_provider",
            Error::Llm(fanline_llm::Error::Key(_)) => "keychain",
            Error::Llm(_) => "llm",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { code: self.code(), message: self.to_string() }
    }
}

impl From<&Error> for ErrorBody {
    fn from(e: &Error) -> Self {
        e.body()
    }
}

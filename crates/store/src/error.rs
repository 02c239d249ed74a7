use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error(
        "the database {path} is damaged or is not a Fanline database ({detail}). \
         Restore a backup, or move the file aside and run `fanline init` to start afresh."
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("cannot open the database {path}: {detail}")]
    Open { path: PathBuf, detail: String },
    #[error(
        "the database {path} is read-only ({detail}); Fanline needs to write there. \
         Make the data directory writable, or point --data-dir (FANLINE_DATA_DIR) at a writable copy."
    )]
    ReadOnly { path: PathBuf, detail: String },
    #[error(
        "the database {path} has schema version {found}, newer than this Fanline knows \
         ({known}); upgrade Fanline"
    )]
    TooNew { path: PathBuf, found: u32, known: u32 },
    #[error("migration {name} failed: {detail}")]
    Migration { name: String, detail: String },
    #[error("{what} not found: {key}")]
    NotFound { what: &'static str, key: String },
    #[error("{what} already exists: {key}")]
    Conflict { what: &'static str, key: String },
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// Another backend of the hub's store (PostgreSQL) failed.
    #[error("database error: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

impl Error {
    pub(crate) fn from_sqlite_at(path: &Path, e: rusqlite::Error) -> Error {
        let cannot_write =
            matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly));
        if cannot_write && !writable(path.parent().unwrap_or(Path::new("."))) {
            return Error::ReadOnly { path: path.to_path_buf(), detail: e.to_string() };
        }
        if is_corruption(&e) {
            Error::Corrupt { path: path.to_path_buf(), detail: e.to_string() }
        } else {
            Error::Open { path: path.to_path_buf(), detail: e.to_string() }
        }
    }

    /// What was asked for does not exist.
    pub fn not_found(what: &'static str, key: impl ToString) -> Error {
        Error::NotFound { what, key: key.to_string() }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::FromSqlConversionFailure(_, _, inner) = &e {
            return Error::Invalid { what: "stored value", detail: inner.to_string() };
        }
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) {
            return Error::ReadOnly { path: PathBuf::new(), detail: e.to_string() };
        }
        if is_corruption(&e) {
            Error::Corrupt { path: PathBuf::new(), detail: e.to_string() }
        } else {
            Error::Sqlite(e)
        }
    }
}

impl From<fanline_engine::Error> for Error {
    fn from(e: fanline_engine::Error) -> Self {
        Error::Invalid { what: "value", detail: e.to_string() }
    }
}

/// Whether a file can be created in `dir` (permissions, a read-only mount).
fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".fanline-write-probe-{}", std::process::id()));
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

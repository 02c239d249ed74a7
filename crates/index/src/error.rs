use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("full-text index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("cannot open the full-text index in {dir}: {detail}")]
    OpenText { dir: PathBuf, detail: String },
    #[error("vector cache {path}: {detail}")]
    Cache { path: PathBuf, detail: String },
    #[error("vector has {got} dimensions, the index holds {want}")]
    Dimension { got: usize, want: usize },
    #[error("I/O error on {path}: {detail}")]
    Io { path: PathBuf, detail: String },
    #[error("the index is being written by another Fanline process; close it and try again")]
    Busy,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

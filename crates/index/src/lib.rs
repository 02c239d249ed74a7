//! Fanline's knowledge index: nearest neighbours over an in-memory vector index plus
//! BM25 from tantivy, fused by reciprocal rank.
//!
//! SQLite is the source of truth. Both halves here are derived data, stamped with the
//! store's index generation: a missing, damaged or stale tantivy directory or vector
//! cache file is rebuilt from the store when the index is opened.

mod answers;
mod error;
mod hybrid;
mod text;
mod vectors;

pub use answers::AnswerModels;
pub use error::{Error, Result};
pub use hybrid::{Changes, Fusion, Hit, HybridIndex, IndexSource, OpenReport};
pub use text::TextIndex;
pub use vectors::{ScanStrategy, VectorIndex};

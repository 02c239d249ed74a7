//! Turning a creator's files into chunks.
//!
//! [`read_document`] reads one file into structured [`Block`]s (headings and
//! paragraphs), or says clearly why it was skipped; [`chunk_blocks`] packs blocks into
//! size-limited chunks that follow the document's structure, with overlap between
//! neighbouring chunks of the same section; [`collect_files`] walks folders.

mod chunk;
mod formats;
mod walk;

pub use chunk::{chunk_blocks, Chunk, ChunkOptions};
pub use formats::{parse_bytes, read_document, Block, Format, ParsedDocument, ReadOptions, Skip};
pub use walk::collect_files;

/// A short, stable hash (hex) of some bytes.
pub fn hash_bytes(b: &[u8]) -> String {
    blake3::hash(b).to_hex()[..32].to_string()
}

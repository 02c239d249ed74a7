use crate::index_log::log_change;
use crate::util::Cached;
use crate::util::{item_key, parsed, placeholders, vector, vector_col};
use crate::{Error, Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::{chunk_search_text, vector::to_bytes, IndexedItem, ItemKey, ItemKind, Layer};
use rusqlite::{params, params_from_iter, OptionalExtension};
use serde::Serialize;
use std::collections::HashMap;

/// A document to store, as parsed from a file.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub source_path: String,
    pub title: String,
    /// markdown, text, html or pdf
    pub format: String,
    pub content_hash: String,
    pub bytes: u64,
    pub layer: Layer,
}

/// One chunk of a document with its embedding.
#[derive(Debug, Clone)]
pub struct NewChunk {
    pub heading: String,
    pub text: String,
    pub text_hash: String,
    pub embedding: Vec<f32>,
}

/// A stored document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DocumentRecord {
    pub id: i64,
    pub agent_id: i64,
    pub source_path: String,
    pub title: String,
    pub format: String,
    pub content_hash: String,
    pub bytes: u64,
    pub layer: Layer,
    pub chunks: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A stored chunk with the document it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChunkRecord {
    pub id: i64,
    pub document_id: i64,
    pub agent_id: i64,
    pub ord: u32,
    pub heading: String,
    pub text: String,
    pub layer: Layer,
    pub source_path: String,
    pub title: String,
}

/// What a write did to the indexed content (chunks, canonical phrasings), for the
/// search index to follow.
#[derive(Debug, Clone, Default)]
pub struct IndexChange {
    /// Items gone.
    pub removed: Vec<ItemKey>,
    /// Items added (or changed: removed, then added).
    pub added: Vec<IndexedItem>,
    /// The index generation the store moved to.
    pub generation: u64,
}

const DOC_COLS: &str = "d.id, d.agent_id, d.source_path, d.title, d.format, d.content_hash, d.bytes,
     d.layer, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id), d.created_at, d.updated_at";

fn doc_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DocumentRecord> {
    Ok(DocumentRecord {
        id: r.get(0)?,
        agent_id: r.get(1)?,
        source_path: r.get(2)?,
        title: r.get(3)?,
        format: r.get(4)?,
        content_hash: r.get(5)?,
        bytes: r.get::<_, i64>(6)? as u64,
        layer: parsed(r, 7)?,
        chunks: r.get::<_, i64>(8)? as u64,
        created_at: parsed(r, 9)?,
        updated_at: parsed(r, 10)?,
    })
}

pub(crate) fn chunk_keys(conn: &rusqlite::Connection, document_id: i64) -> Result<Vec<ItemKey>> {
    let mut stmt = conn.prepare_cached("SELECT id, document_id, agent_id, layer FROM chunks WHERE document_id = ?1")?;
    let keys = stmt.query_map([document_id], |r| item_key(ItemKind::Chunk, r))?.collect::<rusqlite::Result<_>>()?;
    Ok(keys)
}

impl Store {
    /// The document stored for this source path, if any.
    pub fn document_by_path(&self, agent_id: i64, source_path: &str) -> Result<Option<DocumentRecord>> {
        Ok(self
            .read()?
            .query_row(
                &format!("SELECT {DOC_COLS} FROM documents d WHERE d.agent_id = ?1 AND d.source_path = ?2"),
                params![agent_id, source_path],
                doc_row,
            )
            .optional()?)
    }

    pub fn document(&self, id: i64) -> Result<DocumentRecord> {
        self.read()?
            .query_row(&format!("SELECT {DOC_COLS} FROM documents d WHERE d.id = ?1"), [id], doc_row)
            .optional()?
            .ok_or_else(|| Error::not_found("document", id))
    }

    pub fn list_documents(&self, agent_id: i64) -> Result<Vec<DocumentRecord>> {
        let conn = self.read()?;
        let mut stmt =
            conn.prepare(&format!("SELECT {DOC_COLS} FROM documents d WHERE d.agent_id = ?1 ORDER BY d.source_path"))?;
        let docs = stmt.query_map([agent_id], doc_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(docs)
    }

    /// Embeddings already stored for a document's chunks, by text hash, so re-importing
    /// a changed file embeds only the chunks that changed.
    pub fn chunk_embeddings_by_hash(&self, document_id: i64) -> Result<HashMap<String, Vec<f32>>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached("SELECT text_hash, embedding FROM chunks WHERE document_id = ?1")?;
        let rows = stmt
            .query_map([document_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|(h, b)| Ok((h, vector(&b)?))).collect()
    }

    /// Insert a document, or replace an existing one with the same source path, together
    /// with all its chunks, in one transaction: a reader sees the old document or the
    /// new one, never a mix. Returns the document's id and the index change.
    pub fn put_document(&self, agent_id: i64, doc: &NewDocument, chunks: &[NewChunk]) -> Result<(i64, IndexChange)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = put_document_in(&tx, agent_id, doc, chunks)?;
        tx.commit()?;
        Ok(out)
    }
}

/// Store a document and its chunks in `tx` (replacing the chunks of the one at the
/// same path); returns its id and the index change.
pub(crate) fn put_document_in(
    tx: &rusqlite::Transaction<'_>,
    agent_id: i64,
    doc: &NewDocument,
    chunks: &[NewChunk],
) -> Result<(i64, IndexChange)> {
    let mut change = IndexChange::default();
    let existing: Option<i64> = tx
        .row(
            "SELECT id FROM documents WHERE agent_id = ?1 AND source_path = ?2",
            params![agent_id, doc.source_path],
            |r| r.get(0),
        )
        .optional()?;
    let layer = doc.layer.as_str();
    let document_id = match existing {
        Some(id) => {
            change.removed = chunk_keys(tx, id)?;
            tx.exec("DELETE FROM chunks WHERE document_id = ?1", [id])?;
            tx.exec(
                "UPDATE documents SET title = ?2, format = ?3, content_hash = ?4, bytes = ?5, layer = ?6
                     WHERE id = ?1",
                params![id, doc.title, doc.format, doc.content_hash, doc.bytes as i64, layer],
            )?;
            id
        }
        None => tx.row(
            "INSERT INTO documents (agent_id, source_path, title, format, content_hash, bytes, layer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            params![agent_id, doc.source_path, doc.title, doc.format, doc.content_hash, doc.bytes as i64, layer],
            |r| r.get(0),
        )?,
    };
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO chunks (document_id, agent_id, ord, heading, text, text_hash, layer, embedding)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        )?;
        for (ord, c) in chunks.iter().enumerate() {
            let id: i64 = ins.query_row(
                params![
                    document_id,
                    agent_id,
                    ord as i64,
                    c.heading,
                    c.text,
                    c.text_hash,
                    layer,
                    to_bytes(&c.embedding)
                ],
                |r| r.get(0),
            )?;
            let key = ItemKey { kind: ItemKind::Chunk, id, owner: document_id, agent: agent_id, layer: doc.layer };
            change.added.push((key, chunk_search_text(&c.heading, &c.text), c.embedding.clone()));
        }
    }
    change.generation = log_change(tx, change.removed.iter().chain(change.added.iter().map(|(k, _, _)| k)))?;
    Ok((document_id, change))
}

impl Store {
    /// Delete a document and its chunks.
    pub fn delete_document(&self, id: i64) -> Result<IndexChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let removed = chunk_keys(&tx, id)?;
        if tx.exec("DELETE FROM documents WHERE id = ?1", [id])? == 0 {
            return Err(Error::not_found("document", id));
        }
        let generation = log_change(&tx, &removed)?;
        tx.commit()?;
        Ok(IndexChange { removed, added: Vec::new(), generation })
    }

    /// Chunks by id, with their document's path and title, in the order asked.
    pub fn chunks_by_ids(&self, ids: &[i64]) -> Result<Vec<ChunkRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.read()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT c.id, c.document_id, c.agent_id, c.ord, c.heading, c.text, c.layer, d.source_path, d.title
             FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN ({})",
            placeholders(ids.len())
        ))?;
        let rows = stmt
            .query_map(params_from_iter(ids), |r| {
                Ok(ChunkRecord {
                    id: r.get(0)?,
                    document_id: r.get(1)?,
                    agent_id: r.get(2)?,
                    ord: r.get(3)?,
                    heading: r.get(4)?,
                    text: r.get(5)?,
                    layer: parsed(r, 6)?,
                    source_path: r.get(7)?,
                    title: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut by_id: HashMap<i64, ChunkRecord> = rows.into_iter().map(|c| (c.id, c)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Visit every indexed item (chunks, canonical questions, then the reuse model's
    /// examples) with its text and
    /// vector: what the search index is rebuilt from.
    pub fn for_each_indexed(&self, mut f: impl FnMut(ItemKey, &str, Vec<f32>)) -> Result<u64> {
        let conn = self.read()?;
        let mut n = 0;
        let mut stmt = conn.prepare_cached(
            "SELECT id, document_id, agent_id, layer, heading, text, embedding FROM chunks ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let text = chunk_search_text(&r.get::<_, String>(4)?, &r.get::<_, String>(5)?);
            f(item_key(ItemKind::Chunk, r)?, &text, vector_col(r, 6)?);
            n += 1;
        }
        let mut stmt = conn.prepare_cached(
            "SELECT v.id, v.canonical_answer_id, a.agent_id, a.layer, v.text, v.embedding
             FROM canonical_variants v JOIN canonical_answers a ON a.id = v.canonical_answer_id ORDER BY v.id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(item_key(ItemKind::Canonical, r)?, &r.get::<_, String>(4)?, vector_col(r, 5)?);
            n += 1;
        }
        let mut stmt =
            conn.prepare(&format!("SELECT {} FROM reuse_examples e ORDER BY e.id", crate::examples::EXAMPLE_KEY))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(item_key(ItemKind::Example, r)?, &r.get::<_, String>(4)?, vector_col(r, 5)?);
            n += 1;
        }
        Ok(n)
    }

    /// How many items the search index should hold.
    pub fn indexed_count(&self) -> Result<u64> {
        let n: i64 = self.read()?.row(
            "SELECT (SELECT count(*) FROM chunks) + (SELECT count(*) FROM canonical_variants)
                  + (SELECT count(*) FROM reuse_examples)",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

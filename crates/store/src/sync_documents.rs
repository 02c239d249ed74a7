//! Sync of documents: a document's whole state (its chunks with their embeddings) read
//! for a record or a push, and put or removed as a peer says.

use crate::documents::{put_document_in, IndexChange, NewChunk, NewDocument};
use crate::index_log::log_change;
use crate::sync_apply::uid_to_id;
use crate::util::Cached;
use crate::{Error, Result, Store};
use fanline_sync::{ChunkData, DocumentData};
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::HashMap;

/// A document's state, and its chunks' stored embeddings by text hash.
pub type DocumentState = (DocumentData, Vec<(String, Vec<u8>)>);

impl Store {
    /// A document's state by uid (none: not here).
    pub fn document_state(&self, uid: &str) -> Result<Option<DocumentState>> {
        let conn = self.read()?;
        let doc = conn
            .row(
                "SELECT d.id, g.name, d.source_path, d.title, d.format, d.content_hash, d.bytes, d.layer
                 FROM documents d JOIN agents g ON g.id = d.agent_id WHERE d.uid = ?1",
                [uid],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        DocumentData {
                            agent: r.get(1)?,
                            source_path: r.get(2)?,
                            title: r.get(3)?,
                            format: r.get(4)?,
                            content_hash: r.get(5)?,
                            bytes: r.get::<_, i64>(6)? as u64,
                            layer: r.get(7)?,
                            chunks: Vec::new(),
                            vectors: None,
                        },
                    ))
                },
            )
            .optional()?;
        let Some((id, mut data)) = doc else { return Ok(None) };
        let mut stmt = conn.prepare_cached(
            "SELECT heading, text, text_hash, embedding FROM chunks WHERE document_id = ?1 ORDER BY ord",
        )?;
        let mut vectors = Vec::new();
        let rows = stmt.query_map([id], |r| {
            Ok((ChunkData { heading: r.get(0)?, text: r.get(1)?, text_hash: r.get(2)? }, r.get::<_, Vec<u8>>(3)?))
        })?;
        for row in rows {
            let (chunk, bytes) = row?;
            vectors.push((chunk.text_hash.clone(), bytes));
            data.chunks.push(chunk);
        }
        Ok(Some((data, vectors)))
    }

    /// The content hash and layer of a document by uid.
    pub fn document_version(&self, uid: &str) -> Result<Option<(String, String, String)>> {
        let conn = self.read()?;
        Ok(conn
            .row("SELECT content_hash, layer, title FROM documents WHERE uid = ?1", [uid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?)
    }

    /// Put a peer's document (its chunks embedded by `vectors`, by text hash) under its uid.
    pub fn put_synced_document(
        &self,
        uid: &str,
        d: &DocumentData,
        vectors: &HashMap<String, Vec<f32>>,
    ) -> Result<IndexChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let change = put_in(&tx, uid, d, vectors)?;
        tx.commit()?;
        Ok(change)
    }

    /// Remove a document a peer deleted (nothing if it is not here).
    pub fn delete_synced_document(&self, uid: &str) -> Result<IndexChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let change = delete_in(&tx, uid)?;
        tx.commit()?;
        Ok(change)
    }
}

pub(crate) fn put_in(
    tx: &Transaction<'_>,
    uid: &str,
    d: &DocumentData,
    vectors: &HashMap<String, Vec<f32>>,
) -> Result<IndexChange> {
    let agent = crate::sync_apply::agent_id(tx, &d.agent)?;
    // The same uid (moved, renamed), or the same path imported on both sides: one document.
    let by_uid = uid_to_id(tx, "documents", Some(uid))?;
    let by_path: Option<i64> = tx
        .row("SELECT id FROM documents WHERE agent_id = ?1 AND source_path = ?2", params![agent, d.source_path], |r| {
            r.get(0)
        })
        .optional()?;
    match (by_uid, by_path) {
        (Some(a), Some(b)) if a != b => {
            tx.exec("DELETE FROM documents WHERE id = ?1", [b])?;
            tx.exec("UPDATE documents SET source_path = ?2 WHERE id = ?1", params![a, d.source_path])?;
        }
        (Some(a), None) => {
            tx.exec("UPDATE documents SET source_path = ?2 WHERE id = ?1", params![a, d.source_path])?;
        }
        (None, Some(b)) => {
            tx.exec("UPDATE documents SET uid = ?2 WHERE id = ?1", params![b, uid])?;
        }
        _ => {}
    }
    let layer = d.layer.parse().map_err(|_| Error::Invalid { what: "document layer", detail: d.layer.clone() })?;
    let doc = NewDocument {
        source_path: d.source_path.clone(),
        title: d.title.clone(),
        format: d.format.clone(),
        content_hash: d.content_hash.clone(),
        bytes: d.bytes,
        layer,
    };
    let chunks = d
        .chunks
        .iter()
        .map(|c| {
            let embedding = vectors.get(&c.text_hash).cloned().ok_or_else(|| Error::Invalid {
                what: "sync",
                detail: format!("no embedding was made for a chunk of {}", d.source_path),
            })?;
            Ok(NewChunk { heading: c.heading.clone(), text: c.text.clone(), text_hash: c.text_hash.clone(), embedding })
        })
        .collect::<Result<Vec<_>>>()?;
    let (id, change) = put_document_in(tx, agent, &doc, &chunks)?;
    tx.exec("UPDATE documents SET uid = ?2 WHERE id = ?1 AND uid IS NOT ?2", params![id, uid])?;
    Ok(change)
}

pub(crate) fn delete_in(tx: &Transaction<'_>, uid: &str) -> Result<IndexChange> {
    let Some(id) = uid_to_id(tx, "documents", Some(uid))? else {
        return Ok(IndexChange::default());
    };
    let removed = crate::documents::chunk_keys(tx, id)?;
    tx.exec("DELETE FROM documents WHERE id = ?1", [id])?;
    let generation = log_change(tx, &removed)?;
    Ok(IndexChange { removed, added: Vec::new(), generation })
}

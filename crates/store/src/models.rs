//! Which embedding model made the stored vectors, and re-embedding everything with
//! another one: the chunks, the canonical answers' phrasings and the reuse model's
//! examples.

use crate::index_log::log_change;
use crate::util::Cached;
use crate::util::{meta, put_meta};
use crate::{Result, Store};
use fanline_engine::chunk_search_text;
use fanline_engine::vector::to_bytes;
use rusqlite::{params, Connection, OptionalExtension};

const MODEL_KEY: &str = "embedding.model";

/// The texts whose vectors a model change replaces, by table, each with its row id.
#[derive(Debug, Default, Clone)]
pub struct EmbeddedTexts {
    /// Chunks: the text embedded is the heading and the text (`chunk_search_text`).
    pub chunks: Vec<(i64, String)>,
    /// Canonical answers' phrasings.
    pub phrasings: Vec<(i64, String)>,
    /// Examples the reuse model learns from.
    pub examples: Vec<(i64, String)>,
}

/// The new vectors, in the order of [`EmbeddedTexts`].
#[derive(Debug, Default, Clone)]
pub struct Reembedded {
    /// The chunks' vectors.
    pub chunks: Vec<Vec<f32>>,
    /// The phrasings' vectors.
    pub phrasings: Vec<Vec<f32>>,
    /// The examples' vectors.
    pub examples: Vec<Vec<f32>>,
}

fn rows(conn: &Connection, sql: &str) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare(sql)?;
    let out = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(out)
}

impl Store {
    /// The id of the model that made the stored vectors (`None`: not recorded yet).
    pub fn embedding_model(&self) -> Result<Option<String>> {
        Ok(meta(&*self.read()?, MODEL_KEY)?)
    }

    /// Record the model that made the stored vectors.
    pub fn set_embedding_model(&self, model: &str) -> Result<()> {
        put_meta(&self.conn(), MODEL_KEY, model)?;
        Ok(())
    }

    /// The length of the stored vectors (a chunk's or a phrasing's), `None` when there
    /// are none: how a data folder from before the model was recorded is checked.
    pub fn stored_vector_dim(&self) -> Result<Option<usize>> {
        let conn = self.read()?;
        let bytes: Option<i64> = conn
            .row(
                "SELECT length(embedding) FROM (SELECT embedding FROM chunks LIMIT 1)
                 UNION ALL SELECT length(embedding) FROM (SELECT embedding FROM canonical_variants LIMIT 1) LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(bytes.map(|b| b as usize / 4))
    }

    /// Every text whose vector a model change replaces.
    pub fn embedded_texts(&self) -> Result<EmbeddedTexts> {
        let conn = self.read()?;
        let tx = conn.unchecked_transaction()?;
        let mut chunks = rows(&tx, "SELECT id, heading || char(31) || text FROM chunks ORDER BY id")?;
        for (_, t) in &mut chunks {
            let (heading, text) = t.split_once('\u{1f}').unwrap_or(("", t.as_str()));
            *t = chunk_search_text(heading, text);
        }
        let out = EmbeddedTexts {
            chunks,
            phrasings: rows(&tx, "SELECT id, text FROM canonical_variants ORDER BY id")?,
            examples: rows(&tx, "SELECT id, text FROM reuse_examples ORDER BY id")?,
        };
        tx.finish()?;
        Ok(out)
    }

    /// Replace the vectors of `texts` with `vectors` (made by `model`) in one
    /// transaction, and record the model. Every process's search index then reloads
    /// whole: the log of changes is restarted at the new generation. A row deleted
    /// since `texts` was read is skipped; one added since keeps its vector and is
    /// caught by the model check (its length) only if the dimension changed, so run
    /// this with no other process writing.
    pub fn replace_embeddings(&self, model: &str, texts: &EmbeddedTexts, vectors: &Reembedded) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (table, items, vs) in [
            ("chunks", &texts.chunks, &vectors.chunks),
            ("canonical_variants", &texts.phrasings, &vectors.phrasings),
            ("reuse_examples", &texts.examples, &vectors.examples),
        ] {
            let mut up = tx.prepare(&format!("UPDATE {table} SET embedding = ?2 WHERE id = ?1"))?;
            for ((id, _), v) in items.iter().zip(vs) {
                up.execute(params![id, to_bytes(v)])?;
            }
        }
        let generation = log_change(&tx, &[])?;
        tx.exec("DELETE FROM index_log", [])?;
        put_meta(&tx, "index_log_from", &generation.to_string())?;
        put_meta(&tx, MODEL_KEY, model)?;
        tx.commit()?;
        Ok(())
    }
}

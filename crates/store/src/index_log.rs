//! The log of changes to indexed content (migration 0007): what a search index reads
//! to follow the store.

use crate::util::Cached;
use crate::util::{item_key, vector_col};
use crate::{Result, Store};
use fanline_engine::{chunk_search_text, IndexedItem, ItemKey, ItemKind};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeSet;

/// What changed in indexed content after a generation: the items gone, the items added
/// or changed (with their search text and vector), and the generation they bring an
/// index to.
#[derive(Debug, Clone, Default)]
pub struct IndexDelta {
    /// Items gone.
    pub removed: Vec<(ItemKind, i64)>,
    /// Items added or changed, as they are now.
    pub added: Vec<IndexedItem>,
    /// The store's index generation.
    pub generation: u64,
}

/// Move the index generation forward and log the items this transaction touched;
/// called inside every transaction that changes indexed content.
pub(crate) fn log_change<'a>(conn: &Connection, touched: impl IntoIterator<Item = &'a ItemKey>) -> Result<u64> {
    let generation: i64 = conn.row(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'index_generation' \
         RETURNING CAST(value AS INTEGER)",
        [],
        |r| r.get(0),
    )?;
    let mut ins = conn.prepare_cached("INSERT INTO index_log (generation, kind, item) VALUES (?1, ?2, ?3)")?;
    for k in touched {
        ins.execute(params![generation, k.kind.code(), k.id])?;
    }
    Ok(generation as u64)
}

fn meta_u64(conn: &Connection, key: &str) -> Result<u64> {
    let v: Option<i64> =
        conn.row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    Ok(v.unwrap_or(0) as u64)
}

fn chunk(conn: &Connection, id: i64) -> Result<Option<IndexedItem>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, document_id, agent_id, layer, heading, text, embedding FROM chunks WHERE id = ?1",
    )?;
    Ok(stmt
        .query_row([id], |r| {
            let text = chunk_search_text(&r.get::<_, String>(4)?, &r.get::<_, String>(5)?);
            Ok((item_key(ItemKind::Chunk, r)?, text, vector_col(r, 6)?))
        })
        .optional()?)
}

fn phrasing(conn: &Connection, id: i64) -> Result<Option<IndexedItem>> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.id, v.canonical_answer_id, a.agent_id, a.layer, v.text, v.embedding
         FROM canonical_variants v JOIN canonical_answers a ON a.id = v.canonical_answer_id WHERE v.id = ?1",
    )?;
    Ok(stmt
        .query_row([id], |r| Ok((item_key(ItemKind::Canonical, r)?, r.get::<_, String>(4)?, vector_col(r, 5)?)))
        .optional()?)
}

impl Store {
    /// What changed in indexed content after `generation`, read in one snapshot;
    /// `None` when the log no longer reaches back that far (or `generation` is ahead of
    /// the store, which was then restored from an older copy): reload everything.
    pub fn index_changes_since(&self, generation: u64) -> Result<Option<IndexDelta>> {
        let conn = self.read()?;
        let tx = conn.unchecked_transaction()?;
        let now = meta_u64(&tx, "index_generation")?;
        if generation < meta_u64(&tx, "index_log_from")? || generation > now {
            return Ok(None);
        }
        let touched: BTreeSet<(u8, i64)> = {
            let mut stmt = tx.prepare_cached("SELECT kind, item FROM index_log WHERE generation > ?1")?;
            let rows = stmt.query_map([generation as i64], |r| Ok((r.get::<_, u8>(0)?, r.get::<_, i64>(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut delta = IndexDelta { generation: now, ..Default::default() };
        for (code, id) in touched {
            let Some(kind) = ItemKind::from_code(code) else { continue };
            let item = match kind {
                ItemKind::Chunk => chunk(&tx, id)?,
                ItemKind::Canonical => phrasing(&tx, id)?,
                ItemKind::Example => crate::examples::example(&tx, id)?,
            };
            match item {
                Some(item) => delta.added.push(item),
                None => delta.removed.push((kind, id)),
            }
        }
        tx.finish()?;
        Ok(Some(delta))
    }

    /// Forget the log of changes before `generation` (every shared index holds them).
    pub fn forget_index_log_before(&self, generation: u64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let from = meta_u64(&tx, "index_log_from")?;
        if generation > from {
            tx.exec("DELETE FROM index_log WHERE generation <= ?1", [generation as i64])?;
            tx.exec(
                "INSERT INTO meta (key, value) VALUES ('index_log_from', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [generation.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

//! Editing the canonical answers library: the answer text, the layer, merging
//! duplicates. Each returns the index change (a layer lives in the index keys).

use crate::documents::IndexChange;
use crate::index_log::log_change;
use crate::util::parsed;
use crate::util::Cached;
use crate::{Error, Result, Store};
use fanline_engine::{vector::from_bytes, IndexedItem, ItemKey, ItemKind, Layer};
use rusqlite::{params, OptionalExtension, Transaction};

/// Every phrasing of a canonical answer as index entries (key, text, embedding).
pub(crate) fn indexed_variants(tx: &Transaction<'_>, canonical_id: i64) -> Result<Vec<IndexedItem>> {
    let mut stmt = tx.prepare_cached(
        "SELECT v.id, v.canonical_answer_id, a.agent_id, a.layer, v.text, v.embedding FROM canonical_variants v
         JOIN canonical_answers a ON a.id = v.canonical_answer_id WHERE a.id = ?1 ORDER BY v.id",
    )?;
    let rows = stmt
        .query_map([canonical_id], |r| {
            let key = ItemKey {
                kind: ItemKind::Canonical,
                id: r.get(0)?,
                owner: r.get(1)?,
                agent: r.get(2)?,
                layer: parsed(r, 3)?,
            };
            let bytes: Vec<u8> = r.get(5)?;
            Ok((key, r.get::<_, String>(4)?, bytes))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(key, text, bytes)| {
            let v = from_bytes(&bytes)
                .ok_or(Error::Invalid { what: "variant embedding", detail: format!("variant {}", key.id) })?;
            Ok((key, text, v))
        })
        .collect()
}

fn agent_and_layer(tx: &Transaction<'_>, id: i64) -> Result<(i64, Layer)> {
    tx.row("SELECT agent_id, layer FROM canonical_answers WHERE id = ?1", [id], |r| Ok((r.get(0)?, parsed(r, 1)?)))
        .optional()?
        .ok_or_else(|| Error::not_found("canonical answer", id))
}

impl Store {
    /// Change a canonical answer's text and/or layer. A new layer re-keys its phrasings
    /// in the index, so fans below the layer stop being served it at once.
    pub fn update_canonical(&self, id: i64, answer: Option<&str>, layer: Option<Layer>) -> Result<IndexChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (_, old_layer) = agent_and_layer(&tx, id)?;
        if let Some(text) = answer {
            if text.trim().is_empty() {
                return Err(Error::Invalid { what: "canonical answer", detail: "the answer is empty".into() });
            }
            tx.exec("UPDATE canonical_answers SET answer = ?2 WHERE id = ?1", params![id, text.trim()])?;
        }
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        if let Some(layer) = layer.filter(|l| *l != old_layer) {
            removed = indexed_variants(&tx, id)?.into_iter().map(|(k, _, _)| k).collect();
            tx.exec("UPDATE canonical_answers SET layer = ?2 WHERE id = ?1", params![id, layer.as_str()])?;
            added = indexed_variants(&tx, id)?;
        }
        let generation = log_change(&tx, removed.iter().chain(added.iter().map(|(k, _, _)| k)))?;
        tx.commit()?;
        Ok(IndexChange { removed, added, generation })
    }

    /// Merge the duplicate `from` into `into`: its phrasings (those `into` lacks), its
    /// reuse count, its served decisions and escalations move over; `from` is deleted.
    /// `into` keeps its answer and its layer.
    pub fn merge_canonical(&self, into: i64, from: i64) -> Result<IndexChange> {
        if into == from {
            return Err(Error::Invalid { what: "merge", detail: "an answer cannot be merged into itself".into() });
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (agent_into, _) = agent_and_layer(&tx, into)?;
        let (agent_from, _) = agent_and_layer(&tx, from)?;
        if agent_into != agent_from {
            return Err(Error::Invalid { what: "merge", detail: "the answers belong to different agents".into() });
        }
        let removed: Vec<ItemKey> = indexed_variants(&tx, from)?.into_iter().map(|(k, _, _)| k).collect();
        let before: Vec<i64> = indexed_variants(&tx, into)?.into_iter().map(|(k, _, _)| k.id).collect();
        tx.exec(
            "INSERT INTO canonical_variants (canonical_answer_id, text, is_pattern, embedding)
             SELECT ?1, text, 0, embedding FROM canonical_variants WHERE canonical_answer_id = ?2
             ON CONFLICT (canonical_answer_id, text) DO NOTHING",
            params![into, from],
        )?;
        tx.exec(
            "UPDATE canonical_answers SET
                times_reused = times_reused + (SELECT times_reused FROM canonical_answers WHERE id = ?2),
                last_served_at = (SELECT max(t) FROM (
                    SELECT last_served_at AS t FROM canonical_answers WHERE id IN (?1, ?2)))
             WHERE id = ?1",
            params![into, from],
        )?;
        tx.exec("UPDATE decisions SET canonical_answer_id = ?1 WHERE canonical_answer_id = ?2", params![into, from])?;
        tx.exec("UPDATE escalations SET canonical_answer_id = ?1 WHERE canonical_answer_id = ?2", params![into, from])?;
        // Its judged examples become examples of the answer it merges into.
        let moved = crate::examples::keys_of_answer(&tx, from)?;
        tx.exec(
            "UPDATE reuse_examples SET canonical_answer_id = ?1 WHERE canonical_answer_id = ?2",
            params![into, from],
        )?;
        tx.exec("DELETE FROM canonical_answers WHERE id = ?1", [from])?;
        let added: Vec<_> =
            indexed_variants(&tx, into)?.into_iter().filter(|(k, _, _)| !before.contains(&k.id)).collect();
        let generation = log_change(&tx, removed.iter().chain(&moved).chain(added.iter().map(|(k, _, _)| k)))?;
        tx.commit()?;
        Ok(IndexChange { removed, added, generation })
    }
}

//! What the reuse model learns from besides the phrasings (migration 0009): the
//! generic off-topic set, questions the creator declined, and served answers the
//! creator judged. Each is an indexed item of kind [`ItemKind::Example`], logged like
//! every indexed change.

use crate::index_log::log_change;
use crate::util::Cached;
use crate::util::{item_key, meta, put_meta};
use crate::{Result, Store};
use fanline_engine::{vector::to_bytes, IndexedItem, ItemKey, ItemKind};
use rusqlite::{params, Connection, OptionalExtension};

/// The columns an example's index key is read from: id, owner (its answer or 0), agent
/// (or 0: every agent's), layer (examples are never searched: public).
pub(crate) const EXAMPLE_KEY: &str =
    "e.id, coalesce(e.canonical_answer_id, 0), coalesce(e.agent_id, 0), 'public', e.text, e.embedding";

/// The meta key holding the stamp of the generic off-topic set stored.
const SET_STAMP: &str = "off_topic_set";

/// An example as an index item, if it exists.
pub(crate) fn example(conn: &Connection, id: i64) -> Result<Option<IndexedItem>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {EXAMPLE_KEY} FROM reuse_examples e WHERE e.id = ?1"))?;
    Ok(stmt
        .query_row([id], |r| {
            Ok((item_key(ItemKind::Example, r)?, r.get::<_, String>(4)?, crate::util::vector_col(r, 5)?))
        })
        .optional()?)
}

/// The keys of the examples of one answer (judged right reuses of it).
pub(crate) fn keys_of_answer(conn: &Connection, canonical_id: i64) -> Result<Vec<ItemKey>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {EXAMPLE_KEY} FROM reuse_examples e WHERE e.canonical_answer_id = ?1"))?;
    let keys = stmt.query_map([canonical_id], |r| item_key(ItemKind::Example, r))?.collect::<rusqlite::Result<_>>()?;
    Ok(keys)
}

/// Record, in an open transaction, that the creator declined escalation `id`: its
/// question becomes an example of what none of the answers is.
pub(crate) fn learn_declined(conn: &Connection, escalation_id: i64, embedding: &[f32]) -> Result<()> {
    let id: i64 = conn.row(
        "INSERT INTO reuse_examples (agent_id, source, escalation_id, text, embedding)
         SELECT agent_id, 'declined', id, question, ?2 FROM escalations WHERE id = ?1
         ON CONFLICT (escalation_id) WHERE escalation_id IS NOT NULL
         DO UPDATE SET embedding = excluded.embedding RETURNING id",
        params![escalation_id, to_bytes(embedding)],
        |r| r.get(0),
    )?;
    log_change(conn, &[example_key(id)])?;
    Ok(())
}

/// Record, in an open transaction, the creator's verdict on served decision `id`: the
/// fan's question becomes an example of the answer served (right) or of none (wrong).
pub(crate) fn learn_judged(conn: &Connection, decision_id: i64, correct: bool, embedding: &[f32]) -> Result<()> {
    // A right reuse of an answer deleted since teaches nothing: no row.
    let id: Option<i64> = conn
        .row(
            "INSERT INTO reuse_examples (agent_id, canonical_answer_id, source, decision_id, text, embedding)
             SELECT d.agent_id, CASE WHEN ?2 THEN d.canonical_answer_id END,
                    CASE WHEN ?2 THEN 'judged_right' ELSE 'judged_wrong' END, d.id, m.body, ?3
             FROM decisions d JOIN messages m ON m.id = d.message_id
             WHERE d.id = ?1 AND (NOT ?2 OR d.canonical_answer_id IS NOT NULL)
             ON CONFLICT (decision_id) WHERE decision_id IS NOT NULL DO UPDATE SET
                 canonical_answer_id = excluded.canonical_answer_id, source = excluded.source,
                 embedding = excluded.embedding
             RETURNING id",
            params![decision_id, correct, to_bytes(embedding)],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = id {
        log_change(conn, &[example_key(id)])?;
    }
    Ok(())
}

/// An example's key for the log (only kind and id are logged).
fn example_key(id: i64) -> ItemKey {
    ItemKey { kind: ItemKind::Example, id, owner: 0, agent: 0, layer: fanline_engine::Layer::Public }
}

impl Store {
    /// The stamp of the generic off-topic set stored (`None`: none yet).
    pub fn off_topic_set(&self) -> Result<Option<String>> {
        Ok(meta(&*self.read()?, SET_STAMP)?)
    }

    /// Replace the generic off-topic set with `items` (text and embedding), stamped
    /// `stamp`, in one transaction.
    pub fn put_off_topic_set(&self, stamp: &str, items: &[(String, Vec<f32>)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut touched: Vec<ItemKey> = {
            let mut stmt = tx.prepare_cached("SELECT id FROM reuse_examples WHERE source = 'generic'")?;
            let ids = stmt.query_map([], |r| r.get::<_, i64>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            ids.into_iter().map(example_key).collect()
        };
        tx.exec("DELETE FROM reuse_examples WHERE source = 'generic'", [])?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO reuse_examples (source, text, embedding) VALUES ('generic', ?1, ?2) RETURNING id",
            )?;
            for (text, v) in items {
                let id: i64 = ins.query_row(params![text, to_bytes(v)], |r| r.get(0))?;
                touched.push(example_key(id));
            }
        }
        put_meta(&tx, SET_STAMP, stamp)?;
        log_change(&tx, &touched)?;
        tx.commit()?;
        Ok(())
    }

    /// How many examples of each source an agent's model learns from (the generic set
    /// counted for every agent): for `doctor` and the tests.
    pub fn reuse_example_counts(&self, agent_id: i64) -> Result<Vec<(String, u64)>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT source, count(*) FROM reuse_examples WHERE agent_id = ?1 OR agent_id IS NULL
             GROUP BY source ORDER BY source",
        )?;
        let rows = stmt
            .query_map([agent_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

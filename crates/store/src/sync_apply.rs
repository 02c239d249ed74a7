//! Sync: a device applies a page of the hub's log in one transaction with its cursor,
//! so a failure anywhere leaves both as they were, and applying a page twice changes
//! nothing (each record is the thing's whole state, upserted by uid).

use crate::canonical_edit::indexed_variants;
use crate::documents::IndexChange;
use crate::index_log::log_change;
use crate::sync::applying;
use crate::util::put_meta;
use crate::util::Cached;
use crate::{Result, Store};
use fanline_engine::ItemKey;
use fanline_sync::{CanonicalData, ConflictData, EscalationData, Record};
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::HashMap;

/// A record of the hub's log, ready to apply here.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// An escalation's state (none: gone).
    Escalation(String, Option<Box<EscalationData>>),
    /// A canonical answer's state (none: deleted), with the embeddings of its
    /// phrasings this node lacks (by text), made with this node's model.
    Canonical(String, Option<CanonicalData>, HashMap<String, Vec<f32>>),
    /// A conflict.
    Conflict(String, Option<ConflictData>),
    /// An agent's rules and policy (by the agent's name).
    Rules(String, Option<Box<crate::RulesData>>),
    /// A message (the hub's copy replaces one here under the same uid).
    Message(String, Box<fanline_sync::MessageData>),
    /// A decision.
    Decision(String, Box<fanline_sync::DecisionData>),
    /// A message that has no place (this device's copy of telling a fan about a
    /// command that lost).
    MessageGone(String),
    /// A document (none: deleted), with its chunks' embeddings by text hash.
    Document(String, Option<Box<fanline_sync::DocumentData>>, HashMap<String, Vec<f32>>),
    /// A record this build cannot apply yet: kept aside.
    Later(Record),
}

pub(crate) fn agent_id(tx: &Transaction<'_>, name: &str) -> Result<i64> {
    if let Some(id) = tx.row("SELECT id FROM agents WHERE name = ?1", [name], |r| r.get(0)).optional()? {
        return Ok(id);
    }
    Ok(tx.row("INSERT INTO agents (name) VALUES (?1) RETURNING id", [name], |r| r.get(0))?)
}

pub(crate) fn fan_id(tx: &Transaction<'_>, f: &fanline_sync::FanData) -> Result<i64> {
    let by_uid: Option<i64> = tx.row("SELECT id FROM fans WHERE uid = ?1", [&f.uid], |r| r.get(0)).optional()?;
    let by_handle: Option<i64> =
        tx.row("SELECT id FROM fans WHERE handle = ?1", [&f.handle], |r| r.get(0)).optional()?;
    let id = match (by_uid, by_handle) {
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => {
            return Ok(tx.row(
                "INSERT INTO fans (uid, handle, tier, layer) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                params![f.uid, f.handle, f.tier, f.layer],
                |r| r.get(0),
            )?)
        }
    };
    tx.exec(
        "UPDATE fans SET uid = ?2, handle = ?3, tier = ?4, layer = ?5 WHERE id = ?1",
        params![id, f.uid, f.handle, f.tier, f.layer],
    )?;
    Ok(id)
}

/// The local id of the row of `table` with `uid` (none: no uid, or not here).
pub(crate) fn uid_to_id(tx: &Transaction<'_>, table: &str, uid: Option<&str>) -> Result<Option<i64>> {
    let Some(uid) = uid else { return Ok(None) };
    Ok(tx.query_row(&format!("SELECT id FROM {table} WHERE uid = ?1"), [uid], |r| r.get(0)).optional()?)
}

fn apply_escalation(tx: &Transaction<'_>, uid: &str, e: &EscalationData) -> Result<()> {
    let agent = agent_id(tx, &e.agent)?;
    let fan = fan_id(tx, &e.fan)?;
    let canonical = uid_to_id(tx, "canonical_answers", e.canonical_uid.as_deref())?;
    let message = uid_to_id(tx, "messages", e.message_uid.as_deref())?;
    tx.exec(
        "INSERT INTO escalations (uid, agent_id, fan_id, question, reason, status, priority, context_summary, answer,
             answer_layer, canonical_answer_id, offered_at, accepted_at, answered_at, declined_at, expires_at,
             deferred_until, expected_reply_after, message_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
         ON CONFLICT (uid) DO UPDATE SET agent_id = excluded.agent_id, fan_id = excluded.fan_id,
             question = excluded.question, reason = excluded.reason, status = excluded.status,
             priority = excluded.priority, context_summary = excluded.context_summary, answer = excluded.answer,
             answer_layer = excluded.answer_layer, canonical_answer_id = excluded.canonical_answer_id,
             offered_at = excluded.offered_at, accepted_at = excluded.accepted_at, answered_at = excluded.answered_at,
             declined_at = excluded.declined_at, expires_at = excluded.expires_at,
             deferred_until = excluded.deferred_until, expected_reply_after = excluded.expected_reply_after,
             message_id = coalesce(excluded.message_id, message_id)",
        params![
            uid,
            agent,
            fan,
            e.question,
            e.reason,
            e.status,
            e.priority,
            e.context_summary,
            e.answer,
            e.answer_layer,
            canonical,
            e.offered_at,
            e.accepted_at,
            e.answered_at,
            e.declined_at,
            e.expires_at,
            e.deferred_until,
            e.expected_reply_after,
            message
        ],
    )?;
    Ok(())
}

/// Apply a canonical answer's state; the index keys it touched go to `keys`.
fn apply_canonical(
    tx: &Transaction<'_>,
    uid: &str,
    c: Option<&CanonicalData>,
    vectors: &HashMap<String, Vec<f32>>,
    keys: &mut Vec<ItemKey>,
) -> Result<()> {
    if let Some(id) = uid_to_id(tx, "canonical_answers", Some(uid))? {
        keys.extend(indexed_variants(tx, id)?.into_iter().map(|(k, _, _)| k));
    }
    let Some(c) = c else {
        tx.exec("DELETE FROM canonical_answers WHERE uid = ?1", [uid])?;
        return Ok(());
    };
    let agent = agent_id(tx, &c.agent)?;
    let source = uid_to_id(tx, "escalations", c.source_escalation_uid.as_deref())?;
    let id: i64 = tx.row(
        "INSERT INTO canonical_answers (uid, agent_id, question_pattern, answer, layer, answer_hlc, layer_hlc,
             times_reused, source_escalation_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (uid) DO UPDATE SET agent_id = excluded.agent_id, question_pattern = excluded.question_pattern,
             answer = excluded.answer, layer = excluded.layer, answer_hlc = excluded.answer_hlc,
             layer_hlc = excluded.layer_hlc,
             source_escalation_id = coalesce(excluded.source_escalation_id, source_escalation_id)
         RETURNING id",
        params![uid, agent, c.question_pattern, c.answer, c.layer, c.answer_hlc, c.layer_hlc, c.times_reused, source],
        |r| r.get(0),
    )?;
    let vector = |text: &str| -> Result<Vec<u8>> {
        let v = vectors.get(text).ok_or_else(|| crate::Error::Invalid {
            what: "sync",
            detail: format!("no embedding was made for the phrasing {text:?}"),
        })?;
        Ok(fanline_engine::vector::to_bytes(v))
    };
    // The question pattern.
    tx.exec(
        "DELETE FROM canonical_variants WHERE canonical_answer_id = ?1 AND is_pattern = 1 AND text <> ?2",
        params![id, c.question_pattern],
    )?;
    let has_pattern: bool = tx.row(
        "SELECT EXISTS (SELECT 1 FROM canonical_variants WHERE canonical_answer_id = ?1 AND is_pattern = 1)",
        [id],
        |r| r.get(0),
    )?;
    if !has_pattern {
        tx.exec(
            "DELETE FROM canonical_variants WHERE canonical_answer_id = ?1 AND text = ?2",
            params![id, c.question_pattern],
        )?;
        tx.exec(
            "INSERT INTO canonical_variants (canonical_answer_id, text, is_pattern, embedding) VALUES (?1, ?2, 1, ?3)",
            params![id, c.question_pattern, vector(&c.question_pattern)?],
        )?;
    }
    // The other phrasings: exactly the hub's.
    let local: Vec<(i64, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, text FROM canonical_variants WHERE canonical_answer_id = ?1 AND is_pattern = 0",
        )?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        rows
    };
    for (vid, text) in &local {
        if !c.variants.contains(text) {
            tx.exec("DELETE FROM canonical_variants WHERE id = ?1", [vid])?;
        }
    }
    for text in &c.variants {
        if !local.iter().any(|(_, t)| t == text) {
            tx.exec(
                "INSERT INTO canonical_variants (canonical_answer_id, text, is_pattern, embedding) VALUES (?1, ?2, 0, ?3)",
                params![id, text, vector(text)?],
            )?;
        }
    }
    // Reuse counts: the larger tally of each node; the count is their sum.
    for (node, n) in &c.tallies {
        tx.exec(
            "INSERT INTO reuse_tallies (canonical_uid, node, n) VALUES (?1, ?2, ?3)
             ON CONFLICT (canonical_uid, node) DO UPDATE SET n = max(n, excluded.n)",
            params![uid, node, n],
        )?;
    }
    tx.exec(
        "UPDATE canonical_answers SET times_reused =
             (SELECT coalesce(sum(n), 0) FROM reuse_tallies WHERE canonical_uid = ?1) WHERE id = ?2",
        params![uid, id],
    )?;
    if let Some(e) = &c.source_escalation_uid {
        tx.exec("UPDATE escalations SET canonical_answer_id = ?1 WHERE uid = ?2", params![id, e])?;
    }
    keys.extend(indexed_variants(tx, id)?.into_iter().map(|(k, _, _)| k));
    Ok(())
}

fn apply_conflict(tx: &Transaction<'_>, uid: &str, c: &ConflictData) -> Result<()> {
    tx.exec(
        "INSERT INTO sync_conflicts (uid, kind, entity, entity_uid, field, kept, winner, device, hlc, question, resolution)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (uid) DO UPDATE SET resolution = excluded.resolution, winner = excluded.winner",
        params![uid, c.kind, c.entity, c.entity_uid, c.field, c.kept, c.winner, c.device, c.hlc, c.question, c.resolution],
    )?;
    Ok(())
}

fn apply_rules(tx: &Transaction<'_>, agent: &str, r: &crate::RulesData) -> Result<()> {
    let id = agent_id(tx, agent)?;
    let rules: fanline_engine::AgentConfig = serde_json::from_value(r.rules.clone())
        .map_err(|e| crate::Error::Invalid { what: "rules", detail: e.to_string() })?;
    crate::agents::write_config(tx, id, &rules)?;
    if let Some(text) = &r.policy {
        tx.exec(
            "INSERT INTO last_valid_policy (agent_id, text) VALUES (?1, ?2)
             ON CONFLICT (agent_id) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at
             WHERE last_valid_policy.text != excluded.text",
            params![id, text],
        )?;
    }
    for (field, hlc) in &r.hlcs {
        crate::sync_fields::set_hlc(tx, crate::RULES, agent, field, hlc)?;
    }
    Ok(())
}

impl Store {
    /// The phrasings (with the question pattern) this node already has for the
    /// canonical answer `uid`: the rest need embedding before its record is applied.
    pub fn canonical_texts(&self, uid: &str) -> Result<Vec<String>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT v.text FROM canonical_variants v JOIN canonical_answers a ON a.id = v.canonical_answer_id
             WHERE a.uid = ?1",
        )?;
        let rows = stmt.query_map([uid], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Apply a page of the hub's log and move the cursor to `next_after`, in one
    /// transaction (nothing of it is stamped or queued to push back).
    pub fn apply_page(&self, page: &[Incoming], next_after: i64) -> Result<IndexChange> {
        applying(|| {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut keys = Vec::new();
            // Canonical answers first: an escalation in the page may point at one.
            for item in page {
                if let Incoming::Canonical(uid, c, vectors) = item {
                    apply_canonical(&tx, uid, c.as_ref(), vectors, &mut keys)?;
                }
            }
            let mut documents = IndexChange::default();
            for item in page {
                if let Incoming::Document(uid, d, vectors) = item {
                    let c = match d {
                        Some(d) => crate::sync_documents::put_in(&tx, uid, d, vectors)?,
                        None => crate::sync_documents::delete_in(&tx, uid)?,
                    };
                    documents.removed.extend(c.removed);
                    documents.added.extend(c.added);
                }
            }
            for item in page {
                match item {
                    Incoming::Escalation(uid, Some(e)) => apply_escalation(&tx, uid, e)?,
                    Incoming::Conflict(uid, Some(c)) => apply_conflict(&tx, uid, c)?,
                    Incoming::Rules(agent, Some(r)) => apply_rules(&tx, agent, r)?,
                    Incoming::Message(uid, m) => {
                        crate::sync_messages::put_message(&tx, uid, m, true)?;
                    }
                    Incoming::Decision(uid, d) => {
                        crate::sync_messages::put_decision(&tx, uid, d)?;
                    }
                    Incoming::MessageGone(uid) => {
                        tx.exec("DELETE FROM messages WHERE uid = ?1", [uid])?;
                    }
                    Incoming::Later(r) => {
                        tx.exec(
                            "INSERT OR REPLACE INTO sync_pending (seq, record) VALUES (?1, ?2)",
                            params![r.seq, serde_json::to_string(r).unwrap_or_default()],
                        )?;
                    }
                    _ => {}
                }
            }
            put_meta(&tx, "sync.pulled_after", &next_after.to_string())?;
            let generation = log_change(&tx, keys.iter())?;
            tx.commit()?;
            documents.removed.extend(keys);
            Ok(IndexChange { removed: documents.removed, added: documents.added, generation })
        })
    }

    /// Records kept aside for a newer build, oldest first.
    pub fn sync_pending(&self) -> Result<Vec<Record>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached("SELECT record FROM sync_pending ORDER BY seq")?;
        let rows: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows.into_iter().filter_map(|r| serde_json::from_str(&r).ok()).collect())
    }

    /// Drop kept-aside records once applied.
    pub fn sync_pending_done(&self, seqs: &[i64]) -> Result<()> {
        let conn = self.conn();
        for s in seqs {
            conn.exec("DELETE FROM sync_pending WHERE seq = ?1", [s])?;
        }
        Ok(())
    }
}

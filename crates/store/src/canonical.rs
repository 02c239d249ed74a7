use crate::index_log::log_change;
use crate::util::Cached;
use crate::util::{item_key, parsed, parsed_opt};
use crate::{Error, Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::{vector::to_bytes, IndexedItem, ItemKey, ItemKind, Layer};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use crate::documents::IndexChange;

/// A canonical answer to store. `questions[0]` is the question pattern; the rest are
/// variants. Every question comes with its embedding.
#[derive(Debug, Clone)]
pub struct NewCanonical {
    pub questions: Vec<(String, Vec<f32>)>,
    pub answer: String,
    pub layer: Layer,
    pub source_escalation_id: Option<i64>,
}

/// One phrasing of a canonical answer's question.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CanonicalVariant {
    pub id: i64,
    pub text: String,
    pub is_pattern: bool,
}

/// A canonical answer with all its questions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CanonicalAnswer {
    pub id: i64,
    pub agent_id: i64,
    pub question_pattern: String,
    pub variants: Vec<CanonicalVariant>,
    pub answer: String,
    pub layer: Layer,
    pub times_reused: u64,
    pub last_served_at: Option<DateTime<Utc>>,
    pub source_escalation_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A line of the canonical answers list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CanonicalSummary {
    pub id: i64,
    pub question_pattern: String,
    pub variants: u64,
    pub layer: Layer,
    pub times_reused: u64,
    pub last_served_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// Insert a canonical answer inside an open transaction; returns its id and the index
/// entries it adds.
pub(crate) fn insert_canonical(
    tx: &Transaction<'_>,
    agent_id: i64,
    c: &NewCanonical,
) -> Result<(i64, Vec<IndexedItem>)> {
    let Some((pattern, _)) = c.questions.first() else {
        return Err(Error::Invalid { what: "canonical answer", detail: "it has no question".into() });
    };
    if c.answer.trim().is_empty() {
        return Err(Error::Invalid { what: "canonical answer", detail: "the answer is empty".into() });
    }
    let id: i64 = tx.row(
        "INSERT INTO canonical_answers (agent_id, question_pattern, answer, layer, source_escalation_id)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![agent_id, pattern.trim(), c.answer.trim(), c.layer.as_str(), c.source_escalation_id],
        |r| r.get(0),
    )?;
    let mut added = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, (text, emb)) in c.questions.iter().enumerate() {
        let text = text.trim();
        if text.is_empty() || !seen.insert(text.to_lowercase()) {
            continue;
        }
        let vid: i64 = tx.row(
            "INSERT INTO canonical_variants (canonical_answer_id, text, is_pattern, embedding)
             VALUES (?1, ?2, ?3, ?4) RETURNING id",
            params![id, text, i == 0, to_bytes(emb)],
            |r| r.get(0),
        )?;
        let key = ItemKey { kind: ItemKind::Canonical, id: vid, owner: id, agent: agent_id, layer: c.layer };
        added.push((key, text.to_string(), emb.clone()));
    }
    Ok((id, added))
}

/// What a reply that serves (or names) a canonical answer needs of it.
#[derive(Debug, Clone, PartialEq)]
pub struct CanonicalReplyParts {
    /// The answer's id.
    pub id: i64,
    /// The question it was written for.
    pub question_pattern: String,
    /// The creator's answer.
    pub answer: String,
    /// How many times it was served before.
    pub times_reused: u64,
}

/// Count one more serving of a canonical answer (on any connection or transaction);
/// returns its reuse count now.
pub(crate) fn count_serving(conn: &rusqlite::Connection, id: i64) -> Result<u64> {
    let n: Option<i64> = conn
        .row(
            "UPDATE canonical_answers SET times_reused = times_reused + 1,
                 last_served_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1 RETURNING times_reused",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    n.map(|n| n as u64).ok_or_else(|| Error::not_found("canonical answer", id))
}

fn variant_keys(tx: &rusqlite::Connection, canonical_id: i64) -> Result<Vec<ItemKey>> {
    let mut stmt = tx.prepare_cached(
        "SELECT v.id, v.canonical_answer_id, a.agent_id, a.layer FROM canonical_variants v
         JOIN canonical_answers a ON a.id = v.canonical_answer_id WHERE a.id = ?1",
    )?;
    let keys =
        stmt.query_map([canonical_id], |r| item_key(ItemKind::Canonical, r))?.collect::<rusqlite::Result<_>>()?;
    Ok(keys)
}

impl Store {
    /// Store a canonical answer and its questions.
    pub fn add_canonical(&self, agent_id: i64, c: &NewCanonical) -> Result<(i64, IndexChange)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (id, added) = insert_canonical(&tx, agent_id, c)?;
        let generation = log_change(&tx, added.iter().map(|(k, _, _)| k))?;
        tx.commit()?;
        Ok((id, IndexChange { removed: Vec::new(), added, generation }))
    }

    /// Store many canonical answers in one transaction (bulk imports, benchmarks).
    pub fn add_canonical_many(&self, agent_id: i64, items: &[NewCanonical]) -> Result<IndexChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut added = Vec::new();
        for c in items {
            added.extend(insert_canonical(&tx, agent_id, c)?.1);
        }
        let generation = log_change(&tx, added.iter().map(|(k, _, _)| k))?;
        tx.commit()?;
        Ok(IndexChange { removed: Vec::new(), added, generation })
    }

    /// Add another phrasing to an existing canonical answer.
    pub fn add_canonical_variant(&self, canonical_id: i64, text: &str, embedding: &[f32]) -> Result<IndexChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (agent, layer): (i64, Layer) = tx
            .row("SELECT agent_id, layer FROM canonical_answers WHERE id = ?1", [canonical_id], |r| {
                Ok((r.get(0)?, parsed(r, 1)?))
            })
            .optional()?
            .ok_or_else(|| Error::not_found("canonical answer", canonical_id))?;
        let vid: i64 = tx
            .row(
                "INSERT INTO canonical_variants (canonical_answer_id, text, embedding) VALUES (?1, ?2, ?3)
                 ON CONFLICT (canonical_answer_id, text) DO NOTHING RETURNING id",
                params![canonical_id, text.trim(), to_bytes(embedding)],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::Conflict { what: "variant", key: text.trim().to_string() })?;
        let key = ItemKey { kind: ItemKind::Canonical, id: vid, owner: canonical_id, agent, layer };
        let generation = log_change(&tx, [&key])?;
        tx.commit()?;
        Ok(IndexChange {
            removed: Vec::new(),
            added: vec![(key, text.trim().to_string(), embedding.to_vec())],
            generation,
        })
    }

    pub fn list_canonical(&self, agent_id: i64) -> Result<Vec<CanonicalSummary>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT a.id, a.question_pattern, (SELECT count(*) FROM canonical_variants v WHERE v.canonical_answer_id = a.id),
                    a.layer, a.times_reused, a.last_served_at, a.updated_at
             FROM canonical_answers a WHERE a.agent_id = ?1 ORDER BY a.times_reused DESC, a.id",
        )?;
        let rows = stmt
            .query_map([agent_id], |r| {
                Ok(CanonicalSummary {
                    id: r.get(0)?,
                    question_pattern: r.get(1)?,
                    variants: r.get::<_, i64>(2)? as u64,
                    layer: parsed(r, 3)?,
                    times_reused: r.get::<_, i64>(4)? as u64,
                    last_served_at: parsed_opt(r, 5)?,
                    updated_at: parsed(r, 6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// A canonical answer's question, answer and reuse count, without its phrasings.
    pub fn canonical_reply_parts(&self, id: i64) -> Result<CanonicalReplyParts> {
        self.read()?
            .row("SELECT id, question_pattern, answer, times_reused FROM canonical_answers WHERE id = ?1", [id], |r| {
                Ok(CanonicalReplyParts {
                    id: r.get(0)?,
                    question_pattern: r.get(1)?,
                    answer: r.get(2)?,
                    times_reused: r.get::<_, i64>(3)? as u64,
                })
            })
            .optional()?
            .ok_or_else(|| Error::not_found("canonical answer", id))
    }

    /// A canonical answer with all its phrasings.
    pub fn canonical(&self, id: i64) -> Result<CanonicalAnswer> {
        let conn = self.read()?;
        let mut a = conn
            .row(
                "SELECT id, agent_id, question_pattern, answer, layer, times_reused, last_served_at,
                        source_escalation_id, created_at, updated_at
                 FROM canonical_answers WHERE id = ?1",
                [id],
                |r| {
                    Ok(CanonicalAnswer {
                        id: r.get(0)?,
                        agent_id: r.get(1)?,
                        question_pattern: r.get(2)?,
                        variants: Vec::new(),
                        answer: r.get(3)?,
                        layer: parsed(r, 4)?,
                        times_reused: r.get::<_, i64>(5)? as u64,
                        last_served_at: parsed_opt(r, 6)?,
                        source_escalation_id: r.get(7)?,
                        created_at: parsed(r, 8)?,
                        updated_at: parsed(r, 9)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| Error::not_found("canonical answer", id))?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, text, is_pattern FROM canonical_variants WHERE canonical_answer_id = ?1
             ORDER BY is_pattern DESC, id",
        )?;
        a.variants = stmt
            .query_map([id], |r| Ok(CanonicalVariant { id: r.get(0)?, text: r.get(1)?, is_pattern: r.get(2)? }))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(a)
    }

    pub fn delete_canonical(&self, id: i64) -> Result<IndexChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut removed = variant_keys(&tx, id)?;
        // Its judged examples go with it (ON DELETE CASCADE): logged, so models forget them.
        removed.extend(crate::examples::keys_of_answer(&tx, id)?);
        if tx.exec("DELETE FROM canonical_answers WHERE id = ?1", [id])? == 0 {
            return Err(Error::not_found("canonical answer", id));
        }
        let generation = log_change(&tx, &removed)?;
        tx.commit()?;
        Ok(IndexChange { removed, added: Vec::new(), generation })
    }

    /// Count one more serving of a canonical answer.
    pub fn record_canonical_reuse(&self, id: i64) -> Result<u64> {
        count_serving(&self.conn(), id)
    }
}

//! What routing reads from the store (a fan's history, the candidates' facts) and how
//! a decision is written: the decision, the agent's reply, a reuse count or an
//! escalation offer, all in one transaction.

use crate::canonical::count_serving;
use crate::escalations::{insert_escalation, timestamp, NewEscalation};
use crate::messages::{insert_decision, MessageKind, NewDecision, Role};
use crate::util::Cached;
use crate::util::{parsed, placeholders, vector_col};
use crate::{Error, Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::reuse::AnswerFacts;
use fanline_engine::route::FanHistory;
use fanline_engine::RoutePath;
use rusqlite::{params, params_from_iter, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// A decision and what it causes, written together.
#[derive(Debug, Clone)]
pub struct NewRouting<'a, D: Serialize> {
    /// The decision.
    pub decision: NewDecision<'a, D>,
    /// Path C: the canonical answer served (its reuse count goes up).
    pub served: Option<i64>,
    /// Path D: the escalation offered.
    pub offer: Option<NewEscalation>,
}

/// What writing a routing created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingWritten {
    /// The decision's id.
    pub decision_id: i64,
    /// The reply's id in the conversation.
    pub reply_message_id: i64,
    /// Path D: the offer's id.
    pub escalation_id: Option<i64>,
    /// Path C: the served answer's reuse count after this serving.
    pub times_reused: Option<u64>,
    /// The reply as written.
    pub reply: String,
}

impl Store {
    /// A fan's history with an agent, and the agent's escalations accepted since
    /// `day_start` and `week_start`. `conversation_id`: the conversation being routed.
    /// `as_of`: history as it stood when that stored message arrived (a what-if replay
    /// of it: nothing after it counts); `None`: as it stands now.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn read_fan_history(
        &self,
        agent_id: i64,
        fan_id: i64,
        conversation_id: Option<i64>,
        day_start: DateTime<Utc>,
        week_start: DateTime<Utc>,
        messages: usize,
        as_of: Option<(i64, DateTime<Utc>)>,
    ) -> Result<FanHistory> {
        let conn = self.read()?;
        // Without `as_of`, a time no row reaches and a message id no row reaches.
        let (until, before) = match as_of {
            Some((id, at)) => (timestamp(at), id),
            None => ("9999".to_string(), i64::MAX),
        };
        let (earlier, declined): (u32, u32) = conn.row(
            "SELECT count(*), coalesce(sum(status IN ('declined', 'expired') AND accepted_at IS NULL), 0)
             FROM escalations WHERE agent_id = ?1 AND fan_id = ?2 AND offered_at <= ?3
             AND (message_id IS NULL OR message_id < ?4)",
            params![agent_id, fan_id, until, before],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // Acceptances up to the message's millisecond count (one taken in the same
        // millisecond the message arrived was taken before it), never the message's own.
        let count = |since: DateTime<Utc>| -> rusqlite::Result<u32> {
            conn.row(
                "SELECT count(*) FROM escalations WHERE agent_id = ?1 AND accepted_at >= ?2 AND accepted_at <= ?3
                 AND (message_id IS NULL OR message_id < ?4)",
                params![agent_id, timestamp(since), until, before],
                |r| r.get(0),
            )
        };
        let (today, week) = (count(day_start)?, count(week_start)?);
        let mut previous_path = None;
        let mut recent = Vec::new();
        if let Some(c) = conversation_id {
            previous_path = conn
                .row(
                    // Through the fan's decisions, newest first (`decisions_by_fan`): the
                    // conversation's messages would all be read and sorted.
                    "SELECT d.path FROM decisions d JOIN messages m ON m.id = d.message_id
                     WHERE d.fan_id = ?3 AND m.conversation_id = ?1 AND m.id < ?2 ORDER BY d.id DESC LIMIT 1",
                    params![c, before, fan_id],
                    |r| parsed::<RoutePath>(r, 0),
                )
                .optional()?;
            let mut stmt = conn.prepare_cached(
                "SELECT role, body FROM (SELECT id, role, body FROM messages WHERE conversation_id = ?1 AND id <= ?3
                 ORDER BY id DESC LIMIT ?2) ORDER BY id",
            )?;
            recent = stmt
                .query_map(params![c, messages as i64, before], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(FanHistory {
            earlier_escalations: earlier,
            declined_offers: declined,
            escalations_today: today,
            escalations_this_week: week,
            previous_path,
            recent_messages: recent,
        })
    }

    /// Facts about canonical answers, by id (missing ids are left out).
    pub fn canonical_facts(&self, ids: &[i64]) -> Result<Vec<AnswerFacts>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT a.id, a.agent_id, a.layer, count(v.id) FROM canonical_answers a
             JOIN canonical_variants v ON v.canonical_answer_id = a.id
             WHERE a.id IN ({}) GROUP BY a.id",
            placeholders(ids.len())
        ))?;
        let rows = stmt
            .query_map(params_from_iter(ids), |r| {
                Ok(AnswerFacts {
                    id: r.get(0)?,
                    agent_id: r.get(1)?,
                    layer: parsed(r, 2)?,
                    phrasings: r.get::<_, i64>(3)? as usize,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The texts of phrasings, by variant id.
    pub fn variant_texts(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, text FROM canonical_variants WHERE id IN ({})",
            placeholders(ids.len())
        ))?;
        let rows =
            stmt.query_map(params_from_iter(ids), |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The vectors of all phrasings of a canonical answer.
    pub fn canonical_vectors(&self, id: i64) -> Result<Vec<Vec<f32>>> {
        let conn = self.read()?;
        let mut stmt =
            conn.prepare_cached("SELECT embedding FROM canonical_variants WHERE canonical_answer_id = ?1")?;
        let rows = stmt.query_map([id], |r| vector_col(r, 0))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

impl Store {
    /// Write a decision with its effects in one transaction: the decision, the reuse
    /// count (C) or the escalation offer (D), and the agent's reply in the conversation.
    /// `reply` is given the offer's id (which the reply names) and called once.
    pub(crate) fn write_routing(
        &self,
        w: &NewRouting<'_, Value>,
        reply: &dyn Fn(Option<i64>) -> String,
    ) -> Result<RoutingWritten> {
        // One of the hub's hot writes: committed with its group (see group.rs).
        self.group_write(|tx| {
            let d = &w.decision;
            // A message is routed once: a second routing of it (a recovery racing a slow
            // route) writes nothing.
            let routed: bool =
                tx.row("SELECT EXISTS (SELECT 1 FROM decisions WHERE message_id = ?1)", [d.message_id], |r| r.get(0))?;
            if routed {
                return Err(Error::Conflict { what: "decision for message", key: d.message_id.to_string() });
            }
            // The write lock is held: the next ids are ours. The offer is numbered before the
            // reply naming it is written, and the decision before the offer pointing to it.
            let next = |table: &str| -> rusqlite::Result<i64> {
                tx.query_row(&format!("SELECT coalesce(max(id), 0) + 1 FROM {table}"), [], |r| r.get(0))
            };
            let escalation_id = w.offer.as_ref().map(|_| next("escalations")).transpose()?;
            let text = reply(escalation_id);
            let decision_id = insert_decision(tx, d, &text, w.served)?;
            let times_reused = w.served.map(|id| count_serving(tx, id)).transpose()?;
            if let (Some(e), Some(id)) = (&w.offer, escalation_id) {
                insert_escalation(tx, Some(id), e, Some(decision_id))?;
            }
            let kind = if escalation_id.is_some() { MessageKind::EscalationOffered } else { MessageKind::Reply };
            let reply_message_id: i64 = tx.row(
                "INSERT INTO messages (conversation_id, role, body, kind, escalation_id, reply_to)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![d.conversation_id, Role::Agent.as_str(), text, kind.as_str(), escalation_id, d.message_id],
                |r| r.get(0),
            )?;
            Ok(RoutingWritten { decision_id, reply_message_id, escalation_id, times_reused, reply: text })
        })
    }
}

/// One past decision whose right reuse answer is known, for calibration.
#[derive(Debug, Clone, PartialEq)]
pub struct ReuseExample {
    pub decision_id: i64,
    /// The fan's message.
    pub question: String,
    /// The decision's stored details (JSON; they hold the candidates it judged).
    pub details: Value,
    /// The canonical answer that was right to serve, or None if none was.
    pub right: Option<i64>,
}

impl Store {
    /// Record the creator's verdict on a decision that served a canonical answer; with
    /// the question's `embedding`, the question also becomes an example the reuse model
    /// learns from (of the answer served, or of none), in the same transaction.
    pub fn set_reuse_feedback(&self, decision_id: i64, correct: bool, embedding: Option<&[f32]>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let path: Option<String> =
            tx.row("SELECT path FROM decisions WHERE id = ?1", [decision_id], |r| r.get(0)).optional()?;
        match path.as_deref() {
            None => return Err(Error::not_found("decision", decision_id)),
            Some("C") => {}
            Some(p) => {
                return Err(Error::Invalid {
                    what: "feedback",
                    detail: format!("decision {decision_id} took path {p}; only served answers (C) are judged"),
                })
            }
        }
        tx.exec(
            "INSERT INTO reuse_feedback (decision_id, correct) VALUES (?1, ?2)
             ON CONFLICT (decision_id) DO UPDATE SET correct = excluded.correct",
            params![decision_id, correct],
        )?;
        if let Some(v) = embedding {
            crate::examples::learn_judged(&tx, decision_id, correct, v)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Past decisions whose right answer is known: served answers the creator judged,
    /// and escalations the creator answered, where attaching the question to an
    /// existing answer says that answer was right and writing a new one says none was.
    pub fn reuse_history(&self, agent_id: i64) -> Result<Vec<ReuseExample>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT d.id, m.body, d.signals, CASE WHEN f.correct = 1 THEN d.canonical_answer_id END
             FROM decisions d JOIN reuse_feedback f ON f.decision_id = d.id JOIN messages m ON m.id = d.message_id
             WHERE d.agent_id = ?1
             UNION ALL
             SELECT d.id, m.body, d.signals,
                    CASE WHEN a.source_escalation_id IS e.id THEN NULL ELSE e.canonical_answer_id END
             FROM escalations e JOIN decisions d ON d.id = e.decision_id JOIN messages m ON m.id = d.message_id
             JOIN canonical_answers a ON a.id = e.canonical_answer_id
             WHERE e.agent_id = ?1 AND e.status = 'answered'
             ORDER BY 1",
        )?;
        let rows = stmt
            .query_map([agent_id], |r| {
                Ok(ReuseExample {
                    decision_id: r.get(0)?,
                    question: r.get(1)?,
                    details: crate::util::json_value(r, 2)?,
                    right: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

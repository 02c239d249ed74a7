use crate::canonical::{insert_canonical, NewCanonical};
use crate::documents::DocumentChange;
use crate::util::{bump_generation, parsed, parsed_opt};
use crate::{Error, Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::{EscalationReason, EscalationStatus, Layer};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// The caps an acceptance is checked against, and the windows they count in (UTC
/// instants; see `fanline_engine::caps::windows`).
#[derive(Debug, Clone, Copy)]
pub struct CapCheck {
    pub now: DateTime<Utc>,
    pub day_start: DateTime<Utc>,
    pub week_start: DateTime<Utc>,
    pub max_per_day: u32,
    pub max_per_week: u32,
}

/// What an acceptance did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Acceptance {
    /// Accepted; the counts include this one.
    Accepted { today: u32, this_week: u32 },
    /// Refused: the daily cap is reached (`today` already accepted).
    DailyCapReached { today: u32 },
    /// Refused: the weekly cap is reached.
    WeeklyCapReached { this_week: u32 },
}

/// A timestamp as the database writes them (`strftime('%Y-%m-%dT%H:%M:%fZ')`), so text
/// comparison is time comparison.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The agent and question of an escalation that may be answered (pending or
/// accepted), inside a transaction.
fn answerable(tx: &rusqlite::Transaction<'_>, id: i64) -> Result<(i64, String)> {
    let (agent_id, question, status): (i64, String, String) = tx
        .query_row("SELECT agent_id, question, status FROM escalations WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?
        .ok_or_else(|| Error::not_found("escalation", id))?;
    let status: EscalationStatus = status.parse()?;
    if !matches!(status, EscalationStatus::Pending | EscalationStatus::Accepted) {
        return Err(Error::Invalid {
            what: "escalation",
            detail: format!("escalation {id} is {status}; only pending or accepted ones can be answered"),
        });
    }
    Ok((agent_id, question))
}

/// An escalation to create (offered to the fan, status pending).
#[derive(Debug, Clone)]
pub struct NewEscalation {
    pub agent_id: i64,
    pub fan_id: i64,
    pub message_id: Option<i64>,
    pub decision_id: Option<i64>,
    pub question: String,
    pub reason: EscalationReason,
    pub priority: i64,
    pub context_summary: String,
    pub expires_at: Option<String>,
}

/// A stored escalation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Escalation {
    pub id: i64,
    pub agent_id: i64,
    pub fan_id: i64,
    pub question: String,
    pub reason: EscalationReason,
    pub status: EscalationStatus,
    pub priority: i64,
    pub context_summary: String,
    pub answer: Option<String>,
    pub answer_layer: Option<Layer>,
    pub canonical_answer_id: Option<i64>,
    pub offered_at: String,
    pub accepted_at: Option<String>,
    pub answered_at: Option<String>,
    pub expires_at: Option<String>,
    pub deferred_until: Option<String>,
    pub message_id: Option<i64>,
    /// Offered outside the creator's hours: when they are back.
    pub expected_reply_after: Option<String>,
}

const ESCALATION_COLS: &str = "id, agent_id, fan_id, question, reason, status, priority, context_summary, answer,
     answer_layer, canonical_answer_id, offered_at, accepted_at, answered_at, expires_at, deferred_until, message_id,
     expected_reply_after";

fn escalation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Escalation> {
    Ok(Escalation {
        id: r.get(0)?,
        agent_id: r.get(1)?,
        fan_id: r.get(2)?,
        question: r.get(3)?,
        reason: parsed(r, 4)?,
        status: parsed(r, 5)?,
        priority: r.get(6)?,
        context_summary: r.get(7)?,
        answer: r.get(8)?,
        answer_layer: parsed_opt(r, 9)?,
        canonical_answer_id: r.get(10)?,
        offered_at: r.get(11)?,
        accepted_at: r.get(12)?,
        answered_at: r.get(13)?,
        expires_at: r.get(14)?,
        deferred_until: r.get(15)?,
        message_id: r.get(16)?,
        expected_reply_after: r.get(17)?,
    })
}

impl Store {
    pub fn create_escalation(&self, e: &NewEscalation) -> Result<i64> {
        Ok(self.conn().query_row(
            "INSERT INTO escalations (agent_id, fan_id, message_id, decision_id, question, reason, priority,
                                      context_summary, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            params![
                e.agent_id,
                e.fan_id,
                e.message_id,
                e.decision_id,
                e.question,
                e.reason.as_str(),
                e.priority,
                e.context_summary,
                e.expires_at
            ],
            |r| r.get(0),
        )?)
    }

    pub fn escalation(&self, id: i64) -> Result<Escalation> {
        self.conn()
            .query_row(&format!("SELECT {ESCALATION_COLS} FROM escalations WHERE id = ?1"), [id], escalation_row)
            .optional()?
            .ok_or_else(|| Error::not_found("escalation", id))
    }

    /// The creator's queue: accepted escalations, those not deferred past `now` first,
    /// then by priority (highest first) and age (oldest first).
    pub fn escalation_queue(&self, agent_id: i64, now: DateTime<Utc>, limit: usize) -> Result<Vec<Escalation>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ESCALATION_COLS} FROM escalations WHERE agent_id = ?1 AND status = 'accepted'
             ORDER BY (deferred_until IS NOT NULL AND deferred_until > ?2), priority DESC, accepted_at, id
             LIMIT ?3"
        ))?;
        let rows = stmt
            .query_map(params![agent_id, timestamp(now), limit as i64], escalation_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Move an escalation from one of `from` to `to`, setting `column` to `now`.
    fn transition(
        &self,
        id: i64,
        from: &[EscalationStatus],
        to: EscalationStatus,
        column: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let status: String = tx
            .query_row("SELECT status FROM escalations WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::not_found("escalation", id))?;
        let status: EscalationStatus = status.parse()?;
        if !from.contains(&status) {
            return Err(Error::Invalid {
                what: "escalation",
                detail: format!("escalation {id} is {status}; it cannot become {to}"),
            });
        }
        tx.execute(
            &format!("UPDATE escalations SET status = ?2, {column} = ?3 WHERE id = ?1"),
            params![id, to.as_str(), timestamp(now)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The fan turned the offer down, or the creator declined a queued escalation.
    pub fn decline_escalation(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.transition(
            id,
            &[EscalationStatus::Pending, EscalationStatus::Accepted],
            EscalationStatus::Declined,
            "declined_at",
            now,
        )
    }

    /// When an escalation expires if nothing happens to it.
    pub fn set_escalation_expiry(&self, id: i64, expires_at: DateTime<Utc>) -> Result<()> {
        let n = self
            .conn()
            .execute("UPDATE escalations SET expires_at = ?2 WHERE id = ?1", params![id, timestamp(expires_at)])?;
        if n == 0 {
            return Err(Error::not_found("escalation", id));
        }
        Ok(())
    }

    /// Put a queued escalation aside until `until`.
    pub fn defer_escalation(&self, id: i64, until: DateTime<Utc>) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE escalations SET deferred_until = ?2 WHERE id = ?1 AND status = 'accepted'",
            params![id, timestamp(until)],
        )?;
        if n == 0 {
            let e = self.escalation(id)?;
            return Err(Error::Invalid {
                what: "escalation",
                detail: format!("escalation {id} is {}; only a queued (accepted) one can be deferred", e.status),
            });
        }
        Ok(())
    }

    /// Expire offers and queued escalations whose `expires_at` has passed; returns how many.
    pub fn expire_escalations(&self, now: DateTime<Utc>) -> Result<usize> {
        let t = timestamp(now);
        Ok(self.conn().execute(
            "UPDATE escalations SET status = 'expired', expired_at = ?1
             WHERE status IN ('pending', 'accepted') AND expires_at IS NOT NULL AND expires_at <= ?1",
            [t],
        )?)
    }

    /// Accept an offered escalation if the agent's caps allow it. The count and the
    /// update happen in one write transaction, so however many acceptances race (from
    /// any number of connections or processes), no more than the cap are accepted.
    /// Escalations accepted in a window count against it whatever became of them later.
    pub fn accept_escalation(&self, id: i64, cap: &CapCheck) -> Result<Acceptance> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (agent_id, status): (i64, String) = tx
            .query_row("SELECT agent_id, status FROM escalations WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| Error::not_found("escalation", id))?;
        if status.parse::<EscalationStatus>()? != EscalationStatus::Pending {
            return Err(Error::Invalid {
                what: "escalation",
                detail: format!("escalation {id} is {status}; only a pending offer can be accepted"),
            });
        }
        let count = |since: DateTime<Utc>| -> rusqlite::Result<u32> {
            tx.query_row(
                "SELECT count(*) FROM escalations WHERE agent_id = ?1 AND accepted_at >= ?2",
                params![agent_id, timestamp(since)],
                |r| r.get(0),
            )
        };
        let today = count(cap.day_start)?;
        if today >= cap.max_per_day {
            return Ok(Acceptance::DailyCapReached { today });
        }
        let this_week = count(cap.week_start)?;
        if this_week >= cap.max_per_week {
            return Ok(Acceptance::WeeklyCapReached { this_week });
        }
        tx.execute(
            "UPDATE escalations SET status = 'accepted', accepted_at = ?2 WHERE id = ?1",
            params![id, timestamp(cap.now)],
        )?;
        tx.commit()?;
        Ok(Acceptance::Accepted { today: today + 1, this_week: this_week + 1 })
    }

    /// Answer an escalation. In the same transaction the answer becomes a canonical
    /// answer whose question pattern is the fan's question (with `question_embedding`),
    /// so the same question never costs the creator twice.
    pub fn answer_escalation(
        &self,
        id: i64,
        answer: &str,
        layer: Layer,
        question_embedding: &[f32],
    ) -> Result<(i64, DocumentChange)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (agent_id, question) = answerable(&tx, id)?;
        let (canonical_id, added) = insert_canonical(
            &tx,
            agent_id,
            &NewCanonical {
                questions: vec![(question, question_embedding.to_vec())],
                answer: answer.to_string(),
                layer,
                source_escalation_id: Some(id),
            },
        )?;
        tx.execute(
            "UPDATE escalations SET status = 'answered', answer = ?2, answer_layer = ?3, canonical_answer_id = ?4,
                 answered_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1",
            params![id, answer.trim(), layer.as_str(), canonical_id],
        )?;
        let generation = bump_generation(&tx)?;
        tx.commit()?;
        Ok((canonical_id, DocumentChange { document_id: canonical_id, removed: Vec::new(), added, generation }))
    }

    /// Answer an escalation with an existing canonical answer instead of a new one: the
    /// fan's question becomes another phrasing of it (with `question_embedding`).
    pub fn attach_escalation(&self, id: i64, canonical_id: i64, question_embedding: &[f32]) -> Result<DocumentChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (agent_id, question) = answerable(&tx, id)?;
        let (c_agent, answer, layer): (i64, String, Layer) = tx
            .query_row("SELECT agent_id, answer, layer FROM canonical_answers WHERE id = ?1", [canonical_id], |r| {
                Ok((r.get(0)?, r.get(1)?, parsed(r, 2)?))
            })
            .optional()?
            .ok_or_else(|| Error::not_found("canonical answer", canonical_id))?;
        if c_agent != agent_id {
            return Err(Error::Invalid {
                what: "canonical answer",
                detail: format!("canonical answer {canonical_id} belongs to another agent"),
            });
        }
        let vid: Option<i64> = tx
            .query_row(
                "INSERT INTO canonical_variants (canonical_answer_id, text, embedding) VALUES (?1, ?2, ?3)
                 ON CONFLICT (canonical_answer_id, text) DO NOTHING RETURNING id",
                params![canonical_id, question.trim(), fanline_engine::vector::to_bytes(question_embedding)],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute(
            "UPDATE escalations SET status = 'answered', answer = ?2, answer_layer = ?3, canonical_answer_id = ?4,
                 answered_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1",
            params![id, answer, layer.as_str(), canonical_id],
        )?;
        let generation = bump_generation(&tx)?;
        tx.commit()?;
        let added = vid
            .map(|vid| {
                let key = fanline_engine::ItemKey {
                    kind: fanline_engine::ItemKind::Canonical,
                    id: vid,
                    owner: canonical_id,
                    agent: agent_id,
                    layer,
                };
                vec![(key, question.trim().to_string(), question_embedding.to_vec())]
            })
            .unwrap_or_default();
        Ok(DocumentChange { document_id: canonical_id, removed: Vec::new(), added, generation })
    }
}

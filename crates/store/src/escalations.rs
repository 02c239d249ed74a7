use crate::canonical::{insert_canonical, NewCanonical};
use crate::documents::IndexChange;
use crate::index_log::log_change;
use crate::messages::{insert_decision, MessageKind, NewDecision, Role};
use crate::util::Cached;
use crate::util::{parsed, parsed_opt};
use crate::{Error, Offers, Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::{EscalationReason, EscalationStatus, Layer};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

impl CapCheck {
    /// The caps at `now`, counted in the creator's day and week in time zone `tz`.
    pub fn at(now: DateTime<Utc>, tz: fanline_engine::caps::Tz, max_per_day: u32, max_per_week: u32) -> CapCheck {
        let w = fanline_engine::caps::windows(now, tz);
        CapCheck { now, day_start: w.day_start, week_start: w.week_start, max_per_day, max_per_week }
    }
}

/// What an acceptance did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Acceptance {
    /// Accepted; the counts include this one.
    Accepted {
        /// Accepted today, this one included.
        today: u32,
        /// Accepted this week, this one included.
        this_week: u32,
    },
    /// Refused: the daily cap is reached (`today` already accepted).
    DailyCapReached {
        /// Accepted today.
        today: u32,
    },
    /// Refused: the weekly cap is reached.
    WeeklyCapReached {
        /// Accepted this week.
        this_week: u32,
    },
}

impl Acceptance {
    /// Whether the offer was accepted.
    pub fn accepted(&self) -> bool {
        matches!(self, Acceptance::Accepted { .. })
    }
}

/// What an acceptance writes with it, in the same transaction: the decision (E, or F
/// when a cap refused it) with the reply the fan reads, and when an accepted
/// escalation leaves the queue if nobody answers it.
pub struct AcceptWrite<'a, D: Serialize> {
    /// The decision, given what the acceptance did (its path, reason, details).
    pub decision: &'a dyn Fn(&Acceptance) -> (NewDecision<'a, D>, String),
    /// When an accepted escalation expires from the queue.
    pub queue_expiry: DateTime<Utc>,
}

/// What accepting wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// What the caps said.
    pub acceptance: Acceptance,
    /// The decision written (none for an escalation without a message).
    pub decision_id: Option<i64>,
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
        .row("SELECT agent_id, question, status FROM escalations WHERE id = ?1", [id], |r| {
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
    /// The agent.
    pub agent_id: i64,
    /// The fan who asked.
    pub fan_id: i64,
    /// The fan's message.
    pub message_id: Option<i64>,
    /// The question, as the creator will read it.
    pub question: String,
    /// Why it goes to the creator.
    pub reason: EscalationReason,
    /// Its place in the queue.
    pub priority: i64,
    /// The conversation so far.
    pub context_summary: String,
    /// When the offer lapses if the fan does not accept it.
    pub expires_at: Option<DateTime<Utc>>,
    /// Offered outside the creator's hours: when they are back.
    pub expected_reply_after: Option<DateTime<Utc>>,
}

/// A stored escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Escalation {
    /// The escalation's id (the offer number the fan sees).
    pub id: i64,
    /// The agent.
    pub agent_id: i64,
    /// The fan who asked.
    pub fan_id: i64,
    /// The question.
    pub question: String,
    /// Why it went to the creator.
    pub reason: EscalationReason,
    /// Where it is in its life.
    pub status: EscalationStatus,
    /// Its place in the queue.
    pub priority: i64,
    /// The conversation so far.
    pub context_summary: String,
    /// The creator's answer.
    pub answer: Option<String>,
    /// The layer the answer was given at.
    pub answer_layer: Option<Layer>,
    /// The canonical answer it became or was attached to.
    pub canonical_answer_id: Option<i64>,
    /// When it was offered.
    pub offered_at: DateTime<Utc>,
    /// When the fan accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When the creator answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it expires if nothing happens.
    pub expires_at: Option<DateTime<Utc>>,
    /// Put aside until then.
    pub deferred_until: Option<DateTime<Utc>>,
    /// The fan's message.
    pub message_id: Option<i64>,
    /// Offered outside the creator's hours: when they are back.
    pub expected_reply_after: Option<DateTime<Utc>>,
}

/// Insert an escalation inside an open transaction (with its id when the caller
/// numbered it under the write lock); returns its id.
pub(crate) fn insert_escalation(
    conn: &rusqlite::Connection,
    id: Option<i64>,
    e: &NewEscalation,
    decision_id: Option<i64>,
) -> Result<i64> {
    Ok(conn.row(
        "INSERT INTO escalations (id, agent_id, fan_id, message_id, decision_id, question, reason, priority,
                                  context_summary, expires_at, expected_reply_after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
        params![
            id,
            e.agent_id,
            e.fan_id,
            e.message_id,
            decision_id,
            e.question,
            e.reason.as_str(),
            e.priority,
            e.context_summary,
            e.expires_at.map(timestamp),
            e.expected_reply_after.map(timestamp)
        ],
        |r| r.get(0),
    )?)
}

/// Write `text` as a message to the fan of escalation `id`, in the conversation the
/// question came from (inside the caller's transaction).
fn tell_fan(conn: &rusqlite::Connection, id: i64, role: Role, text: &str, kind: MessageKind) -> Result<()> {
    let conversation: Option<i64> = conn.row(
        "SELECT coalesce(
             (SELECT m.conversation_id FROM messages m WHERE m.id = e.message_id),
             (SELECT c.id FROM conversations c WHERE c.agent_id = e.agent_id AND c.fan_id = e.fan_id
              ORDER BY c.id DESC LIMIT 1))
         FROM escalations e WHERE e.id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let conversation = match conversation {
        Some(c) => c,
        None => conn.row(
            "INSERT INTO conversations (agent_id, fan_id) SELECT agent_id, fan_id FROM escalations WHERE id = ?1
             RETURNING id",
            [id],
            |r| r.get(0),
        )?,
    };
    conn.exec(
        "INSERT INTO messages (conversation_id, role, body, kind, escalation_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![conversation, role.as_str(), text, kind.as_str(), id],
    )?;
    Ok(())
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
        offered_at: parsed(r, 11)?,
        accepted_at: parsed_opt(r, 12)?,
        answered_at: parsed_opt(r, 13)?,
        expires_at: parsed_opt(r, 14)?,
        deferred_until: parsed_opt(r, 15)?,
        message_id: r.get(16)?,
        expected_reply_after: parsed_opt(r, 17)?,
    })
}

impl Store {
    /// Move an escalation from one of `from` to `to`, setting `column` to `now`.
    /// The fan turned the offer down, or the creator declined a queued escalation;
    /// `notice` (if any) is told to the fan in the same transaction. With the
    /// question's `embedding`, a question the creator declined becomes an example of
    /// what none of the answers is (for the reuse model), in the same transaction.
    pub fn decline_escalation(
        &self,
        id: i64,
        now: DateTime<Utc>,
        notice: Option<&str>,
        embedding: Option<&[f32]>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let status: String = tx
            .row("SELECT status FROM escalations WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::not_found("escalation", id))?;
        let status: EscalationStatus = status.parse()?;
        if !matches!(status, EscalationStatus::Pending | EscalationStatus::Accepted) {
            return Err(Error::Invalid {
                what: "escalation",
                detail: format!("escalation {id} is {status}; it cannot become {}", EscalationStatus::Declined),
            });
        }
        tx.exec(
            "UPDATE escalations SET status = 'declined', declined_at = ?2 WHERE id = ?1",
            params![id, timestamp(now)],
        )?;
        if let Some(text) = notice {
            tell_fan(&tx, id, Role::Agent, text, MessageKind::EscalationDeclined)?;
        }
        // The creator declined a queued question: none of the answers is for it.
        if let (Some(v), EscalationStatus::Accepted) = (embedding, status) {
            crate::examples::learn_declined(&tx, id, v)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Answer an escalation. In the same transaction the answer goes to the fan and
    /// becomes a canonical answer whose question pattern is the fan's question (with
    /// `question_embedding`), so the same question never costs the creator twice.
    pub fn answer_escalation(
        &self,
        id: i64,
        answer: &str,
        layer: Layer,
        question_embedding: &[f32],
    ) -> Result<(i64, IndexChange)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (canonical_id, added) = answer_in(&tx, id, answer, layer, question_embedding)?;
        let generation = log_change(&tx, added.iter().map(|(k, _, _)| k))?;
        tx.commit()?;
        Ok((canonical_id, IndexChange { removed: Vec::new(), added, generation }))
    }

    /// The creator corrects an answer already delivered: `text` goes to the fan as
    /// another answer from the creator.
    pub fn correct_escalation_answer(&self, id: i64, text: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tell_fan(&tx, id, Role::Creator, text.trim(), MessageKind::EscalationAnswered)?;
        tx.commit()?;
        Ok(())
    }

    /// The questions escalated since `since` that were not answered and that no
    /// canonical answer has as a phrasing: (fan id, question, when offered), oldest
    /// first (content gaps).
    pub fn unanswered_since(&self, agent_id: i64, since: DateTime<Utc>) -> Result<Vec<(i64, String, DateTime<Utc>)>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT e.fan_id, e.question, e.offered_at FROM escalations e
             WHERE e.agent_id = ?1 AND e.status <> 'answered' AND e.offered_at >= ?2
               AND NOT EXISTS (SELECT 1 FROM canonical_variants v JOIN canonical_answers a ON a.id = v.canonical_answer_id
                               WHERE a.agent_id = ?1 AND v.text = trim(e.question))
             ORDER BY e.offered_at, e.id",
        )?;
        let rows = stmt
            .query_map(params![agent_id, timestamp(since)], |r| Ok((r.get(0)?, r.get(1)?, parsed(r, 2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Answer an escalation with an existing canonical answer instead of a new one: the
    /// fan gets it, and their question becomes another phrasing of it (with
    /// `question_embedding`), in one transaction.
    pub fn attach_escalation(&self, id: i64, canonical_id: i64, question_embedding: &[f32]) -> Result<IndexChange> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let added = attach_in(&tx, id, canonical_id, question_embedding)?;
        let generation = log_change(&tx, added.iter().map(|(k, _, _)| k))?;
        tx.commit()?;
        Ok(IndexChange { removed: Vec::new(), added, generation })
    }
}

/// Answer escalation `id` inside `tx`: a new canonical answer with the fan's question
/// (and `question_embedding`), the escalation answered, the fan told. Returns the
/// canonical answer and the indexed items it added (the caller logs them).
pub(crate) fn answer_in(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    answer: &str,
    layer: Layer,
    question_embedding: &[f32],
) -> Result<(i64, Vec<fanline_engine::IndexedItem>)> {
    let (agent_id, question) = answerable(tx, id)?;
    let (canonical_id, added) = insert_canonical(
        tx,
        agent_id,
        &NewCanonical {
            questions: vec![(question, question_embedding.to_vec())],
            answer: answer.to_string(),
            layer,
            source_escalation_id: Some(id),
        },
    )?;
    tx.exec(
        "UPDATE escalations SET status = 'answered', answer = ?2, answer_layer = ?3, canonical_answer_id = ?4,
                 answered_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1",
        params![id, answer.trim(), layer.as_str(), canonical_id],
    )?;
    tell_fan(tx, id, Role::Creator, answer.trim(), MessageKind::EscalationAnswered)?;
    Ok((canonical_id, added))
}

/// Answer escalation `id` inside `tx` with canonical answer `canonical_id`: its
/// question becomes one more phrasing, the fan is told. Returns the indexed items added.
pub(crate) fn attach_in(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    canonical_id: i64,
    question_embedding: &[f32],
) -> Result<Vec<fanline_engine::IndexedItem>> {
    let (agent_id, question) = answerable(tx, id)?;
    let (c_agent, answer, layer): (i64, String, Layer) = tx
        .row("SELECT agent_id, answer, layer FROM canonical_answers WHERE id = ?1", [canonical_id], |r| {
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
        .row(
            "INSERT INTO canonical_variants (canonical_answer_id, text, embedding) VALUES (?1, ?2, ?3)
                 ON CONFLICT (canonical_answer_id, text) DO NOTHING RETURNING id",
            params![canonical_id, question.trim(), fanline_engine::vector::to_bytes(question_embedding)],
            |r| r.get(0),
        )
        .optional()?;
    tx.exec(
        "UPDATE escalations SET status = 'answered', answer = ?2, answer_layer = ?3, canonical_answer_id = ?4,
                 answered_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1",
        params![id, answer, layer.as_str(), canonical_id],
    )?;
    tell_fan(tx, id, Role::Creator, &answer, MessageKind::EscalationAnswered)?;
    let added: Vec<_> = vid
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
    Ok(added)
}

impl Offers for Store {
    fn create_escalation(&self, e: &NewEscalation) -> Result<i64> {
        insert_escalation(&self.conn(), None, e, None)
    }

    fn escalation(&self, id: i64) -> Result<Escalation> {
        self.read()?
            .query_row(&format!("SELECT {ESCALATION_COLS} FROM escalations WHERE id = ?1"), [id], escalation_row)
            .optional()?
            .ok_or_else(|| Error::not_found("escalation", id))
    }

    fn escalation_of_decision(&self, decision_id: i64) -> Result<Option<Escalation>> {
        Ok(self
            .read()?
            .query_row(
                &format!("SELECT {ESCALATION_COLS} FROM escalations WHERE decision_id = ?1"),
                [decision_id],
                escalation_row,
            )
            .optional()?)
    }

    fn escalation_queue(&self, agent_id: i64, now: DateTime<Utc>, limit: usize) -> Result<Vec<Escalation>> {
        let conn = self.read()?;
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

    fn defer_escalation(&self, id: i64, until: DateTime<Utc>) -> Result<()> {
        let n = self.conn().exec(
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

    fn expire_escalations(&self, now: DateTime<Utc>) -> Result<usize> {
        let t = timestamp(now);
        Ok(self.conn().exec(
            "UPDATE escalations SET status = 'expired', expired_at = ?1
             WHERE status IN ('pending', 'accepted') AND expires_at IS NOT NULL AND expires_at <= ?1",
            [t],
        )?)
    }

    fn accept_escalation_value(
        &self,
        id: i64,
        cap: &CapCheck,
        then: Option<&AcceptWrite<'_, Value>>,
    ) -> Result<Accepted> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (agent_id, status): (i64, String) = tx
            .row("SELECT agent_id, status FROM escalations WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| Error::not_found("escalation", id))?;
        if status.parse::<EscalationStatus>()? != EscalationStatus::Pending {
            return Err(Error::Invalid {
                what: "escalation",
                detail: format!("escalation {id} is {status}; only a pending offer can be accepted"),
            });
        }
        let count = |since: DateTime<Utc>| -> rusqlite::Result<u32> {
            tx.row(
                "SELECT count(*) FROM escalations WHERE agent_id = ?1 AND accepted_at >= ?2",
                params![agent_id, timestamp(since)],
                |r| r.get(0),
            )
        };
        let today = count(cap.day_start)?;
        let this_week = count(cap.week_start)?;
        let acceptance = if today >= cap.max_per_day {
            Acceptance::DailyCapReached { today }
        } else if this_week >= cap.max_per_week {
            Acceptance::WeeklyCapReached { this_week }
        } else {
            Acceptance::Accepted { today: today + 1, this_week: this_week + 1 }
        };
        if acceptance.accepted() {
            tx.exec(
                "UPDATE escalations SET status = 'accepted', accepted_at = ?2, expires_at = coalesce(?3, expires_at)
                 WHERE id = ?1",
                params![id, timestamp(cap.now), then.map(|t| timestamp(t.queue_expiry))],
            )?;
        }
        let mut decision_id = None;
        if let Some(t) = then {
            let message: Option<i64> =
                tx.row("SELECT message_id FROM escalations WHERE id = ?1", [id], |r| r.get(0))?;
            if message.is_some() {
                let (d, reply) = (t.decision)(&acceptance);
                decision_id = Some(insert_decision(&tx, &d, &reply, None)?);
                let kind = match acceptance.accepted() {
                    true => MessageKind::EscalationAccepted,
                    false => MessageKind::EscalationRefused,
                };
                tx.exec(
                    "INSERT INTO messages (conversation_id, role, body, kind, escalation_id)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![d.conversation_id, Role::Agent.as_str(), reply, kind.as_str(), id],
                )?;
            }
        }
        tx.commit()?;
        Ok(Accepted { acceptance, decision_id })
    }
}

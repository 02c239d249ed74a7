//! Conversations, messages and decisions on SQLite (`Conversations`, see
//! conversations.rs): every fan message is stored before it is routed, and every
//! decision is stored with its signals and trace.

use crate::util::Cached;
use crate::util::{json, json_typed, parsed, parsed_opt};
use crate::{Conversations, Error, Posted, Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::route::Trace;
use fanline_engine::RoutePath;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Fan,
    Agent,
    Creator,
}

impl Role {
    /// The role's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Fan => "fan",
            Role::Agent => "agent",
            Role::Creator => "creator",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Role> {
        match s {
            "fan" => Ok(Role::Fan),
            "agent" => Ok(Role::Agent),
            "creator" => Ok(Role::Creator),
            other => Err(Error::Invalid { what: "role", detail: format!("{other:?} is not fan, agent or creator") }),
        }
    }
}

/// What a message of a conversation is: its place in the conversation's event log
/// (migration 0010).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum MessageKind {
    /// A message (the fan's own, and any stored before kinds were kept).
    #[serde(rename = "message")]
    Message,
    /// The reply to a fan's message (an answer, a clarifying question, a refusal).
    #[serde(rename = "reply")]
    Reply,
    /// The reply that offers to send the question to the creator.
    #[serde(rename = "escalation.offered")]
    EscalationOffered,
    /// The fan accepted the offer: it is in the creator's queue.
    #[serde(rename = "escalation.accepted")]
    EscalationAccepted,
    /// The fan accepted, but a cap was reached: not queued.
    #[serde(rename = "escalation.refused")]
    EscalationRefused,
    /// The creator answered.
    #[serde(rename = "escalation.answered")]
    EscalationAnswered,
    /// The creator declined the question (or the fan turned the offer down).
    #[serde(rename = "escalation.declined")]
    EscalationDeclined,
}

impl MessageKind {
    /// The kind as stored (and as an event's name).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Message => "message",
            MessageKind::Reply => "reply",
            MessageKind::EscalationOffered => "escalation.offered",
            MessageKind::EscalationAccepted => "escalation.accepted",
            MessageKind::EscalationRefused => "escalation.refused",
            MessageKind::EscalationAnswered => "escalation.answered",
            MessageKind::EscalationDeclined => "escalation.declined",
        }
    }
}

impl std::str::FromStr for MessageKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<MessageKind> {
        [
            MessageKind::Message,
            MessageKind::Reply,
            MessageKind::EscalationOffered,
            MessageKind::EscalationAccepted,
            MessageKind::EscalationRefused,
            MessageKind::EscalationAnswered,
            MessageKind::EscalationDeclined,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| Error::Invalid { what: "message kind", detail: format!("{s:?} is not a message kind") })
    }
}

/// A fan's earlier message in a conversation (see [`Store::previous_fan_turn`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PreviousTurn {
    /// What the fan wrote.
    pub body: String,
    /// The path it was routed to.
    pub path: Option<RoutePath>,
    /// How long before the later message it came, in seconds.
    pub seconds_before: f64,
}

/// A message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Message {
    /// The message's id.
    pub id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// Who wrote it.
    pub role: Role,
    /// What it says.
    pub body: String,
    /// What it is in the conversation's event log.
    pub kind: MessageKind,
    /// The escalation it concerns, if any.
    pub escalation_id: Option<i64>,
    /// A reply: the fan's message it answers.
    pub reply_to: Option<i64>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// The conversation of a fan with an agent, created if there is none (inside a write
/// transaction).
pub(crate) fn existing_conversation(c: &rusqlite::Connection, agent_id: i64, fan_id: i64) -> Result<Option<i64>> {
    Ok(c.row(
        "SELECT id FROM conversations WHERE agent_id = ?1 AND fan_id = ?2 ORDER BY id DESC LIMIT 1",
        params![agent_id, fan_id],
        |r| r.get(0),
    )
    .optional()?)
}

pub(crate) fn conversation_of(tx: &rusqlite::Connection, agent_id: i64, fan_id: i64) -> Result<i64> {
    Ok(match existing_conversation(tx, agent_id, fan_id)? {
        Some(id) => id,
        None => tx.row(
            "INSERT INTO conversations (agent_id, fan_id) VALUES (?1, ?2) RETURNING id",
            params![agent_id, fan_id],
            |r| r.get(0),
        )?,
    })
}

/// Store a fan's message in their conversation (inside a write transaction); returns
/// the conversation's id and the message's.
pub(crate) fn insert_fan_message(
    tx: &rusqlite::Connection,
    agent_id: i64,
    fan_id: i64,
    body: &str,
) -> Result<(i64, i64)> {
    let conversation = conversation_of(tx, agent_id, fan_id)?;
    let message: i64 = tx.row(
        "INSERT INTO messages (conversation_id, role, body) VALUES (?1, 'fan', ?2) RETURNING id",
        params![conversation, body],
        |r| r.get(0),
    )?;
    Ok((conversation, message))
}

/// The columns a [`Message`] is read from (`message_row`).
pub(crate) const MESSAGE_COLS: &str = "id, conversation_id, role, body, kind, escalation_id, reply_to, created_at";

/// A message from the columns of [`MESSAGE_COLS`].
pub(crate) fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        role: parsed(r, 2)?,
        body: r.get(3)?,
        kind: parsed_opt(r, 4)?.unwrap_or(MessageKind::Message),
        escalation_id: r.get(5)?,
        reply_to: r.get(6)?,
        created_at: parsed(r, 7)?,
    })
}

/// A decision to store: `details` (what routing measured, or what an acceptance did)
/// and `trace` are written as JSON.
#[derive(Debug, Clone)]
pub struct NewDecision<'a, D: Serialize> {
    /// The fan message decided on.
    pub message_id: i64,
    /// The conversation it is in.
    pub conversation_id: i64,
    /// The agent.
    pub agent_id: i64,
    /// The fan.
    pub fan_id: i64,
    /// The path.
    pub path: RoutePath,
    /// Why, in one sentence.
    pub reason: String,
    /// The details (the `signals` column).
    pub details: D,
    /// The trace of the plan.
    pub trace: &'a Trace,
}

/// A stored decision, its details read as `D`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Decision<D> {
    /// The decision's id.
    pub id: i64,
    /// The fan message decided on.
    pub message_id: i64,
    /// The agent.
    pub agent_id: i64,
    /// The fan.
    pub fan_id: i64,
    /// The path.
    pub path: RoutePath,
    /// Why.
    pub reason: String,
    /// What routing measured, or what an acceptance did.
    pub details: D,
    /// The trace of the plan.
    pub trace: Trace,
    /// What the fan read.
    pub reply: String,
    /// Path C: the canonical answer served.
    pub canonical_answer_id: Option<i64>,
    /// When it was decided.
    pub created_at: DateTime<Utc>,
}

fn decision_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Decision<Value>> {
    Ok(Decision {
        id: r.get(0)?,
        message_id: r.get(1)?,
        agent_id: r.get(2)?,
        fan_id: r.get(3)?,
        path: parsed(r, 4)?,
        reason: r.get(5)?,
        details: json_typed(r, 6)?,
        trace: json_typed(r, 7)?,
        reply: r.get(8)?,
        created_at: parsed(r, 9)?,
        canonical_answer_id: r.get(10)?,
    })
}

/// Insert a decision with its reply (and the canonical answer it served, if any);
/// returns its id.
pub(crate) fn insert_decision<D: Serialize>(
    conn: &rusqlite::Connection,
    d: &NewDecision<'_, D>,
    reply: &str,
    served: Option<i64>,
) -> Result<i64> {
    Ok(conn.row(
        "INSERT INTO decisions (message_id, agent_id, fan_id, path, reason, signals, trace, reply, canonical_answer_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        params![
            d.message_id,
            d.agent_id,
            d.fan_id,
            d.path.as_str(),
            d.reason,
            json(&d.details),
            json(d.trace),
            reply,
            served
        ],
        |r| r.get(0),
    )?)
}

const DECISION_COLS: &str =
    "id, message_id, agent_id, fan_id, path, reason, signals, trace, reply, created_at, canonical_answer_id";

impl Conversations for Store {
    fn record_message(&self, agent_id: i64, fan_id: i64, role: Role, body: &str) -> Result<(i64, i64)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let conversation = conversation_of(&tx, agent_id, fan_id)?;
        let message: i64 = tx.row(
            "INSERT INTO messages (conversation_id, role, body) VALUES (?1, ?2, ?3) RETURNING id",
            params![conversation, role.as_str(), body],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok((conversation, message))
    }

    fn previous_fan_turn(&self, message_id: i64) -> Result<Option<PreviousTurn>> {
        Ok(self
            .read()?
            .row(
                "SELECT p.body, d.path, (julianday(c.created_at) - julianday(p.created_at)) * 86400.0
                 FROM messages c
                 JOIN messages p ON p.conversation_id = c.conversation_id AND p.role = 'fan' AND p.id < c.id
                 LEFT JOIN decisions d ON d.message_id = p.id
                 WHERE c.id = ?1 ORDER BY p.id DESC LIMIT 1",
                [message_id],
                |r| Ok(PreviousTurn { body: r.get(0)?, path: parsed_opt(r, 1)?, seconds_before: r.get(2)? }),
            )
            .optional()?)
    }

    fn message_conversation(&self, message_id: i64) -> Result<i64> {
        self.read()?
            .row("SELECT conversation_id FROM messages WHERE id = ?1", [message_id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::not_found("message", message_id))
    }

    fn recent_messages(&self, conversation_id: i64, limit: usize) -> Result<Vec<Message>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {MESSAGE_COLS} FROM
               (SELECT * FROM messages WHERE conversation_id = ?1 ORDER BY id DESC LIMIT ?2)
             ORDER BY id"
        ))?;
        let rows =
            stmt.query_map(params![conversation_id, limit as i64], message_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn reply_of(&self, message_id: i64) -> Result<Option<i64>> {
        Ok(self
            .read()?
            .row("SELECT id FROM messages WHERE reply_to = ?1 ORDER BY id LIMIT 1", [message_id], |r| r.get(0))
            .optional()?)
    }

    fn messages_after(&self, conversation_id: i64, after: i64, limit: usize) -> Result<Vec<Message>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        ))?;
        let rows = stmt
            .query_map(params![conversation_id, after, limit as i64], message_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn record_decision_value(&self, d: &NewDecision<'_, Value>, reply: &str) -> Result<i64> {
        insert_decision(&self.conn(), d, reply, None)
    }

    fn decision_value(&self, id: i64) -> Result<Decision<Value>> {
        self.read()?
            .query_row(&format!("SELECT {DECISION_COLS} FROM decisions WHERE id = ?1"), [id], decision_row)
            .optional()?
            .ok_or_else(|| Error::not_found("decision", id))
    }

    fn decision_question(&self, id: i64) -> Result<String> {
        self.read()?
            .row("SELECT m.body FROM decisions d JOIN messages m ON m.id = d.message_id WHERE d.id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| Error::not_found("decision", id))
    }

    fn list_decisions_value(
        &self,
        agent_id: i64,
        path: Option<RoutePath>,
        fan_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Decision<Value>>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {DECISION_COLS} FROM decisions
             WHERE agent_id = ?1 AND (?2 IS NULL OR path = ?2) AND (?3 IS NULL OR fan_id = ?3)
             ORDER BY id DESC LIMIT ?4"
        ))?;
        let rows = stmt
            .query_map(params![agent_id, path.map(|p| p.as_str()), fan_id, limit as i64], decision_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn post_fan_message(
        &self,
        agent_id: i64,
        fan_id: i64,
        body: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<Posted> {
        // One of the hub's hot writes: committed with its group (see group.rs).
        self.group_write(|tx| {
            let seen: Option<(i64, String, Option<i64>, f64)> = tx
                .row(
                    "SELECT k.message_id, k.request_hash, d.id,
                        (julianday('now') - julianday(k.created_at)) * 86400.0
                 FROM idempotency_keys k LEFT JOIN decisions d ON d.message_id = k.message_id
                 WHERE k.fan_id = ?1 AND k.key = ?2",
                    params![fan_id, key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            if let Some((message_id, hash, decision_id, seconds_ago)) = seen {
                return Ok(Posted::Seen { message_id, same_request: hash == request_hash, decision_id, seconds_ago });
            }
            let (conversation_id, message_id) = insert_fan_message(tx, agent_id, fan_id, body)?;
            tx.exec(
                "INSERT INTO idempotency_keys (fan_id, key, request_hash, message_id) VALUES (?1, ?2, ?3, ?4)",
                params![fan_id, key, request_hash, message_id],
            )?;
            Ok(Posted::New { conversation_id, message_id })
        })
    }

    fn decision_of_message(&self, message_id: i64) -> Result<Option<i64>> {
        Ok(self
            .read()?
            .row("SELECT id FROM decisions WHERE message_id = ?1 ORDER BY id LIMIT 1", [message_id], |r| r.get(0))
            .optional()?)
    }

    fn record_routing_value(
        &self,
        w: &crate::NewRouting<'_, Value>,
        reply: &dyn Fn(Option<i64>) -> String,
    ) -> Result<crate::RoutingWritten> {
        self.write_routing(w, reply)
    }

    fn fan_history(
        &self,
        agent_id: i64,
        fan_id: i64,
        conversation_id: Option<i64>,
        day_start: DateTime<Utc>,
        week_start: DateTime<Utc>,
        messages: usize,
        as_of: Option<(i64, DateTime<Utc>)>,
    ) -> Result<fanline_engine::route::FanHistory> {
        self.read_fan_history(agent_id, fan_id, conversation_id, day_start, week_start, messages, as_of)
    }

    fn unrouted_count(&self, agent_id: Option<i64>) -> Result<u64> {
        self.read_unrouted_count(agent_id)
    }

    fn unrouted_messages(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<crate::Unrouted>> {
        self.read_unrouted_messages(before, limit)
    }

    fn unrouted_message(&self, message_id: i64) -> Result<Option<crate::Unrouted>> {
        self.read_unrouted_message(message_id)
    }
}

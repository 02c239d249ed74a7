//! Conversations, messages and decisions: every fan message is stored before it is
//! routed, and every decision is stored with its signals and trace.

use crate::util::{json_value, parsed};
use crate::{Error, Result, Store};
use fanline_engine::RoutePath;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Fan,
    Agent,
    Creator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Fan => "fan",
            Role::Agent => "agent",
            Role::Creator => "creator",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub role: String,
    pub body: String,
    pub created_at: String,
}

/// A routing decision to store.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub message_id: i64,
    pub agent_id: i64,
    pub fan_id: i64,
    pub path: RoutePath,
    pub reason: String,
    pub signals: serde_json::Value,
    pub trace: serde_json::Value,
    pub reply: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Decision {
    pub id: i64,
    pub message_id: i64,
    pub agent_id: i64,
    pub fan_id: i64,
    pub path: RoutePath,
    pub reason: String,
    pub signals: serde_json::Value,
    pub trace: serde_json::Value,
    pub reply: String,
    /// Path C: the canonical answer served.
    pub canonical_answer_id: Option<i64>,
    pub created_at: String,
}

fn decision_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Decision> {
    Ok(Decision {
        id: r.get(0)?,
        message_id: r.get(1)?,
        agent_id: r.get(2)?,
        fan_id: r.get(3)?,
        path: parsed(r, 4)?,
        reason: r.get(5)?,
        signals: json_value(r, 6)?,
        trace: json_value(r, 7)?,
        reply: r.get(8)?,
        created_at: r.get(9)?,
        canonical_answer_id: r.get(10)?,
    })
}

/// Insert a decision (with the canonical answer it served, if any); returns its id.
pub(crate) fn insert_decision(conn: &rusqlite::Connection, d: &NewDecision, served: Option<i64>) -> Result<i64> {
    Ok(conn.query_row(
        "INSERT INTO decisions (message_id, agent_id, fan_id, path, reason, signals, trace, reply, canonical_answer_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        params![
            d.message_id,
            d.agent_id,
            d.fan_id,
            d.path.as_str(),
            d.reason,
            d.signals.to_string(),
            d.trace.to_string(),
            d.reply,
            served
        ],
        |r| r.get(0),
    )?)
}

const DECISION_COLS: &str =
    "id, message_id, agent_id, fan_id, path, reason, signals, trace, reply, created_at, canonical_answer_id";

impl Store {
    /// Store a message in the fan's conversation with the agent (created on the fan's
    /// first message). Returns (conversation id, message id).
    pub fn record_message(&self, agent_id: i64, fan_id: i64, role: Role, body: &str) -> Result<(i64, i64)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM conversations WHERE agent_id = ?1 AND fan_id = ?2 ORDER BY id DESC LIMIT 1",
                params![agent_id, fan_id],
                |r| r.get(0),
            )
            .optional()?;
        let conversation = match existing {
            Some(id) => id,
            None => tx.query_row(
                "INSERT INTO conversations (agent_id, fan_id) VALUES (?1, ?2) RETURNING id",
                params![agent_id, fan_id],
                |r| r.get(0),
            )?,
        };
        let message: i64 = tx.query_row(
            "INSERT INTO messages (conversation_id, role, body) VALUES (?1, ?2, ?3) RETURNING id",
            params![conversation, role.as_str(), body],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok((conversation, message))
    }

    /// The last `limit` messages of a conversation, oldest first.
    pub fn recent_messages(&self, conversation_id: i64, limit: usize) -> Result<Vec<Message>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, conversation_id, role, body, created_at FROM
               (SELECT * FROM messages WHERE conversation_id = ?1 ORDER BY id DESC LIMIT ?2)
             ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![conversation_id, limit as i64], |r| {
                Ok(Message {
                    id: r.get(0)?,
                    conversation_id: r.get(1)?,
                    role: r.get(2)?,
                    body: r.get(3)?,
                    created_at: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Store a decision with its signals and trace.
    pub fn record_decision(&self, d: &NewDecision) -> Result<i64> {
        insert_decision(&self.conn(), d, None)
    }

    pub fn decision(&self, id: i64) -> Result<Decision> {
        self.conn()
            .query_row(&format!("SELECT {DECISION_COLS} FROM decisions WHERE id = ?1"), [id], decision_row)
            .optional()?
            .ok_or_else(|| Error::not_found("decision", id))
    }

    /// An agent's decisions, newest first, optionally only one path or one fan.
    pub fn list_decisions(
        &self,
        agent_id: i64,
        path: Option<RoutePath>,
        fan_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Decision>> {
        let conn = self.conn();
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
}

//! Fan messages stored with no decision: a route killed or failed after the message
//! was kept. They are found (doctor, metrics) and routed once (`fanline recover`).

use crate::util::parsed;
use crate::{Result, Store};
use chrono::{DateTime, Utc};

/// A fan's message that has no decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Unrouted {
    pub message_id: i64,
    pub conversation_id: i64,
    pub agent_id: i64,
    pub fan_id: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

fn unrouted_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Unrouted> {
    Ok(Unrouted {
        message_id: r.get(0)?,
        conversation_id: r.get(1)?,
        agent_id: r.get(2)?,
        fan_id: r.get(3)?,
        body: r.get(4)?,
        created_at: parsed(r, 5)?,
    })
}

const UNROUTED: &str = "FROM messages m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.role = 'fan' AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.message_id = m.id)";

impl Store {
    /// How many fan messages have no decision (an agent's, or all).
    pub(crate) fn read_unrouted_count(&self, agent_id: Option<i64>) -> Result<u64> {
        let n: i64 = self.read()?.query_row(
            &format!("SELECT count(*) {UNROUTED} AND (?1 IS NULL OR c.agent_id = ?1)"),
            [agent_id],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// The fan messages with no decision stored before `before` (younger ones may be
    /// being routed right now), oldest first.
    pub(crate) fn read_unrouted_messages(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<Unrouted>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT m.id, m.conversation_id, c.agent_id, c.fan_id, m.body, m.created_at {UNROUTED}
               AND m.created_at < ?1 ORDER BY m.id LIMIT ?2"
        ))?;
        let rows = stmt
            .query_map(rusqlite::params![crate::timestamp(before), limit as i64], unrouted_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// One fan message, if it has no decision.
    pub(crate) fn read_unrouted_message(&self, message_id: i64) -> Result<Option<Unrouted>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .read()?
            .query_row(
                &format!(
                    "SELECT m.id, m.conversation_id, c.agent_id, c.fan_id, m.body, m.created_at {UNROUTED} AND m.id = ?1"
                ),
                [message_id],
                unrouted_row,
            )
            .optional()?)
    }
}

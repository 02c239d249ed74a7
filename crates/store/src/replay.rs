//! What a what-if replay reads: the fan messages an agent routed, each with the path
//! it was routed to and whether the fan accepted the offer it got.

use crate::escalations::timestamp;
use crate::util::parsed;
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::RoutePath;
use rusqlite::params;

/// A fan message as it was routed.
#[derive(Debug, Clone)]
pub struct RoutedMessage {
    pub message_id: i64,
    pub conversation_id: i64,
    pub fan_id: i64,
    pub body: String,
    pub at: DateTime<Utc>,
    /// The path its decision took.
    pub path: RoutePath,
    /// The fan accepted the offer it got.
    pub accepted: bool,
}

impl Store {
    /// The fan messages of `agent_id` since `since` that have a decision, oldest first:
    /// the newest `limit` of them.
    pub fn routed_messages(&self, agent_id: i64, since: DateTime<Utc>, limit: usize) -> Result<Vec<RoutedMessage>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT * FROM (
                SELECT m.id, m.conversation_id, d.fan_id, m.body, m.created_at, d.path,
                       EXISTS (SELECT 1 FROM escalations e WHERE e.message_id = m.id AND e.accepted_at IS NOT NULL)
                FROM messages m
                JOIN decisions d ON d.id = (SELECT min(id) FROM decisions WHERE message_id = m.id)
                WHERE d.agent_id = ?1 AND m.role = 'fan' AND m.created_at >= ?2
                ORDER BY m.id DESC LIMIT ?3)
             ORDER BY 1",
        )?;
        let rows = stmt
            .query_map(params![agent_id, timestamp(since), limit as i64], |r| {
                Ok(RoutedMessage {
                    message_id: r.get(0)?,
                    conversation_id: r.get(1)?,
                    fan_id: r.get(2)?,
                    body: r.get(3)?,
                    at: parsed(r, 4)?,
                    path: parsed(r, 5)?,
                    accepted: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

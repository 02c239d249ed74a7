//! The change log hub processes and desktops read in order. Its number comes from the
//! one `sync_head` row, raised inside the writing transaction: a second writer waits
//! on that row until the first commits, so numbers become visible in order and a
//! reader that has seen N never later finds a change below N. (A `bigserial` hands
//! numbers out at insert time, and a change that commits late under a smaller number
//! is skipped by every reader already past it; reproduced in the design brief.)

use crate::{PgStore, Result};
use chrono::{DateTime, Utc};

/// One change in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: i64,
    pub agent_id: i64,
    pub entity: String,
    pub entity_id: String,
    pub body: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl PgStore {
    /// Append a change; returns its number.
    pub async fn append_change(
        &self,
        agent_id: i64,
        entity: &str,
        entity_id: &str,
        body: &serde_json::Value,
    ) -> Result<i64> {
        let seqs = self.append_changes(agent_id, &[(entity, entity_id, body)]).await?;
        Ok(seqs[0])
    }

    /// Append the changes one write made (a fan's message, its reply and the decision)
    /// in one transaction; returns their numbers, consecutive. The `sync_head` row is
    /// raised once by their count, so writers wait on it once per transaction, not once
    /// per change (`fanline bench pg`), and listeners hear the last number.
    pub async fn append_changes(
        &self,
        agent_id: i64,
        changes: &[(&str, &str, &serde_json::Value)],
    ) -> Result<Vec<i64>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let n = changes.len() as i64;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let last: i64 = tx.query_one("UPDATE sync_head SET seq = seq + $1 RETURNING seq", &[&n]).await?.get(0);
        let seqs: Vec<i64> = (last - n + 1..=last).collect();
        let entities: Vec<&str> = changes.iter().map(|c| c.0).collect();
        let ids: Vec<&str> = changes.iter().map(|c| c.1).collect();
        let bodies: Vec<&serde_json::Value> = changes.iter().map(|c| c.2).collect();
        tx.execute(
            "INSERT INTO changes (seq, agent_id, entity, entity_id, body)
             SELECT s, $2, e, i, b FROM UNNEST($1::bigint[], $3::text[], $4::text[], $5::jsonb[]) AS t(s, e, i, b)",
            &[&seqs, &agent_id, &entities, &ids, &bodies],
        )
        .await?;
        // Delivered to listeners at commit, in commit order (see `listen.rs`).
        tx.execute("SELECT pg_notify($1, $2)", &[&crate::listen::CHANNEL, &last.to_string()]).await?;
        tx.commit().await?;
        Ok(seqs)
    }

    /// Up to `limit` changes after `after`, in order.
    pub async fn changes_since(&self, after: i64, limit: i64) -> Result<Vec<Change>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT seq, agent_id, entity, entity_id, body, created_at FROM changes
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Change {
                seq: r.get(0),
                agent_id: r.get(1),
                entity: r.get(2),
                entity_id: r.get(3),
                body: r.get(4),
                created_at: r.get(5),
            })
            .collect())
    }
}

//! `Conversations` on PostgreSQL: messages, idempotent posting and decisions
//! (migration 0005), checked against SQLite by the shared suite. Where SQLite has one
//! writer, here every transaction that adds a message locks its conversation's row
//! first: ids are then taken in commit order within a conversation, so a fan's cursor
//! (`messages_after`) never passes a message that commits later, and two requests with
//! one idempotency key store one message.

use crate::{parse, PgHub};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use fanline_engine::route::FanHistory;
use fanline_engine::RoutePath;
use fanline_store::{
    Conversations, Decision, Error, Message, MessageKind, NewDecision, NewRouting, Posted, PreviousTurn, Result, Role,
    RoutingWritten, Unrouted,
};
use serde_json::Value;
use tokio_postgres::Row;

/// Fan messages with no decision (`unrouted_*`).
const UNROUTED: &str = "SELECT m.id, m.conversation_id, c.agent_id, c.fan_id, m.body, m.created_at
     FROM messages m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.role = 'fan' AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.message_id = m.id)";

fn unrouted(r: &Row) -> Unrouted {
    Unrouted {
        message_id: r.get(0),
        conversation_id: r.get(1),
        agent_id: r.get(2),
        fan_id: r.get(3),
        body: r.get(4),
        created_at: r.get(5),
    }
}

const MESSAGE: &str = "id, conversation_id, role, body, kind, escalation_id, reply_to, created_at";
const DECISION: &str =
    "id, message_id, agent_id, fan_id, path, reason, signals, trace, reply, created_at, canonical_answer_id";

fn message(r: &Row) -> Result<Message> {
    let kind: Option<&str> = r.get(4);
    Ok(Message {
        id: r.get(0),
        conversation_id: r.get(1),
        role: parse(r.get(2), "role")?,
        body: r.get(3),
        kind: kind.map(|k| parse(k, "message kind")).transpose()?.unwrap_or(MessageKind::Message),
        escalation_id: r.get(5),
        reply_to: r.get(6),
        created_at: r.get(7),
    })
}

fn decision(r: &Row) -> Result<Decision<Value>> {
    Ok(Decision {
        id: r.get(0),
        message_id: r.get(1),
        agent_id: r.get(2),
        fan_id: r.get(3),
        path: parse(r.get(4), "path")?,
        reason: r.get(5),
        details: r.get(6),
        trace: serde_json::from_value(r.get(7))
            .map_err(|e| Error::Invalid { what: "decision trace", detail: e.to_string() })?,
        reply: r.get(8),
        created_at: r.get(9),
        canonical_answer_id: r.get(10),
    })
}

/// The conversation of a fan with an agent, created if none (by whichever request gets
/// there first; the others read its row). With `lock`, its row stays locked until the
/// transaction ends (see the module).
pub(crate) async fn conversation_of(
    client: &impl GenericClient,
    agent_id: i64,
    fan_id: i64,
    lock: bool,
) -> crate::Result<i64> {
    let find = match lock {
        true => "SELECT id FROM conversations WHERE agent_id = $1 AND fan_id = $2 FOR UPDATE",
        false => "SELECT id FROM conversations WHERE agent_id = $1 AND fan_id = $2",
    };
    if let Some(row) = client.query_opt(find, &[&agent_id, &fan_id]).await? {
        return Ok(row.get(0));
    }
    client
        .execute(
            "INSERT INTO conversations (agent_id, fan_id) VALUES ($1, $2) ON CONFLICT (agent_id, fan_id) DO NOTHING",
            &[&agent_id, &fan_id],
        )
        .await?;
    Ok(client.query_one(find, &[&agent_id, &fan_id]).await?.get(0))
}

/// Lock a conversation's row for the transaction (not found: an error).
pub(crate) async fn lock_conversation(tx: &impl GenericClient, id: i64) -> crate::Result<()> {
    let n = tx.execute("UPDATE conversations SET updated_at = now() WHERE id = $1", &[&id]).await?;
    if n == 0 {
        return Err(Error::not_found("conversation", id).into());
    }
    Ok(())
}

/// Insert a decision with its reply (inside the caller's transaction); returns its id.
pub(crate) async fn insert_decision(
    tx: &impl GenericClient,
    d: &NewDecision<'_, Value>,
    reply: &str,
    served: Option<i64>,
) -> crate::Result<i64> {
    let trace = serde_json::to_value(d.trace).map_err(|e| Error::Invalid { what: "trace", detail: e.to_string() })?;
    Ok(tx
        .query_one(
            "INSERT INTO decisions (message_id, agent_id, fan_id, path, reason, signals, trace, reply,
                                    canonical_answer_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[&d.message_id, &d.agent_id, &d.fan_id, &d.path.as_str(), &d.reason, &d.details, &trace, &reply, &served],
        )
        .await?
        .get(0))
}

async fn insert_message(tx: &impl GenericClient, conversation: i64, role: Role, body: &str) -> crate::Result<i64> {
    Ok(tx
        .query_one(
            "INSERT INTO messages (conversation_id, role, body) VALUES ($1, $2, $3) RETURNING id",
            &[&conversation, &role.as_str(), &body],
        )
        .await?
        .get(0))
}

/// What an idempotency key stored, if it was used.
async fn seen(
    client: &impl GenericClient,
    fan_id: i64,
    key: &str,
    request_hash: &str,
) -> crate::Result<Option<Posted>> {
    let row = client
        .query_opt(
            "SELECT k.message_id, k.request_hash, d.id, EXTRACT(EPOCH FROM clock_timestamp() - k.created_at)::float8
             FROM idempotency_keys k LEFT JOIN decisions d ON d.message_id = k.message_id
             WHERE k.fan_id = $1 AND k.key = $2 ORDER BY d.id LIMIT 1",
            &[&fan_id, &key],
        )
        .await?;
    Ok(row.map(|r| Posted::Seen {
        message_id: r.get(0),
        same_request: r.get::<_, &str>(1) == request_hash,
        decision_id: r.get(2),
        seconds_ago: r.get(3),
    }))
}

impl Conversations for PgHub {
    fn record_message(&self, agent_id: i64, fan_id: i64, role: Role, body: &str) -> Result<(i64, i64)> {
        self.run(async move {
            let mut client = self.store.client().await?;
            let tx = client.transaction().await?;
            let conversation = conversation_of(&tx, agent_id, fan_id, true).await?;
            let id = insert_message(&tx, conversation, role, body).await?;
            tx.commit().await?;
            Ok((conversation, id))
        })
    }

    fn post_fan_message(
        &self,
        agent_id: i64,
        fan_id: i64,
        body: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<Posted> {
        self.run(async move {
            let mut client = self.store.client().await?;
            if let Some(posted) = seen(&client, fan_id, key, request_hash).await? {
                return Ok(posted);
            }
            let tx = client.transaction().await?;
            let conversation_id = conversation_of(&tx, agent_id, fan_id, true).await?;
            let message_id = insert_message(&tx, conversation_id, Role::Fan, body).await?;
            // A request with the same key in another process that got here first has
            // committed (this insert waited for it): then its message is the one.
            let stored = tx
                .execute(
                    "INSERT INTO idempotency_keys (fan_id, key, request_hash, message_id) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (fan_id, key) DO NOTHING",
                    &[&fan_id, &key, &request_hash, &message_id],
                )
                .await?;
            if stored == 0 {
                tx.rollback().await?;
                return seen(&client, fan_id, key, request_hash)
                    .await?
                    .ok_or_else(|| crate::Error::Invalid(format!("idempotency key {key:?} vanished")));
            }
            tx.commit().await?;
            Ok(Posted::New { conversation_id, message_id })
        })
    }

    fn previous_fan_turn(&self, message_id: i64) -> Result<Option<PreviousTurn>> {
        let sql = "SELECT p.body, d.path, EXTRACT(EPOCH FROM c.created_at - p.created_at)::float8
                   FROM messages c
                   JOIN messages p ON p.conversation_id = c.conversation_id AND p.role = 'fan' AND p.id < c.id
                   LEFT JOIN decisions d ON d.message_id = p.id
                   WHERE c.id = $1 ORDER BY p.id DESC, d.id LIMIT 1";
        self.opt(sql, &[&message_id], |r| {
            let path: Option<&str> = r.get(1);
            Ok(PreviousTurn {
                body: r.get(0),
                path: path.map(|p| parse::<RoutePath>(p, "path")).transpose()?,
                seconds_before: r.get(2),
            })
        })
    }

    fn message_conversation(&self, message_id: i64) -> Result<i64> {
        self.opt("SELECT conversation_id FROM messages WHERE id = $1", &[&message_id], |r| Ok(r.get(0)))?
            .ok_or_else(|| Error::not_found("message", message_id))
    }

    fn recent_messages(&self, conversation_id: i64, limit: usize) -> Result<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE} FROM (SELECT * FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2) recent
             ORDER BY id"
        );
        self.all(&sql, &[&conversation_id, &(limit as i64)], message)
    }

    fn reply_of(&self, message_id: i64) -> Result<Option<i64>> {
        self.opt("SELECT id FROM messages WHERE reply_to = $1 ORDER BY id LIMIT 1", &[&message_id], |r| Ok(r.get(0)))
    }

    fn messages_after(&self, conversation_id: i64, after: i64, limit: usize) -> Result<Vec<Message>> {
        let sql = format!("SELECT {MESSAGE} FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3");
        self.all(&sql, &[&conversation_id, &after, &(limit as i64)], message)
    }

    fn decision_of_message(&self, message_id: i64) -> Result<Option<i64>> {
        self.opt("SELECT id FROM decisions WHERE message_id = $1 ORDER BY id LIMIT 1", &[&message_id], |r| Ok(r.get(0)))
    }

    fn record_decision_value(&self, d: &NewDecision<'_, Value>, reply: &str) -> Result<i64> {
        self.run(async move { insert_decision(&self.store.client().await?, d, reply, None).await })
    }

    fn record_routing_value(
        &self,
        w: &NewRouting<'_, Value>,
        reply: &dyn Fn(Option<i64>) -> String,
    ) -> Result<RoutingWritten> {
        self.run(async move {
            let d = &w.decision;
            let mut client = self.store.client().await?;
            let tx = client.transaction().await?;
            // Locked first: the reply is a message of the conversation, and a second
            // routing of the message (another process's recovery) waits here, then finds
            // this one's decision.
            lock_conversation(&tx, d.conversation_id).await?;
            let routed = tx.query_opt("SELECT 1 FROM decisions WHERE message_id = $1", &[&d.message_id]).await?;
            if routed.is_some() {
                return Err(Error::Conflict { what: "decision for message", key: d.message_id.to_string() }.into());
            }
            // The offer is numbered before the reply naming it is written.
            let escalation_id: Option<i64> = match &w.offer {
                Some(_) => {
                    Some(tx.query_one("SELECT nextval(pg_get_serial_sequence('escalations', 'id'))", &[]).await?.get(0))
                }
                None => None,
            };
            let text = reply(escalation_id);
            let decision_id = insert_decision(&tx, d, &text, w.served).await?;
            let times_reused = match w.served {
                Some(id) => Some(
                    tx.query_opt(
                        "UPDATE canonical_answers SET times_reused = times_reused + 1, last_served_at = now(),
                             updated_at = now()
                         WHERE id = $1 RETURNING times_reused",
                        &[&id],
                    )
                    .await?
                    .ok_or_else(|| Error::not_found("canonical answer", id))?
                    .get::<_, i64>(0) as u64,
                ),
                None => None,
            };
            if let (Some(e), Some(id)) = (&w.offer, escalation_id) {
                crate::offers::insert_escalation(&tx, Some(id), e, Some(decision_id)).await?;
            }
            let kind = if escalation_id.is_some() { MessageKind::EscalationOffered } else { MessageKind::Reply };
            let reply_message_id: i64 = tx
                .query_one(
                    "INSERT INTO messages (conversation_id, role, body, kind, escalation_id, reply_to)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[&d.conversation_id, &Role::Agent.as_str(), &text, &kind.as_str(), &escalation_id, &d.message_id],
                )
                .await?
                .get(0);
            tx.commit().await?;
            Ok(RoutingWritten { decision_id, reply_message_id, escalation_id, times_reused, reply: text })
        })
    }

    fn decision_value(&self, id: i64) -> Result<Decision<Value>> {
        self.opt(&format!("SELECT {DECISION} FROM decisions WHERE id = $1"), &[&id], decision)?
            .ok_or_else(|| Error::not_found("decision", id))
    }

    fn decision_question(&self, id: i64) -> Result<String> {
        let sql = "SELECT m.body FROM decisions d JOIN messages m ON m.id = d.message_id WHERE d.id = $1";
        self.opt(sql, &[&id], |r| Ok(r.get(0)))?.ok_or_else(|| Error::not_found("decision", id))
    }

    fn list_decisions_value(
        &self,
        agent_id: i64,
        path: Option<RoutePath>,
        fan_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Decision<Value>>> {
        let sql = format!(
            "SELECT {DECISION} FROM decisions
             WHERE agent_id = $1 AND ($2::text IS NULL OR path = $2) AND ($3::bigint IS NULL OR fan_id = $3)
             ORDER BY id DESC LIMIT $4"
        );
        self.all(&sql, &[&agent_id, &path.map(|p| p.as_str()), &fan_id, &(limit as i64)], decision)
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
    ) -> Result<FanHistory> {
        self.run(async move {
            let client = self.store.client().await?;
            // Without `as_of`, no time and no message id is out of reach.
            let (until, before) = match as_of {
                Some((id, at)) => (Some(at), id),
                None => (None, i64::MAX),
            };
            let row = client
                .query_one(
                    "SELECT count(*), count(*) FILTER (WHERE status IN ('declined', 'expired') AND accepted_at IS NULL)
                     FROM escalations WHERE agent_id = $1 AND fan_id = $2
                       AND ($3::timestamptz IS NULL OR offered_at <= $3)
                       AND (message_id IS NULL OR message_id < $4)",
                    &[&agent_id, &fan_id, &until, &before],
                )
                .await?;
            let (earlier, declined): (i64, i64) = (row.get(0), row.get(1));
            let accepted = "SELECT count(*) FROM escalations WHERE agent_id = $1 AND accepted_at >= $2
                            AND ($3::timestamptz IS NULL OR accepted_at <= $3) AND (message_id IS NULL OR message_id < $4)";
            let today: i64 = client.query_one(accepted, &[&agent_id, &day_start, &until, &before]).await?.get(0);
            let week: i64 = client.query_one(accepted, &[&agent_id, &week_start, &until, &before]).await?.get(0);
            let (mut previous_path, mut recent) = (None, Vec::new());
            if let Some(c) = conversation_id {
                let path = client
                    .query_opt(
                        "SELECT d.path FROM decisions d JOIN messages m ON m.id = d.message_id
                         WHERE d.fan_id = $3 AND m.conversation_id = $1 AND m.id < $2 ORDER BY d.id DESC LIMIT 1",
                        &[&c, &before, &fan_id],
                    )
                    .await?;
                previous_path = path.map(|r| parse::<RoutePath>(r.get(0), "path")).transpose()?;
                recent = client
                    .query(
                        "SELECT role, body FROM (SELECT id, role, body FROM messages WHERE conversation_id = $1 AND id <= $3
                         ORDER BY id DESC LIMIT $2) recent ORDER BY id",
                        &[&c, &(messages as i64), &before],
                    )
                    .await?
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
            }
            Ok(FanHistory {
                earlier_escalations: earlier as u32,
                declined_offers: declined as u32,
                escalations_today: today as u32,
                escalations_this_week: week as u32,
                previous_path,
                recent_messages: recent,
            })
        })
    }

    fn unrouted_count(&self, agent_id: Option<i64>) -> Result<u64> {
        let sql = format!("SELECT count(*) FROM ({UNROUTED} AND ($1::bigint IS NULL OR c.agent_id = $1)) u");
        Ok(self.opt(&sql, &[&agent_id], |r| Ok(r.get::<_, i64>(0) as u64))?.unwrap_or(0))
    }

    fn unrouted_messages(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<Unrouted>> {
        let sql = format!("{UNROUTED} AND m.created_at < $1 ORDER BY m.id LIMIT $2");
        self.all(&sql, &[&before, &(limit as i64)], |r| Ok(unrouted(r)))
    }

    fn unrouted_message(&self, message_id: i64) -> Result<Option<Unrouted>> {
        self.opt(&format!("{UNROUTED} AND m.id = $1"), &[&message_id], |r| Ok(unrouted(r)))
    }
}

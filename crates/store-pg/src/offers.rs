//! `Offers` on PostgreSQL (migration 0006), checked against SQLite by the shared
//! suite. An acceptance locks its escalation's row, takes a place in the agent's day
//! and week through the counter rows (`caps.rs`), and writes what follows (the E or F
//! decision, the reply in the conversation, locked as every message is) in the same
//! transaction.

use crate::conversations::{insert_decision, lock_conversation};
use crate::{parse, PgHub};
use chrono::{DateTime, Utc};
use fanline_engine::EscalationStatus;
use fanline_store::{
    AcceptWrite, Accepted, CapCheck, Error, Escalation, MessageKind, NewEscalation, Offers, Result, Role,
};
use serde_json::Value;
use tokio_postgres::Row;

const ESCALATION: &str = "id, agent_id, fan_id, question, reason, status, priority, context_summary, answer,
     answer_layer, canonical_answer_id, offered_at, accepted_at, answered_at, expires_at, deferred_until, message_id,
     expected_reply_after";

fn escalation(r: &Row) -> Result<Escalation> {
    let layer: Option<&str> = r.get(9);
    Ok(Escalation {
        id: r.get(0),
        agent_id: r.get(1),
        fan_id: r.get(2),
        question: r.get(3),
        reason: parse(r.get(4), "escalation reason")?,
        status: parse(r.get(5), "escalation status")?,
        priority: r.get(6),
        context_summary: r.get(7),
        answer: r.get(8),
        answer_layer: layer.map(|l| parse(l, "layer")).transpose()?,
        canonical_answer_id: r.get(10),
        offered_at: r.get(11),
        accepted_at: r.get(12),
        answered_at: r.get(13),
        expires_at: r.get(14),
        deferred_until: r.get(15),
        message_id: r.get(16),
        expected_reply_after: r.get(17),
    })
}

/// Insert an escalation (with its id when the caller numbered it) inside the caller's
/// transaction; returns its id.
pub(crate) async fn insert_escalation(
    tx: &impl deadpool_postgres::GenericClient,
    id: Option<i64>,
    e: &NewEscalation,
    decision_id: Option<i64>,
) -> crate::Result<i64> {
    Ok(tx
        .query_one(
            "INSERT INTO escalations (id, agent_id, fan_id, message_id, decision_id, question, reason, priority,
                                      context_summary, expires_at, expected_reply_after)
             VALUES (coalesce($1, nextval(pg_get_serial_sequence('escalations', 'id'))), $2, $3, $4, $5, $6, $7, $8,
                     $9, $10, $11)
             RETURNING id",
            &[
                &id,
                &e.agent_id,
                &e.fan_id,
                &e.message_id,
                &decision_id,
                &e.question,
                &e.reason.as_str(),
                &e.priority,
                &e.context_summary,
                &e.expires_at,
                &e.expected_reply_after,
            ],
        )
        .await?
        .get(0))
}

impl Offers for PgHub {
    fn create_escalation(&self, e: &NewEscalation) -> Result<i64> {
        self.run(async move { insert_escalation(&self.store.client().await?, None, e, None).await })
    }

    fn escalation(&self, id: i64) -> Result<Escalation> {
        self.opt(&format!("SELECT {ESCALATION} FROM escalations WHERE id = $1"), &[&id], escalation)?
            .ok_or_else(|| Error::not_found("escalation", id))
    }

    fn escalation_of_decision(&self, decision_id: i64) -> Result<Option<Escalation>> {
        self.opt(&format!("SELECT {ESCALATION} FROM escalations WHERE decision_id = $1"), &[&decision_id], escalation)
    }

    fn escalation_queue(&self, agent_id: i64, now: DateTime<Utc>, limit: usize) -> Result<Vec<Escalation>> {
        let sql = format!(
            "SELECT {ESCALATION} FROM escalations WHERE agent_id = $1 AND status = 'accepted'
             ORDER BY (deferred_until IS NOT NULL AND deferred_until > $2), priority DESC, accepted_at, id LIMIT $3"
        );
        self.all(&sql, &[&agent_id, &now, &(limit as i64)], escalation)
    }

    fn defer_escalation(&self, id: i64, until: DateTime<Utc>) -> Result<()> {
        let sql =
            "UPDATE escalations SET deferred_until = $2, updated_at = now() WHERE id = $1 AND status = 'accepted'";
        if self.exec(sql, &[&id, &until])? == 0 {
            let e = self.escalation(id)?;
            return Err(Error::Invalid {
                what: "escalation",
                detail: format!("escalation {id} is {}; only a queued (accepted) one can be deferred", e.status),
            });
        }
        Ok(())
    }

    fn expire_escalations(&self, now: DateTime<Utc>) -> Result<usize> {
        let sql = "UPDATE escalations SET status = 'expired', expired_at = $1, updated_at = now()
                   WHERE status IN ('pending', 'accepted') AND expires_at IS NOT NULL AND expires_at <= $1";
        Ok(self.exec(sql, &[&now])? as usize)
    }

    fn accept_escalation_value(
        &self,
        id: i64,
        cap: &CapCheck,
        then: Option<&AcceptWrite<'_, Value>>,
    ) -> Result<Accepted> {
        self.run(async move {
            let mut client = self.store.client().await?;
            let tx = client.transaction().await?;
            let row = tx
                .query_opt("SELECT agent_id, status, message_id FROM escalations WHERE id = $1 FOR UPDATE", &[&id])
                .await?
                .ok_or_else(|| Error::not_found("escalation", id))?;
            let (agent_id, status, message): (i64, String, Option<i64>) = (row.get(0), row.get(1), row.get(2));
            if parse::<EscalationStatus>(&status, "escalation status")? != EscalationStatus::Pending {
                return Err(Error::Invalid {
                    what: "escalation",
                    detail: format!("escalation {id} is {status}; only a pending offer can be accepted"),
                }
                .into());
            }
            let acceptance = crate::caps::take_place(&tx, agent_id, cap).await?;
            if acceptance.accepted() {
                tx.execute(
                    "UPDATE escalations SET status = 'accepted', accepted_at = $2, expires_at = coalesce($3, expires_at),
                         updated_at = now()
                     WHERE id = $1",
                    &[&id, &cap.now, &then.map(|t| t.queue_expiry)],
                )
                .await?;
            }
            let mut decision_id = None;
            if let (Some(t), Some(_)) = (then, message) {
                let (d, reply) = (t.decision)(&acceptance);
                lock_conversation(&tx, d.conversation_id).await?;
                decision_id = Some(insert_decision(&tx, &d, &reply, None).await?);
                let kind = match acceptance.accepted() {
                    true => MessageKind::EscalationAccepted,
                    false => MessageKind::EscalationRefused,
                };
                tx.execute(
                    "INSERT INTO messages (conversation_id, role, body, kind, escalation_id) VALUES ($1, $2, $3, $4, $5)",
                    &[&d.conversation_id, &Role::Agent.as_str(), &reply, &kind.as_str(), &id],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(Accepted { acceptance, decision_id })
        })
    }
}

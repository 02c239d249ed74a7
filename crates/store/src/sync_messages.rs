//! Sync of conversations, messages and decisions: append-only. Each is read whole for
//! a record or a push, and put by uid where it is missing (on a device, the hub's copy
//! of a message replaces the device's own: a creator's answer told to the fan).

use crate::sync_apply::{agent_id, fan_id, uid_to_id};
use crate::util::Cached;
use crate::{Result, Store};
use fanline_sync::{DecisionData, FanData, MessageData};
use rusqlite::{params, OptionalExtension, Transaction};

fn fan(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<FanData> {
    Ok(FanData { uid: r.get(at)?, handle: r.get(at + 1)?, tier: r.get(at + 2)?, layer: r.get(at + 3)? })
}

impl Store {
    /// A message by uid.
    pub fn message_state(&self, uid: &str) -> Result<Option<MessageData>> {
        let conn = self.read()?;
        Ok(conn
            .row(
                "SELECT c.uid, g.name, f.uid, f.handle, f.tier, f.layer, m.role, m.body, m.kind, e.uid, r.uid, m.created_at
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN agents g ON g.id = c.agent_id
                 JOIN fans f ON f.id = c.fan_id LEFT JOIN escalations e ON e.id = m.escalation_id
                 LEFT JOIN messages r ON r.id = m.reply_to WHERE m.uid = ?1",
                [uid],
                |r| {
                    Ok(MessageData {
                        conversation_uid: r.get(0)?,
                        agent: r.get(1)?,
                        fan: fan(r, 2)?,
                        role: r.get(6)?,
                        body: r.get(7)?,
                        kind: r.get(8)?,
                        escalation_uid: r.get(9)?,
                        reply_to_uid: r.get(10)?,
                        created_at: r.get(11)?,
                    })
                },
            )
            .optional()?)
    }

    /// A decision by uid.
    pub fn decision_state(&self, uid: &str) -> Result<Option<DecisionData>> {
        let conn = self.read()?;
        Ok(conn
            .row(
                "SELECT m.uid, g.name, f.uid, f.handle, f.tier, f.layer, d.path, d.reason, d.signals, d.trace, d.reply,
                        a.uid, d.created_at
                 FROM decisions d JOIN messages m ON m.id = d.message_id JOIN agents g ON g.id = d.agent_id
                 JOIN fans f ON f.id = d.fan_id LEFT JOIN canonical_answers a ON a.id = d.canonical_answer_id
                 WHERE d.uid = ?1",
                [uid],
                |r| {
                    Ok(DecisionData {
                        message_uid: r.get(0)?,
                        agent: r.get(1)?,
                        fan: fan(r, 2)?,
                        path: r.get(6)?,
                        reason: r.get(7)?,
                        signals: r.get(8)?,
                        trace: r.get(9)?,
                        reply: r.get(10)?,
                        canonical_uid: r.get(11)?,
                        created_at: r.get(12)?,
                    })
                },
            )
            .optional()?)
    }

    /// Put a peer's message (`replace`: a copy here under the same uid takes the
    /// peer's conversation and text). Whether it was new here.
    pub fn put_synced_message(&self, uid: &str, m: &MessageData, replace: bool) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let new = put_message(&tx, uid, m, replace)?;
        tx.commit()?;
        Ok(new)
    }

    /// Put a peer's decision (nothing if it is here). Whether it was new here.
    pub fn put_synced_decision(&self, uid: &str, d: &DecisionData) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let new = put_decision(&tx, uid, d)?;
        tx.commit()?;
        Ok(new)
    }
}

pub(crate) fn put_message(tx: &Transaction<'_>, uid: &str, m: &MessageData, replace: bool) -> Result<bool> {
    let existed = uid_to_id(tx, "messages", Some(uid))?.is_some();
    if existed && !replace {
        return Ok(false);
    }
    let agent = agent_id(tx, &m.agent)?;
    let fan = fan_id(tx, &m.fan)?;
    let conversation = match uid_to_id(tx, "conversations", Some(&m.conversation_uid))? {
        Some(c) => c,
        None => tx.row(
            "INSERT INTO conversations (uid, agent_id, fan_id) VALUES (?1, ?2, ?3) RETURNING id",
            params![m.conversation_uid, agent, fan],
            |r| r.get(0),
        )?,
    };
    let escalation = uid_to_id(tx, "escalations", m.escalation_uid.as_deref())?;
    let reply_to = uid_to_id(tx, "messages", m.reply_to_uid.as_deref())?;
    tx.exec(
        "INSERT INTO messages (uid, conversation_id, role, body, kind, escalation_id, reply_to, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (uid) DO UPDATE SET conversation_id = excluded.conversation_id, body = excluded.body,
             role = excluded.role, kind = excluded.kind, created_at = excluded.created_at",
        params![uid, conversation, m.role, m.body, m.kind, escalation, reply_to, m.created_at],
    )?;
    Ok(!existed)
}

pub(crate) fn put_decision(tx: &Transaction<'_>, uid: &str, d: &DecisionData) -> Result<bool> {
    if uid_to_id(tx, "decisions", Some(uid))?.is_some() {
        return Ok(false);
    }
    let Some(message) = uid_to_id(tx, "messages", Some(&d.message_uid))? else {
        return Err(crate::Error::Invalid {
            what: "decision",
            detail: format!("its message {} is not here", d.message_uid),
        });
    };
    let agent = agent_id(tx, &d.agent)?;
    let fan = fan_id(tx, &d.fan)?;
    let canonical = uid_to_id(tx, "canonical_answers", d.canonical_uid.as_deref())?;
    tx.exec(
        "INSERT INTO decisions (uid, message_id, agent_id, fan_id, path, reason, signals, trace, reply,
             canonical_answer_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![uid, message, agent, fan, d.path, d.reason, d.signals, d.trace, d.reply, canonical, d.created_at],
    )?;
    Ok(true)
}

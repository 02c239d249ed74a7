//! Sync of an agent's rules and policy file (entity `rules`, uid the agent's name):
//! each field carries the timestamp it was last set at (`sync_fields`). A change made
//! here is stamped and, on a paired device, queued for the hub in the transaction that
//! made it; a change applied from a peer keeps the peer's timestamp.

use crate::sync::{is_applying, touch_log};
use crate::util::meta;
use crate::util::Cached;
use crate::Agents;
use crate::{Result, Store};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;

/// The entity name.
pub const RULES: &str = "rules";

/// A field of `entity` `uid` was set to `value` (JSON text for rules, the text for the
/// policy): tell devices (the log), and when made here, stamp it and queue it.
pub(crate) fn field_changed(conn: &Connection, entity: &str, uid: &str, field: &str, value: &str) -> Result<()> {
    touch_log(conn, entity, uid)?;
    if is_applying() {
        return Ok(());
    }
    let base: String = conn
        .row(
            "SELECT hlc FROM sync_fields WHERE entity = ?1 AND uid = ?2 AND field = ?3",
            params![entity, uid, field],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default();
    let hlc: String = conn.row("SELECT fanline_hlc()", [], |r| r.get(0))?;
    set_hlc(conn, entity, uid, field, &hlc)?;
    if meta(conn, "sync.hub_url")?.is_some() {
        conn.exec(
            "INSERT INTO sync_outbox (hlc, entity, uid, op, payload, base_hlc)
             VALUES (?1, ?2, ?3, 'set', json_object('field', ?4, 'value', ?5), ?6)",
            params![hlc, entity, uid, field, value, base],
        )?;
    }
    Ok(())
}

pub(crate) fn set_hlc(conn: &Connection, entity: &str, uid: &str, field: &str, hlc: &str) -> Result<()> {
    conn.exec(
        "INSERT INTO sync_fields (entity, uid, field, hlc) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (entity, uid, field) DO UPDATE SET hlc = excluded.hlc",
        params![entity, uid, field, hlc],
    )?;
    Ok(())
}

/// The fields of an agent's rules that changed between two JSON objects, with their
/// new values as JSON text.
pub(crate) fn changed_fields(old: &serde_json::Value, new: &serde_json::Value) -> Vec<(String, String)> {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else { return Vec::new() };
    new.iter().filter(|(k, v)| old.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.to_string())).collect()
}

/// An agent's rules and policy, as they sync.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RulesData {
    /// Every rule (the agent's config as JSON).
    pub rules: serde_json::Value,
    /// The policy file's text, if it has one.
    pub policy: Option<String>,
    /// When each field was last set.
    pub hlcs: BTreeMap<String, String>,
}

impl Store {
    /// An agent's rules and policy as they sync (none: no such agent).
    pub fn rules_data(&self, agent: &str) -> Result<Option<RulesData>> {
        let Some(a) = self.agent_by_name(agent)? else { return Ok(None) };
        let rules = serde_json::to_value(self.agent_config(a.id)?).unwrap_or_default();
        let policy = self.last_valid_policy(a.id)?.map(|(t, _)| t);
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached("SELECT field, hlc FROM sync_fields WHERE entity = ?1 AND uid = ?2")?;
        let hlcs =
            stmt.query_map(params![RULES, agent], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(Some(RulesData { rules, policy, hlcs }))
    }

    /// When a field of `entity` `uid` was last set ('' never).
    pub fn field_hlc(&self, entity: &str, uid: &str, field: &str) -> Result<String> {
        let conn = self.read()?;
        Ok(conn
            .row(
                "SELECT hlc FROM sync_fields WHERE entity = ?1 AND uid = ?2 AND field = ?3",
                params![entity, uid, field],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default())
    }

    /// A peer's value of a field won: keep its timestamp.
    pub fn set_field_hlc(&self, entity: &str, uid: &str, field: &str, hlc: &str) -> Result<()> {
        set_hlc(&self.conn(), entity, uid, field, hlc)
    }
}

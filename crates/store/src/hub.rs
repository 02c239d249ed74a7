//! The hub's tables (migration 0010) on SQLite: who may reach the hub (`HubAccess`,
//! see access.rs: fans, sessions, invite links, sites, devices, pairing codes) and
//! fans' idempotency keys. Every token and code is stored as its hash (the caller
//! hashes), never as itself.

use crate::escalations::timestamp;
use crate::fans::fan_row;
use crate::messages::{conversation_of, existing_conversation};
use crate::util::Cached;
use crate::util::{parsed, parsed_opt};
use crate::{Error, Fan, HubAccess, Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::{Layer, Tier};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// An agent's public site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    pub agent_id: i64,
    /// The key the creator's web page gives the widget (public).
    pub site_key: String,
    /// Origins the widget may be served from (CORS).
    pub origins: Vec<String>,
}

/// A fan's session, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FanSession {
    pub id: i64,
    pub agent_id: i64,
    pub fan_id: i64,
    pub via: String,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An invite link, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    pub id: i64,
    pub agent_id: i64,
    pub handle: String,
    pub tier: Tier,
    pub layer: Layer,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One of the creator's devices (or tools) with access to the admin API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What posting a fan's message under an idempotency key found.
#[derive(Debug, Clone, PartialEq)]
pub enum Posted {
    /// A new message, stored with its key.
    New { conversation_id: i64, message_id: i64 },
    /// The key was used before: its message, whether the request was the same, and the
    /// message's decision if it has one.
    Seen { message_id: i64, same_request: bool, decision_id: Option<i64>, seconds_ago: f64 },
}

fn scopes(text: &str) -> rusqlite::Result<Vec<String>> {
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

const DEVICE_COLS: &str = "id, name, scopes, created_at, last_used_at, revoked_at";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        scopes: scopes(&r.get::<_, String>(2)?)?,
        created_at: parsed(r, 3)?,
        last_used_at: parsed_opt(r, 4)?,
        revoked_at: parsed_opt(r, 5)?,
    })
}

fn site_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Site> {
    Ok(Site { agent_id: r.get(0)?, site_key: r.get(1)?, origins: scopes(&r.get::<_, String>(2)?)? })
}

impl HubAccess for Store {
    fn ensure_site(&self, agent_id: i64, new_key: &str) -> Result<Site> {
        let conn = self.conn();
        conn.exec(
            "INSERT INTO hub_sites (agent_id, site_key) VALUES (?1, ?2) ON CONFLICT (agent_id) DO NOTHING",
            params![agent_id, new_key],
        )?;
        Ok(conn.row("SELECT agent_id, site_key, origins FROM hub_sites WHERE agent_id = ?1", [agent_id], site_row)?)
    }

    fn site_by_key(&self, site_key: &str) -> Result<Option<Site>> {
        Ok(self
            .read()?
            .row("SELECT agent_id, site_key, origins FROM hub_sites WHERE site_key = ?1", [site_key], site_row)
            .optional()?)
    }

    fn sites(&self) -> Result<Vec<Site>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached("SELECT agent_id, site_key, origins FROM hub_sites ORDER BY agent_id")?;
        let rows = stmt.query_map([], site_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn set_site_origins(&self, agent_id: i64, origins: &[String]) -> Result<()> {
        let text =
            serde_json::to_string(origins).map_err(|e| Error::Invalid { what: "origins", detail: e.to_string() })?;
        let n = self.conn().exec("UPDATE hub_sites SET origins = ?2 WHERE agent_id = ?1", params![agent_id, text])?;
        if n == 0 {
            return Err(Error::not_found("site of agent", agent_id));
        }
        Ok(())
    }

    fn create_fan_session(
        &self,
        agent_id: i64,
        fan_id: i64,
        token_hash: &str,
        via: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(self.conn().row(
            "INSERT INTO fan_sessions (agent_id, fan_id, token_hash, via, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
             RETURNING id",
            params![agent_id, fan_id, token_hash, via, timestamp(expires_at)],
            |r| r.get(0),
        )?)
    }

    fn fan_session(&self, token_hash: &str) -> Result<Option<FanSession>> {
        Ok(self
            .read()?
            .row(
                "SELECT id, agent_id, fan_id, via, expires_at, revoked_at FROM fan_sessions WHERE token_hash = ?1",
                [token_hash],
                |r| {
                    Ok(FanSession {
                        id: r.get(0)?,
                        agent_id: r.get(1)?,
                        fan_id: r.get(2)?,
                        via: r.get(3)?,
                        expires_at: parsed(r, 4)?,
                        revoked_at: parsed_opt(r, 5)?,
                    })
                },
            )
            .optional()?)
    }

    fn create_invite(
        &self,
        agent_id: i64,
        handle: &str,
        tier: Tier,
        layer: Layer,
        nonce_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(self.conn().row(
            "INSERT INTO fan_invites (agent_id, handle, tier, layer, nonce_hash, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![agent_id, handle, tier.as_str(), layer.as_str(), nonce_hash, timestamp(expires_at)],
            |r| r.get(0),
        )?)
    }

    fn invite(&self, nonce_hash: &str) -> Result<Option<Invite>> {
        Ok(self
            .read()?
            .row(
                "SELECT id, agent_id, handle, tier, layer, expires_at, revoked_at FROM fan_invites WHERE nonce_hash = ?1",
                [nonce_hash],
                |r| {
                    Ok(Invite {
                        id: r.get(0)?,
                        agent_id: r.get(1)?,
                        handle: r.get(2)?,
                        tier: parsed(r, 3)?,
                        layer: parsed(r, 4)?,
                        expires_at: parsed(r, 5)?,
                        revoked_at: parsed_opt(r, 6)?,
                    })
                },
            )
            .optional()?)
    }

    fn mark_invite_used(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.conn().exec(
            "UPDATE fan_invites SET used_at = coalesce(used_at, ?2) WHERE id = ?1",
            params![id, timestamp(now)],
        )?;
        Ok(())
    }

    fn revoke_fan_access(&self, agent_id: i64, handle: &str, now: DateTime<Utc>) -> Result<(usize, usize)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let t = timestamp(now);
        let invites = tx.exec(
            "UPDATE fan_invites SET revoked_at = ?3 WHERE agent_id = ?1 AND handle = ?2 AND revoked_at IS NULL",
            params![agent_id, handle, t],
        )?;
        let sessions = tx.exec(
            "UPDATE fan_sessions SET revoked_at = ?3
             WHERE agent_id = ?1 AND revoked_at IS NULL AND fan_id IN (SELECT id FROM fans WHERE handle = ?2)",
            params![agent_id, handle, t],
        )?;
        tx.commit()?;
        Ok((invites, sessions))
    }

    fn create_device(&self, name: &str, token_hash: &str, scopes: &[String]) -> Result<Device> {
        let conn = self.conn();
        let text =
            serde_json::to_string(scopes).map_err(|e| Error::Invalid { what: "scopes", detail: e.to_string() })?;
        Ok(conn.query_row(
            &format!("INSERT INTO devices (name, token_hash, scopes) VALUES (?1, ?2, ?3) RETURNING {DEVICE_COLS}"),
            params![name, token_hash, text],
            device_row,
        )?)
    }

    fn device_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Device>> {
        Ok(self
            .conn()
            .query_row(
                &format!("UPDATE devices SET last_used_at = ?2 WHERE token_hash = ?1 RETURNING {DEVICE_COLS}"),
                params![token_hash, timestamp(now)],
                device_row,
            )
            .optional()?)
    }

    fn devices(&self) -> Result<Vec<Device>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(&format!("SELECT {DEVICE_COLS} FROM devices ORDER BY id DESC"))?;
        let rows = stmt.query_map([], device_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn revoke_device(&self, id: i64, now: DateTime<Utc>) -> Result<Device> {
        self.conn()
            .query_row(
                &format!(
                    "UPDATE devices SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1 RETURNING {DEVICE_COLS}"
                ),
                params![id, timestamp(now)],
                device_row,
            )
            .optional()?
            .ok_or_else(|| Error::not_found("device", id))
    }

    fn create_pairing(&self, code_hash: &str, scopes: &[String], expires_at: DateTime<Utc>) -> Result<()> {
        let text =
            serde_json::to_string(scopes).map_err(|e| Error::Invalid { what: "scopes", detail: e.to_string() })?;
        self.conn().exec(
            "INSERT INTO pairing_codes (code_hash, scopes, expires_at) VALUES (?1, ?2, ?3)",
            params![code_hash, text, timestamp(expires_at)],
        )?;
        Ok(())
    }

    fn redeem_pairing(
        &self,
        code_hash: &str,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let scopes: Option<String> = tx
            .row(
                "SELECT scopes FROM pairing_codes WHERE code_hash = ?1 AND device_id IS NULL AND expires_at > ?2",
                params![code_hash, timestamp(now)],
                |r| r.get(0),
            )
            .optional()?;
        let Some(scopes) = scopes else { return Ok(None) };
        let device = tx.query_row(
            &format!("INSERT INTO devices (name, token_hash, scopes) VALUES (?1, ?2, ?3) RETURNING {DEVICE_COLS}"),
            params![name, token_hash, scopes],
            device_row,
        )?;
        tx.exec("UPDATE pairing_codes SET device_id = ?2 WHERE code_hash = ?1", params![code_hash, device.id])?;
        tx.commit()?;
        Ok(Some(device))
    }

    fn fan_conversation(&self, agent_id: i64, fan_id: i64) -> Result<i64> {
        // Every request of a fan asks: read first, take the write lock only to create it.
        if let Some(id) = existing_conversation(&*self.read()?, agent_id, fan_id)? {
            return Ok(id);
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let id = conversation_of(&tx, agent_id, fan_id)?;
        tx.commit()?;
        Ok(id)
    }

    fn upsert_fan(&self, handle: &str, tier: Tier, layer: Layer) -> Result<Fan> {
        let handle = handle.trim();
        if handle.is_empty() {
            return Err(Error::Invalid { what: "fan handle", detail: "it is empty".into() });
        }
        Ok(self.conn().row(
            "INSERT INTO fans (handle, tier, layer) VALUES (?1, ?2, ?3)
             ON CONFLICT (handle) DO UPDATE SET tier = excluded.tier, layer = excluded.layer
             RETURNING id, handle, tier, layer, created_at",
            rusqlite::params![handle, tier.as_str(), layer.as_str()],
            fan_row,
        )?)
    }

    fn insert_fan(&self, handle: &str, tier: Tier, layer: Layer) -> Result<Fan> {
        let handle = handle.trim();
        if handle.is_empty() {
            return Err(Error::Invalid { what: "fan handle", detail: "it is empty".into() });
        }
        self.conn()
            .row(
                "INSERT INTO fans (handle, tier, layer) VALUES (?1, ?2, ?3) ON CONFLICT (handle) DO NOTHING
                 RETURNING id, handle, tier, layer, created_at",
                rusqlite::params![handle, tier.as_str(), layer.as_str()],
                fan_row,
            )
            .optional()?
            .ok_or_else(|| Error::Conflict { what: "fan", key: handle.to_string() })
    }

    fn update_fan(&self, handle: &str, tier: Option<Tier>, layer: Option<Layer>) -> Result<Fan> {
        let handle = handle.trim();
        self.conn()
            .row(
                "UPDATE fans SET tier = coalesce(?2, tier), layer = coalesce(?3, layer) WHERE handle = ?1
                 RETURNING id, handle, tier, layer, created_at",
                rusqlite::params![handle, tier.map(|t| t.as_str()), layer.map(|l| l.as_str())],
                fan_row,
            )
            .optional()?
            .ok_or_else(|| Error::NotFound { what: "fan", key: handle.to_string() })
    }

    fn list_fans(&self) -> Result<Vec<Fan>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached("SELECT id, handle, tier, layer, created_at FROM fans ORDER BY handle")?;
        let rows = stmt.query_map([], fan_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn fan_by_handle(&self, handle: &str) -> Result<Option<Fan>> {
        Ok(self
            .read()?
            .row("SELECT id, handle, tier, layer, created_at FROM fans WHERE handle = ?1", [handle.trim()], fan_row)
            .optional()?)
    }

    fn fan(&self, id: i64) -> Result<Fan> {
        self.read()?
            .row("SELECT id, handle, tier, layer, created_at FROM fans WHERE id = ?1", [id], fan_row)
            .optional()?
            .ok_or_else(|| Error::not_found("fan", id))
    }
}

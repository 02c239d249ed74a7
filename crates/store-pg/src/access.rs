//! `HubAccess` on PostgreSQL: fans, conversations, sites, sessions, invites, devices
//! and pairing codes (migration 0004). The same behaviour as SQLite's, checked by the
//! shared suite (`tests/suite.rs`); where SQLite serialises writers, PostgreSQL is
//! told how to agree: unique keys with `ON CONFLICT`, and a pairing code's row locked
//! (`FOR UPDATE`) by the one redemption that uses it.

use crate::conversations::conversation_of;
use crate::{parse, PgHub};
use chrono::{DateTime, Utc};
use fanline_engine::{Layer, Tier};
use fanline_store::{Device, Error, Fan, FanSession, HubAccess, Invite, Result, Site};
use tokio_postgres::Row;

const FAN: &str = "id, handle, tier, layer, created_at";
const DEVICE: &str = "id, name, scopes, created_at, last_used_at, revoked_at";
const SITE: &str = "agent_id, site_key, origins";

fn fan(r: &Row) -> Result<Fan> {
    Ok(Fan {
        id: r.get(0),
        handle: r.get(1),
        tier: parse(r.get(2), "tier")?,
        layer: parse(r.get(3), "layer")?,
        created_at: r.get(4),
    })
}

fn strings(v: serde_json::Value, what: &'static str) -> Result<Vec<String>> {
    serde_json::from_value(v).map_err(|e| Error::Invalid { what, detail: e.to_string() })
}

fn json(list: &[String]) -> serde_json::Value {
    serde_json::Value::from(list.to_vec())
}

fn device(r: &Row) -> Result<Device> {
    Ok(Device {
        id: r.get(0),
        name: r.get(1),
        scopes: strings(r.get(2), "scopes")?,
        created_at: r.get(3),
        last_used_at: r.get(4),
        revoked_at: r.get(5),
    })
}

fn site(r: &Row) -> Result<Site> {
    Ok(Site { agent_id: r.get(0), site_key: r.get(1), origins: strings(r.get(2), "origins")? })
}

fn handle(handle: &str) -> Result<&str> {
    let handle = handle.trim();
    if handle.is_empty() {
        return Err(Error::Invalid { what: "fan handle", detail: "it is empty".into() });
    }
    Ok(handle)
}

impl HubAccess for PgHub {
    fn insert_fan(&self, h: &str, tier: Tier, layer: Layer) -> Result<Fan> {
        let h = handle(h)?;
        let sql = format!(
            "INSERT INTO fans (handle, tier, layer) VALUES ($1, $2, $3) ON CONFLICT (handle) DO NOTHING RETURNING {FAN}"
        );
        self.opt(&sql, &[&h, &tier.as_str(), &layer.as_str()], fan)?
            .ok_or_else(|| Error::Conflict { what: "fan", key: h.to_string() })
    }

    fn upsert_fan(&self, h: &str, tier: Tier, layer: Layer) -> Result<Fan> {
        let h = handle(h)?;
        let sql = format!(
            "INSERT INTO fans (handle, tier, layer) VALUES ($1, $2, $3)
             ON CONFLICT (handle) DO UPDATE SET tier = excluded.tier, layer = excluded.layer, updated_at = now()
             RETURNING {FAN}"
        );
        Ok(self.opt(&sql, &[&h, &tier.as_str(), &layer.as_str()], fan)?.expect("an upsert returns its row"))
    }

    fn update_fan(&self, h: &str, tier: Option<Tier>, layer: Option<Layer>) -> Result<Fan> {
        let h = h.trim();
        let sql = format!(
            "UPDATE fans SET tier = coalesce($2, tier), layer = coalesce($3, layer), updated_at = now()
             WHERE handle = $1 RETURNING {FAN}"
        );
        self.opt(&sql, &[&h, &tier.map(|t| t.as_str()), &layer.map(|l| l.as_str())], fan)?
            .ok_or_else(|| Error::not_found("fan", h))
    }

    fn list_fans(&self) -> Result<Vec<Fan>> {
        self.all(&format!("SELECT {FAN} FROM fans ORDER BY handle"), &[], fan)
    }

    fn fan_by_handle(&self, h: &str) -> Result<Option<Fan>> {
        self.opt(&format!("SELECT {FAN} FROM fans WHERE handle = $1"), &[&h.trim()], fan)
    }

    fn fan(&self, id: i64) -> Result<Fan> {
        self.opt(&format!("SELECT {FAN} FROM fans WHERE id = $1"), &[&id], fan)?
            .ok_or_else(|| Error::not_found("fan", id))
    }

    fn fan_conversation(&self, agent_id: i64, fan_id: i64) -> Result<i64> {
        self.run(async move { conversation_of(&self.store.client().await?, agent_id, fan_id, false).await })
    }

    fn ensure_site(&self, agent_id: i64, new_key: &str) -> Result<Site> {
        self.exec(
            "INSERT INTO hub_sites (agent_id, site_key) VALUES ($1, $2) ON CONFLICT (agent_id) DO NOTHING",
            &[&agent_id, &new_key],
        )?;
        self.opt(&format!("SELECT {SITE} FROM hub_sites WHERE agent_id = $1"), &[&agent_id], site)?
            .ok_or_else(|| Error::not_found("site of agent", agent_id))
    }

    fn site_by_key(&self, site_key: &str) -> Result<Option<Site>> {
        self.opt(&format!("SELECT {SITE} FROM hub_sites WHERE site_key = $1"), &[&site_key], site)
    }

    fn sites(&self) -> Result<Vec<Site>> {
        self.all(&format!("SELECT {SITE} FROM hub_sites ORDER BY agent_id"), &[], site)
    }

    fn set_site_origins(&self, agent_id: i64, origins: &[String]) -> Result<()> {
        match self.exec("UPDATE hub_sites SET origins = $2 WHERE agent_id = $1", &[&agent_id, &json(origins)])? {
            0 => Err(Error::not_found("site of agent", agent_id)),
            _ => Ok(()),
        }
    }

    fn create_fan_session(
        &self,
        agent_id: i64,
        fan_id: i64,
        token_hash: &str,
        via: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<i64> {
        let sql = "INSERT INTO fan_sessions (agent_id, fan_id, token_hash, via, expires_at)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        Ok(self.opt(sql, &[&agent_id, &fan_id, &token_hash, &via, &expires_at], |r| Ok(r.get(0)))?.expect("inserted"))
    }

    fn fan_session(&self, token_hash: &str) -> Result<Option<FanSession>> {
        let sql = "SELECT id, agent_id, fan_id, via, expires_at, revoked_at FROM fan_sessions WHERE token_hash = $1";
        self.opt(sql, &[&token_hash], |r| {
            Ok(FanSession {
                id: r.get(0),
                agent_id: r.get(1),
                fan_id: r.get(2),
                via: r.get(3),
                expires_at: r.get(4),
                revoked_at: r.get(5),
            })
        })
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
        let sql = "INSERT INTO fan_invites (agent_id, handle, tier, layer, nonce_hash, expires_at)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
            [&agent_id, &handle, &tier.as_str(), &layer.as_str(), &nonce_hash, &expires_at];
        Ok(self.opt(sql, &params, |r| Ok(r.get(0)))?.expect("inserted"))
    }

    fn invite(&self, nonce_hash: &str) -> Result<Option<Invite>> {
        let sql =
            "SELECT id, agent_id, handle, tier, layer, expires_at, revoked_at FROM fan_invites WHERE nonce_hash = $1";
        self.opt(sql, &[&nonce_hash], |r| {
            Ok(Invite {
                id: r.get(0),
                agent_id: r.get(1),
                handle: r.get(2),
                tier: parse(r.get(3), "tier")?,
                layer: parse(r.get(4), "layer")?,
                expires_at: r.get(5),
                revoked_at: r.get(6),
            })
        })
    }

    fn mark_invite_used(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.exec("UPDATE fan_invites SET used_at = coalesce(used_at, $2) WHERE id = $1", &[&id, &now])?;
        Ok(())
    }

    fn revoke_fan_access(&self, agent_id: i64, handle: &str, now: DateTime<Utc>) -> Result<(usize, usize)> {
        self.run(async move {
            let mut client = self.store.client().await?;
            let tx = client.transaction().await?;
            let invites = tx
                .execute(
                    "UPDATE fan_invites SET revoked_at = $3 WHERE agent_id = $1 AND handle = $2 AND revoked_at IS NULL",
                    &[&agent_id, &handle, &now],
                )
                .await?;
            let sessions = tx
                .execute(
                    "UPDATE fan_sessions SET revoked_at = $3
                     WHERE agent_id = $1 AND revoked_at IS NULL AND fan_id IN (SELECT id FROM fans WHERE handle = $2)",
                    &[&agent_id, &handle, &now],
                )
                .await?;
            tx.commit().await?;
            Ok((invites as usize, sessions as usize))
        })
    }

    fn create_device(&self, name: &str, token_hash: &str, scopes: &[String]) -> Result<Device> {
        let sql = format!("INSERT INTO devices (name, token_hash, scopes) VALUES ($1, $2, $3) RETURNING {DEVICE}");
        Ok(self.opt(&sql, &[&name, &token_hash, &json(scopes)], device)?.expect("inserted"))
    }

    fn device_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Device>> {
        let sql = format!("UPDATE devices SET last_used_at = $2 WHERE token_hash = $1 RETURNING {DEVICE}");
        self.opt(&sql, &[&token_hash, &now], device)
    }

    fn devices(&self) -> Result<Vec<Device>> {
        self.all(&format!("SELECT {DEVICE} FROM devices ORDER BY id DESC"), &[], device)
    }

    fn revoke_device(&self, id: i64, now: DateTime<Utc>) -> Result<Device> {
        let sql = format!("UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING {DEVICE}");
        self.opt(&sql, &[&id, &now], device)?.ok_or_else(|| Error::not_found("device", id))
    }

    fn create_pairing(&self, code_hash: &str, scopes: &[String], expires_at: DateTime<Utc>) -> Result<()> {
        self.exec(
            "INSERT INTO pairing_codes (code_hash, scopes, expires_at) VALUES ($1, $2, $3)",
            &[&code_hash, &json(scopes), &expires_at],
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
        self.run(async move {
            let mut client = self.store.client().await?;
            let tx = client.transaction().await?;
            // The row is locked until this transaction ends: a redemption racing this one
            // waits, then finds the code used (READ COMMITTED re-reads the locked row).
            let Some(code) = tx
                .query_opt(
                    "SELECT scopes FROM pairing_codes WHERE code_hash = $1 AND device_id IS NULL AND expires_at > $2
                     FOR UPDATE",
                    &[&code_hash, &now],
                )
                .await?
            else {
                return Ok(None);
            };
            let scopes: serde_json::Value = code.get(0);
            let row = tx
                .query_one(
                    &format!("INSERT INTO devices (name, token_hash, scopes) VALUES ($1, $2, $3) RETURNING {DEVICE}"),
                    &[&name, &token_hash, &scopes],
                )
                .await?;
            let paired = device(&row)?;
            tx.execute("UPDATE pairing_codes SET device_id = $2 WHERE code_hash = $1", &[&code_hash, &paired.id])
                .await?;
            tx.commit().await?;
            Ok(Some(paired))
        })
    }
}

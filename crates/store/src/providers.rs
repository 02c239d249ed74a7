//! Language-model provider settings (never their keys: those live in the OS keychain)
//! and the response cache.

use crate::escalations::timestamp;
use crate::util::json_value;
use crate::util::Cached;
use crate::{Error, Result, Store};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderSettings {
    pub id: i64,
    pub name: String,
    /// "openai" (any OpenAI-compatible server) or "anthropic".
    pub kind: String,
    pub base_url: String,
    pub model: String,
    /// Lower is tried first.
    pub priority: i64,
    pub enabled: bool,
    /// context_window, input_per_mtok, output_per_mtok.
    pub options: serde_json::Value,
}

const COLS: &str = "id, name, kind, base_url, model, priority, enabled, options";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProviderSettings> {
    Ok(ProviderSettings {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        base_url: r.get(3)?,
        model: r.get(4)?,
        priority: r.get(5)?,
        enabled: r.get(6)?,
        options: json_value(r, 7)?,
    })
}

impl Store {
    pub fn add_provider(&self, p: &ProviderSettings) -> Result<ProviderSettings> {
        let conn = self.conn();
        let r = conn.query_row(
            &format!(
                "INSERT INTO provider_settings (name, kind, base_url, model, priority, enabled, options)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {COLS}"
            ),
            params![
                p.name.trim(),
                p.kind,
                p.base_url.trim(),
                p.model.trim(),
                p.priority,
                p.enabled,
                p.options.to_string()
            ],
            row,
        );
        match r {
            Err(rusqlite::Error::SqliteFailure(e, msg)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                let detail = msg.unwrap_or_default();
                if detail.contains("UNIQUE") {
                    Err(Error::Conflict { what: "provider", key: p.name.trim().to_string() })
                } else {
                    Err(Error::Invalid { what: "provider", detail })
                }
            }
            other => Ok(other?),
        }
    }

    /// Providers in the order they are tried.
    pub fn list_providers(&self) -> Result<Vec<ProviderSettings>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(&format!("SELECT {COLS} FROM provider_settings ORDER BY priority, id"))?;
        let rows = stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn provider(&self, name: &str) -> Result<ProviderSettings> {
        self.read()?
            .query_row(&format!("SELECT {COLS} FROM provider_settings WHERE name = ?1"), [name.trim()], row)
            .optional()?
            .ok_or_else(|| Error::NotFound { what: "provider", key: name.trim().to_string() })
    }

    /// Move a provider in the fallback order (lower is tried first).
    pub fn set_provider_priority(&self, name: &str, priority: i64) -> Result<ProviderSettings> {
        let p = self.provider(name)?;
        self.conn().exec("UPDATE provider_settings SET priority = ?2 WHERE id = ?1", params![p.id, priority])?;
        self.provider(name)
    }

    pub fn remove_provider(&self, name: &str) -> Result<ProviderSettings> {
        let p = self.provider(name)?;
        self.conn().exec("DELETE FROM provider_settings WHERE id = ?1", [p.id])?;
        Ok(p)
    }

    /// A cached response that has not expired.
    pub fn cache_get(&self, key: &str, now: DateTime<Utc>) -> Result<Option<(String, String)>> {
        Ok(self
            .conn()
            .row(
                "SELECT provider, response FROM llm_cache WHERE key = ?1 AND expires_at > ?2",
                params![key, timestamp(now)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    pub fn cache_put(&self, key: &str, provider: &str, response: &str, expires_at: DateTime<Utc>) -> Result<()> {
        let conn = self.conn();
        conn.exec(
            "INSERT INTO llm_cache (key, provider, response, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key) DO UPDATE SET provider = excluded.provider, response = excluded.response,
                 expires_at = excluded.expires_at",
            params![key, provider, response, timestamp(expires_at)],
        )?;
        conn.exec("DELETE FROM llm_cache WHERE expires_at <= ?1", [timestamp(Utc::now())])?;
        Ok(())
    }
}

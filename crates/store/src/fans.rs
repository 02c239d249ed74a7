use crate::util::Cached;
use crate::{util::parsed, Error, Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::{Layer, Tier};
use rusqlite::OptionalExtension;
use serde::Serialize;

/// Someone who writes to the creator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Fan {
    pub id: i64,
    pub handle: String,
    pub tier: Tier,
    pub layer: Layer,
    pub created_at: DateTime<Utc>,
}

fn fan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Fan> {
    Ok(Fan { id: r.get(0)?, handle: r.get(1)?, tier: parsed(r, 2)?, layer: parsed(r, 3)?, created_at: parsed(r, 4)? })
}

impl Store {
    /// Add a fan, or update the tier and layer of an existing handle.
    pub fn upsert_fan(&self, handle: &str, tier: Tier, layer: Layer) -> Result<Fan> {
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

    /// Add a new fan; a handle that exists (after trimming) is a conflict, so adding
    /// never changes what an existing fan may see.
    pub fn insert_fan(&self, handle: &str, tier: Tier, layer: Layer) -> Result<Fan> {
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

    /// Change an existing fan's tier and/or layer.
    pub fn update_fan(&self, handle: &str, tier: Option<Tier>, layer: Option<Layer>) -> Result<Fan> {
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

    pub fn list_fans(&self) -> Result<Vec<Fan>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached("SELECT id, handle, tier, layer, created_at FROM fans ORDER BY handle")?;
        let rows = stmt.query_map([], fan_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn fan_by_handle(&self, handle: &str) -> Result<Option<Fan>> {
        Ok(self
            .read()?
            .row("SELECT id, handle, tier, layer, created_at FROM fans WHERE handle = ?1", [handle.trim()], fan_row)
            .optional()?)
    }

    pub fn fan(&self, id: i64) -> Result<Fan> {
        self.read()?
            .row("SELECT id, handle, tier, layer, created_at FROM fans WHERE id = ?1", [id], fan_row)
            .optional()?
            .ok_or_else(|| Error::not_found("fan", id))
    }
}

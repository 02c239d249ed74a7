use crate::{util::parse_layer, Error, Result, Store};
use fanline_engine::{Layer, Tier};
use rusqlite::OptionalExtension;
use serde::Serialize;

/// Someone who writes to the creator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fan {
    pub id: i64,
    pub handle: String,
    pub tier: Tier,
    pub layer: Layer,
    pub created_at: String,
}

fn fan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_fan(t: (i64, String, String, String, String)) -> Result<Fan> {
    Ok(Fan { id: t.0, handle: t.1, tier: t.2.parse()?, layer: parse_layer(&t.3)?, created_at: t.4 })
}

impl Store {
    /// Add a fan, or update the tier and layer of an existing handle.
    pub fn upsert_fan(&self, handle: &str, tier: Tier, layer: Layer) -> Result<Fan> {
        let handle = handle.trim();
        if handle.is_empty() {
            return Err(Error::Invalid { what: "fan handle", detail: "it is empty".into() });
        }
        let t = self.conn().query_row(
            "INSERT INTO fans (handle, tier, layer) VALUES (?1, ?2, ?3)
             ON CONFLICT (handle) DO UPDATE SET tier = excluded.tier, layer = excluded.layer
             RETURNING id, handle, tier, layer, created_at",
            rusqlite::params![handle, tier.as_str(), layer.as_str()],
            fan_row,
        )?;
        to_fan(t)
    }

    pub fn list_fans(&self) -> Result<Vec<Fan>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, handle, tier, layer, created_at FROM fans ORDER BY handle")?;
        let rows = stmt.query_map([], fan_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(to_fan).collect()
    }

    pub fn fan_by_handle(&self, handle: &str) -> Result<Option<Fan>> {
        self.conn()
            .query_row(
                "SELECT id, handle, tier, layer, created_at FROM fans WHERE handle = ?1",
                [handle.trim()],
                fan_row,
            )
            .optional()?
            .map(to_fan)
            .transpose()
    }
}

use crate::util::parsed;
use chrono::{DateTime, Utc};
use fanline_engine::{Layer, Tier};
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

pub(crate) fn fan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Fan> {
    Ok(Fan { id: r.get(0)?, handle: r.get(1)?, tier: parsed(r, 2)?, layer: parsed(r, 3)?, created_at: parsed(r, 4)? })
}

//! Sync conflicts, the store's side (docs/sync.md): the losing value of a conflict is
//! kept for the creator, who settles it.

use crate::util::Cached;
use crate::{Result, Store};
use fanline_sync::ConflictData;
use rusqlite::{params, Connection, OptionalExtension};

impl Store {
    /// A conflict's state for sync.
    pub fn conflict_data(&self, uid: &str) -> Result<Option<ConflictData>> {
        let conn = self.read()?;
        conflict_data(&conn, uid)
    }

    /// Conflicts kept here and not settled yet.
    pub fn open_conflicts(&self) -> Result<u64> {
        let conn = self.read()?;
        let n: i64 = conn.row("SELECT count(*) FROM sync_conflicts WHERE resolution IS NULL", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Every conflict kept here (unsettled first, then newest first).
    pub fn conflicts(&self) -> Result<Vec<(String, ConflictData)>> {
        let conn = self.read()?;
        let mut stmt =
            conn.prepare_cached("SELECT uid FROM sync_conflicts ORDER BY resolution IS NOT NULL, id DESC")?;
        let uids: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        uids.into_iter().filter_map(|u| conflict_data(&conn, &u).transpose().map(|c| c.map(|c| (u, c)))).collect()
    }

    /// Keep a conflict (the losing value) for the creator; returns its uid.
    pub fn add_conflict(&self, c: &ConflictData) -> Result<String> {
        Ok(self.conn().row(
            "INSERT INTO sync_conflicts (kind, entity, entity_uid, field, kept, winner, device, hlc, question, resolution)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING uid",
            params![c.kind, c.entity, c.entity_uid, c.field, c.kept, c.winner, c.device, c.hlc, c.question, c.resolution],
            |r| r.get(0),
        )?)
    }

    /// Settle a conflict.
    pub fn resolve_conflict(&self, uid: &str, resolution: &str) -> Result<()> {
        let n =
            self.conn().exec("UPDATE sync_conflicts SET resolution = ?2 WHERE uid = ?1", params![uid, resolution])?;
        if n == 0 {
            return Err(crate::Error::NotFound { what: "conflict", key: uid.to_string() });
        }
        Ok(())
    }
}

fn conflict_data(conn: &Connection, uid: &str) -> Result<Option<ConflictData>> {
    Ok(conn
        .row(
            "SELECT kind, entity, entity_uid, field, kept, winner, device, hlc, question, resolution
             FROM sync_conflicts WHERE uid = ?1",
            [uid],
            |r| {
                Ok(ConflictData {
                    kind: r.get(0)?,
                    entity: r.get(1)?,
                    entity_uid: r.get(2)?,
                    field: r.get(3)?,
                    kept: r.get(4)?,
                    winner: r.get(5)?,
                    device: r.get(6)?,
                    hlc: r.get(7)?,
                    question: r.get(8)?,
                    resolution: r.get(9)?,
                })
            },
        )
        .optional()?)
}

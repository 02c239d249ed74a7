use crate::util::Cached;
use crate::{Error, Result};
use rusqlite::Connection;
use std::path::Path;

/// One schema migration: a plain SQL file of `migrations/`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Apply, each in its own transaction, every migration newer than the database.
pub(crate) fn apply(conn: &Connection, path: &Path) -> Result<()> {
    let at = |e| Error::from_sqlite_at(path, e);
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ) STRICT;",
    )
    .map_err(at)?;
    let current: u32 = conn.row("PRAGMA user_version", [], |r| r.get(0)).map_err(at)?;
    let known = MIGRATIONS.len() as u32;
    if current > known {
        return Err(Error::TooNew { path: path.to_path_buf(), found: current, known });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let fail = |e: rusqlite::Error| Error::Migration { name: m.name.to_string(), detail: e.to_string() };
        conn.execute_batch("BEGIN IMMEDIATE").map_err(at)?;
        let result = conn
            .execute_batch(m.sql)
            .and_then(|_| {
                conn.exec(
                    "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                    rusqlite::params![m.version, m.name],
                )
            })
            .and_then(|_| conn.pragma_update(None, "user_version", m.version));
        match result {
            Ok(()) => conn.execute_batch("COMMIT").map_err(fail)?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(fail(e));
            }
        }
        tracing::info!(migration = m.name, "applied schema migration");
    }
    Ok(())
}

//! Fanline's SQLite store.
//!
//! One file in the data directory, WAL mode, foreign keys on, a busy timeout so the
//! desktop app and the CLI can share it. The schema is the plain SQL files of
//! `migrations/`, applied in order when the store is opened.

mod access;
mod agent_store;
mod agents;
mod backup;
mod canonical;
mod canonical_edit;
mod conversations;
mod documents;
mod error;
mod escalation_groups;
mod escalations;
mod examples;
mod export;
mod fans;
mod group;
mod hub;
mod index_log;
mod messages;
mod metrics;
mod migrate;
mod models;
mod offers;
mod providers;
mod replay;
mod routing;
#[cfg(feature = "suite")]
pub mod suite;
mod sync;
mod sync_apply;
mod sync_conflicts;
mod sync_digest;
mod sync_documents;
mod sync_fields;
mod sync_messages;
mod unrouted;
mod util;

pub use access::{HubAccess, HubStore};
pub use agent_store::Agents;
pub use agents::Agent;
pub use backup::check_file;
pub use canonical::{CanonicalAnswer, CanonicalReplyParts, CanonicalSummary, CanonicalVariant, NewCanonical};
pub use conversations::{Conversations, TypedDecisions};
pub use documents::{ChunkRecord, DocumentRecord, IndexChange, NewChunk, NewDocument};
pub use error::{Error, Result};
pub use escalations::{timestamp, AcceptWrite, Acceptance, Accepted, CapCheck, Escalation, NewEscalation};
pub use export::{ExportReport, EXPORT_VERSION};
pub use fans::Fan;
pub use hub::{Device, FanSession, Invite, Posted, Site};
pub use index_log::IndexDelta;
pub use messages::{Decision, Message, MessageKind, NewDecision, PreviousTurn, Role};
pub use metrics::{RawMetrics, TopAnswer};
pub use migrate::{Migration, MIGRATIONS};
pub use models::{EmbeddedTexts, Reembedded};
pub use offers::{Offers, TypedOffers};
pub use providers::ProviderSettings;
pub use replay::RoutedMessage;
pub use routing::{NewRouting, ReuseExample, RoutingWritten};
pub use sync::{applying, register_functions, SyncPosition, SyncTable, WallClock};
pub use sync_apply::Incoming;
pub use sync_documents::DocumentState;
pub use sync_fields::{RulesData, RULES};
pub use unrouted::Unrouted;

use crate::util::Cached;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// A handle to the database. Cheap to share behind an `Arc`. Writes go through one
/// connection, taken for each call's duration; reads take one of a small pool of
/// read-only connections, so concurrent reads (the routing plan's steps, the desktop
/// app's screens) do not wait for each other or for a writer (WAL lets readers and a
/// writer go on at once).
pub struct Store {
    conn: Mutex<group::Writer>,
    /// Writers waiting for the write connection (group commit).
    joining: group::Joining,
    /// None: reads share the write connection.
    readers: Option<r2d2::Pool<Readers>>,
    path: PathBuf,
    /// This node's clock for sync (the triggers read it through `fanline_hlc()`).
    sync_clock: std::sync::Arc<sync::SyncClock>,
}

/// A connection to read with: one of the pool's, or the write connection when the
/// store has no readers.
pub(crate) enum ReadConn<'a> {
    Pooled(r2d2::PooledConnection<Readers>),
    Shared(group::WriteConn<'a>),
}

impl std::ops::Deref for ReadConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            ReadConn::Pooled(c) => c,
            ReadConn::Shared(c) => c,
        }
    }
}

/// Opens the read-only connections of the pool.
#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
}

impl r2d2::ManageConnection for Readers {
    type Connection = Connection;
    type Error = rusqlite::Error;

    fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(util::STATEMENT_CACHE);
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut Connection) -> rusqlite::Result<()> {
        conn.execute_batch("")
    }

    fn has_broken(&self, _: &mut Connection) -> bool {
        false
    }
}

/// Read-only connections kept open by default: the plan's concurrent steps and a few
/// callers.
pub const DEFAULT_READERS: u32 = 4;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// The file that says an integrity check of `db` failed.
fn damaged_marker(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".damaged");
    db.with_file_name(name)
}

/// SQLite's quick check: "ok", or what it found (all of it, one finding per line).
fn quick_check(conn: &Connection) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare_cached("PRAGMA quick_check")?;
    let found = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(found.join("\n"))
}

impl Store {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Self::open_with_readers(path, DEFAULT_READERS)
    }

    /// Open with `readers` read-only connections (0: reads share the write connection,
    /// one at a time).
    pub fn open_with_readers(path: impl AsRef<Path>, readers: u32) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let marker = damaged_marker(&path);
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::from_sqlite_at(&path, e))?;
        configure(&conn).map_err(|e| Error::from_sqlite_at(&path, e))?;
        if marker.exists() {
            // An integrity check failed earlier: write nothing until it passes again
            // (a backup restored, the file repaired).
            let found = quick_check(&conn).map_err(|e| Error::from_sqlite_at(&path, e))?;
            if found != "ok" {
                return Err(Error::Corrupt { path, detail: format!("an integrity check failed: {found}") });
            }
            let _ = std::fs::remove_file(&marker);
        }
        let sync_clock = sync::SyncClock::new();
        sync::register(&conn, &sync_clock).map_err(|e| Error::from_sqlite_at(&path, e))?;
        migrate::apply(&conn, &path)?;
        sync::load(&conn, &sync_clock).map_err(|e| Error::from_sqlite_at(&path, e))?;
        let readers = (readers > 0).then(|| {
            r2d2::Pool::builder()
                .max_size(readers)
                .min_idle(Some(0))
                .connection_timeout(Duration::from_secs(30))
                .build_unchecked(Readers { path: path.clone() })
        });
        Ok(Store { conn: Mutex::new(group::Writer::new(conn)), joining: Default::default(), readers, path, sync_clock })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A connection to read with: a read-only one from the pool, or the write one.
    pub(crate) fn read(&self) -> Result<ReadConn<'_>> {
        match &self.readers {
            Some(pool) => pool
                .get()
                .map(ReadConn::Pooled)
                .map_err(|e| Error::Open { path: self.path.clone(), detail: e.to_string() }),
            None => Ok(ReadConn::Shared(self.conn())),
        }
    }

    /// A setting of this data directory kept in the database (`None`: never set).
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(util::meta(&*self.read()?, &format!("setting.{key}"))?)
    }

    /// Set (or with `None` clear) a setting of this data directory.
    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        let (conn, key) = (self.conn(), format!("setting.{key}"));
        match value {
            Some(v) => util::put_meta(&conn, &key, v)?,
            None => {
                conn.exec("DELETE FROM meta WHERE key = ?1", [key])?;
            }
        }
        Ok(())
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self.conn().row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The names of the migrations recorded as applied, in order.
    pub fn applied_migrations(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT name FROM schema_migrations ORDER BY version")?;
        let names = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(names)
    }

    /// The CREATE statements of every table, index and trigger, sorted by name: a
    /// stable text to snapshot the schema with.
    pub fn schema_sql(&self) -> Result<String> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
             ORDER BY type, name",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows.join(";\n\n") + ";\n")
    }

    /// The counter that moves with every change to indexed content (chunks and
    /// canonical questions). A derived index stamped with another value is stale.
    pub fn index_generation(&self) -> Result<u64> {
        util::generation(&*self.read()?)
    }

    /// Run SQLite's integrity check; `Ok(())` when the file is sound. A failure leaves
    /// a marker beside the database, and every later open refuses the file (so nothing
    /// more is written to it) until the check passes again.
    pub fn integrity_check(&self) -> Result<()> {
        let found = match quick_check(&self.conn()) {
            Ok(found) => found,
            Err(e) => Error::from_sqlite_at(&self.path, e).to_string(),
        };
        if found == "ok" {
            return Ok(());
        }
        let _ = std::fs::write(damaged_marker(&self.path), &found);
        Err(Error::Corrupt { path: self.path.clone(), detail: found })
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(util::STATEMENT_CACHE);
    // The first statement that reads the file: a file that is not a database fails here.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "recursive_triggers", "OFF")?;
    Ok(())
}

//! The hub's store on PostgreSQL, for several `fanline serve` processes sharing one
//! database (issue 16). This crate holds what must stay exact across processes, each
//! held by the database rather than by a process:
//!
//! - [`PgStore::migrate`]: `migrations/postgres/NNNN_*.sql`, in order, once, under an
//!   advisory lock (processes starting together apply them once);
//! - [`PgStore::accept_escalation`]: caps by counter rows raised by a conditional
//!   `UPDATE … WHERE used < cap` (a count-then-insert went over the cap under READ
//!   COMMITTED: design brief, section 4);
//! - [`PgStore::claim_idempotency`]: an Idempotency-Key unique per agent and fan;
//! - [`PgStore::append_change`]: the change log's number taken from `sync_head` inside
//!   the writing transaction, so a reader never passes a change that commits later
//!   with a smaller number (a `bigserial` cursor skips it), announced to every
//!   process's [`Listener`] (LISTEN/NOTIFY) at commit;
//! - [`PgStore::rate_hit`]: rate limits counted in the database;
//! - [`PgStore::nearest`]: pgvector's HNSW search filtered by agent and layer, with
//!   iterative scans (for agents too large for each process's in-memory index).
//!
//! [`PgHub`] is this store behind the hub's store interface, which is synchronous like
//! the core: so far `Agents` (agents, rules, the last valid policy), `HubAccess`
//! (fans, sessions, invites, sites, devices),
//! `Conversations` (messages, idempotent posting, decisions) and `Offers` (escalations
//! from offer to queue, acceptance within the caps), tested by the suite SQLite's
//! store runs too (`tests/suite.rs`), and routing's write (the decision with its reply
//! and offer). Not yet: the interface's other areas (declining and answering,
//! knowledge, agents, the sync log).

mod access;
mod agents;
mod caps;
mod changes;
mod conversations;
mod hub;
mod idempotency;
pub mod listen;
mod offers;
mod rate;
pub mod testing;
mod vectors;

pub use changes::Change;
pub use fanline_store::{Acceptance, CapCheck};
pub use hub::PgHub;
pub use idempotency::Claim;
pub use listen::Listener;
pub use rate::RateHit;
pub use vectors::{VectorRow, VectorSearch};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use fanline_engine::{Layer, Tier};
use std::str::FromStr;

/// What went wrong in the PostgreSQL store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("PostgreSQL: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("PostgreSQL connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("the database address is not valid: {0}")]
    Config(String),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: i64 },
    #[error("{0}")]
    Invalid(String),
    /// What the hub's store interface says went wrong (a conflict, a thing not found).
    #[error(transparent)]
    Store(#[from] fanline_store::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

/// The migrations, in order (a test checks that every file of the folder is here).
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "0001_hub.sql", include_str!("../../../migrations/postgres/0001_hub.sql")),
    (2, "0002_rate_limits.sql", include_str!("../../../migrations/postgres/0002_rate_limits.sql")),
    (3, "0003_vectors.sql", include_str!("../../../migrations/postgres/0003_vectors.sql")),
    (4, "0004_access.sql", include_str!("../../../migrations/postgres/0004_access.sql")),
    (5, "0005_conversations.sql", include_str!("../../../migrations/postgres/0005_conversations.sql")),
    (6, "0006_offers.sql", include_str!("../../../migrations/postgres/0006_offers.sql")),
    (7, "0007_canonical_answers.sql", include_str!("../../../migrations/postgres/0007_canonical_answers.sql")),
    (8, "0008_agents.sql", include_str!("../../../migrations/postgres/0008_agents.sql")),
    (9, "0009_conversation_news.sql", include_str!("../../../migrations/postgres/0009_conversation_news.sql")),
];

/// Connections to one PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Connect to `url`: `postgres://user@host/db` or `host=/run/postgresql dbname=…`
    /// (libpq's forms), with at most `connections` connections.
    pub fn connect(url: &str, connections: usize) -> Result<PgStore> {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| Error::Config(e.to_string()))?;
        Self::with_config(config, connections)
    }

    /// Connect to the database `dbname` of the server at `url` (whatever database `url`
    /// names).
    pub fn connect_to(url: &str, dbname: &str, connections: usize) -> Result<PgStore> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| Error::Config(e.to_string()))?;
        config.dbname(dbname);
        Self::with_config(config, connections)
    }

    fn with_config(config: tokio_postgres::Config, connections: usize) -> Result<PgStore> {
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool =
            Pool::builder(manager).max_size(connections.max(1)).build().map_err(|e| Error::Config(e.to_string()))?;
        Ok(PgStore { pool })
    }

    /// Create the database `name` (letters, digits and `_`) on this server, dropping
    /// one of that name first when `replace`.
    pub async fn create_database(&self, name: &str, replace: bool) -> Result<()> {
        let client = self.client().await?;
        if replace {
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db_name(name)?)).await?;
        }
        client.batch_execute(&format!("CREATE DATABASE {}", db_name(name)?)).await?;
        Ok(())
    }

    /// Drop the database `name` if it exists.
    pub async fn drop_database(&self, name: &str) -> Result<()> {
        self.client().await?.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db_name(name)?)).await?;
        Ok(())
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object> {
        Ok(self.pool.get().await?)
    }

    /// Apply the migrations this database lacks, in order, in one transaction under an
    /// advisory lock; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('fanline migrations'))", &[]).await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
        let have: Option<i32> = tx.query_one("SELECT max(version) FROM schema_migrations", &[]).await?.get(0);
        let have = have.unwrap_or(0);
        let mut applied = 0;
        for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v as i32 > have) {
            tx.batch_execute(sql).await?;
            tx.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[&(*version as i32), name])
                .await?;
            applied += 1;
        }
        tx.commit().await?;
        Ok(applied)
    }

    /// The schema version (the newest migration applied).
    pub async fn schema_version(&self) -> Result<u32> {
        let v: Option<i32> =
            self.client().await?.query_one("SELECT max(version) FROM schema_migrations", &[]).await?.get(0);
        Ok(v.unwrap_or(0) as u32)
    }

    /// Create an agent (or find it by name); returns its id.
    pub async fn create_agent(&self, name: &str) -> Result<i64> {
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO agents (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = excluded.name
                 RETURNING id",
                &[&name],
            )
            .await?;
        Ok(row.get(0))
    }

    /// Add a fan, or update its tier and layer; returns its id.
    pub async fn upsert_fan(&self, handle: &str, tier: Tier, layer: Layer) -> Result<i64> {
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO fans (handle, tier, layer) VALUES ($1, $2, $3)
                 ON CONFLICT (handle) DO UPDATE SET tier = excluded.tier, layer = excluded.layer RETURNING id",
                &[&handle, &tier.as_str(), &layer.as_str()],
            )
            .await?;
        Ok(row.get(0))
    }
}

/// A stored text as `T` (a tier, a path, a status…); one that does not parse is invalid.
pub(crate) fn parse<T: FromStr>(text: &str, what: &'static str) -> fanline_store::Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| fanline_store::Error::Invalid { what, detail: e.to_string() })
}

/// A database name this store makes: letters, digits and `_` (never quoted).
fn db_name(name: &str) -> Result<&str> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::Invalid(format!("{name:?} is not a database name this store makes")));
    }
    Ok(name)
}

//! `PgHub`: the PostgreSQL store seen through the hub's store interface
//! (`fanline_store::HubAccess`, …), which is synchronous like the core that calls it
//! (on the hub's blocking threads). Each call runs its queries on a runtime of its
//! own, so it can be called from any thread that is not itself running async code: a
//! blocking thread of the server, a test's threads.

use crate::{Error, PgStore};
use std::future::Future;
use std::sync::Arc;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// The PostgreSQL store behind the hub's store interface. Cheap to clone.
#[derive(Clone)]
pub struct PgHub {
    pub(crate) store: PgStore,
    runtime: Arc<Runtime>,
}

/// The runtime the pool's connections live on; shut down without waiting when the
/// last handle goes (which may happen inside async code, where a blocking shutdown
/// would panic).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl PgHub {
    /// Connect to `url` with at most `connections` connections and apply the
    /// migrations the database lacks.
    pub fn open(url: &str, connections: usize) -> crate::Result<PgHub> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fanline-pg")
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("cannot start the PostgreSQL runtime: {e}")))?;
        let store = PgStore::connect(url, connections)?;
        let hub = PgHub { store, runtime: Arc::new(Runtime(Some(runtime))) };
        hub.run(hub.store.migrate()).map_err(|e| Error::Config(e.to_string()))?;
        Ok(hub)
    }

    /// The async store underneath (caps, idempotency keys, the change log, vectors).
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// One row of `sql` read with `f`, if any.
    pub(crate) fn opt<T>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        f: impl FnOnce(&Row) -> fanline_store::Result<T>,
    ) -> fanline_store::Result<Option<T>> {
        self.run(
            async move { Ok(self.store.client().await?.query_opt(sql, params).await?.as_ref().map(f).transpose()?) },
        )
    }

    /// Every row of `sql`, each read with `f`.
    pub(crate) fn all<T>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        f: impl Fn(&Row) -> fanline_store::Result<T>,
    ) -> fanline_store::Result<Vec<T>> {
        self.run(async move {
            let rows = self.store.client().await?.query(sql, params).await?;
            Ok(rows.iter().map(f).collect::<fanline_store::Result<_>>()?)
        })
    }

    /// Run `sql`; returns how many rows it changed.
    pub(crate) fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> fanline_store::Result<u64> {
        self.run(async move { Ok(self.store.client().await?.execute(sql, params).await?) })
    }

    /// Run `f` to completion on this store's runtime, its error as the interface's.
    pub(crate) fn run<T>(&self, f: impl Future<Output = crate::Result<T>>) -> fanline_store::Result<T> {
        Ok(self.runtime.0.as_ref().expect("the runtime lives as long as the store").block_on(f)?)
    }
}

impl From<Error> for fanline_store::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Store(e) => e,
            Error::NotFound { what, id } => fanline_store::Error::not_found(what, id),
            Error::Invalid(detail) => fanline_store::Error::Invalid { what: "value", detail },
            Error::Db(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                fanline_store::Error::Conflict { what: "row", key: constraint(&e) }
            }
            e => fanline_store::Error::Backend(Box::new(e)),
        }
    }
}

/// The constraint a unique violation broke, for the message.
fn constraint(e: &tokio_postgres::Error) -> String {
    e.as_db_error().and_then(|d| d.constraint()).unwrap_or("a unique key").to_string()
}

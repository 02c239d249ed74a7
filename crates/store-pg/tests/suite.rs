//! The shared suite of the hub's store (`fanline_store::suite`) on PostgreSQL: the
//! same functions `store/tests/suite.rs` runs on SQLite, here through `PgHub` on a
//! fresh database of the test server (skipped without one, unless FANLINE_REQUIRE_PG=1).

use fanline_store::suite;
use fanline_store_pg::testing::server;
use fanline_store_pg::{PgHub, PgStore};

/// A fresh database on the test server, opened as the hub opens it (migrated).
fn fresh(server: &str, name: &str) -> (PgHub, String) {
    let db = format!("fanline_suite_{name}_{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(PgStore::connect(server, 1).unwrap().create_database(&db, true)).unwrap();
    (PgHub::open(&format!("{server} dbname={db}"), 8).unwrap(), db)
}

#[test]
fn hub_access_on_postgres() {
    let Some(server) = server() else { return };
    let (hub, _db) = fresh(&server, "access");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let agents = rt.block_on(async {
        [hub.store().create_agent("zoe").await.unwrap(), hub.store().create_agent("max").await.unwrap()]
    });
    suite::access(&hub, agents);
}

#[test]
fn conversations_on_postgres() {
    let Some(server) = server() else { return };
    let (hub, _db) = fresh(&server, "conversations");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let agents = rt.block_on(async {
        [hub.store().create_agent("zoe").await.unwrap(), hub.store().create_agent("max").await.unwrap()]
    });
    suite::conversations(&hub, agents);
}

#[test]
fn offers_on_postgres() {
    let Some(server) = server() else { return };
    let (hub, _db) = fresh(&server, "offers");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let agents = rt.block_on(async {
        [hub.store().create_agent("zoe").await.unwrap(), hub.store().create_agent("max").await.unwrap()]
    });
    suite::offers(&hub, agents);
}

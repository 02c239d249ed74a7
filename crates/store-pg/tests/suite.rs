//! The shared suite of the hub's store (`fanline_store::suite`) on PostgreSQL: the
//! same functions `store/tests/suite.rs` runs on SQLite, here through `PgHub` on a
//! fresh database of the test server for each test (skipped without a server, unless
//! FANLINE_REQUIRE_PG=1).

use fanline_store::suite;
use fanline_store_pg::testing::server;
use fanline_store_pg::{PgHub, PgStore};

/// A fresh database on the test server, opened as the hub opens it (migrated); `None`
/// without a server.
fn fresh(name: &str) -> Option<PgHub> {
    let server = server()?;
    let db = format!("fanline_suite_{name}_{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(PgStore::connect(&server, 1).unwrap().create_database(&db, true)).unwrap();
    Some(PgHub::open(&format!("{server} dbname={db}"), 8).unwrap())
}

#[test]
fn agents_on_postgres() {
    let Some(hub) = fresh("agents") else { return };
    suite::agents(&hub);
}

#[test]
fn hub_access_on_postgres() {
    let Some(hub) = fresh("access") else { return };
    suite::access(&hub, suite::two_agents(&hub));
}

#[test]
fn conversations_on_postgres() {
    let Some(hub) = fresh("conversations") else { return };
    suite::conversations(&hub, suite::two_agents(&hub));
}

#[test]
fn offers_on_postgres() {
    let Some(hub) = fresh("offers") else { return };
    suite::offers(&hub, suite::two_agents(&hub));
}

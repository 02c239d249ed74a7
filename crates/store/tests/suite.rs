//! The shared suite of the hub's store (`fanline_store::suite`) on SQLite: a real
//! database file in a temporary directory, new for each test.
//! `store-pg/tests/suite.rs` runs the same suite on PostgreSQL.

use fanline_store::{suite, Store};

fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("fanline.db")).unwrap();
    (dir, store)
}

#[test]
fn agents_on_sqlite() {
    let (_dir, store) = fresh();
    suite::agents(&store);
}

#[test]
fn hub_access_on_sqlite() {
    let (_dir, store) = fresh();
    suite::access(&store, suite::two_agents(&store));
}

#[test]
fn conversations_on_sqlite() {
    let (_dir, store) = fresh();
    suite::conversations(&store, suite::two_agents(&store));
}

#[test]
fn offers_on_sqlite() {
    let (_dir, store) = fresh();
    suite::offers(&store, suite::two_agents(&store));
}

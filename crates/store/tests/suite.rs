//! The shared suite of the hub's store (`fanline_store::suite`) on SQLite: a real
//! database file in a temporary directory. `store-pg/tests/suite.rs` runs the same
//! suite on PostgreSQL.

use fanline_store::{suite, Store};

#[test]
fn hub_access_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("fanline.db")).unwrap();
    let agents = [store.create_agent("zoe").unwrap().id, store.create_agent("max").unwrap().id];
    suite::access(&store, agents);
}

#[test]
fn conversations_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("fanline.db")).unwrap();
    let agents = [store.create_agent("zoe").unwrap().id, store.create_agent("max").unwrap().id];
    suite::conversations(&store, agents);
}

#[test]
fn offers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("fanline.db")).unwrap();
    let agents = [store.create_agent("zoe").unwrap().id, store.create_agent("max").unwrap().id];
    suite::offers(&store, agents);
}

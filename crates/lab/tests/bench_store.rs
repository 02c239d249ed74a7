//! `fanline bench store`: a fan's message written through the hub's store interface on
//! SQLite, and on the test command's PostgreSQL when there is one (FANLINE_TEST_PG).

use fanline_lab::bench_store::{run, StoreBenchOptions};
use fanline_store_pg::testing::server;

#[test]
fn every_backend_is_measured_at_every_concurrency() {
    let database = server();
    let o = StoreBenchOptions { database: database.clone(), concurrency: vec![1, 3], messages: 31 };
    let rows = run(&o, &mut |_| {}).unwrap();
    let backends = if database.is_some() { vec!["SQLite", "PostgreSQL"] } else { vec!["SQLite"] };
    assert_eq!(rows.len(), backends.len() * 2);
    for (r, (b, n)) in rows.iter().zip(backends.iter().flat_map(|b| [(b, 1), (b, 3)])) {
        assert_eq!((r.backend.as_str(), r.concurrency, r.messages), (*b, n, 31), "{r:?}");
        assert!(r.per_second > 0.0 && r.p50_ms > 0.0 && r.p99_ms >= r.p50_ms, "{r:?}");
    }
}

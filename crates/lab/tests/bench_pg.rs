//! `fanline bench pg` against the throwaway PostgreSQL of the test command
//! (FANLINE_TEST_PG); skipped without one unless FANLINE_REQUIRE_PG=1.

use fanline_lab::bench_pg_ops::{run, PgOpsOptions};
use fanline_store_pg::testing::server;
use fanline_store_pg::PgStore;

/// Every operation at every concurrency is measured and counted, and the run's
/// database is gone afterwards.
#[test]
fn every_operation_is_measured_at_every_concurrency_in_a_database_dropped_after() {
    let Some(url) = server() else { return };
    let o = PgOpsOptions { url: url.clone(), concurrency: vec![1, 4], ops: 41 };
    let rows = run(&o, &mut |_| {}).unwrap();
    assert_eq!(rows.len(), 5 * 2);
    for r in &rows {
        assert_eq!(r.ops, 41, "{r:?}");
        assert!(r.per_second > 0.0 && r.p50_ms > 0.0 && r.p99_ms >= r.p50_ms, "{r:?}");
    }
    assert_eq!(rows.iter().filter(|r| r.concurrency == 4).count(), 5);
    let db = format!("fanline_bench_ops_{}", std::process::id());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let gone = rt.block_on(async { PgStore::connect_to(&url, &db, 1).unwrap().schema_version().await });
    assert!(gone.is_err(), "the run's database {db} was dropped");
}

//! `fanline bench search --database URL`: the same vectors and queries as the
//! in-process scans, through pgvector's HNSW index (iterative scans, filtered by agent
//! and layer like every search), with its load and build times and its size on disk.
//! The run's own database is made on the server and dropped after.

use crate::bench::{percentile, PgVectorRow, SearchRow};
use fanline_core::{Error, Result};
use fanline_engine::{IndexedItem, Layer};
use fanline_store_pg::{PgStore, VectorSearch};

/// The candidate lists measured: pgvector's default, and wider.
const EF_SEARCH: [u32; 3] = [40, 100, 200];
use std::collections::HashSet;
use std::time::Instant;

pub(crate) fn pg(e: fanline_store_pg::Error) -> Error {
    Error::InvalidInput(format!("PostgreSQL: {e}"))
}

/// Load `items` into a new database, index them, and search with `queries`; recall
/// against `exact` (the in-process exact scan's ids per query).
pub fn measure(
    url: &str,
    items: &[IndexedItem],
    queries: &[Vec<f32>],
    exact: &[HashSet<i64>],
    dim: usize,
) -> Result<(Vec<SearchRow>, PgVectorRow)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::InvalidInput(e.to_string()))?;
    let db = format!("fanline_bench_{}_{}", std::process::id(), items.len());
    rt.block_on(in_scratch_database(url, &db, async || run(url, &db, items, queries, exact, dim).await))
}

/// Run `f` in the database `db`, made on the server for it and dropped after, also when
/// `f` fails.
pub(crate) async fn in_scratch_database<T>(url: &str, db: &str, f: impl AsyncFnOnce() -> Result<T>) -> Result<T> {
    let admin = PgStore::connect(url, 1).map_err(pg)?;
    admin.create_database(db, true).await.map_err(pg)?;
    let result = f().await;
    admin.drop_database(db).await.map_err(pg)?;
    result
}

async fn run(
    url: &str,
    db: &str,
    items: &[IndexedItem],
    queries: &[Vec<f32>],
    exact: &[HashSet<i64>],
    dim: usize,
) -> Result<(Vec<SearchRow>, PgVectorRow)> {
    let store = PgStore::connect_to(url, db, 2).map_err(pg)?;
    store.migrate().await.map_err(pg)?;
    let rows: Vec<fanline_store_pg::VectorRow> =
        items.iter().map(|(k, _, v)| ("chunk", k.id, k.agent, k.layer, v.as_slice())).collect();
    let t = Instant::now();
    store.put_vectors(&rows).await.map_err(pg)?;
    let load_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    store.ensure_vector_index(dim).await.map_err(pg)?;
    let index_seconds = t.elapsed().as_secs_f64();
    let (table_bytes, index_bytes) = store.vector_bytes().await.map_err(pg)?;
    let mut rows = Vec::new();
    for ef_search in EF_SEARCH {
        let how = VectorSearch::Hnsw { ef_search };
        let (mut us, mut found, mut want) = (Vec::new(), 0usize, 0usize);
        for pass in 0..2 {
            for (q, ex) in queries.iter().zip(exact) {
                let t = Instant::now();
                let hits = store.nearest("chunk", 1, Layer::Public, q, 10, how).await.map_err(pg)?;
                us.push(t.elapsed().as_secs_f64() * 1e6);
                if pass == 0 {
                    found += hits.iter().filter(|(id, _)| ex.contains(id)).count();
                    want += ex.len();
                }
            }
        }
        rows.push(SearchRow {
            vectors: items.len(),
            method: format!("pgvector ef={ef_search}"),
            p50_us: percentile(&mut us.clone(), 50.0),
            p99_us: percentile(&mut us, 99.0),
            recall_at_10: Some(if want == 0 { 1.0 } else { found as f64 / want as f64 }),
        });
    }
    let n = items.len();
    Ok((
        rows,
        PgVectorRow {
            vectors: n,
            load_seconds,
            index_seconds,
            table_bytes,
            index_bytes,
            in_process_bytes: n * (dim * 4 + dim + dim / 8),
        },
    ))
}

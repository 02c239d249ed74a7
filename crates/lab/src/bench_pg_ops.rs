//! `fanline bench pg --database URL`: what the hub's writes that must be exact across
//! processes cost on PostgreSQL, each at several numbers of concurrent connections (as
//! several hub processes would hold): an idempotency key claimed and finished, a change
//! appended to the log (its number taken from the one `sync_head` row, inside the
//! transaction), three changes appended in one transaction, an offer accepted under the
//! caps (the counter rows), a rate-limit hit. The run's own database is made on the
//! server and dropped after.

use crate::bench::percentile;
use crate::bench_pg::{in_scratch_database, pg};
use fanline_core::{Error, Result};
use fanline_engine::{caps, Layer, Tier};
use fanline_store_pg::{CapCheck, PgStore};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct PgOpsOptions {
    /// The server (`postgres://…` or `host=… user=…`).
    pub url: String,
    /// Concurrent connections, each running the operation in a loop.
    pub concurrency: Vec<usize>,
    /// Operations per row.
    pub ops: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PgOpsRow {
    /// What was measured.
    pub operation: String,
    pub concurrency: usize,
    pub ops: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The operations measured, by name.
#[derive(Debug, Clone, Copy)]
enum Op {
    Idempotency,
    Change,
    Changes3,
    Accept,
    Rate,
}

impl Op {
    const ALL: [Op; 5] = [Op::Idempotency, Op::Change, Op::Changes3, Op::Accept, Op::Rate];

    fn label(self) -> &'static str {
        match self {
            Op::Idempotency => "idempotency key claimed + finished",
            Op::Change => "1 change appended (sync_head row)",
            Op::Changes3 => "3 changes appended in 1 transaction",
            Op::Accept => "offer made + accepted under caps",
            Op::Rate => "rate-limit hit",
        }
    }
}

/// Measure every operation at every concurrency, in a database made for the run.
pub fn run(o: &PgOpsOptions, log: &mut dyn FnMut(&str)) -> Result<Vec<PgOpsRow>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::InvalidInput(e.to_string()))?;
    let db = format!("fanline_bench_ops_{}", std::process::id());
    rt.block_on(in_scratch_database(&o.url, &db, async || measure(o, &db, log).await))
}

async fn measure(o: &PgOpsOptions, db: &str, log: &mut dyn FnMut(&str)) -> Result<Vec<PgOpsRow>> {
    let most = o.concurrency.iter().copied().max().unwrap_or(1).max(1);
    let store = Arc::new(PgStore::connect_to(&o.url, db, most).map_err(pg)?);
    store.migrate().await.map_err(pg)?;
    let agent = store.create_agent("bench").await.map_err(pg)?;
    let fan = store.upsert_fan("bench-fan", Tier::Free, Layer::Public).await.map_err(pg)?;
    let mut rows = Vec::new();
    for op in Op::ALL {
        for &n in &o.concurrency {
            log(&format!("  {} × {}, {n} connection(s)…", o.ops, op.label()));
            rows.push(drive(&store, op, n.max(1), o.ops, agent, fan).await?);
        }
    }
    Ok(rows)
}

/// `total` operations spread over `n` tasks, each on its own connection.
async fn drive(store: &Arc<PgStore>, op: Op, n: usize, total: usize, agent: i64, fan: i64) -> Result<PgOpsRow> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..n {
        let store = store.clone();
        let mine = total / n + usize::from(t < total % n);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(mine);
            for i in 0..mine {
                let s = Instant::now();
                once(&store, op, agent, fan, &format!("{t}-{i}")).await?;
                lat.push(s.elapsed().as_secs_f64() * 1e3);
            }
            Ok::<_, fanline_store_pg::Error>(lat)
        }));
    }
    let mut lat = Vec::with_capacity(total);
    for task in tasks {
        lat.extend(task.await.map_err(|e| Error::InvalidInput(e.to_string()))?.map_err(pg)?);
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(PgOpsRow {
        operation: op.label().into(),
        concurrency: n,
        ops: lat.len(),
        per_second: lat.len() as f64 / seconds.max(1e-9),
        p50_ms: percentile(&mut lat.clone(), 50.0),
        p99_ms: percentile(&mut lat, 99.0),
    })
}

async fn once(store: &PgStore, op: Op, agent: i64, fan: i64, id: &str) -> fanline_store_pg::Result<()> {
    match op {
        Op::Idempotency => {
            let key = format!("{}-{id}", std::process::id());
            store.claim_idempotency(agent, fan, &key, "hash", Duration::from_secs(30)).await?;
            store.finish_idempotency(agent, fan, &key, &serde_json::json!({"status": "created"})).await
        }
        Op::Change => {
            let body = serde_json::json!({"question": "How much is the workshop?", "n": id});
            store.append_change(agent, "canonical", id, &body).await.map(|_| ())
        }
        Op::Changes3 => {
            // A fan's message, the reply and the decision: what one routed message logs.
            let body = serde_json::json!({"text": "How much is the workshop?", "n": id});
            let three = [("message", id, &body), ("message", id, &body), ("decision", id, &body)];
            store.append_changes(agent, &three).await.map(|_| ())
        }
        Op::Accept => {
            let offer = store.offer_escalation(agent, fan, "Would you read my first chapter?").await?;
            let now = chrono::Utc::now();
            let cap = CapCheck::at(now, caps::Tz::UTC, u32::MAX / 2, u32::MAX / 2);
            store.accept_escalation(offer, &cap).await.map(|_| ())
        }
        Op::Rate => {
            let key = format!("fan-token-{}", id.split('-').next().unwrap_or("0"));
            store.rate_hit(&key, chrono::Utc::now(), 60, u32::MAX / 2).await.map(|_| ())
        }
    }
}

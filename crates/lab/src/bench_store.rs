//! `fanline bench store [--database URL]`: what a fan's message costs the hub's store,
//! through the store interface, on SQLite (a file, opened as `fanline serve` opens it:
//! WAL, every commit synced, group commit) and, with a server, on PostgreSQL (`PgHub`),
//! in the same run. One message is the three writes of the fan path: the message posted
//! under its idempotency key, routing's decision with an offer and its reply, and the
//! acceptance under the caps with its decision and reply. Concurrency is threads (the
//! hub's blocking threads), each with fans of its own.

use crate::bench::percentile;
use crate::bench_pg::pg;
use fanline_core::{Error, Result};
use fanline_engine::route::Trace;
use fanline_engine::{caps, EscalationReason, Layer, RoutePath, Tier};
use fanline_store::{
    AcceptWrite, Acceptance, CapCheck, HubStore, NewDecision, NewEscalation, NewRouting, Posted, TypedDecisions,
    TypedOffers,
};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct StoreBenchOptions {
    /// A PostgreSQL server (`postgres://…` or `host=… user=…`); none: SQLite only.
    pub database: Option<String>,
    /// Concurrent threads, each posting messages in a loop.
    pub concurrency: Vec<usize>,
    /// Messages per row.
    pub messages: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoreBenchRow {
    pub backend: String,
    pub concurrency: usize,
    pub messages: usize,
    pub per_second: f64,
    /// One message's three writes, in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Measure every backend at every concurrency (PostgreSQL in a database made for the
/// run and dropped after).
pub fn run(o: &StoreBenchOptions, log: &mut dyn FnMut(&str)) -> Result<Vec<StoreBenchRow>> {
    let mut rows = Vec::new();
    let dir = tempfile::tempdir().map_err(|e| Error::InvalidInput(e.to_string()))?;
    let sqlite = fanline_store::Store::open(dir.path().join("fanline.db"))?;
    sqlite.set_synchronous_full(true)?;
    sqlite.set_group_commit(true, std::time::Duration::ZERO);
    for &n in &o.concurrency {
        log(&format!("  SQLite: {} messages, {n} thread(s)…", o.messages));
        rows.push(drive(&sqlite, "SQLite", n.max(1), o.messages)?);
    }
    if let Some(url) = &o.database {
        let db = format!("fanline_bench_store_{}", std::process::id());
        let rt = tokio::runtime::Runtime::new().map_err(|e| Error::InvalidInput(e.to_string()))?;
        let admin = fanline_store_pg::PgStore::connect(url, 1).map_err(pg)?;
        rt.block_on(admin.create_database(&db, true)).map_err(pg)?;
        let most = o.concurrency.iter().copied().max().unwrap_or(1).max(1);
        let result = (|| {
            let hub = fanline_store_pg::PgHub::open(&format!("{url} dbname={db}"), most).map_err(pg)?;
            for &n in &o.concurrency {
                log(&format!("  PostgreSQL: {} messages, {n} thread(s)…", o.messages));
                rows.push(drive(&hub, "PostgreSQL", n.max(1), o.messages)?);
            }
            Ok::<_, Error>(())
        })();
        rt.block_on(admin.drop_database(&db)).map_err(pg)?;
        result?;
    }
    Ok(rows)
}

fn drive(store: &dyn HubStore, backend: &str, n: usize, total: usize) -> Result<StoreBenchRow> {
    let agent = match store.agent_by_name("bench")? {
        Some(a) => a.id,
        None => store.create_agent("bench")?.id,
    };
    let start = Instant::now();
    let lat: Vec<f64> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..n)
            .map(|t| {
                let mine = total / n + usize::from(t < total % n);
                s.spawn(move || -> Result<Vec<f64>> {
                    let fan = store.insert_fan(&format!("{backend}-{n}-{t}"), Tier::Free, Layer::Public)?.id;
                    let mut lat = Vec::with_capacity(mine);
                    for i in 0..mine {
                        let s = Instant::now();
                        message(store, agent, fan, &format!("{n}-{t}-{i}"))?;
                        lat.push(s.elapsed().as_secs_f64() * 1e3);
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut all = Vec::with_capacity(total);
        for t in threads {
            all.extend(t.join().map_err(|_| Error::InvalidInput("a bench thread panicked".into()))??);
        }
        Ok::<_, Error>(all)
    })?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(StoreBenchRow {
        backend: backend.into(),
        concurrency: n,
        messages: lat.len(),
        per_second: lat.len() as f64 / seconds.max(1e-9),
        p50_ms: percentile(&mut lat.clone(), 50.0),
        p99_ms: percentile(&mut lat.clone(), 99.0),
    })
}

/// One fan message's writes: posted, routed to D with an offer, the offer accepted.
fn message(store: &dyn HubStore, agent: i64, fan: i64, key: &str) -> Result<()> {
    let text = "Would you read the first chapter of my novel?";
    let Posted::New { conversation_id, message_id } = store.post_fan_message(agent, fan, text, key, "hash")? else {
        return Err(Error::InvalidInput(format!("idempotency key {key} was used before")));
    };
    let trace = Trace::default();
    let decision = |path: RoutePath| NewDecision {
        message_id,
        conversation_id,
        agent_id: agent,
        fan_id: fan,
        path,
        reason: "novel".into(),
        details: serde_json::json!({ "similarity": 0.31, "novelty": 0.69 }),
        trace: &trace,
    };
    let routed = store.record_routing(
        &NewRouting {
            decision: decision(RoutePath::D),
            served: None,
            offer: Some(NewEscalation {
                agent_id: agent,
                fan_id: fan,
                message_id: Some(message_id),
                question: text.into(),
                reason: EscalationReason::Novel,
                priority: 0,
                context_summary: String::new(),
                expires_at: None,
                expected_reply_after: None,
            }),
        },
        |id| format!("Shall I send it to the creator? Accept offer #{}.", id.unwrap_or(0)),
    )?;
    let now = chrono::Utc::now();
    let cap = CapCheck::at(now, caps::Tz::UTC, u32::MAX / 2, u32::MAX / 2);
    let decide = |_: &Acceptance| (decision(RoutePath::E), "Sent to the creator.".to_string());
    let then = AcceptWrite { decision: &decide, queue_expiry: now + chrono::Duration::days(7) };
    store.accept_escalation_with(routed.escalation_id.unwrap_or(0), &cap, Some(&then))?;
    Ok(())
}

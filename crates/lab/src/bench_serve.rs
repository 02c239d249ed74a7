//! `fanline bench serve`: the hub over real HTTP on loopback, with the real model and a
//! library of canonical answers: messages a second and latency (p50, p99) at several
//! numbers of concurrent fans, each posting distinct messages (with their
//! Idempotency-Keys) one after another, every message and decision stored. Beside it,
//! the single-process `bench route` figure from the same run, as a ratio.
//!
//! The load generator is this process (reqwest over loopback); the hub runs in the same
//! process on its own runtime, as `fanline serve` runs it. No language model is
//! configured: these are the non-LLM paths.

use crate::bench::percentile;
use crate::bench_route::{self, RouteBenchOptions};
use fanline_core::{Config, Error, Fanline, Result};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ServeBenchOptions {
    /// Concurrent fans to measure with, each in turn.
    pub concurrency: Vec<usize>,
    /// Messages per concurrency level.
    pub messages: usize,
    /// Canonical answers in the library.
    pub canonical: usize,
    /// Offered loads (messages a second) measured with the batched hub at the largest
    /// concurrency up to 32, on a fixed schedule.
    pub rates: Vec<f64>,
}

/// How the hub is set up for a run: batching and group commit off (before), or as
/// configured (after), measured in the same run.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Each query embedded alone, each write committed alone (synced as configured).
    OneByOne,
    /// Concurrent queries embedded together, writes sharing commits (the defaults).
    BatchedGroupCommit,
}

impl Variant {
    pub fn label(self) -> &'static str {
        match self {
            Variant::OneByOne => "one by one",
            Variant::BatchedGroupCommit => "batched + group commit",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ServeRow {
    pub variant: Variant,
    pub concurrency: usize,
    /// `None`: closed loop, each fan sending its next message once answered (the
    /// hub's maximum). `Some(r)`: messages on a fixed schedule of `r` a second, latency
    /// counted from each one's scheduled time, so waiting for a free fan counts too.
    pub offered_per_second: Option<f64>,
    pub messages: usize,
    pub messages_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Responses that were not 2xx.
    pub errors: usize,
    /// The hub's writes (messages, decisions) per commit.
    pub writes_per_commit: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServeBenchReport {
    pub rows: Vec<ServeRow>,
    /// `bench route`'s decisions a second on 2 threads, same library, same run.
    pub route_decisions_per_second: f64,
    /// Whether every commit synced the log (`store.sync_every_commit`).
    pub sync_every_commit: bool,
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::Io { path: std::env::temp_dir(), detail: e.to_string() }
}

/// A message a fan might send: distinct every time.
fn message(i: usize) -> String {
    const TOPICS: [&str; 8] = [
        "my camera",
        "the edit",
        "the newsletter",
        "the course",
        "my lighting",
        "thumbnails",
        "the podcast",
        "burnout",
    ];
    let t = TOPICS[i % TOPICS.len()];
    match i % 3 {
        0 => format!("What do you think about {t}? Asking for the {i}th time"),
        1 => format!("Any tips for {t}, fan number {i} here"),
        _ => format!("How did you start with {t} — question {i}"),
    }
}

pub fn run(config: &Config, o: &ServeBenchOptions, log: &mut dyn FnMut(&str)) -> Result<ServeBenchReport> {
    let tmp = tempfile::tempdir().map_err(io)?;
    // The single-process figure, same library, same run.
    log("measuring bench route (single process) for the ratio…");
    let route = bench_route::run(
        config,
        &RouteBenchOptions {
            sizes: vec![o.canonical],
            decisions: 100,
            knowledge: bench_route::default_knowledge(),
            readers: vec![config.store.readers],
        },
        &mut |_| {},
    )?;
    let route_dps = route.rows.first().map(|r| r.decisions_per_second_2_threads).unwrap_or(0.0);
    let mut rows = Vec::new();
    for variant in [Variant::OneByOne, Variant::BatchedGroupCommit] {
        let mut cfg = config.clone();
        cfg.data_dir = tmp.path().join(format!("hub-{variant:?}"));
        if variant == Variant::OneByOne {
            cfg.embedder.batch_max = 1;
            cfg.store.group_commit = false;
        }
        log(&format!("{}:", variant.label()));
        rows.extend(measure(cfg, variant, o, log)?);
    }
    Ok(ServeBenchReport {
        rows,
        route_decisions_per_second: route_dps,
        sync_every_commit: config.store.sync_every_commit,
    })
}

/// The hub set up as `cfg` says, under each concurrency in turn.
fn measure(
    mut cfg: Config,
    variant: Variant,
    o: &ServeBenchOptions,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<ServeRow>> {
    cfg.hub.per_ip_per_minute = u32::MAX / 2;
    cfg.hub.per_token_per_minute = u32::MAX / 2;
    let app = Fanline::open(cfg)?;
    app.init(None)?;
    app.rule_set(None, "max_escalations_per_day", "100000000")?;
    app.rule_set(None, "max_escalations_per_week", "100000000")?;
    if let Some(kb) = bench_route::default_knowledge() {
        app.import(None, &[kb], fanline_engine::Layer::Public, &mut |_| {})?;
    }
    log(&format!("storing {} canonical answers…", o.canonical));
    bench_route::store_library(&app, o.canonical, 11)?;
    let site = app.hub_site(None)?.site_key;
    let app = Arc::new(app);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
    let rows = runtime.block_on(async {
        let server = fanline_server::Running::start(app.clone(), "127.0.0.1:0").await.map_err(io)?;
        let base = format!("http://{}", server.addr());
        let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().map_err(io)?;
        let mut rows = Vec::new();
        let mut offset = 0usize;
        // Warm up: the model, the reuse model's fit, the statements.
        let warm = session(&client, &base, &site).await?;
        for i in 0..5 {
            post(&client, &base, &warm, &format!("warm-{i}"), &format!("warm up message {i}")).await?;
        }
        // Closed loop at each concurrency, then (batched) the offered loads.
        let paced = o.concurrency.iter().copied().filter(|n| *n <= 32).max();
        let mut levels: Vec<(usize, Option<f64>)> = o.concurrency.iter().map(|n| (*n, None)).collect();
        if let (Variant::BatchedGroupCommit, Some(n)) = (variant, paced) {
            levels.extend(o.rates.iter().filter(|r| **r > 0.0).map(|r| (n, Some(*r))));
        }
        for (n, rate) in levels {
            match rate {
                None => log(&format!("  {} messages from {n} concurrent fans…", o.messages)),
                Some(r) => log(&format!("  {} messages from {n} fans at {r:.0}/s…", o.messages)),
            }
            let (writes0, commits0) = app.store().group_commits();
            let mut fans = Vec::new();
            for _ in 0..n {
                fans.push(session(&client, &base, &site).await?);
            }
            let load = Load { client: client.clone(), base: base.clone(), total: o.messages, offset, rate };
            let (mut lat, errors, secs) = load.drive(fans).await?;
            offset += o.messages;
            let (writes, commits) = app.store().group_commits();
            rows.push(ServeRow {
                variant,
                writes_per_commit: (writes - writes0) as f64 / (commits - commits0).max(1) as f64,
                concurrency: n,
                offered_per_second: rate,
                messages: o.messages,
                messages_per_second: lat.len() as f64 / secs,
                p50_ms: percentile(&mut lat.clone(), 50.0),
                p99_ms: percentile(&mut lat, 99.0),
                errors,
            });
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), server.stop()).await;
        Ok::<_, Error>(rows)
    })?;
    runtime.shutdown_background();
    Ok(rows)
}

struct Fan {
    token: String,
    conversation: i64,
}

/// One level's messages: `total` of them, numbered from `offset`, closed loop or on a
/// schedule of `rate` a second.
struct Load {
    client: reqwest::Client,
    base: String,
    total: usize,
    offset: usize,
    rate: Option<f64>,
}

impl Load {
    /// Each fan takes the next message in turn. Returns the latencies (ms), the errors
    /// and the seconds the level took.
    async fn drive(self, fans: Vec<Fan>) -> Result<(Vec<f64>, usize, f64)> {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let load = Arc::new(self);
        let started = tokio::time::Instant::now();
        let tasks: Vec<_> = fans
            .into_iter()
            .map(|fan| {
                let (load, next) = (load.clone(), next.clone());
                tokio::spawn(async move {
                    let (mut lat, mut errors) = (Vec::new(), 0usize);
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= load.total {
                            break;
                        }
                        let t = match load.rate {
                            Some(r) => {
                                let at = started + Duration::from_secs_f64(i as f64 / r);
                                tokio::time::sleep_until(at).await;
                                at
                            }
                            None => tokio::time::Instant::now(),
                        };
                        let n = load.offset + i;
                        match post(&load.client, &load.base, &fan, &format!("m{n}"), &message(n)).await {
                            Ok(()) => lat.push(t.elapsed().as_secs_f64() * 1e3),
                            Err(_) => errors += 1,
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        let (mut lat, mut errors) = (Vec::new(), 0);
        for t in tasks {
            let (l, e) = t.await.map_err(io)?;
            lat.extend(l);
            errors += e;
        }
        Ok((lat, errors, started.elapsed().as_secs_f64()))
    }
}

async fn session(client: &reqwest::Client, base: &str, site: &str) -> Result<Fan> {
    let v: serde_json::Value = client
        .post(format!("{base}/v1/sessions"))
        .json(&serde_json::json!({ "site_key": site }))
        .send()
        .await
        .map_err(io)?
        .json()
        .await
        .map_err(io)?;
    Ok(Fan {
        token: v["fan_token"].as_str().ok_or_else(|| io(format!("no session: {v}")))?.into(),
        conversation: v["conversation_id"].as_i64().unwrap_or(0),
    })
}

async fn post(client: &reqwest::Client, base: &str, fan: &Fan, key: &str, text: &str) -> Result<()> {
    let r = client
        .post(format!("{base}/v1/conversations/{}/messages", fan.conversation))
        .bearer_auth(&fan.token)
        .header("Idempotency-Key", key)
        .json(&serde_json::json!({ "text": text }))
        .send()
        .await
        .map_err(io)?;
    if !r.status().is_success() {
        return Err(io(format!("HTTP {}: {}", r.status(), r.text().await.unwrap_or_default())));
    }
    r.bytes().await.map_err(io)?;
    Ok(())
}

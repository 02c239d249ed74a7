//! `fanline bench sync`: a hub and two devices over real HTTP on loopback, with the real
//! model: a new device's first sync of a library of canonical answers, a push of many
//! edits made offline, and another device pulling what they changed.

use fanline_core::hub::Scope;
use fanline_core::{Config, Error, Fanline, Result};
use fanline_store::{CanonicalSummary, NewCanonical};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct SyncBenchOptions {
    /// Canonical answers on the hub.
    pub canonical: usize,
    /// Edits made on a device and pushed.
    pub changes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncRow {
    /// What was measured.
    pub step: String,
    /// Changes or records it moved.
    pub items: usize,
    pub seconds: f64,
    pub per_second: f64,
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::Io { path: std::env::temp_dir(), detail: e.to_string() }
}

fn row(step: &str, items: usize, t: Instant) -> SyncRow {
    let seconds = t.elapsed().as_secs_f64();
    SyncRow { step: step.into(), items, seconds, per_second: items as f64 / seconds.max(1e-9) }
}

/// Distinct questions embedded by the model; past them, a library reuses their vectors
/// (what is measured is the transport: the records keep their real size and shape).
const EMBEDDED: usize = 2_000;

/// A library of `n` canonical answers.
fn library(app: &Fanline, n: usize, log: &mut dyn FnMut(&str)) -> Result<()> {
    let e = app.embedder()?.clone();
    let mut real: Vec<Vec<f32>> = Vec::new();
    for start in (0..n).step_by(1000) {
        let end = (start + 1000).min(n);
        let questions: Vec<String> =
            (start..end).map(|i| format!("What about topic number {i} in your work?")).collect();
        let vectors = if end <= EMBEDDED {
            let refs: Vec<&str> = questions.iter().map(String::as_str).collect();
            let v = e.embed(&refs)?;
            real.extend(v.iter().cloned());
            v
        } else {
            (start..end).map(|i| real[i % real.len().max(1)].clone()).collect()
        };
        let items: Vec<NewCanonical> = questions
            .into_iter()
            .zip(vectors)
            .enumerate()
            .map(|(k, (q, v))| NewCanonical {
                questions: vec![(q, v)],
                answer: format!("Answer number {}.", start + k),
                layer: fanline_engine::Layer::Public,
                source_escalation_id: None,
            })
            .collect();
        app.canonical_add_many(None, &items)?;
        log(&format!("  library: {end}/{n}"));
    }
    Ok(())
}

/// A device with its own model (its phrasings are embedded there, as on a real device).
fn device(config: &Config, dir: &std::path::Path) -> Result<Fanline> {
    let mut cfg = config.clone();
    cfg.data_dir = dir.to_path_buf();
    let app = Fanline::open(cfg)?;
    app.init(None)?;
    Ok(app)
}

pub fn run(config: &Config, o: &SyncBenchOptions, log: &mut dyn FnMut(&str)) -> Result<Vec<SyncRow>> {
    let tmp = tempfile::tempdir().map_err(io)?;
    let mut cfg = config.clone();
    cfg.data_dir = tmp.path().join("hub");
    cfg.hub.per_ip_per_minute = u32::MAX / 2;
    let hub = Arc::new(Fanline::open(cfg)?);
    hub.init(None)?;
    log(&format!("a hub with {} canonical answers…", o.canonical));
    library(&hub, o.canonical, log)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(io)?;
    let server = runtime.block_on(fanline_server::Running::start(hub.clone(), "127.0.0.1:0")).map_err(io)?;
    let url = format!("http://{}", server.addr());
    let a = device(config, &tmp.path().join("a"))?;
    let b = device(config, &tmp.path().join("b"))?;
    let mut rows = Vec::new();
    runtime.block_on(async {
        for (d, name) in [(&a, "A"), (&b, "B")] {
            let code = hub.hub_pairing_code(&[Scope::Admin])?.code;
            d.sync_pair(&url, &code, name).await?;
        }
        log("a new device's first sync…");
        let t = Instant::now();
        let r = a.sync_once().await?;
        rows.push(row("first sync of a new device (records)", r.pulled as usize, t));
        b.sync_once().await?;

        log(&format!("{} edits on device A…", o.changes));
        let ids: Vec<i64> = a.canonical_list(None)?.iter().map(|c: &CanonicalSummary| c.id).collect();
        let t = Instant::now();
        for i in 0..o.changes {
            a.store().update_canonical(ids[i % ids.len()], Some(&format!("Answer edited {i}.")), None)?;
        }
        rows.push(row("edits written on the device (outbox)", o.changes, t));
        log("pushing them…");
        let t = Instant::now();
        let r = a.sync_push().await?;
        rows.push(row("push to the hub (changes)", (r.applied + r.duplicates + r.conflicts) as usize, t));
        log("device B pulls what changed…");
        let t = Instant::now();
        let r = b.sync_pull().await?;
        rows.push(row("pull on another device (records)", r.pulled as usize, t));
        let v = b.sync_verify().await?;
        if !v.equal {
            return Err(Error::Hub(format!("the devices did not converge: {:?}", v.differ)));
        }
        Ok::<_, Error>(())
    })?;
    runtime.block_on(server.stop()).map_err(io)?;
    Ok(rows)
}

//! `fanline serve` killed with SIGKILL while a device pushes its offline edits, again
//! and again: after the hub restarts and the device syncs, every edit is applied once —
//! no hole, nothing applied twice (a re-applied edit would show up as a conflict with
//! itself), the last edit in place — and the digests agree.
//!
//! `FANLINE_SYNC_CRASH_CYCLES` (default 4) kills; `FANLINE_SYNC_CRASH_SEED` repeats a run.

mod common;

use common::{fanline, free_port, json, start};
use fanline_core::{Config, Fanline, NewCanonicalInput};
use std::time::Duration;

#[test]
fn killing_the_hub_mid_push_applies_every_change_once() {
    let cycles: usize = std::env::var("FANLINE_SYNC_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let mut seed: u64 =
        std::env::var("FANLINE_SYNC_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
    eprintln!("FANLINE_SYNC_CRASH_SEED={seed}");
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let tmp = tempfile::tempdir().unwrap();
    let hub_dir = tmp.path().join("hub");
    fanline(&hub_dir).args(["init"]).assert().success();
    let port = free_port();
    let mut hub = start(&hub_dir, port);
    let code = json(&hub_dir, &["hub", "pair"])["code"].as_str().unwrap().to_string();

    // A device with 20 answers of its own, paired with the hub.
    let mut cfg = Config { data_dir: tmp.path().join("device"), ..Default::default() };
    cfg.embedder.kind = fanline_core::config::EmbedderKind::Hashing;
    cfg.sync.push_batch = 50;
    let device = std::sync::Arc::new(Fanline::open(cfg).unwrap());
    device.init(None).unwrap();
    let mut ids = Vec::new();
    for i in 0..20 {
        let input = NewCanonicalInput {
            question: format!("Question {i} about the books?"),
            answer: format!("Answer {i}."),
            variants: vec![],
            layer: fanline_engine::Layer::Public,
        };
        ids.push(device.canonical_add(None, &input).unwrap().id);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(device.sync_pair(&format!("http://127.0.0.1:{port}"), &code, "laptop")).unwrap();
    rt.block_on(device.sync_once()).unwrap();

    let mut written = 0;
    for cycle in 0..cycles {
        // Offline edits, then a push the hub is killed in the middle of.
        for k in 0..600 {
            let id = ids[k % ids.len()];
            device.store().update_canonical(id, Some(&format!("Edit {cycle}.{k}")), None).unwrap();
            written += 1;
        }
        let pending = device.sync_status().unwrap().pending;
        assert!(pending >= 600, "{pending}");
        let push = rt.spawn({
            let device = device.clone();
            async move { device.sync_push().await }
        });
        std::thread::sleep(Duration::from_millis(rand() % 400));
        let _ = hub.kill();
        let _ = hub.wait();
        let pushed = rt.block_on(push).unwrap();
        eprintln!(
            "cycle {cycle}: push before the kill: {:?}",
            pushed.as_ref().map(|r| r.applied).map_err(|e| e.to_string())
        );
        hub = start(&hub_dir, port);
        rt.block_on(device.sync_once()).unwrap();
        assert_eq!(device.sync_status().unwrap().pending, 0);
    }
    let _ = hub.kill();
    let _ = hub.wait();
    let hub_app = {
        let mut cfg = Config { data_dir: hub_dir.clone(), ..Default::default() };
        cfg.embedder.kind = fanline_core::config::EmbedderKind::Hashing;
        Fanline::open(cfg).unwrap()
    };
    // Every edit once: no conflicts (an edit applied twice would conflict with the
    // later one), the device's last edits in place, the same digests.
    assert!(hub_app.sync_conflicts().unwrap().is_empty(), "{:?}", hub_app.sync_conflicts().unwrap());
    let last = cycles - 1;
    for (i, id) in ids.iter().enumerate() {
        let want = format!("Edit {last}.{}", 580 + i);
        assert_eq!(device.canonical_show(*id).unwrap().answer, want);
    }
    assert_eq!(hub_app.sync_digest().unwrap(), device.sync_digest().unwrap());
    eprintln!("{written} edits over {cycles} kills, each applied once");
}

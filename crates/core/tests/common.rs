//! Shared by the integration tests: temp data dirs opened with the deterministic
//! stand-in embedder (no model, no ONNX Runtime: these tests exercise the plumbing),
//! or, in `real_model.rs` only, with the real model.
#![allow(dead_code)]

use fanline_core::{Config, Fanline};
use fanline_engine::ports::Embedder;
use fanline_store::Offers;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The stand-in embedder: texts sharing words come out close, nothing more.
pub fn embedder() -> Arc<dyn Embedder> {
    Arc::new(fanline_embed::HashingEmbedder::new(384))
}

/// The real model, loaded once per test binary.
pub fn real_embedder() -> Arc<dyn Embedder> {
    static E: OnceLock<Arc<dyn Embedder>> = OnceLock::new();
    E.get_or_init(|| {
        let cfg = Config::default().embedder_config();
        Arc::new(fanline_embed::FastEmbedder::load(&cfg).expect("the model is installed: run scripts/fetch-model.sh"))
    })
    .clone()
}

pub fn config(dir: &Path) -> Config {
    let mut c = Config { data_dir: dir.to_path_buf(), ..Default::default() };
    // The stand-in's similarities mean shared words, not topics: nothing is off-topic
    // unless a test asks for it.
    c.routing.off_topic_similarity = 0.0;
    c.routing.off_topic_margin = 10.0;
    c
}

pub fn open(dir: &Path) -> Fanline {
    open_cfg(config(dir))
}

pub fn open_cfg(c: Config) -> Fanline {
    open_with(c, embedder())
}

pub fn open_real(dir: &Path) -> Fanline {
    open_with(config(dir), real_embedder())
}

pub fn open_with(c: Config, e: Arc<dyn Embedder>) -> Fanline {
    let app = Fanline::open_with(c, Some(e)).unwrap();
    app.init(None).unwrap();
    app
}

pub fn kb(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/creator-kb").join(sub)
}

/// The shared datasets (../shared/datasets), when this machine has them.
pub fn datasets() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/datasets is not here (the test needs the public datasets)");
        None
    }
}

/// An escalation offered to `fan` (added at `tier` if new) for `question`, pending.
pub fn offer(app: &Fanline, fan: &str, tier: fanline_engine::Tier, question: &str, priority: i64) -> i64 {
    use fanline_engine::{EscalationReason, Layer};
    let agent = app.agent(None).unwrap().id;
    let f = match app.fan_add(fan, tier, Layer::Public) {
        Ok(f) => f.id,
        Err(_) => app.fans().unwrap().into_iter().find(|x| x.handle == fan).unwrap().id,
    };
    let e = fanline_store::NewEscalation {
        agent_id: agent,
        fan_id: f,
        message_id: None,
        question: question.into(),
        reason: EscalationReason::Novel,
        priority,
        context_summary: String::new(),
        expires_at: None,
        expected_reply_after: None,
    };
    app.store().create_escalation(&e).unwrap()
}

/// The same, accepted by the fan: in the creator's queue.
pub fn queued(app: &Fanline, fan: &str, tier: fanline_engine::Tier, question: &str, priority: i64) -> i64 {
    let id = offer(app, fan, tier, question, priority);
    assert!(app.accept(id).unwrap().accepted);
    id
}

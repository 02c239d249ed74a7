//! A hub on 127.0.0.1:0 over a temporary data directory, and a client for it.
#![allow(dead_code)]

pub mod proxy;

use fanline_core::{Config, Fanline, NewCanonicalInput};
use fanline_engine::ports::Embedder;
use fanline_engine::Layer;
use fanline_store::Conversations;
use reqwest::{Client, Response};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The real model, loaded once per test binary.
pub fn real_model() -> Arc<dyn Embedder> {
    static E: OnceLock<Arc<dyn Embedder>> = OnceLock::new();
    E.get_or_init(|| {
        let cfg = Config::default().embedder_config();
        Arc::new(fanline_embed::FastEmbedder::load(&cfg).expect("the model is installed: run scripts/fetch-model.sh"))
    })
    .clone()
}

/// The stand-in embedder (texts sharing words are close).
pub fn hashing() -> Arc<dyn Embedder> {
    Arc::new(fanline_embed::HashingEmbedder::new(384))
}

pub struct TestHub {
    pub dir: tempfile::TempDir,
    pub app: Arc<Fanline>,
    pub base: String,
    pub client: Client,
    pub site: String,
    server: fanline_server::Running,
}

pub fn config(dir: &Path, embedder_is_real: bool) -> Config {
    let mut c = Config { data_dir: dir.to_path_buf(), ..Default::default() };
    if !embedder_is_real {
        // The stand-in's similarities are shared words, not topics.
        c.routing.off_topic_similarity = 0.0;
        c.routing.off_topic_margin = 10.0;
    }
    c
}

impl TestHub {
    /// A hub with the sample creator's public documents and one canonical answer.
    pub async fn start(embedder: Arc<dyn Embedder>, real: bool, tweak: impl FnOnce(&mut Config)) -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), real);
        tweak(&mut cfg);
        let app = tokio::task::spawn_blocking(move || {
            let app = Fanline::open_with(cfg, Some(embedder)).unwrap();
            app.init(None).unwrap();
            app.rule_set(None, "max_escalations_per_day", "1000").unwrap();
            let kb = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/creator-kb/public");
            app.import(None, &[kb], Layer::Public, &mut |_| {}).unwrap();
            app.canonical_add(
                None,
                &NewCanonicalInput {
                    question: "Do you have a literary agent?".into(),
                    answer: "Yes, Clara Weiss at Northlight Agency.".into(),
                    variants: vec![],
                    layer: Layer::Public,
                },
            )
            .unwrap();
            Arc::new(app)
        })
        .await
        .unwrap();
        let site = app.hub_site(None).unwrap().site_key;
        let server = fanline_server::Running::start(app.clone(), "127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", server.addr());
        TestHub { dir, app, base, client: Client::new(), site, server }
    }

    /// Where the hub listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        let mut r = self.client.post(self.url(path)).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut r = self.client.get(self.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    /// An anonymous fan's session.
    pub async fn session(&self) -> Session {
        let r = self.post("/v1/sessions", None, json!({ "site_key": self.site })).await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        Session { token: v["fan_token"].as_str().unwrap().into(), conversation: v["conversation_id"].as_i64().unwrap() }
    }

    /// Post a message under a key.
    pub async fn say(&self, s: &Session, key: &str, text: &str) -> Response {
        self.client
            .post(self.url(&format!("/v1/conversations/{}/messages", s.conversation)))
            .bearer_auth(&s.token)
            .header("Idempotency-Key", key)
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap()
    }

    /// A device token with the admin scope.
    pub fn device(&self) -> String {
        self.app.hub_token_create("test device", &[fanline_core::hub::Scope::Admin]).unwrap().token
    }

    pub async fn stop(self) {
        self.server.stop().await.unwrap();
    }
}

#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub conversation: i64,
}

impl TestHub {
    /// A new fan asks `question` (under `key`); it is offered to the creator (path D)
    /// and the fan accepts: the fan's session and the escalation's id.
    pub async fn escalate(&self, key: &str, question: &str) -> (Session, i64) {
        let fan = self.session().await;
        let v: Value = self.say(&fan, key, question).await.json().await.unwrap();
        assert_eq!(v["decision"]["path"], "D", "{v}");
        let id = v["decision"]["offer"]["escalation_id"].as_i64().unwrap();
        let r = self.post(&format!("/v1/escalations/{id}/accept"), Some(&fan.token), json!({})).await;
        assert_eq!(r.status(), 200);
        (fan, id)
    }

    /// The creator's answers `fan` was told.
    pub fn answers_to_fan(&self, fan: &Session) -> Vec<String> {
        let messages = self.app.store().messages_after(fan.conversation, 0, 500).unwrap();
        messages.into_iter().filter(|m| m.kind.as_str() == "escalation.answered").map(|m| m.body).collect()
    }
}

/// Three fans' words for one question (the queue groups them).
pub const SAME_QUESTION: [&str; 3] = [
    "Do you sell signed copies of your books?",
    "Do you sell signed copies of your book?",
    "Do you sell signed copies of your novels?",
];

/// The `{error: {code}}` of a response.
pub async fn code(r: Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or_else(|e| panic!("a JSON error body (status {status}): {e}"));
    (status, v["error"]["code"].as_str().unwrap_or_else(|| panic!("an error code: {v}")).to_string())
}

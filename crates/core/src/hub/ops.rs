//! What the hub says of itself: its status (model, providers and their breakers, the
//! queue) and its capabilities (the paths, the plan's steps, the critics and their
//! schedules).

use crate::{Fanline, Result};
use fanline_critics::Profile;
use fanline_llm::ProviderStats;
use serde::Serialize;

/// The hub's state, for `/v1/status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Fanline's version.
    pub version: String,
    /// The embedding model, and whether it loaded.
    pub model: ModelStatus,
    /// Language-model providers in fallback order, with their breaker state in this
    /// process.
    pub providers: Vec<ProviderStats>,
    /// The default agent's queue: offers waiting for the fan, questions waiting for
    /// the creator.
    pub pending_offers: u32,
    /// Accepted questions waiting for the creator.
    pub queued: u32,
}

/// The embedding model's state.
#[derive(Debug, Clone, Serialize)]
pub struct ModelStatus {
    /// Its id (`None`: it did not load).
    pub id: Option<String>,
    /// The vectors' width.
    pub dim: usize,
    /// Why it did not load.
    pub error: Option<String>,
}

/// One path a message can take.
#[derive(Debug, Clone, Serialize)]
pub struct PathInfo {
    /// A–F.
    pub path: fanline_engine::RoutePath,
    /// What it does.
    pub what: &'static str,
}

/// One step of the routing plan.
#[derive(Debug, Clone, Serialize)]
pub struct StepInfo {
    /// Its name (as in decision traces).
    pub step: &'static str,
    /// The steps it runs after.
    pub after: Vec<&'static str>,
}

/// A critic and its schedule.
#[derive(Debug, Clone, Serialize)]
pub struct CriticInfo {
    /// Its name.
    pub name: String,
    /// When and how it runs.
    pub schedule: Profile,
}

/// What the engine does, for `/v1/capabilities`.
#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    /// The six paths.
    pub paths: Vec<PathInfo>,
    /// The routing plan.
    pub plan: Vec<StepInfo>,
    /// The critics, with their schedules.
    pub critics: Vec<CriticInfo>,
}

impl Fanline {
    /// The hub's state.
    pub fn hub_status(&self) -> Result<Status> {
        let model = match self.embedder() {
            Ok(e) => ModelStatus { id: Some(e.model_id().to_string()), dim: e.dim(), error: None },
            Err(err) => ModelStatus { id: None, dim: self.config.embedder.dim, error: Some(err.to_string()) },
        };
        let m = self.metrics(None, 1)?;
        Ok(Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            model,
            providers: self.chain()?.stats(),
            pending_offers: m.pending_offers,
            queued: m.backlog,
        })
    }

    /// What the engine does.
    pub fn capabilities(&self) -> Result<Capabilities> {
        use fanline_engine::RoutePath::*;
        let paths = vec![
            PathInfo { path: A, what: "answer from the creator's documents, with sources" },
            PathInfo { path: B, what: "ask a clarifying question when the message is too vague" },
            PathInfo { path: C, what: "serve the creator's earlier answer to the same question" },
            PathInfo { path: D, what: "offer to send the question to the creator" },
            PathInfo { path: E, what: "queued for the creator once the fan accepts, within the caps" },
            PathInfo { path: F, what: "decline politely, with the reason and an alternative" },
        ];
        let plan =
            fanline_engine::route::STEPS.iter().map(|(step, after)| StepInfo { step, after: after.to_vec() }).collect();
        let critics =
            self.critics()?.schedules().into_iter().map(|(name, schedule)| CriticInfo { name, schedule }).collect();
        Ok(Capabilities { paths, plan, critics })
    }
}

//! What routing needs from outside (the port) and what it is given (the input).

use super::policy::{Action, Policy};
use super::types::{ChunkHit, FanHistory, FanProfile};
use super::RoutingSettings;
use crate::caps::CapWindows;
use crate::reuse::ReuseCandidate;
use crate::signals::TextAnalysis;
use crate::{AgentConfig, Layer, Result};
use chrono::{DateTime, Utc};

/// What routing reaches the store, the index and the model through.
pub trait RouteBackend: Sync {
    /// The fan's history with the agent (its last [`super::HISTORY_MESSAGES`]
    /// messages), and the agent's accepted escalations since the starts of the
    /// current cap windows.
    fn history(&self, agent_id: i64, fan: &FanProfile, caps: &CapWindows) -> Result<FanHistory>;
    /// The message's vector.
    fn embed(&self, text: &str) -> Result<Vec<f32>>;
    /// Vectors of short texts the message is compared with (blocked topics, policy
    /// topic descriptions, the sentences of the passages found); cached by the
    /// implementation, they rarely change.
    fn phrase_vectors(&self, phrases: &[String]) -> Result<Vec<Vec<f32>>>;
    /// The canonical answers closest to `vector` that a fan at `layer` may see, one per
    /// answer, scored by [`crate::reuse::score_answers`], with their phrasing counts and
    /// (when `settings.reuse.per_answer`) their own thresholds.
    fn canonical(
        &self,
        agent_id: i64,
        vector: &[f32],
        layer: Layer,
        settings: &RoutingSettings,
        k: usize,
    ) -> Result<Vec<ReuseCandidate>>;
    /// The chunks closest to the message that a fan at `layer` may see.
    fn chunks(&self, agent_id: i64, vector: &[f32], text: &str, layer: Layer, k: usize) -> Result<Vec<ChunkHit>>;
    /// Similarity of the closest generic off-topic example (the set shipped with the
    /// app), if any is stored.
    fn off_topic(&self, vector: &[f32]) -> Result<Option<f32>> {
        let _ = vector;
        Ok(None)
    }
}

/// One message to route, with the rules it is routed under.
#[derive(Debug, Clone)]
pub struct RouteInput<'a> {
    /// The agent the message is for.
    pub agent_id: i64,
    /// The creator's rules.
    pub rules: &'a AgentConfig,
    /// The calibrated thresholds.
    pub settings: &'a RoutingSettings,
    /// The policy file in force.
    pub policy: &'a Policy,
    /// Who wrote it.
    pub fan: &'a FanProfile,
    /// The message as routed: the fan's words, read after their previous message when
    /// they follow up on it.
    pub message: &'a str,
    /// What its text says by itself ([`crate::signals::analyse`] of `message`).
    pub text: &'a TextAnalysis,
    /// The time of routing.
    pub now: DateTime<Utc>,
    /// An action decided outside the plan (a critic's verdict on the message or on a
    /// drafted answer), with why: applied like a policy action.
    pub forced: Option<(Action, String)>,
    /// Run each wave's steps concurrently (see [`crate::route::Plan::run_with`]).
    pub parallel: bool,
}

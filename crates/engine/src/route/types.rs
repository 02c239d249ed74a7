//! What routing reads (the fan, their history, the search results) and what it
//! produces (signals, the path, the plan for an escalation or a refusal).

use crate::hours::Availability;
use crate::reuse::{ReuseCandidate, ReuseVerdict};
use crate::signals::risk::RiskTier;
use crate::signals::{PiiKind, TextStats};
use crate::{EscalationReason, Layer, RoutePath, Tier};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The fan a message comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FanProfile {
    pub id: i64,
    pub handle: String,
    pub tier: Tier,
    pub layer: Layer,
}

/// What the store knows about the fan and the agent's caps, read during routing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FanHistory {
    /// Escalations of this fan to this agent, ever (any status).
    pub earlier_escalations: u32,
    /// Offers this fan declined or let expire.
    pub declined_offers: u32,
    /// The agent's escalations accepted in the current day and week windows.
    pub escalations_today: u32,
    pub escalations_this_week: u32,
    /// The path of the previous decision in this conversation.
    pub previous_path: Option<RoutePath>,
    /// The last messages of the conversation, oldest first, as (role, body); the
    /// message being routed is the last one.
    pub recent_messages: Vec<(String, String)>,
}

/// A chunk found for the message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChunkHit {
    pub chunk_id: i64,
    pub document_id: i64,
    pub title: String,
    pub source_path: String,
    pub heading: String,
    pub text: String,
    pub layer: Layer,
    pub similarity: f32,
}

/// A topic the message is on: a blocked topic of the agent or a policy topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TopicHit {
    pub topic: String,
    /// "keyword" or "meaning".
    pub by: &'static str,
    /// For "meaning": the cosine similarity to the topic's description.
    pub similarity: Option<f32>,
    /// A blocked topic (else a policy topic).
    pub blocked: bool,
}

/// Everything routing measured about a message; stored with the decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Signals {
    /// Best similarity among the canonical answers and the chunks the fan may see.
    pub similarity: f32,
    pub canonical_similarity: Option<f32>,
    pub chunk_similarity: Option<f32>,
    /// 1 − similarity.
    pub novelty: f64,
    pub complexity: f64,
    pub vagueness: f64,
    /// How sure an answer from the documents would be (0–1).
    pub confidence: f64,
    /// Chunks at least `support_similarity` close.
    pub supporting_chunks: usize,
    pub risk: RiskTier,
    pub risk_reasons: Vec<String>,
    pub pii: Vec<PiiKind>,
    pub topics: Vec<TopicHit>,
    pub text: TextStats,
}

/// An escalation to offer (path D).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EscalationPlan {
    pub reason: EscalationReason,
    pub priority: i64,
    /// Outside the creator's hours: when they are back.
    pub expected_reply_after: Option<DateTime<Utc>>,
    pub context_summary: String,
}

/// Why a message is refused (path F), and what the fan can do instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Refusal {
    /// A stable code: tier_not_allowed, blocked_topic, escalation_disabled,
    /// daily_cap_reached, weekly_cap_reached, outside_hours, policy.
    pub code: &'static str,
    pub reason: String,
    pub alternative: Alternative,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alternative {
    /// A close canonical answer the fan may see.
    CanonicalAnswer { canonical_id: i64, similarity: f32 },
    /// Ask again after this time (caps reset, the creator is back).
    TryAgainAt { at: DateTime<Utc> },
    /// Something to suggest in words.
    Suggestion { text: String },
}

/// The outcome of routing one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Routed {
    pub path: RoutePath,
    /// One sentence: why this path.
    pub reason: String,
    /// None when the plan decided before measuring (early exit).
    pub signals: Option<Signals>,
    pub trace: super::Trace,
    /// Path C: the answer served. Any path: the best candidates seen.
    pub reuse: Option<ReuseVerdict>,
    pub canonical: Vec<ReuseCandidate>,
    /// Path A: the grounding (and any path: what was found).
    pub chunks: Vec<ChunkHit>,
    pub escalation: Option<EscalationPlan>,
    pub refusal: Option<Refusal>,
    pub availability: Option<Availability>,
}

impl Routed {
    /// The canonical answer served on path C.
    pub fn served(&self) -> Option<&ReuseCandidate> {
        match (&self.reuse, self.path) {
            (Some(ReuseVerdict::Reuse { index, .. }), RoutePath::C) => self.canonical.get(*index),
            _ => None,
        }
    }
}

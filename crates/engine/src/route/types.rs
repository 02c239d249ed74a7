//! What routing reads (the fan, their history, the search results) and what it
//! produces (signals, and the outcome: answer, clarify, reuse, offer or refuse).

use crate::hours::Availability;
use crate::reuse::{ReuseCandidate, ReuseVerdict};
use crate::signals::risk::RiskTier;
use crate::signals::{PiiKind, TextStats};
use crate::{EscalationReason, Layer, RoutePath, Tier};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The fan a message comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FanProfile {
    /// The fan's id in the store.
    pub id: i64,
    /// The handle the creator knows the fan by.
    pub handle: String,
    /// The fan's tier (free, follower, paid).
    pub tier: Tier,
    /// The highest layer of content the fan may see.
    pub layer: Layer,
}

/// What the store knows about the fan and the agent's caps, read during routing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FanHistory {
    /// Escalations of this fan to this agent, ever (any status).
    pub earlier_escalations: u32,
    /// Offers this fan declined or let expire.
    pub declined_offers: u32,
    /// The agent's escalations accepted in the current day window.
    pub escalations_today: u32,
    /// The agent's escalations accepted in the current week window.
    pub escalations_this_week: u32,
    /// The path of the previous decision in this conversation.
    pub previous_path: Option<RoutePath>,
    /// The last messages of the conversation, oldest first, as (role, body); the
    /// message being routed is the last one.
    pub recent_messages: Vec<(String, String)>,
}

/// Messages of the conversation read for routing, prompts and summaries.
pub const HISTORY_MESSAGES: usize = 6;

/// A chunk found for the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChunkHit {
    /// The chunk's id.
    pub chunk_id: i64,
    /// The document it belongs to.
    pub document_id: i64,
    /// The document's title.
    pub title: String,
    /// Where the document was imported from.
    pub source_path: String,
    /// The heading path of the chunk ("Guide > Gear").
    pub heading: String,
    /// The chunk's text.
    pub text: String,
    /// The chunk's layer.
    pub layer: Layer,
    /// Cosine similarity to the message.
    pub similarity: f32,
    /// The passage's sentence closest to the message by meaning, when
    /// measured: a passage about several things is diluted as a whole, one of its
    /// sentences is not ("She started the YouTube channel in 2019…").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closest: Option<ClosestSentence>,
}

/// A passage's sentence closest to the message, with its cosine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ClosestSentence {
    /// The sentence.
    pub text: String,
    /// Its cosine similarity to the message.
    pub similarity: f32,
}

impl ChunkHit {
    /// How close the passage is to the message: the passage as a whole or its closest
    /// sentence, whichever is closer.
    pub fn closeness(&self) -> f32 {
        self.closest.as_ref().map_or(self.similarity, |c| c.similarity.max(self.similarity))
    }
}

/// How a topic was recognised in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// A keyword of the topic appears as a whole word or phrase.
    Keyword,
    /// The message is close in meaning to the topic's description.
    Meaning,
}

impl std::fmt::Display for MatchedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MatchedBy::Keyword => "keyword",
            MatchedBy::Meaning => "meaning",
        })
    }
}

/// A topic the message is on: a blocked topic of the agent or a policy topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TopicHit {
    /// The topic's name.
    pub topic: String,
    /// How it was recognised.
    pub by: MatchedBy,
    /// For [`MatchedBy::Meaning`]: the cosine similarity to the topic's description.
    pub similarity: Option<f32>,
    /// A blocked topic (else a policy topic).
    pub blocked: bool,
}

/// Everything routing measured about a message; stored with the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Signals {
    /// Best similarity among the canonical answers and the chunks the fan may see.
    pub similarity: f32,
    /// Best canonical answer's score, if any answer is visible.
    pub canonical_similarity: Option<f32>,
    /// Best chunk's cosine similarity, if any chunk is visible.
    pub chunk_similarity: Option<f32>,
    /// 1 − similarity.
    pub novelty: f64,
    /// How complex the message is (0–1).
    pub complexity: f64,
    /// How vague the message is (0–1).
    pub vagueness: f64,
    /// How sure an answer from the documents would be (0–1).
    pub confidence: f64,
    /// Share of the message's content words the best chunk speaks of (0–1; 0 in
    /// decisions stored before it was measured).
    #[serde(default)]
    pub coverage: f64,
    /// Similarity of the closest generic off-topic example shipped with the app (`None`:
    /// none stored, or decisions stored before it was measured).
    #[serde(default)]
    pub off_topic_similarity: Option<f32>,
    /// Names the message asks about (a product, a place: "PayPal") that none of the
    /// passages close to it mentions, so they cannot answer it.
    #[serde(default)]
    pub unnamed: Vec<String>,
    /// Chunks at least `support_similarity` close.
    pub supporting_chunks: usize,
    /// The message's risk tier.
    pub risk: RiskTier,
    /// Why it has that tier.
    pub risk_reasons: Vec<String>,
    /// Kinds of personal data found in the message.
    pub pii: Vec<PiiKind>,
    /// Topics the message is on.
    pub topics: Vec<TopicHit>,
    /// The counts complexity and vagueness were computed from.
    pub text: TextStats,
}

/// An escalation to offer (path D).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EscalationPlan {
    /// Why the creator should see it.
    pub reason: EscalationReason,
    /// Its place in the queue (higher first).
    pub priority: i64,
    /// Outside the creator's hours: when they are back.
    pub expected_reply_after: Option<DateTime<Utc>>,
    /// The conversation so far, for the creator.
    pub context_summary: String,
}

/// Why a message is refused: a stable code for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The fan's tier is not among the tiers this inbox serves.
    TierNotAllowed,
    /// The message is on a topic the creator does not take.
    BlockedTopic,
    /// It would go to the creator, but escalation is off.
    EscalationDisabled,
    /// It would go to the creator, but today's escalations are used.
    DailyCapReached,
    /// It would go to the creator, but this week's escalations are used.
    WeeklyCapReached,
    /// It would go to the creator, who is away and refuses questions then.
    OutsideHours,
    /// The policy file (or a critic's verdict it maps) refuses it.
    Policy,
    /// The message is about nothing the creator covers (general knowledge, a task
    /// for another service); it never reaches the creator's queue.
    OffTopic,
}

impl RefusalCode {
    /// The code as programs see it.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::TierNotAllowed => "tier_not_allowed",
            RefusalCode::BlockedTopic => "blocked_topic",
            RefusalCode::EscalationDisabled => "escalation_disabled",
            RefusalCode::DailyCapReached => "daily_cap_reached",
            RefusalCode::WeeklyCapReached => "weekly_cap_reached",
            RefusalCode::OutsideHours => "outside_hours",
            RefusalCode::Policy => "policy",
            RefusalCode::OffTopic => "off_topic",
        }
    }
}

/// Why a message is refused (path F), and what the fan can do instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Refusal {
    /// A stable code.
    pub code: RefusalCode,
    /// One sentence for the creator: why.
    pub reason: String,
    /// What the fan can do instead.
    pub alternative: Alternative,
}

/// What a refused fan can do instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alternative {
    /// A close canonical answer the fan may see.
    CanonicalAnswer {
        /// The answer's id.
        canonical_id: i64,
        /// How close it is.
        similarity: f32,
    },
    /// Ask again after this time (caps reset, the creator is back).
    TryAgainAt {
        /// When.
        at: DateTime<Utc>,
    },
    /// Something to suggest in words.
    Suggestion {
        /// The suggestion.
        text: String,
    },
}

/// What routing decided for a message: one of the five things a message can lead to
/// (path E, the queue, follows only from the fan accepting an offer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolution {
    /// Path A: answer from the documents.
    Answer,
    /// Path B: ask a clarifying question.
    Clarify,
    /// Path C: serve this canonical answer.
    Reuse {
        /// The answer served.
        candidate: ReuseCandidate,
    },
    /// Path D: offer to send it to the creator.
    Offer {
        /// How it would be queued.
        plan: EscalationPlan,
    },
    /// Path F: refuse it.
    Refuse {
        /// Why, and what instead.
        refusal: Refusal,
    },
}

impl Resolution {
    /// The path letter of this outcome.
    pub fn path(&self) -> RoutePath {
        match self {
            Resolution::Answer => RoutePath::A,
            Resolution::Clarify => RoutePath::B,
            Resolution::Reuse { .. } => RoutePath::C,
            Resolution::Offer { .. } => RoutePath::D,
            Resolution::Refuse { .. } => RoutePath::F,
        }
    }

    /// The refusal, on path F.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Resolution::Refuse { refusal } => Some(refusal),
            _ => None,
        }
    }

    /// The escalation plan, on path D.
    pub fn offer(&self) -> Option<&EscalationPlan> {
        match self {
            Resolution::Offer { plan } => Some(plan),
            _ => None,
        }
    }

    /// The canonical answer served, on path C.
    pub fn served(&self) -> Option<&ReuseCandidate> {
        match self {
            Resolution::Reuse { candidate } => Some(candidate),
            _ => None,
        }
    }
}

/// The outcome of routing one message, with everything measured on the way.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Routed {
    /// What was decided.
    pub resolution: Resolution,
    /// One sentence: why.
    pub reason: String,
    /// None when the plan decided before measuring (early exit).
    pub signals: Option<Signals>,
    /// Every step: when it ran, how long, what it found.
    pub trace: super::Trace,
    /// The reuse verdict on the best candidates (None on early exit).
    pub reuse: Option<ReuseVerdict>,
    /// The canonical answers judged, best first.
    pub canonical: Vec<ReuseCandidate>,
    /// The chunks found (path A's grounding).
    pub chunks: Vec<ChunkHit>,
    /// The fan's history as routing read it (None on early exit).
    pub history: Option<FanHistory>,
    /// Whether the creator was available, when an escalation was considered.
    pub availability: Option<Availability>,
}

impl Routed {
    /// The path letter.
    pub fn path(&self) -> RoutePath {
        self.resolution.path()
    }

    /// The conversation's last messages as routing read them (empty on early exit).
    pub fn recent_messages(&self) -> &[(String, String)] {
        self.history.as_ref().map(|h| h.recent_messages.as_slice()).unwrap_or(&[])
    }
}

//! What a critic is, what it checks, what it says, and how it is scheduled.

use fanline_engine::signals::risk::Sensitive;
use fanline_engine::signals::{PiiMatch, RiskTier};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Stages run in this order; a later stage may depend on what an earlier one found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    PreValidation,
    Fast,
    Core,
    Deep,
    PostProcessing,
}

impl Stage {
    pub const ALL: [Stage; 5] = [Stage::PreValidation, Stage::Fast, Stage::Core, Stage::Deep, Stage::PostProcessing];
}

/// When a critic runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RunPolicy {
    /// Every time.
    Always,
    /// Only when an earlier stage found a violation.
    OnViolation,
    /// Only for HIGH or CRITICAL messages.
    OnHighRisk,
}

/// How a critic is scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Profile {
    pub stage: Stage,
    /// 1 runs first within its stage.
    pub priority: u8,
    pub policy: RunPolicy,
    #[serde(with = "millis")]
    pub timeout: Duration,
    /// When the critic cannot give a verdict, treat the text as violating (safety).
    pub fail_closed: bool,
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

impl Profile {
    /// A critic of the core stage with this priority (1 runs first) that always runs,
    /// times out after 10 s, and fails open.
    pub const fn core(priority: u8) -> Profile {
        Profile {
            stage: Stage::Core,
            priority,
            policy: RunPolicy::Always,
            timeout: Duration::from_secs(10),
            fail_closed: false,
        }
    }

    /// When it cannot judge, the text is held back (safety critics).
    pub const fn fails_closed(self) -> Profile {
        Profile { fail_closed: true, ..self }
    }

    /// It runs when `policy` says.
    pub const fn when(self, policy: RunPolicy) -> Profile {
        Profile { policy, ..self }
    }

    /// It runs in `stage`.
    pub const fn in_stage(self, stage: Stage) -> Profile {
        Profile { stage, ..self }
    }

    /// It times out after `timeout`.
    pub const fn timeout(self, timeout: Duration) -> Profile {
        Profile { timeout, ..self }
    }
}

/// What is checked: the fan's message, and the drafted answer when there is one.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Subject {
    pub message: String,
    /// The answer about to be sent (none when only the message is checked).
    pub draft: Option<String>,
    pub risk: Option<RiskTier>,
    /// The passages the draft was written from (for grounding).
    pub passages: Vec<String>,
    pub blocked_topics: Vec<String>,
    /// Phrases the persona never uses.
    pub forbidden_phrases: Vec<String>,
    /// The longest answer the creator wants, in characters (0: no limit).
    pub max_answer_chars: usize,
    /// The personal data already found in the message (by the routing plan's text
    /// signals), so the critics do not scan it again; `None`: scan it.
    #[serde(skip)]
    pub message_pii: Option<Vec<PiiMatch>>,
    /// The sensitive subjects already found in the message; `None`: scan it.
    #[serde(skip)]
    pub message_sensitive: Option<Vec<(Sensitive, RiskTier)>>,
}

impl Subject {
    pub fn high_risk(&self) -> bool {
        matches!(self.risk, Some(RiskTier::High | RiskTier::Critical))
    }
}

/// How serious a violation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Violation {
    /// A stable code: pii.email, safety.self_harm, topic.blocked, grounding.unsupported…
    pub code: String,
    pub message: String,
    pub severity: Severity,
    /// Byte range in the text it was found in (for redaction).
    pub span: Option<(usize, usize)>,
    /// The text it was found in.
    pub r#in: Place,
}

/// Which text a violation was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// The fan's message.
    Message,
    /// The answer about to be sent.
    Draft,
}

impl Place {
    /// "message" or "draft".
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Message => "message",
            Place::Draft => "draft",
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a critic returns. `value` and `score` are required (validation checks them):
/// `value` is the critic's finding (free-form JSON), `score` its confidence that the
/// text is fine, 0–1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Output {
    pub value: Option<serde_json::Value>,
    pub score: Option<f64>,
    pub violations: Vec<Violation>,
}

impl Output {
    /// A well-formed output: the violations found and a score that falls with them.
    pub fn found(violations: Vec<Violation>) -> Output {
        let score = if violations.is_empty() { 1.0 } else { 0.0 };
        Output { value: Some(serde_json::json!({ "violations": violations.len() })), score: Some(score), violations }
    }
}

/// Why a critic could not give a verdict.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CriticError {
    /// Worth another try (a model that timed out, a busy service).
    #[error("transient: {0}")]
    Transient(String),
    #[error("{0}")]
    Fatal(String),
}

/// A critic.
pub trait Critic: Send + Sync {
    /// Its name, as the trace shows it.
    fn name(&self) -> &str;
    /// How it is scheduled: said by each critic, never guessed from its name.
    fn profile(&self) -> Profile;
    /// Check the subject.
    fn check<'a>(&'a self, subject: &'a Subject) -> BoxFuture<'a, Result<Output, CriticError>>;
}

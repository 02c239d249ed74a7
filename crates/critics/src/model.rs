//! What a critic is, what it checks, what it says, and how it is scheduled.

use fanline_engine::signals::RiskTier;
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

/// The scheduling a critic's name implies (overridable per critic):
///
/// | name contains | stage | priority | policy |
/// |---|---|---|---|
/// | safety, security, critical | core | 1 | always (fails closed) |
/// | rights, bias | core | 2 | always |
/// | fairness, ethics, harm | core | 3 | always |
/// | privacy, pii, compliance | core | 4 | on high risk |
/// | deep, comprehensive, detailed | deep | 5 | on violation |
/// | quick | fast | 5 | always |
/// | style, quality | core | 7 | always |
/// | documentation, metadata | core | 9 | always |
/// | anything else | core | 5 | always |
pub fn classify(name: &str) -> Profile {
    let n = name.to_lowercase();
    let has = |ws: &[&str]| ws.iter().any(|w| n.contains(w));
    let mut p = Profile {
        stage: Stage::Core,
        priority: 5,
        policy: RunPolicy::Always,
        timeout: Duration::from_secs(10),
        fail_closed: false,
    };
    if has(&["safety", "security", "critical"]) {
        p.priority = 1;
        p.fail_closed = true;
    } else if has(&["rights", "bias"]) {
        p.priority = 2;
    } else if has(&["fairness", "ethics", "harm"]) {
        p.priority = 3;
    } else if has(&["privacy", "pii", "compliance"]) {
        p.priority = 4;
        p.policy = RunPolicy::OnHighRisk;
    } else if has(&["style", "quality"]) {
        p.priority = 7;
    } else if has(&["documentation", "metadata"]) {
        p.priority = 9;
    }
    if has(&["deep", "comprehensive", "detailed"]) {
        p.stage = Stage::Deep;
        p.policy = RunPolicy::OnViolation;
        p.timeout = Duration::from_secs(30);
    } else if has(&["quick"]) {
        p.stage = Stage::Fast;
    }
    p
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
    /// "message" or "draft".
    pub r#in: String,
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
    fn name(&self) -> &str;
    /// Check the subject.
    fn check<'a>(&'a self, subject: &'a Subject) -> BoxFuture<'a, Result<Output, CriticError>>;
}

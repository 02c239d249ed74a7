//! Signals computed from a message's text alone: personal data in it, how complex it
//! is, how vague it is, the sensitive subjects it touches. They are computed once per
//! message ([`analyse`]): the routing plan and the critics both read them.

pub mod pii;
pub mod risk;
pub mod text;

pub use pii::{find_pii, PiiKind, PiiMatch};
pub use risk::RiskTier;
pub use text::{complexity, vagueness, TextStats};

use risk::{assess, sensitive_subjects, Sensitive, CRISIS};

/// What a message's text says by itself.
#[derive(Debug, Clone, PartialEq)]
pub struct TextAnalysis {
    /// The counts complexity and vagueness come from.
    pub stats: TextStats,
    /// How complex it is (0–1).
    pub complexity: f64,
    /// How vague it is (0–1).
    pub vagueness: f64,
    /// Personal data in it, with byte offsets.
    pub pii: Vec<PiiMatch>,
    /// Sensitive subjects it touches, with the tier each raises it to.
    pub sensitive: Vec<(Sensitive, RiskTier)>,
}

impl TextAnalysis {
    /// Whether it expresses suicidal intent or an acute crisis: the reply then carries
    /// crisis resources and the message goes to the creator at the top of the queue.
    pub fn crisis(&self) -> bool {
        self.sensitive.iter().any(|(s, _)| s.subject == CRISIS)
    }

    /// The risk tier from the text alone (the plan refines it with topic closeness).
    pub fn risk(&self) -> RiskTier {
        assess(&self.pii, &self.sensitive, None).0
    }
}

/// Analyse a message's text: every detector runs once.
pub fn analyse(message: &str) -> TextAnalysis {
    let stats = text::stats(message);
    TextAnalysis {
        complexity: complexity(&stats),
        vagueness: vagueness(&stats),
        pii: find_pii(message),
        sensitive: sensitive_subjects(message),
        stats,
    }
}

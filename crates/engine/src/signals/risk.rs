//! How risky a message is: LOW, MEDIUM, HIGH or CRITICAL, with the reasons.
//!
//! - CRITICAL: words of crisis or self-harm, or a payment card, IBAN or national ID
//!   number in the message.
//! - HIGH: other personal data (email, phone, street address), a request for medical,
//!   legal or financial advice, or a message within 0.1 of the similarity at which it
//!   would be on a blocked topic.
//! - MEDIUM: harassment or hostility, or within 0.2 of a blocked topic.
//! - LOW: none of these.

use super::pii::{PiiKind, PiiMatch};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How risky a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum RiskTier {
    /// Nothing of note.
    Low,
    /// Hostility, or near a blocked topic.
    Medium,
    /// Personal data, advice asked for, or close to a blocked topic.
    High,
    /// Crisis, or payment or identity data.
    Critical,
}

impl RiskTier {
    /// The tier's name, lower-case.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskTier::Low => "low",
            RiskTier::Medium => "medium",
            RiskTier::High => "high",
            RiskTier::Critical => "critical",
        }
    }
}

impl fmt::Display for RiskTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().to_uppercase())
    }
}

/// Sensitive subjects found by keyword, with the word that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Sensitive {
    /// The subject (crisis, medical, legal, financial, harassment).
    pub subject: &'static str,
    /// The word that matched.
    pub word: String,
}

/// The subject of suicidal intent and acute crisis.
pub const CRISIS: &str = "crisis";

const SUBJECTS: &[(&str, RiskTier, &[&str])] = &[
    (
        CRISIS,
        RiskTier::Critical,
        &[
            "suicide",
            "suicidal",
            "kill myself",
            "end my life",
            "ending my life",
            "self-harm",
            "self harm",
            "hurt myself",
            "want to die",
            "cutting myself",
            "overdose",
            "take my own life",
            "don't want to live",
            "dont want to live",
            "no reason to live",
            "better off dead",
            "end it all",
            "not safe at home",
            "going to hurt me",
        ],
    ),
    (
        "medical",
        RiskTier::High,
        &["diagnos", "dosage", "dose of", "medication", "prescription", "symptom", "side effect", "chest pain"],
    ),
    ("legal", RiskTier::High, &["lawsuit", "sue ", "lawyer", "legal advice", "contract dispute", "copyright claim"]),
    (
        "financial",
        RiskTier::High,
        &["invest in", "investment advice", "stocks to buy", "crypto to buy", "tax advice", "my taxes", "loan"],
    ),
    (
        "harassment",
        RiskTier::Medium,
        &["idiot", "stupid", "hate you", "shut up", "loser", "i know where you live", "threat"],
    ),
];

/// The sensitive subjects a message touches, by keyword (lower-cased substring at a
/// word start).
pub fn sensitive_subjects(text: &str) -> Vec<(Sensitive, RiskTier)> {
    let lower = format!(" {}", text.to_lowercase());
    let mut out = Vec::new();
    for (subject, tier, words) in SUBJECTS {
        if let Some(w) = words.iter().find(|w| {
            lower.match_indices(*w).any(|(i, _)| !lower[..i].chars().last().is_some_and(|c| c.is_alphanumeric()))
        }) {
            out.push((Sensitive { subject, word: w.trim().to_string() }, *tier));
        }
    }
    out
}

/// Whether `text` expresses suicidal intent or an acute crisis (the crisis words alone,
/// without the rest of the analysis).
pub fn in_crisis(text: &str) -> bool {
    sensitive_subjects(text).iter().any(|(s, _)| s.subject == CRISIS)
}

/// The risk tier and its reasons. `topic_gap`: how far (in cosine) the message is below
/// the similarity at which it would be on a blocked topic (None: no blocked topics).
pub fn assess(
    pii: &[PiiMatch],
    sensitive: &[(Sensitive, RiskTier)],
    topic_gap: Option<f32>,
) -> (RiskTier, Vec<String>) {
    let mut tier = RiskTier::Low;
    let mut reasons = Vec::new();
    let mut raise = |t: RiskTier, why: String| {
        tier = tier.max(t);
        reasons.push(format!("{t}: {why}"));
    };
    for p in pii {
        let t = match p.kind {
            PiiKind::PaymentCard | PiiKind::Iban | PiiKind::NationalId => RiskTier::Critical,
            _ => RiskTier::High,
        };
        raise(t, format!("personal data in the message ({:?})", p.kind));
    }
    for (s, t) in sensitive {
        raise(*t, format!("{} (\"{}\")", s.subject, s.word));
    }
    if let Some(gap) = topic_gap {
        if gap <= 0.1 {
            raise(RiskTier::High, format!("close to a blocked topic ({gap:.2} below the line)"));
        } else if gap <= 0.2 {
            raise(RiskTier::Medium, format!("near a blocked topic ({gap:.2} below the line)"));
        }
    }
    (tier, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::find_pii;

    fn tier(text: &str, gap: Option<f32>) -> RiskTier {
        assess(&find_pii(text), &sensitive_subjects(text), gap).0
    }

    #[test]
    fn tiers() {
        assert_eq!(tier("what camera do you use?", None), RiskTier::Low);
        assert_eq!(tier("what camera do you use?", Some(0.15)), RiskTier::Medium);
        assert_eq!(tier("what camera do you use?", Some(0.05)), RiskTier::High);
        assert_eq!(tier("email me at jo@example.com", None), RiskTier::High);
        assert_eq!(tier("my card is 4111 1111 1111 1111", None), RiskTier::Critical);
        assert_eq!(tier("sometimes I want to end my life", None), RiskTier::Critical);
        assert_eq!(tier("what dosage of melatonin should I take", None), RiskTier::High);
        assert_eq!(tier("you are an idiot", None), RiskTier::Medium);
        // Word starts only: "issue" does not contain the legal word "sue ".
        assert_eq!(tier("an issue with my order", None), RiskTier::Low);
        assert!(RiskTier::Critical > RiskTier::High && RiskTier::Medium > RiskTier::Low);
    }
}

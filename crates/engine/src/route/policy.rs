//! A creator's policy file (TOML, one per agent): overrides of the routing rules by the
//! fan's tier, by topic and by risk tier.
//!
//! ```toml
//! [tiers.paid]
//! novelty_threshold = 0.5        # paid fans reach the creator sooner
//! priority = 20
//!
//! [topics.pricing]
//! keywords = ["price", "pricing", "discount"]
//! description = "questions about prices, fees and discounts"   # matched by meaning
//! action = "escalate"            # always D
//!
//! [risk.critical]
//! action = "escalate"
//! priority = 1000                # top of the queue
//! ```
//!
//! Unknown keys and out-of-range values are errors that name the line and the field.

use crate::signals::RiskTier;
use crate::Tier;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A fraction in 0–1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(try_from = "f64", into = "f64")]
pub struct Fraction(pub f64);

impl TryFrom<f64> for Fraction {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&v) {
            Ok(Fraction(v))
        } else {
            Err(format!("must be between 0 and 1, got {v}"))
        }
    }
}

impl From<Fraction> for f64 {
    fn from(f: Fraction) -> f64 {
        f.0
    }
}

/// What a policy makes of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Route as usual.
    Auto,
    /// Always offer escalation to the creator (path D).
    Escalate,
    /// Always refuse (path F).
    Refuse,
}

/// Overrides for one tier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields, default)]
pub struct TierPolicy {
    /// Path A's confidence threshold for this tier.
    pub confidence_threshold: Option<Fraction>,
    /// The novelty from which this tier's messages are novel.
    pub novelty_threshold: Option<Fraction>,
    /// The complexity from which this tier's messages are complex.
    pub complexity_threshold: Option<Fraction>,
    /// Whether this tier's messages may be escalated.
    pub escalation_enabled: Option<bool>,
    /// Added to the priority of this tier's escalations.
    pub priority: Option<i64>,
    /// The creator means to reply to this tier's queued questions within this many
    /// hours of the fan accepting (the queue shows what is overdue; the metrics count
    /// answers within it).
    pub reply_within_hours: Option<std::num::NonZeroU32>,
}

/// A topic and what to do with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields, default)]
pub struct TopicPolicy {
    /// Whole words or phrases that put a message on this topic.
    pub keywords: Vec<String>,
    /// A sentence describing the topic, matched by meaning.
    pub description: Option<String>,
    /// What to do with a message on the topic.
    pub action: Option<Action>,
    /// Added to an escalation's priority.
    pub priority: Option<i64>,
}

/// What to do at a risk tier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields, default)]
pub struct RiskPolicy {
    /// What to do with a message at this tier.
    pub action: Option<Action>,
    /// Added to an escalation's priority.
    pub priority: Option<i64>,
}

/// What to do when a critic finds a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum CriticAction {
    /// Send it anyway (the violation is recorded).
    Allow,
    /// Remove the offending span from the draft.
    Redact,
    /// Write the draft once more; if it still fails, answer without the model.
    Regenerate,
    /// Offer the message to the creator instead (path D).
    Escalate,
    /// Refuse the message (path F).
    Refuse,
}

/// An agent's policy file: overrides by tier, topic and risk, what the critics' findings lead to, the persona's style.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Overrides by fan tier.
    pub tiers: BTreeMap<Tier, TierPolicy>,
    /// Topics by name.
    pub topics: BTreeMap<String, TopicPolicy>,
    /// What to do at each risk tier.
    pub risk: BTreeMap<RiskTier, RiskPolicy>,
    /// Violation code (or its prefix: "pii", "safety.self_harm") → action. The longest
    /// matching key wins; unlisted codes take the defaults of [`Policy::critic_action`].
    pub critics: BTreeMap<String, CriticAction>,
    /// The persona's style (forbidden phrases, longest answer).
    pub style: StylePolicy,
    /// Crisis resources by locale, put in the reply to a message in crisis.
    pub crisis: CrisisPolicy,
}

/// What a fan in crisis reads first, whatever the path: where to get help now.
///
/// ```toml
/// [crisis]
/// locale = "de"                 # the audience's locale when a message has none
/// [crisis.resources]
/// de = "Telefonseelsorge: 0800 111 0 111 (kostenlos, rund um die Uhr)."
/// en-US = "Call or text 988 (Suicide & Crisis Lifeline)."
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields, default)]
pub struct CrisisPolicy {
    /// The locale used when the message comes with none (a BCP 47 tag: "en-GB", "de").
    pub locale: Option<String>,
    /// Locale (or language) → the resources to show, one short paragraph.
    pub resources: BTreeMap<String, String>,
}

/// The international default: an emergency number, a directory of free helplines by
/// country, and the best-known lines.
pub const DEFAULT_CRISIS_RESOURCES: &str = "If you are thinking about ending your life or you are in danger, \
please reach out right now: call your local emergency number, or find a free, confidential helpline \
in your country at https://findahelpline.com. In the US and Canada you can call or text 988; in the \
UK and Ireland, Samaritans answer on 116 123. You don't have to go through this alone.";

impl CrisisPolicy {
    /// The resources for `locale` (else the policy's locale): the exact tag, then its
    /// language ("en" for "en-GB"), then the international default.
    pub fn resources_for(&self, locale: Option<&str>) -> &str {
        let find = |tag: &str| {
            let lang = tag.split(['-', '_']).next().unwrap_or(tag);
            self.resources
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(tag))
                .or_else(|| self.resources.iter().find(|(k, _)| k.eq_ignore_ascii_case(lang)))
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        };
        locale.and_then(find).or_else(|| self.locale.as_deref().and_then(find)).unwrap_or(DEFAULT_CRISIS_RESOURCES)
    }
}

/// The persona's style, checked on every drafted answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields, default)]
pub struct StylePolicy {
    /// Phrases the persona never uses.
    pub forbidden_phrases: Vec<String>,
    /// The longest answer, in characters.
    pub max_answer_chars: Option<usize>,
}

/// A policy file that does not parse or validate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PolicyError {
    /// 1-based; 0 when the error has no position.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
    /// The field (key) on that line, when there is one.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.field, self.line) {
            (_, 0) => write!(f, "{}", self.message),
            (Some(k), l) => write!(f, "line {l}, field `{k}`: {}", self.message),
            (None, l) => write!(f, "line {l}: {}", self.message),
        }
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    /// Parse and validate a policy file's text.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| position(text, s.start)).unwrap_or((0, 0));
            PolicyError { line, column, field: field_at(text, line), message: e.message().trim().to_string() }
        })?;
        for (name, t) in &policy.topics {
            if t.keywords.iter().all(|k| k.trim().is_empty())
                && t.description.as_deref().is_none_or(|d| d.trim().is_empty())
            {
                let line =
                    text.lines().position(|l| l.trim_start().starts_with(&format!("[topics.{name}"))).map(|i| i + 1);
                return Err(PolicyError {
                    line: line.unwrap_or(0),
                    column: 1,
                    field: Some(format!("topics.{name}")),
                    message: "a topic needs keywords or a description to be recognised".into(),
                });
            }
        }
        Ok(policy)
    }

    /// Whether the policy overrides nothing.
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
            && self.topics.is_empty()
            && self.risk.is_empty()
            && self.critics.is_empty()
            && self.style == StylePolicy::default()
            && self.crisis == CrisisPolicy::default()
    }

    /// The action for a violation code: the policy's longest matching key, else the
    /// default — personal data is redacted; crisis, advice and unjudged text go to the
    /// creator; harassment, blocked topics and prompt injection are refused; unsupported
    /// claims and style are rewritten once.
    pub fn critic_action(&self, code: &str) -> CriticAction {
        let matching = self
            .critics
            .iter()
            .filter(|(k, _)| code == k.as_str() || code.starts_with(&format!("{k}.")))
            .max_by_key(|(k, _)| k.len());
        if let Some((_, a)) = matching {
            return *a;
        }
        let family = code.split('.').next().unwrap_or(code);
        match (family, code) {
            ("pii", _) => CriticAction::Redact,
            (_, "safety.harassment") => CriticAction::Refuse,
            ("safety", _) | ("critic", _) => CriticAction::Escalate,
            ("topic", _) | ("injection", _) => CriticAction::Refuse,
            ("grounding", _) | ("style", _) => CriticAction::Regenerate,
            _ => CriticAction::Allow,
        }
    }
}

/// 1-based line and column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

/// The key of a `key = value` line, or the table of a `[table]` line.
fn field_at(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?.trim();
    if let Some(t) = l.strip_prefix('[') {
        return Some(t.trim_end_matches(']').trim().to_string());
    }
    let (k, _) = l.split_once('=')?;
    Some(k.trim().trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[tiers.paid]
novelty_threshold = 0.5
priority = 20

[topics.pricing]
keywords = ["price", "pricing"]
description = "questions about prices, fees and discounts"
action = "escalate"

[risk.critical]
action = "escalate"
priority = 1000
"#;

    #[test]
    fn the_readmes_policy_example_parses() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
        let block = readme.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block");
        let p = Policy::parse(block).unwrap_or_else(|e| panic!("the README's policy: {e}"));
        assert_eq!(p.critic_action("safety.self_harm"), CriticAction::Escalate);
        assert_eq!(p.style.max_answer_chars, Some(900));
    }

    #[test]
    fn the_documented_example_parses() {
        let p = Policy::parse(EXAMPLE).unwrap();
        assert_eq!(p.tiers[&Tier::Paid].novelty_threshold, Some(Fraction(0.5)));
        assert_eq!(p.topics["pricing"].action, Some(Action::Escalate));
        assert_eq!(p.risk[&RiskTier::Critical].priority, Some(1000));
        assert!(Policy::parse("").unwrap().is_empty());
    }

    #[test]
    fn critic_actions_default_and_are_overridden_by_the_longest_key() {
        let p = Policy::parse("[critics]\npii = \"escalate\"\n\"pii.email\" = \"allow\"\n").unwrap();
        assert_eq!(p.critic_action("pii.email"), CriticAction::Allow);
        assert_eq!(p.critic_action("pii.payment_card"), CriticAction::Escalate);
        let d = Policy::default();
        assert_eq!(d.critic_action("pii.phone"), CriticAction::Redact);
        assert_eq!(d.critic_action("safety.self_harm"), CriticAction::Escalate);
        assert_eq!(d.critic_action("safety.harassment"), CriticAction::Refuse);
        assert_eq!(d.critic_action("injection.override"), CriticAction::Refuse);
        assert_eq!(d.critic_action("grounding.unsupported"), CriticAction::Regenerate);
        assert_eq!(d.critic_action("critic.unavailable"), CriticAction::Escalate);
        assert!(Policy::parse("[critics]\npii = \"shred\"\n").is_err());
    }

    #[test]
    fn crisis_resources_follow_the_locale_then_the_language_then_the_default() {
        let p = Policy::parse(
            "[crisis]\nlocale = \"de\"\n[crisis.resources]\nde = \"Telefonseelsorge 0800 111 0 111\"\nen-US = \"Call or text 988\"\n",
        )
        .unwrap();
        assert_eq!(p.crisis.resources_for(Some("en-US")), "Call or text 988");
        assert_eq!(p.crisis.resources_for(Some("de-AT")), "Telefonseelsorge 0800 111 0 111");
        assert_eq!(p.crisis.resources_for(None), "Telefonseelsorge 0800 111 0 111");
        assert_eq!(p.crisis.resources_for(Some("fr")), "Telefonseelsorge 0800 111 0 111");
        let d = Policy::default();
        assert_eq!(d.crisis.resources_for(Some("fr")), DEFAULT_CRISIS_RESOURCES);
        assert!(DEFAULT_CRISIS_RESOURCES.contains("findahelpline.com"));
        assert!(Policy::parse("[crisis]\nphone = \"1\"\n").is_err());
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let e = Policy::parse("[tiers.paid]\nnovelty_threshold = 1.5\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some("novelty_threshold")), "{e}");
        assert!(e.message.contains("between 0 and 1"), "{e}");

        let e = Policy::parse("[tiers.paid]\npriority = 3\nnovelty = 0.5\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (3, Some("novelty")), "{e}");
        assert!(e.message.contains("unknown field"), "{e}");

        let e = Policy::parse("\n[tiers.vip]\npriority = 3\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");

        let e = Policy::parse("[topics.x]\naction = \"explode\"\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some("action")), "{e}");

        let e = Policy::parse("\n\n[topics.empty]\naction = \"refuse\"\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (3, Some("topics.empty")), "{e}");

        let e = Policy::parse("[tiers.paid\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        assert!(e.to_string().starts_with("line 1"), "{e}");
    }
}

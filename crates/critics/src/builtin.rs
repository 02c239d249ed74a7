//! The built-in critics that need no model: personal data, safety, blocked topics,
//! grounding of a drafted answer in its passages, prompt injection, style. (The deep
//! LLM judge lives where the providers are, in `fanline-core`.)

use crate::model::{Critic, CriticError, Output, Place, Profile, RunPolicy, Severity, Stage, Subject, Violation};
use fanline_engine::signals::risk::{sensitive_subjects, RiskTier, Sensitive};
use fanline_engine::signals::text::mentions;
use fanline_engine::signals::{find_pii, PiiKind, PiiMatch};
use futures::future::BoxFuture;
use regex::Regex;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

fn ready(out: Output) -> BoxFuture<'static, Result<Output, CriticError>> {
    Box::pin(std::future::ready(Ok(out)))
}

fn v(code: &str, message: String, severity: Severity, span: Option<(usize, usize)>, place: Place) -> Violation {
    Violation { code: code.into(), message, severity, span, r#in: place }
}

/// The texts a critic looks at, with where each comes from.
fn texts(s: &Subject, message: bool, draft: bool) -> Vec<(&str, Place)> {
    let mut t = Vec::new();
    if message {
        t.push((s.message.as_str(), Place::Message));
    }
    if draft {
        if let Some(d) = &s.draft {
            t.push((d.as_str(), Place::Draft));
        }
    }
    t
}

/// Personal data in a text of the subject: the message's as routing found it, when
/// it did, else a fresh scan.
fn pii_in(s: &Subject, text: &str, place: Place) -> Vec<PiiMatch> {
    match (place, &s.message_pii) {
        (Place::Message, Some(known)) => known.clone(),
        _ => find_pii(text),
    }
}

/// Sensitive subjects in a text of the subject, likewise.
fn sensitive_in(s: &Subject, text: &str, place: Place) -> Vec<(Sensitive, RiskTier)> {
    match (place, &s.message_sensitive) {
        (Place::Message, Some(known)) => known.clone(),
        _ => sensitive_subjects(text),
    }
}

/// Personal data (emails, phones, cards, IBANs, national IDs, addresses).
pub struct Pii {
    name: &'static str,
    message: bool,
}

impl Pii {
    /// "pii": the message and the draft (runs on high risk, by its name).
    pub fn new() -> Pii {
        Pii { name: "pii", message: true }
    }
    /// "quick-pii-draft": only the drafted answer, on every message (fast stage).
    pub fn drafts() -> Pii {
        Pii { name: "quick-pii-draft", message: false }
    }
}

impl Default for Pii {
    fn default() -> Self {
        Self::new()
    }
}

impl Critic for Pii {
    fn name(&self) -> &str {
        self.name
    }
    fn profile(&self) -> Profile {
        if self.message {
            // Personal data in the message matters when the message is risky already.
            Profile::core(4).when(RunPolicy::OnHighRisk)
        } else {
            // Personal data in a draft is checked on every message, cheaply.
            Profile::core(4).in_stage(Stage::Fast)
        }
    }
    fn check<'a>(&'a self, s: &'a Subject) -> BoxFuture<'a, Result<Output, CriticError>> {
        let mut found = Vec::new();
        for (text, place) in texts(s, self.message, true) {
            for m in pii_in(s, text, place) {
                let kind =
                    serde_json::to_value(m.kind).ok().and_then(|k| k.as_str().map(String::from)).unwrap_or_default();
                let sev = match m.kind {
                    PiiKind::PaymentCard | PiiKind::Iban | PiiKind::NationalId => Severity::High,
                    _ => Severity::Medium,
                };
                found.push(v(
                    &format!("pii.{kind}"),
                    format!("{kind} in the {place}"),
                    sev,
                    Some((m.start, m.end)),
                    place,
                ));
            }
        }
        ready(Output::found(found))
    }
}

/// Crisis and harassment in the message; medical, legal or financial advice asked for
/// (those go to the creator rather than being answered automatically).
pub struct Safety;

impl Critic for Safety {
    fn name(&self) -> &str {
        "safety"
    }
    fn profile(&self) -> Profile {
        Profile::core(1).fails_closed()
    }
    fn check<'a>(&'a self, s: &'a Subject) -> BoxFuture<'a, Result<Output, CriticError>> {
        let mut found = Vec::new();
        for (text, place) in texts(s, true, true) {
            for (sub, _) in sensitive_in(s, text, place) {
                let (code, sev) = match sub.subject {
                    "crisis" => ("safety.self_harm", Severity::High),
                    "harassment" => ("safety.harassment", Severity::Medium),
                    other => {
                        // Advice subjects matter in what the fan asks, not in a quoted answer.
                        if place == Place::Draft {
                            continue;
                        }
                        (
                            if other == "medical" {
                                "safety.medical_advice"
                            } else if other == "legal" {
                                "safety.legal_advice"
                            } else {
                                "safety.financial_advice"
                            },
                            Severity::Medium,
                        )
                    }
                };
                found.push(v(code, format!("{} (\"{}\") in the {place}", sub.subject, sub.word), sev, None, place));
            }
        }
        ready(Output::found(found))
    }
}

/// The creator's blocked topics, by whole word or phrase, in the message or the draft.
pub struct BlockedTopics;

impl Critic for BlockedTopics {
    fn name(&self) -> &str {
        "blocked-topics"
    }
    fn profile(&self) -> Profile {
        Profile::core(5)
    }
    fn check<'a>(&'a self, s: &'a Subject) -> BoxFuture<'a, Result<Output, CriticError>> {
        let mut found = Vec::new();
        for (text, place) in texts(s, true, true) {
            let lower = text.to_lowercase();
            for t in &s.blocked_topics {
                if let Some(i) = mentions(&lower, t) {
                    let span = Some((i, i + t.trim().len()));
                    found.push(v(
                        "topic.blocked",
                        format!("the blocked topic \"{t}\" in the {place}"),
                        Severity::High,
                        span,
                        place,
                    ));
                }
            }
        }
        ready(Output::found(found))
    }
}

const STOP: &[&str] = &[
    "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "is", "are", "was", "were",
    "be", "it", "this", "that", "i", "you", "my", "your", "we", "our", "they", "their", "as", "by", "from", "so", "if",
    "do", "does", "can", "will", "would", "should", "have", "has", "had", "not", "no", "yes", "about", "what", "how",
    "which", "who", "when", "where", "why", "me", "also", "there", "here", "all", "any", "some", "just", "than",
    "then", "them",
];

/// Words that carry content: 3+ letters and not a stop word, and every number.
fn content_words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .map(|w| w.to_lowercase())
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()) || (w.chars().count() >= 3 && !STOP.contains(&w.as_str())))
        .collect()
}

/// Each claim (sentence) of a drafted answer is supported by the passages: at least half
/// of its content words occur in them, and every number it states does.
pub struct Grounding {
    /// Share of a sentence's content words that must occur in the passages.
    pub min_overlap: f64,
}

impl Default for Grounding {
    fn default() -> Self {
        Grounding { min_overlap: 0.5 }
    }
}

impl Critic for Grounding {
    fn name(&self) -> &str {
        "grounding"
    }
    fn profile(&self) -> Profile {
        Profile::core(5)
    }
    fn check<'a>(&'a self, s: &'a Subject) -> BoxFuture<'a, Result<Output, CriticError>> {
        let Some(draft) = s.draft.as_deref() else {
            return ready(Output {
                value: Some(serde_json::json!({"checked": 0})),
                score: Some(1.0),
                violations: vec![],
            });
        };
        let vocabulary: HashSet<String> = s.passages.iter().flat_map(|p| content_words(p)).collect();
        let mut found = Vec::new();
        let mut checked = 0;
        let mut offset = 0;
        for sentence in draft.split_inclusive(['.', '!', '?', '\n']) {
            let start = offset;
            offset += sentence.len();
            let t = sentence.trim();
            if t.starts_with("Sources:") || t.starts_with('—') {
                continue;
            }
            let words = content_words(t);
            if words.len() < 3 {
                continue;
            }
            checked += 1;
            let known = words.iter().filter(|w| vocabulary.contains(*w)).count() as f64 / words.len() as f64;
            let numbers: Vec<&String> = words.iter().filter(|w| w.chars().any(|c| c.is_ascii_digit())).collect();
            let missing_number = numbers.iter().find(|n| !vocabulary.contains(**n));
            if known < self.min_overlap || missing_number.is_some() {
                let why = match missing_number {
                    Some(n) => format!("\"{n}\" is in no passage"),
                    None => format!("only {:.0}% of its words are in the passages", known * 100.0),
                };
                found.push(v(
                    "grounding.unsupported",
                    format!("unsupported claim: {t} ({why})"),
                    Severity::Medium,
                    Some((start, offset)),
                    Place::Draft,
                ));
            }
        }
        let score = if checked == 0 { 1.0 } else { 1.0 - found.len() as f64 / checked as f64 };
        ready(Output {
            value: Some(serde_json::json!({"checked": checked, "unsupported": found.len()})),
            score: Some(score),
            violations: found,
        })
    }
}

/// Attempts to override the assistant's instructions, or to reach content of a higher
/// layer, in the fan's message.
pub struct PromptInjection;

fn injection_patterns() -> &'static [(Regex, &'static str)] {
    static P: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    P.get_or_init(|| {
        [
            (r"(?i)\b(ignore|disregard|forget|override)\b.{0,30}\b(instructions?|rules|prompt|guidelines|everything (above|before))\b", "injection.override"),
            (r"(?i)\b(system|hidden|initial|original) (prompt|instructions?|message)\b", "injection.system_prompt"),
            (r"(?i)\b(reveal|show|print|repeat|tell me)\b.{0,20}\b(your|the) (instructions|prompt|rules|configuration)\b", "injection.system_prompt"),
            (r"(?i)\byou are now\b|\bpretend (to be|you are)\b|\bact as (an? )?(admin|developer|the creator|root)\b|\bdeveloper mode\b|\bjailbreak\b|\bDAN\b", "injection.role"),
            (r"(?i)\b(intimate|friends[- ]only|private|locked|paid[- ]only|members[- ]only) (content|posts?|notes|documents?|layer|files?)\b", "injection.layer"),
            (r"(?i)\b(show|give|send|list) me (all|everything|every)\b.{0,30}\b(documents?|files?|notes|content)\b", "injection.layer"),
        ]
        .into_iter()
        .map(|(p, c)| (Regex::new(p).expect("valid pattern"), c))
        .collect()
    })
}

impl Critic for PromptInjection {
    fn name(&self) -> &str {
        "prompt-injection"
    }
    fn profile(&self) -> Profile {
        Profile::core(5)
    }
    fn check<'a>(&'a self, s: &'a Subject) -> BoxFuture<'a, Result<Output, CriticError>> {
        let mut found = Vec::new();
        for (re, code) in injection_patterns() {
            if let Some(m) = re.find(&s.message) {
                found.push(v(
                    code,
                    format!("\"{}\" in the message", m.as_str()),
                    Severity::High,
                    Some((m.start(), m.end())),
                    Place::Message,
                ));
            }
        }
        ready(Output::found(found))
    }
}

/// The draft's length and the phrases the persona never uses.
pub struct Style;

impl Critic for Style {
    fn name(&self) -> &str {
        "style"
    }
    fn profile(&self) -> Profile {
        Profile::core(7)
    }
    fn check<'a>(&'a self, s: &'a Subject) -> BoxFuture<'a, Result<Output, CriticError>> {
        let mut found = Vec::new();
        if let Some(d) = &s.draft {
            let n = d.chars().count();
            if s.max_answer_chars > 0 && n > s.max_answer_chars {
                found.push(v(
                    "style.too_long",
                    format!("{n} characters, over {}", s.max_answer_chars),
                    Severity::Low,
                    None,
                    Place::Draft,
                ));
            }
            let lower = d.to_lowercase();
            for p in &s.forbidden_phrases {
                if let Some(i) = mentions(&lower, p) {
                    found.push(v(
                        "style.forbidden_phrase",
                        format!("\"{p}\" is not in the persona's voice"),
                        Severity::Low,
                        Some((i, i + p.trim().len())),
                        Place::Draft,
                    ));
                }
            }
        }
        ready(Output::found(found))
    }
}

/// The built-in critics that need no model, in one list.
pub fn builtin() -> Vec<Arc<dyn Critic>> {
    vec![
        Arc::new(Pii::drafts()),
        Arc::new(Pii::new()),
        Arc::new(Safety),
        Arc::new(BlockedTopics),
        Arc::new(Grounding::default()),
        Arc::new(PromptInjection),
        Arc::new(Style),
    ]
}

//! The routing plan for one message.
//!
//! ```text
//! wave 0  text_signals    PII, complexity, vagueness, sensitive subjects, keyword topics
//! wave 1  gate            tier not allowed / blocked keyword / refused topic → F (early exit)
//! wave 2  embed ‖ history the query vector, and the fan's history and cap counts (concurrently)
//! wave 3  canonical ‖ chunks ‖ topics   the searches and topic closeness (concurrently)
//! wave 4  signals         similarity, novelty, confidence, risk tier
//! wave 5  policy          the effective rules for this tier, topic and risk
//! wave 6  decide          the path: C, B, A, D, or F
//! ```
//!
//! The gathering steps are here; `policy` and `decide` are in `decide.rs`.

use super::decide::{and_list, decide, policy, refuse, tiers};
use super::policy::{Action, Policy};
use super::types::*;
use super::{Outcome, Plan, RoutingSettings};
use crate::caps::{parse_tz, windows, CapWindows};
use crate::hours::Availability;
use crate::reuse::{judge, ReuseCandidate, ReuseVerdict};
use crate::signals::risk::{assess, sensitive_subjects, RiskTier, Sensitive};
use crate::signals::text::mentions;
use crate::signals::{complexity, find_pii, text, vagueness, PiiMatch, TextStats};
use crate::vector::dot;
use crate::{AgentConfig, Layer, Result, RoutePath};
use chrono::{DateTime, Utc};
use std::sync::OnceLock;

/// What routing reaches the store, the index and the model through.
pub trait RouteBackend: Sync {
    /// The fan's history with the agent, and the agent's accepted escalations since the
    /// starts of the current cap windows.
    fn history(&self, agent_id: i64, fan: &FanProfile, caps: &CapWindows) -> Result<FanHistory>;
    /// The message's vector.
    fn embed(&self, text: &str) -> Result<Vec<f32>>;
    /// Vectors of topic phrases (blocked topics, policy topic descriptions); cached by
    /// the implementation, they rarely change.
    fn topic_vectors(&self, phrases: &[String]) -> Result<Vec<Vec<f32>>>;
    /// The canonical answers closest to `vector` that a fan at `layer` may see, one per
    /// answer, scored by [`crate::reuse::answer_score`] over their best `settings.reuse.top_m`
    /// phrasings, with their phrasing counts and (when `settings.reuse.per_answer`)
    /// their own thresholds.
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
}

/// One message to route, with the rules it is routed under.
#[derive(Debug, Clone)]
pub struct RouteInput<'a> {
    pub agent_id: i64,
    pub rules: &'a AgentConfig,
    pub settings: &'a RoutingSettings,
    pub policy: &'a Policy,
    pub fan: &'a FanProfile,
    pub message: &'a str,
    pub now: DateTime<Utc>,
    /// An action decided outside the plan (a critic's verdict on the message or on a
    /// drafted answer), with why: applied like a policy action.
    pub forced: Option<(super::Action, String)>,
}

/// Candidates and chunks looked at per message.
const CANONICAL_K: usize = 5;
const CHUNK_K: usize = 5;
/// Messages in an escalation's context summary.
pub(super) const SUMMARY_MESSAGES: usize = 5;
/// A canonical answer at least this close is offered as the alternative to a refusal.
pub(super) const ALTERNATIVE_SIMILARITY: f32 = 0.5;

pub(super) struct TextSignals {
    pub(super) stats: TextStats,
    pub(super) complexity: f64,
    pub(super) vagueness: f64,
    pub(super) pii: Vec<PiiMatch>,
    pub(super) sensitive: Vec<(Sensitive, RiskTier)>,
    pub(super) keyword_topics: Vec<TopicHit>,
}

/// The rules in force for this message after the policy's overrides.
#[derive(Debug, Clone)]
pub(super) struct Effective {
    pub(super) confidence_threshold: f64,
    pub(super) novelty_threshold: f64,
    pub(super) complexity_threshold: f64,
    pub(super) escalation_enabled: bool,
    pub(super) forced: Option<(Action, String)>,
    pub(super) priority_bonus: i64,
}

pub(super) struct Decision {
    pub(super) path: RoutePath,
    pub(super) reason: String,
    pub(super) escalation: Option<EscalationPlan>,
    pub(super) refusal: Option<Refusal>,
}

pub(super) struct State<'a> {
    pub(super) input: &'a RouteInput<'a>,
    pub(super) backend: &'a dyn RouteBackend,
    pub(super) caps: CapWindows,
    pub(super) text: OnceLock<TextSignals>,
    pub(super) vector: OnceLock<Vec<f32>>,
    pub(super) history: OnceLock<FanHistory>,
    pub(super) canonical: OnceLock<Vec<ReuseCandidate>>,
    pub(super) chunks: OnceLock<Vec<ChunkHit>>,
    pub(super) topics: OnceLock<Vec<TopicHit>>,
    pub(super) signals: OnceLock<Signals>,
    pub(super) verdict: OnceLock<ReuseVerdict>,
    pub(super) effective: OnceLock<Effective>,
    pub(super) availability: OnceLock<Availability>,
    pub(super) decision: OnceLock<Decision>,
}

impl State<'_> {
    pub(super) fn get<T>(cell: &OnceLock<T>) -> &T {
        cell.get().expect("the plan runs a step after the steps it depends on")
    }
}

fn text_signals(s: &State) -> Result<Outcome> {
    let i = s.input;
    let stats = text::stats(i.message);
    let lower = i.message.to_lowercase();
    let mut keyword_topics = Vec::new();
    for t in &i.rules.blocked_topics {
        if mentions(&lower, t).is_some() {
            keyword_topics.push(TopicHit { topic: t.clone(), by: "keyword", similarity: None, blocked: true });
        }
    }
    for (name, t) in &i.policy.topics {
        if t.keywords.iter().any(|k| mentions(&lower, k).is_some()) {
            keyword_topics.push(TopicHit { topic: name.clone(), by: "keyword", similarity: None, blocked: false });
        }
    }
    let ts = TextSignals {
        complexity: complexity(&stats),
        vagueness: vagueness(&stats),
        pii: find_pii(i.message),
        sensitive: sensitive_subjects(i.message),
        keyword_topics,
        stats,
    };
    let note = format!(
        "complexity {:.2}, vagueness {:.2}, {} personal data, {} keyword topic(s)",
        ts.complexity,
        ts.vagueness,
        ts.pii.len(),
        ts.keyword_topics.len()
    );
    let _ = s.text.set(ts);
    Ok(Outcome::Done(note))
}

fn gate(s: &State) -> Result<Outcome> {
    let i = s.input;
    let t = State::get(&s.text);
    if !i.rules.allowed_user_tiers.contains(&i.fan.tier) {
        return Ok(refuse(
            s,
            "tier_not_allowed",
            format!(
                "the {} tier is not among the tiers this inbox serves ({})",
                i.fan.tier,
                tiers(&i.rules.allowed_user_tiers)
            ),
            Alternative::Suggestion {
                text: format!("This inbox answers {} fans.", and_list(&i.rules.allowed_user_tiers)),
            },
        ));
    }
    if let Some(hit) = t.keyword_topics.iter().find(|h| h.blocked) {
        return Ok(refuse(
            s,
            "blocked_topic",
            format!("the message mentions \"{}\", a topic the creator does not take", hit.topic),
            Alternative::Suggestion { text: "Ask about something else the creator covers.".into() },
        ));
    }
    if let Some(hit) = t.keyword_topics.iter().find(|h| i.policy.topics[&h.topic].action == Some(Action::Refuse)) {
        return Ok(refuse(
            s,
            "policy",
            format!("the policy refuses the topic \"{}\" (keyword)", hit.topic),
            Alternative::Suggestion { text: "Ask about something else the creator covers.".into() },
        ));
    }
    Ok(Outcome::Done(format!("tier {} allowed, no blocked keyword", i.fan.tier)))
}

fn embed(s: &State) -> Result<Outcome> {
    let v = s.backend.embed(s.input.message)?;
    let n = v.len();
    let _ = s.vector.set(v);
    Ok(Outcome::Done(format!("{n}-dimensional vector")))
}

fn history(s: &State) -> Result<Outcome> {
    let h = s.backend.history(s.input.agent_id, s.input.fan, &s.caps)?;
    let note = format!(
        "{} earlier escalation(s), {} declined offer(s); caps used {}/{} today, {}/{} this week; previous path {}",
        h.earlier_escalations,
        h.declined_offers,
        h.escalations_today,
        s.input.rules.max_escalations_per_day,
        h.escalations_this_week,
        s.input.rules.max_escalations_per_week,
        h.previous_path.map(|p| p.as_str()).unwrap_or("none")
    );
    let _ = s.history.set(h);
    Ok(Outcome::Done(note))
}

fn canonical(s: &State) -> Result<Outcome> {
    let i = s.input;
    let c = s.backend.canonical(i.agent_id, State::get(&s.vector).as_slice(), i.fan.layer, i.settings, CANONICAL_K)?;
    let verdict = judge(i.message, &c, &i.settings.reuse);
    let note = match &verdict {
        ReuseVerdict::Reuse { index, similarity, margin } => {
            format!("canonical answer #{} matches ({similarity:.3}, lead {margin:.3})", c[*index].canonical_id)
        }
        ReuseVerdict::Reject { check, detail } => format!("no reuse ({check}: {detail})"),
    };
    let _ = s.canonical.set(c);
    let _ = s.verdict.set(verdict);
    Ok(Outcome::Done(note))
}

fn chunks(s: &State) -> Result<Outcome> {
    let i = s.input;
    let c = s.backend.chunks(i.agent_id, State::get(&s.vector).as_slice(), i.message, i.fan.layer, CHUNK_K)?;
    let note = match c.first() {
        Some(b) => format!("{} chunk(s), best {:.3} ({})", c.len(), b.similarity, b.title),
        None => "no chunk visible to this fan".into(),
    };
    let _ = s.chunks.set(c);
    Ok(Outcome::Done(note))
}

fn topics(s: &State) -> Result<Outcome> {
    let i = s.input;
    let mut phrases: Vec<(String, bool, String)> =
        i.rules.blocked_topics.iter().map(|t| (t.clone(), true, t.clone())).collect();
    for (name, t) in &i.policy.topics {
        if let Some(d) = t.description.as_ref().filter(|d| !d.trim().is_empty()) {
            phrases.push((name.clone(), false, d.clone()));
        }
    }
    let texts: Vec<String> = phrases.iter().map(|p| p.2.clone()).collect();
    let vectors = s.backend.topic_vectors(&texts)?;
    let q = State::get(&s.vector);
    let line = i.settings.blocked_topic_similarity;
    let hits: Vec<TopicHit> = phrases
        .into_iter()
        .zip(vectors)
        .map(|((topic, blocked, _), v)| TopicHit { topic, by: "meaning", similarity: Some(dot(q, &v)), blocked })
        .collect();
    let on = hits.iter().filter(|h| h.similarity.unwrap_or(0.0) >= line).count();
    let note = format!("{} topic(s) compared, {on} at or above {line:.2}", hits.len());
    let _ = s.topics.set(hits);
    Ok(Outcome::Done(note))
}

/// Nothing to compare with: no blocked topics, no policy topic with a description.
fn no_topics(s: &State) -> Option<String> {
    let i = s.input;
    let described = i.policy.topics.values().any(|t| t.description.as_ref().is_some_and(|d| !d.trim().is_empty()));
    if i.rules.blocked_topics.is_empty() && !described {
        let _ = s.topics.set(Vec::new());
        Some("no blocked topics or policy topics".into())
    } else {
        None
    }
}

fn signals(s: &State) -> Result<Outcome> {
    let i = s.input;
    let (t, chunks, canonical) = (State::get(&s.text), State::get(&s.chunks), State::get(&s.canonical));
    let line = i.settings.blocked_topic_similarity;
    let topic_sims = State::get(&s.topics);
    let canonical_similarity = canonical.iter().map(|c| c.similarity).reduce(f32::max);
    let chunk_similarity = chunks.iter().map(|c| c.similarity).reduce(f32::max);
    let similarity = canonical_similarity.into_iter().chain(chunk_similarity).fold(0f32, f32::max).max(0.0);
    let supporting = chunks.iter().filter(|c| c.similarity >= i.settings.support_similarity).count();
    let confidence = confidence(chunk_similarity.unwrap_or(0.0), supporting, t.complexity);
    let closest_blocked = topic_sims.iter().filter(|h| h.blocked).filter_map(|h| h.similarity).reduce(f32::max);
    let (risk, risk_reasons) = assess(&t.pii, &t.sensitive, closest_blocked.map(|c| line - c));
    let mut topics: Vec<TopicHit> = t.keyword_topics.clone();
    topics.extend(topic_sims.iter().filter(|h| h.similarity.unwrap_or(0.0) >= line).cloned());
    let sig = Signals {
        similarity,
        canonical_similarity,
        chunk_similarity,
        // Similarities are f32: round to 6 places so 1 − 0.3f32 is 0.7, not 0.6999999.
        novelty: ((1.0 - similarity as f64).max(0.0) * 1e6).round() / 1e6,
        complexity: t.complexity,
        vagueness: t.vagueness,
        confidence,
        supporting_chunks: supporting,
        risk,
        risk_reasons,
        pii: t.pii.iter().map(|p| p.kind).collect(),
        topics,
        text: t.stats.clone(),
    };
    let note = format!(
        "similarity {:.3}, novelty {:.3}, confidence {:.3}, risk {}",
        sig.similarity, sig.novelty, sig.confidence, sig.risk
    );
    let _ = s.signals.set(sig);
    Ok(Outcome::Done(note))
}

/// Confidence of an answer from the documents: 0.6 × the best chunk's strength + 0.2 ×
/// support + 0.2 × (1 − complexity). Strength rescales the model's question-to-passage
/// cosine, which runs lower than question-to-question: 0.25 or less is no match, 0.60
/// or more a full one. Support counts supporting chunks up to 2, as a share of 2.
pub fn confidence(best_chunk: f32, supporting: usize, complexity: f64) -> f64 {
    let strength = ((best_chunk as f64 - 0.25) / 0.35).clamp(0.0, 1.0);
    let support = supporting.min(2) as f64 / 2.0;
    (0.6 * strength + 0.2 * support + 0.2 * (1.0 - complexity)).clamp(0.0, 1.0)
}

/// Route one message: run the plan and return the decision with its trace.
pub fn route(input: &RouteInput<'_>, backend: &dyn RouteBackend) -> Result<Routed> {
    let tz = parse_tz(&input.rules.timezone)?;
    let state = State {
        input,
        backend,
        caps: windows(input.now, tz),
        text: OnceLock::new(),
        vector: OnceLock::new(),
        history: OnceLock::new(),
        canonical: OnceLock::new(),
        chunks: OnceLock::new(),
        topics: OnceLock::new(),
        signals: OnceLock::new(),
        verdict: OnceLock::new(),
        effective: OnceLock::new(),
        availability: OnceLock::new(),
        decision: OnceLock::new(),
    };
    let plan = Plan::new()
        .step("text_signals", &[], text_signals)?
        .step("gate", &["text_signals"], gate)?
        .step("embed", &["gate"], embed)?
        .step("history", &["gate"], history)?
        .step("canonical", &["embed"], canonical)?
        .step("chunks", &["embed"], chunks)?
        .step_unless("topics", &["embed"], no_topics, topics)?
        .step("signals", &["canonical", "chunks", "topics", "history"], signals)?
        .step("policy", &["signals"], policy)?
        .step("decide", &["policy"], decide)?;
    let trace = plan.run(&state)?;
    let d = state.decision.into_inner().expect("the gate or the decide step decides");
    Ok(Routed {
        path: d.path,
        reason: d.reason,
        signals: state.signals.into_inner(),
        trace,
        reuse: state.verdict.into_inner(),
        canonical: state.canonical.into_inner().unwrap_or_default(),
        chunks: state.chunks.into_inner().unwrap_or_default(),
        escalation: d.escalation,
        refusal: d.refusal,
        availability: state.availability.into_inner(),
    })
}

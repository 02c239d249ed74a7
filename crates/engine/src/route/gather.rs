//! The plan's gathering steps: what the text says, the gate, the query vector and the
//! fan's history, the searches, topic closeness, and the signals they add up to.

use super::decide::{and_list, refuse, tiers};
use super::policy::Action;
use super::state::State;
use super::types::*;
use super::Outcome;
use crate::reuse::{judge, ReuseVerdict};
use crate::signals::risk::assess;
use crate::signals::text::{content_terms, coverage, mentions, named_terms};
use crate::vector::dot;
use crate::Result;

/// Candidates and chunks looked at per message.
const CANONICAL_K: usize = 5;
const CHUNK_K: usize = 5;

pub(super) fn text_signals(s: &State) -> Result<Outcome> {
    let i = s.input;
    let lower = i.message.to_lowercase();
    let mut keyword_topics = Vec::new();
    for t in &i.rules.blocked_topics {
        if mentions(&lower, t).is_some() {
            keyword_topics.push(TopicHit { topic: t.clone(), by: MatchedBy::Keyword, similarity: None, blocked: true });
        }
    }
    for (name, t) in &i.policy.topics {
        if t.keywords.iter().any(|k| mentions(&lower, k).is_some()) {
            keyword_topics.push(TopicHit {
                topic: name.clone(),
                by: MatchedBy::Keyword,
                similarity: None,
                blocked: false,
            });
        }
    }
    let t = i.text;
    let note = format!(
        "complexity {:.2}, vagueness {:.2}, {} personal data, {} keyword topic(s)",
        t.complexity,
        t.vagueness,
        t.pii.len(),
        keyword_topics.len()
    );
    let _ = s.keyword_topics.set(keyword_topics);
    Ok(Outcome::Done(note))
}

pub(super) fn gate(s: &State) -> Result<Outcome> {
    let i = s.input;
    if !i.rules.allowed_user_tiers.contains(&i.fan.tier) {
        return Ok(refuse(
            s,
            RefusalCode::TierNotAllowed,
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
    let topics = State::get(&s.keyword_topics);
    if let Some(hit) = topics.iter().find(|h| h.blocked) {
        return Ok(refuse(
            s,
            RefusalCode::BlockedTopic,
            format!("the message mentions \"{}\", a topic the creator does not take", hit.topic),
            Alternative::Suggestion { text: "Ask about something else the creator covers.".into() },
        ));
    }
    if let Some(hit) = topics.iter().find(|h| i.policy.topics[&h.topic].action == Some(Action::Refuse)) {
        return Ok(refuse(
            s,
            RefusalCode::Policy,
            format!("the policy refuses the topic \"{}\" (keyword)", hit.topic),
            Alternative::Suggestion { text: "Ask about something else the creator covers.".into() },
        ));
    }
    Ok(Outcome::Done(format!("tier {} allowed, no blocked keyword", i.fan.tier)))
}

pub(super) fn embed(s: &State) -> Result<Outcome> {
    let v = s.backend.embed(s.input.message)?;
    let n = v.len();
    let _ = s.vector.set(v);
    Ok(Outcome::Done(format!("{n}-dimensional vector")))
}

pub(super) fn history(s: &State) -> Result<Outcome> {
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

pub(super) fn canonical(s: &State) -> Result<Outcome> {
    let i = s.input;
    let c = s.backend.canonical(i.agent_id, State::get(&s.vector).as_slice(), i.fan.layer, i.settings, CANONICAL_K)?;
    let verdict = judge(i.message, &c, &i.settings.reuse);
    let note = match &verdict {
        ReuseVerdict::Reuse { index, similarity, margin } => {
            let model = c[*index].probability.map(|p| format!(", model {p:.3}")).unwrap_or_default();
            format!("canonical answer #{} matches ({similarity:.3}{model}, lead {margin:.3})", c[*index].canonical_id)
        }
        ReuseVerdict::Reject { check, detail } => format!("no reuse ({check}: {detail})"),
    };
    let _ = s.canonical.set(c);
    let _ = s.verdict.set(verdict);
    Ok(Outcome::Done(note))
}

pub(super) fn chunks(s: &State) -> Result<Outcome> {
    let i = s.input;
    let v = State::get(&s.vector).as_slice();
    let mut c = s.backend.chunks(i.agent_id, v, i.message, i.fan.layer, CHUNK_K)?;
    focus(s, &mut c, v)?;
    let off_topic = s.backend.off_topic(v)?;
    let mut note = match c.first() {
        Some(b) => match &b.closest {
            Some(cl) if cl.similarity > b.similarity => format!(
                "{} chunk(s), best {:.3} ({}; passage {:.3}, its sentence \"{}\" {:.3})",
                c.len(),
                b.closeness(),
                b.title,
                b.similarity,
                super::reply::excerpt(&cl.text, 60),
                cl.similarity
            ),
            _ => format!("{} chunk(s), best {:.3} ({})", c.len(), b.similarity, b.title),
        },
        None => "no chunk visible to this fan".into(),
    };
    if let Some(o) = off_topic {
        note.push_str(&format!("; closest generic off-topic example {o:.3}"));
    }
    let _ = s.chunks.set(c);
    let _ = s.off_topic.set(off_topic);
    Ok(Outcome::Done(note))
}

/// Each passage's sentence closest to the message, measured with the same model (the
/// vectors are cached: the passages a creator's fans reach repeat), and the passages
/// ordered by how close they come either way. Headings are not compared: a question
/// heading is as close to another question as to a paraphrase of its own ("When do new
/// videos come out?" 0.54 to "When did you start your YouTube channel?", "Can I get a
/// refund?" 0.57 to "can I get my money back?"), so it would answer with the wrong
/// passage.
fn focus(s: &State, chunks: &mut [ChunkHit], v: &[f32]) -> Result<()> {
    let mut texts: Vec<String> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let parts = super::reply::sentences(&c.text);
        if parts.len() < 2 {
            continue; // one sentence: the passage is its own closest sentence
        }
        for t in parts {
            texts.push(t);
            owner.push(i);
        }
    }
    if texts.is_empty() {
        return Ok(());
    }
    let vectors = s.backend.phrase_vectors(&texts)?;
    for ((text, w), i) in texts.into_iter().zip(vectors).zip(owner) {
        let similarity = dot(v, &w);
        let c = &mut chunks[i];
        if c.closest.as_ref().is_none_or(|b| similarity > b.similarity) {
            c.closest = Some(ClosestSentence { text, similarity });
        }
    }
    chunks.sort_by(|a, b| b.closeness().total_cmp(&a.closeness()));
    Ok(())
}

pub(super) fn topics(s: &State) -> Result<Outcome> {
    let i = s.input;
    let mut phrases: Vec<(String, bool, String)> =
        i.rules.blocked_topics.iter().map(|t| (t.clone(), true, t.clone())).collect();
    for (name, t) in &i.policy.topics {
        if let Some(d) = t.description.as_ref().filter(|d| !d.trim().is_empty()) {
            phrases.push((name.clone(), false, d.clone()));
        }
    }
    let texts: Vec<String> = phrases.iter().map(|p| p.2.clone()).collect();
    let vectors = s.backend.phrase_vectors(&texts)?;
    let q = State::get(&s.vector);
    let line = i.settings.blocked_topic_similarity;
    let hits: Vec<TopicHit> = phrases
        .into_iter()
        .zip(vectors)
        .map(|((topic, blocked, _), v)| TopicHit {
            topic,
            by: MatchedBy::Meaning,
            similarity: Some(dot(q, &v)),
            blocked,
        })
        .collect();
    let on = hits.iter().filter(|h| h.similarity.unwrap_or(0.0) >= line).count();
    let note = format!("{} topic(s) compared, {on} at or above {line:.2}", hits.len());
    let _ = s.topics.set(hits);
    Ok(Outcome::Done(note))
}

/// Nothing to compare with: no blocked topics, no policy topic with a description.
pub(super) fn no_topics(s: &State) -> Option<String> {
    let i = s.input;
    let described = i.policy.topics.values().any(|t| t.description.as_ref().is_some_and(|d| !d.trim().is_empty()));
    if i.rules.blocked_topics.is_empty() && !described {
        let _ = s.topics.set(Vec::new());
        Some("no blocked topics or policy topics".into())
    } else {
        None
    }
}

pub(super) fn signals(s: &State) -> Result<Outcome> {
    let i = s.input;
    let t = i.text;
    let (chunks, canonical) = (State::get(&s.chunks), State::get(&s.canonical));
    let line = i.settings.blocked_topic_similarity;
    let topic_sims = State::get(&s.topics);
    let canonical_similarity = canonical.iter().map(|c| c.similarity).reduce(f32::max);
    // Novelty and off-topic go by the passages as wholes: a sentence comes closer to
    // anything (with sentences, 40% fewer of CLINC150's out-of-scope queries were
    // declined against the sample documents). How well a passage answers goes by its
    // closest sentence too.
    let chunk_similarity = chunks.iter().map(|c| c.similarity).reduce(f32::max);
    let closest = chunks.iter().map(ChunkHit::closeness).reduce(f32::max);
    let similarity = canonical_similarity.into_iter().chain(chunk_similarity).fold(0f32, f32::max).max(0.0);
    let supporting = chunks.iter().filter(|c| c.closeness() >= i.settings.support_similarity).count();
    // The chunk that best answers by meaning and words together, and how much of the
    // message it speaks of.
    let terms = content_terms(i.message);
    let passages: Vec<String> = chunks.iter().map(|c| format!("{} {} {}", c.title, c.heading, c.text)).collect();
    let covered = chunks
        .iter()
        .zip(&passages)
        .map(|(c, p)| (c.closeness(), coverage(&terms, p)))
        .max_by(|a, b| by_words(a.0, a.1).total_cmp(&by_words(b.0, b.1)));
    let confidence = confidence(closest.unwrap_or(0.0), supporting, t.complexity, covered.unwrap_or((0.0, 0.0)));
    let covered = covered.map(|c| c.1).unwrap_or(0.0);
    let passages: Vec<String> = passages.iter().map(|p| p.to_lowercase()).collect();
    let unnamed: Vec<String> = named_terms(i.message)
        .into_iter()
        .filter(|n| !passages.is_empty() && !passages.iter().any(|p| mentions(p, n).is_some()))
        .collect();
    let closest_blocked = topic_sims.iter().filter(|h| h.blocked).filter_map(|h| h.similarity).reduce(f32::max);
    let (risk, risk_reasons) = assess(&t.pii, &t.sensitive, closest_blocked.map(|c| line - c));
    let mut topics: Vec<TopicHit> = State::get(&s.keyword_topics).clone();
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
        coverage: covered,
        off_topic_similarity: s.off_topic.get().copied().flatten(),
        unnamed,
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

/// Confidence of an answer from the documents, the larger of two readings:
///
/// - by meaning: 0.6 × the best chunk's strength + 0.2 × support + 0.2 × (1 −
///   complexity);
/// - by meaning and words, for the chunk where it is highest: 0.5 × its strength + 0.5
///   × its coverage, the share of the message's content words (stemmed) it speaks of,
///   so a passage a little less close by meaning that names everything asked ("a
///   three-week summer break" for "do you take a summer break from the channel?")
///   still answers it.
///
/// Strength rescales the model's question-to-passage cosine, which runs lower than
/// question-to-question: 0.25 or less is no match, 0.60 or more a full one. Support
/// counts supporting chunks up to 2, as a share of 2. `worded`: (similarity, coverage)
/// of the chunk that reads best by meaning and words.
pub fn confidence(best_chunk: f32, supporting: usize, complexity: f64, worded: (f32, f64)) -> f64 {
    let support = supporting.min(2) as f64 / 2.0;
    let by_meaning = 0.6 * strength(best_chunk) + 0.2 * support + 0.2 * (1.0 - complexity);
    by_meaning.max(by_words(worded.0, worded.1)).clamp(0.0, 1.0)
}

fn strength(similarity: f32) -> f64 {
    ((similarity as f64 - 0.25) / 0.35).clamp(0.0, 1.0)
}

fn by_words(similarity: f32, coverage: f64) -> f64 {
    0.5 * strength(similarity) + 0.5 * coverage.clamp(0.0, 1.0)
}

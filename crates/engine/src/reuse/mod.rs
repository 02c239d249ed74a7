//! Should a stored canonical answer be served for a new question (path C)?
//!
//! The verdict's first reader is a learned model of the creator's phrasings
//! ([`learned::AnswerModel`]): which answer the question is, and how likely it is none of
//! them. Similarity then gates it: the answer picked must also be close enough, by its
//! phrasings, to be served (a young answer, with few phrasings, closer still). Without a
//! model (none fitted, or turned off), the verdict is by similarity alone, as below.
//!
//! One global similarity threshold is known to fail: a semantic cache with one cut-off
//! serves the answer to the opposite question ("can I" / "can I not") and the answer for
//! a different number ("2 tickets" / "20 tickets"), and it treats a canonical answer with
//! many loose phrasings like one with a single tight phrasing. The verdict here combines
//! four checks, each measured on the development data (`fanline eval`; ARCHITECTURE.md):
//!
//! 1. the best phrasing's cosine similarity reaches the global threshold;
//! 2. it also reaches the answer's own threshold, learned from its phrasings
//!    ([`answer_threshold`]), when it has enough of them;
//! 3. the best answer leads the runner-up answer by a margin (an ambiguous question
//!    between two answers is not served either);
//! 4. lexical checks: the question and the matched phrasing agree on negation (and,
//!    optionally, on the numbers they mention).
//!
//! An answer is scored by the mean similarity of its closest phrasings
//! ([`answer_score`]), not by its single closest one.

pub mod groups;
pub mod learned;
pub mod model;

use crate::signals::text::content_terms;
use crate::vector::dot;
use crate::{ItemKey, Layer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The knobs of the reuse verdict. Defaults come from `fanline calibrate` on CLINC150's
/// training and validation splits (see ARCHITECTURE.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct ReuseParams {
    /// An answer's score must reach this…
    pub threshold: f32,
    /// …or this, for an answer with fewer than [`ESTABLISHED`] phrasings: one phrasing
    /// says only what the answer was written for, so a young answer asks for a
    /// near-paraphrase and broadens as phrasings are attached to it.
    pub young_threshold: f32,
    /// A young answer below `young_threshold` but at least this close is still served
    /// when the question and its phrasing name the same content words ("Who is your
    /// literary agent?" for "Do you have a literary agent?", not "Do you have a YouTube
    /// channel?" for "Do you have a YouTube channel membership?"). Off by default (1.0):
    /// on the Quora pairs it serves more wrong answers than right ones (see
    /// ARCHITECTURE.md, "Reuse").
    pub young_band: f32,
    /// The best answer must lead the second-best by at least this much cosine.
    pub margin: f32,
    /// Use per-answer thresholds learned from phrasings (when an answer has enough).
    pub per_answer: bool,
    /// Reject when one of the question and the phrasing is negated and the other not.
    pub negation_check: bool,
    /// Reject when both mention numbers and the numbers differ.
    pub number_check: bool,
    /// An answer's score is the mean similarity of its `top_m` closest phrasings (fewer
    /// if it has fewer): one stray phrasing does not carry an answer on its own.
    pub top_m: usize,
    /// Let the learned model pick the answer when it has a say ([`ReuseCandidate::probability`]).
    pub learned: bool,
    /// The model's probability the picked answer needs (with `learned`)…
    pub min_probability: f32,
    /// …in full once the answer has this many phrasings, in proportion before: a model
    /// that learned an answer from few phrasings spreads its probability thinner, and
    /// similarity gates those alone (measured at 100, 10 and 3 phrasings per answer,
    /// ARCHITECTURE.md "Reuse").
    pub trust_phrasings: usize,
}

impl Default for ReuseParams {
    fn default() -> Self {
        ReuseParams {
            threshold: 0.2,
            young_threshold: 0.9,
            young_band: 1.0,
            margin: 0.0,
            per_answer: false,
            negation_check: false,
            number_check: false,
            top_m: 3,
            learned: true,
            min_probability: 0.35,
            trust_phrasings: 50,
        }
    }
}

impl ReuseParams {
    /// The probability the model's pick needs, for an answer with `phrasings`.
    pub fn probability_needed(&self, phrasings: usize) -> f32 {
        self.min_probability * (phrasings as f32 / self.trust_phrasings.max(1) as f32).min(1.0)
    }

    /// The same knobs with another global threshold.
    pub fn with_threshold(self, threshold: f32) -> Self {
        ReuseParams { threshold, ..self }
    }
}

/// Phrasings from which an answer is established: judged by `threshold`, not
/// `young_threshold`, and able to learn its own threshold.
pub const ESTABLISHED: usize = 3;

/// One canonical answer as a candidate for a question, scored by its best phrasings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReuseCandidate {
    /// The canonical answer's id.
    pub canonical_id: i64,
    /// How many phrasings the answer has.
    pub phrasings: usize,
    /// Cosine similarity of the best-matching phrasing.
    pub similarity: f32,
    /// That phrasing's text.
    pub matched_text: String,
    /// The answer's own threshold, if it has enough phrasings to learn one.
    pub threshold: Option<f32>,
    /// The answer's layer.
    pub layer: Layer,
    /// The learned model's probability that the question is this answer (`None`: no
    /// model has a say).
    #[serde(default)]
    pub probability: Option<f32>,
}

/// The check of the verdict that turned a candidate down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ReuseCheck {
    /// No canonical answer is visible to the fan.
    NoCandidate,
    /// The best answer is below the global threshold.
    Threshold,
    /// The best answer is young (few phrasings) and below the young threshold.
    YoungThreshold,
    /// The best answer is below its own learned threshold.
    AnswerThreshold,
    /// The best answer does not lead the runner-up by the margin.
    Margin,
    /// One of the question and the phrasing is negated and the other not.
    Negation,
    /// Both mention numbers, and they differ.
    Numbers,
    /// The learned model does not find the question to be the answer it picked.
    Probability,
}

impl ReuseCheck {
    /// The check's name, as the eval tables print it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReuseCheck::NoCandidate => "no_candidate",
            ReuseCheck::Threshold => "threshold",
            ReuseCheck::YoungThreshold => "young_threshold",
            ReuseCheck::AnswerThreshold => "answer_threshold",
            ReuseCheck::Margin => "margin",
            ReuseCheck::Negation => "negation",
            ReuseCheck::Numbers => "numbers",
            ReuseCheck::Probability => "probability",
        }
    }
}

impl std::fmt::Display for ReuseCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on the best candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum ReuseVerdict {
    /// Serve candidate `index` (into the candidates given).
    Reuse {
        /// The candidate served.
        index: usize,
        /// Its score.
        similarity: f32,
        /// Its lead over the runner-up.
        margin: f32,
    },
    /// Serve nothing; `check` names the check that failed.
    Reject {
        /// The check that failed.
        check: ReuseCheck,
        /// Why, in words.
        detail: String,
    },
}

impl ReuseVerdict {
    /// Whether an answer is served.
    pub fn is_reuse(&self) -> bool {
        matches!(self, ReuseVerdict::Reuse { .. })
    }
}

/// Judge the candidates (any order; they are one per canonical answer).
///
/// With the learned model's probabilities (and `p.learned`), the model picks among the
/// established answers; its pick needs [`ReuseParams::probability_needed`] and a
/// similarity of `threshold`. A young answer is judged by similarity alone
/// (`young_threshold`). When both pass, the closer is served. Without the model, the
/// closest answer is judged by similarity, with the margin and per-answer checks when
/// they are on. The lexical checks (negation, numbers) apply to whatever is served.
pub fn judge(question: &str, candidates: &[ReuseCandidate], p: &ReuseParams) -> ReuseVerdict {
    if candidates.is_empty() {
        return ReuseVerdict::Reject {
            check: ReuseCheck::NoCandidate,
            detail: "no canonical answer is visible".into(),
        };
    }
    let established = |c: &ReuseCandidate| c.phrasings >= ESTABLISHED;
    if p.learned && candidates.iter().any(|c| established(c) && c.probability.is_some()) {
        return judge_learned(question, candidates, p);
    }
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| candidates[b].similarity.total_cmp(&candidates[a].similarity));
    let best = order[0];
    let c = &candidates[best];
    if let Err((check, detail)) = similar_enough(question, c, p) {
        return ReuseVerdict::Reject { check, detail };
    }
    if p.per_answer {
        if let Some(t) = c.threshold {
            if c.similarity < t {
                return ReuseVerdict::Reject {
                    check: ReuseCheck::AnswerThreshold,
                    detail: format!("similarity {:.3} < this answer's own threshold {t:.3}", c.similarity),
                };
            }
        }
    }
    let runner_up = order.get(1).map(|&i| candidates[i].similarity).unwrap_or(0.0);
    let margin = c.similarity - runner_up;
    if margin < p.margin {
        return ReuseVerdict::Reject {
            check: ReuseCheck::Margin,
            detail: format!("leads the next answer by {margin:.3} < margin {:.3}", p.margin),
        };
    }
    match lexical(question, c, p) {
        Err((check, detail)) => ReuseVerdict::Reject { check, detail },
        Ok(()) => ReuseVerdict::Reuse { index: best, similarity: c.similarity, margin },
    }
}

/// The verdict when the learned model has a say (see [`judge`]).
fn judge_learned(question: &str, candidates: &[ReuseCandidate], p: &ReuseParams) -> ReuseVerdict {
    let by_sim = |a: &&ReuseCandidate, b: &&ReuseCandidate| a.similarity.total_cmp(&b.similarity);
    let pick = candidates
        .iter()
        .filter(|c| c.phrasings >= ESTABLISHED && c.probability.is_some())
        .max_by(|a, b| a.probability.unwrap_or(0.0).total_cmp(&b.probability.unwrap_or(0.0)).then(by_sim(a, b)));
    let young = candidates.iter().filter(|c| c.phrasings < ESTABLISHED).max_by(by_sim);
    let pick_verdict = pick.map(|c| {
        let prob = c.probability.unwrap_or(0.0);
        let needed = p.probability_needed(c.phrasings);
        if prob < needed {
            return Err((
                ReuseCheck::Probability,
                format!(
                    "the model's pick, answer #{} ({} phrasings), has probability {prob:.3} < {needed:.3}",
                    c.canonical_id, c.phrasings
                ),
            ));
        }
        similar_enough(question, c, p).and_then(|()| lexical(question, c, p)).map(|()| c)
    });
    let young_verdict =
        young.map(|c| similar_enough(question, c, p).and_then(|()| lexical(question, c, p)).map(|()| c));
    let served = [&pick_verdict, &young_verdict]
        .into_iter()
        .filter_map(|v| v.as_ref().and_then(|r| r.as_ref().ok()))
        .max_by(|a, b| by_sim(a, b));
    match served {
        Some(c) => {
            let index = candidates.iter().position(|x| std::ptr::eq(x, *c)).expect("a candidate");
            let runner_up = candidates
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .map(|(_, x)| x.similarity)
                .fold(0f32, f32::max);
            ReuseVerdict::Reuse { index, similarity: c.similarity, margin: c.similarity - runner_up }
        }
        None => {
            // The model's reason first: it spoke for the established answers.
            let (check, detail) = match (pick_verdict, young_verdict) {
                (Some(Err(e)), _) | (None, Some(Err(e))) => e,
                _ => unreachable!("nothing served means every verdict given was a rejection"),
            };
            ReuseVerdict::Reject { check, detail }
        }
    }
}

/// The similarity check: `threshold` for an established answer, `young_threshold` (or
/// the young band with the same words) for a young one.
fn similar_enough(question: &str, c: &ReuseCandidate, p: &ReuseParams) -> Result<(), (ReuseCheck, String)> {
    let young = c.phrasings < ESTABLISHED;
    let (threshold, check) =
        if young { (p.young_threshold, ReuseCheck::YoungThreshold) } else { (p.threshold, ReuseCheck::Threshold) };
    let named = young && c.similarity >= p.young_band && names_all(question, &c.matched_text);
    if c.similarity < threshold && !named {
        return Err((
            check,
            format!(
                "similarity {:.3} < {threshold:.3} (answer with {} phrasing{})",
                c.similarity,
                c.phrasings,
                if c.phrasings == 1 { "" } else { "s" }
            ),
        ));
    }
    Ok(())
}

/// The lexical checks, when on: negation and numbers agree.
fn lexical(question: &str, c: &ReuseCandidate, p: &ReuseParams) -> Result<(), (ReuseCheck, String)> {
    if p.negation_check && negated(question) != negated(&c.matched_text) {
        return Err((ReuseCheck::Negation, "one is negated and the other is not".into()));
    }
    if p.number_check {
        if let Some(why) = number_conflict(question, &c.matched_text) {
            return Err((ReuseCheck::Numbers, why));
        }
    }
    Ok(())
}

/// Whether `question` and `phrasing` name the same content words (stemmed), each
/// every word of the other.
fn names_all(question: &str, phrasing: &str) -> bool {
    let asked = content_terms(question);
    let own = content_terms(phrasing);
    !own.is_empty() && own.iter().all(|t| asked.contains(t)) && asked.iter().all(|t| own.contains(t))
}

/// Phrasings the nearest-neighbour search returns to find the nearest canonical
/// answers: enough for several phrasings of each of the top answers.
pub const PHRASING_DEPTH: usize = 24;

/// What scoring needs to know of an answer the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerFacts {
    /// The answer's id.
    pub id: i64,
    /// Its agent.
    pub agent_id: i64,
    /// Its layer.
    pub layer: Layer,
    /// How many phrasings it has in all (found or not).
    pub phrasings: usize,
}

/// An answer scored from its phrasings the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredAnswer {
    /// The answer's facts.
    pub facts: AnswerFacts,
    /// [`answer_score`] over its best phrasings.
    pub score: f32,
    /// The id of its closest phrasing.
    pub best_phrasing: i64,
}

/// The answers the phrasings `hits` belong to, in order of their best phrasing.
pub fn answers_of(hits: &[(ItemKey, f32)]) -> Vec<i64> {
    let mut order: Vec<i64> = Vec::new();
    for (k, _) in hits {
        if !order.contains(&k.owner) {
            order.push(k.owner);
        }
    }
    order
}

/// Score the answers behind the nearest phrasings: `hits` are phrasings as the search
/// returns them (best first, at most [`PHRASING_DEPTH`]), `facts` what the store knows
/// of each answer. An answer scores the mean of its best `top_m` phrasings; phrasings
/// the search did not reach count as close as its last hit (they can be no closer). An
/// answer of another agent, or above the viewer's `layer`, is dropped whatever the
/// search said. Returns the best `k`, best first. Routing and `fanline eval` both
/// call this, so what eval measures is what routing does.
pub fn score_answers(
    hits: &[(ItemKey, f32)],
    facts: &[AnswerFacts],
    agent_id: i64,
    layer: Layer,
    top_m: usize,
    k: usize,
) -> Vec<ScoredAnswer> {
    let Some(floor) = hits.last().map(|h| h.1) else { return Vec::new() };
    let m = top_m.max(1);
    let mut out: Vec<ScoredAnswer> = answers_of(hits)
        .into_iter()
        .filter_map(|id| {
            let f = facts.iter().find(|f| f.id == id)?;
            // Defence in depth: the index filters by layer and agent; the row must agree.
            if !layer.can_see(f.layer) || f.agent_id != agent_id {
                return None;
            }
            let mine = hits.iter().filter(|(key, _)| key.owner == id);
            let best_phrasing = mine.clone().next().map(|(key, _)| key.id)?;
            let mut sims: Vec<f32> = mine.map(|(_, s)| *s).collect();
            while sims.len() < m.min(f.phrasings) {
                sims.push(floor);
            }
            Some(ScoredAnswer { facts: f.clone(), score: answer_score(&sims, m), best_phrasing })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.facts.id.cmp(&b.facts.id)));
    out.truncate(k);
    out
}

/// An answer's own threshold, from its phrasings' vectors: the lowest similarity of a
/// phrasing to its nearest sibling, less a slack, never below `floor`. An answer whose
/// phrasings are all close together asks for a close match; one with loose phrasings
/// accepts a looser one. Fewer than [`ESTABLISHED`] phrasings teach nothing: `None`.
pub fn answer_threshold(vectors: &[&[f32]], slack: f32, floor: f32) -> Option<f32> {
    if vectors.len() < ESTABLISHED {
        return None;
    }
    let mut nearest: Vec<f32> = vectors
        .iter()
        .enumerate()
        .map(|(i, a)| {
            vectors.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, b)| dot(a, b)).fold(f32::MIN, f32::max)
        })
        .collect();
    nearest.sort_by(f32::total_cmp);
    Some((nearest[0] - slack).max(floor))
}

const NEGATIONS: &[&str] =
    &["not", "no", "never", "none", "nothing", "nobody", "neither", "nor", "without", "cannot", "can't", "won't"];

fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '.'))
        .map(|w| w.trim_matches(|c| c == '.' || c == '\'' || c == '’').to_lowercase().replace('’', "'"))
        .filter(|w| !w.is_empty())
}

fn negated(s: &str) -> bool {
    words(s).any(|w| NEGATIONS.contains(&w.as_str()) || w.ends_with("n't"))
}

fn numbers(s: &str) -> BTreeSet<String> {
    words(s).filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit())).collect()
}

/// The score of an answer from its phrasings' similarities, best first: the mean of
/// the best `m` (all of them if fewer).
pub fn answer_score(sims_best_first: &[f32], m: usize) -> f32 {
    let n = m.max(1).min(sims_best_first.len());
    if n == 0 {
        return f32::MIN;
    }
    sims_best_first[..n].iter().sum::<f32>() / n as f32
}

/// Both mention numbers and the numbers differ ("2 tickets" / "20 tickets").
pub fn number_conflict(a: &str, b: &str) -> Option<String> {
    let (na, nb) = (numbers(a), numbers(b));
    if !na.is_empty() && !nb.is_empty() && na != nb {
        return Some(format!("different numbers ({} vs {})", join(&na), join(&nb)));
    }
    None
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;

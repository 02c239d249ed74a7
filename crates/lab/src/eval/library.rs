//! A canonical library for evaluation, searched the way routing searches the store's:
//! the phrasings live in the same in-memory vector index with the same scan strategy,
//! the nearest [`PHRASING_DEPTH`] phrasings are found, and the answers behind them are
//! scored by [`score_answers`], the engine's one function for it. The verdict on them
//! is the router's own ([`judge`]). So what `fanline eval` measures is what routing does.

use fanline_core::{Error, Result};
use fanline_engine::reuse::learned::{AnswerModel, ModelOptions, ModelScores};
use fanline_engine::reuse::{
    answer_threshold, judge, score_answers, AnswerFacts, ReuseCandidate, ReuseParams, ReuseVerdict, PHRASING_DEPTH,
};
use fanline_engine::{ItemKey, ItemKind, Layer, SearchFilter};
use fanline_index::{ScanStrategy, VectorIndex};

/// The one agent every evaluation answer belongs to.
const AGENT: i64 = 1;

pub struct Library {
    index: VectorIndex,
    texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
    /// Each answer's phrasings (indices into `texts`).
    members: Vec<Vec<usize>>,
    facts: Vec<AnswerFacts>,
}

/// The answers nearest to one query, as (answer, score, best phrasing), best first.
#[derive(Debug, Clone)]
pub struct Nearest {
    pub answers: Vec<(usize, f32, usize)>,
}

impl Library {
    /// `answers[i]` = the phrasings of answer `i` with their vectors.
    pub fn new(answers: Vec<Vec<(String, Vec<f32>)>>, strategy: ScanStrategy) -> Result<Library> {
        let dim = answers.iter().flatten().map(|(_, v)| v.len()).next().unwrap_or(1);
        let mut index = VectorIndex::new(dim);
        index.set_strategy(strategy);
        let (mut texts, mut vectors, mut members, mut facts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (a, phrasings) in answers.into_iter().enumerate() {
            let mut m = Vec::new();
            for (t, v) in &phrasings {
                let key = ItemKey {
                    kind: ItemKind::Canonical,
                    id: texts.len() as i64,
                    owner: a as i64,
                    agent: AGENT,
                    layer: Layer::Public,
                };
                index.upsert(key, v).map_err(|e| Error::InvalidInput(e.to_string()))?;
                m.push(texts.len());
                texts.push(t.clone());
                vectors.push(v.clone());
            }
            facts.push(AnswerFacts { id: a as i64, agent_id: AGENT, layer: Layer::Public, phrasings: m.len() });
            members.push(m);
        }
        index.recentre();
        Ok(Library { index, texts, vectors, members, facts })
    }

    /// Every phrasing with its vector.
    pub fn texts_and_vectors(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.texts.iter().map(String::as_str).zip(self.vectors.iter().map(Vec::as_slice))
    }

    pub fn answers(&self) -> usize {
        self.members.len()
    }

    pub fn phrasings(&self) -> usize {
        self.texts.len()
    }

    /// The `k` nearest answers to `q`, each scored by its best `top_m` phrasings.
    pub fn nearest(&self, q: &[f32], k: usize, top_m: usize) -> Nearest {
        let filter = SearchFilter { kind: ItemKind::Canonical, agent: AGENT, max_layer: Layer::Public };
        let hits = self.index.search(q, &filter, PHRASING_DEPTH);
        let answers = score_answers(&hits, &self.facts, AGENT, Layer::Public, top_m, k)
            .into_iter()
            .map(|s| (s.facts.id as usize, s.score, s.best_phrasing as usize))
            .collect();
        Nearest { answers }
    }

    /// The learned model of this library's answers, as routing fits it: every phrasing,
    /// the generic off-topic examples (`generic`), and off-topic examples of the
    /// creator's own (`declined`).
    pub fn model(&self, generic: &[Vec<f32>], declined: &[Vec<f32>], o: ModelOptions) -> AnswerModel {
        let mut m = AnswerModel::new(self.index.dim(), o);
        for (a, members) in self.members.iter().enumerate() {
            for &i in members {
                if let Some(v) = self.index.vector(ItemKind::Canonical, i as i64) {
                    m.upsert((ItemKind::Canonical, i as i64), Some(a as i64), false, v);
                }
            }
        }
        for (i, v) in generic.iter().enumerate() {
            m.upsert((ItemKind::Example, i as i64), None, true, v);
        }
        for (i, v) in declined.iter().enumerate() {
            m.upsert((ItemKind::Example, (generic.len() + i) as i64), None, false, v);
        }
        m.update();
        m
    }

    /// Per-answer thresholds for a slack and floor (see [`answer_threshold`]).
    pub fn thresholds(&self, slack: f32, floor: f32) -> Vec<Option<f32>> {
        self.members
            .iter()
            .map(|m| {
                let vs: Vec<&[f32]> =
                    m.iter().filter_map(|&i| self.index.vector(ItemKind::Canonical, i as i64)).collect();
                answer_threshold(&vs, slack, floor)
            })
            .collect()
    }

    /// The router's verdict on a query's nearest answers (with the learned model's
    /// scores of the query, if it has a say): the answer served, if any.
    pub fn judge(
        &self,
        query: &str,
        n: &Nearest,
        thresholds: &[Option<f32>],
        model: Option<&ModelScores>,
        p: &ReuseParams,
    ) -> Option<usize> {
        let cands: Vec<ReuseCandidate> = n
            .answers
            .iter()
            .map(|&(a, s, i)| ReuseCandidate {
                canonical_id: a as i64,
                phrasings: self.members[a].len(),
                similarity: s,
                matched_text: self.texts[i].clone(),
                threshold: thresholds[a],
                layer: Layer::Public,
                probability: model.and_then(|m| m.answers.get(&(a as i64)).copied()),
            })
            .collect();
        match judge(query, &cands, p) {
            ReuseVerdict::Reuse { index, .. } => Some(n.answers[index].0),
            ReuseVerdict::Reject { .. } => None,
        }
    }
}

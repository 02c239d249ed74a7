//! Canonical answers: what the creator wrote once, served again to similar questions.

use crate::{Error, Fanline, Result};
use fanline_engine::reuse::learned::UpdateReport;
use fanline_engine::{ItemKind, Layer, SearchFilter};
use fanline_store::{CanonicalAnswer, CanonicalSummary, NewCanonical};
use serde::Serialize;
use std::collections::HashMap;

/// Input for a new canonical answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewCanonicalInput {
    /// The question it answers.
    pub question: String,
    /// Other phrasings of it.
    pub variants: Vec<String>,
    /// The creator's answer.
    pub answer: String,
    /// Who may be served it.
    pub layer: Layer,
}

/// A canonical answer found for a question: its best-matching phrasing and similarity.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CanonicalHit {
    /// The answer's id.
    pub canonical_id: i64,
    /// Cosine similarity of the best phrasing.
    pub similarity: f32,
    /// That phrasing.
    pub matched_question: String,
    /// The question it was written for.
    pub question_pattern: String,
    /// The creator's answer.
    pub answer: String,
    /// Its layer.
    pub layer: Layer,
    /// How often it was served.
    pub times_reused: u64,
    /// The reuse model's probability that the question is this answer (`None`: the
    /// model does not speak for it, an answer with too few phrasings).
    pub probability: Option<f32>,
}

impl Fanline {
    /// What the last update of an agent's reuse model in this process did (`None`: it
    /// was not asked about yet, or came back from the saved weights unchanged).
    pub fn reuse_model_update(&self, agent: Option<&str>) -> Result<Option<UpdateReport>> {
        let agent = self.agent(agent)?;
        self.with_index(|idx| Ok(idx.answer_model_update(agent.id)))
    }

    /// Add a canonical answer with its phrasings.
    pub fn canonical_add(&self, agent: Option<&str>, input: &NewCanonicalInput) -> Result<CanonicalAnswer> {
        let agent = self.agent(agent)?;
        if input.question.trim().is_empty() {
            return Err(Error::InvalidInput("the question is empty".into()));
        }
        if input.answer.trim().is_empty() {
            return Err(Error::InvalidInput("the answer is empty".into()));
        }
        let mut questions: Vec<&str> = vec![input.question.trim()];
        questions.extend(input.variants.iter().map(|v| v.trim()).filter(|v| !v.is_empty()));
        let vectors = self.embedder()?.embed(&questions)?;
        let new = NewCanonical {
            questions: questions.iter().map(|q| q.to_string()).zip(vectors).collect(),
            answer: input.answer.clone(),
            layer: input.layer,
            source_escalation_id: None,
        };
        let id = self.write_indexed(false, |store| store.add_canonical(agent.id, &new))?;
        self.flush()?;
        Ok(self.store.canonical(id)?)
    }

    /// Store many canonical answers whose questions are already embedded, in one
    /// transaction; returns how many phrasings were indexed.
    pub fn canonical_add_many(&self, agent: Option<&str>, items: &[NewCanonical]) -> Result<usize> {
        let agent = self.agent(agent)?;
        let added = self.write_indexed(true, |store| {
            let change = store.add_canonical_many(agent.id, items)?;
            Ok((change.added.len(), change))
        })?;
        self.flush()?;
        Ok(added)
    }

    /// Add another phrasing of the question to a canonical answer.
    pub fn canonical_add_variant(&self, id: i64, text: &str) -> Result<CanonicalAnswer> {
        if text.trim().is_empty() {
            return Err(Error::InvalidInput("the variant is empty".into()));
        }
        let v = self.embedder()?.embed_one(text.trim())?;
        self.write_indexed(false, |store| store.add_canonical_variant(id, text, &v).map(|c| ((), c)))?;
        self.flush()?;
        Ok(self.store.canonical(id)?)
    }

    /// An agent's canonical answers, most reused first.
    pub fn canonical_list(&self, agent: Option<&str>) -> Result<Vec<CanonicalSummary>> {
        let agent = self.agent(agent)?;
        Ok(self.store.list_canonical(agent.id)?)
    }

    /// One canonical answer with its phrasings.
    pub fn canonical_show(&self, id: i64) -> Result<CanonicalAnswer> {
        Ok(self.store.canonical(id)?)
    }

    /// Edit a canonical answer's text and/or change its layer.
    pub fn canonical_update(&self, id: i64, answer: Option<&str>, layer: Option<Layer>) -> Result<CanonicalAnswer> {
        self.write_indexed(false, |store| store.update_canonical(id, answer, layer).map(|c| ((), c)))?;
        self.flush()?;
        Ok(self.store.canonical(id)?)
    }

    /// Merge the duplicate `from` into `into` (phrasings, reuse count and history move
    /// over; `into` keeps its answer and layer).
    pub fn canonical_merge(&self, into: i64, from: i64) -> Result<CanonicalAnswer> {
        self.write_indexed(false, |store| store.merge_canonical(into, from).map(|c| ((), c)))?;
        self.flush()?;
        Ok(self.store.canonical(into)?)
    }

    /// Delete a canonical answer (its phrasings leave the index).
    pub fn canonical_delete(&self, id: i64) -> Result<CanonicalAnswer> {
        let existing = self.store.canonical(id)?;
        self.write_indexed(false, |store| store.delete_canonical(id).map(|c| ((), c)))?;
        self.flush()?;
        Ok(existing)
    }

    /// The canonical answers closest to a question, as a viewer at `layer` may see
    /// them: one entry per answer, scored by its best-matching phrasing.
    pub fn canonical_search(
        &self,
        agent: Option<&str>,
        question: &str,
        layer: Layer,
        limit: usize,
    ) -> Result<Vec<CanonicalHit>> {
        let limit = crate::app::within("the number of results", limit, crate::app::MAX_RESULTS)?;
        let agent = self.agent(agent)?;
        if question.trim().is_empty() {
            return Err(Error::InvalidInput("the question is empty".into()));
        }
        let q = self.embedder()?.embed_one(question.trim())?;
        let filter = SearchFilter { kind: ItemKind::Canonical, agent: agent.id, max_layer: layer };
        self.ensure_off_topic_set();
        let (hits, model) = self.with_index(|idx| {
            Ok((idx.search(&q, question, &filter, limit.max(1) * 4)?, idx.answer_scores(agent.id, &q)))
        })?;
        // Best phrasing per answer, by cosine similarity.
        let mut best: HashMap<i64, (f32, i64)> = HashMap::new();
        for h in &hits {
            let e = best.entry(h.key.owner).or_insert((h.cosine, h.key.id));
            if h.cosine > e.0 {
                *e = (h.cosine, h.key.id);
            }
        }
        let mut ranked: Vec<(i64, f32, i64)> = best.into_iter().map(|(o, (s, v))| (o, s, v)).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(limit.max(1));
        let mut out = Vec::new();
        for (owner, sim, variant) in ranked {
            let c = self.store.canonical(owner)?;
            if !layer.can_see(c.layer) {
                continue;
            }
            let matched = c.variants.iter().find(|v| v.id == variant).map(|v| v.text.clone()).unwrap_or_default();
            out.push(CanonicalHit {
                canonical_id: c.id,
                similarity: sim,
                matched_question: matched,
                question_pattern: c.question_pattern,
                answer: c.answer,
                layer: c.layer,
                times_reused: c.times_reused,
                probability: model.as_ref().and_then(|m| m.answers.get(&c.id).copied()),
            });
        }
        Ok(out)
    }
}

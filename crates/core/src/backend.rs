//! The routing engine's ports, served by the store, the search index and the embedder.
//! Their errors travel through the engine boxed (`fanline_engine::Error::port`) and come
//! back out of `route` with their kind (`From<fanline_engine::Error> for Error`).

use crate::{Error, Fanline};
use fanline_engine::caps::CapWindows;
use fanline_engine::reuse::{answer_threshold, answers_of, score_answers, ReuseCandidate, PHRASING_DEPTH};
use fanline_engine::route::{ChunkHit, FanHistory, FanProfile, RouteBackend, RoutingSettings, HISTORY_MESSAGES};
use fanline_engine::{ItemKind, Layer, Result, SearchFilter};
use fanline_store::Conversations;
use std::collections::HashMap;

pub(crate) struct Backend<'a> {
    pub app: &'a Fanline,
    /// The conversation the message is in (none when drafting outside one).
    pub conversation_id: Option<i64>,
    /// A what-if replay of a stored message: its id and time (history as it stood).
    pub as_of: Option<(i64, chrono::DateTime<chrono::Utc>)>,
}

/// A use-case error, carried through the engine with its kind.
fn port(e: impl Into<Error>) -> fanline_engine::Error {
    fanline_engine::Error::port(e.into())
}

impl RouteBackend for Backend<'_> {
    fn history(&self, agent_id: i64, fan: &FanProfile, caps: &CapWindows) -> Result<FanHistory> {
        self.app
            .store
            .fan_history(
                agent_id,
                fan.id,
                self.conversation_id,
                caps.day_start,
                caps.week_start,
                HISTORY_MESSAGES,
                self.as_of,
            )
            .map_err(port)
    }

    fn embed(&self, text: &str) -> Result<Vec<f32>> {
        self.app.embedder().map_err(port)?.embed_one(text)
    }

    fn phrase_vectors(&self, phrases: &[String]) -> Result<Vec<Vec<f32>>> {
        let refs: Vec<&str> = phrases.iter().map(String::as_str).collect();
        self.app.embedder().map_err(port)?.embed(&refs)
    }

    fn canonical(
        &self,
        agent_id: i64,
        vector: &[f32],
        layer: Layer,
        settings: &RoutingSettings,
        k: usize,
    ) -> Result<Vec<ReuseCandidate>> {
        let filter = SearchFilter { kind: ItemKind::Canonical, agent: agent_id, max_layer: layer };
        let learned = settings.reuse.learned;
        if learned {
            self.app.ensure_off_topic_set();
        }
        let (hits, model) = self
            .app
            .with_index(|idx| {
                let hits = idx.nearest(vector, &filter, PHRASING_DEPTH);
                // The model over every answer of the agent: the mass of answers this fan
                // may not see stays with them, it is never given to a visible one.
                Ok((hits, learned.then(|| idx.answer_scores(agent_id, vector)).flatten()))
            })
            .map_err(port)?;
        let facts = self.app.store.canonical_facts(&answers_of(&hits)).map_err(port)?;
        let scored = score_answers(&hits, &facts, agent_id, layer, settings.reuse.top_m, k);
        let best: Vec<i64> = scored.iter().map(|s| s.best_phrasing).collect();
        let texts = self.app.store.variant_texts(&best).map_err(port)?;
        scored
            .into_iter()
            .map(|s| {
                let threshold = if settings.reuse.per_answer {
                    let vs = self.app.store.canonical_vectors(s.facts.id).map_err(port)?;
                    let refs: Vec<&[f32]> = vs.iter().map(Vec::as_slice).collect();
                    answer_threshold(&refs, settings.answer_threshold_slack, settings.answer_threshold_floor)
                } else {
                    None
                };
                Ok(ReuseCandidate {
                    canonical_id: s.facts.id,
                    phrasings: s.facts.phrasings,
                    similarity: s.score,
                    matched_text: texts.get(&s.best_phrasing).cloned().unwrap_or_default(),
                    threshold,
                    layer: s.facts.layer,
                    // Established answers only: the model does not speak for young ones.
                    probability: model.as_ref().and_then(|m| m.answers.get(&s.facts.id).copied()),
                })
            })
            .collect()
    }

    fn off_topic(&self, vector: &[f32]) -> Result<Option<f32>> {
        self.app.ensure_off_topic_set();
        self.app.with_index(|idx| Ok(idx.off_topic_similarity(vector))).map_err(port)
    }

    fn chunks(&self, agent_id: i64, vector: &[f32], text: &str, layer: Layer, k: usize) -> Result<Vec<ChunkHit>> {
        let filter = SearchFilter { kind: ItemKind::Chunk, agent: agent_id, max_layer: layer };
        let hits = self.app.with_index(|idx| Ok(idx.search(vector, text, &filter, k)?)).map_err(port)?;
        let ids: Vec<i64> = hits.iter().map(|h| h.key.id).collect();
        let rows = self.app.store.chunks_by_ids(&ids).map_err(port)?;
        let by_id: HashMap<i64, _> = rows.into_iter().map(|c| (c.id, c)).collect();
        Ok(hits
            .iter()
            .filter_map(|h| by_id.get(&h.key.id).map(|c| (h, c)))
            // Defence in depth: the index filters by layer and agent; the row must agree.
            .filter(|(_, c)| layer.can_see(c.layer) && c.agent_id == agent_id)
            .map(|(h, c)| ChunkHit {
                chunk_id: c.id,
                document_id: c.document_id,
                title: c.title.clone(),
                source_path: c.source_path.clone(),
                heading: c.heading.clone(),
                text: c.text.clone(),
                layer: c.layer,
                similarity: h.cosine,
                closest: None,
            })
            .collect())
    }
}

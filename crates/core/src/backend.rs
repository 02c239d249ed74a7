//! The routing engine's ports, served by the store, the search index and the embedder.

use crate::Fanline;
use fanline_engine::caps::CapWindows;
use fanline_engine::reuse::{answer_score, answer_threshold, ReuseCandidate};
use fanline_engine::route::{ChunkHit, FanHistory, FanProfile, RouteBackend, RoutingSettings};
use fanline_engine::{Error as EngineError, ItemKind, Layer, Result, SearchFilter};
use std::collections::HashMap;

/// Phrasings looked at to find the nearest canonical answers: enough for several
/// phrasings of each of the top answers.
const PHRASING_DEPTH: usize = 24;

pub(crate) struct Backend<'a> {
    pub app: &'a Fanline,
    /// The conversation the message is in.
    pub conversation_id: i64,
}

fn storage(e: impl std::fmt::Display) -> EngineError {
    EngineError::Storage(e.to_string())
}

fn search(e: impl std::fmt::Display) -> EngineError {
    EngineError::Search(e.to_string())
}

impl RouteBackend for Backend<'_> {
    fn history(&self, agent_id: i64, fan: &FanProfile, caps: &CapWindows) -> Result<FanHistory> {
        self.app
            .store
            .fan_history(agent_id, fan.id, Some(self.conversation_id), caps.day_start, caps.week_start, 5)
            .map_err(storage)
    }

    fn embed(&self, text: &str) -> Result<Vec<f32>> {
        self.app.embedder().map_err(|e| EngineError::EmbedderUnavailable(e.to_string()))?.embed_one(text)
    }

    fn topic_vectors(&self, phrases: &[String]) -> Result<Vec<Vec<f32>>> {
        let refs: Vec<&str> = phrases.iter().map(String::as_str).collect();
        self.app.embedder().map_err(|e| EngineError::EmbedderUnavailable(e.to_string()))?.embed(&refs)
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
        let hits = {
            let idx = self.app.index().map_err(search)?;
            idx.as_ref().expect("opened").nearest(vector, &filter, PHRASING_DEPTH)
        };
        let Some(floor) = hits.last().map(|h| h.1) else { return Ok(Vec::new()) };
        // Group the phrasings by answer, best first (hits are sorted).
        let mut order: Vec<i64> = Vec::new();
        let mut groups: HashMap<i64, (Vec<f32>, i64)> = HashMap::new();
        for (key, sim) in &hits {
            let g = groups.entry(key.owner).or_insert_with(|| {
                order.push(key.owner);
                (Vec::new(), key.id)
            });
            g.0.push(*sim);
        }
        let ids: Vec<i64> = order.clone();
        let briefs: HashMap<i64, _> =
            self.app.store.canonical_briefs(&ids).map_err(storage)?.into_iter().map(|b| (b.id, b)).collect();
        let m = settings.reuse.top_m.max(1);
        let mut scored: Vec<(i64, f32)> = order
            .iter()
            .filter_map(|id| {
                let b = briefs.get(id)?;
                // Defence in depth: the index filters by layer and agent; the row must agree.
                if !layer.can_see(b.layer) || b.agent_id != agent_id {
                    return None;
                }
                let mut sims = groups[id].0.clone();
                // Phrasings below the search depth are at most as close as its last hit.
                while sims.len() < m.min(b.phrasings) {
                    sims.push(floor);
                }
                Some((*id, answer_score(&sims, m)))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        let best_variants: Vec<i64> = scored.iter().map(|(id, _)| groups[id].1).collect();
        let texts = self.app.store.variant_texts(&best_variants).map_err(storage)?;
        let mut out = Vec::with_capacity(scored.len());
        for (id, score) in scored {
            let b = &briefs[&id];
            let threshold = if settings.reuse.per_answer {
                let vs = self.app.store.canonical_vectors(id).map_err(storage)?;
                let refs: Vec<&[f32]> = vs.iter().map(Vec::as_slice).collect();
                answer_threshold(&refs, settings.answer_threshold_slack, settings.answer_threshold_floor)
            } else {
                None
            };
            out.push(ReuseCandidate {
                canonical_id: id,
                phrasings: b.phrasings,
                similarity: score,
                matched_text: texts.get(&groups[&id].1).cloned().unwrap_or_default(),
                threshold,
                layer: b.layer,
            });
        }
        Ok(out)
    }

    fn chunks(&self, agent_id: i64, vector: &[f32], text: &str, layer: Layer, k: usize) -> Result<Vec<ChunkHit>> {
        let filter = SearchFilter { kind: ItemKind::Chunk, agent: agent_id, max_layer: layer };
        let hits = {
            let idx = self.app.index().map_err(search)?;
            idx.as_ref().expect("opened").search(vector, text, &filter, k).map_err(search)?
        };
        let ids: Vec<i64> = hits.iter().map(|h| h.key.id).collect();
        let rows = self.app.store.chunks_by_ids(&ids).map_err(storage)?;
        let by_id: HashMap<i64, _> = rows.into_iter().map(|c| (c.id, c)).collect();
        Ok(hits
            .iter()
            .filter_map(|h| by_id.get(&h.key.id).map(|c| (h, c)))
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
            })
            .collect())
    }
}

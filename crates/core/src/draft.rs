//! "Draft with AI" for the creator's queue: an answer to an escalated question from
//! the creator's documents, streamed, for the creator to edit before answering.

use crate::backend::Backend;
use crate::llm::StreamEvent;
use crate::routing::compose::DraftMode;
use crate::{Fanline, Generation, Result};
use fanline_engine::route::reply::Citation;
use fanline_engine::route::{ChunkHit, RouteBackend};
use fanline_store::Agents;
use fanline_store::HubAccess;
use fanline_store::Offers;
use serde::Serialize;

/// A draft answer to an escalation, never sent by itself.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Draft {
    /// The escalation drafted for.
    pub escalation_id: i64,
    /// The draft.
    pub text: String,
    /// The passages it cites.
    pub citations: Vec<Citation>,
    /// How it was written.
    pub generation: Generation,
    /// The passages it was drafted from, as the fan's layer allows.
    pub passages: Vec<ChunkHit>,
}

impl Fanline {
    /// Draft an answer to a queued escalation from the passages the asking fan may see
    /// (streamed to `sink`); with no model, an extractive draft from those passages.
    pub fn queue_draft(&self, id: i64, sink: &mut (dyn FnMut(StreamEvent<'_>) + Send)) -> Result<Draft> {
        let e = self.store.escalation(id)?;
        let fan = self.store.fan(e.fan_id)?;
        let agent = self.store.agent_by_id(e.agent_id)?;
        let persona = self.store.agent_config(agent.id)?.persona;
        let creator = crate::app::creator_name(&agent);
        let vector = self.embedder()?.embed_one(&e.question)?;
        self.open_search_index()?;
        let backend = Backend { app: self, conversation_id: None, as_of: None };
        let chunks = backend.chunks(agent.id, &vector, &e.question, fan.layer, 8).map_err(crate::Error::from)?;
        let d = self.draft_from(&creator, &persona, &e.question, &[], &chunks, DraftMode::First, sink)?;
        Ok(Draft {
            escalation_id: id,
            text: d.text,
            citations: d.citations,
            generation: d.generation,
            passages: chunks,
        })
    }
}

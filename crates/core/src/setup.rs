//! The first run: name the agent and its voice, import documents, set the rules. The
//! desktop app shows these screens until the creator finishes them (or already has
//! knowledge, e.g. imported with the CLI).

use crate::{Error, Fanline, Result};
use fanline_store::Agent;
use fanline_store::Agents;
use serde::Serialize;

/// Where the creator is in setting up an agent.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SetupStatus {
    /// The agent.
    pub agent: Agent,
    /// The name replies use for the creator.
    pub creator: String,
    /// The voice of answers.
    pub persona: String,
    /// Show the first-run screens: setup not finished and no knowledge yet.
    pub needs_setup: bool,
    /// Documents imported.
    pub documents: u64,
    /// Canonical answers written.
    pub canonical_answers: u64,
}

impl Fanline {
    /// Where the creator is in setting the agent up.
    pub fn setup_status(&self, agent: Option<&str>) -> Result<SetupStatus> {
        let agent = self.agent(agent)?;
        let (documents, canonical_answers) = self.store.knowledge_counts(agent.id)?;
        let persona = self.store.agent_config(agent.id)?.persona;
        Ok(SetupStatus {
            creator: crate::app::creator_name(&agent),
            needs_setup: agent.setup_done_at.is_none() && documents == 0 && canonical_answers == 0,
            persona,
            documents,
            canonical_answers,
            agent,
        })
    }

    /// First-run step 1: the creator's name as fans see it, and the voice of answers.
    pub fn setup_profile(&self, agent: Option<&str>, display_name: &str, persona: &str) -> Result<SetupStatus> {
        let a = self.agent(agent)?;
        if display_name.trim().is_empty() {
            return Err(Error::InvalidInput("give the name fans know you by".into()));
        }
        if display_name.trim().chars().count() > 80 {
            return Err(Error::InvalidInput("the name is longer than 80 characters".into()));
        }
        let mut rules = self.store.agent_config(a.id)?;
        rules.persona = persona.trim().to_string();
        self.set_rules(Some(&a.name), &rules)?;
        self.store.set_agent_profile(a.id, display_name, false)?;
        self.setup_status(Some(&a.name))
    }

    /// The last step: the app stops showing the first-run screens.
    pub fn finish_setup(&self, agent: Option<&str>) -> Result<SetupStatus> {
        let a = self.agent(agent)?;
        self.store.set_agent_profile(a.id, &a.display_name, true)?;
        self.setup_status(Some(&a.name))
    }
}

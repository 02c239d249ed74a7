//! Agents: a creator's agents, their rules (caps, thresholds, tiers, windows,
//! persona) and the last valid policy text.
//!
//! The fourth area of the hub's store interface (see access.rs). SQLite implements it
//! in `agents.rs` (stamping each changed rule for the desktops' sync), PostgreSQL in
//! `fanline-store-pg`; `suite::agents` runs on both.

use crate::{Agent, Result};
use chrono::{DateTime, Utc};
use fanline_engine::AgentConfig;

/// Agents and their rules (see the module).
pub trait Agents: Send + Sync {
    /// Create an agent with the engine's default rules (a taken name: `Conflict`; an
    /// empty one: `Invalid`).
    fn create_agent(&self, name: &str) -> Result<Agent>;

    /// The agent with this name, if any.
    fn agent_by_name(&self, name: &str) -> Result<Option<Agent>>;

    /// The agent with this id (not found: an error).
    fn agent_by_id(&self, id: i64) -> Result<Agent>;

    /// Every agent, oldest first.
    fn list_agents(&self) -> Result<Vec<Agent>>;

    /// Set the name fans see; `finish` also marks the first-run setup as done (the
    /// first time is kept).
    fn set_agent_profile(&self, agent_id: i64, display_name: &str, finish: bool) -> Result<Agent>;

    /// The rules of an agent.
    fn agent_config(&self, agent_id: i64) -> Result<AgentConfig>;

    /// Replace the rules of an agent (values out of range: `Invalid`).
    fn set_agent_config(&self, agent_id: i64, c: &AgentConfig) -> Result<()>;

    /// The last valid policy text of an agent, with when it was kept.
    fn last_valid_policy(&self, agent_id: i64) -> Result<Option<(String, DateTime<Utc>)>>;

    /// Keep `text` as the agent's last valid policy (nothing is written if it is the
    /// one kept already).
    fn keep_valid_policy(&self, agent_id: i64, text: &str) -> Result<()>;
}

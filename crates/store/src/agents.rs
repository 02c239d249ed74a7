use crate::{util, Error, Result, Store};
use fanline_engine::AgentConfig;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// A creator's agent. A creator may run several; `fanline init` creates `default`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

fn agent_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Agent> {
    Ok(Agent { id: r.get(0)?, name: r.get(1)?, created_at: r.get(2)?, updated_at: r.get(3)? })
}

impl Store {
    /// Create an agent (with the default rules). Fails with `Conflict` if the name is taken.
    pub fn create_agent(&self, name: &str) -> Result<Agent> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Invalid { what: "agent name", detail: "it is empty".into() });
        }
        let conn = self.conn();
        let r = conn.query_row(
            "INSERT INTO agents (name) VALUES (?1) RETURNING id, name, created_at, updated_at",
            [name],
            agent_row,
        );
        match r {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                Err(Error::Conflict { what: "agent", key: name.to_string() })
            }
            other => Ok(other?),
        }
    }

    /// The agent with this name, if any.
    pub fn agent_by_name(&self, name: &str) -> Result<Option<Agent>> {
        Ok(self
            .conn()
            .query_row("SELECT id, name, created_at, updated_at FROM agents WHERE name = ?1", [name], agent_row)
            .optional()?)
    }

    pub fn list_agents(&self) -> Result<Vec<Agent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, name, created_at, updated_at FROM agents ORDER BY id")?;
        let rows = stmt.query_map([], agent_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The rules of an agent.
    pub fn agent_config(&self, agent_id: i64) -> Result<AgentConfig> {
        self.conn()
            .query_row(
                "SELECT max_escalations_per_day, max_escalations_per_week, escalation_enabled,
                        auto_answer_confidence_threshold, clarification_enabled, blocked_topics,
                        allowed_user_tiers, availability_windows, outside_hours, timezone, persona
                 FROM agent_config WHERE agent_id = ?1",
                [agent_id],
                |r| {
                    Ok(AgentConfig {
                        max_escalations_per_day: r.get(0)?,
                        max_escalations_per_week: r.get(1)?,
                        escalation_enabled: r.get(2)?,
                        auto_answer_confidence_threshold: r.get(3)?,
                        clarification_enabled: r.get(4)?,
                        blocked_topics: util::json_typed(r, 5)?,
                        allowed_user_tiers: util::json_typed(r, 6)?,
                        availability_windows: util::json_typed(r, 7)?,
                        outside_hours: util::parsed(r, 8)?,
                        timezone: r.get(9)?,
                        persona: r.get(10)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| Error::not_found("agent", agent_id))
    }

    /// Replace the rules of an agent.
    pub fn set_agent_config(&self, agent_id: i64, c: &AgentConfig) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE agent_config SET max_escalations_per_day = ?2, max_escalations_per_week = ?3,
                 escalation_enabled = ?4, auto_answer_confidence_threshold = ?5,
                 clarification_enabled = ?6, blocked_topics = ?7, allowed_user_tiers = ?8,
                 availability_windows = ?9, timezone = ?10, persona = ?11, outside_hours = ?12
             WHERE agent_id = ?1",
            params![
                agent_id,
                c.max_escalations_per_day,
                c.max_escalations_per_week,
                c.escalation_enabled,
                c.auto_answer_confidence_threshold,
                c.clarification_enabled,
                util::json(&c.blocked_topics),
                util::json(&c.allowed_user_tiers),
                util::json(&c.availability_windows),
                c.timezone,
                c.persona,
                c.outside_hours.as_str(),
            ],
        );
        match n {
            Ok(0) => Err(Error::not_found("agent", agent_id)),
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, msg)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                Err(Error::Invalid { what: "agent config", detail: msg.unwrap_or_else(|| e.to_string()) })
            }
            Err(e) => Err(e.into()),
        }
    }
}

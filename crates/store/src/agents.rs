use crate::util::Cached;
use crate::util::{parsed, parsed_opt};
use crate::{util, Agents, Error, Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::AgentConfig;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// A creator's agent. A creator may run several; `fanline init` creates `default`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Agent {
    pub id: i64,
    pub name: String,
    /// The name fans see in replies ("— Jules's answer"); empty: not set.
    pub display_name: String,
    /// When the creator finished the first-run setup; `None`: not yet.
    pub setup_done_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const AGENT_COLUMNS: &str = "id, name, display_name, setup_done_at, created_at, updated_at";

fn agent_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Agent> {
    Ok(Agent {
        id: r.get(0)?,
        name: r.get(1)?,
        display_name: r.get(2)?,
        setup_done_at: parsed_opt(r, 3)?,
        created_at: parsed(r, 4)?,
        updated_at: parsed(r, 5)?,
    })
}

impl Agents for Store {
    fn create_agent(&self, name: &str) -> Result<Agent> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Invalid { what: "agent name", detail: "it is empty".into() });
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let r = tx.query_row(
            &format!("INSERT INTO agents (name) VALUES (?1) RETURNING {AGENT_COLUMNS}"),
            [name],
            agent_row,
        );
        let agent = match r {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                return Err(Error::Conflict { what: "agent", key: name.to_string() })
            }
            other => other?,
        };
        // The rules' defaults are the engine's, not the columns' (which predate them).
        write_config(&tx, agent.id, &AgentConfig::default())?;
        tx.commit()?;
        Ok(agent)
    }

    fn agent_by_name(&self, name: &str) -> Result<Option<Agent>> {
        Ok(self
            .read()?
            .query_row(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE name = ?1"), [name], agent_row)
            .optional()?)
    }

    fn agent_by_id(&self, id: i64) -> Result<Agent> {
        self.read()?
            .query_row(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1"), [id], agent_row)
            .optional()?
            .ok_or(Error::NotFound { what: "agent", key: id.to_string() })
    }

    fn list_agents(&self) -> Result<Vec<Agent>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(&format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY id"))?;
        let rows = stmt.query_map([], agent_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn set_agent_profile(&self, agent_id: i64, display_name: &str, finish: bool) -> Result<Agent> {
        let conn = self.conn();
        let r = conn.query_row(
            &format!(
                "UPDATE agents SET display_name = ?2,
                    setup_done_at = CASE WHEN ?3 THEN COALESCE(setup_done_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                                         ELSE setup_done_at END
                 WHERE id = ?1 RETURNING {AGENT_COLUMNS}"
            ),
            params![agent_id, display_name.trim(), finish],
            agent_row,
        );
        r.optional()?.ok_or(Error::NotFound { what: "agent", key: agent_id.to_string() })
    }

    fn agent_config(&self, agent_id: i64) -> Result<AgentConfig> {
        let conn = self.read()?;
        read_config(&conn, agent_id)
    }

    fn set_agent_config(&self, agent_id: i64, c: &AgentConfig) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (name, old) = config_json(&tx, agent_id)?;
        write_config(&tx, agent_id, c)?;
        let (_, new) = config_json(&tx, agent_id)?;
        for (field, value) in crate::sync_fields::changed_fields(&old, &new) {
            crate::sync_fields::field_changed(&tx, crate::RULES, &name, &field, &value)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn last_valid_policy(&self, agent_id: i64) -> Result<Option<(String, DateTime<Utc>)>> {
        Ok(self
            .read()?
            .row("SELECT text, saved_at FROM last_valid_policy WHERE agent_id = ?1", [agent_id], |r| {
                Ok((r.get(0)?, parsed(r, 1)?))
            })
            .optional()?)
    }

    fn keep_valid_policy(&self, agent_id: i64, text: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.exec(
            "INSERT INTO last_valid_policy (agent_id, text) VALUES (?1, ?2)
             ON CONFLICT (agent_id) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at
             WHERE last_valid_policy.text != excluded.text",
            rusqlite::params![agent_id, text],
        )?;
        if n > 0 {
            let name: String = tx.row("SELECT name FROM agents WHERE id = ?1", [agent_id], |r| r.get(0))?;
            crate::sync_fields::field_changed(&tx, crate::RULES, &name, "policy", text)?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl Store {
    /// How much knowledge an agent has: documents and canonical answers.
    pub fn knowledge_counts(&self, agent_id: i64) -> Result<(u64, u64)> {
        Ok(self.read()?.row(
            "SELECT (SELECT count(*) FROM documents WHERE agent_id = ?1),
                    (SELECT count(*) FROM canonical_answers WHERE agent_id = ?1)",
            [agent_id],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }
}

/// An agent's rules, read on `conn`.
pub(crate) fn read_config(conn: &rusqlite::Connection, agent_id: i64) -> Result<AgentConfig> {
    conn.row(
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
                outside_hours: parsed(r, 8)?,
                timezone: r.get(9)?,
                persona: r.get(10)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::not_found("agent", agent_id))
}

/// An agent's name and its rules as JSON, read in `conn`'s transaction.
fn config_json(conn: &rusqlite::Connection, agent_id: i64) -> Result<(String, serde_json::Value)> {
    let name: String = conn
        .row("SELECT name FROM agents WHERE id = ?1", [agent_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::not_found("agent", agent_id))?;
    Ok((name, serde_json::to_value(read_config(conn, agent_id)?).unwrap_or_default()))
}

pub(crate) fn write_config(conn: &rusqlite::Connection, agent_id: i64, c: &AgentConfig) -> Result<()> {
    let n = conn.exec(
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

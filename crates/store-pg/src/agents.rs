//! `Agents` on PostgreSQL (migration 0008), checked against SQLite by the shared
//! suite. The rules' lists (blocked topics, tiers, windows) are JSONB.

use crate::PgHub;
use chrono::{DateTime, Utc};
use fanline_engine::AgentConfig;
use fanline_store::{Agent, Agents, Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_postgres::Row;

const AGENT: &str = "id, name, display_name, setup_done_at, created_at, updated_at";
const CONFIG: &str = "max_escalations_per_day, max_escalations_per_week, escalation_enabled,
    auto_answer_confidence_threshold, clarification_enabled, blocked_topics, allowed_user_tiers,
    availability_windows, outside_hours, timezone, persona";

fn agent(r: &Row) -> Agent {
    Agent {
        id: r.get(0),
        name: r.get(1),
        display_name: r.get(2),
        setup_done_at: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
    }
}

fn typed<T: DeserializeOwned>(v: Value, what: &'static str) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::Invalid { what, detail: e.to_string() })
}

fn config(r: &Row) -> Result<AgentConfig> {
    let outside: &str = r.get(8);
    Ok(AgentConfig {
        max_escalations_per_day: r.get::<_, i64>(0) as u32,
        max_escalations_per_week: r.get::<_, i64>(1) as u32,
        escalation_enabled: r.get(2),
        auto_answer_confidence_threshold: r.get(3),
        clarification_enabled: r.get(4),
        blocked_topics: typed(r.get(5), "blocked topics")?,
        allowed_user_tiers: typed(r.get(6), "allowed tiers")?,
        availability_windows: typed(r.get(7), "availability windows")?,
        outside_hours: outside.parse().map_err(|e| Error::Invalid { what: "outside hours", detail: format!("{e}") })?,
        timezone: r.get(9),
        persona: r.get(10),
    })
}

/// Write an agent's rules (inside the caller's transaction or on a client): its row
/// is created or replaced.
async fn write_config(tx: &impl deadpool_postgres::GenericClient, agent_id: i64, c: &AgentConfig) -> crate::Result<()> {
    let r = tx
        .execute(
            &format!(
                "INSERT INTO agent_config (agent_id, {CONFIG}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (agent_id) DO UPDATE SET
                     max_escalations_per_day = excluded.max_escalations_per_day,
                     max_escalations_per_week = excluded.max_escalations_per_week,
                     escalation_enabled = excluded.escalation_enabled,
                     auto_answer_confidence_threshold = excluded.auto_answer_confidence_threshold,
                     clarification_enabled = excluded.clarification_enabled,
                     blocked_topics = excluded.blocked_topics, allowed_user_tiers = excluded.allowed_user_tiers,
                     availability_windows = excluded.availability_windows, outside_hours = excluded.outside_hours,
                     timezone = excluded.timezone, persona = excluded.persona, updated_at = now()"
            ),
            &[
                &agent_id,
                &(c.max_escalations_per_day as i64),
                &(c.max_escalations_per_week as i64),
                &c.escalation_enabled,
                &c.auto_answer_confidence_threshold,
                &c.clarification_enabled,
                &serde_json::to_value(&c.blocked_topics).expect("plain data"),
                &serde_json::to_value(&c.allowed_user_tiers).expect("plain data"),
                &serde_json::to_value(&c.availability_windows).expect("plain data"),
                &c.outside_hours.as_str(),
                &c.timezone,
                &c.persona,
            ],
        )
        .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION) => {
            Err(Error::Invalid { what: "agent config", detail: e.to_string() }.into())
        }
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION) => {
            Err(Error::not_found("agent", agent_id).into())
        }
        Err(e) => Err(e.into()),
    }
}

impl Agents for PgHub {
    fn create_agent(&self, name: &str) -> Result<Agent> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Invalid { what: "agent name", detail: "it is empty".into() });
        }
        self.run(async move {
            let mut client = self.store.client().await?;
            let tx = client.transaction().await?;
            let Some(row) = tx
                .query_opt(
                    &format!("INSERT INTO agents (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING {AGENT}"),
                    &[&name],
                )
                .await?
            else {
                return Err(Error::Conflict { what: "agent", key: name.to_string() }.into());
            };
            let a = agent(&row);
            write_config(&tx, a.id, &AgentConfig::default()).await?;
            tx.commit().await?;
            Ok(a)
        })
    }

    fn agent_by_name(&self, name: &str) -> Result<Option<Agent>> {
        self.opt(&format!("SELECT {AGENT} FROM agents WHERE name = $1"), &[&name], |r| Ok(agent(r)))
    }

    fn agent_by_id(&self, id: i64) -> Result<Agent> {
        self.opt(&format!("SELECT {AGENT} FROM agents WHERE id = $1"), &[&id], |r| Ok(agent(r)))?
            .ok_or_else(|| Error::not_found("agent", id))
    }

    fn list_agents(&self) -> Result<Vec<Agent>> {
        self.all(&format!("SELECT {AGENT} FROM agents ORDER BY id"), &[], |r| Ok(agent(r)))
    }

    fn set_agent_profile(&self, agent_id: i64, display_name: &str, finish: bool) -> Result<Agent> {
        let sql = format!(
            "UPDATE agents SET display_name = $2, updated_at = now(),
                 setup_done_at = CASE WHEN $3 THEN coalesce(setup_done_at, now()) ELSE setup_done_at END
             WHERE id = $1 RETURNING {AGENT}"
        );
        self.opt(&sql, &[&agent_id, &display_name.trim(), &finish], |r| Ok(agent(r)))?
            .ok_or_else(|| Error::not_found("agent", agent_id))
    }

    fn agent_config(&self, agent_id: i64) -> Result<AgentConfig> {
        self.opt(&format!("SELECT {CONFIG} FROM agent_config WHERE agent_id = $1"), &[&agent_id], config)?
            .ok_or_else(|| Error::not_found("agent", agent_id))
    }

    fn set_agent_config(&self, agent_id: i64, c: &AgentConfig) -> Result<()> {
        self.run(async move { write_config(&self.store.client().await?, agent_id, c).await })
    }

    fn last_valid_policy(&self, agent_id: i64) -> Result<Option<(String, DateTime<Utc>)>> {
        let sql = "SELECT text, saved_at FROM last_valid_policy WHERE agent_id = $1";
        self.opt(sql, &[&agent_id], |r| Ok((r.get(0), r.get(1))))
    }

    fn keep_valid_policy(&self, agent_id: i64, text: &str) -> Result<()> {
        self.exec(
            "INSERT INTO last_valid_policy (agent_id, text) VALUES ($1, $2)
             ON CONFLICT (agent_id) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at
             WHERE last_valid_policy.text <> excluded.text",
            &[&agent_id, &text],
        )?;
        Ok(())
    }
}

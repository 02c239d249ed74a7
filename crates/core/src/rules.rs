//! A creator's rules per agent (`fanline config get|set`): caps, the confidence
//! threshold, clarification, blocked topics, allowed tiers, availability windows, the
//! time zone, persona. Values are checked before they are stored.

use crate::{Error, Fanline, Result};
use fanline_engine::AgentConfig;
use fanline_store::Agents;
use serde_json::Value;

/// Check rules before storing them.
pub fn validate_rules(r: &AgentConfig) -> Result<()> {
    if !(0.0..=1.0).contains(&r.auto_answer_confidence_threshold) {
        return Err(Error::InvalidInput(format!(
            "auto_answer_confidence_threshold must be between 0 and 1, got {}",
            r.auto_answer_confidence_threshold
        )));
    }
    fanline_engine::caps::parse_tz(&r.timezone)?;
    fanline_engine::hours::validate(&r.availability_windows)?;
    if r.allowed_user_tiers.is_empty() {
        return Err(Error::InvalidInput(
            "allowed_user_tiers is empty, which would refuse every fan; list at least one of free, follower, paid"
                .into(),
        ));
    }
    if r.blocked_topics.iter().any(|t| t.trim().is_empty()) {
        return Err(Error::InvalidInput("blocked_topics has an empty topic".into()));
    }
    Ok(())
}

fn keys() -> Vec<String> {
    match serde_json::to_value(AgentConfig::default()) {
        Ok(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A value as typed on the command line: JSON when it parses (numbers, true/false,
/// lists, windows), a comma-separated list for list fields, else a string.
fn parse_value(current: &Value, raw: &str) -> Value {
    if let Ok(v) = serde_json::from_str::<Value>(raw) {
        if !(current.is_array() && v.is_string()) {
            return v;
        }
    }
    if current.is_array() {
        let items: Vec<Value> =
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_string())).collect();
        return Value::Array(items);
    }
    Value::String(raw.to_string())
}

impl Fanline {
    /// An agent's rules.
    pub fn rules(&self, agent: Option<&str>) -> Result<AgentConfig> {
        let agent = self.agent(agent)?;
        Ok(self.store.agent_config(agent.id)?)
    }

    /// Replace an agent's rules (checked first).
    pub fn set_rules(&self, agent: Option<&str>, rules: &AgentConfig) -> Result<AgentConfig> {
        let agent = self.agent(agent)?;
        validate_rules(rules)?;
        self.store.set_agent_config(agent.id, rules)?;
        Ok(self.store.agent_config(agent.id)?)
    }

    /// One rule, as JSON.
    pub fn rule_get(&self, agent: Option<&str>, key: &str) -> Result<Value> {
        let all = serde_json::to_value(self.rules(agent)?).expect("rules serialise");
        all.get(key).cloned().ok_or_else(|| unknown(key))
    }

    /// Set one rule from its text form.
    pub fn rule_set(&self, agent: Option<&str>, key: &str, raw: &str) -> Result<AgentConfig> {
        let rules = with_rule(self.rules(agent)?, key, raw)?;
        self.set_rules(agent, &rules)
    }
}

/// `rules` with one rule set from its text form (checked).
pub(crate) fn with_rule(rules: AgentConfig, key: &str, raw: &str) -> Result<AgentConfig> {
    let mut all = serde_json::to_value(rules).expect("rules serialise");
    let current = all.get(key).cloned().ok_or_else(|| unknown(key))?;
    all[key] = parse_value(&current, raw);
    let rules: AgentConfig =
        serde_json::from_value(all).map_err(|e| Error::InvalidInput(format!("{key}: {e} (got {raw:?})")))?;
    validate_rules(&rules)?;
    Ok(rules)
}

fn unknown(key: &str) -> Error {
    Error::InvalidInput(format!("no rule {key:?}; the rules are: {}", keys().join(", ")))
}

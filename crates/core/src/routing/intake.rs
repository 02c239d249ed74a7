//! Stage 1: prepare and store the message. The message is checked, its agent, fan,
//! rules and policy are found, its text is analysed once, and it is stored before
//! anything else can fail: whatever happens next, the fan's message is kept.

use super::MAX_MESSAGE_CHARS;
use crate::app::creator_name;
use crate::policy::PolicyState;
use crate::{Error, Fanline, Result};
use chrono::{DateTime, Utc};
use fanline_engine::route::FanProfile;
use fanline_engine::signals::{analyse, TextAnalysis};
use fanline_engine::AgentConfig;
use fanline_store::{Agent, Role};

/// A stored message with everything routing it needs.
pub(crate) struct Intake {
    pub agent: Agent,
    pub fan: FanProfile,
    pub rules: AgentConfig,
    pub policy: PolicyState,
    /// The name replies give the creator.
    pub creator: String,
    pub message: String,
    pub text: TextAnalysis,
    pub conversation_id: i64,
    pub message_id: i64,
    pub now: DateTime<Utc>,
}

/// The message as it is routed: trimmed, non-empty, within the length limit.
pub fn checked_message(message: &str) -> Result<&str> {
    let message = message.trim();
    if message.is_empty() {
        return Err(Error::InvalidInput("the message is empty".into()));
    }
    if message.contains('\0') {
        return Err(Error::InvalidInput("the message contains a NUL character".into()));
    }
    let n = message.chars().count();
    if n > MAX_MESSAGE_CHARS {
        return Err(Error::InvalidInput(format!(
            "the message is {n} characters long; the limit is {MAX_MESSAGE_CHARS}"
        )));
    }
    Ok(message)
}

impl Fanline {
    /// Stage 1: check and store the message.
    pub(crate) fn intake(&self, agent: Option<&str>, fan_handle: &str, message: &str) -> Result<Intake> {
        let message = checked_message(message)?;
        let agent = self.agent(agent)?;
        let handle = fan_handle.trim();
        let fan = self.store.fan_by_handle(handle)?.ok_or_else(|| {
            Error::InvalidInput(format!("no fan {handle:?}; add them with `fanline fan add {handle} --tier free`"))
        })?;
        let (conversation_id, message_id) = self.store.record_message(agent.id, fan.id, Role::Fan, message)?;
        self.prepare(agent, fan, message, conversation_id, message_id)
    }

    /// Stage 1 for a message stored earlier that has no decision (see `recover`).
    pub(crate) fn intake_stored(&self, m: &fanline_store::Unrouted) -> Result<Intake> {
        let agent = self.store.agent_by_id(m.agent_id)?;
        let fan = self.store.fan(m.fan_id)?;
        self.prepare(agent, fan, &m.body, m.conversation_id, m.message_id)
    }

    fn prepare(
        &self,
        agent: Agent,
        fan: fanline_store::Fan,
        message: &str,
        conversation_id: i64,
        message_id: i64,
    ) -> Result<Intake> {
        let rules = self.store.agent_config(agent.id)?;
        let policy = self.policy(&agent.name);
        Ok(Intake {
            creator: creator_name(&agent),
            fan: FanProfile { id: fan.id, handle: fan.handle, tier: fan.tier, layer: fan.layer },
            agent,
            rules,
            policy,
            text: analyse(message),
            message: message.to_string(),
            conversation_id,
            message_id,
            now: self.now(),
        })
    }
}

//! Stage 1: prepare and store the message. The message is checked, its agent, fan,
//! rules and policy are found, its text is analysed once, and it is stored before
//! anything else can fail: whatever happens next, the fan's message is kept.

use super::MAX_MESSAGE_CHARS;
use crate::app::creator_name;
use crate::policy::PolicyState;
use crate::{Error, Fanline, Result};
use chrono::{DateTime, Utc};
use fanline_engine::route::FanProfile;
use fanline_engine::signals::risk::in_crisis;
use fanline_engine::signals::{self, analyse, TextAnalysis};
use fanline_engine::AgentConfig;
use fanline_engine::RoutePath;
use fanline_store::Agents;
use fanline_store::Conversations;
use fanline_store::HubAccess;
use fanline_store::{Agent, PreviousTurn, Role};

/// A stored message with everything routing it needs.
pub(crate) struct Intake {
    pub agent: Agent,
    pub fan: FanProfile,
    pub rules: AgentConfig,
    pub policy: PolicyState,
    /// The name replies give the creator.
    pub creator: String,
    pub message: String,
    /// The earlier message a follow-up is read with ("and how much is it?").
    pub context: Option<String>,
    /// What the text says: personal data and crisis from the message itself, vagueness
    /// and complexity from the message as routed.
    pub text: TextAnalysis,
    pub conversation_id: i64,
    pub message_id: i64,
    pub now: DateTime<Utc>,
    /// A what-if replay: routed as of `now`, the message's time (see `replay.rs`).
    pub replay: bool,
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
        self.prepare_intake(agent, fan, message, conversation_id, message_id)
    }

    /// Stage 1 for a message stored earlier that has no decision (see `recover`).
    pub(crate) fn intake_stored(&self, m: &fanline_store::Unrouted) -> Result<Intake> {
        let agent = self.store.agent_by_id(m.agent_id)?;
        let fan = self.store.fan(m.fan_id)?;
        self.prepare_intake(agent, fan, &m.body, m.conversation_id, m.message_id)
    }

    /// Everything routing a stored message needs (what-if replay changes its rules,
    /// policy and time afterwards).
    pub(crate) fn prepare_intake(
        &self,
        agent: Agent,
        fan: fanline_store::Fan,
        message: &str,
        conversation_id: i64,
        message_id: i64,
    ) -> Result<Intake> {
        let rules = self.store.agent_config(agent.id)?;
        let policy = self.policy(&agent.name);
        let mut text = analyse(message);
        let context = follow_up(message, &text, self.store.previous_fan_turn(message_id)?);
        if let Some(earlier) = &context {
            // Vagueness and complexity of the two read together; personal data and
            // crisis stay the fan's own words' (scanned once, above).
            text.stats = signals::text::stats(&read_with(earlier, message));
            (text.complexity, text.vagueness) = (signals::complexity(&text.stats), signals::vagueness(&text.stats));
        }
        Ok(Intake {
            creator: creator_name(&agent),
            fan: FanProfile { id: fan.id, handle: fan.handle, tier: fan.tier, layer: fan.layer },
            agent,
            rules,
            policy,
            text,
            message: message.to_string(),
            context,
            conversation_id,
            message_id,
            now: self.now(),
            replay: false,
        })
    }
}

impl Intake {
    /// The message as routed: the fan's words, after their previous message when they
    /// follow up on it.
    pub fn query(&self) -> std::borrow::Cow<'_, str> {
        match &self.context {
            Some(earlier) => read_with(earlier, &self.message).into(),
            None => self.message.as_str().into(),
        }
    }
}

fn read_with(earlier: &str, message: &str) -> String {
    format!("{earlier} {message}")
}

/// A follow-up is read with the fan's previous message if that came at most this long
/// before (seconds).
const FOLLOW_UP_SECONDS: f64 = 30.0 * 60.0;

/// Words that point back at something said before ("how much is it?"); not "these
/// days" or "is there".
const REFERRING: &[&str] = &["it", "it's", "its", "that", "this", "them", "those", "they", "one"];

/// Openings that continue what was asked before.
const CONTINUATIONS: &[&str] = &["and ", "and?", "also ", "what about ", "how about ", "but ", "so ", "then "];

/// The earlier message a follow-up is read with: a reply to a clarifying question, or
/// a short message that leans on what came before ("and how much is it?", "what about
/// the annual one?") soon after the fan's previous one. Either must name something of
/// its own ("and that?" stays a message to clarify).
fn follow_up(message: &str, text: &TextAnalysis, previous: Option<PreviousTurn>) -> Option<String> {
    let p = previous.filter(|p| p.seconds_before <= FOLLOW_UP_SECONDS)?;
    let lower = message.trim_start().to_lowercase();
    let refers = lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')).any(|w| REFERRING.contains(&w));
    let leans = (refers && text.stats.content_words <= 3) || CONTINUATIONS.iter().any(|c| lower.starts_with(c));
    let answers_clarification = p.path == Some(RoutePath::B);
    // It must name something of its own: "and that?" says nothing more in context.
    let adds = text.stats.content_words >= 1;
    let follows = adds && (answers_clarification || (leans && text.stats.content_words <= 4));
    // A message in crisis is not the context of the next question.
    (follows && !in_crisis(&p.body)).then_some(p.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(body: &str, path: RoutePath, seconds_before: f64) -> Option<PreviousTurn> {
        Some(PreviousTurn { body: body.into(), path: Some(path), seconds_before })
    }

    #[test]
    fn follow_ups_are_read_with_the_previous_message() {
        let f = |m: &str, p| follow_up(m, &analyse(m), p);
        let before = "How much does the workshop cost?";
        assert_eq!(f("and is there a refund?", turn(before, RoutePath::A, 20.0)).as_deref(), Some(before));
        assert_eq!(f("what about the annual price?", turn(before, RoutePath::A, 20.0)).as_deref(), Some(before));
        assert_eq!(f("does it include feedback?", turn(before, RoutePath::A, 20.0)).as_deref(), Some(before));
        // A reply to a clarifying question, whatever it says.
        assert_eq!(
            f("the workshop", turn("Tell me about it", RoutePath::B, 60.0)).as_deref(),
            Some("Tell me about it")
        );
        // A question of its own, or one long after, stands alone.
        assert_eq!(f("Which microphone do you use for your videos?", turn(before, RoutePath::A, 20.0)), None);
        assert_eq!(f("and is there a refund?", turn(before, RoutePath::A, 7200.0)), None);
        assert_eq!(f("and is there a refund?", None), None);
        let crisis = "I want to end my life";
        assert_eq!(f("and how much is the workshop?", turn(crisis, RoutePath::D, 20.0)), None);
        // Nothing of its own to read with the previous one.
        assert_eq!(f("and that?", turn(before, RoutePath::A, 20.0)), None);
    }
}

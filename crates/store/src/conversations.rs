//! Conversations: a fan's messages (stored before they are routed, under the fan's
//! idempotency key when they come over HTTP), the replies and events that follow them,
//! and the decisions made on them.
//!
//! The second area of the hub's store interface (see access.rs). SQLite implements it
//! in `messages.rs`, PostgreSQL in `fanline-store-pg`; `suite::conversations` runs on
//! both. A decision's details are JSON here (the interface is object-safe);
//! [`TypedDecisions`] reads and writes them as any serde type.

use crate::{Decision, Message, NewDecision, NewRouting, Posted, PreviousTurn, Result, Role, RoutingWritten, Unrouted};
use chrono::{DateTime, Utc};
use fanline_engine::route::FanHistory;
use fanline_engine::RoutePath;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Messages and decisions (see the module).
pub trait Conversations: Send + Sync {
    /// Store a message in the fan's conversation with the agent (created on the fan's
    /// first message). Returns (conversation id, message id).
    fn record_message(&self, agent_id: i64, fan_id: i64, role: Role, body: &str) -> Result<(i64, i64)>;

    /// Store a fan's message under their idempotency key, or find what the key stored
    /// before, in one transaction: a message is never stored twice for one key (a key
    /// is the fan's, whatever the agent), and a key's message is always stored.
    fn post_fan_message(&self, agent_id: i64, fan_id: i64, body: &str, key: &str, request_hash: &str)
        -> Result<Posted>;

    /// The fan's message before `message_id` in its conversation: its text, the path
    /// it was routed to (none if it has no decision) and how many seconds earlier it came.
    fn previous_fan_turn(&self, message_id: i64) -> Result<Option<PreviousTurn>>;

    /// The conversation a message is in (not found: an error).
    fn message_conversation(&self, message_id: i64) -> Result<i64>;

    /// The last `limit` messages of a conversation, oldest first.
    fn recent_messages(&self, conversation_id: i64, limit: usize) -> Result<Vec<Message>>;

    /// The reply to a fan's message, if it was written.
    fn reply_of(&self, message_id: i64) -> Result<Option<i64>>;

    /// A conversation's messages after message `after` (0: from the start), oldest
    /// first, at most `limit`: what a fan catches up with, and the event log a stream
    /// resumes from. A reader that has seen message `n` never later finds a message of
    /// the same conversation numbered below `n` (ids are taken in commit order within a
    /// conversation), so a cursor skips nothing.
    fn messages_after(&self, conversation_id: i64, after: i64, limit: usize) -> Result<Vec<Message>>;

    /// The decision made on a message, if any (the first).
    fn decision_of_message(&self, message_id: i64) -> Result<Option<i64>>;

    /// Store a decision with its details, trace and reply, and nothing else.
    fn record_decision_value(&self, d: &NewDecision<'_, Value>, reply: &str) -> Result<i64>;

    /// One decision, its details as JSON (not found: an error).
    fn decision_value(&self, id: i64) -> Result<Decision<Value>>;

    /// The fan's words a decision was made on.
    fn decision_question(&self, id: i64) -> Result<String>;

    /// Write a routing decision with its effects in one transaction: the decision,
    /// the reuse count of the answer served (C) or the escalation offered (D), and the
    /// agent's reply in the conversation. `reply` is given the offer's id (which the
    /// reply names) and called once. A message is routed once: a second routing of it
    /// (a recovery racing a slow route, in any process) is a conflict and writes nothing.
    fn record_routing_value(
        &self,
        w: &NewRouting<'_, Value>,
        reply: &dyn Fn(Option<i64>) -> String,
    ) -> Result<RoutingWritten>;

    /// A fan's history with an agent (earlier and declined offers, the previous path
    /// in the conversation, its last `messages` messages), and the agent's escalations
    /// accepted since `day_start` and `week_start`. `conversation_id`: the conversation
    /// being routed. `as_of`: history as it stood when that stored message arrived (a
    /// what-if replay: nothing after it counts; acceptances up to its instant do);
    /// `None`: as it stands now.
    #[allow(clippy::too_many_arguments)]
    fn fan_history(
        &self,
        agent_id: i64,
        fan_id: i64,
        conversation_id: Option<i64>,
        day_start: DateTime<Utc>,
        week_start: DateTime<Utc>,
        messages: usize,
        as_of: Option<(i64, DateTime<Utc>)>,
    ) -> Result<FanHistory>;

    /// How many fan messages have no decision (an agent's, or all): routes killed or
    /// failed after the message was kept.
    fn unrouted_count(&self, agent_id: Option<i64>) -> Result<u64>;

    /// The fan messages with no decision stored before `before` (younger ones may be
    /// being routed right now), oldest first.
    fn unrouted_messages(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<Unrouted>>;

    /// One fan message, if it has no decision.
    fn unrouted_message(&self, message_id: i64) -> Result<Option<Unrouted>>;

    /// An agent's decisions, newest first, optionally only one path or one fan.
    fn list_decisions_value(
        &self,
        agent_id: i64,
        path: Option<RoutePath>,
        fan_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Decision<Value>>>;
}

/// Decisions with typed details, over any [`Conversations`].
pub trait TypedDecisions {
    /// Store a decision with its details, trace and reply, and nothing else.
    fn record_decision<D: Serialize>(&self, d: &NewDecision<'_, D>, reply: &str) -> Result<i64>;
    /// One decision, its details read as `D`.
    fn decision<D: DeserializeOwned>(&self, id: i64) -> Result<Decision<D>>;
    /// Write a routing decision with its effects (see [`Conversations::record_routing_value`]).
    fn record_routing<D: Serialize>(
        &self,
        w: &NewRouting<'_, D>,
        reply: impl FnOnce(Option<i64>) -> String,
    ) -> Result<RoutingWritten>;
    /// An agent's decisions, newest first, optionally only one path or one fan.
    fn list_decisions<D: DeserializeOwned>(
        &self,
        agent_id: i64,
        path: Option<RoutePath>,
        fan_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Decision<D>>>;
}

impl<T: Conversations + ?Sized> TypedDecisions for T {
    fn record_decision<D: Serialize>(&self, d: &NewDecision<'_, D>, reply: &str) -> Result<i64> {
        self.record_decision_value(&as_json(d)?, reply)
    }

    fn decision<D: DeserializeOwned>(&self, id: i64) -> Result<Decision<D>> {
        typed(self.decision_value(id)?)
    }

    fn record_routing<D: Serialize>(
        &self,
        w: &NewRouting<'_, D>,
        reply: impl FnOnce(Option<i64>) -> String,
    ) -> Result<RoutingWritten> {
        let w = NewRouting { decision: as_json(&w.decision)?, served: w.served, offer: w.offer.clone() };
        let once = std::cell::Cell::new(Some(reply));
        self.record_routing_value(&w, &|id| once.take().expect("the reply is written once")(id))
    }

    fn list_decisions<D: DeserializeOwned>(
        &self,
        agent_id: i64,
        path: Option<RoutePath>,
        fan_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Decision<D>>> {
        self.list_decisions_value(agent_id, path, fan_id, limit)?.into_iter().map(typed).collect()
    }
}

/// A decision to store with its details as JSON.
pub(crate) fn as_json<'a, D: Serialize>(d: &NewDecision<'a, D>) -> Result<NewDecision<'a, Value>> {
    Ok(NewDecision {
        message_id: d.message_id,
        conversation_id: d.conversation_id,
        agent_id: d.agent_id,
        fan_id: d.fan_id,
        path: d.path,
        reason: d.reason.clone(),
        details: serde_json::to_value(&d.details).map_err(invalid)?,
        trace: d.trace,
    })
}

fn invalid(e: serde_json::Error) -> crate::Error {
    crate::Error::Invalid { what: "decision details", detail: e.to_string() }
}

fn typed<D: DeserializeOwned>(d: Decision<Value>) -> Result<Decision<D>> {
    Ok(Decision {
        id: d.id,
        message_id: d.message_id,
        agent_id: d.agent_id,
        fan_id: d.fan_id,
        path: d.path,
        reason: d.reason,
        details: serde_json::from_value(d.details).map_err(invalid)?,
        trace: d.trace,
        reply: d.reply,
        canonical_answer_id: d.canonical_answer_id,
        created_at: d.created_at,
    })
}

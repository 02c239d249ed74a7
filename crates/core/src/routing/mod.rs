//! Routing a fan's message, in five stages, each with its own types:
//!
//! 1. **intake** (`intake.rs`): check the message, find the agent, the fan and the
//!    rules, and store the message, so whatever happens next it is kept ([`Intake`]);
//! 2. **check** (`check.rs`): the message's critics, which may send it to the creator
//!    or refuse it ([`MessageCheck`]);
//! 3. **route and compose** (`compose.rs`): the engine's plan decides the outcome, and
//!    the reply is written for it ([`compose::Reply`]);
//! 4. **review** (`review.rs`): every text a model or the documents wrote passes the
//!    draft critics: redacted, rewritten, answered from the documents, or rerouted;
//! 5. **persist and report** (`persist.rs`): the decision, its effects and the reply in
//!    one transaction, and the [`RouteReport`].

mod check;
pub(crate) mod compose;
mod intake;
mod persist;
mod review;

use crate::llm::StreamEvent;
use crate::{Error, Fanline, Result};
use fanline_critics::Report;
use fanline_engine::reuse::{ReuseCandidate, ReuseVerdict};
use fanline_engine::route::reply::Citation;
use fanline_engine::route::{Refusal, Signals, Trace};
use fanline_engine::RoutePath;
use fanline_store::Acceptance;
use fanline_store::HubAccess;
use fanline_store::TypedDecisions;
use serde::{Deserialize, Serialize};

pub(crate) use check::MessageCheck;
pub use compose::{Generation, GenerationSource};
pub use intake::checked_message;
pub(crate) use intake::Intake;

/// The longest message routed (characters).
pub const MAX_MESSAGE_CHARS: usize = 8000;

/// The canonical answer served on path C.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Served {
    /// The answer's id.
    pub canonical_id: i64,
    /// The question it was written for.
    pub question: String,
    /// How many times it has been served, this time included.
    pub times_reused: u64,
}

/// The critics' reports on the message and on the text sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CriticReports {
    /// On the fan's message.
    pub message: Report,
    /// On the text the fan received, when a model or the documents wrote it.
    pub draft: Option<Report>,
    /// Drafts turned down before it, oldest first.
    pub rejected: Vec<Report>,
}

/// A routed message: the decision, the reply, why, and what it caused.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RouteReport {
    /// The stored decision.
    pub decision_id: i64,
    /// The stored fan message.
    pub message_id: i64,
    /// The conversation it is in.
    pub conversation_id: i64,
    /// The agent's name.
    pub agent: String,
    /// The fan's handle.
    pub fan: String,
    /// The path taken.
    pub path: RoutePath,
    /// One sentence: why.
    pub reason: String,
    /// What the fan reads.
    pub reply: String,
    /// The passages the reply cites (path A).
    pub citations: Vec<Citation>,
    /// The canonical answer served (path C).
    pub served: Option<Served>,
    /// The escalation offered (path D).
    pub escalation_id: Option<i64>,
    /// Why it was refused (path F).
    pub refusal: Option<Refusal>,
    /// What routing measured (None when the gate decided).
    pub signals: Option<Signals>,
    /// The reuse verdict and the canonical answers it looked at.
    pub reuse: Option<ReuseVerdict>,
    /// The canonical answers judged, best first.
    pub candidates: Vec<ReuseCandidate>,
    /// Every step of the plan and of the critics.
    pub trace: Trace,
    /// The policy file is invalid (the last valid policy was used).
    pub policy_warning: Option<String>,
    /// How the reply was written: by a language model, or without one.
    pub generation: Option<Generation>,
    /// The critics' reports.
    pub critics: CriticReports,
}

/// What a decision's `signals` column holds: what routing measured and produced (for a
/// routed message), or what an acceptance did (for the fan accepting an offer). Every
/// field is optional, so decisions of either kind, and of earlier versions, read back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct DecisionDetails {
    /// What routing measured.
    pub signals: Option<Signals>,
    /// The reuse verdict.
    pub reuse: Option<ReuseVerdict>,
    /// The canonical answers judged.
    pub candidates: Vec<ReuseCandidate>,
    /// The passages cited.
    pub citations: Vec<Citation>,
    /// Why it was refused.
    pub refusal: Option<Refusal>,
    /// The policy file's problem, if it had one.
    pub policy_warning: Option<String>,
    /// How the reply was written.
    pub generation: Option<Generation>,
    /// The critics' reports.
    pub critics: Option<CriticReports>,
    /// An acceptance: what it did.
    pub acceptance: Option<Acceptance>,
    /// An acceptance: the offer accepted.
    pub escalation_id: Option<i64>,
}

/// A stored decision with its details and trace.
pub type Decision = fanline_store::Decision<DecisionDetails>;

impl Fanline {
    /// Route a fan's message to an agent.
    pub fn route(&self, agent: Option<&str>, fan_handle: &str, message: &str) -> Result<RouteReport> {
        self.route_streaming(agent, fan_handle, message, &mut |_| {})
    }

    /// Route a fan's message, streaming a written answer (path A) or clarifying
    /// question (path B) token by token into `sink` as it is written.
    pub fn route_streaming(
        &self,
        agent: Option<&str>,
        fan_handle: &str,
        message: &str,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<RouteReport> {
        let intake = self.intake(agent, fan_handle, message)?;
        self.route_stored(&intake, sink)
    }

    /// Route a message that is already stored (stages 2 to 5).
    pub(crate) fn route_stored(
        &self,
        intake: &Intake,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<RouteReport> {
        let critics = self.critics()?;
        let check = self.check_message(&critics, intake);
        let routed = self.plan(intake, check.reroute.clone())?;
        let reply = self.compose(intake, &routed, compose::DraftMode::First, sink)?;
        let reviewed = self.review(&critics, intake, routed, reply, sink)?;
        self.persist(intake, check, reviewed)
    }

    /// The decision log: an agent's decisions, newest first.
    pub fn decisions(
        &self,
        agent: Option<&str>,
        path: Option<RoutePath>,
        fan: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Decision>> {
        let agent = self.agent(agent)?;
        let fan_id = match fan {
            Some(h) => {
                Some(self.store.fan_by_handle(h)?.ok_or_else(|| Error::InvalidInput(format!("no fan {h:?}")))?.id)
            }
            None => None,
        };
        Ok(self.store.list_decisions(agent.id, path, fan_id, limit.max(1))?)
    }

    /// One decision with its details and trace.
    pub fn decision(&self, id: i64) -> Result<Decision> {
        Ok(self.store.decision(id)?)
    }
}

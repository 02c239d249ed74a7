//! `fanline recover`: fan messages that were stored but never got a decision (a route
//! killed or failed halfway) are routed now, each once, so no fan is left unanswered.

use crate::routing::RouteReport;
use crate::{Error, Fanline, Result};
use fanline_store::Conversations;
use serde::Serialize;

/// How long a message must have waited before recovery takes it: a younger one may be
/// being routed by another process right now.
pub const RECOVER_AFTER_SECONDS: i64 = 60;

/// The most messages one recovery routes.
const BATCH: usize = 10_000;

/// What one recovered message became.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Recovered {
    /// Routed now.
    Routed {
        /// The decision.
        report: Box<RouteReport>,
    },
    /// Another process routed it meanwhile: nothing written twice.
    AlreadyRouted {
        /// The message.
        message_id: i64,
    },
    /// Routing failed again; it stays unrouted.
    Failed {
        /// The message.
        message_id: i64,
        /// Why.
        error: crate::ErrorBody,
    },
}

/// What `fanline recover` did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RecoverReport {
    /// One entry per message taken, oldest first.
    pub messages: Vec<Recovered>,
    /// Messages without a decision still left (younger than the wait, or failed).
    pub left: u64,
}

impl Fanline {
    /// How many fan messages have no decision.
    pub fn unrouted_count(&self) -> Result<u64> {
        Ok(self.store.unrouted_count(None)?)
    }

    /// Route every fan message that has waited at least `after_seconds` without a
    /// decision, each once (a message another process routes meanwhile is left alone).
    pub fn recover(&self, after_seconds: i64) -> Result<RecoverReport> {
        let before = self.now() - chrono::Duration::seconds(after_seconds.max(0));
        let mut messages = Vec::new();
        for m in self.store.unrouted_messages(before, BATCH)? {
            let routed = self.intake_stored(&m).and_then(|intake| self.route_stored(&intake, &mut |_| {}));
            messages.push(match routed {
                Ok(report) => Recovered::Routed { report: Box::new(report) },
                Err(Error::Store(fanline_store::Error::Conflict { .. })) => {
                    Recovered::AlreadyRouted { message_id: m.message_id }
                }
                Err(e) => {
                    tracing::warn!(message = m.message_id, "could not route a stored message: {e}");
                    Recovered::Failed { message_id: m.message_id, error: e.body() }
                }
            });
        }
        Ok(RecoverReport { messages, left: self.store.unrouted_count(None)? })
    }
}

//! Offers: escalations offered to fans, accepted within the agent's caps, queued for
//! the creator, deferred and expired.
//!
//! The third area of the hub's store interface (see access.rs). SQLite implements it
//! in `escalations.rs` (one write transaction counts and accepts), PostgreSQL in
//! `fanline-store-pg` (counter rows raised by a conditional UPDATE); `suite::offers`
//! runs on both, with a thousand acceptances racing for the cap. Declining and
//! answering come with the knowledge area (they teach the reuse model and create
//! canonical answers).

use crate::{AcceptWrite, Acceptance, Accepted, CapCheck, Escalation, NewEscalation, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// Escalations from offer to queue (see the module).
pub trait Offers: Send + Sync {
    /// Offer an escalation on its own (routing offers them with their decision).
    fn create_escalation(&self, e: &NewEscalation) -> Result<i64>;

    /// One escalation (not found: an error).
    fn escalation(&self, id: i64) -> Result<Escalation>;

    /// The escalation a decision offered, if any.
    fn escalation_of_decision(&self, decision_id: i64) -> Result<Option<Escalation>>;

    /// The creator's queue: accepted escalations, those not deferred past `now` first,
    /// then by priority (highest first) and age (oldest first).
    fn escalation_queue(&self, agent_id: i64, now: DateTime<Utc>, limit: usize) -> Result<Vec<Escalation>>;

    /// Put a queued escalation aside until `until` (only an accepted one).
    fn defer_escalation(&self, id: i64, until: DateTime<Utc>) -> Result<()>;

    /// Expire offers and queued escalations whose `expires_at` has passed; returns how many.
    fn expire_escalations(&self, now: DateTime<Utc>) -> Result<usize>;

    /// Accept a pending offer if the agent's caps allow it and, in the same
    /// transaction, write what the acceptance leads to (`then`: the decision, E or F,
    /// the reply in the conversation, the queue expiry). However many acceptances race,
    /// from any number of connections or processes, no more than the cap are accepted;
    /// escalations accepted in a window count against it whatever became of them.
    fn accept_escalation_value(
        &self,
        id: i64,
        cap: &CapCheck,
        then: Option<&AcceptWrite<'_, Value>>,
    ) -> Result<Accepted>;
}

/// Acceptance with typed decision details, over any [`Offers`].
pub trait TypedOffers {
    /// Accept within the caps, writing nothing else.
    fn accept_escalation(&self, id: i64, cap: &CapCheck) -> Result<Acceptance>;
    /// Accept within the caps and write what follows (see [`Offers::accept_escalation_value`]).
    fn accept_escalation_with<D: Serialize>(
        &self,
        id: i64,
        cap: &CapCheck,
        then: Option<&AcceptWrite<'_, D>>,
    ) -> Result<Accepted>;
}

impl<T: Offers + ?Sized> TypedOffers for T {
    fn accept_escalation(&self, id: i64, cap: &CapCheck) -> Result<Acceptance> {
        Ok(self.accept_escalation_value(id, cap, None)?.acceptance)
    }

    fn accept_escalation_with<D: Serialize>(
        &self,
        id: i64,
        cap: &CapCheck,
        then: Option<&AcceptWrite<'_, D>>,
    ) -> Result<Accepted> {
        let Some(t) = then else { return self.accept_escalation_value(id, cap, None) };
        let decide = |a: &Acceptance| {
            let (d, reply) = (t.decision)(a);
            (crate::conversations::as_json(&d).expect("plain data serialises to JSON"), reply)
        };
        self.accept_escalation_value(id, cap, Some(&AcceptWrite { decision: &decide, queue_expiry: t.queue_expiry }))
    }
}

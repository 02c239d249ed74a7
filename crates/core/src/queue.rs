//! The escalation lifecycle after the offer: the fan accepts (path E, within the caps),
//! the creator answers (a canonical answer is born), attaches the question to an existing
//! answer, declines, or defers it.

use crate::routing::DecisionDetails;
use crate::{Error, Fanline, Result};
use chrono::{DateTime, Utc};
use fanline_engine::caps::{parse_tz, windows};
use fanline_engine::route::Trace;
use fanline_engine::{EscalationReason, EscalationStatus, Layer, RoutePath, Tier};
use fanline_store::Agents;
use fanline_store::Conversations;
use fanline_store::HubAccess;
use fanline_store::{AcceptWrite, Acceptance, CanonicalAnswer, CapCheck, Escalation, NewDecision};
use fanline_store::{Offers, TypedOffers};
use serde::{Deserialize, Serialize};

/// What accepting an offer did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AcceptReport {
    /// The offer.
    pub escalation_id: i64,
    /// Whether it is queued for the creator.
    pub accepted: bool,
    /// E when queued, F when a cap refused it.
    pub path: RoutePath,
    /// What the fan reads.
    pub reply: String,
    /// What the caps said.
    pub acceptance: Acceptance,
    /// The decision written.
    pub decision_id: Option<i64>,
    /// When the cap that refused it resets.
    pub resets_at: Option<DateTime<Utc>>,
}

/// An escalation in the creator's queue, with its fan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueItem {
    /// The escalation.
    pub id: i64,
    /// The fan's handle.
    pub fan: String,
    /// The fan's tier.
    pub tier: Tier,
    /// The highest layer the fan may see.
    pub fan_layer: Layer,
    /// The question.
    pub question: String,
    /// The conversation so far.
    pub context_summary: String,
    /// Why it came to the creator.
    pub reason: EscalationReason,
    /// Its place in the queue.
    pub priority: i64,
    /// Its status.
    pub status: EscalationStatus,
    /// When it was offered.
    pub offered_at: DateTime<Utc>,
    /// When the fan accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Hours since the fan accepted (or was offered).
    pub age_hours: f64,
    /// When it leaves the queue unanswered.
    pub expires_at: Option<DateTime<Utc>>,
    /// Put aside until then.
    pub deferred_until: Option<DateTime<Utc>>,
    /// Offered outside the creator's hours: when they are back.
    pub expected_reply_after: Option<DateTime<Utc>>,
    /// The reply is due by then (the policy file's `reply_within_hours` for the fan's
    /// tier, from the acceptance).
    pub due_at: Option<DateTime<Utc>>,
    /// Past its reply time.
    pub overdue: bool,
}

fn hours_since(t: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    (now - t).num_seconds() as f64 / 3600.0
}

impl Fanline {
    /// The fan accepts an offered escalation. Within the caps it is queued for the
    /// creator (path E); past a cap it is refused (path F) with when the cap resets. The
    /// acceptance, its decision, the reply and the queue expiry are one transaction.
    pub fn accept(&self, id: i64) -> Result<AcceptReport> {
        self.refuse_if_paired()?;
        let now = self.now();
        self.store.expire_escalations(now)?;
        let e = self.store.escalation(id)?;
        let rules = self.store.agent_config(e.agent_id)?;
        let w = windows(now, parse_tz(&rules.timezone)?);
        let check = CapCheck {
            now,
            day_start: w.day_start,
            week_start: w.week_start,
            max_per_day: rules.max_escalations_per_day,
            max_per_week: rules.max_escalations_per_week,
        };
        let creator = self.agent_display_name(e.agent_id)?;
        let conversation_id = match e.message_id {
            Some(m) => self.store.message_conversation(m)?,
            None => 0,
        };
        let trace = Trace { steps: Vec::new(), decided_by: Some("accept".into()), total_us: 0 };
        let outcome = |a: &Acceptance| -> (RoutePath, String, String, Option<DateTime<Utc>>) {
            match *a {
                Acceptance::Accepted { today, this_week } => {
                    let back = e
                        .expected_reply_after
                        .map(|t| format!(" They are back after {}.", t.format("%a %d %b %H:%M UTC")))
                        .unwrap_or_default();
                    (
                        RoutePath::E,
                        format!("Sent to {creator}. You'll get their answer here.{back}"),
                        format!(
                            "the fan accepted offer #{id}; queued with priority {} ({today}/{} today, {this_week}/{} this week)",
                            e.priority, rules.max_escalations_per_day, rules.max_escalations_per_week
                        ),
                        None,
                    )
                }
                Acceptance::DailyCapReached { today } => (
                    RoutePath::F,
                    format!(
                        "Sorry — {creator} has taken all the questions they can today. You can ask again after {}.",
                        w.day_end.format("%a %d %b %H:%M UTC")
                    ),
                    format!("daily cap reached ({today}/{})", rules.max_escalations_per_day),
                    Some(w.day_end),
                ),
                Acceptance::WeeklyCapReached { this_week } => (
                    RoutePath::F,
                    format!(
                        "Sorry — {creator} has taken all the questions they can this week. You can ask again after {}.",
                        w.week_end.format("%a %d %b %H:%M UTC")
                    ),
                    format!("weekly cap reached ({this_week}/{})", rules.max_escalations_per_week),
                    Some(w.week_end),
                ),
            }
        };
        let accepted = self.store.accept_escalation_with(
            id,
            &check,
            Some(&AcceptWrite {
                decision: &|a| {
                    let (path, reply, reason, _) = outcome(a);
                    let details =
                        DecisionDetails { acceptance: Some(*a), escalation_id: Some(id), ..Default::default() };
                    (
                        NewDecision {
                            message_id: e.message_id.unwrap_or_default(),
                            conversation_id,
                            agent_id: e.agent_id,
                            fan_id: e.fan_id,
                            path,
                            reason,
                            details,
                            trace: &trace,
                        },
                        reply,
                    )
                },
                queue_expiry: now + chrono::Duration::hours(self.config.routing.queue_expiry_hours as i64),
            }),
        )?;
        let (path, reply, _, resets_at) = outcome(&accepted.acceptance);
        Ok(AcceptReport {
            escalation_id: id,
            accepted: path == RoutePath::E,
            path,
            reply,
            acceptance: accepted.acceptance,
            decision_id: accepted.decision_id,
            resets_at,
        })
    }

    /// The creator's queue: accepted escalations by priority and age (deferred ones last).
    pub fn queue(&self, agent: Option<&str>, limit: usize) -> Result<Vec<QueueItem>> {
        let agent = self.agent(agent)?;
        let now = self.now();
        self.store.expire_escalations(now)?;
        let list = self.store.escalation_queue(agent.id, now, limit.max(1))?;
        let policy = self.policy(&agent.name).policy;
        list.into_iter()
            .map(|e| {
                let fan = self.store.fan(e.fan_id)?;
                let since = e.accepted_at.unwrap_or(e.offered_at);
                let due_at = policy
                    .tiers
                    .get(&fan.tier)
                    .and_then(|t| t.reply_within_hours)
                    .map(|h| since + chrono::Duration::hours(h.get() as i64));
                Ok(QueueItem {
                    id: e.id,
                    fan: fan.handle,
                    tier: fan.tier,
                    fan_layer: fan.layer,
                    question: e.question,
                    context_summary: e.context_summary,
                    reason: e.reason,
                    priority: e.priority,
                    status: e.status,
                    offered_at: e.offered_at,
                    accepted_at: e.accepted_at,
                    age_hours: hours_since(since, now),
                    expires_at: e.expires_at,
                    deferred_until: e.deferred_until,
                    expected_reply_after: e.expected_reply_after,
                    overdue: due_at.is_some_and(|d| d < now),
                    due_at,
                })
            })
            .collect()
    }

    /// The creator answers: the answer goes to the fan and becomes a canonical answer
    /// (at `layer`) with the fan's question as its first phrasing.
    pub fn queue_answer(&self, id: i64, text: &str, layer: Layer) -> Result<CanonicalAnswer> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::InvalidInput("the answer is empty".into()));
        }
        let e = self.store.escalation(id)?;
        let v = self.embedder()?.embed_one(&e.question)?;
        let canonical = self.write_indexed(false, |s| s.answer_escalation(id, text, layer, &v))?;
        self.flush()?;
        self.canonical_show(canonical)
    }

    /// The creator answers with an existing canonical answer: the fan gets it, and the
    /// question becomes one more phrasing of it.
    pub fn queue_attach(&self, id: i64, canonical_id: i64) -> Result<CanonicalAnswer> {
        let e = self.store.escalation(id)?;
        let v = self.embedder()?.embed_one(&e.question)?;
        self.write_indexed(false, |s| s.attach_escalation(id, canonical_id, &v).map(|c| ((), c)))?;
        self.flush()?;
        self.canonical_show(canonical_id)
    }

    /// The creator declines a queued escalation (or the fan turns down an offer). A
    /// question the creator declined teaches the reuse model what none of the answers
    /// is for (when the model can embed it; a decline never fails for want of it).
    pub fn queue_decline(&self, id: i64) -> Result<Escalation> {
        let e = self.store.escalation(id)?;
        let creator = self.agent_display_name(e.agent_id)?;
        let notice = format!("Sorry — {creator} can't take this question.");
        let v = self.learning_vector(&e.question);
        self.write_indexed(false, |s| {
            s.decline_escalation(id, self.now(), Some(&notice), v.as_deref()).map(|()| ((), Default::default()))
        })?;
        Ok(self.store.escalation(id)?)
    }

    /// Put a queued escalation aside for `hours`.
    pub fn queue_defer(&self, id: i64, hours: u32) -> Result<Escalation> {
        if hours == 0 {
            return Err(Error::InvalidInput("defer by at least one hour".into()));
        }
        self.store.defer_escalation(id, self.now() + chrono::Duration::hours(hours as i64))?;
        Ok(self.store.escalation(id)?)
    }
}

/// Watches the creator's queue for escalations that arrived since the last look (for
/// desktop notifications). The first look only learns what is already there.
#[derive(Debug, Default)]
pub struct QueueWatch {
    seen: Option<std::collections::HashSet<i64>>,
}

impl QueueWatch {
    /// The queued escalations not seen before.
    pub fn poll(&mut self, app: &Fanline) -> Result<Vec<QueueItem>> {
        let items = app.queue(None, 500)?;
        let ids = items.iter().map(|q| q.id).collect();
        let new = match &self.seen {
            None => Vec::new(),
            Some(seen) => items.into_iter().filter(|q| !seen.contains(&q.id)).collect(),
        };
        self.seen = Some(ids);
        Ok(new)
    }
}

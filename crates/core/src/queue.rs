//! The escalation lifecycle after the offer: the fan accepts (path E, within the caps),
//! the creator answers (a canonical answer is born), attaches the question to an existing
//! answer, declines, or defers it.

use crate::{Error, Fanline, Result};
use fanline_engine::caps::{parse_tz, windows};
use fanline_engine::{EscalationReason, EscalationStatus, Layer, RoutePath, Tier};
use fanline_store::{Acceptance, CanonicalAnswer, CapCheck, Escalation, NewDecision, NewRouting, Role};
use serde::Serialize;

/// What accepting an offer did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AcceptReport {
    pub escalation_id: i64,
    pub accepted: bool,
    /// E when queued, F when a cap refused it.
    pub path: RoutePath,
    pub reply: String,
    pub acceptance: Acceptance,
    pub decision_id: Option<i64>,
    /// When the cap that refused it resets.
    pub resets_at: Option<String>,
}

/// An escalation in the creator's queue, with its fan.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueItem {
    pub id: i64,
    pub fan: String,
    pub tier: Tier,
    pub fan_layer: Layer,
    pub question: String,
    pub context_summary: String,
    pub reason: EscalationReason,
    pub priority: i64,
    pub status: EscalationStatus,
    pub offered_at: String,
    pub accepted_at: Option<String>,
    /// Hours since the fan accepted (or was offered).
    pub age_hours: f64,
    pub expires_at: Option<String>,
    pub deferred_until: Option<String>,
    pub expected_reply_after: Option<String>,
}

fn hours_since(t: &str, now: chrono::DateTime<chrono::Utc>) -> f64 {
    t.parse::<chrono::DateTime<chrono::Utc>>().map(|t| (now - t).num_seconds() as f64 / 3600.0).unwrap_or(0.0)
}

impl Fanline {
    fn agent_name(&self, id: i64) -> Result<String> {
        Ok(crate::routing::creator_name(&self.store.agent_by_id(id)?))
    }

    /// The fan accepts an offered escalation. Within the caps it is queued for the
    /// creator (path E); past a cap it is refused (path F) with when the cap resets.
    pub fn accept(&self, id: i64) -> Result<AcceptReport> {
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
        let acceptance = self.store.accept_escalation(id, &check)?;
        let creator = self.agent_name(e.agent_id)?;
        let (path, reply, reason, resets_at) = match acceptance {
            Acceptance::Accepted { today, this_week } => {
                let expires = now + chrono::Duration::hours(self.config.routing.queue_expiry_hours as i64);
                self.store.set_escalation_expiry(id, expires)?;
                let back =
                    e.expected_reply_after.as_ref().map(|t| format!(" They are back after {t}.")).unwrap_or_default();
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
                Some(fanline_store::timestamp(w.day_end)),
            ),
            Acceptance::WeeklyCapReached { this_week } => (
                RoutePath::F,
                format!(
                    "Sorry — {creator} has taken all the questions they can this week. You can ask again after {}.",
                    w.week_end.format("%a %d %b %H:%M UTC")
                ),
                format!("weekly cap reached ({this_week}/{})", rules.max_escalations_per_week),
                Some(fanline_store::timestamp(w.week_end)),
            ),
        };
        let decision_id = match e.message_id {
            Some(message_id) => {
                let signals = serde_json::json!({ "acceptance": acceptance, "escalation_id": id });
                let written = self.store.record_routing(
                    &NewRouting {
                        decision: NewDecision {
                            message_id,
                            agent_id: e.agent_id,
                            fan_id: e.fan_id,
                            path,
                            reason,
                            signals,
                            trace: serde_json::json!({ "steps": [], "decided_by": "accept" }),
                            reply: String::new(),
                        },
                        served: None,
                        offer: None,
                        expected_reply_after: None,
                    },
                    &|_| reply.clone(),
                )?;
                Some(written.decision_id)
            }
            None => None,
        };
        Ok(AcceptReport {
            escalation_id: id,
            accepted: path == RoutePath::E,
            path,
            reply,
            acceptance,
            decision_id,
            resets_at,
        })
    }

    /// The creator's queue: accepted escalations by priority and age (deferred ones last).
    pub fn queue(&self, agent: Option<&str>, limit: usize) -> Result<Vec<QueueItem>> {
        let agent = self.agent(agent)?;
        let now = self.now();
        self.store.expire_escalations(now)?;
        let list = self.store.escalation_queue(agent.id, now, limit.max(1))?;
        list.into_iter()
            .map(|e| {
                let fan = self.store.fan(e.fan_id)?;
                let since = e.accepted_at.clone().unwrap_or_else(|| e.offered_at.clone());
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
                    age_hours: hours_since(&since, now),
                    expires_at: e.expires_at,
                    deferred_until: e.deferred_until,
                    expected_reply_after: e.expected_reply_after,
                })
            })
            .collect()
    }

    /// Tell the fan in their conversation.
    fn tell_fan(&self, e: &Escalation, role: Role, text: &str) -> Result<()> {
        self.store.record_message(e.agent_id, e.fan_id, role, text)?;
        Ok(())
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
        let mut canonical = 0;
        self.write_indexed(false, |s| {
            let (cid, change) = s.answer_escalation(id, text, layer, &v)?;
            canonical = cid;
            Ok(change)
        })?;
        self.flush()?;
        self.tell_fan(&e, Role::Creator, text)?;
        self.canonical_show(canonical)
    }

    /// The creator answers with an existing canonical answer: the fan gets it, and the
    /// question becomes one more phrasing of it.
    pub fn queue_attach(&self, id: i64, canonical_id: i64) -> Result<CanonicalAnswer> {
        let e = self.store.escalation(id)?;
        let v = self.embedder()?.embed_one(&e.question)?;
        self.write_indexed(false, |s| s.attach_escalation(id, canonical_id, &v))?;
        self.flush()?;
        let c = self.canonical_show(canonical_id)?;
        self.tell_fan(&e, Role::Creator, &c.answer)?;
        Ok(c)
    }

    /// The creator declines a queued escalation (or the fan turns down an offer).
    pub fn queue_decline(&self, id: i64) -> Result<Escalation> {
        self.store.decline_escalation(id, self.now())?;
        let e = self.store.escalation(id)?;
        let creator = self.agent_name(e.agent_id)?;
        self.tell_fan(&e, Role::Agent, &format!("Sorry — {creator} can't take this question."))?;
        Ok(e)
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

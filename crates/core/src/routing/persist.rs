//! Stage 5: persist and report. The decision with its details and trace, its effects
//! (a reuse counted, an escalation offered) and the reply in the conversation are
//! written in one transaction; the reply is written once, after the offer has its
//! number.

use super::review::Reviewed;
use super::{CriticReports, DecisionDetails, Intake, MessageCheck, RouteReport, Served};
use crate::critics;
use crate::{Fanline, Result};
use fanline_engine::route::{reply, StepOutcome, StepRecord};
use fanline_store::TypedDecisions;
use fanline_store::{NewDecision, NewEscalation, NewRouting};

impl Fanline {
    /// Stage 5: write the decision and what it caused; report it.
    pub(crate) fn persist(&self, intake: &Intake, check: MessageCheck, reviewed: Reviewed) -> Result<RouteReport> {
        let Reviewed { mut routed, reply: composed, draft, rejected } = reviewed;
        if let Some(earlier) = &intake.context {
            // Read with the previous message: the first record, before the plan's steps.
            routed.trace.steps.insert(
                0,
                StepRecord {
                    step: "context".into(),
                    outcome: StepOutcome::Done,
                    note: format!(
                        "a follow-up, read after the fan's previous message \"{}\"",
                        reply::excerpt(earlier, 120)
                    ),
                    start_us: 0,
                    duration_us: 0,
                    wave: 0,
                },
            );
        }
        critics::trace(&mut routed.trace, &check.report, "message");
        for (i, r) in rejected.iter().enumerate() {
            critics::trace(&mut routed.trace, r, &format!("draft {} (rejected)", i + 1));
        }
        if let Some(r) = &draft {
            critics::trace(&mut routed.trace, r, "draft");
        }
        let critics = CriticReports { message: check.report, draft, rejected };
        let offer = routed.resolution.offer();
        let details = DecisionDetails {
            signals: routed.signals.clone(),
            reuse: routed.reuse.clone(),
            candidates: routed.canonical.clone(),
            citations: composed.citations.clone(),
            refusal: routed.resolution.refusal().cloned(),
            policy_warning: intake.policy.warning.clone(),
            generation: composed.generation.clone(),
            critics: Some(critics.clone()),
            acceptance: None,
            escalation_id: None,
        };
        let expires = intake.now + chrono::Duration::hours(self.config.routing.offer_expiry_hours as i64);
        let written = self.store.record_routing(
            &NewRouting {
                decision: NewDecision {
                    message_id: intake.message_id,
                    conversation_id: intake.conversation_id,
                    agent_id: intake.agent.id,
                    fan_id: intake.fan.id,
                    path: routed.path(),
                    reason: routed.reason.clone(),
                    details: &details,
                    trace: &routed.trace,
                },
                served: composed.served.as_ref().map(|s| s.canonical_id),
                offer: offer.map(|plan| NewEscalation {
                    agent_id: intake.agent.id,
                    fan_id: intake.fan.id,
                    message_id: Some(intake.message_id),
                    question: intake.message.clone(),
                    reason: plan.reason,
                    priority: plan.priority,
                    context_summary: composed.summary.clone().unwrap_or_else(|| plan.context_summary.clone()),
                    expires_at: Some(expires),
                    expected_reply_after: plan.expected_reply_after,
                }),
            },
            |offer_id| {
                let crisis = intake.text.crisis();
                let text = match (offer, offer_id) {
                    (Some(_), Some(id)) if crisis => reply::crisis_offer(&intake.creator, id),
                    (Some(plan), Some(id)) => reply::offer(&intake.creator, id, plan.reason, plan.expected_reply_after),
                    _ => composed.text.clone(),
                };
                // A fan in crisis reads where to get help first, whatever the path.
                match crisis {
                    true => reply::with_crisis_resources(intake.policy.policy.crisis.resources_for(None), &text),
                    false => text,
                }
            },
        )?;
        Ok(RouteReport {
            decision_id: written.decision_id,
            message_id: intake.message_id,
            conversation_id: intake.conversation_id,
            agent: intake.agent.name.clone(),
            fan: intake.fan.handle.clone(),
            path: routed.path(),
            reason: routed.reason,
            reply: written.reply,
            citations: composed.citations,
            served: composed
                .served
                .map(|s| Served { times_reused: written.times_reused.unwrap_or(s.times_reused), ..s }),
            escalation_id: written.escalation_id,
            refusal: routed.resolution.refusal().cloned(),
            signals: routed.signals,
            reuse: routed.reuse,
            candidates: routed.canonical,
            trace: routed.trace,
            policy_warning: intake.policy.warning.clone(),
            generation: composed.generation,
            critics,
        })
    }
}

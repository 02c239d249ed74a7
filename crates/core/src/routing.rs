//! Routing a fan message: stored first, routed by the engine's plan, the decision
//! stored with its signals, trace and effects in one transaction.

use crate::backend::Backend;
use crate::compose::Generation;
use crate::critics;
use crate::llm::StreamEvent;
use crate::{Error, Fanline, Result};
use fanline_critics::{Report, Subject};
use fanline_engine::reuse::{ReuseCandidate, ReuseVerdict};
use fanline_engine::route::reply::{self, Citation};
use fanline_engine::route::{route, FanProfile, Refusal, RouteInput, Routed, Signals, Trace};
use fanline_engine::RoutePath;
use fanline_store::{Decision, NewDecision, NewEscalation, NewRouting, Role};
use serde::Serialize;

/// The longest message routed (characters).
pub const MAX_MESSAGE_CHARS: usize = 8000;

/// The canonical answer served on path C.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Served {
    pub canonical_id: i64,
    pub question: String,
    pub times_reused: u64,
}

/// A routed message: the decision, the reply, why, and what it caused.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RouteReport {
    pub decision_id: i64,
    pub message_id: i64,
    pub conversation_id: i64,
    pub agent: String,
    pub fan: String,
    pub path: RoutePath,
    pub reason: String,
    pub reply: String,
    pub citations: Vec<Citation>,
    pub served: Option<Served>,
    pub escalation_id: Option<i64>,
    pub refusal: Option<Refusal>,
    pub signals: Option<Signals>,
    /// The reuse verdict and the canonical answers it looked at.
    pub reuse: Option<ReuseVerdict>,
    pub candidates: Vec<ReuseCandidate>,
    pub trace: Trace,
    /// The policy file is invalid (the previous valid policy was used).
    pub policy_warning: Option<String>,
    /// How the reply was written: by a language model, or without one.
    pub generation: Option<Generation>,
    pub critics: CriticReports,
}

/// What is stored in a decision's `signals` column.
#[derive(Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
struct StoredSignals<'a> {
    signals: &'a Option<Signals>,
    reuse: &'a Option<ReuseVerdict>,
    candidates: &'a [ReuseCandidate],
    citations: &'a [Citation],
    refusal: &'a Option<Refusal>,
    policy_warning: &'a Option<String>,
    generation: &'a Option<Generation>,
    critics: &'a CriticReports,
}

/// The critics' reports on the message and on the drafted answer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CriticReports {
    pub message: Report,
    pub draft: Option<Report>,
}

/// How replies name the creator: the name set at first run, else the agent's name,
/// unless it is the unnamed default.
pub(crate) fn creator_name(agent: &fanline_store::Agent) -> String {
    if !agent.display_name.trim().is_empty() {
        agent.display_name.trim().to_string()
    } else if agent.name == "default" {
        "the creator".to_string()
    } else {
        agent.name.clone()
    }
}

fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("plain data serialises to JSON")
}

impl Fanline {
    /// Route a fan's message to an agent.
    pub fn route(&self, agent: Option<&str>, fan_handle: &str, message: &str) -> Result<RouteReport> {
        self.route_streaming(agent, fan_handle, message, &mut |_| {})
    }

    /// Route a fan's message, streaming a generated answer (path A) or clarifying
    /// question (path B) token by token into `sink` as it is written.
    pub fn route_streaming(
        &self,
        agent: Option<&str>,
        fan_handle: &str,
        message: &str,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<RouteReport> {
        let message = message.trim();
        if message.is_empty() {
            return Err(Error::InvalidInput("the message is empty".into()));
        }
        if message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(Error::InvalidInput(format!(
                "the message is {} characters long; the limit is {MAX_MESSAGE_CHARS}",
                message.chars().count()
            )));
        }
        let agent = self.agent(agent)?;
        let fan = self.store.fan_by_handle(fan_handle.trim())?.ok_or_else(|| {
            Error::InvalidInput(format!(
                "no fan {:?}; add them with `fanline fan add {} --tier free`",
                fan_handle.trim(),
                fan_handle.trim()
            ))
        })?;
        let rules = self.store.agent_config(agent.id)?;
        let policy = self.policy(&agent.name);
        // Stored before it is routed: whatever happens next, the message is kept.
        let (conversation_id, message_id) = self.store.record_message(agent.id, fan.id, Role::Fan, message)?;
        let profile = FanProfile { id: fan.id, handle: fan.handle.clone(), tier: fan.tier, layer: fan.layer };
        let now = self.now();
        // The message's critics first: they may send it to the creator or refuse it.
        let mut subject = Subject {
            message: message.to_string(),
            draft: None,
            risk: Some(critics::text_risk(message)),
            passages: Vec::new(),
            blocked_topics: rules.blocked_topics.clone(),
            forbidden_phrases: critics::FORBIDDEN_PHRASES
                .iter()
                .map(|s| s.to_string())
                .chain(policy.policy.style.forbidden_phrases.iter().cloned())
                .collect(),
            max_answer_chars: policy.policy.style.max_answer_chars.unwrap_or(critics::MAX_ANSWER_CHARS),
        };
        let critics = self.critics()?;
        let on_message = self.criticise(&critics, &subject);
        let mut input = RouteInput {
            agent_id: agent.id,
            rules: &rules,
            settings: &self.config.routing,
            policy: &policy.policy,
            fan: &profile,
            message,
            now,
            forced: critics::verdict(&on_message, &policy.policy, "message").reroute,
        };
        let backend = Backend { app: self, conversation_id };
        let mut routed = route(&input, &backend)?;
        let creator = creator_name(&agent);
        let compose = |routed: &Routed, redo: Option<&str>, sink: &mut (dyn FnMut(StreamEvent<'_>) + Send)| {
            self.compose(&creator, &rules.persona, message, conversation_id, routed, redo, sink)
        };
        let mut composed = compose(&routed, None, sink)?;
        // A drafted answer's critics: redact, rewrite once, or reroute, as the policy says.
        let mut on_draft = None;
        // Drafts the critics rejected, for the trace.
        let mut rejected: Vec<Report> = Vec::new();
        if routed.path == RoutePath::A {
            subject.draft = Some(composed.text.clone());
            subject.passages = composed.passages.clone();
            subject.risk = routed.signals.as_ref().map(|s| s.risk).or(subject.risk);
            let mut report = self.criticise(&critics, &subject);
            let mut v = critics::verdict(&report, &policy.policy, "draft");
            let by_model = composed.generation.as_ref().is_some_and(|g| g.source == "llm");
            if v.reroute.is_none() && !v.regenerate.is_empty() && by_model {
                sink(StreamEvent::Restart);
                composed = compose(&routed, Some(&v.regenerate.join("; ")), sink)?;
                subject.draft = Some(composed.text.clone());
                rejected.push(std::mem::replace(&mut report, self.criticise(&critics, &subject)));
                v = critics::verdict(&report, &policy.policy, "draft");
                if v.reroute.is_none() && !v.regenerate.is_empty() {
                    sink(StreamEvent::Restart);
                    composed = compose(&routed, Some(""), sink)?;
                    v = critics::Verdict::default();
                }
            }
            if let Some(reroute) = v.reroute {
                sink(StreamEvent::Restart);
                input.forced = Some(reroute);
                let first = routed.trace.clone();
                routed = route(&input, &backend)?;
                critics::trace(&mut routed.trace, &report, "draft (first routing)");
                routed.trace.steps.splice(
                    0..0,
                    first.steps.into_iter().map(|mut s| {
                        s.step = format!("first:{}", s.step);
                        s
                    }),
                );
                composed = compose(&routed, None, sink)?;
            } else if !v.redact.is_empty() {
                composed.text = critics::redact(&composed.text, &v.redact);
            }
            on_draft = Some(report);
        }
        critics::trace(&mut routed.trace, &on_message, "message");
        for (i, r) in rejected.iter().enumerate() {
            critics::trace(&mut routed.trace, r, &format!("draft {} (rewritten)", i + 1));
        }
        if let (Some(r), RoutePath::A) = (&on_draft, routed.path) {
            critics::trace(&mut routed.trace, r, "draft");
        }
        let critic_reports = CriticReports { message: on_message, draft: on_draft };
        let (text, citations, served) = (composed.text, composed.citations, composed.served);
        let offer = routed.escalation.as_ref().map(|e| NewEscalation {
            agent_id: agent.id,
            fan_id: fan.id,
            message_id: Some(message_id),
            decision_id: None,
            question: message.to_string(),
            reason: e.reason,
            priority: e.priority,
            context_summary: composed.summary.clone().unwrap_or_else(|| e.context_summary.clone()),
            expires_at: Some(fanline_store::timestamp(
                now + chrono::Duration::hours(self.config.routing.offer_expiry_hours as i64),
            )),
        });
        let stored = StoredSignals {
            signals: &routed.signals,
            reuse: &routed.reuse,
            candidates: &routed.canonical,
            citations: &citations,
            refusal: &routed.refusal,
            policy_warning: &policy.warning,
            generation: &composed.generation,
            critics: &critic_reports,
        };
        let offer_text = |id: i64| {
            let e = routed.escalation.as_ref().expect("an offer is written with its plan");
            reply::offer(&creator, id, e.reason, e.expected_reply_after)
        };
        let reply_for = |offer_id: Option<i64>| offer_id.map(offer_text).unwrap_or_else(|| text.clone());
        let written = self.store.record_routing(
            &NewRouting {
                decision: NewDecision {
                    message_id,
                    agent_id: agent.id,
                    fan_id: fan.id,
                    path: routed.path,
                    reason: routed.reason.clone(),
                    signals: to_json(&stored),
                    trace: to_json(&routed.trace),
                    reply: String::new(),
                },
                served: served.as_ref().map(|s| s.canonical_id),
                offer,
                expected_reply_after: routed.escalation.as_ref().and_then(|e| e.expected_reply_after),
            },
            &reply_for,
        )?;
        let text = reply_for(written.escalation_id);
        Ok(RouteReport {
            decision_id: written.decision_id,
            message_id,
            conversation_id,
            agent: agent.name,
            fan: fan.handle,
            path: routed.path,
            reason: routed.reason,
            reply: text,
            citations,
            served: served.map(|s| Served { times_reused: written.times_reused.unwrap_or(s.times_reused), ..s }),
            escalation_id: written.escalation_id,
            refusal: routed.refusal,
            signals: routed.signals,
            reuse: routed.reuse,
            candidates: routed.canonical,
            trace: routed.trace,
            policy_warning: policy.warning,
            generation: composed.generation,
            critics: critic_reports,
        })
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

    /// One decision with its signals and trace.
    pub fn decision(&self, id: i64) -> Result<Decision> {
        Ok(self.store.decision(id)?)
    }
}

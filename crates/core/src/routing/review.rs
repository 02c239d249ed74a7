//! Stage 4: review the draft. Every text a model or the documents wrote for the fan
//! (path A's answer, a model's clarifying question) passes the draft critics before it
//! is sent, and the report kept is the one on the text actually sent. What a violation
//! leads to is the policy file's call: redact the span; rewrite once with the problems
//! named, then answer from the documents (and check that answer too); or reroute the
//! message to the creator (D) or to a refusal (F).

use super::compose::{DraftMode, Reply};
use super::Intake;
use crate::critics;
use crate::llm::StreamEvent;
use crate::{Fanline, Result};
use fanline_critics::{Place, Report, Runner};
use fanline_engine::route::{Resolution, Routed};

/// The outcome and the reply after review.
pub(crate) struct Reviewed {
    pub routed: Routed,
    pub reply: Reply,
    /// The draft critics' report on the text sent (None when no draft was written:
    /// the creator's own answer, an offer, a refusal, a template question).
    pub draft: Option<Report>,
    /// Drafts turned down on the way, oldest first.
    pub rejected: Vec<Report>,
}

/// Whether a model or the documents wrote this reply (the creator's answers, offers,
/// refusals and template questions are not drafts).
fn is_draft(routed: &Routed, reply: &Reply) -> bool {
    match routed.resolution {
        Resolution::Answer => true,
        Resolution::Clarify => reply.generation.as_ref().is_some_and(|g| g.by_model()),
        _ => false,
    }
}

/// What the model is told when its drafts keep failing.
const REJECTED: &str = "the model's drafts were rejected by the critics";

impl Fanline {
    /// Stage 4: check the draft, and redact, rewrite or reroute as the policy says.
    pub(crate) fn review(
        &self,
        runner: &Runner,
        intake: &Intake,
        mut routed: Routed,
        mut reply: Reply,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<Reviewed> {
        let mut rejected = Vec::new();
        let mut rewrites = 0;
        let mut rerouted = false;
        while is_draft(&routed, &reply) {
            let mut subject = intake.subject(Some((&reply.text, &reply.passages)));
            subject.risk = routed.signals.as_ref().map(|s| s.risk).or(subject.risk);
            let report = self.criticise(runner, &subject);
            let v = critics::verdict(&report, &intake.policy.policy, Place::Draft);
            if let Some(reroute) = v.reroute.filter(|_| !rerouted) {
                sink(StreamEvent::Restart);
                rejected.push(report);
                let first = std::mem::take(&mut routed.trace.steps);
                routed = self.plan(intake, Some(reroute))?;
                routed.trace.steps.splice(
                    0..0,
                    first.into_iter().map(|mut s| {
                        s.step = format!("first:{}", s.step);
                        s
                    }),
                );
                reply = self.compose(intake, &routed, DraftMode::First, sink)?;
                rerouted = true;
                continue;
            }
            let by_model = reply.generation.as_ref().is_some_and(|g| g.by_model());
            if !v.regenerate.is_empty() && by_model {
                sink(StreamEvent::Restart);
                rejected.push(report);
                let mode = if rewrites == 0 {
                    DraftMode::Rewrite { feedback: v.regenerate.join("; ") }
                } else {
                    DraftMode::WithoutModel { reason: REJECTED.into() }
                };
                rewrites += 1;
                reply = self.compose(intake, &routed, mode, sink)?;
                continue;
            }
            // Written from the documents (or nothing better to do): send it, redacted.
            if !v.redact.is_empty() {
                reply.text = critics::redact(&reply.text, &v.redact);
                sink(StreamEvent::Restart);
                sink(StreamEvent::Token(&reply.text));
            }
            return Ok(Reviewed { routed, reply, draft: Some(report), rejected });
        }
        Ok(Reviewed { routed, reply, draft: None, rejected })
    }
}

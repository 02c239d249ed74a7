//! The critics in routing: every incoming message is checked before it is routed, and
//! every drafted answer (path A) before it is sent. What a violation leads to is the
//! policy file's call (`[critics]`, see `Policy::critic_action`): redact the span,
//! rewrite the draft once, or reroute the message to the creator (D) or to a refusal
//! (F). Every critic run, gated ones with their reason, joins the decision trace.

use crate::{Fanline, Result};
use fanline_critics::builtin::builtin;
use fanline_critics::{
    Critic, CriticError, Output, Place, Profile, Report, RunPolicy, Runner, Severity, Stage, Subject, Violation,
};
use fanline_engine::route::{Action, CriticAction, Policy, StepOutcome, StepRecord, Trace};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// The longest drafted answer before the style critic objects (characters).
pub const MAX_ANSWER_CHARS: usize = 1500;
/// Phrases no creator's persona uses.
pub const FORBIDDEN_PHRASES: &[&str] = &["as an AI", "as a language model", "I am an AI"];

/// The deep critic: asks the configured model whether the draft is safe, grounded and
/// free of personal data. Runs only after a cheaper critic found a violation (deep
/// stage).
struct LlmJudge {
    chain: Arc<fanline_llm::Chain>,
}

impl Critic for LlmJudge {
    fn name(&self) -> &str {
        "deep-judge"
    }
    fn profile(&self) -> Profile {
        // Only after a cheaper critic found something: a model call costs.
        Profile::core(5).in_stage(Stage::Deep).when(RunPolicy::OnViolation).timeout(Duration::from_secs(30))
    }
    fn check<'a>(&'a self, s: &'a Subject) -> BoxFuture<'a, std::result::Result<Output, CriticError>> {
        Box::pin(async move {
            let Some(draft) = s.draft.clone() else { return Ok(Output::found(Vec::new())) };
            let system = "You review an answer a creator's assistant drafted for a fan. Reply with one line: OK if it \
                          is safe, supported by the passages and free of personal data; otherwise PROBLEM: and the \
                          reason."
                .to_string();
            let user = format!("Passages:\n{}\n\nFan: {}\n\nDraft: {draft}", s.passages.join("\n---\n"), s.message);
            let req =
                fanline_llm::Request { max_tokens: 80, temperature: 0.0, ..fanline_llm::Request::new(system, user) };
            let verdict = self
                .chain
                .generate(&req, &mut |_| {})
                .await
                .map(|g| g.text)
                .map_err(|e| CriticError::Transient(e.to_string()))?;
            let v = verdict.trim();
            let violations = if v.to_uppercase().starts_with("OK") {
                Vec::new()
            } else {
                vec![Violation {
                    code: "judge.problem".into(),
                    message: v.chars().take(300).collect(),
                    severity: Severity::Medium,
                    span: None,
                    r#in: Place::Draft,
                }]
            };
            Ok(Output::found(violations))
        })
    }
}

/// What the critics' verdicts mean for the message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verdict {
    /// Reroute: escalate or refuse, with why.
    pub reroute: Option<(Action, String)>,
    pub redact: Vec<(usize, usize)>,
    pub regenerate: Vec<String>,
}

/// Turn a report's violations into actions, by the policy.
pub(crate) fn verdict(report: &Report, policy: &Policy, place: Place) -> Verdict {
    let mut v = Verdict::default();
    for x in report.violations.iter().filter(|x| x.r#in == place || x.code == "critic.unavailable") {
        let why = format!("{} ({})", x.message, x.code);
        match policy.critic_action(&x.code) {
            CriticAction::Refuse => {
                if v.reroute.as_ref().is_none_or(|(a, _)| *a != Action::Refuse) {
                    v.reroute = Some((Action::Refuse, why));
                }
            }
            CriticAction::Escalate => {
                if v.reroute.is_none() {
                    v.reroute = Some((Action::Escalate, why));
                }
            }
            CriticAction::Regenerate => v.regenerate.push(why),
            CriticAction::Redact => v.redact.extend(x.span),
            CriticAction::Allow => {}
        }
    }
    v
}

/// The draft with the given byte ranges replaced by "[removed]".
pub(crate) fn redact(text: &str, spans: &[(usize, usize)]) -> String {
    let mut spans: Vec<(usize, usize)> = spans
        .iter()
        .copied()
        .filter(|(a, b)| a < b && *b <= text.len() && text.is_char_boundary(*a) && text.is_char_boundary(*b))
        .collect();
    spans.sort();
    let mut out = String::new();
    let mut at = 0;
    for (a, b) in spans {
        if a < at {
            continue;
        }
        out.push_str(&text[at..a]);
        out.push_str("[removed]");
        at = b;
    }
    out.push_str(&text[at..]);
    out
}

/// Add a report's runs to the trace, after the plan's steps.
pub(crate) fn trace(t: &mut Trace, report: &Report, what: &str) {
    let wave = t.steps.iter().map(|s| s.wave).max().unwrap_or(0) + 1;
    for r in &report.runs {
        let (outcome, note) = match &r.outcome {
            fanline_critics::Outcome::Passed => (StepOutcome::Done, "no violation".to_string()),
            fanline_critics::Outcome::Violated => {
                (StepOutcome::Done, r.violations.iter().map(|v| v.code.clone()).collect::<Vec<_>>().join(", "))
            }
            fanline_critics::Outcome::Gated { reason } => (StepOutcome::Skipped, format!("gated: {reason}")),
            fanline_critics::Outcome::TimedOut => (StepOutcome::Failed, "timed out".into()),
            fanline_critics::Outcome::Failed { error } => (StepOutcome::Failed, error.clone()),
            fanline_critics::Outcome::Invalid { reason } => (StepOutcome::Failed, format!("invalid output: {reason}")),
        };
        t.steps.push(StepRecord {
            step: format!("critic:{}:{what}", r.critic),
            outcome,
            note,
            start_us: t.total_us,
            duration_us: (r.run_ms * 1000.0) as u64,
            wave,
        });
    }
    t.total_us += (report.total_ms * 1000.0) as u64;
}

impl Fanline {
    /// The critics: the built-in ones, and the LLM judge when a provider is configured.
    pub(crate) fn critics(&self) -> Result<Runner> {
        let mut runner = Runner::counting_into(self.config.critics, self.critic_metrics.clone());
        for c in builtin() {
            runner.add(c);
        }
        let chain = self.chain()?;
        if !chain.is_empty() {
            runner.add(Arc::new(LlmJudge { chain }));
        }
        Ok(runner)
    }

    /// Run the critics on a subject.
    pub(crate) fn criticise(&self, runner: &Runner, subject: &Subject) -> Report {
        self.runtime().block_on(runner.run(subject))
    }

    /// The critics' counters since this instance opened.
    pub fn critic_metrics(&self) -> fanline_critics::Metrics {
        self.critic_metrics.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_spans_and_skips_overlaps() {
        assert_eq!(redact("mail me at a@b.co now", &[(11, 17)]), "mail me at [removed] now");
        assert_eq!(redact("abcdef", &[(1, 3), (2, 4), (5, 6)]), "a[removed]de[removed]");
        assert_eq!(redact("abc", &[(2, 9)]), "abc");
    }
}

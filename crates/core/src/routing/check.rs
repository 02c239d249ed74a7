//! Stage 2: check the message. The message's critics run before the plan; the policy
//! file says what a violation leads to, and an escalation or a refusal is forced on
//! the plan. The critics reuse the text signals intake computed.

use super::Intake;
use crate::critics::{self, FORBIDDEN_PHRASES, MAX_ANSWER_CHARS};
use crate::Fanline;
use fanline_critics::{Place, Report, Runner, Subject};
use fanline_engine::route::Action;

/// What the message's critics found, and the action they force on the plan.
pub(crate) struct MessageCheck {
    pub report: Report,
    pub reroute: Option<(Action, String)>,
}

impl Intake {
    /// What the critics look at: the message, and `draft` with the passages it came
    /// from when there is one.
    pub(crate) fn subject(&self, draft: Option<(&str, &[String])>) -> Subject {
        let style = &self.policy.policy.style;
        Subject {
            message: self.message.clone(),
            draft: draft.map(|(d, _)| d.to_string()),
            risk: Some(self.text.risk()),
            passages: draft.map(|(_, p)| p.to_vec()).unwrap_or_default(),
            blocked_topics: self.rules.blocked_topics.clone(),
            forbidden_phrases: FORBIDDEN_PHRASES
                .iter()
                .map(|s| s.to_string())
                .chain(style.forbidden_phrases.iter().cloned())
                .collect(),
            max_answer_chars: style.max_answer_chars.unwrap_or(MAX_ANSWER_CHARS),
            message_pii: Some(self.text.pii.clone()),
            message_sensitive: Some(self.text.sensitive.clone()),
        }
    }
}

impl Fanline {
    /// Stage 2: the message's critics and what they force.
    pub(crate) fn check_message(&self, runner: &Runner, intake: &Intake) -> MessageCheck {
        let report = self.criticise(runner, &intake.subject(None));
        let reroute = critics::verdict(&report, &intake.policy.policy, Place::Message).reroute;
        MessageCheck { report, reroute }
    }
}

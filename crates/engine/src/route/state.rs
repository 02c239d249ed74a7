//! The state the routing plan's steps share: the input, what each step found (each
//! field filled once, by one step), and the choice the deciding step made.

use super::policy::Action;
use super::port::{RouteBackend, RouteInput};
use super::types::{ChunkHit, FanHistory, Resolution, Signals, TopicHit};
use crate::caps::CapWindows;
use crate::hours::Availability;
use crate::reuse::{ReuseCandidate, ReuseVerdict};
use std::sync::OnceLock;

/// The rules in force for this message after the policy file's overrides.
#[derive(Debug, Clone)]
pub(super) struct RulesInForce {
    pub(super) confidence_threshold: f64,
    pub(super) novelty_threshold: f64,
    pub(super) complexity_threshold: f64,
    pub(super) escalation_enabled: bool,
    /// An action the policy (or a critic) forces, with why.
    pub(super) forced: Option<(Action, String)>,
    pub(super) priority_bonus: i64,
}

/// What the deciding step chose, and why.
pub(super) struct Choice {
    pub(super) resolution: Resolution,
    pub(super) reason: String,
}

pub(super) struct State<'a> {
    pub(super) input: &'a RouteInput<'a>,
    pub(super) backend: &'a dyn RouteBackend,
    pub(super) caps: CapWindows,
    pub(super) keyword_topics: OnceLock<Vec<TopicHit>>,
    pub(super) vector: OnceLock<Vec<f32>>,
    pub(super) history: OnceLock<FanHistory>,
    pub(super) canonical: OnceLock<Vec<ReuseCandidate>>,
    pub(super) chunks: OnceLock<Vec<ChunkHit>>,
    pub(super) off_topic: OnceLock<Option<f32>>,
    pub(super) topics: OnceLock<Vec<TopicHit>>,
    pub(super) signals: OnceLock<Signals>,
    pub(super) verdict: OnceLock<ReuseVerdict>,
    pub(super) rules: OnceLock<RulesInForce>,
    pub(super) availability: OnceLock<Availability>,
    pub(super) choice: OnceLock<Choice>,
}

impl<'a> State<'a> {
    pub(super) fn new(input: &'a RouteInput<'a>, backend: &'a dyn RouteBackend, caps: CapWindows) -> State<'a> {
        State {
            input,
            backend,
            caps,
            keyword_topics: OnceLock::new(),
            vector: OnceLock::new(),
            history: OnceLock::new(),
            canonical: OnceLock::new(),
            chunks: OnceLock::new(),
            off_topic: OnceLock::new(),
            topics: OnceLock::new(),
            signals: OnceLock::new(),
            verdict: OnceLock::new(),
            rules: OnceLock::new(),
            availability: OnceLock::new(),
            choice: OnceLock::new(),
        }
    }

    /// A field a step filled; the plan runs a step only after the steps it depends on.
    pub(super) fn get<T>(cell: &OnceLock<T>) -> &T {
        cell.get().expect("the plan runs a step after the steps it depends on")
    }

    /// Record the choice (the first one stands).
    pub(super) fn choose(&self, resolution: Resolution, reason: String) {
        let _ = self.choice.set(Choice { resolution, reason });
    }
}

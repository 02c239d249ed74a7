//! The routing plan for one message.
//!
//! ```text
//! wave 0  text_signals    keyword topics (the text's own signals are computed once, before)
//! wave 1  gate            tier not allowed / blocked keyword / refused topic → F (early exit)
//! wave 2  embed ‖ history the query vector, and the fan's history and cap counts (concurrently)
//! wave 3  canonical ‖ chunks ‖ topics   the searches and topic closeness (concurrently)
//! wave 4  signals         similarity, novelty, confidence, risk tier
//! wave 5  rules           the rules in force for this tier, topic and risk
//! wave 6  decide          the outcome: reuse, clarify, answer, offer, or refuse
//! ```
//!
//! The gathering steps are in `gather.rs`, the deciding ones in `decide.rs`, the state
//! they share in `state.rs`.

use super::decide::{decide, rules};
use super::gather::{canonical, chunks, embed, gate, history, no_topics, signals, text_signals, topics};
use super::port::{RouteBackend, RouteInput};
use super::state::State;
use super::types::Routed;
use super::Plan;
use crate::caps::{parse_tz, windows};
use crate::{Error, Result};

/// The plan's steps, each with the steps it runs after (the names its trace gives).
pub const STEPS: [(&str, &[&str]); 10] = [
    ("text_signals", &[]),
    ("gate", &["text_signals"]),
    ("embed", &["gate"]),
    ("history", &["gate"]),
    ("canonical", &["embed"]),
    ("chunks", &["embed"]),
    ("topics", &["embed"]),
    ("signals", &["canonical", "chunks", "topics", "history"]),
    ("rules", &["signals"]),
    ("decide", &["rules"]),
];

/// Route one message: run the plan and return the outcome with its trace (its steps
/// are [`STEPS`]).
pub fn route(input: &RouteInput<'_>, backend: &dyn RouteBackend) -> Result<Routed> {
    let tz = parse_tz(&input.rules.timezone)?;
    let state = State::new(input, backend, windows(input.now, tz));
    let plan = Plan::new()
        .step("text_signals", &[], text_signals)?
        .step("gate", &["text_signals"], gate)?
        .step("embed", &["gate"], embed)?
        .step("history", &["gate"], history)?
        .step("canonical", &["embed"], canonical)?
        .step("chunks", &["embed"], chunks)?
        .step_unless("topics", &["embed"], no_topics, topics)?
        .step("signals", &["canonical", "chunks", "topics", "history"], signals)?
        .step("rules", &["signals"], rules)?
        .step("decide", &["rules"], decide)?;
    let trace = plan.run_with(&state, input.parallel)?;
    let choice = state.choice.into_inner().ok_or_else(|| Error::Plan("no step decided the message".into()))?;
    Ok(Routed {
        resolution: choice.resolution,
        reason: choice.reason,
        signals: state.signals.into_inner(),
        trace,
        reuse: state.verdict.into_inner(),
        canonical: state.canonical.into_inner().unwrap_or_default(),
        chunks: state.chunks.into_inner().unwrap_or_default(),
        history: state.history.into_inner(),
        availability: state.availability.into_inner(),
    })
}

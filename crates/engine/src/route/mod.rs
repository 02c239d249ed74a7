//! Routing: every fan message to one of the paths A–F, as a plan of named steps.

mod decide;
mod gather;
pub mod plan;
pub mod policy;
mod port;
pub mod prompt;
pub mod reply;
mod router;
mod settings;
mod state;
mod types;

pub use decide::context_summary;
pub use gather::confidence;
pub use plan::{Outcome, Plan, StepOutcome, StepRecord, Trace};
pub use policy::{Action, CriticAction, Policy, PolicyError, StylePolicy};
pub use port::{RouteBackend, RouteInput};
pub use router::{route, STEPS};
pub use settings::RoutingSettings;
pub use types::*;

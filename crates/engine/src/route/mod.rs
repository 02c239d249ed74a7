//! Routing: every fan message to one of the paths A–F, as a plan of named steps.

mod decide;
pub mod plan;
pub mod policy;
pub mod prompt;
pub mod reply;
mod router;
mod settings;
mod types;

pub use decide::context_summary;
pub use plan::{Outcome, Plan, StepRecord, Trace};
pub use policy::{Action, CriticAction, Policy, PolicyError, StylePolicy};
pub use router::{confidence, route, RouteBackend, RouteInput};
pub use settings::RoutingSettings;
pub use types::*;

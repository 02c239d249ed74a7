//! Routing: every fan message to one of the paths A–F, as a plan of named steps.

pub mod plan;
pub mod policy;
pub mod reply;
mod router;
mod settings;
mod types;

pub use plan::{Outcome, Plan, StepRecord, Trace};
pub use policy::{Action, Policy, PolicyError};
pub use router::{confidence, context_summary, route, RouteBackend, RouteInput};
pub use settings::RoutingSettings;
pub use types::*;

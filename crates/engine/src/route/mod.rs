//! Routing: every fan message to one of the paths A–F, as a plan of named steps.

pub mod plan;
pub mod policy;
mod settings;

pub use plan::{Outcome, Plan, StepRecord, Trace};
pub use policy::{Action, Policy, PolicyError};
pub use settings::RoutingSettings;

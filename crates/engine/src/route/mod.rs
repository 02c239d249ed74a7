//! Routing: every fan message to one of the paths A–F, as a plan of named steps.

mod settings;

pub use settings::RoutingSettings;

//! Fanline's engine: the domain model and the seams through which routing reaches the
//! outside world.
//!
//! This crate is deliberately pure: it has no dependency on Tauri, HTTP or SQLite (CI
//! checks the dependency tree). Storage, search, models and the clock are reached through
//! the traits in [`ports`]; the adapters live in other crates (`fanline-store`,
//! `fanline-index`, `fanline-embed`) and are wired together by `fanline-core`.

#![warn(missing_docs)]

pub mod caps;
/// The engine's error and result.
pub mod error;
pub mod fusion;
pub mod hours;
pub mod ports;
pub mod reuse;
pub mod route;
pub mod signals;
pub mod types;
pub mod vector;

pub use error::{Error, Result};
pub use types::*;

//! Critics: checks on every drafted answer and every incoming message, run in stages
//! and gated by policy so the ordinary message stays cheap.
//!
//! A [`Critic`] has a name and an explicit [`Profile`]: stage, priority, run policy,
//! timeout, whether it fails closed. A [`Runner`] runs them stage by stage
//! (pre-validation, fast, core, deep, post-processing); within a stage concurrently in
//! priority order under a global concurrency limit and a global timeout. Transient
//! failures are retried with exponential backoff; safety critics fail closed instead.
//! Outputs are validated; every run, and every gated critic with the reason, is in the
//! [`Report`].

pub mod bench;
pub mod builtin;
mod model;
mod runner;

pub use model::{Critic, CriticError, Output, Place, Profile, RunPolicy, Severity, Stage, Subject, Violation};
pub use runner::{CriticRun, Metrics, Outcome, Report, Runner, Settings};

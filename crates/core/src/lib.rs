//! Fanline's use cases.
//!
//! [`Fanline`] opens the store, the knowledge index and (lazily) the embedder from a
//! [`Config`], and exposes one function per thing a creator does: import documents,
//! search them, manage canonical answers, check the installation, run benchmarks. The
//! CLI, the desktop app and the HTTP server call these functions and nothing else.

#![warn(missing_docs)]

mod app;
mod backend;
pub mod backup;
mod calibrate;
mod canonical;
pub mod config;
mod critics;
mod doctor;
mod draft;
mod error;
pub mod export;
mod fans;
pub mod gaps;
pub mod hub;
pub mod inbox;
mod knowledge;
mod learning;
pub mod llm;
pub mod metrics;
mod models;
pub mod policy;
pub mod quality;
mod queue;
mod queue_groups;
mod recover;
pub mod replay;
mod routing;
mod rules;
mod setup;
pub mod sync;

pub use app::{Fanline, InitReport, MAX_METRICS_DAYS, MAX_RESULTS};
pub use calibrate::{HistoryCalibration, MIN_HISTORY};
pub use canonical::{CanonicalHit, NewCanonicalInput};
pub use config::Config;
pub use doctor::{doctor_unopened, Check, DoctorReport};
pub use draft::Draft;
pub use error::{Error, ErrorBody, ErrorCode, Result};
pub use knowledge::{DocumentRef, FileOutcome, FileStatus, ImportEvent, ImportProgress, ImportSummary, SearchResult};
pub use learning::{off_topic_examples, OFF_TOPIC};
pub use llm::{LlmSettings, NewProvider, ProviderInfo, ProviderTest, StreamEvent};
pub use models::ReembedReport;
pub use queue::{AcceptReport, QueueItem, QueueWatch};
pub use queue_groups::QueueGroup;
pub use recover::{RecoverReport, Recovered, RECOVER_AFTER_SECONDS};
pub use routing::{
    checked_message, CriticReports, Decision, DecisionDetails, Generation, GenerationSource, RouteReport, Served,
    MAX_MESSAGE_CHARS,
};
pub use rules::validate_rules;
pub use setup::SetupStatus;

pub use fanline_store::{
    Agent, CanonicalAnswer, CanonicalSummary, Device, DocumentRecord, Escalation, Fan, ProviderSettings, Site,
};

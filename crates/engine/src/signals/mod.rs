//! Signals computed from a message's text alone: personal data in it, how complex it
//! is, how vague it is. The routing plan combines them with similarity signals from
//! the knowledge index; the critics reuse the personal-data detectors on drafts.

pub mod pii;
pub mod risk;
pub mod text;

pub use pii::{find_pii, PiiKind, PiiMatch};
pub use risk::RiskTier;
pub use text::{complexity, vagueness, TextStats};

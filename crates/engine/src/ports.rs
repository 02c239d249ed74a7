//! The traits the engine reaches the outside world through.

use crate::Result;
use chrono::{DateTime, Utc};

/// Turns texts into L2-normalised sentence embeddings.
pub trait Embedder: Send + Sync {
    /// A stable identifier of the model (stored with vectors so a model change is noticed).
    fn model_id(&self) -> &str;
    /// The length of every vector this embedder returns.
    fn dim(&self) -> usize;
    /// Embed a batch of texts, one vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
    /// Embed a single text.
    fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        self.embed(&[text])?.pop().ok_or_else(|| crate::Error::Embedding("the model returned no vector".into()))
    }
}

/// The time, so rules that depend on it can be tested at any instant.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

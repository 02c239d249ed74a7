//! What the reuse model learns from besides the phrasings: the generic off-topic set
//! shipped with the app (stored once per data directory and embedding model), and the
//! vectors of questions the creator declines or judges.

use crate::{Fanline, Result};
use fanline_engine::ports::Embedder;

/// The generic off-topic examples shipped with the app (`data/off_topic.txt`): the
/// out-of-scope class of every agent's reuse model.
pub const OFF_TOPIC: &str = include_str!("../data/off_topic.txt");

/// The examples of [`OFF_TOPIC`], one a line, comments left out.
pub fn off_topic_examples() -> Vec<&'static str> {
    OFF_TOPIC.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

impl Fanline {
    /// Make sure the store holds the generic off-topic set embedded by this model: once
    /// per process, a look at its stamp; once per data directory and model, the set
    /// embedded and stored (about a second). Best effort: without it (no model, a
    /// read-only data directory) the reuse model learns from the creator's own
    /// examples only.
    pub(crate) fn ensure_off_topic_set(&self) {
        self.off_topic_checked.get_or_init(|| {
            let Ok(embedder) = self.embedder() else { return };
            if let Err(e) = self.store_off_topic_set(embedder.as_ref()) {
                tracing::warn!("the reuse model goes without the generic off-topic examples: {e}");
            }
        });
    }

    /// Embed and store the generic off-topic set with `embedder`, unless it is stored
    /// already with that model.
    pub(crate) fn store_off_topic_set(&self, embedder: &dyn Embedder) -> Result<()> {
        let stamp = format!("{}:{}:{}", embedder.model_id(), embedder.dim(), blake3::hash(OFF_TOPIC.as_bytes()));
        if self.store.off_topic_set()?.as_deref() == Some(stamp.as_str()) {
            return Ok(());
        }
        let texts = off_topic_examples();
        let items: Vec<(String, Vec<f32>)> = texts.iter().map(|t| t.to_string()).zip(embedder.embed(&texts)?).collect();
        self.write_indexed(true, |s| s.put_off_topic_set(&stamp, &items).map(|()| ((), Default::default())))
    }

    /// A question's vector for the reuse model to learn from, if the model can embed it
    /// now (learning is never a reason for a creator's action to fail).
    pub(crate) fn learning_vector(&self, text: &str) -> Option<Vec<f32>> {
        match self.embedder().and_then(|e| Ok(e.embed_one(text)?)) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!("the reuse model does not learn from this question: {e}");
                None
            }
        }
    }
}

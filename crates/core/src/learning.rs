//! What the reuse model learns from besides the phrasings: the generic off-topic set
//! shipped with the app (stored once per data directory and embedding model), and the
//! vectors of questions the creator declines or judges.

use crate::Fanline;

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
            let stamp = format!("{}:{}:{}", embedder.model_id(), embedder.dim(), blake3::hash(OFF_TOPIC.as_bytes()));
            if self.store.off_topic_set().ok().flatten().as_deref() == Some(stamp.as_str()) {
                return;
            }
            let texts = off_topic_examples();
            let stored = embedder.embed(&texts).map_err(crate::Error::from).and_then(|vs| {
                let items: Vec<(String, Vec<f32>)> = texts.iter().map(|t| t.to_string()).zip(vs).collect();
                self.write_indexed(true, |s| s.put_off_topic_set(&stamp, &items).map(|()| ((), Default::default())))
            });
            if let Err(e) = stored {
                tracing::warn!("the reuse model goes without the generic off-topic examples: {e}");
            }
        });
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

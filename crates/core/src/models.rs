//! Which embedding model a data folder's vectors come from, and moving it to another:
//! vectors of two models are never mixed (a search would compare them as if they were
//! alike, and a query of the other model's length would fail).

use crate::{Error, Fanline, Result};
use fanline_engine::ports::Embedder;
use fanline_store::{EmbeddedTexts, Reembedded, Store};
use serde::Serialize;
use std::time::Instant;

/// What `fanline reembed` did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReembedReport {
    /// The model the vectors come from now.
    pub model: String,
    /// Its vectors' length.
    pub dim: usize,
    /// The model they came from before (`None`: not recorded).
    pub previous: Option<String>,
    /// Chunks embedded again.
    pub chunks: usize,
    /// Canonical answers' phrasings embedded again.
    pub phrasings: usize,
    /// The reuse model's examples embedded again (the generic off-topic set's too).
    pub examples: usize,
    /// How long it took.
    pub seconds: f64,
}

/// Texts embedded per call while re-embedding (the progress moves between them).
const BATCH: usize = 256;

/// Check that the stored vectors come from `e`; record it when nothing is recorded yet
/// (a data folder from before models were recorded was made by the only model then
/// shipped: its vectors are taken as `e`'s when their length agrees).
pub(crate) fn check_model(store: &Store, e: &dyn Embedder) -> Result<()> {
    match store.embedding_model()? {
        Some(m) if m == e.model_id() => Ok(()),
        Some(m) => Err(changed(&m, e)),
        None => match store.stored_vector_dim()? {
            Some(d) if d != e.dim() => Err(changed(&format!("a model of {d}-dimensional vectors"), e)),
            _ => Ok(store.set_embedding_model(e.model_id())?),
        },
    }
}

fn changed(stored: &str, e: &dyn Embedder) -> Error {
    Error::Config(format!(
        "this data folder's vectors were made by {stored}, but the configured model is {} ({}-dimensional): \
         run `fanline reembed` to embed everything again with it (a few minutes for a large library), \
         or point embedder.model_dir back at the model that made them",
        e.model_id(),
        e.dim()
    ))
}

fn embed_all(
    e: &dyn Embedder,
    items: &[(i64, String)],
    done: &mut usize,
    total: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::with_capacity(items.len());
    for batch in items.chunks(BATCH) {
        let texts: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
        out.extend(e.embed(&texts)?);
        *done += batch.len();
        progress(*done, total);
    }
    Ok(out)
}

impl Fanline {
    /// Embed every chunk, phrasing and example again with the configured model, in one
    /// transaction, and rebuild the search index: after changing `embedder.model_dir`.
    /// Run it with no other Fanline process using the data folder. `progress(done,
    /// total)` follows the texts embedded.
    pub fn reembed(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<ReembedReport> {
        let start = Instant::now();
        let e = match self.embedder.get() {
            Some(e) => e.clone(),
            None => self.load_embedder()?,
        };
        let previous = self.store.embedding_model()?;
        let texts: EmbeddedTexts = self.store.embedded_texts()?;
        let total = texts.chunks.len() + texts.phrasings.len() + texts.examples.len();
        let mut done = 0;
        let vectors = Reembedded {
            chunks: embed_all(e.as_ref(), &texts.chunks, &mut done, total, progress)?,
            phrasings: embed_all(e.as_ref(), &texts.phrasings, &mut done, total, progress)?,
            examples: embed_all(e.as_ref(), &texts.examples, &mut done, total, progress)?,
        };
        {
            let mut slot = self.index.write().unwrap_or_else(|p| p.into_inner());
            self.store.replace_embeddings(e.model_id(), &texts, &vectors)?;
            *slot = Some(self.open_index(true)?);
        }
        let _ = self.embedder.set(e.clone());
        self.store_off_topic_set(e.as_ref())?;
        self.flush()?;
        Ok(ReembedReport {
            model: e.model_id().to_string(),
            dim: e.dim(),
            previous,
            chunks: texts.chunks.len(),
            phrasings: texts.phrasings.len(),
            examples: texts.examples.len(),
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

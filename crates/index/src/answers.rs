//! Each agent's reuse model ([`AnswerModel`]), following the store like the vectors:
//! every phrasing and example the index adds or removes reaches the loaded models,
//! which refit what changed the next time they are asked. A model is built the first
//! time its agent is asked about, from the vectors this index holds, with the weights
//! kept in `answers.bin` for every answer whose examples did not change since.

use crate::{Error, Result, VectorIndex};
use fanline_engine::reuse::learned::{AnswerModel, ModelOptions, ModelScores, SavedModel, UpdateReport};
use fanline_engine::{ItemKey, ItemKind};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"FLANS001";

/// The loaded models, and the saved weights of agents not asked about yet.
#[derive(Default)]
pub struct AnswerModels {
    dim: usize,
    options: ModelOptions,
    models: HashMap<i64, AnswerModel>,
    saved: HashMap<i64, SavedModel>,
    /// A model changed since the file was written.
    changed: bool,
    /// What the last update of each agent's model did (for traces and tests).
    last: HashMap<i64, UpdateReport>,
}

/// What an item teaches, if anything: (answer or out of scope, from the generic set).
fn lesson(key: &ItemKey) -> Option<(Option<i64>, bool)> {
    match key.kind {
        ItemKind::Chunk => None,
        ItemKind::Canonical => Some((Some(key.owner), false)),
        ItemKind::Example => Some(((key.owner != 0).then_some(key.owner), key.agent == 0)),
    }
}

impl AnswerModels {
    /// No model yet; saved weights from `path` if it holds a valid file (a damaged or
    /// foreign one is ignored: the models are fitted again).
    pub fn load(path: &Path, dim: usize, options: ModelOptions) -> AnswerModels {
        let saved = match read(path) {
            Ok(s) => s,
            Err(e) => {
                if path.exists() {
                    tracing::info!("refitting the reuse models: {e}");
                }
                HashMap::new()
            }
        };
        AnswerModels { dim, options, saved, ..Default::default() }
    }

    /// Use other options: every model is fitted again.
    pub fn set_options(&mut self, options: ModelOptions) {
        if options != self.options {
            self.options = options;
            self.models.clear();
            self.saved.clear();
        }
    }

    /// An item left the index.
    pub fn removed(&mut self, key: &ItemKey) {
        if lesson(key).is_none() {
            return;
        }
        for (agent, m) in self.models.iter_mut() {
            if key.agent == 0 || key.agent == *agent {
                m.remove((key.kind, key.id));
            }
        }
    }

    /// An item entered the index, or changed.
    pub fn added(&mut self, key: &ItemKey, v: &[f32]) {
        let Some((answer, generic)) = lesson(key) else { return };
        for (agent, m) in self.models.iter_mut() {
            if key.agent == 0 || key.agent == *agent {
                m.upsert((key.kind, key.id), answer, generic, v);
            }
        }
    }

    /// Forget the loaded models (the vectors were reloaded whole); what they learned
    /// is kept as saved weights, taken back for every answer that is the same.
    pub fn unload(&mut self) {
        for (agent, m) in self.models.drain() {
            self.saved.insert(agent, m.save());
        }
    }

    /// What the model of `agent` says of a question's vector: built (from `vectors`) or
    /// brought up to date first if needed. `None` when the agent has no answer.
    pub fn scores(&mut self, agent: i64, q: &[f32], vectors: &VectorIndex) -> Option<ModelScores> {
        let (dim, options) = (self.dim, self.options);
        let m = self.models.entry(agent).or_insert_with(|| {
            let mut m = AnswerModel::new(dim, options);
            for (key, v) in vectors.items() {
                if key.agent != agent && !(key.agent == 0 && key.kind == ItemKind::Example) {
                    continue;
                }
                if let Some((answer, generic)) = lesson(&key) {
                    m.upsert((key.kind, key.id), answer, generic, v);
                }
            }
            if let Some(saved) = self.saved.remove(&agent) {
                m.restore(&saved);
            }
            m
        });
        if m.is_stale() {
            let report = m.update();
            self.changed = true;
            self.last.insert(agent, report);
        }
        (m.answers() > 0).then(|| m.scores(q))
    }

    /// What the last update of `agent`'s model did.
    pub fn last_update(&self, agent: i64) -> Option<UpdateReport> {
        self.last.get(&agent).copied()
    }

    /// Write the fitted weights to `path` if they changed (atomically, checksummed).
    pub fn save(&mut self, path: &Path) -> Result<()> {
        if !self.changed {
            return Ok(());
        }
        let mut all = self.saved.clone();
        for (agent, m) in &self.models {
            if !m.is_stale() {
                all.insert(*agent, m.save());
            }
        }
        write(path, &all)?;
        self.changed = false;
        Ok(())
    }
}

fn write(path: &Path, models: &HashMap<i64, SavedModel>) -> Result<()> {
    let io = |e: std::io::Error| Error::Io { path: path.to_path_buf(), detail: e.to_string() };
    let body = serde_json::to_vec(models).map_err(|e| Error::Cache { path: path.into(), detail: e.to_string() })?;
    let mut buf = Vec::with_capacity(body.len() + 40);
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&body);
    buf.extend_from_slice(blake3::hash(&buf).as_bytes());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(&buf).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn read(path: &Path) -> Result<HashMap<i64, SavedModel>> {
    let bad = |detail: &str| Error::Cache { path: path.to_path_buf(), detail: detail.to_string() };
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut buf))
        .map_err(|e| Error::Io { path: path.to_path_buf(), detail: e.to_string() })?;
    if buf.len() < MAGIC.len() + 32 || &buf[..MAGIC.len()] != MAGIC {
        return Err(bad("not a Fanline reuse model file"));
    }
    let (body, sum) = buf.split_at(buf.len() - 32);
    if blake3::hash(body).as_bytes() != sum {
        return Err(bad("checksum mismatch"));
    }
    serde_json::from_slice(&body[MAGIC.len()..]).map_err(|e| bad(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanline_engine::Layer;

    fn key(kind: ItemKind, id: i64, owner: i64, agent: i64) -> ItemKey {
        ItemKey { kind, id, owner, agent, layer: Layer::Public }
    }

    /// Answers are classes from their first phrasing (the product waits for three).
    fn one() -> ModelOptions {
        ModelOptions { min_phrasings: 1, ..ModelOptions::default() }
    }

    fn axis(i: usize) -> Vec<f32> {
        let mut v = vec![0.0; 4];
        v[i] = 1.0;
        v
    }

    #[test]
    fn models_follow_their_agents_items_and_come_back_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answers.bin");
        let mut vectors = VectorIndex::new(4);
        vectors.upsert(key(ItemKind::Canonical, 1, 10, 1), &axis(0)).unwrap();
        vectors.upsert(key(ItemKind::Canonical, 2, 11, 1), &axis(1)).unwrap();
        vectors.upsert(key(ItemKind::Canonical, 3, 12, 2), &axis(2)).unwrap();
        vectors.upsert(key(ItemKind::Example, 1, 0, 0), &axis(3)).unwrap();
        vectors.upsert(key(ItemKind::Chunk, 1, 5, 1), &axis(2)).unwrap();
        let mut models = AnswerModels::load(&path, 4, one());
        let s = models.scores(1, &axis(0), &vectors).unwrap();
        assert_eq!(s.answers.len(), 2, "agent 1's answers only: {s:?}");
        assert!(s.answers[&10] > s.answers[&11] && s.answers[&10] > s.out_of_scope);
        assert!(models.last_update(1).unwrap().full);
        // A phrasing of another agent does not reach agent 1's model; one of its own does.
        let k = key(ItemKind::Canonical, 4, 12, 2);
        vectors.upsert(k, &axis(1)).unwrap();
        models.added(&k, &axis(1));
        assert_eq!(models.scores(1, &axis(0), &vectors).unwrap().answers.len(), 2);
        let k = key(ItemKind::Canonical, 5, 13, 1);
        vectors.upsert(k, &axis(2)).unwrap();
        models.added(&k, &axis(2));
        let s = models.scores(1, &axis(2), &vectors).unwrap();
        assert_eq!(s.answers.len(), 3);
        assert!(s.answers[&13] > 0.5, "{s:?}");
        models.save(&path).unwrap();
        // Another process: the saved weights come back, nothing is refitted.
        let mut again = AnswerModels::load(&path, 4, one());
        let s2 = again.scores(1, &axis(2), &vectors).unwrap();
        assert!(again.last_update(1).is_none(), "restored, not fitted");
        assert!((s2.answers[&13] - s.answers[&13]).abs() < 1e-6);
        // A damaged file is ignored.
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let mut fresh = AnswerModels::load(&path, 4, one());
        assert!(fresh.scores(1, &axis(2), &vectors).is_some());
        assert!(fresh.last_update(1).unwrap().full);
        // No answers: no scores.
        assert!(fresh.scores(3, &axis(0), &vectors).is_none());
    }
}

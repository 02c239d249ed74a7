//! The two halves, each following the store: the in-memory vectors by the store's log
//! of changes, the shared full-text index by whichever process holds its writer for a
//! catch-up. Both are stamped with the store generation they hold.

use crate::{AnswerModels, Result, ScanStrategy, TextIndex, VectorIndex};
use fanline_engine::fusion::{convex_combination, reciprocal_rank_fusion, DEFAULT_RRF_K};
use fanline_engine::reuse::learned::{ModelOptions, ModelScores, UpdateReport};
use fanline_engine::{IndexedItem, ItemKey, ItemKind, SearchFilter};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How the dense and the BM25 rankings are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// `w · cosine + (1 − w) · normalised BM25`.
    Convex { dense_weight: f64 },
    /// Reciprocal rank fusion, k = 60.
    Rrf,
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Convex { dense_weight: 0.85 }
    }
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    pub key: ItemKey,
    /// Fused score (see [`Fusion`]).
    pub score: f64,
    /// Cosine similarity between the query and the item (always computed).
    pub cosine: f32,
    /// 1-based rank in the nearest-neighbour list, if it was there.
    pub vector_rank: Option<usize>,
    /// 1-based rank in the BM25 list and its BM25 score, if it was there.
    pub text_rank: Option<usize>,
    pub bm25: Option<f32>,
}

/// What opening the index had to do.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenReport {
    /// Why the full-text index was rebuilt, if it was.
    pub rebuilt_text: Option<String>,
    /// Why the vector cache was rebuilt, if it was.
    pub rebuilt_vectors: Option<String>,
    /// How the index caught up with changes made while it was closed, if it had to.
    pub caught_up: Option<String>,
    /// Items held.
    pub items: usize,
}

/// What changed in the store after a generation: items gone, items added or changed
/// (with their text and vector), and the generation the store is at.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Items gone.
    pub removed: Vec<(ItemKind, i64)>,
    /// Items added or changed.
    pub added: Vec<IndexedItem>,
    /// The store's generation these changes bring an index to.
    pub generation: u64,
}

/// Where the index's content comes from: the store, with its log of changes.
pub trait IndexSource {
    /// The store's current index generation.
    fn generation(&self) -> std::result::Result<u64, String>;
    /// How many items the store holds.
    fn count(&self) -> std::result::Result<u64, String>;
    /// Visit every item with its text and vector.
    fn for_each(&self, f: &mut dyn FnMut(ItemKey, &str, Vec<f32>)) -> std::result::Result<(), String>;
    /// What changed after `generation`; `None` when the store no longer keeps its log
    /// of changes that far back (then the index reloads everything).
    fn changes_since(&self, generation: u64) -> std::result::Result<Option<Changes>, String>;
    /// The full-text index holds every change up to `generation`: the log before it may
    /// be forgotten (processes whose vectors are older reload them whole).
    fn forget_before(&self, generation: u64) -> std::result::Result<(), String>;
}

/// The two halves of the index. The vectors live in this process's memory and follow
/// the store's log of changes (`sync`); the full-text index is shared on disk by every
/// process on the data directory: any of them reads it at any time, and whichever
/// takes the writer's lock (only for as long as one catch-up) brings it up to the
/// store. A process that finds the lock taken searches the text as last committed and
/// tries again later: readers never wait for, or fail because of, a writer.
pub struct HybridIndex {
    dir: PathBuf,
    vectors: VectorIndex,
    text: TextIndex,
    /// The store generation the vectors hold.
    generation: u64,
    /// The store generation the full-text index's last commit holds.
    text_generation: Option<u64>,
    /// The vector cache file is behind the in-memory vectors.
    dirty: bool,
    /// When bringing the text up to date last found the writer's lock taken.
    text_busy_since: Option<Instant>,
    fusion: Fusion,
    /// Each agent's reuse model, following the vectors.
    answers: Mutex<AnswerModels>,
    /// The generic off-topic examples (examples of agent 0), apart: a few hundred
    /// vectors every decision compares with, not worth a scan of every item.
    generic: std::collections::BTreeMap<i64, Vec<f32>>,
}

/// One of the generic off-topic examples shipped with the app (shared by every agent).
fn is_generic(k: &ItemKey) -> bool {
    k.kind == ItemKind::Example && k.agent == 0
}

const TEXT_DIR: &str = "tantivy";
const VECTOR_FILE: &str = "vectors.bin";
const ANSWERS_FILE: &str = "answers.bin";
/// How often a process retries bringing the full-text index up to date while another
/// process holds its writer.
const TEXT_RETRY: Duration = Duration::from_secs(1);
/// Generations of the change log kept beyond what the full-text index holds, for
/// processes whose vectors lag (older ones reload their vectors whole).
const LOG_KEPT: u64 = 5_000;

fn src(dir: &Path) -> impl Fn(String) -> crate::Error + '_ {
    move |e| crate::Error::Io { path: dir.to_path_buf(), detail: format!("reading the store: {e}") }
}

impl HybridIndex {
    /// Throw away the index files in `dir` and build them again from `source`.
    pub fn rebuild(dir: &Path, dim: usize, source: &dyn IndexSource) -> Result<(HybridIndex, OpenReport)> {
        let io = |p: &Path, e: std::io::Error| crate::Error::Io { path: p.to_path_buf(), detail: e.to_string() };
        let text_dir = dir.join(TEXT_DIR);
        if text_dir.exists() {
            std::fs::remove_dir_all(&text_dir).map_err(|e| io(&text_dir, e))?;
        }
        for file in [VECTOR_FILE, ANSWERS_FILE] {
            let cache = dir.join(file);
            if cache.exists() {
                std::fs::remove_file(&cache).map_err(|e| io(&cache, e))?;
            }
        }
        Self::open(dir, dim, source)
    }

    /// Open (or create) the index in `dir`: the vectors from their cache file brought up
    /// to the store by its log (or reloaded whole when the cache is missing, damaged or
    /// older than the log), the full-text index as committed, then brought up to the
    /// store if its writer's lock is free.
    pub fn open(dir: &Path, dim: usize, source: &dyn IndexSource) -> Result<(HybridIndex, OpenReport)> {
        let mut report = OpenReport::default();
        let text_dir = dir.join(TEXT_DIR);
        let (text, text_generation) = match TextIndex::open(&text_dir) {
            Ok(t) => t,
            Err(e) => {
                report.rebuilt_text = Some(format!("damaged or missing: {e}"));
                let _ = std::fs::remove_dir_all(&text_dir);
                (TextIndex::open(&text_dir)?.0, None)
            }
        };
        text.remove_leftovers();
        if text_generation.is_none() {
            report.rebuilt_text.get_or_insert_with(|| "missing".into());
        }
        let cache = dir.join(VECTOR_FILE);
        let (vectors, generation) = match VectorIndex::load(&cache, dim) {
            Ok((v, g)) => (v, Some(g)),
            Err(e) => {
                if cache.exists() {
                    report.rebuilt_vectors = Some(e.to_string());
                }
                (VectorIndex::new(dim), None)
            }
        };
        let mut idx = HybridIndex {
            dir: dir.to_path_buf(),
            vectors,
            text,
            generation: generation.unwrap_or(0),
            text_generation,
            dirty: false,
            text_busy_since: None,
            fusion: Fusion::default(),
            answers: Mutex::new(AnswerModels::load(&dir.join(ANSWERS_FILE), dim, ModelOptions::default())),
            generic: Default::default(),
        };
        idx.generic = idx.vectors.items().filter(|(k, _)| is_generic(k)).map(|(k, v)| (k.id, v.to_vec())).collect();
        let cached = idx.generation;
        if generation.is_none() {
            idx.reload_vectors(source)?;
            report.rebuilt_vectors.get_or_insert_with(|| "missing".into());
        } else if idx.sync_vectors(source)? {
            report.rebuilt_vectors = Some("older than the store's log of changes".into());
        }
        let before = idx.text_generation;
        idx.sync_text(source, true)?;
        let behind =
            (generation.is_some() && cached != idx.generation) || (before.is_some() && before != idx.text_generation);
        if behind {
            report.caught_up = Some(format!(
                "vectors at {cached}, full text at {}, store at {}",
                before.map_or("?".into(), |g| g.to_string()),
                idx.generation
            ));
        }
        if idx.dirty {
            idx.save()?;
        }
        report.items = idx.vectors.len();
        Ok((idx, report))
    }

    /// Load every vector from the store.
    fn reload_vectors(&mut self, source: &dyn IndexSource) -> Result<()> {
        let generation = source.generation().map_err(src(&self.dir))?;
        self.vectors.clear();
        self.generic.clear();
        self.answers.get_mut().unwrap_or_else(|p| p.into_inner()).unload();
        let mut err: Option<crate::Error> = None;
        let (vectors, generic) = (&mut self.vectors, &mut self.generic);
        source
            .for_each(&mut |key, _, v| {
                if err.is_none() {
                    if is_generic(&key) {
                        generic.insert(key.id, v.clone());
                    }
                    if let Err(e) = vectors.upsert(key, &v) {
                        err = Some(e);
                    }
                }
            })
            .map_err(src(&self.dir))?;
        if let Some(e) = err {
            return Err(e);
        }
        self.vectors.recentre();
        self.generation = generation;
        self.dirty = true;
        Ok(())
    }

    /// Bring the vectors up to the store. Returns whether they had to be reloaded whole.
    fn sync_vectors(&mut self, source: &dyn IndexSource) -> Result<bool> {
        let store = source.generation().map_err(src(&self.dir))?;
        if store == self.generation {
            return Ok(false);
        }
        match source.changes_since(self.generation).map_err(src(&self.dir))? {
            Some(c) if store >= self.generation => {
                let answers = self.answers.get_mut().unwrap_or_else(|p| p.into_inner());
                for (kind, id) in &c.removed {
                    if let Some(key) = self.vectors.key(*kind, *id) {
                        answers.removed(&key);
                    }
                    if *kind == ItemKind::Example {
                        self.generic.remove(id);
                    }
                    self.vectors.remove(*kind, *id);
                }
                for (k, _, v) in &c.added {
                    if let Some(old) = self.vectors.key(k.kind, k.id) {
                        answers.removed(&old);
                    }
                    self.vectors.upsert(*k, v)?;
                    answers.added(k, v);
                    if is_generic(k) {
                        self.generic.insert(k.id, v.clone());
                    } else if k.kind == ItemKind::Example {
                        self.generic.remove(&k.id);
                    }
                }
                self.generation = c.generation;
                self.dirty = true;
                Ok(false)
            }
            // The log does not reach back (or the store went back, restored from a copy).
            _ => {
                self.reload_vectors(source)?;
                Ok(true)
            }
        }
    }

    /// Bring the full-text index up to the vectors' generation, if its writer's lock is
    /// free; `force`: try even if another process held it a moment ago.
    fn sync_text(&mut self, source: &dyn IndexSource, force: bool) -> Result<()> {
        self.text_generation = self.text.reload()?;
        if self.text_generation == Some(self.generation) {
            self.text_busy_since = None;
            return Ok(());
        }
        if !force && self.text_busy_since.is_some_and(|t| t.elapsed() < TEXT_RETRY) {
            return Ok(());
        }
        match self.catch_up_text(source) {
            Ok(()) => {
                self.text_busy_since = None;
                Ok(())
            }
            Err(e) => {
                // Busy (another process holds the writer) or failing: searches go on with
                // the text as last committed, and the catch-up is tried again shortly.
                if !matches!(e, crate::Error::Busy) {
                    tracing::warn!("could not bring the full-text index up to date ({e}); will try again");
                }
                self.text.abandon();
                self.text_busy_since = Some(Instant::now());
                Ok(())
            }
        }
    }

    fn catch_up_text(&mut self, source: &dyn IndexSource) -> Result<()> {
        // The lock first, then what the last writer committed: the changes read next
        // start from the index's real stamp, and the stamp written is never older.
        self.text.lock()?;
        self.text_generation = self.text.reload()?;
        let changes = match self.text_generation {
            Some(g) => source.changes_since(g).map_err(src(&self.dir))?,
            None => None,
        };
        let generation = match changes {
            Some(c) if c.generation == self.text_generation.unwrap_or(u64::MAX) => {
                // Another process brought it up while this one waited.
                self.text.abandon();
                return Ok(());
            }
            Some(c) => {
                for (kind, id) in c.removed.iter().copied().chain(c.added.iter().map(|(k, _, _)| (k.kind, k.id))) {
                    self.text.remove(kind, id)?;
                }
                for (k, text, _) in c.added.iter().filter(|(k, _, _)| k.kind != ItemKind::Example) {
                    self.text.add(k, text)?;
                }
                c.generation
            }
            None => {
                let generation = source.generation().map_err(src(&self.dir))?;
                self.text.clear()?;
                let mut err: Option<crate::Error> = None;
                let text = &self.text;
                source
                    .for_each(&mut |key, t, _| {
                        // The reuse model's examples are never searched.
                        if err.is_none() && key.kind != ItemKind::Example {
                            if let Err(e) = text.add(&key, t) {
                                err = Some(e);
                            }
                        }
                    })
                    .map_err(src(&self.dir))?;
                if let Some(e) = err {
                    return Err(e);
                }
                generation
            }
        };
        self.text.commit(Some(generation))?;
        self.text_generation = Some(generation);
        if generation > LOG_KEPT {
            source.forget_before(generation - LOG_KEPT).map_err(src(&self.dir))?;
        }
        Ok(())
    }

    /// Bring both halves up to the store: the vectors always, the full-text index when
    /// its writer's lock is free (`force`: even if it was taken a moment ago).
    pub fn sync(&mut self, source: &dyn IndexSource, force: bool) -> Result<()> {
        self.sync_vectors(source)?;
        self.sync_text(source, force)
    }

    /// Bring only the vectors up to the store (bulk writes: the full-text index catches
    /// up at the next [`sync`](Self::sync)).
    pub fn sync_vectors_only(&mut self, source: &dyn IndexSource) -> Result<()> {
        self.sync_vectors(source).map(|_| ())
    }

    /// Whether the vectors hold the store at `generation`.
    pub fn in_step(&self, generation: u64) -> bool {
        self.generation == generation
    }

    /// Whether both halves hold the store at `generation`, or the full-text index is
    /// behind only because another process holds its writer or its catch-up failed (and it
    /// was tried lately).
    pub fn settled(&self, generation: u64) -> bool {
        self.generation == generation
            && (self.text_generation == Some(generation)
                || self.text_busy_since.is_some_and(|t| t.elapsed() < TEXT_RETRY))
    }

    /// The store generation the full-text index holds (as last seen).
    pub fn text_generation(&self) -> Option<u64> {
        self.text_generation
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn len(&self) -> usize {
        self.vectors.len()
    }
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }
    pub fn generation(&self) -> u64 {
        self.generation
    }
    pub fn vectors(&self) -> &VectorIndex {
        &self.vectors
    }
    pub fn set_strategy(&mut self, s: ScanStrategy) {
        self.vectors.set_strategy(s);
    }
    pub fn set_fusion(&mut self, f: Fusion) {
        self.fusion = f;
    }

    /// Write the vector cache file if it is behind the in-memory vectors, and the
    /// reuse models' weights if they changed.
    pub fn save(&mut self) -> Result<()> {
        if self.dirty {
            self.vectors.save(&self.dir.join(VECTOR_FILE), self.generation)?;
            self.dirty = false;
        }
        self.answers.get_mut().unwrap_or_else(|p| p.into_inner()).save(&self.dir.join(ANSWERS_FILE))
    }

    /// Run the reuse models with other options (every model is fitted again).
    pub fn set_answer_options(&mut self, o: ModelOptions) {
        self.answers.get_mut().unwrap_or_else(|p| p.into_inner()).set_options(o);
    }

    /// What `agent`'s reuse model says of a question's vector (`None`: the agent has no
    /// answer). The model is built or brought up to date first if it has to be:
    /// milliseconds after a few changes, longer the first time in a process that has
    /// no saved weights for it.
    pub fn answer_scores(&self, agent: i64, q: &[f32]) -> Option<ModelScores> {
        self.answers.lock().unwrap_or_else(|p| p.into_inner()).scores(agent, q, &self.vectors)
    }

    /// Similarity of the closest generic off-topic example (`None`: none is held).
    pub fn off_topic_similarity(&self, q: &[f32]) -> Option<f32> {
        self.generic.values().map(|v| fanline_engine::vector::dot(q, v)).reduce(f32::max)
    }

    /// What the last update of `agent`'s reuse model in this process did.
    pub fn answer_model_update(&self, agent: i64) -> Option<UpdateReport> {
        self.answers.lock().unwrap_or_else(|p| p.into_inner()).last_update(agent)
    }

    /// Nearest neighbours only, with cosine similarity.
    pub fn nearest(&self, q: &[f32], filter: &SearchFilter, k: usize) -> Vec<(ItemKey, f32)> {
        self.vectors.search(q, filter, k)
    }

    /// Hybrid search: nearest neighbours and BM25, fused (see [`Fusion`]). Every hit
    /// carries its exact cosine similarity, including those only BM25 found.
    pub fn search(&self, q: &[f32], query_text: &str, filter: &SearchFilter, k: usize) -> Result<Vec<Hit>> {
        let depth = (k * 3).max(30);
        let near = self.vectors.search(q, filter, depth);
        let bm25 = self.text.search(query_text, filter, depth)?;
        let cos: HashMap<(ItemKind, i64), (usize, f32)> =
            near.iter().enumerate().map(|(i, (k, s))| ((k.kind, k.id), (i + 1, *s))).collect();
        let txt: HashMap<(ItemKind, i64), (usize, f32)> =
            bm25.iter().enumerate().map(|(i, (u, s))| (*u, (i + 1, *s))).collect();
        let near_ids: Vec<(ItemKind, i64)> = near.iter().map(|(k, _)| (k.kind, k.id)).collect();
        let text_ids: Vec<(ItemKind, i64)> = bm25.iter().map(|(u, _)| *u).collect();
        // Candidates: the union of both lists, in first-seen order.
        let candidates = reciprocal_rank_fusion(&[&near_ids, &text_ids], DEFAULT_RRF_K);
        let max_bm25 = bm25.iter().map(|(_, s)| *s).fold(0f32, f32::max);
        let mut out = Vec::with_capacity(candidates.len());
        for (id, rrf) in candidates {
            // An item only BM25 found still gets its exact cosine.
            // The vectors are the truth: the full-text index may lag behind them (another
            // process holds its writer), so an item it still has may be gone or re-layered.
            let Some(key) = self.vectors.key(id.0, id.1).filter(|k| filter.admits(k)) else { continue };
            let cosine = match cos.get(&id) {
                Some((_, c)) => *c,
                None => self.vectors.vector(id.0, id.1).map(|v| fanline_engine::vector::dot(q, v)).unwrap_or(0.0),
            };
            let bm = txt.get(&id).map(|x| x.1);
            let score = match self.fusion {
                Fusion::Rrf => rrf,
                Fusion::Convex { dense_weight } => convex_combination(cosine, bm, max_bm25, dense_weight),
            };
            out.push(Hit {
                key,
                score,
                cosine,
                vector_rank: cos.get(&id).map(|x| x.0),
                text_rank: txt.get(&id).map(|x| x.0),
                bm25: bm,
            });
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.id.cmp(&b.key.id)));
        out.truncate(k);
        Ok(out)
    }
}

impl Drop for HybridIndex {
    fn drop(&mut self) {
        if let Err(e) = self.save() {
            tracing::warn!("could not write the vector cache: {e}");
        }
    }
}

#[cfg(test)]
mod tests;

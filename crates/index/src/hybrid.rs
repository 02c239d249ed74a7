//! The two halves kept in step: every change goes to both, stamped with the store's
//! generation; on open each half is checked against the store and rebuilt if needed.

use crate::{Result, ScanStrategy, TextIndex, VectorIndex};
use fanline_engine::fusion::{convex_combination, reciprocal_rank_fusion, DEFAULT_RRF_K};
use fanline_engine::{IndexedItem, ItemKey, ItemKind, SearchFilter};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    pub items: usize,
}

/// Where the index's content comes from: the store.
pub trait IndexSource {
    /// The store's current index generation.
    fn generation(&self) -> std::result::Result<u64, String>;
    /// How many items the store holds.
    fn count(&self) -> std::result::Result<u64, String>;
    /// Visit every item with its text and vector.
    fn for_each(&self, f: &mut dyn FnMut(ItemKey, &str, Vec<f32>)) -> std::result::Result<(), String>;
}

pub struct HybridIndex {
    dir: PathBuf,
    vectors: VectorIndex,
    text: TextIndex,
    generation: u64,
    /// The vector cache file is behind the in-memory vectors.
    dirty: bool,
    /// Full-text changes are staged but not committed.
    text_pending: bool,
    /// A change arrived whose generation did not follow the last one: another writer
    /// changed the store in between, and this index lacks that change.
    stale: bool,
    fusion: Fusion,
}

const TEXT_DIR: &str = "tantivy";
const VECTOR_FILE: &str = "vectors.bin";

impl HybridIndex {
    /// Throw away the index files in `dir` and build them again from `source`.
    pub fn rebuild(dir: &Path, dim: usize, source: &dyn IndexSource) -> Result<(HybridIndex, OpenReport)> {
        let io = |p: &Path, e: std::io::Error| crate::Error::Io { path: p.to_path_buf(), detail: e.to_string() };
        let text_dir = dir.join(TEXT_DIR);
        if text_dir.exists() {
            std::fs::remove_dir_all(&text_dir).map_err(|e| io(&text_dir, e))?;
        }
        let cache = dir.join(VECTOR_FILE);
        if cache.exists() {
            std::fs::remove_file(&cache).map_err(|e| io(&cache, e))?;
        }
        Self::open(dir, dim, source)
    }

    /// Open (or create) the index in `dir`, rebuilding from `source` what is missing,
    /// damaged or stale.
    pub fn open(dir: &Path, dim: usize, source: &dyn IndexSource) -> Result<(HybridIndex, OpenReport)> {
        let src = |e: String| crate::Error::Io { path: dir.to_path_buf(), detail: format!("reading the store: {e}") };
        let generation = source.generation().map_err(src)?;
        let expected = source.count().map_err(src)? as usize;
        let mut report = OpenReport::default();

        let text_dir = dir.join(TEXT_DIR);
        let text = match TextIndex::open(&text_dir) {
            Ok((t, g)) => {
                if g != Some(generation) {
                    report.rebuilt_text = Some(format!("stale (index at {g:?}, store at {generation})"));
                } else if t.num_docs() as usize != expected {
                    report.rebuilt_text = Some(format!("holds {} items, the store {expected}", t.num_docs()));
                }
                t
            }
            Err(e) => {
                report.rebuilt_text = Some(format!("damaged or missing: {e}"));
                let _ = std::fs::remove_dir_all(&text_dir);
                TextIndex::open(&text_dir)?.0
            }
        };

        let cache = dir.join(VECTOR_FILE);
        let vectors = match VectorIndex::load(&cache, dim) {
            Ok((v, g)) if g == generation && v.len() == expected => v,
            Ok((_, g)) => {
                report.rebuilt_vectors = Some(format!("stale (cache at {g}, store at {generation})"));
                VectorIndex::new(dim)
            }
            Err(e) => {
                report.rebuilt_vectors = Some(if cache.exists() { e.to_string() } else { "missing".to_string() });
                VectorIndex::new(dim)
            }
        };

        let mut idx = HybridIndex {
            dir: dir.to_path_buf(),
            vectors,
            text,
            generation,
            dirty: false,
            text_pending: false,
            stale: false,
            fusion: Fusion::default(),
        };
        let (do_text, do_vec) = (report.rebuilt_text.is_some(), report.rebuilt_vectors.is_some());
        if do_text || do_vec {
            if do_text {
                idx.text.clear()?;
            }
            let mut err: Option<crate::Error> = None;
            source
                .for_each(&mut |key, text, v| {
                    if err.is_some() {
                        return;
                    }
                    let r = (|| {
                        if do_text {
                            idx.text.add(&key, text)?;
                        }
                        if do_vec {
                            idx.vectors.upsert(key, &v)?;
                        }
                        Ok::<(), crate::Error>(())
                    })();
                    if let Err(e) = r {
                        err = Some(e);
                    }
                })
                .map_err(src)?;
            if let Some(e) = err {
                return Err(e);
            }
            if do_text {
                idx.text.commit(Some(generation))?;
            }
            if do_vec {
                idx.vectors.recentre();
                idx.dirty = true;
                idx.save()?;
            }
        }
        report.items = idx.vectors.len();
        Ok((idx, report))
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

    /// Follow a change the store made (removals first, then additions) and stamp both
    /// halves with the store's new generation; searches see it at once.
    pub fn apply(&mut self, removed: &[ItemKey], added: &[IndexedItem], generation: u64) -> Result<()> {
        self.stage(removed, added, generation)?;
        self.commit_text()
    }

    /// Like [`apply`](Self::apply), but the full-text half only sees the change at the
    /// next [`commit_text`](Self::commit_text) or [`save`](Self::save). For bulk
    /// imports: one tantivy commit instead of one per document. If the process stops
    /// before that, the index is stale and is rebuilt from the store when next opened.
    pub fn stage(&mut self, removed: &[ItemKey], added: &[IndexedItem], generation: u64) -> Result<()> {
        if generation != self.generation + 1 {
            self.stale = true;
        }
        for k in removed {
            self.vectors.remove(k.kind, k.id);
            self.text.remove(k.kind, k.id)?;
        }
        for (k, text, v) in added {
            self.vectors.upsert(*k, v)?;
            self.text.add(k, text)?;
        }
        self.generation = generation;
        self.text_pending = true;
        self.dirty = true;
        Ok(())
    }

    /// Whether another writer changed the store between two changes this index followed.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Mark the index as missing changes (e.g. it could not follow one).
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Whether full-text changes are staged and not yet committed.
    pub fn has_staged(&self) -> bool {
        self.text_pending
    }

    /// Drop the index without committing or saving anything: for an index that is
    /// behind the store, whose files another process may have brought up to date.
    pub fn discard(mut self) {
        self.text_pending = false;
        self.dirty = false;
    }

    /// Commit staged full-text changes, stamped with the current generation.
    pub fn commit_text(&mut self) -> Result<()> {
        if self.text_pending {
            // A stale index must not claim the generation: it lacks someone's change.
            self.text.commit((!self.stale).then_some(self.generation))?;
            self.text_pending = false;
        }
        Ok(())
    }

    /// Commit staged changes and write the vector cache if it changed since it was
    /// last written. A stale index commits its text unstamped and keeps its vectors to
    /// itself: its stamps would claim changes it does not hold.
    pub fn save(&mut self) -> Result<()> {
        self.commit_text()?;
        if self.dirty && !self.stale {
            self.vectors.save(&self.dir.join(VECTOR_FILE), self.generation)?;
            self.dirty = false;
        }
        Ok(())
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
            // The two halves never disagree on membership; an item only BM25 found still
            // gets its exact cosine.
            let Some(key) = self.vectors.key(id.0, id.1) else { continue };
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
mod tests {
    use super::*;
    use fanline_engine::Layer;

    /// A store with no items, at a given generation.
    struct EmptyAt(u64);
    impl IndexSource for EmptyAt {
        fn generation(&self) -> std::result::Result<u64, String> {
            Ok(self.0)
        }
        fn count(&self) -> std::result::Result<u64, String> {
            Ok(0)
        }
        fn for_each(&self, _: &mut dyn FnMut(ItemKey, &str, Vec<f32>)) -> std::result::Result<(), String> {
            Ok(())
        }
    }

    fn item(id: i64) -> IndexedItem {
        (
            ItemKey { kind: ItemKind::Chunk, id, owner: 1, agent: 1, layer: Layer::Public },
            format!("text {id}"),
            vec![1.0, 0.0],
        )
    }

    #[test]
    fn a_gap_in_generations_marks_the_index_stale_and_it_claims_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut idx, _) = HybridIndex::open(dir.path(), 2, &EmptyAt(0)).unwrap();
        idx.apply(&[], &[item(1)], 1).unwrap();
        assert!(!idx.is_stale());
        // Generation 2 was someone else's change.
        idx.apply(&[], &[item(2)], 3).unwrap();
        assert!(idx.is_stale());
        idx.save().unwrap();
        drop(idx);
        // Neither half claims generation 3: a fresh open against a store at 3 rebuilds both.
        let (_, report) = HybridIndex::open(dir.path(), 2, &EmptyAt(3)).unwrap();
        assert!(report.rebuilt_text.is_some() && report.rebuilt_vectors.is_some(), "{report:?}");
    }
}

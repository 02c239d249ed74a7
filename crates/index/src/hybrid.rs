//! The two halves kept in step: every change goes to both, stamped with the store's
//! generation; on open each half is checked against the store and rebuilt if needed.

use crate::{Result, ScanStrategy, TextIndex, VectorIndex};
use fanline_engine::fusion::{reciprocal_rank_fusion, DEFAULT_RRF_K};
use fanline_engine::{ItemKey, ItemKind, SearchFilter};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    pub key: ItemKey,
    /// Fused score (reciprocal rank fusion of the vector and BM25 rankings).
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
    dirty: bool,
}

const TEXT_DIR: &str = "tantivy";
const VECTOR_FILE: &str = "vectors.bin";

impl HybridIndex {
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

        let mut idx = HybridIndex { dir: dir.to_path_buf(), vectors, text, generation, dirty: false };
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
                idx.text.commit(generation)?;
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

    /// Follow a change the store made (removals first, then additions) and stamp both
    /// halves with the store's new generation.
    pub fn apply(&mut self, removed: &[ItemKey], added: &[(ItemKey, String, Vec<f32>)], generation: u64) -> Result<()> {
        for k in removed {
            self.vectors.remove(k.kind, k.id);
            self.text.remove(k.kind, k.id)?;
        }
        for (k, text, v) in added {
            self.vectors.upsert(*k, v)?;
            self.text.add(k, text)?;
        }
        self.text.commit(generation)?;
        self.generation = generation;
        self.dirty = true;
        Ok(())
    }

    /// Write the vector cache if it changed since it was last written.
    pub fn save(&mut self) -> Result<()> {
        if self.dirty {
            self.vectors.save(&self.dir.join(VECTOR_FILE), self.generation)?;
            self.dirty = false;
        }
        Ok(())
    }

    /// Nearest neighbours only, with cosine similarity.
    pub fn nearest(&self, q: &[f32], filter: &SearchFilter, k: usize) -> Vec<(ItemKey, f32)> {
        self.vectors.search(q, filter, k)
    }

    /// Hybrid search: nearest neighbours and BM25, fused by reciprocal rank.
    pub fn search(&self, q: &[f32], query_text: &str, filter: &SearchFilter, k: usize) -> Result<Vec<Hit>> {
        let depth = (k * 3).max(30);
        let near = self.vectors.search(q, filter, depth);
        let bm25 = self.text.search(query_text, filter, depth)?;
        let near_ids: Vec<(ItemKind, i64)> = near.iter().map(|(k, _)| (k.kind, k.id)).collect();
        let text_ids: Vec<(ItemKind, i64)> = bm25.iter().map(|(u, _)| *u).collect();
        let cos: HashMap<(ItemKind, i64), (usize, f32)> =
            near.iter().enumerate().map(|(i, (k, s))| ((k.kind, k.id), (i + 1, *s))).collect();
        let txt: HashMap<(ItemKind, i64), (usize, f32)> =
            bm25.iter().enumerate().map(|(i, (u, s))| (*u, (i + 1, *s))).collect();
        let mut out = Vec::with_capacity(k);
        for (id, score) in reciprocal_rank_fusion(&[&near_ids, &text_ids], DEFAULT_RRF_K) {
            // An item only BM25 found still gets its exact cosine (and must still be in
            // the vector index: the two halves never disagree on membership).
            let Some(key) = self.vectors.key(id.0, id.1) else { continue };
            let cosine = match cos.get(&id) {
                Some((_, c)) => *c,
                None => self.vectors.vector(id.0, id.1).map(|v| fanline_engine::vector::dot(q, v)).unwrap_or(0.0),
            };
            out.push(Hit {
                key,
                score,
                cosine,
                vector_rank: cos.get(&id).map(|x| x.0),
                text_rank: txt.get(&id).map(|x| x.0),
                bm25: txt.get(&id).map(|x| x.1),
            });
            if out.len() == k {
                break;
            }
        }
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

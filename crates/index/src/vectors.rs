//! The in-memory vector index.
//!
//! Vectors are unit length, so similarity is a dot product. Three scan strategies, all
//! of which apply the search filter to every entry before ranking (never after a top-k
//! cut):
//! - `Exact`: f32 dot product with every admitted vector;
//! - `Int8`: a scan of int8 codes (4× less memory traffic), then exact rescoring of the
//!   best candidates;
//! - `Binary`: a Hamming-distance scan of one sign bit per dimension (centred on the
//!   mean vector, 32× less memory traffic), then exact rescoring of the best candidates.
//!
//! `fanline bench search` measures all three; the default is chosen from those numbers
//! (see ARCHITECTURE.md).

use crate::{Error, Result};
use fanline_engine::{vector::dot, ItemKey, ItemKind, Layer, SearchFilter};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::io::{Read, Write};
use std::path::Path;

/// How the vector index is scanned (`search.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStrategy {
    /// Every admitted vector, in f32.
    Exact,
    /// int8 codes, then exact rescoring of the best.
    Int8,
    /// One bit per dimension, then exact rescoring of the best.
    Binary,
}

impl ScanStrategy {
    pub const ALL: [ScanStrategy; 3] = [ScanStrategy::Exact, ScanStrategy::Int8, ScanStrategy::Binary];
    pub fn name(self) -> &'static str {
        match self {
            ScanStrategy::Exact => "exact",
            ScanStrategy::Int8 => "int8",
            ScanStrategy::Binary => "binary",
        }
    }
    pub fn parse(s: &str) -> Option<ScanStrategy> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// How many candidates the approximate scans pass to exact rescoring, per result wanted.
const RESCORE_FACTOR: usize = 40;
const RESCORE_MIN: usize = 400;

#[derive(Clone, Copy)]
struct Meta {
    agent: i64,
    kind: u8,
    layer: u8,
}

pub struct VectorIndex {
    dim: usize,
    words: usize,
    keys: Vec<ItemKey>,
    meta: Vec<Meta>,
    data: Vec<f32>,
    int8: Vec<i8>,
    int8_scale: Vec<f32>,
    bits: Vec<u64>,
    mean: Vec<f32>,
    slots: HashMap<(ItemKind, i64), usize>,
    strategy: ScanStrategy,
}

#[derive(PartialEq)]
struct Scored(f32, usize);
impl Eq for Scored {}
impl PartialOrd for Scored {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scored {
    // Reversed: the heap's top is the worst kept candidate.
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}

/// Keep the `k` largest scores.
struct TopK {
    k: usize,
    heap: BinaryHeap<Scored>,
}
impl TopK {
    fn new(k: usize) -> Self {
        TopK { k, heap: BinaryHeap::with_capacity(k + 1) }
    }
    #[inline]
    fn push(&mut self, score: f32, slot: usize) {
        if self.heap.len() < self.k {
            self.heap.push(Scored(score, slot));
        } else if let Some(worst) = self.heap.peek() {
            if score > worst.0 {
                self.heap.pop();
                self.heap.push(Scored(score, slot));
            }
        }
    }
    fn into_sorted(self) -> Vec<(f32, usize)> {
        let mut v: Vec<(f32, usize)> = self.heap.into_iter().map(|s| (s.0, s.1)).collect();
        v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        v
    }
}

fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let m = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if m > 0.0 { m / 127.0 } else { 1.0 };
    (v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect(), scale)
}

#[inline]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; 16];
    let n = a.len() / 16;
    for i in 0..n {
        for j in 0..16 {
            acc[j] += a[i * 16 + j] as i32 * b[i * 16 + j] as i32;
        }
    }
    let mut s: i32 = acc.iter().sum();
    for i in n * 16..a.len() {
        s += a[i] as i32 * b[i] as i32;
    }
    s
}

impl VectorIndex {
    pub fn new(dim: usize) -> Self {
        VectorIndex {
            dim,
            words: dim.div_ceil(64),
            keys: Vec::new(),
            meta: Vec::new(),
            data: Vec::new(),
            int8: Vec::new(),
            int8_scale: Vec::new(),
            bits: Vec::new(),
            mean: vec![0.0; dim],
            slots: HashMap::new(),
            strategy: ScanStrategy::Binary,
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    pub fn strategy(&self) -> ScanStrategy {
        self.strategy
    }
    pub fn set_strategy(&mut self, s: ScanStrategy) {
        self.strategy = s;
    }

    /// The key stored for an item, if present.
    pub fn key(&self, kind: ItemKind, id: i64) -> Option<ItemKey> {
        self.slots.get(&(kind, id)).map(|&s| self.keys[s])
    }

    /// The stored vector of an item.
    pub fn vector(&self, kind: ItemKind, id: i64) -> Option<&[f32]> {
        self.slots.get(&(kind, id)).map(|&s| &self.data[s * self.dim..(s + 1) * self.dim])
    }

    /// Every item with its vector.
    pub fn items(&self) -> impl Iterator<Item = (ItemKey, &[f32])> + '_ {
        self.keys.iter().zip(self.data.chunks_exact(self.dim)).map(|(k, v)| (*k, v))
    }

    /// Recompute the centre the binary codes are taken around (the mean of all vectors)
    /// and every code. Called after bulk loads.
    pub fn recentre(&mut self) {
        let n = self.len().max(1) as f32;
        let mut mean = vec![0f32; self.dim];
        for row in self.data.chunks_exact(self.dim) {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += x / n;
            }
        }
        self.mean = mean;
        for slot in 0..self.len() {
            let code = self.code(&self.data[slot * self.dim..(slot + 1) * self.dim]);
            self.bits[slot * self.words..(slot + 1) * self.words].copy_from_slice(&code);
        }
    }

    fn code(&self, v: &[f32]) -> Vec<u64> {
        let mut out = vec![0u64; self.words];
        for (i, (x, m)) in v.iter().zip(&self.mean).enumerate() {
            if x > m {
                out[i / 64] |= 1 << (i % 64);
            }
        }
        out
    }

    /// Insert or replace an item.
    pub fn upsert(&mut self, key: ItemKey, v: &[f32]) -> Result<()> {
        if v.len() != self.dim {
            return Err(Error::Dimension { got: v.len(), want: self.dim });
        }
        self.remove(key.kind, key.id);
        let slot = self.keys.len();
        self.keys.push(key);
        self.meta.push(Meta { agent: key.agent, kind: key.kind.code(), layer: key.layer.rank() });
        self.data.extend_from_slice(v);
        let (q, s) = quantize(v);
        self.int8.extend_from_slice(&q);
        self.int8_scale.push(s);
        let code = self.code(v);
        self.bits.extend_from_slice(&code);
        self.slots.insert((key.kind, key.id), slot);
        Ok(())
    }

    /// Remove an item; returns whether it was there.
    pub fn remove(&mut self, kind: ItemKind, id: i64) -> bool {
        let Some(slot) = self.slots.remove(&(kind, id)) else { return false };
        let last = self.keys.len() - 1;
        self.keys.swap_remove(slot);
        self.meta.swap_remove(slot);
        self.int8_scale.swap_remove(slot);
        if slot != last {
            let (d, w) = (self.dim, self.words);
            self.data.copy_within(last * d..(last + 1) * d, slot * d);
            self.int8.copy_within(last * d..(last + 1) * d, slot * d);
            self.bits.copy_within(last * w..(last + 1) * w, slot * w);
            let moved = self.keys[slot];
            self.slots.insert((moved.kind, moved.id), slot);
        }
        self.data.truncate(last * self.dim);
        self.int8.truncate(last * self.dim);
        self.bits.truncate(last * self.words);
        true
    }

    pub fn clear(&mut self) {
        *self = VectorIndex { strategy: self.strategy, ..VectorIndex::new(self.dim) };
    }

    #[inline]
    fn admits(&self, slot: usize, f: &SearchFilter) -> bool {
        let m = self.meta[slot];
        m.agent == f.agent && m.kind == f.kind.code() && m.layer <= f.max_layer.rank()
    }

    /// The `k` nearest admitted items, best first, with their exact cosine similarity.
    pub fn search(&self, q: &[f32], filter: &SearchFilter, k: usize) -> Vec<(ItemKey, f32)> {
        self.search_with(q, filter, k, self.strategy)
    }

    pub fn search_with(
        &self,
        q: &[f32],
        filter: &SearchFilter,
        k: usize,
        strategy: ScanStrategy,
    ) -> Vec<(ItemKey, f32)> {
        if k == 0 || q.len() != self.dim || self.is_empty() {
            return Vec::new();
        }
        let d = self.dim;
        let rescore = (k * RESCORE_FACTOR).max(RESCORE_MIN);
        let exact = |slot: usize| dot(q, &self.data[slot * d..(slot + 1) * d]);
        let top = match strategy {
            ScanStrategy::Exact => {
                let mut top = TopK::new(k);
                for slot in 0..self.len() {
                    if self.admits(slot, filter) {
                        top.push(exact(slot), slot);
                    }
                }
                top.into_sorted()
            }
            ScanStrategy::Int8 => {
                let (qq, _) = quantize(q);
                let mut cand = TopK::new(rescore);
                for slot in 0..self.len() {
                    if self.admits(slot, filter) {
                        let s = dot_i8(&qq, &self.int8[slot * d..(slot + 1) * d]) as f32 * self.int8_scale[slot];
                        cand.push(s, slot);
                    }
                }
                self.rescore(cand, k, exact)
            }
            ScanStrategy::Binary => {
                let qc = self.code(q);
                let w = self.words;
                let mut cand = TopK::new(rescore);
                for slot in 0..self.len() {
                    if self.admits(slot, filter) {
                        let code = &self.bits[slot * w..(slot + 1) * w];
                        let ham: u32 = code.iter().zip(&qc).map(|(a, b)| (a ^ b).count_ones()).sum();
                        cand.push(-(ham as f32), slot);
                    }
                }
                self.rescore(cand, k, exact)
            }
        };
        top.into_iter().map(|(s, slot)| (self.keys[slot], s)).collect()
    }

    fn rescore(&self, cand: TopK, k: usize, exact: impl Fn(usize) -> f32) -> Vec<(f32, usize)> {
        let mut top = TopK::new(k);
        for (_, slot) in cand.into_sorted() {
            top.push(exact(slot), slot);
        }
        top.into_sorted()
    }

    // ---- the cache file -------------------------------------------------------------

    const MAGIC: &'static [u8; 8] = b"FLVEC001";

    /// Write the index to `path` (atomically: a temporary file renamed into place),
    /// stamped with `generation` and followed by a checksum.
    pub fn save(&self, path: &Path, generation: u64) -> Result<()> {
        let io = |e: std::io::Error| Error::Io { path: path.to_path_buf(), detail: e.to_string() };
        let mut buf: Vec<u8> = Vec::with_capacity(32 + self.len() * (26 + self.dim * 4));
        buf.extend_from_slice(Self::MAGIC);
        buf.extend_from_slice(&(self.dim as u32).to_le_bytes());
        buf.extend_from_slice(&(self.len() as u64).to_le_bytes());
        buf.extend_from_slice(&generation.to_le_bytes());
        for (slot, k) in self.keys.iter().enumerate() {
            buf.push(k.kind.code());
            buf.push(k.layer.rank());
            buf.extend_from_slice(&k.id.to_le_bytes());
            buf.extend_from_slice(&k.owner.to_le_bytes());
            buf.extend_from_slice(&k.agent.to_le_bytes());
            for x in &self.data[slot * self.dim..(slot + 1) * self.dim] {
                buf.extend_from_slice(&x.to_le_bytes());
            }
        }
        let sum = blake3::hash(&buf);
        buf.extend_from_slice(sum.as_bytes());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // A temporary file of this process's own, so two processes saving at once never
        // write into each other's; renamed into place in one step.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&buf).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }

    /// Read a cache file written by [`save`](Self::save); returns the index and the
    /// generation it was stamped with. Any damage is an error (the caller rebuilds).
    pub fn load(path: &Path, dim: usize) -> Result<(VectorIndex, u64)> {
        let bad = |detail: &str| Error::Cache { path: path.to_path_buf(), detail: detail.to_string() };
        let mut buf = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map_err(|e| Error::Io { path: path.to_path_buf(), detail: e.to_string() })?;
        if buf.len() < 28 + 32 || &buf[..8] != Self::MAGIC {
            return Err(bad("not a Fanline vector cache"));
        }
        let (body, sum) = buf.split_at(buf.len() - 32);
        if blake3::hash(body).as_bytes() != sum {
            return Err(bad("checksum mismatch"));
        }
        let u32_at = |o: usize| u32::from_le_bytes(body[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(body[o..o + 8].try_into().unwrap());
        let file_dim = u32_at(8) as usize;
        if file_dim != dim {
            return Err(bad(&format!("holds {file_dim}-dimensional vectors, the model gives {dim}")));
        }
        let n = u64_at(12) as usize;
        let generation = u64_at(20);
        let rec = 26 + dim * 4;
        if body.len() != 28 + n * rec {
            return Err(bad("wrong length"));
        }
        let mut idx = VectorIndex::new(dim);
        let mut v = vec![0f32; dim];
        for i in 0..n {
            let o = 28 + i * rec;
            let kind = ItemKind::from_code(body[o]).ok_or_else(|| bad("unknown item kind"))?;
            let layer = Layer::from_rank(body[o + 1]).ok_or_else(|| bad("unknown layer"))?;
            let key = ItemKey {
                kind,
                layer,
                id: u64_at(o + 2) as i64,
                owner: u64_at(o + 10) as i64,
                agent: u64_at(o + 18) as i64,
            };
            for (j, x) in v.iter_mut().enumerate() {
                *x = f32::from_le_bytes(body[o + 26 + j * 4..o + 30 + j * 4].try_into().unwrap());
            }
            idx.upsert(key, &v)?;
        }
        idx.recentre();
        Ok((idx, generation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanline_engine::vector::normalize;

    fn key(id: i64, agent: i64, layer: Layer) -> ItemKey {
        ItemKey { kind: ItemKind::Chunk, id, owner: id, agent, layer }
    }

    fn rand_vecs(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                let mut v: Vec<f32> = (0..dim)
                    .map(|_| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
                    })
                    .collect();
                normalize(&mut v);
                v
            })
            .collect()
    }

    #[test]
    fn every_strategy_finds_the_exact_neighbour_and_respects_filters() {
        let vs = rand_vecs(2000, 64, 7);
        let mut idx = VectorIndex::new(64);
        for (i, v) in vs.iter().enumerate() {
            let layer = Layer::from_rank((i % 3) as u8).unwrap();
            idx.upsert(key(i as i64, (i % 2) as i64, layer), v).unwrap();
        }
        idx.recentre();
        let f = SearchFilter { kind: ItemKind::Chunk, agent: 0, max_layer: Layer::Public };
        for s in ScanStrategy::ALL {
            // Item 6 is agent 0, public: it must be its own nearest neighbour.
            let hits = idx.search_with(&vs[6], &f, 5, s);
            assert_eq!(hits[0].0.id, 6, "{s:?}");
            assert!((hits[0].1 - 1.0).abs() < 1e-4);
            assert!(hits.iter().all(|(k, _)| k.agent == 0 && k.layer == Layer::Public), "{s:?}");
            // Item 7 is agent 1: never returned for agent 0 even though it is the query.
            let hits = idx.search_with(&vs[7], &f, 50, s);
            assert!(hits.iter().all(|(k, _)| k.id != 7));
            // Item 8 (agent 0, intimate) is hidden from a public viewer.
            let hits = idx.search_with(&vs[8], &f, 50, s);
            assert!(hits.iter().all(|(k, _)| k.id != 8));
        }
    }

    #[test]
    fn filters_apply_before_the_top_k_cut() {
        // 500 near-duplicates of the query at a hidden layer, one visible item far away:
        // the visible one is still returned.
        let mut idx = VectorIndex::new(4);
        for i in 0..500 {
            idx.upsert(key(i, 1, Layer::Intimate), &[1.0, 0.0, 0.0, 0.0]).unwrap();
        }
        idx.upsert(key(999, 1, Layer::Public), &[0.0, 1.0, 0.0, 0.0]).unwrap();
        idx.recentre();
        let f = SearchFilter { kind: ItemKind::Chunk, agent: 1, max_layer: Layer::Public };
        for s in ScanStrategy::ALL {
            let hits = idx.search_with(&[1.0, 0.0, 0.0, 0.0], &f, 3, s);
            assert_eq!(hits.len(), 1, "{s:?}");
            assert_eq!(hits[0].0.id, 999);
        }
    }

    #[test]
    fn remove_and_upsert_keep_slots_consistent() {
        let vs = rand_vecs(50, 16, 3);
        let mut idx = VectorIndex::new(16);
        for (i, v) in vs.iter().enumerate() {
            idx.upsert(key(i as i64, 0, Layer::Public), v).unwrap();
        }
        assert!(idx.remove(ItemKind::Chunk, 0));
        assert!(!idx.remove(ItemKind::Chunk, 0));
        idx.upsert(key(5, 0, Layer::Public), &vs[6]).unwrap();
        assert_eq!(idx.len(), 49);
        for i in 1..50 {
            let want = if i == 5 { &vs[6] } else { &vs[i] };
            assert_eq!(idx.vector(ItemKind::Chunk, i as i64).unwrap(), &want[..]);
        }
        assert!(idx.upsert(key(1, 0, Layer::Public), &[1.0]).is_err());
    }

    #[test]
    fn cache_round_trips_and_detects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.bin");
        let vs = rand_vecs(30, 8, 1);
        let mut idx = VectorIndex::new(8);
        for (i, v) in vs.iter().enumerate() {
            idx.upsert(key(i as i64, 2, Layer::Friends), v).unwrap();
        }
        idx.save(&path, 42).unwrap();
        let (back, g) = VectorIndex::load(&path, 8).unwrap();
        assert_eq!(g, 42);
        assert_eq!(back.len(), 30);
        assert_eq!(back.vector(ItemKind::Chunk, 3).unwrap(), &vs[3][..]);
        assert_eq!(back.key(ItemKind::Chunk, 3).unwrap().layer, Layer::Friends);
        assert!(VectorIndex::load(&path, 16).is_err());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(VectorIndex::load(&path, 8), Err(Error::Cache { .. })));
        std::fs::write(&path, b"short").unwrap();
        assert!(VectorIndex::load(&path, 8).is_err());
    }
}

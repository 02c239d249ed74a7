//! `fanline bench search`: import throughput, and search latency at growing index sizes.
//!
//! Everything runs in a temporary data directory with the real model. Import is
//! measured end to end (parse, chunk, embed, write, index) on a generated corpus. For
//! the search tables the index holds the imported chunks' real embeddings, grown to the
//! larger sizes with vectors synthesised from them (each a normalised mix of two real
//! embeddings plus noise, so the distribution stays that of real text); queries are
//! real embeddings of questions that are not in the index. Latencies exclude the query
//! embedding, which is measured on its own. Recall@10 compares each approximate scan
//! with the exact one.

use fanline_core::{Config, Error, Fanline, Result};
use fanline_engine::{vector::normalize, IndexedItem, ItemKey, ItemKind, Layer, SearchFilter};
use fanline_index::{Changes, HybridIndex, IndexSource, ScanStrategy, VectorIndex};
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub sizes: Vec<usize>,
    pub queries: usize,
    pub import_docs: usize,
    /// A PostgreSQL server with pgvector: the same vectors and queries through
    /// pgvector's HNSW index too, in a database made for the run and dropped after.
    pub database: Option<String>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions { sizes: vec![1_000, 10_000, 100_000], queries: 200, import_docs: 60, database: None }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportRow {
    pub files: usize,
    pub chunks: usize,
    pub seconds: f64,
    pub chunks_per_second: f64,
    /// The same chunks through the model alone (batches of 32, no cache): the ceiling.
    pub embed_only_chunks_per_second: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchRow {
    pub vectors: usize,
    /// exact, int8, binary, or hybrid (the configured scan + BM25 + fusion)
    pub method: String,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Share of the exact top-10 this scan returns (1.0 for exact; none for hybrid,
    /// whose BM25 half is meant to find other things).
    pub recall_at_10: Option<f64>,
}

/// What pgvector took to hold one size (with `--database`).
#[derive(Debug, Clone, Serialize)]
pub struct PgVectorRow {
    pub vectors: usize,
    /// Writing the rows (batched INSERTs over the connection).
    pub load_seconds: f64,
    /// Building the HNSW index (m = 16, ef_construction = 64).
    pub index_seconds: f64,
    pub table_bytes: i64,
    pub index_bytes: i64,
    /// The in-process index's vectors and codes, for comparison (f32 + int8 + binary).
    pub in_process_bytes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub import: ImportRow,
    pub query_embedding_p50_us: f64,
    pub query_embedding_p99_us: f64,
    pub search: Vec<SearchRow>,
    /// With `--database`: pgvector's load and build, per size.
    pub pgvector: Vec<PgVectorRow>,
}

/// Percentile (0–100) of samples in microseconds.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    let i = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[i.min(samples.len() - 1)]
}

/// A small deterministic generator (xorshift) for benchmark data.
pub(crate) struct Rng(pub(crate) u64);
impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    pub(crate) fn unit(&mut self) -> f32 {
        (self.next() >> 11) as f32 / (1u64 << 53) as f32
    }
}

const SUBJECTS: &[&str] = &[
    "My morning routine",
    "The editing workflow",
    "Our community call",
    "The beginner course",
    "Camera settings",
    "Color grading",
    "The weekly newsletter",
    "Batch cooking",
    "Strength training",
    "The writing habit",
    "Sponsorship deals",
    "Audio recording",
    "The podcast schedule",
    "Thumbnail design",
    "The book launch",
    "Mobility drills",
    "Meal prep",
    "The coaching program",
    "Live streaming",
    "Script outlines",
];
const VERBS: &[&str] = &[
    "starts with",
    "depends on",
    "improves with",
    "is built around",
    "changed after",
    "works best with",
    "is simpler than",
    "needs",
    "was inspired by",
    "relies on",
];
const OBJECTS: &[&str] = &[
    "a fixed daily time",
    "natural window light",
    "a short warm-up",
    "clear goals for the week",
    "a tripod and a prime lens",
    "a shared calendar",
    "honest feedback from members",
    "a two-pass edit",
    "a quiet room with soft furnishings",
    "a simple spreadsheet",
    "the pomodoro technique",
    "protein at every meal",
    "a checklist I reuse",
    "three drafts before publishing",
    "a backup drive",
    "a monthly review",
    "slow progressive overload",
    "a template",
];
const TAILS: &[&str] = &[
    "I explain why in the next section.",
    "Most people skip this step.",
    "It took me years to learn this.",
    "You can start today with no budget.",
    "This is the part fans ask about most.",
    "Try it for two weeks.",
    "I changed my mind about this in 2023.",
    "It saves me about an hour.",
];

fn sentence(r: &mut Rng) -> String {
    format!("{} {} {}. {}", r.pick(SUBJECTS), r.pick(VERBS), r.pick(OBJECTS), r.pick(TAILS))
}

/// Write `docs` generated Markdown documents (≈ 12 chunks each) into `dir`.
pub fn write_corpus(dir: &Path, docs: usize, seed: u64) -> Result<()> {
    let mut r = Rng(seed | 1);
    std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.to_path_buf(), detail: e.to_string() })?;
    for d in 0..docs {
        let mut s = format!("# Notes {d}: {}\n\n", r.pick(SUBJECTS));
        for sec in 0..6 {
            s += &format!("## {} {sec}\n\n", r.pick(SUBJECTS));
            for _ in 0..2 {
                let para: Vec<String> = (0..5).map(|_| sentence(&mut r)).collect();
                s += &para.join(" ");
                s += "\n\n";
            }
        }
        let path = dir.join(format!("doc-{d:04}.md"));
        std::fs::write(&path, s).map_err(|e| Error::Io { path, detail: e.to_string() })?;
    }
    Ok(())
}

struct VecSource(Vec<IndexedItem>);
impl IndexSource for VecSource {
    fn generation(&self) -> std::result::Result<u64, String> {
        Ok(1)
    }
    fn count(&self) -> std::result::Result<u64, String> {
        Ok(self.0.len() as u64)
    }
    fn for_each(&self, f: &mut dyn FnMut(ItemKey, &str, Vec<f32>)) -> std::result::Result<(), String> {
        for (k, t, v) in &self.0 {
            f(*k, t, v.clone());
        }
        Ok(())
    }
    fn changes_since(&self, _: u64) -> std::result::Result<Option<Changes>, String> {
        Ok(None)
    }
    fn forget_before(&self, _: u64) -> std::result::Result<(), String> {
        Ok(())
    }
}

fn time_us(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1e6
}

/// Run the benchmark with the model of `config` (its data directory is not touched).
pub fn run(config: &Config, opts: &BenchOptions, log: &mut dyn FnMut(&str)) -> Result<BenchReport> {
    let tmp = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), detail: e.to_string() })?;
    let corpus = tmp.path().join("corpus");
    write_corpus(&corpus, opts.import_docs, 42)?;
    let mut cfg = config.clone();
    cfg.data_dir = tmp.path().join("data");
    let app = Fanline::open(cfg.clone())?;
    app.init(None)?;
    app.embedder()?; // model load is not import time
    log(&format!("importing {} generated documents…", opts.import_docs));
    let s = app.import(None, &[corpus], Layer::Public, &mut |_| {})?;

    // Real embeddings of the imported chunks, and of questions that are not in the index.
    let mut base: Vec<(String, Vec<f32>)> = Vec::new();
    app.store().for_each_indexed(|_, t, v| base.push((t.to_string(), v)))?;
    if base.is_empty() {
        return Err(Error::InvalidInput("the benchmark corpus produced no chunks".into()));
    }
    log("embedding the same chunks without the pipeline…");
    let raw = fanline_embed::FastEmbedder::load(&cfg.embedder_config())?;
    let texts: Vec<&str> = base.iter().map(|(t, _)| t.as_str()).collect();
    let t = Instant::now();
    for batch in texts.chunks(32) {
        raw.embed_uncached(batch)?;
    }
    let import = ImportRow {
        files: s.imported,
        chunks: s.chunks,
        seconds: s.seconds,
        chunks_per_second: s.chunks_per_second,
        embed_only_chunks_per_second: texts.len() as f64 / t.elapsed().as_secs_f64(),
    };
    let mut r = Rng(7);
    let questions: Vec<String> = (0..opts.queries.max(1))
        .map(|_| format!("How does {} relate to {}?", r.pick(SUBJECTS).to_lowercase(), r.pick(OBJECTS)))
        .collect();
    let embedder = app.embedder()?.clone();
    let mut embed_us = Vec::new();
    let mut queries = Vec::new();
    for q in &questions {
        let mut v = Vec::new();
        embed_us.push(time_us(|| v = embedder.embed(&[q.as_str()]).expect("embed")[0].clone()));
        queries.push(v);
    }
    // The embedder caches; time the first pass only (every question is distinct).
    let (e50, e99) = (percentile(&mut embed_us.clone(), 50.0), percentile(&mut embed_us, 99.0));

    let dim = config.embedder.dim;
    let filter = SearchFilter { kind: ItemKind::Chunk, agent: 1, max_layer: Layer::Public };
    let (mut rows, mut pgvector) = (Vec::new(), Vec::new());
    let max = opts.sizes.iter().copied().max().unwrap_or(0);
    let mut items: Vec<IndexedItem> = Vec::with_capacity(max);
    for i in 0..max {
        let (text, v) = if i < base.len() {
            base[i].clone()
        } else {
            let a = &base[(r.next() % base.len() as u64) as usize];
            let b = &base[(r.next() % base.len() as u64) as usize].1;
            let w = 0.2 + 0.6 * r.unit();
            let mut v: Vec<f32> =
                a.1.iter().zip(b).map(|(x, y)| w * x + (1.0 - w) * y + 0.02 * (r.unit() - 0.5)).collect();
            normalize(&mut v);
            (a.0.clone(), v)
        };
        // A quarter of the items sit at a layer the query may not see: filtering is
        // part of every measured search.
        let layer = if i % 4 == 3 { Layer::Intimate } else { Layer::Public };
        items.push((ItemKey { kind: ItemKind::Chunk, id: i as i64 + 1, owner: 1, agent: 1, layer }, text, v));
    }
    for &n in &opts.sizes {
        log(&format!("searching {n} vectors…"));
        let mut idx = VectorIndex::new(dim);
        for (k, _, v) in &items[..n] {
            idx.upsert(*k, v)?;
        }
        idx.recentre();
        let exact: Vec<HashSet<i64>> = queries
            .iter()
            .map(|q| idx.search_with(q, &filter, 10, ScanStrategy::Exact).iter().map(|h| h.0.id).collect())
            .collect();
        for s in ScanStrategy::ALL {
            let mut us = Vec::new();
            let mut found = 0usize;
            let mut want = 0usize;
            // Two passes over the queries: enough samples for a stable p99.
            for pass in 0..2 {
                for (q, ex) in queries.iter().zip(&exact) {
                    let mut hits = Vec::new();
                    us.push(time_us(|| hits = idx.search_with(q, &filter, 10, s)));
                    if pass == 0 {
                        found += hits.iter().filter(|h| ex.contains(&h.0.id)).count();
                        want += ex.len();
                    }
                }
            }
            rows.push(SearchRow {
                vectors: n,
                method: s.name().into(),
                p50_us: percentile(&mut us.clone(), 50.0),
                p99_us: percentile(&mut us, 99.0),
                recall_at_10: Some(if want == 0 { 1.0 } else { found as f64 / want as f64 }),
            });
        }
        // The whole hybrid search: configured scan + BM25 + fusion.
        let dir = tmp.path().join(format!("hybrid-{n}"));
        let (mut h, _) = HybridIndex::open(&dir, dim, &VecSource(items[..n].to_vec()))?;
        h.set_strategy(config.search.strategy);
        h.set_fusion(config.fusion());
        let mut us = Vec::new();
        for _pass in 0..2 {
            for (q, text) in queries.iter().zip(&questions) {
                let mut r = Ok(Vec::new());
                us.push(time_us(|| r = h.search(q, text, &filter, 10)));
                r?;
            }
        }
        rows.push(SearchRow {
            vectors: n,
            method: format!("hybrid ({})", config.search.strategy.name()),
            p50_us: percentile(&mut us.clone(), 50.0),
            p99_us: percentile(&mut us, 99.0),
            recall_at_10: None,
        });
        if let Some(url) = &opts.database {
            log(&format!("  loading {n} vectors into pgvector and building its index…"));
            let (pg_rows, pg) = crate::bench_pg::measure(url, &items[..n], &queries, &exact, dim)?;
            rows.extend(pg_rows);
            pgvector.push(pg);
        }
    }
    Ok(BenchReport { import, query_embedding_p50_us: e50, query_embedding_p99_us: e99, search: rows, pgvector })
}

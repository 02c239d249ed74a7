//! `fanline bench route`: decision latency with 1k, 10k and 100k canonical answers,
//! and decisions per second on 1 and 2 threads, every decision durably stored.
//!
//! Each size runs in a temporary data directory with the real model and the sample
//! knowledge base. 1,000 canonical answers are real questions, embedded; larger
//! libraries are grown with vectors synthesised from them (a normalised mix of two real
//! embeddings plus noise), as `bench search` does. Every routed message is distinct, so
//! the embedder's cache never answers: each decision pays for its query embedding,
//! which is also timed on its own. A decision is the whole use case: the message is
//! stored, the plan runs, the decision and its effects are committed. Every answer has
//! three phrasings (the question and two near variants of its vector), so every answer
//! is established and the learned model speaks for them (up to its `max_answers`).

use crate::bench::percentile;
use fanline_core::{Config, Error, Fanline, Result};
use fanline_engine::vector::normalize;
use fanline_engine::{Layer, RoutePath, Tier};
use fanline_store::NewCanonical;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct RouteBenchOptions {
    pub sizes: Vec<usize>,
    /// Decisions timed one at a time per size.
    pub decisions: usize,
    /// The knowledge base imported first.
    pub knowledge: Option<std::path::PathBuf>,
    /// Read-only database connections to measure with (`store.readers`), each in turn.
    pub readers: Vec<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteRow {
    /// `store.readers` in this row.
    pub readers: u32,
    pub canonical_answers: usize,
    pub decisions: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    /// The query embedding alone, measured on the same messages.
    pub embed_p50_us: f64,
    /// p50 of everything but the embedding (plan, searches, store).
    pub rest_p50_us: f64,
    /// p50 of the routing plan alone (its trace's total, embedding included); the rest
    /// of a decision is storing the message and the decision.
    pub plan_p50_us: f64,
    /// p50 of each step of the plan.
    pub steps_p50_us: BTreeMap<String, f64>,
    pub decisions_per_second_1_thread: f64,
    pub decisions_per_second_2_threads: f64,
    pub paths: BTreeMap<RoutePath, usize>,
    /// The reuse model: answers it holds, and the milliseconds of its first fit and of
    /// the refit after one phrasing was added.
    pub model_answers: usize,
    pub model_fit_ms: f64,
    pub model_refit_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteBenchReport {
    pub rows: Vec<RouteRow>,
}

const TOPICS: &[&str] = &[
    "my camera",
    "the edit",
    "my morning routine",
    "the newsletter",
    "a sponsorship",
    "the course",
    "my lighting",
    "thumbnails",
    "the podcast",
    "writing scripts",
    "colour grading",
    "my microphone",
    "travel filming",
    "the studio",
    "my first video",
    "burnout",
    "posting schedule",
    "music licensing",
    "a collaboration",
    "growing an audience",
];
const FRAMES: &[&str] = &[
    "How do you approach {}?",
    "What do you think about {}?",
    "Any tips for {}?",
    "Why did you change {}?",
    "When did you start with {}?",
    "Can you explain {} to a beginner?",
    "What went wrong with {}?",
    "Would you recommend {}?",
    "How long does {} take you?",
    "What is your favourite part of {}?",
];

fn real_questions(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let t = TOPICS[i % TOPICS.len()];
            let f = FRAMES[(i / TOPICS.len()) % FRAMES.len()];
            let round = i / (TOPICS.len() * FRAMES.len());
            let q = f.replace("{}", t);
            if round == 0 {
                q
            } else {
                format!("{q} (part {round})")
            }
        })
        .collect()
}

/// A message fans might send: distinct every time, some close to stored questions,
/// some not.
fn message(i: usize) -> String {
    let t = TOPICS[(i * 7) % TOPICS.len()];
    match i % 4 {
        0 => format!("{} Asking for the {i}th time!", FRAMES[i % FRAMES.len()].replace("{}", t)),
        1 => format!("hey, quick one #{i}: {}", FRAMES[(i + 3) % FRAMES.len()].replace("{}", t)),
        2 => format!("I am fan number {i} and I wonder how glaciers carve valleys in {t}"),
        _ => format!("what camera and lens do you film with, version {i}"),
    }
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::Io { path: std::env::temp_dir(), detail: e.to_string() }
}

/// Run the benchmark with the model of `config`; the creator's data is not touched.
pub fn run(config: &Config, opts: &RouteBenchOptions, log: &mut dyn FnMut(&str)) -> Result<RouteBenchReport> {
    let tmp = tempfile::tempdir().map_err(io)?;
    let mut rows = Vec::new();
    let max = opts.sizes.iter().copied().max().unwrap_or(0);
    let seed_questions = real_questions(1000.min(max.max(1)));
    let mut cfg = config.clone();
    cfg.data_dir = tmp.path().join("seed");
    let seed = Fanline::open(cfg)?;
    log(&format!("embedding {} questions…", seed_questions.len()));
    let refs: Vec<&str> = seed_questions.iter().map(String::as_str).collect();
    let mut seed_vectors = Vec::new();
    for b in refs.chunks(256) {
        seed_vectors.extend(seed.embedder()?.embed(b)?);
    }
    let embedder = seed.embedder()?.clone();
    let mut r = crate::bench::Rng(11);
    let mut offset = 0usize;
    let readers = if opts.readers.is_empty() { vec![config.store.readers] } else { opts.readers.clone() };
    let runs: Vec<(u32, usize)> = readers.iter().flat_map(|&r| opts.sizes.iter().map(move |&n| (r, n))).collect();
    for (run, &(readers, n)) in runs.iter().enumerate() {
        let mut cfg = config.clone();
        cfg.data_dir = tmp.path().join(format!("size-{n}-readers-{readers}"));
        cfg.store.readers = readers;
        let app = Fanline::open_with(cfg, Some(embedder.clone()))?;
        app.init(None)?;
        app.rule_set(None, "max_escalations_per_day", "1000000")?;
        app.rule_set(None, "max_escalations_per_week", "1000000")?;
        app.fan_add("bench-fan", Tier::Free, Layer::Public)?;
        if let Some(kb) = &opts.knowledge {
            app.import(None, std::slice::from_ref(kb), Layer::Public, &mut |_| {})?;
        }
        log(&format!("storing {n} canonical answers…"));
        let items = library(&seed_questions, &seed_vectors, n, &mut r);
        for chunk in items.chunks(20_000) {
            app.canonical_add_many(None, chunk)?;
        }
        app.open_search_index()?;
        // Warm up (model, index, statements) on messages that are not timed; the first
        // fits the reuse model.
        for i in 0..5 {
            app.route(None, "bench-fan", &format!("warm-up message {i} {run}"))?;
        }
        let fit = app.reuse_model_update(None)?.unwrap_or_default();
        let first = app.canonical_list(None)?.first().map(|c| c.id).unwrap_or(0);
        app.canonical_add_variant(first, &format!("one more way to ask it, run {run}"))?;
        app.route(None, "bench-fan", &format!("warm-up after a change {run}"))?;
        let refit = app.reuse_model_update(None)?.unwrap_or_default();
        log(&format!("routing {} messages with {n} canonical answers, {readers} reader(s)…", opts.decisions));
        let mut us = Vec::new();
        let mut embed_us = Vec::new();
        let mut plan_us = Vec::new();
        let mut steps: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut paths: BTreeMap<RoutePath, usize> = BTreeMap::new();
        for i in 0..opts.decisions {
            let m = message(offset + i);
            let t = Instant::now();
            let d = app.route(None, "bench-fan", &m)?;
            us.push(t.elapsed().as_secs_f64() * 1e6);
            *paths.entry(d.path).or_default() += 1;
            plan_us.push(d.trace.total_us as f64);
            for st in &d.trace.steps {
                steps.entry(st.step.clone()).or_default().push(st.duration_us as f64);
            }
            // The same text again through a fresh (uncached) embedding.
            let t = Instant::now();
            embedder.embed(&[&format!("{m} ")])?;
            embed_us.push(t.elapsed().as_secs_f64() * 1e6);
        }
        offset += opts.decisions;
        let t1 = throughput(&app, 1, opts.decisions, &mut offset)?;
        let t2 = throughput(&app, 2, opts.decisions, &mut offset)?;
        let (p50, p99, e50) =
            (percentile(&mut us.clone(), 50.0), percentile(&mut us, 99.0), percentile(&mut embed_us, 50.0));
        rows.push(RouteRow {
            readers,
            canonical_answers: n,
            decisions: opts.decisions,
            p50_us: p50,
            p99_us: p99,
            embed_p50_us: e50,
            rest_p50_us: (p50 - e50).max(0.0),
            plan_p50_us: percentile(&mut plan_us, 50.0),
            steps_p50_us: steps.into_iter().map(|(k, mut v)| (k, percentile(&mut v, 50.0))).collect(),
            decisions_per_second_1_thread: t1,
            decisions_per_second_2_threads: t2,
            paths,
            model_answers: fit.classes.saturating_sub(1),
            model_fit_ms: fit.micros as f64 / 1e3,
            model_refit_ms: refit.micros as f64 / 1e3,
        });
    }
    Ok(RouteBenchReport { rows })
}

/// `n` canonical answers of three phrasings each: the first 1,000 are real questions
/// (`questions`, embedded as `vectors`), the rest are grown from them (a normalised mix
/// of two real embeddings plus noise).
pub(crate) fn library(
    questions: &[String],
    vectors: &[Vec<f32>],
    n: usize,
    r: &mut crate::bench::Rng,
) -> Vec<NewCanonical> {
    (0..n)
        .map(|i| {
            let (q, v) = if i < questions.len() {
                (questions[i].clone(), vectors[i].clone())
            } else {
                let a = (r.next() % vectors.len() as u64) as usize;
                let b = (r.next() % vectors.len() as u64) as usize;
                let w = 0.2 + 0.6 * r.unit();
                let mut v: Vec<f32> = vectors[a]
                    .iter()
                    .zip(&vectors[b])
                    .map(|(x, y)| w * x + (1.0 - w) * y + 0.02 * (r.unit() - 0.5))
                    .collect();
                normalize(&mut v);
                (format!("{} #{i}", questions[a]), v)
            };
            // Two more phrasings, close to the first.
            let mut variant = |k: usize| {
                let mut w: Vec<f32> = v.iter().map(|x| x + 0.03 * (r.unit() - 0.5)).collect();
                normalize(&mut w);
                (format!("{q} ({k})"), w)
            };
            let (v1, v2) = (variant(1), variant(2));
            NewCanonical {
                questions: vec![(q, v), v1, v2],
                answer: format!("Answer {i}."),
                layer: Layer::Public,
                source_escalation_id: None,
            }
        })
        .collect()
}

/// Store `n` canonical answers of three phrasings (see [`library`]) in `app`.
pub fn store_library(app: &Fanline, n: usize, seed: u64) -> Result<()> {
    let questions = real_questions(1000.min(n.max(1)));
    let refs: Vec<&str> = questions.iter().map(String::as_str).collect();
    let mut vectors = Vec::new();
    for b in refs.chunks(256) {
        vectors.extend(app.embedder()?.embed(b)?);
    }
    let items = library(&questions, &vectors, n, &mut crate::bench::Rng(seed));
    for chunk in items.chunks(20_000) {
        app.canonical_add_many(None, chunk)?;
    }
    Ok(())
}

/// Decisions per second with `threads` routing distinct messages at once.
fn throughput(app: &Fanline, threads: usize, total: usize, offset: &mut usize) -> Result<f64> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let base = *offset;
    let t = Instant::now();
    let failed = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if i >= total {
                            return Ok(());
                        }
                        app.route(None, "bench-fan", &message(base + i))?;
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("bench thread")).find(|r| r.is_err())
    });
    if let Some(Err(e)) = failed {
        return Err(e);
    }
    *offset += total;
    Ok(total as f64 / t.elapsed().as_secs_f64())
}

/// The sample knowledge base next to the binary's sources, if present.
pub fn default_knowledge() -> Option<std::path::PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/creator-kb/public");
    p.is_dir().then_some(p)
}

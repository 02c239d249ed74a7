//! `fanline eval` and `fanline calibrate`: routing quality on labelled data.
//!
//! Every set is turned into the same shape: a canonical library (answers with their
//! phrasings) and queries, each with the answers it may correctly be served (none = it
//! should not reuse anything, "out of scope"). Queries are judged by the router's own
//! reuse verdict. Reported: in-scope reuse accuracy, out-of-scope recall and precision,
//! and the wrong-reuse rate of path C (wrong answers among all answers served), with an
//! ablation that measures each check of the verdict on its own. ClariQ measures path B
//! (clarification F1).

pub mod calibrate;
mod data;
mod library;

use fanline_core::quality::{ratio, ReuseMetrics, Tally};
use fanline_core::{Config, Error, Fanline, Result};
use fanline_engine::reuse::learned::{ModelOptions, ModelScores};
use fanline_engine::reuse::ReuseParams;
use fanline_engine::signals::text;
use fanline_index::ScanStrategy;
use library::{Library, Nearest};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

pub use data::IntentSet;

/// The labelled sets `fanline eval` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetKind {
    Clinc150,
    Banking77,
    Quora,
    Mqp,
    CovidFaq,
    Clariq,
}

impl FromStr for DatasetKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "clinc150" | "clinc" => DatasetKind::Clinc150,
            "banking77" | "banking" => DatasetKind::Banking77,
            "quora" | "quora_qqp" | "qqp" => DatasetKind::Quora,
            "mqp" | "medical" => DatasetKind::Mqp,
            "covid_faq" | "covid" => DatasetKind::CovidFaq,
            "clariq" => DatasetKind::Clariq,
            other => {
                return Err(Error::InvalidInput(format!(
                    "unknown dataset {other:?}; expected clinc150, banking77, quora, mqp, covid_faq or clariq"
                )))
            }
        })
    }
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub dataset: DatasetKind,
    pub path: PathBuf,
    /// Phrasings stored per canonical answer for the intent sets.
    pub per_intent: usize,
    /// The verdict's knobs (the routing defaults unless given).
    pub params: ReuseParams,
    /// Per-answer threshold slack and floor.
    pub slack: f32,
    pub floor: f32,
    /// The vagueness from which a message is sent to clarification (path B).
    pub vagueness: f64,
    /// The vector scan the library is searched with (routing's).
    pub strategy: ScanStrategy,
    /// The learned model's options (routing's).
    pub model: ModelOptions,
}

/// Phrasings per canonical answer in the intent sets unless told otherwise: a creator's
/// canonical answer gathers phrasings as fans ask (every escalation answered or attached
/// adds one), and ten is a modest library.
pub const DEFAULT_PER_INTENT: usize = 100;

impl EvalOptions {
    /// Options with the routing defaults of `config`.
    pub fn new(dataset: DatasetKind, path: &Path, per_intent: usize, config: &Config) -> EvalOptions {
        let r = &config.routing;
        EvalOptions {
            dataset,
            path: path.to_path_buf(),
            per_intent: per_intent.max(1),
            params: r.reuse,
            slack: r.answer_threshold_slack,
            floor: r.answer_threshold_floor,
            vagueness: r.vagueness_threshold,
            strategy: config.search.strategy,
            model: r.model,
        }
    }
}

/// A throwaway data directory to evaluate in (evaluation never touches the creator's).
pub fn scratch(config: &Config) -> Result<(tempfile::TempDir, Fanline)> {
    let dir = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), detail: e.to_string() })?;
    let app = Fanline::open(Config { data_dir: dir.path().to_path_buf(), ..config.clone() })?;
    Ok((dir, app))
}

/// Clarification quality: "needs clarification" is ClariQ need ≥ 3.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClarifyMetrics {
    pub requests: usize,
    pub needing: usize,
    pub vagueness_threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// The best F1 any vagueness threshold reaches on this set, for reference.
    pub best_f1: f64,
    pub best_threshold: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub dataset: DatasetKind,
    pub split: String,
    pub answers: usize,
    pub phrasings: usize,
    pub queries: usize,
    pub params: ReuseParams,
    pub reuse: Option<ReuseMetrics>,
    /// Each check of the verdict measured on its own, and the best single global
    /// threshold (the plain nearest-neighbour baseline).
    pub ablation: Vec<ReuseMetrics>,
    pub clarification: Option<ClarifyMetrics>,
    /// Pair sets: the queue's grouping on the labelled pairs, at the young threshold
    /// (what the queue uses) and stricter ones.
    pub grouping: Vec<GroupingMetrics>,
    pub seconds: f64,
}

/// A set in the common shape: each answer's phrasings, the queries with the answers
/// each may be served, the split's name, and questions known to be none of the answers
/// (a creator's declined ones).
type Shape = (Vec<Vec<String>>, Vec<(String, Vec<usize>)>, String, Vec<String>);

/// A query with the answers it may be served.
struct Query {
    text: String,
    acceptable: Vec<usize>,
    vector: Vec<f32>,
}

/// An evaluation set embedded once; settings are then cheap to score.
pub struct Prepared {
    library: Library,
    queries: Vec<Query>,
    split: String,
    /// The generic off-topic examples shipped with the app, embedded.
    generic: Vec<Vec<f32>>,
    /// The set's own off-topic examples (a creator's declined questions), embedded.
    declined: Vec<Vec<f32>>,
    /// Intent sets are judged by accuracy and out-of-scope recall; pair sets by correct
    /// reuse under a wrong-reuse budget.
    pairs: bool,
    /// Pair sets: every question's vector, for the queue's grouping.
    by_text: HashMap<String, Vec<f32>>,
}

/// The queue's grouping ([`fanline_engine::reuse::groups`]) on a pair set: which
/// labelled pairs would share a group, and how many of those are not duplicates.
#[derive(Debug, Clone, Serialize)]
pub struct GroupingMetrics {
    /// Two questions share a group from this similarity (the young threshold).
    pub threshold: f32,
    pub pairs: usize,
    /// Pairs that would share a group.
    pub merged: usize,
    /// Of those, the share labelled not duplicates (aim ≤ 2%).
    pub wrong_merge_rate: f64,
    /// Share of the duplicate pairs that would share a group.
    pub duplicates_merged: f64,
}

/// Every query's nearest answers for one way of scoring answers.
pub struct Searched(Vec<Nearest>);

/// Every query's scores by a learned model of the library.
pub struct Modelled(Vec<ModelScores>);

impl Prepared {
    /// Search every query as routing does (the same index, scan and answer scoring),
    /// scoring answers by their `top_m` best phrasings.
    pub fn search(&self, top_m: usize) -> Searched {
        Searched(self.queries.iter().map(|q| self.library.nearest(&q.vector, NEAREST, top_m)).collect())
    }

    /// Fit the learned model as routing does (the library's phrasings and the generic
    /// off-topic examples; with `declined`, the set's own off-topic examples too) and
    /// score every query with it.
    pub fn model(&self, declined: bool, o: ModelOptions) -> Modelled {
        let own: &[Vec<f32>] = if declined { &self.declined } else { &[] };
        let m = self.library.model(&self.generic, own, o);
        Modelled(self.queries.iter().map(|q| m.scores(&q.vector)).collect())
    }

    /// Whether the set brings off-topic examples of its own.
    pub fn has_declined(&self) -> bool {
        !self.declined.is_empty()
    }

    /// Score one setting (`searched` must come from `search(p.top_m)`; with a model's
    /// scores, the verdict reads them when `p.learned`).
    pub fn score(
        &self,
        setting: &str,
        p: &ReuseParams,
        thresholds: &[Option<f32>],
        searched: &Searched,
        model: Option<&Modelled>,
    ) -> ReuseMetrics {
        let mut t = Tally::default();
        for (i, (q, nearest)) in self.queries.iter().zip(&searched.0).enumerate() {
            let scores = model.filter(|_| p.learned).map(|m| &m.0[i]);
            let served = self.library.judge(&q.text, nearest, thresholds, scores, p);
            t.add(served.is_some(), served.is_some_and(|a| q.acceptable.contains(&a)), !q.acceptable.is_empty());
        }
        t.metrics(setting)
    }

    pub fn thresholds(&self, slack: f32, floor: f32) -> Vec<Option<f32>> {
        self.library.thresholds(slack, floor)
    }

    /// What calibration maximises: for intent sets, in-scope accuracy while at least 80%
    /// of out-of-scope questions are kept from reuse (the product's aim); for pair sets
    /// (and sets without out-of-scope queries), correct reuse while wrong reuse stays
    /// within 2% of the answers served.
    pub fn objective(&self, m: &ReuseMetrics) -> f64 {
        if !self.pairs && m.out_of_scope > 0 {
            m.in_scope_accuracy - 2.0 * (0.8 - m.oos_recall).max(0.0)
        } else if m.wrong_reuse_rate > 0.02 {
            -m.wrong_reuse_rate
        } else {
            m.in_scope_accuracy
        }
    }
}

/// The similarity threshold calibrated for the verdict without the learned model (the
/// default before it): the similarity-only rows of the ablation use it.
pub const SIMILARITY_THRESHOLD: f32 = 0.45;

/// `p` deciding by the model's probability alone, from `min`.
fn pick_with(p: &ReuseParams, min: f32) -> ReuseParams {
    ReuseParams { min_probability: min, ..*p }
}

/// How many nearest answers a verdict looks at (the best and the runner-up matter).
const NEAREST: usize = 5;

/// Embed texts in batches, reporting progress as (done, total).
fn embed_all(app: &Fanline, texts: &[&str], progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<Vec<f32>>> {
    let e = app.embedder()?;
    let mut out = Vec::with_capacity(texts.len());
    for batch in texts.chunks(256) {
        out.extend(e.embed(batch)?);
        progress(out.len(), texts.len());
    }
    Ok(out)
}

/// Load and embed an intent set (or pair set) once.
pub fn prepare(app: &Fanline, o: &EvalOptions, progress: &mut dyn FnMut(usize, usize)) -> Result<Prepared> {
    match o.dataset {
        DatasetKind::Clinc150 | DatasetKind::Banking77 => {
            let set = if o.dataset == DatasetKind::Clinc150 {
                data::clinc150(&o.path, o.per_intent)?
            } else {
                data::banking77(&o.path, o.per_intent)?
            };
            prepare_intents(app, set, o.strategy, progress)
        }
        DatasetKind::Quora | DatasetKind::Mqp | DatasetKind::CovidFaq => {
            let pairs = pair_set(o)?;
            prepare_shape(app, pair_shape(&pairs, &o.path), true, o.strategy, progress)
        }
        DatasetKind::Clariq => Err(Error::InvalidInput("clariq measures clarification, not reuse".into())),
    }
}

pub(crate) fn prepare_intents(
    app: &Fanline,
    set: IntentSet,
    strategy: ScanStrategy,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Prepared> {
    prepare_shape(app, intent_shape(set), false, strategy, progress)
}

fn prepare_shape(
    app: &Fanline,
    (answers, queries, split, declined): Shape,
    pairs: bool,
    strategy: ScanStrategy,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Prepared> {
    let generic = fanline_core::off_topic_examples();
    let mut texts: Vec<&str> = answers.iter().flatten().map(String::as_str).collect();
    texts.extend(queries.iter().map(|(q, _)| q.as_str()));
    texts.extend(generic.iter().copied());
    texts.extend(declined.iter().map(String::as_str));
    let mut vecs = embed_all(app, &texts, progress)?.into_iter();
    let library = Library::new(
        answers.iter().map(|a| a.iter().map(|t| (t.clone(), vecs.next().expect("one per text"))).collect()).collect(),
        strategy,
    )?;
    let queries: Vec<Query> = queries
        .into_iter()
        .map(|(text, acceptable)| Query { text, acceptable, vector: vecs.next().expect("one per text") })
        .collect();
    let generic = vecs.by_ref().take(generic.len()).collect();
    let declined = vecs.collect();
    let by_text = if pairs {
        library.texts_and_vectors().chain(queries_iter(&queries)).map(|(t, v)| (t.to_string(), v.to_vec())).collect()
    } else {
        HashMap::new()
    };
    Ok(Prepared { library, queries, split, generic, declined, pairs, by_text })
}

fn queries_iter(queries: &[Query]) -> impl Iterator<Item = (&str, &[f32])> {
    queries.iter().map(|q| (q.text.as_str(), q.vector.as_slice()))
}

/// The queue's grouping test on labelled pairs (both questions embedded in `prep`).
fn grouping(prep: &Prepared, pairs: &[(String, String, bool)], threshold: f32) -> GroupingMetrics {
    let (mut merged, mut wrong, mut dups, mut dups_merged) = (0, 0, 0, 0);
    for (a, b, same) in pairs {
        let (Some(x), Some(y)) = (prep.by_text.get(a), prep.by_text.get(b)) else { continue };
        let together =
            fanline_engine::reuse::groups::group(&[x.clone(), y.clone()], &[false, false], threshold).len() == 1;
        dups += *same as usize;
        if together {
            merged += 1;
            wrong += !*same as usize;
            dups_merged += *same as usize;
        }
    }
    GroupingMetrics {
        threshold,
        pairs: pairs.len(),
        merged,
        wrong_merge_rate: ratio(wrong, merged),
        duplicates_merged: ratio(dups_merged, dups),
    }
}

fn pair_set(o: &EvalOptions) -> Result<Vec<(String, String, bool)>> {
    match o.dataset {
        DatasetKind::Quora => data::quora(&o.path),
        DatasetKind::Mqp => data::mqp(&o.path),
        _ => data::covid_faq(&o.path),
    }
}

/// `fanline eval`: measure routing on a labelled set.
pub fn eval(app: &Fanline, o: &EvalOptions, progress: &mut dyn FnMut(usize, usize)) -> Result<EvalReport> {
    let started = Instant::now();
    if o.dataset == DatasetKind::Clariq {
        let rows = data::clariq(&o.path)?;
        let c = clarify_metrics(&rows, o.vagueness);
        return Ok(EvalReport {
            dataset: o.dataset,
            split: "dev".into(),
            answers: 0,
            phrasings: 0,
            queries: rows.len(),
            params: o.params,
            reuse: None,
            ablation: Vec::new(),
            clarification: Some(c),
            grouping: Vec::new(),
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let prep = prepare(app, o, progress)?;
    let th = prep.thresholds(o.slack, o.floor);
    let p = o.params;
    let (by_best, by_m) = (prep.search(1), prep.search(p.top_m));
    // The learned model as routing fits it: the phrasings and the generic off-topic set,
    // and the creator's declined questions (here the set's own known off-topic ones).
    let generic = prep.model(false, o.model);
    let declined = prep.has_declined().then(|| prep.model(true, o.model));
    let routed = declined.as_ref().unwrap_or(&generic);
    let main = prep.score("fanline (defaults)", &p, &th, &by_m, Some(routed));
    // Each similarity idea on its own, at the threshold calibrated without the model.
    let base = ReuseParams {
        threshold: SIMILARITY_THRESHOLD,
        young_threshold: SIMILARITY_THRESHOLD,
        young_band: 1.0,
        margin: 0.0,
        per_answer: false,
        negation_check: false,
        number_check: false,
        top_m: 1,
        learned: false,
        min_probability: 0.0,
        trust_phrasings: 1,
    };
    let sim = |name: &str, q: &ReuseParams, searched: &Searched| prep.score(name, q, &th, searched, None);
    let mut ablation = vec![
        sim(
            "similarity only (the defaults before the model)",
            &ReuseParams { threshold: SIMILARITY_THRESHOLD, learned: false, ..p },
            &by_m,
        ),
        sim("global threshold only", &base, &by_best),
        sim(
            &format!("+ young answers at {:.2}", p.young_threshold),
            &ReuseParams { young_threshold: p.young_threshold, ..base },
            &by_best,
        ),
        sim(
            "+ young band from 0.82, same words",
            &ReuseParams { young_threshold: p.young_threshold, young_band: 0.82, ..base },
            &by_best,
        ),
        sim(&format!("+ mean of best {} phrasings", p.top_m), &ReuseParams { top_m: p.top_m, ..base }, &by_m),
        sim("+ per-answer thresholds", &ReuseParams { per_answer: true, ..base }, &by_best),
        sim("+ margin 0.03", &ReuseParams { margin: 0.03, ..base }, &by_best),
        sim("+ negation check", &ReuseParams { negation_check: true, ..base }, &by_best),
        sim("+ number check", &ReuseParams { number_check: true, ..base }, &by_best),
    ];
    ablation.push(best_global_threshold(&prep, &th, &by_best));
    ablation.push(sim("nearest answer, no threshold", &base.with_threshold(-1.0), &by_best));
    // The learned model, whole and in parts.
    let pick = ReuseParams { threshold: -1.0, young_threshold: -1.0, min_probability: 0.0, ..p };
    ablation.extend([
        prep.score("learned model (generic off-topic set)", &p, &th, &by_m, Some(&generic)),
        prep.score("learned model, probability only", &pick_with(&pick, p.min_probability), &th, &by_m, Some(routed)),
        prep.score(
            "learned model, similarity gate only",
            &ReuseParams { min_probability: 0.0, ..p },
            &th,
            &by_m,
            Some(routed),
        ),
        prep.score("learned model's pick, no rejection", &pick, &th, &by_m, Some(routed)),
    ]);
    if let Some(d) = &declined {
        ablation.push(prep.score("learned model (+ the set's own off-topic examples)", &p, &th, &by_m, Some(d)));
    }
    Ok(EvalReport {
        dataset: o.dataset,
        split: prep.split.clone(),
        answers: prep.library.answers(),
        phrasings: prep.library.phrasings(),
        queries: prep.queries.len(),
        params: o.params,
        reuse: Some(main),
        ablation,
        clarification: None,
        grouping: if prep.pairs {
            let pairs = pair_set(o)?;
            [p.young_threshold, 0.93, 0.95, 0.97].iter().map(|t| grouping(&prep, &pairs, *t)).collect()
        } else {
            Vec::new()
        },
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The plain nearest-neighbour router at its best single threshold on this split (by
/// [`Prepared::objective`]): the baseline, tuned with hindsight.
fn best_global_threshold(prep: &Prepared, th: &[Option<f32>], searched: &Searched) -> ReuseMetrics {
    let mut best: Option<(f64, ReuseMetrics)> = None;
    for t in (30..=99).map(|t| t as f32 / 100.0) {
        let p = ReuseParams {
            threshold: t,
            young_threshold: t,
            young_band: 1.0,
            margin: 0.0,
            per_answer: false,
            negation_check: false,
            number_check: false,
            top_m: 1,
            learned: false,
            min_probability: 0.0,
            trust_phrasings: 1,
        };
        let m = prep.score(&format!("best global threshold, hindsight ({t:.2})"), &p, th, searched, None);
        let s = prep.objective(&m);
        if best.as_ref().is_none_or(|(b, _)| s > *b) {
            best = Some((s, m));
        }
    }
    best.expect("non-empty grid").1
}

fn intent_shape(set: IntentSet) -> Shape {
    let index: HashMap<&String, usize> = set.library.keys().enumerate().map(|(i, k)| (k, i)).collect();
    let queries = set
        .queries
        .iter()
        .map(|(q, intent)| {
            (q.clone(), intent.as_ref().and_then(|i| index.get(i)).map(|&i| vec![i]).unwrap_or_default())
        })
        .collect();
    (set.library.values().cloned().collect(), queries, set.split, set.declined)
}

/// Pairs: every distinct stored question is one canonical answer; every distinct new
/// question is a query that may be served the stored questions it is labelled a
/// duplicate of (and nothing else).
fn pair_shape(pairs: &[(String, String, bool)], path: &Path) -> Shape {
    let mut answers: BTreeMap<&str, usize> = BTreeMap::new();
    for (a, _, _) in pairs {
        let n = answers.len();
        answers.entry(a.as_str()).or_insert(n);
    }
    let mut queries: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (a, q, same) in pairs {
        let e = queries.entry(q.as_str()).or_default();
        if *same {
            e.push(answers[a.as_str()]);
        }
    }
    let mut lib = vec![Vec::new(); answers.len()];
    for (t, i) in answers {
        lib[i] = vec![t.to_string()];
    }
    let split = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    (lib, queries.into_iter().map(|(q, a)| (q.to_string(), a)).collect(), split, Vec::new())
}

fn clarify_metrics(rows: &[(String, u8)], threshold: f64) -> ClarifyMetrics {
    let scored: Vec<(f64, bool)> =
        rows.iter().map(|(q, need)| (text::vagueness(&text::stats(q)), *need >= 3)).collect();
    let prf = |t: f64| {
        let tp = scored.iter().filter(|(v, y)| *v >= t && *y).count();
        let fp = scored.iter().filter(|(v, y)| *v >= t && !*y).count();
        let fnn = scored.iter().filter(|(v, y)| *v < t && *y).count();
        let (p, r) = (ratio(tp, tp + fp), ratio(tp, tp + fnn));
        (p, r, if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 })
    };
    let (precision, recall, f1) = prf(threshold);
    let (best_threshold, best_f1) = (0..=20)
        .map(|i| i as f64 / 20.0)
        .map(|t| (t, prf(t).2))
        .fold((0.0, -1.0), |b, x| if x.1 > b.1 { x } else { b });
    ClarifyMetrics {
        requests: rows.len(),
        needing: scored.iter().filter(|(_, y)| *y).count(),
        vagueness_threshold: threshold,
        precision,
        recall,
        f1,
        best_f1,
        best_threshold,
    }
}

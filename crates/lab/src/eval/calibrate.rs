//! `fanline calibrate`: propose the reuse verdict's knobs from labelled data by a grid
//! search over the global threshold, the margin and the per-answer threshold slack, with
//! the lexical checks on and off. It maximises [`objective`]; CLINC150 is tuned on a
//! split of its training data, never on the split `eval` reports.

use super::{data, prepare, prepare_intents, DatasetKind, EvalOptions, Modelled, Prepared};
use fanline_core::quality::ReuseMetrics;
use fanline_core::{Fanline, Result};
use fanline_engine::reuse::ReuseParams;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub dataset: DatasetKind,
    pub split: String,
    pub settings_tried: usize,
    pub params: ReuseParams,
    pub slack: f32,
    pub metrics: ReuseMetrics,
    /// The routing defaults, measured on the same split, for comparison.
    pub current: ReuseMetrics,
}

/// The grid: thresholds 0.40–0.99 by 0.01, margins, slacks (None = no per-answer
/// thresholds), phrasings averaged, and the lexical checks on and off.
const MARGINS: [f32; 4] = [0.0, 0.01, 0.03, 0.05];
const SLACKS: [Option<f32>; 4] = [None, Some(0.0), Some(0.06), Some(0.12)];
const TOP_M: [usize; 3] = [1, 2, 3];

/// The probabilities the learned model's pick may be asked for.
const MIN_PROBABILITY: [f32; 13] = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6];

/// Phrasings from which the model's probability is trusted in full.
const TRUST: [usize; 3] = [20, 50, 100];

/// Search the learned verdict's grid: the similarity gate (the threshold for intent
/// sets, the young threshold for pair sets), the probability the model's pick needs
/// and from how many phrasings in full, and the phrasings averaged, with the model
/// fitted as routing fits it. Several prepared sets (one library at several sizes)
/// are judged together: their objectives add up.
pub fn search_learned(sets: &[(&Prepared, &Modelled)], base: &ReuseParams) -> (ReuseParams, ReuseMetrics, usize) {
    let pairs = sets.first().is_some_and(|(p, _)| p.pairs);
    let mut best: Option<(f64, ReuseParams, ReuseMetrics)> = None;
    let mut tried = 0;
    for top_m in [1, 3] {
        let searched: Vec<_> = sets.iter().map(|(p, _)| (p.thresholds(0.0, 0.0), p.search(top_m))).collect();
        for trust_phrasings in TRUST {
            for min_probability in MIN_PROBABILITY {
                for t in 20..=99 {
                    let t = t as f32 / 100.0;
                    let (threshold, young_threshold) =
                        if pairs { (base.threshold, t) } else { (t, base.young_threshold) };
                    let p = ReuseParams {
                        threshold,
                        young_threshold,
                        min_probability,
                        trust_phrasings,
                        top_m,
                        learned: true,
                        ..*base
                    };
                    let mut score = 0.0;
                    let mut first = None;
                    for ((prep, model), (th, s)) in sets.iter().zip(&searched) {
                        let m = prep.score("calibrated", &p, th, s, Some(model));
                        score += prep.objective(&m);
                        first.get_or_insert(m);
                    }
                    tried += 1;
                    if best.as_ref().is_none_or(|b| score > b.0 + 1e-9) {
                        best = Some((score, p, first.expect("at least one set")));
                    }
                }
            }
        }
    }
    let (_, p, m) = best.expect("non-empty grid");
    (p, m, tried)
}

/// Search the grid on a prepared set (the verdict by similarity alone).
pub fn search(prep: &Prepared, base: &ReuseParams, floor: f32) -> (ReuseParams, f32, ReuseMetrics, usize) {
    let mut best: Option<(f64, ReuseParams, f32, ReuseMetrics)> = None;
    let mut tried = 0;
    for top_m in TOP_M {
        let searched = prep.search(top_m);
        for slack in SLACKS {
            let th = prep.thresholds(slack.unwrap_or(0.0), floor);
            for (negation_check, number_check) in [(false, false), (true, false), (true, true)] {
                for margin in MARGINS {
                    for t in 40..=99 {
                        // Pair sets hold young answers (one phrasing each): they
                        // calibrate `young_threshold`; intent sets calibrate `threshold`.
                        let t = t as f32 / 100.0;
                        let (threshold, young_threshold) =
                            if prep.pairs { (base.threshold, t) } else { (t, base.young_threshold) };
                        let p = ReuseParams {
                            threshold,
                            young_threshold,
                            young_band: base.young_band,
                            margin,
                            per_answer: slack.is_some(),
                            negation_check,
                            number_check,
                            top_m,
                            learned: false,
                            min_probability: 0.0,
                            trust_phrasings: 1,
                        };
                        let m = prep.score("calibrated", &p, &th, &searched, None);
                        tried += 1;
                        let s = prep.objective(&m);
                        if best.as_ref().is_none_or(|b| s > b.0 + 1e-9) {
                            best = Some((s, p, slack.unwrap_or(0.0), m));
                        }
                    }
                }
            }
        }
    }
    let (_, p, slack, m) = best.expect("non-empty grid");
    (p, slack, m, tried)
}

/// Propose reuse knobs from a labelled set (CLINC150: from its training data).
pub fn calibrate(app: &Fanline, o: &EvalOptions, progress: &mut dyn FnMut(usize, usize)) -> Result<Calibration> {
    let tuning = |per_intent: usize, progress: &mut dyn FnMut(usize, usize)| {
        // The tuning queries are training questions beyond the library's.
        prepare_intents(app, data::clinc150_tuning(&o.path, per_intent)?, o.strategy, progress)
    };
    let prep = if o.dataset == DatasetKind::Clinc150 {
        tuning(o.per_intent.min(80), progress)?
    } else {
        prepare(app, o, progress)?
    };
    // The model learns from the generic off-topic set only: the set's own off-topic
    // questions are the tuning queries.
    let model = prep.model(false, o.model);
    let (params, slack, metrics, tried) = if o.params.learned {
        // A creator's answers range from one phrasing to many: on CLINC150 the learned
        // verdict is tuned on the library at `per_intent` and at 10 phrasings together.
        let small = if o.dataset == DatasetKind::Clinc150 && o.per_intent > 10 {
            let p = tuning(10, progress)?;
            let m = p.model(false, o.model);
            Some((p, m))
        } else {
            None
        };
        let mut sets = vec![(&prep, &model)];
        sets.extend(small.as_ref().map(|(p, m)| (p, m)));
        let (p, m, tried) = search_learned(&sets, &o.params);
        (p, o.slack, m, tried)
    } else {
        search(&prep, &o.params, o.floor)
    };
    let th = prep.thresholds(o.slack, o.floor);
    let current = prep.score("current", &o.params, &th, &prep.search(o.params.top_m), Some(&model));
    Ok(Calibration {
        dataset: o.dataset,
        split: prep.split.clone(),
        settings_tried: tried,
        params,
        slack,
        metrics,
        current,
    })
}

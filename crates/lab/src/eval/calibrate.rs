//! `fanline calibrate`: propose the reuse verdict's knobs from labelled data by a grid
//! search over the global threshold, the margin and the per-answer threshold slack, with
//! the lexical checks on and off. It maximises [`objective`]; CLINC150 is tuned on a
//! split of its training data, never on the split `eval` reports.

use super::{data, prepare, prepare_intents, DatasetKind, EvalOptions, Prepared};
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

/// Search the grid on a prepared set.
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
                        };
                        let m = prep.score("calibrated", &p, &th, &searched);
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
    let prep = if o.dataset == DatasetKind::Clinc150 {
        // The tuning queries are training questions beyond the library's.
        prepare_intents(app, data::clinc150_tuning(&o.path, o.per_intent.min(80))?, o.strategy, progress)?
    } else {
        prepare(app, o, progress)?
    };
    let (params, slack, metrics, tried) = search(&prep, &o.params, o.floor);
    let current = prep.score("current", &o.params, &prep.thresholds(o.slack, o.floor), &prep.search(o.params.top_m));
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

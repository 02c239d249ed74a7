//! `fanline calibrate`: propose the reuse verdict's knobs from labelled data by a grid
//! search over the global threshold, the margin and the per-answer threshold slack, with
//! the lexical checks on and off. It maximises [`objective`]; CLINC150 is tuned on a
//! split of its training data, never on the split `eval` reports.

use super::{data, DatasetKind, EvalOptions, Prepared, ReuseMetrics, Tally};
use crate::{Error, Fanline, Result};
use fanline_engine::reuse::{judge, ReuseCandidate, ReuseParams, ReuseVerdict};
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

impl Fanline {
    /// Propose reuse knobs from a labelled set (CLINC150: from its training data).
    pub fn calibrate(&self, o: &EvalOptions, progress: &mut dyn FnMut(usize, usize)) -> Result<Calibration> {
        let prep = if o.dataset == DatasetKind::Clinc150 {
            // The tuning queries are training questions beyond the library's.
            self.prepare_intents(data::clinc150_tuning(&o.path, o.per_intent.min(80))?, progress)?
        } else {
            self.eval_prepare(o, progress)?
        };
        let (params, slack, metrics, tried) = search(&prep, &o.params, o.floor);
        let current =
            prep.score("current", &o.params, &prep.thresholds(o.slack, o.floor), &prep.search(o.params.top_m));
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
}

/// Calibration from the creator's own history (`fanline calibrate --history`).
#[derive(Debug, Clone, Serialize)]
pub struct HistoryCalibration {
    pub agent: String,
    /// Past decisions whose right answer is known.
    pub examples: usize,
    /// …of which a canonical answer was right to serve.
    pub reusable: usize,
    pub settings_tried: usize,
    pub params: ReuseParams,
    pub metrics: ReuseMetrics,
    pub current: ReuseMetrics,
}

/// Fewer examples than this teach nothing reliable.
pub const MIN_HISTORY: usize = 20;

struct Example {
    question: String,
    candidates: Vec<ReuseCandidate>,
    right: Option<i64>,
}

fn score_history(examples: &[Example], p: &ReuseParams, setting: &str) -> ReuseMetrics {
    let mut t = Tally::default();
    for e in examples {
        let served = match judge(&e.question, &e.candidates, p) {
            ReuseVerdict::Reuse { index, .. } => Some(e.candidates[index].canonical_id),
            ReuseVerdict::Reject { .. } => None,
        };
        t.add(served.is_some(), served.is_some() && served == e.right, e.right.is_some());
    }
    t.metrics(setting)
}

impl Fanline {
    /// Propose reuse thresholds from the agent's own history: answers the creator judged
    /// right or wrong, questions the creator attached to an existing answer (it was the
    /// right one) or answered anew (none was). Maximises correct reuse while wrong
    /// reuse stays within 2% of the answers served.
    pub fn calibrate_history(&self, agent: Option<&str>) -> Result<HistoryCalibration> {
        let agent = self.agent(agent)?;
        let examples: Vec<Example> = self
            .store
            .reuse_history(agent.id)?
            .into_iter()
            .filter_map(|x| {
                let candidates: Vec<ReuseCandidate> =
                    serde_json::from_value(x.signals.get("candidates")?.clone()).ok()?;
                Some(Example { question: x.question, candidates, right: x.right })
            })
            .collect();
        if examples.len() < MIN_HISTORY {
            return Err(Error::InvalidInput(format!(
                "not enough history: {} decisions with a known right answer, at least {MIN_HISTORY} needed \
                 (answer or attach escalations, or judge served answers with `fanline decisions judge`)",
                examples.len()
            )));
        }
        let base = self.config.routing.reuse;
        let mut best: Option<(f64, ReuseParams, ReuseMetrics)> = None;
        let mut tried = 0;
        for margin in MARGINS {
            for t in 40..=99 {
                for y in (40..=99).step_by(3) {
                    let p =
                        ReuseParams { threshold: t as f32 / 100.0, young_threshold: y as f32 / 100.0, margin, ..base };
                    let m = score_history(&examples, &p, "calibrated");
                    tried += 1;
                    let s = if m.wrong_reuse_rate > 0.02 {
                        -m.wrong_reuse_rate
                    } else {
                        m.in_scope_accuracy + m.oos_recall * 1e-3
                    };
                    if best.as_ref().is_none_or(|b| s > b.0 + 1e-9) {
                        best = Some((s, p, m));
                    }
                }
            }
        }
        let (_, params, metrics) = best.expect("non-empty grid");
        Ok(HistoryCalibration {
            agent: agent.name,
            examples: examples.len(),
            reusable: examples.iter().filter(|e| e.right.is_some()).count(),
            settings_tried: tried,
            params,
            metrics,
            current: score_history(&examples, &base, "current"),
        })
    }

    /// The creator's verdict on a served canonical answer.
    pub fn judge_reuse(&self, decision_id: i64, correct: bool) -> Result<()> {
        Ok(self.store.set_reuse_feedback(decision_id, correct)?)
    }
}

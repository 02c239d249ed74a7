//! `fanline calibrate --history`: the reuse thresholds the creator's own history
//! supports: served answers judged right or wrong, questions attached to an existing
//! answer (it was the right one) or answered anew (none was).

use crate::quality::{ReuseMetrics, Tally};
use crate::routing::DecisionDetails;
use crate::{Error, Fanline, Result};
use fanline_engine::reuse::{judge, ReuseCandidate, ReuseParams, ReuseVerdict};
use fanline_store::Conversations;
use serde::Serialize;

/// Margins tried (without the learned model).
const MARGINS: [f32; 4] = [0.0, 0.01, 0.03, 0.05];
/// Probabilities the learned model's pick may be asked for.
const PROBABILITIES: [f32; 8] = [0.0, 0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6];

/// Calibration from the creator's own history (`fanline calibrate --history`).
#[derive(Debug, Clone, Serialize)]
pub struct HistoryCalibration {
    /// The agent.
    pub agent: String,
    /// Past decisions whose right answer is known.
    pub examples: usize,
    /// …of which a canonical answer was right to serve.
    pub reusable: usize,
    /// Settings scored.
    pub settings_tried: usize,
    /// The knobs proposed.
    pub params: ReuseParams,
    /// What they score on the history.
    pub metrics: ReuseMetrics,
    /// What the knobs in use score on it.
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
                let details: DecisionDetails = serde_json::from_value(x.details).ok()?;
                Some(Example { question: x.question, candidates: details.candidates, right: x.right })
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
        // With the learned model, the probability its pick needs is tuned (the margin is
        // a check of the similarity verdict only); without it, the margin.
        let (margins, probabilities): (&[f32], &[f32]) =
            if base.learned { (&[0.0], &PROBABILITIES) } else { (&MARGINS, &[0.0]) };
        for (&margin, &min_probability) in margins.iter().flat_map(|m| probabilities.iter().map(move |p| (m, p))) {
            for t in 20..=99 {
                for y in (40..=99).step_by(3) {
                    let p = ReuseParams {
                        threshold: t as f32 / 100.0,
                        young_threshold: y as f32 / 100.0,
                        margin,
                        min_probability: if base.learned { min_probability } else { base.min_probability },
                        ..base
                    };
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

    /// The creator's verdict on a served canonical answer. The fan's question becomes
    /// an example the reuse model learns from: of the answer served (right) or of none
    /// (wrong).
    pub fn judge_reuse(&self, decision_id: i64, correct: bool) -> Result<()> {
        let v = self.learning_vector(&self.store.decision_question(decision_id)?);
        self.write_indexed(false, |s| {
            s.set_reuse_feedback(decision_id, correct, v.as_deref()).map(|()| ((), Default::default()))
        })
    }
}

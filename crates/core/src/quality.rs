//! How well the reuse verdict did on questions whose right answer is known: the tally
//! of verdicts and the metrics `fanline eval` and `fanline calibrate` report.

use serde::{Deserialize, Serialize};

/// Reuse quality under one setting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReuseMetrics {
    /// What was measured.
    pub setting: String,
    /// Questions some answer was right for.
    pub in_scope: usize,
    /// …served a right answer.
    pub in_scope_correct: usize,
    /// `in_scope_correct / in_scope`.
    pub in_scope_accuracy: f64,
    /// Questions no answer was right for.
    pub out_of_scope: usize,
    /// Share of out-of-scope questions served nothing.
    pub oos_recall: f64,
    /// Share of questions served nothing that were out of scope.
    pub oos_precision: f64,
    /// Answers served.
    pub reuse_hits: usize,
    /// …that were wrong.
    pub wrong_reuse: usize,
    /// `wrong_reuse / reuse_hits`.
    pub wrong_reuse_rate: f64,
}

/// Counts of one setting's verdicts.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    in_scope: usize,
    in_scope_correct: usize,
    out_of_scope: usize,
    oos_kept: usize,
    rejected: usize,
    hits: usize,
    wrong: usize,
}

impl Tally {
    /// One question: whether an answer was served, whether it was a right one, and
    /// whether any answer was right to serve.
    pub fn add(&mut self, served: bool, right: bool, in_scope: bool) {
        if served {
            self.hits += 1;
            self.wrong += usize::from(!right);
        } else {
            self.rejected += 1;
        }
        if in_scope {
            self.in_scope += 1;
            self.in_scope_correct += usize::from(right);
        } else {
            self.out_of_scope += 1;
            self.oos_kept += usize::from(!served);
        }
    }

    /// The metrics of what was added, named `setting`.
    pub fn metrics(&self, setting: &str) -> ReuseMetrics {
        ReuseMetrics {
            setting: setting.to_string(),
            in_scope: self.in_scope,
            in_scope_correct: self.in_scope_correct,
            in_scope_accuracy: ratio(self.in_scope_correct, self.in_scope),
            out_of_scope: self.out_of_scope,
            oos_recall: ratio(self.oos_kept, self.out_of_scope),
            oos_precision: ratio(self.oos_kept, self.rejected),
            reuse_hits: self.hits,
            wrong_reuse: self.wrong,
            wrong_reuse_rate: ratio(self.wrong, self.hits),
        }
    }
}

/// A share of counts (0 when there is nothing to share).
pub fn ratio(a: usize, b: usize) -> f64 {
    crate::metrics::ratio(a as u64, b as u64)
}

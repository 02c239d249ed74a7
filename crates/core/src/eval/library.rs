//! An in-memory canonical library for evaluation: answers with their phrasings'
//! vectors, searched exactly. The verdict on what it finds is the router's own
//! ([`fanline_engine::reuse::judge`]), so what `fanline eval` measures is what routing does.

use fanline_engine::reuse::{answer_score, answer_threshold, judge, ReuseCandidate, ReuseParams, ReuseVerdict};
use fanline_engine::vector::dot;
use fanline_engine::Layer;

pub struct Library {
    vectors: Vec<Vec<f32>>,
    owner: Vec<usize>,
    texts: Vec<String>,
    /// Each answer's phrasings (indices into `vectors`).
    members: Vec<Vec<usize>>,
}

/// The answers nearest to one query, best phrasing each, best first.
#[derive(Debug, Clone)]
pub struct Nearest {
    pub answers: Vec<(usize, f32, usize)>,
}

impl Library {
    /// `answers[i]` = the phrasings of answer `i` with their vectors.
    pub fn new(answers: Vec<Vec<(String, Vec<f32>)>>) -> Library {
        let mut lib = Library { vectors: Vec::new(), owner: Vec::new(), texts: Vec::new(), members: Vec::new() };
        for (a, phrasings) in answers.into_iter().enumerate() {
            let mut m = Vec::new();
            for (t, v) in phrasings {
                m.push(lib.vectors.len());
                lib.vectors.push(v);
                lib.owner.push(a);
                lib.texts.push(t);
            }
            lib.members.push(m);
        }
        lib
    }

    pub fn answers(&self) -> usize {
        self.members.len()
    }

    pub fn phrasings(&self) -> usize {
        self.vectors.len()
    }

    /// The `k` nearest answers to `q` (exact scan, best phrasing per answer).
    pub fn nearest(&self, q: &[f32], k: usize, top_m: usize) -> Nearest {
        let mut best: Vec<(f32, usize)> = vec![(f32::MIN, usize::MAX); self.members.len()];
        let mut all: Vec<Vec<f32>> = vec![Vec::new(); self.members.len()];
        for (i, v) in self.vectors.iter().enumerate() {
            let s = dot(q, v);
            all[self.owner[i]].push(s);
            let b = &mut best[self.owner[i]];
            if s > b.0 {
                *b = (s, i);
            }
        }
        for (a, sims) in all.iter_mut().enumerate() {
            sims.sort_by(|x, y| y.total_cmp(x));
            best[a].0 = answer_score(sims, top_m);
        }
        let mut answers: Vec<(usize, f32, usize)> =
            best.into_iter().enumerate().filter(|(_, b)| b.1 != usize::MAX).map(|(a, (s, i))| (a, s, i)).collect();
        answers.sort_by(|x, y| y.1.total_cmp(&x.1));
        answers.truncate(k);
        Nearest { answers }
    }

    /// Per-answer thresholds for a slack and floor (see [`answer_threshold`]).
    pub fn thresholds(&self, slack: f32, floor: f32) -> Vec<Option<f32>> {
        self.members
            .iter()
            .map(|m| answer_threshold(&m.iter().map(|&i| self.vectors[i].as_slice()).collect::<Vec<_>>(), slack, floor))
            .collect()
    }

    /// The router's verdict on a query's nearest answers: the answer served, if any.
    pub fn judge(&self, query: &str, n: &Nearest, thresholds: &[Option<f32>], p: &ReuseParams) -> Option<usize> {
        let cands: Vec<ReuseCandidate> = n
            .answers
            .iter()
            .map(|&(a, s, i)| ReuseCandidate {
                canonical_id: a as i64,
                phrasings: self.members[a].len(),
                similarity: s,
                matched_text: self.texts[i].clone(),
                threshold: thresholds[a],
                layer: Layer::Public,
            })
            .collect();
        match judge(query, &cands, p) {
            ReuseVerdict::Reuse { index, .. } => Some(n.answers[index].0),
            ReuseVerdict::Reject { .. } => None,
        }
    }
}

//! One agent's learned model of its canonical answers: the classifier behind the reuse
//! verdict ([`super::judge`]).
//!
//! Its classes are the agent's established canonical answers (those with at least
//! [`ModelOptions::min_phrasings`] phrasings) and one more, "out of scope". Its examples
//! are every phrasing of every answer (and fans' questions the creator judged a right
//! reuse of one), and off-topic examples: a generic set shipped with the app, the
//! questions the creator declined, and questions judged a wrong reuse. A young answer's
//! phrasings teach the out-of-scope class (they are none of the established answers);
//! the young answer itself is judged by similarity, where one or two phrasings teach a
//! model nothing measurable (ARCHITECTURE.md, "Reuse") and a class each would cost a
//! large library's fit dearly. A generic example close to one of the creator's own
//! phrasings is left out: the creator's answers win.
//!
//! Changes arrive one example at a time ([`AnswerModel::upsert`], [`AnswerModel::remove`])
//! and mark the answers they touch; [`AnswerModel::update`] then refits only those
//! answers' weights, with their nearest neighbours' and the out-of-scope class's, on the
//! examples near them (milliseconds), or everything when much changed.

use super::model::{FitOptions, Fitted, Sample, SoftmaxRegression};
use crate::vector::dot;
use crate::ItemKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An example's identity: the index item it came from.
pub type ExampleId = (ItemKind, i64);

/// The knobs of the model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct ModelOptions {
    /// Inverse strength of the L2 penalty (scikit-learn's `C`).
    pub c: f32,
    /// L-BFGS iterations of a full fit.
    pub fit_iters: u32,
    /// L-BFGS iterations of a refit of changed answers.
    pub refine_iters: u32,
    /// Neighbouring answers refitted with each changed one.
    pub neighbours: u32,
    /// Examples of other answers, the nearest to the changed ones, a refit also reads.
    pub nearby: u32,
    /// A generic off-topic example at least this close to one of the agent's phrasings
    /// is left out of the out-of-scope class.
    pub generic_margin: f32,
    /// Refit everything when more than this share of the answers changed.
    pub full_fit_share: f32,
    /// Phrasings an answer needs to be a class of its own (the verdict's established
    /// answers, [`super::ESTABLISHED`]).
    pub min_phrasings: u32,
    /// Answers the model holds at most: those with the most phrasings. A fit costs
    /// examples × answers; past this, answers are judged by similarity alone.
    pub max_answers: u32,
    /// Examples of one answer the model learns from at most (the first stored).
    pub max_examples: u32,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            c: 30.0,
            fit_iters: 100,
            refine_iters: 40,
            neighbours: 4,
            nearby: 400,
            generic_margin: 0.6,
            full_fit_share: 0.25,
            min_phrasings: super::ESTABLISHED as u32,
            max_answers: 500,
            max_examples: 100,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    /// The answer it is an example of; `None`: out of scope.
    answer: Option<i64>,
    /// One of the generic off-topic examples (which the agent's phrasings can exclude).
    generic: bool,
    v: Vec<f32>,
}

/// A class's place in the model: an answer, or out of scope.
type Class = Option<i64>;

/// What the model says of a question.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelScores {
    /// Each answer's probability.
    pub answers: HashMap<i64, f32>,
    /// The probability that it is none of them.
    pub out_of_scope: f32,
}

/// What [`AnswerModel::update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UpdateReport {
    /// Every class was fitted.
    pub full: bool,
    /// Classes fitted.
    pub classes: usize,
    /// Examples read.
    pub examples: usize,
    /// L-BFGS iterations.
    pub iterations: u64,
    /// Microseconds it took.
    pub micros: u64,
}

/// The fitted weights, to keep between runs: restored for every answer whose examples
/// are still the same.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedModel {
    /// The classes in the model's order (`None`: out of scope, always last).
    pub classes: Vec<Class>,
    /// Each class's fingerprint of its examples when fitted.
    pub fingerprints: Vec<u64>,
    /// The weights.
    pub weights: SoftmaxRegression,
}

/// One agent's model.
#[derive(Debug, Clone)]
pub struct AnswerModel {
    dim: usize,
    o: ModelOptions,
    examples: BTreeMap<ExampleId, Entry>,
    /// Generic examples left out because one of the agent's phrasings is close.
    excluded: BTreeSet<ExampleId>,
    /// The model's classes in order; out of scope is last.
    classes: Vec<Class>,
    model: SoftmaxRegression,
    /// Classes whose examples changed since they were fitted.
    dirty: BTreeSet<Class>,
    /// Each answer's examples (phrasings and judged questions).
    counts: BTreeMap<i64, usize>,
    /// The answers that are classes (established, within `max_answers`), as chosen at
    /// the last update.
    modeled: BTreeSet<i64>,
    /// Nothing fitted yet (or a restored model did not fit): the next update fits all.
    fresh: bool,
}

impl AnswerModel {
    /// An empty model of `dim`-wide vectors.
    pub fn new(dim: usize, o: ModelOptions) -> AnswerModel {
        AnswerModel {
            dim,
            o,
            examples: BTreeMap::new(),
            excluded: BTreeSet::new(),
            classes: vec![None],
            model: SoftmaxRegression::new(dim, 1),
            dirty: BTreeSet::new(),
            counts: BTreeMap::new(),
            modeled: BTreeSet::new(),
            fresh: true,
        }
    }

    /// The options it runs with.
    pub fn options(&self) -> &ModelOptions {
        &self.o
    }

    /// How many answers it tells apart.
    pub fn answers(&self) -> usize {
        self.classes.len() - 1
    }

    /// How many examples it holds (generic ones left out included).
    pub fn examples(&self) -> usize {
        self.examples.len()
    }

    /// Whether changes wait for [`update`](Self::update).
    pub fn is_stale(&self) -> bool {
        self.fresh || !self.dirty.is_empty()
    }

    /// Add or replace an example: a phrasing of `answer`, or (`answer` = `None`) an
    /// off-topic one; `generic`: from the shipped set (left out near the agent's own
    /// phrasings).
    pub fn upsert(&mut self, id: ExampleId, answer: Option<i64>, generic: bool, v: &[f32]) {
        if v.len() != self.dim {
            return;
        }
        if let Some(old) = self.examples.get(&id) {
            if old.answer == answer && old.v == v && old.generic == generic {
                return;
            }
            let old = old.answer;
            self.count(old, -1);
        }
        self.count(answer, 1);
        let margin = self.o.generic_margin;
        if answer.is_some() {
            // A phrasing: generic examples close to it leave the out-of-scope class.
            let near: Vec<ExampleId> = self
                .examples
                .iter()
                .filter(|(k, e)| e.generic && !self.excluded.contains(k) && dot(&e.v, v) >= margin)
                .map(|(k, _)| *k)
                .collect();
            if !near.is_empty() {
                self.excluded.extend(near);
                self.dirty.insert(None);
            }
        } else if generic && self.examples.values().any(|e| e.answer.is_some() && dot(&e.v, v) >= margin) {
            self.excluded.insert(id);
        }
        self.examples.insert(id, Entry { answer, generic, v: v.to_vec() });
    }

    /// Remove an example (a generic one a removed phrasing had left out stays out until
    /// the next full fit).
    pub fn remove(&mut self, id: ExampleId) {
        if let Some(e) = self.examples.remove(&id) {
            self.count(e.answer, -1);
            self.excluded.remove(&id);
        }
    }

    /// One example more or less for `answer`: its class (or out of scope, where a young
    /// answer's examples go) is to be refitted, both when it crosses `min_phrasings`.
    fn count(&mut self, answer: Option<i64>, by: isize) {
        let Some(a) = answer else {
            self.dirty.insert(None);
            return;
        };
        // The class its examples trained, and the one they will: out of scope while it
        // is young, its own once established (both change when it crosses the line).
        if self.counts.contains_key(&a) {
            self.dirty.extend(self.label(answer));
        }
        let n = self.counts.entry(a).or_default();
        *n = n.saturating_add_signed(by);
        if *n == 0 {
            self.counts.remove(&a);
        } else {
            self.dirty.insert(if self.established(a) { Some(a) } else { None });
        }
    }

    fn established(&self, a: i64) -> bool {
        self.counts.get(&a).copied().unwrap_or(0) >= self.o.min_phrasings.max(1) as usize
    }

    /// The class an example of `answer` trains: the answer's own when the model holds
    /// it, out of scope while the answer is young; `None`: not learned from at all (an
    /// established answer past `max_answers`).
    fn label(&self, answer: Option<i64>) -> Option<Class> {
        match answer {
            None => Some(None),
            Some(a) if self.modeled.contains(&a) => Some(Some(a)),
            Some(a) if !self.established(a) => Some(None),
            Some(_) => None,
        }
    }

    /// The answers the model should hold: established ones, those with the most
    /// phrasings first, up to `max_answers`.
    fn choose_modeled(&self) -> BTreeSet<i64> {
        let mut ranked: Vec<(usize, i64)> =
            self.counts.iter().filter(|(a, _)| self.established(**a)).map(|(a, n)| (*n, *a)).collect();
        ranked.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        ranked.into_iter().take(self.o.max_answers as usize).map(|(_, a)| a).collect()
    }

    /// The examples that train the model.
    fn training(&self) -> impl Iterator<Item = (&ExampleId, &Entry)> {
        training(&self.examples, &self.excluded)
    }

    /// The classes the examples call for: every answer with an example, then out of
    /// scope.
    fn wanted_classes(&self) -> Vec<Class> {
        self.modeled.iter().map(|a| Some(*a)).chain(std::iter::once(None)).collect()
    }

    fn centroid(&self, class: Class) -> Vec<f32> {
        let mut c = vec![0f32; self.dim];
        for (_, e) in self.training().filter(|(_, e)| self.label(e.answer) == Some(class)) {
            c.iter_mut().zip(&e.v).for_each(|(a, b)| *a += b);
        }
        c
    }

    /// Make the model's classes those the examples call for: new answers start from
    /// their centroid, answers with no example left go.
    fn align_classes(&mut self) {
        let modeled = self.choose_modeled();
        if modeled != self.modeled {
            self.dirty.extend(modeled.symmetric_difference(&self.modeled).map(|a| Some(*a)));
            self.modeled = modeled;
        }
        let wanted = self.wanted_classes();
        let keep: BTreeSet<Class> = wanted.iter().copied().collect();
        let mut k = 0;
        while k < self.classes.len() {
            if keep.contains(&self.classes[k]) {
                k += 1;
            } else {
                self.model.swap_remove_class(k);
                self.classes.swap_remove(k);
            }
        }
        // Out of scope moves back to the end; new answers go before it.
        if let Some(pos) = self.classes.iter().position(|c| c.is_none()) {
            let last = self.classes.len() - 1;
            if pos != last {
                self.swap_classes(pos, last);
            }
        }
        for class in wanted.into_iter().filter(|c| c.is_some()) {
            if !self.classes.contains(&class) {
                let init = self.centroid(class);
                self.model.push_class(&init);
                self.classes.push(class);
                let last = self.classes.len() - 1;
                self.swap_classes(last - 1, last);
                self.dirty.insert(class);
            }
        }
    }

    fn swap_classes(&mut self, a: usize, b: usize) {
        self.classes.swap(a, b);
        self.model.swap_rows(a, b);
    }

    /// Fit what changed: the changed answers with their neighbours (or everything when
    /// much changed or nothing was fitted yet). Milliseconds for a few answers.
    pub fn update(&mut self) -> UpdateReport {
        if !self.is_stale() {
            return UpdateReport::default();
        }
        let started = std::time::Instant::now();
        self.align_classes();
        if self.classes.len() == 1 {
            // Out of scope alone: nothing to tell apart, nothing to fit.
            self.dirty.clear();
            self.fresh = false;
            return UpdateReport { full: true, classes: 1, examples: 0, iterations: 0, micros: 0 };
        }
        let index: HashMap<Class, usize> = self.classes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        let dirty: Vec<usize> = self.dirty.iter().filter_map(|c| index.get(c).copied()).collect();
        let full = self.fresh || dirty.len() as f32 > self.o.full_fit_share * self.classes.len() as f32;
        // The weights are fitted apart from the examples they are fitted on.
        let mut model = std::mem::replace(&mut self.model, SoftmaxRegression::new(self.dim, 0));
        // At most `max_examples` of each answer (out of scope takes them all).
        let mut taken: HashMap<usize, u32> = HashMap::new();
        let oos = self.classes.len() - 1;
        let all: Vec<(&[f32], usize, f32)> = self
            .training()
            .filter_map(|(_, e)| Some((e.v.as_slice(), index[&self.label(e.answer)?], 1.0)))
            .filter(|(_, k, _)| {
                let n = taken.entry(*k).or_default();
                *n += 1;
                *k == oos || *n <= self.o.max_examples
            })
            .collect();
        let l2 = 1.0 / self.o.c.max(1e-6);
        let (fitted, classes, read): (Fitted, usize, usize) = if full {
            let f = model.fit(&all, &FitOptions { l2, max_iters: self.o.fit_iters as u64 });
            (f, self.classes.len(), all.len())
        } else {
            let (block, active) = block(&self.o, &self.classes, &dirty, &all);
            let o = FitOptions { l2, max_iters: self.o.refine_iters as u64 };
            (model.refine(&all, &block, &active, &o), block.len(), active.len())
        };
        drop(all);
        self.model = model;
        self.dirty.clear();
        self.fresh = false;
        let micros = started.elapsed().as_micros() as u64;
        UpdateReport { full, classes, examples: read, iterations: fitted.iterations, micros }
    }

    /// The probability of each answer, and of none, for a question's vector (call
    /// [`update`](Self::update) first, or the last fit is used).
    pub fn scores(&self, q: &[f32]) -> ModelScores {
        let p = self.model.probabilities(q);
        let mut out = ModelScores { answers: HashMap::with_capacity(p.len()), out_of_scope: 0.0 };
        for (c, p) in self.classes.iter().zip(p) {
            match c {
                Some(a) => {
                    out.answers.insert(*a, p);
                }
                None => out.out_of_scope = p,
            }
        }
        out
    }

    fn fingerprint(&self, class: Class) -> u64 {
        self.training()
            .filter(|(_, e)| self.label(e.answer) == Some(class))
            // The vector's first component too: weights fitted on another model's
            // vectors of the same examples are never taken back.
            .fold(0u64, |h, ((kind, id), e)| {
                let v0 = e.v.first().map_or(0, |x| x.to_bits() as u64);
                h.wrapping_add(mix((kind.code() as u64) << 56 ^ *id as u64 ^ v0 << 20))
            })
    }

    /// The weights as fitted, to keep.
    pub fn save(&self) -> SavedModel {
        SavedModel {
            classes: self.classes.clone(),
            fingerprints: self.classes.iter().map(|c| self.fingerprint(*c)).collect(),
            weights: self.model.clone(),
        }
    }

    /// Take the saved weights of every class whose examples are the same as when they
    /// were saved (the rest are refitted at the next update; everything, if the saved
    /// model does not fit this one).
    pub fn restore(&mut self, saved: &SavedModel) {
        let w = &saved.weights;
        if w.dim() != self.dim || w.classes() != saved.classes.len() || saved.classes.last() != Some(&None) {
            return;
        }
        self.modeled = self.choose_modeled();
        self.classes = saved.classes.clone();
        self.model = w.clone();
        self.dirty.clear();
        for (c, f) in saved.classes.iter().zip(&saved.fingerprints) {
            if self.fingerprint(*c) != *f {
                self.dirty.insert(*c);
            }
        }
        for c in self.wanted_classes() {
            if !self.classes.contains(&c) {
                self.dirty.insert(c);
            }
        }
        self.fresh = false;
    }
}

/// The classes a refit of `dirty` fits (them, their nearest neighbours, out of scope)
/// and the examples it reads (all of those classes', and the examples of other classes
/// nearest to the changed ones).
fn block(o: &ModelOptions, classes: &[Class], dirty: &[usize], all: &[Sample<'_>]) -> (Vec<usize>, Vec<usize>) {
    let (dim, oos) = (all.first().map_or(0, |s| s.0.len()), classes.len() - 1);
    let changed: BTreeSet<usize> = dirty.iter().copied().collect();
    let mut centroids: Vec<Vec<f32>> = vec![vec![0f32; dim]; dirty.len()];
    for s in all {
        if let Some(j) = dirty.iter().position(|&k| k == s.1) {
            centroids[j].iter_mut().zip(s.0).for_each(|(a, b)| *a += b);
        }
    }
    let mut near: Vec<(f32, usize)> = all
        .iter()
        .enumerate()
        .filter(|(_, s)| !changed.contains(&s.1))
        .map(|(i, s)| (centroids.iter().map(|c| dot(c, s.0)).fold(f32::MIN, f32::max), i))
        .collect();
    let cut = (o.nearby as usize).min(near.len());
    if cut < near.len() {
        near.select_nth_unstable_by(cut, |a, b| b.0.total_cmp(&a.0));
        near.truncate(cut);
    }
    let mut votes: BTreeMap<usize, usize> = BTreeMap::new();
    for &(_, i) in &near {
        *votes.entry(all[i].1).or_default() += 1;
    }
    let mut ranked: Vec<(usize, usize)> = votes.into_iter().filter(|(k, _)| *k != oos).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut block: BTreeSet<usize> = changed;
    block.extend(ranked.iter().take(o.neighbours as usize * dirty.len()).map(|(k, _)| *k));
    block.insert(oos);
    let mut active: BTreeSet<usize> = near.iter().map(|&(_, i)| i).collect();
    active.extend(all.iter().enumerate().filter(|(_, s)| block.contains(&s.1)).map(|(i, _)| i));
    (block.into_iter().collect(), active.into_iter().collect())
}

/// The examples that train a model: all but the generic ones left out.
fn training<'a>(
    examples: &'a BTreeMap<ExampleId, Entry>,
    excluded: &'a BTreeSet<ExampleId>,
) -> impl Iterator<Item = (&'a ExampleId, &'a Entry)> {
    examples.iter().filter(move |(k, _)| !excluded.contains(k))
}

/// splitmix64's finaliser: spreads ids so their sum is an order-free fingerprint.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;

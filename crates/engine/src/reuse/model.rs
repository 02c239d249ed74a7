//! Softmax regression over phrasing embeddings: the creator's canonical answers are the
//! classes, their phrasings the examples, and one more class stands for "none of them"
//! (out of scope), learned from off-topic examples.
//!
//! Measured on CLINC150 (ARCHITECTURE.md, "Reuse"), a linear model of the phrasings
//! picks the right answer far more often than the nearest phrasing or the nearest
//! centroid, because it learns which directions tell neighbouring answers apart.
//!
//! Why this is written here rather than taken from linfa or smartcore: a change to one
//! answer (a phrasing attached, a new answer, a merge) must reach the model in
//! milliseconds, and no crate offers the update that makes that possible: re-fitting
//! only the changed answers' weights (and their neighbours'), on the examples near
//! them, with every other weight held ([`SoftmaxRegression::refine`]). A full fit of a
//! large library takes seconds and is done once, when no model is kept. The optimiser
//! is argmin's L-BFGS; the matrix products are ndarray's.

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// One example: its vector, its class and its weight in the loss.
pub type Sample<'a> = (&'a [f32], usize, f32);

/// How hard to fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// L2 penalty on the weights (not the biases): `l2 / 2 · ‖W‖²` beside the summed
    /// cross-entropy (scikit-learn's `C` is `1 / l2`).
    pub l2: f32,
    /// L-BFGS iterations at most.
    pub max_iters: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { l2: 1.0 / 30.0, max_iters: 200 }
    }
}

/// What a fit did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fitted {
    /// Iterations run.
    pub iterations: u64,
    /// The loss reached.
    pub loss: f64,
}

/// A linear model with one row of weights and a bias per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxRegression {
    dim: usize,
    /// `classes × (dim + 1)`: each class's weights, then its bias.
    w: Vec<f32>,
}

impl SoftmaxRegression {
    /// A model of `classes` classes with every weight zero.
    pub fn new(dim: usize, classes: usize) -> SoftmaxRegression {
        SoftmaxRegression { dim, w: vec![0.0; classes * (dim + 1)] }
    }

    /// Width of the vectors it reads.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How many classes it tells apart.
    pub fn classes(&self) -> usize {
        self.w.len() / (self.dim + 1)
    }

    /// Class `k`'s weights and bias.
    pub fn row(&self, k: usize) -> (&[f32], f32) {
        let r = &self.w[k * (self.dim + 1)..(k + 1) * (self.dim + 1)];
        (&r[..self.dim], r[self.dim])
    }

    /// Add a class whose weights start as `direction` scaled to the mean length of the
    /// others' (and their mean bias): a fair start that a refit then sharpens.
    pub fn push_class(&mut self, direction: &[f32]) {
        let k = self.classes();
        let (mut norm, mut bias) = (0f32, 0f32);
        for c in 0..k {
            let (w, b) = self.row(c);
            norm += crate::vector::dot(w, w).sqrt();
            bias += b;
        }
        let (norm, bias) = if k > 0 { (norm / k as f32, bias / k as f32) } else { (1.0, 0.0) };
        let len = crate::vector::dot(direction, direction).sqrt().max(f32::MIN_POSITIVE);
        self.w.extend(direction.iter().map(|x| x / len * norm.max(1.0)));
        self.w.push(bias);
    }

    /// Exchange two classes' rows.
    pub fn swap_rows(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let d = self.dim + 1;
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = self.w.split_at_mut(hi * d);
        left[lo * d..(lo + 1) * d].swap_with_slice(&mut right[..d]);
    }

    /// Remove class `k`; the last class takes its place (as `Vec::swap_remove`).
    pub fn swap_remove_class(&mut self, k: usize) {
        let (n, d) = (self.classes(), self.dim + 1);
        if k + 1 != n {
            self.w.copy_within((n - 1) * d..n * d, k * d);
        }
        self.w.truncate((n - 1) * d);
    }

    /// Each class's logit for `x`.
    pub fn logits(&self, x: &[f32]) -> Vec<f32> {
        (0..self.classes())
            .map(|k| {
                let (w, b) = self.row(k);
                crate::vector::dot(w, x) + b
            })
            .collect()
    }

    /// Each class's probability for `x`.
    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        let mut z = self.logits(x);
        softmax(&mut z);
        z
    }

    /// Fit every class to `data`, starting from the current weights (zero for a new
    /// model; the last fit's, for a warm start).
    pub fn fit(&mut self, data: &[Sample<'_>], o: &FitOptions) -> Fitted {
        let classes: Vec<usize> = (0..self.classes()).collect();
        let samples: Vec<usize> = (0..data.len()).collect();
        self.refine(data, &classes, &samples, o)
    }

    /// Fit only `classes`' weights on the examples `samples`, every other class held as
    /// it is. A new or changed answer's weights, with its closest neighbours', fitted on
    /// the examples near them: milliseconds where a full fit takes seconds.
    pub fn refine(&mut self, data: &[Sample<'_>], classes: &[usize], samples: &[usize], o: &FitOptions) -> Fitted {
        if classes.is_empty() || samples.is_empty() {
            return Fitted { iterations: 0, loss: 0.0 };
        }
        let problem = Block::new(self, data, classes, samples, o.l2);
        let init: Vec<f64> = classes
            .iter()
            .flat_map(|&k| self.w[k * (self.dim + 1)..(k + 1) * (self.dim + 1)].iter().map(|&v| v as f64))
            .collect();
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
            .with_tolerance_grad(1e-5)
            .and_then(|s| s.with_tolerance_cost(1e-10));
        let fitted = solver.ok().and_then(|solver| {
            Executor::new(problem, solver).configure(|s| s.param(init.clone()).max_iters(o.max_iters)).run().ok().map(
                |r| {
                    let s = r.state();
                    (s.get_best_param().cloned().unwrap_or_else(|| init.clone()), s.get_iter(), s.get_best_cost())
                },
            )
        });
        // L-BFGS fails only on a degenerate line search; the weights are then kept.
        let Some((best, iterations, loss)) = fitted else { return Fitted { iterations: 0, loss: f64::NAN } };
        let d = self.dim + 1;
        for (j, &k) in classes.iter().enumerate() {
            for (dst, src) in self.w[k * d..(k + 1) * d].iter_mut().zip(&best[j * d..(j + 1) * d]) {
                *dst = *src as f32;
            }
        }
        Fitted { iterations, loss }
    }
}

/// Softmax in place, stable for any logits.
pub fn softmax(z: &mut [f32]) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0f32;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    if s > 0.0 {
        z.iter_mut().for_each(|v| *v /= s);
    }
}

/// A point with its loss and gradient.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

/// The loss of a block of classes' weights on some examples, the other classes held:
/// `Σ wᵢ (log Σₖ exp zᵢₖ − zᵢ,yᵢ) + l2/2 · ‖W_block‖²`.
struct Block<'a> {
    dim: usize,
    /// The block's classes (model class indices).
    classes: &'a [usize],
    /// Position of a model class in the block, if it is in it.
    in_block: Vec<Option<usize>>,
    /// The examples' vectors (`samples × dim`).
    x: Array2<f32>,
    /// Each example's class (model index) and weight.
    y: Vec<usize>,
    w: Vec<f32>,
    /// Each example's log Σ exp of the held classes' logits (−∞ when none), and its
    /// held label logit when its class is not in the block.
    held_lse: Vec<f64>,
    held_label: Vec<Option<f64>>,
    l2: f64,
    /// The last point evaluated with its loss and gradient (L-BFGS asks for the cost
    /// and then the gradient of the same point).
    last: Mutex<Option<Evaluated>>,
}

impl<'a> Block<'a> {
    fn new(
        model: &SoftmaxRegression,
        data: &[Sample<'_>],
        classes: &'a [usize],
        samples: &[usize],
        l2: f32,
    ) -> Block<'a> {
        let (dim, n) = (model.dim, samples.len());
        let mut in_block = vec![None; model.classes()];
        for (j, &k) in classes.iter().enumerate() {
            in_block[k] = Some(j);
        }
        let mut x = Array2::<f32>::zeros((n, dim));
        for (r, &i) in samples.iter().enumerate() {
            x.row_mut(r).as_slice_mut().expect("contiguous").copy_from_slice(data[i].0);
        }
        let y: Vec<usize> = samples.iter().map(|&i| data[i].1).collect();
        // The loss is divided by the total weight of all examples (the same optimum, and
        // a gradient whose scale does not grow with the library, so the first step and
        // the tolerances fit any size).
        let total = data.iter().map(|s| s.2 as f64).sum::<f64>().max(f64::MIN_POSITIVE);
        let w: Vec<f32> = samples.iter().map(|&i| (data[i].2 as f64 / total) as f32).collect();
        // The held classes' logits, once: every evaluation reuses them.
        let held: Vec<usize> = (0..model.classes()).filter(|k| in_block[*k].is_none()).collect();
        let mut held_lse = vec![f64::NEG_INFINITY; n];
        let mut held_label = vec![None; n];
        if !held.is_empty() {
            let wh = weights_of(model, &held);
            let z = x.dot(&wh.t());
            for r in 0..n {
                let (mut m, mut s) = (f64::NEG_INFINITY, 0f64);
                for (j, &k) in held.iter().enumerate() {
                    let v = z[[r, j]] as f64 + model.row(k).1 as f64;
                    if k == y[r] {
                        held_label[r] = Some(v);
                    }
                    if v > m {
                        s = s * (m - v).exp() + 1.0;
                        m = v;
                    } else {
                        s += (v - m).exp();
                    }
                }
                held_lse[r] = m + s.ln();
            }
        }
        Block { dim, classes, in_block, x, y, w, held_lse, held_label, l2: l2 as f64 / total, last: Mutex::new(None) }
    }

    fn evaluate(&self, p: &[f64]) -> (f64, Vec<f64>) {
        if let Some((q, f, g)) = self.last.lock().expect("not poisoned").as_ref() {
            if q.as_slice() == p {
                return (*f, g.clone());
            }
        }
        let (d, b) = (self.dim, self.classes.len());
        let wb = Array2::from_shape_fn((b, d), |(j, c)| p[j * (d + 1) + c] as f32);
        let bias: Vec<f32> = (0..b).map(|j| p[j * (d + 1) + d] as f32).collect();
        // Logits, then in place the residuals (probability − label) · weight.
        let mut resid = self.x.dot(&wb.t()); // n × b
        let mut loss = 0f64;
        let mut bias_grad = vec![0f64; b];
        for (r, mut row) in resid.rows_mut().into_iter().enumerate() {
            let z = row.as_slice_mut().expect("contiguous");
            let held = self.held_lse[r] as f32;
            let mut m = held;
            for (v, bj) in z.iter_mut().zip(&bias) {
                *v += bj;
                m = m.max(*v);
            }
            let own = self.in_block[self.y[r]];
            let label = match own {
                Some(j) => z[j],
                None => self.held_label[r].map_or(f32::NAN, |l| l as f32),
            };
            let mut s = if held.is_finite() { (held - m).exp() } else { 0.0 };
            for v in z.iter_mut() {
                *v = (*v - m).exp();
                s += *v;
            }
            let lse = m + s.ln();
            let wt = self.w[r];
            // An example of a held class with no held logit cannot happen; count it as 0.
            loss += (wt * (lse - if label.is_nan() { lse } else { label })) as f64;
            let scale = wt / s;
            for (j, v) in z.iter_mut().enumerate() {
                *v *= scale;
                if own == Some(j) {
                    *v -= wt;
                }
                bias_grad[j] += *v as f64;
            }
        }
        let gw = resid.t().dot(&self.x); // b × d
        let mut grad = vec![0f64; b * (d + 1)];
        for j in 0..b {
            for c in 0..d {
                let wjc = p[j * (d + 1) + c];
                grad[j * (d + 1) + c] = gw[[j, c]] as f64 + self.l2 * wjc;
                loss += 0.5 * self.l2 * wjc * wjc;
            }
            grad[j * (d + 1) + d] = bias_grad[j];
        }
        *self.last.lock().expect("not poisoned") = Some((p.to_vec(), loss, grad.clone()));
        (loss, grad)
    }
}

/// The weights (without biases) of some classes, one row each.
fn weights_of(model: &SoftmaxRegression, classes: &[usize]) -> Array2<f32> {
    let d = model.dim;
    let mut m = Array2::<f32>::zeros((classes.len(), d));
    for (j, &k) in classes.iter().enumerate() {
        m.row_mut(j).as_slice_mut().expect("contiguous").copy_from_slice(model.row(k).0);
    }
    m
}

impl CostFunction for Block<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        Ok(self.evaluate(p).0)
    }
}

impl Gradient for Block<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(p).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three well-separated classes in 4 dimensions, a few noisy examples each.
    fn blobs() -> Vec<(Vec<f32>, usize, f32)> {
        let mut e = Vec::new();
        let centres = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
        let mut seed = 7u64;
        let mut noise = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 1000) as f32 / 5000.0 - 0.1
        };
        for (k, c) in centres.iter().enumerate() {
            for _ in 0..6 {
                let x: Vec<f32> = c.iter().map(|v| v + noise()).collect();
                e.push((x, k, 1.0));
            }
        }
        e
    }

    fn view(e: &[(Vec<f32>, usize, f32)]) -> Vec<Sample<'_>> {
        e.iter().map(|(x, y, w)| (x.as_slice(), *y, *w)).collect()
    }

    fn accuracy(m: &SoftmaxRegression, e: &[(Vec<f32>, usize, f32)]) -> f64 {
        let right = e
            .iter()
            .filter(|(x, y, _)| {
                let p = m.probabilities(x);
                p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|x| x.0) == Some(*y)
            })
            .count();
        right as f64 / e.len() as f64
    }

    #[test]
    fn a_fit_separates_classes_and_lowers_the_loss() {
        let e = blobs();
        let mut m = SoftmaxRegression::new(4, 3);
        let before = m.probabilities(&e[0].0);
        assert!((before[0] - 1.0 / 3.0).abs() < 1e-6);
        let f = m.fit(&view(&e), &FitOptions { l2: 0.01, max_iters: 100 });
        assert!(f.iterations > 0 && f.loss.is_finite(), "{f:?}");
        assert_eq!(accuracy(&m, &e), 1.0);
        assert!(m.probabilities(&[0.0, 0.9, 0.1, 0.0])[1] > 0.9);
    }

    #[test]
    fn refining_a_new_class_leaves_the_others_and_learns_it() {
        let mut e = blobs();
        let mut m = SoftmaxRegression::new(4, 3);
        m.fit(&view(&e), &FitOptions::default());
        let held = m.row(0).0.to_vec();
        // A fourth class appears, along the last axis.
        for x in [[0.0, 0.05, 0.0, 1.0], [0.05, 0.0, 0.0, 0.95]] {
            e.push((x.to_vec(), 3, 1.0));
        }
        m.push_class(&[0.0, 0.0, 0.0, 1.0]);
        let all: Vec<usize> = (0..e.len()).collect();
        let f = m.refine(&view(&e), &[3], &all, &FitOptions::default());
        assert!(f.iterations > 0);
        assert_eq!(m.row(0).0, held.as_slice(), "held classes do not move");
        assert!(m.probabilities(&[0.0, 0.0, 0.1, 0.9])[3] > 0.8);
        assert_eq!(accuracy(&m, &e), 1.0);
        // Swapping rows, then removing a class moves the last one into its place.
        let (r0, r2) = (m.row(0).0.to_vec(), m.row(2).0.to_vec());
        m.swap_rows(0, 2);
        assert_eq!((m.row(0).0, m.row(2).0), (r2.as_slice(), r0.as_slice()));
        let last = m.row(3).0.to_vec();
        m.swap_remove_class(1);
        assert_eq!(m.classes(), 3);
        assert_eq!(m.row(1).0, last.as_slice());
    }

    #[test]
    fn softmax_is_stable_for_large_logits() {
        let mut z = vec![1000.0, 1000.0, -1000.0];
        softmax(&mut z);
        assert!((z[0] - 0.5).abs() < 1e-6 && z[2] == 0.0);
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let e = blobs();
        let mut m = SoftmaxRegression::new(4, 3);
        m.fit(&view(&e), &FitOptions { l2: 0.1, max_iters: 3 });
        let samples: Vec<usize> = (0..e.len()).collect();
        let data = view(&e);
        let b = Block::new(&m, &data, &[0, 2], &samples, 0.1);
        let p: Vec<f64> = [0usize, 2]
            .iter()
            .flat_map(|&k| {
                let (w, bias) = m.row(k);
                w.iter().map(|v| *v as f64).chain(std::iter::once(bias as f64)).collect::<Vec<_>>()
            })
            .collect();
        let (_, g) = b.evaluate(&p);
        for i in 0..p.len() {
            let (mut up, mut down) = (p.clone(), p.clone());
            up[i] += 1e-3;
            down[i] -= 1e-3;
            let numeric = (b.evaluate(&up).0 - b.evaluate(&down).0) / 2e-3;
            assert!((numeric - g[i]).abs() < 2e-2 * (1.0 + g[i].abs()), "param {i}: {numeric} vs {}", g[i]);
        }
    }
}

//! Fusing a dense (cosine) and a sparse (BM25) ranking.
//!
//! - Convex combination: `w · cosine + (1 − w) · bm25 / max(bm25)`. Uses the scores, so a
//!   chunk that is far more similar in meaning is not overtaken by one that merely shares
//!   a frequent word (Bruch et al., 2023, find it beats RRF once `w` is set).
//! - Reciprocal rank fusion (Cormack et al., 2009): ranks only, no calibration needed, but
//!   with k = 60 it hardly separates rank 1 from rank 3, so presence in both lists wins.

use std::collections::HashMap;
use std::hash::Hash;

/// The usual constant; larger values flatten the advantage of the top ranks.
pub const DEFAULT_RRF_K: f64 = 60.0;

/// Fuse ranked lists (best first). Each item scores Σ 1 / (k + rank) over the lists it
/// appears in (rank starting at 1). Ties keep the order of first appearance.
pub fn reciprocal_rank_fusion<T: Copy + Eq + Hash>(lists: &[&[T]], k: f64) -> Vec<(T, f64)> {
    let mut scores: HashMap<T, (f64, usize)> = HashMap::new();
    let mut seen = 0usize;
    for list in lists {
        for (rank, item) in list.iter().enumerate() {
            let e = scores.entry(*item).or_insert_with(|| {
                seen += 1;
                (0.0, seen)
            });
            e.0 += 1.0 / (k + rank as f64 + 1.0);
        }
    }
    let mut out: Vec<(T, f64, usize)> = scores.into_iter().map(|(t, (s, o))| (t, s, o)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    out.into_iter().map(|(t, s, _)| (t, s)).collect()
}

/// Convex combination of a cosine similarity and a BM25 score normalised by the best
/// BM25 score among the candidates (0 when the item has no BM25 score).
pub fn convex_combination(cosine: f32, bm25: Option<f32>, max_bm25: f32, dense_weight: f64) -> f64 {
    let sparse = match bm25 {
        Some(b) if max_bm25 > 0.0 => (b / max_bm25) as f64,
        _ => 0.0,
    };
    dense_weight * cosine as f64 + (1.0 - dense_weight) * sparse
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convex_favours_meaning_over_a_shared_word() {
        // A chunk with cosine 0.57 and a weak BM25 match beats one with cosine 0.18 and
        // the best BM25 score.
        let meaning = convex_combination(0.57, Some(2.0), 8.0, 0.7);
        let word = convex_combination(0.18, Some(8.0), 8.0, 0.7);
        assert!(meaning > word, "{meaning} vs {word}");
        assert_eq!(convex_combination(0.5, None, 8.0, 0.7), 0.7 * 0.5f32 as f64);
        assert_eq!(convex_combination(0.5, Some(1.0), 0.0, 1.0), 0.5f32 as f64);
    }

    #[test]
    fn item_in_both_lists_wins() {
        let a = [1, 2, 3];
        let b = [3, 4];
        let fused = reciprocal_rank_fusion(&[&a, &b], 60.0);
        assert_eq!(fused[0].0, 3);
        assert_eq!(fused.len(), 4);
        let s1 = fused.iter().find(|x| x.0 == 1).unwrap().1;
        assert!((s1 - 1.0 / 61.0).abs() < 1e-12);
    }

    #[test]
    fn empty_lists_give_nothing() {
        let e: [u32; 0] = [];
        assert!(reciprocal_rank_fusion(&[&e, &e], 60.0).is_empty());
    }
}

//! Reciprocal rank fusion (Cormack et al., 2009): combine ranked lists without having to
//! calibrate their scores against each other.

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

#[cfg(test)]
mod tests {
    use super::*;

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

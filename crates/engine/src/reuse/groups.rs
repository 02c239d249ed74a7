//! Grouping questions that ask the same thing (the creator's queue answers a group
//! once). Two questions may share a group only if the reuse verdict would serve one's
//! answer for the other when that answer is young: a similarity of at least
//! `young_threshold`. Every pair in a group passes that test (complete linkage), so a
//! chain of near neighbours never joins two different questions.

use crate::vector::dot;

/// Groups of `vectors` (indices), in order: each vector joins the first group whose
/// every member is at least `threshold` close to it, or starts a new one. `alone`
/// marks vectors kept out of every group.
pub fn group(vectors: &[Vec<f32>], alone: &[bool], threshold: f32) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let by_itself = alone.get(i).copied().unwrap_or(false);
        let home = (!by_itself).then(|| {
            groups.iter().position(|g| {
                !alone.get(g[0]).copied().unwrap_or(false) && g.iter().all(|&j| dot(v, &vectors[j]) >= threshold)
            })
        });
        match home.flatten() {
            Some(g) => groups[g].push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(angle_deg: f32) -> Vec<f32> {
        let a = angle_deg.to_radians();
        vec![a.cos(), a.sin()]
    }

    #[test]
    fn a_chain_of_neighbours_does_not_join_its_ends() {
        // 0° and 20° are close (cos 0.94), 20° and 40° too, 0° and 40° not (0.77).
        let vs = vec![unit(0.0), unit(20.0), unit(40.0), unit(2.0)];
        let g = group(&vs, &[false; 4], 0.9);
        assert_eq!(g, vec![vec![0, 1, 3], vec![2]]);
    }

    #[test]
    fn a_question_kept_alone_stays_alone_and_takes_no_one_in() {
        let vs = vec![unit(0.0), unit(1.0), unit(2.0)];
        assert_eq!(group(&vs, &[false, true, false], 0.9), vec![vec![0, 2], vec![1]]);
        assert_eq!(group(&vs, &[true, false, false], 0.9), vec![vec![0], vec![1, 2]]);
    }
}

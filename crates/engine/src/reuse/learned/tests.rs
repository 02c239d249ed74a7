use super::*;

fn unit(axis: usize, wobble: f32, dim: usize) -> Vec<f32> {
    let mut v = vec![0.0; dim];
    v[axis] = 1.0;
    v[(axis + 1) % dim] = wobble;
    crate::vector::normalize(&mut v);
    v
}

fn ph(id: i64) -> ExampleId {
    (ItemKind::Canonical, id)
}

fn best(m: &AnswerModel, q: &[f32]) -> Option<i64> {
    let s = m.scores(q);
    let (a, p) = s.answers.iter().max_by(|a, b| a.1.total_cmp(b.1)).map(|(a, p)| (*a, *p))?;
    (p > s.out_of_scope).then_some(a)
}

#[test]
fn answers_and_out_of_scope_are_learned_and_changes_refit_only_what_changed() {
    let dim = 8;
    let o = ModelOptions { neighbours: 1, min_phrasings: 1, ..ModelOptions::default() };
    let mut m = AnswerModel::new(dim, o);
    for (id, (axis, answer)) in [(0, 10), (0, 10), (1, 11), (1, 11), (2, 12)].iter().enumerate() {
        m.upsert(ph(id as i64), Some(*answer), false, &unit(*axis, 0.1 * id as f32, dim));
    }
    for i in 0..4 {
        m.upsert((ItemKind::Example, i), None, true, &unit(5 + i as usize % 3, 0.2, dim));
    }
    let r = m.update();
    assert!(r.full && r.classes == 4, "{r:?}");
    assert_eq!(best(&m, &unit(0, 0.05, dim)), Some(10));
    assert_eq!(best(&m, &unit(1, 0.05, dim)), Some(11));
    assert_eq!(best(&m, &unit(6, 0.0, dim)), None, "off-topic");
    assert!(!m.is_stale());
    // A new answer on a free axis: a refit of it (and neighbours), not everything.
    m.upsert(ph(20), Some(13), false, &unit(3, 0.0, dim));
    m.upsert(ph(21), Some(13), false, &unit(3, 0.1, dim));
    assert!(m.is_stale());
    let r = m.update();
    assert!(!r.full && r.classes == 3, "the new answer, one neighbour and out of scope: {r:?}");
    assert_eq!(best(&m, &unit(3, 0.05, dim)), Some(13));
    assert_eq!(best(&m, &unit(0, 0.05, dim)), Some(10), "the others still hold");
    // Merging 11 into 10 (its phrasings now belong to 10); deleting 12.
    m.upsert(ph(2), Some(10), false, &unit(1, 0.2, dim));
    m.upsert(ph(3), Some(10), false, &unit(1, 0.3, dim));
    m.remove(ph(4));
    m.update();
    assert_eq!(m.answers(), 2);
    assert_eq!(best(&m, &unit(1, 0.05, dim)), Some(10));
    assert!(!m.scores(&unit(2, 0.0, dim)).answers.contains_key(&12));
}

#[test]
fn a_young_answer_teaches_out_of_scope_until_it_is_established() {
    let dim = 6;
    let mut m = AnswerModel::new(dim, ModelOptions::default());
    for (id, axis) in [(1, 0), (2, 0), (3, 0)] {
        m.upsert(ph(id), Some(1), false, &unit(axis, 0.1 * id as f32, dim));
    }
    m.upsert(ph(4), Some(2), false, &unit(2, 0.0, dim));
    m.upsert(ph(5), Some(2), false, &unit(2, 0.1, dim));
    m.update();
    assert_eq!(m.answers(), 1, "answer 2 has two phrasings: not a class yet");
    let s = m.scores(&unit(2, 0.05, dim));
    assert!(!s.answers.contains_key(&2) && s.out_of_scope > s.answers[&1], "{s:?}");
    m.upsert(ph(6), Some(2), false, &unit(2, 0.2, dim));
    m.update();
    assert_eq!(m.answers(), 2);
    assert!(m.scores(&unit(2, 0.05, dim)).answers[&2] > 0.5);
    m.remove(ph(6));
    m.update();
    assert_eq!(m.answers(), 1, "back to two phrasings");
}

#[test]
fn past_max_answers_the_answers_with_fewest_phrasings_are_left_to_similarity() {
    let dim = 8;
    let mut m = AnswerModel::new(dim, ModelOptions { min_phrasings: 1, max_answers: 2, ..ModelOptions::default() });
    let mut id = 0;
    for (answer, phrasings) in [(1, 4), (2, 3), (3, 2)] {
        for _ in 0..phrasings {
            id += 1;
            m.upsert(ph(id), Some(answer), false, &unit(answer as usize, 0.05 * id as f32, dim));
        }
    }
    m.update();
    assert_eq!(m.answers(), 2);
    let s = m.scores(&unit(3, 0.0, dim));
    assert!(!s.answers.contains_key(&3), "{s:?}");
    // Its phrasings teach nothing, not even out of scope: it is a real answer.
    assert!(s.out_of_scope < 0.9, "{s:?}");
    // Two more phrasings: it overtakes answer 2.
    m.upsert(ph(100), Some(3), false, &unit(3, 0.3, dim));
    m.upsert(ph(101), Some(3), false, &unit(3, 0.4, dim));
    m.update();
    let s = m.scores(&unit(3, 0.0, dim));
    assert!(s.answers.contains_key(&3) && !s.answers.contains_key(&2), "{s:?}");
}

#[test]
fn a_generic_example_near_a_phrasing_is_left_out() {
    let dim = 4;
    let mut m = AnswerModel::new(dim, ModelOptions::default());
    m.upsert((ItemKind::Example, 1), None, true, &unit(0, 0.0, dim));
    m.upsert((ItemKind::Example, 2), None, false, &unit(0, 0.01, dim));
    m.upsert(ph(1), Some(7), false, &unit(0, 0.05, dim));
    assert_eq!(m.excluded.len(), 1, "the generic one, not the creator's declined one");
    let m2 = {
        let mut m2 = AnswerModel::new(dim, ModelOptions::default());
        m2.upsert(ph(1), Some(7), false, &unit(0, 0.05, dim));
        m2.upsert((ItemKind::Example, 1), None, true, &unit(0, 0.0, dim));
        m2
    };
    assert_eq!(m2.excluded.len(), 1, "whichever arrives first");
}

#[test]
fn saved_weights_come_back_for_unchanged_answers() {
    let dim = 6;
    let build = || {
        let o = ModelOptions { full_fit_share: 0.5, min_phrasings: 1, ..ModelOptions::default() };
        let mut m = AnswerModel::new(dim, o);
        m.upsert(ph(1), Some(1), false, &unit(0, 0.0, dim));
        m.upsert(ph(2), Some(2), false, &unit(2, 0.0, dim));
        m.upsert((ItemKind::Example, 9), None, true, &unit(4, 0.0, dim));
        m
    };
    let mut a = build();
    a.update();
    let saved = a.save();
    let mut b = build();
    b.restore(&saved);
    assert!(!b.is_stale(), "same examples: nothing to fit");
    assert_eq!(b.scores(&unit(0, 0.1, dim)), a.scores(&unit(0, 0.1, dim)));
    let mut c = build();
    c.upsert(ph(3), Some(2), false, &unit(2, 0.2, dim));
    c.restore(&saved);
    assert!(c.is_stale());
    assert!(!c.update().full);
}

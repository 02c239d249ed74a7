use super::*;

fn cand(id: i64, sim: f32, text: &str) -> ReuseCandidate {
    ReuseCandidate {
        canonical_id: id,
        phrasings: 5,
        similarity: sim,
        matched_text: text.into(),
        threshold: None,
        layer: Layer::Public,
        probability: None,
    }
}

#[test]
fn threshold_margin_and_lexical_checks_each_reject() {
    let p = ReuseParams {
        threshold: 0.7,
        young_threshold: 0.85,
        young_band: 1.0,
        margin: 0.05,
        per_answer: true,
        negation_check: true,
        number_check: true,
        top_m: 1,
        learned: false,
        min_probability: 0.0,
        trust_phrasings: 1,
    };
    let q = "can i bring my dog";
    assert!(judge(q, &[cand(1, 0.8, "can i bring a dog")], &p).is_reuse());
    // At the threshold exactly: served; just under: not.
    assert!(judge(q, &[cand(1, 0.7, "can i bring a dog")], &p).is_reuse());
    assert!(matches!(judge(q, &[cand(1, 0.699, "x")], &p), ReuseVerdict::Reject { check: ReuseCheck::Threshold, .. }));
    let close = [cand(1, 0.8, "can i bring a dog"), cand(2, 0.78, "can i bring a cat")];
    assert!(matches!(judge(q, &close, &p), ReuseVerdict::Reject { check: ReuseCheck::Margin, .. }));
    let neg = [cand(1, 0.9, "can i not bring my dog")];
    assert!(matches!(judge(q, &neg, &p), ReuseVerdict::Reject { check: ReuseCheck::Negation, .. }));
    let num = [cand(1, 0.9, "can i bring 2 dogs")];
    assert!(judge("can i bring 3 dogs", &num, &p) != judge("can i bring 2 dogs", &num, &p));
    let mut own = cand(1, 0.8, "can i bring a dog");
    own.threshold = Some(0.85);
    assert!(matches!(judge(q, &[own], &p), ReuseVerdict::Reject { check: ReuseCheck::AnswerThreshold, .. }));
    assert!(matches!(judge(q, &[], &p), ReuseVerdict::Reject { check: ReuseCheck::NoCandidate, .. }));
    // A young answer (one phrasing) needs a near-paraphrase.
    let young = ReuseCandidate { phrasings: 1, ..cand(1, 0.8, "can i bring a dog") };
    assert!(matches!(
        judge(q, std::slice::from_ref(&young), &p),
        ReuseVerdict::Reject { check: ReuseCheck::YoungThreshold, .. }
    ));
    assert!(judge(q, &[ReuseCandidate { similarity: 0.85, ..young }], &p).is_reuse());
    // In the young band, only when both name the same words.
    let p = ReuseParams { young_band: 0.75, ..p };
    let same = ReuseCandidate { phrasings: 1, ..cand(1, 0.8, "can my dog be brought") };
    assert!(!judge("can i bring my dog", std::slice::from_ref(&same), &p).is_reuse());
    let same = ReuseCandidate { phrasings: 1, ..cand(1, 0.8, "could I bring dogs?") };
    assert!(judge("can i bring my dog", std::slice::from_ref(&same), &p).is_reuse());
    let more = ReuseCandidate { phrasings: 1, ..cand(1, 0.8, "can i bring my dog to the workshop") };
    assert!(!judge("can i bring my dog", &[more], &p).is_reuse());
}

#[test]
fn the_learned_model_picks_and_similarity_gates_its_pick() {
    let p = ReuseParams { threshold: 0.5, top_m: 1, min_probability: 0.3, trust_phrasings: 5, ..Default::default() };
    let with = |sim: f32, prob: f32, id: i64| ReuseCandidate { probability: Some(prob), ..cand(id, sim, "x") };
    // The model prefers the second-closest answer: it is served.
    let v = judge("q", &[with(0.8, 0.2, 1), with(0.7, 0.7, 2)], &p);
    assert!(matches!(v, ReuseVerdict::Reuse { index: 1, .. }), "{v:?}");
    // Its pick is not likely enough: nothing is served, even the closest.
    let v = judge("q", &[with(0.9, 0.25, 1), with(0.7, 0.2, 2)], &p);
    assert!(matches!(v, ReuseVerdict::Reject { check: ReuseCheck::Probability, .. }), "{v:?}");
    // Its pick is likely but not close enough.
    let v = judge("q", &[with(0.45, 0.9, 1)], &p);
    assert!(matches!(v, ReuseVerdict::Reject { check: ReuseCheck::Threshold, .. }), "{v:?}");
    // An answer with fewer phrasings than `trust_phrasings` needs less.
    let young = ReuseCandidate { phrasings: 3, ..with(0.8, 0.2, 1) };
    assert!((p.probability_needed(3) - 0.18).abs() < 1e-6);
    assert!(judge("q", &[young], &p).is_reuse());
    // A young answer (no probability: the model does not speak for it) is judged
    // by similarity; when it and the model's pick both pass, the closer is served.
    let young = |sim: f32| ReuseCandidate { phrasings: 1, ..cand(9, sim, "y") };
    let v = judge("q", &[with(0.7, 0.8, 1), young(0.95)], &p);
    assert!(matches!(v, ReuseVerdict::Reuse { index: 1, .. }), "{v:?}");
    let v = judge("q", &[with(0.7, 0.8, 1), young(0.85)], &p);
    assert!(matches!(v, ReuseVerdict::Reuse { index: 0, .. }), "{v:?}");
    let v = judge("q", &[with(0.7, 0.1, 1), young(0.85)], &p);
    assert!(matches!(v, ReuseVerdict::Reject { check: ReuseCheck::Probability, .. }), "{v:?}");
    // Turned off, or with no model: similarity alone.
    let off = ReuseParams { learned: false, ..p };
    assert!(matches!(judge("q", &[with(0.8, 0.2, 1), with(0.7, 0.7, 2)], &off), ReuseVerdict::Reuse { index: 0, .. }));
    assert!(matches!(judge("q", &[cand(1, 0.8, "x"), cand(2, 0.7, "y")], &p), ReuseVerdict::Reuse { index: 0, .. }));
}

#[test]
fn the_best_candidate_is_chosen_whatever_the_order() {
    let p = ReuseParams { threshold: 0.5, top_m: 1, negation_check: false, ..Default::default() };
    let v = judge("q", &[cand(1, 0.6, "a"), cand(2, 0.9, "b"), cand(3, 0.7, "c")], &p);
    assert_eq!(v, ReuseVerdict::Reuse { index: 1, similarity: 0.9, margin: 0.9 - 0.7 });
}

#[test]
fn lexical_conflicts() {
    assert!(negated("I can't log in") && !negated("I can log in"));
    assert!(negated("I don’t get paid") && negated("I do not get paid"));
    assert!(number_conflict("book 2 tickets", "book 20 tickets").is_some());
    assert!(number_conflict("book 2 tickets", "book tickets").is_none());
    assert!(number_conflict("version 2.5 out?", "is version 2.5 out").is_none());
}

#[test]
fn answer_scores_average_the_best_phrasings() {
    assert!((answer_score(&[0.9, 0.7, 0.1], 2) - 0.8).abs() < 1e-6);
    assert_eq!(answer_score(&[0.9], 3), 0.9);
    assert_eq!(answer_score(&[], 2), f32::MIN);
}

#[test]
fn answer_thresholds_follow_the_spread_of_phrasings() {
    let tight: Vec<Vec<f32>> = vec![vec![1.0, 0.0], vec![0.99, 0.141], vec![0.98, 0.199]];
    let loose: Vec<Vec<f32>> = vec![vec![1.0, 0.0], vec![0.6, 0.8], vec![0.0, 1.0]];
    fn r(v: &[Vec<f32>]) -> Vec<&[f32]> {
        v.iter().map(|x| x.as_slice()).collect()
    }
    let t = answer_threshold(&r(&tight), 0.05, 0.3).unwrap();
    let l = answer_threshold(&r(&loose), 0.05, 0.3).unwrap();
    assert!(t > l, "{t} {l}");
    assert_eq!(answer_threshold(&r(&tight)[..2], 0.05, 0.3), None);
    assert!(answer_threshold(&r(&loose), 0.5, 0.3).unwrap() >= 0.3);
}

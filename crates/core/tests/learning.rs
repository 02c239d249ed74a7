//! The reuse model in the product (the stand-in embedder): it learns the creator's
//! phrasings, follows every change in milliseconds (a refit of what changed, not
//! everything), learns from a declined question and from judged reuses, keeps its
//! weights for the next process, and its say is in the decision's trace.

mod common;

use common::open;
use fanline_core::{Fanline, NewCanonicalInput};
use fanline_engine::{Layer, RoutePath, Tier};

fn answer(app: &Fanline, questions: &[&str], text: &str) -> i64 {
    let input = NewCanonicalInput {
        question: questions[0].into(),
        answer: text.into(),
        variants: questions[1..].iter().map(|q| q.to_string()).collect(),
        layer: Layer::Public,
    };
    app.canonical_add(None, &input).unwrap().id
}

fn library(app: &Fanline) -> (i64, i64, i64) {
    let shipping = answer(
        app,
        &[
            "how long does shipping take",
            "when will my parcel arrive",
            "shipping time for my order",
            "how many days until delivery",
        ],
        "Parcels arrive in three to five days.",
    );
    let refund = answer(
        app,
        &[
            "can i get a refund",
            "how do i get my money back",
            "refund for my order please",
            "return the item for a refund",
        ],
        "Refunds within fourteen days.",
    );
    let tickets = answer(
        app,
        &["where can i buy concert tickets", "tickets for the tour", "when do tour tickets go on sale"],
        "Tickets go on sale on the website.",
    );
    // Answers on other subjects, so a change touches a few of many.
    for topic in ["guitar strings", "garden roses", "winter tyres", "piano lessons", "coffee beans", "hiking boots"] {
        let qs = [
            format!("which {topic} do you recommend"),
            format!("best {topic} for beginners"),
            format!("where to buy {topic}"),
        ];
        let refs: Vec<&str> = qs.iter().map(String::as_str).collect();
        answer(app, &refs, &format!("My favourite {topic}."));
    }
    (shipping, refund, tickets)
}

#[test]
fn the_model_serves_learns_and_follows_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let (shipping, refund, tickets) = library(&app);

    // Its say is in the verdict and the trace.
    let r = app.route(None, "ana", "how long does shipping take for my parcel").unwrap();
    assert_eq!(r.path, RoutePath::C, "{}", r.reason);
    assert_eq!(r.served.as_ref().map(|s| s.canonical_id), Some(shipping));
    let served = r.candidates.iter().find(|c| c.canonical_id == shipping).unwrap();
    assert!(served.probability.unwrap() > 0.35, "{served:?}");
    let stored = app.decision(r.decision_id).unwrap();
    let step = stored.trace.steps.iter().find(|s| s.step == "canonical").unwrap();
    assert!(step.note.contains("model"), "{}", step.note);
    let first = app.reuse_model_update(None).unwrap().unwrap();
    assert!(first.full, "the first question fits the whole model: {first:?}");
    let counts = app.store().reuse_example_counts(app.agent(None).unwrap().id).unwrap();
    assert_eq!(counts, vec![("generic".to_string(), fanline_core::off_topic_examples().len() as u64)]);

    // A phrasing attached to one answer: the next question refits that answer and its
    // neighbours, not everything.
    app.canonical_add_variant(tickets, "are there tickets left for the concert").unwrap();
    let hits = app.canonical_search(None, "tickets left for the concert", Layer::Public, 3).unwrap();
    assert_eq!(hits[0].canonical_id, tickets);
    assert!(hits[0].probability.is_some());
    let update = app.reuse_model_update(None).unwrap().unwrap();
    assert_eq!(first.classes, 10, "nine answers and out of scope");
    assert!(!update.full && update.classes < first.classes, "a refit of what changed: {update:?}");

    // A merge: the refund answer's phrasings now belong to shipping; the model forgets
    // the refund answer at once.
    app.canonical_merge(shipping, refund).unwrap();
    let hits = app.canonical_search(None, "can i get a refund", Layer::Public, 3).unwrap();
    assert!(hits.iter().all(|h| h.canonical_id != refund));
    assert!(hits[0].canonical_id == shipping && hits[0].probability.unwrap() > 0.3, "{hits:?}");

    // A deleted answer is gone from the model too.
    app.canonical_delete(tickets).unwrap();
    let hits = app.canonical_search(None, "tickets for the tour", Layer::Public, 3).unwrap();
    assert!(hits.iter().all(|h| h.canonical_id != tickets), "{hits:?}");
}

#[test]
fn declined_questions_and_judged_reuses_are_examples_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let (shipping, _, _) = library(&app);
    let agent = app.agent(None).unwrap().id;

    // A question the creator declines teaches the model what no answer is for.
    let r = app.route(None, "ana", "would you sign my old vinyl record at the next festival").unwrap();
    assert_eq!(r.path, RoutePath::D, "{}", r.reason);
    let e = r.escalation_id.unwrap();
    assert!(app.accept(e).unwrap().accepted);
    app.queue_decline(e).unwrap();
    let counts = app.store().reuse_example_counts(agent).unwrap();
    assert!(counts.contains(&("declined".to_string(), 1)), "{counts:?}");

    // A served answer judged wrong, then right: one example, its label follows.
    let r = app.route(None, "ana", "when will my parcel arrive at home").unwrap();
    assert_eq!(r.served.as_ref().map(|s| s.canonical_id), Some(shipping), "{}", r.reason);
    app.judge_reuse(r.decision_id, false).unwrap();
    let counts = app.store().reuse_example_counts(agent).unwrap();
    assert!(counts.contains(&("judged_wrong".to_string(), 1)), "{counts:?}");
    let wrong = app.canonical_search(None, "when will my parcel arrive at home", Layer::Public, 1).unwrap();
    app.judge_reuse(r.decision_id, true).unwrap();
    let counts = app.store().reuse_example_counts(agent).unwrap();
    assert!(counts.contains(&("judged_right".to_string(), 1)) && !counts.iter().any(|c| c.0 == "judged_wrong"));
    let right = app.canonical_search(None, "when will my parcel arrive at home", Layer::Public, 1).unwrap();
    assert!(
        right[0].probability.unwrap() > wrong[0].probability.unwrap(),
        "judged right, the model is surer: {wrong:?} → {right:?}"
    );

    // Another process: the weights come back from the saved file, no refit.
    app.flush().unwrap();
    let p = right[0].probability.unwrap();
    drop(app);
    let again = open(dir.path());
    let hits = again.canonical_search(None, "when will my parcel arrive at home", Layer::Public, 1).unwrap();
    assert!((hits[0].probability.unwrap() - p).abs() < 1e-5, "{hits:?}");
    assert_eq!(again.reuse_model_update(None).unwrap(), None, "restored, not refitted");
}

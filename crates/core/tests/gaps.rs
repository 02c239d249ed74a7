//! Content gaps: the unanswered questions of the last days, grouped by meaning (the
//! real model), ranked by how many fans asked; an answered one is no gap.

mod common;
use common::{config, offer, open_with, real_embedder};
use fanline_engine::{Layer, Tier};

#[test]
fn the_most_asked_unanswered_questions_grouped_by_meaning() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with(config(dir.path()), real_embedder());
    let ask = |fan: &str, q: &str| offer(&app, fan, Tier::Free, q, 0);
    ask("ana", "How can I submit a story to your anthology?");
    ask("ben", "How do I send you my story for the anthology?");
    ask("cleo", "Can I submit my short story to the anthology you edit?");
    ask("ana", "How can I submit a story to your anthology?");
    ask("dev", "Do you sell signed copies of your books?");
    ask("eli", "Where can I buy a signed copy of your novel?");
    let answered = ask("fay", "What font do you write your drafts in?");
    app.accept(answered).unwrap();
    app.queue_answer(answered, "Courier, always.", Layer::Public).unwrap();

    let gaps = app.gaps(None, 30, 10).unwrap();
    assert_eq!(gaps.len(), 2, "{gaps:#?}");
    assert_eq!((gaps[0].fans, gaps[0].asked, gaps[0].questions.len()), (3, 4, 3), "{gaps:#?}");
    assert!(gaps[0].questions.iter().all(|q| q.contains("anthology")));
    assert_eq!((gaps[1].fans, gaps[1].questions.len()), (2, 2), "{gaps:#?}");
    assert!(gaps.iter().flat_map(|g| &g.questions).all(|q| !q.contains("font")), "answered: no gap");
    assert_eq!(app.gaps(None, 30, 1).unwrap().len(), 1);
    assert!(app.gaps(None, 0, 10).is_err());

    // Answered with the group's questions as phrasings: the gap closes.
    let g = &gaps[0];
    let input = fanline_core::NewCanonicalInput {
        question: g.questions[0].clone(),
        variants: g.questions[1..].to_vec(),
        answer: "Send it to anthology@example.com by March.".into(),
        layer: Layer::Public,
    };
    app.canonical_add(None, &input).unwrap();
    let left = app.gaps(None, 30, 10).unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].questions.iter().all(|q| q.contains("signed")), "{left:#?}");
}

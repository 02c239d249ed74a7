//! Bringing in an existing inbox (the real model): past questions with their replies
//! become canonical answers, deduplicated by meaning with merge suggestions; a file of
//! incoming messages is routed row by row for a preview.

mod common;
use common::{config, kb, open_with, real_embedder};
use fanline_core::inbox::{Columns, BATCH_FAN};
use fanline_engine::{Layer, RoutePath, Tier};

#[test]
fn past_questions_become_answers_merged_by_meaning_with_suggestions_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with(config(dir.path()), real_embedder());
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("inbox.csv");
    std::fs::write(
        &csv,
        "Date,Fan Message,Your Reply\n\
         2026-10-01,How much does the workshop cost?,29 euros a month or 290 a year.\n\
         2026-10-02,What does the workshop cost?,29 euros a month or 290 a year.\n\
         2026-10-03,How much does the workshop cost?,It is free for the first week.\n\
         2026-10-04,Do you sell signed copies of your books?,\"Yes, in the shop on my site.\"\n\
         2026-10-05,,a reply to nothing\n\
         2026-10-06,Where do you live?,\n\
         2026-10-07,How much does the workshop cost?,29 euros a month or 290 a year.\n",
    )
    .unwrap();
    let mut ticks = Vec::new();
    let r = app.import_inbox(None, &csv, &Columns::default(), Layer::Public, &mut |d, t| ticks.push((d, t))).unwrap();
    assert_eq!((r.question_column.as_str(), r.answer_column.as_str()), ("fan message", "your reply"));
    assert_eq!((r.rows, r.created, r.merged), (7, 3, 1), "{r:#?}");
    let skipped: Vec<(usize, &str)> = r.skipped.iter().map(|s| (s.row, s.reason.as_str())).collect();
    assert_eq!(skipped[..2], [(5, "no question"), (6, "no reply")], "{r:#?}");
    assert!(skipped[2].0 == 7 && skipped[2].1.starts_with("already there"), "{r:#?}");
    assert_eq!(r.suggestions.len(), 1, "{r:#?}");
    assert_eq!(
        (r.suggestions[0].row, r.suggestions[0].like_question.as_str()),
        (3, "How much does the workshop cost?")
    );
    assert_eq!(ticks.last(), Some(&(5, 5)));
    let all = app.canonical_list(None).unwrap();
    assert_eq!(all.len(), 3);
    let mut workshop: Vec<u64> =
        all.iter().filter(|c| c.question_pattern == "How much does the workshop cost?").map(|c| c.variants).collect();
    workshop.sort();
    assert_eq!(workshop, vec![1, 2], "the paraphrase with the same reply is a phrasing; the other reply apart");

    // Served to fans from now on.
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let d = app.route(None, "ana", "Do you sell signed copies of your books?").unwrap();
    assert_eq!(d.path, RoutePath::C, "{}", d.reason);

    // JSON with other names, chosen by hand; a file without a question column says which it has.
    let json = files.path().join("dm.json");
    std::fs::write(&json, r#"[{"q_text": "Can I pay with PayPal?", "creator": "Yes, at checkout."}]"#).unwrap();
    let cols = Columns { question: Some("q_text".into()), answer: Some("creator".into()), fan: None };
    assert_eq!(app.import_inbox(None, &json, &cols, Layer::Public, &mut |_, _| {}).unwrap().created, 1);
    let e = app.import_inbox(None, &json, &Columns::default(), Layer::Public, &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("the columns are: creator, q_text"), "{e}");
}

#[test]
fn a_file_of_incoming_messages_is_routed_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with(config(dir.path()), real_embedder());
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("incoming.csv");
    std::fs::write(
        &csv,
        "from,body\n\
         maya,How much does the workshop cost?\n\
         ,When do new videos come out?\n\
         theo,\n\
         theo,Would you come and speak at our writing festival in Berlin next spring?\n",
    )
    .unwrap();
    let r = app.route_batch(None, &csv, &Columns::default(), &mut |_, _| {}).unwrap();
    assert_eq!((r.rows, r.routed.len()), (4, 3));
    assert_eq!(r.skipped[0].row, 3);
    let paths: Vec<(RoutePath, &str)> = r.routed.iter().map(|b| (b.path, b.fan.as_str())).collect();
    assert_eq!(paths, vec![(RoutePath::A, "maya"), (RoutePath::A, BATCH_FAN), (RoutePath::D, "theo")]);
    assert_eq!(r.paths, vec![2, 0, 0, 1, 0, 0]);
    assert_eq!(r.fans_added, vec!["maya", BATCH_FAN, "theo"]);
    // Each decision is stored like any other.
    let stored = app.decisions(None, None, None, 10).unwrap();
    assert_eq!(stored.len(), 3);
    assert!(r.routed.iter().all(|b| stored.iter().any(|d| d.id == b.decision_id)));
}

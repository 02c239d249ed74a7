//! The use cases behind the desktop app's screens, against the real store, index and
//! model: first run, import progress and re-import, editing, re-layering and merging
//! canonical answers, "draft with AI" without a model, the queue watcher.

mod common;

use common::{kb, open};
use fanline_core::{FileStatus, ImportEvent, QueueWatch, StreamEvent};
use fanline_engine::{Layer, RoutePath, Tier};

#[test]
fn first_run_names_the_creator_and_ends_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    let s = app.setup_status(None).unwrap();
    assert!(s.needs_setup);
    assert_eq!(s.creator, "the creator");
    assert!(app.setup_profile(None, "  ", "").is_err(), "a name is needed");

    let s = app.setup_profile(None, "Jules Marlow", "Warm and brief.").unwrap();
    assert_eq!(s.creator, "Jules Marlow");
    assert_eq!(app.rules(None).unwrap().persona, "Warm and brief.");
    assert!(s.needs_setup, "still in the flow until finished");
    let s = app.finish_setup(None).unwrap();
    assert!(!s.needs_setup && s.agent.setup_done_at.is_some());

    // Replies name the creator.
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let d = app.route(None, "ana", "Would you ever co-write a novel with one of your readers?").unwrap();
    assert_eq!(d.path, RoutePath::D, "{}", d.reason);
    assert!(d.reply.contains("Jules Marlow personally"), "{}", d.reply);
}

#[test]
fn an_existing_knowledge_base_skips_the_first_run() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.import(None, &[kb("friends")], Layer::Friends, &mut |_| {}).unwrap();
    assert!(!app.setup_status(None).unwrap().needs_setup);
}

#[test]
fn import_progress_counts_every_file_and_reimport_keeps_unchanged_files() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    let mut seen = Vec::new();
    let s = app.import(None, &[kb("public")], Layer::Public, &mut |e| seen.push(e.progress())).unwrap();
    assert_eq!(s.imported, 5);
    assert_eq!(seen.len(), 6, "start and one event a file");
    assert_eq!((seen[0].files, seen[0].done), (5, 0));
    assert!(seen[1..].iter().enumerate().all(|(i, p)| p.files == 5 && p.done == i + 1 && p.last.is_some()));

    let doc = app.documents(None).unwrap().into_iter().find(|d| d.source_path.ends_with("faq.md")).unwrap();
    let mut events = 0;
    let again = app
        .reimport_document(None, doc.id, &mut |e| {
            if matches!(e, ImportEvent::FileDone { .. }) {
                events += 1
            }
        })
        .unwrap();
    assert_eq!((again.unchanged, again.imported, events), (1, 0, 1));
    assert!(matches!(again.files[0].status, FileStatus::Unchanged { document_id } if document_id == doc.id));
    // A changed file is imported again in place.
    let copy = dir.path().join("notes.md");
    std::fs::write(&copy, "# Notes\n\nI write every morning before breakfast.").unwrap();
    app.import(None, std::slice::from_ref(&copy), Layer::Public, &mut |_| {}).unwrap();
    std::fs::write(&copy, "# Notes\n\nI write every evening after dinner.").unwrap();
    let id = app.documents(None).unwrap().into_iter().find(|d| d.source_path.ends_with("notes.md")).unwrap().id;
    let r = app.reimport_document(None, id, &mut |_| {}).unwrap();
    assert!(matches!(r.files[0].status, FileStatus::Imported { replaced: true, .. }), "{:?}", r.files);
    let hits = app.search(None, "when do you write", Layer::Public, Some(10)).unwrap();
    assert!(hits.iter().any(|h| h.text.contains("evening")) && !hits.iter().any(|h| h.text.contains("breakfast")));
    assert!(app.reimport_document(None, 999_999, &mut |_| {}).is_err());
}

#[test]
fn canonical_answers_are_edited_relayered_and_merged() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let add = |q: &str, a: &str| {
        app.canonical_add(
            None,
            &fanline_core::NewCanonicalInput {
                question: q.into(),
                variants: vec![],
                answer: a.into(),
                layer: Layer::Public,
            },
        )
        .unwrap()
    };
    let a = add("Would you ever co-write a novel with a reader?", "No, my novels are a solitary craft.");
    let b = add("Do you collaborate on books with fans?", "Not on novels.");

    // Edit the text: served as edited.
    let edited =
        app.canonical_update(a.id, Some("No: my novels are a solitary craft, but I run workshops."), None).unwrap();
    assert!(edited.answer.contains("workshops"));
    let r = app.route(None, "ana", "Would you ever co-write a novel with a reader?").unwrap();
    assert_eq!(r.path, RoutePath::C, "{}", r.reason);
    assert!(r.reply.contains("I run workshops"), "{}", r.reply);
    assert!(app.canonical_update(a.id, Some("  "), None).is_err(), "an empty answer is refused");

    // Re-layer to intimate: a public fan is no longer served it; the index follows.
    app.canonical_update(a.id, None, Some(Layer::Intimate)).unwrap();
    let r = app.route(None, "ana", "Would you ever co-write a novel with a reader?").unwrap();
    assert_ne!(r.served.as_ref().map(|s| s.canonical_id), Some(a.id), "{}", r.reason);
    assert!(app
        .canonical_search(None, "co-write a novel with a reader", Layer::Public, 5)
        .unwrap()
        .iter()
        .all(|h| h.canonical_id != a.id));
    app.canonical_update(a.id, None, Some(Layer::Public)).unwrap();

    // Merge b into a: phrasings, reuse count and history move; b is gone.
    let before = app.canonical_show(a.id).unwrap();
    let merged = app.canonical_merge(a.id, b.id).unwrap();
    assert_eq!(merged.variants.len(), before.variants.len() + 1);
    assert_eq!(merged.times_reused, before.times_reused);
    assert!(merged.variants.iter().any(|v| v.text == "Do you collaborate on books with fans?" && !v.is_pattern));
    assert!(app.canonical_show(b.id).is_err());
    let hits = app.canonical_search(None, "Do you collaborate on books with fans?", Layer::Public, 5).unwrap();
    assert_eq!(hits[0].canonical_id, a.id);
    assert!(hits.iter().all(|h| h.canonical_id != b.id));
    assert!(app.canonical_merge(a.id, a.id).is_err());
    assert!(app.canonical_merge(a.id, 999_999).is_err());
}

#[test]
fn a_draft_without_a_model_quotes_the_documents_the_fan_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    app.import(None, &[kb("intimate")], Layer::Intimate, &mut |_| {}).unwrap();
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let d = app.route(None, "ana", "Would you ever co-write a novel with one of your readers?").unwrap();
    let id = d.escalation_id.unwrap();
    app.accept(id).unwrap();
    let mut streamed = String::new();
    let draft = app
        .queue_draft(id, &mut |e| {
            if let StreamEvent::Token(t) = e {
                streamed.push_str(t)
            }
        })
        .unwrap();
    assert_eq!(draft.generation.source, fanline_core::GenerationSource::Extractive);
    assert!(!draft.text.is_empty() && streamed == draft.text);
    assert!(!draft.passages.is_empty() && draft.passages.iter().all(|p| p.layer == Layer::Public));
    assert!(!draft.citations.is_empty());
    assert!(app.queue_draft(999_999, &mut |_| {}).is_err());
}

#[test]
fn the_queue_watch_reports_only_new_escalations() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let offer = |q: &str| {
        let d = app.route(None, "ana", q).unwrap();
        assert_eq!(d.path, RoutePath::D, "{}", d.reason);
        app.accept(d.escalation_id.unwrap()).unwrap();
        d.escalation_id.unwrap()
    };
    offer("Would you ever co-write a novel with one of your readers?");
    let mut w = QueueWatch::default();
    assert!(w.poll(&app).unwrap().is_empty(), "the first look learns what is there");
    assert!(w.poll(&app).unwrap().is_empty());
    let second = offer("Could you mentor me one on one for a year on my fantasy trilogy?");
    let new = w.poll(&app).unwrap();
    assert_eq!(new.iter().map(|q| q.id).collect::<Vec<_>>(), vec![second]);
    assert!(w.poll(&app).unwrap().is_empty());
}

//! `fanline export` and `fanline import-data`: a data directory with every kind of
//! thing in it, exported, imported into an empty one and exported again gives the same
//! file, line for line; the imported one works (search, routing, the queue).

mod common;
use common::{config, kb, open, open_with};
use fanline_core::export::import_data;
use fanline_core::NewCanonicalInput;
use fanline_engine::{Layer, Tier};

#[test]
fn an_export_imported_into_an_empty_data_directory_is_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    app.fan_add("ana", Tier::Paid, Layer::Friends).unwrap();
    let c = app
        .canonical_add(
            None,
            &NewCanonicalInput {
                question: "Do you ever collaborate with other writers?".into(),
                answer: "Rarely, and only on short pieces.".into(),
                variants: vec!["Would you co-write with someone?".into()],
                layer: Layer::Public,
            },
        )
        .unwrap();
    app.rule_set(None, "max_escalations_per_day", "7").unwrap();
    app.policy_save("default", "[tiers.paid]\nnovelty_threshold = 0.5\n").unwrap();
    for q in ["How much does the workshop cost?", "Do you ever collaborate with other writers?"] {
        app.route(None, "ana", q).unwrap();
    }
    let offered = app.route(None, "ana", "Would you come and speak at our festival in Lyon next May?").unwrap();
    if let Some(id) = offered.escalation_id {
        app.accept(id).unwrap();
        app.queue_answer(id, "Yes, write to my agent.", Layer::Public).unwrap();
    }
    let files = tempfile::tempdir().unwrap();
    let first = files.path().join("one.jsonl");
    let report = app.export(&first).unwrap();
    assert!(report.rows > 50, "{report:?}");
    assert!(report.tables.iter().any(|(t, n)| t == "decisions" && *n >= 3), "{report:?}");

    // Into an empty data directory: the same lines come out again.
    let again = tempfile::tempdir().unwrap();
    let imported = import_data(&config(again.path()), &first).unwrap();
    assert_eq!(imported.rows, report.rows);
    let restored = open_with(config(again.path()), common::embedder());
    let second = files.path().join("two.jsonl");
    restored.export(&second).unwrap();
    let (a, b) = (std::fs::read_to_string(&first).unwrap(), std::fs::read_to_string(&second).unwrap());
    let extra: Vec<&str> = b.lines().filter(|l| !a.contains(l)).collect();
    let missing: Vec<&str> = a.lines().filter(|l| !b.contains(l)).collect();
    assert!(extra.is_empty() && missing.is_empty(), "extra {extra:?}\nmissing {missing:?}");
    for (x, y) in a.lines().zip(b.lines()) {
        assert_eq!(x, y);
    }
    // And it works: its rules, its policy file, its answers, search over its documents.
    assert_eq!(restored.rules(None).unwrap().max_escalations_per_day, 7);
    assert!(restored.policy_text(None).unwrap().contains("novelty_threshold = 0.5"));
    assert_eq!(restored.canonical_show(c.id).unwrap().variants.len(), 2);
    assert!(!restored.search(None, "workshop price", Layer::Public, Some(3)).unwrap().is_empty());
    // Both route a question the same way.
    for q in ["Do you ever collaborate with other writers?", "How much does the workshop cost?"] {
        let (x, y) = (app.route(None, "ana", q).unwrap(), restored.route(None, "ana", q).unwrap());
        assert_eq!((x.path, x.reply), (y.path, y.reply), "{q}");
    }

    // Not into a data directory that holds data; not a cut file; not something else.
    let e = import_data(&config(dir.path()), &first).unwrap_err();
    assert!(e.to_string().contains("holds data already"), "{e}");
    let cut = files.path().join("cut.jsonl");
    std::fs::write(&cut, a.lines().take(40).collect::<Vec<_>>().join("\n")).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let e = import_data(&config(empty.path()), &cut).unwrap_err();
    assert!(e.to_string().contains("cut short"), "{e}");
    let fresh = open(empty.path());
    assert!(fresh.canonical_list(None).unwrap().is_empty(), "a failed import leaves nothing");
    let other = files.path().join("other.jsonl");
    std::fs::write(&other, "{\"hello\": 1}\n").unwrap();
    let e = import_data(&config(tempfile::tempdir().unwrap().path()), &other).unwrap_err();
    assert!(e.to_string().contains("not a Fanline export"), "{e}");
}

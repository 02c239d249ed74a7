//! The knowledge index end to end: real files, real SQLite and tantivy, and the
//! stand-in embedder (ranking by meaning is tested with the real model in `real_model.rs`).

mod common;

use common::*;
use fanline_core::{DocumentRef, FileStatus, NewCanonicalInput};
use fanline_engine::Layer;
use fanline_store::Agents;
use proptest::prelude::*;

fn import_all(app: &fanline_core::Fanline) {
    for (sub, layer) in [("public", Layer::Public), ("friends", Layer::Friends), ("intimate", Layer::Intimate)] {
        let s = app.import(None, &[kb(sub)], layer, &mut |_| {}).unwrap();
        assert_eq!(s.failed + s.skipped, 0, "{:?}", s.files);
    }
}

#[test]
fn a_higher_layer_is_never_returned_to_a_lower_layer_query() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    import_all(&app);
    // Querying with the exact text of intimate and friends content.
    let secret = "a memoir about my grandmother, a radio operator in the war";
    let public = app.search(None, secret, Layer::Public, Some(50)).unwrap();
    assert!(!public.is_empty());
    assert!(public.iter().all(|h| h.layer == Layer::Public), "{public:?}");
    let friends = app.search(None, "The Lantern Keepers lighthouse island Brittany", Layer::Friends, Some(50)).unwrap();
    assert!(friends.iter().any(|h| h.layer == Layer::Friends));
    assert!(friends.iter().all(|h| h.layer != Layer::Intimate));
    let intimate = app.search(None, secret, Layer::Intimate, Some(3)).unwrap();
    assert_eq!(intimate[0].layer, Layer::Intimate);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn no_result_is_ever_above_the_viewer_layer(
        words in proptest::collection::vec(prop::sample::select(vec![
            "memoir", "grandmother", "lighthouse", "workshop", "refund", "camera", "draft", "island",
            "quit", "publisher", "letters", "outline", "newsletter", "secret", "cats", "novel",
        ]), 1..6),
        viewer in prop::sample::select(vec![Layer::Public, Layer::Friends, Layer::Intimate]),
        limit in 1usize..40,
    ) {
        static APP: std::sync::OnceLock<(tempfile::TempDir, fanline_core::Fanline)> = std::sync::OnceLock::new();
        let (_, app) = APP.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let app = open(dir.path());
            import_all(&app);
            app.canonical_add(None, &NewCanonicalInput {
                question: "What is your secret project?".into(), variants: vec![],
                answer: "The memoir.".into(), layer: Layer::Intimate,
            }).unwrap();
            app.canonical_add(None, &NewCanonicalInput {
                question: "What is the next book called?".into(), variants: vec![],
                answer: "The Lantern Keepers.".into(), layer: Layer::Friends,
            }).unwrap();
            (dir, app)
        });
        let q = words.join(" ");
        for h in app.search(None, &q, viewer, Some(limit)).unwrap() {
            prop_assert!(viewer.can_see(h.layer), "{q:?} as {viewer}: got {} chunk {}", h.layer, h.chunk_id);
        }
        for h in app.canonical_search(None, &q, viewer, limit).unwrap() {
            prop_assert!(viewer.can_see(h.layer), "{q:?} as {viewer}: got {} canonical {}", h.layer, h.canonical_id);
        }
    }
}

#[test]
fn deleting_a_document_removes_it_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = open(dir.path());
        import_all(&app);
        let q = "Sony ZV-E10 Sigma lens north-facing window";
        assert!(app.search(None, q, Layer::Public, Some(3)).unwrap()[0].source_path.ends_with("gear-and-tools.html"));
        let before = app.open_search_index().unwrap();
        let gear = kb("public/gear-and-tools.html");
        let doc = app.delete_document(None, &DocumentRef::Path(gear)).unwrap();
        assert_eq!(app.open_search_index().unwrap(), before - doc.chunks as usize);
        let hits = app.search(None, q, Layer::Public, Some(50)).unwrap();
        assert!(hits.iter().all(|h| !h.source_path.ends_with("gear-and-tools.html")));
        assert!(app.documents(None).unwrap().iter().all(|d| d.id != doc.id));
    }
    // Still gone after reopening, and nothing needed rebuilding.
    let app = open(dir.path());
    let hits = app.search(None, "Sony ZV-E10 camera", Layer::Public, Some(50)).unwrap();
    assert!(hits.iter().all(|h| !h.source_path.ends_with("gear-and-tools.html")));
    let r = app.index_report().unwrap();
    assert!(r.rebuilt_text.is_none() && r.rebuilt_vectors.is_none(), "{r:?}");
}

#[test]
fn a_missing_or_damaged_index_is_rebuilt_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let query = "how much does the workshop cost";
    let expected = {
        let app = open(dir.path());
        import_all(&app);
        app.search(None, query, Layer::Public, Some(3)).unwrap()[0].chunk_id
    };
    let index = dir.path().join("index");

    std::fs::remove_dir_all(index.join("tantivy")).unwrap();
    let app = open(dir.path());
    assert_eq!(app.search(None, query, Layer::Public, Some(3)).unwrap()[0].chunk_id, expected);
    assert!(app.index_report().unwrap().rebuilt_text.is_some());
    drop(app);

    // Garbage in the tantivy meta file, and a damaged vector cache.
    std::fs::write(index.join("tantivy/meta.json"), b"{ not json").unwrap();
    let mut cache = std::fs::read(index.join("vectors.bin")).unwrap();
    let mid = cache.len() / 2;
    cache[mid] ^= 0x55;
    std::fs::write(index.join("vectors.bin"), &cache).unwrap();
    let app = open(dir.path());
    let hits = app.search(None, query, Layer::Public, Some(3)).unwrap();
    assert_eq!(hits[0].chunk_id, expected);
    assert!(hits[0].text_rank.is_some(), "BM25 works again after the rebuild");
    let r = app.index_report().unwrap();
    assert!(r.rebuilt_text.is_some() && r.rebuilt_vectors.is_some(), "{r:?}");
    drop(app);

    std::fs::remove_dir_all(&index).unwrap();
    let app = open(dir.path());
    assert_eq!(app.search(None, query, Layer::Public, Some(3)).unwrap()[0].chunk_id, expected);
}

#[test]
fn a_stale_index_is_noticed_when_another_writer_changed_the_database() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = open(dir.path());
        import_all(&app);
    }
    // Another process deletes a document while this index is closed.
    {
        let store = fanline_store::Store::open(dir.path().join("fanline.db")).unwrap();
        let agent = store.agent_by_name("default").unwrap().unwrap();
        let doc =
            store.list_documents(agent.id).unwrap().into_iter().find(|d| d.source_path.ends_with("faq.md")).unwrap();
        store.delete_document(doc.id).unwrap();
    }
    let app = open(dir.path());
    let hits = app.search(None, "workshop refund price", Layer::Public, Some(50)).unwrap();
    assert!(hits.iter().all(|h| !h.source_path.ends_with("faq.md")));
    // It caught up by the store's log of changes, without reloading anything.
    let r = app.index_report().unwrap();
    assert!(r.rebuilt_text.is_none() && r.rebuilt_vectors.is_none() && r.caught_up.is_some(), "{r:?}");
}

#[test]
fn reimporting_replaces_changed_files_and_skips_unchanged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let file = docs.path().join("notes.md");
    std::fs::write(&file, "# Notes\n\n## Schedule\n\nVideos come out on Tuesdays.\n\n## Pets\n\nI have two cats.\n")
        .unwrap();
    let app = open(dir.path());
    let s = app.import(None, std::slice::from_ref(&file), Layer::Public, &mut |_| {}).unwrap();
    assert!(matches!(s.files[0].status, FileStatus::Imported { chunks: 2, embedded: 2, replaced: false, .. }));

    let s = app.import(None, std::slice::from_ref(&file), Layer::Public, &mut |_| {}).unwrap();
    assert!(matches!(s.files[0].status, FileStatus::Unchanged { .. }), "{s:?}");

    std::fs::write(&file, "# Notes\n\n## Schedule\n\nVideos come out on Fridays now.\n\n## Pets\n\nI have two cats.\n")
        .unwrap();
    let s = app.import(None, std::slice::from_ref(&file), Layer::Public, &mut |_| {}).unwrap();
    // Only the changed chunk is embedded again.
    assert!(matches!(s.files[0].status, FileStatus::Imported { chunks: 2, embedded: 1, replaced: true, .. }), "{s:?}");
    let hits = app.search(None, "when do videos come out", Layer::Public, Some(5)).unwrap();
    assert!(hits[0].text.contains("Fridays"));
    assert!(hits.iter().all(|h| !h.text.contains("Tuesdays")));
    assert_eq!(app.documents(None).unwrap()[0].chunks, 2);

    // Re-importing at another layer moves the document to it.
    app.import(None, &[file], Layer::Friends, &mut |_| {}).unwrap();
    assert!(app.search(None, "when do videos come out", Layer::Public, Some(5)).unwrap().is_empty());
}

#[test]
fn bad_files_are_skipped_with_a_reason_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let d = docs.path();
    std::fs::write(d.join("good.md"), "# Good\n\nA perfectly fine note about tripods.\n").unwrap();
    std::fs::write(d.join("binary.txt"), [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    std::fs::write(d.join("latin1.md"), b"Caf\xe9 cr\xe8me").unwrap();
    std::fs::write(d.join("empty.txt"), b"").unwrap();
    std::fs::write(d.join("huge.txt"), "word ".repeat(50_000)).unwrap();
    std::fs::write(d.join("broken.pdf"), b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 99 0 R >>\ntrailer garbage")
        .unwrap();
    std::fs::write(d.join("slides.pptx"), b"PK\x03\x04").unwrap();
    let mut cfg = config(dir.path());
    cfg.import.max_file_bytes = 100_000;
    let app = open_cfg(cfg);
    let mut events = 0;
    let s = app.import(None, &[d.to_path_buf(), d.join("missing.md")], Layer::Public, &mut |_| events += 1).unwrap();
    assert_eq!((s.imported, s.skipped, s.failed), (1, 7, 0), "{:#?}", s.files);
    assert_eq!(events, 1 + s.files.len());
    let reason = |name: &str| {
        s.files
            .iter()
            .find(|f| f.path.ends_with(name))
            .map(|f| match &f.status {
                FileStatus::Skipped { reason } => reason.clone(),
                other => panic!("{name}: {other:?}"),
            })
            .unwrap()
    };
    assert!(reason("binary.txt").contains("binary"));
    assert!(reason("latin1.md").contains("UTF-8"));
    assert!(reason("empty.txt").contains("empty"));
    assert!(reason("huge.txt").contains("too large"));
    assert!(reason("broken.pdf").contains("PDF"));
    assert!(reason("slides.pptx").contains("unsupported"));
    assert!(reason("missing.md").contains("no such file"));
    // Only the good file is in the store and the index.
    assert_eq!(app.documents(None).unwrap().len(), 1);
    assert_eq!(app.open_search_index().unwrap(), 1);
}

#[test]
fn two_processes_on_one_data_dir_see_each_others_changes() {
    // Two handles on one data directory stand for the desktop app and the CLI: each has
    // its own in-memory index, tantivy reader and (while writing) tantivy writer lock.
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    let cli = open(dir.path());
    let faq = kb("public/faq.md");
    let gear = kb("public/gear-and-tools.html");

    cli.import(None, std::slice::from_ref(&faq), Layer::Public, &mut |_| {}).unwrap();
    let hits = app.search(None, "how much does the workshop cost", Layer::Public, Some(1)).unwrap();
    assert!(hits[0].source_path.ends_with("faq.md"));

    // Both write in turn: neither is blocked by the other's tantivy lock.
    let c = app
        .canonical_add(
            None,
            &NewCanonicalInput {
                question: "Do you answer emails?".into(),
                variants: vec![],
                answer: "Within a week.".into(),
                layer: Layer::Public,
            },
        )
        .unwrap();
    cli.import(None, std::slice::from_ref(&gear), Layer::Public, &mut |_| {}).unwrap();
    let found = cli.canonical_search(None, "do you answer my emails", Layer::Public, 1).unwrap();
    assert_eq!(found[0].canonical_id, c.id);
    let hits = app.search(None, "Rode PodMic microphone", Layer::Public, Some(1)).unwrap();
    assert!(hits[0].source_path.ends_with("gear-and-tools.html"), "{hits:?}");
    assert!(hits[0].text_rank.is_some(), "BM25 sees the other process's import too");

    cli.delete_document(None, &DocumentRef::Path(faq)).unwrap();
    let hits = app.search(None, "how much does the workshop cost", Layer::Public, Some(20)).unwrap();
    assert!(hits.iter().all(|h| !h.source_path.ends_with("faq.md")));
    assert_eq!(app.open_search_index().unwrap(), cli.open_search_index().unwrap());
}

//! Store tests on real database files in a temporary directory.

use fanline_engine::{AgentConfig, EscalationReason, EscalationStatus, ItemKind, Layer, Tier};
use fanline_store::Agents;
use fanline_store::HubAccess;
use fanline_store::Offers;
use fanline_store::{Error, NewCanonical, NewChunk, NewDocument, NewEscalation, Store, MIGRATIONS};
use std::path::Path;

fn open(dir: &Path) -> Store {
    Store::open(dir.join("fanline.db")).unwrap()
}

fn v(x: f32) -> Vec<f32> {
    vec![x, 1.0 - x, 0.5]
}

#[test]
fn every_migration_file_is_applied_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    assert_eq!(store.applied_migrations().unwrap(), files);
    assert_eq!(store.schema_version().unwrap() as usize, files.len());
    assert_eq!(MIGRATIONS.len(), files.len());
    // Re-opening applies nothing twice.
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.applied_migrations().unwrap(), files);
}

#[test]
fn schema_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    insta::assert_snapshot!(store.schema_sql().unwrap());
}

#[test]
fn pragmas_are_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanline.db");
    let _store = Store::open(&path).unwrap();
    // journal_mode=WAL is recorded in the file: an independent connection sees it.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_new_agent_gets_the_default_rules_and_rules_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.create_agent("default").unwrap();
    assert_eq!(store.agent_config(a.id).unwrap(), AgentConfig::default());
    assert!(matches!(store.create_agent("default"), Err(Error::Conflict { .. })));
    assert!(matches!(store.create_agent("  "), Err(Error::Invalid { .. })));

    let mut c = AgentConfig {
        max_escalations_per_day: 3,
        blocked_topics: vec!["politics".into()],
        allowed_user_tiers: vec![Tier::Paid],
        timezone: "Europe/Paris".into(),
        ..Default::default()
    };
    store.set_agent_config(a.id, &c).unwrap();
    assert_eq!(store.agent_config(a.id).unwrap(), c);

    c.auto_answer_confidence_threshold = 1.5;
    assert!(matches!(store.set_agent_config(a.id, &c), Err(Error::Invalid { .. })));
    assert!(matches!(store.agent_config(999), Err(Error::NotFound { .. })));
}

#[test]
fn updated_at_is_maintained_by_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.create_agent("default").unwrap();
    let doc = NewDocument {
        source_path: "/kb/a.md".into(),
        title: "A".into(),
        format: "markdown".into(),
        content_hash: "h1".into(),
        bytes: 10,
        layer: Layer::Public,
    };
    store.put_document(a.id, &doc, &[]).unwrap();
    let before = store.document_by_path(a.id, "/kb/a.md").unwrap().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(15));
    store.put_document(a.id, &NewDocument { content_hash: "h2".into(), ..doc }, &[]).unwrap();
    let after = store.document_by_path(a.id, "/kb/a.md").unwrap().unwrap();
    assert_eq!(before.created_at, after.created_at);
    assert!(after.updated_at > before.updated_at, "{} vs {}", after.updated_at, before.updated_at);
}

#[test]
fn replacing_a_document_replaces_its_chunks_and_moves_the_generation() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.create_agent("default").unwrap();
    let g0 = store.index_generation().unwrap();
    let doc = NewDocument {
        source_path: "/kb/a.md".into(),
        title: "A".into(),
        format: "markdown".into(),
        content_hash: "h1".into(),
        bytes: 10,
        layer: Layer::Friends,
    };
    let chunk = |t: &str| NewChunk { heading: "H".into(), text: t.into(), text_hash: t.into(), embedding: v(0.1) };
    let (d1, c1) = store.put_document(a.id, &doc, &[chunk("one"), chunk("two")]).unwrap();
    assert_eq!(c1.added.len(), 2);
    assert!(c1.removed.is_empty());
    assert!(c1.generation > g0);
    assert!(c1.added.iter().all(|(k, _, _)| k.kind == ItemKind::Chunk && k.layer == Layer::Friends));

    let (d2, c2) = store.put_document(a.id, &doc, &[chunk("three")]).unwrap();
    assert_eq!(d2, d1);
    assert_eq!(c2.removed.len(), 2);
    assert_eq!(store.document(d1).unwrap().chunks, 1);
    assert!(store.chunk_embeddings_by_hash(d1).unwrap().contains_key("three"));
    assert_eq!(store.indexed_count().unwrap(), 1);

    let ids: Vec<i64> = c2.added.iter().map(|(k, _, _)| k.id).collect();
    let chunks = store.chunks_by_ids(&ids).unwrap();
    assert_eq!(chunks[0].text, "three");
    assert_eq!(chunks[0].source_path, "/kb/a.md");

    let gone = store.delete_document(d1).unwrap();
    assert_eq!(gone.removed.len(), 1);
    assert_eq!(store.indexed_count().unwrap(), 0);
    assert!(store.list_documents(a.id).unwrap().is_empty());
    assert!(matches!(store.delete_document(d1), Err(Error::NotFound { .. })));
}

#[test]
fn answering_an_escalation_creates_its_canonical_answer_in_the_same_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.create_agent("default").unwrap();
    let fan = store.upsert_fan("@sam", Tier::Follower, Layer::Friends).unwrap();
    let id = store
        .create_escalation(&NewEscalation {
            agent_id: a.id,
            fan_id: fan.id,
            message_id: None,
            question: "Do you review manuscripts?".into(),
            reason: EscalationReason::Novel,
            priority: 5,
            context_summary: String::new(),
            expires_at: None,
            expected_reply_after: None,
        })
        .unwrap();
    assert_eq!(store.escalation(id).unwrap().status, EscalationStatus::Pending);

    let (cid, change) = store.answer_escalation(id, "Only in my paid workshop.", Layer::Friends, &v(0.3)).unwrap();
    assert_eq!(change.added.len(), 1);
    let e = store.escalation(id).unwrap();
    assert_eq!(e.status, EscalationStatus::Answered);
    assert_eq!(e.canonical_answer_id, Some(cid));
    assert!(e.answered_at.is_some());
    let c = store.canonical(cid).unwrap();
    assert_eq!(c.question_pattern, "Do you review manuscripts?");
    assert_eq!(c.source_escalation_id, Some(id));
    assert_eq!(c.layer, Layer::Friends);
    assert!(c.variants[0].is_pattern);

    // Answering twice is refused and creates nothing.
    assert!(store.answer_escalation(id, "again", Layer::Public, &v(0.3)).is_err());
    assert_eq!(store.list_canonical(a.id).unwrap().len(), 1);
}

#[test]
fn a_failed_answer_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.create_agent("default").unwrap();
    let fan = store.upsert_fan("@kim", Tier::Free, Layer::Public).unwrap();
    let id = store
        .create_escalation(&NewEscalation {
            agent_id: a.id,
            fan_id: fan.id,
            message_id: None,
            question: "Why?".into(),
            reason: EscalationReason::Complex,
            priority: 1,
            context_summary: String::new(),
            expires_at: None,
            expected_reply_after: None,
        })
        .unwrap();
    // An empty answer fails inside the transaction: no canonical answer, still pending.
    assert!(store.answer_escalation(id, "   ", Layer::Public, &v(0.1)).is_err());
    assert_eq!(store.escalation(id).unwrap().status, EscalationStatus::Pending);
    assert!(store.list_canonical(a.id).unwrap().is_empty());
}

#[test]
fn canonical_answers_variants_reuse_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.create_agent("default").unwrap();
    let (id, change) = store
        .add_canonical(
            a.id,
            &NewCanonical {
                questions: vec![("What camera do you use?".into(), v(0.2)), ("which camera?".into(), v(0.25))],
                answer: "A Sony A7 IV.".into(),
                layer: Layer::Public,
                source_escalation_id: None,
            },
        )
        .unwrap();
    assert_eq!(change.added.len(), 2);
    store.add_canonical_variant(id, "what's your camera", &v(0.3)).unwrap();
    assert!(matches!(store.add_canonical_variant(id, "what's your camera", &v(0.3)), Err(Error::Conflict { .. })));
    assert_eq!(store.canonical(id).unwrap().variants.len(), 3);
    assert_eq!(store.record_canonical_reuse(id).unwrap(), 1);
    assert_eq!(store.record_canonical_reuse(id).unwrap(), 2);
    let list = store.list_canonical(a.id).unwrap();
    assert_eq!(list[0].times_reused, 2);
    assert!(list[0].last_served_at.is_some());
    let mut seen = 0;
    store
        .for_each_indexed(|k, _, vec| {
            assert_eq!(k.owner, id);
            assert_eq!(vec.len(), 3);
            seen += 1;
        })
        .unwrap();
    assert_eq!(seen, 3);
    assert_eq!(store.delete_canonical(id).unwrap().removed.len(), 3);
    assert_eq!(store.indexed_count().unwrap(), 0);
}

#[test]
fn a_damaged_database_file_gives_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanline.db");
    std::fs::write(&path, b"this is not a database, just some text that is long enough...".repeat(100)).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("damaged") && msg.contains("fanline.db"), "{msg}");
}

#[test]
fn a_truncated_database_file_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanline.db");
    {
        let store = Store::open(&path).unwrap();
        let a = store.create_agent("default").unwrap();
        for i in 0..200 {
            let doc = NewDocument {
                source_path: format!("/kb/{i}.md"),
                title: "t".into(),
                format: "text".into(),
                content_hash: "h".into(),
                bytes: 1,
                layer: Layer::Public,
            };
            let chunk =
                NewChunk { heading: String::new(), text: "x".repeat(500), text_hash: "h".into(), embedding: v(0.5) };
            store.put_document(a.id, &doc, &[chunk]).unwrap();
        }
    }
    // Overwrite the middle of the file (past the header) with garbage.
    let good = std::fs::read(&path).unwrap();
    let mut bytes = good.clone();
    assert!(bytes.len() > 20_000);
    for b in &mut bytes[4096..16384] {
        *b = 0xAB;
    }
    std::fs::write(&path, &bytes).unwrap();
    match Store::open(&path) {
        Err(e) => assert!(matches!(e, Error::Corrupt { .. }), "{e:?}"),
        Ok(store) => {
            let err = store.integrity_check().unwrap_err();
            assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
            drop(store);
            // Once a check failed, nothing opens the file to write to it.
            let again = Store::open(&path).unwrap_err();
            assert!(
                matches!(again, Error::Corrupt { .. }) && again.to_string().contains("Restore a backup"),
                "{again}"
            );
            // The backup restored: it opens again, and the marker is gone.
            std::fs::write(&path, &good).unwrap();
            Store::open(&path).unwrap().integrity_check().unwrap();
            assert!(!dir.path().join("fanline.db.damaged").exists());
        }
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanline.db");
    drop(Store::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, Error::TooNew { found: 99, .. }), "{err:?}");
}

#[test]
fn foreign_keys_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let doc = NewDocument {
        source_path: "/x".into(),
        title: String::new(),
        format: "text".into(),
        content_hash: "h".into(),
        bytes: 0,
        layer: Layer::Public,
    };
    // Agent 42 does not exist.
    assert!(store.put_document(42, &doc, &[]).is_err());
}

#[test]
fn a_damaged_stored_value_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanline.db");
    let store = Store::open(&path).unwrap();
    let a = store.create_agent("default").unwrap();
    let doc = NewDocument {
        source_path: "/kb/a.md".into(),
        title: "A".into(),
        format: "markdown".into(),
        content_hash: "h".into(),
        bytes: 1,
        layer: Layer::Public,
    };
    let chunk = NewChunk { heading: String::new(), text: "t".into(), text_hash: "t".into(), embedding: v(0.1) };
    store.put_document(a.id, &doc, &[chunk]).unwrap();
    // Three bytes cannot be an f32 vector.
    rusqlite::Connection::open(&path).unwrap().execute("UPDATE chunks SET embedding = x'010203'", []).unwrap();
    let err = store.for_each_indexed(|_, _, _| {}).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("3 bytes"), "{err}");
}

#[test]
fn the_log_of_changes_tells_an_index_what_changed_since_its_generation() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.create_agent("default").unwrap();
    let g0 = store.index_generation().unwrap();
    assert!(store.index_changes_since(g0).unwrap().unwrap().added.is_empty());
    let doc = NewDocument {
        source_path: "/kb/a.md".into(),
        title: "A".into(),
        format: "markdown".into(),
        content_hash: "h1".into(),
        bytes: 10,
        layer: Layer::Public,
    };
    let chunk = |t: &str| NewChunk { heading: "H".into(), text: t.into(), text_hash: t.into(), embedding: v(0.1) };
    let (d, first) = store.put_document(a.id, &doc, &[chunk("one"), chunk("two")]).unwrap();
    let g1 = first.generation;
    let (id, _) = store
        .add_canonical(
            a.id,
            &NewCanonical {
                questions: vec![("What camera do you use?".into(), v(0.2))],
                answer: "A Sony.".into(),
                layer: Layer::Public,
                source_escalation_id: None,
            },
        )
        .unwrap();
    // Replace the document: its two chunks go, one comes.
    let (_, second) = store.put_document(a.id, &doc, &[chunk("three")]).unwrap();

    // From the start: the net effect only; chunks added then removed are just gone.
    let all = store.index_changes_since(g0).unwrap().unwrap();
    assert_eq!(all.generation, second.generation);
    let mut added: Vec<String> = all.added.iter().map(|(_, t, _)| t.clone()).collect();
    added.sort();
    assert_eq!(added.len(), 2, "{added:?}");
    assert!(added[0].contains("three") && added[1].contains("camera"), "{added:?}");
    // SQLite may give the new chunk an old chunk's id: an item is either gone or as it
    // is now, never both, and every old chunk is one of the two.
    let now_ids: Vec<(ItemKind, i64)> = all.added.iter().map(|(k, _, _)| (k.kind, k.id)).collect();
    assert!(all.removed.iter().all(|r| !now_ids.contains(r)));
    for old in first.added.iter().map(|(k, _, _)| (k.kind, k.id)) {
        assert!(all.removed.contains(&old) || now_ids.contains(&old), "{old:?}");
    }
    assert!(all.added.iter().all(|(_, _, v)| v.len() == 3), "each added item comes with its vector");

    // From after the first document: the canonical phrasing, and the replacement.
    let later = store.index_changes_since(g1).unwrap().unwrap();
    assert_eq!(later.added.len(), 2);
    assert_eq!(later.added.len() + later.removed.len(), 3, "{later:?}");
    // A layer change re-keys the phrasing.
    store.update_canonical(id, None, Some(Layer::Friends)).unwrap();
    let relayered = store.index_changes_since(second.generation).unwrap().unwrap();
    assert_eq!(relayered.added.len(), 1);
    assert_eq!(relayered.added[0].0.layer, Layer::Friends);
    // Nothing changed since now.
    let now = store.index_generation().unwrap();
    assert!(store.index_changes_since(now).unwrap().unwrap().added.is_empty());

    // Forgetting: an index older than the log reloads whole (None), a newer one still
    // catches up; a generation ahead of the store (a restored copy) also reloads.
    store.forget_index_log_before(second.generation).unwrap();
    assert!(store.index_changes_since(g1).unwrap().is_none());
    assert_eq!(store.index_changes_since(second.generation).unwrap().unwrap().added.len(), 1);
    assert!(store.index_changes_since(now + 10).unwrap().is_none());
    store.delete_document(d).unwrap();
    assert_eq!(store.index_changes_since(now).unwrap().unwrap().removed.len(), 1);
}

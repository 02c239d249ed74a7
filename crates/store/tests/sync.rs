//! The store's side of sync: an outbox written with the change, a page applied with its
//! cursor or not at all, a clock that survives a restart.

use fanline_store::Agents;
use fanline_store::{Incoming, Store};
use fanline_sync::{CanonicalData, Hlc};
use std::collections::HashMap;

fn canonical(question: &str, answer: &str) -> CanonicalData {
    CanonicalData {
        agent: "default".into(),
        question_pattern: question.into(),
        answer: answer.into(),
        layer: "public".into(),
        answer_hlc: String::new(),
        layer_hlc: String::new(),
        times_reused: 0,
        source_escalation_uid: None,
        variants: vec![],
        vectors: None,
        tallies: Default::default(),
    }
}

fn with_vector(text: &str) -> HashMap<String, Vec<f32>> {
    HashMap::from([(text.to_string(), vec![0.5f32; 4])])
}

#[test]
fn a_page_is_applied_with_its_cursor_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("f.db")).unwrap();
    store.create_agent("default").unwrap();
    let good = |i: usize| {
        let q = format!("Question {i}?");
        Incoming::Canonical(format!("uid-{i}"), Some(canonical(&q, "An answer.")), with_vector(&q))
    };
    // The third record lacks its embedding: the apply fails after two rows.
    let mut page = vec![good(1), good(2)];
    page.push(Incoming::Canonical("uid-3".into(), Some(canonical("Question 3?", "x")), HashMap::new()));
    page.push(good(4));
    assert!(store.apply_page(&page, 4).is_err());
    assert_eq!(store.sync_position().unwrap().pulled_after, 0);
    assert_eq!(store.canonical_data("uid-1").unwrap(), None, "nothing of the page is kept");
    // The whole page applies; applying it again changes nothing.
    page[2] = good(3);
    store.apply_page(&page, 4).unwrap();
    let digest = store.sync_digest().unwrap();
    store.apply_page(&page, 4).unwrap();
    assert_eq!(store.sync_digest().unwrap(), digest);
    assert_eq!(store.sync_position().unwrap().pulled_after, 4);
    assert_eq!(store.canonical_data("uid-2").unwrap().unwrap().question_pattern, "Question 2?");
    // Pairing queues what the store has for the hub (the hub takes those it has as duplicates).
    store.sync_pair("http://hub.invalid", "Laptop").unwrap();
    let out = store.outbox(1, 10).unwrap();
    assert_eq!(out.iter().map(|c| c.op.as_str()).collect::<Vec<_>>(), vec!["add"; 4]);
}

#[test]
fn a_paired_store_writes_its_changes_to_the_outbox_in_order_and_its_clock_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    let last: Hlc;
    {
        let store = Store::open(&path).unwrap();
        store.create_agent("default").unwrap();
        store.sync_pair("http://hub.invalid", "Laptop").unwrap();
        store.set_wall_clock(std::sync::Arc::new(|| 5_000_000));
        let page = vec![Incoming::Canonical(
            "uid-1".into(),
            Some(canonical("Where do you live?", "Lisbon.")),
            with_vector("Where do you live?"),
        )];
        store.apply_page(&page, 1).unwrap();
        assert_eq!(store.sync_position().unwrap().pending, 0, "applied from the hub: not queued back");
        let id = store.id_by_uid(fanline_store::SyncTable::Canonical, "uid-1").unwrap().unwrap();
        store.update_canonical(id, Some("Porto."), None).unwrap();
        store.update_canonical(id, Some("Porto, since May."), Some(fanline_engine::Layer::Friends)).unwrap();
        let out = store.outbox(1, 10).unwrap();
        let ops: Vec<(&str, String)> = out.iter().map(|c| (c.op.as_str(), c.payload.to_string())).collect();
        assert_eq!(out.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(ops[0], ("set", r#"{"field":"answer","value":"Porto."}"#.to_string()));
        assert_eq!(out[1].base_hlc, out[0].hlc, "the second edit was made on top of the first");
        assert!(out.windows(2).all(|w| w[0].hlc < w[1].hlc));
        last = out[2].hlc.parse().unwrap();
        store.outbox_done(2).unwrap();
        assert_eq!(store.outbox(1, 10).unwrap().len(), 1);
    }
    // Reopened with a wall clock an hour behind: readings still go forward.
    let store = Store::open(&path).unwrap();
    store.set_wall_clock(std::sync::Arc::new(|| 5_000_000 - 3_600_000));
    assert!(store.hlc_now() > last);
    assert_eq!(store.outbox_next_seq().unwrap(), 4, "no seq is used twice");
}

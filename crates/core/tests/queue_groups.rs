//! Answer once, resolve many: queued escalations that ask the same thing (the real
//! model, the reuse verdict's test for a young answer) form one group; answering it
//! answers every fan and makes one canonical answer with every question as a phrasing.
//! A near miss stays out; the creator can take one out or split the group.

mod common;
use common::{config, open_with, queued, real_embedder};
use fanline_engine::{EscalationStatus, Layer, Tier};
use fanline_store::Offers;

#[test]
fn a_group_of_three_is_answered_once_and_every_fan_gets_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with(config(dir.path()), real_embedder());
    let other = queued(&app, "dev", Tier::Free, "What microphone do you record with?", 50);
    let a = queued(&app, "ana", Tier::Free, "Do you sell signed copies of your books?", 0);
    let b = queued(&app, "ben", Tier::Free, "Do you sell signed copies of your book?", 30);
    let near = queued(&app, "eli", Tier::Free, "Do you sell copies of your books in Spain?", 0);
    let c = queued(&app, "cleo", Tier::Free, "Do you sell signed copies of your novels?", 10);

    let groups = app.queue_groups(None, 50).unwrap();
    let sizes: Vec<Vec<i64>> = groups.iter().map(|g| g.items.iter().map(|i| i.id).collect()).collect();
    assert_eq!(sizes, vec![vec![other], vec![b, c, a], vec![near]], "queue order within a group: {groups:#?}");
    let g = &groups[1];
    assert_eq!((g.priority, g.fans), (30, 3), "the group's priority is its highest member's");
    assert!(groups[0].priority > g.priority);

    // Taken out, one stays by itself; let back in, it joins again.
    app.queue_keep_alone(b, true).unwrap();
    let sizes: Vec<usize> = app.queue_groups(None, 50).unwrap().iter().map(|g| g.items.len()).collect();
    assert_eq!(sizes, vec![1, 1, 2, 1], "b alone (priority 30) before the pair of a and c");
    app.queue_keep_alone(b, false).unwrap();
    assert_eq!(app.queue_groups(None, 50).unwrap()[1].items.len(), 3);

    let answer = "Yes: signed copies are in the shop on my site, shipped from Lyon.";
    let canonical = app.queue_answer_group(&[a, b, c], answer, Layer::Public).unwrap();
    assert_eq!(canonical.variants.len(), 3, "{canonical:#?}");
    for id in [a, b, c] {
        let e = app.store().escalation(id).unwrap();
        assert_eq!(e.status, EscalationStatus::Answered);
        assert_eq!(e.canonical_answer_id, Some(canonical.id));
        assert_eq!(e.answer.as_deref(), Some(answer));
    }
    let left: Vec<i64> =
        app.queue_groups(None, 50).unwrap().iter().flat_map(|g| g.items.iter().map(|i| i.id)).collect();
    assert_eq!(left, vec![other, near]);
    // Answered ones cannot be answered again; nothing half-done.
    assert!(app.queue_answer_group(&[near, a], "No.", Layer::Public).is_err());
    assert_eq!(app.store().escalation(near).unwrap().status, EscalationStatus::Accepted);
    assert!(app.queue_answer_group(&[near, near], "No.", Layer::Public).is_err());
    assert!(app.queue_answer_group(&[], "No.", Layer::Public).is_err());
    assert!(app.queue_answer_group(&[near], "  ", Layer::Public).is_err());

    // A split group stays split.
    let d = queued(&app, "fay", Tier::Free, "Which microphone do you record with?", 0);
    assert_eq!(app.queue_groups(None, 50).unwrap()[0].items.len(), 2);
    app.queue_split(&[other, d]).unwrap();
    let groups = app.queue_groups(None, 50).unwrap();
    assert!(groups.iter().all(|g| g.items.len() == 1) && groups[0].alone, "{groups:#?}");
}

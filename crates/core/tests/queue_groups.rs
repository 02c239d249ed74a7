//! Answer once, resolve many: queued escalations that ask the same thing (the real
//! model, the reuse verdict's test for a young answer) form one group; answering it
//! answers every fan and makes one canonical answer with every question as a phrasing.
//! A near miss stays out; the creator can take one out or split the group.

mod common;
use common::{config, open_with, real_embedder};
use fanline_core::Fanline;
use fanline_engine::{EscalationReason, EscalationStatus, Layer, Tier};
use fanline_store::NewEscalation;

fn ask(app: &Fanline, fan: &str, q: &str, priority: i64) -> i64 {
    let agent = app.agent(None).unwrap().id;
    let f = match app.fan_add(fan, Tier::Free, Layer::Public) {
        Ok(f) => f.id,
        Err(_) => app.fans().unwrap().into_iter().find(|x| x.handle == fan).unwrap().id,
    };
    let e = NewEscalation {
        agent_id: agent,
        fan_id: f,
        message_id: None,
        question: q.into(),
        reason: EscalationReason::Novel,
        priority,
        context_summary: String::new(),
        expires_at: None,
        expected_reply_after: None,
    };
    let id = app.store().create_escalation(&e).unwrap();
    assert!(app.accept(id).unwrap().accepted);
    id
}

#[test]
fn a_group_of_three_is_answered_once_and_every_fan_gets_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with(config(dir.path()), real_embedder());
    let other = ask(&app, "dev", "What microphone do you record with?", 50);
    let a = ask(&app, "ana", "Do you sell signed copies of your books?", 0);
    let b = ask(&app, "ben", "Do you sell signed copies of your book?", 30);
    let near = ask(&app, "eli", "Do you sell copies of your books in Spain?", 0);
    let c = ask(&app, "cleo", "Do you sell signed copies of your novels?", 10);

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
    let d = ask(&app, "fay", "Which microphone do you record with?", 0);
    assert_eq!(app.queue_groups(None, 50).unwrap()[0].items.len(), 2);
    app.queue_split(&[other, d]).unwrap();
    let groups = app.queue_groups(None, 50).unwrap();
    assert!(groups.iter().all(|g| g.items.len() == 1) && groups[0].alone, "{groups:#?}");
}

//! A reply time per tier (the policy file's `reply_within_hours`): the queue says when
//! each reply is due and what is overdue; the metrics count the answers within it and
//! chart the queue's length by day from the samples the store keeps.

mod common;
use chrono::{DateTime, Duration, Utc};
use common::{config, open, queued};
use fanline_core::Fanline;
use fanline_engine::ports::Clock;
use fanline_engine::{Layer, Tier};
use std::sync::Arc;

/// The real time, some hours ahead.
struct Ahead(Duration);

impl Clock for Ahead {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}

#[test]
fn replies_due_per_tier_overdue_ones_and_the_backlog_by_day() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.policy_save("default", "[tiers.paid]\nreply_within_hours = 2\n").unwrap();
    assert!(app.policy_save("default", "[tiers.paid]\nreply_within_hours = 0\n").is_err(), "zero hours is refused");
    let slow = queued(&app, "ben", Tier::Paid, "Can we talk about the film rights?", 0);
    let quick = queued(&app, "cleo", Tier::Paid, "Would you sign my copy at the fair?", 0);
    let free = queued(&app, "ana", Tier::Free, "Do you ever visit Lisbon?", 0);

    let queue = app.queue(None, 50).unwrap();
    let item = |id: i64| queue.iter().find(|q| q.id == id).unwrap().clone();
    let due = item(slow).due_at.expect("paid questions have a reply time");
    assert_eq!(due - item(slow).accepted_at.unwrap(), Duration::hours(2));
    assert!(!item(slow).overdue);
    assert_eq!((item(free).due_at, item(free).overdue), (None, false), "no reply time for free fans");

    // Three hours later, the paid questions are overdue.
    let later = Fanline::open_with(config(dir.path()), Some(common::embedder()))
        .unwrap()
        .with_clock(Arc::new(Ahead(Duration::hours(3))));
    let overdue: Vec<i64> = later.queue(None, 50).unwrap().into_iter().filter(|q| q.overdue).map(|q| q.id).collect();
    assert_eq!(overdue.len(), 2);
    assert!(overdue.contains(&slow) && overdue.contains(&quick));
    assert_eq!(later.metrics(None, 7).unwrap().overdue, 2);

    // One answered in time, one after five hours.
    let db = rusqlite::Connection::open(config(dir.path()).database_path()).unwrap();
    db.execute(
        "UPDATE escalations SET accepted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-5 hours') WHERE id = ?1",
        [slow],
    )
    .unwrap();
    app.queue_answer(quick, "Yes, at the Saturday session.", Layer::Public).unwrap();
    app.queue_answer(slow, "Write to my agent.", Layer::Public).unwrap();
    let m = app.metrics(None, 7).unwrap();
    assert_eq!(m.sla.len(), 1);
    assert_eq!((m.sla[0].tier, m.sla[0].hours, m.sla[0].answered, m.sla[0].within), (Tier::Paid, 2, 2, 1));
    assert_eq!(m.answered_within_sla, Some(0.5));
    assert_eq!(m.overdue, 0);

    // The backlog: 3 at most today, 1 left (the free fan's question).
    assert_eq!(m.backlog_per_day.len(), 7);
    let today = m.backlog_per_day.last().unwrap();
    assert_eq!((today.end, today.most), (1, 3), "{:?}", m.backlog_per_day);
    assert!(m.backlog_per_day[..6].iter().all(|d| d.end == 0 && d.most == 0));
    app.queue_decline(free).unwrap();
    assert_eq!(app.metrics(None, 7).unwrap().backlog_per_day.last().unwrap().end, 0);
}

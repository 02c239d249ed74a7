//! Escalation caps under concurrency, on a real database file shared by several
//! connections (as the desktop app, the CLI and the HTTP server would share it).

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{at, cap_check, offer};
use fanline_engine::{EscalationStatus, Layer, Tier};
use fanline_store::Agents;
use fanline_store::Conversations;
use fanline_store::HubAccess;
use fanline_store::{Acceptance, CapCheck, Store};
use fanline_store::{Offers, TypedOffers};
use std::sync::atomic::{AtomicU32, Ordering};

fn check(now: DateTime<Utc>, day: u32, week: u32) -> CapCheck {
    cap_check(now, "Europe/Paris", day, week)
}

#[test]
fn a_thousand_concurrent_acceptances_never_exceed_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanline.db");
    let ids: Vec<i64> = {
        let store = Store::open(&path).unwrap();
        let agent = store.create_agent("default").unwrap().id;
        let fan = store.upsert_fan("@many", Tier::Follower, Layer::Public).unwrap().id;
        (0..1000).map(|i| offer(&store, agent, fan, &format!("question {i}"), 0, None)).collect()
    };
    let now = Utc::now();
    let accepted = AtomicU32::new(0);
    let refused = AtomicU32::new(0);
    std::thread::scope(|s| {
        for t in 0..8 {
            let (ids, path, accepted, refused) = (&ids, &path, &accepted, &refused);
            s.spawn(move || {
                // Each thread its own connection: SQLite, not a Rust mutex, must hold the cap.
                let store = Store::open(path).unwrap();
                for id in ids.iter().skip(t).step_by(8) {
                    match store.accept_escalation(*id, &check(now, 10, 50)).unwrap() {
                        Acceptance::Accepted { .. } => accepted.fetch_add(1, Ordering::SeqCst),
                        Acceptance::DailyCapReached { today } => {
                            assert_eq!(today, 10);
                            refused.fetch_add(1, Ordering::SeqCst)
                        }
                        other => panic!("{other:?}"),
                    };
                }
            });
        }
    });
    assert_eq!(accepted.load(Ordering::SeqCst), 10);
    assert_eq!(refused.load(Ordering::SeqCst), 990);
    let store = Store::open(&path).unwrap();
    let n = ids.iter().filter(|id| store.escalation(**id).unwrap().status == EscalationStatus::Accepted).count();
    assert_eq!(n, 10);
}

#[test]
fn the_daily_cap_resets_at_the_creators_midnight_and_the_weekly_cap_holds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("fanline.db")).unwrap();
    let agent = store.create_agent("default").unwrap().id;
    let fan = store.upsert_fan("@sam", Tier::Free, Layer::Public).unwrap().id;
    let ids: Vec<i64> = (0..8).map(|i| offer(&store, agent, fan, &format!("question {i}"), 0, None)).collect();
    // Monday 13 Jan 2025, 23:30 Paris time (22:30 UTC): two a day, three a week.
    let monday_late = at("2025-01-13T22:30:00Z");
    assert_eq!(
        store.accept_escalation(ids[0], &check(monday_late, 2, 3)).unwrap(),
        Acceptance::Accepted { today: 1, this_week: 1 }
    );
    assert_eq!(
        store.accept_escalation(ids[1], &check(monday_late, 2, 3)).unwrap(),
        Acceptance::Accepted { today: 2, this_week: 2 }
    );
    assert_eq!(
        store.accept_escalation(ids[2], &check(monday_late, 2, 3)).unwrap(),
        Acceptance::DailyCapReached { today: 2 }
    );
    // 45 minutes later it is Tuesday in Paris (still Monday in UTC): a new day.
    let tuesday = monday_late + Duration::minutes(45);
    assert_eq!(
        store.accept_escalation(ids[2], &check(tuesday, 2, 3)).unwrap(),
        Acceptance::Accepted { today: 1, this_week: 3 }
    );
    assert_eq!(
        store.accept_escalation(ids[3], &check(tuesday, 2, 3)).unwrap(),
        Acceptance::WeeklyCapReached { this_week: 3 }
    );
    // The next Monday, a new week.
    let next_week = tuesday + Duration::days(6);
    assert!(matches!(store.accept_escalation(ids[3], &check(next_week, 2, 3)).unwrap(), Acceptance::Accepted { .. }));
    // Only a pending offer can be accepted.
    assert!(store.accept_escalation(ids[0], &check(next_week, 2, 3)).is_err());
}

#[test]
fn a_replay_counts_acceptances_taken_in_the_messages_millisecond_but_never_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("fanline.db")).unwrap();
    let agent = store.create_agent("default").unwrap().id;
    let fan = store.upsert_fan("@cleo", Tier::Free, Layer::Public).unwrap().id;
    let t = at("2025-01-13T10:00:00.123Z");
    // Two offers accepted in the very millisecond the next message arrives (a fast
    // machine), then that message's own offer, accepted in the same millisecond too.
    for q in ["festival", "screenplay"] {
        let id = offer(&store, agent, fan, q, 0, None);
        assert!(matches!(store.accept_escalation(id, &check(t, 10, 50)).unwrap(), Acceptance::Accepted { .. }));
    }
    let (_, message) = store.record_message(agent, fan, fanline_store::Role::Fan, "short story contest").unwrap();
    let own = store
        .create_escalation(&fanline_store::NewEscalation {
            message_id: Some(message),
            ..common::new_escalation(agent, fan)
        })
        .unwrap();
    store.accept_escalation(own, &check(t, 10, 50)).unwrap();
    let w = fanline_engine::caps::windows(t, fanline_engine::caps::parse_tz("UTC").unwrap());
    let h = store.fan_history(agent, fan, None, w.day_start, w.week_start, 0, Some((message, t))).unwrap();
    assert_eq!((h.escalations_today, h.escalations_this_week), (2, 2));
    // As things stand now, all three count.
    let h = store.fan_history(agent, fan, None, w.day_start, w.week_start, 0, None).unwrap();
    assert_eq!((h.escalations_today, h.earlier_escalations), (3, 3));
}

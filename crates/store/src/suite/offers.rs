//! The suite for `Offers`: an offer's life, caps by the creator's day and week, a
//! thousand acceptances racing for the cap, and what an acceptance writes with it.

use super::{at, Store};
use crate::{
    AcceptWrite, Acceptance, CapCheck, Error, MessageKind, NewDecision, NewEscalation, TypedDecisions, TypedOffers,
};
use chrono::{DateTime, Duration, Utc};
use fanline_engine::route::Trace;
use fanline_engine::{caps, EscalationReason, EscalationStatus, Layer, RoutePath, Tier};
use std::sync::atomic::{AtomicU32, Ordering};

/// Run every check of `Offers` on `store`, given two agents' ids.
pub fn offers(store: &dyn Store, agents: [i64; 2]) {
    lifecycle(store, agents[0]);
    windows(store, agents[1]);
    racing(store, agents[0]);
    writes(store, agents[1]);
}

fn check(now: DateTime<Utc>, day: u32, week: u32) -> CapCheck {
    CapCheck::at(now, caps::Tz::Europe__Paris, day, week)
}

fn new(agent: i64, fan: i64, question: &str) -> NewEscalation {
    NewEscalation {
        agent_id: agent,
        fan_id: fan,
        message_id: None,
        question: question.into(),
        reason: EscalationReason::Novel,
        priority: 0,
        context_summary: String::new(),
        expires_at: None,
        expected_reply_after: None,
    }
}

fn lifecycle(store: &dyn Store, agent: i64) {
    let fan = store.insert_fan("@asker", Tier::Paid, Layer::Public).unwrap().id;
    let expires = at("2030-01-02T00:00:00Z");
    let back = at("2030-01-01T08:00:00Z");
    let id = store
        .create_escalation(&NewEscalation {
            reason: EscalationReason::Strategic,
            priority: 7,
            context_summary: "fan: hello".into(),
            expires_at: Some(expires),
            expected_reply_after: Some(back),
            ..new(agent, fan, "Should I self-publish?")
        })
        .unwrap();
    let e = store.escalation(id).unwrap();
    assert_eq!((e.agent_id, e.fan_id, e.question.as_str()), (agent, fan, "Should I self-publish?"));
    assert_eq!(
        (e.reason, e.status, e.priority, e.context_summary.as_str()),
        (EscalationReason::Strategic, EscalationStatus::Pending, 7, "fan: hello")
    );
    assert_eq!(
        (e.expires_at, e.expected_reply_after, e.accepted_at, e.answer.as_deref()),
        (Some(expires), Some(back), None, None)
    );
    assert!(matches!(store.escalation(id + 1000).unwrap_err(), Error::NotFound { .. }));
    assert_eq!(store.escalation_of_decision(id + 1000).unwrap(), None);

    // The queue: accepted ones, deferred ones last, then priority and age.
    let now = at("2030-01-01T12:00:00Z");
    let queued: Vec<i64> = [(1, "low"), (9, "high"), (5, "deferred"), (5, "middle")]
        .iter()
        .map(|(p, q)| {
            let id = store.create_escalation(&NewEscalation { priority: *p, ..new(agent, fan, q) }).unwrap();
            assert!(store.accept_escalation(id, &check(now, 100, 100)).unwrap().accepted());
            id
        })
        .collect();
    let e = store.escalation(queued[0]).unwrap();
    assert_eq!((e.status, e.accepted_at), (EscalationStatus::Accepted, Some(now)));
    store.defer_escalation(queued[2], now + Duration::hours(2)).unwrap();
    assert_eq!(store.escalation(queued[2]).unwrap().deferred_until, Some(now + Duration::hours(2)));
    let order: Vec<i64> = store.escalation_queue(agent, now, 10).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(order, [queued[1], queued[3], queued[0], queued[2]]);
    let later: Vec<i64> =
        store.escalation_queue(agent, now + Duration::hours(3), 2).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(later, [queued[1], queued[2]], "a deferral that has passed ranks again; at most the limit");
    let err = store.defer_escalation(id, now).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "only a queued one is deferred: {err}");
    assert!(store.accept_escalation(queued[0], &check(now, 100, 100)).is_err(), "only a pending offer is accepted");

    // Expiry: pending offers and queued escalations whose time has come.
    let soon = store
        .create_escalation(&NewEscalation { expires_at: Some(now + Duration::minutes(5)), ..new(agent, fan, "soon") })
        .unwrap();
    assert_eq!(store.expire_escalations(now).unwrap(), 0);
    assert_eq!(store.expire_escalations(now + Duration::minutes(5)).unwrap(), 1);
    assert_eq!(store.escalation(soon).unwrap().status, EscalationStatus::Expired);
    assert_eq!(store.expire_escalations(now + Duration::days(2)).unwrap(), 1, "the first offer, at its expiry");
    assert_eq!(store.escalation(id).unwrap().status, EscalationStatus::Expired);
}

/// The creator's day starts at their midnight; a refusal by the week leaves the day's
/// count as it was.
fn windows(store: &dyn Store, agent: i64) {
    let fan = store.insert_fan("@sam", Tier::Free, Layer::Public).unwrap().id;
    let ids: Vec<i64> = (0..8).map(|i| store.create_escalation(&new(agent, fan, &format!("q{i}"))).unwrap()).collect();
    // Monday 13 Jan 2025, 23:30 Paris time (22:30 UTC): two a day, three a week.
    let monday_late = at("2025-01-13T22:30:00Z");
    let accept = |i: usize, now, day, week| store.accept_escalation(ids[i], &check(now, day, week)).unwrap();
    assert_eq!(accept(0, monday_late, 2, 3), Acceptance::Accepted { today: 1, this_week: 1 });
    assert_eq!(accept(1, monday_late, 2, 3), Acceptance::Accepted { today: 2, this_week: 2 });
    assert_eq!(accept(2, monday_late, 2, 3), Acceptance::DailyCapReached { today: 2 });
    // 45 minutes later it is Tuesday in Paris (still Monday in UTC): a new day.
    let tuesday = monday_late + Duration::minutes(45);
    assert_eq!(accept(2, tuesday, 2, 3), Acceptance::Accepted { today: 1, this_week: 3 });
    assert_eq!(accept(3, tuesday, 2, 3), Acceptance::WeeklyCapReached { this_week: 3 });
    assert_eq!(accept(3, tuesday, 2, 4), Acceptance::Accepted { today: 2, this_week: 4 }, "the refusal took no place");
    assert_eq!(store.escalation(ids[4]).unwrap().status, EscalationStatus::Pending);
    let next_week = tuesday + Duration::days(6);
    assert_eq!(accept(4, next_week, 2, 3), Acceptance::Accepted { today: 1, this_week: 1 });
}

/// A thousand acceptances from eight threads (connections, on a server) at once:
/// exactly the cap is accepted.
fn racing(store: &dyn Store, agent: i64) {
    let fan = store.insert_fan("@many", Tier::Follower, Layer::Public).unwrap().id;
    let ids: Vec<i64> =
        (0..1000).map(|i| store.create_escalation(&new(agent, fan, &format!("race {i}"))).unwrap()).collect();
    let now = at("2031-03-05T10:00:00Z");
    let (accepted, refused) = (AtomicU32::new(0), AtomicU32::new(0));
    std::thread::scope(|s| {
        for t in 0..8 {
            let (ids, accepted, refused) = (&ids, &accepted, &refused);
            s.spawn(move || {
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
    assert_eq!((accepted.into_inner(), refused.into_inner()), (10, 990));
    let n = ids.iter().filter(|id| store.escalation(**id).unwrap().status == EscalationStatus::Accepted).count();
    assert_eq!(n, 10);
}

/// An acceptance writes its decision (E, or F when a cap refuses) and the reply in
/// the conversation, and the queue expiry, with it.
fn writes(store: &dyn Store, agent: i64) {
    let fan = store.insert_fan("@writer2", Tier::Free, Layer::Public).unwrap().id;
    let now = at("2032-06-01T10:00:00Z");
    let trace = Trace::default();
    let mut last = None;
    for (i, expected) in [(0, RoutePath::E), (1, RoutePath::F)] {
        let (conversation, message) =
            store.record_message(agent, fan, crate::Role::Fan, &format!("question {i}")).unwrap();
        let id = store.create_escalation(&NewEscalation { message_id: Some(message), ..new(agent, fan, "q") }).unwrap();
        let decide = |a: &Acceptance| {
            let path = if a.accepted() { RoutePath::E } else { RoutePath::F };
            let d = NewDecision {
                message_id: message,
                conversation_id: conversation,
                agent_id: agent,
                fan_id: fan,
                path,
                reason: format!("{a:?}"),
                details: serde_json::json!({ "accepted": a.accepted() }),
                trace: &trace,
            };
            (d, format!("reply {i}"))
        };
        let queue_expiry = now + Duration::days(7);
        let w = AcceptWrite { decision: &decide, queue_expiry };
        let done = store.accept_escalation_with(id, &check(now, 1, 10), Some(&w)).unwrap();
        let d: crate::Decision<serde_json::Value> = store.decision(done.decision_id.expect("a decision")).unwrap();
        assert_eq!((d.path, d.message_id, d.reply.as_str()), (expected, message, format!("reply {i}").as_str()));
        let reply = store.messages_after(conversation, message, 10).unwrap().pop().unwrap();
        let e = store.escalation(id).unwrap();
        match expected {
            RoutePath::E => {
                assert_eq!((e.status, e.expires_at), (EscalationStatus::Accepted, Some(queue_expiry)));
                assert_eq!((reply.kind, reply.escalation_id), (MessageKind::EscalationAccepted, Some(id)));
            }
            _ => {
                assert_eq!((e.status, e.expires_at), (EscalationStatus::Pending, None));
                assert_eq!((reply.kind, reply.body.as_str()), (MessageKind::EscalationRefused, "reply 1"));
            }
        }
        last = Some(id);
    }
    // Without a message behind it, an acceptance writes no decision.
    let bare = store.create_escalation(&new(agent, fan, "bare")).unwrap();
    let decide = |_: &Acceptance| -> (NewDecision<'_, serde_json::Value>, String) { unreachable!("no message") };
    let w = AcceptWrite { decision: &decide, queue_expiry: now };
    let done = store.accept_escalation_with(bare, &check(now + Duration::days(1), 1, 10), Some(&w)).unwrap();
    assert_eq!((done.acceptance.accepted(), done.decision_id), (true, None));
    assert!(last.is_some());
}

//! The suite for `Conversations`: messages, idempotent posting, decisions, and a
//! fan's cursor while several writers add to one conversation.

use super::Store;
use crate::{Error, MessageKind, NewDecision, Posted, Role, TypedDecisions};
use fanline_engine::route::Trace;
use fanline_engine::{Layer, RoutePath, Tier};
use std::collections::BTreeSet;

/// Run every check of `Conversations` on `store`, given two agents' ids.
pub fn conversations(store: &dyn Store, agents: [i64; 2]) {
    messages(store, agents);
    posting(store, agents);
    decisions(store, agents);
    routing(store, agents[1]);
    history(store, agents);
    cursor(store, agents[0]);
}

fn decide(store: &dyn Store, agent: i64, fan: i64, message: i64, path: RoutePath, note: &str) -> i64 {
    let trace = Trace { decided_by: Some("decide".into()), total_us: 42, ..Trace::default() };
    let d = NewDecision {
        message_id: message,
        conversation_id: store.message_conversation(message).unwrap(),
        agent_id: agent,
        fan_id: fan,
        path,
        reason: format!("because {note}"),
        details: serde_json::json!({ "note": note, "similarity": 0.5 }),
        trace: &trace,
    };
    store.record_decision(&d, &format!("reply to {note}")).unwrap()
}

fn messages(store: &dyn Store, [a, b]: [i64; 2]) {
    let fan = store.insert_fan("@writer", Tier::Free, Layer::Public).unwrap().id;
    let (c1, m1) = store.record_message(a, fan, Role::Fan, "first").unwrap();
    let (c2, m2) = store.record_message(a, fan, Role::Agent, "second").unwrap();
    let (c3, m3) = store.record_message(a, fan, Role::Fan, "third").unwrap();
    assert_eq!((c1, c2, c3), (c1, c1, c1), "one conversation");
    assert_eq!(store.fan_conversation(a, fan).unwrap(), c1);
    assert!(m1 < m2 && m2 < m3);
    let (other, _) = store.record_message(b, fan, Role::Fan, "elsewhere").unwrap();
    assert_ne!(other, c1);

    let all = store.messages_after(c1, 0, 10).unwrap();
    let bodies: Vec<&str> = all.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["first", "second", "third"]);
    assert_eq!(
        (all[1].role, all[1].kind, all[1].escalation_id, all[1].reply_to),
        (Role::Agent, MessageKind::Message, None, None)
    );
    assert_eq!(all[0].conversation_id, c1);
    let after: Vec<i64> = store.messages_after(c1, m1, 1).unwrap().iter().map(|m| m.id).collect();
    assert_eq!(after, [m2]);
    assert!(store.messages_after(c1, m3, 10).unwrap().is_empty());
    let recent: Vec<i64> = store.recent_messages(c1, 2).unwrap().iter().map(|m| m.id).collect();
    assert_eq!(recent, [m2, m3], "the last two, oldest first");
    assert_eq!(store.message_conversation(m2).unwrap(), c1);
    assert!(matches!(store.message_conversation(m3 + 1000).unwrap_err(), Error::NotFound { .. }));
    assert_eq!(store.reply_of(m1).unwrap(), None);

    // The fan's turn before a message: the fan's own, with its path once decided.
    let before = store.previous_fan_turn(m3).unwrap().unwrap();
    assert_eq!((before.body.as_str(), before.path), ("first", None));
    assert!((0.0..60.0).contains(&before.seconds_before), "{}", before.seconds_before);
    decide(store, a, fan, m1, RoutePath::B, "vague");
    assert_eq!(store.previous_fan_turn(m3).unwrap().unwrap().path, Some(RoutePath::B));
    assert_eq!(store.previous_fan_turn(m1).unwrap(), None);
}

fn posting(store: &dyn Store, [a, b]: [i64; 2]) {
    let fan = store.insert_fan("@poster", Tier::Free, Layer::Public).unwrap().id;
    let Posted::New { conversation_id, message_id } = store.post_fan_message(a, fan, "hello", "key-1", "h1").unwrap()
    else {
        panic!("a new key stores a message")
    };
    assert_eq!(conversation_id, store.fan_conversation(a, fan).unwrap());
    let stored = store.messages_after(conversation_id, 0, 10).unwrap();
    assert_eq!((stored.len(), stored[0].id, stored[0].role), (1, message_id, Role::Fan));
    match store.post_fan_message(a, fan, "hello", "key-1", "h1").unwrap() {
        Posted::Seen { message_id: m, same_request: true, decision_id: None, seconds_ago } => {
            assert_eq!(m, message_id);
            assert!((0.0..60.0).contains(&seconds_ago), "{seconds_ago}");
        }
        other => panic!("a replay finds the message: {other:?}"),
    }
    let Posted::Seen { same_request, .. } = store.post_fan_message(a, fan, "hello?", "key-1", "h2").unwrap() else {
        panic!("the key was used")
    };
    assert!(!same_request, "another request under the same key");
    // A key is the fan's, whatever the agent.
    assert!(matches!(store.post_fan_message(b, fan, "hello", "key-1", "h1").unwrap(), Posted::Seen { .. }));
    let d = decide(store, a, fan, message_id, RoutePath::A, "hello");
    let Posted::Seen { decision_id, .. } = store.post_fan_message(a, fan, "hello", "key-1", "h1").unwrap() else {
        panic!("the key was used")
    };
    assert_eq!(decision_id, Some(d));
    assert_eq!(store.messages_after(conversation_id, 0, 10).unwrap().len(), 1, "replays stored nothing");

    // A fan's retries racing each other (or two hub processes): one message.
    let fan = store.insert_fan("@impatient", Tier::Free, Layer::Public).unwrap().id;
    let posted: Vec<Posted> = std::thread::scope(|s| {
        let t: Vec<_> =
            (0..8).map(|_| s.spawn(move || store.post_fan_message(a, fan, "hi", "key-r", "hr").unwrap())).collect();
        t.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let new: Vec<i64> = posted
        .iter()
        .filter_map(|p| if let Posted::New { message_id, .. } = p { Some(*message_id) } else { None })
        .collect();
    assert_eq!(new.len(), 1, "{posted:?}");
    for p in &posted {
        if let Posted::Seen { message_id, same_request, .. } = p {
            assert_eq!((*message_id, *same_request), (new[0], true));
        }
    }
    let conversation = store.fan_conversation(a, fan).unwrap();
    assert_eq!(store.messages_after(conversation, 0, 10).unwrap().len(), 1);
}

fn decisions(store: &dyn Store, [a, b]: [i64; 2]) {
    let ann = store.insert_fan("@ann", Tier::Free, Layer::Public).unwrap().id;
    let bob = store.insert_fan("@bob", Tier::Free, Layer::Public).unwrap().id;
    let (_, m1) = store.record_message(b, ann, Role::Fan, "Do you ship abroad?").unwrap();
    let (_, m2) = store.record_message(b, bob, Role::Fan, "What is your podcast?").unwrap();
    let (_, m3) = store.record_message(b, ann, Role::Fan, "Can you review my novel?").unwrap();
    let d1 = decide(store, b, ann, m1, RoutePath::C, "shipping");
    let d2 = decide(store, b, bob, m2, RoutePath::A, "podcast");
    let d3 = decide(store, b, ann, m3, RoutePath::D, "review");
    assert_eq!(store.decision_of_message(m2).unwrap(), Some(d2));

    let got: crate::Decision<serde_json::Value> = store.decision(d1).unwrap();
    assert_eq!((got.message_id, got.agent_id, got.fan_id, got.path), (m1, b, ann, RoutePath::C));
    assert_eq!((got.reason.as_str(), got.reply.as_str()), ("because shipping", "reply to shipping"));
    assert_eq!(got.details, serde_json::json!({ "note": "shipping", "similarity": 0.5 }));
    assert_eq!((got.trace.decided_by.as_deref(), got.trace.total_us), (Some("decide"), 42));
    assert_eq!(got.canonical_answer_id, None);
    #[derive(serde::Deserialize)]
    struct Details {
        note: String,
    }
    let typed: crate::Decision<Details> = store.decision(d3).unwrap();
    assert_eq!(typed.details.note, "review");
    assert_eq!(store.decision_question(d3).unwrap(), "Can you review my novel?");
    assert!(matches!(store.decision_value(d3 + 1000).unwrap_err(), Error::NotFound { .. }));
    assert!(matches!(store.decision_question(d3 + 1000).unwrap_err(), Error::NotFound { .. }));

    type Log = Vec<crate::Decision<serde_json::Value>>;
    let ids = |l: Log| l.into_iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_decisions(b, None, None, 10).unwrap()), [d3, d2, d1], "newest first");
    assert_eq!(ids(store.list_decisions(b, Some(RoutePath::A), None, 10).unwrap()), [d2]);
    assert_eq!(ids(store.list_decisions(b, None, Some(ann), 10).unwrap()), [d3, d1]);
    assert_eq!(ids(store.list_decisions(b, None, None, 1).unwrap()), [d3]);
    assert!(store.list_decisions::<serde_json::Value>(a + b + 1000, None, None, 10).unwrap().is_empty());

    // A decision on a message that does not exist is refused.
    let trace = Trace::default();
    let orphan = NewDecision {
        message_id: m3 + 1000,
        conversation_id: 0,
        agent_id: b,
        fan_id: ann,
        path: RoutePath::A,
        reason: String::new(),
        details: serde_json::Value::Null,
        trace: &trace,
    };
    assert!(store.record_decision_value(&orphan, "").is_err());
}

/// Four writers add to one conversation while a fan follows it by cursor: the fan
/// sees every message (none is numbered below one already seen once it commits).
fn cursor(store: &dyn Store, agent: i64) {
    let fan = store.insert_fan("@follower", Tier::Free, Layer::Public).unwrap().id;
    let conversation = store.fan_conversation(agent, fan).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (written, seen) = std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                s.spawn(move || {
                    (0..25)
                        .map(|i| store.record_message(agent, fan, Role::Fan, &format!("w{w} m{i}")).unwrap().1)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let done = &done;
        let reader = s.spawn(move || {
            let (mut cursor, mut seen) = (0, BTreeSet::new());
            loop {
                let last_round = done.load(std::sync::atomic::Ordering::SeqCst);
                for m in store.messages_after(conversation, cursor, 500).unwrap() {
                    cursor = m.id;
                    seen.insert(m.id);
                }
                if last_round {
                    return seen;
                }
            }
        });
        let written: BTreeSet<i64> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (written, reader.join().unwrap())
    });
    assert_eq!(written.len(), 100);
    let missed: Vec<_> = written.difference(&seen).collect();
    assert!(missed.is_empty(), "the cursor passed {missed:?}");
}

/// A routing decision is written with its reply, and with its offer (numbered before
/// the reply naming it), once per message, all or nothing.
fn routing(store: &dyn Store, agent: i64) {
    use crate::{NewEscalation, NewRouting};
    use fanline_engine::EscalationStatus;
    let fan = store.insert_fan("@routed", Tier::Free, Layer::Public).unwrap().id;
    let trace = Trace { decided_by: Some("decide".into()), ..Trace::default() };
    let routing = |message: i64, path: RoutePath, offer: bool, served: Option<i64>| NewRouting {
        decision: NewDecision {
            message_id: message,
            conversation_id: store.message_conversation(message).unwrap(),
            agent_id: agent,
            fan_id: fan,
            path,
            reason: "why".into(),
            details: serde_json::json!({ "path": path.as_str() }),
            trace: &trace,
        },
        served,
        offer: offer.then(|| NewEscalation {
            agent_id: agent,
            fan_id: fan,
            message_id: Some(message),
            question: "Will you read my manuscript?".into(),
            reason: fanline_engine::EscalationReason::Novel,
            priority: 3,
            context_summary: "fan: hi".into(),
            expires_at: None,
            expected_reply_after: None,
        }),
    };
    // A: the reply, answering the fan's message.
    let (conversation, m1) = store.record_message(agent, fan, Role::Fan, "When do videos come out?").unwrap();
    let a = store.record_routing(&routing(m1, RoutePath::A, false, None), |id| format!("Tuesdays ({id:?})")).unwrap();
    assert_eq!((a.escalation_id, a.times_reused, a.reply.as_str()), (None, None, "Tuesdays (None)"));
    assert_eq!(store.decision_of_message(m1).unwrap(), Some(a.decision_id));
    assert_eq!(store.reply_of(m1).unwrap(), Some(a.reply_message_id));
    let reply = store.messages_after(conversation, m1, 10).unwrap().remove(0);
    assert_eq!(
        (reply.id, reply.role, reply.kind, reply.reply_to),
        (a.reply_message_id, Role::Agent, MessageKind::Reply, Some(m1))
    );
    assert_eq!(reply.body, "Tuesdays (None)");
    assert_eq!(store.decision_value(a.decision_id).unwrap().reply, "Tuesdays (None)");

    // A message is routed once, also when two routings race (a recovery and a slow
    // route, perhaps in two processes); the loser writes nothing.
    let err = store.record_routing(&routing(m1, RoutePath::B, false, None), |_| "again".into()).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    let (_, m2) = store.record_message(agent, fan, Role::Fan, "Will you read my manuscript?").unwrap();
    let results: Vec<_> = std::thread::scope(|s| {
        let t: Vec<_> = (0..8)
            .map(|_| {
                let w = routing(m2, RoutePath::D, true, None);
                s.spawn(move || store.record_routing(&w, |id| format!("Accept offer #{}", id.unwrap())))
            })
            .collect();
        t.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for r in &results {
        if let Err(e) = r {
            assert!(matches!(e, Error::Conflict { .. }), "{e}");
        }
    }
    // D: the offer, numbered as the reply says, pointing to its decision.
    let d = won[0];
    let offer = d.escalation_id.expect("an offer");
    assert_eq!(d.reply, format!("Accept offer #{offer}"));
    let e = store.escalation(offer).unwrap();
    assert_eq!((e.status, e.message_id, e.priority, e.fan_id), (EscalationStatus::Pending, Some(m2), 3, fan));
    assert_eq!(store.escalation_of_decision(d.decision_id).unwrap().map(|e| e.id), Some(offer));
    let replies: Vec<_> = store.messages_after(conversation, m2, 10).unwrap();
    assert_eq!(replies.len(), 1, "one reply for one routing");
    assert_eq!(
        (replies[0].kind, replies[0].escalation_id, replies[0].reply_to),
        (MessageKind::EscalationOffered, Some(offer), Some(m2))
    );

    // All or nothing: serving an answer that does not exist writes no decision and no reply.
    let (_, m3) = store.record_message(agent, fan, Role::Fan, "Do you ship abroad?").unwrap();
    assert!(store.record_routing(&routing(m3, RoutePath::C, false, Some(999_999)), |_| "served".into()).is_err());
    assert_eq!(store.decision_of_message(m3).unwrap(), None);
    assert_eq!(store.reply_of(m3).unwrap(), None);
    assert_eq!(store.messages_after(conversation, m3, 10).unwrap().len(), 0);
}

/// What routing reads of a fan's history, now and as of an earlier message; and the
/// messages left without a decision.
fn history(store: &dyn Store, [a, b]: [i64; 2]) {
    use crate::{CapCheck, NewEscalation, TypedOffers};
    let fan = store.insert_fan("@regular", Tier::Free, Layer::Public).unwrap().id;
    let t = super::at("2033-02-01T10:00:00Z");
    let (day_start, week_start) = (t - chrono::Duration::hours(10), t - chrono::Duration::days(2));
    let cap = CapCheck { now: t, day_start, week_start, max_per_day: 10, max_per_week: 50 };
    let offer = |q: &str, expires: Option<chrono::DateTime<chrono::Utc>>| {
        store
            .create_escalation(&NewEscalation {
                agent_id: a,
                fan_id: fan,
                message_id: None,
                question: q.into(),
                reason: fanline_engine::EscalationReason::Novel,
                priority: 0,
                context_summary: String::new(),
                expires_at: expires,
                expected_reply_after: None,
            })
            .unwrap()
    };
    let taken = offer("taken", None);
    assert!(store.accept_escalation(taken, &cap).unwrap().accepted());
    offer("lapsed", Some(t - chrono::Duration::minutes(1)));
    offer("open", None);
    store.expire_escalations(t).unwrap();
    let (conversation, m1) = store.record_message(a, fan, Role::Fan, "What is your next book?").unwrap();
    store.record_message(a, fan, Role::Agent, "Which one do you mean?").unwrap();
    decide(store, a, fan, m1, RoutePath::B, "next book");
    let (_, m2) = store.record_message(a, fan, Role::Fan, "The sequel").unwrap();

    let h = store.fan_history(a, fan, Some(conversation), day_start, week_start, 2, None).unwrap();
    assert_eq!((h.earlier_escalations, h.declined_offers), (3, 1));
    assert_eq!((h.escalations_today, h.escalations_this_week), (1, 1));
    assert_eq!(h.previous_path, Some(RoutePath::B));
    let recent: Vec<(&str, &str)> = h.recent_messages.iter().map(|(r, b)| (r.as_str(), b.as_str())).collect();
    assert_eq!(recent, [("agent", "Which one do you mean?"), ("fan", "The sequel")]);
    // As of the first message: no decision before it; acceptances up to its instant count.
    let h = store.fan_history(a, fan, Some(conversation), day_start, week_start, 6, Some((m1, t))).unwrap();
    assert_eq!((h.previous_path, h.recent_messages.len(), h.escalations_today), (None, 1, 1));
    let earlier =
        store.fan_history(a, fan, None, day_start, week_start, 6, Some((m1, t - chrono::Duration::seconds(1))));
    assert_eq!(earlier.unwrap().escalations_today, 0, "accepted after that instant");
    let other = store.fan_history(b, fan, None, day_start, week_start, 6, None).unwrap();
    assert_eq!((other.earlier_escalations, other.escalations_today, other.recent_messages.len()), (0, 0, 0));

    // Left without a decision: m2, until it is decided.
    let count = store.unrouted_count(Some(a)).unwrap();
    assert!(count >= 1 && store.unrouted_count(None).unwrap() >= count);
    let u = store.unrouted_message(m2).unwrap().expect("no decision yet");
    assert_eq!((u.conversation_id, u.agent_id, u.fan_id, u.body.as_str()), (conversation, a, fan, "The sequel"));
    assert_eq!(store.unrouted_message(m1).unwrap(), None, "decided");
    let far = chrono::Utc::now() + chrono::Duration::days(1);
    assert!(store.unrouted_messages(far, 10_000).unwrap().iter().any(|u| u.message_id == m2));
    let long_ago = super::at("2000-01-01T00:00:00Z");
    assert!(store.unrouted_messages(long_ago, 10).unwrap().is_empty(), "only messages stored before the given time");
    decide(store, a, fan, m2, RoutePath::A, "sequel");
    assert_eq!(store.unrouted_count(Some(a)).unwrap(), count - 1);
    assert_eq!(store.unrouted_message(m2).unwrap(), None);
}

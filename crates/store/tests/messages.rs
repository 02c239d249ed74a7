//! Messages and decisions on a real database file.

use fanline_engine::route::{StepOutcome, StepRecord, Trace};
use fanline_engine::{Layer, RoutePath, Tier};
use fanline_store::Agents;
use fanline_store::HubAccess;
use fanline_store::{Conversations, TypedDecisions};
use fanline_store::{NewDecision, Role, Store};
use serde_json::json;

#[test]
fn messages_are_kept_per_conversation_and_decisions_with_their_trace() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("fanline.db")).unwrap();
    let agent = store.create_agent("default").unwrap().id;
    let sam = store.upsert_fan("@sam", Tier::Free, Layer::Public).unwrap().id;
    let kim = store.upsert_fan("@kim", Tier::Paid, Layer::Friends).unwrap().id;
    let found = store.fan_by_handle(" @kim ").unwrap().unwrap();
    assert_eq!((found.id, found.tier, found.layer), (kim, Tier::Paid, Layer::Friends));
    assert!(store.fan_by_handle("@nobody").unwrap().is_none());

    let (c1, m1) = store.record_message(agent, sam, Role::Fan, "hi!").unwrap();
    let (c1b, _) = store.record_message(agent, sam, Role::Agent, "Hello, what can I do for you?").unwrap();
    let (c2, _) = store.record_message(agent, kim, Role::Fan, "How much is the workshop?").unwrap();
    assert_eq!(c1, c1b, "a fan's messages share one conversation");
    assert_ne!(c1, c2);
    for i in 0..7 {
        store.record_message(agent, sam, Role::Fan, &format!("message {i}")).unwrap();
    }
    let last5 = store.recent_messages(c1, 5).unwrap();
    let bodies: Vec<&str> = last5.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["message 2", "message 3", "message 4", "message 5", "message 6"]);

    let trace = Trace {
        steps: vec![StepRecord {
            step: "decide".into(),
            outcome: StepOutcome::Decided,
            note: "vague".into(),
            start_us: 3,
            duration_us: 1,
            wave: 6,
        }],
        decided_by: Some("decide".into()),
        total_us: 4,
    };
    let id = store
        .record_decision(
            &NewDecision {
                message_id: m1,
                conversation_id: c1,
                agent_id: agent,
                fan_id: sam,
                path: RoutePath::B,
                reason: "too vague to answer".into(),
                details: json!({ "vagueness": 0.9 }),
                trace: &trace,
            },
            "What would you like to know?",
        )
        .unwrap();
    let d = store.decision::<serde_json::Value>(id).unwrap();
    assert_eq!(d.path, RoutePath::B);
    assert_eq!(d.trace, trace);
    assert_eq!(d.details["vagueness"], 0.9);
    assert_eq!(d.reply, "What would you like to know?");

    let (_, m2) = store.record_message(agent, kim, Role::Fan, "and the annual plan?").unwrap();
    store
        .record_decision(
            &NewDecision {
                message_id: m2,
                conversation_id: c2,
                agent_id: agent,
                fan_id: kim,
                path: RoutePath::C,
                reason: "canonical answer 4".into(),
                details: json!({}),
                trace: &Trace::default(),
            },
            "290 euros a year.",
        )
        .unwrap();
    type Log = Vec<fanline_store::Decision<serde_json::Value>>;
    let all: Log = store.list_decisions(agent, None, None, 10).unwrap();
    assert_eq!(all.len(), 2);
    let only_c: Log = store.list_decisions(agent, Some(RoutePath::C), None, 10).unwrap();
    assert_eq!(only_c.len(), 1);
    assert_eq!(only_c[0].fan_id, kim);
    let sams: Log = store.list_decisions(agent, None, Some(sam), 10).unwrap();
    assert_eq!(sams[0].path, RoutePath::B);

    // A message that does not exist cannot get a decision.
    let orphan = NewDecision {
        message_id: 9999,
        conversation_id: c1,
        agent_id: agent,
        fan_id: sam,
        path: RoutePath::A,
        reason: String::new(),
        details: json!({}),
        trace: &Trace::default(),
    };
    assert!(store.record_decision(&orphan, "").is_err());
}

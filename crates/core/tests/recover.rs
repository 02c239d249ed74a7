//! Fan messages stored with no decision (a route killed or failed after the message
//! was kept) are found and routed, each once.

mod common;
use common::{kb, open};
use fanline_core::Recovered;
use fanline_engine::{Layer, Tier};
use fanline_store::Conversations;
use fanline_store::Role;

#[test]
fn a_message_left_without_a_decision_is_reported_and_routed_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    let ana = app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let agent = app.agent(None).unwrap();
    // What a route killed between storing the message and deciding leaves behind.
    let (_, orphan) =
        app.store().record_message(agent.id, ana.id, Role::Fan, "What camera do you use for your videos?").unwrap();
    let routed = app.route(None, "ana", "How much does the workshop cost?").unwrap();

    assert_eq!(app.unrouted_count().unwrap(), 1);
    let doctor = app.doctor().unwrap();
    let check = doctor.checks.iter().find(|c| c.name == "messages").unwrap();
    assert!(
        !check.ok && check.detail.contains("1 fan message") && check.detail.contains("fanline recover"),
        "{check:?}"
    );
    assert_eq!(app.metrics(None, 1).unwrap().unrouted_messages, 1);

    // Too young: another process may be routing it right now.
    let r = app.recover(3600).unwrap();
    assert!(r.messages.is_empty() && r.left == 1, "{r:?}");

    let r = app.recover(0).unwrap();
    assert_eq!(r.messages.len(), 1, "{r:?}");
    let Recovered::Routed { report } = &r.messages[0] else { panic!("{r:?}") };
    assert_eq!(report.message_id, orphan);
    assert!(!report.reply.is_empty());
    assert_eq!(r.left, 0);
    assert_ne!(report.decision_id, routed.decision_id);
    // The fan got exactly one reply to it, and it is in the decision log.
    let history = app.store().recent_messages(report.conversation_id, 20).unwrap();
    assert_eq!(history.iter().filter(|m| m.body == report.reply).count(), 1);
    assert!(app.decision(report.decision_id).is_ok());
    assert!(app.doctor().unwrap().checks.iter().any(|c| c.name == "messages" && c.ok));

    // Routed once: recovering again takes nothing.
    assert!(app.recover(0).unwrap().messages.is_empty());
}

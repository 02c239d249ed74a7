//! Routing against the real store and index (the stand-in embedder): caps under
//! concurrency, time zones and DST, layers, policy reload, stored traces and details,
//! errors with their kind. The full loop with the real model is in `real_model.rs`.

mod common;

use chrono::{DateTime, Utc};
use common::{kb, open, open_cfg};
use fanline_core::{ErrorCode, Fanline, NewCanonicalInput};
use fanline_engine::ports::Clock;
use fanline_engine::route::RefusalCode;
use fanline_engine::{Layer, RoutePath, Tier};
use fanline_store::Conversations;
use fanline_store::Offers;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn at(t: &str) -> Arc<TestClock> {
        Arc::new(TestClock(Mutex::new(t.parse().unwrap())))
    }
    fn set(&self, t: &str) {
        *self.0.lock().unwrap() = t.parse().unwrap();
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn with_public_kb(app: &Fanline) {
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
}

/// A fresh data directory with the sample public knowledge and one free fan, "ana".
fn open_with_ana(dir: &std::path::Path) -> Fanline {
    let app = open(dir);
    with_public_kb(&app);
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    app
}

#[test]
fn messages_are_stored_before_routing_and_decisions_with_their_trace() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with_ana(dir.path());
    let r = app.route(None, "ana", "What camera do you use for your videos?").unwrap();
    let stored = app.decision(r.decision_id).unwrap();
    assert_eq!(stored.path, r.path);
    assert_eq!(stored.reply, r.reply);
    let steps = &stored.trace.steps;
    let plan = steps.iter().filter(|s| !s.step.starts_with("critic:")).count();
    assert_eq!(plan, 10);
    assert!(steps.iter().any(|s| s.step == "critic:safety:message"));
    let signals = stored.details.signals.as_ref().unwrap();
    assert_eq!(signals.risk, fanline_engine::signals::RiskTier::Low);
    assert!(signals.similarity > 0.1, "{signals:?}");
    assert_eq!(stored.details.candidates, r.candidates);
    assert_eq!(stored.details.critics.as_ref().unwrap().message, r.critics.message);

    // Bad input: clear errors.
    assert_eq!(app.route(None, "ana", "   ").unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(app.route(None, "nobody", "hi there").unwrap_err().code(), ErrorCode::InvalidInput);
    let long = "word ".repeat(3000);
    assert_eq!(app.route(None, "ana", &long).unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(app.route(None, "ana", "nul\0byte").unwrap_err().code(), ErrorCode::InvalidInput);

    // With the model missing, routing fails with the embedder's own error, and the
    // message is kept.
    let mut cfg = common::config(dir.path());
    cfg.embedder.model_dir = dir.path().join("no-model");
    let broken = Fanline::open(cfg).unwrap();
    let err = broken.route(None, "ana", "Is the message kept?").unwrap_err();
    assert_eq!(err.code(), ErrorCode::ModelMissing, "{err}");
    let kept = broken.store().recent_messages(r.conversation_id, 10).unwrap();
    assert_eq!(kept.last().unwrap().body, "Is the message kept?");
}

#[test]
fn caps_hold_exactly_under_a_thousand_concurrent_routings() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.rule_set(None, "max_escalations_per_day", "7").unwrap();
    for f in 0..10 {
        app.fan_add(&format!("fan{f}"), Tier::Free, Layer::Public).unwrap();
    }
    let next = AtomicUsize::new(0);
    let (accepted, refused, offers) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= 1000 {
                    break;
                }
                let msg = format!("Question {i}: how do glaciers on planet {} shape their valleys over time?", i * 7);
                let r = app.route(None, &format!("fan{}", i % 10), &msg).unwrap();
                if let Some(id) = r.escalation_id {
                    offers.fetch_add(1, Ordering::SeqCst);
                    let a = app.accept(id).unwrap();
                    if a.accepted {
                        accepted.fetch_add(1, Ordering::SeqCst);
                    } else {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                } else {
                    assert_eq!(r.path, RoutePath::F, "{}", r.reason);
                    assert_eq!(r.refusal.as_ref().unwrap().code, RefusalCode::DailyCapReached);
                }
            });
        }
    });
    assert_eq!(accepted.load(Ordering::SeqCst), 7, "exactly the cap");
    assert_eq!(offers.load(Ordering::SeqCst), 7 + refused.load(Ordering::SeqCst));
    let m = app.metrics(None, 1).unwrap();
    assert_eq!(m.escalations_today, 7);
    assert_eq!(m.messages, 1000, "every message has its decision");
}

#[test]
fn daily_caps_follow_the_creators_midnight_across_a_dst_change() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at("2026-03-08T04:30:00Z"); // 23:30 EST on Saturday 7 March
    let app =
        Fanline::open_with(common::config(dir.path()), Some(common::embedder())).unwrap().with_clock(clock.clone());
    app.init(None).unwrap();
    app.rule_set(None, "timezone", "America/New_York").unwrap();
    app.rule_set(None, "max_escalations_per_day", "1").unwrap();
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let novel = |n: u32| format!("What is the migration route of the arctic tern number {n}?");

    let r = app.route(None, "ana", &novel(1)).unwrap();
    assert!(app.accept(r.escalation_id.unwrap()).unwrap().accepted);
    // 23:50 local: today's one escalation is used; it resets at local midnight (05:00 UTC).
    clock.set("2026-03-08T04:50:00Z");
    let r = app.route(None, "ana", &novel(2)).unwrap();
    assert_eq!(r.refusal.as_ref().map(|f| f.code), Some(RefusalCode::DailyCapReached), "{}", r.reason);
    assert!(r.reply.contains("Sun 08 Mar 05:00 UTC"), "{}", r.reply);
    // 00:10 local on Sunday: a new day.
    clock.set("2026-03-08T05:10:00Z");
    let r = app.route(None, "ana", &novel(3)).unwrap();
    assert!(app.accept(r.escalation_id.unwrap()).unwrap().accepted, "{}", r.reason);
    // Clocks went forward at 02:00: Sunday's midnight-to-midnight is 23 hours and the
    // next day starts at 04:00 UTC (00:00 EDT), not 05:00.
    clock.set("2026-03-09T03:59:00Z");
    let r = app.route(None, "ana", &novel(4)).unwrap();
    assert_eq!(r.refusal.as_ref().map(|f| f.code), Some(RefusalCode::DailyCapReached));
    assert!(r.reply.contains("Mon 09 Mar 04:00 UTC"), "{}", r.reply);
    clock.set("2026-03-09T04:00:00Z");
    let r = app.route(None, "ana", &novel(5)).unwrap();
    assert_eq!(r.path, RoutePath::D, "{}", r.reason);
}

#[test]
fn the_policy_file_is_reloaded_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with_ana(dir.path());
    let q = "How much does your editing course cost?";
    let before = app.route(None, "ana", q).unwrap();
    assert!(!before.reason.contains("topic"), "{}", before.reason);

    let path = app.policy_path("default");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "[topics.pricing]\nkeywords = [\"cost\", \"price\"]\naction = \"escalate\"\npriority = 40\n")
        .unwrap();
    let r = app.route(None, "ana", q).unwrap();
    assert_eq!(r.path, RoutePath::D, "{}", r.reason);
    assert!(r.reason.contains("pricing"), "{}", r.reason);
    assert!(r.policy_warning.is_none());

    // A broken edit: the previous policy stays in force, and the decision says so.
    std::fs::write(&path, "[topics.pricing]\nkeywords = [\"cost\"]\naction = \"sometimes\"\n").unwrap();
    let r = app.route(None, "ana", q).unwrap();
    assert_eq!(r.path, RoutePath::D);
    let w = r.policy_warning.unwrap();
    assert!(w.contains("line 3") && w.contains("action"), "{w}");

    // Removed: no policy.
    std::fs::remove_file(&path).unwrap();
    let r = app.route(None, "ana", q).unwrap();
    assert!(!r.reason.contains("pricing"), "{}", r.reason);

    // The CLI's check names the line and field too.
    std::fs::write(&path, "[tiers.paid]\nnovelty_threshold = 2\n").unwrap();
    let err = fanline_core::policy::check_policy(&path).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPolicy);
    assert!(err.to_string().contains("line 2, field `novelty_threshold`"), "{err}");
}

#[test]
fn rules_are_checked_before_they_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    assert!(app.rule_set(None, "timezone", "Mars/Base").is_err());
    assert!(app.rule_set(None, "auto_answer_confidence_threshold", "1.5").is_err());
    assert!(app.rule_set(None, "no_such_rule", "1").unwrap_err().to_string().contains("max_escalations_per_day"));
    let r = app.rule_set(None, "blocked_topics", "politics, religion").unwrap();
    assert_eq!(r.blocked_topics, ["politics", "religion"]);
    let r = app.rule_set(None, "allowed_user_tiers", "free,follower,paid").unwrap();
    assert_eq!(r.allowed_user_tiers, [Tier::Free, Tier::Follower, Tier::Paid]);
    let w = r#"[{"days":["mon","tue"],"start":"09:00","end":"17:00"}]"#;
    assert_eq!(app.rule_set(None, "availability_windows", w).unwrap().availability_windows.len(), 1);
    assert!(app
        .rule_set(None, "availability_windows", r#"[{"days":["funday"],"start":"09:00","end":"17:00"}]"#)
        .is_err());
    assert_eq!(app.rule_get(None, "timezone").unwrap(), "UTC");
}

/// A data dir with content and canonical answers at every layer, and the canonical
/// questions with their layers.
type Layered = (tempfile::TempDir, Fanline, Vec<(String, Layer)>);

fn layered_app() -> Layered {
    let dir = tempfile::tempdir().unwrap();
    let app = open_cfg(common::config(dir.path()));
    for (sub, layer) in [("public", Layer::Public), ("friends", Layer::Friends), ("intimate", Layer::Intimate)] {
        app.import(None, &[kb(sub)], layer, &mut |_| {}).unwrap();
    }
    let questions = vec![
        ("What camera do you use?".to_string(), Layer::Public),
        ("Where do you live these days?".to_string(), Layer::Friends),
        ("How is your health after the surgery?".to_string(), Layer::Intimate),
    ];
    for (i, (q, layer)) in questions.iter().enumerate() {
        let input = NewCanonicalInput {
            question: q.clone(),
            variants: vec![],
            answer: format!("Answer {i} for {layer} fans."),
            layer: *layer,
        };
        app.canonical_add(None, &input).unwrap();
    }
    for (h, l) in [("pub", Layer::Public), ("friend", Layer::Friends), ("close", Layer::Intimate)] {
        app.fan_add(h, Tier::Free, l).unwrap();
    }
    (dir, app, questions)
}

/// Every fan layer against every question (each canonical question at each layer,
/// and questions near the documents of each layer): nothing above the fan's layer is
/// ever served, cited or even a candidate, and a fan is served exactly the question of
/// a layer they may see.
#[test]
fn nothing_above_the_fans_layer_is_ever_served_cited_or_a_candidate() {
    let (_dir, app, questions) = layered_app();
    let extra = [
        "Tell me about your morning routine",
        "What lens do you film with?",
        "Are you doing okay lately?",
        "What is the next novel about, the lighthouse book?",
        "Tell me about the memoir of your grandmother the radio operator",
        "Why did you almost quit writing after the publisher went bankrupt?",
    ];
    let mut cases = 0;
    for (handle, layer) in [("pub", Layer::Public), ("friend", Layer::Friends), ("close", Layer::Intimate)] {
        for (q, question_layer) in
            questions.iter().map(|(q, l)| (q.as_str(), Some(*l))).chain(extra.iter().map(|q| (*q, None)))
        {
            let r = app.route(None, handle, q).unwrap();
            cases += 1;
            if let Some(s) = &r.served {
                let c = app.canonical_show(s.canonical_id).unwrap();
                assert!(layer.can_see(c.layer), "{handle} was served a {} answer for {q:?}", c.layer);
            }
            let ids: Vec<i64> = r.citations.iter().map(|c| c.chunk_id).collect();
            for c in app.store().chunks_by_ids(&ids).unwrap() {
                assert!(layer.can_see(c.layer), "{handle} was cited a {} chunk for {q:?}", c.layer);
            }
            for c in &r.candidates {
                assert!(layer.can_see(c.layer), "{handle} had a {} candidate for {q:?}", c.layer);
            }
            if let Some(l) = question_layer.filter(|l| layer.can_see(*l)) {
                assert_eq!(r.path, RoutePath::C, "{handle} ({l}) {q:?}: {}", r.reason);
            }
        }
    }
    assert_eq!(cases, 3 * (questions.len() + extra.len()));
}

#[test]
fn a_fan_in_crisis_reads_crisis_resources_first_and_goes_to_the_top_of_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with_ana(dir.path());
    let r = app.route(None, "ana", "I want to kill myself, nothing matters anymore").unwrap();
    assert_eq!(r.path, RoutePath::D, "{}", r.reason);
    assert!(r.reply.starts_with(fanline_engine::route::policy::DEFAULT_CRISIS_RESOURCES), "{}", r.reply);
    assert!(r.reply.contains(&format!("accept offer #{}", r.escalation_id.unwrap())), "{}", r.reply);
    assert!(r.reply.contains("top of their queue"), "{}", r.reply);
    let e = app.store().escalation(r.escalation_id.unwrap()).unwrap();
    assert!(e.priority >= 1000, "priority {}", e.priority);

    // The policy's resources for its locale; escalation off still shows them.
    app.policy_save(
        "default",
        "[crisis]\nlocale = \"de\"\n[crisis.resources]\nde = \"Telefonseelsorge: 0800 111 0 111.\"\n",
    )
    .unwrap();
    app.rule_set(None, "escalation_enabled", "false").unwrap();
    let r = app.route(None, "ana", "sometimes I want to end my life").unwrap();
    assert_eq!(r.path, RoutePath::F, "{}", r.reason);
    assert!(r.reply.starts_with("Telefonseelsorge: 0800 111 0 111."), "{}", r.reply);
}

#[test]
fn off_topic_messages_are_declined_without_reaching_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.routing.off_topic_similarity = 0.2;
    let app = open_cfg(cfg);
    // No documents yet: nothing to be outside of, so it is offered.
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let r = app.route(None, "ana", "What's the capital of Australia?").unwrap();
    assert_eq!(r.path, RoutePath::D, "{}", r.reason);
    with_public_kb(&app);
    let r = app.route(None, "ana", "What's the capital of Australia?").unwrap();
    assert_eq!(r.path, RoutePath::F, "{}", r.reason);
    assert_eq!(r.refusal.as_ref().unwrap().code, RefusalCode::OffTopic);
    assert!(r.reply.contains("I can help with questions about"), "{}", r.reply);
    assert_eq!(r.escalation_id, None);
}

#[test]
fn a_follow_up_is_read_with_the_previous_message() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with_ana(dir.path());
    let first = app.route(None, "ana", "How much does the workshop cost?").unwrap();
    assert!(first.trace.step("context").is_none());
    let r = app.route(None, "ana", "and can I cancel it?").unwrap();
    let context = r.trace.step("context").expect("read with the previous message");
    assert!(context.note.contains("How much does the workshop cost?"), "{}", context.note);
    // Stored with the decision, and the fan's own words are what the creator sees.
    let stored = app.decision(r.decision_id).unwrap();
    assert!(stored.trace.step("context").is_some());
    let kept = app.store().recent_messages(r.conversation_id, 10).unwrap();
    assert!(kept.iter().any(|m| m.body == "and can I cancel it?"));
}

//! Sync over real HTTP: a hub on 127.0.0.1:0 and two desktops, each with its own
//! database, index and clock, the real model on all three.

mod common;

use chrono::{DateTime, Duration as Days, Utc};
use common::{code, real_model, TestHub};
use fanline_core::hub::Scope;
use fanline_core::sync::Outcome;
use fanline_core::{Config, Error, Fanline};
use fanline_engine::ports::Clock;
use fanline_engine::Layer;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// A clock a test moves.
struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    fn at(offset: Days) -> Arc<TestClock> {
        Arc::new(TestClock(Mutex::new(Utc::now() + offset)))
    }
    fn advance(&self, by: Days) {
        *self.0.lock().unwrap() += by;
    }
}

struct Desktop {
    _dir: tempfile::TempDir,
    app: Arc<Fanline>,
    clock: Arc<TestClock>,
}

impl Desktop {
    /// A desktop paired with `hub` (its wall clock `offset` from the hub's).
    async fn paired(hub: &TestHub, name: &str, offset: Days, tweak: impl FnOnce(&mut Config)) -> Desktop {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = common::config(dir.path(), true);
        tweak(&mut cfg);
        let clock = TestClock::at(offset);
        let app = Arc::new(Fanline::open_with(cfg, Some(real_model())).unwrap().with_clock(clock.clone()));
        app.init(None).unwrap();
        let code = hub.app.hub_pairing_code(&[Scope::Admin]).unwrap().code;
        let s = app.sync_pair(&hub.base, &code, name).await.unwrap();
        assert_eq!(s.hub.as_deref(), Some(hub.base.as_str()));
        Desktop { _dir: dir, app, clock }
    }

    async fn sync(&self) -> fanline_core::sync::SyncReport {
        self.app.sync_once().await.unwrap()
    }

    fn queued(&self) -> Vec<fanline_core::QueueItem> {
        self.app.queue(None, 100).unwrap()
    }

    fn run<T>(&self, f: impl FnOnce(&Fanline) -> T) -> T {
        f(&self.app)
    }
}

/// Every canonical answer of `app`: (id, answer).
fn answers(app: &Fanline) -> Vec<(i64, String)> {
    app.canonical_list(None).unwrap().into_iter().map(|c| (c.id, app.canonical_show(c.id).unwrap().answer)).collect()
}

/// The canonical answer about the literary agent.
fn clara(d: &Desktop) -> i64 {
    answers(&d.app).into_iter().find(|a| a.1.contains("Clara")).unwrap().0
}

async fn assert_converged(hub: &TestHub, desktops: &[&Desktop]) {
    // Until quiet: what one device sends, the others get in the next round.
    for _ in 0..2 {
        for d in desktops {
            d.sync().await;
        }
    }
    let want = hub.app.sync_digest().unwrap();
    for d in desktops {
        let v = d.app.sync_verify().await.unwrap();
        assert!(v.equal, "{:?}", v.differ);
        assert_eq!(v.hub, want);
        assert_eq!(d.app.sync_status().unwrap().pending, 0);
    }
}

const QUESTION: &str = "Would you come and speak at our writing festival in Berlin next spring?";

async fn answered_on_two_desktops_offline(laptop_first: bool) {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let laptop = Desktop::paired(&hub, "Laptop", Days::zero(), |_| {}).await;
    let desktop = Desktop::paired(&hub, "Desktop", Days::zero(), |_| {}).await;
    let (fan, _) = hub.escalate("q-1", QUESTION).await;

    // Both devices see the fan's question in their queue.
    for d in [&laptop, &desktop] {
        let r = d.sync().await;
        assert!(r.pulled >= 2, "{r:?}"); // the hub's canonical answer and the escalation
        let q = d.queued();
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].question, QUESTION);
    }
    // Offline, both answer it.
    let first_text = "Yes, gladly: write to my agent Clara about dates.";
    let second_text = "I'm booked next spring, sorry — maybe the year after.";
    let (first, second) = if laptop_first { (&laptop, &desktop) } else { (&desktop, &laptop) };
    let id = first.queued()[0].id;
    first.run(|a| a.queue_answer(id, first_text, Layer::Public)).unwrap();
    let id = second.queued()[0].id;
    second.run(|a| a.queue_answer(id, second_text, Layer::Public)).unwrap();
    assert!(first.app.sync_status().unwrap().pending >= 1);

    // The first to reach the hub is delivered; the second is kept as a conflict.
    let r = first.sync().await;
    assert_eq!((r.applied, r.conflicts), (1, 0), "{r:?}");
    let r = second.sync().await;
    assert_eq!(r.conflicts, 1, "{r:?}");
    assert_eq!(hub.answers_to_fan(&fan), vec![first_text.to_string()]);
    assert_converged(&hub, &[&laptop, &desktop]).await;

    // Every device shows the conflict, and has the delivered answer as the canonical one.
    for d in [&laptop, &desktop] {
        let c = d.app.sync_conflicts().unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].data.kind.as_str(), c[0].data.kept.as_str()), ("second_answer", second_text));
        assert_eq!(c[0].data.winner, first_text);
        assert_eq!(c[0].data.device, if laptop_first { "Desktop" } else { "Laptop" });
        let list = answers(&d.app);
        assert!(list.iter().any(|a| a.1 == first_text), "{list:?}");
        assert!(!list.iter().any(|a| a.1 == second_text));
        assert!(d.queued().is_empty());
        // The fan's conversation came along: the hub's decisions, the answer told once.
        let log = d.app.decisions(None, None, None, 100).unwrap();
        assert!(log.iter().any(|x| x.path == fanline_engine::RoutePath::D), "{log:?}");
    }

    // The creator sends the other answer as a correction, from the second device.
    let uid = second.app.sync_conflicts().unwrap()[0].uid.clone();
    let e = second.app.sync_resolve(&uid, "restore").unwrap_err();
    assert!(matches!(e, Error::InvalidInput(ref m) if m.contains("keep, correction, variant")), "{e}");
    second.app.sync_resolve(&uid, "correction").unwrap();
    second.sync().await;
    assert_eq!(hub.answers_to_fan(&fan), vec![first_text.to_string(), second_text.to_string()]);
    assert_converged(&hub, &[&laptop, &desktop]).await;
    for d in [&laptop, &desktop] {
        assert_eq!(d.app.sync_conflicts().unwrap()[0].data.resolution.as_deref(), Some("correction"));
        assert!(answers(&d.app).iter().any(|a| a.1 == second_text));
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_escalation_answered_on_two_offline_desktops_reaches_the_fan_once_laptop_first() {
    answered_on_two_desktops_offline(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_escalation_answered_on_two_offline_desktops_reaches_the_fan_once_desktop_first() {
    answered_on_two_desktops_offline(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_go_to_the_later_and_the_other_is_kept_and_restorable() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let laptop = Desktop::paired(&hub, "Laptop", Days::zero(), |_| {}).await;
    let desktop = Desktop::paired(&hub, "Desktop", Days::zero(), |_| {}).await;
    laptop.sync().await;
    desktop.sync().await;
    let find = clara;
    let (lid, did) = (find(&laptop), find(&desktop));

    // Offline: the laptop edits first, the desktop a minute later; the desktop syncs first.
    laptop.run(|a| a.canonical_update(lid, Some("Yes: Clara Weiss (Northlight), since 2021."), None)).unwrap();
    desktop.clock.advance(Days::minutes(1));
    desktop.run(|a| a.canonical_update(did, Some("Yes, Clara Weiss at Northlight Agency in Berlin."), None)).unwrap();
    desktop.run(|a| a.canonical_update(did, None, Some(Layer::Friends))).unwrap();
    let r = desktop.sync().await;
    assert_eq!(r.applied, 2, "{r:?}");
    let r = laptop.sync().await;
    assert_eq!(r.conflicts, 1, "{r:?}");
    assert_converged(&hub, &[&laptop, &desktop]).await;
    for d in [&laptop, &desktop] {
        let id = find(d);
        let a = d.app.canonical_show(id).unwrap();
        assert_eq!(a.answer, "Yes, Clara Weiss at Northlight Agency in Berlin.");
        assert_eq!(a.layer, Layer::Friends);
        let c = d.app.sync_conflicts().unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].data.kind.as_str(), c[0].data.field.as_str()), ("edit", "answer"));
        assert_eq!(c[0].data.kept, "Yes: Clara Weiss (Northlight), since 2021.");
    }
    // One click brings the laptop's text back, everywhere.
    let uid = laptop.app.sync_conflicts().unwrap()[0].uid.clone();
    laptop.app.sync_resolve(&uid, "restore").unwrap();
    assert_converged(&hub, &[&laptop, &desktop]).await;
    for d in [&laptop, &desktop] {
        assert_eq!(d.app.canonical_show(find(d)).unwrap().answer, "Yes: Clara Weiss (Northlight), since 2021.");
    }

    // Verify names what differs: an answer slipped in without the outbox is "only here".
    let input = fanline_core::NewCanonicalInput {
        question: "Do you answer every letter?".into(),
        answer: "I try to.".into(),
        variants: vec![],
        layer: Layer::Public,
    };
    fanline_store::applying(|| laptop.app.canonical_add(None, &input)).unwrap();
    let theirs = hub.app.sync_rows("canonical_answers").unwrap();
    let uid = laptop.app.sync_rows("canonical_answers").unwrap().into_keys().find(|k| !theirs.contains_key(k)).unwrap();
    let v = laptop.app.sync_verify().await.unwrap();
    assert!(!v.equal);
    assert_eq!(v.differ.len(), 1, "{:?}", v.differ);
    assert!(v.differ[0].starts_with("canonical_answers: 2 rows here, 1 on the hub; only here: "), "{:?}", v.differ);
    assert!(v.differ[0].ends_with(&uid), "{:?}", v.differ);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_the_causally_later_edit_wins_and_a_clock_far_ahead_is_refused() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let behind = Desktop::paired(&hub, "Old laptop", -Days::hours(2), |_| {}).await;
    let ahead = Desktop::paired(&hub, "Desktop", Days::minutes(10), |_| {}).await;
    behind.sync().await;
    ahead.sync().await;
    let (bid, aid) = (clara(&behind), clara(&ahead));

    // The desktop (10 minutes ahead) edits and syncs; the laptop (2 hours behind) sees
    // it, then edits: its edit comes after, though its wall clock says otherwise.
    ahead.run(|a| a.canonical_update(aid, Some("Edited on the desktop."), None)).unwrap();
    assert_eq!(ahead.sync().await.applied, 1);
    behind.sync().await;
    assert_eq!(behind.app.canonical_show(bid).unwrap().answer, "Edited on the desktop.");
    // Its clock jumps back another hour before it edits.
    behind.clock.advance(-Days::hours(1));
    behind.run(|a| a.canonical_update(bid, Some("Edited on the laptop, after."), None)).unwrap();
    let r = behind.sync().await;
    assert_eq!((r.applied, r.conflicts), (1, 0), "{r:?}");
    assert_converged(&hub, &[&behind, &ahead]).await;
    assert_eq!(ahead.app.canonical_show(aid).unwrap().answer, "Edited on the laptop, after.");

    // A device whose clock is two hours ahead is refused, and told why.
    ahead.clock.advance(Days::hours(2));
    ahead.run(|a| a.canonical_update(aid, Some("From the future."), None)).unwrap();
    let e = ahead.app.sync_once().await.unwrap_err();
    assert!(matches!(e, Error::ClockAhead(ref m) if m.contains("ahead of the hub")), "{e}");
    assert_eq!(ahead.app.sync_status().unwrap().pending, 1, "the change waits");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_every_size_bring_a_new_device_the_same_state() {
    // Pages also stop at 20 kB: the documents (their chunks and vectors) split them.
    let hub = TestHub::start(real_model(), true, |c| c.sync.page_bytes = 20_000).await;
    // Twelve more canonical answers, one escalation with its conversation and decisions.
    for i in 0..12 {
        hub.app
            .canonical_add(
                None,
                &fanline_core::NewCanonicalInput {
                    question: format!("Question number {i} about your books?"),
                    answer: format!("Answer number {i}."),
                    variants: vec![format!("Another way to ask question {i}?")],
                    layer: Layer::Public,
                },
            )
            .unwrap();
    }
    hub.escalate("q-1", QUESTION).await;
    let records = log_len(&hub);
    let p = 7;
    for size in [1, p - 1, p, p + 1, 2 * p, 1000] {
        let d = Desktop::paired(&hub, &format!("device {size}"), Days::zero(), |c| c.sync.page_size = size).await;
        let r = d.sync().await;
        assert_eq!(r.pulled as usize, records, "page size {size}: {r:?}");
        assert_converged(&hub, &[&d]).await;
        assert_eq!(d.app.canonical_list(None).unwrap().len(), 13);
        // Served from this device's own index: a phrasing pulled from the hub is found.
        let hits = d.app.canonical_search(None, "Another way to ask question 3?", Layer::Public, 1).unwrap();
        assert_eq!(hits[0].answer, "Answer number 3.");
    }
    // A device with another model takes none of the hub's vectors: it embeds the
    // phrasings itself, and finds them with its own model.
    let dir = tempfile::tempdir().unwrap();
    let other = Arc::new(Fanline::open_with(common::config(dir.path(), false), Some(common::hashing())).unwrap());
    other.init(None).unwrap();
    let code = hub.app.hub_pairing_code(&[Scope::Admin]).unwrap().code;
    other.sync_pair(&hub.base, &code, "other model").await.unwrap();
    assert_eq!(other.sync_once().await.unwrap().pulled as usize, records);
    assert!(other.sync_verify().await.unwrap().equal);
    let hits = other.canonical_search(None, "Another way to ask question 3?", Layer::Public, 1).unwrap();
    assert_eq!(hits[0].answer, "Answer number 3.");
    assert!(hits[0].similarity > 0.99, "its own embedding of the same text: {}", hits[0].similarity);

    // The API at its edges: a page of 0 moves nothing; past the head is up to date.
    let token = hub.device();
    let r = hub.get("/sync/v1/changes?after=0&limit=0", Some(&token)).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["records"].as_array().unwrap().len(), v["next_after"].as_i64()), (0, Some(0)));
    assert_eq!(v["up_to_date"], false);
    // A page of 1,000 stops near 20 kB: a document's record or two, then the rest later.
    let v: Value = hub.get("/sync/v1/changes?after=0&limit=1000", Some(&token)).await.json().await.unwrap();
    let n = v["records"].as_array().unwrap().len();
    assert!((1..records).contains(&n) && v["up_to_date"] == false, "{n} records");
    let head = hub.app.sync_state(&hub.app.device_auth(&token).unwrap()).unwrap().head;
    let v: Value = hub.get(&format!("/sync/v1/changes?after={head}"), Some(&token)).await.json().await.unwrap();
    assert_eq!((v["records"].as_array().unwrap().len(), v["up_to_date"].as_bool()), (0, Some(true)));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_are_applied_once_in_order_and_a_gap_is_refused() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let token = hub.device();
    let now = |ms: i64| fanline_sync::Hlc { millis: (Utc::now().timestamp_millis() + ms) as u64, counter: 0, node: 9 };
    let change = |seq: i64, hlc: fanline_sync::Hlc, text: &str| {
        json!({ "seq": seq, "change_uid": format!("c{seq}"), "hlc": hlc.to_string(), "entity": "canonical",
                "uid": "made-on-a-device", "op": if seq == 1 { "add" } else { "variant_add" },
                "payload": if seq == 1 { json!({"agent": "default", "question": "Where do you live?", "answer": "Lisbon.", "layer": "public"}) }
                           else { json!({"text": text}) },
                "base_hlc": "", "schema_version": 1 })
    };
    // A batch after a hole: refused, with where to start.
    let r = hub.post("/sync/v1/push", Some(&token), json!({"first_seq": 3, "changes": [change(3, now(0), "x")]})).await;
    let (status, c) = code(r).await;
    assert_eq!((status, c.as_str()), (409, "sync_gap"));
    let batch =
        json!({"first_seq": 1, "changes": [change(1, now(0), ""), change(2, now(1), "Which city do you live in?")]});
    let v: Value = hub.post("/sync/v1/push", Some(&token), batch.clone()).await.json().await.unwrap();
    assert_eq!(v["pushed_through"], 2);
    assert_eq!(v["results"][0]["outcome"], "applied");
    // The same batch again (its reply was lost): nothing applied twice.
    let v: Value = hub.post("/sync/v1/push", Some(&token), batch).await.json().await.unwrap();
    assert!(v["results"].as_array().unwrap().iter().all(|r| r["outcome"] == "duplicate"), "{v}");
    assert_eq!(answers(&hub.app).iter().filter(|a| a.1 == "Lisbon.").count(), 1);
    // A clock ten minutes ahead is fine; two hours is refused.
    let v: Value = hub
        .post(
            "/sync/v1/push",
            Some(&token),
            json!({"first_seq": 3, "changes": [change(3, now(600_000), "Lisbon, really?")]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["results"][0]["outcome"], "applied", "{v}");
    let r = hub
        .post(
            "/sync/v1/push",
            Some(&token),
            json!({"first_seq": 4, "changes": [change(4, now(7_200_000), "From the future?")]}),
        )
        .await;
    assert_eq!(code(r).await, (409, "clock_ahead".into()));
    // An op the hub does not know is refused on its own, and the rest goes on.
    let mut odd = change(4, now(0), "x");
    odd["op"] = json!("teleport");
    let v: Value = hub
        .post("/sync/v1/push", Some(&token), json!({"first_seq": 4, "changes": [odd, change(5, now(0), "In Lisbon?")]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["results"][0]["outcome"], "rejected");
    assert_eq!(v["results"][1]["outcome"], "applied");
    assert_eq!(serde_json::from_value::<Outcome>(v["results"][1]["outcome"].clone()).unwrap(), Outcome::Applied);
    // A read-only device may pull, not push.
    let reader = hub.app.hub_token_create("reader", &[Scope::Read]).unwrap().token;
    let r = hub.post("/sync/v1/push", Some(&reader), json!({"first_seq": 1, "changes": []})).await;
    assert_eq!(code(r).await.0, 403);
    assert_eq!(hub.get("/sync/v1/changes", Some(&reader)).await.status(), 200);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paired_desktop_leaves_caps_to_the_hub_and_a_revoked_one_is_told() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let laptop = Desktop::paired(&hub, "Laptop", Days::zero(), |_| {}).await;
    // A pending offer reaches the laptop; accepting it there is refused.
    let fan = hub.session().await;
    let v: Value = hub.say(&fan, "k", QUESTION).await.json().await.unwrap();
    assert_eq!(v["decision"]["path"], "D");
    laptop.sync().await;
    let pending = laptop.app.store().escalation_data(&hub_uid(&hub)).unwrap().unwrap();
    assert_eq!(pending.status, "pending");
    let local = laptop.app.store().id_by_uid(fanline_store::SyncTable::Escalations, &hub_uid(&hub)).unwrap().unwrap();
    let e = laptop.app.accept(local).unwrap_err();
    assert!(matches!(e, Error::Conflict(ref m) if m.contains("syncs with a hub")), "{e}");

    // Revoked on the hub: refused, and told to pair again.
    let device = hub.app.hub_devices().unwrap().into_iter().find(|d| d.name == "Laptop").unwrap();
    hub.app.hub_token_revoke(device.id).unwrap();
    let e = laptop.app.sync_once().await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized(ref m) if m.contains("pair it again")), "{e}");
    hub.stop().await;
}

/// How many records the hub's log holds.
fn log_len(hub: &TestHub) -> usize {
    let auth = hub.app.device_auth(&hub.device()).unwrap();
    let (mut after, mut n) = (0, 0);
    loop {
        let page = hub.app.sync_changes(&auth, after, 1000).unwrap();
        n += page.records.len();
        after = page.next_after;
        if page.up_to_date {
            return n;
        }
    }
}

/// The uid of the hub's only escalation.
fn hub_uid(hub: &TestHub) -> String {
    let token = hub.device();
    let auth = hub.app.device_auth(&token).unwrap();
    let page = hub.app.sync_changes(&auth, 0, 100).unwrap();
    page.records.into_iter().find(|r| r.entity == "escalation").unwrap().uid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_and_the_policy_file_sync_per_field_and_the_hub_counts_caps_by_them() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let laptop = Desktop::paired(&hub, "Laptop", Days::zero(), |_| {}).await;
    let desktop = Desktop::paired(&hub, "Desktop", Days::zero(), |_| {}).await;
    laptop.sync().await;
    desktop.sync().await;

    // The laptop lowers the daily cap and installs a policy file; the desktop changes
    // the persona. Different fields: both stand.
    laptop.run(|a| a.rule_set(None, "max_escalations_per_day", "1")).unwrap();
    let policy = "[tiers.paid]\nnovelty_threshold = 0.5\n";
    laptop.run(|a| a.policy_save("default", policy)).unwrap();
    desktop.clock.advance(Days::seconds(5));
    desktop.run(|a| a.rule_set(None, "persona", "\"Warm and brief.\"")).unwrap();
    laptop.sync().await;
    desktop.sync().await;
    assert_converged(&hub, &[&laptop, &desktop]).await;
    for app in [&hub.app, &laptop.app, &desktop.app] {
        let r = app.rules(None).unwrap();
        assert_eq!((r.max_escalations_per_day, r.persona.as_str()), (1, "Warm and brief."));
        assert_eq!(app.policy_text(None).unwrap(), policy);
    }
    assert!(laptop.app.sync_conflicts().unwrap().is_empty());

    // The hub counts the cap by the laptop's rule: a second acceptance today is refused.
    hub.escalate("q-1", QUESTION).await;
    let fan = hub.session().await;
    let v: Value = hub
        .say(&fan, "q-2", "Could you sign twenty copies for our school library fundraiser?")
        .await
        .json()
        .await
        .unwrap();
    match v["decision"]["offer"]["escalation_id"].as_i64() {
        Some(id) => {
            let r = hub.post(&format!("/v1/escalations/{id}/accept"), Some(&fan.token), json!({})).await;
            assert_eq!(code(r).await, (409, "cap_reached".into()));
        }
        // Or not even offered: the router knows the cap is reached.
        None => assert_eq!(v["decision"]["path"], "F", "{v}"),
    }

    // The same rule edited on both offline: the later wins everywhere, the other is kept.
    laptop.run(|a| a.rule_set(None, "max_escalations_per_day", "7")).unwrap();
    desktop.clock.advance(Days::minutes(1));
    desktop.run(|a| a.rule_set(None, "max_escalations_per_day", "9")).unwrap();
    desktop.sync().await;
    assert_eq!(laptop.sync().await.conflicts, 1);
    assert_converged(&hub, &[&laptop, &desktop]).await;
    for app in [&hub.app, &laptop.app, &desktop.app] {
        assert_eq!(app.rules(None).unwrap().max_escalations_per_day, 9);
        let c = app.sync_conflicts().unwrap();
        assert_eq!(
            (c[0].data.entity.as_str(), c[0].data.field.as_str(), c[0].data.kept.as_str()),
            ("rules", "max_escalations_per_day", "7")
        );
    }
    let uid = laptop.app.sync_conflicts().unwrap()[0].uid.clone();
    laptop.app.sync_resolve(&uid, "restore").unwrap();
    assert_converged(&hub, &[&laptop, &desktop]).await;
    assert_eq!(desktop.app.rules(None).unwrap().max_escalations_per_day, 7);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_imported_on_a_desktop_answer_fans_on_the_hub() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let laptop = Desktop::paired(&hub, "Laptop", Days::zero(), |_| {}).await;
    let desktop = Desktop::paired(&hub, "Desktop", Days::zero(), |_| {}).await;
    // The hub's documents reach a new device, searchable there.
    laptop.sync().await;
    assert_eq!(laptop.app.documents(None).unwrap().len(), 5);
    let hits = laptop.app.search(None, "What camera do you film your videos with?", Layer::Public, Some(3)).unwrap();
    assert!(hits.iter().any(|h| h.text.contains("ZV-E10")), "{hits:?}");

    // A document imported on the laptop answers a fan on the hub (path A).
    let kb = tempfile::tempdir().unwrap();
    let file = kb.path().join("studio.md");
    std::fs::write(&file, "# The studio\n\nThe studio cat is called Pixel. She sleeps on the warm camera bag and appears in most behind-the-scenes videos.\n").unwrap();
    laptop.run(|a| a.import(None, std::slice::from_ref(&file), Layer::Public, &mut |_| {})).unwrap();
    let r = laptop.sync().await;
    assert_eq!(r.applied, 1, "{r:?}");
    let fan = hub.session().await;
    let v: Value = hub.say(&fan, "cat", "What is the name of your studio cat?").await.json().await.unwrap();
    assert_eq!(v["decision"]["path"], "A", "{v}");
    assert!(v["decision"]["reply"].as_str().unwrap().contains("Pixel"), "{v}");
    assert_converged(&hub, &[&laptop, &desktop]).await;
    assert_eq!(desktop.app.documents(None).unwrap().len(), 6);

    // Deleted on the laptop: gone from the hub and the desktop.
    let doc = laptop.app.documents(None).unwrap().into_iter().find(|d| d.source_path.ends_with("studio.md")).unwrap();
    laptop.run(|a| a.delete_document(None, &fanline_core::DocumentRef::Id(doc.id))).unwrap();
    assert_converged(&hub, &[&laptop, &desktop]).await;
    for app in [&hub.app, &desktop.app] {
        assert!(app.documents(None).unwrap().iter().all(|d| !d.source_path.ends_with("studio.md")));
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_on_every_node_add_up() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let laptop = Desktop::paired(&hub, "Laptop", Days::zero(), |_| {}).await;
    let desktop = Desktop::paired(&hub, "Desktop", Days::zero(), |_| {}).await;
    laptop.sync().await;
    desktop.sync().await;
    let question = "Do you have a literary agent?";
    // Served twice on the hub, once on the laptop's simulator, once on the desktop's.
    for k in ["s1", "s2"] {
        let fan = hub.session().await;
        let v: Value = hub.say(&fan, k, question).await.json().await.unwrap();
        assert_eq!(v["decision"]["path"], "C", "{v}");
    }
    for d in [&laptop, &desktop] {
        d.run(|a| a.fan_add("maya", fanline_engine::Tier::Free, Layer::Public)).unwrap();
        let app = d.app.clone();
        let r = tokio::task::spawn_blocking(move || app.route(None, "maya", question)).await.unwrap().unwrap();
        assert_eq!(r.path, fanline_engine::RoutePath::C);
    }
    assert_converged(&hub, &[&laptop, &desktop]).await;
    for app in [&hub.app, &laptop.app, &desktop.app] {
        let total: u64 = app.canonical_list(None).unwrap().iter().map(|c| c.times_reused).sum();
        assert_eq!(total, 4, "every serve counted once, on every node");
    }
    hub.stop().await;
}

/// Answer once, resolve many, from a paired desktop: three fans ask the hub the same
/// thing; the desktop answers their group offline; after a sync every fan on the hub
/// has the answer once, and hub and desktop hold one answer with the three phrasings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_answered_on_a_desktop_reaches_every_fan_through_the_hub() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let desktop = Desktop::paired(&hub, "Desktop", Days::zero(), |_| {}).await;
    let mut fans = Vec::new();
    for (i, q) in common::SAME_QUESTION.iter().enumerate() {
        fans.push(hub.escalate(&format!("g-{i}"), q).await.0);
    }
    desktop.sync().await;
    let groups = desktop.run(|a| a.queue_groups(None, 50)).unwrap();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    let ids: Vec<i64> = groups[0].items.iter().map(|i| i.id).collect();
    let text = "Yes: signed copies are in the shop on my site.";
    desktop.run(|a| a.queue_answer_group(&ids, text, Layer::Public)).unwrap();
    let r = desktop.sync().await;
    assert_eq!(r.conflicts, 0, "{r:?}");
    for fan in &fans {
        assert_eq!(hub.answers_to_fan(fan), vec![text.to_string()]);
    }
    assert_converged(&hub, &[&desktop]).await;
    let on_hub = answers(&hub.app).into_iter().find(|a| a.1 == text).expect("the answer is on the hub").0;
    assert_eq!(hub.app.canonical_show(on_hub).unwrap().variants.len(), 3);
    assert!(hub.app.queue(None, 50).unwrap().is_empty());
    hub.stop().await;
}

//! The hub over real HTTP on 127.0.0.1:0, a real store in a temporary directory: the
//! fan's whole loop with the real model, idempotency, identity, the admin API, the
//! event stream, operations and the OpenAPI document.

mod common;

use common::{code, real_model, Session, TestHub};
use fanline_store::Conversations;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

/// Read an event stream until `want` returns true for an event (name, data), or time out.
async fn wait_for_event(
    hub: &TestHub,
    s: &Session,
    last_event_id: Option<i64>,
    want: impl Fn(&str, &Value) -> bool,
) -> (String, Value, i64) {
    let mut req = hub
        .client
        .get(hub.url(&format!("/v1/conversations/{}/events", s.conversation)))
        .bearer_auth(&s.token)
        .header("Accept", "text/event-stream");
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    let mut buf = String::new();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(chunk) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let (mut name, mut data, mut id) = (String::new(), String::new(), 0i64);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().into();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().unwrap_or(0);
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(&data).unwrap();
                if want(&name, &v) {
                    return (name, v, id);
                }
            }
        }
        panic!("the stream ended");
    })
    .await;
    found.expect("the event came within 20 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fan_asks_accepts_and_sees_the_creators_answer_live_with_the_real_model() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let fan = hub.session().await;

    // Answered from the documents, with its sources.
    let r = hub.say(&fan, "k-1", "What camera do you film your videos with?").await;
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["status"], "created");
    let d = &first["decision"];
    assert_eq!(d["path"], "A", "{d}");
    assert!(d["reply"].as_str().unwrap().contains("ZV-E10"), "{d}");
    assert!(!d["sources"].as_array().unwrap().is_empty());
    assert!(d.get("trace").is_none() && d.get("signals").is_none(), "internals stay on the hub");

    // A retry with the same key: the same decision, nothing new stored.
    let before = hub.app.store().messages_after(fan.conversation, 0, 500).unwrap().len();
    let r = hub.say(&fan, "k-1", "What camera do you film your videos with?").await;
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["status"], "replayed");
    assert_eq!(again["decision"], first["decision"]);
    assert_eq!(hub.app.store().messages_after(fan.conversation, 0, 500).unwrap().len(), before);
    // The same key with another text.
    assert_eq!(code(hub.say(&fan, "k-1", "Something else entirely").await).await, (422, "idempotency_mismatch".into()));

    // A question for the creator: offered, accepted, answered from another device.
    let question = "Would you come and speak at our writing festival in Berlin next spring?";
    let r = hub.say(&fan, "k-2", question).await;
    assert_eq!(r.status(), 201);
    let offered: Value = r.json().await.unwrap();
    let d = &offered["decision"];
    assert_eq!(d["path"], "D", "{d}");
    let escalation = d["offer"]["escalation_id"].as_i64().unwrap();
    assert_eq!(d["offer"]["status"], "pending");
    let reply_id = d["reply_message_id"].as_i64().unwrap();

    let r = hub.post(&format!("/v1/escalations/{escalation}/accept"), Some(&fan.token), json!({})).await;
    assert_eq!(r.status(), 200);
    let accepted: Value = r.json().await.unwrap();
    assert_eq!(accepted["offer"]["status"], "accepted");
    assert!(accepted["expected_reply_by"].is_string());
    // Accepting again changes nothing.
    let r = hub.post(&format!("/v1/escalations/{escalation}/accept"), Some(&fan.token), json!({})).await;
    assert_eq!(r.status(), 200);

    // The event stream resumes after the offer's reply: first the acceptance.
    let (name, _, accepted_id) = wait_for_event(&hub, &fan, Some(reply_id), |n, _| n == "escalation.accepted").await;
    assert_eq!(name, "escalation.accepted");

    // The creator answers through the admin API while the fan's stream is open.
    let device = hub.device();
    let queue: Value = hub.get("/admin/v1/queue", Some(&device)).await.json().await.unwrap();
    assert!(queue.as_array().unwrap().iter().any(|q| q["id"] == escalation), "{queue}");
    let waiting = {
        let (hub_url, token, conversation) = (hub.base.clone(), fan.token.clone(), fan.conversation);
        tokio::spawn(async move {
            let probe = TestHubRef { base: hub_url, client: reqwest::Client::new() };
            probe.event(&token, conversation, accepted_id, "escalation.answered").await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = "Yes, happily: write to my agent with the dates.";
    let r = hub.post(&format!("/admin/v1/queue/{escalation}/answer"), Some(&device), json!({ "text": answer })).await;
    assert_eq!(r.status(), 200);
    let live = waiting.await.unwrap();
    assert_eq!(live["body"], answer);
    assert_eq!(live["role"], "creator");

    // After closing and reopening: the conversation reads back whole.
    let page: Value = hub
        .get(&format!("/v1/conversations/{}/messages?after=0", fan.conversation), Some(&fan.token))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = page["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.ends_with(&["message", "escalation.offered", "escalation.accepted", "escalation.answered"]),
        "{kinds:?}"
    );

    // The same question from another fan: the creator's answer, attributed.
    let other = hub.session().await;
    let r = hub.say(&other, "k-1", question).await;
    let served: Value = r.json().await.unwrap();
    assert_eq!(served["decision"]["path"], "C", "{served}");
    assert!(served["decision"]["answer"]["by"].is_string());

    // Another fan's conversation and escalation are not there for them.
    let (s, c) =
        code(hub.get(&format!("/v1/conversations/{}/messages", fan.conversation), Some(&other.token)).await).await;
    assert_eq!((s, c.as_str()), (404, "not_found"));
    let r = hub.post(&format!("/v1/escalations/{escalation}/accept"), Some(&other.token), json!({})).await;
    assert_eq!(code(r).await, (404, "not_found".into()));
    hub.stop().await;
}

/// A second client for the event stream (spawned while the test drives the hub).
struct TestHubRef {
    base: String,
    client: reqwest::Client,
}

impl TestHubRef {
    async fn event(&self, token: &str, conversation: i64, after: i64, kind: &str) -> Value {
        let r = self
            .client
            .get(format!("{}/v1/conversations/{conversation}/events", self.base))
            .bearer_auth(token)
            .header("Last-Event-ID", after.to_string())
            .send()
            .await
            .unwrap();
        let mut body = r.bytes_stream();
        let mut buf = String::new();
        let wanted = format!("event: {kind}");
        tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(chunk) = body.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    if block.lines().any(|l| l.trim() == wanted) {
                        let data = block.lines().find_map(|l| l.strip_prefix("data:")).unwrap();
                        return serde_json::from_str(data.trim()).unwrap();
                    }
                }
            }
            panic!("the stream ended")
        })
        .await
        .expect("the creator's answer arrived live within 20 s")
    }
}

/// Answer once, resolve many, over the admin API: three fans ask the same thing, the
/// creator's device reads one group and answers it once; every fan is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_of_questions_is_answered_once_through_the_admin_api() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let mut fans = Vec::new();
    for (i, q) in common::SAME_QUESTION.iter().enumerate() {
        fans.push(hub.escalate(&format!("g-{i}"), q).await);
    }
    let device = hub.device();
    let groups: Value = hub.get("/admin/v1/queue/groups", Some(&device)).await.json().await.unwrap();
    let groups = groups.as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert_eq!(groups[0]["fans"], 3);
    let ids: Vec<i64> = groups[0]["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    let answer = "Yes: signed copies are in the shop on my site.";
    let r = hub.post("/admin/v1/queue/groups/answer", Some(&device), json!({ "ids": ids, "text": answer })).await;
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["variants"].as_array().unwrap().len(), 3, "{c}");
    for (fan, _) in &fans {
        assert_eq!(hub.answers_to_fan(fan), vec![answer.to_string()]);
    }
    // Again: nothing is queued any more, so nothing is answered twice.
    let r = hub.post("/admin/v1/queue/groups/answer", Some(&device), json!({ "ids": ids, "text": "Again" })).await;
    assert_eq!(code(r).await, (422, "invalid_input".to_string()));
}

/// The leverage tools over the admin API: an inbox export brought in as answers, and a
/// what-if replay of a rule change and of another policy (nothing written).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_inbox_comes_in_and_rule_changes_are_replayed_through_the_admin_api() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let device = hub.device();
    let csv = "question,reply\nDo you offer gift cards?,Yes: in the shop.\nDo you offer gift cards?,Yes: in the shop.\nWhere do you live?,\n";
    let r = hub
        .client
        .post(format!("{}/admin/v1/inbox?name=inbox.csv", hub.base))
        .bearer_auth(&device)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!((report["created"].as_u64(), report["skipped"].as_array().unwrap().len()), (Some(1), 2), "{report}");

    // A fan's question, then what a blocked topic would have done to it.
    let (_fan, _) =
        hub.escalate("r-1", "Would you come and speak at our writing festival in Berlin next spring?").await;
    let before: Value = hub.get("/admin/v1/decisions", Some(&device)).await.json().await.unwrap();
    let r = hub.post("/admin/v1/replay", Some(&device), json!({ "set": { "blocked_topics": "festival" } })).await;
    assert_eq!(r.status(), 200);
    let replay: Value = r.json().await.unwrap();
    assert_eq!(replay["messages"], 1);
    assert_eq!(replay["variants"][0]["matrix"][3][5], 1, "D → F: {replay}");
    let policy = "[topics.events]\nkeywords = [\"festival\"]\naction = \"refuse\"\n";
    let replay: Value =
        hub.post("/admin/v1/replay", Some(&device), json!({ "policy": policy })).await.json().await.unwrap();
    assert_eq!(replay["variants"][0]["changed"], 1, "{replay}");
    let after: Value = hub.get("/admin/v1/decisions", Some(&device)).await.json().await.unwrap();
    assert_eq!(before, after, "a replay writes nothing");
    // Bad input is a clear 4xx.
    let r = hub.post("/admin/v1/replay", Some(&device), json!({ "set": { "no_such_rule": "1" } })).await;
    assert_eq!(code(r).await, (422, "invalid_input".to_string()));
    let r = hub.post("/admin/v1/replay", Some(&device), json!({ "policy": "[tiers.paid]\nnope = 1\n" })).await;
    assert_eq!(code(r).await.0, 422);
}

//! 200 fans with their event streams open at once: each sees the creator's answer to
//! their own question, and nobody else's.

mod common;

use common::{hashing, TestHub};
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_open_streams_each_get_their_own_answer() {
    const FANS: usize = 200;
    let hub = TestHub::start(hashing(), false, |c| {
        c.hub.per_ip_per_minute = 100_000;
        c.hub.ping_seconds = 1;
    })
    .await;
    let app = hub.app.clone();
    tokio::task::spawn_blocking(move || {
        app.rule_set(None, "max_escalations_per_day", "100000").unwrap();
        app.rule_set(None, "max_escalations_per_week", "100000").unwrap();
    })
    .await
    .unwrap();
    let mut fans = Vec::new();
    for _ in 0..FANS {
        fans.push(hub.session().await);
    }
    // Each fan's stream, from the start of their conversation.
    let mut readers = Vec::new();
    for (i, f) in fans.iter().enumerate() {
        let r = hub
            .client
            .get(hub.url(&format!("/v1/conversations/{}/events", f.conversation)))
            .bearer_auth(&f.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let want = format!("answer for fan {i}");
        readers.push(tokio::spawn(async move {
            let mut body = r.bytes_stream();
            let mut buf = String::new();
            let mut pings = 0;
            tokio::time::timeout(Duration::from_secs(60), async {
                while let Some(chunk) = body.next().await {
                    buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
                    pings += buf.matches(":ping").count();
                    if buf.contains("event: escalation.answered") {
                        assert!(buf.contains(&want), "its own answer");
                        assert!(!buf.contains(&format!("{want}0")), "nobody else's");
                        return pings;
                    }
                }
                panic!("the stream ended");
            })
            .await
            .expect("the answer came")
        }));
    }
    let metrics = hub.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains(&format!("fanline_event_streams_open {FANS}")), "{metrics}");
    // Every fan escalates a question; the creator answers each (an admin, via the API).
    let device = hub.device();
    for (i, f) in fans.iter().enumerate() {
        let r = hub.say(f, "q", &format!("Question number {i} about glaciers carving valleys on planet {i}x?")).await;
        let v: Value = r.json().await.unwrap();
        let id = v["decision"]["offer"]["escalation_id"].as_i64().unwrap_or_else(|| panic!("{v}"));
        assert_eq!(hub.post(&format!("/v1/escalations/{id}/accept"), Some(&f.token), json!({})).await.status(), 200);
        let r = hub
            .post(
                &format!("/admin/v1/queue/{id}/answer"),
                Some(&device),
                json!({ "text": format!("answer for fan {i}") }),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    for r in readers {
        r.await.unwrap();
    }
    hub.stop().await;
}

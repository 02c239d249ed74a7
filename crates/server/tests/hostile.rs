//! What hostile or broken requests get: a JSON `{error: {code, message}}` with a 4xx,
//! nothing stored, the server still up. Missing, wrong, revoked tokens; bad JSON,
//! invalid UTF-8, NUL bytes, a 1 MB body; another fan's ids; rate limits with
//! Retry-After; a slow client that never finishes its request.

mod common;

use common::{code, hashing, TestHub};
use fanline_store::Conversations;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Messages stored in a conversation.
fn messages(hub: &TestHub, conversation: i64) -> usize {
    hub.app.store().messages_after(conversation, 0, 100_000).unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_requests_get_a_json_4xx_store_nothing_and_leave_the_server_up() {
    let hub = TestHub::start(hashing(), false, |_| {}).await;
    let fan = hub.session().await;
    let path = format!("/v1/conversations/{}/messages", fan.conversation);
    let stored = messages(&hub, fan.conversation);

    // Tokens: missing, wrong, malformed.
    let no_token = hub
        .client
        .post(hub.url(&path))
        .header("Idempotency-Key", "a")
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code(no_token).await, (401, "unauthorized".into()));
    for bad in ["fan_nope", "dev_also_wrong", "garbage", &"x".repeat(5000)] {
        let r = hub
            .client
            .post(hub.url(&path))
            .bearer_auth(bad)
            .header("Idempotency-Key", "a")
            .json(&json!({"text": "hi"}))
            .send()
            .await
            .unwrap();
        assert_eq!(code(r).await, (401, "unauthorized".into()), "{}", &bad[..bad.len().min(20)]);
    }
    // A device token is not a fan token, nor the reverse.
    let device = hub.device();
    let r = hub
        .client
        .post(hub.url(&path))
        .bearer_auth(&device)
        .header("Idempotency-Key", "a")
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await.0, 401);
    assert_eq!(code(hub.get("/admin/v1/queue", Some(&fan.token)).await).await.0, 401);

    // The Idempotency-Key is required.
    let r = hub.client.post(hub.url(&path)).bearer_auth(&fan.token).json(&json!({"text": "hi"})).send().await.unwrap();
    assert_eq!(code(r).await, (400, "invalid_input".into()));

    // Bodies: not JSON, not UTF-8, no content type, a NUL, too long, 1 MB, empty.
    let raw = |body: Vec<u8>, ctype: Option<&str>| {
        let mut r = hub.client.post(hub.url(&path)).bearer_auth(&fan.token).header("Idempotency-Key", "raw").body(body);
        if let Some(c) = ctype {
            r = r.header("Content-Type", c);
        }
        r.send()
    };
    assert_eq!(
        code(raw(b"{not json".to_vec(), Some("application/json")).await.unwrap()).await,
        (400, "invalid_input".into())
    );
    assert_eq!(
        code(raw(vec![b'{', 0xff, 0xfe, b'}'], Some("application/json")).await.unwrap()).await,
        (400, "invalid_input".into())
    );
    assert_eq!(code(raw(br#"{"text":"hi"}"#.to_vec(), None).await.unwrap()).await.0, 415);
    assert_eq!(code(raw(br#"{"text": 42}"#.to_vec(), Some("application/json")).await.unwrap()).await.0, 400);
    assert_eq!(code(hub.say(&fan, "nul", "a\u{0}b").await).await, (422, "invalid_input".into()));
    assert_eq!(code(hub.say(&fan, "long", &"word ".repeat(2000)).await).await, (422, "invalid_input".into()));
    assert_eq!(code(hub.say(&fan, "empty", "   ").await).await, (422, "invalid_input".into()));
    // (A connection of its own: the server closes it after refusing the body unread.)
    let big = serde_json::to_vec(&json!({ "text": "a".repeat(1024 * 1024) })).unwrap();
    let r = reqwest::Client::new()
        .post(hub.url(&path))
        .bearer_auth(&fan.token)
        .header("Idempotency-Key", "big")
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await, (413, "payload_too_large".into()));
    assert_eq!(code(hub.say(&fan, &"k".repeat(300), "a fine message").await).await, (422, "invalid_input".into()));

    // Ids that are not the fan's, or do not exist; routes that do not exist.
    let other = hub.session().await;
    let r = hub
        .client
        .post(hub.url(&format!("/v1/conversations/{}/messages", other.conversation)))
        .bearer_auth(&fan.token)
        .header("Idempotency-Key", "x")
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await, (404, "not_found".into()));
    assert_eq!(
        code(hub.post("/v1/escalations/999999/accept", Some(&fan.token), json!({})).await).await,
        (404, "not_found".into())
    );
    assert_eq!(code(hub.get("/v1/conversations/not-a-number/messages", Some(&fan.token)).await).await.0, 400);
    assert_eq!(code(hub.get("/v1/nothing-here", None).await).await, (404, "not_found".into()));
    assert_eq!(code(hub.client.delete(hub.url("/v1/sessions")).send().await.unwrap()).await.0, 405);
    assert_eq!(
        code(hub.post("/v1/sessions", None, json!({ "site_key": "site_unknown" })).await).await,
        (401, "unauthorized".into())
    );

    // None of that stored anything.
    assert_eq!(messages(&hub, fan.conversation), stored);
    assert_eq!(messages(&hub, other.conversation), 0);

    // A revoked fan is refused from then on.
    let handle = hub.app.fan_auth(&fan.token).unwrap().handle;
    hub.app.fan_revoke(None, &handle).unwrap();
    assert_eq!(code(hub.say(&fan, "after", "still there?").await).await, (401, "unauthorized".into()));

    // A client that opens a request and never finishes it does not hold the server.
    let mut slow = tokio::net::TcpStream::connect(hub.base.trim_start_matches("http://")).await.unwrap();
    slow.write_all(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"site").await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), hub.get("/healthz", None))
        .await
        .expect("served while a client stalls");
    assert_eq!(r.status(), 200);
    drop(slow);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after_per_token_and_per_address() {
    let hub = TestHub::start(hashing(), false, |c| {
        c.hub.per_token_per_minute = 5;
        c.hub.per_ip_per_minute = 40;
    })
    .await;
    let fan = hub.session().await;
    let mut limited = None;
    for i in 0..8 {
        let r = hub.get(&format!("/v1/conversations/{}/messages", fan.conversation), Some(&fan.token)).await;
        if r.status() == 429 {
            limited = Some((i, r));
            break;
        }
        assert_eq!(r.status(), 200);
    }
    let (i, r) = limited.expect("the token's limit was reached");
    assert_eq!(i, 5, "five a minute, then refused");
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another fan from the same address still gets through, until the address's own limit.
    let other = hub.session().await;
    assert_eq!(
        hub.get(&format!("/v1/conversations/{}/messages", other.conversation), Some(&other.token)).await.status(),
        200
    );
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(hub.get("/healthz", None).await.status().as_u16());
    }
    assert!(statuses.contains(&429), "the address's limit");
    hub.stop().await;
}

//! Who a fan is comes from signed claims only: the creator's site's `user_hash` or JWT
//! (signed with the agent's secret), or an invite link; never from the request's own
//! word. Tokens are stored hashed; revoked ones are refused.

mod common;

use common::{code, hashing, TestHub};
use serde_json::{json, Value};

fn secret(hub: &TestHub) -> Vec<u8> {
    let hex = hub.app.hub_secret(None).unwrap();
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

fn jwt(secret: &[u8], claims: Value) -> String {
    use jsonwebtoken::{encode, EncodingKey, Header};
    encode(&Header::default(), &claims, &EncodingKey::from_secret(secret).unwrap()).unwrap()
}

async fn session(hub: &TestHub, identity: Value) -> reqwest::Response {
    hub.post("/v1/sessions", None, json!({ "site_key": hub.site, "identity": identity })).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_and_layer_come_from_signed_claims_only() {
    let hub = TestHub::start(hashing(), false, |_| {}).await;
    let key = secret(&hub);

    // The request's own word for a tier is ignored: an anonymous fan is free, public.
    let r = hub.post("/v1/sessions", None, json!({ "site_key": hub.site, "tier": "paid", "layer": "intimate" })).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["fan"]["tier"].as_str(), v["fan"]["layer"].as_str()), (Some("free"), Some("public")));
    assert!(v["fan_token"].as_str().unwrap().starts_with("fan_"));

    // user_hash: the site vouches for its user id.
    let hash = fanline_core::hub::user_hash(&key, "reader-42");
    let r = session(&hub, json!({ "external_id": "reader-42", "user_hash": hash })).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["fan"]["handle"], "site:reader-42");
    let again: Value =
        session(&hub, json!({ "external_id": "reader-42", "user_hash": hash })).await.json().await.unwrap();
    assert_eq!(again["conversation_id"], v["conversation_id"], "the same fan, the same conversation");
    let r = session(&hub, json!({ "external_id": "reader-43", "user_hash": hash })).await;
    assert_eq!(code(r).await, (401, "unauthorized".into()));

    // A JWT sets tier and layer from its claims.
    let exp = chrono::Utc::now().timestamp() + 600;
    let token = jwt(&key, json!({ "sub": "member-7", "exp": exp, "tier": "paid", "layer": "friends" }));
    let v: Value = session(&hub, json!({ "jwt": token })).await.json().await.unwrap();
    assert_eq!((v["fan"]["tier"].as_str(), v["fan"]["layer"].as_str()), (Some("paid"), Some("friends")), "{v}");
    let expired = jwt(&key, json!({ "sub": "member-7", "exp": exp - 7200, "tier": "paid" }));
    assert_eq!(code(session(&hub, json!({ "jwt": expired })).await).await, (401, "unauthorized".into()));
    let forged = jwt(b"not the agent's secret", json!({ "sub": "member-7", "exp": exp, "tier": "paid" }));
    assert_eq!(code(session(&hub, json!({ "jwt": forged })).await).await, (401, "unauthorized".into()));

    // An invite link: the fan it names, at its tier and layer.
    let invite =
        hub.app.fan_invite(None, "maya", fanline_engine::Tier::Paid, fanline_engine::Layer::Friends, Some(30)).unwrap();
    assert!(invite.url.contains("/chat?site=") && invite.url.contains(&invite.token));
    let r = session(&hub, json!({ "invite": invite.token })).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["fan"]["handle"].as_str(), v["fan"]["tier"].as_str()), (Some("maya"), Some("paid")));
    let maya = v["fan_token"].as_str().unwrap().to_string();
    let mut tampered = invite.token.clone();
    tampered.replace_range(5..6, if &tampered[5..6] == "A" { "B" } else { "A" });
    assert_eq!(code(session(&hub, json!({ "invite": tampered })).await).await, (401, "unauthorized".into()));

    // Revoked: the link and the sessions it opened.
    let revoked = hub.app.fan_revoke(None, "maya").unwrap();
    assert_eq!((revoked.invites, revoked.sessions), (1, 1));
    assert_eq!(code(session(&hub, json!({ "invite": invite.token })).await).await, (401, "unauthorized".into()));
    let r = hub.get(&format!("/v1/conversations/{}/messages", v["conversation_id"]), Some(&maya)).await;
    assert_eq!(code(r).await, (401, "unauthorized".into()));

    // Tokens are stored as their hashes, never themselves.
    let db = std::fs::read(hub.dir.path().join("fanline.db")).unwrap();
    let wal = std::fs::read(hub.dir.path().join("fanline.db-wal")).unwrap_or_default();
    for t in [maya.as_str(), invite.token.as_str()] {
        let needle = t.as_bytes();
        assert!(!db.windows(needle.len()).any(|w| w == needle) && !wal.windows(needle.len()).any(|w| w == needle));
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_pair_with_a_code_have_scopes_and_can_be_revoked() {
    let hub = TestHub::start(hashing(), false, |_| {}).await;
    let pairing = hub.app.hub_pairing_code(&[fanline_core::hub::Scope::Read]).unwrap();
    let r = hub.post("/pair", None, json!({ "code": pairing.code, "name": "laptop" })).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    // Used once.
    assert_eq!(code(hub.post("/pair", None, json!({ "code": pairing.code, "name": "again" })).await).await.0, 401);
    // Read scope: reads, but may not answer.
    assert_eq!(hub.get("/admin/v1/queue", Some(&token)).await.status(), 200);
    let r = hub.post("/admin/v1/canonical", Some(&token), json!({ "question": "q?", "answer": "a." })).await;
    assert_eq!(code(r).await, (403, "forbidden".into()));
    // Revoked: refused.
    let id = v["device"]["id"].as_i64().unwrap();
    hub.app.hub_token_revoke(id).unwrap();
    assert_eq!(code(hub.get("/admin/v1/queue", Some(&token)).await).await, (401, "unauthorized".into()));
    hub.stop().await;
}

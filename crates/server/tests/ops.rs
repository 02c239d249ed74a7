//! Operations and documents: health, readiness, status, capabilities, Prometheus
//! metrics, the OpenAPI document and its page, the widget and the chat page, CORS for
//! the origins the creator allowed.

mod common;

use common::{hashing, TestHub};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_documents_and_the_widget_are_served() {
    let hub = TestHub::start(hashing(), false, |_| {}).await;
    assert_eq!(hub.get("/healthz", None).await.status(), 200);
    assert_eq!(hub.get("/readyz", None).await.status(), 200);
    let status: Value = hub.get("/v1/status", None).await.json().await.unwrap();
    assert!(status["version"].is_string() && status["model"]["id"].is_string(), "{status}");
    assert!(status["providers"].is_array() && status["queued"].is_number() && status["uptime_seconds"].is_number());
    let caps: Value = hub.get("/v1/capabilities", None).await.json().await.unwrap();
    assert_eq!(caps["paths"].as_array().unwrap().len(), 6);
    assert_eq!(caps["plan"].as_array().unwrap().len(), 10);
    assert!(caps["critics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "safety" && c["schedule"]["fail_closed"] == true));
    let r = hub.get("/metrics", None).await;
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE fanline_http_requests counter") && text.contains("fanline_queue_backlog"), "{text}");

    let doc: Value = hub.get("/openapi.json", None).await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in [
        "/v1/sessions",
        "/v1/conversations/{id}/messages",
        "/v1/conversations/{id}/events",
        "/admin/v1/queue",
        "/metrics",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} is documented");
    }
    assert!(doc["components"]["securitySchemes"]["fan_token"].is_object());
    assert!(hub.get("/docs", None).await.text().await.unwrap().contains("/openapi.json"));
    let js = hub.get("/widget.js", None).await;
    assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    assert!(js.text().await.unwrap().contains("attachShadow"));
    assert!(hub.get("/chat?site=x", None).await.text().await.unwrap().contains("/widget.js"));

    // CORS: only the origins the creator allowed.
    let preflight = |origin: &'static str| {
        hub.client
            .request(reqwest::Method::OPTIONS, hub.url("/v1/sessions"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type,idempotency-key")
            .send()
    };
    let r = preflight("https://jules.example").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    hub.app.hub_set_origins(None, &["https://jules.example".to_string()]).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5500)).await; // the hub reads them again every 5 s
    let r = preflight("https://jules.example").await.unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "https://jules.example");
    let r = preflight("https://elsewhere.example").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert!(hub.app.hub_set_origins(None, &["not an origin".to_string()]).is_err());
    hub.stop().await;
}

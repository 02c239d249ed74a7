//! Operations: liveness and readiness, the hub's status and capabilities, Prometheus
//! metrics, and device pairing.

use crate::error::{blocking, ApiResult};
use crate::limits::Json;
use crate::state::{Counters, Hub};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use fanline_core::hub::{Capabilities, DeviceToken};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "ok": true }))
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "The store and the model are ready"), (status = 503, description = "Not ready, and why")))]
pub async fn readyz(State(hub): State<Hub>) -> ApiResult<impl IntoResponse> {
    let app = hub.app.clone();
    blocking(move || {
        app.store().schema_version()?;
        app.embedder()?;
        Ok(())
    })
    .await?;
    Ok(axum::Json(serde_json::json!({ "ready": true })))
}

/// The hub's status with how long it has run.
#[derive(Serialize)]
pub struct StatusBody {
    #[serde(flatten)]
    status: fanline_core::hub::Status,
    uptime_seconds: u64,
}

#[utoipa::path(get, path = "/v1/status", tag = "operations",
    responses((status = 200, description = "Version, model, providers with their breaker state, queue sizes, uptime")))]
pub async fn status(State(hub): State<Hub>) -> ApiResult<axum::Json<StatusBody>> {
    let app = hub.app.clone();
    let status = blocking(move || app.hub_status()).await?;
    Ok(axum::Json(StatusBody { status, uptime_seconds: hub.started.elapsed().as_secs() }))
}

#[utoipa::path(get, path = "/v1/capabilities", tag = "operations",
    responses((status = 200, description = "The paths, the routing plan's steps, the critics with their schedules")))]
pub async fn capabilities(State(hub): State<Hub>) -> ApiResult<axum::Json<Capabilities>> {
    let app = hub.app.clone();
    Ok(axum::Json(blocking(move || app.capabilities()).await?))
}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(hub): State<Hub>) -> ApiResult<impl IntoResponse> {
    let app = hub.app.clone();
    let m = blocking(move || app.metrics(None, 1)).await?;
    let mut registry = Registry::with_prefix("fanline");
    let c = &hub.counters;
    let counter = |v: u64| {
        let k: Counter = Counter::default();
        k.inc_by(v);
        k
    };
    let gauge = |v: i64| {
        let g: Gauge = Gauge::default();
        g.set(v);
        g
    };
    registry.register("http_requests", "HTTP requests handled", counter(Counters::get(&c.requests)));
    registry.register("http_rejections", "Requests answered with an error", counter(Counters::get(&c.rejected)));
    registry.register("rate_limited", "Requests refused by a rate limit", counter(Counters::get(&c.rate_limited)));
    registry.register("fan_messages", "Fan messages posted (replays included)", counter(Counters::get(&c.messages)));
    registry.register("fan_message_replays", "Posts that replayed an earlier key", counter(Counters::get(&c.replays)));
    registry.register("event_streams_open", "Fans' event streams open", gauge(Counters::get(&c.streams_open) as i64));
    registry.register("queue_backlog", "Questions waiting for the creator", gauge(m.backlog as i64));
    registry.register("pending_offers", "Offers waiting for the fan", gauge(m.pending_offers as i64));
    registry.register("escalations_today", "Escalations accepted today", gauge(m.escalations_today as i64));
    registry.register("messages_today", "Fan messages routed in the last day", gauge(m.messages as i64));
    registry.register("uptime_seconds", "Seconds since the hub started", gauge(hub.started.elapsed().as_secs() as i64));
    let mut text = String::new();
    encode(&mut text, &registry)
        .map_err(|e| crate::error::ApiError::new(fanline_core::ErrorCode::Internal, e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text))
}

/// A device pairing with a code.
#[derive(Deserialize)]
pub struct PairRequest {
    /// The code `fanline hub pair` showed.
    pub code: String,
    /// What to call the device.
    pub name: String,
}

#[utoipa::path(post, path = "/pair", tag = "admin", request_body(content = Object, description = "{code, name}"),
    responses((status = 201, description = "{device, token}: the device's token, shown once"),
              (status = 401, description = "The code is not valid, was used, or has expired")))]
pub async fn pair(State(hub): State<Hub>, Json(req): Json<PairRequest>) -> ApiResult<impl IntoResponse> {
    let app = hub.app.clone();
    let t: DeviceToken = blocking(move || app.hub_pair(&req.code, &req.name)).await?;
    Ok((StatusCode::CREATED, axum::Json(t)))
}

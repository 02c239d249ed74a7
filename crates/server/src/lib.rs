//! The hub: Fanline's engine headless, over HTTP (`fanline serve`).
//!
//! - `/v1`: the fan API (sessions, messages, the conversation and its event stream,
//!   offers), with the chat widget at `/widget.js` and a page showing it at `/chat`;
//! - `/admin/v1`: the admin API for the creator's devices (`fanline hub token create`,
//!   or a pairing code traded at `/pair`);
//! - `/healthz`, `/readyz`, `/v1/status`, `/v1/capabilities`, `/metrics`, and the
//!   OpenAPI document at `/openapi.json` with a page at `/docs`.
//!
//! [`serve`] takes a bound listener, so tests bind `127.0.0.1:0`. Every handler is a
//! call into `fanline_core` (on a blocking thread: SQLite and the model are
//! synchronous). Limits: per-address and per-token rate limits (429 with
//! Retry-After), a body limit (413), a timeout on every request but event streams,
//! CORS for the origins the creator allowed.

pub mod admin;
pub mod auth;
pub mod error;
pub mod fan;
pub mod limits;
pub mod ops;
pub mod state;
pub mod sync;

use crate::error::ApiError;
use crate::state::{Counters, Hub};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use fanline_core::{ErrorCode, Fanline};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;

/// The OpenAPI document, generated from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Fanline hub", description = "Fans reach the creator; the creator's devices manage the queue. See docs/api.md."),
    paths(
        fan::start_session, fan::site, fan::post_message, fan::messages, fan::events, fan::accept, fan::decline,
        ops::healthz, ops::readyz, ops::status, ops::capabilities, ops::metrics, ops::pair,
        admin::queue, admin::queue_groups, admin::answer_group, admin::answer, admin::attach, admin::decline, admin::defer,
        admin::canonical_list, admin::canonical_add, admin::canonical_show, admin::canonical_edit,
        admin::canonical_delete, admin::canonical_variant, admin::canonical_merge,
        admin::config_get, admin::config_put, admin::policy_get, admin::policy_put, admin::metrics,
        admin::decisions, admin::decision, admin::documents, admin::upload, admin::document_delete, admin::invite,
        admin::replay, admin::inbox,
        sync::push, sync::changes, sync::state, sync::digest, sync::rows, sync::poke,
    ),
    components(schemas(fan::NewMessage, fan::SiteInfo)),
    modifiers(&Security),
    tags((name = "fans", description = "The fan API (Bearer fan token)"),
         (name = "admin", description = "The admin API (Bearer device token)"),
         (name = "sync", description = "Sync for the creator's devices (Bearer device token; docs/sync.md)"),
         (name = "operations", description = "Health, status, metrics"))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = doc.components.get_or_insert_with(Default::default);
        let bearer = |d: &str| {
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(d)).build())
        };
        c.add_security_scheme("fan_token", bearer("A fan's token from POST /v1/sessions"));
        c.add_security_scheme("device_token", bearer("A device's token (fanline hub token create, or POST /pair)"));
    }
}

const WIDGET_JS: &str = include_str!("../assets/widget.js");
const CHAT_HTML: &str = include_str!("../assets/chat.html");
const DOCS_HTML: &str = include_str!("../assets/docs.html");

async fn widget() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], WIDGET_JS)
}

async fn chat() -> Html<&'static str> {
    Html(CHAT_HTML)
}

async fn docs() -> Html<&'static str> {
    Html(DOCS_HTML)
}

async fn openapi() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such endpoint (see /docs)")
}

/// Documents may be larger than other requests.
const MAX_UPLOAD: usize = 32 * 1024 * 1024;

/// The hub's routes over `hub`.
pub fn router(hub: Hub) -> Router {
    let c = hub.app.config().hub.clone();
    let timeout = Duration::from_millis(c.request_timeout_ms.max(1000));
    let streams = Router::new()
        .route("/v1/conversations/{id}/events", get(fan::events))
        .route("/sync/v1/stream", get(sync::poke))
        // A streamed answer may run longer than a request's timeout.
        .route("/v1/conversations/{id}/messages", post(fan::post_message).get(fan::messages));
    let timed = Router::new()
        .route("/v1/sessions", post(fan::start_session))
        .route("/v1/sites/{site_key}", get(fan::site))
        .route("/v1/escalations/{id}/accept", post(fan::accept))
        .route("/v1/escalations/{id}/decline", post(fan::decline))
        .route("/v1/status", get(ops::status))
        .route("/v1/capabilities", get(ops::capabilities))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/pair", post(ops::pair))
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
        .route("/widget.js", get(widget))
        .route("/chat", get(chat))
        .route("/admin/v1/queue", get(admin::queue))
        .route("/admin/v1/queue/groups", get(admin::queue_groups))
        .route("/admin/v1/replay", post(admin::replay))
        .route("/admin/v1/inbox", post(admin::inbox))
        .route("/admin/v1/queue/groups/answer", post(admin::answer_group))
        .route("/admin/v1/queue/{id}/answer", post(admin::answer))
        .route("/admin/v1/queue/{id}/attach", post(admin::attach))
        .route("/admin/v1/queue/{id}/decline", post(admin::decline))
        .route("/admin/v1/queue/{id}/defer", post(admin::defer))
        .route("/admin/v1/canonical", get(admin::canonical_list).post(admin::canonical_add))
        .route(
            "/admin/v1/canonical/{id}",
            get(admin::canonical_show).patch(admin::canonical_edit).delete(admin::canonical_delete),
        )
        .route("/admin/v1/canonical/{id}/variants", post(admin::canonical_variant))
        .route("/admin/v1/canonical/{id}/merge", post(admin::canonical_merge))
        .route("/admin/v1/config", get(admin::config_get).put(admin::config_put))
        .route("/admin/v1/policy", get(admin::policy_get).put(admin::policy_put))
        .route("/admin/v1/metrics", get(admin::metrics))
        .route("/admin/v1/decisions", get(admin::decisions))
        .route("/admin/v1/decisions/{id}", get(admin::decision))
        .route("/admin/v1/documents", get(admin::documents))
        .route("/admin/v1/documents/{id}", axum::routing::delete(admin::document_delete))
        .route("/admin/v1/fan-invites", post(admin::invite))
        .route("/sync/v1/changes", get(sync::changes))
        .route("/sync/v1/state", get(sync::state))
        .route("/sync/v1/digest", get(sync::digest))
        .route("/sync/v1/digest/{table}", get(sync::rows))
        .layer(middleware::from_fn_with_state(timeout, time_limit));
    let uploads = Router::new()
        .route("/admin/v1/documents", post(admin::upload))
        .route("/sync/v1/push", post(sync::push))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
        .layer(middleware::from_fn_with_state(Duration::from_secs(600), time_limit));
    Router::new()
        .merge(streams)
        .merge(timed)
        .layer(DefaultBodyLimit::max(c.max_body_bytes.max(1024)))
        .merge(uploads)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(hub.clone(), guard))
        .layer(cors(&hub))
        .with_state(hub)
}

/// CORS for the widget: the origins the creator allowed (every site's), checked as
/// they are now.
fn cors(hub: &Hub) -> CorsLayer {
    let origins = hub.origins.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| origins.read().unwrap_or_else(|p| p.into_inner()).contains(o))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            "idempotency-key".parse().expect("a header name"),
            "last-event-id".parse().expect("a header name"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Rate limits, counters, and a JSON body for every error a layer below produced
/// without one.
async fn guard(State(hub): State<Hub>, req: Request, next: Next) -> Response {
    Counters::add(&hub.counters.requests);
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .map(|(_, t)| t.trim().to_string())
        // The per-token limit is the fans': the creator's own devices have only the
        // per-address one.
        .filter(|t| !t.starts_with("dev_"));
    if let Err(e) = hub.limiter.check(ip, token.as_deref()) {
        Counters::add(&hub.counters.rate_limited);
        Counters::add(&hub.counters.rejected);
        return e.into_response();
    }
    let response = next.run(req).await;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        Counters::add(&hub.counters.rejected);
        let json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            // axum's own rejections (a wrong method, a path that does not parse, a body
            // over the limit) become `{error}` too.
            let code = match status.as_u16() {
                413 => ErrorCode::PayloadTooLarge,
                404 => ErrorCode::NotFound,
                401 => ErrorCode::Unauthorized,
                408 | 504 => ErrorCode::Internal,
                429 => ErrorCode::RateLimited,
                s if s >= 500 => ErrorCode::Internal,
                _ => ErrorCode::InvalidInput,
            };
            let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
            return ApiError { status, ..ApiError::new(code, reason) }.into_response();
        }
    }
    response
}

/// A request that takes longer than `limit` is answered 503 (its work goes on: a
/// message is stored before it is routed, and a retry with its key finds it).
async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError {
            status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
            ..ApiError::new(ErrorCode::Internal, "the request took too long; retry it (with the same Idempotency-Key)")
        }
        .into_response(),
    }
}

/// Serve `app` on `listener` until `shutdown` completes. Tests bind `127.0.0.1:0`.
pub async fn serve(
    app: Arc<Fanline>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = Hub::new(app);
    let housekeeping = {
        let hub = hub.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            let mut n = 0u64;
            loop {
                tick.tick().await;
                hub.refresh_origins();
                hub.limiter.sweep();
                // Wake every stream now and then: another process may have written.
                hub.notify(0);
                // Every half minute: messages a stopped process left without a decision
                // (whose fan never retried) are routed, once.
                n += 1;
                if n % 6 == 1 {
                    let app = hub.app.clone();
                    match tokio::task::spawn_blocking(move || app.recover(fanline_core::RECOVER_AFTER_SECONDS)).await {
                        Ok(Ok(r)) if !r.messages.is_empty() => {
                            tracing::info!(routed = r.messages.len(), "routed messages left without a decision");
                            hub.notify(0);
                        }
                        Ok(Err(e)) => tracing::warn!("recovering unrouted messages: {e}"),
                        _ => {}
                    }
                }
            }
        })
    };
    let result = axum::serve(listener, router(hub).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    housekeeping.abort();
    result
}

/// A hub serving in the background of the current tokio runtime: the desktop app's
/// "Take messages from the web", `bench serve`, the tests.
pub struct Running {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Bind `addr` (`127.0.0.1:0` for any free port) and serve `app` there.
    pub async fn start(app: Arc<Fanline>, addr: &str) -> std::io::Result<Running> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(app, listener, async {
            let _ = stopped.await;
        }));
        Ok(Running { addr, stop, task })
    }

    /// The address it serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether it stopped by itself (the server failed).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stop taking requests, let those in flight finish, and wait for it.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        self.task.await.map_err(std::io::Error::other)?
    }
}

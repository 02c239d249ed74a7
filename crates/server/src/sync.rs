//! Sync for the creator's devices (`/sync/v1`, device tokens; docs/sync.md): push
//! changes, pull the log after a cursor, this device's position, digests to verify,
//! and a stream that pokes when the log moves.

use crate::auth::Device;
use crate::error::{blocking, ApiResult};
use crate::limits::Json;
use crate::state::Hub;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use fanline_core::hub::Scope;
use fanline_core::sync::PushRequest;
use futures::stream::{self, Stream};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

#[utoipa::path(post, path = "/sync/v1/push", tag = "sync", request_body(content = Object, description = "{first_seq, changes}"),
    responses((status = 200, description = "Per change: applied, duplicate, superseded, conflict or rejected"),
              (status = 409, description = "sync_gap (push from the position given) or clock_ahead")),
    security(("device_token" = [])))]
pub async fn push(
    State(hub): State<Hub>,
    Device(auth): Device,
    Json(req): Json<PushRequest>,
) -> ApiResult<impl IntoResponse> {
    let app = hub.app.clone();
    blocking(move || app.sync_apply(&auth, &req)).await.map(axum::Json)
}

/// Where to read the log from.
#[derive(Deserialize)]
pub struct After {
    #[serde(default)]
    pub after: i64,
    #[serde(default = "page")]
    pub limit: usize,
}

fn page() -> usize {
    500
}

#[utoipa::path(get, path = "/sync/v1/changes", tag = "sync",
    params(("after" = Option<i64>, Query, description = "The cursor: the last seq applied"),
           ("limit" = Option<usize>, Query, description = "At most this many records (≤ 1000)")),
    responses((status = 200, description = "{records, next_after, up_to_date, hub_hlc}")), security(("device_token" = [])))]
pub async fn changes(
    State(hub): State<Hub>,
    Device(auth): Device,
    Query(q): Query<After>,
) -> ApiResult<impl IntoResponse> {
    let app = hub.app.clone();
    blocking(move || app.sync_changes(&auth, q.after, q.limit)).await.map(axum::Json)
}

#[utoipa::path(get, path = "/sync/v1/state", tag = "sync",
    responses((status = 200, description = "This device's changes on the hub, and the log's head")), security(("device_token" = [])))]
pub async fn state(State(hub): State<Hub>, Device(auth): Device) -> ApiResult<impl IntoResponse> {
    let app = hub.app.clone();
    blocking(move || app.sync_state(&auth)).await.map(axum::Json)
}

#[utoipa::path(get, path = "/sync/v1/digest", tag = "sync",
    responses((status = 200, description = "Digests of the synced tables")), security(("device_token" = [])))]
pub async fn digest(State(hub): State<Hub>, Device(auth): Device) -> ApiResult<impl IntoResponse> {
    auth.require(Scope::Read)?;
    let app = hub.app.clone();
    blocking(move || app.sync_digest()).await.map(axum::Json)
}

#[utoipa::path(get, path = "/sync/v1/digest/{table}", tag = "sync", params(("table" = String, Path, description = "A synced table")),
    responses((status = 200, description = "The table's rows: key → hash")), security(("device_token" = [])))]
pub async fn rows(
    State(hub): State<Hub>,
    Device(auth): Device,
    axum::extract::Path(table): axum::extract::Path<String>,
) -> ApiResult<impl IntoResponse> {
    auth.require(Scope::Read)?;
    let app = hub.app.clone();
    blocking(move || app.sync_rows(&table)).await.map(axum::Json)
}

/// How often a poke stream looks at the log's head.
const POLL: Duration = Duration::from_millis(250);

#[utoipa::path(get, path = "/sync/v1/stream", tag = "sync",
    responses((status = 200, description = "text/event-stream: `changed` with the log's head whenever it moves")),
    security(("device_token" = [])))]
pub async fn poke(State(hub): State<Hub>, Device(auth): Device) -> ApiResult<impl IntoResponse> {
    auth.require(Scope::Read)?;
    let ping = Duration::from_secs(hub.app.config().hub.ping_seconds.max(1));
    Ok(Sse::new(heads(hub, auth)).keep_alive(KeepAlive::new().interval(ping).text("ping")))
}

/// `changed` events: the head now, then each time it moves.
fn heads(hub: Hub, auth: fanline_core::hub::DeviceAuth) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((None::<i64>, hub, auth), |(last, hub, auth)| async move {
        loop {
            let (app, a) = (hub.app.clone(), auth.clone());
            let head = blocking(move || app.sync_head(&a)).await.ok();
            match head {
                Some(h) if Some(h) != last => {
                    return Some((Ok(Event::default().event("changed").data(h.to_string())), (Some(h), hub, auth)));
                }
                _ => tokio::time::sleep(POLL).await,
            }
        }
    })
}

//! The fan API (`/v1`): sessions, messages (idempotent, streamed on request), the
//! conversation and its event stream, accepting and declining offers. Each handler is
//! a call into `fanline_core` on a blocking thread.

use crate::auth::Fan;
use crate::error::{blocking, ApiError, ApiResult};
use crate::limits::Json;
use crate::state::{Counters, Hub};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fanline_core::hub::{FanOfferState, FanPosted, PostStatus, Session, SessionRequest};
use fanline_core::llm::StreamEvent;
use fanline_core::ErrorCode;
use fanline_store::HubAccess;
use fanline_store::Message;
use futures::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use utoipa::ToSchema;

/// Start a session on a creator's site: anonymous, vouched for by the creator's site
/// (`user_hash` or a JWT), or with an invite link.
#[utoipa::path(post, path = "/v1/sessions", tag = "fans",
    request_body(content = Object, description = "{site_key, identity?: {external_id, user_hash} | {jwt} | {invite}}"),
    responses((status = 201, description = "The session: fan_token, conversation_id, fan, creator, expires_at"),
               (status = 401, description = "Unknown site key, or identity that does not verify")))]
pub async fn start_session(State(hub): State<Hub>, Json(req): Json<SessionRequest>) -> ApiResult<impl IntoResponse> {
    let app = hub.app.clone();
    let session: Session = blocking(move || app.fan_session_start(&req)).await?;
    Ok((StatusCode::CREATED, axum::Json(session)))
}

/// What a site's widget needs to know before a session: the creator's name.
#[derive(Serialize, ToSchema)]
pub struct SiteInfo {
    /// The creator's name.
    pub creator: String,
}

#[utoipa::path(get, path = "/v1/sites/{site_key}", tag = "fans",
    params(("site_key" = String, Path, description = "The site key")),
    responses((status = 200, body = SiteInfo), (status = 404, description = "No such site")))]
pub async fn site(State(hub): State<Hub>, Path(site_key): Path<String>) -> ApiResult<axum::Json<SiteInfo>> {
    let app = hub.app.clone();
    let creator = blocking(move || {
        let site = app
            .store()
            .site_by_key(site_key.trim())?
            .ok_or_else(|| fanline_core::Error::Store(fanline_store::Error::not_found("site", site_key.trim())))?;
        app.agent_display_name(site.agent_id)
    })
    .await?;
    Ok(axum::Json(SiteInfo { creator }))
}

/// A message to post.
#[derive(Deserialize, ToSchema)]
pub struct NewMessage {
    /// What the fan writes.
    pub text: String,
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<String> {
    let v = headers
        .get("idempotency-key")
        .ok_or_else(|| ApiError::bad_request("the Idempotency-Key header is required (a new UUID for each message)"))?;
    let v = v.to_str().map_err(|_| ApiError::bad_request("the Idempotency-Key must be visible ASCII"))?;
    Ok(v.to_string())
}

fn wants_stream(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"))
}

/// Post a message. It is stored before it is routed; a retry with the same
/// Idempotency-Key returns the original decision and creates nothing (the same key
/// with another text is 422, while still being answered 409). With `Accept:
/// text/event-stream` the answer streams as `answer.delta` events, then `answer.done`
/// carries what the plain response does.
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "fans",
    params(("id" = i64, Path, description = "The fan's conversation"),
           ("Idempotency-Key" = String, Header, description = "A new key (UUID) per message; the same key on a retry")),
    request_body = NewMessage,
    responses((status = 201, description = "Stored and routed: {status, decision}"),
               (status = 200, description = "A replay: the original decision"),
               (status = 409, description = "The same key is still being answered"),
               (status = 422, description = "The same key with another text, or a message that is empty, too long or holds a NUL")),
    security(("fan_token" = [])))]
pub async fn post_message(
    State(hub): State<Hub>,
    Fan(auth): Fan,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<NewMessage>,
) -> ApiResult<Response> {
    if id != auth.conversation_id {
        return Err(ApiError::new(ErrorCode::NotFound, format!("no conversation {id}")));
    }
    let key = idempotency_key(&headers)?;
    Counters::add(&hub.counters.messages);
    if !wants_stream(&headers) {
        let (app, hub2) = (hub.app.clone(), hub.clone());
        let posted = blocking(move || app.fan_post(&auth, id, &key, &body.text, &mut |_| {})).await?;
        hub2.notify(id);
        return Ok(posted_response(&hub, posted));
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let (app, hub2) = (hub.app.clone(), hub.clone());
    tokio::task::spawn_blocking(move || {
        let send = tx.clone();
        let mut sink = move |e: StreamEvent<'_>| {
            let ev = match e {
                StreamEvent::Token(t) => {
                    Event::default().event("answer.delta").json_data(serde_json::json!({ "text": t }))
                }
                StreamEvent::Restart => Event::default().event("answer.restart").json_data(serde_json::json!({})),
            };
            if let Ok(ev) = ev {
                let _ = send.send(ev);
            }
        };
        let done = match app.fan_post(&auth, id, &key, &body.text, &mut sink) {
            Ok(posted) => {
                hub2.notify(id);
                Event::default().event("answer.done").json_data(&posted)
            }
            Err(e) => Event::default().event("error").json_data(serde_json::json!({ "error": e.body() })),
        };
        if let Ok(ev) = done {
            let _ = tx.send(ev);
        }
    });
    let events = tokio_stream_of(rx).map(Ok::<_, Infallible>);
    Ok(Sse::new(events).into_response())
}

fn tokio_stream_of<T: Send + 'static>(mut rx: tokio::sync::mpsc::UnboundedReceiver<T>) -> impl Stream<Item = T> {
    stream::poll_fn(move |cx| rx.poll_recv(cx))
}

fn posted_response(hub: &Hub, posted: FanPosted) -> Response {
    let status = match posted.status {
        PostStatus::Created => StatusCode::CREATED,
        PostStatus::Replayed => {
            Counters::add(&hub.counters.replays);
            StatusCode::OK
        }
    };
    (status, axum::Json(posted)).into_response()
}

/// A page of the conversation.
#[derive(Deserialize)]
pub struct Page {
    /// Messages after this id (0: from the start).
    #[serde(default)]
    pub after: i64,
    /// At most this many (default 100, at most 500).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Messages after a cursor, and the cursor to read on from.
#[derive(Serialize)]
pub struct Messages {
    messages: Vec<Message>,
    next_after: i64,
}

/// Read the conversation after a cursor (a message id): the truth after any
/// reconnection.
#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "fans",
    params(("id" = i64, Path, description = "The fan's conversation"),
           ("after" = Option<i64>, Query, description = "Messages after this id"),
           ("limit" = Option<usize>, Query, description = "At most this many (100, up to 500)")),
    responses((status = 200, description = "{messages, next_after}"), (status = 404, description = "Not this fan's")),
    security(("fan_token" = [])))]
pub async fn messages(
    State(hub): State<Hub>,
    Fan(auth): Fan,
    Path(id): Path<i64>,
    Query(page): Query<Page>,
) -> ApiResult<axum::Json<Messages>> {
    let app = hub.app.clone();
    let limit = page.limit.unwrap_or(100);
    let messages = blocking(move || app.fan_messages(&auth, id, page.after, limit)).await?;
    let next_after = messages.last().map(|m| m.id).unwrap_or(page.after.max(0));
    Ok(axum::Json(Messages { messages, next_after }))
}

/// Where an event stream resumes.
#[derive(Deserialize)]
pub struct Resume {
    /// Events after this one (as Last-Event-ID).
    #[serde(default)]
    pub after: Option<i64>,
}

/// The conversation's events, as they happen: every message the fan is shown, typed by
/// its kind (`reply`, `escalation.offered`, `escalation.accepted`, `escalation.answered`
/// — the creator's answer, live —, `escalation.declined`), each with its message id as
/// the event id. Resumes after `Last-Event-ID` (or `?after=`); pings keep it open.
#[utoipa::path(get, path = "/v1/conversations/{id}/events", tag = "fans",
    params(("id" = i64, Path, description = "The fan's conversation"),
           ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event"),
           ("after" = Option<i64>, Query, description = "Resume after this event")),
    responses((status = 200, description = "text/event-stream"), (status = 404, description = "Not this fan's")),
    security(("fan_token" = [])))]
pub async fn events(
    State(hub): State<Hub>,
    Fan(auth): Fan,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Query(resume): Query<Resume>,
) -> ApiResult<Response> {
    if id != auth.conversation_id {
        return Err(ApiError::new(ErrorCode::NotFound, format!("no conversation {id}")));
    }
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    let cursor = last.or(resume.after).unwrap_or(0).max(0);
    let ping = Duration::from_secs(hub.app.config().hub.ping_seconds.max(1));
    let stream = EventLog::new(hub, auth, id, cursor).into_stream();
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(ping).text("ping")).into_response())
}

/// An event stream's state: where it is, what it has read and not sent yet.
struct EventLog {
    hub: Hub,
    auth: fanline_core::hub::FanAuth,
    conversation: i64,
    cursor: i64,
    pending: VecDeque<Message>,
    news: tokio::sync::broadcast::Receiver<i64>,
}

/// How often a stream looks for news another process wrote.
const POLL: Duration = Duration::from_millis(1000);

impl EventLog {
    fn new(hub: Hub, auth: fanline_core::hub::FanAuth, conversation: i64, cursor: i64) -> EventLog {
        Counters::add(&hub.counters.streams_open);
        let news = hub.news.subscribe();
        EventLog { hub, auth, conversation, cursor, pending: VecDeque::new(), news }
    }

    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        stream::unfold(self, |mut log| async move {
            loop {
                if let Some(m) = log.pending.pop_front() {
                    log.cursor = m.id;
                    let ev = Event::default().id(m.id.to_string()).event(m.kind.as_str()).json_data(&m);
                    match ev {
                        Ok(ev) => return Some((Ok(ev), log)),
                        Err(_) => continue,
                    }
                }
                let (app, auth, id, after) = (log.hub.app.clone(), log.auth.clone(), log.conversation, log.cursor);
                match blocking(move || app.fan_messages(&auth, id, after, 100)).await {
                    Ok(ms) if !ms.is_empty() => {
                        log.pending.extend(ms);
                        continue;
                    }
                    Ok(_) => {}
                    // The fan's access ended (revoked) or the store failed: end the stream;
                    // the client reconnects and is told why.
                    Err(_) => return None,
                }
                // Nothing new: wait for news of this conversation, or look again soon
                // (another process may have written).
                let deadline = tokio::time::sleep(POLL);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        _ = &mut deadline => break,
                        n = log.news.recv() => match n {
                            Ok(c) if c == log.conversation || c == 0 => break,
                            Ok(_) => {}
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                            Err(_) => { deadline.as_mut().await; break }
                        },
                    }
                }
            }
        })
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        self.hub.counters.streams_open.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Accept an offer (idempotent). Past a cap: `409 cap_reached` with `resets_at`.
#[utoipa::path(post, path = "/v1/escalations/{id}/accept", tag = "fans",
    params(("id" = i64, Path, description = "The offer's escalation")),
    responses((status = 200, description = "{offer, reply, expected_reply_by}"),
              (status = 409, description = "cap_reached (with resets_at), or the offer lapsed"),
              (status = 404, description = "Not this fan's")),
    security(("fan_token" = [])))]
pub async fn accept(
    State(hub): State<Hub>,
    Fan(auth): Fan,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<FanOfferState>> {
    let (app, conversation) = (hub.app.clone(), auth.conversation_id);
    let state = blocking(move || app.fan_accept(&auth, id)).await?;
    hub.notify(conversation);
    Ok(axum::Json(state))
}

/// Decline an offer (idempotent).
#[utoipa::path(post, path = "/v1/escalations/{id}/decline", tag = "fans",
    params(("id" = i64, Path, description = "The offer's escalation")),
    responses((status = 200, description = "{offer, reply}"), (status = 404, description = "Not this fan's")),
    security(("fan_token" = [])))]
pub async fn decline(
    State(hub): State<Hub>,
    Fan(auth): Fan,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<FanOfferState>> {
    let (app, conversation) = (hub.app.clone(), auth.conversation_id);
    let state = blocking(move || app.fan_decline(&auth, id)).await?;
    hub.notify(conversation);
    Ok(axum::Json(state))
}

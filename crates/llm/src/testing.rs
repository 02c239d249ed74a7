//! Model servers for tests (feature `testing`): real HTTP on loopback (port 0),
//! speaking OpenAI's chat completions stream and Anthropic's Messages stream, with
//! faults on demand.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures::stream::{self, StreamExt};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the next call gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    Ok,
    Status(u16),
    /// 429 with `Retry-After` (seconds, may be fractional).
    RateLimited(&'static str),
    /// Some tokens, then an event that is not JSON.
    Malformed,
    /// Some tokens, then the connection ends without the end marker.
    Truncated,
    /// Some tokens, then silence for this long.
    Stall(Duration),
    /// A well-formed stream with no text at all.
    Empty,
    /// A well-formed stream with this text (one token per word).
    Say(&'static str),
    /// 401 with a body that echoes the credentials the request carried, as some
    /// servers do ("Incorrect API key provided: Bearer sk-…").
    EchoKey,
}

#[derive(Default)]
pub struct Script {
    queue: Mutex<VecDeque<Fault>>,
    /// When the queue is empty: fail calls whose number (from 0) is in this pattern, mod 10.
    pattern: Mutex<Vec<usize>>,
    pub calls: AtomicUsize,
    pub last_headers: Mutex<Option<HeaderMap>>,
    pub last_body: Mutex<Option<serde_json::Value>>,
}

impl Script {
    pub fn push(&self, f: Fault) {
        self.queue.lock().unwrap().push_back(f);
    }
    pub fn fail_pattern(&self, p: &[usize]) {
        *self.pattern.lock().unwrap() = p.to_vec();
    }
    fn next(&self) -> Fault {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(f) = self.queue.lock().unwrap().pop_front() {
            return f;
        }
        if self.pattern.lock().unwrap().contains(&(n % 10)) {
            Fault::Status(500)
        } else {
            Fault::Ok
        }
    }
}

pub const ANSWER: [&str; 3] = ["Hello", " from", " the model"];

fn sse(events: Vec<String>, tail: Option<Duration>) -> Response {
    let s = stream::iter(events.into_iter().map(|e| Ok::<_, std::io::Error>(Bytes::from(e))));
    let body = match tail {
        Some(d) => Body::from_stream(s.chain(stream::once(async move {
            tokio::time::sleep(d).await;
            Ok(Bytes::from_static(b""))
        }))),
        None => Body::from_stream(s),
    };
    ([("content-type", "text/event-stream")], body).into_response()
}

fn refuse(f: &Fault, headers: &HeaderMap) -> Option<Response> {
    match f {
        Fault::EchoKey => {
            let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let body = format!(
                "{{\"error\":{{\"message\":\"Incorrect API key provided: {} {}\"}}}}",
                h("authorization"),
                h("x-api-key")
            );
            Some((StatusCode::UNAUTHORIZED, body).into_response())
        }
        Fault::Status(s) => Some((StatusCode::from_u16(*s).unwrap(), "{\"error\":\"injected\"}").into_response()),
        Fault::RateLimited(after) => Some(
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", *after)], "{\"error\":\"slow down\"}").into_response(),
        ),
        _ => None,
    }
}

async fn openai(State(s): State<Arc<Script>>, headers: HeaderMap, body: String) -> Response {
    *s.last_headers.lock().unwrap() = Some(headers.clone());
    *s.last_body.lock().unwrap() = serde_json::from_str(&body).ok();
    let f = s.next();
    if let Some(r) = refuse(&f, &headers) {
        return r;
    }
    let delta = |t: &str| format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{t:?}}}}}]}}\n\n");
    if f == Fault::Empty {
        return sse(vec!["data: [DONE]\n\n".into()], None);
    }
    if let Fault::Say(text) = f {
        let mut ev: Vec<String> = text.split_inclusive(' ').map(delta).collect();
        ev.push("data: [DONE]\n\n".into());
        return sse(ev, None);
    }
    let mut ev = vec![delta(ANSWER[0])];
    match f {
        Fault::Malformed => ev.push("data: {\"choices\": [oops\n\n".into()),
        Fault::Truncated => {}
        Fault::Stall(d) => return sse(ev, Some(d)),
        _ => {
            ev.extend(ANSWER[1..].iter().map(|t| delta(t)));
            ev.push("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}\n\n".into());
            ev.push("data: [DONE]\n\n".into());
        }
    }
    sse(ev, None)
}

async fn anthropic(State(s): State<Arc<Script>>, headers: HeaderMap, body: String) -> Response {
    *s.last_headers.lock().unwrap() = Some(headers.clone());
    *s.last_body.lock().unwrap() = serde_json::from_str(&body).ok();
    let f = s.next();
    if let Some(r) = refuse(&f, &headers) {
        return r;
    }
    let event = |name: &str, data: String| format!("event: {name}\ndata: {data}\n\n");
    let delta = |t: &str| {
        event(
            "content_block_delta",
            format!(
                "{{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{t:?}}}}}"
            ),
        )
    };
    let mut ev = vec![
        event(
            "message_start",
            "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}".into(),
        ),
        event(
            "content_block_start",
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}".into(),
        ),
        event("ping", "{\"type\":\"ping\"}".into()),
        delta(ANSWER[0]),
    ];
    match f {
        Fault::Malformed => ev.push(event("content_block_delta", "{not json".into())),
        Fault::Truncated => {}
        Fault::Stall(d) => return sse(ev, Some(d)),
        _ => {
            ev.extend(ANSWER[1..].iter().map(|t| delta(t)));
            ev.push(event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}".into()));
            ev.push(event(
                "message_delta",
                "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4}}"
                    .into(),
            ));
            ev.push(event("message_stop", "{\"type\":\"message_stop\"}".into()));
        }
    }
    sse(ev, None)
}

async fn models(State(s): State<Arc<Script>>, headers: HeaderMap) -> Response {
    let f = s.queue.lock().unwrap().front().cloned();
    if f == Some(Fault::EchoKey) {
        s.queue.lock().unwrap().pop_front();
        return refuse(&Fault::EchoKey, &headers).expect("a refusal");
    }
    "{\"data\":[{\"id\":\"test-model\"}]}".into_response()
}

/// Start a server; returns its base URL (`http://127.0.0.1:PORT`) and its script.
pub async fn start() -> (String, Arc<Script>) {
    let script = Arc::new(Script::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(openai))
        .route("/v1/messages", post(anthropic))
        .route("/v1/models", get(models))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), script)
}

//! What both adapters share: sending a request, turning an HTTP failure into an
//! [`Error`], and reading Server-Sent Events (parsed by `eventsource-stream`).

use crate::{Error, Result};
use eventsource_stream::{Event, Eventsource};
use futures::stream::{BoxStream, StreamExt};
use std::time::Duration;

/// Where a provider is and who it is: what both adapters hold.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The name it was configured under.
    pub name: String,
    /// Without a trailing slash.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub context_window: u32,
    pub(crate) client: reqwest::Client,
}

impl Endpoint {
    pub fn new(name: &str, base_url: &str, model: &str, api_key: Option<String>, context_window: u32) -> Endpoint {
        Endpoint {
            name: name.into(),
            base_url: base_url.trim_end_matches('/').into(),
            model: model.into(),
            api_key,
            context_window,
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .build()
                .expect("a TLS backend is compiled in"),
        }
    }
}

fn transport(provider: &str, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout { provider: provider.into(), detail: e.to_string() }
    } else if e.is_decode() || e.is_body() {
        Error::Protocol { provider: provider.into(), detail: e.to_string() }
    } else {
        Error::Connect { provider: provider.into(), detail: e.to_string() }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the APIs we speak).
fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    let v = r.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<f64>().ok().filter(|s| *s >= 0.0).map(Duration::from_secs_f64)
}

impl Endpoint {
    /// `e` with this endpoint's key (and anything shaped like a credential) removed:
    /// every error an adapter returns goes through here.
    pub(crate) fn scrub(&self, e: Error) -> Error {
        e.redacted(&[self.api_key.as_deref().unwrap_or("")])
    }

    /// Send, and fail with the status and the start of the body unless it is a success.
    pub(crate) async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let provider = self.name.as_str();
        let r = req.send().await.map_err(|e| self.scrub(transport(provider, e)))?;
        if r.status().is_success() {
            return Ok(r);
        }
        let status = r.status().as_u16();
        let wait = retry_after(&r);
        let body: String = r.text().await.unwrap_or_default().chars().take(300).collect();
        Err(self.scrub(Error::Status { provider: provider.into(), status, body, retry_after: wait }))
    }

    /// The chunks of a streamed response, its errors scrubbed (see [`chunk_stream`]).
    pub(crate) fn chunks(
        &self,
        r: reqwest::Response,
        parse: fn(&str, &Event) -> Result<Option<Vec<crate::Chunk>>>,
    ) -> crate::ChunkStream {
        let ep = self.clone();
        chunk_stream(&self.name, r, parse).map(move |c| c.map_err(|e| ep.scrub(e))).boxed()
    }
}

/// The response body as a stream of SSE events.
pub(crate) fn events(provider: &str, r: reqwest::Response) -> BoxStream<'static, Result<Event>> {
    let name = provider.to_string();
    r.bytes_stream()
        .eventsource()
        .map(move |e| match e {
            Ok(ev) => Ok(ev),
            Err(eventsource_stream::EventStreamError::Transport(t)) => Err(transport(&name, t)),
            Err(other) => Err(Error::Protocol { provider: name.clone(), detail: other.to_string() }),
        })
        .boxed()
}

/// Parse an event's JSON data.
pub(crate) fn json(provider: &str, data: &str) -> Result<serde_json::Value> {
    serde_json::from_str(data).map_err(|e| Error::Protocol {
        provider: provider.into(),
        detail: format!("bad JSON in an event ({e}): {}", data.chars().take(120).collect::<String>()),
    })
}

/// The chunks of an SSE response: `parse` turns each event into chunks, or `None` at
/// the provider's end marker. A stream that stops before the end marker, or an event
/// that does not parse, ends the stream with an error.
fn chunk_stream(
    provider: &str,
    r: reqwest::Response,
    parse: fn(&str, &Event) -> Result<Option<Vec<crate::Chunk>>>,
) -> crate::ChunkStream {
    let name = provider.to_string();
    let evs = events(provider, r);
    futures::stream::unfold((evs, false), move |(mut evs, done)| {
        let name = name.clone();
        async move {
            if done {
                return None;
            }
            loop {
                match evs.next().await {
                    None => return Some((Err(Error::Truncated { provider: name }), (evs, true))),
                    Some(Err(e)) => return Some((Err(e), (evs, true))),
                    Some(Ok(ev)) => match parse(&name, &ev) {
                        Err(e) => return Some((Err(e), (evs, true))),
                        Ok(None) => return None,
                        Ok(Some(cs)) if cs.is_empty() => continue,
                        Ok(Some(cs)) => return Some((Ok(cs), (evs, false))),
                    },
                }
            }
        }
    })
    .flat_map(|r: Result<Vec<crate::Chunk>>| {
        futures::stream::iter(match r {
            Ok(cs) => cs.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    })
    .boxed()
}

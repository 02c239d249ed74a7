//! Anthropic's Messages API: `POST {base_url}/v1/messages` with `stream: true`. The
//! answer comes as SSE events: `message_start` (input tokens), `content_block_delta`
//! (`text_delta`), `message_delta` (output tokens), `message_stop`; `ping` and
//! `error` events may come at any time.

use crate::http::{self, Endpoint};
use crate::{Capabilities, Chunk, ChunkStream, Error, Provider, Request, Result};
use futures::future::BoxFuture;
use serde_json::{json, Value};

pub const API_VERSION: &str = "2023-06-01";

/// `base_url` is `https://api.anthropic.com` unless a proxy is used.
#[derive(Debug, Clone)]
pub struct Anthropic {
    pub ep: Endpoint,
}

impl Anthropic {
    pub fn new(name: &str, base_url: &str, model: &str, api_key: Option<String>, context_window: u32) -> Self {
        Anthropic { ep: Endpoint::new(name, base_url, model, api_key, context_window) }
    }

    fn headers(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let r = r.header("anthropic-version", API_VERSION);
        match &self.ep.api_key {
            Some(k) => r.header("x-api-key", k),
            None => r,
        }
    }
}

/// What one event means: chunks, the end, or nothing.
enum Step {
    Chunks(Vec<Chunk>),
    Stop,
}

fn step(provider: &str, event: &str, data: &str) -> Result<Step> {
    let v = http::json(provider, data)?;
    let kind = v.get("type").and_then(Value::as_str).unwrap_or(event);
    Ok(match kind {
        "message_start" => {
            let n = v.pointer("/message/usage/input_tokens").and_then(Value::as_u64).unwrap_or(0);
            Step::Chunks(vec![Chunk::Usage { input: n, output: 0 }])
        }
        "content_block_delta" => match v.pointer("/delta/text").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => Step::Chunks(vec![Chunk::Text(t.to_string())]),
            _ => Step::Chunks(Vec::new()),
        },
        "message_delta" => {
            let n = v.pointer("/usage/output_tokens").and_then(Value::as_u64).unwrap_or(0);
            Step::Chunks(vec![Chunk::Usage { input: 0, output: n }])
        }
        "message_stop" => Step::Stop,
        "error" => {
            let e = v.get("error").cloned().unwrap_or(Value::Null);
            let t = e.get("type").and_then(Value::as_str).unwrap_or("error");
            let m = e.get("message").and_then(Value::as_str).unwrap_or("");
            // overloaded_error is Anthropic's 529: worth a retry.
            let status = if t == "overloaded_error" { 529 } else { 500 };
            return Err(Error::Status {
                provider: provider.into(),
                status,
                body: format!("{t}: {m}"),
                retry_after: None,
            });
        }
        _ => Step::Chunks(Vec::new()), // ping, content_block_start/stop
    })
}

fn step_chunks(provider: &str, ev: &eventsource_stream::Event) -> Result<Option<Vec<Chunk>>> {
    Ok(match step(provider, &ev.event, &ev.data)? {
        Step::Chunks(c) => Some(c),
        Step::Stop => None,
    })
}

impl Provider for Anthropic {
    fn name(&self) -> &str {
        &self.ep.name
    }
    fn model(&self) -> &str {
        &self.ep.model
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities { context_window: self.ep.context_window, streaming: true, json_output: false }
    }

    fn available(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let r = self.headers(self.ep.client.get(format!("{}/v1/models", self.ep.base_url)));
            self.ep.send(r).await.map(|_| ())
        })
    }

    fn generate(&self, req: &Request) -> BoxFuture<'_, Result<ChunkStream>> {
        let body = json!({
            "model": self.ep.model,
            "system": req.system,
            "messages": req.turns.iter().map(|t| json!({"role": t.role, "content": t.content})).collect::<Vec<_>>(),
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "stream": true,
        });
        Box::pin(async move {
            let r = self.headers(self.ep.client.post(format!("{}/v1/messages", self.ep.base_url))).json(&body);
            let resp = self.ep.send(r).await?;
            Ok(self.ep.chunks(resp, step_chunks))
        })
    }
}

//! Any OpenAI-compatible chat completions server: OpenAI, Ollama, llama.cpp's server,
//! LM Studio, vLLM. `POST {base_url}/chat/completions` with `stream: true`; the answer
//! comes as `data: {"choices":[{"delta":{"content":…}}]}` events and ends with
//! `data: [DONE]`.

use crate::http::{self, Endpoint};
use crate::{Capabilities, Chunk, ChunkStream, Error, Provider, Request, Result};
use futures::future::BoxFuture;
use serde_json::{json, Value};

/// `base_url` e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama),
/// `http://localhost:8080/v1` (llama.cpp).
#[derive(Debug, Clone)]
pub struct OpenAiCompatible {
    pub ep: Endpoint,
}

impl OpenAiCompatible {
    pub fn new(name: &str, base_url: &str, model: &str, api_key: Option<String>, context_window: u32) -> Self {
        OpenAiCompatible { ep: Endpoint::new(name, base_url, model, api_key, context_window) }
    }

    fn auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.ep.api_key {
            Some(k) => r.bearer_auth(k),
            None => r,
        }
    }

    fn body(&self, req: &Request) -> Value {
        let mut messages = vec![json!({"role": "system", "content": req.system})];
        messages.extend(req.turns.iter().map(|t| json!({"role": t.role, "content": t.content})));
        let mut b = json!({
            "model": self.ep.model,
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
        });
        if req.json {
            b["response_format"] = json!({"type": "json_object"});
        }
        b
    }
}

/// Turn one event into chunks; `Ok(None)` is the end.
fn chunks(provider: &str, ev: &eventsource_stream::Event) -> Result<Option<Vec<Chunk>>> {
    let data = ev.data.as_str();
    if data.trim() == "[DONE]" {
        return Ok(None);
    }
    let v = http::json(provider, data)?;
    if let Some(e) = v.get("error") {
        return Err(Error::Protocol { provider: provider.into(), detail: format!("error event: {e}") });
    }
    let mut out = Vec::new();
    if let Some(text) = v.pointer("/choices/0/delta/content").and_then(Value::as_str) {
        if !text.is_empty() {
            out.push(Chunk::Text(text.to_string()));
        }
    }
    if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
        let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
        out.push(Chunk::Usage { input: n("prompt_tokens"), output: n("completion_tokens") });
    }
    Ok(Some(out))
}

impl Provider for OpenAiCompatible {
    fn name(&self) -> &str {
        &self.ep.name
    }
    fn model(&self) -> &str {
        &self.ep.model
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities { context_window: self.ep.context_window, streaming: true, json_output: true }
    }

    fn available(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let r = self.auth(self.ep.client.get(format!("{}/models", self.ep.base_url)));
            self.ep.send(r).await.map(|_| ())
        })
    }

    fn generate(&self, req: &Request) -> BoxFuture<'_, Result<ChunkStream>> {
        let body = self.body(req);
        Box::pin(async move {
            let r = self.auth(self.ep.client.post(format!("{}/chat/completions", self.ep.base_url))).json(&body);
            let resp = self.ep.send(r).await?;
            Ok(self.ep.chunks(resp, chunks))
        })
    }
}

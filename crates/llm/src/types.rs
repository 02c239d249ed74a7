//! What a provider is asked and what it streams back.

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

/// A conversation turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Turn {
    /// "user" or "assistant".
    pub role: String,
    pub content: String,
}

impl Turn {
    pub fn user(text: impl Into<String>) -> Turn {
        Turn { role: "user".into(), content: text.into() }
    }
    pub fn assistant(text: impl Into<String>) -> Turn {
        Turn { role: "assistant".into(), content: text.into() }
    }
}

/// A generation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Request {
    pub system: String,
    pub turns: Vec<Turn>,
    pub max_tokens: u32,
    pub temperature: f32,
    /// Ask for a JSON object (providers that support it).
    pub json: bool,
}

impl Request {
    pub fn new(system: impl Into<String>, user: impl Into<String>) -> Request {
        Request { system: system.into(), turns: vec![Turn::user(user)], max_tokens: 512, temperature: 0.3, json: false }
    }
}

/// A piece of a streamed response.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    Text(String),
    /// Token counts, when the provider reports them.
    Usage {
        input: u64,
        output: u64,
    },
}

/// What a provider can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Capabilities {
    /// Tokens of context.
    pub context_window: u32,
    pub streaming: bool,
    pub json_output: bool,
}

/// A stream of chunks; it ends cleanly only when the provider said it was done
/// (a stream cut short ends with `Error::Truncated`).
pub type ChunkStream = BoxStream<'static, crate::Result<Chunk>>;

/// A language-model provider.
pub trait Provider: Send + Sync {
    /// The name it was configured under.
    fn name(&self) -> &str;
    fn model(&self) -> &str;
    fn capabilities(&self) -> Capabilities;
    /// A cheap request that proves the server is there and the key is accepted.
    fn available(&self) -> BoxFuture<'_, crate::Result<()>>;
    /// Start a streamed generation.
    fn generate(&self, req: &Request) -> BoxFuture<'_, crate::Result<ChunkStream>>;
}

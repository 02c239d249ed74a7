//! Fanline's language-model layer.
//!
//! [`Provider`] is one model server: [`OpenAiCompatible`] (OpenAI, Ollama, llama.cpp,
//! LM Studio, vLLM) or [`Anthropic`]. Both stream, parsing Server-Sent Events with
//! `eventsource-stream`. A [`Chain`] holds them in priority order, each behind a
//! circuit breaker, retries what is worth retrying and keeps per-provider metrics.
//! [`keys`] keeps API keys in the OS keychain, with an environment override.

pub mod anthropic;
pub mod breaker;
pub mod chain;
mod error;
mod http;
pub mod keys;
pub mod openai;
mod redact;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

pub use anthropic::Anthropic;
pub use breaker::BreakerState;
pub use chain::{Attempt, Chain, Event, Generated, Prices, ProviderStats, Resilience};
pub use error::{Error, Result};
pub use http::Endpoint;
pub use openai::OpenAiCompatible;
pub use redact::{redact, REDACTED};
pub use types::{Capabilities, Chunk, ChunkStream, Provider, Request, Turn};

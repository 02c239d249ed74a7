//! Language models in Fanline's use cases: the providers the creator configured (in
//! the store; keys in the OS keychain), the chain built from them, generation with the
//! response cache, and the provider commands (add, list, test, remove).

use crate::{Error, Fanline, Result};
use fanline_llm::keys::{self, KeySource};
use fanline_llm::{
    Anthropic, Chain, Event, Generated, OpenAiCompatible, Prices, Provider, ProviderStats, Request, Resilience,
};
use fanline_store::ProviderSettings;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `[llm]` in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct LlmSettings {
    /// Retries, timeouts and breakers.
    #[serde(flatten)]
    pub resilience: Resilience,
    /// Hours a cacheable response is reused.
    pub cache_ttl_hours: u64,
    /// Tokens an answer may take.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
}

impl Default for LlmSettings {
    fn default() -> Self {
        LlmSettings { resilience: Resilience::default(), cache_ttl_hours: 24, max_tokens: 400, temperature: 0.3 }
    }
}

/// What a caller streaming an answer sees.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent<'a> {
    /// More text.
    Token(&'a str),
    /// Forget the tokens so far: the answer starts over (a provider failed mid-stream).
    Restart,
}

/// A provider to add.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewProvider {
    /// Its name (unique; the keychain entry is named after it).
    pub name: String,
    /// "openai" (any OpenAI-compatible server) or "anthropic".
    pub kind: String,
    /// Where it is.
    pub base_url: String,
    /// The model to ask.
    pub model: String,
    /// Lower is tried first.
    pub priority: i64,
    /// Tokens its context holds (the kind's default when not given).
    pub context_window: Option<u32>,
    /// Prices per million tokens, for the cost estimate.
    #[serde(default)]
    pub prices: Prices,
    /// Stored in the OS keychain, never in the database (blank: none).
    pub key: Option<String>,
}

/// A configured provider, where its key comes from, and its metrics in this process.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderInfo {
    /// Its settings.
    #[serde(flatten)]
    pub settings: ProviderSettings,
    /// Where its key comes from.
    pub key: KeySource,
    /// The variable that overrides its key.
    pub key_variable: String,
    /// Its calls in this process.
    pub stats: Option<ProviderStats>,
}

/// A provider's round trip.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderTest {
    /// The provider.
    pub name: String,
    /// Whether it answered.
    pub ok: bool,
    /// How long it took.
    pub latency_ms: f64,
    /// What it said.
    pub reply: String,
    /// Why it failed.
    pub error: Option<String>,
}

fn llm_err(e: fanline_llm::Error) -> Error {
    Error::Llm(e)
}

fn default_window(kind: &str) -> u32 {
    if kind == "anthropic" {
        200_000
    } else {
        8_192
    }
}

fn build(p: &ProviderSettings) -> Result<Arc<dyn Provider>> {
    let (key, _) = keys::get(&p.name).map_err(llm_err)?;
    let window =
        p.options.get("context_window").and_then(|v| v.as_u64()).map(|v| v as u32).unwrap_or(default_window(&p.kind));
    Ok(match p.kind.as_str() {
        "anthropic" => Arc::new(Anthropic::new(&p.name, &p.base_url, &p.model, key, window)),
        _ => Arc::new(OpenAiCompatible::new(&p.name, &p.base_url, &p.model, key, window)),
    })
}

fn prices(p: &ProviderSettings) -> Prices {
    serde_json::from_value(p.options.clone()).unwrap_or_default()
}

impl Fanline {
    pub(crate) fn runtime(&self) -> &tokio::runtime::Runtime {
        // Dropped without waiting (see `Drop for Fanline`): the hub drops its Fanline
        // on an async thread, where a runtime may not block to shut down.
        self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .thread_name("fanline-llm")
                .build()
                .expect("a tokio runtime starts")
        })
    }

    /// The chain of enabled providers, rebuilt when their settings change.
    pub(crate) fn chain(&self) -> Result<Arc<Chain>> {
        let settings: Vec<ProviderSettings> = self.store.list_providers()?.into_iter().filter(|p| p.enabled).collect();
        let mut slot = self.chain.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, c)) = slot.as_ref() {
            if *s == settings {
                return Ok(c.clone());
            }
        }
        let mut chain = Chain::new(self.config.llm.resilience);
        for p in &settings {
            chain.push(build(p)?, prices(p));
        }
        let chain = Arc::new(chain);
        *slot = Some((settings, chain.clone()));
        Ok(chain)
    }

    /// Generate with the configured providers. `cacheable`: the prompt is not personal,
    /// so an earlier identical answer may be reused. `Ok(None)`: no provider is
    /// configured. An error: every provider failed.
    pub(crate) fn generate(
        &self,
        system: String,
        user: String,
        cacheable: bool,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<Option<Generated>> {
        let chain = self.chain()?;
        if chain.is_empty() {
            return Ok(None);
        }
        let l = &self.config.llm;
        let req = Request { max_tokens: l.max_tokens, temperature: l.temperature, ..Request::new(system, user) };
        let names: Vec<String> = chain.stats().iter().map(|s| format!("{}/{}", s.name, s.model)).collect();
        let key = cacheable.then(|| {
            let mut h = blake3::Hasher::new();
            h.update(serde_json::to_string(&(&names, &req)).expect("serialisable").as_bytes());
            h.finalize().to_hex().to_string()
        });
        if let Some(k) = &key {
            if let Some((provider, text)) = self.store.cache_get(k, self.now())? {
                sink(StreamEvent::Token(&text));
                return Ok(Some(Generated {
                    text,
                    provider: format!("{provider} (cached)"),
                    model: String::new(),
                    input_tokens: 0,
                    output_tokens: 0,
                    attempts: Vec::new(),
                }));
            }
        }
        let g = self
            .runtime()
            .block_on(chain.generate(&req, &mut |e| match e {
                Event::Token(t) => sink(StreamEvent::Token(&t)),
                Event::Restart { .. } => sink(StreamEvent::Restart),
            }))
            .map_err(llm_err)?;
        if let Some(k) = &key {
            let until = self.now() + chrono::Duration::hours(l.cache_ttl_hours as i64);
            self.store.cache_put(k, &g.provider, &g.text, until)?;
        }
        Ok(Some(g))
    }

    /// Add a provider; its key (if any) goes to the OS keychain.
    pub fn provider_add(&self, p: &NewProvider) -> Result<ProviderInfo> {
        if !matches!(p.kind.as_str(), "openai" | "anthropic") {
            return Err(Error::InvalidInput(format!("provider kind {:?}: expected openai or anthropic", p.kind)));
        }
        if !(p.base_url.starts_with("http://") || p.base_url.starts_with("https://")) {
            return Err(Error::InvalidInput(format!("base URL {:?} must start with http:// or https://", p.base_url)));
        }
        let mut options = serde_json::to_value(p.prices).expect("serialisable");
        options["context_window"] = p.context_window.unwrap_or(default_window(&p.kind)).into();
        let saved = self.store.add_provider(&ProviderSettings {
            id: 0,
            name: p.name.clone(),
            kind: p.kind.clone(),
            base_url: p.base_url.clone(),
            model: p.model.clone(),
            priority: p.priority,
            enabled: true,
            options,
        })?;
        if let Some(k) = p.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            if let Err(e) = keys::set(&saved.name, k) {
                self.store.remove_provider(&saved.name)?;
                return Err(llm_err(e));
            }
        }
        self.provider_info(saved)
    }

    fn provider_info(&self, settings: ProviderSettings) -> Result<ProviderInfo> {
        let (_, key) = keys::get(&settings.name).map_err(llm_err)?;
        let stats = self.chain()?.stats().into_iter().find(|s| s.name == settings.name);
        Ok(ProviderInfo { key_variable: keys::env_var(&settings.name), settings, key, stats })
    }

    /// The providers in priority order, with where their keys come from.
    pub fn providers(&self) -> Result<Vec<ProviderInfo>> {
        self.store.list_providers()?.into_iter().map(|p| self.provider_info(p)).collect()
    }

    /// Move a provider in the fallback order (lower is tried first); the chain follows
    /// from the next call.
    pub fn provider_set_priority(&self, name: &str, priority: i64) -> Result<ProviderInfo> {
        let p = self.store.set_provider_priority(name, priority)?;
        self.provider_info(p)
    }

    /// Remove a provider and its key.
    pub fn provider_remove(&self, name: &str) -> Result<ProviderSettings> {
        let p = self.store.remove_provider(name)?;
        keys::delete(&p.name).map_err(llm_err)?;
        Ok(p)
    }

    /// A real round trip through one provider, with its latency.
    pub fn provider_test(&self, name: &str) -> Result<ProviderTest> {
        let p = build(&self.store.provider(name)?)?;
        let started = std::time::Instant::now();
        let r = self.runtime().block_on(Chain::test(p.as_ref()));
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(match r {
            Ok((_, reply)) => ProviderTest { name: name.into(), ok: true, latency_ms, reply, error: None },
            Err(e) => ProviderTest {
                name: name.into(),
                ok: false,
                latency_ms,
                reply: String::new(),
                error: Some(e.to_string()),
            },
        })
    }
}

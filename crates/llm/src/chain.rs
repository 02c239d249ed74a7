//! The providers in priority order, each behind its own circuit breaker, with retries
//! (exponential backoff with full jitter, `Retry-After` honoured), per-call and idle
//! timeouts, and metrics. A failure after tokens were streamed tells the caller to
//! start over (`Event::Restart`), so the fan gets one answer, never two halves.

use crate::breaker::{Admission, Breaker, BreakerState};
use crate::{Chunk, Error, Provider, Request, Result};
use futures::StreamExt;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Resilience settings (config section `[llm]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Resilience {
    /// A whole call, first byte to last token.
    pub timeout_ms: u64,
    /// Longest silence inside a stream.
    pub idle_timeout_ms: u64,
    pub max_retries: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// Failures in a row that open a provider's breaker…
    pub breaker_threshold: u32,
    /// …for this long, before one trial call.
    pub breaker_cooldown_ms: u64,
}

impl Default for Resilience {
    fn default() -> Self {
        Resilience {
            timeout_ms: 60_000,
            idle_timeout_ms: 15_000,
            max_retries: 2,
            base_delay_ms: 250,
            max_delay_ms: 8_000,
            breaker_threshold: 5,
            breaker_cooldown_ms: 30_000,
        }
    }
}

/// What the caller sees while a answer is generated.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Token(String),
    /// The tokens so far are void: a call failed mid-stream and the answer starts over.
    Restart {
        provider: String,
        reason: String,
    },
}

/// One call of a generation, for the record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Attempt {
    pub provider: String,
    /// None when it succeeded.
    pub error: Option<String>,
    pub ms: u64,
}

/// A finished answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Generated {
    pub text: String,
    pub provider: String,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub attempts: Vec<Attempt>,
}

/// Prices per million tokens, for the cost estimate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Prices {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

#[derive(Debug, Default)]
struct Stats {
    calls: u64,
    errors: u64,
    retries: u64,
    latencies_ms: Vec<f64>,
    tokens_in: u64,
    tokens_out: u64,
}

/// A provider's metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderStats {
    pub name: String,
    pub model: String,
    pub calls: u64,
    pub errors: u64,
    pub retries: u64,
    pub breaker: BreakerState,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub estimated_cost_usd: f64,
}

struct Slot {
    provider: Arc<dyn Provider>,
    breaker: Breaker,
    prices: Prices,
    stats: Mutex<Stats>,
}

/// Providers in priority order.
pub struct Chain {
    slots: Vec<Slot>,
    settings: Resilience,
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    Some(sorted[i.min(sorted.len() - 1)])
}

impl Chain {
    pub fn new(settings: Resilience) -> Chain {
        Chain { slots: Vec::new(), settings }
    }

    /// Add the next provider in priority order.
    pub fn push(&mut self, provider: Arc<dyn Provider>, prices: Prices) {
        let s = &self.settings;
        self.slots.push(Slot {
            provider,
            breaker: Breaker::new(s.breaker_threshold, Duration::from_millis(s.breaker_cooldown_ms)),
            prices,
            stats: Mutex::new(Stats::default()),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The smallest context window among the providers: a prompt that fits it fits
    /// whichever answers.
    pub fn context_window(&self) -> Option<u32> {
        self.slots.iter().map(|s| s.provider.capabilities().context_window).min()
    }

    pub fn stats(&self) -> Vec<ProviderStats> {
        self.slots
            .iter()
            .map(|s| {
                let st = s.stats.lock().unwrap_or_else(|p| p.into_inner());
                let mut l = st.latencies_ms.clone();
                l.sort_by(f64::total_cmp);
                ProviderStats {
                    name: s.provider.name().into(),
                    model: s.provider.model().into(),
                    calls: st.calls,
                    errors: st.errors,
                    retries: st.retries,
                    breaker: s.breaker.state(),
                    p50_ms: percentile(&l, 50.0),
                    p95_ms: percentile(&l, 95.0),
                    tokens_in: st.tokens_in,
                    tokens_out: st.tokens_out,
                    estimated_cost_usd: (st.tokens_in as f64 * s.prices.input_per_mtok
                        + st.tokens_out as f64 * s.prices.output_per_mtok)
                        / 1e6,
                }
            })
            .collect()
    }

    /// The wait before retry number `attempt` (0-based): the server's `Retry-After`
    /// if it sent one, else a random wait up to `base · 2^attempt` (full jitter), never
    /// more than `max_delay`.
    fn delay(&self, attempt: u32, e: &Error) -> Duration {
        let max = Duration::from_millis(self.settings.max_delay_ms);
        if let Some(d) = e.retry_after() {
            return d.min(max);
        }
        let cap = (self.settings.base_delay_ms.saturating_mul(1 << attempt.min(20))).min(self.settings.max_delay_ms);
        Duration::from_millis(rand::rng().random_range(0..=cap))
    }

    /// One call, streamed into `sink`.
    async fn call(
        &self,
        slot: &Slot,
        req: &Request,
        sink: &mut (dyn FnMut(Event) + Send),
        emitted: &mut bool,
    ) -> Result<(String, u64, u64)> {
        let name = slot.provider.name().to_string();
        let idle = Duration::from_millis(self.settings.idle_timeout_ms);
        let whole = async {
            let mut stream = slot.provider.generate(req).await?;
            let (mut text, mut tin, mut tout) = (String::new(), 0u64, 0u64);
            loop {
                match tokio::time::timeout(idle, stream.next()).await {
                    Err(_) => {
                        return Err(Error::Timeout { provider: name.clone(), detail: format!("silent for {idle:?}") })
                    }
                    Ok(None) => return Ok((text, tin, tout)),
                    Ok(Some(Err(e))) => return Err(e),
                    Ok(Some(Ok(Chunk::Text(t)))) => {
                        *emitted = true;
                        text.push_str(&t);
                        sink(Event::Token(t));
                    }
                    Ok(Some(Ok(Chunk::Usage { input, output }))) => {
                        tin = tin.max(input);
                        tout = tout.max(output);
                    }
                }
            }
        };
        match tokio::time::timeout(Duration::from_millis(self.settings.timeout_ms), whole).await {
            Ok(r) => r,
            Err(_) => {
                Err(Error::Timeout { provider: name, detail: format!("no answer in {} ms", self.settings.timeout_ms) })
            }
        }
    }

    /// Generate an answer: providers in order, retries within each, breakers skipping
    /// providers that keep failing.
    pub async fn generate(&self, req: &Request, sink: &mut (dyn FnMut(Event) + Send)) -> Result<Generated> {
        if self.slots.is_empty() {
            return Err(Error::NoProvider);
        }
        let mut attempts = Vec::new();
        let mut failures = Vec::new();
        for slot in &self.slots {
            let name = slot.provider.name().to_string();
            for attempt in 0..=self.settings.max_retries {
                if let Admission::Refused { remaining } = slot.breaker.admit() {
                    let e = Error::CircuitOpen { provider: name.clone(), remaining_ms: remaining.as_millis() as u64 };
                    failures.push(e.to_string());
                    break;
                }
                let started = Instant::now();
                let mut emitted = false;
                let r = self.call(slot, req, sink, &mut emitted).await;
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                let e = match r {
                    Ok((text, tin, tout)) => {
                        slot.breaker.success();
                        {
                            let mut st = slot.stats.lock().unwrap_or_else(|p| p.into_inner());
                            st.calls += 1;
                            st.latencies_ms.push(ms);
                            st.tokens_in += tin;
                            st.tokens_out += tout;
                        }
                        attempts.push(Attempt { provider: name.clone(), error: None, ms: ms as u64 });
                        return Ok(Generated {
                            text,
                            provider: name,
                            model: slot.provider.model().into(),
                            input_tokens: tin,
                            output_tokens: tout,
                            attempts,
                        });
                    }
                    Err(e) => e,
                };
                slot.breaker.failure();
                tracing::warn!(provider = %name, attempt, "generation failed: {e}");
                attempts.push(Attempt { provider: name.clone(), error: Some(e.to_string()), ms: ms as u64 });
                if emitted {
                    sink(Event::Restart { provider: name.clone(), reason: e.to_string() });
                }
                let last = attempt == self.settings.max_retries;
                let too_long = e.retry_after().is_some_and(|d| d > Duration::from_millis(self.settings.max_delay_ms));
                let give_up = !e.retryable() || last || too_long || slot.breaker.state() != BreakerState::Closed;
                {
                    let mut st = slot.stats.lock().unwrap_or_else(|p| p.into_inner());
                    st.calls += 1;
                    st.errors += 1;
                    st.retries += u64::from(!give_up);
                }
                if give_up {
                    failures.push(e.to_string());
                    break;
                }
                tokio::time::sleep(self.delay(attempt, &e)).await;
            }
        }
        Err(Error::AllFailed(failures))
    }

    /// A real round trip through one provider, outside the chain's accounting.
    pub async fn test(provider: &dyn Provider) -> Result<(Duration, String)> {
        let started = Instant::now();
        provider.available().await?;
        let req = Request { max_tokens: 16, ..Request::new("Answer in one word.", "Say hello.") };
        let mut s = provider.generate(&req).await?;
        let mut text = String::new();
        while let Some(c) = s.next().await {
            if let Chunk::Text(t) = c? {
                text.push_str(&t);
            }
        }
        Ok((started.elapsed(), text))
    }
}

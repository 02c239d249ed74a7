//! What every handler shares: the use cases, the limits, who waits for news of a
//! conversation, and the counters `/metrics` shows.

use crate::limits::Limiter;
use fanline_core::Fanline;
use fanline_store::HubAccess;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;
use tokio::sync::broadcast;

/// The hub's shared state.
#[derive(Clone)]
pub struct Hub {
    pub app: Arc<Fanline>,
    pub limiter: Arc<Limiter>,
    /// Conversations with something new (written by this process): event streams wake.
    pub news: broadcast::Sender<i64>,
    pub started: Instant,
    pub counters: Arc<Counters>,
    /// Origins the widget may be served from, from every agent's site (refreshed).
    pub origins: Arc<RwLock<HashSet<String>>>,
}

/// Request counters for `/metrics`.
#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub rejected: AtomicU64,
    pub messages: AtomicU64,
    pub replays: AtomicU64,
    pub streams_open: AtomicU64,
    pub rate_limited: AtomicU64,
}

impl Counters {
    pub fn add(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

impl Hub {
    /// A hub over `app`.
    pub fn new(app: Arc<Fanline>) -> Hub {
        let hub = app.config().hub.clone();
        let (news, _) = broadcast::channel(1024);
        let state = Hub {
            limiter: Arc::new(Limiter::new(hub.per_ip_per_minute, hub.per_token_per_minute)),
            app,
            news,
            started: Instant::now(),
            counters: Arc::default(),
            origins: Arc::default(),
        };
        state.refresh_origins();
        state
    }

    /// Read the allowed origins again from every agent's site.
    pub fn refresh_origins(&self) {
        if let Ok(sites) = self.app.store().sites() {
            let all: HashSet<String> = sites.into_iter().flat_map(|s| s.origins).collect();
            *self.origins.write().unwrap_or_else(|p| p.into_inner()) = all;
        }
    }

    /// Tell event streams of this process that a conversation has news.
    pub fn notify(&self, conversation_id: i64) {
        let _ = self.news.send(conversation_id);
    }
}

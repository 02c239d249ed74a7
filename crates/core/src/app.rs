use crate::policy::PolicyCache;
use crate::{Config, Error, Result};
use fanline_embed::FastEmbedder;
use fanline_engine::ports::{Clock, Embedder, SystemClock};
use fanline_engine::ItemKey;
use fanline_index::{Changes, HybridIndex, IndexSource, OpenReport};
use fanline_store::Agents;
use fanline_store::{Agent, IndexChange, Store};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard};

/// An open Fanline data directory.
pub struct Fanline {
    pub(crate) config: Config,
    pub(crate) store: Arc<Store>,
    pub(crate) embedder: OnceLock<Arc<dyn Embedder>>,
    /// The stored vectors were checked to be the embedder's (see `models.rs`).
    model_checked: OnceLock<()>,
    pub(crate) index: RwLock<Option<HybridIndex>>,
    index_report: OnceLock<OpenReport>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policies: Mutex<PolicyCache>,
    pub(crate) runtime: OnceLock<tokio::runtime::Runtime>,
    /// The provider chain, with the settings it was built from.
    pub(crate) chain: Mutex<Option<(Vec<fanline_store::ProviderSettings>, Arc<fanline_llm::Chain>)>>,
    pub(crate) critic_metrics: Arc<Mutex<fanline_critics::Metrics>>,
    /// The generic off-topic set was checked (and stored if missing) in this process.
    pub(crate) off_topic_checked: OnceLock<()>,
    /// Fan messages this process is routing now (the hub: a retry of one is in flight).
    pub(crate) routing_now: Mutex<std::collections::HashSet<i64>>,
    /// When this instance opened: a message stored before it, still without a decision,
    /// is no longer being routed here.
    pub(crate) opened_at: std::time::Instant,
    /// Routing plans running now in this process (their steps run on threads of their
    /// own only while there are cores to spare).
    pub(crate) plans_running: std::sync::atomic::AtomicUsize,
}

/// What `init` did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InitReport {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The database file.
    pub database: PathBuf,
    /// The agent.
    pub agent: Agent,
    /// Whether the agent was created now.
    pub created: bool,
    /// The database's schema version.
    pub schema_version: u32,
}

/// An agent's name becomes a file name (its policy file): 1 to 64 letters, digits,
/// `-`, `_` or `.`, not starting with a dot.
pub fn check_agent_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "agent name {name:?}: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
        )))
    }
}

/// How replies name the creator: the name set at first run, else the agent's name,
/// unless it is the unnamed default.
pub(crate) fn creator_name(agent: &Agent) -> String {
    if !agent.display_name.trim().is_empty() {
        agent.display_name.trim().to_string()
    } else if agent.name == "default" {
        "the creator".to_string()
    } else {
        agent.name.clone()
    }
}

/// `n` if it is within 1..=`max`, else a clear error naming `what` (a count a user
/// typed must not become a 192 GB allocation or a date before year 0).
pub(crate) fn within(what: &str, n: usize, max: usize) -> Result<usize> {
    if n == 0 || n > max {
        return Err(Error::InvalidInput(format!("{what} must be between 1 and {max}; it was {n}")));
    }
    Ok(n)
}

/// The most results a search returns.
pub const MAX_RESULTS: usize = 1_000;
/// The longest period metrics cover, in days (ten years).
pub const MAX_METRICS_DAYS: u32 = 3_660;

/// The store seen as the source the index is rebuilt from.
struct StoreSource<'a>(&'a Store);

impl IndexSource for StoreSource<'_> {
    fn generation(&self) -> std::result::Result<u64, String> {
        self.0.index_generation().map_err(|e| e.to_string())
    }
    fn count(&self) -> std::result::Result<u64, String> {
        self.0.indexed_count().map_err(|e| e.to_string())
    }
    fn for_each(&self, f: &mut dyn FnMut(ItemKey, &str, Vec<f32>)) -> std::result::Result<(), String> {
        self.0.for_each_indexed(|k, t, v| f(k, t, v)).map(|_| ()).map_err(|e| e.to_string())
    }
    fn changes_since(&self, generation: u64) -> std::result::Result<Option<Changes>, String> {
        let delta = self.0.index_changes_since(generation).map_err(|e| e.to_string())?;
        Ok(delta.map(|d| Changes { removed: d.removed, added: d.added, generation: d.generation }))
    }
    fn forget_before(&self, generation: u64) -> std::result::Result<(), String> {
        self.0.forget_index_log_before(generation).map_err(|e| e.to_string())
    }
}

impl Drop for Fanline {
    fn drop(&mut self) {
        // A runtime may not be dropped where blocking is not allowed (the hub drops its
        // Fanline on an async thread): let its threads end in the background.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Fanline {
    /// Open the data directory of `config` (creating it), with the embedder loaded from
    /// the configured model files when first needed.
    pub fn open(config: Config) -> Result<Fanline> {
        Self::open_with(config, None)
    }

    /// Open with a given embedder instead of the configured model.
    pub fn open_with(config: Config, embedder: Option<Arc<dyn Embedder>>) -> Result<Fanline> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir).map_err(|e| Error::Io {
            path: config.data_dir.clone(),
            detail: format!("cannot create the data directory: {e}"),
        })?;
        let store = Arc::new(Store::open_with_readers(config.database_path(), config.store.readers)?);
        store.set_synchronous_full(config.store.sync_every_commit)?;
        store.set_group_commit(
            config.store.group_commit,
            std::time::Duration::from_micros(config.store.group_commit_us),
        );
        let cell = OnceLock::new();
        if let Some(e) = embedder {
            let _ = cell.set(e);
        }
        Ok(Fanline {
            config,
            store,
            embedder: cell,
            model_checked: OnceLock::new(),
            index: RwLock::new(None),
            index_report: OnceLock::new(),
            clock: Arc::new(SystemClock),
            policies: Mutex::new(PolicyCache::default()),
            runtime: OnceLock::new(),
            chain: Mutex::new(None),
            critic_metrics: Arc::default(),
            off_topic_checked: OnceLock::new(),
            routing_now: Mutex::default(),
            plans_running: Default::default(),
            opened_at: std::time::Instant::now(),
        })
    }

    /// Use another clock (tests route at chosen instants: midnight, a DST change).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        let c = clock.clone();
        self.store.set_wall_clock(Arc::new(move || c.now().timestamp_millis().max(0) as u64));
        self.clock = clock;
        self
    }

    /// The time now, by this instance's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The configuration this instance runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Run `f` while no one in this process changes the search index (a backup
    /// copies its files). A read lock: searches go on, only catching up waits; and
    /// `f` must not search (a second read behind a waiting writer would deadlock).
    pub(crate) fn with_index_still<T>(&self, f: impl FnOnce() -> T) -> T {
        let _still = self.index.read().unwrap_or_else(|p| p.into_inner());
        f()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Create the data directory, the database and an agent (`default` unless named).
    /// Safe to run again: an existing agent is kept.
    pub fn init(&self, agent: Option<&str>) -> Result<InitReport> {
        let name = agent.unwrap_or(&self.config.agent);
        check_agent_name(name)?;
        let (agent, created) = match self.store.agent_by_name(name)? {
            Some(a) => (a, false),
            None => (self.store.create_agent(name)?, true),
        };
        Ok(InitReport {
            data_dir: self.config.data_dir.clone(),
            database: self.config.database_path(),
            agent,
            created,
            schema_version: self.store.schema_version()?,
        })
    }

    /// The name an agent's replies give the creator.
    pub fn agent_display_name(&self, agent_id: i64) -> Result<String> {
        Ok(creator_name(&self.store.agent_by_id(agent_id)?))
    }

    /// The named agent, or the configured default.
    pub fn agent(&self, name: Option<&str>) -> Result<Agent> {
        let name = name.unwrap_or(&self.config.agent);
        check_agent_name(name)?;
        self.store.agent_by_name(name)?.ok_or_else(|| Error::NoAgent { name: name.to_string() })
    }

    /// The embedder, loaded on first use; the stored vectors must be its (checked once).
    pub fn embedder(&self) -> Result<&Arc<dyn Embedder>> {
        let e = match self.embedder.get() {
            Some(e) => e,
            None => {
                let loaded = self.load_embedder()?;
                crate::models::check_model(&self.store, loaded.as_ref())?;
                let _ = self.model_checked.set(());
                let _ = self.embedder.set(loaded);
                self.embedder.get().expect("set above")
            }
        };
        if self.model_checked.get().is_none() {
            crate::models::check_model(&self.store, e.as_ref())?;
            let _ = self.model_checked.set(());
        }
        Ok(e)
    }

    /// The configured embedder, loaded (without the check of the stored vectors).
    pub(crate) fn load_embedder(&self) -> Result<Arc<dyn Embedder>> {
        let loaded: Arc<dyn Embedder> = match self.config.embedder.kind {
            crate::config::EmbedderKind::Model => {
                let e = &self.config.embedder;
                match e.batch_max {
                    0 | 1 => Arc::new(FastEmbedder::load(&self.config.embedder_config())?),
                    max => {
                        let (n, one) = self.config.embedder_workers();
                        let models = (0..n)
                            .map(|_| Ok(Arc::new(FastEmbedder::load(&one)?) as Arc<dyn Embedder>))
                            .collect::<Result<Vec<_>>>()?;
                        Arc::new(fanline_embed::Batching::new(
                            models,
                            max,
                            std::time::Duration::from_micros(e.batch_window_us),
                        ))
                    }
                }
            }
            #[cfg(feature = "test-embedder")]
            crate::config::EmbedderKind::Hashing => {
                Arc::new(fanline_embed::HashingEmbedder::new(self.config.embedder.dim))
            }
            #[cfg(not(feature = "test-embedder"))]
            crate::config::EmbedderKind::Hashing => {
                return Err(Error::Config(
                    "embedder.kind = \"hashing\" needs a build with the test-embedder feature".into(),
                ))
            }
        };
        if loaded.dim() != self.config.embedder.dim {
            return Err(Error::Config(format!(
                "the model gives {}-dimensional vectors but embedder.dim is {}",
                loaded.dim(),
                self.config.embedder.dim
            )));
        }
        Ok(loaded)
    }

    pub(crate) fn open_index(&self, rebuild: bool) -> Result<HybridIndex> {
        let (dir, dim, source) = (self.config.index_dir(), self.config.embedder.dim, StoreSource(&self.store));
        let (mut idx, report) =
            if rebuild { HybridIndex::rebuild(&dir, dim, &source)? } else { HybridIndex::open(&dir, dim, &source)? };
        if report.rebuilt_text.is_some() || report.rebuilt_vectors.is_some() {
            tracing::info!(?report, "rebuilt the search index from the database");
        }
        idx.set_strategy(self.config.search.strategy);
        idx.set_fusion(self.config.fusion());
        idx.set_answer_options(self.config.routing.model);
        let _ = self.index_report.set(report);
        Ok(idx)
    }

    /// Bring the index up to the store (opening it first): another process (the
    /// desktop app, the CLI, the hub) may have changed indexed content. `force`: also
    /// try the full-text index's writer even if another process held it a moment ago.
    fn sync(&self, slot: &mut Option<HybridIndex>, force: bool) -> Result<()> {
        match slot.as_mut() {
            Some(idx) => Ok(idx.sync(&StoreSource(&self.store), force)?),
            None => {
                *slot = Some(self.open_index(false)?);
                Ok(())
            }
        }
    }

    /// The search index for reading, in step with the store.
    pub(crate) fn index(&self) -> Result<RwLockReadGuard<'_, Option<HybridIndex>>> {
        {
            let r = self.index.read().unwrap_or_else(|p| p.into_inner());
            if let Some(idx) = r.as_ref() {
                if idx.settled(self.store.index_generation()?) {
                    return Ok(r);
                }
            }
        }
        self.sync(&mut self.index.write().unwrap_or_else(|p| p.into_inner()), false)?;
        Ok(self.index.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Run `f` on the search index, opened and in step with the store.
    pub(crate) fn with_index<T>(&self, f: impl FnOnce(&HybridIndex) -> Result<T>) -> Result<T> {
        let guard = self.index()?;
        match guard.as_ref() {
            Some(idx) => f(idx),
            None => Err(Error::Config("the search index is not open".into())),
        }
    }

    /// What opening the index had to rebuild (None if it was not opened yet).
    pub fn index_report(&self) -> Option<&OpenReport> {
        self.index_report.get()
    }

    /// Make sure the index is open and in step with the database; returns how many
    /// items it holds.
    pub fn open_search_index(&self) -> Result<usize> {
        Ok(self.index()?.as_ref().map(|i| i.len()).unwrap_or(0))
    }

    /// Change indexed content: `write` changes the store (which logs what changed), and
    /// the index follows under its write lock, so no search in this process sees one
    /// without the other. `bulk`: only the vectors follow at once; the full-text index
    /// catches up at the next [`flush`](Self::flush) or when it is next searched, so an
    /// import does not commit it once per document. If the index cannot follow, the
    /// change is still saved, and the index catches up when next used.
    pub(crate) fn write_indexed<T>(
        &self,
        bulk: bool,
        write: impl FnOnce(&Store) -> fanline_store::Result<(T, IndexChange)>,
    ) -> Result<T> {
        let mut slot = self.index.write().unwrap_or_else(|p| p.into_inner());
        let (out, _) = write(&self.store)?;
        let followed = match slot.as_mut() {
            Some(idx) if bulk => idx.sync_vectors_only(&StoreSource(&self.store)),
            Some(idx) => idx.sync(&StoreSource(&self.store), true),
            None => Ok(()),
        };
        if let Err(e) = followed {
            tracing::warn!("the search index could not follow a change ({e}); it catches up when next used");
        }
        Ok(out)
    }

    /// Run `f`, whose use cases would each write the vector cache, and write it once
    /// at the end (a sync applying hundreds of changes).
    pub(crate) fn flushing_once<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let outer = FLUSH_DEFERRED.with(|d| d.replace(true));
        let out = f();
        FLUSH_DEFERRED.with(|d| d.set(outer));
        if !outer {
            self.flush()?;
        }
        out
    }

    /// Bring the full-text index up to the store and write the vector cache now (also
    /// done when the value is dropped).
    pub fn flush(&self) -> Result<()> {
        if FLUSH_DEFERRED.with(|d| d.get()) {
            return Ok(());
        }
        let mut slot = self.index.write().unwrap_or_else(|p| p.into_inner());
        if let Some(idx) = slot.as_mut() {
            idx.sync(&StoreSource(&self.store), true)?;
            idx.save()?;
        }
        Ok(())
    }
}

thread_local! {
    /// Set while `flushing_once` runs: the use cases inside leave the cache to it.
    static FLUSH_DEFERRED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

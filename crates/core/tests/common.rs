//! Shared by the integration tests: one real embedder per test binary, temp data dirs.
#![allow(dead_code)]

use fanline_core::{Config, Fanline};
use fanline_engine::ports::Embedder;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub fn embedder() -> Arc<dyn Embedder> {
    static E: OnceLock<Arc<dyn Embedder>> = OnceLock::new();
    E.get_or_init(|| {
        let cfg = Config::default().embedder_config();
        Arc::new(fanline_embed::FastEmbedder::load(&cfg).expect("the model is installed: run scripts/fetch-model.sh"))
    })
    .clone()
}

pub fn config(dir: &Path) -> Config {
    Config { data_dir: dir.to_path_buf(), ..Default::default() }
}

pub fn open(dir: &Path) -> Fanline {
    open_cfg(config(dir))
}

pub fn open_cfg(c: Config) -> Fanline {
    let app = Fanline::open_with(c, Some(embedder())).unwrap();
    app.init(None).unwrap();
    app
}

pub fn kb(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/creator-kb").join(sub)
}

//! Tests with the real model and runtime (installed by scripts/fetch-model.sh).
//! The paths come from FANLINE_MODEL_DIR / FANLINE_ORT_LIBRARY, or the default assets folder.

use fanline_embed::{EmbedderConfig, Error, FastEmbedder};
use fanline_engine::ports::Embedder;
use fanline_engine::vector::{cosine, dot};
use std::path::PathBuf;
use std::sync::OnceLock;

fn assets() -> PathBuf {
    std::env::var_os("FANLINE_ASSETS_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let base = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".local/share"));
        base.join("fanline/assets")
    })
}

fn config() -> EmbedderConfig {
    let a = assets();
    EmbedderConfig {
        model_dir: std::env::var_os("FANLINE_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or(a.join("models/all-minilm-l6-v2")),
        ort_library: std::env::var_os("FANLINE_ORT_LIBRARY")
            .map(PathBuf::from)
            .unwrap_or(a.join("onnxruntime/libonnxruntime.so.1.31.1")),
        max_length: 256,
        cache_capacity: 1000,
        threads: None,
        spinning: false,
    }
}

fn embedder() -> &'static FastEmbedder {
    static E: OnceLock<FastEmbedder> = OnceLock::new();
    E.get_or_init(|| FastEmbedder::load(&config()).expect("the model is installed: run scripts/fetch-model.sh"))
}

fn sim(a: &str, b: &str) -> f32 {
    let v = embedder().embed(&[a, b]).unwrap();
    dot(&v[0], &v[1])
}

#[test]
fn reference_similarities_match_sentence_transformers() {
    // fp32 reference values published for all-MiniLM-L6-v2; the int8 model is within 0.0045.
    let cases = [
        ("The weather is lovely today.", "It's so sunny outside!", 0.6660),
        ("The weather is lovely today.", "He drove to the stadium.", 0.1046),
        ("It's so sunny outside!", "He drove to the stadium.", 0.1411),
        ("How do I reset my password?", "I forgot my password, how can I change it?", 0.894),
    ];
    for (a, b, want) in cases {
        let got = sim(a, b);
        assert!((got - want).abs() <= 0.005, "{a:?} / {b:?}: {got} vs {want}");
    }
}

#[test]
fn vectors_are_384_dimensional_and_unit_length() {
    let e = embedder();
    assert_eq!(e.dim(), 384);
    let v = e.embed_one("Hello there").unwrap();
    assert_eq!(v.len(), 384);
    assert!((dot(&v, &v) - 1.0).abs() < 1e-4);
}

#[test]
fn cache_returns_the_same_vectors_in_order_with_duplicates() {
    let e = embedder();
    let texts = ["alpha beta", "gamma delta", "alpha beta", "epsilon"];
    let first = e.embed(&texts).unwrap();
    assert_eq!(first.len(), 4);
    assert_eq!(first[0], first[2]);
    assert!(cosine(&first[0], &first[1]) < 0.99);
    let again = e.embed(&texts).unwrap();
    assert_eq!(first, again);
    let fresh = e.embed_uncached(&["gamma delta"]).unwrap();
    assert!(cosine(&fresh[0], &first[1]) > 0.9999);
}

#[test]
fn missing_files_name_the_file_and_the_setup_command() {
    let mut c = config();
    c.model_dir = PathBuf::from("/nonexistent/model");
    let err = FastEmbedder::load(&c).err().expect("must fail");
    let msg = err.to_string();
    assert!(matches!(err, Error::MissingModelFile { .. }));
    assert!(msg.contains("/nonexistent/model/model.onnx") && msg.contains("scripts/fetch-model.sh"), "{msg}");

    let mut c = config();
    c.ort_library = PathBuf::from("/nonexistent/libonnxruntime.so");
    let msg = FastEmbedder::load(&c).err().expect("must fail").to_string();
    assert!(msg.contains("/nonexistent/libonnxruntime.so") && msg.contains("FANLINE_ORT_LIBRARY"), "{msg}");
}

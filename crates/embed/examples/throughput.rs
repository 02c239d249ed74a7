//! How to spend 2 cores on embedding: one session with 2 intra-op threads, or two
//! single-threaded sessions on different batches? And how does chunk length change it?
//! `cargo run --release -p fanline-embed --example throughput [CHARS]`
use fanline_embed::{EmbedderConfig, FastEmbedder};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let assets = std::env::var_os("FANLINE_ASSETS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".local/share/fanline/assets"));
    let cfg = |threads| EmbedderConfig {
        model_dir: assets.join("models/all-minilm-l6-v2"),
        ort_library: assets.join("onnxruntime/libonnxruntime.so.1.31.1"),
        max_length: 256,
        cache_capacity: 16,
        threads,
        spinning: std::env::var("SPINNING").is_ok_and(|v| v == "1"),
    };
    let para = "My morning routine depends on a fixed daily time. Most people skip this step. \
        The editing workflow works best with a two-pass edit. Try it for two weeks. Camera settings \
        rely on natural window light. It saves me about an hour. The weekly newsletter needs a template.";
    let len: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let long = para.repeat(4);
    let texts: Vec<String> = (0..384).map(|i| format!("Section {i}. {}", &long[..len])).collect();
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    for (name, threads, sessions) in [
        ("1 session x 2 threads", Some(2), 1),
        ("1 session x 1 thread", Some(1), 1),
        ("2 sessions x 1 thread", Some(1), 2),
    ] {
        let es: Vec<FastEmbedder> = (0..sessions).map(|_| FastEmbedder::load(&cfg(threads)).unwrap()).collect();
        let t = Instant::now();
        std::thread::scope(|s| {
            for (i, e) in es.iter().enumerate() {
                let part: Vec<&str> =
                    refs.iter().enumerate().filter(|(j, _)| (j / 32) % sessions == i).map(|(_, t)| *t).collect();
                s.spawn(move || {
                    for b in part.chunks(32) {
                        e.embed_uncached(b).unwrap();
                    }
                });
            }
        });
        println!("{name}: {:.0} chunks/s", texts.len() as f64 / t.elapsed().as_secs_f64());
    }
}

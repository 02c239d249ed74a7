//! Several `fanline` processes on one data directory at once, as the desktop app, the
//! CLI and the hub run: readers never fail because another process writes.

mod common;
use common::{fanline, json, kb, stand_in_thresholds};
use std::path::Path;
use std::process::Stdio;

/// A folder of `n` generated notes, big enough that importing it takes a while.
fn corpus(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let topics = ["microphones", "cameras", "lighting", "editing", "tripods", "scripts", "thumbnails", "audio"];
    for i in 0..n {
        let mut s = format!("# Notes {i}\n\n");
        for (j, t) in topics.iter().enumerate() {
            s += &format!(
                "## {t} {j}\n\nOn day {i} I tried new {t}: the {t} setup number {j} works for small rooms, \
                 long takes and quick edits. Readers asked about {t} {i} times.\n\n"
            );
        }
        std::fs::write(dir.join(format!("note-{i:04}.md")), s).unwrap();
    }
}

#[test]
fn routes_and_searches_succeed_while_another_process_imports() {
    let d = tempfile::tempdir().unwrap();
    stand_in_thresholds(d.path());
    json(d.path(), &["init"]);
    json(d.path(), &["import", kb("public").to_str().unwrap()]);
    json(d.path(), &["fan", "add", "maya", "--tier", "free"]);
    let big = d.path().join("big");
    corpus(&big, 400);

    let import = std::process::Command::new(assert_cmd::cargo::cargo_bin("fanline"))
        .args(["--data-dir", d.path().to_str().unwrap(), "import", big.to_str().unwrap(), "--json"])
        .env("FANLINE_CONFIG", d.path().join(common::CONFIG))
        .env("FANLINE_EMBEDDER__KIND", "hashing")
        .env("FANLINE_ROUTING__OFF_TOPIC_SIMILARITY", "0")
        .env("FANLINE_ROUTING__OFF_TOPIC_MARGIN", "10")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Two loops of readers while it runs: routes (each stores a message and its
    // decision) and searches.
    let during = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for reader in 0..2 {
            let (during, done, data) = (&during, &done, d.path());
            s.spawn(move || {
                let mut i = 0;
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    let out = if reader == 0 {
                        fanline(data).args(["route", "--fan", "maya", "What microphone do you use?", "--json"]).output()
                    } else {
                        fanline(data).args(["search", "microphones for small rooms", "-n", "3", "--json"]).output()
                    }
                    .unwrap();
                    assert!(
                        out.status.success(),
                        "reader {reader}, run {i}: {}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                    during.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    i += 1;
                }
            });
        }
        let out = import.wait_with_output().unwrap();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(s["imported"], 400);
    });
    let during = during.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!("{during} reads ran during the import");
    assert!(during >= 2, "the readers ran while the import did");

    // Every stored message has its decision, and the imported notes are searchable by
    // both halves of the index.
    let doctor = json(d.path(), &["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
    let hits = json(d.path(), &["search", "thumbnails 399", "-n", "5"]);
    assert!(hits.as_array().unwrap().iter().any(|h| h["source_path"].as_str().unwrap().ends_with("note-0399.md")));
    assert!(hits[0]["text_rank"].is_number(), "{}", hits[0]);
    let messages = json(d.path(), &["decisions", "list", "-n", "1000"]);
    let routes = messages.as_array().unwrap().len();
    assert!(routes >= 1, "{messages}");
}

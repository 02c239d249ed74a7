//! What the CLI's test binaries share: the binary on a data directory, its JSON.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn kb(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/creator-kb").join(sub)
}

/// The config file of a test's data directory.
pub const CONFIG: &str = "test-config.toml";

/// `fanline` on a data directory, with the stand-in embedder (no model needed) and the
/// directory's own config file (created empty if the test wrote none).
pub fn fanline(data: &Path) -> Command {
    let config = data.join(CONFIG);
    if !config.exists() {
        std::fs::create_dir_all(data).unwrap();
        std::fs::write(&config, "").unwrap();
    }
    let mut c = Command::cargo_bin("fanline").unwrap();
    c.arg("--data-dir")
        .arg(data)
        .env("FANLINE_CONFIG", config)
        .env("FANLINE_EMBEDDER__KIND", "hashing")
        // Its similarities are shared words, not topics: nothing is off-topic here.
        .env("FANLINE_ROUTING__OFF_TOPIC_SIMILARITY", "0")
        .env("FANLINE_ROUTING__OFF_TOPIC_MARGIN", "10")
        .env_remove("FANLINE_DATA_DIR");
    c
}

pub fn json(data: &Path, args: &[&str]) -> Value {
    let out = fanline(data).args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

pub fn json_err(data: &Path, args: &[&str]) -> Value {
    let out = fanline(data).args(args).arg("--json").output().unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["error"].clone()
}

/// A config file for `dir` with the routing thresholds at the stand-in embedder's scale
/// (its similarities run lower than the model's): these tests are about the commands.
pub fn stand_in_thresholds(dir: &Path) {
    std::fs::write(dir.join(CONFIG), "[routing]\nnovelty_threshold = 0.95\nsupport_similarity = 0.15\n").unwrap();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `fanline serve` on `data` at `port`, once it answers `/healthz`.
pub fn start(data: &Path, port: u16) -> std::process::Child {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("fanline"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("FANLINE_CONFIG", data.join(CONFIG))
        .env("FANLINE_EMBEDDER__KIND", "hashing")
        .env("FANLINE_ROUTING__OFF_TOPIC_SIMILARITY", "0")
        .env("FANLINE_ROUTING__OFF_TOPIC_MARGIN", "10")
        .env("FANLINE_HUB__PER_IP_PER_MINUTE", "1000000")
        .env("FANLINE_HUB__PER_TOKEN_PER_MINUTE", "1000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client.get(format!("http://127.0.0.1:{port}/healthz")).send().is_ok_and(|r| r.status().is_success()) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the hub did not start");
}

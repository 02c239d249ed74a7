//! A data directory on a read-only file system: every command says so, and `doctor`
//! reports it instead of failing.

mod common;
use common::{fanline, json};

#[test]
fn a_read_only_data_directory_is_named_as_such_and_doctor_reports_it() {
    let d = tempfile::tempdir().unwrap();
    json(d.path(), &["init"]);
    json(d.path(), &["fan", "add", "maya", "--tier", "free"]);
    // A read-only bind mount of the directory, in a private mount namespace.
    let probe = std::process::Command::new("unshare").args(["-m", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: no mount namespaces here (unshare -m), so no read-only mount to test on");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("fanline");
    let dir = d.path().display().to_string();
    let run = |args: &str| {
        let script = format!(
            "mount --bind {dir} {dir} && mount -o remount,bind,ro {dir} && {} --data-dir {dir} {args}",
            bin.display()
        );
        std::process::Command::new("unshare")
            .args(["-m", "sh", "-c", &script])
            .env("FANLINE_CONFIG", d.path().join(common::CONFIG))
            .env("FANLINE_EMBEDDER__KIND", "hashing")
            .env("FANLINE_ROUTING__OFF_TOPIC_SIMILARITY", "0")
            .env("FANLINE_ROUTING__OFF_TOPIC_MARGIN", "10")
            .output()
            .unwrap()
    };
    let out = run("route --fan maya 'What microphone do you use?' --json");
    assert!(!out.status.success());
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["error"]["code"], "database_read_only", "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("read-only"), "{e}");

    let out = run("doctor --json");
    assert!(!out.status.success(), "a failed check exits 1");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["ok"], false);
    let check = |name: &str| r["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap().clone();
    assert_eq!(check("data_dir")["ok"], false, "{r}");
    assert!(check("database")["detail"].as_str().unwrap().contains("read-only"), "{r}");
    // Nothing changed underneath.
    drop(fanline(d.path()));
    assert!(json(d.path(), &["decisions", "list"]).as_array().unwrap().is_empty());
}

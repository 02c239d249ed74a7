//! The sync commands against a `fanline serve` hub: pair with its code, sync, status,
//! verify, conflicts, as a creator types them (with --json).

mod common;

use common::{fanline, free_port, json, start};

#[test]
fn pair_sync_status_verify_and_conflicts_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (hub_dir, dev) = (tmp.path().join("hub"), tmp.path().join("laptop"));
    fanline(&hub_dir).args(["init"]).assert().success();
    json(&hub_dir, &["canonical", "add", "--question", "Do you have a literary agent?", "--answer", "Yes, Clara."]);
    let port = free_port();
    let mut hub = start(&hub_dir, port);
    let url = format!("http://127.0.0.1:{port}");
    fanline(&dev).args(["init"]).assert().success();

    let s = json(&dev, &["sync", "status"]);
    assert!(s["hub"].is_null(), "{s}");
    let err = common::json_err(&dev, &["sync"]);
    assert_eq!(err["code"], "invalid_input", "{err}");
    let code = json(&hub_dir, &["hub", "pair"])["code"].as_str().unwrap().to_string();
    let s = json(&dev, &["hub", "pair", &url, &code, "--name", "cli laptop"]);
    assert_eq!((s["hub"].as_str(), s["device"].as_str()), (Some(url.as_str()), Some("cli laptop")), "{s}");
    // The code was used: a second pairing with it is refused.
    let err = common::json_err(&tmp.path().join("other"), &["hub", "pair", &url, &code]);
    assert_eq!(err["code"], "unauthorized", "{err}");

    let r = json(&dev, &["sync"]);
    assert!(r["pulled"].as_u64().unwrap() >= 1, "{r}");
    let list = json(&dev, &["canonical", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let v = json(&dev, &["sync", "verify"]);
    assert_eq!(v["equal"], true, "{v}");
    assert_eq!(json(&dev, &["sync", "conflicts"]), serde_json::json!([]));
    let s = json(&dev, &["sync", "status"]);
    assert_eq!((s["pending"].as_u64(), s["open_conflicts"].as_u64()), (Some(0), Some(0)), "{s}");

    // A phrasing added offline waits, then goes (the ids agree: both started empty).
    let id = list[0]["id"].as_i64().unwrap().to_string();
    let _ = hub.kill();
    let _ = hub.wait();
    json(&dev, &["canonical", "add-variant", &id, "Who represents your books?"]);
    let err = common::json_err(&dev, &["sync"]);
    assert_eq!(err["code"], "hub_unreachable", "{err}");
    assert_eq!(json(&dev, &["sync", "status"])["pending"], 1);
    hub = start(&hub_dir, port);
    json(&dev, &["sync"]);
    assert_eq!(json(&dev, &["sync", "verify"])["equal"], true);
    let _ = hub.kill();
    let _ = hub.wait();
    let shown = json(&hub_dir, &["canonical", "show", &id]);
    assert!(shown.to_string().contains("Who represents your books?"), "{shown}");
}

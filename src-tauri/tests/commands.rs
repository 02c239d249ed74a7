//! The commands through tauri's mock runtime: the real IPC path, no display needed.

use fanline_core::{Config, Fanline};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;

fn invoke(webview: &tauri::WebviewWindow<tauri::test::MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // On Linux the IPC origin must be tauri://localhost or the call is refused as remote.
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

type MockApp = tauri::App<tauri::test::MockRuntime>;

/// The app on a fresh data directory with the sample public knowledge, and its window.
fn app_with_kb() -> (tempfile::TempDir, MockApp, tauri::WebviewWindow<tauri::test::MockRuntime>) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    // The commands' plumbing needs no model: the stand-in embedder.
    cfg.embedder.kind = fanline_core::config::EmbedderKind::Hashing;
    cfg.routing.off_topic_similarity = 0.0; // its similarities are shared words, not topics
    cfg.routing.off_topic_margin = 10.0;
    let fanline = Fanline::open(cfg).unwrap();
    fanline.init(None).unwrap();
    let kb = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/creator-kb/public");
    fanline.import(None, &[kb], fanline_engine::Layer::Public, &mut |_| {}).unwrap();
    let app = fanline_desktop::setup(mock_builder(), fanline).build(mock_context(noop_assets())).unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    (dir, app, webview)
}

#[test]
fn commands_call_the_library_and_errors_are_code_and_message() {
    let (_dir, _app, webview) = app_with_kb();

    let hits =
        invoke(&webview, "search", json!({ "query": "what does the workshop cost", "layer": "public", "limit": 2 }))
            .unwrap();
    assert!(hits[0]["heading"].as_str().unwrap().contains("workshop cost"), "{hits}");

    let docs = invoke(&webview, "documents", json!({})).unwrap();
    assert_eq!(docs.as_array().unwrap().len(), 5);

    let err = invoke(&webview, "search", json!({ "query": "   ", "layer": "public" })).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("empty"));

    let report = invoke(&webview, "doctor", json!({})).unwrap();
    assert_eq!(report["ok"], true, "{report}");
}

#[test]
fn the_queue_loop_through_the_commands() {
    let (_dir, _app, w) = app_with_kb();

    invoke(&w, "fan_add", json!({ "handle": "maya", "tier": "free", "layer": "public" })).unwrap();
    invoke(&w, "fan_add", json!({ "handle": "theo", "tier": "follower", "layer": "public" })).unwrap();
    // The simulator: a novel question escalates.
    let q = "Would you ever co-write a novel with one of your readers?";
    let d = invoke(&w, "simulate", json!({ "fan": "maya", "message": q })).unwrap();
    assert_eq!(d["path"], "D", "{d}");
    let id = d["escalation_id"].as_i64().unwrap();
    assert_eq!(invoke(&w, "accept", json!({ "id": id })).unwrap()["path"], "E");
    let queue = invoke(&w, "queue", json!({})).unwrap();
    assert_eq!(queue[0]["question"], q);
    let c = invoke(&w, "queue_answer", json!({ "id": id, "text": "No, I write alone.", "layer": "public" })).unwrap();
    assert_eq!(c["question_pattern"], q);
    // The same question again: served from the canonical answer, counted on the metrics screen.
    let again = invoke(&w, "simulate", json!({ "fan": "theo", "message": q.to_lowercase() })).unwrap();
    assert_eq!(again["path"], "C");
    let m = invoke(&w, "metrics", json!({ "days": 7 })).unwrap();
    assert_eq!(m["top_answers"][0]["times_reused"], 1);
    let log = invoke(&w, "decisions", json!({ "path": "C" })).unwrap();
    assert_eq!(log.as_array().unwrap().len(), 1);

    // Rules and the policy file, with errors that say where.
    let mut rules = invoke(&w, "rules", json!({})).unwrap();
    rules["max_escalations_per_day"] = json!(3);
    assert_eq!(invoke(&w, "set_rules", json!({ "rules": rules })).unwrap()["max_escalations_per_day"], 3);
    let err = invoke(&w, "policy_save", json!({ "text": "[tiers.paid]\nnovelty_threshold = 7\n" })).unwrap_err();
    assert_eq!(err["code"], "invalid_policy");
    assert!(err["message"].as_str().unwrap().contains("line 2, field `novelty_threshold`"), "{err}");
    invoke(&w, "policy_save", json!({ "text": "[tiers.paid]\nnovelty_threshold = 0.5\n" })).unwrap();
    assert!(invoke(&w, "policy_text", json!({})).unwrap().as_str().unwrap().contains("novelty_threshold = 0.5"));
    let one = invoke(&w, "decision", json!({ "id": log[0]["id"] })).unwrap();
    assert_eq!(one["path"], "C");
    let list = invoke(&w, "canonical_list", json!({})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let cid = list[0]["id"].as_i64().unwrap();
    let c = invoke(&w, "canonical_add_variant", json!({ "id": cid, "text": "Do you co-write with fans?" })).unwrap();
    assert_eq!(c["variants"].as_array().unwrap().len(), 2);
    assert_eq!(invoke(&w, "canonical_show", json!({ "id": cid })).unwrap()["times_reused"], 1);
    assert_eq!(invoke(&w, "providers", json!({})).unwrap().as_array().unwrap().len(), 0);
    let p = json!({ "provider": { "name": "local", "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                                  "priority": 0, "context_window": null, "key": null } });
    assert_eq!(invoke(&w, "provider_add", p).unwrap()["name"], "local");
    let t = invoke(&w, "provider_test", json!({ "name": "local" })).unwrap();
    assert_eq!(t["ok"], false, "nothing listens on port 9: {t}");
    assert_eq!(invoke(&w, "provider_remove", json!({ "name": "local" })).unwrap(), "local");
    let bad = json!({ "provider": { "name": "x", "kind": "gemini", "base_url": "http://h", "model": "m", "priority": 0,
                                    "context_window": null, "key": null } });
    assert_eq!(invoke(&w, "provider_add", bad).unwrap_err()["code"], "invalid_input");
    assert_eq!(invoke(&w, "accept", json!({ "id": 999 })).unwrap_err()["code"], "not_found");
}

#[test]
fn setup_library_editing_and_documents_through_the_commands() {
    let (_dir, _app, w) = app_with_kb();
    // The sample knowledge exists, so no first run; the profile still sets the name.
    let s = invoke(&w, "setup_status", json!({})).unwrap();
    assert_eq!((s["needs_setup"].as_bool(), s["documents"].as_u64()), (Some(false), Some(5)), "{s}");
    let s = invoke(&w, "setup_profile", json!({ "displayName": "Jules", "persona": "brief" })).unwrap();
    assert_eq!(s["creator"], "Jules");
    let err = invoke(&w, "setup_profile", json!({ "displayName": "", "persona": "" })).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(invoke(&w, "finish_setup", json!({})).unwrap()["agent"]["setup_done_at"].is_string());

    // Two answers to the same question: edit one, re-layer it, merge the other in.
    invoke(&w, "fan_add", json!({ "handle": "maya", "tier": "free", "layer": "public" })).unwrap();
    let mut ids = Vec::new();
    for q in ["Would you ever co-write a novel with one of your readers?", "Do you write books together with fans?"] {
        let d = invoke(&w, "simulate", json!({ "fan": "maya", "message": q })).unwrap();
        assert_eq!(d["path"], "D", "{d}");
        let id = d["escalation_id"].as_i64().unwrap();
        invoke(&w, "accept", json!({ "id": id })).unwrap();
        let c = invoke(&w, "queue_answer", json!({ "id": id, "text": "No, novels are solo work.", "layer": "public" }))
            .unwrap();
        ids.push(c["id"].as_i64().unwrap());
    }
    let c = invoke(
        &w,
        "canonical_update",
        json!({ "id": ids[0], "answer": "No: novels are solo work.", "layer": "friends" }),
    )
    .unwrap();
    assert_eq!((c["answer"].as_str(), c["layer"].as_str()), (Some("No: novels are solo work."), Some("friends")));
    let merged = invoke(&w, "canonical_merge", json!({ "into": ids[0], "from": ids[1] })).unwrap();
    assert_eq!(merged["variants"].as_array().unwrap().len(), 2, "{merged}");
    assert_eq!(invoke(&w, "canonical_show", json!({ "id": ids[1] })).unwrap_err()["code"], "not_found");

    // A document deleted is gone from the list.
    let docs = invoke(&w, "documents", json!({})).unwrap();
    let id = docs[0]["id"].as_i64().unwrap();
    invoke(&w, "document_delete", json!({ "id": id })).unwrap();
    assert_eq!(invoke(&w, "documents", json!({})).unwrap().as_array().unwrap().len(), 4);
}

#[test]
fn a_notification_names_one_new_question_or_counts_several() {
    use fanline_core::QueueItem;
    let item = |id: i64, fan: &str, q: &str| QueueItem {
        id,
        fan: fan.into(),
        tier: fanline_engine::Tier::Free,
        fan_layer: fanline_engine::Layer::Public,
        question: q.into(),
        context_summary: String::new(),
        reason: fanline_engine::EscalationReason::Novel,
        priority: 0,
        status: fanline_engine::EscalationStatus::Accepted,
        offered_at: chrono::Utc::now(),
        accepted_at: None,
        age_hours: 0.0,
        expires_at: None,
        deferred_until: None,
        expected_reply_after: None,
        due_at: None,
        overdue: false,
    };
    let (t, b) = fanline_desktop::notification_text(&[item(1, "maya", "Would you co-write a novel?")]);
    assert_eq!((t.as_str(), b.as_str()), ("New question from maya", "Would you co-write a novel?"));
    let long = "x".repeat(400);
    let (_, b) = fanline_desktop::notification_text(&[item(1, "maya", &long)]);
    assert!(b.chars().count() <= 141 && b.ends_with('…'));
    let (t, b) = fanline_desktop::notification_text(&[item(1, "maya", "a"), item(2, "theo", "b")]);
    assert_eq!((t.as_str(), b.as_str()), ("2 new questions in your queue", "maya, theo"));
}

#[test]
fn the_fallback_order_is_changed_in_place() {
    let (_dir, _app, w) = app_with_kb();
    for (name, priority) in [("local", 0), ("backup", 1)] {
        let provider = json!({ "name": name, "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                               "priority": priority, "context_window": null, "key": null,
                               "prices": { "input_per_mtok": 1.0, "output_per_mtok": 2.0 } });
        let args = json!({ "provider": provider });
        invoke(&w, "provider_add", args).unwrap();
    }
    let names = |w: &tauri::WebviewWindow<tauri::test::MockRuntime>| -> Vec<String> {
        let ps = invoke(w, "providers", json!({})).unwrap();
        ps.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&w), ["local", "backup"]);
    // The prices given travel with the provider (the cost estimate uses them).
    let ps = invoke(&w, "providers", json!({})).unwrap();
    assert_eq!(
        (ps[0]["options"]["input_per_mtok"].as_f64(), ps[0]["options"]["output_per_mtok"].as_f64()),
        (Some(1.0), Some(2.0))
    );
    let p = invoke(&w, "provider_set_priority", json!({ "name": "backup", "priority": -1 })).unwrap();
    assert_eq!(p["priority"], -1);
    assert_eq!(names(&w), ["backup", "local"]);
    let err = invoke(&w, "provider_set_priority", json!({ "name": "nope", "priority": 0 })).unwrap_err();
    assert_eq!(err["code"], "not_found");
}

/// The app on `dir` with the hub's address on a free port.
/// A fan of `site` asks `q` on the hub at `base`, is offered the creator (path D) and
/// accepts: the fan's session.
fn fan_escalates(http: &reqwest::blocking::Client, base: &str, site: &str, q: &str) -> Value {
    let session: Value =
        http.post(format!("{base}/v1/sessions")).json(&json!({ "site_key": site })).send().unwrap().json().unwrap();
    let token = session["fan_token"].as_str().unwrap();
    let posted: Value = http
        .post(format!("{base}/v1/conversations/{}/messages", session["conversation_id"]))
        .bearer_auth(token)
        .header("Idempotency-Key", "k1")
        .json(&json!({ "text": q }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(posted["decision"]["path"], "D", "{posted}");
    let offer = posted["decision"]["offer"]["escalation_id"].as_i64().unwrap();
    let accepted = http.post(format!("{base}/v1/escalations/{offer}/accept")).bearer_auth(token).send().unwrap();
    assert!(accepted.status().is_success());
    session
}

fn app_serving_on_port_0(dir: &std::path::Path) -> (MockApp, tauri::WebviewWindow<tauri::test::MockRuntime>) {
    let mut cfg = Config { data_dir: dir.to_path_buf(), ..Default::default() };
    cfg.embedder.kind = fanline_core::config::EmbedderKind::Hashing;
    cfg.routing.off_topic_similarity = 0.0;
    cfg.routing.off_topic_margin = 10.0;
    cfg.hub.listen = "127.0.0.1:0".into();
    let fanline = Fanline::open(cfg).unwrap();
    fanline.init(None).unwrap();
    let app = fanline_desktop::setup(mock_builder(), fanline).build(mock_context(noop_assets())).unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    (app, webview)
}

#[test]
fn the_web_switch_serves_fans_from_the_app_and_stays_as_the_creator_left_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, w) = app_serving_on_port_0(dir.path());

    // Off by default.
    let s = invoke(&w, "web_status", json!({})).unwrap();
    assert_eq!(s["setting"]["on"], false, "{s}");
    assert!(s["listening"].is_null(), "{s}");

    // On: the hub runs in the app's process; a fan's message over HTTP reaches the queue
    // the creator works in the app.
    let s = invoke(&w, "web_set", json!({ "on": true })).unwrap();
    let addr = s["listening"].as_str().unwrap_or_else(|| panic!("{s}")).to_string();
    assert!(!addr.ends_with(":0"), "the real port is shown: {s}");
    let site = s["setting"]["site_key"].as_str().unwrap().to_string();
    assert!(s["setting"]["chat_url"].as_str().unwrap().ends_with(&format!("/chat?site={site}")), "{s}");
    let http = reqwest::blocking::Client::new();
    let base = format!("http://{addr}");
    assert!(http.get(format!("{base}/healthz")).send().unwrap().status().is_success());
    let q = "Would you ever co-write a novel with one of your readers?";
    fan_escalates(&http, &base, &site, q);
    let queue = invoke(&w, "queue", json!({})).unwrap();
    assert_eq!(queue[0]["question"], q, "{queue}");

    // Off: the port is closed, and it stays off.
    let s = invoke(&w, "web_set", json!({ "on": false })).unwrap();
    assert!(s["listening"].is_null(), "{s}");
    assert!(http.get(format!("{base}/healthz")).send().is_err(), "nothing listens any more");

    // On again, and a new start of the app serves as the creator left it.
    invoke(&w, "web_set", json!({ "on": true })).unwrap();
    let again = tempfile::tempdir().unwrap();
    {
        let mut cfg = Config { data_dir: again.path().to_path_buf(), ..Default::default() };
        cfg.embedder.kind = fanline_core::config::EmbedderKind::Hashing;
        let f = Fanline::open(cfg).unwrap();
        f.init(None).unwrap();
        f.set_web_serving(true).unwrap();
    }
    let (_app2, w2) = app_serving_on_port_0(again.path());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let s = loop {
        let s = invoke(&w2, "web_status", json!({})).unwrap();
        if !s["listening"].is_null() || std::time::Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(s["setting"]["on"], true, "{s}");
    let addr2 = s["listening"].as_str().unwrap_or_else(|| panic!("served again at start: {s}"));
    assert!(http.get(format!("http://{addr2}/healthz")).send().unwrap().status().is_success());

    // An address that is taken: the switch says why it does not serve.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir3 = tempfile::tempdir().unwrap();
    let mut cfg = Config { data_dir: dir3.path().to_path_buf(), ..Default::default() };
    cfg.embedder.kind = fanline_core::config::EmbedderKind::Hashing;
    cfg.hub.listen = taken.local_addr().unwrap().to_string();
    let f = Fanline::open(cfg).unwrap();
    f.init(None).unwrap();
    let app3 = fanline_desktop::setup(mock_builder(), f).build(mock_context(noop_assets())).unwrap();
    let w3 = tauri::WebviewWindowBuilder::new(&app3, "main", Default::default()).build().unwrap();
    let s = invoke(&w3, "web_set", json!({ "on": true })).unwrap();
    assert!(s["listening"].is_null(), "{s}");
    assert!(s["error"].as_str().unwrap().contains("cannot listen on"), "{s}");
}

#[test]
fn backups_from_settings_go_to_the_chosen_folder() {
    let (_dir, _app, w) = app_with_kb();
    let folder = tempfile::tempdir().unwrap();
    let f = folder.path().to_str().unwrap();
    let s = invoke(&w, "auto_backup", json!({})).unwrap();
    assert!(s["folder"].is_null(), "{s}");
    assert_eq!(invoke(&w, "backup_now", json!({})).unwrap_err()["code"], "invalid_input");
    let err = invoke(&w, "auto_backup_set", json!({ "folder": "not/absolute", "keep": 3 })).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    let s = invoke(&w, "auto_backup_set", json!({ "folder": f, "keep": 2 })).unwrap();
    assert_eq!((s["folder"].as_str(), s["keep"].as_u64()), (Some(f), Some(2)));
    for _ in 0..3 {
        let r = invoke(&w, "backup_now", json!({})).unwrap();
        assert!(r["bytes"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert_eq!(fanline_core::backup::backups_in(folder.path()).len(), 2);
    let s = invoke(&w, "auto_backup", json!({})).unwrap();
    assert!(s["last"].as_str().is_some(), "{s}");
}

#[test]
fn a_desktop_pairs_with_a_hub_and_answers_its_queue_through_the_commands() {
    use tauri::Manager;
    // The hub: another app taking messages from the web; a fan asks and accepts.
    let hub_dir = tempfile::tempdir().unwrap();
    let (hub_app, hub) = app_serving_on_port_0(hub_dir.path());
    let s = invoke(&hub, "web_set", json!({ "on": true })).unwrap();
    let base = format!("http://{}", s["listening"].as_str().unwrap());
    let site = s["setting"]["site_key"].as_str().unwrap().to_string();
    let http = reqwest::blocking::Client::new();
    let q = "Would you ever co-write a novel with one of your readers?";
    let session = fan_escalates(&http, &base, &site, q);
    let fan = session["fan_token"].as_str().unwrap().to_string();
    let code = hub_app
        .state::<fanline_desktop::AppState>()
        .0
        .hub_pairing_code(&[fanline_core::hub::Scope::Admin])
        .unwrap()
        .code;

    // The laptop pairs from Settings → Hub, and the fan's question reaches its queue.
    let dir = tempfile::tempdir().unwrap();
    let (_laptop_app, w) = app_serving_on_port_0(dir.path());
    assert_eq!(invoke(&w, "sync_view", json!({})).unwrap()["state"], "not_paired");
    let err = invoke(&w, "sync_pair", json!({ "url": base, "code": "wrong-code", "name": "Laptop" })).unwrap_err();
    assert_eq!(err["code"], "unauthorized", "{err}");
    let v = invoke(&w, "sync_pair", json!({ "url": base, "code": code, "name": "Laptop" })).unwrap();
    assert_eq!(v["status"]["hub"], base.as_str(), "{v}");
    let v = invoke(&w, "sync_now", json!({})).unwrap();
    assert_eq!(v["state"], "synced", "{v}");
    let queue = invoke(&w, "queue", json!({})).unwrap();
    assert_eq!(queue[0]["question"], q, "{queue}");

    // Answered on the laptop: the fan reads it on the hub; nothing is left to send.
    let id = queue[0]["id"].as_i64().unwrap();
    invoke(&w, "queue_answer", json!({ "id": id, "text": "No, I write alone.", "layer": "public" })).unwrap();
    // The answer, and the message telling the fan (one message with the hub's copy).
    assert_eq!(invoke(&w, "sync_view", json!({})).unwrap()["status"]["pending"], 2);
    let v = invoke(&w, "sync_now", json!({})).unwrap();
    assert_eq!((v["state"].as_str(), v["status"]["pending"].as_i64()), (Some("synced"), Some(0)), "{v}");
    let messages: Value = http
        .get(format!("{base}/v1/conversations/{}/messages", session["conversation_id"]))
        .bearer_auth(&fan)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(messages.to_string().contains("No, I write alone."), "{messages}");
    assert!(invoke(&hub, "queue", json!({})).unwrap().as_array().unwrap().is_empty());
    assert_eq!(invoke(&w, "sync_conflicts", json!({})).unwrap(), json!([]));
    // The fan's conversation and the hub's decisions are on the laptop too.
    let log = invoke(&w, "decisions", json!({})).unwrap();
    assert!(log.as_array().unwrap().iter().any(|d| d["path"] == "D"), "{log}");
    // An offer is accepted on the hub, not here.
    assert_eq!(invoke(&w, "accept", json!({ "id": id })).unwrap_err()["code"], "conflict");

    // Unpaired: the laptop is on its own again.
    assert_eq!(invoke(&w, "sync_unpair", json!({})).unwrap()["state"], "not_paired");
}

#[test]
fn content_gaps_are_answered_once_for_every_fan_through_the_commands() {
    let (_dir, _app, w) = app_with_kb();
    let q = "Would you ever co-write a novel with one of your readers?";
    for fan in ["maya", "theo"] {
        invoke(&w, "fan_add", json!({ "handle": fan, "tier": "free", "layer": "public" })).unwrap();
        let d = invoke(&w, "simulate", json!({ "fan": fan, "message": q })).unwrap();
        assert_eq!(d["path"], "D", "{d}");
    }
    let gaps = invoke(&w, "gaps", json!({ "days": 30 })).unwrap();
    assert_eq!((gaps[0]["fans"].as_i64(), gaps[0]["questions"][0].as_str()), (Some(2), Some(q)), "{gaps}");
    let input = json!({ "question": q, "variants": [], "answer": "No, my novels are solo work.", "layer": "public" });
    let c = invoke(&w, "canonical_add", json!({ "input": input })).unwrap();
    assert_eq!(c["answer"], "No, my novels are solo work.");
    assert_eq!(invoke(&w, "gaps", json!({ "days": 30 })).unwrap(), json!([]));
    assert_eq!(invoke(&w, "gaps", json!({ "days": 0 })).unwrap_err()["code"], "invalid_input");
}

//! The `fanline` binary, run as a user or a script would.

use serde_json::Value;
use std::path::{Path, PathBuf};

mod common;
use common::{fanline, json, json_err, kb, stand_in_thresholds, CONFIG};

#[test]
fn init_import_search_and_layers() {
    let d = tempfile::tempdir().unwrap();
    let init = json(d.path(), &["init"]);
    assert_eq!(init["agent"]["name"], "default");
    assert_eq!(init["created"], true);
    assert_eq!(json(d.path(), &["init"])["created"], false);

    let s = json(d.path(), &["import", kb("public").to_str().unwrap()]);
    assert_eq!(s["imported"], 5);
    assert_eq!(s["skipped"], 0);
    assert!(s["chunks"].as_u64().unwrap() >= 10);
    let s = json(d.path(), &["import", "--layer", "intimate", kb("intimate").to_str().unwrap()]);
    assert_eq!(s["imported"], 1);

    let hits = json(d.path(), &["search", "how much is the workshop", "-n", "3"]);
    let first = &hits[0];
    assert!(first["source_path"].as_str().unwrap().ends_with("faq.md"));
    assert!(first["heading"].as_str().unwrap().contains("workshop cost"));
    assert!(first["similarity"].as_f64().unwrap() > 0.2);
    assert_eq!(first["rank"], 1);

    let q = "memoir about my grandmother radio operator";
    let public = json(d.path(), &["search", q, "-n", "20"]);
    assert!(public.as_array().unwrap().iter().all(|h| h["layer"] == "public"));
    let intimate = json(d.path(), &["search", q, "--layer", "intimate", "-n", "1"]);
    assert_eq!(intimate[0]["layer"], "intimate");

    // Human output has a progress-free summary line.
    fanline(d.path())
        .args(["import", kb("public").to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("0 imported, 5 unchanged"));

    let docs = json(d.path(), &["documents", "list"]);
    assert_eq!(docs.as_array().unwrap().len(), 6);
    let id = docs[0]["id"].as_i64().unwrap().to_string();
    json(d.path(), &["documents", "delete", &id]);
    assert_eq!(json(d.path(), &["documents", "list"]).as_array().unwrap().len(), 5);
}

#[test]
fn canonical_answers_round_trip() {
    let d = tempfile::tempdir().unwrap();
    json(d.path(), &["init"]);
    let c = json(
        d.path(),
        &[
            "canonical",
            "add",
            "--question",
            "Do you sell signed copies?",
            "--answer",
            "Yes, through my shop, twice a year.",
            "--variant",
            "can I buy a signed book",
            "--layer",
            "friends",
        ],
    );
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["layer"], "friends");
    assert_eq!(c["variants"].as_array().unwrap().len(), 2);
    let list = json(d.path(), &["canonical", "list"]);
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["times_reused"], 0);
    let shown = json(d.path(), &["canonical", "show", &id.to_string()]);
    assert_eq!(shown["answer"], "Yes, through my shop, twice a year.");
    let found = json(d.path(), &["canonical", "search", "where can I get an autographed copy", "--layer", "friends"]);
    assert_eq!(found[0]["canonical_id"], id);
    // Not visible to a public viewer.
    let found = json(d.path(), &["canonical", "search", "where can I get an autographed copy"]);
    assert!(found.as_array().unwrap().is_empty());
    json(d.path(), &["canonical", "delete", &id.to_string()]);
    assert_eq!(json_err(d.path(), &["canonical", "show", &id.to_string()])["code"], "not_found");
}

#[test]
fn doctor_reports_every_check() {
    let d = tempfile::tempdir().unwrap();
    json(d.path(), &["init"]);
    let r = json(d.path(), &["doctor"]);
    assert_eq!(r["ok"], true, "{r}");
    let names: Vec<&str> = r["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["data_dir", "database", "agents", "messages", "runtime", "model", "index"]);
    assert_eq!(r["schema_version"], r["known_migrations"]);
}

#[test]
fn errors_are_clear_and_machine_readable() {
    let d = tempfile::tempdir().unwrap();
    // Before init: no agent.
    let e = json_err(d.path(), &["search", "hello"]);
    assert_eq!(e["code"], "no_agent");
    assert!(e["message"].as_str().unwrap().contains("`fanline init`"), "{e}");
    let e = json_err(d.path(), &["--agent", "coach", "search", "hello"]);
    assert!(e["message"].as_str().unwrap().contains("`fanline init --agent coach`"), "{e}");

    // A bad layer is a usage error (exit 2) naming the valid values.
    fanline(d.path())
        .args(["search", "x", "--layer", "vip"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("public friends intimate"));

    // A missing model names the file and the setup command.
    json(d.path(), &["init"]);
    let e = fanline(d.path())
        .args(["search", "hello", "--json"])
        .env("FANLINE_EMBEDDER__KIND", "model")
        .env("FANLINE_MODEL_DIR", d.path().join("no-model"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&e.stdout).unwrap();
    assert_eq!(v["error"]["code"], "model_missing");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("no-model/model.onnx") && msg.contains("scripts/fetch-model.sh"), "{msg}");
    // Doctor reports it as a failed check (exit 1), not a crash.
    fanline(d.path())
        .arg("doctor")
        .env("FANLINE_EMBEDDER__KIND", "model")
        .env("FANLINE_MODEL_DIR", d.path().join("no-model"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains("FAIL model"));

    // An agent's name becomes a file name: one that climbs out of the data directory
    // is refused.
    let e = json_err(d.path(), &["init", "--agent", "../../etc/passwd"]);
    assert_eq!(e["code"], "invalid_input", "{e}");
    assert!(!d.path().join("policies").exists());

    // A closed standard output ends the command quietly, like any Unix tool.
    // (`true` exits without reading, so every write meets a closed pipe.)
    for args in ["decisions list --json", "config show", "doctor --json"] {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "{} --data-dir {} {args} | true; exit ${{PIPESTATUS[0]}}",
                assert_cmd::cargo::cargo_bin("fanline").display(),
                d.path().display()
            ))
            .env("FANLINE_EMBEDDER__KIND", "hashing")
            .env("FANLINE_ROUTING__OFF_TOPIC_SIMILARITY", "0")
            .env("FANLINE_ROUTING__OFF_TOPIC_MARGIN", "10")
            .env("FANLINE_CONFIG", d.path().join(CONFIG))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && err.is_empty(), "{args}: {:?} {err}", out.status);
    }

    // A damaged database file.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("fanline.db"), "not a database ".repeat(200)).unwrap();
    let e = json_err(bad.path(), &["init"]);
    assert_eq!(e["code"], "database_damaged");
    fanline(bad.path()).arg("init").assert().code(1).stderr(predicates::str::contains("damaged"));
}

#[test]
fn fans_are_added_updated_and_listed() {
    let d = tempfile::tempdir().unwrap();
    json(d.path(), &["init"]);
    let f = json(d.path(), &["fan", "add", "@sam", "--tier", "follower"]);
    assert_eq!(
        (f["handle"].as_str(), f["tier"].as_str(), f["layer"].as_str()),
        (Some("@sam"), Some("follower"), Some("public"))
    );
    // Adding a handle that exists (after trimming) never changes what that fan sees.
    let e = json_err(d.path(), &["fan", "add", " @sam ", "--tier", "paid", "--layer", "intimate"]);
    assert_eq!(e["code"], "conflict", "{e}");
    assert!(e["message"].as_str().unwrap().contains("fanline fan set @sam"), "{e}");
    let f = json(d.path(), &["fan", "set", "@sam", "--tier", "paid", "--layer", "friends"]);
    assert_eq!((f["tier"].as_str(), f["layer"].as_str()), (Some("paid"), Some("friends")));
    let f = json(d.path(), &["fan", "set", "@sam", "--tier", "free"]);
    assert_eq!((f["tier"].as_str(), f["layer"].as_str()), (Some("free"), Some("friends")));
    assert_eq!(json_err(d.path(), &["fan", "set", "@nobody", "--tier", "free"])["code"], "not_found");
    assert_eq!(json_err(d.path(), &["fan", "set", "@sam"])["code"], "invalid_input");
    json(d.path(), &["fan", "add", "@kim", "--tier", "free"]);
    let list = json(d.path(), &["fan", "list"]);
    let handles: Vec<&str> = list.as_array().unwrap().iter().map(|f| f["handle"].as_str().unwrap()).collect();
    assert_eq!(handles, ["@kim", "@sam"]);
    fanline(d.path())
        .args(["fan", "add", "@x", "--tier", "vip"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("free follower paid"));
    assert_eq!(json_err(d.path(), &["fan", "add", "  ", "--tier", "free"])["code"], "invalid_input");
}

#[test]
fn route_accept_queue_metrics_config_and_policy() {
    let d = tempfile::tempdir().unwrap();
    stand_in_thresholds(d.path());
    json(d.path(), &["init"]);
    json(d.path(), &["import", kb("public").to_str().unwrap()]);
    assert_eq!(json(d.path(), &["fan", "add", "ana", "--tier", "free"])["tier"], "free");
    json(d.path(), &["config", "set", "auto_answer_confidence_threshold", "0.25"]);

    let r = json(d.path(), &["route", "--fan", "ana", "How much does your writing workshop cost?"]);
    assert_eq!(r["path"], "A", "{r}");
    assert!(r["signals"]["confidence"].as_f64().unwrap() >= 0.25);
    let steps = r["trace"]["steps"].as_array().unwrap();
    let named = |prefix: &str| steps.iter().filter(|s| s["step"].as_str().unwrap().starts_with(prefix)).count();
    assert_eq!(steps.len() - named("critic:"), 10, "the plan's steps");
    assert!(named("critic:") >= 12, "the critics on the message and on the draft");
    assert!(r["reply"].as_str().unwrap().contains("29 euros"));

    let novel = "Could we meet at the Tokyo marathon next spring?";
    let d1 = json(d.path(), &["route", "--fan", "ana", novel]);
    assert_eq!(d1["path"], "D", "{d1}");
    let id = d1["escalation_id"].as_i64().unwrap().to_string();
    assert_eq!(json(d.path(), &["accept", &id])["path"], "E");
    let q = json(d.path(), &["queue", "list"]);
    assert_eq!(q[0]["fan"], "ana");
    let c = json(d.path(), &["queue", "answer", &id, "--text", "No, I write alone.", "--layer", "public"]);
    assert_eq!(c["question_pattern"], novel);
    json(d.path(), &["fan", "add", "bo", "--tier", "free"]);
    let again = json(d.path(), &["route", "--fan", "bo", "could we meet at the Tokyo marathon next spring"]);
    assert_eq!(again["path"], "C");
    assert_eq!(again["served"]["times_reused"], 1);

    let shown = json(d.path(), &["decisions", "show", &again["decision_id"].to_string()]);
    assert_eq!(shown["path"], "C");
    assert_eq!(json(d.path(), &["decisions", "list", "--path", "C"]).as_array().unwrap().len(), 1);
    let m = json(d.path(), &["metrics", "--days", "1"]);
    assert_eq!(m["paths"]["C"], 1);
    assert_eq!(m["escalations_today"], 1);

    // Rules: get, set, bad values.
    assert_eq!(json(d.path(), &["config", "set", "max_escalations_per_day", "3"])["max_escalations_per_day"], 3);
    assert_eq!(json(d.path(), &["config", "get", "max_escalations_per_day"]), 3);
    assert_eq!(json_err(d.path(), &["config", "set", "timezone", "Nowhere/Land"])["code"], "invalid_input");
    let e = json_err(d.path(), &["config", "set", "allowed_user_tiers", ""]);
    assert!(e["code"] == "invalid_input" && e["message"].as_str().unwrap().contains("refuse every fan"), "{e}");
    let no_days = r#"[{"days": [], "start": "09:00", "end": "17:00"}]"#;
    assert_eq!(json_err(d.path(), &["config", "set", "availability_windows", no_days])["code"], "invalid_input");

    // Policy: a bad file names the line and field; a good one is installed and used.
    let bad = d.path().join("bad.toml");
    std::fs::write(&bad, "[topics.pricing]\nkeywords = [\"cost\"]\nactoin = \"escalate\"\n").unwrap();
    let e = json_err(d.path(), &["policy", "check", bad.to_str().unwrap()]);
    assert_eq!(e["code"], "invalid_policy");
    assert!(e["message"].as_str().unwrap().contains("line 3, field `actoin`"), "{e}");
    let good = d.path().join("good.toml");
    std::fs::write(&good, "[topics.pricing]\nkeywords = [\"cost\"]\naction = \"escalate\"\n").unwrap();
    assert_eq!(json(d.path(), &["policy", "set", good.to_str().unwrap()])["topics"][0], "pricing");
    let p = json(d.path(), &["route", "--fan", "ana", "How much does your writing workshop cost?"]);
    assert_eq!(p["path"], "D");
    // Broken in place: every later process (none of which read the file while it was
    // valid) keeps the last valid policy in force, and says so truthfully.
    let file = json(d.path(), &["policy", "path"]);
    std::fs::write(file.as_str().unwrap(), "[topics.pricing\nthis is not toml").unwrap();
    let p = json(d.path(), &["route", "--fan", "ana", "How much does your writing workshop cost?"]);
    assert_eq!(p["path"], "D", "{p}");
    assert!(p["policy_warning"].as_str().unwrap().contains("the last valid policy (from "), "{p}");
    std::fs::write(file.as_str().unwrap(), "").unwrap();
    let p = json(d.path(), &["route", "--fan", "ana", "How much does your writing workshop cost?"]);
    assert!(p["path"] != "D" && p["policy_warning"].is_null(), "an empty policy is valid: {p}");
    assert_eq!(json_err(d.path(), &["route", "--fan", "nobody", "hi"])["code"], "invalid_input");
    assert_eq!(json_err(d.path(), &["accept", "999"])["code"], "not_found");

    // Counts out of range are refused with a clear error, not an abort.
    for args in [
        &["search", "workshop", "-n", "100000000"][..],
        &["search", "workshop", "-n", "0"],
        &["canonical", "search", "workshop", "-n", "100000000"],
        &["metrics", "--days", "100000000"],
        &["metrics", "--days", "0"],
    ] {
        let e = json_err(d.path(), args);
        assert_eq!(e["code"], "invalid_input", "{args:?}: {e}");
        assert!(e["message"].as_str().unwrap().contains("must be between 1 and"), "{args:?}: {e}");
    }
    // An explicit config file that does not exist is an error, not the defaults.
    let out = fanline(d.path()).args(["--config", "/nonexistent.toml", "config", "show"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.toml does not exist"));
}

fn datasets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

/// The commands' plumbing on the shared datasets (their quality is measured with the
/// real model in fanline-lab's `real_model` tests).
#[test]
fn eval_and_calibrate_on_the_shared_datasets() {
    let d = tempfile::tempdir().unwrap();
    let covid = datasets().join("covid_faq");
    if !covid.is_dir() {
        eprintln!("skipped: ../shared/datasets is not here (the test needs the public datasets)");
        return;
    }
    let r = json(d.path(), &["eval", "covid_faq", covid.to_str().unwrap()]);
    let m = &r["reuse"];
    assert!(m["in_scope"].as_u64().unwrap() > 50, "{r}");
    assert!(r["ablation"].as_array().unwrap().len() >= 8);
    let c = json(d.path(), &["eval", "clariq", datasets().join("clariq").to_str().unwrap()]);
    assert!(c["clarification"]["requests"].as_u64().unwrap() >= 50);
    let cal = json(d.path(), &["calibrate", "covid_faq", covid.to_str().unwrap()]);
    assert!(cal["settings_tried"].as_u64().unwrap() > 1000);
    assert_eq!(json_err(d.path(), &["eval", "imdb", "."])["code"], "invalid_input");
    // Evaluation never touches the creator's data directory.
    assert!(!d.path().join("fanline.db").exists());
}

/// Every file under `dir`, as bytes.
fn all_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out
}

#[test]
fn providers_ask_streams_and_the_key_never_reaches_the_disk_or_the_logs() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (base, script) = rt.block_on(fanline_llm::testing::start());
    let d = tempfile::tempdir().unwrap();
    stand_in_thresholds(d.path());
    let secret = "sk-fanline-test-8c1f0e9a7b";
    let key_var = "FANLINE_API_KEY_CLOUD";
    let run = |args: &[&str]| {
        let out = fanline(d.path()).args(args).env(key_var, secret).env("FANLINE_LOG", "trace").output().unwrap();
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains(secret), "{args:?} printed the key");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string(), all)
    };
    json(d.path(), &["init"]);
    json(d.path(), &["import", kb("public").to_str().unwrap()]);
    json(d.path(), &["fan", "add", "ana", "--tier", "free"]);
    json(d.path(), &["config", "set", "auto_answer_confidence_threshold", "0.25"]);

    let url = format!("{base}/v1");
    let (ok, out, all) = run(&["provider", "add", "cloud", "--base-url", &url, "--model", "test-model", "--json"]);
    assert!(ok, "{all}");
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((p["name"].as_str(), p["key"].as_str()), (Some("cloud"), Some("environment")));
    let (ok, out, _) = run(&["provider", "test", "cloud"]);
    assert!(ok && out.contains("cloud: ok in"), "{out}");
    // The key went to the server, as a bearer token.
    let h = script.last_headers.lock().unwrap().clone().unwrap();
    assert_eq!(h["authorization"].to_str().unwrap(), format!("Bearer {secret}"));

    // ask streams the model's answer and says who wrote it.
    let (ok, out, all) = run(&["ask", "--fan", "ana", "How much does your writing workshop cost?"]);
    assert!(ok, "{all}");
    assert!(out.starts_with(&fanline_llm::testing::ANSWER.concat()), "{out}");
    assert!(out.contains("(path A — written by cloud"), "{out}");
    let (_, out, _) = run(&["provider", "list"]);
    assert!(out.contains("key from FANLINE_API_KEY_CLOUD") && out.contains("calls"), "{out}");

    // A server whose 401 echoes the credentials it was sent: the test says it failed,
    // and neither its output, the logs (at trace) nor the stored decision carry the key.
    script.push(fanline_llm::testing::Fault::EchoKey);
    let (ok, out, _) = run(&["provider", "test", "cloud"]);
    assert!(!ok && out.contains("401") && out.contains("[redacted]"), "{out}");
    script.push(fanline_llm::testing::Fault::EchoKey);
    let (ok, out, all) = run(&["route", "--fan", "ana", "How much does your writing workshop cost?", "--json"]);
    assert!(ok, "{all}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let d_id = r["decision_id"].as_i64().unwrap().to_string();
    let (_, shown, _) = run(&["decisions", "show", &d_id, "--json"]);
    assert!(shown.contains("[redacted]"), "the failure is kept, without the key: {shown}");

    // Not in the database, the index, or any other file of the data directory.
    for (path, bytes) in all_bytes(d.path()) {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "the key is in {}", path.display());
    }

    // Storing a key where no keychain exists says how to use the environment instead.
    // (No session bus here, so no Secret Service: the OS keychain is never written.)
    let out = fanline(d.path())
        .args(["provider", "add", "other", "--base-url", &url, "--model", "m", "--key-stdin", "--json"])
        .env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", d.path().join("no-bus").display()))
        .write_stdin(format!("{secret}\n"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "a key was stored without a keychain");
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["error"]["code"], "keychain", "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("FANLINE_API_KEY_OTHER"), "{e}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
    // The provider was not half-added.
    let (_, out, _) = run(&["provider", "list", "--json"]);
    assert!(!out.contains("\"other\""), "{out}");
    let (ok, _, _) = run(&["provider", "remove", "cloud"]);
    assert!(ok);
}

#[test]
fn bench_critics_prints_the_overhead_per_message() {
    let d = tempfile::tempdir().unwrap();
    let rows = json(d.path(), &["bench", "critics", "--messages", "50"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["p50_us"].as_f64().unwrap() > 0.0 && r["messages"] == 50));
}

/// A database URL given in the environment can hold a password: help never shows it,
/// and a server that cannot be reached is named without it.
#[test]
fn a_database_password_in_the_environment_is_never_printed() {
    let d = tempfile::tempdir().unwrap();
    let secret = "pw-fanline-test-5e2b91";
    let url = format!("postgres://fanline:{secret}@127.0.0.1:1/fanline?connect_timeout=2");
    let store_run = ["bench", "store", "--messages", "2", "--concurrency", "1"];
    for args in [
        &["bench", "pg", "--help"][..],
        &["bench", "search", "--help"],
        &["bench", "store", "--help"],
        &["bench", "pg", "--ops", "1"],
        &store_run,
    ] {
        let out = fanline(d.path()).args(args).env("FANLINE_BENCH_DATABASE", &url).output().unwrap();
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains(secret), "{args:?} printed the password:\n{all}");
        if args.contains(&"--help") {
            assert!(all.contains("FANLINE_BENCH_DATABASE"), "{all}");
        } else {
            assert!(!out.status.success() && all.contains("PostgreSQL"), "{all}");
        }
    }
}

/// `serve` prints where fans reach it: with the public address left at its default,
/// the address it really listens on (here a port the system chose), not the default's.
#[test]
fn serve_names_the_address_it_really_listens_on() {
    use std::io::BufRead;
    let d = tempfile::tempdir().unwrap();
    fanline(d.path()).arg("init").assert().success();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fanline"))
        .arg("--data-dir")
        .arg(d.path())
        .args(["--json", "serve", "--listen", "127.0.0.1:0"])
        .env("FANLINE_CONFIG", d.path().join(CONFIG))
        .env("FANLINE_EMBEDDER__KIND", "hashing")
        .env_remove("FANLINE_DATA_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let listening = v["listening"].as_str().unwrap();
    assert!(!listening.ends_with(":0") && !listening.ends_with(":8787"), "{listening}");
    let chat = v["chat"].as_str().unwrap();
    assert!(chat.starts_with(&format!("http://{listening}/chat?site=site_")), "{chat}");
}

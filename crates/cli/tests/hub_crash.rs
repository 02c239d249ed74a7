//! `fanline serve` killed with SIGKILL again and again while fans post messages: every
//! message that got a 2xx is in the store with its decision, and every client retrying
//! with the same Idempotency-Key after the restart gets the same decision, never a
//! second one (nor a second message). Checked over HTTP and in SQL.
//!
//! `FANLINE_HUB_CRASH_CYCLES` (default 6) kills; `FANLINE_HUB_CRASH_SEED` repeats a run.

mod common;

use common::{fanline, free_port, json, start};
use rusqlite::Connection;
use serde_json::{json as j, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Fan {
    token: String,
    conversation: i64,
}

/// What a client saw for one key: the decision of a 2xx, or nothing (the hub died).
type Seen = HashMap<String, (i64, String, Option<i64>)>;

fn post(client: &reqwest::blocking::Client, port: u16, fan: &Fan, key: &str, text: &str) -> Option<(u16, Value)> {
    let r = client
        .post(format!("http://127.0.0.1:{port}/v1/conversations/{}/messages", fan.conversation))
        .bearer_auth(&fan.token)
        .header("Idempotency-Key", key)
        .json(&j!({ "text": text }))
        .timeout(Duration::from_secs(30))
        .send()
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.json().ok()?))
}

#[test]
fn killing_the_hub_under_load_loses_no_acknowledged_message_and_answers_each_once() {
    let cycles: usize = std::env::var("FANLINE_HUB_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    let mut seed: u64 =
        std::env::var("FANLINE_HUB_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
    eprintln!("FANLINE_HUB_CRASH_SEED={seed}");
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    json(&data, &["init"]);
    json(&data, &["config", "set", "max_escalations_per_day", "100000"]);
    json(&data, &["config", "set", "max_escalations_per_week", "100000"]);
    let site = json(&data, &["hub", "site"])["site_key"].as_str().unwrap().to_string();
    let port = free_port();
    let client = reqwest::blocking::Client::new();

    let mut server = start(&data, port);
    let fans: Vec<Arc<Fan>> = (0..4)
        .map(|_| {
            let v: Value = client
                .post(format!("http://127.0.0.1:{port}/v1/sessions"))
                .json(&j!({ "site_key": site }))
                .send()
                .unwrap()
                .json()
                .unwrap();
            Arc::new(Fan {
                token: v["fan_token"].as_str().unwrap().into(),
                conversation: v["conversation_id"].as_i64().unwrap(),
            })
        })
        .collect();
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let texts: Arc<Mutex<HashMap<String, (usize, String)>>> = Arc::default();
    let mut acked = 0;
    for cycle in 0..cycles {
        if cycle > 0 {
            server = start(&data, port);
        }
        let stop_at = Instant::now() + Duration::from_millis(300 + rand() % 900);
        let workers: Vec<_> = fans
            .iter()
            .enumerate()
            .map(|(f, fan)| {
                let (fan, seen, texts) = (fan.clone(), seen.clone(), texts.clone());
                std::thread::spawn(move || {
                    let client = reqwest::blocking::Client::new();
                    let mut i = 0;
                    while Instant::now() < stop_at + Duration::from_millis(500) {
                        let key = format!("c{cycle}-f{f}-m{i}");
                        let text = format!("Fan {f} asks question {i} of round {cycle}: how do rivers carve canyons?");
                        texts.lock().unwrap().insert(key.clone(), (f, text.clone()));
                        match post(&client, port, &fan, &key, &text) {
                            Some((s, v)) if (200..300).contains(&s) => {
                                let d = &v["decision"];
                                seen.lock().unwrap().insert(
                                    key,
                                    (
                                        d["decision_id"].as_i64().unwrap(),
                                        d["path"].as_str().unwrap().into(),
                                        d["message_id"].as_i64(),
                                    ),
                                );
                            }
                            _ => break, // the hub is gone
                        }
                        i += 1;
                    }
                })
            })
            .collect();
        std::thread::sleep(stop_at.saturating_duration_since(Instant::now()));
        server.kill().unwrap(); // SIGKILL, while requests are in flight
        server.wait().unwrap();
        for w in workers {
            w.join().unwrap();
        }
        acked = seen.lock().unwrap().len();
    }
    assert!(acked > 20, "the load was real: {acked} acknowledged messages");

    // After the last restart every client retries every key it sent.
    let mut server = start(&data, port);
    let seen = seen.lock().unwrap().clone();
    let texts = texts.lock().unwrap().clone();
    let (mut replayed, mut recovered) = (0, 0);
    for (key, (f, text)) in &texts {
        let (status, v) = post(&client, port, &fans[*f], key, text).expect("the hub answers");
        assert!((200..300).contains(&status), "{key}: {status} {v}");
        let d = &v["decision"];
        match seen.get(key) {
            Some((decision, path, _)) => {
                assert_eq!(status, 200, "{key}: a replay");
                assert_eq!(d["decision_id"].as_i64(), Some(*decision), "{key}: the same decision");
                assert_eq!(d["path"].as_str(), Some(path.as_str()));
                replayed += 1;
            }
            None => recovered += 1,
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    eprintln!(
        "{acked} acknowledged, {replayed} replayed the same, {recovered} sent while the hub died, answered on retry"
    );

    // In SQL: one message per key, one routing decision per fan message, each reply once.
    let db = Connection::open(data.join("fanline.db")).unwrap();
    let n: i64 = db.query_row("SELECT count(*) FROM idempotency_keys", [], |r| r.get(0)).unwrap();
    assert!(n as usize <= texts.len() && n as usize >= seen.len());
    let orphans: i64 = db
        .query_row(
            "SELECT count(*) FROM messages m WHERE m.role = 'fan' AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.message_id = m.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "every fan message has its decision");
    let twice: i64 = db
        .query_row(
            "SELECT count(*) FROM (SELECT message_id FROM decisions WHERE path != 'E' GROUP BY message_id HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(twice, 0, "no message decided twice");
    let dup_fan: i64 = db
        .query_row(
            "SELECT count(*) FROM (SELECT body FROM messages WHERE role = 'fan' GROUP BY conversation_id, body HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dup_fan, 0, "no message stored twice");
    let replies: i64 = db
        .query_row("SELECT count(*) FROM (SELECT reply_to FROM messages WHERE reply_to IS NOT NULL GROUP BY reply_to HAVING count(*) > 1)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(replies, 0, "no message answered twice");
    assert!(fanline(&data).args(["doctor"]).output().unwrap().status.success());
}

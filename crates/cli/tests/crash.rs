//! kill -9 at random moments of route, accept, queue answer and import, many times,
//! then the invariants, checked in SQL: nothing half-done, nothing answered twice, and
//! after `fanline recover` every fan message has its decision.
//!
//! `FANLINE_CRASH_CYCLES` (default 15) kills per command; `FANLINE_CRASH_SEED` repeats
//! a run.

mod common;
use common::{json, kb, stand_in_thresholds};
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn word(&mut self) -> String {
        let s = ["ka", "zo", "mir", "tel", "vu", "qen", "dra", "lo", "pex", "su", "yon", "bri"];
        (0..3).map(|_| s[(self.next() % s.len() as u64) as usize]).collect()
    }
}

/// Start `args` on `data`, SIGKILL it after `ms` (if it is still running).
fn kill_after(data: &Path, args: &[&str], ms: u64) {
    let bin = assert_cmd::cargo::cargo_bin("fanline");
    let mut child = std::process::Command::new(bin)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("FANLINE_CONFIG", data.join(common::CONFIG))
        .env("FANLINE_EMBEDDER__KIND", "hashing")
        .env("FANLINE_ROUTING__OFF_TOPIC_SIMILARITY", "0")
        .env("FANLINE_ROUTING__OFF_TOPIC_MARGIN", "10")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(ms));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
}

/// The rows a query returns, as one line each.
fn rows(db: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = db.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| Ok((0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join(" | ")))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn invariants(data: &Path) {
    let db = Connection::open(data.join("fanline.db")).unwrap();
    let checks = [
        (
            "a fan message has at most one routing decision",
            "SELECT message_id, count(*) FROM decisions WHERE path != 'E' GROUP BY message_id HAVING count(*) > 1",
        ),
        (
            "a message has at most one acceptance",
            "SELECT message_id, count(*) FROM decisions WHERE path = 'E' GROUP BY message_id HAVING count(*) > 1",
        ),
        (
            "every decision's reply is in its conversation",
            "SELECT d.id FROM decisions d JOIN messages f ON f.id = d.message_id WHERE d.reply != '' AND NOT EXISTS
               (SELECT 1 FROM messages m WHERE m.conversation_id = f.conversation_id AND m.role = 'agent'
                AND m.body = d.reply)",
        ),
        (
            "an accepted escalation has its E decision",
            "SELECT e.id FROM escalations e WHERE e.status IN ('accepted', 'answered') AND e.accepted_at IS NOT NULL
               AND e.message_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.path = 'E' AND d.message_id = e.message_id)",
        ),
        (
            "an accepted escalation carries the queue's expiry, not the offer's",
            "SELECT id, accepted_at, expires_at FROM escalations WHERE status = 'accepted'
               AND julianday(expires_at) - julianday(accepted_at) < 13",
        ),
        (
            "an answered escalation has its canonical answer and the fan has the answer",
            "SELECT e.id FROM escalations e LEFT JOIN canonical_answers a ON a.id = e.canonical_answer_id
             WHERE e.status = 'answered' AND (a.id IS NULL OR NOT EXISTS
               (SELECT 1 FROM messages m JOIN messages q ON q.conversation_id = m.conversation_id
                WHERE q.id = e.message_id AND m.role = 'creator' AND m.body = e.answer))",
        ),
        (
            "a document has its chunks",
            "SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id)",
        ),
        (
            "the log of index changes is not ahead of the store",
            "SELECT max(generation) FROM index_log
             HAVING max(generation) > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'index_generation')",
        ),
    ];
    for (what, sql) in checks {
        let bad = rows(&db, sql);
        assert!(bad.is_empty(), "{what}: {bad:?}");
    }
    let ok: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn kill_9_at_any_moment_leaves_nothing_half_done() {
    let cycles: usize = std::env::var("FANLINE_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(15);
    let seed: u64 = std::env::var("FANLINE_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    eprintln!("FANLINE_CRASH_SEED={seed} FANLINE_CRASH_CYCLES={cycles}");
    let mut rng = Rng(seed);
    let d = tempfile::tempdir().unwrap();
    let data = d.path();
    stand_in_thresholds(data);
    json(data, &["init"]);
    json(data, &["import", kb("public").to_str().unwrap()]);
    json(data, &["fan", "add", "ana", "--tier", "free"]);
    json(data, &["config", "set", "max_escalations_per_day", "100000"]);
    json(data, &["config", "set", "max_escalations_per_week", "100000"]);
    let notes = data.join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    let novel =
        |rng: &mut Rng| format!("Could we plan a {} project in {} with {}?", rng.word(), rng.word(), rng.word());
    let offer = |rng: &mut Rng| -> Option<String> {
        let r = json(data, &["route", "--fan", "ana", &novel(rng)]);
        r["escalation_id"].as_i64().map(|id| id.to_string())
    };
    let mut kills = 0;
    for cycle in 0..cycles {
        // A route.
        let q = novel(&mut rng);
        kill_after(data, &["route", "--fan", "ana", &q], rng.next() % 60);
        // An acceptance.
        if let Some(id) = offer(&mut rng) {
            kill_after(data, &["accept", &id], rng.next() % 60);
        }
        // An answer from the queue.
        if let Some(id) = offer(&mut rng) {
            json(data, &["accept", &id]);
            let text = format!("Thanks — {} is not something I do.", rng.word());
            kill_after(data, &["queue", "answer", &id, "--text", &text], rng.next() % 60);
        }
        // An import of a changed folder.
        for i in 0..20 {
            let body = format!("# Note {i}\n\n## {}\n\n{} {} {}.\n", rng.word(), rng.word(), rng.word(), cycle);
            std::fs::write(notes.join(format!("n{i}.md")), body).unwrap();
        }
        kill_after(data, &["import", notes.to_str().unwrap()], rng.next() % 80);
        kills += 4;
    }
    eprintln!("{kills} processes started and SIGKILLed (or finished) at random moments");
    invariants(data);

    // Every fan message gets its decision, once.
    let r = json(data, &["recover", "--after-seconds", "0"]);
    assert_eq!(r["left"], 0, "{r}");
    eprintln!(
        "{} killed route(s) left a message without a decision; recovered",
        r["messages"].as_array().unwrap().len()
    );
    assert!(r["messages"].as_array().unwrap().iter().all(|m| m["outcome"] == "routed"), "{r}");
    invariants(data);
    let db = Connection::open(data.join("fanline.db")).unwrap();
    assert!(rows(
        &db,
        "SELECT id FROM messages m WHERE role = 'fan' AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.message_id = m.id)"
    )
    .is_empty());
    // The index works and holds every stored item.
    let hits = json(data, &["search", "workshop", "-n", "3"]);
    assert!(!hits.as_array().unwrap().is_empty());
    let doctor = json(data, &["doctor"]);
    let check = |name: &str| doctor["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap().clone();
    assert_eq!(check("messages")["ok"], true, "{doctor}");
    assert_eq!(check("index")["ok"], true, "{doctor}");
    assert_eq!(check("database")["ok"], true, "{doctor}");
}

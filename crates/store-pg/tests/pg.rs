//! The PostgreSQL store against a real PostgreSQL 15 (the throwaway cluster
//! `scripts/pg.sh` starts for the test command; FANLINE_TEST_PG says where). Skipped
//! when no server is given, unless FANLINE_REQUIRE_PG=1 (the test command sets it).
//!
//! The cap test runs three OS processes (this test binary again, one worker test each),
//! as three hub processes on one database would.

use chrono::{DateTime, Duration, Utc};
use fanline_engine::{caps, Layer, Tier};
use fanline_store_pg::testing::server;
use fanline_store_pg::{Acceptance, CapCheck, Claim, PgStore, VectorSearch, MIGRATIONS};

const HNSW: VectorSearch = VectorSearch::Hnsw { ef_search: 40 };
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A new, empty database on the server, migrated; returns its connection string.
async fn fresh_db(server: &str, name: &str) -> String {
    let db = format!("fanline_{name}_{}", std::process::id());
    PgStore::connect(server, 1).unwrap().create_database(&db, true).await.unwrap();
    let url = format!("{server} dbname={db}");
    assert_eq!(PgStore::connect(&url, 1).unwrap().migrate().await.unwrap(), MIGRATIONS.len());
    url
}

fn check(now: DateTime<Utc>, day: u32, week: u32) -> CapCheck {
    CapCheck::at(now, caps::parse_tz("Europe/Paris").unwrap(), day, week)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn every_postgres_migration_file_is_listed_in_order() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/postgres");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    let listed: Vec<String> = MIGRATIONS.iter().map(|(_, n, _)| n.to_string()).collect();
    assert_eq!(listed, files);
    for (i, (v, n, _)) in MIGRATIONS.iter().enumerate() {
        assert_eq!(*v as usize, i + 1);
        assert!(n.starts_with(&format!("{v:04}_")), "{n}");
    }
}

#[tokio::test]
async fn migrations_apply_once_even_when_processes_start_together() {
    let Some(server) = server() else { return };
    let url = fresh_db(&server, "migrate").await;
    // Already migrated by fresh_db: four more starting at once apply nothing.
    let runs = (0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { PgStore::connect(&url, 1).unwrap().migrate().await.unwrap() })
    });
    for r in runs {
        assert_eq!(r.await.unwrap(), 0);
    }
    assert_eq!(PgStore::connect(&url, 1).unwrap().schema_version().await.unwrap(), MIGRATIONS.len() as u32);
    // A bad address is a clear error, not a panic.
    let e = PgStore::connect("postgres://[nope", 1).err().unwrap();
    assert!(e.to_string().contains("not valid"), "{e}");
}

#[tokio::test]
async fn the_daily_cap_resets_at_the_creators_midnight_and_the_weekly_cap_holds() {
    let Some(server) = server() else { return };
    let store = PgStore::connect(&fresh_db(&server, "windows").await, 2).unwrap();
    let agent = store.create_agent("default").await.unwrap();
    let fan = store.upsert_fan("@sam", Tier::Free, Layer::Public).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(store.offer_escalation(agent, fan, &format!("question {i}")).await.unwrap());
    }
    // Monday 13 Jan 2025, 23:30 in Paris: two a day, three a week.
    let monday_late = at("2025-01-13T22:30:00Z");
    assert_eq!(
        store.accept_escalation(ids[0], &check(monday_late, 2, 3)).await.unwrap(),
        Acceptance::Accepted { today: 1, this_week: 1 }
    );
    assert_eq!(
        store.accept_escalation(ids[1], &check(monday_late, 2, 3)).await.unwrap(),
        Acceptance::Accepted { today: 2, this_week: 2 }
    );
    assert_eq!(
        store.accept_escalation(ids[2], &check(monday_late, 2, 3)).await.unwrap(),
        Acceptance::DailyCapReached { today: 2 }
    );
    // 45 minutes later it is Tuesday in Paris: a new day, the same week.
    let tuesday = monday_late + Duration::minutes(45);
    assert_eq!(
        store.accept_escalation(ids[2], &check(tuesday, 2, 3)).await.unwrap(),
        Acceptance::Accepted { today: 1, this_week: 3 }
    );
    // The week is full: refused, and the day's place it took is given back.
    assert_eq!(
        store.accept_escalation(ids[3], &check(tuesday, 2, 3)).await.unwrap(),
        Acceptance::WeeklyCapReached { this_week: 3 }
    );
    assert_eq!(store.escalation_status(ids[3]).await.unwrap(), "pending");
    assert_eq!(
        store.accept_escalation(ids[3], &check(tuesday, 3, 4)).await.unwrap(),
        Acceptance::Accepted { today: 2, this_week: 4 }
    );
    // Only a pending offer can be accepted; an unknown one is not found.
    let e = store.accept_escalation(ids[0], &check(tuesday, 9, 9)).await.unwrap_err();
    assert!(e.to_string().contains("only a pending offer"), "{e}");
    let e = store.accept_escalation(999_999, &check(tuesday, 9, 9)).await.unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
}

/// Three processes (this binary again, running `cap_worker`) each accept a third of a
/// thousand offers on their own connections, all at once: exactly the cap is accepted.
#[tokio::test]
async fn a_thousand_acceptances_from_three_processes_accept_exactly_the_cap() {
    let Some(server) = server() else { return };
    let url = fresh_db(&server, "caps").await;
    let store = PgStore::connect(&url, 4).unwrap();
    let agent = store.create_agent("default").await.unwrap();
    let fan = store.upsert_fan("@many", Tier::Follower, Layer::Public).await.unwrap();
    for i in 0..1000 {
        store.offer_escalation(agent, fan, &format!("question {i}")).await.unwrap();
    }
    let ids = store.pending_offers(agent).await.unwrap();
    let (first, last) = (ids[0], ids[999]);
    let now = Utc::now().to_rfc3339();
    let workers: Vec<_> = (0..3)
        .map(|k| {
            tokio::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "cap_worker", "--nocapture", "--test-threads=1"])
                .env("FANLINE_PG_WORKER", format!("{url}|{k}|{now}|{first}|{last}"))
                .output()
        })
        .collect();
    let mut accepted = 0;
    for w in workers {
        let out = w.await.unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
        // libtest prints "test cap_worker ... " before the worker's own line.
        let at = text.find("accepted ").unwrap_or_else(|| panic!("{text}"));
        let n = text[at + "accepted ".len()..].split_whitespace().next().unwrap();
        accepted += n.parse::<u32>().unwrap();
    }
    assert_eq!(accepted, 50, "the three processes together");
    let db = PgStore::connect(&url, 1).unwrap();
    assert_eq!(db.accepted_count(agent).await.unwrap(), 50, "in the database");
}

/// One of the three "hub processes" above (does nothing when run on its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cap_worker() {
    let Ok(spec) = std::env::var("FANLINE_PG_WORKER") else { return };
    let mut parts = spec.split('|');
    let mut next = || parts.next().unwrap();
    let (url, k, now) = (next().to_string(), next().parse::<i64>().unwrap(), at(next()));
    let (first, last) = (next().parse::<i64>().unwrap(), next().parse::<i64>().unwrap());
    let store = Arc::new(PgStore::connect(&url, 8).unwrap());
    // Eight concurrent acceptors in this process, over its third of the offers.
    let mine: Vec<i64> = (first..=last).filter(|id| id % 3 == k).collect();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let (store, mine) = (store.clone(), mine.clone());
            tokio::spawn(async move {
                let mut n = 0u32;
                for id in mine.iter().skip(t).step_by(8) {
                    match store.accept_escalation(*id, &check(now, 50, 500)).await.unwrap() {
                        Acceptance::Accepted { today, .. } => {
                            assert!(today <= 50);
                            n += 1
                        }
                        Acceptance::DailyCapReached { today } => assert_eq!(today, 50),
                        other => panic!("{other:?}"),
                    }
                }
                n
            })
        })
        .collect();
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    println!("accepted {accepted}");
}

/// How long a claim holds before a retry may take it over.
const LEASE: std::time::Duration = std::time::Duration::from_secs(30);

#[tokio::test]
async fn an_idempotency_key_is_claimed_once_across_connections() {
    let Some(server) = server() else { return };
    let url = fresh_db(&server, "idem").await;
    let store = PgStore::connect(&url, 8).unwrap();
    let agent = store.create_agent("default").await.unwrap();
    let fan = store.upsert_fan("@ana", Tier::Free, Layer::Public).await.unwrap();
    // Sixteen requests with the same key at once, each on its own connection.
    let claims: Vec<_> = (0..16)
        .map(|_| {
            let store = PgStore::connect(&url, 1).unwrap();
            tokio::spawn(async move { store.claim_idempotency(agent, fan, "k-1", "h1", LEASE).await.unwrap() })
        })
        .collect();
    let mut new = 0;
    for c in claims {
        match c.await.unwrap() {
            Claim::New => new += 1,
            Claim::InFlight => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(new, 1);
    // A retry while it runs: in flight.
    assert_eq!(store.claim_idempotency(agent, fan, "k-1", "h1", LEASE).await.unwrap(), Claim::InFlight);
    let response = serde_json::json!({ "message_id": 7 });
    store.finish_idempotency(agent, fan, "k-1", &response).await.unwrap();
    assert_eq!(store.claim_idempotency(agent, fan, "k-1", "h1", LEASE).await.unwrap(), Claim::Done(response.clone()));
    assert_eq!(store.claim_idempotency(agent, fan, "k-1", "other", LEASE).await.unwrap(), Claim::Mismatch);
    // Done stays done, even past the lease.
    let zero = std::time::Duration::ZERO;
    assert_eq!(store.claim_idempotency(agent, fan, "k-1", "h1", zero).await.unwrap(), Claim::Done(response));
    // Another fan's same key is another request.
    let ben = store.upsert_fan("@ben", Tier::Free, Layer::Public).await.unwrap();
    assert_eq!(store.claim_idempotency(agent, ben, "k-1", "h1", LEASE).await.unwrap(), Claim::New);
    // The process running Ben's request dies: within the lease his retry is told it is
    // in flight; past it, the retry takes the key over (and only one retry does).
    assert_eq!(store.claim_idempotency(agent, ben, "k-1", "h1", LEASE).await.unwrap(), Claim::InFlight);
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let short = std::time::Duration::from_millis(20);
    assert_eq!(store.claim_idempotency(agent, ben, "k-1", "h1", short).await.unwrap(), Claim::New);
    assert_eq!(store.claim_idempotency(agent, ben, "k-1", "h1", LEASE).await.unwrap(), Claim::InFlight);
    assert_eq!(store.claim_idempotency(agent, ben, "k-1", "other", zero).await.unwrap(), Claim::Mismatch);
}

/// Writers append while a reader follows the log by its cursor: the reader sees every
/// change exactly once, in order, even though writers commit in any order. Half the
/// writers append one change at a time, half three in one transaction (a message, its
/// reply, the decision), whose numbers are consecutive.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_following_the_change_log_never_skips_a_late_commit() {
    let Some(server) = server() else { return };
    let url = fresh_db(&server, "changes").await;
    let store = PgStore::connect(&url, 12).unwrap();
    let agent = store.create_agent("default").await.unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..100 {
                    let body = serde_json::json!({ "writer": w, "i": i });
                    let id = format!("{w}-{i}");
                    if w % 2 == 0 {
                        store.append_change(agent, "canonical_answer", &id, &body).await.unwrap();
                    } else if i % 3 == 0 {
                        let three =
                            [("message", id.as_str(), &body), ("message", "reply", &body), ("decision", "d", &body)];
                        let seqs = store.append_changes(agent, &three).await.unwrap();
                        assert_eq!((seqs.len(), seqs[2] - seqs[0]), (3, 2), "consecutive: {seqs:?}");
                    }
                }
            })
        })
        .collect();
    let reader = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let (mut cursor, mut seen) = (0i64, Vec::new());
            loop {
                let finished = done.load(Ordering::SeqCst);
                let batch = store.changes_since(cursor, 50).await.unwrap();
                for c in &batch {
                    seen.push(c.seq);
                    cursor = c.seq;
                }
                if batch.is_empty() && finished {
                    return seen;
                }
            }
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let seen = reader.await.unwrap();
    // 4 writers × 100 single changes + 4 × 34 transactions of 3.
    assert_eq!(seen, (1..=808).collect::<Vec<i64>>(), "every change once, in order, none skipped");
}

/// A fan's requests landing on several processes (here: connections) at once share
/// one count: exactly the limit is allowed in a window, and the next window starts anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_limit_holds_across_connections_and_resets_with_the_window() {
    let Some(server) = server() else { return };
    let url = fresh_db(&server, "rate").await;
    let now = at("2025-01-13T10:00:30Z");
    let hits: Vec<_> = (0..6)
        .map(|_| {
            let store = PgStore::connect(&url, 2).unwrap();
            tokio::spawn(async move {
                let mut allowed = 0;
                for _ in 0..20 {
                    let hit = store.rate_hit("token:abc", now, 60, 30).await.unwrap();
                    assert_eq!(hit.resets_at, at("2025-01-13T10:01:00Z"));
                    allowed += u32::from(hit.allowed);
                }
                allowed
            })
        })
        .collect();
    let mut allowed = 0;
    for h in hits {
        allowed += h.await.unwrap();
    }
    assert_eq!(allowed, 30, "120 requests, a limit of 30 a minute");
    let store = PgStore::connect(&url, 1).unwrap();
    let next = store.rate_hit("token:abc", now + Duration::seconds(31), 60, 30).await.unwrap();
    assert_eq!((next.allowed, next.count), (true, 1), "a new window");
    assert_eq!(store.rate_hit("token:other", now, 60, 30).await.unwrap().count, 1, "another key");
    assert_eq!(store.prune_rate_windows(at("2025-01-13T10:01:00Z")).await.unwrap(), 2, "the ended windows");
}

/// A process listening for changes hears every change another process commits, in
/// order; one that reconnects resumes from the last number it heard.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_committed_by_one_process_are_announced_to_listeners_in_order() {
    let Some(server) = server() else { return };
    let url = fresh_db(&server, "listen").await;
    let writer = PgStore::connect(&url, 4).unwrap();
    let agent = writer.create_agent("default").await.unwrap();
    let mut listener = fanline_store_pg::Listener::connect(&url).await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|w| {
            let writer = writer.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    let body = serde_json::json!({ "conversation": w, "i": i });
                    writer.append_change(agent, "message", &format!("{w}-{i}"), &body).await.unwrap();
                }
            })
        })
        .collect();
    let mut heard = Vec::new();
    while heard.len() < 100 {
        let seq = tokio::time::timeout(std::time::Duration::from_secs(10), listener.next())
            .await
            .expect("a notification within 10 s")
            .unwrap();
        heard.push(seq);
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(heard, (1..=100).collect::<Vec<i64>>(), "every change, in commit order");
    // Away for a while: a new listener hears only what comes next, and the log gives
    // what was missed.
    drop(listener);
    writer.append_change(agent, "message", "missed", &serde_json::json!({})).await.unwrap();
    let mut again = fanline_store_pg::Listener::connect(&url).await.unwrap();
    writer.append_change(agent, "message", "live", &serde_json::json!({})).await.unwrap();
    assert_eq!(again.next().await, Some(102));
    let missed = writer.changes_since(100, 10).await.unwrap();
    assert_eq!(missed.iter().map(|c| c.entity_id.as_str()).collect::<Vec<_>>(), ["missed", "live"]);
}

/// pgvector, built from the vendored source by `scripts/pg.sh`, loads; and the trap the
/// design brief measured holds here too: an HNSW search filtered by agent returns
/// fewer rows than asked for unless iterative scans are on (what the hub's vector
/// search on PostgreSQL must set).
#[tokio::test]
async fn pgvector_filtered_hnsw_needs_iterative_scans() {
    let Some(server) = server() else { return };
    let url = fresh_db(&server, "vectors").await;
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    db.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS vector;
         CREATE TABLE v (id BIGSERIAL PRIMARY KEY, agent_id INT NOT NULL, embedding vector(8) NOT NULL);
         -- 12,000 pseudo-random unit-ish vectors; one row in six belongs to agent 1.
         INSERT INTO v (agent_id, embedding)
         SELECT (g % 6) + 1, ARRAY(SELECT sin(g * k * 12.9898) FROM generate_series(1, 8) k)::vector(8)
         FROM generate_series(1, 12000) g;
         CREATE INDEX ON v USING hnsw (embedding vector_cosine_ops);",
    )
    .await
    .unwrap();
    let query = "SELECT count(*) FROM (SELECT id FROM v WHERE agent_id = 1
                 ORDER BY embedding <=> '[1,0.5,-0.3,0.2,0.9,-1,0.1,0.4]' LIMIT 30) t";
    db.batch_execute("SET enable_seqscan = off; SET hnsw.ef_search = 40").await.unwrap();
    let plain: i64 = db.query_one(query, &[]).await.unwrap().get(0);
    db.batch_execute("SET hnsw.iterative_scan = strict_order").await.unwrap();
    let iterative: i64 = db.query_one(query, &[]).await.unwrap().get(0);
    assert!(plain < 30, "without iterative scans the filter eats the candidates: {plain}");
    assert_eq!(iterative, 30);
}

/// The store's own vector search: filtered by agent, kind and layer, always `k` rows
/// (iterative scans), closest first, and the same rows as an exact scan.
#[tokio::test]
async fn nearest_vectors_are_filtered_by_agent_and_layer_and_match_an_exact_scan() {
    let Some(server) = server() else { return };
    let store = PgStore::connect(&fresh_db(&server, "nearest").await, 2).unwrap();
    let dim = 16;
    let vector = |i: i64| -> Vec<f32> {
        // A small LCG per vector: spread-out directions.
        let mut x = (i as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    };
    let layers = [Layer::Public, Layer::Friends, Layer::Intimate];
    let vectors: Vec<Vec<f32>> = (1..=6000).map(vector).collect();
    let rows: Vec<fanline_store_pg::VectorRow> = (1..=6000i64)
        .map(|i| ("canonical", i, i % 6 + 1, layers[(i / 6 % 3) as usize], vectors[i as usize - 1].as_slice()))
        .collect();
    store.put_vectors(&rows).await.unwrap();
    store.ensure_vector_index(dim).await.unwrap();
    store.ensure_vector_index(dim).await.unwrap(); // made once
    let (table, index) = store.vector_bytes().await.unwrap();
    assert!(table > 0 && index > 0, "{table} {index}");
    let (mut found, mut want) = (0, 0);
    for q in 0..20 {
        let query = vector(100_000 + q);
        let hits = store.nearest("canonical", 1, Layer::Public, &query, 10, HNSW).await.unwrap();
        assert_eq!(hits.len(), 10, "always k rows");
        for (id, _) in &hits {
            assert_eq!((id % 6 + 1, id / 6 % 3), (1, 0), "agent 1, public: {id}");
        }
        assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1), "closest first");
        let exact = store.nearest("canonical", 1, Layer::Public, &query, 10, VectorSearch::Exact).await.unwrap();
        found += hits.iter().filter(|h| exact.iter().any(|e| e.0 == h.0)).count();
        want += exact.len();
    }
    assert!(found as f64 / want as f64 >= 0.9, "recall@10 {found}/{want}");
    // A fan at the friends layer sees public and friends rows.
    let hits = store.nearest("canonical", 1, Layer::Friends, &vector(7), 10, HNSW).await.unwrap();
    assert!(hits.iter().all(|(id, _)| id % 6 == 0 && id / 6 % 3 != 2), "{hits:?}");
    assert!(hits.iter().any(|(id, _)| id / 6 % 3 == 1), "{hits:?}");
    assert!(store.ensure_vector_index(0).await.is_err());
}

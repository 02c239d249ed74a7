//! Upgrades: a database left at every earlier schema version, with data in it, opens
//! with this Fanline, is brought up to date, and every row reads back.

use fanline_engine::{EscalationStatus, Layer, RoutePath, Tier};
use fanline_store::Agents;
use fanline_store::HubAccess;
use fanline_store::Offers;
use fanline_store::{Conversations, TypedDecisions};
use fanline_store::{Store, MIGRATIONS};
use rusqlite::{params, Connection};
use std::path::Path;

/// A database at schema version `k`, as that Fanline left it: the first `k`
/// migrations applied and recorded.
fn database_at(path: &Path, k: usize) -> Connection {
    let conn = Connection::open(path).unwrap();
    // The SQL functions the sync triggers (from migration 11 on) call.
    fanline_store::register_functions(&conn).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ) STRICT;",
    )
    .unwrap();
    for m in &MIGRATIONS[..k] {
        conn.execute_batch(m.sql).unwrap();
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)", params![m.version, m.name])
            .unwrap();
        conn.pragma_update(None, "user_version", m.version).unwrap();
    }
    conn
}

/// What every version holds: an agent, a fan, a conversation, a decision with its
/// JSON, an answered escalation whose canonical answer has a phrasing, a document with
/// a chunk, a provider. Then what each later version added.
fn fill(conn: &Connection, k: usize) {
    let blob: Vec<u8> = [0.6f32, 0.8].iter().flat_map(|f| f.to_le_bytes()).collect();
    conn.execute_batch(
        "INSERT INTO agents (id, name) VALUES (1, 'default');
         INSERT INTO fans (id, handle, tier, layer) VALUES (1, 'maya', 'paid', 'friends');
         INSERT INTO conversations (id, agent_id, fan_id) VALUES (1, 1, 1);
         INSERT INTO messages (id, conversation_id, role, body) VALUES (1, 1, 'fan', 'What microphone do you use?');
         INSERT INTO messages (id, conversation_id, role, body) VALUES (2, 1, 'agent', 'I use a Shure MV7.');
         INSERT INTO decisions (id, message_id, agent_id, fan_id, path, reason, signals, trace, reply)
             VALUES (1, 1, 1, 1, 'D', 'novel (0.80 >= 0.70)',
                     '{\"signals\": {\"similarity\": 0.2}, \"refusal\": null}',
                     '{\"steps\": [{\"step\": \"gate\", \"outcome\": \"done\", \"note\": \"\", \"start_us\": 1,
                       \"duration_us\": 2, \"wave\": 1}], \"decided_by\": \"decide\", \"total_us\": 9}',
                     'Shall I send it to them?');
         INSERT INTO escalations (id, agent_id, fan_id, message_id, decision_id, question, reason, status, priority)
             VALUES (1, 1, 1, 1, 1, 'What microphone do you use?', 'novel', 'accepted', 25);
         INSERT INTO canonical_answers (id, agent_id, question_pattern, answer, layer, source_escalation_id)
             VALUES (1, 1, 'What microphone do you use?', 'A Shure MV7.', 'public', 1);
         UPDATE escalations SET status = 'answered', answer = 'A Shure MV7.', answer_layer = 'public',
             canonical_answer_id = 1, accepted_at = '2026-01-02T10:00:00.000Z' WHERE id = 1;
         INSERT INTO documents (id, agent_id, source_path, title, format, content_hash, bytes, layer)
             VALUES (1, 1, '/kb/gear.md', 'Gear', 'markdown', 'h1', 42, 'public');
         INSERT INTO provider_settings (name, kind, base_url, model) VALUES ('ollama', 'openai',
             'http://localhost:11434/v1', 'llama3.2');",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO canonical_variants (id, canonical_answer_id, text, is_pattern, embedding)
         VALUES (1, 1, 'What microphone do you use?', 1, ?1)",
        [&blob],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO chunks (id, document_id, agent_id, ord, heading, text, text_hash, layer, embedding)
         VALUES (1, 1, 1, 0, 'Gear > Audio', 'I record with a Shure MV7.', 't1', 'public', ?1)",
        [&blob],
    )
    .unwrap();
    if k >= 2 {
        conn.execute_batch("UPDATE escalations SET deferred_until = '2026-01-03T00:00:00.000Z' WHERE id = 1;").unwrap();
    }
    if k >= 3 {
        conn.execute_batch(
            "UPDATE agent_config SET outside_hours = 'refuse' WHERE agent_id = 1;
             UPDATE decisions SET canonical_answer_id = 1 WHERE id = 1;",
        )
        .unwrap();
    }
    if k >= 4 {
        conn.execute_batch("INSERT INTO reuse_feedback (decision_id, correct) VALUES (1, 1);").unwrap();
    }
    if k >= 5 {
        conn.execute_batch(
            "INSERT INTO llm_cache (key, provider, response, expires_at)
             VALUES ('k', 'ollama', 'hello', '2999-01-01T00:00:00.000Z');",
        )
        .unwrap();
    }
    if k >= 6 {
        conn.execute_batch("UPDATE agents SET display_name = 'Jules Marlow' WHERE id = 1;").unwrap();
    }
}

#[test]
fn every_earlier_schema_version_with_data_upgrades_and_reads_back() {
    let latest = MIGRATIONS.len() as u32;
    for k in 1..MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fanline.db");
        {
            let conn = database_at(&path, k);
            fill(&conn, k);
        }
        let store = Store::open(&path).unwrap_or_else(|e| panic!("upgrading from version {k}: {e}"));
        assert_eq!(store.schema_version().unwrap(), latest, "from version {k}");
        assert_eq!(store.applied_migrations().unwrap().len(), MIGRATIONS.len());
        store.integrity_check().unwrap();

        let agent = store.agent_by_name("default").unwrap().unwrap();
        assert_eq!(agent.display_name, if k >= 6 { "Jules Marlow" } else { "" }, "from version {k}");
        let rules = store.agent_config(agent.id).unwrap();
        assert_eq!(rules.max_escalations_per_day, 10);
        let fan = store.fan_by_handle("maya").unwrap().unwrap();
        assert_eq!((fan.tier, fan.layer), (Tier::Paid, Layer::Friends));

        let d = store.decision::<serde_json::Value>(1).unwrap();
        assert_eq!(d.path, RoutePath::D);
        assert_eq!(d.details["signals"]["similarity"], 0.2);
        assert_eq!(d.trace.decided_by.as_deref(), Some("decide"));
        assert_eq!(d.canonical_answer_id, (k >= 3).then_some(1));

        let e = store.escalation(1).unwrap();
        assert_eq!(e.status, EscalationStatus::Answered);
        assert_eq!(e.canonical_answer_id, Some(1));
        assert_eq!(e.deferred_until.is_some(), k >= 2);
        let c = store.canonical(1).unwrap();
        assert_eq!((c.answer.as_str(), c.variants.len()), ("A Shure MV7.", 1));
        let docs = store.list_documents(agent.id).unwrap();
        assert_eq!((docs.len(), docs[0].chunks), (1, 1));
        assert_eq!(store.chunks_by_ids(&[1]).unwrap()[0].text, "I record with a Shure MV7.");
        assert_eq!(store.list_providers().unwrap()[0].name, "ollama");
        let mut indexed = 0;
        store.for_each_indexed(|_, _, v| indexed += usize::from(v == [0.6, 0.8])).unwrap();
        assert_eq!(indexed, 2, "the chunk and the phrasing, with their vectors");
        // And the upgraded database takes new writes.
        let (conversation, _) = store.record_message(agent.id, fan.id, fanline_store::Role::Fan, "thanks!").unwrap();
        assert_eq!(conversation, 1);
    }
}

//! Digests of what a node holds, to compare with the hub (`fanline sync verify`): per
//! synced table, the fields every node must agree on, row by row in key order, hashed
//! as a whole and per row (so a difference can be named).

use crate::{Result, Store};
use std::collections::BTreeMap;

/// Each synced table: its name, and a query of (key, the fields that must agree).
const TABLES: [(&str, &str); 7] = [
    (
        "messages",
        "SELECT m.uid, c.uid || '|' || m.role || '|' || m.body || '|' || coalesce(m.kind, '')
         FROM messages m JOIN conversations c ON c.id = m.conversation_id ORDER BY m.uid",
    ),
    (
        "decisions",
        "SELECT d.uid, m.uid || '|' || d.path || '|' || d.reply
         FROM decisions d JOIN messages m ON m.id = d.message_id ORDER BY d.uid",
    ),
    (
        "escalations",
        "SELECT e.uid, e.status || '|' || coalesce(e.answer, '') || '|' || coalesce(e.answer_layer, '')
             || '|' || coalesce(c.uid, '') || '|' || coalesce(e.deferred_until, '')
         FROM escalations e LEFT JOIN canonical_answers c ON c.id = e.canonical_answer_id ORDER BY e.uid",
    ),
    (
        "canonical_answers",
        "SELECT a.uid, a.question_pattern || '|' || a.answer || '|' || a.layer || '|' || a.answer_hlc
             || '|' || a.layer_hlc || '|' || coalesce((SELECT group_concat(text, char(31)) FROM
                 (SELECT text FROM canonical_variants v WHERE v.canonical_answer_id = a.id ORDER BY text)), '')
         FROM canonical_answers a ORDER BY a.uid",
    ),
    (
        "rules",
        "SELECT g.name, c.max_escalations_per_day || '|' || c.max_escalations_per_week || '|'
             || c.escalation_enabled || '|' || c.auto_answer_confidence_threshold || '|'
             || c.clarification_enabled || '|' || c.blocked_topics || '|' || c.allowed_user_tiers || '|'
             || c.availability_windows || '|' || c.timezone || '|' || c.persona || '|' || c.outside_hours
             || '|' || coalesce((SELECT text FROM last_valid_policy p WHERE p.agent_id = g.id), '')
         FROM agents g JOIN agent_config c ON c.agent_id = g.id ORDER BY g.name",
    ),
    (
        "documents",
        "SELECT d.uid, d.source_path || '|' || d.title || '|' || d.content_hash || '|' || d.layer || '|'
             || (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)
         FROM documents d ORDER BY d.uid",
    ),
    (
        "conflicts",
        "SELECT uid, kind || '|' || kept || '|' || winner || '|' || coalesce(resolution, '')
         FROM sync_conflicts ORDER BY uid",
    ),
];

impl Store {
    /// Digests of the synced tables.
    pub fn sync_digest(&self) -> Result<fanline_sync::Digest> {
        let mut digest = fanline_sync::Digest::default();
        for (name, _) in TABLES {
            let rows = self.sync_rows(name)?;
            let mut hasher = blake3::Hasher::new();
            for (key, hash) in &rows {
                hasher.update(key.as_bytes());
                hasher.update(b"|");
                hasher.update(hash.as_bytes());
                hasher.update(b"\n");
            }
            let hash = hasher.finalize().to_hex().to_string();
            digest.tables.insert(name.to_string(), fanline_sync::TableDigest { rows: rows.len() as u64, hash });
        }
        Ok(digest)
    }

    /// One synced table's rows: key → hash of the fields that must agree (empty for a
    /// table that does not sync).
    pub fn sync_rows(&self, table: &str) -> Result<BTreeMap<String, String>> {
        let Some((_, sql)) = TABLES.iter().find(|(n, _)| *n == table) else { return Ok(BTreeMap::new()) };
        let conn = self.read()?;
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| {
            let line: String = r.get(1)?;
            Ok((r.get::<_, String>(0)?, blake3::hash(line.as_bytes()).to_hex().to_string()))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

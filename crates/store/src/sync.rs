//! Sync, the store's side (docs/sync.md): this node's hybrid logical clock (read by
//! the triggers of migration 0011 through `fanline_hlc()`), the outbox a paired device
//! pushes from, the log a hub serves, and the state of each synced thing as a record.

use crate::util::Cached;
use crate::util::{meta, put_meta};
use crate::{Result, Store};
use fanline_sync::{CanonicalData, Change, EscalationData, FanData, Hlc, HlcClock};
use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection, OptionalExtension};
use std::cell::Cell;
use std::sync::{Arc, Mutex, RwLock};

/// The wall clock the node's HLC reads (milliseconds since the epoch).
pub type WallClock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// This node's clock, shared with the SQL function the triggers call.
pub(crate) struct SyncClock {
    hlc: Mutex<HlcClock>,
    wall: RwLock<WallClock>,
}

impl SyncClock {
    pub(crate) fn new() -> Arc<SyncClock> {
        let wall: WallClock = Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        });
        Arc::new(SyncClock { hlc: Mutex::new(HlcClock::new(0, None)), wall: RwLock::new(wall) })
    }

    fn now_ms(&self) -> u64 {
        (self.wall.read().unwrap_or_else(|p| p.into_inner()))()
    }

    fn send(&self) -> Hlc {
        let now = self.now_ms();
        self.hlc.lock().unwrap_or_else(|p| p.into_inner()).send(now)
    }
}

thread_local! {
    static APPLYING: Cell<bool> = const { Cell::new(false) };
}

/// Move `entity` `uid` to the end of the log (a new seq in this transaction): devices
/// pulling after their cursor get its state as it is now (or that it is gone). The SQL
/// triggers of migrations 0011–0015 do the same for the rows they watch.
pub(crate) fn touch_log(conn: &Connection, entity: &str, uid: &str) -> Result<()> {
    conn.exec("DELETE FROM sync_log WHERE entity = ?1 AND uid = ?2", [entity, uid])?;
    conn.exec("INSERT INTO sync_log (entity, uid) VALUES (?1, ?2)", [entity, uid])?;
    Ok(())
}

/// Whether a peer's change is being applied on this thread.
pub(crate) fn is_applying() -> bool {
    APPLYING.with(|a| a.get())
}

/// Run `f` as the application of a peer's change: the store's writes on this thread
/// are not stamped with this node's clock nor written to its outbox.
pub fn applying<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            APPLYING.with(|a| a.set(self.0));
        }
    }
    let _reset = Reset(APPLYING.with(|a| a.replace(true)));
    f()
}

/// Register on `conn` the SQL functions the sync triggers of migration 0011 call
/// (`fanline_hlc()`, `fanline_applying()`), with a clock of its own: any connection that
/// writes escalations or canonical answers needs them (the store's write connection has
/// them).
pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    register(conn, &SyncClock::new())
}

/// The SQL functions the sync triggers call, on the write connection.
pub(crate) fn register(conn: &Connection, clock: &Arc<SyncClock>) -> rusqlite::Result<()> {
    let c = clock.clone();
    conn.create_scalar_function("fanline_hlc", 0, FunctionFlags::SQLITE_UTF8, move |_| Ok(c.send().to_string()))?;
    conn.create_scalar_function("fanline_applying", 0, FunctionFlags::SQLITE_UTF8, |_| Ok(APPLYING.with(|a| a.get())))
}

/// Carry the clock on from what the database holds (its node id, and the latest
/// reading it stored anywhere), so a restart never stamps earlier than before.
pub(crate) fn load(conn: &Connection, clock: &SyncClock) -> rusqlite::Result<()> {
    let node = meta(conn, "sync.node")?.and_then(|n| u64::from_str_radix(&n, 16).ok()).unwrap_or(0);
    let last: Option<String> = conn.row(
        "SELECT max(v) FROM (
             SELECT value AS v FROM meta WHERE key = 'sync.hlc'
             UNION ALL SELECT max(hlc) FROM sync_outbox
             UNION ALL SELECT max(answer_hlc) FROM canonical_answers
             UNION ALL SELECT max(layer_hlc) FROM canonical_answers)",
        [],
        |r| r.get(0),
    )?;
    let last = last.and_then(|l| l.parse::<Hlc>().ok());
    *clock.hlc.lock().unwrap_or_else(|p| p.into_inner()) = HlcClock::new(node, last);
    Ok(())
}

/// A row of the hub's log: its seq, the entity and its uid.
pub type LogRow = (i64, String, String);

/// How this device stands with its hub.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncPosition {
    /// Changes made here and not yet on the hub.
    pub pending: u64,
    /// The first of them.
    pub first_pending: Option<i64>,
    /// The hub's log has been applied through here.
    pub pulled_after: i64,
}

impl Store {
    /// Read the HLC's wall time from `wall` (the app's clock, a test's clock).
    pub fn set_wall_clock(&self, wall: WallClock) {
        *self.sync_clock.wall.write().unwrap_or_else(|p| p.into_inner()) = wall;
    }

    /// A new reading of this node's clock.
    pub fn hlc_now(&self) -> Hlc {
        self.sync_clock.send()
    }

    /// The latest reading made or seen.
    pub fn hlc_last(&self) -> Hlc {
        self.sync_clock.hlc.lock().unwrap_or_else(|p| p.into_inner()).last()
    }

    /// Take in a peer's reading (what this node stamps next comes after it), and keep it.
    pub fn hlc_recv(&self, remote: Hlc) -> Result<()> {
        let now = self.sync_clock.now_ms();
        let last = {
            let mut c = self.sync_clock.hlc.lock().unwrap_or_else(|p| p.into_inner());
            c.recv(remote, now);
            c.last()
        };
        put_meta(&self.conn(), "sync.hlc", &last.to_string())?;
        Ok(())
    }

    /// Changes of the outbox from `first` on, at most `limit`.
    pub fn outbox(&self, first: i64, limit: usize) -> Result<Vec<Change>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, change_uid, hlc, entity, uid, op, payload, base_hlc, schema_version FROM sync_outbox
             WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![first, limit as i64], |r| {
                let payload: String = r.get(6)?;
                Ok(Change {
                    seq: r.get(0)?,
                    change_uid: r.get(1)?,
                    hlc: r.get(2)?,
                    entity: r.get(3)?,
                    uid: r.get(4)?,
                    op: r.get(5)?,
                    payload: serde_json::from_str(&payload).unwrap_or_default(),
                    base_hlc: r.get(7)?,
                    schema_version: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The hub has every change through `seq`: drop them from the outbox.
    pub fn outbox_done(&self, seq: i64) -> Result<()> {
        self.conn().exec("DELETE FROM sync_outbox WHERE seq <= ?1", [seq])?;
        Ok(())
    }

    /// What is waiting to be pushed, and how far the hub's log has been pulled.
    pub fn sync_position(&self) -> Result<SyncPosition> {
        let conn = self.read()?;
        let (pending, first): (i64, Option<i64>) =
            conn.row("SELECT count(*), min(seq) FROM sync_outbox", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let pulled = meta(&conn, "sync.pulled_after")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(SyncPosition { pending: pending as u64, first_pending: first, pulled_after: pulled })
    }

    /// The next outbox seq (the one after every change ever written here).
    pub fn outbox_next_seq(&self) -> Result<i64> {
        let conn = self.read()?;
        let last: Option<i64> =
            conn.row("SELECT seq FROM sqlite_sequence WHERE name = 'sync_outbox'", [], |r| r.get(0)).optional()?;
        Ok(last.unwrap_or(0) + 1)
    }

    /// Pair this device with the hub at `url` (its changes go to the outbox from now
    /// on), and queue what it already has that the hub should get: its canonical
    /// answers and their phrasings, and the rules it changed. One transaction.
    pub fn sync_pair(&self, url: &str, device: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let was = meta(&tx, "sync.hub_url")?;
        put_meta(&tx, "sync.hub_url", url)?;
        put_meta(&tx, "sync.device", device)?;
        if was.is_none() {
            tx.exec("DELETE FROM meta WHERE key = 'sync.pulled_after'", [])?;
            let ids: Vec<(i64, String)> = {
                let mut stmt = tx.prepare_cached("SELECT id, uid FROM canonical_answers ORDER BY id")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
                rows
            };
            for (id, uid) in ids {
                tx.exec(
                    "INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
                     SELECT fanline_hlc(), 'canonical', ?2, 'add', json_object('agent', g.name,
                         'question', a.question_pattern, 'answer', a.answer, 'layer', a.layer)
                     FROM canonical_answers a JOIN agents g ON g.id = a.agent_id WHERE a.id = ?1",
                    params![id, uid],
                )?;
                tx.exec(
                    "INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
                     SELECT fanline_hlc(), 'canonical', ?2, 'variant_add', json_object('text', text)
                     FROM canonical_variants WHERE canonical_answer_id = ?1 AND is_pattern = 0 ORDER BY id",
                    params![id, uid],
                )?;
            }
            // Its conversations' messages and their decisions (read as they are when pushed).
            tx.exec(
                "INSERT INTO sync_outbox (hlc, entity, uid, op)
                 SELECT fanline_hlc(), 'message', uid, 'message_add' FROM messages WHERE uid IS NOT NULL ORDER BY id",
                [],
            )?;
            tx.exec(
                "INSERT INTO sync_outbox (hlc, entity, uid, op)
                 SELECT fanline_hlc(), 'decision', uid, 'decision_add' FROM decisions WHERE uid IS NOT NULL ORDER BY id",
                [],
            )?;
            // Its documents (read as they are when pushed).
            tx.exec(
                "INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
                 SELECT fanline_hlc(), 'document', uid, 'document_put', json_object('content_hash', content_hash)
                 FROM documents WHERE uid IS NOT NULL ORDER BY id",
                [],
            )?;
            // Rules and policies edited here (with their timestamps: the later wins on the hub).
            let agents: Vec<(i64, String)> = {
                let mut stmt = tx.prepare_cached("SELECT id, name FROM agents ORDER BY id")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
                rows
            };
            for (id, name) in agents {
                let rules = serde_json::to_value(crate::agents::read_config(&tx, id)?).unwrap_or_default();
                let policy: Option<String> =
                    tx.row("SELECT text FROM last_valid_policy WHERE agent_id = ?1", [id], |r| r.get(0)).optional()?;
                let mut stmt = tx.prepare_cached(
                    "SELECT field, hlc FROM sync_fields WHERE entity = 'rules' AND uid = ?1 ORDER BY hlc",
                )?;
                let fields: Vec<(String, String)> =
                    stmt.query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
                for (field, hlc) in fields {
                    let value = match field.as_str() {
                        "policy" => policy.clone().unwrap_or_default(),
                        f => rules.get(f).map(|v| v.to_string()).unwrap_or_default(),
                    };
                    tx.exec(
                        "INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
                         VALUES (?1, 'rules', ?2, 'set', json_object('field', ?3, 'value', ?4))",
                        params![hlc, name, field, value],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The hub this device syncs with, if it is paired.
    pub fn sync_hub(&self) -> Result<Option<(String, String)>> {
        let conn = self.read()?;
        let url = meta(&conn, "sync.hub_url")?;
        let device = meta(&conn, "sync.device")?.unwrap_or_default();
        Ok(url.map(|u| (u, device)))
    }

    /// Stop syncing (the outbox is kept until a new pairing empties it).
    pub fn sync_unpair(&self) -> Result<()> {
        self.conn().exec("DELETE FROM meta WHERE key IN ('sync.hub_url', 'sync.device')", [])?;
        Ok(())
    }

    /// The hub: a page of its log after `after` (seq, entity, uid), and its newest position.
    pub fn sync_log(&self, after: i64, limit: usize) -> Result<(Vec<LogRow>, i64)> {
        let conn = self.read()?;
        let mut stmt =
            conn.prepare_cached("SELECT seq, entity, uid FROM sync_log WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let head: i64 = conn.row("SELECT coalesce(max(seq), 0) FROM sync_log", [], |r| r.get(0))?;
        Ok((rows, head))
    }

    /// An escalation's state for sync (none: no such uid here).
    pub fn escalation_data(&self, uid: &str) -> Result<Option<EscalationData>> {
        let conn = self.read()?;
        Ok(conn
            .row(
                "SELECT g.name, f.uid, f.handle, f.tier, f.layer, e.question, e.reason, e.status, e.priority,
                        e.context_summary, e.answer, e.answer_layer, c.uid, e.offered_at, e.accepted_at,
                        e.answered_at, e.declined_at, e.expires_at, e.deferred_until, e.expected_reply_after, m.uid
                 FROM escalations e JOIN agents g ON g.id = e.agent_id JOIN fans f ON f.id = e.fan_id
                 LEFT JOIN canonical_answers c ON c.id = e.canonical_answer_id
                 LEFT JOIN messages m ON m.id = e.message_id WHERE e.uid = ?1",
                [uid],
                |r| {
                    Ok(EscalationData {
                        agent: r.get(0)?,
                        fan: FanData { uid: r.get(1)?, handle: r.get(2)?, tier: r.get(3)?, layer: r.get(4)? },
                        question: r.get(5)?,
                        reason: r.get(6)?,
                        status: r.get(7)?,
                        priority: r.get(8)?,
                        context_summary: r.get(9)?,
                        answer: r.get(10)?,
                        answer_layer: r.get(11)?,
                        canonical_uid: r.get(12)?,
                        offered_at: r.get(13)?,
                        accepted_at: r.get(14)?,
                        answered_at: r.get(15)?,
                        declined_at: r.get(16)?,
                        expires_at: r.get(17)?,
                        deferred_until: r.get(18)?,
                        expected_reply_after: r.get(19)?,
                        message_uid: r.get(20)?,
                    })
                },
            )
            .optional()?)
    }

    /// A canonical answer's state for sync (none: no such uid here).
    pub fn canonical_data(&self, uid: &str) -> Result<Option<CanonicalData>> {
        let conn = self.read()?;
        canonical_data(&conn, uid)
    }

    /// The stored embeddings of a canonical answer's question pattern and phrasings.
    pub fn canonical_phrasing_vectors(&self, uid: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT v.text, v.embedding FROM canonical_variants v JOIN canonical_answers a ON a.id = v.canonical_answer_id
             WHERE a.uid = ?1",
        )?;
        let rows = stmt.query_map([uid], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The hub: how far `device`'s changes have been applied.
    pub fn pushed_through(&self, device_id: i64) -> Result<i64> {
        let conn = self.read()?;
        Ok(conn
            .row("SELECT pushed_through FROM sync_devices WHERE device_id = ?1", [device_id], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// The hub: `device`'s changes through `seq` are applied.
    pub fn set_pushed_through(&self, device_id: i64, seq: i64) -> Result<()> {
        self.conn().exec(
            "INSERT INTO sync_devices (device_id, pushed_through, last_push_at)
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (device_id) DO UPDATE SET pushed_through = max(pushed_through, excluded.pushed_through),
                 last_push_at = excluded.last_push_at",
            params![device_id, seq],
        )?;
        Ok(())
    }

    /// Tell devices that `uid` does not exist here (a canonical answer a device wrote
    /// with an answer that lost): its record will say it is gone.
    pub fn log_gone(&self, entity: &str, uid: &str) -> Result<()> {
        touch_log(&self.conn(), entity, uid)
    }

    /// The local id of a synced row by its uid (`table`: escalations, canonical_answers, fans).
    pub fn id_by_uid(&self, table: SyncTable, uid: &str) -> Result<Option<i64>> {
        let conn = self.read()?;
        let sql = format!("SELECT id FROM {} WHERE uid = ?1", table.name());
        Ok(conn.query_row(&sql, [uid], |r| r.get(0)).optional()?)
    }

    /// Give a row made here for a peer's change the uid the peer chose (and its field
    /// timestamps), so every node knows it by the same uid.
    pub fn adopt_canonical_uid(&self, id: i64, uid: &str, hlc: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let old: Option<String> = tx.row("SELECT uid FROM canonical_answers WHERE id = ?1", [id], |r| r.get(0))?;
        applying(|| {
            tx.exec(
                "UPDATE canonical_answers SET uid = ?2, answer_hlc = ?3, layer_hlc = ?3 WHERE id = ?1",
                params![id, uid, hlc],
            )
        })?;
        if let Some(old) = old.filter(|o| o != uid) {
            tx.exec("DELETE FROM sync_log WHERE entity = 'canonical' AND uid = ?1", [old])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Take in a node's tally of serves of a canonical answer (the larger of it and the
    /// one here); the count becomes the sum, and devices are told. Whether it grew.
    pub fn merge_tally(&self, uid: &str, node: &str, n: i64) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let grew = tx.exec(
            "INSERT INTO reuse_tallies (canonical_uid, node, n) VALUES (?1, ?2, ?3)
             ON CONFLICT (canonical_uid, node) DO UPDATE SET n = excluded.n WHERE excluded.n > n",
            params![uid, node, n.max(0)],
        )? > 0;
        if grew {
            applying(|| {
                tx.exec(
                    "UPDATE canonical_answers SET times_reused =
                         (SELECT coalesce(sum(n), 0) FROM reuse_tallies WHERE canonical_uid = ?1) WHERE uid = ?1",
                    [uid],
                )
            })?;
            touch_log(&tx, "canonical", uid)?;
        }
        tx.commit()?;
        Ok(grew)
    }

    /// Apply device `device_id`'s change `seq`: one field of a canonical answer set to
    /// `value` written at `hlc`, and the device's position moved past it, in one
    /// transaction (so the change is applied exactly once, with one commit).
    pub fn apply_canonical_field(
        &self,
        device_id: i64,
        seq: i64,
        id: i64,
        field: &str,
        value: &str,
        hlc: &str,
    ) -> Result<crate::IndexChange> {
        applying(|| {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let (mut removed, mut added) = (Vec::new(), Vec::new());
            match field {
                "answer" => {
                    tx.exec(
                        "UPDATE canonical_answers SET answer = ?2, answer_hlc = ?3 WHERE id = ?1",
                        params![id, value, hlc],
                    )?;
                }
                "layer" => {
                    let layer: fanline_engine::Layer = value.parse()?;
                    removed =
                        crate::canonical_edit::indexed_variants(&tx, id)?.into_iter().map(|(k, _, _)| k).collect();
                    tx.exec(
                        "UPDATE canonical_answers SET layer = ?2, layer_hlc = ?3 WHERE id = ?1",
                        params![id, layer.as_str(), hlc],
                    )?;
                    added = crate::canonical_edit::indexed_variants(&tx, id)?;
                }
                other => return Err(crate::Error::Invalid { what: "field", detail: other.to_string() }),
            }
            tx.exec(
                "INSERT INTO sync_devices (device_id, pushed_through, last_push_at)
                 VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                 ON CONFLICT (device_id) DO UPDATE SET pushed_through = max(pushed_through, excluded.pushed_through),
                     last_push_at = excluded.last_push_at",
                params![device_id, seq],
            )?;
            let generation = crate::index_log::log_change(&tx, removed.iter().chain(added.iter().map(|(k, _, _)| k)))?;
            tx.commit()?;
            Ok(crate::IndexChange { removed, added, generation })
        })
    }
}

/// The synced tables that rows are found in by uid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncTable {
    /// escalations
    Escalations,
    /// canonical_answers
    Canonical,
    /// fans
    Fans,
}

impl SyncTable {
    fn name(self) -> &'static str {
        match self {
            SyncTable::Escalations => "escalations",
            SyncTable::Canonical => "canonical_answers",
            SyncTable::Fans => "fans",
        }
    }
}

pub(crate) fn canonical_data(conn: &Connection, uid: &str) -> Result<Option<CanonicalData>> {
    let row = conn
        .row(
            "SELECT a.id, g.name, a.question_pattern, a.answer, a.layer, a.answer_hlc, a.layer_hlc, a.times_reused,
                    e.uid
             FROM canonical_answers a JOIN agents g ON g.id = a.agent_id
             LEFT JOIN escalations e ON e.id = a.source_escalation_id WHERE a.uid = ?1",
            [uid],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    CanonicalData {
                        agent: r.get(1)?,
                        question_pattern: r.get(2)?,
                        answer: r.get(3)?,
                        layer: r.get(4)?,
                        answer_hlc: r.get(5)?,
                        layer_hlc: r.get(6)?,
                        times_reused: r.get(7)?,
                        source_escalation_uid: r.get(8)?,
                        variants: Vec::new(),
                        vectors: None,
                        tallies: Default::default(),
                    },
                ))
            },
        )
        .optional()?;
    let Some((id, mut data)) = row else { return Ok(None) };
    let mut stmt = conn.prepare_cached(
        "SELECT text FROM canonical_variants WHERE canonical_answer_id = ?1 AND is_pattern = 0 ORDER BY text",
    )?;
    data.variants = stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached("SELECT node, n FROM reuse_tallies WHERE canonical_uid = ?1")?;
    data.tallies = stmt.query_map([uid], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(Some(data))
}

impl Store {
    /// Write a change to the outbox by hand (a conflict settled on this device).
    pub fn outbox_add(&self, entity: &str, uid: &str, op: &str, payload: &serde_json::Value) -> Result<()> {
        self.conn().exec(
            "INSERT INTO sync_outbox (hlc, entity, uid, op, payload) VALUES (fanline_hlc(), ?1, ?2, ?3, ?4)",
            params![entity, uid, op, payload.to_string()],
        )?;
        Ok(())
    }
}

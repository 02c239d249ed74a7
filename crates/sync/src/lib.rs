//! Fanline's sync protocol, as the hub and the creator's devices speak it (see
//! docs/sync.md). A star: every device syncs with the hub only.
//!
//! - A device writes each change it makes to an outbox, in the same transaction as the
//!   change, numbered 1, 2, 3… per device ([`Change`]). It pushes them in order
//!   ([`PushRequest`]); the hub applies each once and answers per change ([`Outcome`]).
//! - The hub keeps one log row per synced thing (an escalation, a canonical answer, a
//!   conflict), numbered by the hub in the transaction that changed it. A device pulls
//!   the records after its cursor ([`Page`]): each carries the thing's whole current
//!   state, so applying it twice does nothing new.
//! - Timestamps are hybrid logical clocks ([`hlc`]), used only to pick the winner of
//!   concurrent edits.

pub mod hlc;

pub use hlc::{Hlc, HlcClock};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The version of the changes and records this build writes and understands.
pub const SCHEMA_VERSION: u32 = 1;

/// What went wrong with a change or a record.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not something this protocol version can read.
    #[error("{0}")]
    Invalid(String),
    /// A peer's clock far ahead.
    #[error("{0}")]
    ClockAhead(String),
}

/// The kinds of thing that sync.
pub mod entity {
    /// An escalation: its lifecycle is arbitrated by the hub.
    pub const ESCALATION: &str = "escalation";
    /// A canonical answer with its phrasings.
    pub const CANONICAL: &str = "canonical";
    /// Two devices' answers or edits that met: kept for the creator to choose.
    pub const CONFLICT: &str = "conflict";
    /// An agent's rules and policy file (uid: the agent's name), per field.
    pub const RULES: &str = "rules";
    /// A document with its chunks, owned by the device that imported it.
    pub const DOCUMENT: &str = "document";
    /// A message of a fan's conversation (append-only).
    pub const MESSAGE: &str = "message";
    /// A routing decision (append-only).
    pub const DECISION: &str = "decision";
}

/// A change a device made: one row of its outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Its place in the device's outbox (1, 2, 3…, no holes).
    pub seq: i64,
    /// Unique across devices.
    pub change_uid: String,
    /// When it was made, by the device's clock.
    pub hlc: String,
    /// What it changes (see [`entity`]) and which one.
    pub entity: String,
    /// The thing's uid.
    pub uid: String,
    /// What was done (an [`Op`] tag).
    pub op: String,
    /// The op's fields.
    pub payload: Value,
    /// For an edit: the timestamp of the value it replaced, as the device last saw it.
    #[serde(default)]
    pub base_hlc: String,
    /// The protocol version that wrote it.
    pub schema_version: u32,
}

/// What a change does, read from its `op` and `payload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// The creator answered an escalation they saw at `expected_status`.
    Answer {
        /// The status the device saw (pending or accepted).
        expected_status: String,
        /// The answer.
        text: String,
        /// Who may see it.
        layer: String,
        /// The canonical answer it became (or an existing one it was attached to).
        canonical_uid: String,
        /// Attached to an existing answer rather than written anew.
        #[serde(default)]
        attached: bool,
    },
    /// The creator declined an escalation.
    Decline {
        /// The status the device saw.
        expected_status: String,
    },
    /// The creator put an escalation aside.
    Defer {
        /// Until when (RFC 3339).
        until: String,
    },
    /// A canonical answer written on the device.
    Add {
        /// The agent's name.
        agent: String,
        /// Its question pattern.
        question: String,
        /// The answer.
        answer: String,
        /// Who may see it.
        layer: String,
    },
    /// One field of a canonical answer edited (`answer` or `layer`).
    Set {
        /// The field.
        field: String,
        /// Its new value.
        value: String,
    },
    /// A node's count of serves of a canonical answer (a G-counter: the larger wins).
    Tally {
        /// The node that served.
        node: String,
        /// How many times, in all.
        n: i64,
    },
    /// A phrasing added to a canonical answer.
    VariantAdd {
        /// The phrasing.
        text: String,
    },
    /// A canonical answer deleted.
    Delete {},
    /// A document imported or re-imported: its whole state (read when pushed).
    DocumentPut {
        /// The content it had when the change was made.
        content_hash: String,
        /// The document as it is when pushed (none: deleted since).
        #[serde(default)]
        document: Option<DocumentData>,
    },
    /// A document deleted.
    DocumentDelete {},
    /// A message written here (its state when pushed).
    MessageAdd {
        /// The message (none: gone since).
        #[serde(default)]
        message: Option<MessageData>,
    },
    /// A decision written here (its state when pushed).
    DecisionAdd {
        /// The decision (none: gone since).
        #[serde(default)]
        decision: Option<DecisionData>,
    },
    /// The creator settled a conflict.
    Resolve {
        /// keep, correction, variant or restore.
        choice: String,
    },
}

impl Change {
    /// What the change does; an error for an op this build does not know.
    pub fn op(&self) -> Result<Op, Error> {
        let mut v = match &self.payload {
            Value::Object(m) => m.clone(),
            Value::Null => Default::default(),
            other => {
                return Err(Error::Invalid(format!("the payload of change {} is {other}, not an object", self.seq)))
            }
        };
        v.insert("op".into(), Value::String(self.op.clone()));
        serde_json::from_value(Value::Object(v))
            .map_err(|e| Error::Invalid(format!("change {} ({} {}): {e}", self.seq, self.entity, self.op)))
    }
}

/// A batch of a device's changes, in order, starting at `first_seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The seq of the first change (the one after what the hub has).
    pub first_seq: i64,
    /// At most [`MAX_PUSH`] changes with consecutive seqs.
    pub changes: Vec<Change>,
}

/// The largest push the hub takes at once.
pub const MAX_PUSH: usize = 500;

/// What became of one pushed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done.
    Applied,
    /// Already received (a retry).
    Duplicate,
    /// A later edit of the same field had already won; this one is kept as a conflict.
    Superseded,
    /// Another device got there first (an escalation answered twice); kept as a conflict.
    Conflict,
    /// Not valid here (an unknown escalation, an empty answer…), with the reason.
    Rejected,
}

/// One pushed change's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeResult {
    /// The change.
    pub seq: i64,
    /// What became of it.
    pub outcome: Outcome,
    /// Why, when it was not applied.
    #[serde(default)]
    pub detail: String,
}

/// The hub's answer to a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushReply {
    /// Every change of this device up to here is on the hub.
    pub pushed_through: i64,
    /// One per change sent.
    pub results: Vec<ChangeResult>,
    /// The hub's clock (the device takes it in).
    pub hub_hlc: String,
}

/// One synced thing's current state, at its place in the hub's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Its place in the hub's log (the cursor).
    pub seq: i64,
    /// What it is (see [`entity`]).
    pub entity: String,
    /// Which one.
    pub uid: String,
    /// The version that wrote `data`; a device older than it keeps the record aside.
    pub schema_version: u32,
    /// Its whole state, or none when it was deleted.
    pub data: Option<Value>,
}

/// A page of the hub's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The records after the cursor, in order.
    pub records: Vec<Record>,
    /// The cursor to ask from next (the last record's seq, or the same cursor).
    pub next_after: i64,
    /// Nothing more after this page.
    pub up_to_date: bool,
    /// The hub's clock.
    pub hub_hlc: String,
}

/// The largest page the hub gives.
pub const MAX_PAGE: usize = 1000;

/// What this device has on the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceState {
    /// The device's name.
    pub device: String,
    /// Its changes the hub has (the next push starts after it).
    pub pushed_through: i64,
    /// The hub's newest log position.
    pub head: i64,
}

/// A fan, as an escalation carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanData {
    /// The fan's uid.
    pub uid: String,
    /// Their handle.
    pub handle: String,
    /// Their tier.
    pub tier: String,
    /// The highest layer they may see.
    pub layer: String,
}

/// An escalation's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationData {
    /// The agent's name.
    pub agent: String,
    /// Who asked.
    pub fan: FanData,
    /// The question.
    pub question: String,
    /// novel, strategic or complex.
    pub reason: String,
    /// pending, accepted, answered, declined or expired.
    pub status: String,
    /// Its place in the queue.
    pub priority: i64,
    /// The conversation so far.
    pub context_summary: String,
    /// The answer delivered.
    pub answer: Option<String>,
    /// Its layer.
    pub answer_layer: Option<String>,
    /// The canonical answer it became or was attached to.
    pub canonical_uid: Option<String>,
    /// Timestamps (RFC 3339 as stored).
    pub offered_at: String,
    /// When the fan accepted.
    pub accepted_at: Option<String>,
    /// When it was answered.
    pub answered_at: Option<String>,
    /// When it was declined.
    pub declined_at: Option<String>,
    /// When it leaves the queue.
    pub expires_at: Option<String>,
    /// Put aside until then.
    pub deferred_until: Option<String>,
    /// Offered outside the creator's hours: when they are back.
    pub expected_reply_after: Option<String>,
    /// The fan's message it came from.
    #[serde(default)]
    pub message_uid: Option<String>,
}

/// A canonical answer's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanonicalData {
    /// The agent's name.
    pub agent: String,
    /// Its question pattern.
    pub question_pattern: String,
    /// The answer.
    pub answer: String,
    /// Who may see it.
    pub layer: String,
    /// When `answer` was last set (HLC text; empty before any edit).
    pub answer_hlc: String,
    /// When `layer` was last set.
    pub layer_hlc: String,
    /// Served so far: the sum of `tallies`.
    pub times_reused: i64,
    /// Serves per node.
    #[serde(default)]
    pub tallies: BTreeMap<String, i64>,
    /// The escalation it was born from.
    pub source_escalation_uid: Option<String>,
    /// Its other phrasings.
    pub variants: Vec<String>,
    /// The embeddings of its question pattern and phrasings, made by the model named:
    /// a node with the same model takes them, one with another model makes its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<Vectors>,
}

/// Embeddings that travel with a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vectors {
    /// The model that made them (`Embedder::model_id`).
    pub model: String,
    /// By text: the vector's f32s, little-endian, base64.
    pub by_text: BTreeMap<String, String>,
}

/// A document's state: what it is, its chunks, and their embeddings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentData {
    /// The agent's name.
    pub agent: String,
    /// Where it was imported from (on the device that imported it).
    pub source_path: String,
    /// Its title.
    pub title: String,
    /// markdown, text, html or pdf.
    pub format: String,
    /// Its content's hash.
    pub content_hash: String,
    /// Its size.
    pub bytes: u64,
    /// Who may see it.
    pub layer: String,
    /// Its chunks, in order.
    pub chunks: Vec<ChunkData>,
    /// The chunks' embeddings by `text_hash`, made by the model named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<Vectors>,
}

/// A message of a fan's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageData {
    /// The conversation's uid.
    pub conversation_uid: String,
    /// The agent's name.
    pub agent: String,
    /// The fan.
    pub fan: FanData,
    /// fan, agent or creator.
    pub role: String,
    /// The text.
    pub body: String,
    /// Its kind (message, reply, escalation.answered…), if kept.
    pub kind: Option<String>,
    /// The escalation it is about.
    pub escalation_uid: Option<String>,
    /// The message it replies to.
    pub reply_to_uid: Option<String>,
    /// When it was written (as stored).
    pub created_at: String,
}

/// A routing decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionData {
    /// The message it decided on.
    pub message_uid: String,
    /// The agent's name.
    pub agent: String,
    /// The fan.
    pub fan: FanData,
    /// A to F.
    pub path: String,
    /// Why.
    pub reason: String,
    /// Its signals (JSON text).
    pub signals: String,
    /// Its trace (JSON text).
    pub trace: String,
    /// What the fan read.
    pub reply: String,
    /// The canonical answer it served.
    pub canonical_uid: Option<String>,
    /// When (as stored).
    pub created_at: String,
}

/// One chunk of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkData {
    /// The headings above it.
    pub heading: String,
    /// Its text.
    pub text: String,
    /// The hash of the text it is searched and embedded by.
    pub text_hash: String,
}

/// Two devices' work that met, kept for the creator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConflictData {
    /// second_answer (an escalation answered on two devices), edit (a canonical field
    /// edited on two devices), late_decline, or edit_of_deleted.
    pub kind: String,
    /// What it is about (see [`entity`]) and which one.
    pub entity: String,
    /// Its uid.
    pub entity_uid: String,
    /// The field, for an edit.
    pub field: String,
    /// The value that lost (kept here).
    pub kept: String,
    /// The value that won (delivered, or now in place).
    pub winner: String,
    /// The device the losing value came from.
    pub device: String,
    /// When the losing value was written (HLC text).
    pub hlc: String,
    /// What the question was, for an answer.
    pub question: String,
    /// How the creator settled it (keep, correction, variant, restore), once they did.
    pub resolution: Option<String>,
}

/// Digests of what a node holds, per synced table, to compare with the hub.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// Per table: how many rows and a hash of their synced fields.
    pub tables: BTreeMap<String, TableDigest>,
}

/// One table's digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDigest {
    /// Rows.
    pub rows: u64,
    /// blake3 of the rows' synced fields, in uid order.
    pub hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(op: &str, payload: Value) -> Change {
        Change {
            seq: 1,
            change_uid: "c".into(),
            hlc: "1".into(),
            entity: entity::CANONICAL.into(),
            uid: "u".into(),
            op: op.into(),
            payload,
            base_hlc: String::new(),
            schema_version: SCHEMA_VERSION,
        }
    }

    #[test]
    fn ops_read_from_op_and_payload() {
        assert_eq!(
            change("set", json!({"field": "answer", "value": "x"})).op().unwrap(),
            Op::Set { field: "answer".into(), value: "x".into() }
        );
        assert_eq!(change("delete", Value::Null).op().unwrap(), Op::Delete {});
        let e = change("teleport", json!({})).op().unwrap_err().to_string();
        assert!(e.contains("teleport"), "{e}");
        assert!(change("set", json!({"field": "answer"})).op().is_err());
    }
}

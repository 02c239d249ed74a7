//! Sync between the hub and the creator's devices (docs/sync.md). The hub's side
//! (`hub`: apply a device's changes, serve its log) and a device's (`device`: pair,
//! push, pull, status, verify), over the protocol of `fanline-sync`.

mod device;
mod hub;
mod hub_escalations;
mod token;

pub use device::{SyncReport, SyncStatus, Verify};
pub use fanline_sync::{ConflictData, Digest, Outcome, Page, PushReply, PushRequest};

use crate::{Fanline, Result};
use serde::Serialize;

/// How long `v` is as JSON, counted without writing it out (a document's record holds
/// its chunks and vectors).
pub(crate) fn json_len(v: &serde_json::Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    let _ = serde_json::to_writer(&mut n, v);
    n.0
}

/// A conflict kept for the creator, with its uid (to settle it by).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Conflict {
    /// Its uid.
    pub uid: String,
    /// What met.
    #[serde(flatten)]
    pub data: ConflictData,
}

/// How the creator may settle a conflict of `kind`: an answer that lost can be sent as a
/// correction or kept as another answer; an edit that lost can be restored; the rest are
/// only noted.
pub fn choices(kind: &str) -> &'static [&'static str] {
    match kind {
        "second_answer" | "late_answer" => &["keep", "correction", "variant"],
        "edit" => &["keep", "restore"],
        _ => &["keep"],
    }
}

impl Fanline {
    /// Embeddings of `needed` (key, text to embed): the `shipped` ones when they were
    /// made by this node's model, the rest made here.
    pub(crate) fn take_or_embed(
        &self,
        shipped: Option<&fanline_sync::Vectors>,
        needed: Vec<(String, String)>,
    ) -> Result<std::collections::HashMap<String, Vec<f32>>> {
        use base64::Engine as _;
        let mut out = std::collections::HashMap::new();
        if needed.is_empty() {
            return Ok(out);
        }
        let embedder = self.embedder()?;
        let mut missing = Vec::new();
        for (key, text) in needed {
            let taken = shipped
                .filter(|v| v.model == embedder.model_id())
                .and_then(|v| v.by_text.get(&key))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|bytes| fanline_engine::vector::from_bytes(&bytes))
                .filter(|vec| vec.len() == embedder.dim());
            match taken {
                Some(vec) => {
                    out.insert(key, vec);
                }
                None if !out.contains_key(&key) => missing.push((key, text)),
                None => {}
            }
        }
        if !missing.is_empty() {
            let texts: Vec<&str> = missing.iter().map(|(_, t)| t.as_str()).collect();
            let vectors = embedder.embed(&texts)?;
            out.extend(missing.into_iter().map(|(k, _)| k).zip(vectors));
        }
        Ok(out)
    }

    /// Embeddings to travel with a record, stamped with this node's model.
    pub(crate) fn ship_vectors(&self, stored: Vec<(String, Vec<u8>)>) -> Result<fanline_sync::Vectors> {
        use base64::Engine as _;
        let by_text = stored
            .into_iter()
            .map(|(key, bytes)| (key, base64::engine::general_purpose::STANDARD.encode(bytes)))
            .collect();
        Ok(fanline_sync::Vectors { model: self.embedder()?.model_id().to_string(), by_text })
    }

    /// A document's state with its chunks' embeddings.
    pub(crate) fn document_record(&self, uid: &str) -> Result<Option<fanline_sync::DocumentData>> {
        let Some((mut data, stored)) = self.store.document_state(uid)? else { return Ok(None) };
        data.vectors = Some(self.ship_vectors(stored)?);
        Ok(Some(data))
    }

    /// Embeddings for a peer's document's chunks.
    pub(crate) fn document_vectors(
        &self,
        d: &fanline_sync::DocumentData,
    ) -> Result<std::collections::HashMap<String, Vec<f32>>> {
        let needed = d
            .chunks
            .iter()
            .map(|c| (c.text_hash.clone(), fanline_engine::chunk_search_text(&c.heading, &c.text)))
            .collect();
        self.take_or_embed(d.vectors.as_ref(), needed)
    }

    /// The conflicts kept here, unsettled first.
    pub fn sync_conflicts(&self) -> Result<Vec<Conflict>> {
        Ok(self.store.conflicts()?.into_iter().map(|(uid, data)| Conflict { uid, data }).collect())
    }

    /// What this node holds, as digests per synced table (to compare with the hub).
    pub fn sync_digest(&self) -> Result<Digest> {
        Ok(self.store.sync_digest()?)
    }

    /// One synced table's rows: key → hash (to name what differs).
    pub fn sync_rows(&self, table: &str) -> Result<std::collections::BTreeMap<String, String>> {
        Ok(self.store.sync_rows(table)?)
    }
}

//! Sync between the hub and the creator's devices (docs/sync.md). The hub's side
//! (`hub`: apply a device's changes, serve its log) and a device's (`device`: pair,
//! push, pull, status, verify), over the protocol of `fanline-sync`.

mod device;
mod hub;
mod token;

pub use device::{SyncReport, SyncStatus, Verify};
pub use fanline_sync::{ConflictData, Digest, Outcome, Page, PushReply, PushRequest};

use crate::{Fanline, Result};
use serde::Serialize;

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

/// How the creator settles a conflict.
pub const CHOICES: [&str; 4] = ["keep", "correction", "variant", "restore"];

impl Fanline {
    /// The conflicts kept here, unsettled first.
    pub fn sync_conflicts(&self) -> Result<Vec<Conflict>> {
        Ok(self.store.conflicts()?.into_iter().map(|(uid, data)| Conflict { uid, data }).collect())
    }

    /// What this node holds, as digests per synced table (to compare with the hub).
    pub fn sync_digest(&self) -> Result<Digest> {
        Ok(self.store.sync_digest()?)
    }
}

//! The hub's side of sync for a creator's work on escalations done on a device:
//! answered, declined or deferred there, applied here once, with conflicts kept when
//! the hub (or another device) did otherwise (docs/sync.md).

use super::hub::{done, rejected, Applied};
use crate::{Error, Fanline, Result};
use fanline_engine::{EscalationStatus, Layer};
use fanline_store::Offers;
use fanline_store::{applying, SyncTable};
use fanline_sync::{entity, Change, ConflictData, Outcome};

impl Fanline {
    pub(super) fn apply_answer(
        &self,
        device: &str,
        c: &Change,
        text: &str,
        layer: &str,
        canonical_uid: &str,
    ) -> Result<Applied> {
        let Some(id) = self.store.id_by_uid(SyncTable::Escalations, &c.uid)? else {
            return rejected("no such escalation on the hub");
        };
        let layer: Layer = layer.parse().map_err(|e: fanline_engine::Error| Error::InvalidInput(e.to_string()))?;
        let e = self.store.escalation(id)?;
        let lost =
            matches!(e.status, EscalationStatus::Answered | EscalationStatus::Declined | EscalationStatus::Expired);
        if lost && self.store.id_by_uid(SyncTable::Canonical, canonical_uid)?.is_none() {
            // The device wrote a canonical answer with its losing answer: it goes from
            // every device (the text is kept in the conflict).
            self.store.log_gone(entity::CANONICAL, canonical_uid)?;
        }
        match e.status {
            EscalationStatus::Pending | EscalationStatus::Accepted => {
                let existing = self.store.id_by_uid(SyncTable::Canonical, canonical_uid)?;
                let v = self.embedder()?.embed_one(&e.question)?;
                applying(|| -> Result<()> {
                    match existing {
                        Some(cid) => {
                            self.write_indexed(false, |s| s.attach_escalation(id, cid, &v).map(|x| ((), x)))?;
                        }
                        _ => {
                            let cid = self.write_indexed(false, |s| s.answer_escalation(id, text, layer, &v))?;
                            self.store.adopt_canonical_uid(cid, canonical_uid, &c.hlc)?;
                        }
                    }
                    Ok(())
                })?;
                done()
            }
            EscalationStatus::Answered => {
                let canonical = self.store.escalation_data(&c.uid)?.and_then(|d| d.canonical_uid);
                if e.answer.as_deref() == Some(text.trim()) && canonical.as_deref() == Some(canonical_uid) {
                    return Ok((Outcome::Duplicate, String::new()));
                }
                self.conflict(
                    ConflictData {
                        kind: "second_answer".into(),
                        entity: entity::ESCALATION.into(),
                        entity_uid: c.uid.clone(),
                        field: "answer".into(),
                        kept: text.trim().to_string(),
                        winner: e.answer.unwrap_or_default(),
                        device: device.to_string(),
                        hlc: c.hlc.clone(),
                        question: e.question,
                        resolution: None,
                    },
                    Outcome::Conflict,
                    "answered on another device first: this answer is kept as a conflict",
                )
            }
            status => self.conflict(
                ConflictData {
                    kind: "late_answer".into(),
                    entity: entity::ESCALATION.into(),
                    entity_uid: c.uid.clone(),
                    field: "answer".into(),
                    kept: text.trim().to_string(),
                    winner: status.to_string(),
                    device: device.to_string(),
                    hlc: c.hlc.clone(),
                    question: e.question,
                    resolution: None,
                },
                Outcome::Conflict,
                &format!("the escalation was {status} before this answer reached the hub: kept as a conflict"),
            ),
        }
    }

    pub(super) fn apply_decline(&self, device: &str, c: &Change) -> Result<Applied> {
        let Some(id) = self.store.id_by_uid(SyncTable::Escalations, &c.uid)? else {
            return rejected("no such escalation on the hub");
        };
        let e = self.store.escalation(id)?;
        match e.status {
            EscalationStatus::Pending | EscalationStatus::Accepted => {
                applying(|| self.queue_decline(id))?;
                done()
            }
            EscalationStatus::Declined => Ok((Outcome::Duplicate, String::new())),
            EscalationStatus::Answered => self.conflict(
                ConflictData {
                    kind: "late_decline".into(),
                    entity: entity::ESCALATION.into(),
                    entity_uid: c.uid.clone(),
                    field: "status".into(),
                    kept: "declined".into(),
                    winner: e.answer.unwrap_or_default(),
                    device: device.to_string(),
                    hlc: c.hlc.clone(),
                    question: e.question,
                    resolution: None,
                },
                Outcome::Conflict,
                "answered on another device first: the fan has that answer",
            ),
            status => Ok((Outcome::Superseded, format!("the escalation is {status}"))),
        }
    }

    pub(super) fn apply_defer(&self, c: &Change, until: &str) -> Result<Applied> {
        let Some(id) = self.store.id_by_uid(SyncTable::Escalations, &c.uid)? else {
            return rejected("no such escalation on the hub");
        };
        let until: chrono::DateTime<chrono::Utc> =
            until.parse().map_err(|e| Error::InvalidInput(format!("defer until {until:?}: {e}")))?;
        let e = self.store.escalation(id)?;
        if e.status != EscalationStatus::Accepted {
            return Ok((Outcome::Superseded, format!("the escalation is {}", e.status)));
        }
        if e.deferred_until == Some(until) {
            return Ok((Outcome::Duplicate, String::new()));
        }
        applying(|| self.store.defer_escalation(id, until))?;
        done()
    }
}

//! The hub's side of sync: apply a device's changes (each once, in order, with an
//! outcome per change), and serve the log of what changed.

use crate::hub::{DeviceAuth, Scope};
use crate::{Error, Fanline, NewCanonicalInput, Result};
use fanline_engine::Layer;
use fanline_store::Agents;
use fanline_store::Offers;
use fanline_store::{applying, SyncTable};
use fanline_sync::{
    entity, hlc::check_drift, Change, ConflictData, DeviceState, Hlc, Op, Outcome, Page, PushReply, PushRequest,
    Record, MAX_PAGE, MAX_PUSH, SCHEMA_VERSION,
};

pub(super) type Applied = (Outcome, String);

/// The uid a node gives its message telling a fan the creator's answer or decline (the
/// same on every node: see migration 0015).
fn is_told(uid: &str) -> bool {
    uid.starts_with("escalation.answered:") || uid.starts_with("escalation.declined:")
}

/// An incoming edit of one field against the value here: the later by HLC wins; an
/// edit not made on top of the value here was concurrent, and its loser is kept.
struct FieldEdit<'a> {
    change: &'a Change,
    entity: &'static str,
    field: &'a str,
    value: &'a str,
    current: String,
    current_hlc: String,
    /// The question, for a canonical answer's edit.
    question: String,
}

impl FieldEdit<'_> {
    fn duplicate(&self) -> bool {
        self.change.hlc == self.current_hlc
    }

    fn wins(&self) -> bool {
        self.change.hlc.as_str() > self.current_hlc.as_str()
    }

    fn concurrent(&self) -> bool {
        self.change.base_hlc != self.current_hlc && self.current != self.value
    }

    /// The conflict that keeps the loser: the value here when the edit wins (its
    /// device unknown), else the edit, from `device`.
    fn conflict(&self, device: &str) -> ConflictData {
        let c = self.change;
        let (winner, kept, from, hlc) = match self.wins() {
            true => (self.value, self.current.as_str(), "", self.current_hlc.as_str()),
            false => (self.current.as_str(), self.value, device, c.hlc.as_str()),
        };
        ConflictData {
            kind: "edit".into(),
            entity: self.entity.into(),
            entity_uid: c.uid.clone(),
            field: self.field.into(),
            kept: kept.into(),
            winner: winner.into(),
            device: from.into(),
            hlc: hlc.into(),
            question: self.question.clone(),
            resolution: None,
        }
    }
}

pub(super) fn done() -> Result<Applied> {
    Ok((Outcome::Applied, String::new()))
}

pub(super) fn rejected(why: impl Into<String>) -> Result<Applied> {
    Ok((Outcome::Rejected, why.into()))
}

impl Fanline {
    fn now_ms(&self) -> u64 {
        self.now().timestamp_millis().max(0) as u64
    }

    /// What a device has on the hub: its changes applied so far, and the log's head.
    pub fn sync_state(&self, auth: &DeviceAuth) -> Result<DeviceState> {
        Ok(DeviceState {
            device: auth.device.name.clone(),
            pushed_through: self.store.pushed_through(auth.device.id)?,
            head: self.sync_head(auth)?,
        })
    }

    /// The hub's newest log position (the poke stream watches it).
    pub fn sync_head(&self, auth: &DeviceAuth) -> Result<i64> {
        auth.require(Scope::Read)?;
        Ok(self.store.sync_log(i64::MAX, 0)?.1)
    }

    /// Apply a device's changes in order. Each is applied once: one the hub has
    /// already is a duplicate; a batch that starts after a hole is refused with the
    /// position to push from; a device clock far ahead refuses the batch.
    pub fn sync_apply(&self, auth: &DeviceAuth, req: &PushRequest) -> Result<PushReply> {
        auth.require(Scope::Admin)?;
        if req.changes.len() > MAX_PUSH {
            return Err(Error::InvalidInput(format!("push at most {MAX_PUSH} changes at once")));
        }
        if let Some((i, c)) = req.changes.iter().enumerate().find(|(i, c)| c.seq != req.first_seq + *i as i64) {
            return Err(Error::InvalidInput(format!(
                "change {} of the batch has seq {}, expected {} (changes are pushed in order, without holes)",
                i + 1,
                c.seq,
                req.first_seq + i as i64
            )));
        }
        let device = auth.device.id;
        let through = self.store.pushed_through(device)?;
        if req.first_seq > through + 1 && !req.changes.is_empty() {
            return Err(Error::SyncGap(format!(
                "the hub has this device's changes through {through}; push from {} (this batch starts at {})",
                through + 1,
                req.first_seq
            )));
        }
        let mut stamps = Vec::with_capacity(req.changes.len());
        for c in &req.changes {
            let h: Hlc = c.hlc.parse().map_err(|e: fanline_sync::Error| Error::InvalidInput(e.to_string()))?;
            check_drift(h, self.now_ms()).map_err(|e| Error::ClockAhead(e.to_string()))?;
            stamps.push(h);
        }
        self.flushing_once(|| self.apply_batch(auth, req, through, stamps))
    }

    fn apply_batch(&self, auth: &DeviceAuth, req: &PushRequest, through: i64, stamps: Vec<Hlc>) -> Result<PushReply> {
        let device = auth.device.id;
        let mut results = Vec::with_capacity(req.changes.len());
        let mut pushed = through;
        for (c, h) in req.changes.iter().zip(stamps) {
            let (outcome, detail) = if c.seq <= through {
                (Outcome::Duplicate, String::new())
            } else {
                let (outcome, detail, recorded) = self.apply_change(auth, c)?;
                if !recorded {
                    self.store.set_pushed_through(device, c.seq)?;
                }
                pushed = c.seq;
                (outcome, detail)
            };
            self.store.hlc_recv(h)?;
            results.push(fanline_sync::ChangeResult { seq: c.seq, outcome, detail });
        }
        Ok(PushReply { pushed_through: pushed.max(through), results, hub_hlc: self.store.hlc_last().to_string() })
    }

    /// The hub's log after `after`: at most `limit` records, each the thing's whole
    /// current state.
    pub fn sync_changes(&self, auth: &DeviceAuth, after: i64, limit: usize) -> Result<Page> {
        auth.require(Scope::Read)?;
        // A page stops at `limit` records or about `sync.page_bytes` (documents carry
        // their chunks).
        let max_bytes = self.config.sync.page_bytes.max(1);
        let (rows, head) = self.store.sync_log(after.max(0), limit.min(MAX_PAGE))?;
        let mut records = Vec::with_capacity(rows.len());
        let mut bytes = 0;
        for (seq, kind, uid) in rows {
            if bytes >= max_bytes {
                break;
            }
            let data = match kind.as_str() {
                entity::ESCALATION => self.store.escalation_data(&uid)?.map(serde_json::to_value),
                entity::CANONICAL => self.canonical_record(&uid)?.map(serde_json::to_value),
                entity::CONFLICT => self.store.conflict_data(&uid)?.map(serde_json::to_value),
                entity::RULES => self.store.rules_data(&uid)?.map(serde_json::to_value),
                entity::DOCUMENT => self.document_record(&uid)?.map(serde_json::to_value),
                entity::MESSAGE => self.store.message_state(&uid)?.map(serde_json::to_value),
                entity::DECISION => self.store.decision_state(&uid)?.map(serde_json::to_value),
                _ => None,
            }
            .transpose()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
            bytes += data.as_ref().map(super::json_len).unwrap_or(0);
            records.push(Record { seq, entity: kind, uid, schema_version: SCHEMA_VERSION, data });
        }
        let next_after = records.last().map(|r| r.seq).unwrap_or(after.max(0));
        Ok(Page { records, next_after, up_to_date: next_after >= head, hub_hlc: self.store.hlc_last().to_string() })
    }

    /// A canonical answer's state with the hub's embeddings of its phrasings.
    fn canonical_record(&self, uid: &str) -> Result<Option<fanline_sync::CanonicalData>> {
        let Some(mut data) = self.store.canonical_data(uid)? else { return Ok(None) };
        data.vectors = Some(self.ship_vectors(self.store.canonical_phrasing_vectors(uid)?)?);
        Ok(Some(data))
    }

    /// Apply one change; a change that cannot apply here is an outcome, not an error.
    /// `true` when the device's position was moved past it in the same transaction.
    fn apply_change(&self, auth: &DeviceAuth, c: &Change) -> Result<(Outcome, String, bool)> {
        if c.schema_version > SCHEMA_VERSION {
            let why = format!(
                "written by a newer Fanline (sync version {}; this hub knows {SCHEMA_VERSION}): update the hub",
                c.schema_version
            );
            return Ok((Outcome::Rejected, why, false));
        }
        if let (entity::CANONICAL, Ok(Op::Set { field, value })) = (c.entity.as_str(), c.op()) {
            return self.apply_set(auth, c, &field, &value);
        }
        if let (entity::RULES, Ok(Op::Set { field, value })) = (c.entity.as_str(), c.op()) {
            return self.apply_rules_set(&auth.device.name, c, &field, &value).map(|(o, d)| (o, d, false));
        }
        self.apply_other(&auth.device.name, c).map(|(o, d)| (o, d, false))
    }

    fn apply_other(&self, device: &str, c: &Change) -> Result<Applied> {
        let op = match c.op() {
            Ok(op) => op,
            Err(e) => return rejected(e.to_string()),
        };
        let result = match (c.entity.as_str(), op) {
            // The canonical answer is the one named, when the hub has it (attached, or
            // written here first); else the answer writes it under that uid.
            (entity::ESCALATION, Op::Answer { text, layer, canonical_uid, .. }) => {
                self.apply_answer(device, c, &text, &layer, &canonical_uid)
            }
            (entity::ESCALATION, Op::Decline { .. }) => self.apply_decline(device, c),
            (entity::ESCALATION, Op::Defer { until }) => self.apply_defer(c, &until),
            (entity::CANONICAL, Op::Add { agent, question, answer, layer }) => {
                self.apply_add(c, &agent, &question, &answer, &layer)
            }
            (entity::CANONICAL, Op::VariantAdd { text }) => self.apply_variant(c, &text),
            (entity::CANONICAL, Op::Tally { node, n }) => match self.store.id_by_uid(SyncTable::Canonical, &c.uid)? {
                None => Ok((Outcome::Superseded, "the answer was deleted".into())),
                Some(_) => Ok(match self.store.merge_tally(&c.uid, &node, n)? {
                    true => (Outcome::Applied, String::new()),
                    false => (Outcome::Duplicate, String::new()),
                }),
            },
            (entity::CANONICAL, Op::Delete {}) => match self.store.id_by_uid(SyncTable::Canonical, &c.uid)? {
                None => Ok((Outcome::Duplicate, String::new())),
                Some(id) => applying(|| self.canonical_delete(id)).map(|_| (Outcome::Applied, String::new())),
            },
            (entity::CONFLICT, Op::Resolve { choice }) => self.resolve_here(&c.uid, &choice),
            (entity::DOCUMENT, Op::DocumentPut { document: None, .. }) => {
                Ok((Outcome::Superseded, "the document was deleted on the device".into()))
            }
            (entity::DOCUMENT, Op::DocumentPut { document: Some(d), .. }) => {
                let same = self.store.document_version(&c.uid)?
                    == Some((d.content_hash.clone(), d.layer.clone(), d.title.clone()));
                if same {
                    return Ok((Outcome::Duplicate, String::new()));
                }
                let vectors = self.document_vectors(&d)?;
                applying(|| {
                    self.write_indexed(true, |s| s.put_synced_document(&c.uid, &d, &vectors).map(|x| ((), x)))
                })?;
                done()
            }
            (entity::MESSAGE, Op::MessageAdd { message }) => match message {
                None => Ok((Outcome::Superseded, "the message is gone from the device".into())),
                // The hub's own copy of a message (the creator's answer, told to the
                // fan when the hub applied it) stands.
                // A device's own copy of telling a fan the creator's answer or decline:
                // the hub wrote its copy when the command won; if it has none, the
                // command lost, and the copy goes from the device too.
                Some(_) if is_told(&c.uid) && self.store.message_state(&c.uid)?.is_none() => {
                    self.store.log_gone(entity::MESSAGE, &c.uid)?;
                    Ok((Outcome::Superseded, "the command it told the fan about did not win".into()))
                }
                Some(m) => Ok(match self.store.put_synced_message(&c.uid, &m, false)? {
                    true => (Outcome::Applied, String::new()),
                    false => (Outcome::Duplicate, String::new()),
                }),
            },
            (entity::DECISION, Op::DecisionAdd { decision }) => match decision {
                None => Ok((Outcome::Superseded, "the decision is gone from the device".into())),
                Some(d) => Ok(match self.store.put_synced_decision(&c.uid, &d)? {
                    true => (Outcome::Applied, String::new()),
                    false => (Outcome::Duplicate, String::new()),
                }),
            },
            (entity::DOCUMENT, Op::DocumentDelete {}) => {
                if self.store.document_version(&c.uid)?.is_none() {
                    return Ok((Outcome::Duplicate, String::new()));
                }
                applying(|| self.write_indexed(false, |s| s.delete_synced_document(&c.uid).map(|x| ((), x))))?;
                done()
            }
            (kind, op) => rejected(format!("{op:?} does not apply to a {kind}")),
        };
        match result {
            // What the use case refused (an empty answer, a bad layer) is this change's outcome.
            Err(e @ (Error::InvalidInput(_) | Error::NoAgent { .. } | Error::Conflict(_))) => rejected(e.to_string()),
            Err(Error::Store(e @ (fanline_store::Error::NotFound { .. } | fanline_store::Error::Invalid { .. }))) => {
                rejected(e.to_string())
            }
            other => other,
        }
    }

    pub(super) fn conflict(&self, c: ConflictData, outcome: Outcome, why: &str) -> Result<Applied> {
        self.store.add_conflict(&c)?;
        Ok((outcome, why.to_string()))
    }

    fn apply_add(&self, c: &Change, agent: &str, question: &str, answer: &str, layer: &str) -> Result<Applied> {
        if self.store.id_by_uid(SyncTable::Canonical, &c.uid)?.is_some() {
            return Ok((Outcome::Duplicate, String::new()));
        }
        let layer: Layer = layer.parse().map_err(|e: fanline_engine::Error| Error::InvalidInput(e.to_string()))?;
        let input = NewCanonicalInput { question: question.into(), answer: answer.into(), variants: Vec::new(), layer };
        let added = applying(|| self.canonical_add(Some(agent), &input))?;
        self.store.adopt_canonical_uid(added.id, &c.uid, &c.hlc)?;
        done()
    }

    /// An edit that a later one beat: kept as a conflict when it was concurrent.
    fn edit_lost(&self, edit: &FieldEdit<'_>, device: &str, what: &str) -> Result<Applied> {
        match edit.concurrent() {
            true => self.conflict(
                edit.conflict(device),
                Outcome::Superseded,
                &format!("a later edit of this {what} won: this one is kept as a conflict"),
            ),
            false => Ok((Outcome::Superseded, format!("a later edit of this {what} won"))),
        }
    }

    fn apply_set(&self, auth: &DeviceAuth, c: &Change, field: &str, value: &str) -> Result<(Outcome, String, bool)> {
        let device = auth.device.name.as_str();
        let unrecorded = |r: Result<Applied>| r.map(|(o, d)| (o, d, false));
        let Some(id) = self.store.id_by_uid(SyncTable::Canonical, &c.uid)? else {
            return unrecorded(self.conflict(
                ConflictData {
                    kind: "edit_of_deleted".into(),
                    entity: entity::CANONICAL.into(),
                    entity_uid: c.uid.clone(),
                    field: field.into(),
                    kept: value.into(),
                    winner: String::new(),
                    device: device.into(),
                    hlc: c.hlc.clone(),
                    question: String::new(),
                    resolution: None,
                },
                Outcome::Superseded,
                "the answer was deleted: the edit is kept as a conflict",
            ));
        };
        let now = self.store.canonical_data(&c.uid)?.ok_or_else(|| Error::InvalidInput("vanished".into()))?;
        let (current, current_hlc) = match field {
            "answer" => (now.answer, now.answer_hlc),
            "layer" => (now.layer, now.layer_hlc),
            other => return unrecorded(rejected(format!("the field {other:?} does not sync"))),
        };
        let edit = FieldEdit {
            change: c,
            entity: entity::CANONICAL,
            field,
            value,
            current,
            current_hlc,
            question: now.question_pattern,
        };
        if edit.duplicate() {
            return Ok((Outcome::Duplicate, String::new(), false));
        }
        if field == "answer" && value.trim().is_empty() {
            return unrecorded(rejected("the answer is empty"));
        }
        if !edit.wins() {
            return unrecorded(self.edit_lost(&edit, device, "field"));
        }
        if field == "layer" && value.parse::<Layer>().is_err() {
            return unrecorded(rejected(format!("{value:?} is not a layer")));
        }
        if edit.concurrent() {
            self.store.add_conflict(&edit.conflict(device))?;
        }
        let (value, hlc) = (value.trim(), c.hlc.as_str());
        self.write_indexed(false, |s| {
            s.apply_canonical_field(auth.device.id, c.seq, id, field, value, hlc).map(|x| ((), x))
        })?;
        Ok((Outcome::Applied, String::new(), true))
    }

    /// One of an agent's rules (JSON) or its policy file (text), set on a device: the
    /// later edit wins, a concurrent one is kept as a conflict.
    fn apply_rules_set(&self, device: &str, c: &Change, field: &str, value: &str) -> Result<Applied> {
        let Some(data) = self.store.rules_data(&c.uid)? else {
            return rejected(format!("no agent {:?} on the hub", c.uid));
        };
        let current = match field {
            "policy" => data.policy.clone().unwrap_or_default(),
            f => match data.rules.get(f) {
                Some(v) => v.to_string(),
                None => return rejected(format!("{f:?} is not a rule")),
            },
        };
        let edit = FieldEdit {
            change: c,
            entity: entity::RULES,
            field,
            value,
            current,
            current_hlc: data.hlcs.get(field).cloned().unwrap_or_default(),
            question: String::new(),
        };
        if edit.duplicate() {
            return Ok((Outcome::Duplicate, String::new()));
        }
        if !edit.wins() {
            return self.edit_lost(&edit, device, "rule");
        }
        applying(|| self.set_rules_field(&c.uid, field, value))?;
        self.store.set_field_hlc(entity::RULES, &c.uid, field, &c.hlc)?;
        if edit.concurrent() {
            self.store.add_conflict(&edit.conflict(device))?;
        }
        done()
    }

    /// Set one rule (its JSON value) or the policy file (its text) of an agent.
    pub(crate) fn set_rules_field(&self, agent: &str, field: &str, value: &str) -> Result<()> {
        if field == "policy" {
            self.policy_save(agent, value)?;
            return Ok(());
        }
        let mut all = serde_json::to_value(self.rules(Some(agent))?).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let v: serde_json::Value =
            serde_json::from_str(value).map_err(|e| Error::InvalidInput(format!("{field}: {e}")))?;
        all[field] = v;
        let rules: fanline_engine::AgentConfig =
            serde_json::from_value(all).map_err(|e| Error::InvalidInput(format!("{field}: {e}")))?;
        self.set_rules(Some(agent), &rules)?;
        Ok(())
    }

    fn apply_variant(&self, c: &Change, text: &str) -> Result<Applied> {
        let Some(id) = self.store.id_by_uid(SyncTable::Canonical, &c.uid)? else {
            return Ok((Outcome::Superseded, "the answer was deleted".into()));
        };
        if self.store.canonical_texts(&c.uid)?.iter().any(|t| t == text.trim()) {
            return Ok((Outcome::Duplicate, String::new()));
        }
        applying(|| self.canonical_add_variant(id, text))?;
        done()
    }

    /// Settle a conflict where it is kept (the hub, or a desktop without a hub).
    pub(crate) fn resolve_here(&self, uid: &str, choice: &str) -> Result<Applied> {
        let Some(c) = self.store.conflict_data(uid)? else { return rejected("no such conflict") };
        if let Some(r) = &c.resolution {
            return Ok(match r == choice {
                true => (Outcome::Duplicate, String::new()),
                false => (Outcome::Superseded, format!("already settled ({r})")),
            });
        }
        let allowed = super::choices(&c.kind);
        if !allowed.contains(&choice) {
            return rejected(format!("{choice:?} does not settle a {} conflict ({})", c.kind, allowed.join(", ")));
        }
        match (choice, c.entity.as_str()) {
            ("keep", _) => {}
            ("correction", entity::ESCALATION) => {
                let id = self.escalation_by_uid(&c.entity_uid)?;
                let e = self.store.escalation(id)?;
                self.store.correct_escalation_answer(id, &c.kept)?;
                if let Some(cid) = e.canonical_answer_id {
                    self.canonical_update(cid, Some(&c.kept), None)?;
                }
            }
            ("variant", entity::ESCALATION) => {
                let id = self.escalation_by_uid(&c.entity_uid)?;
                let e = self.store.escalation(id)?;
                let agent = self.store.agent_by_id(e.agent_id)?;
                let input = NewCanonicalInput {
                    question: c.question.clone(),
                    answer: c.kept.clone(),
                    variants: Vec::new(),
                    layer: e.answer_layer.unwrap_or(Layer::Public),
                };
                self.canonical_add(Some(&agent.name), &input)?;
            }
            ("restore", entity::RULES) => self.set_rules_field(&c.entity_uid, &c.field, &c.kept)?,
            ("restore", entity::CANONICAL) => {
                let id = self
                    .store
                    .id_by_uid(SyncTable::Canonical, &c.entity_uid)?
                    .ok_or_else(|| Error::InvalidInput("the answer was deleted".into()))?;
                match c.field.as_str() {
                    "layer" => {
                        let layer: Layer =
                            c.kept.parse().map_err(|e: fanline_engine::Error| Error::InvalidInput(e.to_string()))?;
                        self.canonical_update(id, None, Some(layer))?
                    }
                    _ => self.canonical_update(id, Some(&c.kept), None)?,
                };
            }
            (choice, kind) => {
                return rejected(format!("{choice:?} does not settle a conflict about a {kind} (keep, correction or variant for an answer; keep or restore for an edit)"))
            }
        }
        self.store.resolve_conflict(uid, choice)?;
        done()
    }

    fn escalation_by_uid(&self, uid: &str) -> Result<i64> {
        self.store
            .id_by_uid(SyncTable::Escalations, uid)?
            .ok_or_else(|| Error::InvalidInput(format!("no escalation {uid} here")))
    }
}

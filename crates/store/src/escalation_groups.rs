//! Escalations answered as a group, and the ones the creator keeps out of groups.

use crate::escalations::{answer_in, attach_in};
use crate::index_log::log_change;
use crate::util::Cached;
use crate::{Error, IndexChange, Result, Store};
use fanline_engine::Layer;
use rusqlite::params;
use std::collections::HashSet;

impl Store {
    /// Answer every escalation of `group` (each with its question's embedding) with
    /// one answer, in one transaction: the first becomes a canonical answer at `layer`,
    /// the others' questions its phrasings; every fan is told. Returns the canonical
    /// answer.
    pub fn answer_escalation_group(
        &self,
        group: &[(i64, Vec<f32>)],
        answer: &str,
        layer: Layer,
    ) -> Result<(i64, IndexChange)> {
        let Some(((lead, lead_v), rest)) = group.split_first() else {
            return Err(Error::Invalid { what: "group", detail: "the group is empty".into() });
        };
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (canonical_id, mut added) = answer_in(&tx, *lead, answer, layer, lead_v)?;
        for (id, v) in rest {
            added.extend(attach_in(&tx, *id, canonical_id, v)?);
        }
        let generation = log_change(&tx, added.iter().map(|(k, _, _)| k))?;
        tx.commit()?;
        Ok((canonical_id, IndexChange { removed: Vec::new(), added, generation }))
    }

    /// Keep escalations out of every group (`alone`), or let them join one again.
    pub fn set_escalations_alone(&self, ids: &[i64], alone: bool) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for id in ids {
            if tx.exec("UPDATE escalations SET alone = ?2 WHERE id = ?1", params![id, alone])? == 0 {
                return Err(Error::not_found("escalation", *id));
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Which of `ids` the creator keeps out of groups.
    pub fn escalations_alone(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached("SELECT alone FROM escalations WHERE id = ?1")?;
        let mut out = HashSet::new();
        for id in ids {
            let alone: bool = stmt.query_row([id], |r| r.get(0))?;
            if alone {
                out.insert(*id);
            }
        }
        Ok(out)
    }
}

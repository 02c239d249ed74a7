//! Answer once, resolve many: the queue's escalations that ask the same thing, as
//! groups (by the reuse verdict's own test for a young answer, every pair; see
//! `fanline_engine::reuse::groups`), answered with one answer.

use crate::{Error, Fanline, QueueItem, Result};
use fanline_engine::reuse::groups::group;
use fanline_engine::Layer;
use fanline_store::CanonicalAnswer;
use fanline_store::Offers;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Escalations in the queue that ask the same thing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueGroup {
    /// The escalations, in queue order: the first leads the group.
    pub items: Vec<QueueItem>,
    /// The group's place in the queue: its highest member's priority.
    pub priority: i64,
    /// Distinct fans in it.
    pub fans: u32,
    /// The creator keeps this escalation by itself (taken out of its group).
    pub alone: bool,
}

impl Fanline {
    /// The creator's queue in groups of escalations that ask the same thing, by their
    /// highest priority (deferred ones last and never grouped). `limit` bounds the
    /// escalations read.
    pub fn queue_groups(&self, agent: Option<&str>, limit: usize) -> Result<Vec<QueueGroup>> {
        let items = self.queue(agent, limit)?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<&str> = items.iter().map(|i| i.question.as_str()).collect();
        let vectors = self.embedder()?.embed(&texts)?;
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let kept = self.store.escalations_alone(&ids)?;
        let now = self.now();
        let deferred = |i: &QueueItem| i.deferred_until.is_some_and(|d| d > now);
        let alone: Vec<bool> = items.iter().map(|i| kept.contains(&i.id) || deferred(i)).collect();
        let mut groups: Vec<QueueGroup> = group(&vectors, &alone, self.config.routing.reuse.young_threshold)
            .into_iter()
            .map(|members| {
                let items: Vec<QueueItem> = members.iter().map(|&i| items[i].clone()).collect();
                let fans: HashSet<&str> = items.iter().map(|i| i.fan.as_str()).collect();
                QueueGroup {
                    priority: items.iter().map(|i| i.priority).max().unwrap_or(0),
                    fans: fans.len() as u32,
                    alone: kept.contains(&items[0].id),
                    items,
                }
            })
            .collect();
        // Deferred last, then by the group's priority; the queue's order within ties.
        groups.sort_by_key(|g| (deferred(&g.items[0]), -g.priority));
        Ok(groups)
    }

    /// Answer escalations `ids` (a group) with one answer: one canonical answer at
    /// `layer` with every question as a phrasing; every fan receives it, attributed to
    /// the creator. One transaction.
    pub fn queue_answer_group(&self, ids: &[i64], text: &str, layer: Layer) -> Result<CanonicalAnswer> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::InvalidInput("the answer is empty".into()));
        }
        if ids.is_empty() {
            return Err(Error::InvalidInput("no escalation to answer".into()));
        }
        let mut unique = HashSet::new();
        if let Some(dup) = ids.iter().find(|id| !unique.insert(**id)) {
            return Err(Error::InvalidInput(format!("escalation {dup} is in the group twice")));
        }
        let questions: Vec<String> =
            ids.iter().map(|id| Ok(self.store.escalation(*id)?.question)).collect::<Result<_>>()?;
        let refs: Vec<&str> = questions.iter().map(String::as_str).collect();
        let vectors = self.embedder()?.embed(&refs)?;
        let group: Vec<(i64, Vec<f32>)> = ids.iter().copied().zip(vectors).collect();
        let canonical = self.write_indexed(false, |s| s.answer_escalation_group(&group, text, layer))?;
        self.flush()?;
        self.canonical_show(canonical)
    }

    /// Take escalation `id` out of its group (it stays by itself), or let it join one
    /// again (`alone` false).
    pub fn queue_keep_alone(&self, id: i64, alone: bool) -> Result<()> {
        Ok(self.store.set_escalations_alone(&[id], alone)?)
    }

    /// Split a group: every escalation of `ids` stays by itself.
    pub fn queue_split(&self, ids: &[i64]) -> Result<()> {
        Ok(self.store.set_escalations_alone(ids, true)?)
    }
}

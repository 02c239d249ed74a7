//! Content gaps (`fanline gaps`): the questions fans escalate most that no answer
//! covers yet, grouped by meaning and ranked by how many fans asked. Answering one
//! group (with its questions as the answer's phrasings) closes the gap for all of them.

use crate::{Error, Fanline, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashSet;

/// Questions this close (cosine, to the group's first question) are one gap.
pub const SAME_GAP: f32 = 0.75;

/// A group of unanswered questions that ask the same thing.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Gap {
    /// The questions, first asked first (each text once).
    pub questions: Vec<String>,
    /// Fans who asked.
    pub fans: u32,
    /// Times it was escalated.
    pub asked: u32,
    /// When it was last asked.
    pub last_asked: DateTime<Utc>,
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Fanline {
    /// The content gaps of the last `days`: unanswered escalations grouped by meaning,
    /// most fans first, at most `limit`.
    pub fn gaps(&self, agent: Option<&str>, days: u32, limit: usize) -> Result<Vec<Gap>> {
        if days == 0 {
            return Err(Error::InvalidInput("look back at least one day".into()));
        }
        let agent = self.agent(agent)?;
        let since = self.now() - chrono::Duration::days(days as i64);
        let rows = self.store.unanswered_since(agent.id, since)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<&str> = rows.iter().map(|(_, q, _)| q.as_str()).collect();
        let vectors = self.embedder()?.embed(&texts)?;
        // Each question joins the first group whose first question is close enough.
        let mut groups: Vec<(Vec<f32>, Gap, HashSet<i64>)> = Vec::new();
        for ((fan, question, at), v) in rows.into_iter().zip(vectors) {
            let found = groups.iter_mut().find(|(head, _, _)| cosine(head, &v) >= SAME_GAP);
            let (_, gap, fans) = match found {
                Some(g) => g,
                None => {
                    let gap = Gap { questions: Vec::new(), fans: 0, asked: 0, last_asked: at };
                    groups.push((v, gap, HashSet::new()));
                    groups.last_mut().expect("just pushed")
                }
            };
            if !gap.questions.contains(&question) {
                gap.questions.push(question);
            }
            fans.insert(fan);
            gap.fans = fans.len() as u32;
            gap.asked += 1;
            gap.last_asked = gap.last_asked.max(at);
        }
        let mut gaps: Vec<Gap> = groups.into_iter().map(|(_, g, _)| g).collect();
        gaps.sort_by(|a, b| b.fans.cmp(&a.fans).then(b.asked.cmp(&a.asked)).then(b.last_asked.cmp(&a.last_asked)));
        gaps.truncate(limit.max(1));
        Ok(gaps)
    }
}

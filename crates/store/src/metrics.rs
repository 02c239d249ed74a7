//! The numbers behind the metrics screen, read in one pass per question. Rates, time
//! zones and buckets are computed by the caller (`fanline-core`).

use crate::escalations::timestamp;
use crate::util::parsed;
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use fanline_engine::RoutePath;
use rusqlite::params;
use serde::Serialize;

/// A canonical answer among the most reused.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TopAnswer {
    pub canonical_id: i64,
    pub question_pattern: String,
    pub times_reused: u64,
    /// Servings within the period.
    pub served_in_period: u64,
}

/// Raw counts for one agent since a time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RawMetrics {
    /// Every decision in the period: (created_at, path, message id). A message has
    /// several when an offer (D) is then accepted (E) or refused at the cap (F).
    pub decisions: Vec<(String, RoutePath, i64)>,
    pub top_answers: Vec<TopAnswer>,
    pub accepted_today: u32,
    pub accepted_this_week: u32,
    /// Accepted, not yet answered, declined or expired.
    pub backlog: u32,
    /// Offered, not yet accepted.
    pub pending_offers: u32,
    /// Offers made in the period, and how many the fans accepted.
    pub offers: u32,
    pub offers_accepted: u32,
    /// Escalations the creator answered / declined in the period.
    pub answered: u32,
    pub declined: u32,
    /// Seconds from acceptance to answer, for answers in the period, with the fan's
    /// tier then.
    pub answer_seconds: Vec<f64>,
    /// The same answers' tiers, in the same order.
    pub answer_tiers: Vec<fanline_engine::Tier>,
    /// The queue's length as sampled in the period (time, length), oldest first, and
    /// the last sample before it.
    pub backlog_samples: Vec<(DateTime<Utc>, u32)>,
    /// Fans who wrote in the period.
    pub active_fans: u32,
}

impl Store {
    pub fn raw_metrics(
        &self,
        agent_id: i64,
        since: DateTime<Utc>,
        day_start: DateTime<Utc>,
        week_start: DateTime<Utc>,
    ) -> Result<RawMetrics> {
        let conn = self.read()?;
        let since = timestamp(since);
        let mut m = RawMetrics::default();
        let mut stmt = conn.prepare_cached(
            "SELECT created_at, path, message_id FROM decisions WHERE agent_id = ?1 AND created_at >= ?2 ORDER BY id",
        )?;
        m.decisions = stmt
            .query_map(params![agent_id, since], |r| Ok((r.get(0)?, parsed(r, 1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = conn.prepare_cached(
            "SELECT a.id, a.question_pattern, a.times_reused,
                    (SELECT count(*) FROM decisions d WHERE d.canonical_answer_id = a.id AND d.created_at >= ?2)
             FROM canonical_answers a WHERE a.agent_id = ?1 AND a.times_reused > 0
             ORDER BY a.times_reused DESC, a.id LIMIT 10",
        )?;
        m.top_answers = stmt
            .query_map(params![agent_id, since], |r| {
                Ok(TopAnswer {
                    canonical_id: r.get(0)?,
                    question_pattern: r.get(1)?,
                    times_reused: r.get::<_, i64>(2)? as u64,
                    served_in_period: r.get::<_, i64>(3)? as u64,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let one =
            |sql: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<u32> { conn.query_row(sql, p, |r| r.get(0)) };
        m.accepted_today = one(
            "SELECT count(*) FROM escalations WHERE agent_id = ?1 AND accepted_at >= ?2",
            &[&agent_id, &timestamp(day_start)],
        )?;
        m.accepted_this_week = one(
            "SELECT count(*) FROM escalations WHERE agent_id = ?1 AND accepted_at >= ?2",
            &[&agent_id, &timestamp(week_start)],
        )?;
        m.backlog = one("SELECT count(*) FROM escalations WHERE agent_id = ?1 AND status = 'accepted'", &[&agent_id])?;
        m.pending_offers =
            one("SELECT count(*) FROM escalations WHERE agent_id = ?1 AND status = 'pending'", &[&agent_id])?;
        m.offers =
            one("SELECT count(*) FROM escalations WHERE agent_id = ?1 AND offered_at >= ?2", &[&agent_id, &since])?;
        m.offers_accepted = one(
            "SELECT count(*) FROM escalations WHERE agent_id = ?1 AND offered_at >= ?2 AND accepted_at IS NOT NULL",
            &[&agent_id, &since],
        )?;
        m.answered =
            one("SELECT count(*) FROM escalations WHERE agent_id = ?1 AND answered_at >= ?2", &[&agent_id, &since])?;
        m.declined =
            one("SELECT count(*) FROM escalations WHERE agent_id = ?1 AND declined_at >= ?2", &[&agent_id, &since])?;
        let mut stmt = conn.prepare_cached(
            "SELECT (julianday(e.answered_at) - julianday(coalesce(e.accepted_at, e.offered_at))) * 86400.0, f.tier
             FROM escalations e JOIN fans f ON f.id = e.fan_id WHERE e.agent_id = ?1 AND e.answered_at >= ?2",
        )?;
        let answers: Vec<(f64, fanline_engine::Tier)> = stmt
            .query_map(params![agent_id, since], |r| Ok((r.get(0)?, parsed(r, 1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        (m.answer_seconds, m.answer_tiers) = answers.into_iter().unzip();
        let mut stmt = conn.prepare_cached(
            "SELECT at, queued FROM (SELECT at, queued, id FROM backlog_samples WHERE agent_id = ?1 AND at < ?2
                                     ORDER BY at DESC, id DESC LIMIT 1)
             UNION ALL
             SELECT at, queued FROM (SELECT at, queued, id FROM backlog_samples WHERE agent_id = ?1 AND at >= ?2
                                     ORDER BY at, id)",
        )?;
        m.backlog_samples = stmt
            .query_map(params![agent_id, since], |r| Ok((parsed(r, 0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        m.active_fans = one(
            "SELECT count(DISTINCT c.fan_id) FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE c.agent_id = ?1 AND m.role = 'fan' AND m.created_at >= ?2",
            &[&agent_id, &since],
        )?;
        Ok(m)
    }
}

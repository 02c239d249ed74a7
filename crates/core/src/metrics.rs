//! Metrics per agent and period, from the store: what share of messages Fanline answers
//! on its own, how the paths split per day (in the creator's time zone), the caps in
//! use, reuse, backlog, declines, time to answer, escalations per 100 fans.

use crate::{Fanline, Result};
use chrono::{DateTime, Utc};
use fanline_engine::caps::{parse_tz, windows};
use fanline_engine::{RoutePath, Tier};
use fanline_store::Agents;
use fanline_store::Conversations;
use fanline_store::TopAnswer;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One local day's paths.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DayPaths {
    /// The creator's local date.
    pub date: String,
    /// Decisions by path.
    pub paths: BTreeMap<RoutePath, u64>,
    /// Share of messages answered without the creator (A and C).
    pub auto_answer_rate: f64,
}

/// An agent's metrics over a period.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Metrics {
    /// The agent.
    pub agent: String,
    /// Days covered, today included.
    pub days: u32,
    /// The period's start.
    pub since: DateTime<Utc>,
    /// The time zone days are counted in.
    pub timezone: String,
    /// Messages routed (an offer's acceptance is a second decision on the same message).
    pub messages: u64,
    /// Share of messages answered without the creator (A and C).
    pub auto_answer_rate: f64,
    /// Decisions by path.
    pub paths: BTreeMap<RoutePath, u64>,
    /// Paths per local day.
    pub per_day: Vec<DayPaths>,
    /// Escalations accepted today.
    pub escalations_today: u32,
    /// The daily cap.
    pub max_per_day: u32,
    /// Escalations accepted this week.
    pub escalations_this_week: u32,
    /// The weekly cap.
    pub max_per_week: u32,
    /// Share of messages served a canonical answer (C).
    pub reuse_rate: f64,
    /// The most reused canonical answers.
    pub top_answers: Vec<TopAnswer>,
    /// Accepted escalations waiting for the creator.
    pub backlog: u32,
    /// Offers waiting for the fan.
    pub pending_offers: u32,
    /// Escalations the creator declined, of those answered or declined in the period.
    pub decline_rate: f64,
    /// Offers the fans accepted, of those made in the period.
    pub offer_acceptance_rate: f64,
    /// Median hours from acceptance to answer.
    pub median_hours_to_answer: Option<f64>,
    /// Escalations accepted in the period per 100 fans who wrote.
    pub escalations_per_100_fans: f64,
    /// Fan messages of this agent with no decision (any time): a route was stopped or
    /// failed; `fanline recover` routes them.
    pub unrouted_messages: u64,
    /// Answers within the reply time of each tier that has one in the policy file.
    pub sla: Vec<TierSla>,
    /// Share of the period's answers to those tiers that were within their reply time.
    pub answered_within_sla: Option<f64>,
    /// Queued questions past their reply time now.
    pub overdue: u32,
    /// The queue's length by local day: at the day's end and at its most.
    pub backlog_per_day: Vec<DayBacklog>,
}

/// Answers to a tier within its reply time (`reply_within_hours`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TierSla {
    /// The tier.
    pub tier: Tier,
    /// Its reply time.
    pub hours: u32,
    /// Its questions answered in the period.
    pub answered: u32,
    /// Of those, answered within the reply time.
    pub within: u32,
}

/// The queue on one local day.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DayBacklog {
    /// YYYY-MM-DD.
    pub date: String,
    /// Questions queued at the day's end (now, for today).
    pub end: u32,
    /// The most queued at once that day.
    pub most: u32,
}

/// The queue's length at the end of each local day from `since` on, and its most that
/// day, from the samples (the first may be from before `since`: the length then).
fn backlog_days(
    samples: &[(DateTime<Utc>, u32)],
    since: DateTime<Utc>,
    days: u32,
    tz: chrono_tz::Tz,
) -> Vec<DayBacklog> {
    let mut carried = samples.first().filter(|(at, _)| *at < since).map(|(_, n)| *n).unwrap_or(0);
    let first = since.with_timezone(&tz).date_naive();
    let mut next = samples.iter().skip_while(|(at, _)| *at < since).peekable();
    (0..days)
        .map(|d| {
            let date = first + chrono::Duration::days(d as i64);
            let mut most = carried;
            while let Some((_, n)) = next.next_if(|(at, _)| at.with_timezone(&tz).date_naive() <= date) {
                carried = *n;
                most = most.max(*n);
            }
            DayBacklog { date: date.to_string(), end: carried, most }
        })
        .collect()
}

/// `a / b`, or 0 when `b` is 0.
pub(crate) fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn auto(paths: &BTreeMap<RoutePath, u64>) -> (u64, u64) {
    let routed: u64 = paths.iter().filter(|(p, _)| **p != RoutePath::E).map(|(_, n)| n).sum();
    let auto = paths.get(&RoutePath::A).unwrap_or(&0) + paths.get(&RoutePath::C).unwrap_or(&0);
    (auto, routed)
}

impl Fanline {
    /// Metrics over the last `days` days (today included).
    pub fn metrics(&self, agent: Option<&str>, days: u32) -> Result<Metrics> {
        let agent = self.agent(agent)?;
        let rules = self.store.agent_config(agent.id)?;
        let tz = parse_tz(&rules.timezone)?;
        let now = self.now();
        let w = windows(now, tz);
        let days =
            crate::app::within("the number of days", days as usize, crate::app::MAX_METRICS_DAYS as usize)? as u32;
        let since = w.day_start - chrono::Duration::days(days as i64 - 1);
        let raw = self.store.raw_metrics(agent.id, since, w.day_start, w.week_start)?;
        let mut paths: BTreeMap<RoutePath, u64> = BTreeMap::new();
        let mut per_day: BTreeMap<String, BTreeMap<RoutePath, u64>> = BTreeMap::new();
        let mut messages = std::collections::HashSet::new();
        for (at, path, message) in &raw.decisions {
            messages.insert(*message);
            *paths.entry(*path).or_default() += 1;
            let date = at
                .parse::<DateTime<Utc>>()
                .map(|t| t.with_timezone(&tz).date_naive().to_string())
                .unwrap_or_else(|_| at.chars().take(10).collect());
            *per_day.entry(date).or_default().entry(*path).or_default() += 1;
        }
        let (auto_n, _) = auto(&paths);
        let routed = messages.len() as u64;
        let mut secs = raw.answer_seconds.clone();
        secs.sort_by(f64::total_cmp);
        let median = (!secs.is_empty()).then(|| {
            let n = secs.len();
            let m = if n % 2 == 1 { secs[n / 2] } else { (secs[n / 2 - 1] + secs[n / 2]) / 2.0 };
            m / 3600.0
        });
        let policy = self.policy(&agent.name).policy;
        let mut sla: Vec<TierSla> = Vec::new();
        for (tier, hours) in policy.tiers.iter().filter_map(|(t, p)| p.reply_within_hours.map(|h| (*t, h.get()))) {
            let mut s = TierSla { tier, hours, answered: 0, within: 0 };
            for (secs, _) in raw.answer_seconds.iter().zip(&raw.answer_tiers).filter(|(_, t)| **t == tier) {
                s.answered += 1;
                s.within += (*secs <= hours as f64 * 3600.0) as u32;
            }
            sla.push(s);
        }
        let answered_sla: u32 = sla.iter().map(|s| s.answered).sum();
        let overdue = self.queue(Some(&agent.name), 10_000)?.iter().filter(|q| q.overdue).count() as u32;
        let backlog_per_day = backlog_days(&raw.backlog_samples, since, days, tz);
        Ok(Metrics {
            answered_within_sla: (answered_sla > 0)
                .then(|| ratio(sla.iter().map(|s| s.within as u64).sum(), answered_sla as u64)),
            sla,
            overdue,
            backlog_per_day,
            agent: agent.name,
            days,
            since,
            timezone: rules.timezone.clone(),
            messages: routed,
            auto_answer_rate: ratio(auto_n, routed),
            per_day: per_day
                .into_iter()
                .map(|(date, paths)| {
                    let (a, r) = auto(&paths);
                    DayPaths { date, auto_answer_rate: ratio(a, r), paths }
                })
                .collect(),
            reuse_rate: ratio(*paths.get(&RoutePath::C).unwrap_or(&0), routed),
            paths,
            escalations_today: raw.accepted_today,
            max_per_day: rules.max_escalations_per_day,
            escalations_this_week: raw.accepted_this_week,
            max_per_week: rules.max_escalations_per_week,
            top_answers: raw.top_answers,
            backlog: raw.backlog,
            pending_offers: raw.pending_offers,
            decline_rate: ratio(raw.declined as u64, (raw.answered + raw.declined) as u64),
            offer_acceptance_rate: ratio(raw.offers_accepted as u64, raw.offers as u64),
            median_hours_to_answer: median,
            escalations_per_100_fans: 100.0 * ratio(raw.offers_accepted as u64, raw.active_fans as u64),
            unrouted_messages: self.store.unrouted_count(Some(agent.id))?,
        })
    }
}

//! Helpers shared by the store's escalation tests.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use fanline_engine::{caps, EscalationReason};
use fanline_store::Offers;
use fanline_store::{CapCheck, NewEscalation, Store};

/// Offer an escalation (status pending).
pub fn offer(
    store: &Store,
    agent: i64,
    fan: i64,
    question: &str,
    priority: i64,
    expires: Option<DateTime<Utc>>,
) -> i64 {
    store
        .create_escalation(&NewEscalation {
            question: question.into(),
            priority,
            expires_at: expires,
            ..new_escalation(agent, fan)
        })
        .unwrap()
}

/// A novel question's offer, with no message behind it.
pub fn new_escalation(agent: i64, fan: i64) -> NewEscalation {
    NewEscalation {
        agent_id: agent,
        fan_id: fan,
        message_id: None,
        question: "a question".into(),
        reason: EscalationReason::Novel,
        priority: 0,
        context_summary: String::new(),
        expires_at: None,
        expected_reply_after: None,
    }
}

/// The caps at `now` in time zone `tz`.
pub fn cap_check(now: DateTime<Utc>, tz: &str, max_per_day: u32, max_per_week: u32) -> CapCheck {
    CapCheck::at(now, caps::parse_tz(tz).unwrap(), max_per_day, max_per_week)
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

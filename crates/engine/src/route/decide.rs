//! The decision steps of the routing plan: the rules in force after the policy file
//! (`rules`), and the outcome (`decide`), with the escalation plan or the refusal.

use super::policy::Action;
use super::reply::listed;
use super::state::{RulesInForce, State};
use super::types::*;
use super::Outcome;
use crate::hours::{availability, Availability};
use crate::reuse::ReuseVerdict;
use crate::signals::risk::RiskTier;
use crate::{EscalationReason, Result, RoutePath, Tier};

pub(super) fn tiers(list: &[Tier]) -> String {
    list.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
}

pub(super) fn and_list(list: &[Tier]) -> String {
    match list {
        [] => "no".into(),
        _ => listed(&list.iter().map(|t| t.to_string()).collect::<Vec<_>>(), "and"),
    }
}

/// Messages in an escalation's context summary.
const SUMMARY_MESSAGES: usize = 5;
/// A canonical answer at least this close is offered as the alternative to a refusal.
const ALTERNATIVE_SIMILARITY: f32 = 0.5;

pub(super) fn refuse(s: &State, code: RefusalCode, reason: String, alternative: Alternative) -> Outcome {
    let note = reason.clone();
    s.choose(Resolution::Refuse { refusal: Refusal { code, reason: reason.clone(), alternative } }, reason);
    Outcome::Decided(note)
}

/// The default when the policy says nothing of a risk tier: CRITICAL messages go to the
/// creator at the top of the queue.
const CRITICAL_PRIORITY: i64 = 1000;

/// The rules in force for this message: the creator's, after the policy file's
/// overrides by tier, topic and risk, and any action a critic forces.
pub(super) fn rules(s: &State) -> Result<Outcome> {
    let i = s.input;
    let sig = State::get(&s.signals);
    let mut e = RulesInForce {
        confidence_threshold: i.rules.auto_answer_confidence_threshold,
        novelty_threshold: i.settings.novelty_threshold,
        complexity_threshold: i.settings.complexity_threshold,
        escalation_enabled: i.rules.escalation_enabled,
        forced: None,
        priority_bonus: 0,
    };
    let mut notes = Vec::new();
    if let Some(t) = i.policy.tiers.get(&i.fan.tier) {
        if let Some(v) = t.confidence_threshold {
            e.confidence_threshold = v.0;
        }
        if let Some(v) = t.novelty_threshold {
            e.novelty_threshold = v.0;
        }
        if let Some(v) = t.complexity_threshold {
            e.complexity_threshold = v.0;
        }
        if let Some(v) = t.escalation_enabled {
            e.escalation_enabled = v;
        }
        e.priority_bonus += t.priority.unwrap_or(0);
        notes.push(format!("tier {} overrides", i.fan.tier));
    }
    let force = |action: Option<Action>, why: String, e: &mut RulesInForce| {
        let Some(a) = action.filter(|a| *a != Action::Auto) else { return };
        // Refusal outranks escalation.
        if e.forced.as_ref().is_none_or(|(f, _)| *f == Action::Escalate && a == Action::Refuse) {
            e.forced = Some((a, why));
        }
    };
    if let Some((a, why)) = &i.forced {
        force(Some(*a), why.clone(), &mut e);
        if *a == Action::Escalate {
            e.priority_bonus += 50;
        }
        notes.push("a critic's verdict".into());
    }
    for hit in sig.topics.iter().filter(|h| !h.blocked) {
        let t = &i.policy.topics[&hit.topic];
        e.priority_bonus += t.priority.unwrap_or(0);
        force(t.action, format!("the policy for topic \"{}\" ({})", hit.topic, hit.by), &mut e);
        notes.push(format!("topic {}", hit.topic));
    }
    match i.policy.risk.get(&sig.risk) {
        Some(r) => {
            e.priority_bonus += r.priority.unwrap_or(0);
            force(r.action, format!("the policy for {} risk", sig.risk), &mut e);
            notes.push(format!("risk {}", sig.risk));
        }
        None if sig.risk == RiskTier::Critical => {
            e.priority_bonus += CRITICAL_PRIORITY;
            force(Some(Action::Escalate), "CRITICAL risk always goes to the creator".into(), &mut e);
            notes.push("risk CRITICAL (default)".into());
        }
        None => {}
    }
    if i.text.crisis() {
        // A fan in crisis reaches the creator, first in the queue, whatever else applies.
        e.forced = Some((Action::Escalate, "a message in crisis".into()));
        e.priority_bonus = e.priority_bonus.max(CRITICAL_PRIORITY);
        notes.push("crisis".into());
    }
    let note = format!(
        "confidence ≥ {:.2}, novel ≥ {:.2}, complex ≥ {:.2}, escalation {}{}{}",
        e.confidence_threshold,
        e.novelty_threshold,
        e.complexity_threshold,
        if e.escalation_enabled { "on" } else { "off" },
        e.forced.as_ref().map(|(a, w)| format!(", forced {a:?} by {w}")).unwrap_or_default(),
        if notes.is_empty() { String::new() } else { format!(" ({})", notes.join(", ")) }
    );
    let _ = s.rules.set(e);
    Ok(Outcome::Done(note))
}

fn tier_priority(t: Tier) -> i64 {
    match t {
        Tier::Free => 0,
        Tier::Follower => 10,
        Tier::Paid => 20,
    }
}

fn reason_priority(r: EscalationReason) -> i64 {
    match r {
        EscalationReason::Novel => 5,
        EscalationReason::Complex => 10,
        EscalationReason::Strategic => 15,
    }
}

/// An extractive summary of the conversation's last messages: each one's first
/// sentence, at most 160 characters, with who wrote it.
pub fn context_summary(messages: &[(String, String)]) -> String {
    let start = messages.len().saturating_sub(SUMMARY_MESSAGES);
    messages[start..]
        .iter()
        .map(|(role, body)| {
            let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
            let first = body.split_inclusive(['.', '?', '!']).next().unwrap_or(&body).trim().to_string();
            let first = if first.chars().count() > 160 {
                format!("{}…", first.chars().take(159).collect::<String>())
            } else {
                first
            };
            format!("{role}: {first}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the creator covers, for an off-topic refusal: the titles of the closest
/// documents the fan may see.
fn covered(chunks: &[ChunkHit]) -> String {
    let mut titles: Vec<String> = Vec::new();
    for c in chunks {
        let t = c.title.trim();
        if !t.is_empty() && !titles.iter().any(|x| x.eq_ignore_ascii_case(t)) {
            titles.push(t.to_string());
        }
    }
    titles.truncate(3);
    match titles.is_empty() {
        true => "Ask about something the creator covers.".into(),
        false => format!("I can help with questions about {}.", listed(&titles, "and")),
    }
}

/// A close canonical answer the fan may see, else `fallback`.
fn alternative(s: &State, fallback: Alternative) -> Alternative {
    State::get(&s.canonical)
        .iter()
        .filter(|c| c.similarity >= ALTERNATIVE_SIMILARITY)
        .max_by(|a, b| a.similarity.total_cmp(&b.similarity))
        .map(|c| Alternative::CanonicalAnswer { canonical_id: c.canonical_id, similarity: c.similarity })
        .unwrap_or(fallback)
}

fn escalate(s: &State, reason: EscalationReason, why: String) -> Result<Outcome> {
    let i = s.input;
    let (e, h) = (State::get(&s.rules), State::get(&s.history));
    if !e.escalation_enabled {
        let alt =
            alternative(s, Alternative::Suggestion { text: "The creator is not taking questions here now.".into() });
        return Ok(refuse(
            s,
            RefusalCode::EscalationDisabled,
            format!("{why}, but escalation to the creator is off"),
            alt,
        ));
    }
    if h.escalations_today >= i.rules.max_escalations_per_day {
        let alt = alternative(s, Alternative::TryAgainAt { at: s.caps.day_end });
        let reason = format!("{why}, but today's {} escalations are used", i.rules.max_escalations_per_day);
        return Ok(refuse(s, RefusalCode::DailyCapReached, reason, alt));
    }
    if h.escalations_this_week >= i.rules.max_escalations_per_week {
        let alt = alternative(s, Alternative::TryAgainAt { at: s.caps.week_end });
        let reason = format!("{why}, but this week's {} escalations are used", i.rules.max_escalations_per_week);
        return Ok(refuse(s, RefusalCode::WeeklyCapReached, reason, alt));
    }
    let avail = availability(i.now, &i.rules.timezone, &i.rules.availability_windows)?;
    let _ = s.availability.set(avail);
    let expected_reply_after = match avail {
        Availability::Open => None,
        Availability::Closed { next_open } if i.rules.outside_hours == crate::OutsideHours::Refuse => {
            let reason = format!("{why}, but the creator is away (back at {})", next_open.format("%Y-%m-%d %H:%M UTC"));
            return Ok(refuse(s, RefusalCode::OutsideHours, reason, Alternative::TryAgainAt { at: next_open }));
        }
        Availability::Closed { next_open } => Some(next_open),
    };
    let priority = tier_priority(i.fan.tier) + reason_priority(reason) + e.priority_bonus;
    let plan =
        EscalationPlan { reason, priority, expected_reply_after, context_summary: context_summary(&h.recent_messages) };
    let note = format!("{why}: offer escalation ({reason}, priority {priority})");
    s.choose(Resolution::Offer { plan }, why);
    Ok(Outcome::Decided(note))
}

pub(super) fn decide(s: &State) -> Result<Outcome> {
    let i = s.input;
    let (sig, e, h) = (State::get(&s.signals), State::get(&s.rules), State::get(&s.history));
    if let (true, Some((Action::Escalate, why))) = (i.text.crisis(), &e.forced) {
        return escalate(s, EscalationReason::Strategic, format!("{why} goes to the creator"));
    }
    let line = i.settings.blocked_topic_similarity;
    if let Some(hit) = sig.topics.iter().find(|t| t.blocked && t.similarity.unwrap_or(0.0) >= line) {
        let reason = format!(
            "the message is about \"{}\", a topic the creator does not take (similarity {:.2})",
            hit.topic,
            hit.similarity.unwrap_or(0.0)
        );
        let alt = Alternative::Suggestion { text: "Ask about something else the creator covers.".into() };
        return Ok(refuse(s, RefusalCode::BlockedTopic, reason, alt));
    }
    match &e.forced {
        Some((Action::Refuse, why)) => {
            let alt = alternative(s, Alternative::Suggestion { text: "Ask about something else.".into() });
            return Ok(refuse(s, RefusalCode::Policy, format!("{why} refuses it"), alt));
        }
        Some((Action::Escalate, why)) => {
            return escalate(s, EscalationReason::Strategic, format!("{why} sends it to the creator"));
        }
        _ => {}
    }
    let decided = |resolution: Resolution, reason: String| {
        let note = reason.clone();
        s.choose(resolution, reason);
        Ok(Outcome::Decided(note))
    };
    if let Some(ReuseVerdict::Reuse { index, similarity, .. }) = s.verdict.get() {
        if let Some(candidate) = State::get(&s.canonical).get(*index) {
            return decided(
                Resolution::Reuse { candidate: candidate.clone() },
                format!("a canonical answer matches (similarity {similarity:.3})"),
            );
        }
    }
    let novel = sig.novelty >= e.novelty_threshold;
    let complex = sig.complexity >= e.complexity_threshold;
    let answerable = sig.confidence >= e.confidence_threshold && !novel && !complex && sig.unnamed.is_empty();
    let vague = sig.vagueness >= i.settings.vagueness_threshold;
    // Clarify, but never twice in a row, and not what the documents answer anyway ("Do
    // you do sponsorships?" is short, and the FAQ answers it).
    if vague && !answerable && i.rules.clarification_enabled && h.previous_path != Some(RoutePath::B) {
        return decided(
            Resolution::Clarify,
            format!("the message is vague ({:.2} ≥ {:.2})", sig.vagueness, i.settings.vagueness_threshold),
        );
    }
    // About nothing the creator covers: declined, and it never spends the cap. Judged
    // against the documents the fan may see (and the canonical answers): with none,
    // there is nothing to be outside of.
    let chunks = State::get(&s.chunks);
    let line = i.settings.off_topic_similarity;
    let generic = sig.off_topic_similarity.filter(|g| *g >= sig.similarity + i.settings.off_topic_margin);
    if !chunks.is_empty() && (sig.similarity < line || generic.is_some()) {
        let reason = match generic {
            Some(g) if sig.similarity >= line => format!(
                "off-topic: a general request (closest generic example {g:.2}, the creator's content {:.2})",
                sig.similarity
            ),
            _ => {
                format!("off-topic: nothing the creator covers is close (similarity {:.2} < {line:.2})", sig.similarity)
            }
        };
        return Ok(refuse(s, RefusalCode::OffTopic, reason, Alternative::Suggestion { text: covered(chunks) }));
    }
    if answerable {
        return decided(
            Resolution::Answer,
            format!(
                "the documents answer it (confidence {:.2} ≥ {:.2}, novelty {:.2} < {:.2})",
                sig.confidence, e.confidence_threshold, sig.novelty, e.novelty_threshold
            ),
        );
    }
    let (reason, why) = if complex {
        (EscalationReason::Complex, format!("complex ({:.2} ≥ {:.2})", sig.complexity, e.complexity_threshold))
    } else if novel {
        (EscalationReason::Novel, format!("novel ({:.2} ≥ {:.2})", sig.novelty, e.novelty_threshold))
    } else if !sig.unnamed.is_empty() && sig.confidence >= e.confidence_threshold {
        let names = sig.unnamed.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>();
        (EscalationReason::Novel, format!("the documents close to it never mention {}", listed(&names, "or")))
    } else {
        (
            EscalationReason::Novel,
            format!("not covered well enough (confidence {:.2} < {:.2})", sig.confidence, e.confidence_threshold),
        )
    };
    escalate(s, reason, why)
}

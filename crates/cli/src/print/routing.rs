//! Printing routing: a decision with its signals and trace, the queue, the decision log.

use super::{one_line, say, Out};
use fanline_core::{AcceptReport, Decision, Escalation, GenerationSource, QueueItem, RouteReport};
use fanline_engine::route::{Signals, StepOutcome, Trace};

fn trace(o: &mut Out, t: &Trace) {
    say!(
        o,
        "why — {} steps in {:.2} ms{}:",
        t.steps.len(),
        t.total_us as f64 / 1000.0,
        t.decided_by.as_ref().map(|d| format!(", decided by {d}")).unwrap_or_default()
    );
    let width = t.steps.iter().map(|s| s.step.chars().count()).max().unwrap_or(0);
    for s in &t.steps {
        let timing = if s.outcome == StepOutcome::Skipped && s.duration_us == 0 {
            "-".to_string()
        } else {
            format!("{:.2} ms", s.duration_us as f64 / 1000.0)
        };
        say!(o, "  {} {:<width$} {:<8} {:>9}  {}", s.wave, s.step, s.outcome.as_str(), timing, s.note);
    }
}

fn signals_line(s: &Signals) -> String {
    format!(
        "similarity {:.3} · novelty {:.3} · complexity {:.2} · vagueness {:.2} · confidence {:.2} · risk {}{}",
        s.similarity,
        s.novelty,
        s.complexity,
        s.vagueness,
        s.confidence,
        s.risk,
        if s.risk_reasons.is_empty() { String::new() } else { format!(" ({})", s.risk_reasons.join("; ")) }
    )
}

pub fn route(o: &mut Out, r: &RouteReport) {
    say!(o, "path {} — {}", r.path, r.reason);
    say!(o, "decision #{}  message #{}  fan {}  agent {}\n", r.decision_id, r.message_id, r.fan, r.agent);
    for line in r.reply.lines() {
        say!(o, "  {line}");
    }
    say!(o);
    if let Some(w) = &r.policy_warning {
        say!(o, "warning: {w}\n");
    }
    if let Some(s) = &r.signals {
        say!(o, "signals: {}", signals_line(s));
    }
    for c in r.candidates.iter().take(3) {
        say!(
            o,
            "  canonical #{} {:.3} ({} phrasings) \"{}\"",
            c.canonical_id,
            c.similarity,
            c.phrasings,
            one_line(&c.matched_text, 70)
        );
    }
    trace(o, &r.trace);
}

pub fn accept(o: &mut Out, a: &AcceptReport) {
    say!(o, "offer #{}: path {} — {}", a.escalation_id, a.path, a.reply);
}

pub fn groups(o: &mut Out, groups: &[fanline_core::QueueGroup]) {
    if groups.is_empty() {
        say!(o, "the queue is empty");
    }
    for g in groups {
        let ids: Vec<String> = g.items.iter().map(|i| i.id.to_string()).collect();
        let kept = if g.alone { "  (kept by itself)" } else { "" };
        match g.items.len() {
            1 => say!(o, "prio {:>4}  #{}{kept}", g.priority, ids[0]),
            n => say!(o, "prio {:>4}  {n} questions from {} fan(s): #{}", g.priority, g.fans, ids.join(" #")),
        }
        for q in &g.items {
            say!(o, "    #{:<5} {:<12} {}", q.id, format!("{} ({})", q.fan, q.tier), one_line(&q.question, 70));
        }
    }
}

pub fn queue(o: &mut Out, items: &[QueueItem]) {
    if items.is_empty() {
        say!(o, "the queue is empty");
    }
    for q in items {
        let deferred = q
            .deferred_until
            .map(|d| format!("  deferred until {}", d.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        say!(
            o,
            "#{:<5} prio {:>4}  {:<9} {:<12} {:>6.1} h  {}{}",
            q.id,
            q.priority,
            q.reason,
            format!("{} ({})", q.fan, q.tier),
            q.age_hours,
            one_line(&q.question, 70),
            deferred
        );
        if !q.context_summary.is_empty() {
            for l in q.context_summary.lines() {
                say!(o, "        {}", one_line(l, 100));
            }
        }
    }
}

pub fn escalation(o: &mut Out, e: &Escalation) {
    say!(o, "escalation #{} is {}: {}", e.id, e.status, one_line(&e.question, 80));
}

pub fn decisions(o: &mut Out, list: &[Decision]) {
    if list.is_empty() {
        say!(o, "no decisions yet");
    }
    for d in list {
        say!(
            o,
            "#{:<6} {}  {}  fan {}  {}",
            d.id,
            d.created_at.format("%Y-%m-%d %H:%M:%S"),
            d.path,
            d.fan_id,
            one_line(&d.reason, 90)
        );
    }
}

pub fn decision(o: &mut Out, d: &Decision) {
    say!(o, "decision #{} — path {} — {}", d.id, d.path, d.reason);
    say!(o, "message #{}  fan {}  at {}\n", d.message_id, d.fan_id, d.created_at);
    for line in d.reply.lines() {
        say!(o, "  {line}");
    }
    say!(o);
    if let Some(s) = &d.details.signals {
        say!(o, "signals: {}", signals_line(s));
    }
    if let Some(a) = &d.details.acceptance {
        say!(o, "acceptance of offer #{}: {a:?}", d.details.escalation_id.unwrap_or_default());
    }
    trace(o, &d.trace);
}

pub fn judged(o: &mut Out, d: &Decision) {
    say!(o, "decision #{} (path {}) judged; `fanline calibrate --history` learns from it", d.id, d.path);
}

pub fn asked(o: &mut Out, r: &RouteReport) {
    match (&r.generation, r.path) {
        (Some(g), fanline_engine::RoutePath::A | fanline_engine::RoutePath::B) => {
            let source = match g.source {
                GenerationSource::Llm => "written by a model",
                GenerationSource::Extractive => "quoted from the documents",
                GenerationSource::Template => "a template question",
            };
            let how = match (g.source, &g.provider, &g.reason) {
                (GenerationSource::Llm, Some(p), _) => {
                    format!("written by {p} ({} in, {} out tokens)", g.input_tokens, g.output_tokens)
                }
                (_, _, Some(why)) => format!("{source}: {why}"),
                (_, _, None) => source.to_string(),
            };
            say!(o, "\n\n(path {} — {})", r.path, how);
        }
        _ => {
            say!(o, "{}\n\n(path {} — {})", r.reply, r.path, r.reason);
        }
    }
}

pub fn recovered(o: &mut Out, r: &fanline_core::RecoverReport) {
    use fanline_core::Recovered;
    if r.messages.is_empty() {
        say!(o, "no message was waiting for a decision");
    }
    for m in &r.messages {
        match m {
            Recovered::Routed { report } => say!(
                o,
                "message #{}  fan {}  → path {} (decision #{}): {}",
                report.message_id,
                report.fan,
                report.path,
                report.decision_id,
                one_line(&report.reply, 70)
            ),
            Recovered::AlreadyRouted { message_id } => say!(o, "message #{message_id}: already routed meanwhile"),
            Recovered::Failed { message_id, error } => {
                say!(o, "message #{message_id}: failed again: {}", error.message)
            }
        }
    }
    if r.left > 0 {
        say!(o, "{} message(s) still without a decision (younger than the wait, or failed)", r.left);
    }
}

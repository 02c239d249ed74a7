//! What the fan reads for each path, before any language model is involved: the
//! grounding for A (an extractive answer with citations), a clarifying question for B
//! (a template that names what is unclear), the canonical answer with attribution for C,
//! the offer for D, and the refusal with its alternative for F.

use super::types::{Alternative, ChunkHit, Refusal, RefusalCode};
use crate::signals::text::content_terms;
use crate::signals::TextStats;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A source an answer cites.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Citation {
    /// Its number in the answer (`[n]`).
    pub n: usize,
    /// The chunk cited.
    pub chunk_id: i64,
    /// Its document's title.
    pub title: String,
    /// Its heading path.
    pub heading: String,
    /// Where its document was imported from.
    pub source_path: String,
}

/// The first sentences of `text` up to about `max` characters.
pub fn excerpt(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut out = String::new();
    for s in flat.split_inclusive(['.', '!', '?']) {
        if out.chars().count() + s.chars().count() > max && !out.is_empty() {
            break;
        }
        out.push_str(s);
    }
    clip(out.trim(), max)
}

/// `text` cut to at most `max` characters, with "…" where it was cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        format!("{}…", text.chars().take(max.saturating_sub(1)).collect::<String>())
    } else {
        text.to_string()
    }
}

/// Path A without a language model: from the best supporting passages, the sentences
/// that answer the message, quoted, each passage with a numbered citation. A second
/// passage is quoted only when it shares words with the message.
pub fn grounded_answer(message: &str, chunks: &[ChunkHit], support_similarity: f32) -> (String, Vec<Citation>) {
    let terms = content_terms(message);
    let mut used: Vec<(&ChunkHit, String)> = Vec::new();
    for c in chunks.iter().filter(|c| c.closeness() >= support_similarity).take(2) {
        let (text, matched) = answering_sentences(&terms, &c.text, closest(c), 400);
        if used.is_empty() || matched > 0 {
            used.push((c, text));
        }
    }
    if used.is_empty() {
        if let Some(c) = chunks.first() {
            used.push((c, answering_sentences(&terms, &c.text, closest(c), 400).0));
        }
    }
    let citations = citations(used.iter().map(|(c, _)| *c));
    let body = used.iter().enumerate().map(|(i, (_, t))| format!("{t} [{}]", i + 1)).collect::<Vec<_>>();
    (format!("{}\n\n{}", body.join("\n\n"), sources(&citations)), citations)
}

fn closest(c: &ChunkHit) -> Option<&str> {
    c.closest.as_ref().map(|s| s.text.as_str())
}

/// The sentences of `text`, each of at least four words: a shorter one ("Yes.") goes
/// with the one after it (or, last, with the one before).
pub fn sentences(text: &str) -> Vec<String> {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut sentences: Vec<String> = Vec::new();
    let mut pending = String::new();
    for s in flat.split_inclusive(['.', '!', '?']) {
        pending.push_str(s);
        if pending.split_whitespace().count() >= 4 {
            sentences.push(pending.trim().to_string());
            pending.clear();
        }
    }
    if !pending.trim().is_empty() {
        match sentences.last_mut() {
            Some(last) => {
                last.push(' ');
                last.push_str(pending.trim());
            }
            None => sentences.push(pending.trim().to_string()),
        }
    }
    sentences
}

/// The sentences of `text` that answer a message with these content terms, in their
/// order, up to about `max` characters: the sentence sharing most terms with the
/// message, then the ones after it while they fit (a passage's answer usually follows
/// its first matching sentence). When none shares a term, the sentence `closest` to the
/// message by meaning leads (what "What microphone do you use?" asks is in "Sound
/// comes from a Rode PodMic…"). A sentence
/// of fewer than four words ("Yes.") is never quoted on its own: it goes with the one
/// after it. Without any shared term or closest sentence, the passage's first
/// sentences. Returns the text and how many terms it shares.
pub fn answering_sentences(terms: &[String], text: &str, closest: Option<&str>, max: usize) -> (String, usize) {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentences = sentences(&flat);
    let shared = |s: &str| {
        let own = content_terms(s);
        terms.iter().filter(|t| own.iter().any(|o| o == *t)).count()
    };
    let scores: Vec<usize> = sentences.iter().map(|s| shared(s)).collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    let closest = closest.and_then(|c| sentences.iter().position(|s| s == c));
    let start = match closest {
        _ if best > 0 => scores.iter().position(|&n| n == best).unwrap_or(0),
        Some(i) => i,
        None => return (excerpt(&flat, max), 0),
    };
    let mut out = sentences[start].clone();
    for s in &sentences[start + 1..] {
        if out.chars().count() + 1 + s.chars().count() > max {
            break;
        }
        out.push(' ');
        out.push_str(s);
    }
    (clip(&out, max), best)
}

/// Numbered citations of passages, from 1.
pub fn citations<'a>(chunks: impl IntoIterator<Item = &'a ChunkHit>) -> Vec<Citation> {
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| Citation {
            n: i + 1,
            chunk_id: c.chunk_id,
            title: c.title.clone(),
            heading: c.heading.clone(),
            source_path: c.source_path.clone(),
        })
        .collect()
}

/// `Sources: [1] Title › Heading; [2] …` (a heading path starts at the document's title).
pub fn sources<'a>(citations: impl IntoIterator<Item = &'a Citation>) -> String {
    let list: Vec<String> = citations
        .into_iter()
        .map(|c| {
            let place = if c.heading.is_empty() { c.title.clone() } else { c.heading.replace(" > ", " › ") };
            format!("[{}] {place}", c.n)
        })
        .collect();
    format!("Sources: {}", list.join("; "))
}

/// Path B: a clarifying question that says what is unclear, offering the topics the
/// documents cover near the message when there are any.
pub fn clarifying_question(message: &str, stats: &TextStats, chunks: &[ChunkHit]) -> String {
    let quoted = excerpt(message, 80);
    let what = if stats.pronoun_reference {
        format!("I'm not sure what \"{quoted}\" refers to.")
    } else {
        format!("\"{quoted}\" could mean a few things.")
    };
    let mut topics: Vec<String> = Vec::new();
    for c in chunks {
        let t = if c.heading.is_empty() {
            c.title.clone()
        } else {
            c.heading.rsplit(" > ").next().unwrap_or(&c.heading).to_string()
        };
        if t.chars().count() >= 4 && !topics.contains(&t) {
            topics.push(t);
        }
        if topics.len() == 3 {
            break;
        }
    }
    if topics.is_empty() {
        format!("{what} Could you tell me a bit more about what you'd like to know?")
    } else {
        format!("{what} Do you mean {}? Or something else — tell me a bit more.", or_list(&topics))
    }
}

fn or_list(items: &[String]) -> String {
    listed(items, "or")
}

/// "a", "a or b", "a, b or c" (with `conjunction` "or"); empty for no items.
pub(crate) fn listed(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// Path C: the creator's answer, attributed, with how many fans it has served.
pub fn canonical_reply(creator: &str, answer: &str, question: &str, times_reused: u64) -> String {
    let others = times_reused.saturating_sub(1);
    let count = match others {
        0 => String::new(),
        1 => ", already shared with 1 other fan".into(),
        n => format!(", already shared with {n} other fans"),
    };
    format!("{answer}\n\n— {creator}'s answer to \"{}\"{count}", excerpt(question, 120))
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%a %d %b %H:%M UTC").to_string()
}

/// Path D: the offer to send the question to the creator.
pub fn offer(
    creator: &str,
    escalation_id: i64,
    reason: crate::EscalationReason,
    expected_after: Option<DateTime<Utc>>,
) -> String {
    let reason = match reason {
        crate::EscalationReason::Novel => "it's a question I don't have an answer to yet",
        crate::EscalationReason::Complex => "it deserves a personal answer",
        crate::EscalationReason::Strategic => "it's a topic they handle themselves",
    };
    let away = expected_after
        .map(|t| format!(" {creator} is away right now; expect a reply after {}.", when(t)))
        .unwrap_or_default();
    format!(
        "This one is best answered by {creator} personally ({reason}). Shall I send it to them? Accept offer #{escalation_id} to queue it.{away}"
    )
}

/// Path D for a message in crisis: the offer, put gently, after the resources.
pub fn crisis_offer(creator: &str, escalation_id: i64) -> String {
    format!(
        "{creator} will want to read this, and I can put your message at the top of their queue: \
         accept offer #{escalation_id} and it goes to them first. If you are in danger right now, \
         please reach out to the help above first."
    )
}

/// A reply to a message in crisis: the crisis resources first, then the reply.
pub fn with_crisis_resources(resources: &str, reply: &str) -> String {
    format!("{}\n\n{}", resources.trim(), reply.trim())
}

/// Path F: the refusal, its reason, and what to do instead. `canonical` turns an
/// alternative canonical answer id into its question, when it is offered.
pub fn refusal(r: &Refusal, canonical: Option<&str>) -> String {
    let alt = match &r.alternative {
        Alternative::CanonicalAnswer { .. } => match canonical {
            Some(q) => format!("A close question has an answer already: \"{}\" — ask me that.", excerpt(q, 120)),
            None => String::new(),
        },
        Alternative::TryAgainAt { at } => format!("You can ask again after {}.", when(*at)),
        Alternative::Suggestion { text } => text.clone(),
    };
    let reason = match r.code {
        RefusalCode::DailyCapReached | RefusalCode::WeeklyCapReached => {
            "the creator has reached the number of questions they can take for now"
        }
        RefusalCode::OutsideHours => "the creator is away and not taking questions right now",
        RefusalCode::TierNotAllowed => "this inbox isn't open to your membership tier",
        RefusalCode::BlockedTopic | RefusalCode::Policy => "that's a topic the creator doesn't answer here",
        RefusalCode::EscalationDisabled => "the creator isn't taking personal questions right now",
        RefusalCode::OffTopic => "that's outside what I can help with here",
    };
    format!("Sorry — {reason}. {alt}").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layer;

    fn chunk(id: i64, sim: f32, heading: &str, text: &str) -> ChunkHit {
        ChunkHit {
            chunk_id: id,
            document_id: 1,
            title: "Guide".into(),
            source_path: "guide.md".into(),
            heading: heading.into(),
            text: text.into(),
            layer: Layer::Public,
            similarity: sim,
            closest: None,
        }
    }

    #[test]
    fn grounded_answers_cite_their_passages() {
        let chunks =
            [chunk(7, 0.7, "Guide > Gear", "I use a Fuji X-T4. It is light."), chunk(8, 0.2, "", "Unrelated.")];
        let (text, cites) = grounded_answer("Which camera do you use?", &chunks, 0.45);
        assert_eq!(cites.len(), 1);
        assert_eq!(cites[0].chunk_id, 7);
        assert!(text.contains("Fuji X-T4") && text.contains("[1]") && !text.contains("Unrelated"), "{text}");
    }

    #[test]
    fn the_sentences_that_answer_are_quoted_not_the_first_ones() {
        let text = "Yes. If the workshop is not for you, write to me within 14 days of your first payment \
                    and you get a full refund. After that, cancelling stops the next payment.";
        let terms = content_terms("Can I get my money back within the first days?");
        let (t, n) = answering_sentences(&terms, text, None, 400);
        assert!(t.starts_with("Yes. If the workshop") && n >= 1, "{t}");
        // The sentence that matches, then what follows it.
        let text = "I draft in Scrivener. Sound comes from a Rode PodMic into a recorder. Lighting is one LED panel.";
        let (t, _) = answering_sentences(&content_terms("What sound recorder do you use?"), text, None, 400);
        assert!(t.starts_with("Sound comes from") && !t.contains("Scrivener"), "{t}");
        // Nothing shared: the first sentences.
        let (t, n) = answering_sentences(&content_terms("hello"), text, None, 30);
        assert_eq!((t.as_str(), n), ("I draft in Scrivener.", 0));
    }

    #[test]
    fn the_sentence_closest_by_meaning_leads_when_words_do_not_decide() {
        let text = "I draft in Scrivener. Sound comes from a Rode PodMic into a recorder. Lighting is one LED panel.";
        let closest = Some("Sound comes from a Rode PodMic into a recorder.");
        // No word in common ("microphone" is not "PodMic"): the closest sentence leads.
        let (t, n) = answering_sentences(&content_terms("What microphone do you use?"), text, closest, 400);
        assert!(t.starts_with("Sound comes from") && n == 0, "{t}");
        // Words decide when one sentence shares more of them.
        let (t, _) = answering_sentences(&content_terms("Which software do you draft in?"), text, closest, 400);
        assert!(t.starts_with("I draft in Scrivener"), "{t}");
    }

    #[test]
    fn excerpts_stop_at_sentences() {
        let e = excerpt("One sentence here. Another one follows. And a third.", 30);
        assert_eq!(e, "One sentence here.");
        assert_eq!(excerpt("short", 30), "short");
    }

    #[test]
    fn replies_name_what_matters() {
        let s = crate::signals::text::stats("what about it?");
        let q = clarifying_question("what about it?", &s, &[chunk(1, 0.3, "Guide > Gear", "x")]);
        assert!(q.contains("refers to") && q.contains("Gear"), "{q}");
        let c = canonical_reply("Jules", "Use a tripod.", "What tripod?", 3);
        assert!(c.contains("Jules's answer") && c.contains("2 other fans"), "{c}");
        let o = offer("Jules", 12, crate::EscalationReason::Novel, None);
        assert!(o.contains("#12"), "{o}");
    }
}

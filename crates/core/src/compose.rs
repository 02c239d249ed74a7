//! The fan's reply for a routed message. Path A is written by the configured language
//! model from the retrieved passages (streamed, with citations) and falls back to an
//! extractive answer from the same passages when no provider is configured or all
//! fail; path B's clarifying question likewise falls back to a template; an
//! escalation's context summary is the model's, or the extractive one. The decision
//! records which was given.

use crate::llm::StreamEvent;
use crate::routing::Served;
use crate::{Fanline, Result};
use fanline_engine::route::reply::{self, Citation};
use fanline_engine::route::{prompt, Alternative, ChunkHit, Routed};
use fanline_engine::RoutePath;
use serde::Serialize;

/// Passages given to the model for path A.
const PASSAGES: usize = 4;

/// How a reply was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Generation {
    /// "llm", "extractive" (path A without a model) or "template" (path B without one).
    pub source: &'static str,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Calls made (retries and fallbacks included).
    pub calls: usize,
    /// Why no model wrote it.
    pub reason: Option<String>,
}

impl Generation {
    fn without(source: &'static str, reason: String) -> Generation {
        Generation {
            source,
            provider: None,
            model: None,
            input_tokens: 0,
            output_tokens: 0,
            calls: 0,
            reason: Some(reason),
        }
    }
}

/// A path-A answer and what it was drafted from.
pub(crate) struct Drafted {
    pub passages: Vec<String>,
    pub text: String,
    pub citations: Vec<Citation>,
    pub generation: Generation,
}

pub(crate) struct Composed {
    /// The passages path A's answer was drafted from.
    pub passages: Vec<String>,
    pub text: String,
    pub citations: Vec<Citation>,
    pub served: Option<Served>,
    pub generation: Option<Generation>,
    /// Path D: the model's summary of the conversation for the creator.
    pub summary: Option<String>,
}

impl Fanline {
    /// Run the model; `Ok(None)` with the reason when there is no answer from it.
    fn written(
        &self,
        (system, user): (String, String),
        cacheable: bool,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<std::result::Result<(String, Generation), String>> {
        Ok(match self.generate(system, user, cacheable, sink) {
            // An empty answer is no answer: the fan never gets a blank reply.
            Ok(Some(g)) if g.text.trim().is_empty() => Err(format!("{} returned an empty answer", g.provider)),
            Ok(Some(g)) => Ok((
                g.text.trim().to_string(),
                Generation {
                    source: "llm",
                    provider: Some(g.provider),
                    model: Some(g.model),
                    input_tokens: g.input_tokens,
                    output_tokens: g.output_tokens,
                    calls: g.attempts.len(),
                    reason: None,
                },
            )),
            Ok(None) => Err("no language model provider is configured".to_string()),
            Err(crate::Error::Llm(e)) => {
                tracing::warn!("generation failed, answering without a model: {e}");
                // Whatever was streamed is void: the fallback follows.
                sink(StreamEvent::Restart);
                Err(e.to_string())
            }
            Err(e) => return Err(e),
        })
    }

    /// Compose the reply. `redo`: path A again, after the critics rejected a draft:
    /// `Some(problems)` rewrites it with the problems named, `Some("")` answers
    /// without the model.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn compose(
        &self,
        creator: &str,
        persona: &str,
        message: &str,
        conversation_id: i64,
        r: &Routed,
        redo: Option<&str>,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<Composed> {
        let history = || -> Result<Vec<(String, String)>> {
            Ok(self.store.recent_messages(conversation_id, 6)?.into_iter().map(|m| (m.role, m.body)).collect())
        };
        let mut out = Composed {
            passages: Vec::new(),
            text: String::new(),
            citations: Vec::new(),
            served: None,
            generation: None,
            summary: None,
        };
        match r.path {
            RoutePath::A => {
                let drafted = self.draft_from(creator, persona, message, &history()?, &r.chunks, redo, sink)?;
                out.passages = drafted.passages;
                out.text = drafted.text;
                out.citations = drafted.citations;
                out.generation = Some(drafted.generation);
            }
            RoutePath::B => match self.written(prompt::clarify(persona, message, &r.chunks), false, sink)? {
                Ok((text, g)) => {
                    out.text = text;
                    out.generation = Some(g);
                }
                Err(reason) => {
                    let stats = r
                        .signals
                        .as_ref()
                        .map(|s| s.text.clone())
                        .unwrap_or_else(|| fanline_engine::signals::text::stats(message));
                    out.text = reply::clarifying_question(message, &stats, &r.chunks);
                    sink(StreamEvent::Token(&out.text));
                    out.generation = Some(Generation::without("template", reason));
                }
            },
            RoutePath::C => {
                let c = r.served().expect("path C serves a candidate");
                let a = self.store.canonical(c.canonical_id)?;
                let times = a.times_reused + 1;
                out.text = reply::canonical_reply(creator, &a.answer, &a.question_pattern, times);
                out.served = Some(Served { canonical_id: a.id, question: a.question_pattern, times_reused: times });
            }
            RoutePath::D => {
                if !self.chain()?.is_empty() {
                    let h = history()?;
                    if let Ok((text, _)) = self.written(prompt::summary(&h), false, &mut |_| {})? {
                        out.summary = Some(text);
                    }
                }
            }
            RoutePath::F => {
                let refusal = r.refusal.as_ref().expect("path F has a refusal");
                let q = match refusal.alternative {
                    Alternative::CanonicalAnswer { canonical_id, .. } => {
                        Some(self.store.canonical(canonical_id)?.question_pattern)
                    }
                    _ => None,
                };
                out.text = reply::refusal(refusal, q.as_deref());
            }
            RoutePath::E => {}
        }
        Ok(out)
    }

    /// An answer to `message` from the passages `chunks`: written by the model (fit to
    /// its context window, citing passages), else extractive from the passages.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn draft_from(
        &self,
        creator: &str,
        persona: &str,
        message: &str,
        h: &[(String, String)],
        all: &[ChunkHit],
        redo: Option<&str>,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<Drafted> {
        let mut chunks: Vec<ChunkHit> = all.iter().take(PASSAGES).cloned().collect();
        // Fit the smallest context window: drop the weakest passages first
        // (about 4 characters a token, and room for the answer).
        if let Some(window) = self.chain()?.context_window() {
            let budget = (window as usize).saturating_sub(self.config.llm.max_tokens as usize) * 4;
            while chunks.len() > 1 {
                let (s, u) = prompt::answer(persona, creator, message, h, &chunks);
                if s.len() + u.len() <= budget {
                    break;
                }
                chunks.pop();
            }
        }
        // The first message of a conversation is not personal: its answer may be reused.
        let cacheable = h.len() <= 1;
        let passages = chunks.iter().map(|c| c.text.clone()).collect();
        let (system, mut user) = prompt::answer(persona, creator, message, h, &chunks);
        let attempt = match redo {
            Some("") => Err("the model's drafts were rejected by the critics".to_string()),
            Some(problems) => {
                user.push_str(&format!(
                    "\n\nA previous draft was rejected: {problems}. Write the answer again, using only the passages."
                ));
                self.written((system, user), false, sink)?
            }
            None => self.written((system, user), cacheable, sink)?,
        };
        Ok(match attempt {
            Ok((text, generation)) => {
                // The passages the answer cites, listed under it.
                let used: Vec<Citation> =
                    reply::citations(&chunks).into_iter().filter(|c| text.contains(&format!("[{}]", c.n))).collect();
                let text = if used.is_empty() { text } else { format!("{text}\n\n{}", reply::sources(&used)) };
                Drafted { passages, text, citations: used, generation }
            }
            Err(reason) => {
                let (text, citations) = reply::grounded_answer(all, self.config.routing.support_similarity);
                sink(StreamEvent::Token(&text));
                Drafted { passages, text, citations, generation: Generation::without("extractive", reason) }
            }
        })
    }
}

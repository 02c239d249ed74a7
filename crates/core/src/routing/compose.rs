//! Stage 3: route and compose. The engine's plan decides the outcome; the reply is
//! written for it. Path A is written by the configured language model from the
//! retrieved passages (streamed, with citations) and falls back to an extractive answer
//! from the same passages when no provider is configured or all fail; path B's
//! clarifying question likewise falls back to a template; an escalation's context
//! summary is the model's, or the extractive one. The decision records which was given.

use super::{Intake, Served};
use crate::backend::Backend;
use crate::llm::StreamEvent;
use crate::{Fanline, Result};
use fanline_engine::route::reply::{self, Citation};
use fanline_engine::route::{prompt, route, Action, Alternative, ChunkHit, Resolution, RouteInput, Routed};
use serde::{Deserialize, Serialize};

/// Passages given to the model for path A.
const PASSAGES: usize = 4;

/// Who wrote a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum GenerationSource {
    /// A language model.
    Llm,
    /// Path A without a model: quoted from the documents.
    Extractive,
    /// Path B without a model: the template question.
    Template,
}

/// How a reply was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Generation {
    /// Who wrote it.
    pub source: GenerationSource,
    /// The provider that wrote it.
    pub provider: Option<String>,
    /// Its model.
    pub model: Option<String>,
    /// Tokens in the prompt.
    pub input_tokens: u64,
    /// Tokens written.
    pub output_tokens: u64,
    /// Calls made (retries and fallbacks included).
    pub calls: usize,
    /// Why no model wrote it.
    pub reason: Option<String>,
}

impl Generation {
    fn without(source: GenerationSource, reason: String) -> Generation {
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

    /// Whether a language model wrote it.
    pub fn by_model(&self) -> bool {
        self.source == GenerationSource::Llm
    }
}

/// How path A's answer is to be written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DraftMode {
    /// The first draft: by the model when there is one.
    First,
    /// Again by the model, told what was wrong with the last draft.
    Rewrite { feedback: String },
    /// From the documents, without the model, and why.
    WithoutModel { reason: String },
}

/// What asking the model gave.
pub(crate) enum Written {
    /// The model wrote it.
    ByModel { text: String, generation: Generation },
    /// No model could, because…
    NoModel { reason: String },
}

/// A path-A answer and what it was drafted from.
pub(crate) struct Drafted {
    pub passages: Vec<String>,
    pub text: String,
    pub citations: Vec<Citation>,
    pub generation: Generation,
}

/// The reply composed for an outcome. On path D the text is written when the offer
/// has its number (at persist).
pub(crate) struct Reply {
    pub text: String,
    pub citations: Vec<Citation>,
    pub served: Option<Served>,
    pub generation: Option<Generation>,
    /// Path D: the model's summary of the conversation for the creator.
    pub summary: Option<String>,
    /// Path A: the passages the answer was drafted from (for the draft critics).
    pub passages: Vec<String>,
}

impl Reply {
    fn text(text: String) -> Reply {
        Reply { text, citations: Vec::new(), served: None, generation: None, summary: None, passages: Vec::new() }
    }
}

impl Fanline {
    /// Run the engine's plan for a stored message (with an action forced by a critic).
    pub(crate) fn plan(&self, intake: &Intake, forced: Option<(Action, String)>) -> Result<Routed> {
        let query = intake.query();
        let running = PlanRunning::start(&self.plans_running);
        let input = RouteInput {
            agent_id: intake.agent.id,
            rules: &intake.rules,
            settings: &self.config.routing,
            policy: &intake.policy.policy,
            fan: &intake.fan,
            message: &query,
            text: &intake.text,
            now: intake.now,
            forced,
            parallel: running.others < cores(),
        };
        let backend = Backend {
            app: self,
            conversation_id: Some(intake.conversation_id),
            as_of: intake.replay.then_some((intake.message_id, intake.now)),
        };
        Ok(route(&input, &backend)?)
    }

    /// Ask the model; an empty answer is no answer (the fan never gets a blank reply).
    fn written(
        &self,
        (system, user): (String, String),
        cacheable: bool,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<Written> {
        Ok(match self.generate(system, user, cacheable, sink) {
            Ok(Some(g)) if g.text.trim().is_empty() => {
                sink(StreamEvent::Restart);
                Written::NoModel { reason: format!("{} returned an empty answer", g.provider) }
            }
            Ok(Some(g)) => Written::ByModel {
                text: g.text.trim().to_string(),
                generation: Generation {
                    source: GenerationSource::Llm,
                    provider: Some(g.provider),
                    model: Some(g.model),
                    input_tokens: g.input_tokens,
                    output_tokens: g.output_tokens,
                    calls: g.attempts.len(),
                    reason: None,
                },
            },
            Ok(None) => Written::NoModel { reason: "no language model provider is configured".to_string() },
            Err(crate::Error::Llm(e)) => {
                let reason = e.to_string();
                tracing::warn!("generation failed, answering without a model: {reason}");
                // Whatever was streamed is void: the fallback follows.
                sink(StreamEvent::Restart);
                Written::NoModel { reason }
            }
            Err(e) => return Err(e),
        })
    }

    /// Compose the reply for the outcome; path A's answer as `mode` says.
    pub(crate) fn compose(
        &self,
        intake: &Intake,
        r: &Routed,
        mode: DraftMode,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<Reply> {
        let persona = &intake.rules.persona;
        Ok(match &r.resolution {
            Resolution::Answer => {
                let d = self.draft_from(
                    &intake.creator,
                    persona,
                    &intake.message,
                    r.recent_messages(),
                    &r.chunks,
                    mode,
                    sink,
                )?;
                Reply {
                    text: d.text,
                    citations: d.citations,
                    served: None,
                    generation: Some(d.generation),
                    summary: None,
                    passages: d.passages,
                }
            }
            Resolution::Clarify => {
                match self.written(prompt::clarify(persona, &intake.message, &r.chunks), false, sink)? {
                    Written::ByModel { text, generation } => {
                        Reply { generation: Some(generation), ..Reply::text(text) }
                    }
                    Written::NoModel { reason } => {
                        let stats = r.signals.as_ref().map(|s| &s.text).unwrap_or(&intake.text.stats);
                        let text = reply::clarifying_question(&intake.message, stats, &r.chunks);
                        sink(StreamEvent::Token(&text));
                        Reply {
                            generation: Some(Generation::without(GenerationSource::Template, reason)),
                            ..Reply::text(text)
                        }
                    }
                }
            }
            Resolution::Reuse { candidate } => {
                let a = self.store.canonical_reply_parts(candidate.canonical_id)?;
                let times = a.times_reused + 1;
                let text = reply::canonical_reply(&intake.creator, &a.answer, &a.question_pattern, times);
                Reply {
                    served: Some(Served { canonical_id: a.id, question: a.question_pattern, times_reused: times }),
                    ..Reply::text(text)
                }
            }
            Resolution::Offer { .. } => {
                let mut reply = Reply::text(String::new());
                if !self.chain()?.is_empty() {
                    if let Written::ByModel { text, .. } =
                        self.written(prompt::summary(r.recent_messages()), false, &mut |_| {})?
                    {
                        reply.summary = Some(text);
                    }
                }
                reply
            }
            Resolution::Refuse { refusal } => {
                let q = match refusal.alternative {
                    Alternative::CanonicalAnswer { canonical_id, .. } => {
                        Some(self.store.canonical_reply_parts(canonical_id)?.question_pattern)
                    }
                    _ => None,
                };
                Reply::text(reply::refusal(refusal, q.as_deref()))
            }
        })
    }

    /// An answer to `message` from the passages `all`: written by the model (fit to its
    /// context window, citing passages) unless `mode` says otherwise, else extractive
    /// from the passages.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn draft_from(
        &self,
        creator: &str,
        persona: &str,
        message: &str,
        h: &[(String, String)],
        all: &[ChunkHit],
        mode: DraftMode,
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
        let attempt = match mode {
            DraftMode::WithoutModel { reason } => Written::NoModel { reason },
            DraftMode::Rewrite { feedback } => {
                user.push_str(&format!(
                    "\n\nA previous draft was rejected: {feedback}. Write the answer again, using only the passages."
                ));
                self.written((system, user), false, sink)?
            }
            DraftMode::First => self.written((system, user), cacheable, sink)?,
        };
        Ok(match attempt {
            Written::ByModel { text, generation } => {
                // The passages the answer cites, listed under it.
                let used: Vec<Citation> =
                    reply::citations(&chunks).into_iter().filter(|c| text.contains(&format!("[{}]", c.n))).collect();
                let text = if used.is_empty() { text } else { format!("{text}\n\n{}", reply::sources(&used)) };
                Drafted { passages, text, citations: used, generation }
            }
            Written::NoModel { reason } => {
                let (text, citations) = reply::grounded_answer(message, all, self.config.routing.support_similarity);
                sink(StreamEvent::Token(&text));
                let passages = all.iter().map(|c| c.text.clone()).collect();
                Drafted {
                    passages,
                    text,
                    citations,
                    generation: Generation::without(GenerationSource::Extractive, reason),
                }
            }
        })
    }
}

/// The cores this process may use (1 if unknown).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// One routing plan counted as running while this lives.
struct PlanRunning<'a> {
    count: &'a std::sync::atomic::AtomicUsize,
    /// The plans that were running when this one started.
    others: usize,
}

impl<'a> PlanRunning<'a> {
    fn start(count: &'a std::sync::atomic::AtomicUsize) -> PlanRunning<'a> {
        let others = count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        PlanRunning { count, others }
    }
}

impl Drop for PlanRunning<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

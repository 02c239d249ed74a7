//! `fanline eval conversations FILE`: a hand-written set of fan conversations over a
//! sample knowledge base (see `examples/conversations.toml` for the format), routed
//! end to end through the real use case on a scratch data folder, each turn scored on
//! its path and on the facts its reply must and must not contain.

use fanline_core::{Config, Error, Fanline, NewCanonicalInput, Result};
use fanline_engine::{Layer, RoutePath, Tier};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The set as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationSet {
    /// The knowledge base folder, relative to the set's file: one sub-folder per layer.
    pub kb: PathBuf,
    /// Persona name → the tier and layer of the fans who play it.
    pub personas: BTreeMap<String, Persona>,
    /// Layer → facts only fans at that layer or above may read.
    #[serde(default)]
    pub layers: BTreeMap<Layer, Vec<String>>,
    /// The creator's earlier answers.
    #[serde(default)]
    pub canonical: Vec<CanonicalSeed>,
    /// The conversations, each by a new fan.
    pub conversation: Vec<Conversation>,
}

/// Who a fan is.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    pub tier: Tier,
    pub layer: Layer,
}

/// A canonical answer stored before the conversations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanonicalSeed {
    pub key: String,
    pub questions: Vec<String>,
    pub answer: String,
    #[serde(default = "public")]
    pub layer: Layer,
}

fn public() -> Layer {
    Layer::Public
}

/// One fan's conversation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    pub persona: String,
    pub turns: Vec<Turn>,
}

/// A message and what a good reply to it is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    pub say: String,
    /// The paths a good router may take.
    pub paths: Vec<RoutePath>,
    #[serde(default)]
    pub must: Vec<String>,
    #[serde(default)]
    pub must_not: Vec<String>,
    /// The canonical answer path C must serve (by key).
    #[serde(default)]
    pub reuse: Option<String>,
}

/// How one turn went.
#[derive(Debug, Clone, Serialize)]
pub struct TurnResult {
    pub conversation: usize,
    pub say: String,
    pub expected: Vec<RoutePath>,
    pub path: RoutePath,
    pub right: bool,
    /// What made it wrong (empty when right).
    pub misses: Vec<String>,
    pub leak: bool,
    pub wrong_reuse: bool,
    pub reason: String,
    pub reply: String,
    /// The plan's signals (none when an early step decided).
    pub signals: Option<fanline_engine::route::Signals>,
}

/// The set's score.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationReport {
    pub conversations: usize,
    pub turns: usize,
    pub right: usize,
    pub leaks: usize,
    pub wrong_reuses: usize,
    /// Turns by expected path (the first listed): (path, right, of).
    pub by_path: Vec<(RoutePath, usize, usize)>,
    pub results: Vec<TurnResult>,
    pub seconds: f64,
}

impl ConversationReport {
    /// Share of turns right.
    pub fn score(&self) -> f64 {
        if self.turns == 0 {
            0.0
        } else {
            self.right as f64 / self.turns as f64
        }
    }
}

/// Read and check a set.
pub fn load(file: &Path) -> Result<(ConversationSet, PathBuf)> {
    let text =
        std::fs::read_to_string(file).map_err(|e| Error::Io { path: file.to_path_buf(), detail: e.to_string() })?;
    let set: ConversationSet = toml::from_str(&text)
        .map_err(|e| Error::InvalidInput(format!("{}: {}", file.display(), e.message().trim())))?;
    for (i, c) in set.conversation.iter().enumerate() {
        if !set.personas.contains_key(&c.persona) {
            return Err(Error::InvalidInput(format!("conversation {}: no persona {:?}", i + 1, c.persona)));
        }
        for t in &c.turns {
            if t.paths.is_empty() {
                return Err(Error::InvalidInput(format!("conversation {}: {:?} lists no path", i + 1, t.say)));
            }
            if let Some(k) = t.reuse.as_ref().filter(|k| !set.canonical.iter().any(|c| &c.key == *k)) {
                return Err(Error::InvalidInput(format!("conversation {}: no canonical answer {k:?}", i + 1)));
            }
        }
    }
    let kb = file.parent().unwrap_or(Path::new(".")).join(&set.kb);
    Ok((set, kb))
}

/// Route every conversation of the set in `app` (a scratch data folder: the knowledge
/// base and the canonical answers are added to it).
pub fn run(
    app: &Fanline,
    set: &ConversationSet,
    kb: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ConversationReport> {
    let started = Instant::now();
    for (sub, layer) in [("public", Layer::Public), ("friends", Layer::Friends), ("intimate", Layer::Intimate)] {
        let dir = kb.join(sub);
        if dir.is_dir() {
            app.import(None, &[dir], layer, &mut |_| {})?;
        }
    }
    let mut keys = BTreeMap::new();
    for c in &set.canonical {
        let (question, variants) = c
            .questions
            .split_first()
            .ok_or_else(|| Error::InvalidInput(format!("canonical answer {:?} has no question", c.key)))?;
        let added = app.canonical_add(
            None,
            &NewCanonicalInput {
                question: question.clone(),
                variants: variants.to_vec(),
                answer: c.answer.clone(),
                layer: c.layer,
            },
        )?;
        keys.insert(added.id, c.key.clone());
    }
    let total: usize = set.conversation.iter().map(|c| c.turns.len()).sum();
    let mut results = Vec::with_capacity(total);
    for (n, c) in set.conversation.iter().enumerate() {
        let persona = set.personas[&c.persona];
        let handle = format!("{}-{}", c.persona, n + 1);
        app.fan_add(&handle, persona.tier, persona.layer)?;
        for t in &c.turns {
            let r = app.route(None, &handle, &t.say)?;
            let lower = r.reply.to_lowercase();
            let mut misses = Vec::new();
            if !t.paths.contains(&r.path) {
                misses.push(format!("path {} (expected {})", r.path, list(&t.paths)));
            }
            for m in t.must.iter().filter(|m| !lower.contains(&m.to_lowercase())) {
                misses.push(format!("lacks {m:?}"));
            }
            for m in t.must_not.iter().filter(|m| lower.contains(&m.to_lowercase())) {
                misses.push(format!("contains {m:?}"));
            }
            let leaked: Vec<&String> = set
                .layers
                .iter()
                .filter(|(layer, _)| **layer > persona.layer)
                .flat_map(|(_, facts)| facts)
                .filter(|f| lower.contains(&f.to_lowercase()))
                .collect();
            for f in &leaked {
                misses.push(format!("leaks {f:?}"));
            }
            let served = r.served.as_ref().and_then(|s| keys.get(&s.canonical_id));
            let wrong_reuse = r.path == RoutePath::C && served != t.reuse.as_ref();
            if wrong_reuse {
                misses.push(format!("served {:?}", served.map(String::as_str).unwrap_or("?")));
            }
            results.push(TurnResult {
                conversation: n + 1,
                say: t.say.clone(),
                expected: t.paths.clone(),
                path: r.path,
                right: misses.is_empty(),
                misses,
                leak: !leaked.is_empty(),
                wrong_reuse,
                reason: r.reason,
                reply: r.reply,
                signals: r.signals,
            });
            progress(results.len(), total);
        }
    }
    let mut by_path: Vec<(RoutePath, usize, usize)> = Vec::new();
    for r in &results {
        let p = r.expected[0];
        match by_path.iter_mut().find(|(q, ..)| *q == p) {
            Some(e) => {
                e.1 += r.right as usize;
                e.2 += 1;
            }
            None => by_path.push((p, r.right as usize, 1)),
        }
    }
    by_path.sort_by_key(|e| e.0.as_str());
    Ok(ConversationReport {
        conversations: set.conversation.len(),
        turns: results.len(),
        right: results.iter().filter(|r| r.right).count(),
        leaks: results.iter().filter(|r| r.leak).count(),
        wrong_reuses: results.iter().filter(|r| r.wrong_reuse).count(),
        by_path,
        results,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn list(paths: &[RoutePath]) -> String {
    paths.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" or ")
}

/// `fanline eval conversations FILE`: load the set and run it on a scratch data folder.
pub fn eval(config: &Config, file: &Path, progress: &mut dyn FnMut(usize, usize)) -> Result<ConversationReport> {
    let (set, kb) = load(file)?;
    let (_dir, app) = crate::eval::scratch(config)?;
    app.init(None)?;
    run(&app, &set, &kb, progress)
}

//! Fuzzing what reads untrusted text: the policy parser, the config parser, the
//! importers (Markdown, HTML, PDF, plain text) and the message intake (the checks, the
//! analysis and the critics). Each target takes any bytes and must neither panic nor
//! hang; errors are fine, they are what bad input gets.
//!
//! [`run`] mutates a seed corpus for a bounded time (the test command runs it for
//! seconds, `FANLINE_FUZZ_SECONDS=150 cargo test -p fanline-lab --test fuzz` for ten
//! minutes); a failing input is written to a file and reported.

use crate::bench::Rng;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A fuzz target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `Policy::parse`.
    Policy,
    /// `Config::parse_toml`.
    Config,
    /// The importers, by the format the first byte picks.
    Import,
    /// `checked_message`, `signals::analyse` and every built-in critic on the text as
    /// a message and as a draft.
    Message,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 4] = [Target::Policy, Target::Config, Target::Import, Target::Message];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Target::Policy => "policy",
            Target::Config => "config",
            Target::Import => "import",
            Target::Message => "message",
        }
    }

    /// Run the target on one input.
    pub fn run(self, data: &[u8]) {
        match self {
            Target::Policy => policy(data),
            Target::Config => config(data),
            Target::Import => import(data),
            Target::Message => message(data),
        }
    }

    /// Seeds: real inputs of the kind, from the repository's examples.
    pub fn seeds(self) -> Vec<Vec<u8>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let read = |p: &str| std::fs::read(root.join(p)).unwrap_or_default();
        match self {
            Target::Policy => vec![
                b"[topics.pricing]\nkeywords = [\"cost\", \"price\"]\naction = \"escalate\"\n".to_vec(),
                b"[tiers.paid]\nmax_layer = \"friends\"\n[risk.high]\naction = \"refuse\"\n".to_vec(),
            ],
            Target::Config => vec![read("examples/config.toml"), b"[routing]\nnovelty_threshold = 0.9\n".to_vec()],
            Target::Import => vec![
                [b"m".as_slice(), &read("examples/creator-kb/public/faq.md")].concat(),
                [b"h".as_slice(), &read("examples/creator-kb/public/gear-and-tools.html")].concat(),
                [b"t".as_slice(), &read("examples/creator-kb/public/about.txt")].concat(),
                [b"p".as_slice(), &read("examples/creator-kb/public/newsletter-issue-42.pdf")].concat(),
            ],
            Target::Message => vec![
                b"How much does your writing workshop cost?".to_vec(),
                b"my email is ana@example.com and my card 4111 1111 1111 1111, call +33 6 12 34 56 78".to_vec(),
                "Est-ce que tu peux m'aider ? 日本語 🙂".as_bytes().to_vec(),
            ],
        }
    }
}

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

fn policy(data: &[u8]) {
    let _ = fanline_engine::route::Policy::parse(&text(data));
}

fn config(data: &[u8]) {
    let _ = fanline_core::Config::parse_toml(&text(data));
}

fn import(data: &[u8]) {
    use fanline_ingest::{chunk_blocks, parse_bytes, ChunkOptions, Format};
    let Some((&pick, bytes)) = data.split_first() else { return };
    let (format, name) = match pick % 4 {
        0 => (Format::Markdown, "f.md"),
        1 => (Format::Html, "f.html"),
        2 => (Format::Text, "f.txt"),
        _ => (Format::Pdf, "f.pdf"),
    };
    if let Ok(doc) = parse_bytes(Path::new(name), format, bytes) {
        let _ = chunk_blocks(&doc.blocks, ChunkOptions::default());
    }
}

fn message(data: &[u8]) {
    let t = text(data);
    let Ok(m) = fanline_core::checked_message(&t) else { return };
    let analysis = fanline_engine::signals::analyse(m);
    thread_local! {
        static RT: (tokio::runtime::Runtime, fanline_critics::Runner) = {
            let mut runner = fanline_critics::Runner::new(fanline_critics::Settings::default());
            for c in fanline_critics::builtin::builtin() {
                runner.add(c);
            }
            (tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime"), runner)
        };
    }
    RT.with(|(rt, runner)| {
        let s = fanline_critics::Subject {
            message: m.to_string(),
            draft: Some(m.to_string()),
            risk: Some(analysis.risk()),
            passages: vec![m.chars().rev().collect()],
            blocked_topics: vec!["politics".into()],
            max_answer_chars: 1200,
            ..Default::default()
        };
        let _ = rt.block_on(runner.run(&s));
    });
}

/// Tokens the parsers care about, spliced in by the mutator.
const TOKENS: &[&[u8]] = &[
    b"[",
    b"]",
    b"[[",
    b"]]",
    b"=",
    b"\"",
    b"'''",
    b"\n",
    b"\r\n",
    b"#",
    b"##",
    b"<",
    b">",
    b"</",
    b"<script>",
    b"<!--",
    b"-->",
    b"&amp;",
    b"&#x",
    b"```",
    b"*",
    b"|",
    b"\\",
    b"\\u",
    b"\0",
    b"\xff",
    b"\xf0\x9f",
    b"%PDF-1.4",
    b"obj",
    b"endobj",
    b"stream",
    b"endstream",
    b"xref",
    b"trailer",
    b"<<",
    b">>",
    b"/Length",
    b"1e999",
    b"-0",
    b"9999999999999999999999",
    b"true",
    b"inf",
    b"nan",
    b"topics",
    b"tiers",
    b"risk",
    b"action",
    b"keywords",
    b"escalate",
    b"refuse",
    b"routing",
    b"@",
    b".com",
    b"4111 1111 1111 1111",
    b"\xe2\x80\xae",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(8) {
        let len = input.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                input.insert(i, rng.next() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64) + 1);
                input.drain(i..i + n);
            }
            4 => {
                let i = rng.below(len + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                input.splice(i..i, t.iter().copied());
            }
            5 if len > 0 => {
                // Repeat a slice (deep nesting, long lines).
                let i = rng.below(len);
                let n = rng.below((len - i).min(32) + 1);
                let piece = input[i..i + n].to_vec();
                for _ in 0..rng.below(64) {
                    input.splice(i..i, piece.iter().copied());
                }
            }
            6 => {
                // Splice in part of another seed.
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = a + rng.below(other.len() - a + 1);
                    let i = rng.below(len + 1);
                    input.splice(i..i, other[a..b].iter().copied());
                }
            }
            _ => {
                if len > 0 {
                    input.truncate(rng.below(len + 1));
                }
            }
        }
    }
    input.truncate(1 << 20);
}

/// What a fuzzing run did.
#[derive(Debug, Clone)]
pub struct FuzzReport {
    /// The target.
    pub target: Target,
    /// Inputs run.
    pub runs: u64,
    /// The slowest input, in milliseconds.
    pub slowest_ms: f64,
    /// The input that panicked or hung, written to this file, with what happened.
    pub failure: Option<(PathBuf, String)>,
}

/// Fuzz `target` for `time`, from its seeds and `seed` (the generator's), writing a
/// failing input into `out`. An input that runs longer than `hang` counts as a hang.
pub fn run(target: Target, time: Duration, seed: u64, hang: Duration, out: &Path) -> FuzzReport {
    let seeds: Vec<Vec<u8>> = target.seeds().into_iter().filter(|s| !s.is_empty()).collect();
    let current: Arc<Mutex<Vec<u8>>> = Arc::default();
    let started_us = Arc::new(AtomicU64::new(u64::MAX));
    let stop = Arc::new(AtomicBool::new(false));
    let runs = Arc::new(AtomicU64::new(0));
    let slowest_us = Arc::new(AtomicU64::new(0));
    let panicked: Arc<Mutex<Option<String>>> = Arc::default();
    let t0 = Instant::now();
    let worker = {
        let (current, started_us, stop, runs, slowest_us, panicked) =
            (current.clone(), started_us.clone(), stop.clone(), runs.clone(), slowest_us.clone(), panicked.clone());
        std::thread::spawn(move || {
            let mut rng = Rng(seed | 1);
            let mut input = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                if input.is_empty() || rng.below(16) == 0 {
                    input = seeds[rng.below(seeds.len())].clone();
                }
                mutate(&mut rng, &seeds, &mut input);
                *current.lock().unwrap_or_else(|p| p.into_inner()) = input.clone();
                let at = t0.elapsed().as_micros() as u64;
                started_us.store(at, Ordering::SeqCst);
                let r = std::panic::catch_unwind(|| target.run(&input));
                let took = t0.elapsed().as_micros() as u64 - at;
                started_us.store(u64::MAX, Ordering::SeqCst);
                slowest_us.fetch_max(took, Ordering::SeqCst);
                runs.fetch_add(1, Ordering::SeqCst);
                if let Err(p) = r {
                    let what = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    *panicked.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("panicked: {what}"));
                    return;
                }
            }
        })
    };
    let mut failure = None;
    let save = |why: String| {
        let bytes = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let path = out.join(format!("fuzz-{}-failure.bin", target.name()));
        let _ = std::fs::create_dir_all(out);
        let _ = std::fs::write(&path, bytes);
        (path, why)
    };
    while t0.elapsed() < time {
        std::thread::sleep(Duration::from_millis(50));
        if let Some(p) = panicked.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            failure = Some(save(p));
            break;
        }
        let s = started_us.load(Ordering::SeqCst);
        if s != u64::MAX && t0.elapsed().as_micros() as u64 > s + hang.as_micros() as u64 {
            failure = Some(save(format!("ran longer than {} s", hang.as_secs())));
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    if failure.is_none() || panicked.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
        let _ = worker.join();
    }
    FuzzReport {
        target,
        runs: runs.load(Ordering::SeqCst),
        slowest_ms: slowest_us.load(Ordering::SeqCst) as f64 / 1000.0,
        failure,
    }
}

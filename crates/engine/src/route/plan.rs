//! A routing plan: named steps with dependencies, run in waves. The steps of a wave
//! (all of whose dependencies are finished) run concurrently on scoped threads; a step
//! may decide the message, and then every later step is skipped with the reason. Every
//! step records when it started, how long it took and what came of it.
//!
//! Steps share a state value (`S`) and communicate through it, typically through
//! `OnceLock` fields each step fills once; the plan guarantees a step runs only after
//! its dependencies have finished.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done; the note says what it found.
    Done(String),
    /// Decided the message; no later step runs.
    Decided(String),
    /// Had nothing to do, and why.
    Skipped(String),
}

/// How a step ended, as the trace records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// It ran and found what its note says.
    Done,
    /// It decided the message.
    Decided,
    /// It did not run (nothing to do, or an earlier step decided).
    Skipped,
    /// It failed; the note holds the error.
    Failed,
}

impl StepOutcome {
    /// The outcome's name as the trace prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Done => "done",
            StepOutcome::Decided => "decided",
            StepOutcome::Skipped => "skipped",
            StepOutcome::Failed => "failed",
        }
    }
}

impl std::fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step's record in the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StepRecord {
    /// The step's name (a critic's run is `critic:<name>:<place>`).
    pub step: String,
    /// How it ended.
    pub outcome: StepOutcome,
    /// What it found, or why it did not run.
    pub note: String,
    /// Microseconds from the start of the plan (0 for steps that never started).
    pub start_us: u64,
    /// How long it ran, in microseconds.
    pub duration_us: u64,
    /// The wave the step ran in (steps of one wave run concurrently).
    pub wave: usize,
}

/// The record of a whole plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Trace {
    /// Every step, in plan order (then the critics' runs).
    pub steps: Vec<StepRecord>,
    /// The step that decided, if one did.
    pub decided_by: Option<String>,
    /// Microseconds the plan took.
    pub total_us: u64,
}

impl Trace {
    /// The record of the step named `name`.
    pub fn step(&self, name: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.step == name)
    }
}

type StepFn<'a, S> = Box<dyn Fn(&S) -> Result<Outcome> + Send + Sync + 'a>;
type SkipFn<'a, S> = Box<dyn Fn(&S) -> Option<String> + Send + Sync + 'a>;

struct Step<'a, S> {
    name: &'static str,
    after: Vec<&'static str>,
    run: StepFn<'a, S>,
    /// Checked when the step's wave starts: `Some(why)` skips it without a thread.
    skip: Option<SkipFn<'a, S>>,
}

/// A plan over state `S`.
pub struct Plan<'a, S> {
    steps: Vec<Step<'a, S>>,
}

impl<'a, S: Sync> Default for Plan<'a, S> {
    fn default() -> Self {
        Plan { steps: Vec::new() }
    }
}

impl<'a, S: Sync> Plan<'a, S> {
    /// An empty plan.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a step that runs after the named steps (which must already be in the plan,
    /// so a plan can have no cycle).
    pub fn step(
        mut self,
        name: &'static str,
        after: &[&'static str],
        run: impl Fn(&S) -> Result<Outcome> + Send + Sync + 'a,
    ) -> Result<Self> {
        if self.steps.iter().any(|s| s.name == name) {
            return Err(Error::Plan(format!("step {name:?} is in the plan twice")));
        }
        if let Some(missing) = after.iter().find(|d| !self.steps.iter().any(|s| s.name == **d)) {
            return Err(Error::Plan(format!(
                "step {name:?} runs after {missing:?}, which is not in the plan before it"
            )));
        }
        self.steps.push(Step { name, after: after.to_vec(), run: Box::new(run), skip: None });
        Ok(self)
    }

    /// Like [`step`](Self::step), with a cheap check made when its wave starts: when it
    /// says why, the step is skipped there and then, without taking a thread.
    pub fn step_unless(
        self,
        name: &'static str,
        after: &[&'static str],
        skip: impl Fn(&S) -> Option<String> + Send + Sync + 'a,
        run: impl Fn(&S) -> Result<Outcome> + Send + Sync + 'a,
    ) -> Result<Self> {
        let mut p = self.step(name, after, run)?;
        p.steps.last_mut().expect("just added").skip = Some(Box::new(skip));
        Ok(p)
    }

    /// The waves: each step's wave is one more than its latest dependency's.
    fn waves(&self) -> Vec<Vec<usize>> {
        let mut wave_of = vec![0usize; self.steps.len()];
        for (i, s) in self.steps.iter().enumerate() {
            wave_of[i] = s
                .after
                .iter()
                .map(|d| wave_of[self.steps.iter().position(|x| x.name == *d).expect("checked in step()")] + 1)
                .max()
                .unwrap_or(0);
        }
        let n = wave_of.iter().copied().max().map(|m| m + 1).unwrap_or(0);
        let mut waves = vec![Vec::new(); n];
        for (i, w) in wave_of.iter().enumerate() {
            waves[*w].push(i);
        }
        waves
    }

    /// Run the plan. A failing step stops it with that step's error.
    pub fn run(&self, state: &S) -> Result<Trace> {
        self.run_with(state, true)
    }

    /// Run the plan, a wave's steps concurrently only if `parallel` (when every core is
    /// busy with other messages already, threads of their own only add switching; the
    /// trace and the outcome are the same either way).
    pub fn run_with(&self, state: &S, parallel: bool) -> Result<Trace> {
        let t0 = Instant::now();
        let mut trace = Trace::default();
        let mut records: Vec<Option<StepRecord>> = vec![None; self.steps.len()];
        for (w, wave) in self.waves().into_iter().enumerate() {
            if let Some(by) = &trace.decided_by {
                for &i in &wave {
                    records[i] = Some(skipped(self.steps[i].name, w, &format!("decided by {by}")));
                }
                continue;
            }
            let mut wave = wave;
            wave.retain(|&i| match self.steps[i].skip.as_ref().and_then(|f| f(state)) {
                Some(why) => {
                    records[i] = Some(skipped(self.steps[i].name, w, &why));
                    false
                }
                None => true,
            });
            if wave.is_empty() {
                continue;
            }
            let results: Vec<(usize, u64, u64, Result<Outcome>)> = if wave.len() == 1 || !parallel {
                wave.iter().map(|&i| self.run_one(i, state, t0)).collect()
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> =
                        wave[1..].iter().map(|&i| scope.spawn(move || self.run_one(i, state, t0))).collect();
                    let mut out = vec![self.run_one(wave[0], state, t0)];
                    out.extend(handles.into_iter().map(|h| h.join().expect("a routing step panicked")));
                    out
                })
            };
            let mut failure = None;
            for (i, start_us, duration_us, r) in results {
                let (outcome, note) = match r {
                    Ok(Outcome::Done(n)) => (StepOutcome::Done, n),
                    Ok(Outcome::Skipped(n)) => (StepOutcome::Skipped, n),
                    Ok(Outcome::Decided(n)) => {
                        trace.decided_by.get_or_insert_with(|| self.steps[i].name.to_string());
                        (StepOutcome::Decided, n)
                    }
                    Err(e) => {
                        let note = e.to_string();
                        failure.get_or_insert(e);
                        (StepOutcome::Failed, note)
                    }
                };
                records[i] = Some(StepRecord {
                    step: self.steps[i].name.to_string(),
                    outcome,
                    note,
                    start_us,
                    duration_us,
                    wave: w,
                });
            }
            if let Some(e) = failure {
                return Err(e);
            }
        }
        trace.steps = records.into_iter().flatten().collect();
        trace.total_us = t0.elapsed().as_micros() as u64;
        Ok(trace)
    }

    fn run_one(&self, i: usize, state: &S, t0: Instant) -> (usize, u64, u64, Result<Outcome>) {
        let start = t0.elapsed().as_micros() as u64;
        let t = Instant::now();
        let r = (self.steps[i].run)(state);
        (i, start, t.elapsed().as_micros() as u64, r)
    }
}

fn skipped(name: &str, wave: usize, why: &str) -> StepRecord {
    StepRecord {
        step: name.to_string(),
        outcome: StepOutcome::Skipped,
        note: why.to_string(),
        start_us: 0,
        duration_us: 0,
        wave,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    #[derive(Default)]
    struct St {
        log: Mutex<Vec<&'static str>>,
        running: AtomicUsize,
        overlap: AtomicUsize,
    }

    fn work(s: &St, name: &'static str) -> Result<Outcome> {
        let now = s.running.fetch_add(1, Ordering::SeqCst) + 1;
        s.overlap.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        s.running.fetch_sub(1, Ordering::SeqCst);
        s.log.lock().unwrap().push(name);
        Ok(Outcome::Done(format!("{name} ran")))
    }

    #[test]
    fn independent_steps_overlap_and_dependents_wait() {
        let plan = Plan::new()
            .step("a", &[], |s: &St| work(s, "a"))
            .unwrap()
            .step("b", &["a"], |s| work(s, "b"))
            .unwrap()
            .step("c", &["a"], |s| work(s, "c"))
            .unwrap()
            .step("d", &["b", "c"], |s| work(s, "d"))
            .unwrap();
        let st = St::default();
        let trace = plan.run(&st).unwrap();
        assert_eq!(st.overlap.load(Ordering::SeqCst), 2, "b and c ran at the same time");
        let log = st.log.lock().unwrap().clone();
        assert_eq!(log[0], "a");
        assert_eq!(log[3], "d");
        let (b, c, d) = (trace.step("b").unwrap(), trace.step("c").unwrap(), trace.step("d").unwrap());
        assert_eq!((b.wave, c.wave, d.wave), (1, 1, 2));
        assert!(d.start_us >= b.start_us + b.duration_us && d.start_us >= c.start_us + c.duration_us);
        assert!(b.start_us.abs_diff(c.start_us) < 25_000, "{b:?} {c:?}");
        assert!(trace.decided_by.is_none());
    }

    #[test]
    fn a_decision_skips_everything_after_it_with_the_reason() {
        let ran = AtomicUsize::new(0);
        let plan = Plan::new()
            .step("gate", &[], |_: &()| Ok(Outcome::Decided("blocked keyword".into())))
            .unwrap()
            .step("embed", &["gate"], |_| {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(Outcome::Done(String::new()))
            })
            .unwrap();
        let trace = plan.run(&()).unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(trace.decided_by.as_deref(), Some("gate"));
        let e = trace.step("embed").unwrap();
        assert_eq!((e.outcome, e.note.as_str()), (StepOutcome::Skipped, "decided by gate"));
    }

    #[test]
    fn a_step_can_be_skipped_before_it_starts() {
        let plan = Plan::new()
            .step("a", &[], |_: &()| Ok(Outcome::Done(String::new())))
            .unwrap()
            .step_unless("b", &["a"], |_| Some("nothing to do".into()), |_| panic!("must not run"))
            .unwrap()
            .step("c", &["b"], |_| Ok(Outcome::Done("c ran".into())))
            .unwrap();
        let trace = plan.run(&()).unwrap();
        assert_eq!(trace.step("b").unwrap().outcome, StepOutcome::Skipped);
        assert_eq!(trace.step("b").unwrap().note, "nothing to do");
        assert_eq!(trace.step("c").unwrap().outcome, StepOutcome::Done);
    }

    #[test]
    fn bad_plans_and_failing_steps_are_errors() {
        assert!(Plan::<()>::new().step("a", &["nope"], |_| Ok(Outcome::Done(String::new()))).is_err());
        let p = Plan::<()>::new().step("a", &[], |_| Ok(Outcome::Done(String::new()))).unwrap();
        assert!(p.step("a", &[], |_| Ok(Outcome::Done(String::new()))).is_err());
        let p = Plan::<()>::new().step("a", &[], |_| Err(Error::Invalid("index gone".into()))).unwrap();
        assert!(p.run(&()).unwrap_err().to_string().contains("index gone"));
    }
}

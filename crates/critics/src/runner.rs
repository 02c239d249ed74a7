//! Running the critics: stage by stage, gated by each critic's policy, the critics of a
//! stage concurrently in priority order under a global concurrency limit, each with its
//! own timeout inside a global one, transient failures retried with exponential
//! backoff (safety critics fail closed instead), outputs validated, everything
//! measured and reported for the decision trace.

use crate::model::{Critic, CriticError, Output, Profile, RunPolicy, Severity, Stage, Subject, Violation};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Settings (config section `[critics]`, or `FANLINE_CRITICS_*` variables).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Settings {
    pub max_concurrent: usize,
    /// Apply the run policies (off: every critic always runs).
    pub gating: bool,
    pub retries: bool,
    pub max_retries: u32,
    pub retry_base_ms: u64,
    /// Strict: an output without `value` and `score`, or with a malformed violation, is
    /// invalid. Lenient: missing fields are filled in.
    pub strict_validation: bool,
    pub global_timeout_ms: u64,
    /// An invalid output counts as a failure (else it is used as far as it goes).
    pub fail_on_validation_error: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_concurrent: 10,
            gating: true,
            retries: true,
            max_retries: 2,
            retry_base_ms: 2_000,
            strict_validation: true,
            global_timeout_ms: 30_000,
            fail_on_validation_error: true,
        }
    }
}

/// What became of one critic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Violated,
    Failed { error: String },
    TimedOut,
    Gated { reason: String },
    Invalid { reason: String },
}

/// One critic's run, for the decision trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CriticRun {
    pub critic: String,
    pub stage: Stage,
    pub priority: u8,
    pub policy: RunPolicy,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub score: Option<f64>,
    pub violations: Vec<Violation>,
    pub attempts: u32,
    /// Waiting for a slot under the concurrency limit.
    pub queue_ms: f64,
    pub run_ms: f64,
}

/// The result of all critics on one subject.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Report {
    pub runs: Vec<CriticRun>,
    /// Every violation found, most severe first.
    pub violations: Vec<Violation>,
    /// A fail-closed critic could not judge: the text must not go out as it is.
    pub blocked: bool,
    pub total_ms: f64,
}

impl Report {
    pub fn run(&self, critic: &str) -> Option<&CriticRun> {
        self.runs.iter().find(|r| r.critic == critic)
    }
    pub fn ran(&self, critic: &str) -> bool {
        self.run(critic).is_some_and(|r| !matches!(r.outcome, Outcome::Gated { .. }))
    }
}

/// Counters over every run of a runner.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Metrics {
    pub total: u64,
    pub successful: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub gated: u64,
    pub retried: u64,
    pub run_ms_total: f64,
    pub queue_ms_total: f64,
}

struct Registered {
    critic: Arc<dyn Critic>,
    profile: Profile,
}

pub struct Runner {
    critics: Vec<Registered>,
    settings: Settings,
    metrics: Arc<Mutex<Metrics>>,
}

/// Check an output against the rules; in lenient mode fill in what is missing.
fn validate(out: Output, strict: bool) -> Result<Output, (String, Output)> {
    let mut problems = Vec::new();
    if out.value.is_none() {
        problems.push("no value");
    }
    match out.score {
        None => problems.push("no score"),
        Some(s) if !(0.0..=1.0).contains(&s) || s.is_nan() => problems.push("score outside 0–1"),
        _ => {}
    }
    if out.violations.iter().any(|v| v.code.trim().is_empty()) {
        problems.push("a violation without a code");
    }
    if problems.is_empty() {
        return Ok(out);
    }
    let reason = problems.join(", ");
    if strict {
        return Err((reason, out));
    }
    let mut fixed = out;
    fixed.value.get_or_insert(serde_json::Value::Null);
    let s =
        fixed.score.filter(|s| (0.0..=1.0).contains(s)).unwrap_or(if fixed.violations.is_empty() { 1.0 } else { 0.0 });
    fixed.score = Some(s);
    Ok(fixed)
}

impl Runner {
    pub fn new(settings: Settings) -> Runner {
        Self::counting_into(settings, Arc::default())
    }

    /// A runner whose counters add up in `metrics`, shared with other runners (an app
    /// keeps one set of counters across the runners it builds).
    pub fn counting_into(settings: Settings, metrics: Arc<Mutex<Metrics>>) -> Runner {
        Runner { critics: Vec::new(), settings, metrics }
    }

    /// Add a critic, scheduled by its own profile.
    pub fn add(&mut self, critic: Arc<dyn Critic>) -> &mut Self {
        let profile = critic.profile();
        self.add_with(critic, profile)
    }

    /// Add a critic with an explicit schedule.
    pub fn add_with(&mut self, critic: Arc<dyn Critic>, profile: Profile) -> &mut Self {
        self.critics.push(Registered { critic, profile });
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Every critic's name with the schedule it runs on.
    pub fn schedules(&self) -> Vec<(String, Profile)> {
        self.critics.iter().map(|r| (r.critic.name().to_string(), r.profile)).collect()
    }

    pub fn metrics(&self) -> Metrics {
        self.metrics.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn gate(&self, p: &Profile, subject: &Subject, found: bool) -> Option<String> {
        if !self.settings.gating {
            return None;
        }
        match p.policy {
            RunPolicy::Always => None,
            RunPolicy::OnViolation if !found => Some("runs on violation; no earlier stage found one".into()),
            RunPolicy::OnHighRisk if !subject.high_risk() => Some(format!(
                "runs on high risk; the message is {}",
                subject.risk.map(|r| r.to_string()).unwrap_or_else(|| "unassessed".into())
            )),
            _ => None,
        }
    }

    /// Run every critic on the subject.
    pub async fn run(&self, subject: &Subject) -> Report {
        let started = Instant::now();
        let deadline = started + Duration::from_millis(self.settings.global_timeout_ms);
        let slots = Arc::new(Semaphore::new(self.settings.max_concurrent.max(1)));
        let mut report = Report::default();
        let mut found = false;
        for stage in Stage::ALL {
            let mut here: Vec<&Registered> = self.critics.iter().filter(|r| r.profile.stage == stage).collect();
            here.sort_by_key(|r| r.profile.priority);
            let mut runnable = Vec::new();
            for r in here {
                match self.gate(&r.profile, subject, found) {
                    Some(reason) => {
                        report.runs.push(self.record(r, Outcome::Gated { reason }, None, Vec::new(), 0, 0.0, 0.0))
                    }
                    None => runnable.push(r),
                }
            }
            // In priority order: the futures ask for slots in this order.
            let runs =
                futures::future::join_all(runnable.into_iter().map(|r| self.execute(r, subject, &slots, deadline)))
                    .await;
            for run in runs {
                found |= !run.violations.is_empty();
                report.runs.push(run);
            }
        }
        for r in &report.runs {
            report.violations.extend(r.violations.iter().cloned());
            report.blocked |= r.violations.iter().any(|v| v.code == "critic.unavailable");
        }
        report.violations.sort_by_key(|v| std::cmp::Reverse(v.severity));
        report.total_ms = started.elapsed().as_secs_f64() * 1000.0;
        report
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        r: &Registered,
        outcome: Outcome,
        score: Option<f64>,
        mut violations: Vec<Violation>,
        attempts: u32,
        queue_ms: f64,
        run_ms: f64,
    ) -> CriticRun {
        let failed = matches!(outcome, Outcome::Failed { .. } | Outcome::TimedOut)
            || (matches!(outcome, Outcome::Invalid { .. }) && self.settings.fail_on_validation_error);
        if failed && r.profile.fail_closed {
            violations.push(Violation {
                code: "critic.unavailable".into(),
                message: format!(
                    "{} could not judge this text, so it is held back (the critic fails closed)",
                    r.critic.name()
                ),
                severity: Severity::High,
                span: None,
                r#in: crate::Place::Draft,
            });
        }
        {
            let mut m = self.metrics.lock().unwrap_or_else(|p| p.into_inner());
            m.total += 1;
            match &outcome {
                Outcome::Passed | Outcome::Violated => m.successful += 1,
                Outcome::Gated { .. } => m.gated += 1,
                Outcome::TimedOut => m.timed_out += 1,
                Outcome::Failed { .. } | Outcome::Invalid { .. } => m.failed += 1,
            }
            m.retried += u64::from(attempts.saturating_sub(1));
            m.run_ms_total += run_ms;
            m.queue_ms_total += queue_ms;
        }
        CriticRun {
            critic: r.critic.name().to_string(),
            stage: r.profile.stage,
            priority: r.profile.priority,
            policy: r.profile.policy,
            outcome,
            score,
            violations,
            attempts,
            queue_ms,
            run_ms,
        }
    }

    async fn execute(&self, r: &Registered, subject: &Subject, slots: &Arc<Semaphore>, deadline: Instant) -> CriticRun {
        let queued = Instant::now();
        let permit = match tokio::time::timeout_at(deadline, slots.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => {
                return self.record(
                    r,
                    Outcome::TimedOut,
                    None,
                    Vec::new(),
                    0,
                    queued.elapsed().as_secs_f64() * 1e3,
                    0.0,
                )
            }
        };
        let queue_ms = queued.elapsed().as_secs_f64() * 1e3;
        let began = Instant::now();
        let mut attempts = 0;
        let outcome = loop {
            attempts += 1;
            let limit = deadline.saturating_duration_since(Instant::now()).min(r.profile.timeout);
            match tokio::time::timeout(limit, r.critic.check(subject)).await {
                Err(_) => break Err(Outcome::TimedOut),
                Ok(Ok(out)) => break Ok(out),
                Ok(Err(CriticError::Transient(e)))
                    if self.settings.retries && !r.profile.fail_closed && attempts <= self.settings.max_retries =>
                {
                    let wait = Duration::from_millis(self.settings.retry_base_ms.saturating_mul(1 << (attempts - 1)));
                    tracing::debug!(critic = r.critic.name(), attempts, "transient failure, retrying in {wait:?}: {e}");
                    if Instant::now() + wait >= deadline {
                        break Err(Outcome::TimedOut);
                    }
                    tokio::time::sleep(wait).await;
                }
                Ok(Err(e)) => break Err(Outcome::Failed { error: e.to_string() }),
            }
        };
        drop(permit);
        let run_ms = began.elapsed().as_secs_f64() * 1e3;
        match outcome {
            Err(o) => self.record(r, o, None, Vec::new(), attempts, queue_ms, run_ms),
            Ok(out) => match validate(out, self.settings.strict_validation) {
                Ok(out) => {
                    let o = if out.violations.is_empty() { Outcome::Passed } else { Outcome::Violated };
                    self.record(r, o, out.score, out.violations, attempts, queue_ms, run_ms)
                }
                Err((reason, out)) => {
                    // Not failing on it: use what it found.
                    let v = if self.settings.fail_on_validation_error { Vec::new() } else { out.violations };
                    self.record(r, Outcome::Invalid { reason }, out.score, v, attempts, queue_ms, run_ms)
                }
            },
        }
    }
}

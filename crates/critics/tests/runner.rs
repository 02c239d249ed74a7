//! The runner's contract: gating, stages, priority, concurrency limit, timeouts,
//! retries, failing closed, validation, metrics. Time is tokio's paused clock, so the
//! timings are exact.

use fanline_critics::{
    Critic, CriticError, Outcome, Output, Place, Profile, RunPolicy, Runner, Settings, Severity, Stage, Subject,
    Violation,
};
use fanline_engine::signals::RiskTier;
use futures::future::BoxFuture;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq)]
enum Act {
    Pass,
    Violate,
    /// Fail transiently this many times, then pass.
    Flaky(u32),
    Fatal,
    Sleep(u64),
    NoScore,
}

struct T {
    name: String,
    profile: Profile,
    act: Act,
    calls: AtomicU32,
    log: Arc<Mutex<Vec<String>>>,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Critic for T {
    fn name(&self) -> &str {
        &self.name
    }
    fn profile(&self) -> Profile {
        self.profile
    }
    fn check<'a>(&'a self, _: &'a Subject) -> BoxFuture<'a, Result<Output, CriticError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            self.log.lock().unwrap().push(self.name.clone());
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            let r = match self.act {
                Act::Pass => Ok(Output::found(vec![])),
                Act::Violate => Ok(Output::found(vec![Violation {
                    code: "test.found".into(),
                    message: "found".into(),
                    severity: Severity::Medium,
                    span: None,
                    r#in: Place::Draft,
                }])),
                Act::Flaky(k) if n < k => Err(CriticError::Transient("busy".into())),
                Act::Flaky(_) => Ok(Output::found(vec![])),
                Act::Fatal => Err(CriticError::Fatal("broken".into())),
                Act::Sleep(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Ok(Output::found(vec![]))
                }
                Act::NoScore => Ok(Output { value: Some(serde_json::json!({})), score: None, violations: vec![] }),
            };
            self.running.fetch_sub(1, Ordering::SeqCst);
            r
        })
    }
}

struct Kit {
    log: Arc<Mutex<Vec<String>>>,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Kit {
    fn new() -> Kit {
        Kit { log: Default::default(), running: Default::default(), peak: Default::default() }
    }
    /// A test critic scheduled as an ordinary core critic.
    fn critic(&self, name: &str, act: Act) -> Arc<dyn Critic> {
        self.critic_as(name, act, Profile::core(5))
    }
    fn critic_as(&self, name: &str, act: Act, profile: Profile) -> Arc<dyn Critic> {
        Arc::new(T {
            name: name.into(),
            profile,
            act,
            calls: AtomicU32::new(0),
            log: self.log.clone(),
            running: self.running.clone(),
            peak: self.peak.clone(),
        })
    }
}

fn subject(risk: RiskTier) -> Subject {
    Subject { message: "hi".into(), draft: Some("hello".into()), risk: Some(risk), ..Default::default() }
}

fn fast_settings() -> Settings {
    Settings { retry_base_ms: 100, global_timeout_ms: 5_000, ..Settings::default() }
}

const SAFETY: Profile = Profile::core(1).fails_closed();
const PII: Profile = Profile::core(4).when(RunPolicy::OnHighRisk);
const DEEP: Profile = Profile::core(5).in_stage(Stage::Deep).when(RunPolicy::OnViolation);
const QUICK: Profile = Profile::core(5).in_stage(Stage::Fast);
const STYLE: Profile = Profile::core(7);

#[test]
fn the_built_in_critics_say_their_own_schedules_whatever_their_names() {
    let by_name =
        |n: &str| fanline_critics::builtin::builtin().into_iter().find(|c| c.name() == n).map(|c| c.profile()).unwrap();
    let p = by_name("safety");
    assert_eq!((p.stage, p.priority, p.policy, p.fail_closed), (Stage::Core, 1, RunPolicy::Always, true));
    assert_eq!(by_name("pii").policy, RunPolicy::OnHighRisk);
    assert_eq!((by_name("quick-pii-draft").stage, by_name("quick-pii-draft").policy), (Stage::Fast, RunPolicy::Always));
    assert_eq!(by_name("style").priority, 7);
    assert!(!by_name("grounding").fail_closed);
    // A name says nothing: a critic called "safety" with an ordinary profile fails open.
    let k = Kit::new();
    let c = k.critic("safety", Act::Pass);
    assert!(!c.profile().fail_closed);
}

fn gating_runner(k: &Kit, quick: Act, settings: Settings) -> Runner {
    let mut r = Runner::new(settings);
    r.add(k.critic_as("safety", Act::Pass, SAFETY))
        .add(k.critic_as("pii", Act::Pass, PII))
        .add(k.critic_as("deep-judge", Act::Pass, DEEP))
        .add(k.critic_as("quick-scan", quick, QUICK))
        .add(k.critic_as("style", Act::Pass, STYLE));
    r
}

#[tokio::test(start_paused = true)]
async fn the_gating_matrix() {
    let k = Kit::new();
    // Low risk, no violation: only the ALWAYS critics.
    let r = gating_runner(&k, Act::Pass, fast_settings()).run(&subject(RiskTier::Low)).await;
    for c in ["safety", "quick-scan", "style"] {
        assert!(r.ran(c), "{c}");
    }
    assert!(matches!(&r.run("pii").unwrap().outcome, Outcome::Gated { reason } if reason.contains("LOW")));
    assert!(matches!(&r.run("deep-judge").unwrap().outcome, Outcome::Gated { reason } if reason.contains("violation")));
    // A fast-stage violation: the deep critics run.
    let r = gating_runner(&k, Act::Violate, fast_settings()).run(&subject(RiskTier::Low)).await;
    assert!(r.ran("deep-judge") && !r.ran("pii"));
    assert_eq!(r.violations.len(), 1);
    // HIGH risk: the PII critics run.
    let r = gating_runner(&k, Act::Pass, fast_settings()).run(&subject(RiskTier::High)).await;
    assert!(r.ran("pii") && !r.ran("deep-judge"));
    // Gating off: everything runs.
    let s = Settings { gating: false, ..fast_settings() };
    let r = gating_runner(&k, Act::Pass, s).run(&subject(RiskTier::Low)).await;
    assert!(r.runs.iter().all(|x| !matches!(x.outcome, Outcome::Gated { .. })));
    // Stages in order; priority order within a stage.
    let order = r.runs.iter().map(|x| x.critic.as_str()).collect::<Vec<_>>();
    assert_eq!(order, ["quick-scan", "safety", "pii", "style", "deep-judge"]);
}

#[tokio::test(start_paused = true)]
async fn the_concurrency_limit_holds_and_slots_go_by_priority() {
    let k = Kit::new();
    let mut r = Runner::new(Settings { max_concurrent: 4, ..fast_settings() });
    for i in 0..20u8 {
        let p = Profile { priority: 20 - i, ..Profile::core(5) };
        r.add_with(k.critic(&format!("c{}", 20 - i), Act::Sleep(50)), p);
    }
    let t = tokio::time::Instant::now();
    let rep = r.run(&subject(RiskTier::Low)).await;
    assert_eq!(k.peak.load(Ordering::SeqCst), 4);
    assert_eq!(t.elapsed(), Duration::from_millis(250), "5 rounds of 4");
    let started = k.log.lock().unwrap().clone();
    assert_eq!(&started[..4], ["c1", "c2", "c3", "c4"], "highest priority first");
    assert!(rep.run("c20").unwrap().queue_ms >= 199.0);
    assert_eq!(r.metrics().successful, 20);
}

#[tokio::test(start_paused = true)]
async fn timeouts_per_critic_and_overall() {
    let k = Kit::new();
    let mut r = Runner::new(fast_settings());
    r.add(k.critic_as("slow", Act::Sleep(500), Profile::core(5).timeout(Duration::from_millis(100))));
    r.add(k.critic("ok", Act::Pass));
    let rep = r.run(&subject(RiskTier::Low)).await;
    assert_eq!(rep.run("slow").unwrap().outcome, Outcome::TimedOut);
    assert_eq!(rep.run("ok").unwrap().outcome, Outcome::Passed);
    // The global timeout cuts everything short.
    let mut r = Runner::new(Settings { global_timeout_ms: 300, ..fast_settings() });
    r.add(k.critic("a", Act::Sleep(10_000))).add(k.critic("b", Act::Sleep(10_000)));
    let t = tokio::time::Instant::now();
    let rep = r.run(&subject(RiskTier::Low)).await;
    assert_eq!(t.elapsed(), Duration::from_millis(300));
    assert!(rep.runs.iter().all(|x| x.outcome == Outcome::TimedOut));
    assert_eq!(r.metrics().timed_out, 2);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_backoff_and_safety_fails_closed() {
    let k = Kit::new();
    let mut r = Runner::new(fast_settings());
    r.add(k.critic("flaky", Act::Flaky(2)));
    let t = tokio::time::Instant::now();
    let rep = r.run(&subject(RiskTier::Low)).await;
    let run = rep.run("flaky").unwrap();
    assert_eq!((run.outcome.clone(), run.attempts), (Outcome::Passed, 3));
    assert_eq!(t.elapsed(), Duration::from_millis(100 + 200), "backoff 100 ms, then 200 ms");
    assert_eq!(r.metrics().retried, 2);
    // Too flaky for the retries allowed.
    let mut r = Runner::new(fast_settings());
    r.add(k.critic("flakier", Act::Flaky(5)));
    assert!(matches!(r.run(&subject(RiskTier::Low)).await.run("flakier").unwrap().outcome, Outcome::Failed { .. }));
    // Retries off: one attempt.
    let mut r = Runner::new(Settings { retries: false, ..fast_settings() });
    r.add(k.critic("flaky2", Act::Flaky(1)));
    assert_eq!(r.run(&subject(RiskTier::Low)).await.run("flaky2").unwrap().attempts, 1);
    // A safety critic does not retry: it fails closed, and the text is held back.
    let mut r = Runner::new(fast_settings());
    r.add(k.critic_as("safety-net", Act::Flaky(1), SAFETY)).add(k.critic_as("security", Act::Fatal, SAFETY));
    let rep = r.run(&subject(RiskTier::Low)).await;
    assert_eq!(rep.run("safety-net").unwrap().attempts, 1);
    assert!(rep.blocked);
    assert_eq!(rep.violations.iter().filter(|v| v.code == "critic.unavailable").count(), 2);
}

#[tokio::test(start_paused = true)]
async fn outputs_are_validated() {
    let k = Kit::new();
    // Strict, failing on invalid output: a failure.
    let mut r = Runner::new(fast_settings());
    r.add(k.critic("sloppy", Act::NoScore)).add(k.critic_as("safety-sloppy", Act::NoScore, SAFETY));
    let rep = r.run(&subject(RiskTier::Low)).await;
    assert!(matches!(&rep.run("sloppy").unwrap().outcome, Outcome::Invalid { reason } if reason.contains("no score")));
    assert_eq!(r.metrics().failed, 2);
    assert!(rep.blocked, "a fail-closed critic with invalid output holds the text back");
    // Lenient: the missing score is filled in and the output used.
    let mut r = Runner::new(Settings { strict_validation: false, ..fast_settings() });
    r.add(k.critic("sloppy", Act::NoScore));
    let rep = r.run(&subject(RiskTier::Low)).await;
    assert_eq!(rep.run("sloppy").unwrap().outcome, Outcome::Passed);
    assert_eq!(rep.run("sloppy").unwrap().score, Some(1.0));
    // Strict but not failing on it: recorded as invalid, not a failure that blocks.
    let mut r = Runner::new(Settings { fail_on_validation_error: false, ..fast_settings() });
    r.add(k.critic_as("safety-sloppy", Act::NoScore, SAFETY));
    let rep = r.run(&subject(RiskTier::Low)).await;
    assert!(matches!(rep.run("safety-sloppy").unwrap().outcome, Outcome::Invalid { .. }));
    assert!(!rep.blocked);
}

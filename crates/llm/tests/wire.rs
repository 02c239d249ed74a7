//! The real adapters against local servers that speak the real wire formats, with
//! injected faults: retries, Retry-After, restarts after a broken stream, fallback,
//! circuit breakers.

use fanline_llm::testing::{start, Fault, ANSWER};
use fanline_llm::{Anthropic, BreakerState, Chain, Event, OpenAiCompatible, Prices, Provider, Request, Resilience};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn quick() -> Resilience {
    Resilience {
        timeout_ms: 5_000,
        idle_timeout_ms: 300,
        max_retries: 2,
        base_delay_ms: 10,
        max_delay_ms: 2_000,
        breaker_threshold: 3,
        breaker_cooldown_ms: 300,
    }
}

fn openai(base: &str, name: &str) -> Arc<dyn Provider> {
    Arc::new(OpenAiCompatible::new(name, &format!("{base}/v1"), "test-model", Some("sk-test".into()), 8192))
}

fn anthropic(base: &str, name: &str) -> Arc<dyn Provider> {
    Arc::new(Anthropic::new(name, base, "claude-test", Some("ak-test".into()), 200_000))
}

fn chain(providers: Vec<Arc<dyn Provider>>, r: Resilience) -> Chain {
    let mut c = Chain::new(r);
    for p in providers {
        c.push(p, Prices { input_per_mtok: 1.0, output_per_mtok: 2.0 });
    }
    c
}

/// Generate, collecting what the caller saw.
async fn run(c: &Chain) -> (fanline_llm::Result<fanline_llm::Generated>, Vec<Event>) {
    let mut seen = Vec::new();
    let r = c.generate(&Request::new("You are Jules.", "Hi!"), &mut |e| seen.push(e)).await;
    (r, seen)
}

fn text(events: &[Event]) -> String {
    // What the caller ends up showing: tokens after the last restart.
    let start = events.iter().rposition(|e| matches!(e, Event::Restart { .. })).map(|i| i + 1).unwrap_or(0);
    events[start..].iter().filter_map(|e| if let Event::Token(t) = e { Some(t.as_str()) } else { None }).collect()
}

#[tokio::test]
async fn both_wire_formats_stream_tokens_and_usage() {
    let (base, script) = start().await;
    for (p, tin, tout) in [(openai(&base, "local"), 12, 3), (anthropic(&base, "claude"), 20, 4)] {
        let c = chain(vec![p.clone()], quick());
        let (r, seen) = run(&c).await;
        let g = r.unwrap();
        assert_eq!(g.text, ANSWER.concat());
        assert_eq!(text(&seen), ANSWER.concat());
        assert_eq!(seen.len(), 3, "one event per token: {seen:?}");
        assert_eq!((g.input_tokens, g.output_tokens), (tin, tout));
        let s = &c.stats()[0];
        assert_eq!((s.calls, s.errors, s.tokens_in, s.tokens_out), (1, 0, tin, tout));
        assert!(s.estimated_cost_usd > 0.0 && s.p50_ms.is_some());
        p.available().await.unwrap();
    }
    // The requests were what the APIs expect.
    let h = script.last_headers.lock().unwrap().clone().unwrap();
    assert_eq!(h["x-api-key"], "ak-test");
    assert_eq!(h["anthropic-version"], "2023-06-01");
    let b = script.last_body.lock().unwrap().clone().unwrap();
    assert_eq!((b["stream"].as_bool(), b["system"].as_str()), (Some(true), Some("You are Jules.")));
    let c = chain(vec![openai(&base, "local")], quick());
    run(&c).await.0.unwrap();
    let h = script.last_headers.lock().unwrap().clone().unwrap();
    assert_eq!(h["authorization"], "Bearer sk-test");
    let b = script.last_body.lock().unwrap().clone().unwrap();
    assert_eq!(b["messages"][0]["role"], "system");
    assert_eq!(b["messages"][1]["content"], "Hi!");
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let (base, script) = start().await;
    let c = chain(vec![openai(&base, "local")], quick());
    script.push(Fault::Status(500));
    script.push(Fault::Status(503));
    let (r, _) = run(&c).await;
    assert_eq!(r.unwrap().attempts.len(), 3);
    assert_eq!(c.stats()[0].retries, 2);

    script.push(Fault::Status(401));
    let before = script.calls.load(Ordering::SeqCst);
    let (r, _) = run(&c).await;
    assert!(r.unwrap_err().to_string().contains("401"));
    assert_eq!(script.calls.load(Ordering::SeqCst) - before, 1, "no retry on 401");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (base, script) = start().await;
    let c = chain(vec![anthropic(&base, "claude")], quick());
    script.push(Fault::RateLimited("0.4"));
    let t = Instant::now();
    let (r, _) = run(&c).await;
    assert_eq!(r.unwrap().text, ANSWER.concat());
    assert!(t.elapsed() >= Duration::from_millis(400), "{:?}", t.elapsed());
    // A wait longer than we are willing to: move on instead of sleeping.
    script.push(Fault::RateLimited("60"));
    let t = Instant::now();
    let (r, _) = run(&c).await;
    assert!(r.is_err());
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn broken_streams_restart_so_the_answer_is_never_doubled() {
    let (base, script) = start().await;
    for p in [openai(&base, "local"), anthropic(&base, "claude")] {
        let c = chain(vec![p], quick());
        for f in [Fault::Malformed, Fault::Truncated, Fault::Stall(Duration::from_millis(1500))] {
            script.push(f.clone());
            let (r, seen) = run(&c).await;
            let g = r.unwrap_or_else(|e| panic!("{f:?}: {e}"));
            assert_eq!(g.text, ANSWER.concat(), "{f:?}");
            assert!(seen.iter().any(|e| matches!(e, Event::Restart { .. })), "{f:?}: {seen:?}");
            assert_eq!(text(&seen), ANSWER.concat(), "{f:?}: the shown answer is whole and once");
            assert_eq!(g.attempts.len(), 2, "{f:?}");
        }
    }
}

#[tokio::test]
async fn a_failing_primary_falls_back_and_its_breaker_opens_then_half_opens() {
    let (bad, bad_script) = start().await;
    let (good, _) = start().await;
    let mut r = quick();
    r.max_retries = 0;
    let c = chain(vec![openai(&bad, "primary"), anthropic(&good, "backup")], r);
    bad_script.fail_pattern(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for _ in 0..3 {
        let (g, _) = run(&c).await;
        assert_eq!(g.unwrap().provider, "backup");
    }
    assert_eq!(c.stats()[0].breaker, BreakerState::Open);
    let calls = bad_script.calls.load(Ordering::SeqCst);
    // Open: the primary is not even called.
    run(&c).await.0.unwrap();
    assert_eq!(bad_script.calls.load(Ordering::SeqCst), calls);
    // After the cooldown: one trial call; it fails, and the breaker opens again.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(c.stats()[0].breaker, BreakerState::HalfOpen);
    run(&c).await.0.unwrap();
    assert_eq!(bad_script.calls.load(Ordering::SeqCst), calls + 1);
    assert_eq!(c.stats()[0].breaker, BreakerState::Open);
    // Healed: the next trial succeeds and the breaker closes.
    bad_script.fail_pattern(&[]);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(run(&c).await.0.unwrap().provider, "primary");
    assert_eq!(c.stats()[0].breaker, BreakerState::Closed);
}

#[tokio::test]
async fn with_the_primary_failing_30_percent_every_request_gets_one_answer() {
    let (bad, bad_script) = start().await;
    let (good, _) = start().await;
    bad_script.fail_pattern(&[2, 5, 8]);
    let c = Arc::new(chain(vec![openai(&bad, "primary"), openai(&good, "backup")], quick()));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { run(&c).await }));
    }
    for t in tasks {
        let (r, seen) = t.await.unwrap();
        assert_eq!(r.unwrap().text, ANSWER.concat());
        assert_eq!(text(&seen), ANSWER.concat());
    }
    let s = c.stats();
    assert!(s[0].errors >= 20, "{s:?}");
    assert!(s[0].retries > 0, "{s:?}");
}

#[tokio::test]
async fn a_server_that_echoes_the_key_in_its_error_never_gets_it_into_ours() {
    let (base, script) = start().await;
    let secret = "sk-proj-echo-test-5f2a9c";
    let providers: Vec<Arc<dyn Provider>> = vec![
        Arc::new(OpenAiCompatible::new("o", &format!("{base}/v1"), "m", Some(secret.into()), 8192)),
        Arc::new(Anthropic::new("a", &base, "m", Some(secret.into()), 8192)),
    ];
    for p in providers {
        script.push(Fault::EchoKey);
        let e = p.available().await.unwrap_err().to_string();
        assert!(e.contains("401") && e.contains("[redacted]") && !e.contains(secret), "{e}");
        assert!(!e.contains("echo-test"), "{e}");
        script.push(Fault::EchoKey);
        let c = chain(vec![p.clone()], quick());
        let (r, _) = run(&c).await;
        let e = r.unwrap_err().to_string();
        assert!(e.contains("[redacted]") && !e.contains(secret), "{e}");
    }
}

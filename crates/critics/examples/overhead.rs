//! The cost per message of the built-in critics (no model), through the runner with
//! gating on, for a low-risk message with a drafted answer and for a high-risk one.
//! `cargo run --release -p fanline-critics --example overhead`
use fanline_critics::builtin::profiled;
use fanline_critics::{Runner, Settings, Subject};
use fanline_engine::signals::RiskTier;
use std::time::Instant;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let mut runner = Runner::new(Settings::default());
    for (c, p) in profiled() {
        runner.add_with(c, p);
    }
    let passage = "The Fiction Workshop costs 29 euros a month or 290 euros a year. It includes the monthly live \
                   critique session, the private forum and written feedback on your pages."
        .to_string();
    for (label, risk) in [("low risk", RiskTier::Low), ("high risk (PII critics run too)", RiskTier::High)] {
        let mut us = Vec::new();
        for i in 0..2000 {
            let s = Subject {
                message: format!("Hi Jules! How much does the workshop cost per year? Asking for the {i}th time"),
                draft: Some(
                    "The Fiction Workshop costs 290 euros a year, with a monthly live critique session. [1]".into(),
                ),
                risk: Some(risk),
                passages: vec![passage.clone()],
                blocked_topics: vec!["politics".into(), "religion".into()],
                forbidden_phrases: vec!["as an AI".into()],
                max_answer_chars: 1200,
            };
            let t = Instant::now();
            let r = rt.block_on(runner.run(&s));
            us.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(r.violations.is_empty(), "{:?}", r.violations);
        }
        us.sort_by(f64::total_cmp);
        let p = |q: f64| us[((q / 100.0) * (us.len() - 1) as f64) as usize];
        println!("{label:<34} p50 {:>6.1} µs   p99 {:>6.1} µs", p(50.0), p(99.0));
    }
}

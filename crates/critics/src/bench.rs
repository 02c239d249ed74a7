//! `fanline bench critics`: the cost per message of the built-in critics (no model),
//! through the runner with gating on, for a low-risk message with a drafted answer and
//! for a high-risk one (the PII critics run too).

use crate::builtin::builtin;
use crate::{Runner, Settings, Subject};
use fanline_engine::signals::RiskTier;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct OverheadRow {
    pub case: String,
    pub messages: usize,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// Run `messages` checks per case on a current-thread runtime.
pub fn overhead(messages: usize) -> Vec<OverheadRow> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let mut runner = Runner::new(Settings::default());
    for c in builtin() {
        runner.add(c);
    }
    let passage = "The Fiction Workshop costs 29 euros a month or 290 euros a year. It includes the monthly live \
                   critique session, the private forum and written feedback on your pages."
        .to_string();
    let mut rows = Vec::new();
    for (case, risk) in [("low risk", RiskTier::Low), ("high risk (PII critics too)", RiskTier::High)] {
        let mut us = Vec::with_capacity(messages);
        for i in 0..messages.max(1) {
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
                ..Default::default()
            };
            let t = Instant::now();
            let r = rt.block_on(runner.run(&s));
            us.push(t.elapsed().as_secs_f64() * 1e6);
            debug_assert!(r.violations.is_empty());
        }
        us.sort_by(f64::total_cmp);
        let p = |q: f64| us[((q / 100.0) * (us.len() - 1) as f64) as usize];
        rows.push(OverheadRow { case: case.into(), messages: us.len(), p50_us: p(50.0), p99_us: p(99.0) });
    }
    rows
}

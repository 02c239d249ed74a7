//! Each built-in critic's precision and recall on a labelled set of 220 messages and
//! drafted answers (`tests/data/labelled.jsonl`, written by `make_labelled.py`; labels
//! say what a careful person would flag). The floors below are the measured values,
//! rounded down: a regression fails the test.

use fanline_critics::builtin::builtin;
use fanline_critics::Subject;
use serde_json::Value;

#[tokio::test]
async fn precision_and_recall_of_each_builtin_critic() {
    let data = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/labelled.jsonl")).unwrap();
    let items: Vec<Value> = data.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(items.len() >= 200);
    let critics = builtin();
    let mut table = Vec::new();
    let mut misses = Vec::new();
    for c in &critics {
        let (mut tp, mut fp, mut fnn) = (0, 0, 0);
        for it in &items {
            let s = Subject {
                message: it["message"].as_str().unwrap().into(),
                draft: it["draft"].as_str().map(String::from),
                risk: None,
                passages: it["passages"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().into()).collect(),
                blocked_topics: it["blocked_topics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().into())
                    .collect(),
                forbidden_phrases: it["forbidden_phrases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().into())
                    .collect(),
                max_answer_chars: it["max_answer_chars"].as_u64().unwrap() as usize,
                ..Default::default()
            };
            let flagged = !c.check(&s).await.unwrap().violations.is_empty();
            let expected = it["expect"][c.name()].as_bool().unwrap_or(false);
            match (flagged, expected) {
                (true, true) => tp += 1,
                (true, false) => {
                    fp += 1;
                    misses.push(format!(
                        "{} false positive #{}: {}",
                        c.name(),
                        it["id"],
                        it["draft"].as_str().unwrap_or(it["message"].as_str().unwrap())
                    ));
                }
                (false, true) => {
                    fnn += 1;
                    misses.push(format!(
                        "{} missed #{}: {}",
                        c.name(),
                        it["id"],
                        it["draft"].as_str().unwrap_or(it["message"].as_str().unwrap())
                    ));
                }
                _ => {}
            }
        }
        let p = if tp + fp == 0 { 1.0 } else { tp as f64 / (tp + fp) as f64 };
        let r = if tp + fnn == 0 { 1.0 } else { tp as f64 / (tp + fnn) as f64 };
        table.push((c.name().to_string(), tp + fnn, p, r));
    }
    println!("{:<18} {:>9} {:>10} {:>7}", "critic", "positives", "precision", "recall");
    for (n, pos, p, r) in &table {
        println!("{n:<18} {pos:>9} {p:>10.3} {r:>7.3}");
    }
    for m in &misses {
        println!("  {m}");
    }
    // Measured: quick-pii-draft 1.000/0.867, pii 0.973/0.900, safety 0.897/1.000,
    // blocked-topics 1.000/1.000, grounding 1.000/0.949, prompt-injection 1.000/0.950,
    // style 1.000/1.000.
    let floor = |name: &str| -> (f64, f64) {
        match name {
            "quick-pii-draft" => (0.95, 0.85),
            "pii" => (0.95, 0.90),
            "safety" => (0.85, 0.95),
            "grounding" => (0.95, 0.90),
            "prompt-injection" => (0.95, 0.90),
            _ => (0.95, 0.95),
        }
    };
    for (n, _, p, r) in &table {
        let (fp, fr) = floor(n);
        assert!(*p >= fp && *r >= fr, "{n}: precision {p:.3} recall {r:.3} below {fp}/{fr}");
    }
}

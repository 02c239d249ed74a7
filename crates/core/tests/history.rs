//! `calibrate --history`: the creator's own verdicts and answers teach the reuse
//! thresholds. Real labelled questions (CLINC150's development split) play the fans.

mod common;

use common::open;
use fanline_core::NewCanonicalInput;
use fanline_engine::{Layer, RoutePath, Tier};
use std::collections::BTreeMap;
use std::path::Path;

type Rows = Vec<(String, String)>;

fn clinc() -> BTreeMap<String, Rows> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/clinc150/dev.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_creators_history_calibrates_reuse() {
    let data = clinc();
    let intents =
        ["translate", "transfer", "timer", "pto_request", "meal_suggestion", "recipe", "flight_status", "weather"];
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.rule_set(None, "max_escalations_per_day", "1000").unwrap();
    app.rule_set(None, "clarification_enabled", "false").unwrap();
    app.fan_add("fan", Tier::Free, Layer::Public).unwrap();
    let mut canonical: BTreeMap<i64, String> = BTreeMap::new();
    for intent in intents {
        let qs: Vec<String> =
            data["train"].iter().filter(|(_, i)| i == intent).take(4).map(|(q, _)| q.clone()).collect();
        let input = NewCanonicalInput {
            question: qs[0].clone(),
            variants: qs[1..].to_vec(),
            answer: format!("The answer about {intent}."),
            layer: Layer::Public,
        };
        canonical.insert(app.canonical_add(None, &input).unwrap().id, intent.to_string());
    }
    let too_few = app.calibrate_history(None).unwrap_err();
    assert!(too_few.to_string().contains("not enough history"), "{too_few}");

    let mut queries: Vec<(String, Option<String>)> = Vec::new();
    for intent in intents {
        queries
            .extend(data["val"].iter().filter(|(_, i)| i == intent).take(4).map(|(q, i)| (q.clone(), Some(i.clone()))));
    }
    queries.extend(data["oos_val"].iter().take(12).map(|(q, _)| (q.clone(), None)));
    for (q, intent) in &queries {
        let r = app.route(None, "fan", q).unwrap();
        let right = intent.as_ref().and_then(|i| canonical.iter().find(|(_, v)| *v == i).map(|(id, _)| *id));
        match r.path {
            RoutePath::C => {
                let served = r.served.as_ref().unwrap().canonical_id;
                app.judge_reuse(r.decision_id, Some(served) == right).unwrap();
            }
            RoutePath::D => {
                let id = r.escalation_id.unwrap();
                app.accept(id).unwrap();
                match right {
                    Some(c) => drop(app.queue_attach(id, c).unwrap()),
                    None => drop(app.queue_answer(id, "Not something I cover, sorry.", Layer::Public).unwrap()),
                }
            }
            other => panic!("{q}: unexpected path {other}"),
        }
    }
    // Judging a decision that served nothing is refused.
    let d = app.decisions(None, Some(RoutePath::E), None, 1).unwrap();
    assert_eq!(app.judge_reuse(d[0].id, true).unwrap_err().code(), "invalid_input");

    let c = app.calibrate_history(None).unwrap();
    assert_eq!(c.examples, queries.len());
    assert_eq!(c.reusable, 32);
    assert!(c.metrics.wrong_reuse_rate <= 0.02, "{:?}", c.metrics);
    assert!(c.metrics.in_scope_correct > 0, "{:?}", c.metrics);
    if c.current.wrong_reuse_rate <= 0.02 {
        assert!(c.metrics.in_scope_accuracy >= c.current.in_scope_accuracy, "{c:?}");
    }
}

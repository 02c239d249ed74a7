//! What-if replay: the stored messages routed again under other rules, beside the rules
//! in force, with the real model; nothing is written.

mod common;
use common::{config, kb, open_with, real_embedder};
use fanline_core::replay::RuleChange;
use fanline_core::Fanline;
use fanline_engine::{Layer, RoutePath, Tier};

fn rows(app: &Fanline, dir: &std::path::Path) -> Vec<i64> {
    let _ = app;
    let db = rusqlite::Connection::open(config(dir).database_path()).unwrap();
    ["messages", "decisions", "escalations", "conversations", "reuse_examples", "index_log"]
        .iter()
        .map(|t| db.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).unwrap())
        .collect()
}

fn change(set: &[(&str, &str)]) -> RuleChange {
    RuleChange {
        label: String::new(),
        set: set.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        policy: None,
        policy_text: None,
    }
}

#[test]
fn other_rules_replayed_on_the_stored_messages_change_paths_and_caps_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_with(config(dir.path()), real_embedder());
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    for (fan, tier) in [("ana", Tier::Free), ("ben", Tier::Paid), ("cleo", Tier::Follower)] {
        app.fan_add(fan, tier, Layer::Public).unwrap();
    }
    let workshop = app.route(None, "ana", "How much does the workshop cost?").unwrap();
    assert_eq!(workshop.path, RoutePath::A);
    app.route(None, "ben", "When do new videos come out?").unwrap();
    for (fan, q) in [
        ("ana", "Would you come and speak at our writing festival in Berlin next spring?"),
        ("ben", "Can we hop on a call about the screenplay I am adapting from your novel?"),
        ("cleo", "Would you judge the short story contest our library runs in June?"),
    ] {
        let r = app.route(None, fan, q).unwrap();
        assert_eq!(r.path, RoutePath::D, "{q}: {}", r.reason);
        assert!(app.accept(r.escalation_id.unwrap()).unwrap().accepted);
    }
    let before = rows(&app, dir.path());

    let changes = [change(&[("blocked_topics", "workshop")]), change(&[("max_escalations_per_day", "2")])];
    let mut ticks = 0;
    let r = app.replay(None, 30, &changes, &mut |_, _| ticks += 1).unwrap();
    assert_eq!(rows(&app, dir.path()), before, "a replay writes nothing");
    assert_eq!((r.messages, ticks), (5, 5));
    assert_eq!(r.drifted, 0, "the same rules on the same library decide the same");
    assert_eq!(r.baseline.paths, vec![2, 0, 0, 3, 0, 0]);
    assert_eq!(r.baseline.caps.busiest_day, 3);
    assert_eq!(r.baseline.caps.days_over, 0, "{:?}", r.baseline.caps);

    // A blocked topic: the workshop question is refused instead of answered.
    let blocked = &r.variants[0];
    assert_eq!(blocked.label, "A");
    assert_eq!(blocked.changed, 1);
    assert_eq!(blocked.matrix[0][5], 1, "A → F: {:?}", blocked.matrix);
    assert_eq!(blocked.examples.len(), 1);
    assert_eq!(blocked.examples[0].message, "How much does the workshop cost?");
    assert!(blocked.examples[0].reason.contains("workshop"), "{}", blocked.examples[0].reason);
    // A lower cap: the third fan that day, with two offers accepted before them, is
    // told the cap is reached instead of being offered (as of their message's time).
    let capped = &r.variants[1];
    assert_eq!((capped.label.as_str(), capped.changed), ("B", 1), "{:?}", capped.matrix);
    assert_eq!(capped.matrix[3][5], 1, "D → F: {:?}", capped.matrix);
    assert!(capped.examples[0].message.contains("short story contest"), "{:?}", capped.examples);
    assert_eq!((capped.caps.max_per_day, capped.caps.busiest_day, capped.caps.days_over), (2, 2, 0));

    // Another policy file: a topic refused by keyword.
    let policy = dir.path().join("other-policy.toml");
    std::fs::write(&policy, "[topics.events]\nkeywords = [\"festival\"]\naction = \"refuse\"\n").unwrap();
    let other = RuleChange { label: "no events".into(), set: Vec::new(), policy: Some(policy), policy_text: None };
    let r = app.replay(None, 30, &[other], &mut |_, _| {}).unwrap();
    assert_eq!((r.variants[0].label.as_str(), r.variants[0].changed), ("no events", 1));
    assert_eq!(r.variants[0].matrix[3][5], 1, "D → F: {:?}", r.variants[0].matrix);
    assert_eq!(rows(&app, dir.path()), before);

    // The desktop's preview takes the rules as the form holds them.
    let mut rules = app.rules(None).unwrap();
    rules.blocked_topics = vec!["festival".into()];
    let preview = app.replay_rules(None, 30, &rules).unwrap();
    assert_eq!(preview.variants[0].matrix[3][5], 1, "D → F: {:?}", preview.variants[0].matrix);
    assert_eq!(rows(&app, dir.path()), before);

    // Bad input says so.
    assert!(app.replay(None, 0, &changes, &mut |_, _| {}).is_err());
    let e = app.replay(None, 30, &[change(&[("no_such_rule", "1")])], &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("no rule \"no_such_rule\""), "{e}");
    let e = app.replay(None, 30, &[change(&[("max_escalations_per_day", "lots")])], &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("max_escalations_per_day"), "{e}");
}

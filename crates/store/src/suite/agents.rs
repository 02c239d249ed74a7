//! The suite for `Agents`: agents, their rules and the last valid policy.

use super::Store;
use crate::Error;
use fanline_engine::{AgentConfig, AvailabilityWindow, OutsideHours, Tier};

/// Run every check of `Agents` on `store` (a store with no agent named "ivy" or "jo").
pub fn agents(store: &dyn Store) {
    let ivy = store.create_agent("  ivy ").unwrap();
    assert_eq!((ivy.name.as_str(), ivy.display_name.as_str(), ivy.setup_done_at), ("ivy", "", None));
    assert_eq!(store.agent_config(ivy.id).unwrap(), AgentConfig::default(), "the engine's defaults");
    assert!(matches!(store.create_agent("ivy").unwrap_err(), Error::Conflict { what: "agent", .. }));
    assert!(matches!(store.create_agent("   ").unwrap_err(), Error::Invalid { .. }));
    let jo = store.create_agent("jo").unwrap();
    assert_eq!(store.agent_by_name("ivy").unwrap(), Some(ivy.clone()));
    assert_eq!(store.agent_by_name("nobody").unwrap(), None);
    assert_eq!(store.agent_by_id(jo.id).unwrap(), jo);
    assert!(matches!(store.agent_by_id(jo.id + 1000).unwrap_err(), Error::NotFound { .. }));
    let names: Vec<String> = store.list_agents().unwrap().into_iter().map(|a| a.name).collect();
    let (i, j) = (names.iter().position(|n| n == "ivy").unwrap(), names.iter().position(|n| n == "jo").unwrap());
    assert!(i < j, "oldest first: {names:?}");

    // The profile: the name fans see, and the first-run mark, set once.
    let named = store.set_agent_profile(ivy.id, " Ivy Reads ", false).unwrap();
    assert_eq!((named.display_name.as_str(), named.setup_done_at), ("Ivy Reads", None));
    let done = store.set_agent_profile(ivy.id, "Ivy Reads", true).unwrap();
    let first = done.setup_done_at.expect("setup done");
    assert_eq!(store.set_agent_profile(ivy.id, "Ivy", true).unwrap().setup_done_at, Some(first));
    assert!(matches!(store.set_agent_profile(jo.id + 1000, "x", true).unwrap_err(), Error::NotFound { .. }));

    // The rules, whole.
    let rules = AgentConfig {
        max_escalations_per_day: 3,
        max_escalations_per_week: 12,
        escalation_enabled: false,
        auto_answer_confidence_threshold: 0.6,
        clarification_enabled: false,
        blocked_topics: vec!["politics".into(), "my ex".into()],
        allowed_user_tiers: vec![Tier::Paid],
        availability_windows: vec![AvailabilityWindow {
            days: vec!["mon".into(), "tue".into()],
            start: "09:00".into(),
            end: "17:30".into(),
        }],
        outside_hours: OutsideHours::Refuse,
        timezone: "Europe/Paris".into(),
        persona: "warm, brief".into(),
    };
    store.set_agent_config(ivy.id, &rules).unwrap();
    assert_eq!(store.agent_config(ivy.id).unwrap(), rules);
    assert_eq!(store.agent_config(jo.id).unwrap(), AgentConfig::default(), "another agent's rules are its own");
    let wrong = AgentConfig { auto_answer_confidence_threshold: 1.5, ..rules.clone() };
    assert!(matches!(store.set_agent_config(ivy.id, &wrong).unwrap_err(), Error::Invalid { .. }));
    assert_eq!(store.agent_config(ivy.id).unwrap(), rules, "a refused change changes nothing");
    assert!(matches!(store.set_agent_config(jo.id + 1000, &rules).unwrap_err(), Error::NotFound { .. }));
    assert!(matches!(store.agent_config(jo.id + 1000).unwrap_err(), Error::NotFound { .. }));

    // The last valid policy: kept, and kept as it was when the same text comes again.
    assert_eq!(store.last_valid_policy(ivy.id).unwrap(), None);
    store.keep_valid_policy(ivy.id, "[tiers.paid]\npriority = 5\n").unwrap();
    let (text, saved) = store.last_valid_policy(ivy.id).unwrap().unwrap();
    assert_eq!(text, "[tiers.paid]\npriority = 5\n");
    std::thread::sleep(std::time::Duration::from_millis(5));
    store.keep_valid_policy(ivy.id, "[tiers.paid]\npriority = 5\n").unwrap();
    assert_eq!(store.last_valid_policy(ivy.id).unwrap().unwrap().1, saved);
    store.keep_valid_policy(ivy.id, "").unwrap();
    let (text, later) = store.last_valid_policy(ivy.id).unwrap().unwrap();
    assert_eq!(text, "");
    assert!(later > saved);
    assert_eq!(store.last_valid_policy(jo.id).unwrap(), None);
}

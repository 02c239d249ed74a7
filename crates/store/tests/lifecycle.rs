//! The escalation lifecycle: offered → accepted → answered / declined / expired, the
//! creator's queue order, deferral.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{at, cap_check, offer};
use fanline_engine::{EscalationStatus, Layer, Tier};
use fanline_store::Agents;
use fanline_store::HubAccess;
use fanline_store::{Acceptance, Store};
use fanline_store::{Offers, TypedOffers};

fn accept(store: &Store, id: i64, now: DateTime<Utc>) {
    assert!(matches!(
        store.accept_escalation(id, &cap_check(now, "UTC", 100, 100)).unwrap(),
        Acceptance::Accepted { .. }
    ));
}

#[test]
fn offers_and_queued_items_expire_and_the_queue_is_ordered() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("fanline.db")).unwrap();
    let agent = store.create_agent("default").unwrap().id;
    let fan = store.upsert_fan("@sam", Tier::Paid, Layer::Public).unwrap().id;
    let t0 = at("2025-06-02T10:00:00Z");
    let offer = |question: &str, priority: i64, expires: DateTime<Utc>| {
        offer(&store, agent, fan, question, priority, Some(expires))
    };
    let stale_offer = offer("never accepted", 1, t0 + Duration::hours(1));
    let low = offer("low priority", 1, t0 + Duration::days(7));
    let high = offer("high priority", 9, t0 + Duration::days(7));
    let old_high = offer("older high priority", 9, t0 + Duration::days(7));
    let short_lived = offer("queued, expires soon", 5, t0 + Duration::hours(2));
    accept(&store, old_high, t0);
    accept(&store, low, t0 + Duration::minutes(1));
    accept(&store, high, t0 + Duration::minutes(2));
    accept(&store, short_lived, t0 + Duration::minutes(3));

    // By priority, then age.
    let q: Vec<i64> = store.escalation_queue(agent, t0, 10).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(q, vec![old_high, high, short_lived, low]);

    // Deferring moves an item to the back until its time comes.
    store.defer_escalation(old_high, t0 + Duration::hours(1)).unwrap();
    let q: Vec<i64> = store.escalation_queue(agent, t0, 10).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(q, vec![high, short_lived, low, old_high]);
    let later: Vec<i64> =
        store.escalation_queue(agent, t0 + Duration::hours(1), 10).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(later[0], old_high);

    // Three hours on: the unaccepted offer and the short-lived queued item expire.
    assert_eq!(store.expire_escalations(t0 + Duration::hours(3)).unwrap(), 2);
    assert_eq!(store.escalation(stale_offer).unwrap().status, EscalationStatus::Expired);
    assert_eq!(store.escalation(short_lived).unwrap().status, EscalationStatus::Expired);
    assert_eq!(store.escalation_queue(agent, t0 + Duration::hours(3), 10).unwrap().len(), 3);
    assert_eq!(store.expire_escalations(t0 + Duration::hours(3)).unwrap(), 0, "expiring twice changes nothing");

    // Declined and expired items cannot be deferred, accepted or declined again.
    store.decline_escalation(low, t0 + Duration::hours(4), None, None).unwrap();
    assert_eq!(store.escalation(low).unwrap().status, EscalationStatus::Declined);
    assert!(store.defer_escalation(low, t0).is_err());
    assert!(store.decline_escalation(low, t0, None, None).is_err());
    let err = store.decline_escalation(short_lived, t0, None, None).unwrap_err().to_string();
    assert!(err.contains("expired"), "{err}");
}

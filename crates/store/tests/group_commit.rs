//! Group commit: concurrent fans' messages share commits, each is stored once and is
//! committed when its call returns; a failed write rolls back alone; a plain
//! transaction commits an open group first.

use fanline_engine::{Layer, Tier};
use fanline_store::Agents;
use fanline_store::Conversations;
use fanline_store::HubAccess;
use fanline_store::{Posted, Store};

/// The conversation and id of a message stored anew.
fn posted_id(p: Posted) -> (i64, i64) {
    match p {
        Posted::New { conversation_id, message_id } => (conversation_id, message_id),
        Posted::Seen { .. } => panic!("a new key was seen before"),
    }
}

#[test]
fn concurrent_messages_share_commits_and_each_is_committed_on_return() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanline.db");
    let store = Store::open(&path).unwrap();
    store.set_synchronous_full(true).unwrap();
    store.set_group_commit(true, std::time::Duration::from_micros(200));
    let agent = store.create_agent("default").unwrap().id;
    let fans: Vec<i64> =
        (0..8).map(|i| store.upsert_fan(&format!("@f{i}"), Tier::Free, Layer::Public).unwrap().id).collect();
    std::thread::scope(|s| {
        for (t, fan) in fans.iter().enumerate() {
            let (store, path) = (&store, &path);
            s.spawn(move || {
                // Another connection sees each message as soon as the call returns:
                // it was committed before the caller was answered.
                let other = Store::open(path).unwrap();
                for i in 0..50 {
                    let (conversation, id) = posted_id(
                        store
                            .post_fan_message(agent, *fan, &format!("message {t}/{i}"), &format!("k{i}"), "h")
                            .unwrap(),
                    );
                    let seen = other.messages_after(conversation, id - 1, 1).unwrap();
                    assert_eq!(seen.first().map(|m| m.id), Some(id), "message {id} committed on return");
                    // The same key again: the stored message, nothing new.
                    match store.post_fan_message(agent, *fan, "other text", &format!("k{i}"), "h2").unwrap() {
                        Posted::Seen { message_id, same_request, .. } => {
                            assert_eq!(message_id, id);
                            assert!(!same_request);
                        }
                        Posted::New { .. } => panic!("stored twice"),
                    }
                }
            });
        }
    });
    let (writes, commits) = store.group_commits();
    assert_eq!(writes, 8 * 100);
    assert!(commits < writes, "{writes} writes in {commits} commits");
    for fan in fans {
        let conversation = store.fan_conversation(agent, fan).unwrap();
        assert_eq!(store.messages_after(conversation, 0, 1_000).unwrap().len(), 50, "each message once");
    }
}

#[test]
fn a_failed_write_rolls_back_alone_and_a_plain_write_commits_the_group_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanline.db");
    let store = Store::open(&path).unwrap();
    let agent = store.create_agent("default").unwrap().id;
    let fan = store.upsert_fan("@f", Tier::Free, Layer::Public).unwrap().id;
    let (conversation, a) = posted_id(store.post_fan_message(agent, fan, "first", "a", "h").unwrap());
    // A fan that does not exist: the write fails (foreign key) and stores nothing.
    assert!(store.post_fan_message(agent, 9_999, "nobody", "b", "h").is_err());
    let (_, c) = posted_id(store.post_fan_message(agent, fan, "third", "c", "h").unwrap());
    // A plain write right after.
    store.upsert_fan("@g", Tier::Free, Layer::Public).unwrap();
    let other = Store::open(&path).unwrap();
    let ids: Vec<i64> = other.messages_after(conversation, 0, 10).unwrap().iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![a, c], "both committed, the failed one left nothing");
    assert_eq!(store.group_commits().0, 2, "two writes made it");
}

//! News of conversations across hub processes (`Listener::on(CONVERSATIONS)`): every
//! message added through one connection's store is announced, at commit, to a listener
//! on another connection, as another hub process would hear it; a write that rolls
//! back announces nothing. Real PostgreSQL (skipped without a server unless
//! FANLINE_REQUIRE_PG=1).

use fanline_engine::{Layer, Tier};
use fanline_store::{Agents, Conversations, HubAccess, Posted};
use fanline_store_pg::listen::CONVERSATIONS;
use fanline_store_pg::testing::server;
use fanline_store_pg::{Listener, PgHub, PgStore};
use std::time::Duration;

async fn heard(listener: &mut Listener, within: Duration) -> Option<i64> {
    tokio::time::timeout(within, listener.next()).await.ok().flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_announces_its_conversation_to_other_processes_at_commit() {
    let Some(server) = server() else { return };
    let db = format!("fanline_news_{}", std::process::id());
    PgStore::connect(&server, 1).unwrap().create_database(&db, true).await.unwrap();
    let url = format!("{server} dbname={db}");
    // The writing hub, on blocking threads as the server calls it.
    let hub = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || PgHub::open(&url, 4).unwrap()).await.unwrap()
    };
    let mut listener = Listener::on(&url, CONVERSATIONS).await.unwrap();
    assert!(Listener::on(&url, "anything").await.is_err(), "only Fanline's channels");

    let h = hub.clone();
    let (agent, fan, other) = tokio::task::spawn_blocking(move || {
        let agent = h.create_agent("zoe").unwrap().id;
        let fan = h.insert_fan("@ana", Tier::Free, Layer::Public).unwrap().id;
        let other = h.insert_fan("@ben", Tier::Free, Layer::Public).unwrap().id;
        (agent, fan, other)
    })
    .await
    .unwrap();
    assert_eq!(heard(&mut listener, Duration::from_millis(300)).await, None, "no message yet");

    let h = hub.clone();
    let posted = tokio::task::spawn_blocking(move || h.post_fan_message(agent, fan, "hello", "k1", "h1").unwrap())
        .await
        .unwrap();
    let Posted::New { conversation_id, .. } = posted else { panic!("{posted:?}") };
    assert_eq!(heard(&mut listener, Duration::from_secs(5)).await, Some(conversation_id));

    // A replay stores nothing and announces nothing.
    let h = hub.clone();
    tokio::task::spawn_blocking(move || h.post_fan_message(agent, fan, "hello", "k1", "h1").unwrap()).await.unwrap();
    assert_eq!(heard(&mut listener, Duration::from_millis(300)).await, None);

    // Another fan's conversation, then the first one again: in commit order.
    let h = hub.clone();
    let (second, _) = tokio::task::spawn_blocking(move || {
        let second = h.record_message(agent, other, fanline_store::Role::Fan, "hi").unwrap();
        h.record_message(agent, fan, fanline_store::Role::Creator, "my answer").unwrap();
        second
    })
    .await
    .unwrap();
    assert_ne!(second, conversation_id);
    assert_eq!(heard(&mut listener, Duration::from_secs(5)).await, Some(second));
    assert_eq!(heard(&mut listener, Duration::from_secs(5)).await, Some(conversation_id));
    PgStore::connect(&server, 1).unwrap().drop_database(&db).await.unwrap();
}

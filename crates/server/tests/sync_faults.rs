//! Sync through a proxy that cuts connections, answers 502 and repeats requests: the
//! hub and the devices still converge, nothing lost, nothing applied twice.

mod common;

use common::proxy::{Fault, FaultProxy};
use common::{real_model, TestHub};
use fanline_core::hub::Scope;
use fanline_core::{Error, Fanline};
use fanline_engine::Layer;
use serde_json::json;
use std::sync::Arc;

const QUESTION: &str = "Would you come and speak at our writing festival in Berlin next spring?";

/// A desktop paired with the hub through `proxy`.
async fn desktop(hub: &TestHub, proxy: &FaultProxy) -> (tempfile::TempDir, Arc<Fanline>) {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(Fanline::open_with(common::config(dir.path(), true), Some(real_model())).unwrap());
    app.init(None).unwrap();
    let code = hub.app.hub_pairing_code(&[Scope::Admin]).unwrap().code;
    app.sync_pair(&proxy.base, &code, "Laptop").await.unwrap();
    (dir, app)
}

/// A hub, a desktop behind a fault proxy, and a fan's question the desktop pulled and
/// answered: the answer waits to be pushed.
async fn answered_offline() -> (TestHub, FaultProxy, tempfile::TempDir, Arc<Fanline>, common::Session) {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let proxy = FaultProxy::start(hub.addr()).await;
    let (dir, app) = desktop(&hub, &proxy).await;
    let fan = hub.escalate("q", QUESTION).await.0;
    app.sync_once().await.unwrap();
    let id = app.queue(None, 10).unwrap()[0].id;
    app.queue_answer(id, "Yes, gladly.", Layer::Public).unwrap();
    (hub, proxy, dir, app, fan)
}

async fn converged(hub: &TestHub, app: &Fanline) {
    app.sync_once().await.unwrap();
    let v = app.sync_verify().await.unwrap();
    assert!(v.equal, "{:?}", v.differ);
    assert_eq!(v.hub, hub.app.sync_digest().unwrap());
    assert_eq!(app.sync_status().unwrap().pending, 0);
}

fn is_unreachable(e: &Error) -> bool {
    matches!(e, Error::Hub(_))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_whose_reply_is_lost_is_applied_once() {
    let (hub, proxy, _dir, app, fan) = answered_offline().await;

    // The hub commits the push; the reply is cut in its first line.
    proxy.next(Fault::Cut(12));
    let e = app.sync_once().await.unwrap_err();
    assert!(is_unreachable(&e), "{e}");
    assert_eq!(hub.answers_to_fan(&fan), vec!["Yes, gladly."]);
    // The answer, and the message telling the fan (the hub has its own copy of it).
    assert_eq!(app.sync_status().unwrap().pending, 2, "kept until the hub confirms");

    // The hub is down (502 from the proxy) for a while: nothing changes anywhere.
    proxy.next(Fault::BadGateway);
    assert!(is_unreachable(&app.sync_once().await.unwrap_err()));

    // Then it is back: the same push is a duplicate, the fan still has one answer.
    let r = app.sync_once().await.unwrap();
    assert_eq!((r.applied, r.duplicates), (0, 2), "{r:?}");
    assert_eq!(hub.answers_to_fan(&fan), vec!["Yes, gladly."]);
    converged(&hub, &app).await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_sent_twice_is_applied_once() {
    let (hub, proxy, _dir, app, fan) = answered_offline().await;
    // The push goes to the hub twice; then a slow hub: the pulls wait, nothing is lost.
    proxy.next(Fault::Twice);
    proxy.next(Fault::Delay(700));
    proxy.next(Fault::Delay(300));
    let r = app.sync_once().await.unwrap();
    // The device reads the second reply: everything was there already.
    assert_eq!((r.applied, r.duplicates), (0, 2), "{r:?}");
    assert_eq!(hub.answers_to_fan(&fan), vec!["Yes, gladly."]);
    converged(&hub, &app).await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_cut_mid_page_moves_nothing() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let proxy = FaultProxy::start(hub.addr()).await;
    let (_dir, app) = desktop(&hub, &proxy).await;
    hub.escalate("q", QUESTION).await;
    for cut in [40, 200, 600] {
        // Nothing to push: the first request is the pull, cut inside its body.
        proxy.next(Fault::Cut(cut));
        let e = app.sync_once().await.unwrap_err();
        assert!(is_unreachable(&e), "{e}");
        assert_eq!(app.sync_status().unwrap().pulled_after, 0, "cut after {cut} bytes");
        assert!(app.queue(None, 10).unwrap().is_empty());
        assert!(app.canonical_list(None).unwrap().is_empty());
    }
    converged(&hub, &app).await;
    assert_eq!(app.queue(None, 10).unwrap().len(), 1);
    assert!(proxy.seen.lock().unwrap().iter().all(|l| !l.contains("/push")), "nothing was pushed");
    hub.stop().await;
}

/// A hub from a later Fanline: its records have a newer schema, or name things this
/// build does not know. The device keeps them aside (the cursor moves on) and applies the
/// rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_from_a_newer_hub_are_kept_aside() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let page = json!({
        "records": [
            { "seq": 1, "entity": "escalation", "uid": "e1", "schema_version": 99, "data": { "shape": "new" } },
            { "seq": 2, "entity": "gizmo", "uid": "g1", "schema_version": 1, "data": {} },
            { "seq": 3, "entity": "conflict", "uid": "c1", "schema_version": 1, "data": {
                "kind": "edit", "entity": "canonical", "entity_uid": "x", "field": "answer", "kept": "old",
                "winner": "new", "device": "Desktop", "hlc": "", "question": "", "resolution": null } }
        ],
        "next_after": 3, "up_to_date": true, "hub_hlc": "000000000000001-00000-0000000000000001"
    });
    tokio::spawn(async move {
        loop {
            let Ok((mut c, _)) = listener.accept().await else { return };
            let page = page.clone();
            tokio::spawn(async move {
                let Ok(req) = common::proxy::read_request(&mut c).await else { return };
                let line = String::from_utf8_lossy(&req).lines().next().unwrap_or_default().to_string();
                let body = if line.starts_with("POST /pair") {
                    json!({ "token": "dev_from_the_future", "device": {} }).to_string()
                } else {
                    page.to_string()
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = c.write_all(head.as_bytes()).await;
                let _ = c.write_all(body.as_bytes()).await;
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let app = Fanline::open_with(common::config(dir.path(), true), Some(real_model())).unwrap();
    app.init(None).unwrap();
    app.sync_pair(&base, "CODE", "Laptop").await.unwrap();
    let r = app.sync_pull().await.unwrap();
    assert_eq!((r.deferred, r.pulled_after), (2, 3), "{r:?}");
    assert_eq!(app.sync_status().unwrap().pulled_after, 3, "the cursor moves past what waits");
    assert_eq!(app.store().sync_pending().unwrap().iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(app.sync_conflicts().unwrap().len(), 1, "what this build knows is applied");
    // Pulled again: still kept aside, not applied, nothing lost.
    app.sync_pull().await.unwrap();
    assert_eq!(app.store().sync_pending().unwrap().len(), 2);
}

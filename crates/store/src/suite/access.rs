//! The suite for `HubAccess`: fans, conversations, sites, sessions, invites, devices
//! and pairing codes, with the races a hub with several processes meets.

use super::at;
use crate::{Error, HubAccess};
use fanline_engine::{Layer, Tier};
use std::collections::BTreeSet;

/// Run every check of `HubAccess` on `store`, given two agents' ids.
pub fn access(store: &dyn HubAccess, agents: [i64; 2]) {
    fans(store);
    conversations(store, agents);
    sites(store, agents);
    sessions_and_invites(store, agents);
    devices(store);
    pairing(store);
}

fn fans(store: &dyn HubAccess) {
    let zoe = store.insert_fan("  @zoe ", Tier::Paid, Layer::Friends).unwrap();
    assert_eq!((zoe.handle.as_str(), zoe.tier, zoe.layer), ("@zoe", Tier::Paid, Layer::Friends));
    // Adding never changes an existing fan.
    let again = store.insert_fan("@zoe", Tier::Free, Layer::Public).unwrap_err();
    assert!(matches!(again, Error::Conflict { what: "fan", .. }), "{again}");
    assert!(matches!(store.insert_fan("   ", Tier::Free, Layer::Public).unwrap_err(), Error::Invalid { .. }));
    assert!(matches!(store.upsert_fan("", Tier::Free, Layer::Public).unwrap_err(), Error::Invalid { .. }));
    assert_eq!(store.fan(zoe.id).unwrap(), zoe);
    assert_eq!(store.fan_by_handle(" @zoe").unwrap(), Some(zoe.clone()));
    assert_eq!(store.fan_by_handle("@nobody").unwrap(), None);
    assert!(matches!(store.fan(zoe.id + 1000).unwrap_err(), Error::NotFound { what: "fan", .. }));

    // Upsert changes tier and layer of the same fan; update changes only what it is given.
    let up = store.upsert_fan("@zoe", Tier::Follower, Layer::Public).unwrap();
    assert_eq!((up.id, up.tier, up.layer), (zoe.id, Tier::Follower, Layer::Public));
    let up = store.update_fan("@zoe ", None, Some(Layer::Intimate)).unwrap();
    assert_eq!((up.id, up.tier, up.layer), (zoe.id, Tier::Follower, Layer::Intimate));
    assert!(matches!(store.update_fan("@nobody", Some(Tier::Paid), None).unwrap_err(), Error::NotFound { .. }));
    let amy = store.upsert_fan("@amy", Tier::Free, Layer::Public).unwrap();
    assert_ne!(amy.id, zoe.id);
    let handles: Vec<String> = store.list_fans().unwrap().into_iter().map(|f| f.handle).collect();
    assert_eq!(handles, ["@amy", "@zoe"]);

    // Fans added at once by many requests each get their own id; a handle added twice
    // at once is added once.
    let results: Vec<_> = std::thread::scope(|s| {
        let racers: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    let own = store.insert_fan(&format!("@racer{i}"), Tier::Free, Layer::Public).unwrap().id;
                    let shared = store.insert_fan("@same", Tier::Free, Layer::Public).map(|f| f.id);
                    (own, shared)
                })
            })
            .collect();
        racers.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let own: BTreeSet<i64> = results.iter().map(|r| r.0).collect();
    assert_eq!(own.len(), 8);
    let added: Vec<i64> = results.iter().filter_map(|r| r.1.as_ref().ok().copied()).collect();
    assert_eq!(added.len(), 1, "one of the racers adds @same");
    for r in &results {
        if let Err(e) = &r.1 {
            assert!(matches!(e, Error::Conflict { .. }), "{e}");
        }
    }
}

fn conversations(store: &dyn HubAccess, [a, b]: [i64; 2]) {
    let fan = store.insert_fan("@talker", Tier::Free, Layer::Public).unwrap().id;
    let first = store.fan_conversation(a, fan).unwrap();
    assert_eq!(store.fan_conversation(a, fan).unwrap(), first);
    let other = store.fan_conversation(b, fan).unwrap();
    assert_ne!(other, first, "one conversation per agent");
    // The first request of a fan often comes twice at once (the widget's session and
    // its first message): one conversation all the same.
    let fan = store.insert_fan("@eager", Tier::Free, Layer::Public).unwrap().id;
    let ids: BTreeSet<i64> = std::thread::scope(|s| {
        let t: Vec<_> = (0..8).map(|_| s.spawn(move || store.fan_conversation(a, fan).unwrap())).collect();
        t.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(ids.len(), 1, "{ids:?}");
}

fn sites(store: &dyn HubAccess, [a, b]: [i64; 2]) {
    let site = store.ensure_site(a, "site_a").unwrap();
    assert_eq!((site.agent_id, site.site_key.as_str(), site.origins.len()), (a, "site_a", 0));
    // An agent keeps its first key.
    assert_eq!(store.ensure_site(a, "site_other").unwrap(), site);
    assert_eq!(store.site_by_key("site_a").unwrap(), Some(site.clone()));
    assert_eq!(store.site_by_key("site_other").unwrap(), None);
    let origins = vec!["https://zoe.example".to_string(), "http://localhost:5173".to_string()];
    store.set_site_origins(a, &origins).unwrap();
    assert_eq!(store.site_by_key("site_a").unwrap().unwrap().origins, origins);
    assert!(matches!(store.set_site_origins(b, &origins).unwrap_err(), Error::NotFound { .. }));
    store.ensure_site(b, "site_b").unwrap();
    let keys: Vec<(i64, String)> = store.sites().unwrap().into_iter().map(|s| (s.agent_id, s.site_key)).collect();
    let mut want = vec![(a, "site_a".to_string()), (b, "site_b".to_string())];
    want.sort();
    assert_eq!(keys, want);
}

fn sessions_and_invites(store: &dyn HubAccess, [a, b]: [i64; 2]) {
    let expires = at("2031-01-02T03:04:05Z");
    let now = at("2030-06-01T12:00:00Z");
    let fan = store.insert_fan("@guest", Tier::Follower, Layer::Friends).unwrap();
    let s1 = store.create_fan_session(a, fan.id, "hash-1", "invite", expires).unwrap();
    let s2 = store.create_fan_session(b, fan.id, "hash-2", "anonymous", expires).unwrap();
    let other = store.insert_fan("@other", Tier::Free, Layer::Public).unwrap();
    store.create_fan_session(a, other.id, "hash-3", "user_hash", expires).unwrap();
    let got = store.fan_session("hash-1").unwrap().unwrap();
    assert_eq!((got.id, got.agent_id, got.fan_id, got.via.as_str()), (s1, a, fan.id, "invite"));
    assert_eq!((got.expires_at, got.revoked_at), (expires, None));
    assert_eq!(store.fan_session("hash-unknown").unwrap(), None);
    // A token hash is unique.
    assert!(store.create_fan_session(a, fan.id, "hash-1", "jwt", expires).is_err());

    let inv = store.create_invite(a, "@guest", Tier::Paid, Layer::Intimate, "nonce-1", expires).unwrap();
    let got = store.invite("nonce-1").unwrap().unwrap();
    assert_eq!((got.id, got.agent_id, got.handle.as_str()), (inv, a, "@guest"));
    assert_eq!((got.tier, got.layer, got.expires_at, got.revoked_at), (Tier::Paid, Layer::Intimate, expires, None));
    assert_eq!(store.invite("nonce-2").unwrap(), None);
    store.mark_invite_used(inv, now).unwrap();
    store.mark_invite_used(inv, now).unwrap();

    // Revoking at agent a: the invite, and the fan's session with a only.
    assert_eq!(store.revoke_fan_access(a, "@guest", now).unwrap(), (1, 1));
    assert_eq!(store.fan_session("hash-1").unwrap().unwrap().revoked_at, Some(now));
    assert_eq!(store.invite("nonce-1").unwrap().unwrap().revoked_at, Some(now));
    assert_eq!(store.fan_session("hash-2").unwrap().unwrap().revoked_at, None, "another agent's session");
    assert_eq!(store.fan_session("hash-3").unwrap().unwrap().revoked_at, None, "another fan's session");
    assert_eq!(store.fan_session("hash-2").unwrap().unwrap().id, s2);
    // Nothing is left to revoke; the first revocation's time stays.
    assert_eq!(store.revoke_fan_access(a, "@guest", at("2030-06-02T00:00:00Z")).unwrap(), (0, 0));
    assert_eq!(store.fan_session("hash-1").unwrap().unwrap().revoked_at, Some(now));
    assert_eq!(store.revoke_fan_access(a, "@nobody", now).unwrap(), (0, 0));
}

fn devices(store: &dyn HubAccess) {
    let scopes = vec!["queue".to_string(), "sync".to_string()];
    let laptop = store.create_device("laptop", "dev-1", &scopes).unwrap();
    assert_eq!(
        (laptop.name.as_str(), &laptop.scopes, laptop.last_used_at, laptop.revoked_at),
        ("laptop", &scopes, None, None)
    );
    let phone = store.create_device("phone", "dev-2", &[]).unwrap();
    assert!(store.create_device("copy", "dev-1", &[]).is_err(), "a token hash is unique");
    let used = at("2030-06-01T12:00:00Z");
    let got = store.device_by_token("dev-1", used).unwrap().unwrap();
    assert_eq!((got.id, got.last_used_at), (laptop.id, Some(used)));
    assert_eq!(store.device_by_token("dev-unknown", used).unwrap(), None);
    let ids: Vec<i64> = store.devices().unwrap().iter().map(|d| d.id).collect();
    assert_eq!(ids, [phone.id, laptop.id], "newest first");
    let revoked = store.revoke_device(phone.id, used).unwrap();
    assert_eq!(revoked.revoked_at, Some(used));
    let again = store.revoke_device(phone.id, at("2030-07-01T00:00:00Z")).unwrap();
    assert_eq!(again.revoked_at, Some(used), "the first revocation's time is kept");
    assert_eq!(store.device_by_token("dev-2", used).unwrap().unwrap().revoked_at, Some(used));
    assert!(matches!(store.revoke_device(phone.id + 1000, used).unwrap_err(), Error::NotFound { .. }));
}

fn pairing(store: &dyn HubAccess) {
    let now = at("2030-06-01T12:00:00Z");
    let scopes = vec!["sync".to_string()];
    store.create_pairing("code-1", &scopes, at("2030-06-01T12:10:00Z")).unwrap();
    store.create_pairing("code-old", &scopes, at("2030-06-01T11:59:59Z")).unwrap();
    assert_eq!(store.redeem_pairing("code-old", "late", "tok-late", now).unwrap(), None, "expired");
    assert_eq!(store.redeem_pairing("code-none", "x", "tok-x", now).unwrap(), None);
    // Eight devices redeem the same code at once: one is paired.
    let paired: Vec<_> = std::thread::scope(|s| {
        let t: Vec<_> = (0..8)
            .map(|i| {
                let name = format!("desk{i}");
                let token = format!("tok-{i}");
                s.spawn(move || store.redeem_pairing("code-1", &name, &token, now).unwrap())
            })
            .collect();
        t.into_iter().filter_map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(paired.len(), 1, "{paired:?}");
    assert_eq!(paired[0].scopes, scopes);
    assert_eq!(store.redeem_pairing("code-1", "again", "tok-again", now).unwrap(), None, "used");
    let names: Vec<String> = store.devices().unwrap().into_iter().map(|d| d.name).collect();
    assert_eq!(names.iter().filter(|n| n.starts_with("desk")).count(), 1, "{names:?}");
}

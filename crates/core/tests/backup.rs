//! Backups taken while fans' messages are being routed restore to one consistent
//! moment (the database, the index, the hub key); a data directory that holds a
//! database is refused unless forced (and then kept aside); a damaged backup or a
//! folder that is not one is refused before anything is touched.

mod common;
use common::{config, kb, open, open_cfg};
use fanline_core::backup::{backups_in, restore};
use fanline_core::NewCanonicalInput;
use fanline_engine::{Layer, Tier};
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn a_backup_taken_while_fans_write_restores_to_one_consistent_moment() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    app.canonical_add(
        None,
        &NewCanonicalInput {
            question: "Do you ever collaborate with other writers?".into(),
            answer: "Rarely, and only on short pieces.".into(),
            variants: vec![],
            layer: Layer::Public,
        },
    )
    .unwrap();
    let secret = app.hub_secret(None).unwrap(); // the hub key exists from here
    for i in 0..5 {
        app.route(None, "ana", &format!("How much does the workshop cost, asks fan {i}?")).unwrap();
    }
    let decided_before = app.decisions(None, None, None, 10_000).unwrap().len();

    let backups = tempfile::tempdir().unwrap();
    let stop = AtomicBool::new(false);
    let reports = std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                app.route(None, "ana", &format!("Question number {i} about the workshop?")).unwrap();
                i += 1;
            }
        });
        // The writer stops even if a backup fails.
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _stop = Stop(&stop);
        let reports: Vec<_> = (0..3).map(|_| app.backup(backups.path(), Some(2)).unwrap()).collect();
        reports
    });
    let decided_after = app.decisions(None, None, None, 10_000).unwrap().len();
    assert_eq!(backups_in(backups.path()), vec![reports[1].path.clone(), reports[2].path.clone()], "the last two kept");
    assert!(reports.iter().flat_map(|r| &r.removed).any(|p| *p == reports[0].path));
    assert!(reports[2].bytes > 0 && reports[2].manifest.schema_version > 0);

    // Restored into a new data directory: one moment of the database, its index, its key.
    let target = tempfile::tempdir().unwrap();
    let cfg = config(target.path());
    let r = restore(&cfg, &reports[2].path, false).unwrap();
    assert!(r.moved_aside.is_none());
    let restored = open_cfg(cfg.clone());
    assert_eq!(restored.store().integrity_check().ok(), Some(()));
    let decided = restored.decisions(None, None, None, 10_000).unwrap().len();
    assert!((decided_before..=decided_after).contains(&decided), "{decided_before} ≤ {decided} ≤ {decided_after}");
    // A message stored, its decision not yet: what a kill would leave, and recover routes.
    assert!(restored.unrouted_count().unwrap() <= 1);
    assert_eq!(restored.canonical_list(None).unwrap().len(), app.canonical_list(None).unwrap().len());
    let hits = restored.search(None, "how much does the workshop cost", Layer::Public, Some(3)).unwrap();
    assert!(hits[0].heading.to_lowercase().contains("workshop"), "{hits:?}");
    assert_eq!(restored.hub_secret(None).unwrap(), secret, "the hub key came back: sites and invites still verify");
    drop(restored);

    // A data directory that holds a database: refused, unless forced; then kept aside.
    let err = restore(&cfg, &reports[1].path, false).unwrap_err();
    assert_eq!(err.code().as_str(), "conflict");
    assert!(err.to_string().contains("--force"), "{err}");
    let forced = restore(&cfg, &reports[1].path, true).unwrap();
    let aside = forced.moved_aside.unwrap();
    assert!(aside.join("fanline.db").is_file() && aside.join("hub.key").is_file());

    // Not a backup; a damaged one: refused, the data directory untouched.
    let err = restore(&cfg, dir.path(), true).unwrap_err();
    assert!(err.to_string().contains("not a Fanline backup"), "{err}");
    let damaged = backups.path().join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    for f in ["manifest.json", "fanline.db"] {
        std::fs::copy(reports[2].path.join(f), damaged.join(f)).unwrap();
    }
    let mut bytes = std::fs::read(damaged.join("fanline.db")).unwrap();
    bytes[100..4096].fill(0x5a); // the schema's page
    std::fs::write(damaged.join("fanline.db"), bytes).unwrap();
    let asides = || std::fs::read_dir(target.path()).unwrap().filter(|e| e.as_ref().unwrap().path().is_dir()).count();
    let before = asides();
    assert!(restore(&cfg, &damaged, true).is_err(), "a damaged backup is refused");
    assert_eq!(asides(), before, "nothing was moved aside for it");
    assert!(open_cfg(cfg).store().integrity_check().is_ok());
}

#[test]
fn keep_zero_is_refused_and_a_failed_backup_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    let backups = tempfile::tempdir().unwrap();
    assert_eq!(app.backup(backups.path(), Some(0)).unwrap_err().code().as_str(), "invalid_input");
    // A file where the folder should be.
    let file = backups.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    assert!(app.backup(&file, None).is_err());
    assert!(backups_in(backups.path()).is_empty());
    let left: Vec<_> = std::fs::read_dir(backups.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("not-a-dir")]);
}

#[test]
fn the_daily_backup_runs_once_a_day_into_the_chosen_folder_and_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    let folder = tempfile::tempdir().unwrap();
    let f = folder.path().to_str().unwrap();
    // Off until a folder is chosen.
    assert_eq!(app.auto_backup().unwrap().folder, None);
    assert!(app.backup_if_due(chrono::Utc::now()).unwrap().is_none());
    assert_eq!(app.backup_now().unwrap_err().code().as_str(), "invalid_input");
    // Bad choices are refused.
    assert!(app.set_auto_backup(Some("relative/folder"), 3).is_err());
    assert!(app.set_auto_backup(Some(dir.path().join("b").to_str().unwrap()), 3).is_err(), "inside the data dir");
    assert!(app.set_auto_backup(Some(f), 0).is_err());

    let set = app.set_auto_backup(Some(f), 2).unwrap();
    assert_eq!((set.folder.as_deref(), set.keep, set.last.as_deref()), (Some(f), 2, None));
    let now = chrono::Utc::now();
    let first = app.backup_if_due(now).unwrap().expect("none yet: due");
    assert!(app.backup_if_due(now).unwrap().is_none(), "not again the same day");
    assert_eq!(app.auto_backup().unwrap().last, Some(first.manifest.created_at.clone()));
    let later = app.backup_if_due(now + chrono::Duration::hours(25)).unwrap().expect("a day later: due");
    app.backup_now().unwrap();
    assert_eq!(backups_in(folder.path()).len(), 2, "the newest two kept");
    assert!(backups_in(folder.path()).contains(&later.path));
    // Off again.
    assert_eq!(app.set_auto_backup(None, 2).unwrap().folder, None);
    assert!(app.backup_if_due(now + chrono::Duration::days(9)).unwrap().is_none());
}

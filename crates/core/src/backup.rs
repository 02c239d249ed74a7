//! Backups: a consistent copy of a data directory while the app or the hub runs
//! (`fanline backup`), and bringing one back (`fanline restore`).
//!
//! A backup is a folder `fanline-backup-<UTC time>` holding the database (SQLite's
//! online backup API: one moment, writers not held), the search index, the hub key and
//! `manifest.json`. It is written as `.partial-…` and renamed when complete, so a
//! backup killed midway never looks like one. The index is copied first and the
//! database after, so the database is as new or newer: a restored index catches up
//! from the database's change log (or is rebuilt from it), never runs ahead.

use crate::{Config, Error, Fanline, Result};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The start of a backup folder's name.
pub const BACKUP_PREFIX: &str = "fanline-backup-";
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "fanline.db";
const INDEX: &str = "index";
const HUB_KEY: &str = "hub.key";

/// What a backup holds, written beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Manifest {
    /// This layout's version.
    pub format: u32,
    /// The Fanline that made it.
    pub fanline_version: String,
    /// When (UTC, RFC 3339).
    pub created_at: String,
    /// The database's schema version (migrations applied).
    pub schema_version: u32,
}

/// What `backup` made.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackupReport {
    /// The backup's folder.
    pub path: PathBuf,
    /// What it holds.
    pub manifest: Manifest,
    /// Its size on disk.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub bytes: u64,
    /// Older backups removed to keep the last N.
    pub removed: Vec<PathBuf>,
}

/// What `restore` did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// The backup restored.
    pub from: PathBuf,
    /// What it held.
    pub manifest: Manifest,
    /// The data directory it now fills.
    pub data_dir: PathBuf,
    /// Where what the data directory held before went (`--force`).
    pub moved_aside: Option<PathBuf>,
    /// The database's schema version after opening (older backups are migrated).
    pub schema_version: u32,
}

/// An I/O error on `path` as the use cases' error.
pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io { path: path.to_path_buf(), detail: e.to_string() }
}

/// Copy a folder and everything in it (permissions kept).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().map_err(io(&src))?.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            match std::fs::copy(&src, &dst) {
                Ok(_) => {}
                // A file the index dropped while we copied (a merge): the index is
                // derived, and checked when opened.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&src)(e)),
            }
        }
    }
    Ok(())
}

/// A moment as the backup and set-aside folders name it (sorts by time).
fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

fn size_of(path: &Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            std::fs::read_dir(path).map(|d| d.flatten().map(|e| size_of(&e.path())).sum()).unwrap_or(0)
        }
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

/// The complete backups in `dir`, oldest first (their names sort by time).
pub fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(BACKUP_PREFIX))
                        && p.join(MANIFEST).is_file()
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn read_manifest(backup: &Path) -> Result<Manifest> {
    let path = backup.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|_| {
        Error::InvalidInput(format!("{} is not a Fanline backup (it has no {MANIFEST})", backup.display()))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::InvalidInput(format!("{}: not a backup manifest: {e}", path.display())))
}

impl Fanline {
    /// Back up this data directory into a new folder in `dir`, while it is in use;
    /// with `keep`, only the newest `keep` backups there are kept.
    pub fn backup(&self, dir: &Path, keep: Option<usize>) -> Result<BackupReport> {
        if keep == Some(0) {
            return Err(Error::InvalidInput("--keep must be at least 1 (the backup just made)".into()));
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let now = Utc::now();
        let name = format!("{BACKUP_PREFIX}{}", stamp(now));
        let (partial, path) = (dir.join(format!(".partial-{name}")), dir.join(&name));
        if path.exists() {
            return Err(Error::Conflict(format!("{} exists already", path.display())));
        }
        std::fs::create_dir(&partial).map_err(io(&partial))?;
        let made = (|| {
            let index = self.config.index_dir();
            if index.is_dir() {
                self.with_index_still(|| copy_dir(&index, &partial.join(INDEX)))?;
            }
            self.store.backup_to(&partial.join(DATABASE))?;
            let key = self.config.data_dir.join(HUB_KEY);
            if key.is_file() {
                std::fs::copy(&key, partial.join(HUB_KEY)).map_err(io(&key))?;
            }
            let manifest = Manifest {
                format: 1,
                fanline_version: env!("CARGO_PKG_VERSION").into(),
                created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                schema_version: fanline_store::check_file(&partial.join(DATABASE))?,
            };
            let text = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
            std::fs::write(partial.join(MANIFEST), text).map_err(io(&partial))?;
            std::fs::rename(&partial, &path).map_err(io(&path))?;
            Ok(manifest)
        })();
        let manifest = match made {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&partial);
                return Err(e);
            }
        };
        let mut removed = Vec::new();
        if let Some(keep) = keep {
            let all = backups_in(dir);
            for old in all.iter().take(all.len().saturating_sub(keep)) {
                std::fs::remove_dir_all(old).map_err(io(old))?;
                removed.push(old.clone());
            }
        }
        tracing::info!(path = %path.display(), "backed up");
        Ok(BackupReport { bytes: size_of(&path), path, manifest, removed })
    }
}

/// Bring a backup back into `config`'s data directory. Stop Fanline there first (the
/// app, `fanline serve`). A data directory that holds a database is refused unless
/// `force`, which moves what it holds into a `before-restore-…` folder inside it. The
/// backup is checked before anything is touched, and never changed.
pub fn restore(config: &Config, from: &Path, force: bool) -> Result<RestoreReport> {
    let manifest = read_manifest(from)?;
    fanline_store::check_file(&from.join(DATABASE))?;
    let data = &config.data_dir;
    let db = config.database_path();
    std::fs::create_dir_all(data).map_err(io(data))?;
    let mut moved_aside = None;
    if db.exists() {
        if !force {
            return Err(Error::Conflict(format!(
                "{} already holds a database; stop Fanline there and restore with --force to move it aside first",
                data.display()
            )));
        }
        let aside = data.join(format!("before-restore-{}", stamp(Utc::now())));
        std::fs::create_dir(&aside).map_err(io(&aside))?;
        let index = config.index_dir();
        for path in [db.clone(), db.with_extension("db-wal"), db.with_extension("db-shm"), index, data.join(HUB_KEY)] {
            if path.exists() {
                let to = aside.join(path.file_name().expect("a file name"));
                std::fs::rename(&path, &to).map_err(io(&path))?;
            }
        }
        moved_aside = Some(aside);
    }
    // The database last, by rename: until then the directory holds none.
    if from.join(INDEX).is_dir() {
        copy_dir(&from.join(INDEX), &config.index_dir())?;
    }
    if from.join(HUB_KEY).is_file() {
        std::fs::copy(from.join(HUB_KEY), data.join(HUB_KEY)).map_err(io(data))?;
    }
    let incoming = data.join(".restoring.db");
    std::fs::copy(from.join(DATABASE), &incoming).map_err(io(&incoming))?;
    std::fs::rename(&incoming, &db).map_err(io(&db))?;
    // Open it as Fanline will: migrations for an older backup, the index checked
    // against the database and caught up or rebuilt.
    let app = Fanline::open(config.clone())?;
    app.store().integrity_check()?;
    app.open_search_index()?;
    let schema_version = app.store().schema_version()?;
    Ok(RestoreReport { from: from.to_path_buf(), manifest, data_dir: data.clone(), moved_aside, schema_version })
}

const AUTO_FOLDER: &str = "backup.folder";
const AUTO_KEEP: &str = "backup.keep";
/// Backups the daily backup keeps unless told otherwise.
pub const DEFAULT_KEEP: u32 = 7;

/// The desktop app's daily backup: where, how many are kept, the newest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AutoBackup {
    /// The folder backups go to (`None`: no daily backup).
    pub folder: Option<String>,
    /// The newest this many are kept.
    pub keep: u32,
    /// When the newest backup there was made (RFC 3339), if any.
    pub last: Option<String>,
}

impl Fanline {
    /// The daily backup's settings and the newest backup in its folder.
    pub fn auto_backup(&self) -> Result<AutoBackup> {
        let folder = self.store.setting(AUTO_FOLDER)?;
        let keep = self.store.setting(AUTO_KEEP)?.and_then(|k| k.parse().ok()).unwrap_or(DEFAULT_KEEP);
        let last = folder
            .as_deref()
            .and_then(|f| backups_in(Path::new(f)).pop())
            .and_then(|newest| read_manifest(&newest).ok())
            .map(|m| m.created_at);
        Ok(AutoBackup { folder, keep, last })
    }

    /// Back up daily into `folder` (an absolute path; `None` turns it off), keeping
    /// the newest `keep` (1 to 365).
    pub fn set_auto_backup(&self, folder: Option<&str>, keep: u32) -> Result<AutoBackup> {
        if !(1..=365).contains(&keep) {
            return Err(Error::InvalidInput(format!("keep {keep} backups? Between 1 and 365.")));
        }
        let folder = folder.map(str::trim).filter(|f| !f.is_empty());
        if let Some(f) = folder {
            let path = Path::new(f);
            if !path.is_absolute() {
                return Err(Error::InvalidInput(format!("{f:?}: choose a folder by its full path")));
            }
            if path.starts_with(&self.config.data_dir) {
                return Err(Error::InvalidInput(
                    "a backup inside the data directory goes if the directory goes; choose another folder".into(),
                ));
            }
            std::fs::create_dir_all(path).map_err(io(path))?;
        }
        self.store.set_setting(AUTO_FOLDER, folder)?;
        self.store.set_setting(AUTO_KEEP, Some(&keep.to_string()))?;
        self.auto_backup()
    }

    /// Back up now into the daily backup's folder, keeping its newest `keep`.
    pub fn backup_now(&self) -> Result<BackupReport> {
        let a = self.auto_backup()?;
        let folder = a.folder.ok_or_else(|| Error::InvalidInput("choose a folder for backups first".into()))?;
        self.backup(Path::new(&folder), Some(a.keep as usize))
    }

    /// The daily backup, if one is due at `now` (a folder is set and its newest backup
    /// is a day old, or there is none).
    pub fn backup_if_due(&self, now: chrono::DateTime<Utc>) -> Result<Option<BackupReport>> {
        let a = self.auto_backup()?;
        let Some(folder) = a.folder else { return Ok(None) };
        let last = a.last.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        if last.is_some_and(|t| now.signed_duration_since(t) < chrono::Duration::hours(24)) {
            return Ok(None);
        }
        self.backup(Path::new(&folder), Some(a.keep as usize)).map(Some)
    }
}

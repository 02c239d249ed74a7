//! A consistent copy of the database while others go on reading and writing.

use crate::util::Cached;
use crate::{quick_check, Error, Result, Store};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

impl Store {
    /// Copy the database as it is at one moment to `dest` (a new file), with SQLite's
    /// online backup API: every page in one step, from a read transaction of a
    /// connection of its own, so writers (this process's or another's) are not held
    /// and the copy is never a mix of two moments. The copy is one self-contained file
    /// (rollback journal, not WAL) and passes SQLite's quick check.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let at = |e: rusqlite::Error| Error::from_sqlite_at(dest, e);
        if dest.exists() {
            return Err(Error::Conflict { what: "backup file", key: dest.display().to_string() });
        }
        let src = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| Error::from_sqlite_at(&self.path, e))?;
        src.busy_timeout(Duration::from_secs(10)).map_err(at)?;
        let mut dst = Connection::open(dest).map_err(at)?;
        {
            use rusqlite::backup::StepResult;
            let backup = rusqlite::backup::Backup::new(&src, &mut dst).map_err(at)?;
            let until = std::time::Instant::now() + Duration::from_secs(30);
            // Every page in one step (-1): one read transaction, one moment.
            loop {
                match backup.step(-1).map_err(at)? {
                    StepResult::Done => break,
                    StepResult::More | StepResult::Busy | StepResult::Locked if std::time::Instant::now() < until => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        return Err(Error::Open {
                            path: self.path.clone(),
                            detail: "the database stayed locked for 30 s; the backup gave up".into(),
                        })
                    }
                }
            }
        }
        dst.pragma_update(None, "journal_mode", "DELETE").map_err(at)?;
        match quick_check(&dst).map_err(at)? {
            ok if ok == "ok" => Ok(()),
            found => Err(Error::Corrupt { path: dest.to_path_buf(), detail: found }),
        }
    }
}

/// Check a database file without changing it (read-only; no migration): it is a
/// database, it passes the quick check; its schema version.
pub fn check_file(path: &Path) -> Result<u32> {
    let at = |e: rusqlite::Error| Error::from_sqlite_at(path, e);
    if !path.is_file() {
        return Err(Error::NotFound { what: "database file", key: path.display().to_string() });
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(at)?;
    match quick_check(&conn).map_err(at)? {
        ok if ok == "ok" => Ok(conn.row("PRAGMA user_version", [], |r| r.get(0)).map_err(at)?),
        found => Err(Error::Corrupt { path: path.to_path_buf(), detail: found }),
    }
}

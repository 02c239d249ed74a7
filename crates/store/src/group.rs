//! Group commit: the hub's many small writes (a fan's message, a decision) share one
//! commit, so one sync of the log serves several fans. Each write runs in its own
//! savepoint inside the group's transaction (a failed one rolls back alone); the group
//! commits when no other write is waiting to join (or its window has passed), and each
//! caller returns only after the commit that holds its write. A kill at any moment
//! loses only groups whose writers had not been answered.
//!
//! Any other use of the write connection commits an open group first, so the rest of
//! the store keeps its plain transactions.

use crate::{Result, Store};
use rusqlite::Connection;
use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// The write connection, and the group transaction open on it, if any.
pub(crate) struct Writer {
    conn: Connection,
    /// The open group's number.
    open: Option<u64>,
    next: u64,
    /// Recent groups whose commit failed, with SQLite's code and message.
    failed: VecDeque<(u64, i32, String)>,
    /// How long a group waits for more writes after one is done (zero: only those
    /// already waiting for the connection join).
    window: Duration,
    /// Off: each write commits alone (to measure against).
    grouped: bool,
    /// Writes made in groups, and the commits they took.
    writes: u64,
    commits: u64,
}

impl Writer {
    pub(crate) fn new(conn: Connection) -> Writer {
        Writer {
            conn,
            open: None,
            next: 1,
            failed: VecDeque::new(),
            window: Duration::ZERO,
            grouped: true,
            writes: 0,
            commits: 0,
        }
    }

    /// Commit the open group, if any.
    fn flush(&mut self) {
        let Some(group) = self.open.take() else { return };
        self.commits += 1;
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            tracing::warn!("a group commit failed: {e}");
            let code = match &e {
                rusqlite::Error::SqliteFailure(f, _) => f.extended_code,
                _ => 1, // SQLITE_ERROR
            };
            self.failed.push_back((group, code, e.to_string()));
            if self.failed.len() > 256 {
                self.failed.pop_front();
            }
        }
    }
}

/// The write connection, held: an open group is committed before it is handed out.
pub(crate) struct WriteConn<'a>(pub(crate) MutexGuard<'a, Writer>);

impl Deref for WriteConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0.conn
    }
}

impl DerefMut for WriteConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0.conn
    }
}

/// Writers waiting for the connection to join a group.
#[derive(Default)]
pub(crate) struct Joining(AtomicUsize);

impl Store {
    pub(crate) fn writer(&self) -> MutexGuard<'_, Writer> {
        self.joining.0.fetch_add(1, Ordering::SeqCst);
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions
        // roll back on drop), so a poisoned lock is safe to take over.
        let w = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        self.joining.0.fetch_sub(1, Ordering::SeqCst);
        w
    }

    /// The write connection for a plain transaction (an open group is committed first).
    pub(crate) fn conn(&self) -> WriteConn<'_> {
        let mut w = self.writer();
        w.flush();
        WriteConn(w)
    }

    /// Sync the log at every commit (`full`: a commit survives a power cut) or only at
    /// checkpoints (a commit survives a crash of the process, not of the machine).
    pub fn set_synchronous_full(&self, full: bool) -> Result<()> {
        self.conn().pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })?;
        Ok(())
    }

    /// Writes made in groups so far, and the commits they took.
    pub fn group_commits(&self) -> (u64, u64) {
        let w = self.writer();
        (w.writes, w.commits)
    }

    /// Group the hub's writes (on by default), letting a group wait up to `window`
    /// for more before it commits; off, each commits alone.
    pub fn set_group_commit(&self, on: bool, window: Duration) {
        let mut w = self.writer();
        w.grouped = on;
        w.window = window;
    }

    /// Run `f` as one write of a group (see the module's notes); returns once the group
    /// holding it is committed. `f` runs in a savepoint: its error rolls back its own
    /// writes only.
    pub(crate) fn group_write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let (group, window, value) = {
            let mut w = self.writer();
            let group = match w.open {
                Some(g) => g,
                None => {
                    w.conn.execute_batch("BEGIN IMMEDIATE")?;
                    let g = w.next;
                    w.next += 1;
                    w.open = Some(g);
                    g
                }
            };
            // A savepoint inside the group's transaction: dropped without commit (`f`
            // failed), it rolls back to here. Failed or not, the group is committed
            // below (it may hold other writes, and it holds the database's write lock).
            let value = w.conn.savepoint().map_err(crate::Error::from).and_then(|sp| {
                let v = f(&sp)?;
                sp.commit()?;
                Ok(v)
            });
            w.writes += u64::from(value.is_ok());
            if !w.grouped {
                w.flush();
            }
            (group, w.window, value)
        };
        // Let writers already waiting (or arriving within the window) join, then commit
        // the group unless one of them did.
        let until = Instant::now() + window;
        while self.joining.0.load(Ordering::SeqCst) > 0 || Instant::now() < until {
            if Instant::now() >= until + Duration::from_millis(5) {
                break;
            }
            std::thread::yield_now();
        }
        let mut w = self.writer();
        if w.open == Some(group) {
            w.flush();
        }
        match w.failed.iter().find(|(g, ..)| *g == group) {
            Some((_, code, why)) => Err(crate::Error::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(*code),
                Some(format!("the group commit failed: {why}")),
            ))),
            None => value,
        }
    }
}

//! Settings → Hub: the app syncs with the creator's hub in the background once paired
//! (`Fanline::sync_watch`: at start, whenever the hub's log moves, on a timer, and after
//! the hub comes back), and keeps what the last sync said for the header.

use fanline_core::sync::{SyncReport, SyncStatus};
use fanline_core::{Error, Fanline};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the last sync went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No hub.
    NotPaired,
    /// Not synced yet since the app started.
    Starting,
    /// Everything made here is on the hub, and the hub's news is here.
    Synced,
    /// Changes wait to be pushed.
    Pending,
    /// The hub could not be reached: changes wait here.
    Offline,
    /// The hub refused (a revoked device, a clock far ahead…): see the error.
    Failed,
}

/// The header's and Settings' view of sync.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SyncView {
    pub status: SyncStatus,
    pub state: SyncState,
    pub last_error: Option<String>,
    /// When the last sync finished (RFC 3339).
    pub last_sync: Option<String>,
    /// What it did.
    pub last_report: Option<SyncReport>,
}

#[derive(Default)]
struct Last {
    state: Option<SyncState>,
    error: Option<String>,
    at: Option<String>,
    report: Option<SyncReport>,
}

/// The background sync of this app.
#[derive(Default)]
pub struct Syncer {
    last: Mutex<Last>,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl Syncer {
    fn record(&self, r: &fanline_core::Result<SyncReport>) {
        let mut l = self.last.lock().unwrap_or_else(|p| p.into_inner());
        l.at = Some(chrono::Utc::now().to_rfc3339());
        match r {
            Ok(rep) => {
                l.error = None;
                l.state = None;
                l.report = Some(rep.clone());
            }
            Err(e) => {
                l.state = Some(if matches!(e, Error::Hub(_)) { SyncState::Offline } else { SyncState::Failed });
                l.error = Some(e.to_string());
            }
        }
    }

    /// Where sync stands.
    pub fn view(&self, app: &Fanline) -> fanline_core::Result<SyncView> {
        let status = app.sync_status()?;
        let l = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let state = match (&status.hub, l.state, &l.at) {
            (None, _, _) => SyncState::NotPaired,
            (_, Some(s), _) => s,
            (_, None, None) => SyncState::Starting,
            _ if status.pending > 0 => SyncState::Pending,
            _ => SyncState::Synced,
        };
        Ok(SyncView {
            status,
            state,
            last_error: l.error.clone(),
            last_sync: l.at.clone(),
            last_report: l.report.clone(),
        })
    }

    /// Sync now.
    pub async fn now(&self, app: &Fanline) -> fanline_core::Result<SyncView> {
        let r = app.sync_once().await;
        self.record(&r);
        self.view(app)
    }

    /// Keep syncing in the background (when paired); a running loop is replaced.
    pub fn start(self: &Arc<Self>, app: Arc<Fanline>) {
        if !app.sync_paired().unwrap_or(false) {
            return;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Some(old) = self.stop.lock().unwrap_or_else(|p| p.into_inner()).replace(tx) {
            let _ = old.send(());
        }
        let me = self.clone();
        let every = Duration::from_secs(app.config().sync.every_seconds.max(1));
        tauri::async_runtime::spawn(async move {
            app.sync_watch(every, |r| me.record(&r), async {
                let _ = rx.await;
            })
            .await;
        });
    }

    /// Stop syncing (unpaired).
    pub fn stop(&self) {
        if let Some(old) = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = old.send(());
        }
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Last::default();
    }
}

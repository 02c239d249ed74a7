//! The daily backup (Settings → Backups): checked at start and every few minutes on a
//! background thread; a backup is made when the newest in the chosen folder is a day
//! old (`Fanline::backup_if_due`).

use fanline_core::Fanline;
use std::sync::Arc;
use std::time::Duration;

/// Check for a due backup every `every`, first after `first`, for as long as the app runs.
pub fn spawn(app: Arc<Fanline>, first: Duration, every: Duration) {
    std::thread::Builder::new()
        .name("fanline-backups".into())
        .spawn(move || {
            std::thread::sleep(first);
            loop {
                match app.backup_if_due(app.now()) {
                    Ok(Some(r)) => tracing::info!(path = %r.path.display(), "daily backup made"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!("the daily backup failed: {e}"),
                }
                std::thread::sleep(every);
            }
        })
        .expect("a thread starts");
}

//! Desktop notifications for new escalations: the queue is looked at every few
//! seconds; what arrived since (from the fan API, a synced device or the simulator)
//! raises one notification and tells the UI to refresh its queue.

use crate::AppState;
use fanline_core::{QueueItem, QueueWatch};
use fanline_engine::route::reply::excerpt;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

/// The event the UI listens to; its payload is the number of new escalations.
pub const QUEUE_CHANGED: &str = "queue-changed";

/// The notification for new escalations: one names the fan and the question, several
/// are counted.
pub fn notification_text(new: &[QueueItem]) -> (String, String) {
    match new {
        [one] => (format!("New question from {}", one.fan), excerpt(&one.question, 140)),
        many => (
            format!("{} new questions in your queue", many.len()),
            many.iter().map(|q| q.fan.as_str()).collect::<Vec<_>>().join(", "),
        ),
    }
}

/// Watch the queue on a background thread for as long as the app runs.
pub fn spawn<R: Runtime>(app: AppHandle<R>, every: Duration) {
    std::thread::spawn(move || {
        let mut watch = QueueWatch::default();
        loop {
            let fanline = app.state::<AppState>().0.clone();
            match watch.poll(&fanline) {
                Ok(new) if !new.is_empty() => {
                    let _ = app.emit(QUEUE_CHANGED, new.len());
                    let (title, body) = notification_text(&new);
                    if let Err(e) = app.notification().builder().title(title).body(body).show() {
                        tracing::warn!("no desktop notification ({e})");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("the queue could not be read ({e})"),
            }
            std::thread::sleep(every);
        }
    });
}

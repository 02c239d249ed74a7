//! `fanline sync`: the device's side of sync, on a runtime of its own.

use fanline_core::{Error, Fanline, Result};
use std::time::Duration;

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start a runtime: {e}")))
}

/// Run one future of the sync use cases to its end.
pub fn block<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    runtime()?.block_on(f)
}

/// This machine's name (a device's default name on the hub).
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into())
}

/// `fanline sync --watch`: sync now, whenever the hub pokes, and on a timer, until Ctrl-C.
pub fn watch(app: &Fanline, json: bool) -> Result<()> {
    let every = Duration::from_secs(app.config().sync.every_seconds.max(1));
    runtime()?.block_on(app.sync_watch(
        every,
        |r| {
            let line = match (&r, json) {
                (Ok(r), true) => serde_json::to_string(r).unwrap_or_default(),
                (Err(e), true) => serde_json::json!({ "error": e.body() }).to_string(),
                (Ok(r), false) => {
                    let mut o = crate::print::Out::default();
                    crate::print::sync_report(&mut o, r);
                    o.0.trim_end().to_string()
                }
                (Err(e), false) => format!("sync failed: {e}"),
            };
            let _ = crate::print::write_stdout(&format!("{line}\n"));
        },
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    ));
    Ok(())
}

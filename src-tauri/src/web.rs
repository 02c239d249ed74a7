//! "Take messages from the web on this computer": the hub (`fanline_server`) inside the
//! app, started and stopped from Settings. The switch is kept in the data directory
//! (`Fanline::set_web_serving`), so the app starts serving again as the creator left it.

use fanline_core::hub::WebServing;
use fanline_core::Fanline;
use fanline_server::Running;
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The server this app runs, if any, and why the last start failed.
#[derive(Default)]
pub struct WebServer(Mutex<Serving>);

#[derive(Default)]
struct Serving {
    running: Option<Running>,
    error: Option<String>,
}

/// The switch and what the server is doing.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct WebStatus {
    pub setting: WebServing,
    /// The address fans' requests reach now (`None`: not serving).
    pub listening: Option<String>,
    /// Why it is not serving although the switch is on (the address is taken…).
    pub error: Option<String>,
}

impl WebServer {
    /// Serve `app` when `setting.on`, stop when not; the status after.
    pub async fn apply(&self, app: Arc<Fanline>, setting: WebServing) -> WebStatus {
        let mut s = self.0.lock().await;
        s.error = None;
        if !setting.on {
            if let Some(r) = s.running.take() {
                if let Err(e) = r.stop().await {
                    tracing::warn!("the web server stopped: {e}");
                }
                tracing::info!("stopped taking messages from the web");
            }
        } else if s.running.as_ref().is_none_or(Running::is_finished) {
            match Running::start(app, &setting.listen).await {
                Ok(r) => {
                    tracing::info!(addr = %r.addr(), "taking messages from the web");
                    s.running = Some(r);
                }
                Err(e) => {
                    let e = format!("cannot listen on {}: {e}", setting.listen);
                    tracing::warn!("{e}");
                    s.running = None;
                    s.error = Some(e);
                }
            }
        }
        status(&s, setting)
    }

    /// What it is doing now.
    pub async fn status(&self, setting: WebServing) -> WebStatus {
        status(&*self.0.lock().await, setting)
    }
}

fn status(s: &Serving, setting: WebServing) -> WebStatus {
    let listening = s.running.as_ref().filter(|r| !r.is_finished()).map(|r| r.addr().to_string());
    WebStatus { listening, setting, error: s.error.clone() }
}

/// At start: serve if the creator left the switch on.
pub fn resume(app: Arc<Fanline>, web: Arc<WebServer>) {
    tauri::async_runtime::spawn(async move {
        let setting = {
            let app = app.clone();
            tauri::async_runtime::spawn_blocking(move || app.web_serving()).await
        };
        match setting {
            Ok(Ok(s)) if s.on => {
                web.apply(app, s).await;
            }
            Ok(Err(e)) => tracing::warn!("reading the web switch: {e}"),
            _ => {}
        }
    });
}

//! `fanline serve`: the hub on this machine until Ctrl-C (or SIGTERM).

use fanline_core::{Error, Fanline, Result};
use std::sync::Arc;

/// Serve until asked to stop.
pub fn run(app: Arc<Fanline>, listen: Option<&str>, json: bool) -> Result<()> {
    let hub = app.config().hub.clone();
    let addr = listen.unwrap_or(&hub.listen).to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start the server's runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| Error::Config(format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().map_err(|e| Error::Config(e.to_string()))?;
        let site = {
            let app = app.clone();
            tokio::task::spawn_blocking(move || app.hub_site(None))
                .await
                .map_err(|e| Error::Config(e.to_string()))??
        };
        // Load the model now, not on a fan's first message.
        {
            let app = app.clone();
            let _ = tokio::task::spawn_blocking(move || app.embedder().map(|_| ())).await;
        }
        // Links name the configured public address; left at its default, the address
        // actually listened on (`--listen 127.0.0.1:0`, another port) is the one that works.
        let public = match hub.public_url == fanline_core::config::HubSettings::default().public_url {
            true => format!("http://{local}"),
            false => hub.public_url.trim_end_matches('/').to_string(),
        };
        let line = if json {
            serde_json::json!({ "listening": local.to_string(), "site_key": site.site_key,
                "chat": format!("{public}/chat?site={}", site.site_key) })
            .to_string()
        } else {
            format!(
                "serving fans on http://{local}\n  chat page: {public}/chat?site={}\n  API docs:  {public}/docs\n(Ctrl-C stops)",
                site.site_key
            )
        };
        crate::print::write_stdout(&format!("{line}\n"))?;
        let shutdown = async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler");
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
        };
        fanline_server::serve(app, listener, shutdown).await.map_err(|e| Error::Config(format!("the server stopped: {e}")))
    })
}

//! The desktop app: a thin shell over `fanline-core`. Each command (`commands.rs`) is
//! one call into the library, run off the UI thread; errors cross the IPC boundary as
//! `ErrorBody { code, message }`. The TypeScript bindings are generated from them.

mod backups;
mod commands;
mod sync;
mod watch;
mod web;

pub use sync::{SyncState, SyncView, Syncer};
pub use watch::notification_text;
pub use web::{WebServer, WebStatus};

use fanline_core::{ErrorBody, Fanline};
use std::sync::Arc;
use tauri::{Manager, Runtime, State};

/// The open data directory, shared by every command.
pub struct AppState(pub Arc<Fanline>);

/// The hub this app runs when the creator takes messages from the web.
pub struct WebState(pub Arc<WebServer>);

/// The background sync with the creator's hub.
pub struct Syncing(pub Arc<Syncer>);

pub(crate) type Reply<T> = Result<T, ErrorBody>;

/// Run a use case on a blocking thread (it may embed, search, call a model).
pub(crate) async fn run<T: Send + 'static>(
    state: State<'_, AppState>,
    f: impl FnOnce(&Fanline) -> fanline_core::Result<T> + Send + 'static,
) -> Reply<T> {
    let app = state.0.clone();
    tauri::async_runtime::spawn_blocking(move || f(&app).map_err(|e| e.body()))
        .await
        .map_err(|e| ErrorBody::internal(format!("the command stopped: {e}")))?
}

/// The typed command set: the same list serves the IPC handler and the generated
/// TypeScript bindings (`ui/src/bindings.ts`).
pub fn command_set<R: Runtime>() -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new().commands(tauri_specta::collect_commands![
        commands::doctor,
        commands::documents,
        commands::search,
        commands::simulate,
        commands::accept,
        commands::queue,
        commands::queue_answer,
        commands::queue_groups,
        commands::replay_rules,
        commands::inbox_import,
        commands::queue_answer_group,
        commands::queue_take_out,
        commands::queue_split,
        commands::queue_attach,
        commands::queue_decline,
        commands::queue_defer,
        commands::canonical_list,
        commands::canonical_search,
        commands::canonical_delete,
        commands::canonical_show,
        commands::canonical_add_variant,
        commands::metrics,
        commands::decisions,
        commands::rules,
        commands::set_rules,
        commands::policy_save,
        commands::policy_text,
        commands::decision,
        commands::fans,
        commands::fan_add,
        commands::providers,
        commands::provider_add,
        commands::provider_remove,
        commands::provider_test,
        commands::provider_set_priority,
        commands::setup_status,
        commands::setup_profile,
        commands::finish_setup,
        commands::import,
        commands::document_reimport,
        commands::document_delete,
        commands::queue_draft,
        commands::canonical_update,
        commands::canonical_merge,
        commands::web_status,
        commands::web_set,
        commands::auto_backup,
        commands::auto_backup_set,
        commands::backup_now,
        commands::sync_view,
        commands::sync_pair,
        commands::sync_now,
        commands::sync_unpair,
        commands::sync_conflicts,
        commands::sync_resolve,
        commands::gaps,
        commands::canonical_add,
    ])
}

/// Write the TypeScript types and command wrappers for the UI.
pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    let ts = specta_typescript::Typescript::default()
        .bigint(specta_typescript::BigIntExportBehavior::Number)
        .header("// Generated from the Rust types by tauri-specta (src-tauri/tests/bindings.rs); do not edit.");
    command_set::<tauri::Wry>().export(ts, path).map_err(|e| e.to_string())?;
    // tauri's specta impl for `Channel` also declares a `TAURI_CHANNEL` type alias that
    // clashes with the import of the real class under that name; drop the alias.
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let text = text.replace("export type TAURI_CHANNEL<TSend> = null\n", "");
    std::fs::write(path, text).map_err(|e| e.to_string())
}

/// Give a builder the app's state and commands, for any runtime (the real one, or
/// tauri's mock runtime in tests).
/// If the creator left "Take messages from the web" on, the hub starts too; a
/// device paired with a hub syncs in the background.
pub fn setup<R: Runtime>(builder: tauri::Builder<R>, app: Fanline) -> tauri::Builder<R> {
    let (app, web, syncer) = (Arc::new(app), Arc::new(WebServer::default()), Arc::new(Syncer::default()));
    web::resume(app.clone(), web.clone());
    syncer.start(app.clone());
    builder
        .manage(AppState(app))
        .manage(WebState(web))
        .manage(Syncing(syncer))
        .invoke_handler(command_set::<R>().invoke_handler())
}

/// The real app: the commands plus the window's plugins (file picker, notifications,
/// remembered window size and place) and the queue watcher.
pub fn desktop(app: Fanline) -> tauri::Builder<tauri::Wry> {
    setup(tauri::Builder::default(), app)
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(|app| {
            watch::spawn(app.handle().clone(), std::time::Duration::from_secs(3));
            let fanline = app.state::<AppState>().0.clone();
            backups::spawn(fanline, std::time::Duration::from_secs(60), std::time::Duration::from_secs(600));
            Ok(())
        })
}

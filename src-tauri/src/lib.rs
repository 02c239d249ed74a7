//! The desktop app's commands. Each is one call into `fanline-core`; errors cross the
//! IPC boundary as `ErrorBody { code, message }`.

use fanline_core::{DoctorReport, DocumentRecord, ErrorBody, Fanline, SearchResult};
use fanline_engine::Layer;
use tauri::{Runtime, State};

/// The open data directory, shared by every command.
pub struct AppState(pub Fanline);

#[tauri::command]
fn doctor(state: State<'_, AppState>) -> Result<DoctorReport, ErrorBody> {
    state.0.doctor().map_err(|e| e.body())
}

#[tauri::command]
fn documents(state: State<'_, AppState>) -> Result<Vec<DocumentRecord>, ErrorBody> {
    state.0.documents(None).map_err(|e| e.body())
}

#[tauri::command]
fn search(
    state: State<'_, AppState>,
    query: String,
    layer: Layer,
    limit: Option<usize>,
) -> Result<Vec<SearchResult>, ErrorBody> {
    state.0.search(None, &query, layer, limit).map_err(|e| e.body())
}

/// Give a builder the app's state and commands, for any runtime (the real one, or
/// tauri's mock runtime in tests).
pub fn setup<R: Runtime>(builder: tauri::Builder<R>, app: Fanline) -> tauri::Builder<R> {
    builder.manage(AppState(app)).invoke_handler(tauri::generate_handler![doctor, documents, search])
}

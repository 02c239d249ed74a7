//! The desktop app's commands. Each is one call into `fanline-core`, run off the UI
//! thread; errors cross the IPC boundary as `ErrorBody { code, message }`.

use fanline_core::metrics::Metrics;
use fanline_core::{
    AcceptReport, CanonicalAnswer, CanonicalHit, CanonicalSummary, Decision, DoctorReport, DocumentRecord, ErrorBody,
    Escalation, Fan, Fanline, ProviderInfo, ProviderTest, QueueItem, RouteReport, SearchResult,
};
use fanline_engine::{AgentConfig, Layer, RoutePath, Tier};
use std::sync::Arc;
use tauri::{Runtime, State};

/// The open data directory, shared by every command.
pub struct AppState(pub Arc<Fanline>);

type Reply<T> = Result<T, ErrorBody>;

/// Run a use case on a blocking thread (it may embed, search, call a model).
async fn run<T: Send + 'static>(
    state: State<'_, AppState>,
    f: impl FnOnce(&Fanline) -> fanline_core::Result<T> + Send + 'static,
) -> Reply<T> {
    let app = state.0.clone();
    tauri::async_runtime::spawn_blocking(move || f(&app).map_err(|e| e.body()))
        .await
        .map_err(|e| ErrorBody { code: "internal", message: format!("the command stopped: {e}") })?
}

#[tauri::command]
async fn doctor(state: State<'_, AppState>) -> Reply<DoctorReport> {
    run(state, |a| a.doctor()).await
}

#[tauri::command]
async fn documents(state: State<'_, AppState>) -> Reply<Vec<DocumentRecord>> {
    run(state, |a| a.documents(None)).await
}

#[tauri::command]
async fn search(
    state: State<'_, AppState>,
    query: String,
    layer: Layer,
    limit: Option<usize>,
) -> Reply<Vec<SearchResult>> {
    run(state, move |a| a.search(None, &query, layer, limit)).await
}

/// The simulator: route a message as a chosen fan.
#[tauri::command]
async fn simulate(state: State<'_, AppState>, fan: String, message: String) -> Reply<RouteReport> {
    run(state, move |a| a.route(None, &fan, &message)).await
}

#[tauri::command]
async fn accept(state: State<'_, AppState>, id: i64) -> Reply<AcceptReport> {
    run(state, move |a| a.accept(id)).await
}

#[tauri::command]
async fn queue(state: State<'_, AppState>) -> Reply<Vec<QueueItem>> {
    run(state, |a| a.queue(None, 200)).await
}

#[tauri::command]
async fn queue_answer(state: State<'_, AppState>, id: i64, text: String, layer: Layer) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.queue_answer(id, &text, layer)).await
}

#[tauri::command]
async fn queue_attach(state: State<'_, AppState>, id: i64, canonical_id: i64) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.queue_attach(id, canonical_id)).await
}

#[tauri::command]
async fn queue_decline(state: State<'_, AppState>, id: i64) -> Reply<Escalation> {
    run(state, move |a| a.queue_decline(id)).await
}

#[tauri::command]
async fn queue_defer(state: State<'_, AppState>, id: i64, hours: u32) -> Reply<Escalation> {
    run(state, move |a| a.queue_defer(id, hours)).await
}

#[tauri::command]
async fn canonical_list(state: State<'_, AppState>) -> Reply<Vec<CanonicalSummary>> {
    run(state, |a| a.canonical_list(None)).await
}

#[tauri::command]
async fn canonical_search(state: State<'_, AppState>, question: String, layer: Layer) -> Reply<Vec<CanonicalHit>> {
    run(state, move |a| a.canonical_search(None, &question, layer, 5)).await
}

#[tauri::command]
async fn canonical_show(state: State<'_, AppState>, id: i64) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.canonical_show(id)).await
}

#[tauri::command]
async fn canonical_add_variant(state: State<'_, AppState>, id: i64, text: String) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.canonical_add_variant(id, &text)).await
}

#[tauri::command]
async fn canonical_delete(state: State<'_, AppState>, id: i64) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.canonical_delete(id)).await
}

#[tauri::command]
async fn metrics(state: State<'_, AppState>, days: u32) -> Reply<Metrics> {
    run(state, move |a| a.metrics(None, days)).await
}

/// The decision log, filterable by path and fan.
#[tauri::command]
async fn decisions(
    state: State<'_, AppState>,
    path: Option<RoutePath>,
    fan: Option<String>,
    limit: Option<usize>,
) -> Reply<Vec<Decision>> {
    run(state, move |a| a.decisions(None, path, fan.as_deref(), limit.unwrap_or(100))).await
}

#[tauri::command]
async fn rules(state: State<'_, AppState>) -> Reply<AgentConfig> {
    run(state, |a| a.rules(None)).await
}

#[tauri::command]
async fn set_rules(state: State<'_, AppState>, rules: AgentConfig) -> Reply<AgentConfig> {
    run(state, move |a| a.set_rules(None, &rules)).await
}

/// The policy file's text (empty when there is none yet).
#[tauri::command]
async fn policy_text(state: State<'_, AppState>) -> Reply<String> {
    run(state, |a| {
        let path = a.policy_path(&a.agent(None)?.name);
        Ok(std::fs::read_to_string(path).unwrap_or_default())
    })
    .await
}

/// One decision with its signals and trace.
#[tauri::command]
async fn decision(state: State<'_, AppState>, id: i64) -> Reply<Decision> {
    run(state, move |a| a.decision(id)).await
}

/// Save the policy file; a validation error names the line and the field.
#[tauri::command]
async fn policy_save(state: State<'_, AppState>, text: String) -> Reply<()> {
    run(state, move |a| {
        let agent = a.agent(None)?;
        a.policy_save(&agent.name, &text).map(|_| ())
    })
    .await
}

#[tauri::command]
async fn fans(state: State<'_, AppState>) -> Reply<Vec<Fan>> {
    run(state, |a| a.fans()).await
}

#[tauri::command]
async fn fan_add(state: State<'_, AppState>, handle: String, tier: Tier, layer: Layer) -> Reply<Fan> {
    run(state, move |a| a.fan_add(&handle, tier, layer)).await
}

#[tauri::command]
async fn providers(state: State<'_, AppState>) -> Reply<Vec<ProviderInfo>> {
    run(state, |a| a.providers()).await
}

/// Add a provider; its key (if any) goes to the OS keychain, never to the database.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
async fn provider_add(
    state: State<'_, AppState>,
    name: String,
    kind: String,
    base_url: String,
    model: String,
    priority: i64,
    key: Option<String>,
) -> Reply<ProviderInfo> {
    run(state, move |a| {
        a.provider_add(&fanline_core::NewProvider {
            name,
            kind,
            base_url,
            model,
            priority,
            context_window: None,
            prices: Default::default(),
            key: key.filter(|k| !k.trim().is_empty()),
        })
    })
    .await
}

#[tauri::command]
async fn provider_remove(state: State<'_, AppState>, name: String) -> Reply<String> {
    run(state, move |a| a.provider_remove(&name).map(|p| p.name)).await
}

#[tauri::command]
async fn provider_test(state: State<'_, AppState>, name: String) -> Reply<ProviderTest> {
    run(state, move |a| a.provider_test(&name)).await
}

/// Give a builder the app's state and commands, for any runtime (the real one, or
/// tauri's mock runtime in tests).
pub fn setup<R: Runtime>(builder: tauri::Builder<R>, app: Fanline) -> tauri::Builder<R> {
    builder.manage(AppState(Arc::new(app))).invoke_handler(tauri::generate_handler![
        doctor,
        documents,
        search,
        simulate,
        accept,
        queue,
        queue_answer,
        queue_attach,
        queue_decline,
        queue_defer,
        canonical_list,
        canonical_search,
        canonical_delete,
        canonical_show,
        canonical_add_variant,
        metrics,
        decisions,
        rules,
        set_rules,
        policy_save,
        policy_text,
        decision,
        fans,
        fan_add,
        providers,
        provider_add,
        provider_remove,
        provider_test,
    ])
}

//! The commands: each is one call into `fanline-core`, run off the UI thread.

use crate::{run, AppState, Reply, SyncView, Syncing, WebState, WebStatus};
use fanline_core::backup::{AutoBackup, BackupReport};
use fanline_core::gaps::Gap;
use fanline_core::inbox::InboxReport;
use fanline_core::metrics::Metrics;
use fanline_core::replay::ReplayReport;
use fanline_core::sync::Conflict;
use fanline_core::{
    AcceptReport, CanonicalAnswer, CanonicalHit, CanonicalSummary, Decision, DoctorReport, DocumentRecord, DocumentRef,
    Draft, Escalation, Fan, ImportProgress, ImportSummary, NewCanonicalInput, NewProvider, ProviderInfo, ProviderTest,
    QueueGroup, QueueItem, RouteReport, SearchResult, SetupStatus, StreamEvent,
};
use fanline_engine::{AgentConfig, Layer, RoutePath, Tier};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

#[tauri::command]
#[specta::specta]
pub async fn doctor(state: State<'_, AppState>) -> Reply<DoctorReport> {
    run(state, |a| a.doctor()).await
}

#[tauri::command]
#[specta::specta]
pub async fn documents(state: State<'_, AppState>) -> Reply<Vec<DocumentRecord>> {
    run(state, |a| a.documents(None)).await
}

#[tauri::command]
#[specta::specta]
pub async fn search(
    state: State<'_, AppState>,
    query: String,
    layer: Layer,
    limit: Option<usize>,
) -> Reply<Vec<SearchResult>> {
    run(state, move |a| a.search(None, &query, layer, limit)).await
}

/// The simulator: route a message as a chosen fan.
#[tauri::command]
#[specta::specta]
pub async fn simulate(state: State<'_, AppState>, fan: String, message: String) -> Reply<RouteReport> {
    run(state, move |a| a.route(None, &fan, &message)).await
}

#[tauri::command]
#[specta::specta]
pub async fn accept(state: State<'_, AppState>, id: i64) -> Reply<AcceptReport> {
    run(state, move |a| a.accept(id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue(state: State<'_, AppState>) -> Reply<Vec<QueueItem>> {
    run(state, |a| a.queue(None, 200)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_answer(state: State<'_, AppState>, id: i64, text: String, layer: Layer) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.queue_answer(id, &text, layer)).await
}

/// The Rules screen's preview: the last `days` of messages under `rules` (the form as
/// it stands), beside the rules in force; nothing is written.
#[tauri::command]
#[specta::specta]
pub async fn replay_rules(state: State<'_, AppState>, rules: AgentConfig, days: u32) -> Reply<ReplayReport> {
    run(state, move |a| a.replay_rules(None, days, &rules)).await
}

/// Bring in an existing inbox: past questions with replies (CSV or JSON, columns found
/// by name) as canonical answers; `on_progress` gets (done, total).
#[tauri::command]
#[specta::specta]
pub async fn inbox_import(
    state: State<'_, AppState>,
    path: String,
    layer: Layer,
    on_progress: Channel<(u32, u32)>,
) -> Reply<InboxReport> {
    run(state, move |a| {
        let columns = fanline_core::inbox::Columns::default();
        a.import_inbox(None, std::path::Path::new(&path), &columns, layer, &mut |d, t| {
            drop(on_progress.send((d as u32, t as u32)))
        })
    })
    .await
}

/// The queue in groups of escalations that ask the same thing.
#[tauri::command]
#[specta::specta]
pub async fn queue_groups(state: State<'_, AppState>) -> Reply<Vec<QueueGroup>> {
    run(state, |a| a.queue_groups(None, 200)).await
}

/// One answer for a whole group: every fan receives it.
#[tauri::command]
#[specta::specta]
pub async fn queue_answer_group(
    state: State<'_, AppState>,
    ids: Vec<i64>,
    text: String,
    layer: Layer,
) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.queue_answer_group(&ids, &text, layer)).await
}

/// Take a question out of its group (`alone`), or let it join again.
#[tauri::command]
#[specta::specta]
pub async fn queue_take_out(state: State<'_, AppState>, id: i64, alone: bool) -> Reply<()> {
    run(state, move |a| a.queue_keep_alone(id, alone)).await
}

/// Split a group: each of its questions stays by itself.
#[tauri::command]
#[specta::specta]
pub async fn queue_split(state: State<'_, AppState>, ids: Vec<i64>) -> Reply<()> {
    run(state, move |a| a.queue_split(&ids)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_attach(state: State<'_, AppState>, id: i64, canonical_id: i64) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.queue_attach(id, canonical_id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_decline(state: State<'_, AppState>, id: i64) -> Reply<Escalation> {
    run(state, move |a| a.queue_decline(id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_defer(state: State<'_, AppState>, id: i64, hours: u32) -> Reply<Escalation> {
    run(state, move |a| a.queue_defer(id, hours)).await
}

#[tauri::command]
#[specta::specta]
pub async fn canonical_list(state: State<'_, AppState>) -> Reply<Vec<CanonicalSummary>> {
    run(state, |a| a.canonical_list(None)).await
}

#[tauri::command]
#[specta::specta]
pub async fn canonical_search(state: State<'_, AppState>, question: String, layer: Layer) -> Reply<Vec<CanonicalHit>> {
    run(state, move |a| a.canonical_search(None, &question, layer, 5)).await
}

#[tauri::command]
#[specta::specta]
pub async fn canonical_show(state: State<'_, AppState>, id: i64) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.canonical_show(id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn canonical_add_variant(state: State<'_, AppState>, id: i64, text: String) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.canonical_add_variant(id, &text)).await
}

#[tauri::command]
#[specta::specta]
pub async fn canonical_delete(state: State<'_, AppState>, id: i64) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.canonical_delete(id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn metrics(state: State<'_, AppState>, days: u32) -> Reply<Metrics> {
    run(state, move |a| a.metrics(None, days)).await
}

/// The decision log, filterable by path and fan.
#[tauri::command]
#[specta::specta]
pub async fn decisions(
    state: State<'_, AppState>,
    path: Option<RoutePath>,
    fan: Option<String>,
    limit: Option<usize>,
) -> Reply<Vec<Decision>> {
    run(state, move |a| a.decisions(None, path, fan.as_deref(), limit.unwrap_or(100))).await
}

#[tauri::command]
#[specta::specta]
pub async fn rules(state: State<'_, AppState>) -> Reply<AgentConfig> {
    run(state, |a| a.rules(None)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_rules(state: State<'_, AppState>, rules: AgentConfig) -> Reply<AgentConfig> {
    run(state, move |a| a.set_rules(None, &rules)).await
}

/// The policy file's text (empty when there is none yet).
#[tauri::command]
#[specta::specta]
pub async fn policy_text(state: State<'_, AppState>) -> Reply<String> {
    run(state, |a| a.policy_text(None)).await
}

/// One decision with its signals and trace.
#[tauri::command]
#[specta::specta]
pub async fn decision(state: State<'_, AppState>, id: i64) -> Reply<Decision> {
    run(state, move |a| a.decision(id)).await
}

/// Save the policy file; a validation error names the line and the field.
#[tauri::command]
#[specta::specta]
pub async fn policy_save(state: State<'_, AppState>, text: String) -> Reply<()> {
    run(state, move |a| {
        let agent = a.agent(None)?;
        a.policy_save(&agent.name, &text).map(|_| ())
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn fans(state: State<'_, AppState>) -> Reply<Vec<Fan>> {
    run(state, |a| a.fans()).await
}

#[tauri::command]
#[specta::specta]
pub async fn fan_add(state: State<'_, AppState>, handle: String, tier: Tier, layer: Layer) -> Reply<Fan> {
    run(state, move |a| a.fan_add(&handle, tier, layer)).await
}

#[tauri::command]
#[specta::specta]
pub async fn providers(state: State<'_, AppState>) -> Reply<Vec<ProviderInfo>> {
    run(state, |a| a.providers()).await
}

/// Add a provider; its key (if any) goes to the OS keychain, never to the database.
#[tauri::command]
#[specta::specta]
#[allow(clippy::too_many_arguments)]
pub async fn provider_add(state: State<'_, AppState>, provider: NewProvider) -> Reply<ProviderInfo> {
    run(state, move |a| a.provider_add(&provider)).await
}

#[tauri::command]
#[specta::specta]
pub async fn provider_remove(state: State<'_, AppState>, name: String) -> Reply<String> {
    run(state, move |a| a.provider_remove(&name).map(|p| p.name)).await
}

/// Move a provider in the fallback order.
#[tauri::command]
#[specta::specta]
pub async fn provider_set_priority(state: State<'_, AppState>, name: String, priority: i64) -> Reply<ProviderInfo> {
    run(state, move |a| a.provider_set_priority(&name, priority)).await
}

#[tauri::command]
#[specta::specta]
pub async fn provider_test(state: State<'_, AppState>, name: String) -> Reply<ProviderTest> {
    run(state, move |a| a.provider_test(&name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn setup_status(state: State<'_, AppState>) -> Reply<SetupStatus> {
    run(state, |a| a.setup_status(None)).await
}

/// First run: the name fans see and the voice of the answers.
#[tauri::command]
#[specta::specta]
pub async fn setup_profile(state: State<'_, AppState>, display_name: String, persona: String) -> Reply<SetupStatus> {
    run(state, move |a| a.setup_profile(None, &display_name, &persona)).await
}

#[tauri::command]
#[specta::specta]
pub async fn finish_setup(state: State<'_, AppState>) -> Reply<SetupStatus> {
    run(state, |a| a.finish_setup(None)).await
}

/// Import files and folders at a layer; progress goes to `on_progress` file by file.
#[tauri::command]
#[specta::specta]
pub async fn import(
    state: State<'_, AppState>,
    paths: Vec<String>,
    layer: Layer,
    on_progress: Channel<ImportProgress>,
) -> Reply<ImportSummary> {
    run(state, move |a| {
        let paths: Vec<_> = paths.iter().map(std::path::PathBuf::from).collect();
        a.import(None, &paths, layer, &mut |e| drop(on_progress.send(e.progress())))
    })
    .await
}

/// Import a document again from its file.
#[tauri::command]
#[specta::specta]
pub async fn document_reimport(
    state: State<'_, AppState>,
    id: i64,
    on_progress: Channel<ImportProgress>,
) -> Reply<ImportSummary> {
    run(state, move |a| a.reimport_document(None, id, &mut |e| drop(on_progress.send(e.progress())))).await
}

#[tauri::command]
#[specta::specta]
pub async fn document_delete(state: State<'_, AppState>, id: i64) -> Reply<DocumentRecord> {
    run(state, move |a| a.delete_document(None, &DocumentRef::Id(id))).await
}

/// A piece of a streamed draft: more text, or "start again" (a provider failed midway
/// and the next one takes over).
#[derive(Clone, Serialize, specta::Type)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum DraftEvent {
    Token(String),
    Restart,
}

/// "Draft with AI": stream a draft answer to a queued question.
#[tauri::command]
#[specta::specta]
pub async fn queue_draft(state: State<'_, AppState>, id: i64, on_event: Channel<DraftEvent>) -> Reply<Draft> {
    run(state, move |a| {
        a.queue_draft(id, &mut |e| {
            let _ = on_event.send(match e {
                StreamEvent::Token(t) => DraftEvent::Token(t.to_string()),
                StreamEvent::Restart => DraftEvent::Restart,
            });
        })
    })
    .await
}

/// Edit a canonical answer's text and/or change its layer.
#[tauri::command]
#[specta::specta]
pub async fn canonical_update(
    state: State<'_, AppState>,
    id: i64,
    answer: Option<String>,
    layer: Option<Layer>,
) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.canonical_update(id, answer.as_deref(), layer)).await
}

/// Merge the duplicate `from` into `into`.
#[tauri::command]
#[specta::specta]
pub async fn canonical_merge(state: State<'_, AppState>, into: i64, from: i64) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.canonical_merge(into, from)).await
}

/// "Take messages from the web on this computer": the switch and the server's state.
#[tauri::command]
#[specta::specta]
pub async fn web_status(state: State<'_, AppState>, web: State<'_, WebState>) -> Reply<WebStatus> {
    let setting = run(state, |a| a.web_serving()).await?;
    Ok(web.0.status(setting).await)
}

/// Turn taking messages from the web on or off: the hub starts or stops in the app.
#[tauri::command]
#[specta::specta]
pub async fn web_set(state: State<'_, AppState>, web: State<'_, WebState>, on: bool) -> Reply<WebStatus> {
    let app = state.0.clone();
    let setting = run(state, move |a| a.set_web_serving(on)).await?;
    Ok(web.0.apply(app, setting).await)
}

/// The daily backup's folder, how many are kept, the newest.
#[tauri::command]
#[specta::specta]
pub async fn auto_backup(state: State<'_, AppState>) -> Reply<AutoBackup> {
    run(state, |a| a.auto_backup()).await
}

/// Back up daily into `folder` (none: off), keeping the newest `keep`.
#[tauri::command]
#[specta::specta]
pub async fn auto_backup_set(state: State<'_, AppState>, folder: Option<String>, keep: u32) -> Reply<AutoBackup> {
    run(state, move |a| a.set_auto_backup(folder.as_deref(), keep)).await
}

/// Back up now into the daily backup's folder.
#[tauri::command]
#[specta::specta]
pub async fn backup_now(state: State<'_, AppState>) -> Reply<BackupReport> {
    run(state, |a| a.backup_now()).await
}

/// Where sync with the hub stands (the header polls it).
#[tauri::command]
#[specta::specta]
pub async fn sync_view(state: State<'_, AppState>, sync: State<'_, Syncing>) -> Reply<SyncView> {
    sync.0.view(&state.0).map_err(|e| e.body())
}

/// Pair with a hub (its address and a code from `fanline hub pair`), then sync.
#[tauri::command]
#[specta::specta]
pub async fn sync_pair(
    state: State<'_, AppState>,
    sync: State<'_, Syncing>,
    url: String,
    code: String,
    name: String,
) -> Reply<SyncView> {
    let app = state.0.clone();
    app.sync_pair(&url, &code, &name).await.map_err(|e| e.body())?;
    sync.0.start(app.clone());
    sync.0.view(&app).map_err(|e| e.body())
}

/// Sync now.
#[tauri::command]
#[specta::specta]
pub async fn sync_now(state: State<'_, AppState>, sync: State<'_, Syncing>) -> Reply<SyncView> {
    sync.0.now(&state.0).await.map_err(|e| e.body())
}

/// Stop syncing with the hub (what is here stays).
#[tauri::command]
#[specta::specta]
pub async fn sync_unpair(state: State<'_, AppState>, sync: State<'_, Syncing>) -> Reply<SyncView> {
    sync.0.stop();
    run(state.clone(), |a| a.sync_unpair()).await?;
    sync.0.view(&state.0).map_err(|e| e.body())
}

/// Answers and edits of two devices that met, kept for the creator.
#[tauri::command]
#[specta::specta]
pub async fn sync_conflicts(state: State<'_, AppState>) -> Reply<Vec<Conflict>> {
    run(state, |a| a.sync_conflicts()).await
}

/// Settle a conflict (keep, correction, variant, restore); the choice goes to the hub.
#[tauri::command]
#[specta::specta]
pub async fn sync_resolve(
    state: State<'_, AppState>,
    sync: State<'_, Syncing>,
    uid: String,
    choice: String,
) -> Reply<SyncView> {
    run(state.clone(), move |a| a.sync_resolve(&uid, &choice)).await?;
    match state.0.sync_paired() {
        Ok(true) => sync.0.now(&state.0).await.map_err(|e| e.body()),
        _ => sync.0.view(&state.0).map_err(|e| e.body()),
    }
}

/// Content gaps: unanswered questions grouped by meaning, most fans first.
#[tauri::command]
#[specta::specta]
pub async fn gaps(state: State<'_, AppState>, days: u32) -> Reply<Vec<Gap>> {
    run(state, move |a| a.gaps(None, days, 20)).await
}

/// Write a canonical answer (from a content gap: its questions as the phrasings).
#[tauri::command]
#[specta::specta]
pub async fn canonical_add(state: State<'_, AppState>, input: NewCanonicalInput) -> Reply<CanonicalAnswer> {
    run(state, move |a| a.canonical_add(None, &input)).await
}

//! The admin API (`/admin/v1`) for the creator's devices: the queue, canonical answers,
//! rules, the policy file, metrics, decisions with their traces, documents, fan
//! invites. The same JSON shapes as the desktop app's commands (the same core types).
//! Every handler checks the device's scope, then calls one use case.

use crate::auth::Device;
use crate::error::{blocking, ApiResult};
use crate::limits::Json;
use crate::state::Hub;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fanline_core::hub::Scope;
use fanline_core::{DocumentRef, NewCanonicalInput};
use fanline_engine::{AgentConfig, Layer, RoutePath, Tier};
use serde::Deserialize;

/// Which agent (the configured one when not named).
#[derive(Deserialize, Default)]
pub struct AgentQ {
    pub agent: Option<String>,
}

macro_rules! handler {
    ($hub:expr, $dev:expr, $scope:expr, |$app:ident| $body:expr) => {{
        $dev.0.require($scope)?;
        let $app = $hub.app.clone();
        blocking(move || $body).await.map(axum::Json)
    }};
}

#[utoipa::path(get, path = "/admin/v1/queue", tag = "admin", params(("agent" = Option<String>, Query, description = "The agent")),
    responses((status = 200, description = "The creator's queue, by priority and age")), security(("device_token" = [])))]
pub async fn queue(State(hub): State<Hub>, dev: Device, Query(q): Query<AgentQ>) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app.queue(q.agent.as_deref(), 500))
}

/// An answer to a queued question.
#[derive(Deserialize)]
pub struct Answer {
    pub text: String,
    #[serde(default)]
    pub layer: Option<Layer>,
}

#[utoipa::path(post, path = "/admin/v1/queue/{id}/answer", tag = "admin", params(("id" = i64, Path, description = "The escalation")),
    request_body(content = Object, description = "{text, layer?}"),
    responses((status = 200, description = "The canonical answer created"), (status = 409, description = "Not queued")),
    security(("device_token" = [])))]
pub async fn answer(
    State(hub): State<Hub>,
    dev: Device,
    Path(id): Path<i64>,
    Json(a): Json<Answer>,
) -> ApiResult<impl IntoResponse> {
    let r = handler!(hub, dev, Scope::Admin, |app| app.queue_answer(id, &a.text, a.layer.unwrap_or(Layer::Public)));
    hub.notify(0);
    r
}

#[utoipa::path(get, path = "/admin/v1/queue/groups", tag = "admin", params(("agent" = Option<String>, Query, description = "The agent")),
    responses((status = 200, description = "The queue in groups of questions that ask the same thing")), security(("device_token" = [])))]
pub async fn queue_groups(
    State(hub): State<Hub>,
    dev: Device,
    Query(q): Query<AgentQ>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app.queue_groups(q.agent.as_deref(), 500))
}

/// One answer for a group of queued questions.
#[derive(Deserialize)]
pub struct GroupAnswer {
    pub ids: Vec<i64>,
    pub text: String,
    #[serde(default)]
    pub layer: Option<Layer>,
}

#[utoipa::path(post, path = "/admin/v1/queue/groups/answer", tag = "admin",
    request_body(content = Object, description = "{ids, text, layer?}"),
    responses((status = 200, description = "The canonical answer created; every fan of the group is told"),
        (status = 422, description = "One of them is not queued (nothing answered)")),
    security(("device_token" = [])))]
pub async fn answer_group(
    State(hub): State<Hub>,
    dev: Device,
    Json(a): Json<GroupAnswer>,
) -> ApiResult<impl IntoResponse> {
    let r = handler!(hub, dev, Scope::Admin, |app| app.queue_answer_group(
        &a.ids,
        &a.text,
        a.layer.unwrap_or(Layer::Public)
    ));
    hub.notify(0);
    r
}

/// An existing answer to attach a queued question to.
#[derive(Deserialize)]
pub struct Attach {
    pub canonical_id: i64,
}

#[utoipa::path(post, path = "/admin/v1/queue/{id}/attach", tag = "admin", params(("id" = i64, Path, description = "The escalation")),
    request_body(content = Object, description = "{canonical_id}"), responses((status = 200, description = "The canonical answer")),
    security(("device_token" = [])))]
pub async fn attach(
    State(hub): State<Hub>,
    dev: Device,
    Path(id): Path<i64>,
    Json(a): Json<Attach>,
) -> ApiResult<impl IntoResponse> {
    let r = handler!(hub, dev, Scope::Admin, |app| app.queue_attach(id, a.canonical_id));
    hub.notify(0);
    r
}

#[utoipa::path(post, path = "/admin/v1/queue/{id}/decline", tag = "admin", params(("id" = i64, Path, description = "The escalation")),
    responses((status = 200, description = "The escalation")), security(("device_token" = [])))]
pub async fn decline(State(hub): State<Hub>, dev: Device, Path(id): Path<i64>) -> ApiResult<impl IntoResponse> {
    let r = handler!(hub, dev, Scope::Admin, |app| app.queue_decline(id));
    hub.notify(0);
    r
}

/// How long to put a question aside.
#[derive(Deserialize)]
pub struct Defer {
    pub hours: u32,
}

#[utoipa::path(post, path = "/admin/v1/queue/{id}/defer", tag = "admin", params(("id" = i64, Path, description = "The escalation")),
    request_body(content = Object, description = "{hours}"), responses((status = 200, description = "The escalation")),
    security(("device_token" = [])))]
pub async fn defer(
    State(hub): State<Hub>,
    dev: Device,
    Path(id): Path<i64>,
    Json(d): Json<Defer>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| app.queue_defer(id, d.hours))
}

#[utoipa::path(get, path = "/admin/v1/canonical", tag = "admin", params(("agent" = Option<String>, Query, description = "The agent")),
    responses((status = 200, description = "The canonical answers")), security(("device_token" = [])))]
pub async fn canonical_list(
    State(hub): State<Hub>,
    dev: Device,
    Query(q): Query<AgentQ>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app.canonical_list(q.agent.as_deref()))
}

/// A canonical answer to add.
#[derive(Deserialize)]
pub struct NewAnswer {
    pub question: String,
    pub answer: String,
    #[serde(default)]
    pub variants: Vec<String>,
    #[serde(default)]
    pub layer: Option<Layer>,
}

#[utoipa::path(post, path = "/admin/v1/canonical", tag = "admin", request_body(content = Object, description = "{question, answer, variants?, layer?}"),
    responses((status = 201, description = "The canonical answer")), security(("device_token" = [])))]
pub async fn canonical_add(
    State(hub): State<Hub>,
    dev: Device,
    Query(q): Query<AgentQ>,
    Json(n): Json<NewAnswer>,
) -> ApiResult<impl IntoResponse> {
    let input = NewCanonicalInput {
        question: n.question,
        answer: n.answer,
        variants: n.variants,
        layer: n.layer.unwrap_or(Layer::Public),
    };
    let r = handler!(hub, dev, Scope::Admin, |app| app.canonical_add(q.agent.as_deref(), &input))?;
    Ok((StatusCode::CREATED, r))
}

#[utoipa::path(get, path = "/admin/v1/canonical/{id}", tag = "admin", params(("id" = i64, Path, description = "The answer")),
    responses((status = 200, description = "The canonical answer with its phrasings"), (status = 404, description = "None")),
    security(("device_token" = [])))]
pub async fn canonical_show(State(hub): State<Hub>, dev: Device, Path(id): Path<i64>) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app.canonical_show(id))
}

/// A change to a canonical answer.
#[derive(Deserialize)]
pub struct Edit {
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub layer: Option<Layer>,
}

#[utoipa::path(patch, path = "/admin/v1/canonical/{id}", tag = "admin", params(("id" = i64, Path, description = "The answer")),
    request_body(content = Object, description = "{answer?, layer?}"), responses((status = 200, description = "The canonical answer")),
    security(("device_token" = [])))]
pub async fn canonical_edit(
    State(hub): State<Hub>,
    dev: Device,
    Path(id): Path<i64>,
    Json(e): Json<Edit>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| app.canonical_update(id, e.answer.as_deref(), e.layer))
}

#[utoipa::path(delete, path = "/admin/v1/canonical/{id}", tag = "admin", params(("id" = i64, Path, description = "The answer")),
    responses((status = 200, description = "The canonical answer deleted")), security(("device_token" = [])))]
pub async fn canonical_delete(
    State(hub): State<Hub>,
    dev: Device,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| app.canonical_delete(id))
}

/// A phrasing to add.
#[derive(Deserialize)]
pub struct Variant {
    pub text: String,
}

#[utoipa::path(post, path = "/admin/v1/canonical/{id}/variants", tag = "admin", params(("id" = i64, Path, description = "The answer")),
    request_body(content = Object, description = "{text}"), responses((status = 200, description = "The canonical answer")),
    security(("device_token" = [])))]
pub async fn canonical_variant(
    State(hub): State<Hub>,
    dev: Device,
    Path(id): Path<i64>,
    Json(v): Json<Variant>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| app.canonical_add_variant(id, &v.text))
}

/// The duplicate to merge in.
#[derive(Deserialize)]
pub struct Merge {
    pub from: i64,
}

#[utoipa::path(post, path = "/admin/v1/canonical/{id}/merge", tag = "admin", params(("id" = i64, Path, description = "The answer kept")),
    request_body(content = Object, description = "{from}"), responses((status = 200, description = "The canonical answer kept")),
    security(("device_token" = [])))]
pub async fn canonical_merge(
    State(hub): State<Hub>,
    dev: Device,
    Path(id): Path<i64>,
    Json(m): Json<Merge>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| app.canonical_merge(id, m.from))
}

#[utoipa::path(get, path = "/admin/v1/config", tag = "admin", params(("agent" = Option<String>, Query, description = "The agent")),
    responses((status = 200, description = "The agent's rules")), security(("device_token" = [])))]
pub async fn config_get(State(hub): State<Hub>, dev: Device, Query(q): Query<AgentQ>) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app.rules(q.agent.as_deref()))
}

#[utoipa::path(put, path = "/admin/v1/config", tag = "admin", params(("agent" = Option<String>, Query, description = "The agent")),
    request_body(content = Object, description = "The rules, whole"), responses((status = 200, description = "The rules as stored")),
    security(("device_token" = [])))]
pub async fn config_put(
    State(hub): State<Hub>,
    dev: Device,
    Query(q): Query<AgentQ>,
    Json(rules): Json<AgentConfig>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| app.set_rules(q.agent.as_deref(), &rules))
}

#[utoipa::path(get, path = "/admin/v1/policy", tag = "admin", params(("agent" = Option<String>, Query, description = "The agent")),
    responses((status = 200, description = "The policy file's text")), security(("device_token" = [])))]
pub async fn policy_get(State(hub): State<Hub>, dev: Device, Query(q): Query<AgentQ>) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app
        .policy_text(q.agent.as_deref())
        .map(|text| serde_json::json!({ "text": text })))
}

/// A policy file's new text.
#[derive(Deserialize)]
pub struct PolicyText {
    pub text: String,
}

#[utoipa::path(put, path = "/admin/v1/policy", tag = "admin", params(("agent" = Option<String>, Query, description = "The agent")),
    request_body(content = Object, description = "{text}"),
    responses((status = 200, description = "The policy in force"), (status = 422, description = "Invalid, with the line")),
    security(("device_token" = [])))]
pub async fn policy_put(
    State(hub): State<Hub>,
    dev: Device,
    Query(q): Query<AgentQ>,
    Json(p): Json<PolicyText>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| {
        let agent = app.agent(q.agent.as_deref())?;
        app.policy_save(&agent.name, &p.text)
    })
}

/// A period.
#[derive(Deserialize)]
pub struct Days {
    pub agent: Option<String>,
    #[serde(default)]
    pub days: Option<u32>,
}

#[utoipa::path(get, path = "/admin/v1/metrics", tag = "admin", params(("days" = Option<u32>, Query, description = "Days (7)")),
    responses((status = 200, description = "The metrics")), security(("device_token" = [])))]
pub async fn metrics(State(hub): State<Hub>, dev: Device, Query(q): Query<Days>) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app.metrics(q.agent.as_deref(), q.days.unwrap_or(7)))
}

/// A filter on the decision log.
#[derive(Deserialize)]
pub struct DecisionsQ {
    pub agent: Option<String>,
    pub path: Option<RoutePath>,
    pub fan: Option<String>,
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/admin/v1/decisions", tag = "admin",
    params(("path" = Option<String>, Query, description = "A-F"), ("fan" = Option<String>, Query, description = "A fan"),
           ("limit" = Option<usize>, Query, description = "At most (100)")),
    responses((status = 200, description = "Decisions with their traces, newest first")), security(("device_token" = [])))]
pub async fn decisions(
    State(hub): State<Hub>,
    dev: Device,
    Query(q): Query<DecisionsQ>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app.decisions(
        q.agent.as_deref(),
        q.path,
        q.fan.as_deref(),
        q.limit.unwrap_or(100).min(1000)
    ))
}

#[utoipa::path(get, path = "/admin/v1/decisions/{id}", tag = "admin", params(("id" = i64, Path, description = "The decision")),
    responses((status = 200, description = "The decision with its trace")), security(("device_token" = [])))]
pub async fn decision(State(hub): State<Hub>, dev: Device, Path(id): Path<i64>) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app.decision(id))
}

#[utoipa::path(get, path = "/admin/v1/documents", tag = "admin", responses((status = 200, description = "The documents")),
    security(("device_token" = [])))]
pub async fn documents(State(hub): State<Hub>, dev: Device, Query(q): Query<AgentQ>) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Read, |app| app.documents(q.agent.as_deref()))
}

/// Where an uploaded document goes.
#[derive(Deserialize)]
pub struct Upload {
    pub agent: Option<String>,
    /// Its file name (the format comes from its extension).
    pub name: String,
    #[serde(default)]
    pub layer: Option<Layer>,
}

#[utoipa::path(post, path = "/admin/v1/documents", tag = "admin",
    params(("name" = String, Query, description = "File name (.md .txt .html .pdf)"), ("layer" = Option<String>, Query, description = "public, friends or intimate")),
    request_body(content = Vec<u8>, description = "The file's bytes", content_type = "application/octet-stream"),
    responses((status = 200, description = "The import's summary")), security(("device_token" = [])))]
pub async fn upload(
    State(hub): State<Hub>,
    dev: Device,
    Query(u): Query<Upload>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| app.import_upload(
        u.agent.as_deref(),
        &u.name,
        &body,
        u.layer.unwrap_or(Layer::Public)
    ))
}

#[utoipa::path(delete, path = "/admin/v1/documents/{id}", tag = "admin", params(("id" = i64, Path, description = "The document")),
    responses((status = 200, description = "The document deleted")), security(("device_token" = [])))]
pub async fn document_delete(
    State(hub): State<Hub>,
    dev: Device,
    Path(id): Path<i64>,
    Query(q): Query<AgentQ>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| app.delete_document(q.agent.as_deref(), &DocumentRef::Id(id)))
}

/// A what-if replay: rule changes and another policy, over the last `days`.
#[derive(Deserialize)]
pub struct ReplayReq {
    #[serde(default = "thirty")]
    pub days: u32,
    /// Rules changed, as `fanline config set` takes them: `{"max_escalations_per_day": "3"}`.
    #[serde(default)]
    pub set: std::collections::BTreeMap<String, String>,
    /// Another policy file's text.
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
}

fn thirty() -> u32 {
    30
}

#[utoipa::path(post, path = "/admin/v1/replay", tag = "admin",
    request_body(content = Object, description = "{days?, set?: {rule: value}, policy?: policy file text}"),
    responses((status = 200, description = "What would change: paths A–F, the matrix, the caps, examples; nothing is written")),
    security(("device_token" = [])))]
pub async fn replay(State(hub): State<Hub>, dev: Device, Json(r): Json<ReplayReq>) -> ApiResult<impl IntoResponse> {
    let change = fanline_core::replay::RuleChange {
        label: "change".into(),
        set: r.set.into_iter().collect(),
        policy: None,
        policy_text: r.policy,
    };
    handler!(hub, dev, Scope::Read, |app| app.replay(r.agent.as_deref(), r.days, &[change], &mut |_, _| {}))
}

/// An inbox to bring in.
#[derive(Deserialize)]
pub struct InboxQ {
    /// The file's name: its kind (`inbox.csv`, `dm.json`).
    pub name: String,
    #[serde(default)]
    pub layer: Option<Layer>,
    #[serde(default)]
    pub question_column: Option<String>,
    #[serde(default)]
    pub answer_column: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
}

#[utoipa::path(post, path = "/admin/v1/inbox", tag = "admin",
    params(("name" = String, Query, description = "File name (.csv or .json)"), ("layer" = Option<String>, Query, description = "public, friends or intimate")),
    request_body(content = String, description = "The CSV or JSON export: past questions with the creator's replies", content_type = "text/csv"),
    responses((status = 200, description = "What was created, merged, skipped and suggested for a merge")),
    security(("device_token" = [])))]
pub async fn inbox(
    State(hub): State<Hub>,
    dev: Device,
    Query(q): Query<InboxQ>,
    body: String,
) -> ApiResult<impl IntoResponse> {
    let columns = fanline_core::inbox::Columns { question: q.question_column, answer: q.answer_column, fan: None };
    handler!(hub, dev, Scope::Admin, |app| app.import_inbox_text(
        q.agent.as_deref(),
        &q.name,
        &body,
        &columns,
        q.layer.unwrap_or(Layer::Public),
        &mut |_, _| {}
    ))
}

/// An invite to make.
#[derive(Deserialize)]
pub struct InviteReq {
    pub handle: String,
    pub tier: Tier,
    pub layer: Layer,
    #[serde(default)]
    pub days: Option<u32>,
}

#[utoipa::path(post, path = "/admin/v1/fan-invites", tag = "admin", request_body(content = Object, description = "{handle, tier, layer, days?}"),
    responses((status = 200, description = "The invite link")), security(("device_token" = [])))]
pub async fn invite(
    State(hub): State<Hub>,
    dev: Device,
    Query(q): Query<AgentQ>,
    Json(i): Json<InviteReq>,
) -> ApiResult<impl IntoResponse> {
    handler!(hub, dev, Scope::Admin, |app| app.fan_invite(q.agent.as_deref(), &i.handle, i.tier, i.layer, i.days))
}

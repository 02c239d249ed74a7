//! A device's side of sync: pair with a hub, push the outbox, pull the hub's log,
//! report where it stands, and compare digests.

use super::token;
use crate::{Error, ErrorBody, Fanline, Result};
use fanline_store::{Incoming, RulesData};
use fanline_sync::{
    entity, CanonicalData, ConflictData, DecisionData, DeviceState, Digest, DocumentData, EscalationData, Hlc,
    MessageData, Outcome, Page, PushReply, PushRequest, Record, MAX_PUSH, SCHEMA_VERSION,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

/// Where this device stands with its hub.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncStatus {
    /// The hub's address, when paired.
    pub hub: Option<String>,
    /// This device's name on the hub.
    pub device: String,
    /// Changes made here not yet on the hub.
    pub pending: u32,
    /// The hub's log is applied through here.
    pub pulled_after: i64,
    /// Conflicts not yet settled.
    pub open_conflicts: u32,
}

/// What one sync did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncReport {
    /// Changes pushed, by outcome.
    pub applied: u32,
    /// Already on the hub (a retry).
    pub duplicates: u32,
    /// Lost to another device's (kept as conflicts).
    pub conflicts: u32,
    /// Refused, with the hub's reasons.
    pub rejected: Vec<String>,
    /// Records pulled and applied.
    pub pulled: u32,
    /// Kept aside for a newer build.
    pub deferred: u32,
    /// The cursor after the pull.
    pub pulled_after: i64,
}

/// What `sync verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verify {
    /// Every table agrees.
    pub equal: bool,
    /// The tables that differ, with both sides' row counts.
    pub differ: Vec<String>,
    /// This device's digests.
    pub local: Digest,
    /// The hub's.
    pub hub: Digest,
}

#[derive(Deserialize)]
struct Wire {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct Paired {
    token: String,
}

/// The hub, reached with this device's token.
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

fn unreachable(base: &str, e: impl std::error::Error) -> Error {
    // reqwest's message is the outermost cause only ("error sending request"): say why.
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    Error::Hub(format!("the hub at {base} could not be reached ({why}); changes stay here and go at the next sync"))
}

impl Client {
    /// A client for the hub at `base` (rustls; `ca_file` adds authorities to trust).
    pub(crate) fn new(base: &str, token: String, ca_file: &std::path::Path) -> Result<Client> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120));
        if !ca_file.as_os_str().is_empty() {
            let pem = std::fs::read(ca_file)
                .map_err(|e| Error::Io { path: ca_file.to_path_buf(), detail: format!("sync.ca_file: {e}") })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::Io {
                path: ca_file.to_path_buf(),
                detail: format!("sync.ca_file is not a PEM of certificates: {e}"),
            })?;
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(|e| unreachable(base, e))?;
        Ok(Client { http, base: base.trim_end_matches('/').to_string(), token })
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T> {
        let r = req.bearer_auth(&self.token).send().await.map_err(|e| unreachable(&self.base, e))?;
        read(&self.base, r).await
    }

    async fn push(&self, req: &PushRequest) -> Result<PushReply> {
        self.send(self.http.post(format!("{}/sync/v1/push", self.base)).json(req)).await
    }

    async fn changes(&self, after: i64, limit: usize) -> Result<Page> {
        self.send(self.http.get(format!("{}/sync/v1/changes?after={after}&limit={limit}", self.base))).await
    }

    async fn state(&self) -> Result<DeviceState> {
        self.send(self.http.get(format!("{}/sync/v1/state", self.base))).await
    }

    async fn digest(&self) -> Result<Digest> {
        self.send(self.http.get(format!("{}/sync/v1/digest", self.base))).await
    }

    async fn rows(&self, table: &str) -> Result<std::collections::BTreeMap<String, String>> {
        self.send(self.http.get(format!("{}/sync/v1/digest/{table}", self.base))).await
    }

    /// The hub's poke stream (an event whenever its log moves).
    pub(crate) async fn stream(&self) -> Result<reqwest::Response> {
        let r = self
            .http
            .get(format!("{}/sync/v1/stream", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(24 * 3600))
            .send()
            .await
            .map_err(|e| unreachable(&self.base, e))?;
        match r.status().is_success() {
            true => Ok(r),
            false => read::<serde_json::Value>(&self.base, r).await.map(|_| unreachable!()),
        }
    }
}

/// A hub's answer: its JSON, or its `{error}` as this crate's error.
async fn read<T: DeserializeOwned>(base: &str, r: reqwest::Response) -> Result<T> {
    let status = r.status();
    let bytes = r.bytes().await.map_err(|e| unreachable(base, e))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|e| Error::Hub(format!("the hub at {base} answered something unreadable: {e}")));
    }
    let Ok(Wire { error }) = serde_json::from_slice::<Wire>(&bytes) else {
        return Err(Error::Hub(format!("the hub at {base} answered {status}")));
    };
    use crate::ErrorCode as C;
    Err(match error.code {
        C::Unauthorized | C::Forbidden => Error::Unauthorized(format!(
            "the hub refused this device: {} (pair it again: fanline hub pair URL CODE)",
            error.message
        )),
        C::ClockAhead => Error::ClockAhead(error.message),
        C::SyncGap => Error::SyncGap(error.message),
        C::InvalidInput => Error::InvalidInput(error.message),
        _ => Error::Hub(format!("the hub at {base} failed: {} ({})", error.message, error.code)),
    })
}

fn to_json<T: Serialize>(v: Option<T>) -> serde_json::Value {
    v.map(|v| serde_json::to_value(v).unwrap_or_default()).unwrap_or_default()
}

fn parse_hlc(s: &str) -> Option<Hlc> {
    s.parse().ok()
}

impl Fanline {
    /// Pair this device with the hub at `url` using a code from `fanline hub pair` on
    /// the hub. The token goes to the OS keychain; from now on the changes made here
    /// are queued for the hub, and offers are accepted on the hub only.
    pub async fn sync_pair(&self, url: &str, code: &str, name: &str) -> Result<SyncStatus> {
        let base = url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::InvalidInput(format!("{url:?} is not a hub address (http://… or https://…)")));
        }
        let anon = Client::new(&base, String::new(), &self.config.sync.ca_file)?;
        let r = anon
            .http
            .post(format!("{base}/pair"))
            .json(&serde_json::json!({ "code": code.trim(), "name": name }))
            .send()
            .await
            .map_err(|e| unreachable(&base, e))?;
        let paired: Paired = read(&base, r).await?;
        token::save(&self.config.data_dir, &paired.token)?;
        self.store.sync_pair(&base, name)?;
        self.sync_status()
    }

    /// Forget the hub (the token is removed; what is here stays).
    pub fn sync_unpair(&self) -> Result<()> {
        token::forget(&self.config.data_dir);
        Ok(self.store.sync_unpair()?)
    }

    /// Where this device stands.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let pos = self.store.sync_position()?;
        let hub = self.store.sync_hub()?;
        let open = self.store.open_conflicts()?;
        Ok(SyncStatus {
            device: hub.as_ref().map(|h| h.1.clone()).unwrap_or_default(),
            hub: hub.map(|h| h.0),
            pending: pos.pending as u32,
            pulled_after: pos.pulled_after,
            open_conflicts: open as u32,
        })
    }

    /// Whether this device syncs with a hub (then offers are accepted there).
    pub fn sync_paired(&self) -> Result<bool> {
        Ok(self.store.sync_hub()?.is_some())
    }

    pub(crate) fn sync_client(&self) -> Result<Client> {
        let (url, _) = self.store.sync_hub()?.ok_or_else(|| {
            Error::InvalidInput("this device is not paired with a hub: fanline hub pair URL CODE".into())
        })?;
        let token = token::load(&self.config.data_dir)?
            .ok_or_else(|| Error::Unauthorized("this device has no token for its hub: pair it again".into()))?;
        Client::new(&url, token, &self.config.sync.ca_file)
    }

    /// Push what changed here, then pull what changed on the hub, until both are done.
    /// Safe to interrupt at any point: what the hub confirmed leaves the outbox, and
    /// the cursor moves only with the page it covers.
    pub async fn sync_once(&self) -> Result<SyncReport> {
        let client = self.sync_client()?;
        let mut report = SyncReport::default();
        self.sync_push_all(&client, &mut report).await?;
        self.sync_pull_all(&client, &mut report).await?;
        Ok(report)
    }

    /// Push what changed here (only).
    pub async fn sync_push(&self) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        self.sync_push_all(&self.sync_client()?, &mut report).await?;
        Ok(report)
    }

    /// Pull what changed on the hub (only).
    pub async fn sync_pull(&self) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        self.sync_pull_all(&self.sync_client()?, &mut report).await?;
        Ok(report)
    }

    async fn sync_push_all(&self, client: &Client, report: &mut SyncReport) -> Result<()> {
        loop {
            let Some(first) = self.store.sync_position()?.first_pending else { return Ok(()) };
            let changes = self.push_batch(first)?;
            let req = PushRequest { first_seq: first, changes };
            let reply = match client.push(&req).await {
                Err(Error::SyncGap(m)) => {
                    let state = client.state().await?;
                    return Err(Error::SyncGap(format!(
                        "{m}. This device's outbox starts at {first}, the hub has its changes through {}: the hub \
                         lost changes this device no longer holds (was it restored from a backup?)",
                        state.pushed_through
                    )));
                }
                other => other?,
            };
            for r in &reply.results {
                match r.outcome {
                    Outcome::Applied => report.applied += 1,
                    Outcome::Duplicate => report.duplicates += 1,
                    Outcome::Conflict | Outcome::Superseded => report.conflicts += 1,
                    Outcome::Rejected => report.rejected.push(format!("change {}: {}", r.seq, r.detail)),
                }
            }
            if let Some(h) = parse_hlc(&reply.hub_hlc) {
                self.store.hlc_recv(h)?;
            }
            self.store.outbox_done(reply.pushed_through)?;
            if reply.pushed_through < first {
                return Err(Error::Hub("the hub took none of the changes pushed".into()));
            }
        }
    }

    /// The next changes to push from `first`: a document goes with its state as it is
    /// now; a batch stops at `push_batch` changes or about 8 MB (at least one change).
    fn push_batch(&self, first: i64) -> Result<Vec<fanline_sync::Change>> {
        const MAX_BYTES: usize = 8 << 20;
        let mut out = Vec::new();
        let mut bytes = 0;
        for mut c in self.store.outbox(first, self.config.sync.push_batch.clamp(1, MAX_PUSH))? {
            match c.op.as_str() {
                "document_put" => c.payload["document"] = to_json(self.document_record(&c.uid)?),
                "message_add" => {
                    c.payload = serde_json::json!({ "message": to_json(self.store.message_state(&c.uid)?) })
                }
                "decision_add" => {
                    c.payload = serde_json::json!({ "decision": to_json(self.store.decision_state(&c.uid)?) })
                }
                _ => {}
            }
            bytes += super::json_len(&c.payload);
            if !out.is_empty() && bytes > MAX_BYTES {
                break;
            }
            out.push(c);
        }
        Ok(out)
    }

    async fn sync_pull_all(&self, client: &Client, report: &mut SyncReport) -> Result<()> {
        let page_size = self.config.sync.page_size.max(1);
        self.apply_records(self.store.sync_pending()?, None, report)?;
        loop {
            let after = self.store.sync_position()?.pulled_after;
            let page = client.changes(after, page_size).await?;
            if let Some(h) = parse_hlc(&page.hub_hlc) {
                self.store.hlc_recv(h)?;
            }
            let done = page.up_to_date || page.records.is_empty();
            self.apply_records(page.records, Some(page.next_after), report)?;
            report.pulled_after = page.next_after.max(after);
            if done {
                return Ok(());
            }
        }
    }

    /// Apply records (a page, moving the cursor to `next_after`; or records kept
    /// aside earlier) in one transaction.
    fn apply_records(&self, records: Vec<Record>, next_after: Option<i64>, report: &mut SyncReport) -> Result<()> {
        let mut incoming = Vec::with_capacity(records.len());
        let mut replayed = Vec::new();
        for r in records {
            if r.schema_version > SCHEMA_VERSION {
                report.deferred += 1;
                incoming.push(Incoming::Later(r));
                continue;
            }
            if next_after.is_none() {
                replayed.push(r.seq);
            }
            let bad = |e: serde_json::Error| Error::Hub(format!("record {} ({}) is unreadable: {e}", r.seq, r.entity));
            let item = match r.entity.as_str() {
                entity::ESCALATION => Incoming::Escalation(
                    r.uid.clone(),
                    r.data
                        .clone()
                        .map(serde_json::from_value::<EscalationData>)
                        .transpose()
                        .map_err(bad)?
                        .map(Box::new),
                ),
                entity::CANONICAL => {
                    let data = r.data.clone().map(serde_json::from_value::<CanonicalData>).transpose().map_err(bad)?;
                    let vectors = match &data {
                        Some(c) => self.vectors_for(&r.uid, c)?,
                        None => HashMap::new(),
                    };
                    Incoming::Canonical(r.uid.clone(), data, vectors)
                }
                entity::CONFLICT => Incoming::Conflict(
                    r.uid.clone(),
                    r.data.clone().map(serde_json::from_value::<ConflictData>).transpose().map_err(bad)?,
                ),
                entity::MESSAGE if r.data.is_none() => Incoming::MessageGone(r.uid.clone()),
                entity::DECISION if r.data.is_none() => continue,
                entity::MESSAGE => Incoming::Message(
                    r.uid.clone(),
                    Box::new(serde_json::from_value::<MessageData>(r.data.clone().unwrap_or_default()).map_err(bad)?),
                ),
                entity::DECISION => Incoming::Decision(
                    r.uid.clone(),
                    Box::new(serde_json::from_value::<DecisionData>(r.data.clone().unwrap_or_default()).map_err(bad)?),
                ),
                entity::DOCUMENT => {
                    let data = r.data.clone().map(serde_json::from_value::<DocumentData>).transpose().map_err(bad)?;
                    let vectors = match &data {
                        Some(d) => self.document_vectors(d)?,
                        None => HashMap::new(),
                    };
                    Incoming::Document(r.uid.clone(), data.map(Box::new), vectors)
                }
                entity::RULES => {
                    let data = r.data.clone().map(serde_json::from_value::<RulesData>).transpose().map_err(bad)?;
                    // The policy file first: writing it again is harmless if the page
                    // does not apply; the page then applies it to the store.
                    if let Some(text) = data.as_ref().and_then(|d| d.policy.as_deref()) {
                        self.write_policy_file(&r.uid, text)?;
                    }
                    Incoming::Rules(r.uid.clone(), data.map(Box::new))
                }
                _ => {
                    report.deferred += 1;
                    Incoming::Later(r)
                }
            };
            incoming.push(item);
        }
        report.pulled += incoming.len() as u32 - report.deferred.min(incoming.len() as u32);
        match next_after {
            Some(next) => {
                self.write_indexed(false, |s| s.apply_page(&incoming, next).map(|c| ((), c)))?;
            }
            None if !incoming.is_empty() => {
                let at = self.store.sync_position()?.pulled_after;
                self.write_indexed(false, |s| s.apply_page(&incoming, at).map(|c| ((), c)))?;
                self.store.sync_pending_done(&replayed)?;
            }
            None => {}
        }
        self.flush()
    }

    /// Embeddings of the phrasings of `c` this node does not have yet.
    fn vectors_for(&self, uid: &str, c: &CanonicalData) -> Result<HashMap<String, Vec<f32>>> {
        let known = self.store.canonical_texts(uid)?;
        let mut needed: Vec<(String, String)> = std::iter::once(&c.question_pattern)
            .chain(c.variants.iter())
            .filter(|t| !known.contains(t))
            .map(|t| (t.clone(), t.clone()))
            .collect();
        needed.dedup();
        self.take_or_embed(c.vectors.as_ref(), needed)
    }

    /// Compare this device's digests with the hub's, table by table.
    pub async fn sync_verify(&self) -> Result<Verify> {
        let client = self.sync_client()?;
        let hub = client.digest().await?;
        let local = self.sync_digest()?;
        let mut differ = Vec::new();
        for (name, d) in &hub.tables {
            match local.tables.get(name) {
                Some(l) if l == d => {}
                Some(l) => {
                    // Name the rows: only here, only on the hub, different.
                    let (theirs, mine) = (client.rows(name).await?, self.sync_rows(name)?);
                    let list = |keys: Vec<&String>| {
                        let more = keys.len().saturating_sub(5);
                        let shown: Vec<&str> = keys.iter().take(5).map(|k| k.as_str()).collect();
                        format!(
                            "{}{}",
                            shown.join(", "),
                            if more > 0 { format!(" and {more} more") } else { String::new() }
                        )
                    };
                    let only_here: Vec<&String> = mine.keys().filter(|k| !theirs.contains_key(*k)).collect();
                    let only_hub: Vec<&String> = theirs.keys().filter(|k| !mine.contains_key(*k)).collect();
                    let changed: Vec<&String> =
                        mine.iter().filter(|(k, h)| theirs.get(*k).is_some_and(|t| t != *h)).map(|(k, _)| k).collect();
                    let mut what = format!("{name}: {} rows here, {} on the hub", l.rows, d.rows);
                    for (label, keys) in
                        [("only here", only_here), ("only on the hub", only_hub), ("different", changed)]
                    {
                        if !keys.is_empty() {
                            what.push_str(&format!("; {label}: {}", list(keys)));
                        }
                    }
                    differ.push(what);
                }
                None => differ.push(format!("{name}: not here")),
            }
        }
        Ok(Verify { equal: differ.is_empty(), differ, local, hub })
    }

    /// Settle a conflict: keep (as is), correction (send the kept answer to the fan as
    /// a correction), variant (keep it as another answer to the question), restore (an
    /// edit: put the kept value back). On a paired device the choice goes to the hub.
    pub fn sync_resolve(&self, uid: &str, choice: &str) -> Result<()> {
        let Some(c) = self.store.conflict_data(uid)? else {
            return Err(Error::InvalidInput(format!("no conflict {uid} here")));
        };
        let allowed = super::choices(&c.kind);
        if !allowed.contains(&choice) {
            return Err(Error::InvalidInput(format!(
                "{choice:?} does not settle a {} conflict: {}",
                c.kind,
                allowed.join(", ")
            )));
        }
        if self.sync_paired()? {
            self.store.outbox_add(entity::CONFLICT, uid, "resolve", &serde_json::json!({ "choice": choice }))?;
            return Ok(());
        }
        match self.resolve_here(uid, choice)? {
            (Outcome::Rejected, why) => Err(Error::InvalidInput(why)),
            _ => Ok(()),
        }
    }

    /// Sync now and again whenever the hub's log moves (its poke stream), on a timer,
    /// and after the hub comes back; returns only when `stop` resolves.
    pub async fn sync_watch(
        &self,
        every: Duration,
        mut on_report: impl FnMut(Result<SyncReport>),
        stop: impl std::future::Future<Output = ()>,
    ) {
        use futures::StreamExt;
        tokio::pin!(stop);
        loop {
            let result = self.sync_once().await;
            let failed = result.is_err();
            on_report(result);
            let poked = async {
                let Ok(client) = self.sync_client() else { return tokio::time::sleep(every).await };
                match client.stream().await {
                    Ok(r) => {
                        let mut events = eventsource_stream::Eventsource::eventsource(r.bytes_stream());
                        // The first event is the head as the stream opens: wait for a move.
                        let _ = events.next().await;
                        let _ = events.next().await;
                    }
                    // Offline: try again soon.
                    Err(_) => tokio::time::sleep(every.min(Duration::from_secs(5))).await,
                }
            };
            // A change made here goes out within a second (after a failure, within 5 s).
            let changed_here = async {
                if failed {
                    tokio::time::sleep(every.min(Duration::from_secs(5))).await;
                    return;
                }
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if self.store.sync_position().map(|p| p.pending > 0).unwrap_or(false) {
                        return;
                    }
                }
            };
            tokio::select! {
                _ = &mut stop => return,
                _ = poked => {}
                _ = changed_here => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

impl Fanline {
    /// Refuse to accept offers on a device that syncs with a hub: caps are counted
    /// where fans accept, on the hub.
    pub(crate) fn refuse_if_paired(&self) -> Result<()> {
        if self.sync_paired()? {
            return Err(Error::Conflict(
                "this device syncs with a hub: fans accept offers there, where the caps are counted".into(),
            ));
        }
        Ok(())
    }
}

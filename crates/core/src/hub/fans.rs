//! What a fan does through the hub: start a session (anonymous, vouched for by the
//! creator's site, or with an invite link), post a message once whatever the retries,
//! read their conversation, accept or decline an offer. A fan only ever reaches their
//! own conversation and escalations: anything else is "not found".

use super::keys::{self, InviteClaims};
use crate::llm::StreamEvent;
use crate::routing::{checked_message, DecisionDetails};
use crate::{Error, Fanline, Result};
use chrono::{DateTime, Duration, Utc};
use fanline_engine::route::{Alternative, RefusalCode};
use fanline_engine::{EscalationStatus, Layer, RoutePath, Tier};
use fanline_store::Agents;
use fanline_store::HubAccess;
use fanline_store::Offers;
use fanline_store::{Conversations, TypedDecisions};
use fanline_store::{Message, Posted};
use serde::{Deserialize, Serialize};

/// How a fan says who they are when a session starts. Tier and layer come from signed
/// claims only: a request's own word for them is never taken.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Identity {
    /// The creator's site vouches for its user: `user_hash` = HMAC-SHA256 of
    /// `external_id` with the agent's secret (hex). Free tier, public layer, unless
    /// the creator set otherwise for this fan.
    UserHash {
        /// The fan's id on the creator's site.
        external_id: String,
        /// Its HMAC.
        user_hash: String,
    },
    /// A JWT (HS256, the agent's secret) with `sub`, `exp` and optionally `tier` and
    /// `layer`.
    Jwt {
        /// The token.
        jwt: String,
    },
    /// An invite link's token (`fanline fan invite`).
    Invite {
        /// The token.
        invite: String,
    },
}

/// A session to start.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SessionRequest {
    /// The creator's site key (public, in their web page).
    pub site_key: String,
    /// Who the fan is; none: an anonymous fan.
    #[serde(default)]
    pub identity: Option<Identity>,
}

/// A fan as the fan sees themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanView {
    /// Their handle.
    pub handle: String,
    /// Their tier.
    pub tier: Tier,
    /// What they may read.
    pub layer: Layer,
}

/// A started session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The bearer token for every later request (shown once; stored hashed).
    pub fan_token: String,
    /// The fan's conversation with the creator.
    pub conversation_id: i64,
    /// Who they are.
    pub fan: FanView,
    /// The creator's name.
    pub creator: String,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

/// A fan's token, checked: who they are and to whom they write.
#[derive(Debug, Clone, PartialEq)]
pub struct FanAuth {
    /// The agent.
    pub agent_id: i64,
    /// The fan.
    pub fan_id: i64,
    /// Their handle.
    pub handle: String,
    /// Their conversation with the agent.
    pub conversation_id: i64,
}

/// A source a reply cites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanSource {
    /// Its number in the reply (`[n]`).
    pub n: usize,
    /// The document's title.
    pub title: String,
    /// The section.
    pub heading: String,
}

/// The creator's earlier answer served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanAnswer {
    /// The answer's id.
    pub canonical_id: i64,
    /// The question it was written for.
    pub question: String,
    /// Who wrote it.
    pub by: String,
}

/// An offer to send the question to the creator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanOffer {
    /// The escalation (accept or decline it by this id).
    pub escalation_id: i64,
    /// Where it stands.
    pub status: EscalationStatus,
    /// When an unaccepted offer lapses.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the creator is back, when they are away now.
    pub expected_reply_after: Option<DateTime<Utc>>,
}

/// Why a message was not taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanRefusal {
    /// A stable code.
    pub code: RefusalCode,
    /// When to ask again, when that is what to do.
    pub try_again_at: Option<DateTime<Utc>>,
}

/// What the fan gets for a message: what a fan may see of the decision (never the
/// trace, the signals or other answers the router looked at).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanDecision {
    /// The fan's message.
    pub message_id: i64,
    /// The decision.
    pub decision_id: i64,
    /// The reply's message in the conversation (its event id).
    pub reply_message_id: Option<i64>,
    /// A: answered from the documents, B: a clarifying question, C: the creator's
    /// earlier answer, D: an offer to send it to the creator, F: declined.
    pub path: RoutePath,
    /// What the fan reads.
    pub reply: String,
    /// Sources (path A).
    pub sources: Vec<FanSource>,
    /// The creator's earlier answer (path C).
    pub answer: Option<FanAnswer>,
    /// The offer (path D).
    pub offer: Option<FanOffer>,
    /// Why it was declined (path F).
    pub refusal: Option<FanRefusal>,
}

/// Whether a post was new or the replay of an earlier one with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostStatus {
    /// Stored and routed now.
    Created,
    /// The key's earlier message and decision.
    Replayed,
}

/// A posted message with its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanPosted {
    /// New or replayed.
    pub status: PostStatus,
    /// The decision.
    pub decision: FanDecision,
}

/// What accepting or declining an offer did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanOfferState {
    /// The offer as it stands now.
    pub offer: FanOffer,
    /// What the fan reads.
    pub reply: String,
    /// By when the creator is expected to answer (accepted).
    pub expected_reply_by: Option<DateTime<Utc>>,
}

/// A message without a decision that this process is not routing, stored after it
/// opened, may still be being routed by another process for this long; after that (or
/// stored before this process opened) a retry routes it.
const IN_FLIGHT_SECONDS: f64 = 30.0;

/// A message this process is routing, until dropped.
struct Routing<'a>(&'a Fanline, i64);

impl<'a> Routing<'a> {
    /// Mark `message` as routed here now; `None` if it is already.
    fn start(app: &'a Fanline, message: i64) -> Option<Routing<'a>> {
        app.routing_now.lock().unwrap_or_else(|p| p.into_inner()).insert(message).then_some(Routing(app, message))
    }
}

impl Drop for Routing<'_> {
    fn drop(&mut self) {
        self.0.routing_now.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.1);
    }
}
/// Longest idempotency key taken.
const MAX_KEY: usize = 200;

impl Fanline {
    /// The hub key of this data directory (created on first use).
    fn hub_key(&self) -> Result<[u8; 32]> {
        keys::hub_key(&self.config.data_dir)
    }

    /// An agent's secret, as its site configures it (hex): signs `user_hash`es and
    /// identity JWTs, and invite links. Keep it out of web pages.
    pub fn hub_secret(&self, agent: Option<&str>) -> Result<String> {
        let agent = self.agent(agent)?;
        Ok(keys::agent_secret(&self.hub_key()?, &agent.name).iter().map(|b| format!("{b:02x}")).collect())
    }

    /// An agent's public site (its key is created the first time).
    pub fn hub_site(&self, agent: Option<&str>) -> Result<fanline_store::Site> {
        let agent = self.agent(agent)?;
        Ok(self.store.ensure_site(agent.id, &keys::new_token("site_"))?)
    }

    /// Set the origins an agent's chat widget may be served from (CORS).
    pub fn hub_set_origins(&self, agent: Option<&str>, origins: &[String]) -> Result<fanline_store::Site> {
        for o in origins {
            if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') || o.len() > 200 {
                return Err(Error::InvalidInput(format!(
                    "{o:?} is not an origin: give scheme, host and port only, such as https://example.com"
                )));
            }
        }
        let site = self.hub_site(agent)?;
        self.store.set_site_origins(site.agent_id, origins)?;
        self.hub_site(agent)
    }

    /// Start a fan's session on a creator's site.
    pub fn fan_session_start(&self, req: &SessionRequest) -> Result<Session> {
        let site = self
            .store
            .site_by_key(req.site_key.trim())?
            .ok_or_else(|| Error::Unauthorized("unknown site key".into()))?;
        let agent = self.store.agent_by_id(site.agent_id)?;
        let secret = keys::agent_secret(&self.hub_key()?, &agent.name);
        let now = self.now();
        let (fan, via) = match &req.identity {
            None => {
                let handle = format!("web-{}", &keys::new_token("")[..12].to_lowercase());
                (self.store.insert_fan(&handle, Tier::Free, Layer::Public)?, "anonymous")
            }
            Some(Identity::UserHash { external_id, user_hash }) => {
                let id = bounded("external_id", external_id)?;
                if !keys::check_user_hash(&secret, id, user_hash) {
                    return Err(Error::Unauthorized("the user_hash does not match the external id".into()));
                }
                (self.site_fan(&format!("site:{id}"), None, None)?, "user_hash")
            }
            Some(Identity::Jwt { jwt }) => {
                let claims = keys::open_jwt(&secret, jwt)?;
                let id = bounded("sub", &claims.sub)?;
                (self.site_fan(&format!("site:{id}"), claims.tier, claims.layer)?, "jwt")
            }
            Some(Identity::Invite { invite }) => {
                let hub = self.hub_key()?;
                let claims = keys::open_invite(|a| Some(keys::agent_secret(&hub, a)), invite)
                    .filter(|c| c.a == agent.name)
                    .ok_or_else(|| Error::Unauthorized("the invite link is not valid".into()))?;
                let record = self
                    .store
                    .invite(&keys::hashed(&claims.n))?
                    .ok_or_else(|| Error::Unauthorized("the invite link is not valid".into()))?;
                if record.revoked_at.is_some() {
                    return Err(Error::Unauthorized("the invite link was revoked".into()));
                }
                if record.expires_at <= now || keys::from_unix(claims.e).is_none_or(|e| e <= now) {
                    return Err(Error::Unauthorized("the invite link has expired".into()));
                }
                self.store.mark_invite_used(record.id, now)?;
                (self.site_fan(&claims.h, Some(claims.t), Some(claims.l))?, "invite")
            }
        };
        let token = keys::new_token("fan_");
        let expires_at = now + Duration::days(self.config.hub.session_days.max(1) as i64);
        self.store.create_fan_session(agent.id, fan.id, &keys::hashed(&token), via, expires_at)?;
        let conversation_id = self.store.fan_conversation(agent.id, fan.id)?;
        Ok(Session {
            fan_token: token,
            conversation_id,
            fan: FanView { handle: fan.handle, tier: fan.tier, layer: fan.layer },
            creator: crate::app::creator_name(&agent),
            expires_at,
        })
    }

    /// The fan with this handle, created at the tier and layer given (free, public by
    /// default); signed claims change an existing fan's tier and layer.
    fn site_fan(&self, handle: &str, tier: Option<Tier>, layer: Option<Layer>) -> Result<fanline_store::Fan> {
        match self.store.fan_by_handle(handle)? {
            Some(_) if tier.is_some() || layer.is_some() => Ok(self.store.update_fan(handle, tier, layer)?),
            Some(f) => Ok(f),
            None => Ok(self.store.insert_fan(handle, tier.unwrap_or(Tier::Free), layer.unwrap_or(Layer::Public))?),
        }
    }

    /// Check a fan's bearer token.
    pub fn fan_auth(&self, token: &str) -> Result<FanAuth> {
        let denied = || Error::Unauthorized("a valid fan token is needed: start a session first".into());
        let token = token.trim();
        if !token.starts_with("fan_") || token.len() > 100 {
            return Err(denied());
        }
        let s = self.store.fan_session(&keys::hashed(token))?.ok_or_else(denied)?;
        if s.revoked_at.is_some() {
            return Err(Error::Unauthorized("this fan token was revoked".into()));
        }
        if s.expires_at <= self.now() {
            return Err(Error::Unauthorized("this fan token has expired: start a new session".into()));
        }
        let fan = self.store.fan(s.fan_id)?;
        let conversation_id = self.store.fan_conversation(s.agent_id, s.fan_id)?;
        Ok(FanAuth { agent_id: s.agent_id, fan_id: s.fan_id, handle: fan.handle, conversation_id })
    }

    /// The conversation, if it is this fan's.
    fn own_conversation(&self, auth: &FanAuth, conversation_id: i64) -> Result<()> {
        if conversation_id != auth.conversation_id {
            return Err(Error::Store(fanline_store::Error::not_found("conversation", conversation_id)));
        }
        Ok(())
    }

    /// A fan posts a message under an idempotency key: stored before it is routed, in
    /// the same transaction as the key, so a retry after any failure finds it and gets
    /// its one decision; the same key with another text is refused. `sink` receives a
    /// written answer as it is written (path A).
    pub fn fan_post(
        &self,
        auth: &FanAuth,
        conversation_id: i64,
        key: &str,
        text: &str,
        sink: &mut (dyn FnMut(StreamEvent<'_>) + Send),
    ) -> Result<FanPosted> {
        self.own_conversation(auth, conversation_id)?;
        let key = key.trim();
        if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::InvalidInput(format!(
                "the Idempotency-Key must be 1–{MAX_KEY} visible ASCII characters (a UUID is a good one)"
            )));
        }
        let text = checked_message(text)?;
        let hash = keys::hashed(&format!("{conversation_id}\n{text}"));
        let in_flight = || Error::InFlight("this message is still being answered; try again in a moment".into());
        let (message_id, status) = match self.store.post_fan_message(auth.agent_id, auth.fan_id, text, key, &hash)? {
            Posted::New { message_id, .. } => {
                let _routing = Routing::start(self, message_id).ok_or_else(in_flight)?;
                let m = self.store.unrouted_message(message_id)?.ok_or_else(in_flight)?;
                let intake = self.intake_stored(&m)?;
                self.route_stored(&intake, sink)?;
                (message_id, PostStatus::Created)
            }
            Posted::Seen { same_request: false, .. } => {
                return Err(Error::IdempotencyMismatch(
                    "this Idempotency-Key was used for another message; use a new key for a new message".into(),
                ))
            }
            Posted::Seen { message_id, decision_id: Some(_), .. } => (message_id, PostStatus::Replayed),
            Posted::Seen { message_id, seconds_ago, .. } => {
                // Being routed by this process, or maybe by another one that stored it
                // lately: in flight. Otherwise a process that stopped left it: route it
                // now (a second decision is refused, so never twice).
                let stored_before_we_opened = seconds_ago > self.opened_at.elapsed().as_secs_f64();
                let _routing = Routing::start(self, message_id).ok_or_else(in_flight)?;
                if !stored_before_we_opened && seconds_ago < IN_FLIGHT_SECONDS {
                    return Err(in_flight());
                }
                let m = self.store.unrouted_message(message_id)?;
                if let Some(m) = m {
                    match self.route_stored(&self.intake_stored(&m)?, sink) {
                        Ok(_) | Err(Error::Store(fanline_store::Error::Conflict { .. })) => {}
                        Err(e) => return Err(e),
                    }
                }
                (message_id, PostStatus::Replayed)
            }
        };
        let decision_id = self
            .store
            .decision_of_message(message_id)?
            .ok_or_else(|| Error::InFlight("this message is still being answered; try again in a moment".into()))?;
        Ok(FanPosted { status, decision: self.fan_decision(decision_id)? })
    }

    /// What the fan may see of a stored decision.
    fn fan_decision(&self, decision_id: i64) -> Result<FanDecision> {
        let d: crate::routing::Decision = self.store.decision(decision_id)?;
        let agent = self.store.agent_by_id(d.agent_id)?;
        let details: DecisionDetails = d.details;
        let answer = match (d.path, d.canonical_answer_id) {
            (RoutePath::C, Some(id)) => {
                let c = self.store.canonical_reply_parts(id)?;
                Some(FanAnswer { canonical_id: id, question: c.question_pattern, by: crate::app::creator_name(&agent) })
            }
            _ => None,
        };
        let offer = self.store.escalation_of_decision(decision_id)?.map(|e| FanOffer {
            escalation_id: e.id,
            status: e.status,
            expires_at: e.expires_at,
            expected_reply_after: e.expected_reply_after,
        });
        let refusal = details.refusal.map(|r| FanRefusal {
            code: r.code,
            try_again_at: match r.alternative {
                Alternative::TryAgainAt { at } => Some(at),
                _ => None,
            },
        });
        Ok(FanDecision {
            reply_message_id: self.store.reply_of(d.message_id)?,
            message_id: d.message_id,
            decision_id,
            path: d.path,
            reply: d.reply,
            sources: details
                .citations
                .into_iter()
                .map(|c| FanSource { n: c.n, title: c.title, heading: c.heading })
                .collect(),
            answer,
            offer,
            refusal,
        })
    }

    /// The fan's conversation after message `after`, oldest first (at most `limit`).
    pub fn fan_messages(&self, auth: &FanAuth, conversation_id: i64, after: i64, limit: usize) -> Result<Vec<Message>> {
        self.own_conversation(auth, conversation_id)?;
        Ok(self.store.messages_after(conversation_id, after.max(0), limit.clamp(1, 500))?)
    }

    /// The escalation, if it is this fan's.
    fn own_escalation(&self, auth: &FanAuth, id: i64) -> Result<fanline_store::Escalation> {
        match self.store.escalation(id) {
            Ok(e) if e.fan_id == auth.fan_id && e.agent_id == auth.agent_id => Ok(e),
            Ok(_) | Err(fanline_store::Error::NotFound { .. }) => {
                Err(Error::Store(fanline_store::Error::not_found("escalation", id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The fan accepts an offer. Accepting again is a no-op that reports where it
    /// stands; past a cap the answer is `cap_reached` with when it resets.
    pub fn fan_accept(&self, auth: &FanAuth, id: i64) -> Result<FanOfferState> {
        let e = self.own_escalation(auth, id)?;
        let report = match e.status {
            EscalationStatus::Pending => Some(self.accept(id)?),
            _ => None,
        };
        if let Some(r) = &report {
            if let (false, Some(at)) = (r.accepted, r.resets_at) {
                return Err(Error::CapReached { message: r.reply.clone(), resets_at: at });
            }
        }
        let e = self.store.escalation(id)?;
        if !matches!(e.status, EscalationStatus::Accepted | EscalationStatus::Answered) {
            return Err(Error::Conflict(format!("this offer is {}; it can no longer be accepted", e.status)));
        }
        let reply = report.map(|r| r.reply).unwrap_or_else(|| "Already sent to the creator.".into());
        Ok(FanOfferState { expected_reply_by: e.expires_at, offer: offer_of(&e), reply })
    }

    /// The fan turns an offer down (again: a no-op).
    pub fn fan_decline(&self, auth: &FanAuth, id: i64) -> Result<FanOfferState> {
        let e = self.own_escalation(auth, id)?;
        match e.status {
            EscalationStatus::Pending => self.store.decline_escalation(id, self.now(), None, None)?,
            EscalationStatus::Declined => {}
            other => return Err(Error::Conflict(format!("this offer is {other}; it can no longer be declined"))),
        }
        let e = self.store.escalation(id)?;
        Ok(FanOfferState { offer: offer_of(&e), reply: "Okay — not sent.".into(), expected_reply_by: None })
    }

    /// An invite link for a fan at a tier and layer, valid `days` (the config's
    /// `hub.invite_days` if none).
    pub fn fan_invite(
        &self,
        agent: Option<&str>,
        handle: &str,
        tier: Tier,
        layer: Layer,
        days: Option<u32>,
    ) -> Result<InviteLink> {
        let agent = self.agent(agent)?;
        let handle = bounded("handle", handle)?.to_string();
        let days = days.unwrap_or(self.config.hub.invite_days);
        if days == 0 || days > 3660 {
            return Err(Error::InvalidInput("an invite lasts 1 to 3660 days".into()));
        }
        let expires_at = self.now() + Duration::days(days as i64);
        let nonce = keys::new_token("");
        let claims = InviteClaims {
            a: agent.name.clone(),
            h: handle.clone(),
            t: tier,
            l: layer,
            e: expires_at.timestamp(),
            n: nonce.clone(),
        };
        let token = keys::sign_invite(&keys::agent_secret(&self.hub_key()?, &agent.name), &claims);
        self.store.create_invite(agent.id, &handle, tier, layer, &keys::hashed(&nonce), expires_at)?;
        let site = self.hub_site(Some(&agent.name))?;
        let url =
            format!("{}/chat?site={}&invite={token}", self.config.hub.public_url.trim_end_matches('/'), site.site_key);
        Ok(InviteLink { handle, tier, layer, expires_at, token, url })
    }

    /// Revoke a fan's invite links and sessions.
    pub fn fan_revoke(&self, agent: Option<&str>, handle: &str) -> Result<Revoked> {
        let agent = self.agent(agent)?;
        let (invites, sessions) = self.store.revoke_fan_access(agent.id, handle.trim(), self.now())?;
        Ok(Revoked { handle: handle.trim().to_string(), invites, sessions })
    }
}

fn offer_of(e: &fanline_store::Escalation) -> FanOffer {
    FanOffer {
        escalation_id: e.id,
        status: e.status,
        expires_at: e.expires_at,
        expected_reply_after: e.expected_reply_after,
    }
}

/// A short, printable identifier from a request.
fn bounded<'a>(what: &str, s: &'a str) -> Result<&'a str> {
    let s = s.trim();
    if s.is_empty() || s.len() > 200 || s.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidInput(format!("{what} must be 1–200 printable characters")));
    }
    Ok(s)
}

/// An invite link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InviteLink {
    /// The fan it is for.
    pub handle: String,
    /// Their tier once they open it.
    pub tier: Tier,
    /// Their layer once they open it.
    pub layer: Layer,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The signed token.
    pub token: String,
    /// The link to send them.
    pub url: String,
}

/// What revoking a fan did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revoked {
    /// The fan.
    pub handle: String,
    /// Invite links revoked.
    pub invites: usize,
    /// Sessions ended.
    pub sessions: usize,
}

//! Who may reach the hub: fans, their conversations with an agent, their sessions and
//! invite links, an agent's public site, and the creator's devices and pairing codes.
//!
//! The first area of the hub's store interface (issue 16). SQLite implements it in
//! `hub.rs` (`Store`), PostgreSQL in `fanline-store-pg` (`PgHub`), and one test suite
//! (`suite::access`, feature `suite`) runs against both, so the two cannot drift.
//! Every token and code is stored as its hash (the caller hashes), never as itself.

use crate::{Device, Fan, FanSession, Invite, Result, Site};
use chrono::{DateTime, Utc};
use fanline_engine::{Layer, Tier};

/// Fans, sessions, invites, sites, devices and pairing codes (see the module).
pub trait HubAccess: Send + Sync {
    /// Add a new fan; a handle that exists (after trimming) is a conflict, so adding
    /// never changes what an existing fan may see. An empty handle is invalid.
    fn insert_fan(&self, handle: &str, tier: Tier, layer: Layer) -> Result<Fan>;

    /// Add a fan, or update the tier and layer of an existing handle.
    fn upsert_fan(&self, handle: &str, tier: Tier, layer: Layer) -> Result<Fan>;

    /// Change an existing fan's tier and/or layer (not found: an error).
    fn update_fan(&self, handle: &str, tier: Option<Tier>, layer: Option<Layer>) -> Result<Fan>;

    /// Every fan, by handle.
    fn list_fans(&self) -> Result<Vec<Fan>>;

    /// The fan with this handle (trimmed), if any.
    fn fan_by_handle(&self, handle: &str) -> Result<Option<Fan>>;

    /// The fan with this id (not found: an error).
    fn fan(&self, id: i64) -> Result<Fan>;

    /// The conversation a fan has with an agent, created if none: one per agent and
    /// fan, also when several requests (or processes) ask at once.
    fn fan_conversation(&self, agent_id: i64, fan_id: i64) -> Result<i64>;

    /// An agent's site, created with `new_key` if it has none.
    fn ensure_site(&self, agent_id: i64, new_key: &str) -> Result<Site>;

    /// The site with this public key.
    fn site_by_key(&self, site_key: &str) -> Result<Option<Site>>;

    /// Every site, by agent (for the CORS allowlist).
    fn sites(&self) -> Result<Vec<Site>>;

    /// Set the origins an agent's widget may be served from (no site: not found).
    fn set_site_origins(&self, agent_id: i64, origins: &[String]) -> Result<()>;

    /// Store a fan's session token (its hash); returns the session's id.
    fn create_fan_session(
        &self,
        agent_id: i64,
        fan_id: i64,
        token_hash: &str,
        via: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<i64>;

    /// The session a token (its hash) opens, if any (revoked or expired ones too: the
    /// caller decides).
    fn fan_session(&self, token_hash: &str) -> Result<Option<FanSession>>;

    /// Store an invite link's record (its nonce's hash); returns its id.
    fn create_invite(
        &self,
        agent_id: i64,
        handle: &str,
        tier: Tier,
        layer: Layer,
        nonce_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<i64>;

    /// The invite a nonce (its hash) belongs to.
    fn invite(&self, nonce_hash: &str) -> Result<Option<Invite>>;

    /// Note that an invite was used (the first use is kept).
    fn mark_invite_used(&self, id: i64, now: DateTime<Utc>) -> Result<()>;

    /// Revoke every invite for `handle` and every session of the fan with that handle,
    /// in one transaction; returns (invites, sessions) revoked.
    fn revoke_fan_access(&self, agent_id: i64, handle: &str, now: DateTime<Utc>) -> Result<(usize, usize)>;

    /// Add a device with its token (hash) and scopes.
    fn create_device(&self, name: &str, token_hash: &str, scopes: &[String]) -> Result<Device>;

    /// The device a token (its hash) belongs to, marked as used now.
    fn device_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Device>>;

    /// Every device, newest first.
    fn devices(&self) -> Result<Vec<Device>>;

    /// Revoke a device: its token is refused from now on (the first revocation's time
    /// is kept; no such device: not found).
    fn revoke_device(&self, id: i64, now: DateTime<Utc>) -> Result<Device>;

    /// Store a pairing code (its hash) valid until `expires_at`.
    fn create_pairing(&self, code_hash: &str, scopes: &[String], expires_at: DateTime<Utc>) -> Result<()>;

    /// Pair a device with a code (its hash): the code is used up and the device added,
    /// in one transaction, once however many redeem it at once. `None`: no such code,
    /// used, or expired.
    fn redeem_pairing(
        &self,
        code_hash: &str,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>>;
}

/// The hub's store interface so far: every area, as one object (`&dyn HubStore`), for
/// what works through all of them (the shared suite, `fanline bench store`).
pub trait HubStore: crate::Agents + HubAccess + crate::Conversations + crate::Offers {}
impl<T: crate::Agents + HubAccess + crate::Conversations + crate::Offers + ?Sized> HubStore for T {}

//! The hub's secrets and tokens.
//!
//! - The **hub key**: 32 random bytes in `<data dir>/hub.key` (mode 0600), created the
//!   first time it is needed; never in the database, never logged.
//! - An **agent's secret**: HMAC-SHA256(hub key, "agent:" + name). The creator's own
//!   site signs with it: a fan's `user_hash` (HMAC of their external id) or a JWT
//!   (HS256) whose claims set their tier and layer. `fanline hub secret` prints it.
//! - **Invite links**: `base64url(payload).base64url(HMAC(agent secret, payload))`, the
//!   payload naming the fan, their tier and layer, when it expires and a nonce (by which
//!   it is revoked).
//! - **Bearer tokens** (fans' sessions, devices): 32 random bytes, base64url, with a
//!   prefix saying what they are; stored as their BLAKE3 hash.

use crate::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use fanline_engine::{Layer, Tier};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::path::Path;

type HmacSha256 = Hmac<Sha256>;

/// The hub key of a data directory, created (0600) if missing.
pub(crate) fn hub_key(data_dir: &Path) -> Result<[u8; 32]> {
    let path = data_dir.join("hub.key");
    let io = |e: std::io::Error| Error::Io { path: path.clone(), detail: e.to_string() };
    if let Ok(text) = std::fs::read_to_string(&path) {
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| Error::Io { path: path.clone(), detail: "not a Fanline hub key (damaged?)".into() })?;
        return bytes
            .try_into()
            .map_err(|_| Error::Io { path: path.clone(), detail: "not a Fanline hub key (wrong length)".into() });
    }
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(io)?;
        f.write_all(B64.encode(key).as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    // Two processes creating it at once: the first rename wins and both read it back.
    if std::fs::hard_link(&tmp, &path).is_err() && !path.exists() {
        std::fs::rename(&tmp, &path).map_err(io)?;
    }
    let _ = std::fs::remove_file(&tmp);
    hub_key(data_dir)
}

/// An agent's secret (for its site's `user_hash`, JWTs and invite links).
pub(crate) fn agent_secret(hub_key: &[u8; 32], agent: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(hub_key).expect("any key length");
    mac.update(b"agent:");
    mac.update(agent.as_bytes());
    mac.finalize().into_bytes().into()
}

/// A new random token with a prefix (`fan_`, `dev_`, `site_`…).
pub(crate) fn new_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!("{prefix}{}", B64.encode(b))
}

/// A short pairing code a person can type: 10 letters and digits (no look-alikes).
pub(crate) fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 10];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| ALPHABET[*x as usize % ALPHABET.len()] as char).collect()
}

/// How a token or code is stored.
pub(crate) fn hashed(token: &str) -> String {
    blake3::hash(token.trim().as_bytes()).to_hex().to_string()
}

/// HMAC-SHA256 of `data` with `secret`, hex: what a creator's site sends as `user_hash`.
pub fn user_hash(secret: &[u8], data: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("any key length");
    mac.update(data.as_bytes());
    hex(&mac.finalize().into_bytes())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether `given` is the `user_hash` of `external_id` (compared in constant time).
pub(crate) fn check_user_hash(secret: &[u8], external_id: &str, given: &str) -> bool {
    let mut mac = HmacSha256::new_from_slice(secret).expect("any key length");
    mac.update(external_id.as_bytes());
    let Some(bytes) = unhex(given.trim()) else { return false };
    mac.verify_slice(&bytes).is_ok()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 128 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// What an invite link vouches for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct InviteClaims {
    /// The agent.
    pub a: String,
    /// The fan's handle.
    pub h: String,
    pub t: Tier,
    pub l: Layer,
    /// Expiry, Unix seconds.
    pub e: i64,
    /// A random nonce (revocation).
    pub n: String,
}

/// Sign an invite.
pub(crate) fn sign_invite(secret: &[u8], claims: &InviteClaims) -> String {
    let payload = B64.encode(serde_json::to_vec(claims).expect("plain data"));
    let mut mac = HmacSha256::new_from_slice(secret).expect("any key length");
    mac.update(payload.as_bytes());
    format!("{payload}.{}", B64.encode(mac.finalize().into_bytes()))
}

/// The claims of an invite token if its signature holds (expiry is the caller's to
/// check: it needs the store's record too).
pub(crate) fn open_invite(secret_of: impl Fn(&str) -> Option<[u8; 32]>, token: &str) -> Option<InviteClaims> {
    let (payload, sig) = token.trim().split_once('.')?;
    if payload.len() > 4096 {
        return None;
    }
    let claims: InviteClaims = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
    let secret = secret_of(&claims.a)?;
    let mut mac = HmacSha256::new_from_slice(&secret).expect("any key length");
    mac.update(payload.as_bytes());
    mac.verify_slice(&B64.decode(sig).ok()?).ok()?;
    Some(claims)
}

/// The claims a creator's site may sign into a JWT (HS256, the agent's secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SiteClaims {
    /// The fan's id on the creator's site.
    pub sub: String,
    /// Expiry, Unix seconds (required).
    pub exp: i64,
    #[serde(default)]
    pub tier: Option<Tier>,
    #[serde(default)]
    pub layer: Option<Layer>,
}

/// The claims of a JWT signed with `secret`, if valid and unexpired.
pub(crate) fn open_jwt(secret: &[u8], token: &str) -> Result<SiteClaims> {
    use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&["exp", "sub"]);
    v.leeway = 30;
    let key = DecodingKey::from_secret(secret)
        .map_err(|e| Error::Unauthorized(format!("the identity token cannot be checked: {e}")))?;
    decode::<SiteClaims>(token.trim(), &key, &v)
        .map(|d| d.claims)
        .map_err(|e| Error::Unauthorized(format!("the identity token is not valid: {e}")))
}

/// Unix seconds to a time.
pub(crate) fn from_unix(s: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(s, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_hashes_and_signatures() {
        let a = new_token("fan_");
        assert!(a.starts_with("fan_") && a.len() > 40 && a != new_token("fan_"));
        assert_eq!(hashed(&a), hashed(&format!(" {a} ")));
        let code = new_code();
        assert_eq!(code.len(), 10);
        let secret = agent_secret(&[7; 32], "default");
        assert_ne!(secret, agent_secret(&[7; 32], "other"));
        let h = user_hash(&secret, "user-42");
        assert!(check_user_hash(&secret, "user-42", &h));
        assert!(!check_user_hash(&secret, "user-43", &h));
        assert!(!check_user_hash(&secret, "user-42", "zz"));
        let claims = InviteClaims {
            a: "default".into(),
            h: "maya".into(),
            t: Tier::Paid,
            l: Layer::Friends,
            e: 1,
            n: "n".into(),
        };
        let token = sign_invite(&secret, &claims);
        assert_eq!(open_invite(|_| Some(secret), &token), Some(claims));
        let mut forged = token.clone();
        forged.insert(3, 'x');
        assert_eq!(open_invite(|_| Some(secret), &forged), None);
        assert_eq!(open_invite(|_| Some(agent_secret(&[8; 32], "default")), &token), None);
        assert_eq!(open_invite(|_| Some(secret), "garbage"), None);
    }

    #[test]
    fn the_hub_key_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let k = hub_key(dir.path()).unwrap();
        assert_eq!(hub_key(dir.path()).unwrap(), k);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("hub.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join("hub.key"), "nonsense").unwrap();
        assert!(hub_key(dir.path()).is_err());
    }
}

//! The creator's devices and tools on the admin API: a token made on the hub's machine
//! (`fanline hub token create`), or a pairing code (`fanline hub pair`) a device trades
//! for one. Tokens carry scopes and are stored hashed; a revoked token is refused.

use super::keys;
use crate::{Error, Fanline, Result};
use chrono::{DateTime, Duration, Utc};
use fanline_store::Device;
use fanline_store::HubAccess;
use serde::{Deserialize, Serialize};

/// What a device may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Everything: the queue, answers, rules, documents, devices.
    Admin,
    /// Read only: the queue, answers, decisions, metrics.
    Read,
}

impl Scope {
    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Read => "read",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Scope> {
        match s.trim() {
            "admin" => Ok(Scope::Admin),
            "read" => Ok(Scope::Read),
            other => Err(Error::InvalidInput(format!("unknown scope {other:?}; expected admin or read"))),
        }
    }
}

/// A device token, shown once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceToken {
    /// The device.
    pub device: Device,
    /// Its bearer token (shown once; stored hashed).
    pub token: String,
}

/// A pairing code, shown once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pairing {
    /// The code to type on the device.
    pub code: String,
    /// The scopes the device will get.
    pub scopes: Vec<Scope>,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
}

/// A device's token, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceAuth {
    /// The device.
    pub device: Device,
}

impl DeviceAuth {
    /// Whether the device may do what `scope` covers (admin covers everything).
    pub fn allows(&self, scope: Scope) -> bool {
        self.device.scopes.iter().any(|s| s == Scope::Admin.as_str() || s == scope.as_str())
    }

    /// Refuse unless the device may do what `scope` covers.
    pub fn require(&self, scope: Scope) -> Result<()> {
        match self.allows(scope) {
            true => Ok(()),
            false => Err(Error::Forbidden(format!(
                "the device {:?} may not do this (it needs the {} scope)",
                self.device.name,
                scope.as_str()
            ))),
        }
    }
}

/// A pairing code works this long.
const PAIRING_MINUTES: i64 = 10;

fn names(scopes: &[Scope]) -> Vec<String> {
    let mut v: Vec<String> = scopes.iter().map(|s| s.as_str().to_string()).collect();
    v.sort();
    v.dedup();
    v
}

fn device_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::InvalidInput("a device name is 1–100 printable characters".into()));
    }
    Ok(name)
}

impl Fanline {
    /// Make a device token (on the hub's own machine).
    pub fn hub_token_create(&self, name: &str, scopes: &[Scope]) -> Result<DeviceToken> {
        let name = device_name(name)?;
        if scopes.is_empty() {
            return Err(Error::InvalidInput("give at least one scope (admin or read)".into()));
        }
        let token = keys::new_token("dev_");
        let device = self.store.create_device(name, &keys::hashed(&token), &names(scopes))?;
        Ok(DeviceToken { device, token })
    }

    /// A pairing code a device trades for a token within ten minutes.
    pub fn hub_pairing_code(&self, scopes: &[Scope]) -> Result<Pairing> {
        if scopes.is_empty() {
            return Err(Error::InvalidInput("give at least one scope (admin or read)".into()));
        }
        let code = keys::new_code();
        let expires_at = self.now() + Duration::minutes(PAIRING_MINUTES);
        self.store.create_pairing(&keys::hashed(&code), &names(scopes), expires_at)?;
        Ok(Pairing { code, scopes: scopes.to_vec(), expires_at })
    }

    /// A device pairs with a code: a token for it, once per code.
    pub fn hub_pair(&self, code: &str, name: &str) -> Result<DeviceToken> {
        let name = device_name(name)?;
        let code = code.trim().to_uppercase();
        if code.is_empty() || code.len() > 32 {
            return Err(Error::Unauthorized("the pairing code is not valid".into()));
        }
        let token = keys::new_token("dev_");
        let device = self
            .store
            .redeem_pairing(&keys::hashed(&code), name, &keys::hashed(&token), self.now())?
            .ok_or_else(|| Error::Unauthorized("the pairing code is not valid, was used, or has expired".into()))?;
        Ok(DeviceToken { device, token })
    }

    /// Check a device's bearer token.
    pub fn device_auth(&self, token: &str) -> Result<DeviceAuth> {
        let denied = || Error::Unauthorized("a valid device token is needed (fanline hub token create)".into());
        let token = token.trim();
        if !token.starts_with("dev_") || token.len() > 100 {
            return Err(denied());
        }
        let device = self.store.device_by_token(&keys::hashed(token), self.now())?.ok_or_else(denied)?;
        if device.revoked_at.is_some() {
            return Err(Error::Unauthorized(format!("the device {:?} was revoked", device.name)));
        }
        Ok(DeviceAuth { device })
    }

    /// Every device.
    pub fn hub_devices(&self) -> Result<Vec<Device>> {
        Ok(self.store.devices()?)
    }

    /// Revoke a device.
    pub fn hub_token_revoke(&self, id: i64) -> Result<Device> {
        Ok(self.store.revoke_device(id, self.now())?)
    }
}

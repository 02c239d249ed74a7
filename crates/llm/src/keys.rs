//! API keys live in the OS keychain (service "fanline", one entry per provider), never
//! in the database, config files or logs. For headless use, `FANLINE_API_KEY_<NAME>`
//! (the provider's name upper-cased, other characters as `_`) overrides the keychain.

use crate::{Error, Result};

const SERVICE: &str = "fanline";

/// The environment variable that overrides a provider's key.
pub fn env_var(provider: &str) -> String {
    let name: String =
        provider.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("FANLINE_API_KEY_{name}")
}

fn no_keychain(provider: &str, e: impl std::fmt::Display) -> Error {
    Error::Key(format!(
        "no OS keychain is available here ({e}); set {} in the environment to give {provider} its key",
        env_var(provider)
    ))
}

fn entry(provider: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, provider).map_err(|e| no_keychain(provider, e))
}

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    Environment,
    Keychain,
    None,
}

/// A provider's key: the environment override, else the keychain, else none (local
/// servers need none).
pub fn get(provider: &str) -> Result<(Option<String>, KeySource)> {
    if let Ok(k) = std::env::var(env_var(provider)) {
        if !k.trim().is_empty() {
            return Ok((Some(k.trim().to_string()), KeySource::Environment));
        }
    }
    match entry(provider)?.get_password() {
        Ok(k) => Ok((Some(k), KeySource::Keychain)),
        Err(keyring::Error::NoEntry) => Ok((None, KeySource::None)),
        Err(keyring::Error::PlatformFailure(e) | keyring::Error::NoStorageAccess(e)) => {
            // No keychain service: the key, if any, can only come from the environment.
            tracing::debug!("keychain unavailable: {e}");
            Ok((None, KeySource::None))
        }
        Err(e) => Err(Error::Key(format!("reading {provider}'s key from the keychain: {e}"))),
    }
}

/// Store a key in the keychain.
pub fn set(provider: &str, key: &str) -> Result<()> {
    if key.trim().is_empty() {
        return Err(Error::Key("the key is empty".into()));
    }
    entry(provider)?.set_password(key.trim()).map_err(|e| no_keychain(provider, e))?;
    // Read it back: some backends accept a write they cannot keep.
    match entry(provider)?.get_password() {
        Ok(k) if k == key.trim() => Ok(()),
        Ok(_) | Err(_) => Err(no_keychain(provider, "the key could not be read back")),
    }
}

/// Remove a key from the keychain (no key is fine).
pub fn delete(provider: &str) -> Result<()> {
    match entry(provider)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_)) => Ok(()),
        Err(e) => Err(Error::Key(format!("removing {provider}'s key from the keychain: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert_eq!(env_var("openai"), "FANLINE_API_KEY_OPENAI");
        assert_eq!(env_var("my-llama.cpp"), "FANLINE_API_KEY_MY_LLAMA_CPP");
    }
}

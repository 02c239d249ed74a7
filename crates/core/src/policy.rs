//! The policy file of each agent: `<data dir>/policies/<agent>.toml`. It is read again
//! whenever it changes (size or modification time), so edits apply without a restart.
//! An invalid edit does not stop routing: the last valid policy stays in force and
//! every decision says so until the file is fixed.

use crate::{Error, Fanline, Result};
use fanline_engine::route::{Policy, PolicyError};
use fanline_store::Agents;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// The policy in force for an agent, and any problem with its file.
#[derive(Debug, Clone)]
pub struct PolicyState {
    /// The policy in force.
    pub policy: Arc<Policy>,
    /// The file is invalid; the last valid policy (or none, if there never was one) is
    /// in force, and this says which.
    pub warning: Option<String>,
}

/// A file's modification time and size.
type Stamp = Option<(SystemTime, u64)>;

#[derive(Debug, Clone, Default)]
pub(crate) struct PolicyCache {
    /// (file stamp when read, the file's error if invalid, the last valid policy)
    entries: std::collections::HashMap<PathBuf, (Stamp, Option<String>, Arc<Policy>)>,
}

/// What `fanline policy check` reports.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PolicyReport {
    /// The file.
    pub path: PathBuf,
    /// Tiers it overrides.
    pub tiers: Vec<String>,
    /// Topics it names.
    pub topics: Vec<String>,
    /// Risk tiers it sets.
    pub risk: Vec<String>,
}

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Parse a policy file, with errors that name the file, the line and the field.
pub fn load_policy(path: &Path) -> Result<Policy> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Io { path: path.to_path_buf(), detail: format!("cannot read the policy file: {e}") })?;
    Policy::parse(&text).map_err(|error| Error::Policy { path: path.to_path_buf(), error })
}

/// Check a policy file and summarise it.
pub fn check_policy(path: &Path) -> Result<PolicyReport> {
    Ok(report(path.to_path_buf(), &load_policy(path)?))
}

fn report(path: PathBuf, p: &Policy) -> PolicyReport {
    PolicyReport {
        path,
        tiers: p.tiers.keys().map(|t| t.to_string()).collect(),
        topics: p.topics.keys().cloned().collect(),
        risk: p.risk.keys().map(|r| r.as_str().to_string()).collect(),
    }
}

impl Fanline {
    /// Where an agent's policy file lives.
    pub fn policy_path(&self, agent: &str) -> PathBuf {
        self.config.data_dir.join("policies").join(format!("{agent}.toml"))
    }

    /// The policy in force for an agent (re-read if the file changed). A broken file
    /// leaves the last valid policy in force, as the store kept it, so every process
    /// on the data directory applies the same one and the warning says which.
    pub fn policy(&self, agent: &str) -> PolicyState {
        let path = self.policy_path(agent);
        let now = stamp(&path);
        let mut cache = self.policies.lock().unwrap_or_else(|p| p.into_inner());
        let entry = cache.entries.entry(path.clone()).or_insert((None, None, Arc::new(Policy::default())));
        if entry.0 != now || (now.is_none() && !entry.2.is_empty()) {
            entry.0 = now;
            let (warning, policy) = match now {
                None => (None, Policy::default()),
                Some(_) => self.read_policy(agent, &path),
            };
            entry.1 = warning;
            entry.2 = Arc::new(policy);
        }
        PolicyState { policy: entry.2.clone(), warning: entry.1.clone() }
    }

    /// Read the policy file: the policy it holds (kept in the store as the last valid
    /// one), or, if it is broken, the last valid policy with a warning that says so.
    fn read_policy(&self, agent: &str, path: &Path) -> (Option<String>, Policy) {
        let agent_id = self.store.agent_by_name(agent).ok().flatten().map(|a| a.id);
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| Error::Io { path: path.to_path_buf(), detail: format!("cannot read the policy file: {e}") })
            .and_then(|text| match Policy::parse(&text) {
                Ok(p) => Ok((text, p)),
                Err(error) => Err(Error::Policy { path: path.to_path_buf(), error }),
            });
        let e = match parsed {
            Ok((text, p)) => {
                if let Some(id) = agent_id {
                    if let Err(e) = self.store.keep_valid_policy(id, &text) {
                        tracing::warn!("could not keep the policy as the last valid one: {e}");
                    }
                }
                return (None, p);
            }
            Err(e) => e,
        };
        let kept = agent_id.and_then(|id| self.store.last_valid_policy(id).ok().flatten());
        let last = kept.and_then(|(text, at)| Policy::parse(&text).ok().map(|p| (p, at)));
        let (warning, policy) = match last {
            Some((p, at)) => {
                (format!("{e}; the last valid policy (from {}) is in force", at.format("%Y-%m-%d %H:%M UTC")), p)
            }
            None => (format!("{e}; no valid policy was ever read, so none is in force"), Policy::default()),
        };
        tracing::warn!("{warning}");
        (Some(warning), policy)
    }

    /// The text of an agent's policy file: empty when there is none; an unreadable file
    /// is an error (saving over it would lose it).
    pub fn policy_text(&self, agent: Option<&str>) -> Result<String> {
        let path = self.policy_path(&self.agent(agent)?.name);
        match std::fs::read_to_string(&path) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(Error::Io { path, detail: format!("cannot read the policy file: {e}") }),
        }
    }

    /// Check the policy file `file` and install it as the agent's policy (read and
    /// parsed once).
    pub fn policy_install(&self, agent: Option<&str>, file: &Path) -> Result<PolicyReport> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::Io { path: file.to_path_buf(), detail: format!("cannot read the policy file: {e}") })?;
        let name = self.agent(agent)?.name;
        let p = self.policy_save(&name, &text)?;
        Ok(report(self.policy_path(&name), &p))
    }

    /// Write an agent's policy file after checking it; returns the parsed policy.
    pub fn policy_save(&self, agent: &str, text: &str) -> Result<Policy> {
        let p = self.write_policy_file(agent, text)?;
        if let Some(a) = self.store.agent_by_name(agent)? {
            self.store.keep_valid_policy(a.id, text)?;
        }
        Ok(p)
    }

    /// Check and write the policy file only (the store keeps it separately).
    pub(crate) fn write_policy_file(&self, agent: &str, text: &str) -> Result<Policy> {
        let path = self.policy_path(agent);
        let p = Policy::parse(text).map_err(|error: PolicyError| Error::Policy { path: path.clone(), error })?;
        let dir = path.parent().expect("policies/<agent>.toml has a parent");
        let io = |e: std::io::Error| Error::Io { path: path.clone(), detail: e.to_string() };
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = dir.join(format!(".{agent}.toml.tmp"));
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(p)
    }
}

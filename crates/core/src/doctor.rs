//! `fanline doctor`: is everything in place, and if not, what to do.

use crate::{Config, Error, Fanline, Result};
use fanline_store::Agents;
use fanline_store::Conversations;
use fanline_store::MIGRATIONS;
use serde::Serialize;

/// One check of `fanline doctor`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Check {
    /// What is checked.
    pub name: &'static str,
    /// Whether it is in order.
    pub ok: bool,
    /// What was found, or what to do.
    pub detail: String,
}

/// What `fanline doctor` found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DoctorReport {
    /// Every check passed.
    pub ok: bool,
    /// The data directory.
    pub data_dir: String,
    /// The database file.
    pub database: String,
    /// The database's schema version.
    pub schema_version: u32,
    /// The migrations this Fanline knows.
    pub known_migrations: usize,
    /// Each check.
    pub checks: Vec<Check>,
}

/// Whether the data directory takes a file.
fn data_dir_check(dir: &std::path::Path) -> std::result::Result<String, String> {
    let probe = dir.join(".doctor-write-test");
    std::fs::write(&probe, b"ok")
        .and_then(|_| std::fs::remove_file(&probe))
        .map(|_| format!("{} (writable)", dir.display()))
        .map_err(|e| format!("{} is not writable: {e}", dir.display()))
}

/// What `doctor` reports when the data directory cannot even be opened (read-only,
/// damaged, too new): the checks it could make, and the error as the database check.
pub fn doctor_unopened(config: &Config, error: &Error) -> DoctorReport {
    let dir = data_dir_check(&config.data_dir);
    let checks = vec![
        Check { name: "data_dir", ok: dir.is_ok(), detail: dir.unwrap_or_else(|e| e) },
        Check { name: "database", ok: false, detail: error.to_string() },
    ];
    DoctorReport {
        ok: false,
        data_dir: config.data_dir.display().to_string(),
        database: config.database_path().display().to_string(),
        schema_version: 0,
        known_migrations: MIGRATIONS.len(),
        checks,
    }
}

impl Fanline {
    /// Check the data directory, database, model, runtime and index. Never fails for a
    /// problem it can report; each check says what is wrong and how to fix it.
    pub fn doctor(&self) -> Result<DoctorReport> {
        let mut checks = Vec::new();
        let mut check = |name, r: std::result::Result<String, String>| {
            let (ok, detail) = match r {
                Ok(d) => (true, d),
                Err(d) => (false, d),
            };
            checks.push(Check { name, ok, detail });
        };
        let dir = &self.config.data_dir;
        check("data_dir", data_dir_check(dir));
        let version = self.store.schema_version()?;
        check(
            "database",
            self.store
                .integrity_check()
                .map(|_| {
                    format!(
                        "{} — schema version {version} of {}, integrity ok",
                        self.store.path().display(),
                        MIGRATIONS.len()
                    )
                })
                .map_err(|e| e.to_string()),
        );
        let agents = self.store.list_agents()?;
        check(
            "agents",
            if agents.is_empty() {
                Err("no agent yet: run `fanline init`".to_string())
            } else {
                Ok(agents.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "))
            },
        );
        let unrouted = self.store.unrouted_count(None)?;
        check(
            "messages",
            if unrouted == 0 {
                Ok("every fan message has its decision".to_string())
            } else {
                Err(format!(
                    "{unrouted} fan message(s) have no decision (a route was stopped or failed); \
                     run `fanline recover` to route them"
                ))
            },
        );
        let ecfg = self.config.embedder_config();
        check(
            "runtime",
            if ecfg.ort_library.is_file() {
                Ok(ecfg.ort_library.display().to_string())
            } else {
                Err(fanline_embed::Error::MissingRuntime { path: ecfg.ort_library.clone() }.to_string())
            },
        );
        let files = fanline_embed::check_files(&ecfg);
        let model = match files {
            Err(e @ fanline_embed::Error::MissingRuntime { .. }) => Err(format!("not loaded: {e}")),
            Err(e) => Err(e.to_string()),
            Ok(()) => self
                .embedder()
                .map(|e| format!("{} — {} ({}-dimensional)", ecfg.model_dir.display(), e.model_id(), e.dim()))
                .map_err(|e| e.to_string()),
        };
        check("model", model);
        check(
            "index",
            self.open_search_index()
                .map(|n| {
                    let rebuilt = self
                        .index_report()
                        .map(|r| {
                            [("full-text", &r.rebuilt_text), ("vectors", &r.rebuilt_vectors)]
                                .iter()
                                .filter_map(|(w, why)| why.as_ref().map(|y| format!("{w} rebuilt: {y}")))
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default();
                    let mut s = format!("{n} items in {}", self.config.index_dir().display());
                    if !rebuilt.is_empty() {
                        s += &format!(" ({})", rebuilt.join("; "));
                    }
                    s
                })
                .map_err(|e| e.to_string()),
        );
        let ok = checks.iter().all(|c| c.ok);
        Ok(DoctorReport {
            ok,
            data_dir: dir.display().to_string(),
            database: self.store.path().display().to_string(),
            schema_version: version,
            known_migrations: MIGRATIONS.len(),
            checks,
        })
    }
}

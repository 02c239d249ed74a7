//! `fanline export FILE` and `fanline import-data FILE`: everything in a data directory
//! as versioned JSON lines (`fanline_store::Store::export`), and back into an empty one.
//! The policy files are written again from the store; the search index is rebuilt from
//! it when first used. The hub key (`hub.key`) is a secret and is not exported: a data
//! directory restored this way makes a new one (sites' secrets change).

use crate::{Config, Error, Fanline, Result};
pub use fanline_store::ExportReport;
use std::path::Path;

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io { path: path.to_path_buf(), detail: e.to_string() }
}

impl Fanline {
    /// Write everything to `file` (written whole, then renamed into place).
    pub fn export(&self, file: &Path) -> Result<ExportReport> {
        let partial = file.with_extension("partial");
        let report = {
            let f = std::fs::File::create(&partial).map_err(|e| io(&partial, e))?;
            let mut out = std::io::BufWriter::new(f);
            let report = self.store.export(&mut out)?;
            let f = out.into_inner().map_err(|e| io(&partial, e.error()))?;
            f.sync_all().map_err(|e| io(&partial, e))?;
            report
        };
        std::fs::rename(&partial, file).map_err(|e| io(file, e))?;
        Ok(report)
    }
}

/// Restore an export into the data directory of `config`, which must hold no data yet.
pub fn import_data(config: &Config, file: &Path) -> Result<ExportReport> {
    let f = std::fs::File::open(file).map_err(|e| io(file, e))?;
    let app = Fanline::open_with(config.clone(), None)?;
    let report = app.store.import_data(&mut std::io::BufReader::new(f))?;
    for agent in app.store.list_agents()? {
        if let Some((text, _)) = app.store.last_valid_policy(agent.id)? {
            app.write_policy_file(&agent.name, &text)?;
        }
    }
    Ok(report)
}

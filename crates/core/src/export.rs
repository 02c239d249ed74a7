//! `fanline export FILE` and `fanline import-data FILE`: everything in a data directory
//! as versioned JSON lines (`fanline_store::Store::export`), and back into an empty one.
//! The policy files are written again from the store; the search index is rebuilt from
//! it when first used. The hub key (`hub.key`) is a secret and is not exported: a data
//! directory restored this way makes a new one (sites' secrets change).

use crate::backup::io;
use crate::{Config, Fanline, Result};
use fanline_store::Agents;
pub use fanline_store::ExportReport;
use std::path::Path;

impl Fanline {
    /// Write everything to `file` (written whole, then renamed into place).
    pub fn export(&self, file: &Path) -> Result<ExportReport> {
        let partial = file.with_extension("partial");
        let report = {
            let f = std::fs::File::create(&partial).map_err(io(&partial))?;
            let mut out = std::io::BufWriter::new(f);
            let report = self.store.export(&mut out)?;
            let f = out.into_inner().map_err(|e| io(&partial)(e.into_error()))?;
            f.sync_all().map_err(io(&partial))?;
            report
        };
        std::fs::rename(&partial, file).map_err(io(file))?;
        Ok(report)
    }
}

/// Restore an export into the data directory of `config`, which must hold no data yet.
pub fn import_data(config: &Config, file: &Path) -> Result<ExportReport> {
    let f = std::fs::File::open(file).map_err(io(file))?;
    let app = Fanline::open_with(config.clone(), None)?;
    let report = app.store.import_data(&mut std::io::BufReader::new(f))?;
    for agent in app.store.list_agents()? {
        if let Some((text, _)) = app.store.last_valid_policy(agent.id)? {
            app.write_policy_file(&agent.name, &text)?;
        }
    }
    Ok(report)
}

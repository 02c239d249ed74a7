//! A paired device's token for its hub: in the OS keychain (one entry per data
//! directory), or, where there is no keychain (a headless machine), in a file of the
//! data directory readable by its owner only. Never in the database or a log.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

fn account(data_dir: &Path) -> String {
    let h = blake3::hash(data_dir.to_string_lossy().as_bytes()).to_hex();
    format!("hub-device-{}", &h[..16])
}

fn file(data_dir: &Path) -> PathBuf {
    data_dir.join("hub-device.token")
}

/// Where the token is kept.
pub(crate) fn save(data_dir: &Path, token: &str) -> Result<&'static str> {
    if fanline_llm::keys::set(&account(data_dir), token).is_ok() {
        let _ = std::fs::remove_file(file(data_dir));
        return Ok("keychain");
    }
    let path = file(data_dir);
    let io = |e: std::io::Error| Error::Io { path: path.clone(), detail: e.to_string() };
    let tmp = path.with_extension("token.partial");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(io)?;
        f.write_all(token.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok("file")
}

/// The token, if this device was paired.
pub(crate) fn load(data_dir: &Path) -> Result<Option<String>> {
    if let Ok((Some(t), _)) = fanline_llm::keys::get(&account(data_dir)) {
        return Ok(Some(t));
    }
    match std::fs::read_to_string(file(data_dir)) {
        Ok(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_string())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Io { path: file(data_dir), detail: e.to_string() }),
    }
}

/// Forget the token.
pub(crate) fn forget(data_dir: &Path) {
    let _ = fanline_llm::keys::delete(&account(data_dir));
    let _ = std::fs::remove_file(file(data_dir));
}

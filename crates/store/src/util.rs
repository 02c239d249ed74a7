use crate::{Error, Result};
use fanline_engine::Layer;
use rusqlite::Connection;

/// Move the index generation forward; called inside every transaction that changes
/// indexed content.
pub(crate) fn bump_generation(conn: &Connection) -> Result<u64> {
    let v: i64 = conn.query_row(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'index_generation' \
         RETURNING CAST(value AS INTEGER)",
        [],
        |r| r.get(0),
    )?;
    Ok(v as u64)
}

pub(crate) fn generation(conn: &Connection) -> Result<u64> {
    let v: i64 =
        conn.query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'index_generation'", [], |r| r.get(0))?;
    Ok(v as u64)
}

pub(crate) fn parse_layer(s: &str) -> Result<Layer> {
    s.parse::<Layer>().map_err(Error::from)
}

pub(crate) fn vector(blob: &[u8]) -> Result<Vec<f32>> {
    fanline_engine::vector::from_bytes(blob).ok_or_else(|| Error::Invalid {
        what: "stored embedding",
        detail: format!("{} bytes is not a whole number of f32", blob.len()),
    })
}

/// `?,?,?` for an IN list of `n` items.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises to JSON")
}

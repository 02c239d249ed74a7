use crate::{Error, Result};
use fanline_engine::{ItemKey, ItemKind};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, Row};
use std::str::FromStr;

/// A value of the `meta` table (`None`: not set).
pub(crate) fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

/// Set a value of the `meta` table.
pub(crate) fn put_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.exec(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

pub(crate) fn generation(conn: &Connection) -> Result<u64> {
    let v: i64 =
        conn.row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'index_generation'", [], |r| r.get(0))?;
    Ok(v as u64)
}

/// A text column read as any `FromStr` type (layer, tier, path, status, reason), so a
/// row maps to its struct in one step. A value that does not parse becomes
/// `Error::Invalid` (see `error.rs`).
struct Parsed<T>(T);

impl<T> FromSql for Parsed<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        v.as_str()?.parse().map(Parsed).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// Column `i` parsed with `FromStr`.
pub(crate) fn parsed<T>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    r.get::<_, Parsed<T>>(i).map(|p| p.0)
}

/// Column `i` parsed with `FromStr`, or `None` for NULL.
pub(crate) fn parsed_opt<T>(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<T>>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    r.get::<_, Option<Parsed<T>>>(i).map(|p| p.map(|p| p.0))
}

/// The key of an indexed item from the first four columns of a row: its id, its
/// owner (document or canonical answer), agent and layer.
pub(crate) fn item_key(kind: ItemKind, r: &Row<'_>) -> rusqlite::Result<ItemKey> {
    Ok(ItemKey { kind, id: r.get(0)?, owner: r.get(1)?, agent: r.get(2)?, layer: parsed(r, 3)? })
}

/// Column `i`, a JSON text, as a value.
pub(crate) fn json_value(r: &Row<'_>, i: usize) -> rusqlite::Result<serde_json::Value> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// Column `i`, a JSON text, as a typed value.
pub(crate) fn json_typed<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// Column `i`, an embedding blob, as a vector.
pub(crate) fn vector_col(r: &Row<'_>, i: usize) -> rusqlite::Result<Vec<f32>> {
    let blob: Vec<u8> = r.get(i)?;
    vector(&blob)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Blob, e.to_string().into()))
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

/// Statements by their SQL text, prepared once per connection and kept (rusqlite's
/// statement cache): the hub runs the same few statements for every message, and
/// preparing them again each time cost as much as running them.
pub(crate) trait Cached {
    /// `Connection::execute` through the cache.
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// `Connection::query_row` through the cache.
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// How many prepared statements each connection keeps.
pub(crate) const STATEMENT_CACHE: usize = 256;

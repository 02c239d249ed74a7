//! `fanline export` / `fanline import-data`: everything in the database as versioned
//! JSON lines, read in one snapshot, and restored into an empty database as it was.
//!
//! The first line says what it is (`{"fanline_export": 1, "schema_version": N,
//! "tables": [...]}`); then one line per row, `{"t": table, "r": {column: value}}`,
//! a blob as `{"$b64": …}`; the last line counts the rows (`{"end": n}`), so a cut file
//! is refused. Every table of the schema is written (the search index is rebuilt from
//! them), so a round trip is lossless: exporting the import gives the same lines.

use crate::util::Cached;
use crate::{Error, Result, Store};
use base64::Engine as _;
use rusqlite::types::{Value as Sql, ValueRef};
use serde_json::{json, Map, Value};
use std::io::{BufRead, Write};

/// The version of the export format.
pub const EXPORT_VERSION: u32 = 1;

/// What an export or an import did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExportReport {
    /// Rows per table.
    pub tables: Vec<(String, u64)>,
    /// Rows in all.
    pub rows: u64,
}

fn tables(conn: &rusqlite::Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND name <> 'schema_migrations' ORDER BY name",
    )?;
    let names = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(names)
}

fn to_json(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => json!(i),
        ValueRef::Real(f) => json!(f),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => json!({ "$b64": base64::engine::general_purpose::STANDARD.encode(b) }),
    }
}

fn from_json(v: &Value) -> Result<Sql> {
    Ok(match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Sql::Text(s.clone()),
        Value::Object(o) => match o.get("$b64").and_then(Value::as_str) {
            Some(b) => Sql::Blob(
                base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .map_err(|e| Error::Invalid { what: "export", detail: format!("a blob: {e}") })?,
            ),
            None => return Err(Error::Invalid { what: "export", detail: format!("a value {v}") }),
        },
        Value::Array(_) => return Err(Error::Invalid { what: "export", detail: format!("a value {v}") }),
    })
}

fn io(e: std::io::Error) -> Error {
    Error::Invalid { what: "export file", detail: e.to_string() }
}

impl Store {
    /// Write everything to `out`, read in one snapshot.
    pub fn export(&self, out: &mut dyn Write) -> Result<ExportReport> {
        let conn = self.read()?;
        let tx = conn.unchecked_transaction()?;
        let names = tables(&tx)?;
        let version: u32 = tx.row("PRAGMA user_version", [], |r| r.get(0))?;
        let header = json!({ "fanline_export": EXPORT_VERSION, "schema_version": version, "tables": names });
        writeln!(out, "{header}").map_err(io)?;
        let mut report = ExportReport { tables: Vec::new(), rows: 0 };
        for name in names.iter().map(String::as_str).chain(["sqlite_sequence"]) {
            let mut stmt = tx.prepare(&format!("SELECT * FROM \"{name}\" ORDER BY rowid"))?;
            let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
            let mut rows = stmt.query([])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                let mut row = Map::new();
                for (i, c) in columns.iter().enumerate() {
                    row.insert(c.clone(), to_json(r.get_ref(i)?));
                }
                writeln!(out, "{}", json!({ "t": name, "r": row })).map_err(io)?;
                n += 1;
            }
            report.tables.push((name.to_string(), n));
            report.rows += n;
        }
        writeln!(out, "{}", json!({ "end": report.rows })).map_err(io)?;
        tx.finish()?;
        Ok(report)
    }

    /// Restore an export into this database, which must hold no agent yet. One
    /// transaction: a file that is cut, from another schema version or malformed
    /// changes nothing. The triggers are set aside while the rows go in (the rows are
    /// as they were, with their ids, uids and timestamps), then put back.
    pub fn import_data(&self, input: &mut dyn BufRead) -> Result<ExportReport> {
        let mut lines = input.lines();
        let bad = |detail: String| Error::Invalid { what: "export file", detail };
        let header: Value = match lines.next() {
            Some(l) => serde_json::from_str(&l.map_err(io)?).map_err(|e| bad(format!("its first line: {e}")))?,
            None => return Err(bad("it is empty".into())),
        };
        if header["fanline_export"].as_u64() != Some(EXPORT_VERSION as u64) {
            return Err(bad(format!("it is not a Fanline export of version {EXPORT_VERSION}")));
        }
        let mut conn = self.conn();
        let version: u32 = conn.row("PRAGMA user_version", [], |r| r.get(0))?;
        if header["schema_version"].as_u64() != Some(version as u64) {
            return Err(bad(format!(
                "it was written at schema version {}, this Fanline is at {version}: import it with the Fanline that wrote it, then upgrade",
                header["schema_version"]
            )));
        }
        let agents: i64 = conn.row("SELECT count(*) FROM agents", [], |r| r.get(0))?;
        if agents > 0 {
            return Err(Error::Invalid {
                what: "data directory",
                detail: "it holds data already: import into an empty data directory".into(),
            });
        }
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        let result = (|| -> Result<ExportReport> {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let triggers: Vec<(String, String)> = {
                let mut stmt = tx.prepare_cached("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
                rows
            };
            for (name, _) in &triggers {
                tx.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
            }
            let known = tables(&tx)?;
            for t in known.iter().map(String::as_str).chain(["sqlite_sequence"]) {
                tx.execute(&format!("DELETE FROM \"{t}\""), [])?;
            }
            let mut report = ExportReport { tables: Vec::new(), rows: 0 };
            let (mut ended, mut sequences) = (false, false);
            for line in lines {
                let line = line.map_err(io)?;
                let v: Value = serde_json::from_str(&line).map_err(|e| bad(format!("a line: {e}")))?;
                if let Some(n) = v.get("end") {
                    if n.as_u64() != Some(report.rows) {
                        return Err(bad(format!("it says {n} rows, it holds {}", report.rows)));
                    }
                    ended = true;
                    break;
                }
                let (Some(t), Some(row)) = (v["t"].as_str(), v["r"].as_object()) else {
                    return Err(bad(format!("a line is not a row: {line:.80}")));
                };
                if t != "sqlite_sequence" && !known.iter().any(|k| k == t) {
                    return Err(bad(format!("no table {t:?} here")));
                }
                // The counters come last: those the rows above set give way to them.
                if t == "sqlite_sequence" && !sequences {
                    tx.exec("DELETE FROM sqlite_sequence", [])?;
                    sequences = true;
                }
                let cols: Vec<String> = row.keys().map(|c| format!("\"{}\"", c.replace('"', ""))).collect();
                let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
                let values = row.values().map(from_json).collect::<Result<Vec<_>>>()?;
                tx.execute(
                    &format!("INSERT INTO \"{t}\" ({}) VALUES ({})", cols.join(", "), marks.join(", ")),
                    rusqlite::params_from_iter(values),
                )?;
                match report.tables.last_mut() {
                    Some((name, n)) if name == t => *n += 1,
                    _ => report.tables.push((t.to_string(), 1)),
                }
                report.rows += 1;
            }
            if !ended {
                return Err(bad("it is cut short (no end line)".into()));
            }
            for (_, sql) in &triggers {
                tx.execute_batch(sql)?;
            }
            let broken: i64 = tx.row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
            if broken > 0 {
                return Err(bad(format!("{broken} rows point at rows it does not hold")));
            }
            tx.commit()?;
            Ok(report)
        })();
        conn.pragma_update(None, "foreign_keys", "ON")?;
        result
    }
}

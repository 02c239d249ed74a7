//! Bringing in an existing inbox: past fan questions with the creator's replies (CSV or
//! JSON, columns found by name, as an export from e-mail or a DM tool gives them)
//! become canonical answers with phrasings, deduplicated by meaning; and routing a file
//! of incoming messages (`fanline route --batch`) for a preview before going live.

use crate::{Error, Fanline, Result};
use fanline_engine::vector::dot;
use fanline_engine::{ItemKind, Layer, RoutePath, SearchFilter, Tier};
use fanline_store::HubAccess;
use fanline_store::NewCanonical;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Column names taken for the fan's question, in order of preference.
pub const QUESTION_COLUMNS: &[&str] =
    &["question", "fan question", "message", "fan message", "incoming", "body", "text", "q", "prompt"];
/// Column names taken for the creator's reply.
pub const ANSWER_COLUMNS: &[&str] = &["answer", "reply", "your reply", "creator reply", "response", "answer text", "a"];
/// Column names taken for the fan's handle (route --batch).
pub const FAN_COLUMNS: &[&str] = &["fan", "handle", "from", "sender", "user", "author"];
/// Two replies this close (cosine) say the same thing: a question asked again with
/// the same reply is merged as a phrasing; with another reply it is a merge suggestion.
pub const SAME_REPLY: f32 = 0.90;
/// Rows read at most.
pub const MAX_ROWS: usize = 100_000;

/// A table read from CSV or JSON: its columns (as written) and rows (lower-cased
/// column → value).
struct Table {
    columns: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
}

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io { path: path.to_path_buf(), detail: e.to_string() }
}

fn read_table(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    table_of(path, &text)
}

/// A table from `text`: JSON when `name` says so or the text opens like JSON, else CSV.
fn table_of(path: &Path, text: &str) -> Result<Table> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let json = matches!(path.extension().and_then(|e| e.to_str()), Some("json" | "jsonl" | "ndjson"))
        || text.trim_start().starts_with(['[', '{']);
    let table = if json { json_table(path, text)? } else { csv_table(path, text)? };
    if table.rows.len() > MAX_ROWS {
        return Err(Error::InvalidInput(format!("{} rows; at most {MAX_ROWS} at a time", table.rows.len())));
    }
    Ok(table)
}

fn csv_table(path: &Path, text: &str) -> Result<Table> {
    let mut rd = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let columns: Vec<String> = rd.headers().map_err(|e| io(path, e))?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for r in rd.records() {
        let r = r.map_err(|e| io(path, format!("not CSV: {e}")))?;
        rows.push(columns.iter().map(|c| c.to_lowercase()).zip(r.iter().map(str::to_string)).collect());
    }
    Ok(Table { columns, rows })
}

fn json_table(path: &Path, text: &str) -> Result<Table> {
    let values: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(a)) => a,
        Ok(v @ serde_json::Value::Object(_)) => vec![v],
        // JSON lines: one object a line.
        _ => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| serde_json::from_str(l).map_err(|e| io(path, format!("line {}: not JSON: {e}", i + 1))))
            .collect::<Result<_>>()?,
    };
    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        let serde_json::Value::Object(o) = v else {
            return Err(io(path, format!("item {} is not an object with named fields", i + 1)));
        };
        let mut row = BTreeMap::new();
        for (k, v) in o {
            if !columns.contains(&k) {
                columns.push(k.clone());
            }
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            row.insert(k.to_lowercase(), v);
        }
        rows.push(row);
    }
    Ok(Table { columns, rows })
}

/// The column to read: the one named `chosen`, or the first of `names` the table has.
fn column(t: &Table, chosen: Option<&str>, names: &[&str], what: &str) -> Result<Option<String>> {
    let have: Vec<String> = t.columns.iter().map(|c| c.trim().to_lowercase()).collect();
    if let Some(c) = chosen {
        let c = c.trim().to_lowercase();
        return match have.contains(&c) {
            true => Ok(Some(c)),
            false => Err(Error::InvalidInput(format!(
                "no column {c:?} for the {what}; the columns are: {}",
                t.columns.join(", ")
            ))),
        };
    }
    Ok(names.iter().find(|n| have.iter().any(|h| h == *n)).map(|n| n.to_string()))
}

fn required(t: &Table, chosen: Option<&str>, names: &[&str], what: &str, flag: &str) -> Result<String> {
    column(t, chosen, names, what)?.ok_or_else(|| {
        Error::InvalidInput(format!(
            "no column for the {what} (looked for {}); the columns are: {}; name it with {flag}",
            names.join(", "),
            t.columns.join(", ")
        ))
    })
}

/// Which columns to read; `None` finds them by name.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// The question's (or message's) column.
    pub question: Option<String>,
    /// The reply's column.
    pub answer: Option<String>,
    /// The fan's column.
    pub fan: Option<String>,
}

/// A row left out, and why.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Skipped {
    /// Its row, from 1 (the header not counted).
    pub row: usize,
    /// Why.
    pub reason: String,
}

/// A question asked before with another reply: both are kept; merge them if they are
/// the same answer (`fanline canonical merge ID --into LIKE`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MergeSuggestion {
    /// The row, from 1.
    pub row: usize,
    /// Its question.
    pub question: String,
    /// The answer made from this row.
    pub canonical_id: i64,
    /// The answer it looks like.
    pub like: i64,
    /// That answer's question.
    pub like_question: String,
    /// How close the questions are.
    pub similarity: f32,
}

/// What an inbox import did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InboxReport {
    /// The column read as the question.
    pub question_column: String,
    /// The column read as the reply.
    pub answer_column: String,
    /// Rows in the file.
    pub rows: usize,
    /// Canonical answers created.
    pub created: usize,
    /// Questions added as phrasings of an answer with the same reply.
    pub merged: usize,
    /// Rows left out.
    pub skipped: Vec<Skipped>,
    /// Questions asked before with another reply.
    pub suggestions: Vec<MergeSuggestion>,
    /// How long it took.
    pub seconds: f64,
}

/// A routed row of `route --batch`.
#[derive(Debug, Clone, Serialize)]
pub struct BatchRow {
    /// The row, from 1.
    pub row: usize,
    /// The fan it was routed as.
    pub fan: String,
    /// The message.
    pub message: String,
    /// The path taken.
    pub path: RoutePath,
    /// Why.
    pub reason: String,
    /// What the fan would read.
    pub reply: String,
    /// The stored decision.
    pub decision_id: i64,
}

/// What `route --batch` did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// Rows in the file.
    pub rows: usize,
    /// Decisions on each path, A to F.
    pub paths: Vec<u32>,
    /// Each routed row.
    pub routed: Vec<BatchRow>,
    /// Rows left out.
    pub skipped: Vec<Skipped>,
    /// Fans the file named that did not exist: added at tier free, layer public.
    pub fans_added: Vec<String>,
    /// How long it took.
    pub seconds: f64,
}

/// The fan `route --batch` routes rows without a fan column as.
pub const BATCH_FAN: &str = "batch-preview";

fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    norm(a) == norm(b)
}

impl Fanline {
    /// Import past questions with their replies from `file` (CSV or JSON) as canonical
    /// answers at `layer`. A question close to an answer already there (the young
    /// threshold, as grouping) with the same reply becomes its phrasing; with another
    /// reply it is kept apart and suggested for a merge. `progress(done, total)`.
    pub fn import_inbox(
        &self,
        agent: Option<&str>,
        file: &Path,
        columns: &Columns,
        layer: Layer,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<InboxReport> {
        self.import_inbox_table(agent, read_table(file)?, columns, layer, progress)
    }

    /// [`import_inbox`](Self::import_inbox) of a file sent as text (the hub's admin API):
    /// `name` says its kind (`inbox.csv`, `dm.json`).
    pub fn import_inbox_text(
        &self,
        agent: Option<&str>,
        name: &str,
        text: &str,
        columns: &Columns,
        layer: Layer,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<InboxReport> {
        self.import_inbox_table(agent, table_of(Path::new(name), text)?, columns, layer, progress)
    }

    fn import_inbox_table(
        &self,
        agent: Option<&str>,
        t: Table,
        columns: &Columns,
        layer: Layer,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<InboxReport> {
        let started = Instant::now();
        let a = self.agent(agent)?;
        let qc = required(&t, columns.question.as_deref(), QUESTION_COLUMNS, "questions", "--question-column")?;
        let ac = required(&t, columns.answer.as_deref(), ANSWER_COLUMNS, "replies", "--answer-column")?;
        let mut report = InboxReport {
            question_column: qc.clone(),
            answer_column: ac.clone(),
            rows: t.rows.len(),
            created: 0,
            merged: 0,
            skipped: Vec::new(),
            suggestions: Vec::new(),
            seconds: 0.0,
        };
        let mut todo: Vec<(usize, String, String)> = Vec::new();
        for (i, r) in t.rows.iter().enumerate() {
            let q = r.get(&qc).map(|s| s.trim()).unwrap_or("");
            let ans = r.get(&ac).map(|s| s.trim()).unwrap_or("");
            match (q.is_empty(), ans.is_empty()) {
                (true, _) => report.skipped.push(Skipped { row: i + 1, reason: "no question".into() }),
                (_, true) => report.skipped.push(Skipped { row: i + 1, reason: "no reply".into() }),
                _ => todo.push((i + 1, q.to_string(), ans.to_string())),
            }
        }
        let e = self.embedder()?.clone();
        let total = todo.len();
        let threshold = self.config.routing.reuse.young_threshold;
        let filter = SearchFilter { kind: ItemKind::Canonical, agent: a.id, max_layer: Layer::Intimate };
        for (n, (row, question, answer)) in todo.into_iter().enumerate() {
            let vs = e.embed(&[question.as_str(), answer.as_str()])?;
            let (qv, av) = (&vs[0], &vs[1]);
            let nearest = self.with_index(|idx| Ok(idx.nearest(qv, &filter, 1)))?;
            let close = nearest.first().filter(|(_, s)| *s >= threshold).map(|(k, s)| (k.owner, *s));
            if let Some((like, similarity)) = close {
                let existing = self.store.canonical(like)?;
                if existing.variants.iter().any(|v| same_text(&v.text, &question))
                    && same_text(&existing.answer, &answer)
                {
                    report.skipped.push(Skipped { row, reason: format!("already there (answer #{like})") });
                    progress(n + 1, total);
                    continue;
                }
                let same_reply =
                    same_text(&existing.answer, &answer) || dot(&e.embed_one(&existing.answer)?, av) >= SAME_REPLY;
                if same_reply {
                    self.write_indexed(true, |s| s.add_canonical_variant(like, &question, qv).map(|c| ((), c)))?;
                    report.merged += 1;
                    progress(n + 1, total);
                    continue;
                }
                let id = self.add_imported(a.id, &question, qv, &answer, layer)?;
                report.created += 1;
                report.suggestions.push(MergeSuggestion {
                    row,
                    question: question.clone(),
                    canonical_id: id,
                    like,
                    like_question: existing.question_pattern,
                    similarity,
                });
            } else {
                self.add_imported(a.id, &question, qv, &answer, layer)?;
                report.created += 1;
            }
            progress(n + 1, total);
        }
        self.flush()?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    fn add_imported(&self, agent_id: i64, question: &str, v: &[f32], answer: &str, layer: Layer) -> Result<i64> {
        let new = NewCanonical {
            questions: vec![(question.to_string(), v.to_vec())],
            answer: answer.to_string(),
            layer,
            source_escalation_id: None,
        };
        self.write_indexed(true, |s| s.add_canonical(agent_id, &new))
    }

    /// Route every row of `file` (CSV or JSON: a message column, and a fan column if
    /// there is one) as an incoming message, each stored with its decision like any
    /// other: a preview of what Fanline would do with a real inbox before going live.
    /// Fans the file names that do not exist are added (free, public); rows without a
    /// fan are routed as [`BATCH_FAN`].
    pub fn route_batch(
        &self,
        agent: Option<&str>,
        file: &Path,
        columns: &Columns,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<BatchReport> {
        let started = Instant::now();
        let t = read_table(file)?;
        let mc = required(&t, columns.question.as_deref(), QUESTION_COLUMNS, "messages", "--message-column")?;
        let fc = column(&t, columns.fan.as_deref(), FAN_COLUMNS, "fans")?;
        let mut report = BatchReport {
            rows: t.rows.len(),
            paths: vec![0; RoutePath::ALL.len()],
            routed: Vec::new(),
            skipped: Vec::new(),
            fans_added: Vec::new(),
            seconds: 0.0,
        };
        for (i, r) in t.rows.iter().enumerate() {
            let message = r.get(&mc).map(|s| s.trim()).unwrap_or("");
            let fan =
                fc.as_ref().and_then(|c| r.get(c)).map(|s| s.trim()).filter(|s| !s.is_empty()).unwrap_or(BATCH_FAN);
            if message.is_empty() {
                report.skipped.push(Skipped { row: i + 1, reason: "no message".into() });
            } else {
                if self.store.fan_by_handle(fan)?.is_none() {
                    self.fan_add(fan, Tier::Free, Layer::Public)?;
                    report.fans_added.push(fan.to_string());
                }
                match self.route(agent, fan, message) {
                    Ok(d) => {
                        report.paths[RoutePath::ALL.iter().position(|p| *p == d.path).unwrap_or(0)] += 1;
                        report.routed.push(BatchRow {
                            row: i + 1,
                            fan: fan.to_string(),
                            message: message.to_string(),
                            path: d.path,
                            reason: d.reason,
                            reply: d.reply,
                            decision_id: d.decision_id,
                        });
                    }
                    Err(Error::InvalidInput(why)) => report.skipped.push(Skipped { row: i + 1, reason: why }),
                    Err(e) => return Err(e),
                }
            }
            progress(i + 1, t.rows.len());
        }
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
}

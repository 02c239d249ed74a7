//! Loaders for the evaluation sets of `../shared/datasets` (see their SOURCE.md files).
//! Each loader reads a folder (or the one file in it that matters) and returns plain
//! labelled texts; nothing here embeds or routes.

use fanline_core::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Questions grouped by intent: the library (canonical answers, one per intent, with
/// their phrasings) and the labelled queries (`None` = out of scope).
#[derive(Debug, Default)]
pub struct IntentSet {
    pub library: BTreeMap<String, Vec<String>>,
    pub queries: Vec<(String, Option<String>)>,
    /// Which split the queries come from ("test" when present, else "val").
    pub split: String,
    /// Questions that are none of the intents, known beforehand: what a creator would
    /// have declined (CLINC150's `oos_train` when the queries are another split).
    pub declined: Vec<String>,
}

/// Question pairs: `(stored question, new question, same meaning?)`.
pub type Pairs = Vec<(String, String, bool)>;

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io { path: path.to_path_buf(), detail: e.to_string() }
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("{}: {what}", path.display()))
}

/// `path` itself if it is a file, else `path/name`.
pub fn file_in(path: &Path, names: &[&str]) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    for n in names {
        let p = path.join(n);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Error::InvalidInput(format!("{} holds none of {}", path.display(), names.join(", "))))
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// CLINC150 (`dev.json` or `data_full.json`): the first `per_intent` training questions of
/// each intent become its canonical answer's phrasings; the queries are `test` +
/// `oos_test` when the file has them, else `val` + `oos_val` (Larson et al. 2019).
pub fn clinc150(path: &Path, per_intent: usize) -> Result<IntentSet> {
    clinc150_split(path, per_intent, false)
}

/// CLINC150 for calibration, from its training data only: the same library, and as
/// queries the next 20 training questions of each intent plus `oos_train`, so the
/// thresholds are never tuned on the split they are then measured on.
pub fn clinc150_tuning(path: &Path, per_intent: usize) -> Result<IntentSet> {
    clinc150_split(path, per_intent, true)
}

fn clinc150_split(path: &Path, per_intent: usize, tuning: bool) -> Result<IntentSet> {
    let file = file_in(path, &["dev.json", "data_full.json"])?;
    let text = std::fs::read_to_string(&file).map_err(|e| io(&file, e))?;
    let json: BTreeMap<String, Vec<(String, String)>> =
        serde_json::from_str(&text).map_err(|e| invalid(&file, format!("not CLINC150 JSON: {e}")))?;
    let take = |k: &str| json.get(k).cloned().unwrap_or_default();
    let mut set = IntentSet::default();
    let mut held: BTreeMap<String, usize> = BTreeMap::new();
    for (q, intent) in take("train") {
        let v = set.library.entry(intent.clone()).or_default();
        if v.len() < per_intent {
            v.push(q);
        } else if tuning && *held.entry(intent.clone()).or_default() < 20 {
            *held.get_mut(&intent).expect("inserted") += 1;
            set.queries.push((q, Some(intent)));
        }
    }
    if tuning {
        set.split = "train (tuning)".into();
        set.queries.extend(take("oos_train").into_iter().map(|(q, _)| (q, None)));
        return Ok(set);
    }
    let (split, oos) = if json.contains_key("test") { ("test", "oos_test") } else { ("val", "oos_val") };
    set.split = split.to_string();
    set.declined = take("oos_train").into_iter().map(|(q, _)| q).collect();
    set.queries = take(split).into_iter().map(|(q, i)| (q, Some(i))).collect();
    set.queries.extend(take(oos).into_iter().map(|(q, _)| (q, None)));
    if set.library.is_empty() || set.queries.is_empty() {
        return Err(invalid(&file, "no train questions or no queries"));
    }
    Ok(set)
}

/// Banking77 (`train.csv` or `test.csv`: text,category): the first `per_intent`
/// questions of each category are its phrasings, the rest are queries (all in scope).
pub fn banking77(path: &Path, per_intent: usize) -> Result<IntentSet> {
    let file = file_in(path, &["test.csv", "train.csv"])?;
    let mut set =
        IntentSet { split: file.file_stem().unwrap_or_default().to_string_lossy().into(), ..Default::default() };
    let mut rd = csv::Reader::from_path(&file).map_err(|e| io(&file, e))?;
    for r in rd.records() {
        let r = r.map_err(|e| invalid(&file, e))?;
        let (q, cat) = (squash(&r[0]), r[1].to_string());
        let v = set.library.entry(cat.clone()).or_default();
        if v.len() < per_intent {
            v.push(q);
        } else {
            set.queries.push((q, Some(cat)));
        }
    }
    Ok(set)
}

fn pair_rows(file: &Path, tsv: bool, has_header: bool) -> Result<Vec<csv::StringRecord>> {
    let mut rd = csv::ReaderBuilder::new()
        .delimiter(if tsv { b'\t' } else { b',' })
        .has_headers(has_header)
        .flexible(true)
        .quoting(!tsv)
        .from_path(file)
        .map_err(|e| io(file, e))?;
    rd.records().map(|r| r.map_err(|e| invalid(file, e))).collect()
}

/// Quora question pairs (TSV: id,qid1,qid2,question1,question2,is_duplicate).
pub fn quora(path: &Path) -> Result<Pairs> {
    let file = file_in(path, &["pairs_test.tsv", "pairs_dev.tsv"])?;
    let rows = pair_rows(&file, true, true)?;
    Ok(rows.iter().filter(|r| r.len() >= 6).map(|r| (squash(&r[3]), squash(&r[4]), &r[5] == "1")).collect())
}

/// Medical question pairs (CSV, no header: dr_id,question_1,question_2,label).
pub fn mqp(path: &Path) -> Result<Pairs> {
    let file = file_in(path, &["pairs_test.csv", "pairs_dev.csv"])?;
    let rows = pair_rows(&file, false, false)?;
    Ok(rows.iter().filter(|r| r.len() >= 4).map(|r| (squash(&r[1]), squash(&r[2]), r[3].trim() == "1")).collect())
}

/// COVID FAQ pairs (CSV: question_1,question_2,similar).
pub fn covid_faq(path: &Path) -> Result<Pairs> {
    let file = file_in(path, &["pairs_test.csv", "pairs_dev.csv"])?;
    let rows = pair_rows(&file, false, true)?;
    Ok(rows.iter().filter(|r| r.len() >= 3).map(|r| (squash(&r[0]), squash(&r[1]), r[2].trim() == "1")).collect())
}

/// ClariQ: one row per distinct initial request with its clarification need (1–4).
pub fn clariq(path: &Path) -> Result<Vec<(String, u8)>> {
    let file = file_in(path, &["test_with_labels.tsv", "dev.tsv"])?;
    let rows = pair_rows(&file, true, true)?;
    let mut seen = BTreeMap::new();
    for r in rows.iter().filter(|r| r.len() >= 4) {
        let need: u8 =
            r[3].trim().parse().map_err(|_| invalid(&file, format!("bad clarification_need {:?}", &r[3])))?;
        seen.entry(squash(&r[1])).or_insert(need);
    }
    Ok(seen.into_iter().collect())
}

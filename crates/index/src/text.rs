//! BM25 full-text search with tantivy. Each item is one tantivy document keyed by a
//! unique `uid` (kind and id); kind, agent and layer are indexed so filters are part of
//! the query, not applied to its results.

use crate::{Error, Result};
use fanline_engine::{ItemKey, ItemKind, SearchFilter};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, Term};

/// The uid of an item: its kind in the top bits, its id below.
pub fn uid(kind: ItemKind, id: i64) -> u64 {
    ((kind.code() as u64) << 56) | (id as u64 & ((1 << 56) - 1))
}

pub fn split_uid(uid: u64) -> Option<(ItemKind, i64)> {
    Some((ItemKind::from_code((uid >> 56) as u8)?, (uid & ((1 << 56) - 1)) as i64))
}

pub struct TextIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    f_uid: Field,
    f_kind: Field,
    f_agent: Field,
    f_layer: Field,
    f_text: Field,
}

fn schema() -> Schema {
    let mut b = Schema::builder();
    b.add_u64_field("uid", INDEXED | FAST | STORED);
    b.add_u64_field("kind", INDEXED);
    b.add_i64_field("agent", INDEXED);
    b.add_u64_field("layer", INDEXED);
    let indexing =
        TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqsAndPositions);
    b.add_text_field("text", TextOptions::default().set_indexing_options(indexing));
    b.build()
}

/// English text: lower-cased, stop words removed ("do", "you", "with" would otherwise
/// dominate BM25 for questions), stemmed.
const ANALYZER: &str = "fanline_en";

fn analyzer() -> TextAnalyzer {
    let mut b = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .dynamic();
    if let Some(stop) = StopWordFilter::new(Language::English) {
        b = b.filter_dynamic(stop);
    }
    b.filter_dynamic(Stemmer::new(Language::English)).build()
}

impl TextIndex {
    /// Open the index in `dir`; returns it with the generation its last commit was
    /// stamped with (None for a new or unstamped index). Opening never takes the
    /// writer's lock: any number of processes read at once.
    pub fn open(dir: &Path) -> Result<(TextIndex, Option<u64>)> {
        let open_err = |e: tantivy::TantivyError| Error::OpenText { dir: dir.to_path_buf(), detail: e.to_string() };
        std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.to_path_buf(), detail: e.to_string() })?;
        let index = if dir.join("meta.json").exists() {
            Index::open_in_dir(dir).map_err(open_err)?
        } else {
            Index::create_in_dir(dir, schema()).map_err(open_err)?
        };
        index.tokenizers().register(ANALYZER, analyzer());
        if index.schema() != schema() {
            return Err(Error::OpenText { dir: dir.to_path_buf(), detail: "the index has another schema".into() });
        }
        let generation = index.load_metas().map_err(open_err)?.payload.and_then(|p| p.parse().ok());
        let s = index.schema();
        let field = |n: &str| s.get_field(n).expect("field of our schema");
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(open_err)?;
        let t = TextIndex {
            dir: dir.to_path_buf(),
            f_uid: field("uid"),
            f_kind: field("kind"),
            f_agent: field("agent"),
            f_layer: field("layer"),
            f_text: field("text"),
            index,
            reader,
            writer: Mutex::new(None),
        };
        // Touch every segment once so damage shows now, not in the middle of a search.
        t.num_docs_checked()?;
        Ok((t, generation))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn num_docs_checked(&self) -> Result<u64> {
        let searcher = self.reader.searcher();
        for seg in searcher.segment_readers() {
            seg.fast_fields()
                .u64("uid")
                .map_err(|e| Error::OpenText { dir: self.dir.clone(), detail: e.to_string() })?;
        }
        Ok(searcher.num_docs())
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// See what another process committed since this reader last looked; returns the
    /// generation the index is stamped with now.
    pub fn reload(&self) -> Result<Option<u64>> {
        self.reader.reload()?;
        Ok(self.index.load_metas()?.payload.and_then(|p| p.parse().ok()))
    }

    /// Remove temporary files a killed writer left behind (older than a minute, so a
    /// live writer's are left alone).
    pub fn remove_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for e in entries.flatten() {
            let name = e.file_name();
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(60));
            if name.to_string_lossy().starts_with(".tmp") && old && std::fs::remove_file(e.path()).is_ok() {
                tracing::info!(file = %e.path().display(), "removed a temporary file a killed writer left");
            }
        }
    }

    /// Whether this handle holds the writer (changes are pending).
    pub fn writing(&self) -> bool {
        self.writer.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Drop pending changes and release the writer.
    pub fn abandon(&self) {
        if let Some(mut w) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = w.rollback();
        }
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T>) -> Result<T> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if w.is_none() {
            let writer = self.index.writer_with_num_threads(1, 50_000_000).map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => Error::Busy,
                e => Error::Tantivy(e),
            })?;
            // A writer killed mid-commit leaves files the committed index does not use
            // (a delete file this writer would create again under the same name):
            // collect them before writing.
            if let Err(e) = writer.garbage_collect_files().wait() {
                tracing::warn!("could not collect the full-text index's unused files: {e}");
            }
            *w = Some(writer);
        }
        f(w.as_mut().expect("set above"))
    }

    /// Take the writer's lock now (`Error::Busy` if another process holds it).
    pub fn lock(&self) -> Result<()> {
        self.with_writer(|_| Ok(()))
    }

    pub fn add(&self, key: &ItemKey, text: &str) -> Result<()> {
        self.with_writer(|w| {
            w.add_document(doc!(
                self.f_uid => uid(key.kind, key.id),
                self.f_kind => key.kind.code() as u64,
                self.f_agent => key.agent,
                self.f_layer => key.layer.rank() as u64,
                self.f_text => text,
            ))?;
            Ok(())
        })
    }

    pub fn remove(&self, kind: ItemKind, id: i64) -> Result<()> {
        self.with_writer(|w| {
            w.delete_term(Term::from_field_u64(self.f_uid, uid(kind, id)));
            Ok(())
        })
    }

    pub fn clear(&self) -> Result<()> {
        self.with_writer(|w| {
            w.delete_all_documents()?;
            Ok(())
        })
    }

    /// Commit pending changes, stamped with the store generation they reflect (or
    /// marked stale with `None`), and release the writer (and its lock file) so another
    /// Fanline process can write.
    pub fn commit(&self, generation: Option<u64>) -> Result<()> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(mut w) = writer else { return Ok(()) };
        let mut p = w.prepare_commit()?;
        p.set_payload(&generation.map(|g| g.to_string()).unwrap_or_else(|| "stale".into()));
        p.commit()?;
        w.wait_merging_threads()?;
        self.reader.reload()?;
        Ok(())
    }

    /// The uids (kind, id) of the best BM25 matches among admitted items, best first.
    pub fn search(&self, query: &str, filter: &SearchFilter, k: usize) -> Result<Vec<((ItemKind, i64), f32)>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut analyzer = self.index.tokenizer_for_field(self.f_text)?;
        let mut terms: Vec<Term> = Vec::new();
        let mut stream = analyzer.token_stream(query);
        while let Some(tok) = stream.next() {
            let t = Term::from_field_text(self.f_text, &tok.text);
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let words: Vec<(Occur, Box<dyn Query>)> = terms
            .into_iter()
            .map(|t| (Occur::Should, Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Box<dyn Query>))
            .collect();
        let layers: Vec<(Occur, Box<dyn Query>)> = (0..=filter.max_layer.rank())
            .map(|l| {
                (
                    Occur::Should,
                    Box::new(TermQuery::new(Term::from_field_u64(self.f_layer, l as u64), IndexRecordOption::Basic))
                        as Box<dyn Query>,
                )
            })
            .collect();
        let filter_q = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_u64(self.f_kind, filter.kind.code() as u64),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_i64(self.f_agent, filter.agent), IndexRecordOption::Basic)),
            ),
            (Occur::Must, Box::new(BooleanQuery::new(layers))),
        ]);
        let q = BooleanQuery::new(vec![
            (Occur::Must, Box::new(BooleanQuery::new(words))),
            (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(filter_q), 0.0))),
        ]);
        let searcher = self.reader.searcher();
        let top = searcher.search(&q, &TopDocs::with_limit(k).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let col = searcher.segment_reader(addr.segment_ord).fast_fields().u64("uid")?;
            if let Some(u) = col.first(addr.doc_id) {
                if let Some(key) = split_uid(u) {
                    out.push((key, score));
                }
            }
        }
        Ok(out)
    }
}

//! The creator's knowledge: importing documents, listing and deleting them, searching.

use crate::app::MAX_RESULTS;
use crate::{Error, Fanline, Result};
use fanline_engine::{chunk_search_text, ItemKind, Layer, SearchFilter};
use fanline_ingest::{chunk_blocks, collect_files, hash_bytes, read_document, ChunkOptions, ReadOptions};
use fanline_store::{DocumentRecord, NewChunk, NewDocument};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FileStatus {
    /// Imported (new, or replacing the changed file).
    Imported {
        /// The document.
        document_id: i64,
        /// Its chunks.
        chunks: usize,
        /// Chunks that needed a new embedding.
        embedded: usize,
        /// It replaced an earlier version.
        replaced: bool,
    },
    /// Already imported as it is.
    Unchanged {
        /// The document.
        document_id: i64,
    },
    /// Not imported, and why (unsupported, empty, binary, too large…).
    Skipped {
        /// Why.
        reason: String,
    },
    /// Reading or storing it failed.
    Failed {
        /// The error.
        error: String,
    },
}

/// One file of an import and what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FileOutcome {
    /// The file.
    pub path: String,
    /// What happened.
    #[serde(flatten)]
    pub status: FileStatus,
}

/// Progress of an import, for progress bars.
#[derive(Debug, Clone)]
pub enum ImportEvent<'a> {
    /// The import starts.
    Started {
        /// Files it will go through.
        files: usize,
    },
    /// `done` of `files` are finished; `outcome` is the last one.
    FileDone {
        /// Files finished.
        done: usize,
        /// Files in all.
        files: usize,
        /// The file just finished.
        outcome: &'a FileOutcome,
    },
}

/// An import's progress as plain data, for a progress bar in another window:
/// `done` of `files`, and the file just finished.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportProgress {
    /// Files in the import.
    pub files: usize,
    /// Files finished.
    pub done: usize,
    /// The file just finished.
    pub last: Option<FileOutcome>,
}

impl ImportEvent<'_> {
    /// The event as plain data.
    pub fn progress(&self) -> ImportProgress {
        match self {
            ImportEvent::Started { files } => ImportProgress { files: *files, done: 0, last: None },
            ImportEvent::FileDone { done, files, outcome } => {
                ImportProgress { files: *files, done: *done, last: Some((*outcome).clone()) }
            }
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportSummary {
    /// Each file.
    pub files: Vec<FileOutcome>,
    /// Files imported (new or changed).
    pub imported: usize,
    /// Files unchanged since the last import.
    pub unchanged: usize,
    /// Files skipped, with their reasons.
    pub skipped: usize,
    /// Files that failed.
    pub failed: usize,
    /// Chunks written by this import.
    pub chunks: usize,
    /// Chunks that needed a new embedding (the others were reused).
    pub embedded: usize,
    /// Time spent importing, after the model was loaded.
    pub seconds: f64,
    /// Chunks written per second.
    pub chunks_per_second: f64,
}

/// A document named by its id, or by the path it was imported from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DocumentRef {
    /// Its id.
    Id(i64),
    /// The path it was imported from.
    Path(PathBuf),
}

/// One search result: a chunk and where it came from.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SearchResult {
    /// Its rank, from 1.
    pub rank: usize,
    /// Fused score of meaning and keywords (see `search.fusion`).
    pub score: f64,
    /// Cosine similarity of the query and the chunk.
    pub similarity: f32,
    /// The chunk.
    pub chunk_id: i64,
    /// Its document.
    pub document_id: i64,
    /// Where the document was imported from.
    pub source_path: String,
    /// The document's title.
    pub title: String,
    /// The chunk's heading path.
    pub heading: String,
    /// The chunk's text.
    pub text: String,
    /// The chunk's layer.
    pub layer: Layer,
    /// Its rank by meaning, if it was there.
    pub vector_rank: Option<usize>,
    /// Its rank by keywords, if it was there.
    pub text_rank: Option<usize>,
}

fn display_path(p: &Path) -> String {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()).to_string_lossy().to_string()
}

impl Fanline {
    /// Import files and folders into an agent's knowledge at `layer`. Every file is
    /// read, chunked, embedded and written in its own transaction; a file that cannot be
    /// read is skipped with its reason and the rest goes on.
    pub fn import(
        &self,
        agent: Option<&str>,
        paths: &[PathBuf],
        layer: Layer,
        progress: &mut dyn FnMut(ImportEvent<'_>),
    ) -> Result<ImportSummary> {
        let agent = self.agent(agent)?;
        if paths.is_empty() {
            return Err(Error::InvalidInput("name at least one file or folder to import".into()));
        }
        let (files, walk_errors) = collect_files(paths);
        let mut summary = ImportSummary::default();
        for (path, why) in walk_errors {
            summary
                .files
                .push(FileOutcome { path: path.display().to_string(), status: FileStatus::Skipped { reason: why } });
        }
        let total = files.len() + summary.files.len();
        progress(ImportEvent::Started { files: total });
        for (i, o) in summary.files.iter().enumerate() {
            progress(ImportEvent::FileDone { done: i + 1, files: total, outcome: o });
        }
        // Load the model before the first file so a missing model is one clear error,
        // not one per file.
        if !files.is_empty() {
            self.embedder()?;
            self.open_search_index()?;
        }
        // Loading the model is a one-off start-up cost, not import work.
        let start = Instant::now();
        for path in &files {
            let status = match self.import_file(agent.id, path, layer) {
                Ok(s) => s,
                Err(e) => FileStatus::Failed { error: e.to_string() },
            };
            let outcome = FileOutcome { path: display_path(path), status };
            summary.files.push(outcome);
            let done = summary.files.len();
            progress(ImportEvent::FileDone { done, files: total, outcome: summary.files.last().expect("pushed") });
        }
        self.flush()?;
        for f in &summary.files {
            match &f.status {
                FileStatus::Imported { chunks, embedded, .. } => {
                    summary.imported += 1;
                    summary.chunks += chunks;
                    summary.embedded += embedded;
                }
                FileStatus::Unchanged { .. } => summary.unchanged += 1,
                FileStatus::Skipped { .. } => summary.skipped += 1,
                FileStatus::Failed { .. } => summary.failed += 1,
            }
        }
        summary.seconds = start.elapsed().as_secs_f64();
        summary.chunks_per_second = if summary.seconds > 0.0 { summary.chunks as f64 / summary.seconds } else { 0.0 };
        Ok(summary)
    }

    fn import_file(&self, agent_id: i64, path: &Path, layer: Layer) -> Result<FileStatus> {
        let source_path = display_path(path);
        let parsed = match read_document(path, ReadOptions { max_file_bytes: self.config.import.max_file_bytes }) {
            Ok(p) => p,
            Err(skip) => return Ok(FileStatus::Skipped { reason: skip.to_string() }),
        };
        let existing = self.store.document_by_path(agent_id, &source_path)?;
        if let Some(d) = &existing {
            if d.content_hash == parsed.content_hash && d.layer == layer {
                return Ok(FileStatus::Unchanged { document_id: d.id });
            }
        }
        let opts = ChunkOptions {
            target_chars: self.config.import.target_chars,
            max_chars: self.config.import.max_chars,
            overlap_chars: self.config.import.overlap_chars,
        };
        let chunks = chunk_blocks(&parsed.blocks, opts);
        let texts: Vec<String> = chunks.iter().map(|c| chunk_search_text(&c.heading, &c.text)).collect();
        let hashes: Vec<String> = texts.iter().map(|t| hash_bytes(t.as_bytes())).collect();
        let known = match &existing {
            Some(d) => self.store.chunk_embeddings_by_hash(d.id)?,
            None => Default::default(),
        };
        let missing: Vec<&str> =
            texts.iter().zip(&hashes).filter(|(_, h)| !known.contains_key(*h)).map(|(t, _)| t.as_str()).collect();
        let mut fresh = self.embedder()?.embed(&missing)?.into_iter();
        let embedded = missing.len();
        let mut new_chunks = Vec::with_capacity(chunks.len());
        for ((c, t), h) in chunks.iter().zip(&texts).zip(&hashes) {
            let embedding = match known.get(h) {
                Some(v) => v.clone(),
                None => fresh.next().ok_or_else(|| Error::InvalidInput(format!("no embedding for {t:?}")))?,
            };
            new_chunks.push(NewChunk {
                heading: c.heading.clone(),
                text: c.text.clone(),
                text_hash: h.clone(),
                embedding,
            });
        }
        let doc = NewDocument {
            source_path,
            title: parsed.title,
            format: parsed.format.as_str().to_string(),
            content_hash: parsed.content_hash,
            bytes: parsed.bytes,
            layer,
        };
        let document_id = self.write_indexed(true, |store| store.put_document(agent_id, &doc, &new_chunks))?;
        Ok(FileStatus::Imported { document_id, chunks: new_chunks.len(), embedded, replaced: existing.is_some() })
    }

    /// Import a document sent as bytes (the hub's upload): kept under
    /// `<data dir>/uploads/<agent>/<name>` (a plain file name only), then imported as
    /// any file is; importing the same name again replaces it.
    pub fn import_upload(&self, agent: Option<&str>, name: &str, bytes: &[u8], layer: Layer) -> Result<ImportSummary> {
        let agent = self.agent(agent)?;
        let base = Path::new(name.trim()).file_name().and_then(|n| n.to_str()).unwrap_or("");
        let safe = !base.is_empty()
            && base.len() <= 120
            && !base.starts_with('.')
            && base.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '));
        if !safe {
            return Err(Error::InvalidInput(format!(
                "{name:?} is not a file name to keep: use letters, digits, spaces, '.', '-' and '_'"
            )));
        }
        let dir = self.config.data_dir.join("uploads").join(&agent.name);
        let io = |e: std::io::Error| Error::Io { path: dir.clone(), detail: e.to_string() };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let path = dir.join(base);
        let tmp = dir.join(format!(".{base}.tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        self.import(Some(&agent.name), &[path], layer, &mut |_| {})
    }

    /// An agent's documents.
    pub fn documents(&self, agent: Option<&str>) -> Result<Vec<DocumentRecord>> {
        let agent = self.agent(agent)?;
        Ok(self.store.list_documents(agent.id)?)
    }

    /// Import a document again from where it came from, at its layer (it changed on
    /// disk; unchanged files are kept as they are).
    pub fn reimport_document(
        &self,
        agent: Option<&str>,
        id: i64,
        progress: &mut dyn FnMut(ImportEvent<'_>),
    ) -> Result<ImportSummary> {
        let a = self.agent(agent)?;
        let doc = self.store.document(id)?;
        if doc.agent_id != a.id {
            return Err(Error::InvalidInput(format!("document {id} belongs to another agent")));
        }
        self.import(Some(&a.name), &[PathBuf::from(&doc.source_path)], doc.layer, progress)
    }

    /// Delete a document (by id, or by the path it was imported from) from the database
    /// and the index.
    pub fn delete_document(&self, agent: Option<&str>, which: &DocumentRef) -> Result<DocumentRecord> {
        let agent = self.agent(agent)?;
        let doc = match which {
            DocumentRef::Id(id) => self.store.document(*id)?,
            DocumentRef::Path(p) => self
                .store
                .document_by_path(agent.id, &display_path(p))?
                .ok_or_else(|| Error::InvalidInput(format!("no imported document at {}", p.display())))?,
        };
        if doc.agent_id != agent.id {
            return Err(Error::InvalidInput(format!("document {} belongs to another agent", doc.id)));
        }
        self.write_indexed(false, |store| store.delete_document(doc.id).map(|c| ((), c)))?;
        self.flush()?;
        Ok(doc)
    }

    /// Search an agent's documents as a viewer at `layer` sees them: nothing above that
    /// layer is ever returned.
    pub fn search(
        &self,
        agent: Option<&str>,
        query: &str,
        layer: Layer,
        limit: Option<usize>,
    ) -> Result<Vec<SearchResult>> {
        let query = query.trim();
        if query.is_empty() {
            return Err(Error::InvalidInput("the search query is empty".into()));
        }
        let agent = self.agent(agent)?;
        let q = self.embedder()?.embed_one(query)?;
        let limit = limit.unwrap_or(self.config.search.limit);
        let limit = crate::app::within("the number of results", limit, MAX_RESULTS)?;
        let filter = SearchFilter { kind: ItemKind::Chunk, agent: agent.id, max_layer: layer };
        let hits = self.with_index(|idx| Ok(idx.search(&q, query, &filter, limit)?))?;
        let ids: Vec<i64> = hits.iter().map(|h| h.key.id).collect();
        let chunks = self.store.chunks_by_ids(&ids)?;
        let by_id: std::collections::HashMap<i64, _> = chunks.into_iter().map(|c| (c.id, c)).collect();
        Ok(hits
            .iter()
            .filter_map(|h| by_id.get(&h.key.id).map(|c| (h, c)))
            // Defence in depth: the index filters by layer; the store's row must agree.
            .filter(|(_, c)| layer.can_see(c.layer) && c.agent_id == agent.id)
            .enumerate()
            .map(|(i, (h, c))| SearchResult {
                rank: i + 1,
                score: h.score,
                similarity: h.cosine,
                chunk_id: c.id,
                document_id: c.document_id,
                source_path: c.source_path.clone(),
                title: c.title.clone(),
                heading: c.heading.clone(),
                text: c.text.clone(),
                layer: c.layer,
                vector_rank: h.vector_rank,
                text_rank: h.text_rank,
            })
            .collect())
    }
}

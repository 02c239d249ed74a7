//! Text and JSON output.

use fanline_core::bench::BenchReport;
use fanline_core::{
    CanonicalAnswer, CanonicalHit, CanonicalSummary, DoctorReport, DocumentRecord, Fan, FileStatus, ImportEvent,
    ImportSummary, InitReport, SearchResult,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Print `value` as JSON, or through `human`.
pub fn out<T: Serialize + ?Sized>(json: bool, value: &T, human: fn(&T)) -> fanline_core::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value).expect("serialisable"));
    } else {
        human(value);
    }
    Ok(())
}

/// Errors: `{"error": {"code", "message"}}` on stdout with --json, a sentence on stderr otherwise.
pub fn error(e: &fanline_core::Error, json: bool) {
    if json {
        println!("{}", serde_json::json!({ "error": e.body() }));
    } else {
        eprintln!("error: {e}");
    }
}

fn one_line(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

pub fn init(r: &InitReport) {
    let what = if r.created { "created" } else { "already exists" };
    println!("data directory  {}", r.data_dir.display());
    println!("database        {} (schema version {})", r.database.display(), r.schema_version);
    println!("agent           {} ({what})", r.agent.name);
}

/// A progress bar on stderr for imports (hidden with --json or when stderr is not a terminal).
pub struct ImportBar(ProgressBar);

impl ImportBar {
    pub fn new(json: bool) -> Self {
        let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(0) };
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} files  {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        ImportBar(bar)
    }
    pub fn event(&self, ev: &ImportEvent<'_>) {
        match ev {
            ImportEvent::Started { files } => self.0.set_length(*files as u64),
            ImportEvent::FileDone { done, outcome } => {
                self.0.set_position(*done as u64);
                self.0.set_message(one_line(&outcome.path, 50));
            }
        }
    }
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub fn import(s: &ImportSummary) {
    for f in &s.files {
        let what = match &f.status {
            FileStatus::Imported { chunks, embedded, replaced, .. } => format!(
                "{} {chunks} chunk{} ({embedded} embedded)",
                if *replaced { "replaced" } else { "imported" },
                if *chunks == 1 { "" } else { "s" }
            ),
            FileStatus::Unchanged { .. } => "unchanged".to_string(),
            FileStatus::Skipped { reason } => format!("skipped: {reason}"),
            FileStatus::Failed { error } => format!("FAILED: {error}"),
        };
        println!("{:<60} {what}", one_line(&f.path, 60));
    }
    println!(
        "\n{} imported, {} unchanged, {} skipped, {} failed — {} chunks in {:.1} s ({:.0} chunks/s)",
        s.imported, s.unchanged, s.skipped, s.failed, s.chunks, s.seconds, s.chunks_per_second
    );
}

pub fn search(results: &[SearchResult]) {
    if results.is_empty() {
        println!("no results");
    }
    for r in results {
        println!("{}. [{:.3}] {} — {}", r.rank, r.similarity, r.title, r.source_path);
        if !r.heading.is_empty() {
            println!("   § {}", r.heading);
        }
        println!("   {}\n", one_line(&r.text, 200));
    }
}

pub fn documents(docs: &[DocumentRecord]) {
    if docs.is_empty() {
        println!("no documents; import some with `fanline import PATH`");
    }
    for d in docs {
        println!("{:>5}  {:<9} {:>4} chunks  {:<8}  {}", d.id, d.layer, d.chunks, d.format, d.source_path);
    }
}

pub fn deleted_document(d: &DocumentRecord) {
    println!("deleted document {} ({}, {} chunks)", d.id, d.source_path, d.chunks);
}

pub fn canonical(c: &CanonicalAnswer) {
    println!("#{}  [{}]  reused {} times", c.id, c.layer, c.times_reused);
    println!("Q: {}", c.question_pattern);
    for v in c.variants.iter().filter(|v| !v.is_pattern) {
        println!("   also: {}", v.text);
    }
    println!("A: {}", c.answer);
}

pub fn canonical_deleted(c: &CanonicalAnswer) {
    println!("deleted canonical answer #{} ({})", c.id, one_line(&c.question_pattern, 60));
}

pub fn canonical_list(list: &[CanonicalSummary]) {
    if list.is_empty() {
        println!("no canonical answers yet");
    }
    for c in list {
        println!(
            "#{:<5} {:<9} reused {:>4}  {:>2} phrasings  {}",
            c.id,
            c.layer,
            c.times_reused,
            c.variants,
            one_line(&c.question_pattern, 70)
        );
    }
}

pub fn canonical_hits(hits: &[CanonicalHit]) {
    if hits.is_empty() {
        println!("no canonical answer found");
    }
    for h in hits {
        println!(
            "#{} [{:.3}] {}\n   matched: {}\n   A: {}\n",
            h.canonical_id,
            h.similarity,
            h.question_pattern,
            h.matched_question,
            one_line(&h.answer, 160)
        );
    }
}

pub fn fan(f: &Fan) {
    println!("{}  tier {}  layer {}", f.handle, f.tier, f.layer);
}

pub fn fans(list: &[Fan]) {
    if list.is_empty() {
        println!("no fans yet; add one with `fanline fan add HANDLE --tier free`");
    }
    list.iter().for_each(fan);
}

pub fn doctor(r: &DoctorReport) {
    for c in &r.checks {
        println!("{} {:<9} {}", if c.ok { "ok  " } else { "FAIL" }, c.name, c.detail);
    }
    println!("{}", if r.ok { "\neverything is in place" } else { "\nsome checks failed (see above)" });
}

pub fn bench(r: &BenchReport) {
    println!(
        "import: {} files, {} chunks in {:.2} s = {:.0} chunks/s (parse, chunk, embed, store, index); \
         the model alone: {:.0} chunks/s",
        r.import.files,
        r.import.chunks,
        r.import.seconds,
        r.import.chunks_per_second,
        r.import.embed_only_chunks_per_second
    );
    println!(
        "query embedding: p50 {:.0} µs, p99 {:.0} µs (not included below)\n",
        r.query_embedding_p50_us, r.query_embedding_p99_us
    );
    println!("{:>9}  {:<16} {:>10} {:>10} {:>10}", "vectors", "method", "p50 µs", "p99 µs", "recall@10");
    for row in &r.search {
        let recall = row.recall_at_10.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
        println!("{:>9}  {:<16} {:>10.0} {:>10.0} {:>10}", row.vectors, row.method, row.p50_us, row.p99_us, recall);
    }
}

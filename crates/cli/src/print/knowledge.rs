//! Printing the knowledge: init, import, search, documents, canonical answers.

use super::{one_line, say, Out};
use fanline_core::{
    CanonicalAnswer, CanonicalHit, CanonicalSummary, DocumentRecord, FileStatus, ImportSummary, InitReport,
    SearchResult,
};

pub fn init(o: &mut Out, r: &InitReport) {
    let what = if r.created { "created" } else { "already exists" };
    say!(o, "data directory  {}", r.data_dir.display());
    say!(o, "database        {} (schema version {})", r.database.display(), r.schema_version);
    say!(o, "agent           {} ({what})", r.agent.name);
}

pub fn import(o: &mut Out, s: &ImportSummary) {
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
        say!(o, "{:<60} {what}", one_line(&f.path, 60));
    }
    say!(
        o,
        "\n{} imported, {} unchanged, {} skipped, {} failed — {} chunks in {:.1} s ({:.0} chunks/s)",
        s.imported,
        s.unchanged,
        s.skipped,
        s.failed,
        s.chunks,
        s.seconds,
        s.chunks_per_second
    );
}

pub fn search(o: &mut Out, results: &[SearchResult]) {
    if results.is_empty() {
        say!(o, "no results");
    }
    for r in results {
        say!(o, "{}. [{:.3}] {} — {}", r.rank, r.similarity, r.title, r.source_path);
        if !r.heading.is_empty() {
            say!(o, "   § {}", r.heading);
        }
        say!(o, "   {}\n", one_line(&r.text, 200));
    }
}

pub fn documents(o: &mut Out, docs: &[DocumentRecord]) {
    if docs.is_empty() {
        say!(o, "no documents; import some with `fanline import PATH`");
    }
    for d in docs {
        say!(o, "{:>5}  {:<9} {:>4} chunks  {:<8}  {}", d.id, d.layer, d.chunks, d.format, d.source_path);
    }
}

pub fn deleted_document(o: &mut Out, d: &DocumentRecord) {
    say!(o, "deleted document {} ({}, {} chunks)", d.id, d.source_path, d.chunks);
}

pub fn canonical(o: &mut Out, c: &CanonicalAnswer) {
    say!(o, "#{}  [{}]  reused {} times", c.id, c.layer, c.times_reused);
    say!(o, "Q: {}", c.question_pattern);
    for v in c.variants.iter().filter(|v| !v.is_pattern) {
        say!(o, "   also: {}", v.text);
    }
    say!(o, "A: {}", c.answer);
}

pub fn canonical_deleted(o: &mut Out, c: &CanonicalAnswer) {
    say!(o, "deleted canonical answer #{} ({})", c.id, one_line(&c.question_pattern, 60));
}

pub fn canonical_list(o: &mut Out, list: &[CanonicalSummary]) {
    if list.is_empty() {
        say!(o, "no canonical answers yet");
    }
    for c in list {
        say!(
            o,
            "#{:<5} {:<9} reused {:>4}  {:>2} phrasings  {}",
            c.id,
            c.layer,
            c.times_reused,
            c.variants,
            one_line(&c.question_pattern, 70)
        );
    }
}

pub fn canonical_hits(o: &mut Out, hits: &[CanonicalHit]) {
    if hits.is_empty() {
        say!(o, "no canonical answer found");
    }
    for h in hits {
        say!(
            o,
            "#{} [{:.3}] {}\n   matched: {}\n   A: {}\n",
            h.canonical_id,
            h.similarity,
            h.question_pattern,
            h.matched_question,
            one_line(&h.answer, 160)
        );
    }
}

//! Which fusion of meaning (cosine) and keywords (BM25) retrieves the right passage?
//!
//! Data: ../shared/datasets/covid_faq (deepset COVID-QA). The 213 FAQ entries become one
//! Markdown document, each question a heading with its answer below, as a creator's FAQ
//! page would be. Each pair labelled similar whose `question_1` is an FAQ question gives
//! a fan query (`question_2`) whose right passage is a chunk under that heading.
//! Prints hit@1 and MRR@5 for each setting, all measured in one run.
//!
//! `cargo run --release -p fanline-lab --example fusion_eval [DATASETS_DIR]`

use fanline_core::config::FusionKind;
use fanline_core::{Config, Fanline};
use fanline_engine::Layer;
use std::collections::HashSet;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"));
    let dir = root.join("covid_faq");
    let mut faq: Vec<(String, String)> = Vec::new();
    for r in csv::Reader::from_path(dir.join("faq_covidbert.csv"))?.records() {
        let r = r?;
        faq.push((r[0].split_whitespace().collect::<Vec<_>>().join(" "), r[1].trim().to_string()));
    }
    let questions: HashSet<&str> = faq.iter().map(|(q, _)| q.as_str()).collect();
    let mut queries: Vec<(String, String)> = Vec::new();
    for r in csv::Reader::from_path(dir.join("pairs_dev.csv"))?.records() {
        let r = r?;
        let target = r[0].split_whitespace().collect::<Vec<_>>().join(" ");
        if &r[2] == "1" && questions.contains(target.as_str()) {
            queries.push((r[1].trim().to_string(), target));
        }
    }
    let tmp = tempfile::tempdir()?;
    let mut md = String::from("# COVID-19 FAQ\n\n");
    for (q, a) in &faq {
        md += &format!("## {q}\n\n{a}\n\n");
    }
    std::fs::write(tmp.path().join("faq.md"), md)?;
    let base = Config { data_dir: tmp.path().join("data"), ..Config::default() };
    {
        let app = Fanline::open(base.clone())?;
        app.init(None)?;
        let s = app.import(None, &[tmp.path().join("faq.md")], Layer::Public, &mut |_| {})?;
        eprintln!("{} FAQ entries → {} chunks; {} queries", faq.len(), s.chunks, queries.len());
    }
    println!("{:<22} {:>7} {:>7}", "fusion", "hit@1", "MRR@5");
    let mut settings: Vec<(FusionKind, f64)> =
        [1.0, 0.9, 0.85, 0.8, 0.7, 0.5, 0.0].iter().map(|w| (FusionKind::Convex, *w)).collect();
    settings.push((FusionKind::Rrf, 0.0));
    for (fusion, w) in settings {
        let mut cfg = base.clone();
        cfg.search.fusion = fusion;
        cfg.search.dense_weight = w;
        let app = Fanline::open(cfg)?;
        let (mut hit1, mut mrr) = (0.0, 0.0);
        for (q, target) in &queries {
            let hits = app.search(None, q, Layer::Public, Some(5))?;
            if let Some(rank) = hits.iter().position(|h| h.heading.ends_with(target.as_str())) {
                mrr += 1.0 / (rank + 1) as f64;
                if rank == 0 {
                    hit1 += 1.0;
                }
            }
        }
        let n = queries.len() as f64;
        let name = if fusion == FusionKind::Rrf { "rrf (k = 60)".to_string() } else { format!("convex w = {w:.2}") };
        println!("{:<22} {:>7.3} {:>7.3}", name, hit1 / n, mrr / n);
    }
    Ok(())
}

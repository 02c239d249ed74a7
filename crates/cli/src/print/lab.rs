//! Printing the measurements: eval, calibrate, the benchmarks.

use super::{say, Out};
use fanline_core::quality::ReuseMetrics;
use fanline_lab::bench::BenchReport;
use fanline_lab::conversations::ConversationReport;
use fanline_lab::eval::calibrate::Calibration;
use fanline_lab::eval::EvalReport;

pub fn bench(o: &mut Out, r: &BenchReport) {
    say!(
        o,
        "import: {} files, {} chunks in {:.2} s = {:.0} chunks/s (parse, chunk, embed, store, index); \
         the model alone: {:.0} chunks/s",
        r.import.files,
        r.import.chunks,
        r.import.seconds,
        r.import.chunks_per_second,
        r.import.embed_only_chunks_per_second
    );
    say!(
        o,
        "query embedding: p50 {:.0} µs, p99 {:.0} µs (not included below)\n",
        r.query_embedding_p50_us,
        r.query_embedding_p99_us
    );
    say!(o, "{:>9}  {:<16} {:>10} {:>10} {:>10}", "vectors", "method", "p50 µs", "p99 µs", "recall@10");
    for row in &r.search {
        let recall = row.recall_at_10.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
        say!(o, "{:>9}  {:<16} {:>10.0} {:>10.0} {:>10}", row.vectors, row.method, row.p50_us, row.p99_us, recall);
    }
    if !r.pgvector.is_empty() {
        say!(
            o,
            "\n{:>9}  {:>9} {:>10} {:>10} {:>10} {:>12}",
            "vectors",
            "load s",
            "index s",
            "table MB",
            "index MB",
            "in-proc MB"
        );
        let mb = |b: f64| b / 1e6;
        for p in &r.pgvector {
            say!(
                o,
                "{:>9}  {:>9.1} {:>10.1} {:>10.1} {:>10.1} {:>12.1}",
                p.vectors,
                p.load_seconds,
                p.index_seconds,
                mb(p.table_bytes as f64),
                mb(p.index_bytes as f64),
                mb(p.in_process_bytes as f64)
            );
        }
        say!(o, "pgvector: HNSW m = 16, ef_construction = 128, iterative scans (strict order); latency includes the round trip");
    }
}

fn reuse_row(o: &mut Out, m: &ReuseMetrics) {
    say!(
        o,
        "{:<46} {:>8.3} {:>8.3} {:>9.3} {:>7} {:>8.3}",
        m.setting,
        m.in_scope_accuracy,
        m.oos_recall,
        m.oos_precision,
        m.reuse_hits,
        m.wrong_reuse_rate
    );
}

fn reuse_header(o: &mut Out) {
    say!(o, "{:<46} {:>8} {:>8} {:>9} {:>7} {:>8}", "setting", "in-scope", "oos rec", "oos prec", "C hits", "wrong C");
}

pub fn eval(o: &mut Out, r: &EvalReport) {
    say!(
        o,
        "{:?} ({}): {} answers, {} phrasings, {} queries, {:.1} s",
        r.dataset,
        r.split,
        r.answers,
        r.phrasings,
        r.queries,
        r.seconds
    );
    if let Some(m) = &r.reuse {
        let p = &r.params;
        say!(o, "params: {}\n", params(p));
        reuse_header(o);
        reuse_row(o, m);
        say!(o);
        for m in &r.ablation {
            reuse_row(o, m);
        }
    }
    for (i, g) in r.grouping.iter().enumerate() {
        let what = if i == 0 { "queue grouping (the queue's test)" } else { "               stricter" };
        say!(
            o,
            "{}{what} from {:.2}: {} of {} pairs together, {:.1}% of them not duplicates; {:.1}% of the duplicates together",
            if i == 0 { "\n" } else { "" },
            g.threshold,
            g.merged,
            g.pairs,
            100.0 * g.wrong_merge_rate,
            100.0 * g.duplicates_merged
        );
    }
    if let Some(c) = &r.clarification {
        say!(
            o,
            "clarification (need >= 3: {} of {}): vagueness >= {:.2}: precision {:.3}, recall {:.3}, F1 {:.3} \
             (best F1 {:.3} at {:.2})",
            c.needing,
            c.requests,
            c.vagueness_threshold,
            c.precision,
            c.recall,
            c.f1,
            c.best_f1,
            c.best_threshold
        );
    }
}

pub fn calibration(o: &mut Out, c: &Calibration) {
    let p = &c.params;
    say!(o, "{:?} ({}): {} settings tried", c.dataset, c.split, c.settings_tried);
    say!(o, "proposed: {} (slack {:.2})\n", params(p), c.slack);
    reuse_header(o);
    reuse_row(o, &c.metrics);
    reuse_row(o, &c.current);
    say!(o,
        "\nto use it, in config.toml:\n[routing]\nanswer_threshold_slack = {:.2}\n[routing.reuse]\nthreshold = {:.2}\nyoung_threshold = {:.2}\n\
         margin = {:.2}\nper_answer = {}\nnegation_check = {}\nnumber_check = {}\ntop_m = {}\nlearned = {}\n\
         min_probability = {:.2}\ntrust_phrasings = {}",
        c.slack,
        p.threshold,
        p.young_threshold,
        p.margin,
        p.per_answer,
        p.negation_check,
        p.number_check,
        p.top_m,
        p.learned,
        p.min_probability,
        p.trust_phrasings
    );
}

fn params(p: &fanline_engine::reuse::ReuseParams) -> String {
    let model = match p.learned {
        true => format!(
            "the learned model's pick with probability ≥ {:.2} (in full from {} phrasings), ",
            p.min_probability, p.trust_phrasings
        ),
        false => String::new(),
    };
    format!(
        "{model}threshold {:.2} (young answers {:.2}, or {:.2} with the same words), margin {:.2}, mean of best {} \
         phrasings, per-answer thresholds {}, negation check {}, number check {}",
        p.threshold, p.young_threshold, p.young_band, p.margin, p.top_m, p.per_answer, p.negation_check, p.number_check
    )
}

pub fn bench_route(o: &mut Out, r: &fanline_lab::bench_route::RouteBenchReport) {
    say!(
        o,
        "{:>7} {:>9} {:>9} {:>8} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9}  paths",
        "readers",
        "canonical",
        "decisions",
        "p50 ms",
        "p99 ms",
        "embed p50",
        "plan p50",
        "rest p50",
        "dec/s 1t",
        "dec/s 2t"
    );
    for row in &r.rows {
        let paths: Vec<String> = row.paths.iter().map(|(p, n)| format!("{p} {n}")).collect();
        say!(
            o,
            "{:>7} {:>9} {:>9} {:>8.2} {:>8.2} {:>10.2} {:>9.2} {:>9.2} {:>9.0} {:>9.0}  {}",
            row.readers,
            row.canonical_answers,
            row.decisions,
            row.p50_us / 1000.0,
            row.p99_us / 1000.0,
            row.embed_p50_us / 1000.0,
            row.plan_p50_us / 1000.0,
            row.rest_p50_us / 1000.0,
            row.decisions_per_second_1_thread,
            row.decisions_per_second_2_threads,
            paths.join(" ")
        );
    }
    for row in &r.rows {
        let steps: Vec<String> = row.steps_p50_us.iter().map(|(k, v)| format!("{k} {:.2}", v / 1000.0)).collect();
        say!(o, "{:>7} {:>9}  step p50 ms: {}", row.readers, row.canonical_answers, steps.join(", "));
    }
    for row in &r.rows {
        say!(
            o,
            "{:>7} {:>9}  reuse model: {} answers, first fit {:.1} ms, refit after one phrasing added {:.1} ms",
            row.readers,
            row.canonical_answers,
            row.model_answers,
            row.model_fit_ms,
            row.model_refit_ms
        );
    }
}

pub fn history_calibration(o: &mut Out, c: &fanline_core::HistoryCalibration) {
    say!(
        o,
        "{}: {} past decisions with a known right answer ({} where an answer was right to serve), {} settings tried",
        c.agent,
        c.examples,
        c.reusable,
        c.settings_tried
    );
    say!(o, "proposed: {}\n", params(&c.params));
    reuse_header(o);
    reuse_row(o, &c.metrics);
    reuse_row(o, &c.current);
    say!(
        o,
        "\nto use it, in config.toml:\n[routing.reuse]\nthreshold = {:.2}\nyoung_threshold = {:.2}\nmargin = {:.2}",
        c.params.threshold,
        c.params.young_threshold,
        c.params.margin
    );
}

pub fn bench_critics(o: &mut Out, rows: &[fanline_critics::bench::OverheadRow]) {
    say!(o, "{:<30} {:>9} {:>10} {:>10}", "critics (no model)", "messages", "p50 µs", "p99 µs");
    for r in rows {
        say!(o, "{:<30} {:>9} {:>10.1} {:>10.1}", r.case, r.messages, r.p50_us, r.p99_us);
    }
}

pub fn conversations(o: &mut Out, r: &ConversationReport) {
    for t in r.results.iter().filter(|t| !t.right) {
        say!(o, "✗ #{:<3} {:<58} {}  {}", t.conversation, excerpt(&t.say, 58), t.path, t.misses.join("; "));
    }
    say!(o, "\n{:<10} {:>6} {:>6}", "expected", "right", "of");
    for (p, right, of) in &r.by_path {
        say!(o, "{:<10} {:>6} {:>6}", p.as_str(), right, of);
    }
    say!(
        o,
        "\n{} of {} turns right ({:.1}%) in {} conversations; {} leak(s), {} wrong reuse(s); {:.1} s",
        r.right,
        r.turns,
        100.0 * r.score(),
        r.conversations,
        r.leaks,
        r.wrong_reuses,
        r.seconds
    );
}

fn excerpt(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

pub fn bench_serve(o: &mut Out, r: &fanline_lab::bench_serve::ServeBenchReport) {
    say!(
        o,
        "{:<23} {:>11} {:>8} {:>9} {:>8} {:>8} {:>8} {:>7} {:>13}  vs bench route",
        "hub",
        "concurrency",
        "offered",
        "messages",
        "msg/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "writes/commit"
    );
    for row in &r.rows {
        let ratio = if r.route_decisions_per_second > 0.0 {
            row.messages_per_second / r.route_decisions_per_second
        } else {
            0.0
        };
        say!(
            o,
            "{:<23} {:>11} {:>8} {:>9} {:>8.0} {:>8.1} {:>8.1} {:>7} {:>13.1}  {:.2}×",
            row.variant.label(),
            row.concurrency,
            row.offered_per_second.map_or("max".to_string(), |r| format!("{r:.0}/s")),
            row.messages,
            row.messages_per_second,
            row.p50_ms,
            row.p99_ms,
            row.errors,
            row.writes_per_commit,
            ratio
        );
    }
    say!(o, "bench route, same run (one process, 2 threads, no HTTP): {:.0} decisions/s", r.route_decisions_per_second);
    say!(
        o,
        "offered max: each fan sends its next message when the last is answered; offered N/s: \
         messages on a fixed schedule, latency from the scheduled time (queueing included)"
    );
    say!(
        o,
        "every message and decision stored; the log synced {}",
        if r.sync_every_commit { "at every commit (store.sync_every_commit)" } else { "at checkpoints only" }
    );
}

pub fn bench_pg_ops(o: &mut Out, rows: &[fanline_lab::bench_pg_ops::PgOpsRow]) {
    say!(o, "{:<36} {:>11} {:>7} {:>10} {:>8} {:>8}", "operation", "connections", "ops", "ops/s", "p50 ms", "p99 ms");
    for r in rows {
        say!(
            o,
            "{:<36} {:>11} {:>7} {:>10.0} {:>8.2} {:>8.2}",
            r.operation,
            r.concurrency,
            r.ops,
            r.per_second,
            r.p50_ms,
            r.p99_ms
        );
    }
}

pub fn bench_store(o: &mut Out, rows: &[fanline_lab::bench_store::StoreBenchRow]) {
    say!(
        o,
        "{:<11} {:>8} {:>9} {:>11} {:>8} {:>8}",
        "backend",
        "threads",
        "messages",
        "messages/s",
        "p50 ms",
        "p99 ms"
    );
    for r in rows {
        say!(
            o,
            "{:<11} {:>8} {:>9} {:>11.0} {:>8.2} {:>8.2}",
            r.backend,
            r.concurrency,
            r.messages,
            r.per_second,
            r.p50_ms,
            r.p99_ms
        );
    }
    say!(
        o,
        "one message: posted under its key, routed to an offer with its reply, the offer accepted (3 transactions)"
    );
}

pub fn bench_sync(o: &mut Out, rows: &[fanline_lab::bench_sync::SyncRow]) {
    say!(o, "{:<40} {:>9} {:>9} {:>10}", "sync step", "items", "seconds", "per second");
    for r in rows {
        say!(o, "{:<40} {:>9} {:>9.2} {:>10.0}", r.step, r.items, r.seconds, r.per_second);
    }
}

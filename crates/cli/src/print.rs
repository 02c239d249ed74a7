//! Text and JSON output.

use fanline_core::bench::BenchReport;
use fanline_core::eval::calibrate::Calibration;
use fanline_core::eval::{EvalReport, ReuseMetrics};
use fanline_core::metrics::Metrics;
use fanline_core::policy::PolicyReport;
use fanline_core::{AcceptReport, Decision, Escalation, QueueItem, RouteReport};
use fanline_core::{
    CanonicalAnswer, CanonicalHit, CanonicalSummary, DoctorReport, DocumentRecord, Fan, FileStatus, ImportEvent,
    ImportSummary, InitReport, SearchResult,
};
use fanline_engine::route::{Signals, Trace};
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
            ImportEvent::FileDone { done, outcome, .. } => {
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

/// A counting progress bar on stderr (hidden with --json).
pub struct Progress(ProgressBar);

impl Progress {
    pub fn new(json: bool, what: &str) -> Self {
        let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(0) };
        bar.set_style(
            ProgressStyle::with_template(&format!("{{spinner}} [{{bar:30}}] {{pos}}/{{len}} {what}"))
                .expect("valid template")
                .progress_chars("=> "),
        );
        Progress(bar)
    }
    pub fn tick(&self, done: usize, total: usize) {
        self.0.set_length(total as u64);
        self.0.set_position(done as u64);
    }
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn reuse_row(m: &ReuseMetrics) {
    println!(
        "{:<46} {:>8.3} {:>8.3} {:>9.3} {:>7} {:>8.3}",
        m.setting, m.in_scope_accuracy, m.oos_recall, m.oos_precision, m.reuse_hits, m.wrong_reuse_rate
    );
}

fn reuse_header() {
    println!("{:<46} {:>8} {:>8} {:>9} {:>7} {:>8}", "setting", "in-scope", "oos rec", "oos prec", "C hits", "wrong C");
}

pub fn eval(r: &EvalReport) {
    println!(
        "{:?} ({}): {} answers, {} phrasings, {} queries, {:.1} s",
        r.dataset, r.split, r.answers, r.phrasings, r.queries, r.seconds
    );
    if let Some(m) = &r.reuse {
        let p = &r.params;
        println!("params: {}\n", params(p));
        reuse_header();
        reuse_row(m);
        println!();
        r.ablation.iter().for_each(reuse_row);
    }
    if let Some(c) = &r.clarification {
        println!(
            "clarification (need >= 3: {} of {}): vagueness >= {:.2}: precision {:.3}, recall {:.3}, F1 {:.3} \
             (best F1 {:.3} at {:.2})",
            c.needing, c.requests, c.vagueness_threshold, c.precision, c.recall, c.f1, c.best_f1, c.best_threshold
        );
    }
}

pub fn calibration(c: &Calibration) {
    let p = &c.params;
    println!("{:?} ({}): {} settings tried", c.dataset, c.split, c.settings_tried);
    println!("proposed: {} (slack {:.2})\n", params(p), c.slack);
    reuse_header();
    reuse_row(&c.metrics);
    reuse_row(&c.current);
    println!(
        "\nto use it, in config.toml:\n[routing]\nanswer_threshold_slack = {:.2}\n[routing.reuse]\nthreshold = {:.2}\nyoung_threshold = {:.2}\n\
         margin = {:.2}\nper_answer = {}\nnegation_check = {}\nnumber_check = {}\ntop_m = {}",
        c.slack, p.threshold, p.young_threshold, p.margin, p.per_answer, p.negation_check, p.number_check, p.top_m
    );
}

fn params(p: &fanline_engine::reuse::ReuseParams) -> String {
    format!(
        "threshold {:.2} (young answers {:.2}), margin {:.2}, mean of best {} phrasings, per-answer thresholds {}, \
         negation check {}, number check {}",
        p.threshold, p.young_threshold, p.margin, p.top_m, p.per_answer, p.negation_check, p.number_check
    )
}

fn trace(t: &Trace) {
    println!(
        "why — {} steps in {:.2} ms{}:",
        t.steps.len(),
        t.total_us as f64 / 1000.0,
        t.decided_by.as_ref().map(|d| format!(", decided by {d}")).unwrap_or_default()
    );
    let width = t.steps.iter().map(|s| s.step.chars().count()).max().unwrap_or(0);
    for s in &t.steps {
        let timing = if s.outcome == "skipped" && s.duration_us == 0 {
            "-".to_string()
        } else {
            format!("{:.2} ms", s.duration_us as f64 / 1000.0)
        };
        println!("  {} {:<width$} {:<8} {:>9}  {}", s.wave, s.step, s.outcome, timing, s.note);
    }
}

fn signals_line(s: &Signals) -> String {
    format!(
        "similarity {:.3} · novelty {:.3} · complexity {:.2} · vagueness {:.2} · confidence {:.2} · risk {}{}",
        s.similarity,
        s.novelty,
        s.complexity,
        s.vagueness,
        s.confidence,
        s.risk,
        if s.risk_reasons.is_empty() { String::new() } else { format!(" ({})", s.risk_reasons.join("; ")) }
    )
}

pub fn route(r: &RouteReport) {
    println!("path {} — {}", r.path, r.reason);
    println!("decision #{}  message #{}  fan {}  agent {}\n", r.decision_id, r.message_id, r.fan, r.agent);
    for line in r.reply.lines() {
        println!("  {line}");
    }
    println!();
    if let Some(w) = &r.policy_warning {
        println!("warning: {w}\n");
    }
    if let Some(s) = &r.signals {
        println!("signals: {}", signals_line(s));
    }
    for c in r.candidates.iter().take(3) {
        println!(
            "  canonical #{} {:.3} ({} phrasings) \"{}\"",
            c.canonical_id,
            c.similarity,
            c.phrasings,
            one_line(&c.matched_text, 70)
        );
    }
    trace(&r.trace);
}

pub fn accept(a: &AcceptReport) {
    println!("offer #{}: path {} — {}", a.escalation_id, a.path, a.reply);
}

pub fn queue(items: &[QueueItem]) {
    if items.is_empty() {
        println!("the queue is empty");
    }
    for q in items {
        let deferred = q.deferred_until.as_ref().map(|d| format!("  deferred until {d}")).unwrap_or_default();
        println!(
            "#{:<5} prio {:>4}  {:<9} {:<12} {:>6.1} h  {}{}",
            q.id,
            q.priority,
            q.reason,
            format!("{} ({})", q.fan, q.tier),
            q.age_hours,
            one_line(&q.question, 70),
            deferred
        );
        if !q.context_summary.is_empty() {
            for l in q.context_summary.lines() {
                println!("        {}", one_line(l, 100));
            }
        }
    }
}

pub fn escalation(e: &Escalation) {
    println!("escalation #{} is {}: {}", e.id, e.status, one_line(&e.question, 80));
}

pub fn decisions(list: &[Decision]) {
    if list.is_empty() {
        println!("no decisions yet");
    }
    for d in list {
        println!(
            "#{:<6} {}  {}  fan {}  {}",
            d.id,
            &d.created_at[..19.min(d.created_at.len())],
            d.path,
            d.fan_id,
            one_line(&d.reason, 90)
        );
    }
}

pub fn decision(d: &Decision) {
    println!("decision #{} — path {} — {}", d.id, d.path, d.reason);
    println!("message #{}  fan {}  at {}\n", d.message_id, d.fan_id, d.created_at);
    for line in d.reply.lines() {
        println!("  {line}");
    }
    println!();
    if let Some(s) = d.signals.get("signals").filter(|s| s.is_object()) {
        let f = |k: &str| s.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
        println!(
            "signals: similarity {:.3} · novelty {:.3} · complexity {:.2} · vagueness {:.2} · confidence {:.2} · risk {}",
            f("similarity"),
            f("novelty"),
            f("complexity"),
            f("vagueness"),
            f("confidence"),
            s.get("risk").and_then(|v| v.as_str()).unwrap_or("-").to_uppercase()
        );
    }
    if let Ok(t) = serde_json::from_value::<Trace>(d.trace.clone()) {
        trace(&t);
    }
}

pub fn metrics(m: &Metrics) {
    println!("{} — last {} day(s) since {} ({})", m.agent, m.days, m.since.format("%Y-%m-%d %H:%M UTC"), m.timezone);
    println!(
        "messages {}  auto-answered {:.0}%  reused {:.0}%",
        m.messages,
        100.0 * m.auto_answer_rate,
        100.0 * m.reuse_rate
    );
    let paths: Vec<String> = m.paths.iter().map(|(p, n)| format!("{p} {n}")).collect();
    println!("paths: {}", if paths.is_empty() { "none".into() } else { paths.join("  ") });
    println!(
        "escalations: {}/{} today, {}/{} this week; backlog {}, offers pending {}",
        m.escalations_today, m.max_per_day, m.escalations_this_week, m.max_per_week, m.backlog, m.pending_offers
    );
    println!(
        "offers accepted {:.0}%, declined by the creator {:.0}%, median time to answer {}, escalations per 100 fans {:.1}",
        100.0 * m.offer_acceptance_rate,
        100.0 * m.decline_rate,
        m.median_hours_to_answer.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "-".into()),
        m.escalations_per_100_fans
    );
    for d in &m.per_day {
        let paths: Vec<String> = d.paths.iter().map(|(p, n)| format!("{p} {n}")).collect();
        println!("  {}  {:<30} auto {:.0}%", d.date, paths.join("  "), 100.0 * d.auto_answer_rate);
    }
    if !m.top_answers.is_empty() {
        println!("top reused answers:");
        for a in &m.top_answers {
            println!(
                "  #{:<5} reused {:>4} ({} in period)  {}",
                a.canonical_id,
                a.times_reused,
                a.served_in_period,
                one_line(&a.question_pattern, 70)
            );
        }
    }
}

pub fn rules(r: &fanline_engine::AgentConfig) {
    if let serde_json::Value::Object(m) = serde_json::to_value(r).expect("rules serialise") {
        for (k, v) in m {
            println!("{k:<34} {v}");
        }
    }
}

pub fn value(v: &serde_json::Value) {
    match v {
        serde_json::Value::String(s) => println!("{s}"),
        other => println!("{other}"),
    }
}

pub fn policy(p: &PolicyReport) {
    println!("{}: valid", p.path.display());
    println!("  tiers:  {}", if p.tiers.is_empty() { "-".into() } else { p.tiers.join(", ") });
    println!("  topics: {}", if p.topics.is_empty() { "-".into() } else { p.topics.join(", ") });
    println!("  risk:   {}", if p.risk.is_empty() { "-".into() } else { p.risk.join(", ") });
}

pub fn bench_route(r: &fanline_core::bench_route::RouteBenchReport) {
    println!(
        "{:>9} {:>9} {:>8} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9}  paths",
        "canonical", "decisions", "p50 ms", "p99 ms", "embed p50", "plan p50", "rest p50", "dec/s 1t", "dec/s 2t"
    );
    for row in &r.rows {
        let paths: Vec<String> = row.paths.iter().map(|(p, n)| format!("{p} {n}")).collect();
        println!(
            "{:>9} {:>9} {:>8.2} {:>8.2} {:>10.2} {:>9.2} {:>9.2} {:>9.0} {:>9.0}  {}",
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
        println!("{:>9}  step p50 ms: {}", row.canonical_answers, steps.join(", "));
    }
}

pub fn history_calibration(c: &fanline_core::eval::calibrate::HistoryCalibration) {
    println!(
        "{}: {} past decisions with a known right answer ({} where an answer was right to serve), {} settings tried",
        c.agent, c.examples, c.reusable, c.settings_tried
    );
    println!("proposed: {}\n", params(&c.params));
    reuse_header();
    reuse_row(&c.metrics);
    reuse_row(&c.current);
    println!(
        "\nto use it, in config.toml:\n[routing.reuse]\nthreshold = {:.2}\nyoung_threshold = {:.2}\nmargin = {:.2}",
        c.params.threshold, c.params.young_threshold, c.params.margin
    );
}

pub fn judged(d: &Decision) {
    println!("decision #{} (path {}) judged; `fanline calibrate --history` learns from it", d.id, d.path);
}

/// Tokens to stdout as they are written (nothing with --json: the report follows).
pub fn stream(json: bool) -> impl FnMut(fanline_core::StreamEvent<'_>) + Send {
    move |e| {
        if json {
            return;
        }
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        match e {
            fanline_core::StreamEvent::Token(t) => {
                let _ = write!(out, "{t}");
            }
            fanline_core::StreamEvent::Restart => {
                let _ = writeln!(out, "\n[the answer was cut off; starting over]");
            }
        }
        let _ = out.flush();
    }
}

pub fn asked(r: &RouteReport) {
    match (&r.generation, r.path) {
        (Some(g), fanline_engine::RoutePath::A | fanline_engine::RoutePath::B) => {
            let how = match (g.source, &g.provider, &g.reason) {
                ("llm", Some(p), _) => {
                    format!("written by {p} ({} in, {} out tokens)", g.input_tokens, g.output_tokens)
                }
                (s, _, Some(why)) => format!("{s}: {why}"),
                (s, _, None) => s.to_string(),
            };
            println!("\n\n(path {} — {})", r.path, how);
        }
        _ => {
            println!("{}\n\n(path {} — {})", r.reply, r.path, r.reason);
        }
    }
}

/// An API key from standard input (first line).
pub fn read_key() -> fanline_core::Result<String> {
    let mut key = String::new();
    std::io::stdin()
        .read_line(&mut key)
        .map_err(|e| fanline_core::Error::InvalidInput(format!("reading the key from standard input: {e}")))?;
    Ok(key.trim().to_string())
}

pub fn provider(p: &fanline_core::ProviderInfo) {
    let s = &p.settings;
    let key = match p.key {
        fanline_llm::keys::KeySource::Keychain => "key in the OS keychain".to_string(),
        fanline_llm::keys::KeySource::Environment => format!("key from {}", p.key_variable),
        fanline_llm::keys::KeySource::None => format!("no key (set {} if it needs one)", p.key_variable),
    };
    print!("{:<3} {:<14} {:<9} {:<28} {}  {key}", s.priority, s.name, s.kind, s.model, s.base_url);
    if let Some(st) = &p.stats {
        print!(
            "  | {} calls, {} errors, {} retries, breaker {:?}, p50 {}",
            st.calls,
            st.errors,
            st.retries,
            st.breaker,
            st.p50_ms.map(|v| format!("{v:.0} ms")).unwrap_or_else(|| "-".into())
        );
    }
    println!();
}

pub fn providers(list: &[fanline_core::ProviderInfo]) {
    if list.is_empty() {
        println!("no providers; answers are extractive. Add one, e.g. for Ollama:");
        println!("  fanline provider add ollama --base-url http://localhost:11434/v1 --model llama3.2");
    }
    list.iter().for_each(provider);
}

pub fn provider_test(t: &fanline_core::ProviderTest) {
    if t.ok {
        println!("{}: ok in {:.0} ms — {:?}", t.name, t.latency_ms, t.reply);
    } else {
        println!("{}: FAILED after {:.0} ms — {}", t.name, t.latency_ms, t.error.as_deref().unwrap_or(""));
    }
}

pub fn bench_critics(rows: &[fanline_critics::bench::OverheadRow]) {
    println!("{:<30} {:>9} {:>10} {:>10}", "critics (no model)", "messages", "p50 µs", "p99 µs");
    for r in rows {
        println!("{:<30} {:>9} {:>10.1} {:>10.1}", r.case, r.messages, r.p50_us, r.p99_us);
    }
}

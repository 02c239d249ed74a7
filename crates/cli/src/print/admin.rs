//! Printing the creator's settings and state: fans, doctor, metrics, rules, policy,
//! providers.

use super::{one_line, say, say_part, Out};
use fanline_core::metrics::Metrics;
use fanline_core::policy::PolicyReport;
use fanline_core::{DoctorReport, Fan};

pub fn fan(o: &mut Out, f: &Fan) {
    say!(o, "{}  tier {}  layer {}", f.handle, f.tier, f.layer);
}

pub fn fans(o: &mut Out, list: &[Fan]) {
    if list.is_empty() {
        say!(o, "no fans yet; add one with `fanline fan add HANDLE --tier free`");
    }
    for f in list {
        fan(o, f);
    }
}

pub fn doctor(o: &mut Out, r: &DoctorReport) {
    for c in &r.checks {
        say!(o, "{} {:<9} {}", if c.ok { "ok  " } else { "FAIL" }, c.name, c.detail);
    }
    say!(o, "{}", if r.ok { "\neverything is in place" } else { "\nsome checks failed (see above)" });
}

pub fn metrics(o: &mut Out, m: &Metrics) {
    say!(o, "{} — last {} day(s) since {} ({})", m.agent, m.days, m.since.format("%Y-%m-%d %H:%M UTC"), m.timezone);
    say!(
        o,
        "messages {}  auto-answered {:.0}%  reused {:.0}%",
        m.messages,
        100.0 * m.auto_answer_rate,
        100.0 * m.reuse_rate
    );
    let paths: Vec<String> = m.paths.iter().map(|(p, n)| format!("{p} {n}")).collect();
    say!(o, "paths: {}", if paths.is_empty() { "none".into() } else { paths.join("  ") });
    say!(
        o,
        "escalations: {}/{} today, {}/{} this week; backlog {}, offers pending {}",
        m.escalations_today,
        m.max_per_day,
        m.escalations_this_week,
        m.max_per_week,
        m.backlog,
        m.pending_offers
    );
    say!(o,
        "offers accepted {:.0}%, declined by the creator {:.0}%, median time to answer {}, escalations per 100 fans {:.1}",
        100.0 * m.offer_acceptance_rate,
        100.0 * m.decline_rate,
        m.median_hours_to_answer.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "-".into()),
        m.escalations_per_100_fans
    );
    if m.unrouted_messages > 0 {
        say!(o, "{} fan message(s) have no decision: run `fanline recover`", m.unrouted_messages);
    }
    if let Some(rate) = m.answered_within_sla {
        let tiers: Vec<String> =
            m.sla.iter().map(|s| format!("{} {}/{} within {} h", s.tier, s.within, s.answered, s.hours)).collect();
        say!(
            o,
            "answered within the reply time {:.0}% ({}); overdue now {}",
            100.0 * rate,
            tiers.join(", "),
            m.overdue
        );
    } else if !m.sla.is_empty() {
        say!(o, "no answer yet to a tier with a reply time; overdue now {}", m.overdue);
    }
    let backlog: Vec<String> = m.backlog_per_day.iter().map(|d| d.end.to_string()).collect();
    say!(o, "queue at each day's end: {}", backlog.join(" "));
    for d in &m.per_day {
        let paths: Vec<String> = d.paths.iter().map(|(p, n)| format!("{p} {n}")).collect();
        say!(o, "  {}  {:<30} auto {:.0}%", d.date, paths.join("  "), 100.0 * d.auto_answer_rate);
    }
    if !m.top_answers.is_empty() {
        say!(o, "top reused answers:");
        for a in &m.top_answers {
            say!(
                o,
                "  #{:<5} reused {:>4} ({} in period)  {}",
                a.canonical_id,
                a.times_reused,
                a.served_in_period,
                one_line(&a.question_pattern, 70)
            );
        }
    }
}

pub fn rules(o: &mut Out, r: &fanline_engine::AgentConfig) {
    if let serde_json::Value::Object(m) = serde_json::to_value(r).expect("rules serialise") {
        for (k, v) in m {
            say!(o, "{k:<34} {v}");
        }
    }
}

pub fn value(o: &mut Out, v: &serde_json::Value) {
    match v {
        serde_json::Value::String(s) => say!(o, "{s}"),
        other => say!(o, "{other}"),
    }
}

pub fn policy(o: &mut Out, p: &PolicyReport) {
    say!(o, "{}: valid", p.path.display());
    say!(o, "  tiers:  {}", if p.tiers.is_empty() { "-".into() } else { p.tiers.join(", ") });
    say!(o, "  topics: {}", if p.topics.is_empty() { "-".into() } else { p.topics.join(", ") });
    say!(o, "  risk:   {}", if p.risk.is_empty() { "-".into() } else { p.risk.join(", ") });
}

pub fn provider(o: &mut Out, p: &fanline_core::ProviderInfo) {
    let s = &p.settings;
    let key = match p.key {
        fanline_llm::keys::KeySource::Keychain => "key in the OS keychain".to_string(),
        fanline_llm::keys::KeySource::Environment => format!("key from {}", p.key_variable),
        fanline_llm::keys::KeySource::None => format!("no key (set {} if it needs one)", p.key_variable),
    };
    say_part!(o, "{:<3} {:<14} {:<9} {:<28} {}  {key}", s.priority, s.name, s.kind, s.model, s.base_url);
    if let Some(st) = &p.stats {
        say_part!(
            o,
            "  | {} calls, {} errors, {} retries, breaker {:?}, p50 {}",
            st.calls,
            st.errors,
            st.retries,
            st.breaker,
            st.p50_ms.map(|v| format!("{v:.0} ms")).unwrap_or_else(|| "-".into())
        );
    }
    say!(o);
}

pub fn providers(o: &mut Out, list: &[fanline_core::ProviderInfo]) {
    if list.is_empty() {
        say!(o, "no providers; answers are extractive. Add one, e.g. for Ollama:");
        say!(o, "  fanline provider add ollama --base-url http://localhost:11434/v1 --model llama3.2");
    }
    for p in list {
        provider(o, p);
    }
}

pub fn provider_test(o: &mut Out, t: &fanline_core::ProviderTest) {
    if t.ok {
        say!(o, "{}: ok in {:.0} ms — {:?}", t.name, t.latency_ms, t.reply);
    } else {
        say!(o, "{}: FAILED after {:.0} ms — {}", t.name, t.latency_ms, t.error.as_deref().unwrap_or(""));
    }
}

pub fn provider_removed(o: &mut Out, p: &fanline_core::ProviderSettings) {
    say!(o, "removed provider {} and its key", p.name);
}

pub fn path(o: &mut Out, p: &std::path::Path) {
    say!(o, "{}", p.display());
}

pub fn invite(o: &mut Out, i: &fanline_core::hub::InviteLink) {
    say!(
        o,
        "invite for {} (tier {}, layer {}), valid until {}:",
        i.handle,
        i.tier,
        i.layer,
        i.expires_at.format("%Y-%m-%d %H:%M UTC")
    );
    say!(o, "{}", i.url);
}

pub fn revoked(o: &mut Out, r: &fanline_core::hub::Revoked) {
    say!(o, "{}: {} invite link(s) and {} session(s) revoked", r.handle, r.invites, r.sessions);
}

pub fn site(o: &mut Out, s: &fanline_core::Site) {
    say!(o, "site key: {}", s.site_key);
    match s.origins.is_empty() {
        true => say!(o, "origins allowed to embed the widget: none yet (fanline hub site --origin https://your.site)"),
        false => say!(o, "origins allowed to embed the widget: {}", s.origins.join(", ")),
    }
}

pub fn secret(o: &mut Out, s: &String) {
    say!(o, "{s}");
    say!(o, "(sign fans' user_hash = HMAC-SHA256(secret, external_id), or their identity JWT (HS256), with it on your own server; never put it in a web page)");
}

pub fn pairing(o: &mut Out, p: &fanline_core::hub::Pairing) {
    let scopes: Vec<&str> = p.scopes.iter().map(|s| s.as_str()).collect();
    say!(o, "pairing code: {}  (scopes {}; until {})", p.code, scopes.join(", "), p.expires_at.format("%H:%M UTC"));
}

pub fn device_token(o: &mut Out, t: &fanline_core::hub::DeviceToken) {
    say!(
        o,
        "device {} \"{}\" (scopes {}); its token, shown once:",
        t.device.id,
        t.device.name,
        t.device.scopes.join(", ")
    );
    say!(o, "{}", t.token);
}

pub fn device(o: &mut Out, d: &fanline_core::Device) {
    let state = match d.revoked_at {
        Some(t) => format!("revoked {}", t.format("%Y-%m-%d %H:%M")),
        None => d
            .last_used_at
            .map(|t| format!("last used {}", t.format("%Y-%m-%d %H:%M")))
            .unwrap_or_else(|| "never used".into()),
    };
    say!(o, "{:>4}  {:<20} {:<12} {}", d.id, d.name, d.scopes.join(","), state);
}

pub fn devices(o: &mut Out, list: &[fanline_core::Device]) {
    if list.is_empty() {
        say!(o, "no devices yet (fanline hub token create --name laptop)");
    }
    for d in list {
        device(o, d);
    }
}

pub fn backed_up(o: &mut Out, r: &fanline_core::backup::BackupReport) {
    say!(
        o,
        "backed up to {} ({:.1} MB, schema version {})",
        r.path.display(),
        r.bytes as f64 / 1e6,
        r.manifest.schema_version
    );
    for old in &r.removed {
        say!(o, "  removed the older {}", old.display());
    }
}

pub fn restored(o: &mut Out, r: &fanline_core::backup::RestoreReport) {
    say!(o, "restored {} (made {}) into {}", r.from.display(), r.manifest.created_at, r.data_dir.display());
    if let Some(aside) = &r.moved_aside {
        say!(o, "  what was there before is in {}", aside.display());
    }
}

pub fn exported(o: &mut Out, r: &fanline_core::export::ExportReport) {
    let busy: Vec<String> = r.tables.iter().filter(|(_, n)| *n > 0).map(|(t, n)| format!("{t} {n}")).collect();
    say!(o, "{} rows: {}", r.rows, busy.join(", "));
}

pub fn inbox(o: &mut Out, r: &fanline_core::inbox::InboxReport) {
    say!(
        o,
        "{} row(s) read (questions from {:?}, replies from {:?}) in {:.1} s: {} answer(s) created, {} merged as phrasings, {} skipped",
        r.rows,
        r.question_column,
        r.answer_column,
        r.seconds,
        r.created,
        r.merged,
        r.skipped.len()
    );
    for s in &r.skipped {
        say!(o, "  skipped row {}: {}", s.row, s.reason);
    }
    if !r.suggestions.is_empty() {
        say!(
            o,
            "asked before with another reply (if they are the same answer: `fanline canonical merge ID --into LIKE`):"
        );
    }
    for m in &r.suggestions {
        say!(
            o,
            "  row {} → #{} \"{}\" is like #{} \"{}\" ({:.2})",
            m.row,
            m.canonical_id,
            one_line(&m.question, 50),
            m.like,
            one_line(&m.like_question, 50),
            m.similarity
        );
    }
}

pub fn batch(o: &mut Out, r: &fanline_core::inbox::BatchReport) {
    use fanline_engine::RoutePath;
    for b in &r.routed {
        say!(
            o,
            "row {:<4} {}  {:<12} {}  — {}",
            b.row,
            b.path,
            b.fan,
            one_line(&b.message, 50),
            one_line(&b.reason, 60)
        );
    }
    for s in &r.skipped {
        say!(o, "row {:<4} skipped: {}", s.row, s.reason);
    }
    let paths: Vec<String> =
        RoutePath::ALL.iter().zip(&r.paths).filter(|(_, n)| **n > 0).map(|(p, n)| format!("{p} {n}")).collect();
    say!(o, "{} row(s), {} routed in {:.1} s: {}", r.rows, r.routed.len(), r.seconds, paths.join(", "));
    if !r.fans_added.is_empty() {
        say!(o, "fans added (free, public): {}", r.fans_added.join(", "));
    }
}

/// `route --batch --out FILE`: each routed row as CSV.
pub fn batch_csv(path: &std::path::Path, r: &fanline_core::inbox::BatchReport) -> fanline_core::Result<()> {
    let io = |e: csv::Error| fanline_core::Error::Io { path: path.to_path_buf(), detail: e.to_string() };
    let mut w = csv::Writer::from_path(path).map_err(io)?;
    w.write_record(["row", "fan", "message", "path", "reason", "reply", "decision_id"]).map_err(io)?;
    for b in &r.routed {
        let row = b.row.to_string();
        let id = b.decision_id.to_string();
        w.write_record([row.as_str(), &b.fan, &b.message, b.path.as_str(), &b.reason, &b.reply, &id]).map_err(io)?;
    }
    w.flush().map_err(|e| fanline_core::Error::Io { path: path.to_path_buf(), detail: e.to_string() })
}

pub fn replayed(o: &mut Out, r: &fanline_core::replay::ReplayReport) {
    use fanline_engine::RoutePath;
    say!(
        o,
        "replayed {} fan message(s) since {} in {:.1} s; nothing was written",
        r.messages,
        r.since.format("%Y-%m-%d"),
        r.seconds
    );
    if r.drifted > 0 {
        say!(
            o,
            "({} would already go elsewhere than recorded under the rules now: answers and documents changed since)",
            r.drifted
        );
    }
    let letters: Vec<&str> = RoutePath::ALL.iter().map(|p| p.as_str()).collect();
    say!(o, "\n{:<12} {}", "paths", letters.iter().map(|l| format!("{l:>5}")).collect::<String>());
    for v in std::iter::once(&r.baseline).chain(&r.variants) {
        let changed = if v.label == r.baseline.label { String::new() } else { format!("   {} change(s)", v.changed) };
        say!(o, "{:<12} {}{changed}", v.label, v.paths.iter().map(|n| format!("{n:>5}")).collect::<String>());
    }
    for v in &r.variants {
        say!(o, "\n{}: rows the rules now, columns {}", v.label, v.label);
        say!(o, "     {}", letters.iter().map(|l| format!("{l:>5}")).collect::<String>());
        for (i, row) in v.matrix.iter().enumerate() {
            let cells: String =
                row.iter().map(|n| if *n == 0 { format!("{:>5}", ".") } else { format!("{n:>5}") }).collect();
            say!(o, "  {}  {cells}", letters[i]);
        }
        for e in &v.examples {
            say!(o, "  {} → {}  {}  ({})", e.from, e.to, one_line(&e.message, 60), one_line(&e.reason, 60));
        }
    }
    say!(o, "\ncaps (every offer counted as accepted unless the fan turned it down before):");
    for v in std::iter::once(&r.baseline).chain(&r.variants) {
        let c = &v.caps;
        say!(
            o,
            "  {:<12} busiest day {} offer(s); {} day(s) over {} a day, {} week(s) over {} a week",
            v.label,
            c.busiest_day,
            c.days_over,
            c.max_per_day,
            c.weeks_over,
            c.max_per_week
        );
    }
}

pub fn reembedded(o: &mut Out, r: &fanline_core::ReembedReport) {
    let was = r.previous.as_deref().unwrap_or("an unrecorded model");
    say!(o, "embedded again with {} ({}-dimensional; was {was}) in {:.1} s:", r.model, r.dim, r.seconds);
    say!(
        o,
        "  {} chunk(s), {} phrasing(s), {} example(s); the search index was rebuilt",
        r.chunks,
        r.phrasings,
        r.examples
    );
}

pub fn gaps(o: &mut Out, gaps: &[fanline_core::gaps::Gap]) {
    if gaps.is_empty() {
        say!(o, "no gaps: every question fans escalated lately has an answer");
    }
    for (i, g) in gaps.iter().enumerate() {
        say!(o, "{}. {} fan(s), asked {} time(s), last {}", i + 1, g.fans, g.asked, g.last_asked.format("%Y-%m-%d"));
        for q in &g.questions {
            say!(o, "   {q}");
        }
    }
}

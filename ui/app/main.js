// The app's screens over the same library functions as the CLI: every action is one
// command (src-tauri/src/lib.rs) into fanline-core; nothing here decides anything.
const invoke = window.__TAURI__.core.invoke;
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const failed = (target, e) => target.replaceChildren(el("p", "fail", `${e.code}: ${e.message}`));

// Tabs, with Alt+1…4.
function show(tab) {
  document.querySelectorAll(".tab").forEach((s) => s.classList.toggle("active", s.id === tab));
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
  ({ queue: loadQueue, simulator: loadFans, metrics: loadMetrics, search: () => $("query").focus(), log: loadLog, rules: loadRules, library: loadLibrary, providers: loadProviders })[tab]();
}
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.tab)));
document.addEventListener("keydown", (ev) => {
  const tabs = ["queue", "simulator", "metrics", "search", "log", "rules", "library", "providers"];
  if (ev.altKey && ev.key >= "1" && ev.key <= "8") show(tabs[Number(ev.key) - 1]);
});

async function refreshStatus() {
  try {
    const r = await invoke("doctor");
    const index = r.checks.find((c) => c.name === "index");
    $("status").textContent = r.ok ? index.detail : r.checks.filter((c) => !c.ok).map((c) => c.detail).join(" · ");
    $("status").className = r.ok ? "ok" : "fail";
  } catch (e) {
    $("status").textContent = e.message;
    $("status").className = "fail";
  }
}

// Queue: pick an escalation, answer it (it becomes a canonical answer), decline or defer.
async function loadQueue() {
  const list = $("queue-list");
  try {
    const items = await invoke("queue");
    list.replaceChildren(...items.map((q) => {
      const li = el("li", "item");
      li.append(el("div", "head", `#${q.id} · ${q.fan} (${q.tier}) · ${q.reason} · ${q.age_hours.toFixed(1)} h`), el("p", "", q.question));
      li.addEventListener("click", () => openItem(q));
      return li;
    }));
    if (items.length === 0) list.replaceChildren(el("li", "muted", "The queue is empty."));
  } catch (e) {
    failed(list, e);
  }
}

function openItem(q) {
  const d = $("queue-detail");
  const text = el("textarea");
  text.id = "answer-text";
  text.placeholder = "Your answer (Ctrl+Enter to send)";
  const layer = el("select");
  for (const l of ["public", "friends", "intimate"]) layer.append(new Option(l, l));
  const status = el("p", "muted");
  const act = (label, fn) => {
    const b = el("button", "", label);
    b.addEventListener("click", async () => {
      try {
        status.textContent = await fn();
        await loadQueue();
      } catch (e) {
        status.textContent = `${e.code}: ${e.message}`;
      }
    });
    return b;
  };
  const answer = act("Answer", async () => {
    const c = await invoke("queue_answer", { id: q.id, text: text.value, layer: layer.value });
    return `Answered: canonical answer #${c.id} will serve this question from now on.`;
  });
  text.addEventListener("keydown", (ev) => { if (ev.ctrlKey && ev.key === "Enter") answer.click(); });
  d.replaceChildren(
    el("h2", "", q.question),
    el("pre", "summary", q.context_summary || ""),
    text, layer, answer,
    act("Decline", async () => (await invoke("queue_decline", { id: q.id }), "Declined.")),
    act("Defer 24 h", async () => (await invoke("queue_defer", { id: q.id, hours: 24 }), "Deferred for a day.")),
    status,
  );
  text.focus();
}

// Simulator: send a message as a fan and see the decision and its trace.
async function loadFans() {
  try {
    const fans = await invoke("fans");
    $("sim-fan").replaceChildren(...fans.map((f) => new Option(`${f.handle} (${f.tier}, ${f.layer})`, f.handle)));
  } catch (e) {
    failed($("sim-result"), e);
  }
  $("sim-message").focus();
}

$("sim-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = $("sim-result");
  out.replaceChildren(el("p", "muted", "Routing…"));
  try {
    const r = await invoke("simulate", { fan: $("sim-fan").value, message: $("sim-message").value });
    const trace = el("table", "trace");
    for (const s of r.trace.steps) {
      const tr = el("tr", s.outcome);
      tr.append(el("td", "", s.step), el("td", "", s.outcome), el("td", "", s.note));
      trace.append(tr);
    }
    const parts = [el("h2", `path path-${r.path}`, `Path ${r.path} — ${r.reason}`), el("pre", "reply", r.reply)];
    if (r.escalation_id) {
      const b = el("button", "", `Accept offer #${r.escalation_id} as the fan`);
      b.addEventListener("click", async () => {
        const a = await invoke("accept", { id: r.escalation_id });
        b.replaceWith(el("p", "", `Path ${a.path}: ${a.reply}`));
      });
      parts.push(b);
    }
    out.replaceChildren(...parts, el("h3", "", "Why"), trace);
  } catch (e) {
    failed(out, e);
  }
});

// Metrics: paths per day, the caps, reuse.
async function loadMetrics() {
  const body = $("metrics-body");
  try {
    const m = await invoke("metrics", { days: 7 });
    const pct = (x) => `${Math.round(100 * x)}%`;
    const cards = el("div", "cards");
    for (const [k, v] of [["messages", m.messages], ["auto-answered", pct(m.auto_answer_rate)], ["reused", pct(m.reuse_rate)],
      ["escalations today", `${m.escalations_today}/${m.max_per_day}`], ["this week", `${m.escalations_this_week}/${m.max_per_week}`],
      ["backlog", m.backlog]]) {
      const c = el("div", "card");
      c.append(el("div", "value", String(v)), el("div", "label", k));
      cards.append(c);
    }
    const days = el("div", "days");
    for (const d of m.per_day) {
      const row = el("div", "day");
      row.append(el("span", "date", d.date));
      for (const [p, n] of Object.entries(d.paths)) {
        const bar = el("span", `bar path-${p}`, `${p} ${n}`);
        bar.style.flexGrow = n;
        row.append(bar);
      }
      days.append(row);
    }
    const top = el("ol", "top");
    for (const a of m.top_answers) top.append(el("li", "", `${a.question_pattern} — reused ${a.times_reused}×`));
    body.replaceChildren(cards, el("h3", "", "Paths per day"), days, el("h3", "", "Most reused answers"), top);
  } catch (e) {
    failed(body, e);
  }
}

$("search-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const list = $("results");
  list.replaceChildren();
  try {
    const hits = await invoke("search", { query: $("query").value, layer: $("layer").value, limit: 5 });
    for (const h of hits) {
      const li = el("li");
      li.append(el("div", "head", `${h.similarity.toFixed(3)} · ${h.title}${h.heading ? " › " + h.heading : ""}`), el("p", "", h.text));
      list.append(li);
    }
    if (hits.length === 0) list.textContent = "No results.";
  } catch (e) {
    failed(list, e);
  }
});

// Decision log: every decision with its path; pick one for its trace.
function traceTable(steps) {
  const t = el("table", "trace");
  for (const s of steps) {
    const tr = el("tr", s.outcome);
    tr.append(el("td", "", s.step), el("td", "", s.outcome), el("td", "", s.note));
    t.append(tr);
  }
  return t;
}

async function loadLog() {
  const list = $("log-list");
  try {
    const path = $("log-path").value || null;
    const fan = $("log-fan").value.trim() || null;
    const ds = await invoke("decisions", { path, fan, limit: 200 });
    list.replaceChildren(...ds.map((d) => {
      const li = el("li", "item");
      li.append(el("div", "head", `#${d.id} · path ${d.path} · fan ${d.fan_id} · ${d.created_at.slice(0, 19)}`), el("p", "", d.reason));
      li.addEventListener("click", () => {
        $("log-detail").replaceChildren(el("h2", `path path-${d.path}`, `Path ${d.path} — ${d.reason}`), el("pre", "reply", d.reply), el("h3", "", "Why"), traceTable(d.trace.steps || []));
      });
      return li;
    }));
    if (ds.length === 0) list.replaceChildren(el("li", "muted", "No decisions match."));
  } catch (e) {
    failed(list, e);
  }
}
$("log-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadLog(); });

// Rules and the policy file: errors shown where they are.
let rules = null;
async function loadRules() {
  try {
    rules = await invoke("rules");
    const form = $("rules-form");
    form.replaceChildren();
    for (const [k, v] of Object.entries(rules)) {
      const label = el("label", "", k);
      const input = el("input");
      input.dataset.key = k;
      input.value = typeof v === "string" ? v : JSON.stringify(v);
      label.append(input);
      form.append(label);
    }
    $("policy-text").value = await invoke("policy_text");
  } catch (e) {
    $("rules-status").textContent = `${e.code}: ${e.message}`;
  }
}
$("rules-save").addEventListener("click", async () => {
  const next = { ...rules };
  try {
    for (const input of $("rules-form").querySelectorAll("input")) {
      const k = input.dataset.key;
      next[k] = typeof rules[k] === "string" ? input.value : JSON.parse(input.value);
    }
    rules = await invoke("set_rules", { rules: next });
    $("rules-status").textContent = "Saved.";
    $("rules-status").className = "ok";
  } catch (e) {
    $("rules-status").textContent = e.code ? `${e.code}: ${e.message}` : `Not valid JSON: ${e.message}`;
    $("rules-status").className = "fail";
  }
});
$("policy-save").addEventListener("click", async () => {
  try {
    await invoke("policy_save", { text: $("policy-text").value });
    $("policy-status").textContent = "Valid and saved; routing uses it from the next message.";
    $("policy-status").className = "ok";
  } catch (e) {
    $("policy-status").textContent = e.message;
    $("policy-status").className = "fail";
  }
});

// Canonical answers: find, open (phrasings, reuse), add a phrasing, delete.
async function loadLibrary() {
  const list = $("lib-list");
  const q = $("lib-query").value.trim();
  try {
    const rows = q
      ? (await invoke("canonical_search", { question: q, layer: "intimate" })).map((h) => ({ id: h.canonical_id, question_pattern: h.question_pattern, times_reused: h.times_reused, layer: h.layer, note: `similarity ${h.similarity.toFixed(3)}` }))
      : (await invoke("canonical_list")).map((c) => ({ ...c, note: `${c.variants} phrasing(s)` }));
    list.replaceChildren(...rows.map((c) => {
      const li = el("li", "item");
      li.append(el("div", "head", `#${c.id} · ${c.layer} · reused ${c.times_reused}× · ${c.note}`), el("p", "", c.question_pattern));
      li.addEventListener("click", () => openAnswer(c.id));
      return li;
    }));
    if (rows.length === 0) list.replaceChildren(el("li", "muted", "No canonical answers yet."));
  } catch (e) {
    failed(list, e);
  }
}
$("lib-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadLibrary(); });

async function openAnswer(id) {
  const d = $("lib-detail");
  try {
    const c = await invoke("canonical_show", { id });
    const phrasings = el("ul");
    for (const v of c.variants) phrasings.append(el("li", v.is_pattern ? "head" : "", v.text));
    const add = el("input");
    add.placeholder = "Another way fans ask this (Enter to add)";
    add.addEventListener("keydown", async (ev) => {
      if (ev.key !== "Enter") return;
      try {
        await invoke("canonical_add_variant", { id, text: add.value });
        await openAnswer(id);
      } catch (e) {
        d.append(el("p", "fail", `${e.code}: ${e.message}`));
      }
    });
    const del = el("button", "", "Delete");
    del.addEventListener("click", async () => {
      await invoke("canonical_delete", { id });
      d.replaceChildren(el("p", "muted", `Deleted #${id}.`));
      loadLibrary();
    });
    d.replaceChildren(
      el("h2", "", c.question_pattern),
      el("p", "muted", `${c.layer} · reused ${c.times_reused}× · last served ${c.last_served_at || "never"}`),
      el("pre", "reply", c.answer), el("h3", "", "Phrasings"), phrasings, add, del,
    );
  } catch (e) {
    failed(d, e);
  }
}

// Providers: in priority order, where the key comes from, breaker and latency; test, remove, add.
async function loadProviders() {
  const t = $("prov-table");
  try {
    const ps = await invoke("providers");
    t.replaceChildren();
    for (const p of ps) {
      const tr = el("tr");
      const st = p.stats ? `${p.stats.calls} calls · ${p.stats.errors} errors · breaker ${p.stats.breaker}` : "";
      const test = el("button", "", "Test");
      const result = el("td", "muted");
      test.addEventListener("click", async () => {
        result.textContent = "…";
        const r = await invoke("provider_test", { name: p.name });
        result.textContent = r.ok ? `ok in ${Math.round(r.latency_ms)} ms` : r.error;
        result.className = r.ok ? "ok" : "fail";
      });
      const rm = el("button", "", "Remove");
      rm.addEventListener("click", async () => { await invoke("provider_remove", { name: p.name }); loadProviders(); });
      const actions = el("td");
      actions.append(test, rm);
      tr.append(el("td", "", `${p.priority}`), el("td", "head", p.name), el("td", "", `${p.kind} · ${p.model}`), el("td", "", `key: ${p.key}`), el("td", "", st), actions, result);
      t.append(tr);
    }
    if (ps.length === 0) t.replaceChildren(el("tr", "muted", "No providers."));
  } catch (e) {
    failed(t, e);
  }
}
$("prov-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    await invoke("provider_add", {
      name: $("prov-name").value, kind: $("prov-kind").value, baseUrl: $("prov-url").value,
      model: $("prov-model").value, priority: Number($("prov-priority").value), key: $("prov-key").value || null,
    });
    $("prov-key").value = "";
    $("prov-status").textContent = "Added.";
    $("prov-status").className = "ok";
    loadProviders();
  } catch (e) {
    $("prov-status").textContent = e.message;
    $("prov-status").className = "fail";
  }
});

refreshStatus();
show("queue");

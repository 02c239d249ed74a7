// A first screen over the same library functions as the CLI. The full app (queue,
// canonical library, rules, metrics…) replaces this in the desktop-app issue.
const invoke = window.__TAURI__.core.invoke;
const $ = (id) => document.getElementById(id);

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

$("search-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const list = $("results");
  list.replaceChildren();
  try {
    const hits = await invoke("search", { query: $("query").value, layer: $("layer").value, limit: 5 });
    for (const h of hits) {
      const li = document.createElement("li");
      const head = document.createElement("div");
      head.className = "head";
      head.textContent = `${h.similarity.toFixed(3)} · ${h.title}${h.heading ? " › " + h.heading : ""}`;
      const body = document.createElement("p");
      body.textContent = h.text;
      li.append(head, body);
      list.append(li);
    }
    if (hits.length === 0) list.textContent = "No results.";
  } catch (e) {
    list.textContent = `${e.code}: ${e.message}`;
  }
});

refreshStatus();

// Knowledge: import files and folders (drag and drop, the picker, or a typed path)
// with a progress bar; list, re-import, delete; search as a fan at a layer would.
import { Channel } from "@tauri-apps/api/core";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open } from "@tauri-apps/plugin-dialog";
import { call, commands, describe, type ImportProgress, type ImportSummary, type Layer } from "../api";
import { $, button, el, failed, LAYERS, select } from "../dom";

/** An import panel (drop zone, pickers, a path field, layer, progress). The knowledge
 *  screen and the first-run flow each have one. */
export function importPanel(onDone: (s: ImportSummary) => void): HTMLElement {
  const box = el("div", "import");
  const zone = el("div", "drop", "Drop files or folders here (Markdown, text, HTML, PDF)");
  const layer = select(LAYERS, "public");
  layer.title = "Who may be answered from these documents";
  layer.classList.add("import-layer");
  const path = el("input");
  path.placeholder = "…or type a file or folder path";
  path.classList.add("import-path");
  const bar = el("progress");
  bar.value = 0;
  bar.max = 1;
  bar.hidden = true;
  const status = el("p", "muted");
  const tell = (text: string, cls: "muted" | "ok" | "fail") => {
    status.textContent = text;
    status.className = `import-status ${cls}`;
  };
  const run = async (paths: string[]) => {
    if (paths.length === 0) return;
    bar.hidden = false;
    bar.value = 0;
    tell(`Importing ${paths.length} item(s)…`, "muted");
    const progress = new Channel<ImportProgress>();
    let updates = 0;
    progress.onmessage = (p) => {
      bar.dataset.updates = String(++updates);
      bar.max = Math.max(1, p.files);
      bar.value = p.done;
      tell(`${p.done} of ${p.files} file(s)${p.last ? ` · ${p.last.path.split("/").pop()}: ${p.last.status}` : ""}`, "muted");
    };
    try {
      const s = await call(commands.import(paths, layer.value as Layer, progress));
      bar.value = bar.max;
      tell(summary(s), s.failed > 0 ? "fail" : "ok");
      onDone(s);
    } catch (e) {
      tell(describe(e), "fail");
    }
  };
  const pick = (directory: boolean) => async () => {
    const chosen = await open({ multiple: true, directory });
    if (chosen) await run(Array.isArray(chosen) ? chosen : [chosen]);
  };
  const typed = el("form", "row");
  typed.append(path, button("Import", () => run(path.value.trim() ? [path.value.trim()] : [])));
  typed.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void run(path.value.trim() ? [path.value.trim()] : []);
  });
  const row = el("div", "row");
  row.append(button("Choose files…", pick(false)), button("Choose a folder…", pick(true)), el("span", "muted", "layer"), layer);
  box.append(zone, row, typed, bar, status);
  panels.push({ zone, run });
  return box;
}

export function summary(s: ImportSummary): string {
  return `Imported ${s.imported}, unchanged ${s.unchanged}, skipped ${s.skipped}, failed ${s.failed} · ${s.chunks} passages in ${s.seconds.toFixed(1)} s`;
}

// Drag and drop: the window reports the dropped paths; the visible panel imports them.
const panels: { zone: HTMLElement; run: (paths: string[]) => Promise<void> }[] = [];
export async function listenForDrops(): Promise<void> {
  await getCurrentWebview().onDragDropEvent((ev) => {
    const visible = panels.find((p) => p.zone.offsetParent !== null);
    if (!visible) return;
    if (ev.payload.type === "over" || ev.payload.type === "enter") visible.zone.classList.add("over");
    else visible.zone.classList.remove("over");
    if (ev.payload.type === "drop") void visible.run(ev.payload.paths);
  });
}

export async function loadDocuments(): Promise<void> {
  const t = $("doc-table");
  try {
    const docs = await call(commands.documents());
    t.replaceChildren(...docs.map((d) => {
      const tr = el("tr");
      const status = el("td", "muted");
      const reimport = button("Re-import", async () => {
        const p = new Channel<ImportProgress>();
        p.onmessage = (x) => (status.textContent = `${x.done}/${x.files}`);
        try {
          status.textContent = summary(await call(commands.documentReimport(d.id, p)));
        } catch (e) {
          status.textContent = describe(e);
        }
        await loadDocuments();
      });
      const del = button("Delete", async () => {
        if (!confirm(`Delete "${d.title}" from your knowledge?`)) return;
        try {
          await call(commands.documentDelete(d.id));
          await loadDocuments();
        } catch (e) {
          status.textContent = describe(e);
        }
      });
      const actions = el("td");
      actions.append(reimport, del);
      tr.append(el("td", "head", d.title), el("td", "small", d.source_path), el("td", "", d.layer), el("td", "", `${d.chunks} passages`), actions, status);
      return tr;
    }));
    if (docs.length === 0) t.replaceChildren(el("tr", "muted", "No documents yet: import some above."));
  } catch (e) {
    failed(t, e);
  }
}

async function searchDocs(ev: Event): Promise<void> {
  ev.preventDefault();
  const list = $("results");
  list.replaceChildren();
  try {
    const hits = await call(commands.search($<HTMLInputElement>("query").value, $<HTMLSelectElement>("layer").value as Layer, 5));
    for (const h of hits) {
      const li = el("li");
      li.append(el("div", "head", `${h.similarity.toFixed(3)} · ${h.title}${h.heading ? " › " + h.heading : ""}`), el("p", "", h.text));
      list.append(li);
    }
    if (hits.length === 0) list.textContent = "No results.";
  } catch (e) {
    failed(list, e);
  }
}

export function initKnowledge(refreshStatus: () => void): void {
  $("import-here").replaceWith(importPanel(() => {
    void loadDocuments();
    refreshStatus();
  }));
  $("search-form").addEventListener("submit", (ev) => void searchDocs(ev));
}

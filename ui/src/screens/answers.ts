// Canonical answers: find, edit, change layer, merge duplicates, delete; phrasings,
// times reused and last served.
import { Channel } from "@tauri-apps/api/core";
import { call, commands, describe, type InboxReport, type Layer } from "../api";
import { $, button, el, failed, LAYERS, say, select } from "../dom";

type Row = { id: number; question_pattern: string; times_reused: number; layer: Layer; note: string; last_served_at: string | null };

export async function loadLibrary(): Promise<void> {
  const list = $("lib-list");
  const q = $<HTMLInputElement>("lib-query").value.trim();
  try {
    const rows: Row[] = q
      ? (await call(commands.canonicalSearch(q, "intimate"))).map((h) => ({ id: h.canonical_id, question_pattern: h.question_pattern, times_reused: h.times_reused, layer: h.layer, note: `similarity ${h.similarity.toFixed(3)}`, last_served_at: null }))
      : (await call(commands.canonicalList())).map((c) => ({ ...c, note: `${c.variants} phrasing(s)` }));
    list.replaceChildren(...rows.map((c) => {
      const li = el("li", "item");
      li.append(el("div", "head", `#${c.id} · ${c.layer} · reused ${c.times_reused}× · ${c.note}`), el("p", "", c.question_pattern));
      li.addEventListener("click", () => void openAnswer(c.id));
      return li;
    }));
    if (rows.length === 0) list.replaceChildren(el("li", "muted", "No canonical answers yet: every question you answer becomes one."));
  } catch (e) {
    failed(list, e);
  }
}

async function openAnswer(id: number): Promise<void> {
  const d = $("lib-detail");
  try {
    const c = await call(commands.canonicalShow(id));
    const msg = el("p", "muted");
    const answer = el("textarea");
    answer.value = c.answer;
    answer.id = "lib-answer";
    const layer = select(LAYERS, c.layer);
    const save = button("Save", async () => {
      try {
        const changed = answer.value.trim() !== c.answer ? answer.value : null;
        const newLayer = layer.value !== c.layer ? (layer.value as Layer) : null;
        await call(commands.canonicalUpdate(id, changed, newLayer));
        await openAnswer(id);
        await loadLibrary();
        say($("lib-msg"), "Saved.", true);
      } catch (e) {
        say(msg, describe(e), false);
      }
    }, "Ctrl+S");
    answer.addEventListener("keydown", (ev) => {
      if (ev.ctrlKey && ev.key === "s") {
        ev.preventDefault();
        save.click();
      }
    });
    const phrasings = el("ul");
    for (const v of c.variants) phrasings.append(el("li", v.is_pattern ? "head" : "", v.text));
    const add = el("input");
    add.placeholder = "Another way fans ask this (Enter to add)";
    add.addEventListener("keydown", async (ev) => {
      if (ev.key !== "Enter") return;
      try {
        await call(commands.canonicalAddVariant(id, add.value));
        await openAnswer(id);
      } catch (e) {
        say(msg, describe(e), false);
      }
    });
    // Likely duplicates: the closest other answers to this one's question.
    const dupes = el("select");
    dupes.id = "lib-merge-from";
    const similar = (await call(commands.canonicalSearch(c.question_pattern, "intimate"))).filter((h) => h.canonical_id !== id);
    for (const h of similar) dupes.append(new Option(`#${h.canonical_id} (${h.similarity.toFixed(2)}) ${h.question_pattern}`, String(h.canonical_id)));
    const merge = button("Merge into this one", async () => {
      if (!dupes.value) return;
      try {
        const m = await call(commands.canonicalMerge(id, Number(dupes.value)));
        await openAnswer(id);
        await loadLibrary();
        say($("lib-msg"), `Merged: #${m.id} now has ${m.variants.length} phrasings and ${m.times_reused} reuses.`, true);
      } catch (e) {
        say(msg, describe(e), false);
      }
    });
    const del = button("Delete", async () => {
      if (!confirm(`Delete canonical answer #${id}? Fans will no longer be served it.`)) return;
      await call(commands.canonicalDelete(id));
      d.replaceChildren(el("p", "muted", `Deleted #${id}.`));
      await loadLibrary();
    });
    const row = el("div", "row");
    row.append(el("span", "muted", "layer"), layer, save, del);
    const mergeRow = el("div", "row");
    mergeRow.append(dupes, merge);
    const note = el("p", "muted");
    note.id = "lib-msg";
    d.replaceChildren(
      el("h2", "", c.question_pattern),
      el("p", "muted", `reused ${c.times_reused}× · last served ${c.last_served_at?.slice(0, 16) ?? "never"} · created ${c.created_at.slice(0, 10)}`),
      answer, row, el("h3", "", "Phrasings"), phrasings, add,
    );
    if (similar.length > 0) d.append(el("h3", "", "Merge a duplicate"), mergeRow);
    d.append(msg, note);
  } catch (e) {
    failed(d, e);
  }
}

export function initAnswers(): void {
  $("lib-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    void loadLibrary();
  });
  initInbox();
}

/** "Bring in an existing inbox": past questions with replies become answers, with a
 *  progress bar and what was created, merged, skipped and suggested for a merge. */
function initInbox(): void {
  $("inbox-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const bar = $<HTMLProgressElement>("inbox-progress");
    const out = $("inbox-report");
    const progress = new Channel<[number, number]>();
    progress.onmessage = ([done, total]) => {
      bar.max = Math.max(total, 1);
      bar.value = done;
    };
    bar.hidden = false;
    bar.value = 0;
    out.replaceChildren(el("p", "muted", "Importing…"));
    try {
      const path = $<HTMLInputElement>("inbox-path").value.trim();
      const layer = $<HTMLSelectElement>("inbox-layer").value as Layer;
      out.replaceChildren(...inboxReport(await call(commands.inboxImport(path, layer, progress))));
      await loadLibrary();
    } catch (e) {
      out.replaceChildren(el("p", "fail", describe(e)));
    }
  });
}

function inboxReport(r: InboxReport): HTMLElement[] {
  const head = el("p", "ok", `${r.rows} rows (questions from “${r.question_column}”, replies from “${r.answer_column}”): ` +
    `${r.created} answers created, ${r.merged} merged as phrasings, ${r.skipped.length} skipped.`);
  head.id = "inbox-summary";
  const list = el("ul", "list compact");
  list.append(...r.skipped.map((s) => el("li", "small muted", `Row ${s.row} skipped: ${s.reason}`)));
  list.append(...r.suggestions.map((m) => el("li", "small",
    `Row ${m.row} (#${m.canonical_id}, “${m.question}”) was answered differently before as #${m.like} (“${m.like_question}”): merge them on this screen if they are the same answer.`)));
  return [head, list];
}

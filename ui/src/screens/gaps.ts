// Metrics → Content gaps: the questions fans escalated most that no answer covers yet,
// grouped by meaning. "Answer this" opens an editor with the group's questions as the
// phrasings; saving writes one canonical answer for all of them, and the gap closes.
import { call, commands, describe } from "../api";
import type { Gap, Layer } from "../api";
import { button, el, LAYERS, say, select } from "../dom";

function editor(g: Gap, li: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const box = el("div", "gap-editor");
  const answer = el("textarea");
  answer.rows = 4;
  answer.placeholder = "Your answer, once for all of these fans";
  const layer = select(LAYERS, "public");
  const msg = el("p", "muted");
  const save = button("Save as a canonical answer", async () => {
    try {
      const c = await call(commands.canonicalAdd({
        question: g.questions[0], variants: g.questions.slice(1), answer: answer.value, layer: layer.value as Layer,
      }));
      say(msg, `Saved: canonical answer #${c.id} with ${c.variants.length} phrasing(s).`, true);
      await reload();
    } catch (e) {
      say(msg, describe(e), false);
    }
  });
  save.className = "gap-save";
  box.append(el("p", "muted", `Phrasings: ${g.questions.join(" · ")}`), answer, el("div", "row small"), msg);
  box.querySelector(".row")?.append(layer, save);
  li.append(box);
  return box;
}

export async function loadGaps(days: number, target: HTMLElement): Promise<void> {
  const reload = () => loadGaps(days, target);
  try {
    const gaps = await call(commands.gaps(days));
    const list = el("ol", "list");
    list.id = "gaps";
    for (const g of gaps) {
      const li = el("li", "gap");
      li.append(el("strong", "", g.questions[0]), el("span", "muted", ` — ${g.fans} fan(s), asked ${g.asked}×`));
      if (g.questions.length > 1) li.append(el("p", "muted", `Also asked as: ${g.questions.slice(1).join(" · ")}`));
      const open = button("Answer this", () => {
        open.disabled = true;
        editor(g, li, reload);
      });
      open.className = "gap-answer";
      li.append(open);
      list.append(li);
    }
    if (gaps.length === 0) list.append(el("li", "muted", "No gaps: every question fans escalated lately has an answer."));
    target.replaceChildren(el("h3", "", "Content gaps"), list);
  } catch (e) {
    target.replaceChildren(el("p", "fail", describe(e)));
  }
}

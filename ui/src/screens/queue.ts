// Queue: the escalations fans accepted, by priority and age, in groups of questions
// that ask the same thing (answered once: every fan gets the answer). Answer (it becomes
// a canonical answer), draft with AI, attach to an existing answer, decline, defer; take
// a question out of its group or split it.
// Keys: j/k or ↑/↓ pick, Enter opens, Ctrl+Enter answers, Alt+D drafts, Alt+X declines,
// Alt+L defers a day, Alt+1…3 in the "similar" list attach.
import { Channel } from "@tauri-apps/api/core";
import { call, commands, describe, type CanonicalHit, type DraftEvent, type ErrorBody, type QueueGroup, type QueueItem, type Result } from "../api";
import { $, age, button, el, failed, LAYERS, select } from "../dom";

let groups: QueueGroup[] = [];
let items: QueueItem[] = [];
let current = -1;

export async function loadQueue(): Promise<void> {
  const list = $("queue-list");
  try {
    groups = await call(commands.queueGroups());
    items = groups.map((g) => g.items[0]);
    updateBadge(groups.reduce((n, g) => n + g.items.length, 0));
    list.replaceChildren(...groups.map((g, i) => {
      const q = g.items[0];
      const li = el("li", "item");
      li.dataset.id = String(q.id);
      const sla = q.expected_reply_after ? ` · reply after ${q.expected_reply_after.slice(0, 16)}` : q.expires_at ? ` · expires ${q.expires_at.slice(0, 16)}` : "";
      const due = g.items.find((m) => m.overdue) ?? q;
      if (due.overdue) li.classList.add("overdue");
      li.append(
        el("div", "head", `#${q.id} · ${q.fan} (${q.tier}) · ${q.reason} · ${age(q.age_hours)}${sla}`),
        el("p", "", q.question),
      );
      if (g.items.length > 1) {
        li.classList.add("grouped");
        li.dataset.group = g.items.map((m) => m.id).join(",");
        li.append(el("p", "group-badge", `${g.items.length} questions from ${g.fans} fan${g.fans === 1 ? "" : "s"}: answer once`));
      }
      if (due.due_at) {
        const hours = (Date.parse(due.due_at) - Date.now()) / 3.6e6;
        const when = el("p", due.overdue ? "due overdue-note" : "due muted small",
          due.overdue ? `Overdue by ${age(-hours)}` : `Reply due in ${age(hours)}`);
        li.append(when);
      }
      if (q.context_summary) li.append(el("p", "muted small", q.context_summary.split("\n")[0]));
      li.addEventListener("click", () => openItem(i));
      return li;
    }));
    if (items.length === 0) list.replaceChildren(el("li", "muted", "The queue is empty."));
  } catch (e) {
    failed(list, e);
  }
}

export function updateBadge(n: number): void {
  const b = $("queue-badge");
  b.textContent = n > 0 ? String(n) : "";
}

function openItem(i: number): void {
  const q = items[i];
  const g = groups[i];
  if (!q || !g) return;
  const ids = g.items.map((m) => m.id);
  current = i;
  document.querySelectorAll("#queue-list .item").forEach((li, k) => li.classList.toggle("selected", k === i));
  const d = $("queue-detail");
  const text = el("textarea");
  text.id = "answer-text";
  text.placeholder = "Your answer (Ctrl+Enter to send)";
  const layer = select(LAYERS, "public");
  layer.id = "answer-layer";
  layer.title = "Who may be served this answer again: public (everyone), friends, intimate";
  const status = el("p", "muted");
  status.id = "queue-status";
  const act = (label: string, title: string, fn: () => Promise<string>) =>
    button(label, async () => {
      try {
        const done = await fn();
        await loadQueue();
        // The question left the queue (or moved down): say what happened in its place.
        const note = el("p", "ok", done);
        note.id = "queue-status";
        $("queue-detail").replaceChildren(note);
        current = -1;
      } catch (e) {
        status.textContent = describe(e);
        status.className = "fail";
      }
    }, title);
  const grouped = ids.length > 1;
  const answer = act(grouped ? `Answer all ${ids.length}` : "Answer", "Ctrl+Enter", async () => {
    const l = layer.value as (typeof LAYERS)[number];
    if (!grouped) {
      const c = await call(commands.queueAnswer(q.id, text.value, l));
      return `Answered: canonical answer #${c.id} will serve this question from now on.`;
    }
    const c = await call(commands.queueAnswerGroup(ids, text.value, l));
    return `Answered ${ids.length} questions from ${g.fans} fans at once: canonical answer #${c.id}, with each question as a phrasing.`;
  });
  answer.id = "answer-send";
  const draft = button("Draft with AI", () => draftInto(q, text, status), "Alt+D");
  draft.id = "answer-draft";
  // On a group, declining or deferring takes every question of it.
  const each = async (fn: (id: number) => Promise<unknown>) => {
    for (const id of ids) await fn(id);
  };
  const all = grouped ? ` all ${ids.length}` : "";
  const decline = act(`Decline${all}`, "Alt+X", async () => (
    await each((id) => call(commands.queueDecline(id))), grouped ? `Declined; the ${g.fans} fans were told.` : "Declined; the fan was told."
  ));
  const defer = act(`Defer${all} 24 h`, "Alt+L", async () => (await each((id) => call(commands.queueDefer(id, 24))), "Deferred for a day."));
  text.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey && ev.key === "Enter") answer.click();
  });
  const similar = el("ol", "list compact");
  const chunks = el("ol", "list compact");
  const side = el("div", "side");
  side.append(el("h3", "", "Similar answers (Alt+1…3 attaches)"), similar, el("h3", "", "From your documents"), chunks);
  const main = el("div");
  main.append(
    el("h2", "", q.question),
    el("p", "muted", `${q.fan} · ${q.tier} · sees ${q.fan_layer} · ${q.reason} · waiting ${age(q.age_hours)}`),
    el("pre", "summary", q.context_summary || "(no conversation before this question)"),
    text,
    el("div", "row", undefined),
    status,
  );
  main.querySelector(".row")!.append(layer, answer, draft, decline, defer);
  main.insertBefore(groupPanel(g, i, status), text);
  const wrap = el("div", "editor");
  wrap.append(main, side);
  d.replaceChildren(wrap);
  d.onkeydown = (ev) => {
    if (!ev.altKey) return;
    const k = ev.key.toLowerCase();
    if (k === "d") draft.click();
    else if (k === "x") decline.click();
    else if (k === "l") defer.click();
    else if (k >= "1" && k <= "3") (similar.querySelectorAll("button")[Number(k) - 1] as HTMLButtonElement | undefined)?.click();
    else return;
    ev.preventDefault();
    ev.stopPropagation();
  };
  text.focus();
  void fillSimilar(q, similar, status);
  void fillChunks(q, chunks);
}

// The group's questions, each can be taken out; the group can be split. A question
// kept by itself can join its group again.
function groupPanel(g: QueueGroup, i: number, status: HTMLElement): HTMLElement {
  const box = el("div", "group");
  const change = (fn: () => Promise<Result<null, ErrorBody>>) => async () => {
    try {
      await call(fn());
      await loadQueue();
      openItem(Math.min(i, items.length - 1));
    } catch (e) {
      status.textContent = describe(e);
      status.className = "fail";
    }
  };
  if (g.items.length > 1) {
    const list = el("ol", "list compact");
    list.id = "group-members";
    list.append(...g.items.map((m) => {
      const li = el("li", "item");
      li.dataset.id = String(m.id);
      li.append(el("span", "", `#${m.id} · ${m.fan} (${m.tier}): ${m.question} `));
      li.append(button("Take out", change(() => commands.queueTakeOut(m.id, true)), "Answer this one by itself"));
      return li;
    }));
    const split = button("Split group", change(() => commands.queueSplit(g.items.map((m) => m.id))), "Answer each by itself");
    split.id = "group-split";
    box.append(el("h3", "", `Asked by ${g.fans} fan${g.fans === 1 ? "" : "s"} — one answer goes to all of them`), list, split);
  } else if (g.alone) {
    const join = button("Let it join its group", change(() => commands.queueTakeOut(g.items[0].id, false)));
    box.append(el("p", "muted small", "You keep this question by itself. "), join);
  }
  return box;
}

async function fillSimilar(q: QueueItem, list: HTMLElement, status: HTMLElement): Promise<void> {
  try {
    const hits: CanonicalHit[] = await call(commands.canonicalSearch(q.question, "intimate"));
    list.replaceChildren(...hits.slice(0, 3).map((h) => {
      const li = el("li", "item");
      li.append(
        el("div", "head", `${h.similarity.toFixed(2)} · ${h.layer} · reused ${h.times_reused}×`),
        el("p", "", h.question_pattern),
        el("p", "muted small", h.answer.slice(0, 200)),
        button("Attach", async () => {
          try {
            await call(commands.queueAttach(q.id, h.canonical_id));
            await loadQueue();
            const note = el("p", "ok", `Attached to #${h.canonical_id}: the fan got that answer, and it learned this phrasing.`);
            note.id = "queue-status";
            $("queue-detail").replaceChildren(note);
          } catch (e) {
            status.textContent = describe(e);
            status.className = "fail";
          }
        }),
      );
      return li;
    }));
    if (hits.length === 0) list.replaceChildren(el("li", "muted", "No canonical answer is close."));
  } catch (e) {
    failed(list, e);
  }
}

async function fillChunks(q: QueueItem, list: HTMLElement): Promise<void> {
  try {
    const hits = await call(commands.search(q.question, "intimate", 4));
    list.replaceChildren(...hits.map((h) => {
      const li = el("li", "item");
      li.append(el("div", "head", `${h.title}${h.heading ? " › " + h.heading : ""} · ${h.layer}`), el("p", "small", h.text.slice(0, 280)));
      return li;
    }));
    if (hits.length === 0) list.replaceChildren(el("li", "muted", "Nothing in your documents."));
  } catch (e) {
    failed(list, e);
  }
}

async function draftInto(q: QueueItem, text: HTMLTextAreaElement, status: HTMLElement): Promise<void> {
  text.value = "";
  status.textContent = "Drafting…";
  status.className = "muted";
  const events = new Channel<DraftEvent>();
  events.onmessage = (e) => {
    if (e.kind === "token") text.value += e.text;
    else text.value = "";
  };
  try {
    const d = await call(commands.queueDraft(q.id, events));
    text.value = d.text;
    status.textContent = d.generation.source === "llm"
      ? `Drafted by ${d.generation.provider ?? "the model"}; edit it, then answer.`
      : `Drafted from your documents (${d.generation.reason ?? "no model"}); edit it, then answer.`;
    status.className = "ok";
    text.focus();
  } catch (e) {
    status.textContent = describe(e);
    status.className = "fail";
  }
}

// j/k and the arrows move through the queue when no field has the focus.
export function queueKeys(ev: KeyboardEvent): void {
  const t = ev.target as HTMLElement;
  if (["TEXTAREA", "INPUT", "SELECT"].includes(t.tagName) || items.length === 0) return;
  if (ev.key === "j" || ev.key === "ArrowDown") openItem(Math.min(items.length - 1, current + 1));
  else if (ev.key === "k" || ev.key === "ArrowUp") openItem(Math.max(0, current - 1));
  else if (ev.key === "Enter") openItem(Math.max(0, current));
  else return;
  ev.preventDefault();
}

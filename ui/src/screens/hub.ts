// Settings → Hub: pair this computer with the creator's hub (its address and a code
// from `fanline hub pair`), see how sync stands, settle conflicts. The header shows
// the state everywhere (synced / syncing / offline, changes waiting, the last error).
import { call, commands, describe } from "../api";
import type { Conflict, SyncView } from "../api";
import { $, button, el, say } from "../dom";

const STATE_TEXT: Record<SyncView["state"], string> = {
  not_paired: "",
  starting: "hub: syncing…",
  synced: "hub: synced",
  pending: "hub: syncing…",
  offline: "hub: offline",
  failed: "hub: sync failed",
};

/** The header's badge. */
export function showBadge(v: SyncView): void {
  const b = $("sync-badge");
  const waiting = v.status.pending > 0 ? ` · ${v.status.pending} to send` : "";
  const conflicts = v.status.open_conflicts > 0 ? ` · ${v.status.open_conflicts} conflict(s)` : "";
  b.textContent = v.state === "not_paired" ? "" : `${STATE_TEXT[v.state]}${waiting}${conflicts}`;
  b.className = v.state === "synced" ? "ok" : v.state === "offline" || v.state === "failed" ? "fail" : "muted";
  b.title = v.last_error ?? (v.last_sync ? `last sync ${v.last_sync}` : "");
  b.dataset.state = v.state;
}

function show(v: SyncView): void {
  showBadge(v);
  const paired = v.status.hub !== null;
  $("hub-pair").hidden = paired;
  $("hub-paired").hidden = !paired;
  const out = $("hub-status");
  if (!paired) {
    say(out, "Not paired. On the hub run `fanline hub pair`, then enter its address and the code here.", true);
    return;
  }
  const last = v.last_report;
  const parts = [
    `Paired with ${v.status.hub} as “${v.status.device}”.`,
    v.status.pending > 0 ? `${v.status.pending} change(s) to send.` : "Everything made here is on the hub.",
    last ? `Last sync: ${last.applied} sent, ${last.pulled} received${last.conflicts ? `, ${last.conflicts} kept as conflicts` : ""}.` : "",
  ];
  if (v.last_error) say(out, `${parts[0]} ${v.last_error}`, false);
  else say(out, parts.filter(Boolean).join(" "), true);
}

// The choices each kind of conflict can be settled with (the hub checks them too).
const ANSWER: [string, string][] = [
  ["keep", "Keep as is"],
  ["correction", "Send mine as a correction"],
  ["variant", "Add mine as another answer"],
];
const CHOICES: Record<string, [string, string][]> = {
  second_answer: ANSWER,
  late_answer: ANSWER,
  edit: [
    ["keep", "Keep as is"],
    ["restore", "Restore mine"],
  ],
};

function conflictItem(c: Conflict): HTMLElement {
  const li = el("li", "conflict");
  const what = c.kind === "second_answer" ? "Answered on two devices" : c.kind === "edit" ? `Edited on two devices (${c.field})` : c.kind.replace(/_/g, " ");
  li.append(el("strong", "", what));
  if (c.question) li.append(el("p", "muted", `Question: ${c.question}`));
  li.append(el("p", "", `In place: ${c.winner || "—"}`));
  li.append(el("p", "", `Kept from ${c.device || "another device"}: ${c.kept}`));
  if (c.resolution) {
    li.append(el("p", "ok", `Settled: ${c.resolution}`));
    return li;
  }
  const row = el("div", "row small");
  for (const [choice, label] of CHOICES[c.kind] ?? [["keep", "Noted"]]) {
    row.append(
      button(label, async () => {
        try {
          show(await call(commands.syncResolve(c.uid, choice)));
          await loadConflicts();
        } catch (e) {
          say($("hub-status"), describe(e), false);
        }
      }),
    );
  }
  li.append(row);
  return li;
}

async function loadConflicts(): Promise<void> {
  const list = await call(commands.syncConflicts());
  $("hub-conflicts").replaceChildren(...list.map(conflictItem));
  $("hub-conflicts-none").hidden = list.length > 0;
}

export async function loadHub(): Promise<void> {
  try {
    show(await call(commands.syncView()));
    await loadConflicts();
  } catch (e) {
    say($("hub-status"), describe(e), false);
  }
}

/** Keep the header's badge current. */
export function watchSync(): void {
  const tick = async () => {
    try {
      showBadge(await call(commands.syncView()));
    } catch {
      /* the next tick tries again */
    }
  };
  void tick();
  setInterval(() => void tick(), 5000);
}

export function initHub(): void {
  $("hub-pair").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = $("hub-status");
    say(out, "Pairing…", true);
    try {
      const url = $<HTMLInputElement>("hub-url").value.trim();
      const code = $<HTMLInputElement>("hub-code").value.trim();
      const name = $<HTMLInputElement>("hub-name").value.trim() || "Desktop";
      show(await call(commands.syncPair(url, code, name)));
      show(await call(commands.syncNow()));
      await loadConflicts();
    } catch (e) {
      say(out, describe(e), false);
    }
  });
  $("hub-sync").addEventListener("click", async () => {
    say($("hub-status"), "Syncing…", true);
    try {
      show(await call(commands.syncNow()));
      await loadConflicts();
    } catch (e) {
      say($("hub-status"), describe(e), false);
    }
  });
  $("hub-unpair").addEventListener("click", async () => {
    try {
      show(await call(commands.syncUnpair()));
    } catch (e) {
      say($("hub-status"), describe(e), false);
    }
  });
}

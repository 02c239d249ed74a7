// The app's shell: tabs (Alt+1…8), the status line, the first-run gate, queue
// notifications from the Rust side. Every action is one command into fanline-core
// (src-tauri/src/commands.rs); nothing here decides anything.
import { listen } from "@tauri-apps/api/event";
import { call, commands, describe } from "./api";
import { $ } from "./dom";
import "./style.css";
import { loadScreen } from "./screens/index";
import { firstRun } from "./screens/firstrun";
import { initKnowledge, listenForDrops } from "./screens/knowledge";
import { loadQueue, queueKeys, updateBadge } from "./screens/queue";

const TABS = ["queue", "simulator", "metrics", "knowledge", "log", "rules", "library", "providers"] as const;
type Tab = (typeof TABS)[number];
let active: Tab = "queue";

function show(tab: Tab): void {
  active = tab;
  document.querySelectorAll<HTMLElement>(".tab").forEach((s) => s.classList.toggle("active", s.id === tab));
  document.querySelectorAll<HTMLButtonElement>("nav button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
  void loadScreen(tab);
}

async function refreshStatus(): Promise<void> {
  const status = $("status");
  try {
    const r = await call(commands.doctor());
    const index = r.checks.find((c) => c.name === "index");
    status.textContent = r.ok ? `${(index?.detail ?? "0 items").split(" in ")[0]} indexed` : r.checks.filter((c) => !c.ok).map((c) => c.detail).join(" · ");
    status.title = r.checks.map((c) => `${c.name}: ${c.detail}`).join("\n");
    status.className = r.ok ? "ok" : "fail";
  } catch (e) {
    status.textContent = describe(e);
    status.className = "fail";
  }
}

async function start(): Promise<void> {
  document.querySelectorAll<HTMLButtonElement>("nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.tab as Tab)));
  document.addEventListener("keydown", (ev) => {
    if (ev.altKey && ev.key >= "1" && ev.key <= "8" && !document.body.classList.contains("setup")) {
      ev.preventDefault();
      show(TABS[Number(ev.key) - 1]);
    } else if (active === "queue") {
      queueKeys(ev);
    }
  });
  initKnowledge(() => void refreshStatus());
  await listenForDrops();
  // New escalations (the Rust side also raises a desktop notification).
  await listen<number>("queue-changed", () => {
    if (active === "queue") void loadQueue();
    else void call(commands.queue()).then((q) => updateBadge(q.length));
  });
  void refreshStatus();
  const setup = await call(commands.setupStatus());
  if (setup.needs_setup) {
    await firstRun(setup, () => {
      void refreshStatus();
      show("queue");
    }, () => void refreshStatus());
  } else {
    show("queue");
  }
}

start().catch((e) => {
  $("status").textContent = describe(e);
  $("status").className = "fail";
});

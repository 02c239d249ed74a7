// Simulator: send a message as a chosen fan and watch the decision and its trace.
import { call, commands } from "../api";
import { $, button, el, failed } from "../dom";
import { traceTable } from "../trace";

export async function loadFans(): Promise<void> {
  try {
    const fans = await call(commands.fans());
    const sel = $<HTMLSelectElement>("sim-fan");
    const keep = sel.value;
    sel.replaceChildren(...fans.map((f) => new Option(`${f.handle} (${f.tier}, ${f.layer})`, f.handle, false, f.handle === keep)));
  } catch (e) {
    failed($("sim-result"), e);
  }
  $("sim-message").focus();
}

async function addFan(ev: Event): Promise<void> {
  ev.preventDefault();
  try {
    const f = await call(commands.fanAdd($<HTMLInputElement>("fan-handle").value, $<HTMLSelectElement>("fan-tier").value as "free", $<HTMLSelectElement>("fan-layer").value as "public"));
    $<HTMLInputElement>("fan-handle").value = "";
    await loadFans();
    $<HTMLSelectElement>("sim-fan").value = f.handle;
  } catch (e) {
    failed($("sim-result"), e);
  }
}

async function send(ev: Event): Promise<void> {
  ev.preventDefault();
  const out = $("sim-result");
  out.replaceChildren(el("p", "muted", "Routing…"));
  try {
    const r = await call(commands.simulate($<HTMLSelectElement>("sim-fan").value, $<HTMLInputElement>("sim-message").value));
    const parts: HTMLElement[] = [el("h2", `path path-${r.path}`, `Path ${r.path} — ${r.reason}`), el("pre", "reply", r.reply)];
    if (r.escalation_id !== null) {
      const id = r.escalation_id;
      const b = button(`Accept offer #${id} as the fan`, async () => {
        try {
          const a = await call(commands.accept(id));
          b.replaceWith(el("p", a.accepted ? "ok" : "fail", `Path ${a.path}: ${a.reply}`));
        } catch (e) {
          failed(out, e);
        }
      });
      b.id = "sim-accept";
      parts.push(b);
    }
    const total = r.trace.steps.reduce((n, s) => Math.max(n, s.start_us + s.duration_us), 0);
    out.replaceChildren(...parts, el("h3", "", `Why — ${r.trace.steps.length} steps, ${(total / 1000).toFixed(1)} ms`), traceTable(r.trace));
  } catch (e) {
    failed(out, e);
  }
}

export function initSimulator(): void {
  $("sim-form").addEventListener("submit", (ev) => void send(ev));
  $("fan-form").addEventListener("submit", (ev) => void addFan(ev));
}

// Models: providers in fallback order, where their key comes from, calls and breaker
// state; test, remove, add (the key goes to the OS keychain).
import { call, commands, describe } from "../api";
import { $, button, el, failed, say } from "../dom";

export async function loadProviders(): Promise<void> {
  const t = $("prov-table");
  try {
    const ps = await call(commands.providers());
    t.replaceChildren(...ps.map((p) => {
      const tr = el("tr");
      const st = p.stats ? `${p.stats.calls} calls · ${p.stats.errors} errors · breaker ${p.stats.breaker}` : "";
      const result = el("td", "muted");
      const test = button("Test", async () => {
        result.textContent = "…";
        try {
          const r = await call(commands.providerTest(p.name));
          say(result, r.ok ? `ok in ${Math.round(r.latency_ms)} ms` : (r.error ?? "failed"), r.ok);
        } catch (e) {
          say(result, describe(e), false);
        }
      });
      const rm = button("Remove", async () => {
        await call(commands.providerRemove(p.name));
        await loadProviders();
      });
      const actions = el("td");
      actions.append(test, rm);
      // The fallback order: lower is tried first; change it in place.
      const priority = el("input");
      priority.type = "number";
      priority.value = String(p.priority);
      priority.className = "priority";
      priority.title = "Fallback order: lower is tried first";
      priority.addEventListener("change", async () => {
        try {
          await call(commands.providerSetPriority(p.name, Number(priority.value)));
          await loadProviders();
        } catch (e) {
          say(result, describe(e), false);
        }
      });
      const order = el("td");
      order.append(priority);
      tr.append(order, el("td", "head", p.name), el("td", "", `${p.kind} · ${p.model}`), el("td", "", `key: ${p.key}`), el("td", "", st), actions, result);
      return tr;
    }));
    if (ps.length === 0) t.replaceChildren(el("tr", "muted", "No providers: answers are quoted from your documents."));
  } catch (e) {
    failed(t, e);
  }
}

export function initModels(): void {
  $("prov-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (id: string) => $<HTMLInputElement>(id).value;
    try {
      await call(commands.providerAdd({
        name: v("prov-name"),
        kind: v("prov-kind"),
        base_url: v("prov-url"),
        model: v("prov-model"),
        priority: Number(v("prov-priority")),
        context_window: v("prov-context") ? Number(v("prov-context")) : null,
        prices: { input_per_mtok: Number(v("prov-input-price")), output_per_mtok: Number(v("prov-output-price")) },
        key: v("prov-key") || null,
      }));
      $<HTMLInputElement>("prov-key").value = "";
      say($("prov-status"), "Added.", true);
      await loadProviders();
    } catch (e) {
      say($("prov-status"), describe(e), false);
    }
  });
}

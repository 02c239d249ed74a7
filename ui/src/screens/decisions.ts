// Decision log: every decision with its path; pick one for its trace ("why").
import { call, commands, type RoutePath } from "../api";
import { $, el, failed } from "../dom";
import { traceTable } from "../trace";

export async function loadLog(): Promise<void> {
  const list = $("log-list");
  try {
    const path = ($<HTMLSelectElement>("log-path").value || null) as RoutePath | null;
    const fan = $<HTMLInputElement>("log-fan").value.trim() || null;
    const ds = await call(commands.decisions(path, fan, 200));
    list.replaceChildren(...ds.map((d) => {
      const li = el("li", "item");
      li.append(el("div", "head", `#${d.id} · path ${d.path} · fan ${d.fan_id} · ${d.created_at.slice(0, 19)}`), el("p", "", d.reason));
      li.addEventListener("click", () => {
        $("log-detail").replaceChildren(
          el("h2", `path path-${d.path}`, `Path ${d.path} — ${d.reason}`),
          el("pre", "reply", d.reply),
          el("h3", "", "Why"),
          traceTable(d.trace),
        );
      });
      return li;
    }));
    if (ds.length === 0) list.replaceChildren(el("li", "muted", "No decisions match."));
  } catch (e) {
    failed(list, e);
  }
}

export function initDecisions(): void {
  $("log-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    void loadLog();
  });
}

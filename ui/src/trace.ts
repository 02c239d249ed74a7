// A routing trace as a table: every step, its outcome and why.
import type { Trace } from "./api";
import { el } from "./dom";

export function traceTable(trace: Trace): HTMLTableElement {
  const t = el("table", "trace");
  for (const s of trace.steps) {
    const tr = el("tr", s.outcome);
    tr.append(el("td", "", s.step), el("td", "", s.outcome), el("td", "", s.note));
    t.append(tr);
  }
  return t;
}

// A routing trace as a table: every step, its outcome and why.
import type { JsonValue, StepRecord, Trace } from "./api";
import { el } from "./dom";

export function traceTable(trace: Trace | JsonValue): HTMLTableElement {
  const steps: StepRecord[] = (trace as Trace | null)?.steps ?? [];
  const t = el("table", "trace");
  for (const s of steps) {
    const tr = el("tr", s.outcome);
    tr.append(el("td", "", s.step), el("td", "", s.outcome), el("td", "", s.note));
    t.append(tr);
  }
  return t;
}

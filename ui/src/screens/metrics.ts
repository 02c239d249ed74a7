// Metrics: path distribution over time, the auto-answer rate trend, escalations per
// day against the cap, the queue by day, answers within the reply time, the most reused
// answers, the backlog; a period picker.
import { Chart, registerables } from "chart.js";
import { call, commands, type Metrics, type RoutePath } from "../api";
import { $, el, failed } from "../dom";
import { loadGaps } from "./gaps";

Chart.register(...registerables);
const PATHS: RoutePath[] = ["A", "B", "C", "D", "E", "F"];
const COLORS: Record<RoutePath, string> = { A: "#2a9d8f", B: "#e9c46a", C: "#457b9d", D: "#f4a261", E: "#e76f51", F: "#6c757d" };
let charts: Chart[] = [];

function canvas(title: string): [HTMLElement, HTMLCanvasElement] {
  const box = el("div", "chart");
  const c = el("canvas");
  box.append(el("h3", "", title), c);
  return [box, c];
}

export async function loadMetrics(): Promise<void> {
  const body = $("metrics-body");
  try {
    const days = Number($<HTMLSelectElement>("metrics-days").value);
    const m: Metrics = await call(commands.metrics(days));
    const pct = (x: number) => `${Math.round(100 * x)}%`;
    const cards = el("div", "cards");
    for (const [k, v] of [["messages", m.messages], ["auto-answered", pct(m.auto_answer_rate)], ["reused (C)", pct(m.reuse_rate)],
      ["escalations today", `${m.escalations_today}/${m.max_per_day}`], ["this week", `${m.escalations_this_week}/${m.max_per_week}`],
      ["backlog", m.backlog], ["offers pending", m.pending_offers],
      ["median hours to answer", m.median_hours_to_answer === null ? "–" : m.median_hours_to_answer.toFixed(1)],
      ["answered within reply time", m.answered_within_sla === null ? "–" : pct(m.answered_within_sla)],
      ["overdue now", m.overdue]] as const) {
      const c = el("div", "card");
      c.dataset.metric = k;
      c.append(el("div", "value", String(v)), el("div", "label", k));
      cards.append(c);
    }
    const top = el("ol", "top");
    top.id = "top-answers";
    for (const a of m.top_answers) top.append(el("li", "", `${a.question_pattern} — reused ${a.times_reused}×`));
    if (m.top_answers.length === 0) top.append(el("li", "muted", "No answer reused yet."));
    const [pathsBox, pathsCanvas] = canvas("Paths per day");
    const [rateBox, rateCanvas] = canvas("Auto-answer rate");
    const [capBox, capCanvas] = canvas("Escalations queued per day, against the cap");
    const [backlogBox, backlogCanvas] = canvas("Your queue by day");
    backlogBox.id = "backlog-chart";
    const grid = el("div", "charts");
    grid.append(pathsBox, rateBox, capBox, backlogBox);
    const gaps = el("div");
    gaps.id = "gaps-box";
    body.replaceChildren(cards, grid, el("h3", "", "Most reused answers"), top, gaps);
    void loadGaps(days, gaps);
    for (const c of charts) c.destroy();
    const labels = m.per_day.map((d) => d.date.slice(5));
    const count = (p: RoutePath) => m.per_day.map((d) => d.paths[p] ?? 0);
    const small = { responsive: true, maintainAspectRatio: false, animation: false as const };
    charts = [
      new Chart(pathsCanvas, {
        type: "bar",
        data: { labels, datasets: PATHS.map((p) => ({ label: p, data: count(p), backgroundColor: COLORS[p] })) },
        options: { ...small, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
      }),
      new Chart(rateCanvas, {
        type: "line",
        data: { labels, datasets: [{ label: "answered without you", data: m.per_day.map((d) => Math.round(100 * d.auto_answer_rate)), borderColor: COLORS.A, tension: 0.2 }] },
        options: { ...small, scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } } },
      }),
      new Chart(capCanvas, {
        data: {
          labels,
          datasets: [
            { type: "bar", label: "queued (E)", data: count("E"), backgroundColor: COLORS.E },
            { type: "line", label: "daily cap", data: labels.map(() => m.max_per_day), borderColor: "#333", borderDash: [4, 4], pointRadius: 0 },
          ],
        },
        options: { ...small, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
      new Chart(backlogCanvas, {
        type: "line",
        data: {
          labels: m.backlog_per_day.map((d) => d.date.slice(5)),
          datasets: [
            { label: "at the day's end", data: m.backlog_per_day.map((d) => d.end), borderColor: COLORS.E, tension: 0.2 },
            { label: "most that day", data: m.backlog_per_day.map((d) => d.most), borderColor: "#999", borderDash: [4, 4], pointRadius: 0 },
          ],
        },
        options: { ...small, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
    ];
  } catch (e) {
    failed(body, e);
  }
}

export function initMetrics(): void {
  $("metrics-days").addEventListener("change", () => void loadMetrics());
}

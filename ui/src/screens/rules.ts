// Rules: caps, threshold, clarification, blocked topics, allowed tiers, availability
// windows with the time zone, persona; and the policy file, its errors shown inline.
// The rules are checked by the library (set_rules); this form only shapes them.
import { call, commands, describe, isErrorBody, type AgentConfig, type AvailabilityWindow, type ReplayReport, type Tier } from "../api";
import { $, el, say } from "../dom";

const TIERS: Tier[] = ["free", "follower", "paid"];

/** The rules form, filled from `r`; `read()` gives the edited rules. The first-run
 *  flow shows the same form. */
export function rulesForm(r: AgentConfig): { form: HTMLElement; read: () => AgentConfig } {
  const form = el("div", "rules");
  const field = (label: string, input: HTMLElement, hint?: string) => {
    const l = el("label", "", label);
    l.append(input);
    if (hint) l.append(el("span", "muted small", hint));
    form.append(l);
    return input;
  };
  const num = (v: number, step = "1") => {
    const i = el("input");
    i.type = "number";
    i.step = step;
    i.value = String(v);
    return i;
  };
  const check = (v: boolean) => {
    const i = el("input");
    i.type = "checkbox";
    i.checked = v;
    return i;
  };
  const text = (v: string) => {
    const i = el("input");
    i.value = v;
    return i;
  };
  const perDay = field("Escalations per day", num(r.max_escalations_per_day)) as HTMLInputElement;
  perDay.name = "max_escalations_per_day";
  const perWeek = field("Escalations per week", num(r.max_escalations_per_week)) as HTMLInputElement;
  perWeek.name = "max_escalations_per_week";
  const escalate = field("Offer escalations to you", check(r.escalation_enabled)) as HTMLInputElement;
  const threshold = field("Auto-answer confidence (0–1)", num(r.auto_answer_confidence_threshold, "0.01"), "below it, a question goes to you") as HTMLInputElement;
  const clarify = field("Ask clarifying questions", check(r.clarification_enabled)) as HTMLInputElement;
  const blocked = field("Blocked topics", text(r.blocked_topics.join(", ")), "comma-separated; refused politely") as HTMLInputElement;
  blocked.name = "blocked_topics";
  const tiers = el("span", "row");
  for (const t of TIERS) {
    const l = el("label", "inline", t);
    const c = check(r.allowed_user_tiers.includes(t));
    c.value = t;
    l.prepend(c);
    tiers.append(l);
  }
  field("Tiers you take questions from", tiers);
  const windows = el("textarea");
  windows.value = r.availability_windows.map((w) => `${w.days.join(",")} ${w.start}-${w.end}`).join("\n");
  windows.placeholder = "mon,tue,wed,thu,fri 09:00-17:00";
  field("Availability windows", windows, "one a line; empty: always");
  const outside = el("select");
  for (const o of ["queue", "refuse"]) outside.append(new Option(o, o, false, r.outside_hours === o));
  field("Outside the windows", outside);
  const tz = field("Time zone (IANA)", text(r.timezone), "caps reset at midnight here, e.g. Europe/Paris") as HTMLInputElement;
  tz.name = "timezone";
  const persona = el("textarea");
  persona.value = r.persona;
  persona.placeholder = "How you write: warm, brief, first person…";
  field("Persona (the voice of AI answers)", persona);
  const read = (): AgentConfig => ({
    ...r,
    max_escalations_per_day: Number(perDay.value),
    max_escalations_per_week: Number(perWeek.value),
    escalation_enabled: escalate.checked,
    auto_answer_confidence_threshold: Number(threshold.value),
    clarification_enabled: clarify.checked,
    blocked_topics: blocked.value.split(",").map((s) => s.trim()).filter(Boolean),
    allowed_user_tiers: [...tiers.querySelectorAll("input")].filter((c) => c.checked).map((c) => c.value as Tier),
    availability_windows: windows.value.split("\n").map((l) => l.trim()).filter(Boolean).map(parseWindow),
    outside_hours: outside.value as AgentConfig["outside_hours"],
    timezone: tz.value.trim(),
    persona: persona.value,
  });
  return { form, read };
}

function parseWindow(line: string): AvailabilityWindow {
  const [days = "", span = ""] = line.split(/\s+/, 2);
  const [start = "", end = ""] = span.split("-");
  return { days: days.split(",").map((d) => d.trim().toLowerCase()).filter(Boolean), start, end };
}

let current: ReturnType<typeof rulesForm> | null = null;
let timer: number | undefined;
const PATHS = ["A", "B", "C", "D", "E", "F"];
const NAMES: Record<string, string> = {
  A: "answered from your documents", B: "asked to clarify", C: "served an earlier answer",
  D: "offered to you", E: "queued", F: "refused",
};

/** "On your last 30 days this change would…": the form's rules replayed on the stored
 *  messages beside the rules in force (nothing is written). */
let asked = 0;

async function preview(): Promise<void> {
  if (!current) return;
  const out = $("rules-replay");
  const mine = ++asked;
  out.replaceChildren(el("p", "muted", "Replaying your last 30 days…"));
  try {
    const r = await call(commands.replayRules(current.read(), 30));
    // A later edit asked again meanwhile: its answer is the one to show.
    if (mine === asked) out.replaceChildren(...describeReplay(r));
  } catch (e) {
    if (mine === asked) out.replaceChildren(el("p", "fail", describe(e)));
  }
}

function describeReplay(r: ReplayReport): HTMLElement[] {
  const v = r.variants[0];
  if (r.messages === 0) return [el("p", "muted", "No fan messages in the last 30 days to try this on.")];
  const moves: string[] = [];
  v.matrix.forEach((row, from) => row.forEach((n, to) => {
    if (from !== to && n > 0) moves.push(`${n} ${n === 1 ? "message" : "messages"} ${NAMES[PATHS[from]]} would be ${NAMES[PATHS[to]]} (${PATHS[from]} → ${PATHS[to]})`);
  }));
  const head = el("p", v.changed ? "" : "muted", v.changed === 0
    ? `On your last 30 days (${r.messages} messages) this change would change nothing.`
    : `On your last 30 days (${r.messages} messages) this change would: ${moves.join("; ")}.`);
  head.id = "rules-replay-summary";
  const caps = el("p", "muted small",
    `Busiest day: ${v.caps.busiest_day} offers to you (now ${r.baseline.caps.busiest_day}); ` +
    `${v.caps.days_over} day(s) over ${v.caps.max_per_day} a day, ${v.caps.weeks_over} week(s) over ${v.caps.max_per_week} a week.`);
  const list = el("ul", "list compact");
  list.append(...v.examples.map((e) => el("li", "small", `${e.from} → ${e.to}: “${e.message}” — ${e.reason}`)));
  return [head, caps, list];
}

export async function loadRules(): Promise<void> {
  try {
    current = rulesForm(await call(commands.rules()));
    $("rules-form").replaceChildren(current.form);
    $("rules-replay").replaceChildren();
    $<HTMLTextAreaElement>("policy-text").value = await call(commands.policyText());
  } catch (e) {
    say($("rules-status"), describe(e), false);
  }
}

export function initRules(): void {
  $("rules-preview").addEventListener("click", () => void preview());
  // Each edit of the form previews again, once the typing stops.
  const again = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void preview(), 800);
  };
  $("rules-form").addEventListener("input", again);
  $("rules-form").addEventListener("change", again);
  $("rules-save").addEventListener("click", async () => {
    if (!current) return;
    try {
      current = rulesForm(await call(commands.setRules(current.read())));
      $("rules-form").replaceChildren(current.form);
      $("rules-replay").replaceChildren();
      say($("rules-status"), "Saved; the next message is routed with these rules.", true);
    } catch (e) {
      say($("rules-status"), describe(e), false);
    }
  });
  $("policy-save").addEventListener("click", async () => {
    try {
      await call(commands.policySave($<HTMLTextAreaElement>("policy-text").value));
      say($("policy-status"), "Valid and saved; routing uses it from the next message.", true);
    } catch (e) {
      say($("policy-status"), isErrorBody(e) ? e.message : describe(e), false);
    }
  });
}

// Small DOM helpers: no framework, every screen builds its own elements.
import { describe } from "./api";

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`no element #${id}`);
  return e as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function failed(target: HTMLElement, e: unknown): void {
  target.replaceChildren(el("p", "fail", describe(e)));
}

export function say(target: HTMLElement, text: string, ok: boolean): void {
  target.textContent = text;
  target.className = ok ? "ok" : "fail";
}

export function button(label: string, onClick: () => unknown, title?: string): HTMLButtonElement {
  const b = el("button", "", label);
  b.type = "button";
  if (title) b.title = title;
  b.addEventListener("click", () => void onClick());
  return b;
}

export function select<T extends string>(options: readonly T[], value?: T): HTMLSelectElement {
  const s = el("select");
  for (const o of options) s.append(new Option(o, o, false, o === value));
  return s;
}

export const LAYERS = ["public", "friends", "intimate"] as const;

/** Hours as "3 h" or "2.5 d". */
export function age(hours: number): string {
  return hours < 48 ? `${hours.toFixed(1)} h` : `${(hours / 24).toFixed(1)} d`;
}

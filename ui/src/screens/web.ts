// Settings: "Take messages from the web on this computer" runs the hub inside the app
// (off until turned on), and shows where fans reach it.
import { call, commands, describe } from "../api";
import type { WebStatus } from "../api";
import { $, el, say } from "../dom";

function show(s: WebStatus): void {
  $<HTMLInputElement>("web-on").checked = s.setting.on;
  const out = $("web-status");
  if (s.setting.on && s.listening) {
    const link = el("a", "", s.setting.chat_url);
    link.href = s.setting.chat_url;
    link.target = "_blank";
    out.replaceChildren(
      el("span", "ok", `Serving fans on http://${s.listening}. `),
      el("span", "", "Chat page: "), link,
      el("span", "muted", ` · site key ${s.setting.site_key} · API docs at /docs`),
    );
  } else if (s.setting.on) {
    say(out, s.error ?? "starting…", false);
  } else {
    out.replaceChildren(el("span", "muted", `Off. When on, fans reach you at ${s.setting.listen} (change it with [hub] listen).`));
  }
}

export async function loadWeb(): Promise<void> {
  try {
    show(await call(commands.webStatus()));
  } catch (e) {
    say($("web-status"), describe(e), false);
  }
}

export function initWeb(): void {
  const box = $<HTMLInputElement>("web-on");
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      show(await call(commands.webSet(box.checked)));
    } catch (e) {
      say($("web-status"), describe(e), false);
    } finally {
      box.disabled = false;
    }
  });
}

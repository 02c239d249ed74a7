// Settings → Backups: a daily backup into a folder the creator picks, keeping the
// newest N; "Back up now".
import { open } from "@tauri-apps/plugin-dialog";
import { call, commands, describe } from "../api";
import type { AutoBackup } from "../api";
import { $, say } from "../dom";

function show(a: AutoBackup): void {
  $<HTMLInputElement>("backup-folder").value = a.folder ?? "";
  $<HTMLInputElement>("backup-keep").value = String(a.keep);
  const out = $("backup-status");
  if (!a.folder) say(out, "Off. Choose a folder (another disk, or a synced folder) to back up daily.", true);
  else say(out, `Daily into ${a.folder}, keeping the newest ${a.keep}. Last backup: ${a.last ?? "none yet"}.`, true);
}

export async function loadBackups(): Promise<void> {
  try {
    show(await call(commands.autoBackup()));
  } catch (e) {
    say($("backup-status"), describe(e), false);
  }
}

async function save(): Promise<void> {
  const folder = $<HTMLInputElement>("backup-folder").value.trim();
  show(await call(commands.autoBackupSet(folder || null, Number($<HTMLInputElement>("backup-keep").value))));
}

export function initBackups(): void {
  $("backup-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await save();
    } catch (e) {
      say($("backup-status"), describe(e), false);
    }
  });
  $("backup-choose").addEventListener("click", async () => {
    const picked = await open({ directory: true, multiple: false });
    if (typeof picked === "string") $<HTMLInputElement>("backup-folder").value = picked;
  });
  $("backup-now").addEventListener("click", async () => {
    const out = $("backup-status");
    say(out, "Backing up…", true);
    try {
      await save();
      const r = await call(commands.backupNow());
      say(out, `Backed up to ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB).`, true);
    } catch (e) {
      say(out, describe(e), false);
    }
  });
}

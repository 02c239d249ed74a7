// The real desktop app, built with its UI embedded, driven through WebDriver
// (tauri-driver → WebKitWebDriver) under Xvfb on a fresh data directory: the first run
// (name, an import with progress, rules), a simulated message that escalates, the
// fan accepting, the creator answering it in the queue, the same question again
// served from that canonical answer, and the reuse on the metrics screen. A screenshot
// of each main screen is saved. Run by tests/e2e/run.sh.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { remote } from "webdriverio";

const APP = process.env.FANLINE_E2E_APP;
const PORT = Number(process.env.FANLINE_E2E_PORT ?? 4444);
const KB = process.env.FANLINE_E2E_KB;
const SHOTS = process.env.FANLINE_E2E_SHOTS;
assert.ok(APP && KB && SHOTS, "run through tests/e2e/run.sh");
mkdirSync(SHOTS, { recursive: true });

let b;
const shot = (name) => b.saveScreenshot(join(SHOTS, `${name}.png`));
const text = async (sel) => (await b.$(sel)).getText();
const waitText = async (sel, re, timeout = 60000) => {
  let last = "(missing)";
  await b.waitUntil(async () => {
    const e = await b.$(sel);
    if (!(await e.isExisting())) return false;
    last = await e.getText();
    return re.test(last);
  }, { timeout, interval: 200 }).catch(async () => {
    await shot(`failed-${sel.replace(/[^a-z0-9]+/gi, "_")}`);
    throw new Error(`${sel} never matched ${re}; it said: ${last}`);
  });
};
const tab = async (name) => {
  await (await b.$(`nav button[data-tab="${name}"]`)).click();
  await b.waitUntil(async () => (await b.$(`#${name}`)).isDisplayed(), { timeout: 10000 });
};
const simulate = async (fan, message) => {
  await tab("simulator");
  await b.waitUntil(async () => (await b.$$("#sim-fan option")).length > 0, { timeout: 10000 });
  await (await b.$("#sim-fan")).selectByAttribute("value", fan);
  await (await b.$("#sim-message")).setValue(message);
  await (await b.$('#sim-form button[type="submit"]')).click();
  await waitText("#sim-result h2", /^Path [A-F]/);
  return text("#sim-result h2");
};
const addFan = async (handle, tier) => {
  await tab("simulator");
  await (await b.$("#fan-handle")).setValue(handle);
  await (await b.$("#fan-tier")).selectByVisibleText(tier);
  await (await b.$('#fan-form button[type="submit"]')).click();
  await b.waitUntil(async () => (await b.$(`#sim-fan option[value="${handle}"]`)).isExisting(), { timeout: 10000 });
};

before(async () => {
  b = await remote({
    hostname: "127.0.0.1",
    port: PORT,
    logLevel: "warn",
    capabilities: { "tauri:options": { application: APP } },
  });
  await b.setWindowSize(1280, 860).catch(() => {});
});

after(async () => {
  await b?.deleteSession();
});

const QUESTION = "Would you ever co-write a novel with one of your readers?";
const PARAPHRASE = "Would you ever co-write a novel with a reader?";

test("first run: name, import with progress, rules", async () => {
  await waitText("#firstrun h2", /Welcome to Fanline/, 30000);
  await (await b.$("#setup-name")).setValue("Jules Marlow");
  await (await b.$("#setup-persona")).setValue("Warm, brief, first person.");
  await b.waitUntil(async () => (await (await b.$("#setup-persona")).getValue()) === "Warm, brief, first person.");
  await shot("01-first-run");
  await (await b.$("#setup-next")).click();
  await (await b.$("#firstrun .import-path")).setValue(join(KB, "public"));
  await (await b.$("#firstrun .import form button")).click();
  await waitText("#firstrun .import-status", /^Imported \d+/, 180000);
  const bar = await b.$("#firstrun .import progress");
  const [value, max, updates] = [await bar.getProperty("value"), await bar.getProperty("max"), Number(await bar.getAttribute("data-updates"))];
  assert.equal(value, max, "the bar is full");
  assert.ok(max >= 5, `one step a file (${max})`);
  assert.ok(updates >= max + 1, `a progress event per file, and the start (${updates})`);
  assert.match(await text("#firstrun .import-status"), /Imported 5, unchanged 0, skipped 0, failed 0/);
  await shot("02-first-run-import");
  await (await b.$("#setup-next")).click();
  await (await b.$('input[name="max_escalations_per_day"]')).setValue("5");
  await shot("03-first-run-rules");
  await (await b.$("#setup-finish")).click();
  await b.waitUntil(async () => (await b.$("nav")).isDisplayed(), { timeout: 10000 });
  assert.match(await text("#queue-list"), /The queue is empty/);
});

test("a novel question escalates; the fan accepts; it reaches the queue with a notification badge", async () => {
  await addFan("maya", "free");
  const path = await simulate("maya", QUESTION);
  assert.match(path, /^Path D/);
  assert.match(await text("#sim-result pre.reply"), /Jules Marlow personally/);
  await (await b.$("#sim-accept")).click();
  await waitText("#sim-result p.ok", /^Path E/);
  await shot("04-simulator-escalation");
  // The queue watcher raises a notification and the badge counts the new question.
  await waitText("#queue-badge", /^1$/, 15000);
});

test("the creator answers it in the queue", async () => {
  await tab("queue");
  await waitText("#queue-list .item", /co-write a novel/);
  await (await b.$("#queue-list .item")).click();
  await waitText("#queue-detail h2", /co-write/);
  // The editor shows what the documents say beside it.
  await b.waitUntil(async () => (await b.$$("#queue-detail .side .item")).length > 0, { timeout: 30000 });
  await (await b.$("#answer-text")).setValue("I love the idea, but no: my novels are a solitary craft. I run a co-writing workshop twice a year.");
  await shot("05-queue");
  await (await b.$("#answer-send")).click();
  await waitText("#queue-status", /^Answered: canonical answer #\d+/);
  await waitText("#queue-list", /The queue is empty/);
});

test("the same question again is served from the canonical answer, and the reuse shows on the metrics", async () => {
  await addFan("theo", "follower");
  const path = await simulate("theo", PARAPHRASE);
  assert.match(path, /^Path C/);
  assert.match(await text("#sim-result pre.reply"), /solitary craft/);
  assert.match(await text("#sim-result pre.reply"), /Jules Marlow's answer/);
  await shot("06-simulator-reuse");
  await tab("metrics");
  await waitText("#top-answers", /reused 1×/);
  assert.notEqual(await text('.card[data-metric="reused (C)"] .value'), "0%");
  assert.equal((await b.$$("#metrics canvas")).length, 4, "paths, auto-answer rate, escalations against the cap, the queue by day");
  await shot("07-metrics");
});

test("the other screens", async () => {
  await tab("library");
  await waitText("#lib-list", /reused 1×/);
  await (await b.$("#lib-list .item")).click();
  await waitText("#lib-detail h2", /co-write/);
  await shot("08-answers");
  await tab("knowledge");
  await waitText("#doc-table", /passages/);
  await shot("09-knowledge");
  await tab("log");
  await waitText("#log-list", /path C/);
  await (await b.$("#log-list .item")).click();
  await waitText("#log-detail", /Why/);
  await shot("10-decisions");
  await tab("rules");
  await b.waitUntil(async () => (await b.$('input[name="max_escalations_per_day"]')).isExisting(), { timeout: 10000 });
  assert.equal(await (await b.$('input[name="max_escalations_per_day"]')).getValue(), "5");
  await shot("11-rules");
  await tab("providers");
  await waitText("#prov-table", /No providers/);
  await shot("12-models");
});

test("metrics: a content gap answered once for every fan who asked", async () => {
  const gap = "Do you give talks at schools about becoming a writer?";
  await addFan("theo", "follower");
  for (const fan of ["maya", "theo"]) {
    assert.match(await simulate(fan, gap), /^Path D/);
  }
  await tab("metrics");
  await waitText("#gaps", /talks at schools.*2 fan\(s\)/s);
  await (await b.$("#gaps .gap-answer")).click();
  await (await b.$("#gaps .gap-editor textarea")).setValue("Yes, twice a term: ask your school to write to my agent.");
  await shot("18-metrics-gaps");
  await (await b.$("#gaps .gap-save")).click();
  await waitText("#gaps", /No gaps/);
  // The next fan who asks is served the answer.
  assert.match(await simulate("maya", gap), /^Path C/);
});

test("queue: three fans ask the same thing; one answer from one editor reaches all three", async () => {
  await addFan("iris", "paid");
  const asks = [
    ["maya", "Do you sell signed copies of your books?"],
    ["theo", "Do you sell signed copies of your book?"],
    ["iris", "Do you sell signed copies of your novels?"],
  ];
  for (const [fan, q] of asks) {
    assert.match(await simulate(fan, q), /^Path D/);
    await (await b.$("#sim-accept")).click();
    await waitText("#sim-result p.ok", /^Path E/);
  }
  await tab("queue");
  await waitText("#queue-list .item.grouped", /signed copies[\s\S]*3 questions from 3 fans: answer once/);
  await (await b.$("#queue-list .item.grouped")).click();
  await b.waitUntil(async () => (await b.$$("#group-members .item")).length === 3, { timeout: 10000 });
  assert.match(await text("#answer-send"), /Answer all 3/);
  await (await b.$("#answer-text")).setValue("Yes: signed copies are in the shop on my site.");
  await shot("19-queue-group");
  await (await b.$("#answer-send")).click();
  await waitText("#queue-status", /^Answered 3 questions from 3 fans at once: canonical answer #\d+/);
  await waitText("#queue-list", /The queue is empty/);
  // Each of them was told, and the next fan who asks is served the answer.
  assert.match(await simulate("iris", "Do you sell signed copies of your books?"), /^Path C/);
});

test("rules: before saving, a change is replayed on the last 30 days", async () => {
  await tab("rules");
  const field = await b.$('input[name="blocked_topics"]');
  await field.waitForExist({ timeout: 10000 });
  await field.setValue("signed copies");
  // The preview follows the form once the typing stops.
  await waitText("#rules-replay-summary", /^On your last 30 days \(\d+ messages\) this change would: \d+ messages? .* would be refused \([CD] → F\)/, 30000);
  assert.match(await text("#rules-replay"), /signed copies/);
  await shot("20-rules-replay");
  // Nothing was saved: back on the screen, the rules are as they were.
  await tab("queue");
  await tab("rules");
  await b.waitUntil(async () => (await b.$('input[name="blocked_topics"]')).isExisting(), { timeout: 10000 });
  assert.equal(await (await b.$('input[name="blocked_topics"]')).getValue(), "");
  assert.match(await simulate("maya", "Do you sell signed copies of your books?"), /^Path C/);
});

test("answers: bring in an existing inbox from a CSV export", async () => {
  const folder = mkdtempSync(join(tmpdir(), "fanline-e2e-inbox-"));
  const file = join(folder, "inbox.csv");
  writeFileSync(file, [
    "Date,Fan message,Your reply",
    "2026-10-01,Do you offer gift cards for the workshop?,\"Yes, from the shop page.\"",
    "2026-10-02,Do you offer gift cards for your workshop?,\"Yes, from the shop page.\"",
    "2026-10-03,Do you ship signed books to Canada?,\"Yes, worldwide.\"",
    "2026-10-04,Where do you live?,",
  ].join("\n"));
  await tab("library");
  await (await b.$("#inbox summary")).click();
  await (await b.$("#inbox-path")).setValue(file);
  await (await b.$('#inbox-form button[type="submit"]')).click();
  await waitText("#inbox-summary", /^4 rows .*: 2 answers created, 1 merged as phrasings, 1 skipped\./, 30000);
  assert.match(await text("#inbox-report"), /Row 4 skipped: no reply/);
  await waitText("#lib-list", /gift cards for the workshop/);
  await shot("21-answers-inbox");
  // A fan asking it now is served the reply.
  assert.match(await simulate("maya", "Do you offer gift cards for your workshop?"), /^Path C/);
});

test("settings: take messages from the web on this computer, then stop", async () => {
  await tab("providers");
  await waitText("#web-status", /^Off\. When on, fans reach you at 127\.0\.0\.1:\d+/);
  assert.equal(await (await b.$("#web-on")).isSelected(), false, "off by default");
  await (await b.$("#web-on")).click();
  await waitText("#web-status", /Serving fans on http:\/\/127\.0\.0\.1:\d+/);
  const address = (await text("#web-status")).match(/http:\/\/127\.0\.0\.1:\d+/)[0];
  // The app's own process answers the web: its status, and the chat page fans open.
  const status = await fetch(`${address}/v1/status`);
  assert.equal(status.status, 200);
  assert.ok((await status.json()).model.id, "the model is loaded in the app");
  const chat = (await (await b.$("#web-status a")).getAttribute("href"));
  assert.match(chat, /\/chat\?site=site_/);
  assert.equal((await fetch(chat)).status, 200);
  await shot("14-settings-web");
  await (await b.$("#web-on")).click();
  await waitText("#web-status", /^Off/);
  await assert.rejects(fetch(`${address}/healthz`), "nothing listens any more");
});

test("settings: back up now into a chosen folder", async () => {
  await tab("providers");
  await waitText("#backup-status", /^Off\. Choose a folder/);
  const folder = mkdtempSync(join(tmpdir(), "fanline-e2e-backups-"));
  await (await b.$("#backup-folder")).setValue(folder);
  await (await b.$("#backup-now")).click();
  await waitText("#backup-status", /^Backed up to .*fanline-backup-/);
  const made = readdirSync(folder).filter((n) => n.startsWith("fanline-backup-"));
  assert.equal(made.length, 1, `one backup in ${folder}`);
  assert.ok(readdirSync(join(folder, made[0])).includes("fanline.db"));
  await tab("queue");
  await tab("providers");
  await waitText("#backup-status", /^Daily into .*keeping the newest 7\. Last backup: 20/);
});

test("settings: pair with a hub; a fan's question there reaches this queue, the answer goes back", async () => {
  const hub = process.env.FANLINE_E2E_HUB;
  const cli = (...args) => JSON.parse(execFileSync(process.env.FANLINE_BIN, ["--json", ...args], {
    env: { ...process.env, FANLINE_DATA_DIR: process.env.FANLINE_E2E_HUB_DATA, FANLINE_CONFIG: process.env.FANLINE_E2E_HUB_CONFIG },
  }).toString());
  await tab("providers");
  await waitText("#hub-status", /^Not paired/);
  await (await b.$("#hub-url")).setValue(hub);
  await (await b.$("#hub-code")).setValue(cli("hub", "pair").code);
  await (await b.$("#hub-name")).setValue("E2E laptop");
  await (await b.$('#hub-pair button[type="submit"]')).click();
  await waitText("#hub-status", /^Paired with http:\/\/127\.0\.0\.1:\d+ as “E2E laptop”/, 30000);
  await waitText("#sync-badge", /^hub: synced/, 30000);

  // A fan on the hub's chat asks something for the creator, and accepts.
  const site = cli("hub", "site").site_key;
  const json = { "content-type": "application/json" };
  const s = await (await fetch(`${hub}/v1/sessions`, { method: "POST", headers: json, body: JSON.stringify({ site_key: site }) })).json();
  const fan = { ...json, authorization: `Bearer ${s.fan_token}` };
  const said = await fetch(`${hub}/v1/conversations/${s.conversation_id}/messages`, {
    method: "POST", headers: { ...fan, "idempotency-key": "e2e-hub-1" },
    body: JSON.stringify({ text: "Would you come and speak at our writing festival in Berlin next spring?" }),
  });
  const posted = await said.json();
  assert.equal(posted.decision.path, "D", JSON.stringify(posted));
  const offer = posted.decision.offer.escalation_id;
  assert.equal((await fetch(`${hub}/v1/escalations/${offer}/accept`, { method: "POST", headers: fan, body: "{}" })).status, 200);

  // The hub pokes the app: the question is in this queue; the answer goes back.
  await tab("queue");
  await waitText("#queue-list", /writing festival in Berlin/, 30000);
  await (await b.$("#queue-list .item")).click();
  await waitText("#queue-detail h2", /Berlin/);
  await (await b.$("#answer-text")).setValue("Gladly, if the dates work: write to my agent Clara Weiss.");
  await (await b.$("#answer-send")).click();
  await waitText("#queue-status", /^Answered/);
  await b.waitUntil(async () => {
    const m = await (await fetch(`${hub}/v1/conversations/${s.conversation_id}/messages`, { headers: fan })).text();
    return m.includes("write to my agent Clara Weiss");
  }, { timeout: 30000, interval: 500 });
  await waitText("#sync-badge", /^hub: synced$/, 30000);
  await tab("providers");
  await waitText("#hub-status", /Everything made here is on the hub/);
  await shot("17-settings-hub");
  // The hub's own queue is empty: the answer was applied there once.
  assert.equal(cli("queue", "list").length, 0);
});

test("models: add a provider, test it, change its place, remove it", async () => {
  await tab("providers");
  const set = async (id, v) => (await b.$(`#${id}`)).setValue(v);
  await set("prov-name", "local");
  await set("prov-url", "http://127.0.0.1:9/v1");
  await set("prov-model", "llama3.2");
  await set("prov-input-price", "0.5");
  await (await b.$('#prov-form button[type="submit"]')).click();
  await waitText("#prov-status", /^Added/);
  await waitText("#prov-table", /local/);
  assert.match(await text("#prov-table"), /openai · llama3\.2/);
  assert.match(await text("#prov-table"), /key: none/);
  // Nothing listens on port 9: the round trip fails, and says so.
  // The table re-renders after every change (and may twice), so its elements are looked
  // up and used inside the page, never held across a render.
  const press = (label) =>
    b.execute((l) => [...document.querySelectorAll("#prov-table tr button")].find((x) => x.textContent === l).click(), label);
  await press("Test");
  const result = "#prov-table tr td:last-child";
  await b.waitUntil(async () => !/^…?$/.test(await text(result)), { timeout: 60000 });
  assert.doesNotMatch(await text(result), /^ok/);
  await shot("13-models-test");
  // Its place in the fallback order, changed in place.
  await b.execute(() => {
    const e = document.querySelector("#prov-table input.priority");
    e.value = "3";
    e.dispatchEvent(new Event("change"));
  });
  const priority = () => b.execute(() => document.querySelector("#prov-table input.priority")?.value);
  await b.waitUntil(async () => (await priority()) === "3", { timeout: 10000 });
  await press("Remove");
  await waitText("#prov-table", /No providers/);
});

// The chat widget as a fan uses it, in a real headless Chromium (Debian's, through
// chromedriver) against a real `fanline serve` with the real model: a question answered
// with its sources; a question offered to the creator, accepted with one click, "sent to
// … expected reply by …"; the creator's answer (given from the command line, another
// process) appearing without a reload, and still there after the page is closed and
// opened again; a message written while the hub is down, retried, and stored exactly
// once. Screenshots of each step. Run by run.sh.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { remote } from "webdriverio";

const BIN = process.env.FANLINE_BIN;
const PORT = Number(process.env.FANLINE_HUB_PORT);
const DRIVER = Number(process.env.FANLINE_DRIVER_PORT);
const SHOTS = process.env.FANLINE_WIDGET_SHOTS;
assert.ok(BIN && PORT && DRIVER && SHOTS, "run through tests/widget/run.sh");
mkdirSync(SHOTS, { recursive: true });
const HUB = `http://127.0.0.1:${PORT}`;

const fanline = (...args) => execFileSync(BIN, args, { encoding: "utf8" });
let server, b, site;

async function startHub() {
  server = spawn(BIN, ["serve", "--listen", `127.0.0.1:${PORT}`], { stdio: ["ignore", "pipe", "inherit"] });
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${HUB}/readyz`)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the hub did not start");
}

async function stopHub() {
  const done = new Promise((r) => server.once("exit", r));
  server.kill("SIGKILL");
  await done;
}

const shot = (name) => b.saveScreenshot(join(SHOTS, `${name}.png`));
const inWidget = (sel) => b.$("#chat").shadow$(sel);
const widgetAll = (sel) => b.$("#chat").shadow$$(sel);
const messages = async () => {
  const out = [];
  for (const m of await widgetAll(".msg")) out.push(await m.getText());
  return out;
};
const waitFor = async (what, predicate, timeout = 60000) => {
  let last = [];
  await b.waitUntil(async () => predicate((last = await messages())), { timeout, interval: 250 }).catch(async () => {
    await shot(`failed-${what.replace(/[^a-z0-9]+/gi, "-")}`);
    throw new Error(`${what}: never seen; the widget shows:\n${last.join("\n---\n")}`);
  });
  return last;
};
const ask = async (text) => {
  const box = await inWidget("textarea");
  await box.setValue(text);
  await b.keys("Enter");
};

before(async () => {
  site = JSON.parse(fanline("hub", "site", "--json")).site_key;
  await startHub();
  b = await remote({
    hostname: "127.0.0.1",
    port: DRIVER,
    logLevel: "warn",
    capabilities: {
      browserName: "chrome",
      "goog:chromeOptions": {
        binary: "/usr/bin/chromium",
        args: [
          "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
          "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--window-size=900,900",
        ],
      },
    },
  });
});

after(async () => {
  await b?.deleteSession().catch(() => {});
  if (server && server.exitCode === null) await stopHub();
});

test("a question is answered from the documents, with its sources", async () => {
  await b.url(`${HUB}/chat?site=${site}`);
  await b.waitUntil(async () => (await inWidget("header")).isExisting(), { timeout: 20000 });
  await ask("What camera do you film your videos with?");
  const shown = await waitFor("the answer with its sources", (ms) => ms.some((m) => /ZV-E10/.test(m) && /Sources: \[1\] Gear and tools I use/.test(m)));
  assert.equal(shown.filter((m) => m === "What camera do you film your videos with?").length, 1, "the fan's own message, once");
  await shot("11-widget-answer");
});

const QUESTION = "Would you come and sign books at our shop in Nantes next spring?";
const ANSWER = "I would love to: my agent plans the spring tour, write to her.";

test("an offer is accepted with one click, and the creator's answer appears live", async () => {
  await ask(QUESTION);
  await b.waitUntil(async () => (await inWidget('button[data-action="accept"]')).isExisting(), { timeout: 60000 });
  await shot("12-widget-offer");
  await (await inWidget('button[data-action="accept"]')).click();
  await b.waitUntil(async () => /Sent to .+ expected reply by/.test(await (await inWidget(".status")).getText()), { timeout: 20000 });
  await shot("13-widget-sent");
  const queue = JSON.parse(fanline("queue", "list", "--json"));
  const item = queue.find((q) => q.question === QUESTION);
  assert.ok(item, "the question is in the creator's queue");
  fanline("queue", "answer", String(item.id), "--text", ANSWER);
  const live = await waitFor("the creator's answer, without a reload", (ms) => ms.some((m) => m.includes(ANSWER)), 30000);
  await shot("14-widget-creator-answer");
  assert.equal(live.filter((m) => m === QUESTION).length, 1, "the question shown once, live too");
});

test("after closing and opening the page again, the conversation is all there", async () => {
  await b.url("about:blank");
  await b.url(`${HUB}/chat?site=${site}`);
  const shown = await waitFor("the conversation read back", (ms) => ms.some((m) => m.includes(ANSWER)));
  assert.ok(shown.some((m) => /ZV-E10/.test(m)), "the first answer is there too");
  assert.equal(shown.filter((m) => m === QUESTION).length, 1, "each message once");
});

test("a message written while the hub is down is retried and stored exactly once", async () => {
  await stopHub();
  const text = "Do you do collaborations with brands?";
  await ask(text);
  await b.waitUntil(async () => /retrying/.test(await (await inWidget(".status")).getText()), { timeout: 20000 });
  await shot("15-widget-retrying");
  await startHub();
  await waitFor("the answer after the hub came back", (ms) => ms.some((m) => /proposal/i.test(m)), 90000);
  const token = await b.execute((s) => JSON.parse(localStorage.getItem("fanline:" + s)).token, site);
  const conv = await b.execute((s) => JSON.parse(localStorage.getItem("fanline:" + s)).conversation, site);
  const page = await (await fetch(`${HUB}/v1/conversations/${conv}/messages?after=0&limit=500`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.equal(page.messages.filter((m) => m.role === "fan" && m.body === text).length, 1, "stored once");
  assert.equal(page.messages.filter((m) => m.reply_to != null && page.messages.find((f) => f.id === m.reply_to)?.body === text).length, 1, "answered once");
});

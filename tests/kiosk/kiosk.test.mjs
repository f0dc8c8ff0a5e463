// The office monitor in real headless Chromium (Debian's chromium, driven by
// playwright-core) against a real hadir-server whose clock the test moves
// (server/examples/kiosk_harness.rs). The QR is read from screenshots with jsQR.
//
//   node tests/kiosk/kiosk.test.mjs <path to kiosk_harness>
//
// It checks: the page shows the office, the server's clock and a QR that decodes to the
// current token; a check-in with that token is accepted; when the server clock moves a
// window on, the page shows a new token without waiting out real windows; a token two
// windows old is refused (QR_EXPIRED); the page shows "offline" while the server is down
// and resumes by itself; its DOM does not grow; the credential leaves the URL at once
// (no fragment after load) and a reload of plain /kiosk still shows the QR; no
// credential, a made-up one, a malformed one and a revoked one are refused and show no
// QR, and a refused credential is forgotten (a reload does not present it again).

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import assert from "node:assert/strict";

const require = createRequire(new URL("../../.tools/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const jsQR = require("jsqr");
const { PNG } = require("pngjs");

const harnessPath = process.argv[2];
if (!harnessPath) {
  console.error("usage: node kiosk.test.mjs <kiosk_harness binary>");
  process.exit(2);
}
const WAIT_MS = 10_000;
const WINDOW_MS = 30_000;
const TOKEN_RE = /^v1\.kominfo\.(\d+)\.[A-Z2-7]{16}$/;

// The harness: one JSON line per command.
const harness = spawn(harnessPath, [], { stdio: ["pipe", "pipe", "inherit"] });
const lines = createInterface({ input: harness.stdout })[Symbol.asyncIterator]();
async function nextLine() {
  const { value, done } = await lines.next();
  if (done) throw new Error("the harness exited");
  return JSON.parse(value);
}
async function ask(command) {
  harness.stdin.write(command + "\n");
  return nextLine();
}

let passed = 0;
async function step(name, body) {
  const started = Date.now();
  await body();
  passed += 1;
  console.log(`ok ${passed} - ${name} (${Date.now() - started} ms)`);
}

function decodeQr(png) {
  const image = PNG.sync.read(png);
  const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  return code ? code.data : null;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

try {
  const start = await nextLine();
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  const state = (s) =>
    page.waitForFunction((want) => document.body.dataset.state === want, s, { timeout: WAIT_MS });
  const shownToken = async () => {
    const token = decodeQr(await page.screenshot({ type: "png" }));
    assert.ok(token, "a QR code is readable in the screenshot");
    assert.equal(token, await page.evaluate(() => document.body.dataset.token));
    return token;
  };

  let first;
  await step("the page shows the office, the server clock and a readable QR", async () => {
    await page.goto(`${start.url}/kiosk#${start.credential}`);
    await state("ok");
    assert.equal(page.url(), `${start.url}/kiosk`, "the credential left the URL");
    first = await shownToken();
    const m = first.match(TOKEN_RE);
    assert.ok(m, first);
    assert.equal(Number(m[1]), Math.floor(start.now_ms / WINDOW_MS));
    assert.equal(await page.textContent("#office"), "Dinas Kominfo");
    // The harness's clock says 08:00:10 WIB on 1 December 2025, not this machine's.
    assert.match(await page.textContent("#clock"), /^08:0\d:\d\d WIB$/);
    assert.equal(await page.textContent("#date"), "Senin, 1 Desember 2025");
  });

  await step("a check-in with the token read from the screen is accepted", async () => {
    const r = await ask(`checkin ${first}`);
    assert.equal(r.status, "accepted", JSON.stringify(r));
    assert.equal(r.office_id, "kominfo");
  });

  let domSize;
  await step("the token changes when the server clock moves a window on", async () => {
    domSize = await page.evaluate(() => document.getElementsByTagName("*").length);
    const window0 = await page.evaluate(() => document.body.dataset.window);
    await ask(`advance ${WINDOW_MS}`);
    await page.waitForFunction((w) => document.body.dataset.window !== w, window0,
      { timeout: WAIT_MS });
    const second = await shownToken();
    assert.notEqual(second, first);
    assert.equal(Number(second.match(TOKEN_RE)[1]), Number(window0) + 1);
  });

  await step("a token two windows old is refused, the current one accepted", async () => {
    const window1 = await page.evaluate(() => document.body.dataset.window);
    await ask(`advance ${WINDOW_MS}`);
    await page.waitForFunction((w) => document.body.dataset.window !== w, window1,
      { timeout: WAIT_MS });
    const old = await ask(`checkin ${first}`);
    assert.equal(old.status, "rejected", JSON.stringify(old));
    assert.deepEqual(old.codes, ["QR_EXPIRED"]);
    const none = await ask("checkin -");
    assert.deepEqual(none.codes, ["QR_MISSING"]);
    const current = await ask(`checkin ${await shownToken()}`);
    assert.equal(current.status, "accepted", JSON.stringify(current));
  });

  await step("the page shows offline while the server is down, then resumes", async () => {
    await ask("stop");
    await state("offline");
    assert.equal(decodeQr(await page.screenshot({ type: "png" })), null, "no stale QR");
    assert.match(await page.textContent("#status"), /tidak terjangkau/);
    await ask(`advance ${WINDOW_MS}`);
    await ask("start");
    await state("ok");
    const back = await shownToken();
    assert.equal(Number(back.match(TOKEN_RE)[1]), Math.floor(start.now_ms / WINDOW_MS) + 3);
    assert.equal(await page.evaluate(() => document.getElementsByTagName("*").length), domSize,
      "the DOM does not grow");
  });

  await step("a reload without the fragment still shows the QR", async () => {
    await page.goto(`${start.url}/kiosk`);
    await state("ok");
    assert.equal(page.url(), `${start.url}/kiosk`);
    const token = await shownToken();
    assert.equal(Number(token.match(TOKEN_RE)[1]), Math.floor(start.now_ms / WINDOW_MS) + 3);
    assert.equal(await page.evaluate(() => location.hash), "", "no fragment in the URL");
  });

  for (const [name, hash, code] of [
    ["no credential", "", ""],
    ["a made-up credential", "#kiosk-0000000000.bm90LWEtcmVhbC1jcmVkZW50aWFs", "KIOSK_UNAUTHORIZED"],
    ["a malformed escape", "#kiosk-%E0%A4%A", "KIOSK_UNAUTHORIZED"],
    ["a revoked kiosk", `#${start.revoked_credential}`, "KIOSK_REVOKED"],
  ]) {
    await step(`${name} is refused and shows no QR`, async () => {
      // A fresh context: its own localStorage, as on another monitor.
      const fresh = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
      const other = await fresh.newPage();
      const denied = () => other.waitForFunction(
        () => document.body.dataset.state === "denied", null, { timeout: WAIT_MS });
      await other.goto(`${start.url}/kiosk${hash}`);
      await denied();
      assert.equal(await other.evaluate(() => document.body.dataset.code || ""), code);
      assert.equal(decodeQr(await other.screenshot({ type: "png" })), null);
      assert.equal(other.url(), `${start.url}/kiosk`);
      // Forgotten: a reload has no credential to present.
      await other.goto(`${start.url}/kiosk`);
      await denied();
      assert.equal(await other.evaluate(() => document.body.dataset.code || ""), "");
      assert.match(await other.textContent("#status"), /tidak lengkap/);
      await fresh.close();
    });
  }
  console.log(`kiosk: ${passed} passed, 0 failed`);
} catch (e) {
  console.error(e);
  console.log(`kiosk: ${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  await browser.close();
  harness.stdin.end();
  harness.kill();
}

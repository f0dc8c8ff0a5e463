// The enrollment slip's QR, read back by a real QR reader: `hadir-server enroll-code
// issue --qr-svg` writes an SVG, headless Chromium renders it, jsQR decodes the
// screenshot, and the text must be exactly `hadir-enroll:v1:<the printed code>:<person>`
// (docs/PROTOCOL.md, "Enrollment QR"), which the app's scanner parses.
//
//   node tests/kiosk/enrollment_qr.test.mjs <path to hadir-server>

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";

const require = createRequire(new URL("../../.tools/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const jsQR = require("jsqr");
const { PNG } = require("pngjs");

const server = process.argv[2];
if (!server) {
  console.error("usage: node enrollment_qr.test.mjs <hadir-server binary>");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "hadir-enroll-qr-"));
const db = join(dir, "hadir.db");
const svgPath = join(dir, "slip.svg");
const admin = (...args) =>
  execFileSync(server, [...args, "--db", db], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  admin("office", "add", "--id", "kominfo", "--name", "Dinas Kominfo", "--utc-offset-minutes", "420",
    "--lat", "-3.7928", "--lon", "102.2608", "--radius-m", "80");
  admin("person", "add", "--kind", "ni-pppk", "--id", "199009132025242014", "--name", "Rina", "--office", "kominfo");
  const code = admin("enroll-code", "issue", "--person", "ni_pppk:199009132025242014", "--qr-svg", svgPath).trim();
  assert.match(code, /^[A-Z2-9-]{10,}$/);

  const page = await browser.newPage({ viewport: { width: 400, height: 400 } });
  await page.setContent(`<body style="margin:20px;background:#fff">${readFileSync(svgPath, "utf8")}</body>`);
  const image = PNG.sync.read(await page.screenshot());
  const qr = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  assert.ok(qr, "the slip's QR decodes");
  assert.equal(qr.data, `hadir-enroll:v1:${code}:ni_pppk:199009132025242014`);
  console.log("ok 1 - the enrollment slip's QR decodes to the code and the person");
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}

/// <reference lib="dom" />
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import hre from "hardhat";
import { chromium, type Browser } from "playwright-core";

import { buildAttestation } from "../support/attestation-builder.js";
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from "../support/chromium.js";
import { runTask } from "../support/run-task.js";

describe("verify-attestation --html in headless Chromium", function () {
  let browser: Browser | undefined;
  let folder: string;

  before(async function () {
    if (!chromiumAvailable()) {
      console.log(`      skipping: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
      this.skip();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    folder = await mkdtemp(join(tmpdir(), "dstack-html-task-"));
  });

  after(async () => {
    await browser?.close();
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  });

  it("shows the task's own verdict: each check with the status of the JSON output, the failed one marked", async () => {
    // An attestation whose served app-compose is one byte off: compose-hash must fail.
    const built = buildAttestation();
    const bundle = { ...built.bundle, app_compose: `${built.bundle.app_compose} ` };
    const bundleFile = join(folder, "bundle.json");
    const htmlFile = join(folder, "report.html");
    await writeFile(bundleFile, JSON.stringify(bundle));

    const run = await runTask(hre, "verify-attestation", {
      bundle: bundleFile,
      skipQuoteSignature: true,
      skipOnchain: true,
      nonce: Buffer.from(built.nonce).toString("hex"),
      html: htmlFile,
      json: true,
    });
    expect(run.exitCode).to.equal(1);
    expect(run.json.ok).to.equal(false);
    const statuses = Object.fromEntries(run.json.checks.map((c: { id: string; status: string }) => [c.id, c.status]));
    expect(statuses["compose-hash"]).to.equal("fail");

    const page = await browser!.newPage();
    await page.goto(`file://${htmlFile}`);
    expect(await page.locator("#verdict h1").innerText()).to.equal("NOT VERIFIED");
    for (const [id, status] of Object.entries(statuses)) {
      const row = page.locator(`tr[data-check-id="${id}"]`);
      expect(await row.isVisible(), id).to.equal(true);
      expect(await row.getAttribute("data-status"), id).to.equal(status);
    }
    expect(await page.locator('tr[data-check-id="compose-hash"] .badge').innerText()).to.equal("FAIL");
    expect(await page.locator('tr[data-check-id="event-log-replay"] .badge').innerText()).to.equal("PASS");
    await page.screenshot({ path: join(folder, "report.png"), fullPage: true });
    await page.close();
  });
});

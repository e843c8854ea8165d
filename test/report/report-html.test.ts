/// <reference lib="dom" />
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { chromium, type Browser } from "playwright-core";

import { escapeHtml, renderVerdictHtml } from "../../src/attestation/report-html.js";
import type { CheckId } from "../../src/attestation/types.js";
import type { AttestationEvidence, AttestationVerdict } from "../../src/attestation/verify.js";
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from "../support/chromium.js";

const hex = (byte: string, n: number) => byte.repeat(n);

function verdictWith(statuses: Partial<Record<CheckId, "pass" | "fail" | "skip" | "error">>): AttestationVerdict {
  const checks = (Object.entries(statuses) as Array<[CheckId, "pass" | "fail" | "skip" | "error"]>).map(([id, status]) => ({ id, status, detail: `${id} detail <script>alert(1)</script>` }));
  return {
    ok: checks.every((c) => c.status === "pass" || c.status === "skip"),
    checks,
    quote: { version: 4, teeType: "TDX", mrtd: hex("11", 48), rtmr: [hex("a0", 48), hex("a1", 48), hex("a2", 48), hex("a3", 48)], reportData: hex("00", 64), mrConfigId: `01${hex("cd", 32)}${hex("00", 15)}` },
    events: { appId: hex("ab", 20), composeHash: hex("cd", 32), instanceId: hex("ef", 20), osImageHash: hex("12", 32), keyProvider: '{"name":"kms"}' },
    tcbStatus: "UpToDate",
    advisoryIds: [],
  };
}

const evidence: AttestationEvidence = {
  bundleShape: "bundle",
  rtmrComparisons: [0, 1, 2, 3].map((i) => ({ register: `rtmr${i}`, expected: hex(`a${i}`, 48), computed: hex(`a${i}`, 48), match: true })) as AttestationEvidence["rtmrComparisons"],
  runtimeEvents: [{ index: 20, event: "compose-hash", payload: hex("cd", 32), digest: null }],
  images: [
    { service: "web", image: `nginx@sha256:${hex("0f", 32)}`, status: "pinned", reason: "pinned by sha256 digest" },
    { service: "worker", image: "worker:latest", status: "mutable", reason: "tag only" },
  ] as AttestationEvidence["images"],
  onchain: { chainId: 11155111, blockNumber: 8_600_000n, via: "multicall3", calls: [`0x${hex("ab", 20)}.allowedComposeHashes(0x${hex("cd", 32)})`] },
};

const ALL_PASS = {
  "quote-signature": "pass",
  "report-data": "pass",
  "event-log-replay": "pass",
  "compose-hash": "pass",
  "mr-config-id": "pass",
  "image-pinning": "pass",
  "onchain-compose-hash": "pass",
  "onchain-app-registered": "skip",
  "onchain-os-image": "skip",
} as const;

describe("HTML attestation report", () => {
  it("is self-contained: no scripts, no external assets, and every value escaped", () => {
    const html = renderVerdictHtml(verdictWith({ ...ALL_PASS, "onchain-compose-hash": "fail" }), evidence, { source: "bundle.json", generatedAt: new Date(0) });
    expect(html).to.not.match(/<script/i);
    expect(html).to.not.match(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).to.not.match(/<link\b/i);
    expect(html).to.include(escapeHtml("<script>alert(1)</script>"));
    expect(html).to.include('data-check-id="onchain-compose-hash" data-status="fail"');
    expect(html).to.include("NOT VERIFIED");
  });

  describe("in headless Chromium", function () {
    let browser: Browser | undefined;
    let folder: string;

    before(async function () {
      if (!chromiumAvailable()) {
        console.log(`      skipping: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
        this.skip();
      }
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
      folder = await mkdtemp(join(tmpdir(), "dstack-report-"));
    });

    after(async () => {
      await browser?.close();
      if (folder !== undefined) await rm(folder, { recursive: true, force: true });
    });

    async function open(verdict: AttestationVerdict) {
      const file = join(folder, `report-${verdict.ok ? "ok" : "bad"}.html`);
      await writeFile(file, renderVerdictHtml(verdict, evidence, { source: "bundle.json", generatedAt: new Date("2026-11-22T00:00:00Z") }));
      const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${file}`);
      return { page, file };
    }

    it("renders a passing verdict with every check visible", async () => {
      const { page } = await open(verdictWith(ALL_PASS));
      expect(await page.locator("#verdict h1").innerText()).to.equal("VERIFIED");
      expect(await page.locator("#verdict").getAttribute("data-ok")).to.equal("true");
      const rows = page.locator("#checks tr.check");
      expect(await rows.count()).to.equal(Object.keys(ALL_PASS).length);
      for (const [id, status] of Object.entries(ALL_PASS)) {
        const row = page.locator(`tr[data-check-id="${id}"]`);
        expect(await row.isVisible(), id).to.equal(true);
        expect(await row.locator(".badge").innerText(), id).to.equal(status === "pass" ? "PASS" : "SKIPPED");
      }
      await page.close();
    });

    it("marks a failed check as failed, in red, and keeps a screenshot", async () => {
      const { page, file } = await open(verdictWith({ ...ALL_PASS, "compose-hash": "fail", "onchain-compose-hash": "error" }));
      expect(await page.locator("#verdict h1").innerText()).to.equal("NOT VERIFIED");
      const failed = page.locator('tr[data-check-id="compose-hash"]');
      expect(await failed.getAttribute("data-status")).to.equal("fail");
      expect(await failed.locator(".badge").innerText()).to.equal("FAIL");
      const color = await failed.locator(".badge").evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(color).to.equal("rgb(180, 35, 24)");
      expect(await page.locator('tr[data-check-id="onchain-compose-hash"] .badge').innerText()).to.equal("ERROR");
      expect(await page.locator("#verdict").innerText()).to.include("Compose hash");
      // The escaped detail is shown as text, not executed.
      expect(await failed.locator("td.detail").innerText()).to.include("<script>alert(1)</script>");
      const screenshot = process.env.REPORT_SCREENSHOT ?? `${file}.png`;
      await page.screenshot({ path: screenshot, fullPage: true });
      const png = await readFile(screenshot);
      expect(png.subarray(1, 4).toString()).to.equal("PNG");
      await page.close();
    });
  });
});

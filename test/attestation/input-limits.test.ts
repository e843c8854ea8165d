/**
 * Every input the verifier reads has an explicit size limit, and going over it is a
 * specific, named failure: app-compose, vm_config, collateral (value, file, PCCS answer)
 * and the verification API's answer. (Quote, event log and live-endpoint limits are
 * tested with their parsers.)
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import { AttestationInputError, MAX_VM_CONFIG_BYTES, normalizeBundle } from "../../src/attestation/bundle.js";
import {
  CollateralError,
  fetchCollateral,
  loadCollateralFile,
  MAX_COLLATERAL_BYTES,
  MAX_PCCS_RESPONSE_BYTES,
  parseCollateral,
} from "../../src/attestation/collateral.js";
import { MAX_PHALA_API_RESPONSE_BYTES, verifyQuoteWithPhalaApi } from "../../src/attestation/phala-api.js";
import { verifyAttestation } from "../../src/attestation/verify.js";
import { analyzeAppComposeImages, MAX_APP_COMPOSE_BYTES } from "../../src/compose/index.js";
import { AppComposeJsonError } from "../../src/compose/errors.js";
import { buildAttestation } from "../support/attestation-builder.js";
import { generateTdxQuote } from "../support/tdx-quote-generator.js";

const NOW = new Date("2025-07-01T00:00:00Z");

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected a throw");
}

async function rejected(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

/** An app-compose of `size` bytes that is otherwise well formed. */
function appComposeOfSize(size: number): string {
  const head = '{"docker_compose_file":"services:\\n  web:\\n    image: x\\n","pad":"';
  return `${head}${"p".repeat(size - head.length - 2)}"}`;
}

describe("input limits", function () {
  describe("app-compose", function () {
    it("is analysed up to MAX_APP_COMPOSE_BYTES and refused, by name, one byte over", function () {
      expect(analyzeAppComposeImages(appComposeOfSize(MAX_APP_COMPOSE_BYTES))).to.have.length(1);
      const error = thrown(() => analyzeAppComposeImages(appComposeOfSize(MAX_APP_COMPOSE_BYTES + 1)));
      expect(error).to.be.instanceOf(AppComposeJsonError);
      expect(error.message).to.equal(`app-compose.json: is ${MAX_APP_COMPOSE_BYTES + 1} bytes, more than MAX_APP_COMPOSE_BYTES (${MAX_APP_COMPOSE_BYTES})`);
    });

    it("counts UTF-8 bytes, not characters", function () {
      const narrow = appComposeOfSize(Math.floor(MAX_APP_COMPOSE_BYTES / 2) + 100);
      const wide = narrow.replace(/p{8}/g, "é".repeat(8)); // the padding, now 2 bytes per character
      expect(wide.length).to.be.below(MAX_APP_COMPOSE_BYTES);
      expect(Buffer.byteLength(wide)).to.be.above(MAX_APP_COMPOSE_BYTES);
      expect(thrown(() => analyzeAppComposeImages(wide)).message).to.match(/more than MAX_APP_COMPOSE_BYTES/);
    });

    it("an oversized app_compose in a bundle fails compose-hash with the limit, not a hash mismatch", async function () {
      const att = buildAttestation({ now: NOW });
      const big = appComposeOfSize(MAX_APP_COMPOSE_BYTES + 10);
      const { verdict } = await verifyAttestation({ ...att.bundle, app_compose: big }, { now: NOW, quoteSignature: { mode: "skip" }, onchain: "skip" });
      const compose = verdict.checks.find((c) => c.id === "compose-hash");
      expect(compose?.status).to.equal("fail");
      expect(compose?.detail).to.match(/^app_compose is \d+ bytes, more than MAX_APP_COMPOSE_BYTES/);
    });
  });

  describe("vm_config", function () {
    it("is refused over MAX_VM_CONFIG_BYTES, as a string or an object", function () {
      const quote = "04000200";
      expect(normalizeBundle({ quote, vm_config: "x".repeat(MAX_VM_CONFIG_BYTES) }).vmConfig).to.be.a("string");
      for (const vm_config of ["x".repeat(MAX_VM_CONFIG_BYTES + 1), { os_image_hash: "x".repeat(MAX_VM_CONFIG_BYTES) }]) {
        const error = thrown(() => normalizeBundle({ quote, vm_config }));
        expect(error).to.be.instanceOf(AttestationInputError);
        expect(error.message).to.match(/^bundle: vm_config is \d+ characters, more than MAX_VM_CONFIG_BYTES \(65536\)$/);
      }
    });
  });

  describe("collateral", function () {
    let dir: string;
    let server: Server | undefined;
    before(async function () {
      dir = await mkdtemp(path.join(os.tmpdir(), "input-limits-"));
    });
    after(async function () {
      await rm(dir, { recursive: true, force: true });
    });
    afterEach(async function () {
      await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
      server = undefined;
    });

    it("a collateral value whose fields exceed MAX_COLLATERAL_BYTES is invalid, by name", function () {
      const { collateral } = generateTdxQuote({ now: NOW });
      expect(() => parseCollateral(collateral)).to.not.throw();
      const error = thrown(() => parseCollateral({ ...collateral, tcb_info: `${collateral.tcb_info}${" ".repeat(MAX_COLLATERAL_BYTES)}` }));
      expect(error).to.be.instanceOf(CollateralError);
      expect(error.code).to.equal("COLLATERAL_INVALID");
      expect(error.message).to.match(/^collateral: is larger than MAX_COLLATERAL_BYTES \(1048576\)/);
    });

    it("a collateral file over MAX_COLLATERAL_BYTES is refused before it is read", async function () {
      const file = path.join(dir, "big.json");
      await writeFile(file, " ".repeat(MAX_COLLATERAL_BYTES + 1));
      const error = await rejected(loadCollateralFile(file));
      expect(error.code).to.equal("COLLATERAL_INVALID");
      expect(error.message).to.equal(`collateral file ${file} is ${MAX_COLLATERAL_BYTES + 1} bytes, more than MAX_COLLATERAL_BYTES (${MAX_COLLATERAL_BYTES})`);
    });

    for (const declared of [true, false]) {
      it(`a PCCS answer over MAX_PCCS_RESPONSE_BYTES is a PCCS_BAD_RESPONSE (${declared ? "declared length" : "chunked, no length"})`, async function () {
        const generated = generateTdxQuote({ now: NOW });
        let sent = 0;
        server = createServer((_req, res) => {
          res.writeHead(200, declared ? { "content-length": String(MAX_PCCS_RESPONSE_BYTES + 1) } : {});
          const chunk = Buffer.alloc(64 * 1024, 0x30);
          const pump = () => {
            while (sent <= MAX_PCCS_RESPONSE_BYTES * 2) {
              sent += chunk.length;
              if (!res.write(chunk)) return void res.once("drain", pump);
            }
            res.end();
          };
          res.on("error", () => undefined);
          pump();
        });
        await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const error = await rejected(fetchCollateral(generated.quote, { pccsUrl: url, now: NOW }));
        expect(error.code).to.equal("PCCS_BAD_RESPONSE");
        expect(error.message).to.match(/is larger than MAX_PCCS_RESPONSE_BYTES \(1048576\)$/);
      });
    }
  });

  describe("verification API answer", function () {
    let server: Server;
    let url: string;
    before(async function () {
      server = createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ quote: { verified: true }, pad: "x".repeat(MAX_PHALA_API_RESPONSE_BYTES) }));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/verify`;
    });
    after(async function () {
      await new Promise((resolve) => server.close(resolve));
    });

    it("over MAX_PHALA_API_RESPONSE_BYTES is an error, not a verdict", async function () {
      const result = await verifyQuoteWithPhalaApi(Uint8Array.of(4, 0), { url });
      expect(result.status).to.equal("error");
      expect(result.detail).to.match(/the answer is larger than 1048576 bytes/);
    });
  });
});

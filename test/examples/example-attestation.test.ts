/**
 * examples/attestation/ (a TEST attestation signed by the project's test root CA) is what
 * a newcomer runs first, so it is tested as shipped: the committed files are exactly what
 * scripts/make-example-attestation.ts regenerates (deterministic and up to date), the
 * README's command verifies through the task, and the test root is trusted only with the
 * explicit --test-root-ca flag.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import { EXAMPLE_DIR, EXAMPLE_NONCE_HEX, EXAMPLE_NOW, makeExampleAttestation } from "../support/example-attestation.js";
import { runTask } from "../support/run-task.js";

const file = (name: string) => path.join(EXAMPLE_DIR, name);
const README_ARGS = {
  bundle: file("bundle.json"),
  appCompose: path.join(EXAMPLE_DIR, "..", "app-compose.json"),
  collateral: file("collateral.json"),
  testRootCa: file("TEST-ROOT-CA.pem"),
  now: String(Math.floor(EXAMPLE_NOW.getTime() / 1000)),
  nonce: EXAMPLE_NONCE_HEX,
  skipOnchain: true,
};
const statuses = (json: { checks: Array<{ id: string; status: string }> }) => Object.fromEntries(json.checks.map((check) => [check.id, check.status]));

describe("examples/attestation (TEST root CA)", function () {
  let tmp: string;
  before(() => (tmp = mkdtempSync(path.join(tmpdir(), "example-attestation-"))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("the committed files are byte for byte what the regeneration script produces, twice", function () {
    const first = makeExampleAttestation().files;
    const second = makeExampleAttestation().files;
    expect(second).to.deep.equal(first);
    for (const [name, text] of Object.entries(first)) expect(readFileSync(file(name), "utf8"), name).to.equal(text);
  });

  it("the README's command verifies through the task (exit 0) and the report names the test root", async function () {
    const run = await runTask(hre, "verify-attestation", { ...README_ARGS, json: true });
    expect(run.exitCode, run.stdout + run.stderr).to.equal(0);
    expect(run.json.ok).to.equal(true);
    expect(statuses(run.json)).to.include({ "quote-signature": "pass", "report-data": "pass", "event-log-replay": "pass", "compose-hash": "pass", "mr-config-id": "pass" });
    expect(run.json.testRootCa).to.equal(README_ARGS.testRootCa);
    const text = await runTask(hre, "verify-attestation", { ...README_ARGS });
    expect(text.exitCode).to.equal(0);
    expect(text.stdout.split("\n")[1]).to.match(/^WARNING: the quote signature was checked against the TEST root CA .*TEST-ROOT-CA\.pem, not Intel's/);
  });

  it("without --test-root-ca the quote signature fails (Intel's root only): exit 1", async function () {
    const { testRootCa: _omitted, ...withoutRoot } = README_ARGS;
    const run = await runTask(hre, "verify-attestation", { ...withoutRoot, json: true });
    expect(run.exitCode).to.equal(1);
    expect(statuses(run.json)["quote-signature"]).to.equal("fail");
  });

  it("--report-data-hash-of and the README's --report-data-sha256-of spelling both bind the report data; a wrong file fails", async function () {
    // The example nonce is SHA-256 of this text, so REPORTDATA = SHA-256(file) ‖ 32 zero bytes.
    const challenge = path.join(tmp, "challenge.txt");
    writeFileSync(challenge, "dstack-governance example nonce");
    const { nonce: _nonce, ...base } = README_ARGS;
    for (const option of ["reportDataHashOf", "reportDataSha256Of"]) {
      const run = await runTask(hre, "verify-attestation", { ...base, [option]: challenge, json: true });
      expect(run.exitCode, `${option}: ${run.stdout}`).to.equal(0);
      expect(statuses(run.json)["report-data"]).to.equal("pass");
    }
    const other = path.join(tmp, "other.txt");
    writeFileSync(other, "something else");
    const wrong = await runTask(hre, "verify-attestation", { ...base, reportDataHashOf: other, json: true });
    expect(wrong.exitCode).to.equal(1);
    expect(statuses(wrong.json)["report-data"]).to.equal("fail");
    const both = await runTask(hre, "verify-attestation", { ...base, reportDataHashOf: challenge, reportDataSha256Of: challenge });
    expect(both.exitCode).to.equal(2);
  });

  it("--test-root-ca is refused with --skip-quote-signature, and an unreadable or non-certificate file is bad input (exit 2)", async function () {
    const skip = await runTask(hre, "verify-attestation", { ...README_ARGS, collateral: undefined, skipQuoteSignature: true });
    expect(skip.exitCode).to.equal(2);
    expect(skip.stderr).to.match(/^Error: --test-root-ca is for the local quote-signature check/);
    const notCert = path.join(tmp, "not-a-cert.txt");
    writeFileSync(notCert, "hello");
    const bad = await runTask(hre, "verify-attestation", { ...README_ARGS, testRootCa: notCert });
    expect(bad.exitCode).to.equal(2);
    expect(bad.stderr).to.match(/^Error: --test-root-ca: .* is neither a PEM certificate nor DER/);
  });
});

/**
 * The main job on Hardhat's built-in simulated chain, through the same tasks a user runs:
 * deploy a KMS (with an app implementation), deploy an app through the KMS factory,
 * compute the compose hash of examples/app-compose.json from its exact bytes, allow it on
 * the app and an OS image on the KMS, print the app's state, and finally verify an
 * attestation of a CVM running that app-compose against the deployed contracts.
 *
 * There is no TDX hardware here, so the attestation is generated: a TDX-format quote signed
 * by a test root CA (the same generator the test suite uses), verified by the
 * verify-attestation task, which trusts that root only because the demo passes
 * --test-root-ca; every other check is the production path.
 *
 *   npm run demo
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import hre from "hardhat";
import type { Address } from "viem";

import { buildAttestation } from "../test/support/attestation-builder.js";
import { toPem } from "../test/support/test-pki.js";

// An example OS image measurement for the simulated chain (a real one is the CVM's `os-image-hash` event).
const OS_IMAGE_HASH = `0x${createHash("sha256").update("dstack-governance demo OS image").digest("hex")}`;

async function runTask(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  // The tasks print; capture the JSON document they write so later steps can use it.
  const log = console.log;
  let output = "";
  console.log = (...parts: unknown[]) => {
    output += `${parts.join(" ")}\n`;
  };
  try {
    await hre.tasks.getTask(name).run({ ...args, json: true });
  } finally {
    console.log = log;
  }
  const result = JSON.parse(output) as Record<string, unknown>;
  if (result.ok !== true || process.exitCode) {
    console.error(`demo: ${name} failed:\n${output}`);
    process.exit(1);
  }
  return result;
}

const step = (text: string) => console.log(`\n== ${text}`);

step("deploy-kms (KMS proxy + DstackApp implementation for its factory)");
const kms = await runTask("deploy-kms", {});
console.log(`KMS ${kms.kms}, app implementation ${kms.appImplementation}`);

step("deploy-app --kms (through the factory, which registers it)");
const app = await runTask("deploy-app", { kms: kms.kms, allowAnyDevice: true, requireTcbUpToDate: true });
console.log(`app ${app.app}`);

step("compose-hash --app-compose examples/app-compose.json");
const compose = await runTask("compose-hash", { appCompose: "examples/app-compose.json" });
console.log(`compose hash ${compose.composeHash} (${compose.bytes} bytes; all images pinned: ${compose.allImagesPinned})`);

step("add-compose-hash --app-compose examples/app-compose.json");
await runTask("add-compose-hash", { app: app.app, appCompose: "examples/app-compose.json" });
console.log("allowed");

step("add-os-image on the KMS");
await runTask("add-os-image", { kms: kms.kms, image: OS_IMAGE_HASH });
console.log(`OS image ${OS_IMAGE_HASH} allowed`);

step("app-info");
await hre.tasks.getTask("app-info").run({ app: app.app });
step("list-compose-hashes");
await hre.tasks.getTask("list-compose-hashes").run({ app: app.app, quiet: true });
step("check-compose-hash");
await hre.tasks.getTask("check-compose-hash").run({ app: app.app, appCompose: "examples/app-compose.json" });

step("verify-attestation of a CVM that booted examples/app-compose.json as this app (TEST root CA)");
const attestation = buildAttestation({
  appId: app.app as Address,
  appCompose: readFileSync("examples/app-compose.json", "utf8"),
  osImageHash: Buffer.from(OS_IMAGE_HASH.slice(2), "hex"),
});
// The task reads files, as a user's run does: the recorded bundle, the collateral and the
// test root CA that it trusts only because --test-root-ca names it.
const work = mkdtempSync(join(tmpdir(), "dstack-demo-"));
try {
  writeFileSync(join(work, "bundle.json"), JSON.stringify(attestation.bundle));
  writeFileSync(join(work, "collateral.json"), JSON.stringify(attestation.collateral));
  writeFileSync(join(work, "TEST-ROOT-CA.pem"), toPem(attestation.rootCaDer));
  process.exitCode = undefined;
  await hre.tasks.getTask("verify-attestation").run({
    bundle: join(work, "bundle.json"),
    collateral: join(work, "collateral.json"),
    testRootCa: join(work, "TEST-ROOT-CA.pem"),
    now: String(Math.floor(attestation.now.getTime() / 1000)),
    nonce: Buffer.from(attestation.nonce).toString("hex"),
    kms: kms.kms,
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (process.exitCode) {
  console.error("demo: verify-attestation did not verify");
  process.exit(1);
}

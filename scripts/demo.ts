/**
 * The main job on Hardhat's built-in simulated chain, through the same tasks a user runs:
 * deploy a KMS (with an app implementation), deploy an app through the KMS factory,
 * compute the compose hash of examples/app-compose.json from its exact bytes, allow it on
 * the app and an OS image on the KMS, print the app's state, and finally verify an
 * attestation of a CVM running that app-compose against the deployed contracts.
 *
 * There is no TDX hardware here, so the attestation is generated: a TDX-format quote signed
 * by a test root CA (the same generator the test suite uses). The verifier trusts that root
 * only because this demo passes it explicitly; every other check is the production path.
 *
 *   npm run demo
 */
import { createHash } from "node:crypto";

import { readFileSync } from "node:fs";

import hre from "hardhat";
import type { Address } from "viem";

import { formatVerdict } from "../src/attestation/report-text.js";
import { verifyAttestation } from "../src/attestation/verify.js";
import { buildAttestation } from "../test/support/attestation-builder.js";

// An example OS image measurement for the simulated chain (a real one is the CVM's `os-image-hash` event).
const OS_IMAGE_HASH = `0x${createHash("sha256").update("dstack-governance demo OS image").digest("hex")}`;

async function runTask(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  // The tasks print; capture the JSON document they write so later steps can use it.
  const log = console.log;
  let output = "";
  console.log = (...parts: unknown[]) => {
    output += parts.join(" ") + "\n";
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

step("verify an attestation of a CVM that booted examples/app-compose.json as this app");
const attestation = buildAttestation({
  appId: app.app as Address,
  appCompose: readFileSync("examples/app-compose.json", "utf8"),
  osImageHash: Buffer.from(OS_IMAGE_HASH.slice(2), "hex"),
});
const connection = await hre.network.getOrCreate();
const { verdict } = await verifyAttestation(attestation.bundle, {
  now: attestation.now,
  reportData: { kind: "nonce", nonce: attestation.nonce },
  quoteSignature: { mode: "local", collateral: attestation.collateral, trustedRootCaDer: attestation.rootCaDer },
  onchain: { client: await connection.viem.getPublicClient(), kms: kms.kms as Address },
});
for (const line of formatVerdict(verdict)) console.log(line);
if (!verdict.ok) process.exitCode = 1;

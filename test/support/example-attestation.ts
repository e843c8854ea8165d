/**
 * The example attestation in examples/attestation/: a synthetic dstack attestation of a CVM
 * that booted examples/app-compose.json, signed by the project's TEST root CA (not Intel's),
 * generated from a fixed seed and a fixed time so that the same files come out on every run.
 * Written by scripts/make-example-attestation.ts; test/examples/example-attestation.test.ts
 * checks that the committed files are exactly what this produces and that they verify
 * through the task.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

import { buildAttestation, type BuiltAttestation } from "./attestation-builder.js";
import { toPem } from "./test-pki.js";
import { useSeededRandomness } from "./test-random.js";

const PROJECT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const EXAMPLE_DIR = path.join(PROJECT, "examples", "attestation");
const SEED = "dstack-governance examples/attestation v1";
/** 2026-01-01T00:00:00Z: the collateral is valid from the day before to 30 days after. */
export const EXAMPLE_NOW = new Date("2026-01-01T00:00:00Z");
export const EXAMPLE_NONCE_HEX = createHash("sha256").update("dstack-governance example nonce").digest("hex");

export interface ExampleAttestation {
  attestation: BuiltAttestation;
  /** File name in examples/attestation/ → exact contents. */
  files: Record<string, string>;
}

export function makeExampleAttestation(appComposePath = path.join(PROJECT, "examples", "app-compose.json")): ExampleAttestation {
  useSeededRandomness(SEED);
  let attestation: BuiltAttestation;
  try {
    attestation = buildAttestation({
      now: EXAMPLE_NOW,
      appCompose: readFileSync(appComposePath, "utf8"),
      omitAppCompose: true,
      nonce: Buffer.from(EXAMPLE_NONCE_HEX, "hex"),
    });
  } finally {
    useSeededRandomness(undefined);
  }
  const now = Math.floor(EXAMPLE_NOW.getTime() / 1000);
  const command = [
    "npx hardhat verify-attestation --bundle examples/attestation/bundle.json",
    "  --app-compose examples/app-compose.json --collateral examples/attestation/collateral.json",
    `  --test-root-ca examples/attestation/TEST-ROOT-CA.pem --now ${now} --nonce ${EXAMPLE_NONCE_HEX} --skip-onchain`,
  ].join(" \\\n");
  const readme = [
    "# Example attestation — TEST DATA, signed by a TEST root CA, not by Intel",
    "",
    "A synthetic dstack attestation of a CVM that booted `../app-compose.json`, for trying",
    "`verify-attestation` without TDX hardware. The quote is signed through a certificate chain",
    "that ends at `TEST-ROOT-CA.pem`, made by this project's test PKI (test/support/); the",
    "verifier trusts it only when given `--test-root-ca`, and says so in its report. Without that",
    "flag the quote-signature check fails, as it must: nothing here comes from real hardware.",
    "",
    "```sh",
    command,
    "```",
    "",
    `Fixed inputs: time ${EXAMPLE_NOW.toISOString()} (\`--now ${now}\`), nonce \`${EXAMPLE_NONCE_HEX}\`,`,
    `app-id \`${attestation.appId}\`, compose hash \`${attestation.composeHash}\`.`,
    "Regenerate (same bytes every run): `npx tsx scripts/make-example-attestation.ts`.",
    "",
  ].join("\n");
  return {
    attestation,
    files: {
      "bundle.json": `${JSON.stringify(attestation.bundle, null, 2)}\n`,
      "collateral.json": `${JSON.stringify(attestation.collateral, null, 2)}\n`,
      "TEST-ROOT-CA.pem": toPem(attestation.rootCaDer),
      "README.md": readme,
    },
  };
}

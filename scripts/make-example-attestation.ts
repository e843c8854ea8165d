/**
 * Regenerates examples/attestation/ (a TEST attestation of examples/app-compose.json, signed
 * by the project's test root CA): the same bytes on every run, from a fixed seed and time.
 *
 *   npx tsx scripts/make-example-attestation.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { EXAMPLE_DIR, makeExampleAttestation } from "../test/support/example-attestation.js";

const { files, attestation } = makeExampleAttestation();
mkdirSync(EXAMPLE_DIR, { recursive: true });
for (const [name, text] of Object.entries(files)) writeFileSync(path.join(EXAMPLE_DIR, name), text);
console.log(`wrote ${Object.keys(files).join(", ")} to ${path.relative(process.cwd(), EXAMPLE_DIR)} (app-id ${attestation.appId}, compose hash ${attestation.composeHash})`);

/**
 * Records a fork snapshot from any JSON-RPC endpoint (plain Node, no Hardhat needed):
 *
 *   node scripts/record-snapshot.ts --rpc-url "$SEPOLIA_RPC_URL" --block 8891712 \
 *     --like fork/sepolia-snapshot.json --out fork/sepolia-live-snapshot.json
 *
 *   --rpc-url URL          the source node (default: $SEPOLIA_RPC_URL)
 *   --block N              the fork block (default: the source's latest block)
 *   --like FILE            record the addresses (and keep the scenario) of this snapshot
 *   --address A[,B…]       more accounts to record (repeatable)
 *   --log-address A[,B…]   contracts whose logs to record (default: every recorded contract)
 *   --storage auto|known-slots   auto (default): debug_storageRangeAt where the node offers
 *                          it (complete), otherwise known slots (incomplete: unknown slots
 *                          are errors when served)
 *   --mapping-key K[,K…]   with known slots: also record the mapping entries of these keys
 *                          (e.g. a compose hash a test will add, so the fork can write it)
 *   --out FILE             where to write (default: fork/sepolia-live-snapshot.json)
 *
 * Then point the `sepoliaFork` network at the new block (hardhat.config.ts) and file.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { redactRpcUrl } from "../src/util/redact-url.js";
import { recordSnapshot } from "../src/fork/recorder.js";
import { loadSnapshot, serializeSnapshot } from "../src/fork/snapshot.js";
import type { Hex } from "../src/util/hex.js";

const { values } = parseArgs({
  options: {
    "rpc-url": { type: "string" },
    block: { type: "string" },
    like: { type: "string" },
    address: { type: "string", multiple: true },
    "log-address": { type: "string", multiple: true },
    storage: { type: "string", default: "auto" },
    "mapping-key": { type: "string", multiple: true },
    out: { type: "string", default: "fork/sepolia-live-snapshot.json" },
  },
});

const fail = (message: string): never => {
  process.stderr.write(`record-snapshot: ${message}\n`);
  process.exit(2);
};
const list = (items: string[] | undefined) => (items ?? []).flatMap((item) => item.split(",")).map((a) => a.trim()).filter((a) => a !== "");
const hexList = (items: string[] | undefined, flag: string, length: number) =>
  list(items).map((item) => (new RegExp(`^0x[0-9a-fA-F]{${length}}$`).test(item) ? (item.toLowerCase() as Hex) : fail(`${flag}: ${item} is not 0x + ${length} hex digits`)));

const url = values["rpc-url"] ?? process.env.SEPOLIA_RPC_URL ?? fail("--rpc-url (or SEPOLIA_RPC_URL) is required");
if (values.block !== undefined && !/^\d+$/.test(values.block)) fail(`--block: expected a block number, got ${values.block}`);
if (values.storage !== "auto" && values.storage !== "known-slots") fail(`--storage: auto or known-slots, got ${values.storage}`);
const like = values.like === undefined ? undefined : loadSnapshot(values.like);
const addresses = [...Object.keys(like?.accounts ?? {}), ...hexList(values.address, "--address", 40)] as Hex[];
if (addresses.length === 0) fail("nothing to record: give --like FILE and/or --address");
const logAddresses = values["log-address"] !== undefined ? hexList(values["log-address"], "--log-address", 40) : like?.logCoverage.addresses;

try {
  const snapshot = await recordSnapshot({
    url,
    ...(values.block === undefined ? {} : { blockNumber: BigInt(values.block) }),
    addresses,
    ...(logAddresses === undefined ? {} : { logAddresses }),
    storage: { kind: values.storage as "auto" | "known-slots", extraMappingKeys: hexList(values["mapping-key"], "--mapping-key", 64) },
    source: { kind: "rpc", description: `recorded by scripts/record-snapshot.ts from ${redactRpcUrl(url)}` },
    scenario: like?.scenario ?? {},
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  const text = serializeSnapshot(snapshot);
  writeFileSync(values.out, text);
  const incomplete = Object.entries(snapshot.accounts).filter(([, a]) => !a.storageComplete).map(([address]) => address);
  process.stderr.write(
    `wrote ${values.out}: chain ${snapshot.chainId}, block ${snapshot.blockNumber}, ${Object.keys(snapshot.accounts).length} accounts, ${snapshot.logs.length} logs, ${text.length} bytes\n` +
      (incomplete.length === 0 ? "storage: complete for every account\n" : `storage: known slots only for ${incomplete.join(", ")} (other slots are errors when served)\n`) +
      `pin it: forking.blockNumber = ${snapshot.blockNumber} in hardhat.config.ts\n`,
  );
} catch (error) {
  fail((error as Error).message);
}

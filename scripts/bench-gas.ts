/**
 * Gas benchmark of the compose-hash allowlist, through the ERC1967 proxy, on Hardhat's
 * simulated chain. Prints our figures next to upstream dstack's (from the compatibility
 * spec) and against a baseline measured in this run: ten single `addComposeHash` calls.
 *
 *   npx hardhat run scripts/bench-gas.ts            # table
 *   BENCH_JSON=1 npx hardhat run scripts/bench-gas.ts   # one JSON object
 *
 * Exits 1 when a target is missed: add ≤ 54,600 (upstream) and batch ≤ 30,000 per hash.
 */
import { network } from "hardhat";
import { keccak256, toHex, type Hex } from "viem";

import { deployAppProxy } from "../test/support/contracts.js";

const UPSTREAM = { addComposeHash: 54_600, removeComposeHash: 32_700 };
const TARGET_BATCH_PER_HASH = 30_000;
const BATCH_SIZE = 10;

const { viem } = await network.create();
const publicClient = await viem.getPublicClient();
const [owner] = await viem.getWalletClients();
const { app } = await deployAppProxy(viem, { owner: owner!.account.address, allowAnyDevice: true });

let counter = 0;
const freshHash = (): Hex => keccak256(toHex(`bench-${counter++}`));
async function gasOf(txHash: Promise<Hex>): Promise<number> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await txHash });
  if (receipt.status !== "success") throw new Error(`benchmark transaction ${receipt.transactionHash} reverted`);
  return Number(receipt.gasUsed);
}

// Warm the proxy once so that no figure below pays for first-touch of unrelated state.
await gasOf(app.write.addComposeHash([freshHash()]));

const singleHashes = Array.from({ length: BATCH_SIZE }, freshHash);
const singleAdds: number[] = [];
for (const hash of singleHashes) singleAdds.push(await gasOf(app.write.addComposeHash([hash])));
const singleRemoves: number[] = [];
for (const hash of singleHashes) singleRemoves.push(await gasOf(app.write.removeComposeHash([hash])));

const batchHashes = Array.from({ length: BATCH_SIZE }, freshHash);
const batchAdd = await gasOf(app.write.addComposeHashes([batchHashes]));
const batchRemove = await gasOf(app.write.removeComposeHashes([batchHashes]));

const add = Math.max(...singleAdds);
const remove = Math.max(...singleRemoves);
const baselineTen = singleAdds.reduce((a, b) => a + b, 0);
const batchPerHash = Math.round(batchAdd / BATCH_SIZE);
const results = {
  addComposeHash: { gas: add, upstream: UPSTREAM.addComposeHash, ratioToUpstream: add / UPSTREAM.addComposeHash },
  removeComposeHash: { gas: remove, upstream: UPSTREAM.removeComposeHash, ratioToUpstream: remove / UPSTREAM.removeComposeHash },
  addComposeHashes10: { gas: batchAdd, perHash: batchPerHash, baselineTenSingleAdds: baselineTen, ratioToBaseline: batchAdd / baselineTen },
  removeComposeHashes10: { gas: batchRemove, perHash: Math.round(batchRemove / BATCH_SIZE) },
  targets: {
    addAtMostUpstream: add <= UPSTREAM.addComposeHash,
    batchPerHashAtMost30000: batchPerHash <= TARGET_BATCH_PER_HASH,
  },
};

if (process.env.BENCH_JSON !== undefined) {
  console.log(JSON.stringify(results));
} else {
  const fmt = (n: number) => n.toLocaleString("en-US");
  const rows: Array<[string, string, string, string]> = [
    ["addComposeHash (new hash)", fmt(add), fmt(UPSTREAM.addComposeHash), results.addComposeHash.ratioToUpstream.toFixed(3)],
    ["removeComposeHash", fmt(remove), fmt(UPSTREAM.removeComposeHash), results.removeComposeHash.ratioToUpstream.toFixed(3)],
    [`addComposeHashes x${BATCH_SIZE}, per hash`, fmt(batchPerHash), "n/a", `${results.addComposeHashes10.ratioToBaseline.toFixed(3)} of 10 single adds`],
    [`removeComposeHashes x${BATCH_SIZE}, per hash`, fmt(results.removeComposeHashes10.perHash), "n/a", ""],
  ];
  console.log("| operation (through the proxy) | gas | upstream | ratio |");
  console.log("| --- | ---: | ---: | --- |");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log(`targets: add <= 54,600: ${results.targets.addAtMostUpstream ? "met" : "MISSED"}; batch <= 30,000 per hash: ${results.targets.batchPerHashAtMost30000 ? "met" : "MISSED"}`);
}
if (!results.targets.addAtMostUpstream || !results.targets.batchPerHashAtMost30000) process.exitCode = 1;

/**
 * Benchmark of the compose-hash history rebuild (`readComposeHashHistory`, the code behind
 * `list-compose-hashes`) against an RPC that caps eth_getLogs at 2,000 blocks, as many
 * hosted plans do. An app gets 1,000 ComposeHashAdded/Removed events spread over 100,000
 * blocks (250 batch transactions of 4 hashes in 250 distinct blocks, `hardhat_mine` for the
 * gaps); the chain is served through the loopback RPC proxy of test/support/rpc-proxy.ts,
 * which counts requests per method and refuses wider ranges.
 *
 * Compared in the same run, over the same block range:
 *  - history rebuild: adaptive chunked scan (starts at 2,000, tries larger spans, learns the
 *    cap from the node's refusal) + cross-check of every hash with the contract
 *    (Multicall3 installed, as on mainnet and most L2s); also measured with the
 *    cross-check off, to separate the scan's cost from the cross-check's;
 *  - naive scan: fixed 2,000-block windows, plain sequential eth_getLogs, nothing else
 *    (the best a fixed-window scanner can do when it knows the cap in advance).
 *
 *   npx hardhat run scripts/bench-list.ts               # table
 *   BENCH_JSON=1 npx hardhat run scripts/bench-list.ts  # one JSON object
 *
 * Exits 1 when the two scans do not find the same events (or not the 1,000 written).
 */
import { network } from "hardhat";
import { createPublicClient, http, keccak256, numberToHex, toEventSelector, toHex, type Hex } from "viem";

import { dstackAppAbi } from "../src/abi/dstack-app.js";
import { MULTICALL3_ADDRESS } from "../src/abi/multicall3.js";
import { readComposeHashHistory } from "../src/chain/compose-hash-history.js";
import { deployAppProxy } from "../test/support/contracts.js";
import { MULTICALL3_RUNTIME_CODE } from "../test/support/multicall3.js";
import { startRpcProxy } from "../test/support/rpc-proxy.js";

const TOTAL_BLOCKS = 100_000;
const TRANSACTIONS = 250;
const HASHES_PER_TX = 4;
const RANGE_LIMIT = 2_000;
const RUNS = 3;

const json = process.env.BENCH_JSON === "1";
const log = (line: string) => {
  if (!json) console.error(line);
};

const connection = await network.create();
const { viem, networkHelpers, provider } = connection;
const publicClient = await viem.getPublicClient();
const [owner] = await viem.getWalletClients();
await networkHelpers.setCode(MULTICALL3_ADDRESS, MULTICALL3_RUNTIME_CODE);

// ---- the app and its 1,000 events -------------------------------------------------------
const setupStart = performance.now();
const { app } = await deployAppProxy(viem, { owner: owner!.account.address, allowAnyDevice: true });
const fromBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
let counter = 0;
const fresh = (): Hex[] => Array.from({ length: HASHES_PER_TX }, () => keccak256(toHex(`bench-list-${counter++}`)));
const live: Hex[][] = [];
let written = 0;
const eventBlocks = new Set<bigint>();
// Deterministic, uneven gaps (1..799 blocks) that add up to ~100,000 blocks in all.
let seed = 42;
const nextGap = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return 1 + (seed % 799);
};
for (let i = 0; i < TRANSACTIONS; i += 1) {
  const gap = Math.min(nextGap(), Math.max(1, TOTAL_BLOCKS - Number((await publicClient.getBlockNumber({ cacheTime: 0 })) - fromBlock) - (TRANSACTIONS - i)));
  if (gap > 1) await provider.request({ method: "hardhat_mine", params: [numberToHex(gap - 1)] });
  // Every third transaction removes the batch added just before it; the others add.
  const remove = i % 3 === 2 && live.length > 0;
  const hashes = remove ? live.pop()! : fresh();
  const hash = remove ? await app.write.removeComposeHashes([hashes]) : await app.write.addComposeHashes([hashes]);
  if (!remove) live.push(hashes);
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`set-up transaction ${hash} reverted`);
  eventBlocks.add(receipt.blockNumber);
  written += hashes.length;
}
const last = await publicClient.getBlockNumber({ cacheTime: 0 });
const remaining = TOTAL_BLOCKS - Number(last - fromBlock + 1n);
if (remaining > 0) await provider.request({ method: "hardhat_mine", params: [numberToHex(remaining)] });
const toBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
const blocks = Number(toBlock - fromBlock + 1n);
log(`set-up: ${written} events in ${eventBlocks.size} blocks over ${blocks} blocks (${fromBlock}..${toBlock}) in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

// ---- the limited RPC --------------------------------------------------------------------
const proxy = await startRpcProxy(provider, { maxLogBlockRange: RANGE_LIMIT });
const client = createPublicClient({ transport: http(proxy.url, { retryCount: 0, batch: false }) });
const selectors = (["ComposeHashAdded", "ComposeHashRemoved"] as const).map((name) =>
  toEventSelector(dstackAppAbi.find((item) => item.type === "event" && item.name === name) as never),
);

interface Measurement {
  ms: number;
  requests: number;
  getLogs: number;
  refused: number;
  byMethod: Record<string, number>;
  events: number;
}

async function measure(run: () => Promise<{ events: number; refused: number }>): Promise<Measurement> {
  proxy.resetCounts();
  const start = performance.now();
  const { events, refused } = await run();
  const ms = performance.now() - start;
  return { ms, requests: proxy.count(), getLogs: proxy.count("eth_getLogs"), refused, byMethod: Object.fromEntries(proxy.counts), events };
}

async function adaptive(crossCheck = true): Promise<{ events: number; refused: number }> {
  const history = await readComposeHashHistory(client, app.address, { fromBlock, toBlock, crossCheck });
  if ((history.crossCheck?.mismatches.length ?? 0) > 0) throw new Error("the history disagrees with the contract");
  return {
    events: history.hashes.reduce((sum, record) => sum + record.events.length, 0),
    refused: history.stats.logRequests - history.stats.logChunks,
  };
}

async function naive(): Promise<{ events: number; refused: number }> {
  let events = 0;
  for (let start = fromBlock; start <= toBlock; start += BigInt(RANGE_LIMIT)) {
    const end = start + BigInt(RANGE_LIMIT) - 1n < toBlock ? start + BigInt(RANGE_LIMIT) - 1n : toBlock;
    const logs = (await client.request({
      method: "eth_getLogs",
      params: [{ address: app.address, fromBlock: numberToHex(start), toBlock: numberToHex(end), topics: [selectors] }],
    })) as unknown[];
    events += logs.length;
  }
  return { events, refused: 0 };
}

// Warm-up (JIT, proxy sockets), then alternate the two so neither always runs first.
await adaptive();
await naive();
const adaptiveRuns: Measurement[] = [];
const scanOnlyRuns: Measurement[] = [];
const naiveRuns: Measurement[] = [];
for (let i = 0; i < RUNS; i += 1) {
  adaptiveRuns.push(await measure(() => adaptive()));
  naiveRuns.push(await measure(naive));
  scanOnlyRuns.push(await measure(() => adaptive(false)));
}
await proxy.close();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const summary = (runs: Measurement[]) => ({ ...runs[0]!, ms: median(runs.map((r) => r.ms)), msRuns: runs.map((r) => Math.round(r.ms * 10) / 10) });
const a = summary(adaptiveRuns);
const s = summary(scanOnlyRuns);
const n = summary(naiveRuns);
const consistent = [...adaptiveRuns, ...scanOnlyRuns, ...naiveRuns].every((run) => run.events === written);

const results = {
  setup: { events: written, eventBlocks: eventBlocks.size, blocks, fromBlock: fromBlock.toString(), toBlock: toBlock.toString(), rangeLimit: RANGE_LIMIT, runs: RUNS },
  historyRebuild: { ...a, ms: Math.round(a.ms * 10) / 10 },
  historyRebuildWithoutCrossCheck: { ...s, ms: Math.round(s.ms * 10) / 10 },
  naiveFixedScan: { ...n, ms: Math.round(n.ms * 10) / 10 },
  ratios: {
    requests: a.requests / n.requests,
    getLogs: a.getLogs / n.getLogs,
    wallTime: a.ms / n.ms,
    wallTimeWithoutCrossCheck: s.ms / n.ms,
  },
  sameEventCount: consistent,
};

if (json) {
  console.log(JSON.stringify(results));
} else {
  const row = (cells: string[]) => `| ${cells[0]!.padEnd(34)} | ${cells.slice(1).map((c) => c.padStart(14)).join(" | ")} |`;
  const rule = `|${"-".repeat(36)}|${Array.from({ length: 5 }, () => "-".repeat(16)).join("|")}|`;
  console.log(`\n${written} compose-hash events in ${eventBlocks.size} blocks over ${blocks.toLocaleString("en")} blocks; eth_getLogs capped at ${RANGE_LIMIT.toLocaleString("en")} blocks; median of ${RUNS} runs\n`);
  console.log(row(["", "RPC requests", "eth_getLogs", "refused", "wall time ms", "events found"]));
  console.log(rule);
  console.log(row(["history rebuild (adaptive)", String(a.requests), String(a.getLogs), String(a.refused), a.ms.toFixed(1), String(a.events)]));
  console.log(row(["  same, without the cross-check", String(s.requests), String(s.getLogs), String(s.refused), s.ms.toFixed(1), String(s.events)]));
  console.log(row(["naive fixed 2,000-block scan", String(n.requests), String(n.getLogs), String(n.refused), n.ms.toFixed(1), String(n.events)]));
  console.log(row(["ratio (history / naive)", `${results.ratios.requests.toFixed(2)}x`, `${results.ratios.getLogs.toFixed(2)}x`, "", `${results.ratios.wallTime.toFixed(2)}x`, ""]));
  console.log(row(["ratio (no cross-check / naive)", `${(s.requests / n.requests).toFixed(2)}x`, `${(s.getLogs / n.getLogs).toFixed(2)}x`, "", `${results.ratios.wallTimeWithoutCrossCheck.toFixed(2)}x`, ""]));
  console.log(`\nhistory rebuild requests by method: ${Object.entries(a.byMethod).map(([m, c]) => `${m} ${c}`).join(", ")}`);
  console.log(`wall time per run (ms): history ${a.msRuns.join(", ")}; without cross-check ${s.msRuns.join(", ")}; naive ${n.msRuns.join(", ")}`);
  console.log(
    consistent
      ? `same event count: yes (${written})`
      : `EVENT COUNTS DIFFER: history ${adaptiveRuns.map((r) => r.events).join("/")}, without cross-check ${scanOnlyRuns.map((r) => r.events).join("/")}, naive ${naiveRuns.map((r) => r.events).join("/")}, written ${written}`,
  );
}
if (!consistent) process.exitCode = 1;

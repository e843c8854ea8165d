/**
 * Benchmark of one monitor round over many CVMs: wall time and JSON-RPC requests per
 * round, by method, with the on-chain reads batched per chain (the monitor's default)
 * and, for comparison, read by each verification for itself.
 *
 *   npx hardhat run scripts/bench-monitor.ts              # table
 *   BENCH_JSON=1 npx hardhat run scripts/bench-monitor.ts # one JSON object
 *   (BENCH_TARGETS, default 200; BENCH_APPS, default 20; BENCH_CONCURRENCY, default 32;
 *    BENCH_ROUNDS, default 3 batched rounds, the first a warm-up)
 *
 * Set-up, all on loopback: Hardhat's simulated chain with Multicall3 placed at its canonical
 * address, served through the counting JSON-RPC proxy of test/support/rpc-proxy.ts; BENCH_APPS
 * DstackApps registered with one DstackKms; BENCH_TARGETS CVM stand-ins behind one HTTP
 * server (test/monitor/cvm-farm.ts), each with its own compose hash allowed on its app,
 * answering with a quote built over the nonce received (so report-data really binds). Every
 * check runs, the quote signature included (against each quote's test root CA, passed
 * through the library's verifyOverrides). The stand-ins build their quotes in this same
 * process: that time is part of the wall time and is shown separately.
 *
 * Target: ONE eth_call (aggregate3) per chain per round. The run exits 1 if a batched round
 * needed more than one eth_call, or if any target did not pass (a wrong result would make
 * the request count meaningless). Wall times are reported, not judged (shared machines).
 */
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";

import { network } from "hardhat";
import { createPublicClient, http, type Hex } from "viem";

import { MULTICALL3_ADDRESS } from "../src/abi/multicall3.js";
import { buildAppCompose } from "../src/compose/index.js";
import { parseMonitorConfig } from "../src/monitor/config.js";
import { runMonitor, type MonitorOptions, type RoundReport } from "../src/monitor/monitor.js";
import { runRound, type ResolvedTarget } from "../src/monitor/round.js";
import { defaultDockerCompose } from "../test/support/attestation-builder.js";
import { deployAppProxy, deployKmsProxy } from "../test/support/contracts.js";
import { MULTICALL3_RUNTIME_CODE } from "../test/support/multicall3.js";
import { startRpcProxy } from "../test/support/rpc-proxy.js";
import { startCvmFarm } from "../test/monitor/cvm-farm.js";

const TARGETS = Number(process.env.BENCH_TARGETS ?? 200);
const APPS = Math.min(TARGETS, Number(process.env.BENCH_APPS ?? 20));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Math.max(2, Number(process.env.BENCH_ROUNDS ?? 3));
const JSON_OUTPUT = process.env.BENCH_JSON === "1";

const log = (line: string) => {
  if (!JSON_OUTPUT) console.error(line);
};

interface RoundStats {
  wallMs: number;
  quoteBuildMs: number;
  requests: Record<string, number>;
  totalRequests: number;
  states: { pass: number; fail: number; error: number };
}

const connection = await network.create();
const { viem, networkHelpers } = connection;
await networkHelpers.setCode(MULTICALL3_ADDRESS, MULTICALL3_RUNTIME_CODE);
const [owner] = await viem.getWalletClients();
const { kms } = await deployKmsProxy(viem, owner!.account.address);
const osImageHash = Uint8Array.from(createHash("sha256").update("bench-os-image").digest());
await kms.write.addOsImageHash([`0x${Buffer.from(osImageHash).toString("hex")}`]);

log(`setting up ${APPS} apps and ${TARGETS} CVM stand-ins…`);
const apps = [];
for (let a = 0; a < APPS; a++) {
  const { app } = await deployAppProxy(viem, { owner: owner!.account.address, allowAnyDevice: true });
  await kms.write.registerApp([app.address]);
  apps.push(app);
}
const farm = await startCvmFarm();
const rpc = await startRpcProxy(connection.provider);
const composeHashes: Hex[][] = apps.map(() => []);
const entries: string[] = [];
for (let i = 0; i < TARGETS; i++) {
  const app = apps[i % APPS]!;
  const appCompose = buildAppCompose({ name: `bench-${i}`, dockerCompose: defaultDockerCompose(true), kmsEnabled: true, gatewayEnabled: true }).json;
  composeHashes[i % APPS]!.push(`0x${createHash("sha256").update(appCompose).digest("hex")}`);
  const style = i % 2 === 0 ? "phala" : "guest-agent";
  const url = farm.add(`cvm-${i}`, { style, appId: app.address, appCompose, osImageHash });
  entries.push(`  - name: cvm-${i}\n    url: ${url}\n    endpointStyle: ${style}`);
}
for (const [a, hashes] of composeHashes.entries()) await apps[a]!.write.addComposeHashes([hashes]);

const yaml = [`concurrency: ${CONCURRENCY}`, "defaults:", `  rpcUrl: ${rpc.url}`, `  kms: "${kms.address}"`, "targets:", ...entries].join("\n");
const config = parseMonitorConfig(yaml, "bench-monitor.yaml");
// One client for the one chain, as the task builds it.
const client = createPublicClient({ transport: http(rpc.url) });
const targets: ResolvedTarget[] = config.targets.map((target) => ({ config: target, client }));
const options: MonitorOptions = {
  intervalMs: 0,
  concurrency: config.concurrency,
  retries: 1,
  retryDelayMs: 50,
  timeoutMs: 30_000,
  verifyOverrides: (_target, bundle) => farm.trustFor(bundle),
};

function snapshot(wallMs: number, quoteBuildMs: number, states: RoundStats["states"]): RoundStats {
  const requests = Object.fromEntries([...rpc.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return { wallMs, quoteBuildMs, requests, totalRequests: rpc.count(), states };
}

const tally = (results: RoundReport["results"]) => ({
  pass: results.filter((r) => r.state === "pass").length,
  fail: results.filter((r) => r.state === "fail").length,
  error: results.filter((r) => r.state === "error").length,
});

// Batched rounds through the monitor loop, as the task runs them.
log(`running ${ROUNDS} batched rounds (the first is a warm-up)…`);
const batched: RoundStats[] = [];
let buildBefore = farm.buildMs;
rpc.resetCounts();
await runMonitor(targets, {
  ...options,
  maxRounds: ROUNDS,
  onRound: (report) => {
    batched.push(snapshot(report.durationMs, farm.buildMs - buildBefore, tally(report.results)));
    const failing = report.results.filter((r) => !r.ok);
    if (failing.length > 0) log(`  round ${report.round}: ${failing.length} not ok, e.g. ${failing[0]!.target}: ${failing[0]!.error ?? failing[0]!.failing.join(",")}`);
    buildBefore = farm.buildMs;
    rpc.resetCounts();
  },
});

// The same round with every verification reading the chain for itself.
log("running one unbatched round…");
rpc.resetCounts();
buildBefore = farm.buildMs;
const started = performance.now();
const unbatchedResults = await runRound(targets, { ...options, batchOnchain: false });
const unbatched = snapshot(performance.now() - started, farm.buildMs - buildBefore, tally(unbatchedResults));

await farm.close();
await rpc.close();

const measured = batched.slice(1);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const worstEthCalls = Math.max(...batched.map((r) => r.requests.eth_call ?? 0));
const allPassed = [...batched, unbatched].every((r) => r.states.pass === TARGETS);
const met = worstEthCalls === 1;

const result = {
  targets: TARGETS,
  apps: APPS,
  chains: 1,
  concurrency: CONCURRENCY,
  rounds: batched,
  batched: { medianWallMs: median(measured.map((r) => r.wallMs)), ethCallsPerRound: worstEthCalls, requests: measured.at(-1)!.requests },
  unbatched,
  target: { ethCallsPerChainPerRound: 1, met },
  allPassed,
};

if (JSON_OUTPUT) {
  console.log(JSON.stringify(result));
} else {
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  const methods = [...new Set([...measured.flatMap((r) => Object.keys(r.requests)), ...Object.keys(unbatched.requests)])].sort();
  const last = measured.at(-1)!;
  const rows: Array<[string, string, string]> = [
    ["round wall time", `${ms(result.batched.medianWallMs)} (median of ${measured.length})`, ms(unbatched.wallMs)],
    ["  of which stand-ins building quotes", ms(median(measured.map((r) => r.quoteBuildMs))), ms(unbatched.quoteBuildMs)],
    ["RPC requests", String(last.totalRequests), String(unbatched.totalRequests)],
    ...methods.map((m): [string, string, string] => [`  ${m}`, String(last.requests[m] ?? 0), String(unbatched.requests[m] ?? 0)]),
    ["targets pass / fail / error", `${last.states.pass} / ${last.states.fail} / ${last.states.error}`, `${unbatched.states.pass} / ${unbatched.states.fail} / ${unbatched.states.error}`],
  ];
  const widths = [Math.max(...rows.map((r) => r[0].length)), Math.max(22, ...rows.map((r) => r[1].length)), Math.max(22, ...rows.map((r) => r[2].length))];
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[0]!) : c.padStart(widths[i]!))).join("   ");
  console.log(`monitor: one round over ${TARGETS} CVMs (${APPS} apps, KMS checks on, every check run), concurrency ${CONCURRENCY}, 1 chain with Multicall3`);
  console.log(line(["", "batched (per chain)", "unbatched (per target)"]));
  for (const row of rows) console.log(line(row));
  console.log(`eth_call per batched round: ${batched.map((r) => r.requests.eth_call ?? 0).join(", ")} (round 1 is the warm-up)`);
  console.log(`target: one eth_call (aggregate3) per chain per round — ${met ? "MET" : "MISSED"}`);
  if (!allPassed) console.log("ERROR: not every target passed; the counts are not meaningful");
}

if (!met || !allPassed) process.exitCode = 1;

/**
 * The monitor library (src/monitor) against loopback CVM stand-ins (test/monitor/cvm-farm.ts:
 * quotes built by test/support/attestation-builder.ts over the nonce received) and
 * Hardhat's simulated chain read through the loopback RPC proxy, with Multicall3 placed at
 * its canonical address. The quote signatures are checked locally against each quote's
 * test root CA, passed through the library's `verifyOverrides` (never the YAML).
 *
 * Expected compose hashes are SHA-256 of the app-compose text computed here (node:crypto).
 */
import { expect } from "chai";
import { createHash } from "node:crypto";

import { network } from "hardhat";
import { createPublicClient, http, keccak256, type Address, type PublicClient } from "viem";

import { MULTICALL3_ADDRESS } from "../../src/abi/multicall3.js";
import type { ChainClient } from "../../src/chain/clients.js";
import { buildAppCompose } from "../../src/compose/index.js";
import { parseMonitorConfig } from "../../src/monitor/config.js";
import { toJsonLine } from "../../src/monitor/format.js";
import { runMonitor, type MonitorOptions, type RoundReport } from "../../src/monitor/monitor.js";
import { runRound, type ResolvedTarget } from "../../src/monitor/round.js";
import { defaultDockerCompose } from "../support/attestation-builder.js";
import { deployAppProxy, deployKmsProxy } from "../support/contracts.js";
import { MULTICALL3_RUNTIME_CODE, MULTICALL3_RUNTIME_CODE_HASH } from "../support/multicall3.js";
import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";
import { closedPort, startCvmFarm, startWebhookReceiver, type CvmFarm } from "./cvm-farm.js";

const connection = await network.create();
const { viem, networkHelpers } = connection;

const sha256 = (text: string) => createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex");
const composeText = (name: string) => buildAppCompose({ name, dockerCompose: defaultDockerCompose(true), kmsEnabled: true, gatewayEnabled: true }).json;

let rpc: RpcProxy;
let client: ChainClient;
let farm: CvmFarm;
let kms: Address;
let osImageHash: Uint8Array;
type App = Awaited<ReturnType<typeof deployAppProxy>>["app"];
const apps: App[] = [];

before(async function () {
  await networkHelpers.setCode(MULTICALL3_ADDRESS, MULTICALL3_RUNTIME_CODE);
  const publicClient = (await viem.getPublicClient()) as unknown as PublicClient;
  expect(keccak256((await publicClient.getCode({ address: MULTICALL3_ADDRESS }))!)).to.equal(MULTICALL3_RUNTIME_CODE_HASH);
  const [owner] = await viem.getWalletClients();
  const deployedKms = await deployKmsProxy(viem, owner!.account.address);
  kms = deployedKms.kms.address;
  osImageHash = Uint8Array.from(Buffer.alloc(32, 0x5a));
  await deployedKms.kms.write.addOsImageHash([`0x${Buffer.from(osImageHash).toString("hex")}`]);
  for (let i = 0; i < 3; i++) {
    const { app } = await deployAppProxy(viem, { owner: owner!.account.address, allowAnyDevice: true });
    await deployedKms.kms.write.registerApp([app.address]);
    apps.push(app);
  }
  rpc = await startRpcProxy(connection.provider);
  client = createPublicClient({ transport: http(rpc.url, { retryCount: 0 }) });
  farm = await startCvmFarm();
});

after(async function () {
  await farm.close();
  await rpc.close();
});

/** Parses YAML targets (through the real config parser) and gives every target the proxy's client. */
function targetsFrom(yaml: string): ResolvedTarget[] {
  const config = parseMonitorConfig(yaml, "/virtual/monitor.yaml");
  return config.targets.map((target) => ({ config: target, client }));
}

const options = (overrides: Partial<MonitorOptions> = {}): MonitorOptions => ({
  intervalMs: 0,
  concurrency: 4,
  retries: 2,
  retryDelayMs: 5,
  timeoutMs: 5_000,
  verifyOverrides: (_target, bundle) => farm.trustFor(bundle),
  ...overrides,
});

/** A compose allowed on `app`, served by a new farm target; returns the target's YAML entry. */
async function servedTarget(name: string, app: App, opts: { allowed?: boolean; style?: "phala" | "guest-agent"; kms?: boolean } = {}) {
  const appCompose = composeText(name);
  if (opts.allowed !== false) await app.write.addComposeHash([`0x${sha256(appCompose)}`]);
  const url = farm.add(name, { style: opts.style ?? "phala", appId: app.address, appCompose, osImageHash });
  const yaml = [`  - name: ${name}`, `    url: ${url}`, `    endpointStyle: ${opts.style ?? "phala"}`, `    rpcUrl: ${rpc.url}`, ...(opts.kms === false ? [] : [`    kms: "${kms}"`])].join("\n");
  return { appCompose, url, yaml };
}

describe("monitor: rounds, state changes and the webhook", function () {
  it("detects a compose hash removed on chain and a CVM switching to an unapproved compose, in the next round; the webhook receives exactly those changes", async function () {
    const webhook = await startWebhookReceiver();
    const port = await closedPort();
    const a = await servedTarget("alpha", apps[0]!);
    const b = await servedTarget("bravo", apps[1]!, { style: "guest-agent" });
    const unapproved = composeText("alpha-unapproved");
    const targets = targetsFrom(["targets:", a.yaml, b.yaml, `  - name: charlie`, `    url: http://127.0.0.1:${port}/`, `    rpcUrl: ${rpc.url}`].join("\n"));
    const reports: RoundReport[] = [];
    const ethCalls: number[] = [];
    rpc.resetCounts();
    try {
      const summary = await runMonitor(targets, options({
        maxRounds: 4,
        webhook: { url: webhook.url, attempts: 2, baseDelayMs: 5 },
        onRound: async (report) => {
          reports.push(report);
          ethCalls.push(rpc.count("eth_call"));
          // Changes between rounds (the next round must see them).
          if (report.round === 1) await apps[1]!.write.removeComposeHash([`0x${sha256(b.appCompose)}`]);
          if (report.round === 2) {
            await apps[1]!.write.addComposeHash([`0x${sha256(b.appCompose)}`]);
            farm.update("alpha", { appCompose: unapproved });
          }
          if (report.round === 3) farm.update("alpha", { appCompose: a.appCompose });
          rpc.resetCounts();
        },
      }));
      expect(summary.rounds).to.equal(4);

      const states = reports.map((r) => r.results.map((x) => `${x.target}:${x.state}`));
      expect(states).to.deep.equal([
        ["alpha:pass", "bravo:pass", "charlie:error"],
        ["alpha:pass", "bravo:fail", "charlie:error"],
        ["alpha:fail", "bravo:pass", "charlie:error"],
        ["alpha:pass", "bravo:pass", "charlie:error"],
      ]);
      // A pass is a pass of every check, the signature included (test root trusted).
      const first = reports[0]!.results[0]!;
      expect(first).to.include({ ok: true, tcbStatus: "UpToDate", composeHash: sha256(a.appCompose), error: null });
      expect(first.failing).to.deep.equal([]);
      expect(reports[1]!.results[1]!.failing).to.deep.equal(["onchain-compose-hash"]);
      expect(reports[1]!.results[1]!.problems[0]!.detail).to.match(/NOT allowed/);
      expect(reports[2]!.results[0]).to.include({ composeHash: sha256(unapproved) });
      expect(reports[2]!.results[0]!.failing).to.deep.equal(["onchain-compose-hash"]);
      expect(reports[0]!.results[2]!.error).to.match(/cannot fetch/).and.match(/after 3 attempts/);

      // The nonce of every fetch was fresh and is what the quote bound (report-data passed).
      const nonces = farm.received.get("alpha")!;
      expect(nonces).to.have.length(4);
      expect(new Set(nonces).size).to.equal(4);

      // Exactly these notifications, in order.
      const seen = webhook.bodies.map((body) => ({
        round: body.round,
        target: body.target,
        changes: body.changes,
        from: body.previous === null ? null : body.previous.state,
        to: body.current.state,
        composeHash: body.current.composeHash,
        failing: body.current.failing,
      }));
      expect(seen).to.deep.equal([
        { round: 1, target: "charlie", changes: ["state"], from: null, to: "error", composeHash: null, failing: [] },
        { round: 2, target: "bravo", changes: ["state"], from: "pass", to: "fail", composeHash: sha256(b.appCompose), failing: ["onchain-compose-hash"] },
        { round: 3, target: "alpha", changes: ["state", "compose-hash"], from: "pass", to: "fail", composeHash: sha256(unapproved), failing: ["onchain-compose-hash"] },
        { round: 3, target: "bravo", changes: ["state"], from: "fail", to: "pass", composeHash: sha256(b.appCompose), failing: [] },
        { round: 4, target: "alpha", changes: ["state", "compose-hash"], from: "fail", to: "pass", composeHash: sha256(a.appCompose), failing: [] },
      ]);
      expect(webhook.bodies[2].previous.composeHash).to.equal(sha256(a.appCompose));
      expect(webhook.bodies.every((body) => body.event === "dstack-monitor.change")).to.equal(true);
      for (const r of reports) for (const n of r.notifications) expect(n.outcome).to.include({ ok: true, attempts: 1 });

      // Each round's on-chain reads, for every target that reached the chain, were one eth_call.
      expect(ethCalls).to.deep.equal([1, 1, 1, 1]);

      // The JSON line of a target: the documented fields.
      const line = JSON.parse(toJsonLine(3, reports[2]!.results[0]!));
      expect(Object.keys(line)).to.deep.equal(["time", "round", "target", "url", "state", "ok", "failing", "composeHash", "tcbStatus", "error", "problems", "attempts", "durationMs"]);
      expect(line).to.include({ round: 3, target: "alpha", state: "fail", ok: false, composeHash: sha256(unapproved), tcbStatus: "UpToDate", error: null });
    } finally {
      await webhook.close();
    }
  });

  it("a webhook that fails is retried with backoff, and one that is down is reported, not fatal", async function () {
    const webhook = await startWebhookReceiver();
    try {
      const target = await servedTarget("delta", apps[0]!, { allowed: false });
      webhook.failNext(1, 503);
      const retried = await runMonitor(targetsFrom(`targets:\n${target.yaml}`), options({ once: true, webhook: { url: webhook.url, attempts: 3, baseDelayMs: 5 } }));
      expect(retried.last!.results[0]!.state).to.equal("fail");
      expect(retried.last!.notifications.map((n) => n.outcome)).to.deep.equal([{ ok: true, attempts: 2, status: 204 }]);
      expect(webhook.bodies).to.have.length(1);
      expect(webhook.attempts).to.equal(2);

      const down = `http://127.0.0.1:${await closedPort()}/hook`;
      const failed = await runMonitor(targetsFrom(`targets:\n${target.yaml}`), options({ once: true, webhook: { url: down, attempts: 2, baseDelayMs: 5 } }));
      expect(failed.ok).to.equal(false);
      const outcome = failed.last!.notifications[0]!.outcome;
      expect(outcome.ok).to.equal(false);
      expect(outcome.attempts).to.equal(2);
      expect((outcome as { error: string }).error).to.match(/cannot post to http:\/\/127\.0\.0\.1:\d+\/hook.*after 2 attempts/);
    } finally {
      await webhook.close();
    }
  });
});

describe("monitor: CVM fetch errors are retried, then reported as error — never as pass", function () {
  it("an unreachable CVM (closed loopback port) is error after every retry", async function () {
    const port = await closedPort();
    const [result] = await runRound(targetsFrom(`targets:\n  - name: gone\n    url: http://127.0.0.1:${port}/\n    rpcUrl: ${rpc.url}`), options({ retries: 3 }));
    expect(result).to.include({ state: "error", ok: false, attempts: 4, composeHash: null, tcbStatus: null });
    expect(result!.failing).to.deep.equal([]);
    expect(result!.error).to.match(/^cannot fetch http:\/\/127\.0\.0\.1:\d+\/attestation\?reportData=\*\*\*: .*\(after 4 attempts\)$/);
  });

  it("a CVM answering HTTP 503 twice, then the attestation, passes on the third attempt with a nonce it bound", async function () {
    const target = await servedTarget("flaky", apps[2]!);
    farm.update("flaky", { failNext: { count: 2, status: 503 } });
    const [result] = await runRound(targetsFrom(`targets:\n${target.yaml}`), options());
    expect(result).to.include({ state: "pass", attempts: 3, error: null });
    expect(farm.received.get("flaky")).to.have.length(3);
    expect(new Set(farm.received.get("flaky")).size, "a fresh nonce per attempt").to.equal(3);
  });

  it("a CVM that keeps failing with HTTP 500 is error; one that ignores the nonce fails report-data", async function () {
    const down = await servedTarget("down", apps[2]!);
    farm.update("down", { failNext: { count: 100, status: 500 } });
    const stale = await servedTarget("stale", apps[2]!);
    farm.update("stale", { ignoreNonce: true });
    const [downResult, staleResult] = await runRound(targetsFrom(`targets:\n${down.yaml}\n${stale.yaml}`), options({ retries: 1 }));
    expect(downResult).to.include({ state: "error", attempts: 2 });
    expect(downResult!.error).to.match(/answered HTTP 500 \(after 2 attempts\)/);
    expect(staleResult).to.include({ state: "fail", attempts: 1 });
    expect(staleResult!.failing).to.deep.equal(["report-data"]);
  });

  it("an RPC that is down makes the on-chain checks error (state error), not pass and not fail", async function () {
    const target = await servedTarget("rpc-down", apps[0]!);
    rpc.failAll("http-503");
    try {
      const [result] = await runRound(targetsFrom(`targets:\n${target.yaml}`), options());
      expect(result).to.include({ state: "error", ok: false });
      expect(result!.failing).to.deep.equal(["onchain-compose-hash", "onchain-app-registered", "onchain-os-image"]);
      expect(result!.error).to.match(/^onchain-compose-hash: on-chain read failed/);
    } finally {
      rpc.failAll(false);
    }
  });
});

describe("monitor: the on-chain reads of a round are one multicall per chain", function () {
  // A round whose batch never reads (a deadlock) would hang: fail fast instead.
  this.timeout(30_000);
  it("N targets (several apps, with and without KMS, one unreachable) send exactly ONE eth_call (aggregate3) per round; unbatched, one per target", async function () {
    const entries: string[] = [];
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      const name = `batch-${i}`;
      const target = await servedTarget(name, apps[i % 3]!, { style: i % 2 === 0 ? "phala" : "guest-agent", kms: i % 4 !== 3 });
      farm.update(name, { delayMs: 15 });
      entries.push(target.yaml);
      names.push(name);
    }
    entries.push(`  - name: batch-gone\n    url: http://127.0.0.1:${await closedPort()}/\n    rpcUrl: ${rpc.url}`);
    const targets = targetsFrom(`targets:\n${entries.join("\n")}`);

    rpc.resetCounts();
    const results = await runRound(targets, options({ concurrency: 3, retries: 1 }));
    expect(results.map((r) => r.state)).to.deep.equal([...names.map(() => "pass"), "error"]);
    for (const r of results.slice(0, 12)) {
      expect(r, r.target).to.include({ ok: true, tcbStatus: "UpToDate", error: null });
      expect(r.failing, r.target).to.deep.equal([]);
    }
    expect(rpc.count("eth_call"), JSON.stringify(Object.fromEntries(rpc.counts))).to.equal(1);
    expect(rpc.count("eth_blockNumber")).to.equal(1);

    rpc.resetCounts();
    const unbatched = await runRound(targets, options({ concurrency: 3, retries: 1, batchOnchain: false }));
    expect(unbatched.map((r) => r.state)).to.deep.equal(results.map((r) => r.state));
    expect(rpc.count("eth_call")).to.equal(12);
  });

  it("the concurrency bound holds: with concurrency 2 at most two targets are fetched at once", async function () {
    const local = await startCvmFarm();
    try {
      const entries: string[] = [];
      for (let i = 0; i < 6; i++) {
        const appCompose = composeText(`bound-${i}`);
        await apps[0]!.write.addComposeHash([`0x${sha256(appCompose)}`]);
        const url = local.add(`bound-${i}`, { style: "phala", appId: apps[0]!.address, appCompose, osImageHash, delayMs: 25 });
        entries.push(`  - name: bound-${i}\n    url: ${url}\n    rpcUrl: ${rpc.url}`);
      }
      rpc.resetCounts();
      const results = await runRound(targetsFrom(`targets:\n${entries.join("\n")}`), options({ concurrency: 2, verifyOverrides: (_t, bundle) => local.trustFor(bundle) }));
      expect(results.every((r) => r.state === "pass"), JSON.stringify(results.map((r) => r.error ?? r.failing))).to.equal(true);
      expect(local.maxConcurrentTargets).to.equal(2);
      expect(rpc.count("eth_call")).to.equal(1);
    } finally {
      await local.close();
    }
  });
});

describe("monitor: a hung target does not stall the round", function () {
  it("a CVM that does not answer in time is error at the per-target deadline; the others still get their one batched read", async function () {
    const quick = await servedTarget("quick", apps[1]!);
    const slow = await servedTarget("slow", apps[1]!);
    farm.update("slow", { delayMs: 1_000 });
    rpc.resetCounts();
    const started = Date.now();
    const [quickResult, slowResult] = await runRound(targetsFrom(`targets:\n${quick.yaml}\n${slow.yaml}`), options({ targetTimeoutMs: 200 }));
    expect(Date.now() - started).to.be.below(900);
    expect(quickResult).to.include({ state: "pass" });
    expect(slowResult).to.include({ state: "error", ok: false });
    expect(slowResult!.error).to.equal("no verdict within 0.2 s (the CVM or a verification service did not answer in time)");
    expect(rpc.count("eth_call")).to.equal(1);
    // Let the abandoned fetch finish before the farm is reused.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    farm.update("slow", { delayMs: 0 });
  });
});

describe("monitor: stopping", function () {
  it("an aborted signal ends the wait between rounds at once, after the round in progress completed", async function () {
    const target = await servedTarget("stopper", apps[0]!);
    const controller = new AbortController();
    const started = Date.now();
    const rounds: number[] = [];
    const summary = await runMonitor(targetsFrom(`targets:\n${target.yaml}`), options({
      intervalMs: 60_000,
      signal: controller.signal,
      onRound: (report) => {
        rounds.push(report.round);
        setTimeout(() => controller.abort(), 20);
      },
    }));
    expect(rounds).to.deep.equal([1]);
    expect(summary).to.include({ rounds: 1, ok: true });
    expect(Date.now() - started).to.be.below(10_000);
  });
});

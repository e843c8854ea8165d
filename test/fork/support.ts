/**
 * Shared set-up of the fork suite: the committed snapshot and its scenario, a Hardhat
 * runtime whose `--network` is `sepoliaFork` (so that tasks run in-process connect to the
 * fork exactly as `npx hardhat <task> --network sepoliaFork` would), and a task runner
 * that captures output and always resets `process.exitCode`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import hre from "hardhat";
import { createHardhatRuntimeEnvironment } from "hardhat/hre";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { Address, Hex } from "viem";

import { loadSnapshot, type Snapshot } from "../../src/fork/snapshot.js";

export const ROOT = hre.config.paths.root;
export const SNAPSHOT_PATH = join(ROOT, "fork", "sepolia-snapshot.json");
export const TDX_LITE_FIXTURE = join(ROOT, "..", "shared", "fixtures", "dstack", "tdx-lite-getquote.json");
export const hasFixture = existsSync(TDX_LITE_FIXTURE);

/** With SEPOLIA_RPC_URL set, `sepoliaFork` forks live Sepolia instead of the snapshot. */
export const LIVE_URL = process.env.SEPOLIA_RPC_URL;
export const isLive = LIVE_URL !== undefined && LIVE_URL !== "";

export interface HistoryEntry {
  composeHash: Hex;
  action: "added" | "removed";
  blockNumber: string;
  transactionHash: Hex;
}

/** The part of the snapshot's scenario the tests read (written by scripts/reproduce-sepolia-snapshot.ts). */
export interface Scenario {
  kms: { address: Address; owner: Address; osImages: { allowed: Hex[]; removed: Hex[] } };
  apps: {
    eoa: { address: Address; owner: Address; allowed: Hex[]; history: HistoryEntry[] };
    safe: {
      address: Address;
      owner: Address;
      allowed: Hex[];
      history: HistoryEntry[];
      safe: { address: Address; nonce: number; owners: Address[]; threshold: number; version: string };
      timelock: {
        address: Address;
        minDelay: number;
        proposers: Address[];
        executors: Address[];
        pending: Array<{ target: Address; data: Hex; predecessor: Hex; salt: Hex; scheduledInBlock: string; readyAt: string }>;
      };
    };
    attested: { address: Address; owner: Address; composeHash: Hex; osImageHash: Hex };
  };
}

export const snapshot: Snapshot = loadSnapshot(SNAPSHOT_PATH);
export const scenario = snapshot.scenario as unknown as Scenario;
export const snapshotJson = () => JSON.parse(readFileSync(SNAPSHOT_PATH, "utf8")) as Snapshot;

let forkHre: Promise<HardhatRuntimeEnvironment> | undefined;

/**
 * A second runtime with `--network sepoliaFork`: tasks call `hre.network.getOrCreate()`
 * and get the fork, and the tests share that very connection (same chain state).
 */
export function sepoliaForkHre(): Promise<HardhatRuntimeEnvironment> {
  forkHre ??= createHardhatRuntimeEnvironment(hre.userConfig, { ...hre.globalOptions, network: "sepoliaFork" }, ROOT);
  return forkHre;
}

export async function forkConnection() {
  return (await sepoliaForkHre()).network.getOrCreate();
}

export interface TaskRun {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output of the code under test, navigated freely by the assertions (a wrong shape fails them)
  json: any;
}

/** Runs a task with every declared option at its default, overridden by `options`; output captured. */
export async function runTask(runtime: HardhatRuntimeEnvironment, name: string, options: Record<string, string | boolean | undefined>): Promise<TaskRun> {
  const task = runtime.tasks.getTask(name);
  const args: Record<string, unknown> = {};
  for (const [option, definition] of task.options) args[option] = definition.defaultValue;
  for (const [option, value] of Object.entries(options)) {
    if (!task.options.has(option)) throw new Error(`runTask: ${name} has no option ${option}`);
    args[option] = value;
  }
  const out: string[] = [];
  const err: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn, info: console.info, write: process.stderr.write };
  const text = (parts: unknown[]) => parts.map(String).join(" ");
  console.log = console.info = (...parts: unknown[]) => void out.push(text(parts));
  console.error = console.warn = (...parts: unknown[]) => void err.push(text(parts));
  process.stderr.write = ((chunk: unknown) => {
    err.push(String(chunk).replace(/\n$/, ""));
    return true;
  }) as typeof process.stderr.write;
  process.exitCode = undefined;
  let exitCode: number | undefined;
  try {
    await task.run(args);
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error, warn: saved.warn, info: saved.info });
    process.stderr.write = saved.write;
    exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
    // A non-zero code left behind would fail the whole mocha run.
    process.exitCode = undefined;
  }
  const stdout = out.join("\n");
  let json: unknown;
  if (options.json === true) {
    try {
      json = JSON.parse(stdout);
    } catch {
      throw new Error(`runTask: ${name} --json printed no JSON document:\n${stdout}\n--- stderr\n${err.join("\n")}`);
    }
  }
  return { exitCode, stdout, stderr: err.join("\n"), json };
}

export type ForkConnection = Awaited<ReturnType<HardhatRuntimeEnvironment["network"]["getOrCreate"]>>;

/**
 * Call inside a `describe` of the fork suite: connects to `sepoliaFork` (saying whether it
 * runs offline or live), skips the suite on live Sepolia when the snapshot's contracts are
 * not there, and restores the fork's state after every test.
 */
export function useFork(): { runtime: () => HardhatRuntimeEnvironment; connection: () => ForkConnection } {
  let runtime: HardhatRuntimeEnvironment | undefined;
  let connection: ForkConnection | undefined;
  before(async function () {
    console.log(
      isLive
        ? "      fork: forking LIVE Sepolia through SEPOLIA_RPC_URL at the pinned block"
        : "      fork: offline, from fork/sepolia-snapshot.json (live Sepolia not run: SEPOLIA_RPC_URL is unset, as in CI)",
    );
    runtime = await sepoliaForkHre();
    connection = await runtime.network.getOrCreate();
    if (isLive) {
      const publicClient = await connection.viem.getPublicClient();
      const code = await publicClient.getCode({ address: scenario.kms.address });
      if (code === undefined) {
        console.log(
          `      skipped: the snapshot's KMS ${scenario.kms.address} has no code on live Sepolia at block ${snapshot.blockNumber}; ` +
            "the committed snapshot comes from a local reproduction — re-record one from Sepolia (README, Fork testing) to test live",
        );
        this.skip();
      }
    }
  });
  let restore: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const saved = await connection!.networkHelpers.takeSnapshot();
    restore = () => saved.restore();
  });
  afterEach(async () => {
    await restore?.();
    restore = undefined;
  });
  return { runtime: () => runtime!, connection: () => connection! };
}

/** Makes `account` send on the fork (impersonated, with gas money). */
export async function impersonate(connection: ForkConnection, account: Address): Promise<void> {
  await connection.networkHelpers.impersonateAccount(account);
  await connection.networkHelpers.setBalance(account, 10n ** 19n);
}

const SAFE_OWNERS_SENTINEL = "0x0000000000000000000000000000000000000001" as Address;

/**
 * Nobody holds the recorded owners' keys on a fork (nor should they). To rehearse the
 * signing flow on the recorded Safe itself — same address, threshold, nonce, modules and
 * timelock roles — the Safe (impersonated: `swapOwner` only obeys the Safe) swaps its first
 * owners for local accounts whose keys Hardhat holds. Only the fork's copy changes.
 */
export async function takeOverSafe(connection: ForkConnection, safe: Address, localOwners: readonly Address[]): Promise<void> {
  const { safeAbi } = await import("../../src/governance/abi/safe.js");
  const publicClient = await connection.viem.getPublicClient();
  const owners = await publicClient.readContract({ address: safe, abi: safeAbi, functionName: "getOwners" });
  if (localOwners.length > owners.length) throw new Error(`takeOverSafe: the Safe has only ${owners.length} owners`);
  await impersonate(connection, safe);
  const asSafe = await connection.viem.getWalletClient(safe);
  for (const [i, local] of localOwners.entries()) {
    const previous = i === 0 ? SAFE_OWNERS_SENTINEL : localOwners[i - 1]!;
    const hash = await asSafe.writeContract({ address: safe, abi: safeAbi, functionName: "swapOwner", args: [previous, owners[i]!, local], account: safe, chain: null });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`takeOverSafe: swapOwner(${owners[i]} → ${local}) reverted`);
  }
  await connection.networkHelpers.stopImpersonatingAccount(safe);
}

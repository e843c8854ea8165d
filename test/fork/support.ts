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
    safe: { address: Address; owner: Address; allowed: Hex[]; history: HistoryEntry[] };
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

/**
 * Shared set-up of the in-process task tests. The tasks connect with
 * `hre.network.getOrCreate()`, so the tests use that same connection (Hardhat's
 * simulated chain, automine: one block per transaction) for set-up and for re-reading
 * state. No side effects at import: everything happens when a `before` hook calls in.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import hre from "hardhat";
import { getAddress, keccak256, toHex, type Address, type Hex } from "viem";

import { deployAppProxy, deployKmsProxy, type AppInitOptions } from "../support/contracts.js";
import { runTask, type TaskOptionValue, type TaskRun } from "../support/run-task.js";

export { hre };

export type Connection = Awaited<ReturnType<typeof hre.network.getOrCreate>>;

export interface Chain {
  connection: Connection;
  viem: Connection["viem"];
  publicClient: Awaited<ReturnType<Connection["viem"]["getPublicClient"]>>;
  networkHelpers: Connection["networkHelpers"];
  /** The configured accounts, checksummed; [0] is the default signer of every task. */
  accounts: Address[];
}

let cached: Promise<Chain> | undefined;

/** The chain the tasks use (created once per mocha process). */
export function chain(): Promise<Chain> {
  cached ??= (async () => {
    const connection = await hre.network.getOrCreate();
    const publicClient = await connection.viem.getPublicClient();
    const wallets = await connection.viem.getWalletClients();
    return {
      connection,
      viem: connection.viem,
      publicClient,
      networkHelpers: connection.networkHelpers,
      accounts: wallets.map((wallet) => getAddress(wallet.account.address)),
    };
  })();
  return cached;
}

/** Runs a task of this project's HRE with every declared option (see test/support/run-task.ts). */
export function run(name: string, options: Record<string, TaskOptionValue> = {}): Promise<TaskRun> {
  return runTask(hre, name, options);
}

/** A distinct non-zero bytes32 per label. */
export const bytes32 = (label: string): Hex => keccak256(toHex(label));

/** SHA-256 of bytes, as 0x-hex: the expected compose hash, computed without the project's code. */
export const sha256Hex = (bytes: Uint8Array | string): Hex => `0x${createHash("sha256").update(bytes).digest("hex")}`;

/** A fresh app proxy (initialised through viem, not through the task under test). */
export async function freshApp(options: Partial<AppInitOptions> = {}) {
  const { viem, accounts } = await chain();
  const deployed = await deployAppProxy(viem, { owner: accounts[0]!, ...options });
  return { ...deployed, address: getAddress(deployed.proxy.address) };
}

/** A fresh KMS proxy with an app implementation for its factory. */
export async function freshKms() {
  const { viem, accounts } = await chain();
  const appImplementation = await viem.deployContract("DstackApp");
  const deployed = await deployKmsProxy(viem, accounts[0]!, appImplementation.address);
  return { ...deployed, address: getAddress(deployed.proxy.address), appImplementation: getAddress(appImplementation.address) };
}

/** Head block number and the default signer's nonce: both unchanged means nothing was sent. */
export async function chainMark(): Promise<{ block: bigint; nonces: number[] }> {
  const { publicClient, accounts } = await chain();
  const [block, ...nonces] = await Promise.all([
    publicClient.getBlockNumber({ cacheTime: 0 }),
    ...accounts.slice(0, 4).map((address) => publicClient.getTransactionCount({ address, blockTag: "pending" })),
  ]);
  return { block: block as bigint, nonces: nonces as number[] };
}

/** Asserts that nothing was mined and no account (of the first four) sent anything since `mark`. */
export async function expectNothingSent(mark: { block: bigint; nonces: number[] }): Promise<void> {
  const now = await chainMark();
  expect(now.block, "block number (a transaction was mined)").to.equal(mark.block);
  expect(now.nonces, "account nonces (a transaction was sent)").to.deep.equal(mark.nonces);
}

/**
 * An error run: the exit code, a one-line `Error: …` message on stderr matching `message`
 * (details, if any, on one indented line; never a stack trace), nothing on stdout.
 */
export function expectError(result: TaskRun, exitCode: number, message: RegExp): void {
  expect(result.exitCode, `exit code; stderr: ${result.stderr}`).to.equal(exitCode);
  expect(result.stdout).to.equal("");
  const lines = result.stderr.split("\n").filter((line) => line.length > 0);
  expect(lines[0], result.stderr).to.match(/^Error: /);
  expect(lines[0]).to.match(message);
  expect(lines.length, `at most a message and a details line:\n${result.stderr}`).to.be.at.most(2);
  if (lines[1] !== undefined) expect(lines[1]).to.match(/^ {2}\S/);
  expect(result.stderr).to.not.match(/^\s+at /m);
}

/** A temporary folder for the files a test writes; removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, file: (name) => path.join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The project's example files. */
export const EXAMPLES = {
  appCompose: path.resolve("examples/app-compose.json"),
  dockerCompose: path.resolve("examples/docker-compose.yaml"),
};

/**
 * A second, in-process HRE: this project's config (tasks, plugins, artifacts) plus extra
 * networks, with `--network name` selected. This is how the tests run tasks against an
 * HTTP endpoint (a loopback proxy in front of the simulated chain, a closed port, a node
 * on another chain id) without spawning the CLI.
 */
export async function hreWithNetwork(name: string, network: Record<string, unknown>) {
  isolateDeploymentsDir();
  const { createHardhatRuntimeEnvironment } = await import("hardhat/hre");
  const { default: config } = await import("../../hardhat.config.js");
  return createHardhatRuntimeEnvironment({ ...config, networks: { ...config.networks, [name]: network } } as typeof config, { network: name });
}

/**
 * Tasks on an HTTP network remember deployments and pending transactions under
 * DSTACK_DEPLOYMENTS_DIR (default: the project's `deployments/`). Tests point it at a
 * temporary folder of this mocha process, so no run leaves files in the project or sees
 * another run's journal.
 */
export function isolateDeploymentsDir(): string {
  if (process.env.DSTACK_DEPLOYMENTS_DIR === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), "dstack-deployments-"));
    process.env.DSTACK_DEPLOYMENTS_DIR = dir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return process.env.DSTACK_DEPLOYMENTS_DIR;
}

/**
 * Call inside a `describe`: snapshots the shared chain before its tests and restores it
 * after them, so no suite leaves contracts or balances behind. Other test files run tasks
 * on the same `getOrCreate()` chain and may rely on it being empty (contract addresses are
 * deterministic: sender and nonce).
 */
export function restoreChainAfter(): void {
  let snapshot: { restore(): Promise<void> } | undefined;
  before(async function () {
    snapshot = await (await chain()).networkHelpers.takeSnapshot();
  });
  after(async function () {
    await snapshot?.restore();
  });
}

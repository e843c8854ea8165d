/**
 * Set-up shared by the governance tests: the Safe v1.4.1 contracts deployed from the
 * `@safe-global/safe-contracts` artifacts (through the `deploy-safe-contracts` task, as a
 * user of a local chain does), Safes and timelocks created through the project's tasks,
 * and helpers to read proposal files. Tasks run in-process on the shared simulated chain.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { expect } from "chai";
import { getAddress, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import type { SafeProposal } from "../../src/governance/proposal.js";
import { chain, restoreChainAfter, run, tempDir } from "../tasks/fixture.js";

export { bytes32, chain, chainMark, expectError, expectNothingSent, freshApp, restoreChainAfter, run } from "../tasks/fixture.js";

export const DAY = 86_400;

/**
 * Call inside a `describe`: the shared chain is restored after its tests, and the files
 * they write go to a temporary folder that is removed after them.
 */
export function suiteWorkDir(prefix: string): ReturnType<typeof tempDir> {
  restoreChainAfter();
  const dir = tempDir(prefix);
  after(() => dir.cleanup());
  return dir;
}

/** Deploys the Safe contracts with the task and returns the `--safe-contracts` file. */
export async function safeContractsFile(dir: { file: (name: string) => string }): Promise<string> {
  const out = dir.file("safe-contracts.json");
  const result = await run("deploy-safe-contracts", { out, json: true });
  expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
  return out;
}

/** Creates a Safe with the task. */
let saltNonce = 0;
export async function freshSafe(safeContracts: string, owners: Address[], threshold: number): Promise<Address> {
  saltNonce += 1;
  const result = await run("deploy-safe", { owners: owners.join(","), threshold: String(threshold), saltNonce: String(saltNonce), safeContracts, json: true });
  expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
  return getAddress(result.json.safe);
}

/** Deploys a TimelockController with the task. */
export async function freshTimelock(minDelay: string, proposers: Address[], executors: Address[] | "anyone", admin?: Address): Promise<Address> {
  const result = await run("deploy-timelock", {
    minDelay,
    proposers: proposers.join(","),
    executors: executors === "anyone" ? "anyone" : executors.join(","),
    ...(admin === undefined ? {} : { admin }),
    json: true,
  });
  expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
  return getAddress(result.json.timelock);
}

export function readProposal(path: string): SafeProposal {
  return JSON.parse(readFileSync(path, "utf8")) as SafeProposal;
}

export function writeProposal(path: string, proposal: unknown): void {
  writeFileSync(path, `${JSON.stringify(proposal, null, 2)}\n`);
}

export async function ownerOf(app: Address): Promise<{ owner: Address; pendingOwner: Address }> {
  const { publicClient } = await chain();
  const [owner, pendingOwner] = await Promise.all([
    publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "owner" }),
    publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "pendingOwner" }),
  ]);
  return { owner: getAddress(owner), pendingOwner: getAddress(pendingOwner) };
}

export async function composeHashAllowed(app: Address, hash: Hex): Promise<boolean> {
  const { publicClient } = await chain();
  return publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "allowedComposeHashes", args: [hash] });
}

/** Moves the simulated chain's clock forward and mines a block. */
export async function timeTravel(seconds: number): Promise<void> {
  const { networkHelpers } = await chain();
  await networkHelpers.time.increase(seconds);
}

import path from "node:path";

import { getAddress, isAddress, type Address, type Hex } from "viem";

import { InvalidInputError } from "../util/errors.js";
import { chainStateDir, readStateFile, writeStateFile } from "./state-file.js";

/** One contract a `deploy-*` task created. */
export interface DeploymentRecord {
  /** What it is: DstackApp, DstackKms, TimelockController, Safe, … */
  kind: string;
  address: Address;
  transactionHash: Hex;
  blockNumber: string;
  implementation?: Address;
  owner?: Address;
  /** For an app deployed through a KMS factory: that KMS. */
  kms?: Address;
  deployedAt: string;
}

/** `<dir>/chain-<id>/deployments.json`: `{ "chainId": n, "contracts": { "<name>": DeploymentRecord } }`. */
export function deploymentsFile(dir: string, chainId: number): string {
  return path.join(chainStateDir(dir, chainId), "deployments.json");
}

const NAME = /^[A-Za-z][A-Za-z0-9_.#-]{0,79}$/;

/** Checks a deployment name (the CLI's save-as option): a letter, then letters, digits, `_ . # -`; never an address. */
export function parseDeploymentName(value: string, flag: string): string {
  const name = value.trim();
  if (!NAME.test(name)) throw new InvalidInputError(`${flag}: expected a name (a letter, then letters, digits, _ . # -; at most 80), got ${JSON.stringify(name.slice(0, 60))}`);
  return name;
}

/** The recorded deployments of a chain (empty when there is no file). */
export function readDeployments(dir: string, chainId: number): Record<string, DeploymentRecord> {
  const file = deploymentsFile(dir, chainId);
  const value = readStateFile(file) as { chainId?: unknown; contracts?: unknown } | undefined;
  if (value === undefined) return {};
  if (value.chainId !== chainId || typeof value.contracts !== "object" || value.contracts === null) {
    throw new InvalidInputError(`${file}: expected {"chainId": ${chainId}, "contracts": {...}}; fix it or move it away`);
  }
  return value.contracts as Record<string, DeploymentRecord>;
}

/**
 * Records a deployment under `name`, or under the first free `<prefix>-<n>` when no name is
 * given; returns the name used. A name already taken is an input error (checked before
 * sending by `assertNameFree`, so only a race gets here).
 */
export function recordDeployment(dir: string, chainId: number, record: DeploymentRecord, name: string | undefined, prefix: string): string {
  const contracts = readDeployments(dir, chainId);
  let chosen = name;
  if (chosen === undefined) {
    let n = 1;
    while (contracts[`${prefix}-${n}`] !== undefined) n += 1;
    chosen = `${prefix}-${n}`;
  } else if (contracts[chosen] !== undefined) {
    throw new InvalidInputError(`saveAs: ${chosen} is already recorded in ${deploymentsFile(dir, chainId)}`, { field: "saveAs" });
  }
  writeStateFile(deploymentsFile(dir, chainId), { chainId, contracts: { ...contracts, [chosen]: record } });
  return chosen;
}

/** Throws unless `name` is free on this chain (so a deployment is never sent under a name that cannot be recorded). */
export function assertNameFree(dir: string, chainId: number, name: string): void {
  if (readDeployments(dir, chainId)[name] !== undefined) {
    throw new InvalidInputError(`saveAs: ${name} is already recorded on chain ${chainId} (${deploymentsFile(dir, chainId)}); choose another name`, { field: "saveAs" });
  }
}

/**
 * The addresses Hardhat Ignition deployed on a chain, by future id (`DstackKms#DstackKms`),
 * from `ignition/deployments/chain-<id>/deployed_addresses.json`.
 */
export function readIgnitionDeployments(ignitionDir: string, chainId: number): Record<string, Address> {
  const file = path.join(ignitionDir, "deployments", `chain-${chainId}`, "deployed_addresses.json");
  const value = readStateFile(file);
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) throw new InvalidInputError(`${file}: expected an object of future ids to addresses`);
  const out: Record<string, Address> = {};
  for (const [id, address] of Object.entries(value)) if (typeof address === "string" && isAddress(address, { strict: false })) out[id] = getAddress(address);
  return out;
}

/**
 * A contract flag's value: an address, or the name of a recorded deployment on this chain
 * (this tool's deployments file first, then Ignition's). An unknown name is an input error
 * listing the known ones.
 */
export function resolveContract(value: string, flag: string, where: { dir: string; ignitionDir: string; chainId: number }): Address {
  const text = value.trim();
  if (isAddress(text, { strict: false })) return getAddress(text);
  const recorded = readDeployments(where.dir, where.chainId);
  if (recorded[text] !== undefined) return getAddress(recorded[text].address);
  const ignition = readIgnitionDeployments(where.ignitionDir, where.chainId);
  if (ignition[text] !== undefined) return ignition[text];
  const known = [...Object.keys(recorded), ...Object.keys(ignition)];
  throw new InvalidInputError(
    `${flag}: ${JSON.stringify(text.slice(0, 60))} is neither an address nor a deployment recorded on chain ${where.chainId}` +
      (known.length > 0 ? ` (known: ${known.join(", ")})` : ` (none recorded in ${deploymentsFile(where.dir, where.chainId)})`),
  );
}

import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { Address } from "viem";

import { recordDeployment, resolveContract, type DeploymentRecord } from "../../src/deployments/deployments-file.js";
import { parseAddress, requireOption } from "./args.js";
import { deploymentsDir } from "./connection.js";

/**
 * A contract flag (`--app`, `--kms`) checked before the chain is contacted: an address, or
 * the shape of a deployment name (resolved with `resolveContractRef` once the chain id is
 * known). Anything starting with 0x must be a well-formed address.
 */
export function parseContractRef(value: string | undefined, flag: string): string {
  const text = requireOption(value, flag, "a 0x-prefixed 20-byte address or a recorded deployment name").trim();
  if (/^[A-Za-z][A-Za-z0-9_.#-]{0,79}$/.test(text) && !/^0x/i.test(text)) return text;
  return parseAddress(text, flag);
}

/** Resolves a contract flag on the connected chain: an address as is, a name through the deployments files. */
export function resolveContractRef(hre: HardhatRuntimeEnvironment, ref: string, flag: string, chainId: number): Address {
  return resolveContract(ref, flag, { dir: deploymentsDir(hre), ignitionDir: path.join(hre.config.paths.root, "ignition"), chainId });
}

/**
 * Records what a `deploy-*` task created, on a chain that outlives the process (an HTTP
 * network): returns the name it is recorded under, or undefined on a simulated chain.
 */
export function recordDeploymentFor(
  hre: HardhatRuntimeEnvironment,
  networkType: string,
  chainId: number,
  record: Omit<DeploymentRecord, "deployedAt">,
  name: string | undefined,
  prefix: string,
): string | undefined {
  if (networkType !== "http") return undefined;
  return recordDeployment(deploymentsDir(hre), chainId, { ...record, deployedAt: new Date().toISOString() }, name, prefix);
}

import { getAddress, keccak256, toHex, zeroAddress, type Address, type Hex, type PublicClient } from "viem";

import { NoCodeError, toRpcError } from "../chain/errors.js";
import { readContracts } from "../chain/multicall.js";
import { safeAbi } from "./abi/safe.js";
import { NotGovernanceContractError } from "./errors.js";
import { codeHashAt, SAFE_SINGLETON_CODE_HASHES } from "./safe-contracts.js";

const SENTINEL = "0x0000000000000000000000000000000000000001" as Address;
const MODULE_PAGE = 50n;
const MAX_MODULE_PAGES = 20;
/** Safe storage: slot 0 is the singleton; the guard and fallback handler live at hashed slots. */
const GUARD_SLOT = keccak256(toHex("guard_manager.guard.address"));
const FALLBACK_HANDLER_SLOT = keccak256(toHex("fallback_manager.handler.address"));

/** A Safe's configuration, read at one block. */
export interface SafeInfo {
  address: Address;
  /** `VERSION()`, e.g. "1.4.1". */
  version: string;
  owners: Address[];
  threshold: bigint;
  /** The nonce the next executed transaction must carry. */
  nonce: bigint;
  singleton: Address;
  /** The release the singleton's code is (by code hash), or null for code this toolkit does not know. */
  singletonRelease: string | null;
  /** Enabled modules: each can execute anything through the Safe without owner signatures. */
  modules: Address[];
  /** A transaction guard (zero address when none). */
  guard: Address;
  fallbackHandler: Address;
}

/** Versions whose EIP-712 SafeTx domain (chainId + verifyingContract) this toolkit implements. */
export const SUPPORTED_SAFE_VERSIONS = ["1.3.0", "1.4.1"];

/**
 * Reads a Safe's owners, threshold, nonce, version, modules, guard and singleton. Throws
 * `NotGovernanceContractError` (naming `flag`) when the address has no code or does not
 * answer as a Safe, and for versions whose signing scheme this toolkit does not support.
 */
export async function readSafe(client: PublicClient, address: Address, flag = "safe"): Promise<SafeInfo> {
  const field = flag.startsWith("-") ? undefined : flag;
  const safe = getAddress(address);
  const code = await client.getCode({ address: safe }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getCode", error);
  });
  if (code === undefined || code === "0x") throw new NoCodeError(safe, await client.getChainId());
  const { results } = await readContracts(client, [
    { address: safe, abi: safeAbi, functionName: "VERSION" },
    { address: safe, abi: safeAbi, functionName: "getOwners" },
    { address: safe, abi: safeAbi, functionName: "getThreshold" },
    { address: safe, abi: safeAbi, functionName: "nonce" },
    { address: safe, abi: safeAbi, functionName: "getModulesPaginated", args: [SENTINEL, MODULE_PAGE] },
  ]);
  const [version, owners, threshold, nonce, modules] = results;
  if (owners.status !== "success" || threshold.status !== "success" || nonce.status !== "success" || version.status !== "success") {
    throw new NotGovernanceContractError(`${flag}: ${safe} is not a Safe (getOwners/getThreshold/nonce/VERSION do not answer)`, undefined, field);
  }
  if (!SUPPORTED_SAFE_VERSIONS.includes(version.result)) {
    throw new NotGovernanceContractError(`${flag}: ${safe} is a Safe ${version.result}; this toolkit signs for Safe ${SUPPORTED_SAFE_VERSIONS.join(" and ")}`, undefined, field);
  }
  const slot = async (position: Hex): Promise<Address> => {
    const word = await client.getStorageAt({ address: safe, slot: position }).catch((error: unknown) => {
      throw toRpcError(client, "eth_getStorageAt", error);
    });
    return getAddress(`0x${(word ?? "0x").slice(2).padStart(64, "0").slice(-40)}`);
  };
  const [singleton, guard, fallbackHandler] = await Promise.all([slot(toHex(0, { size: 32 })), slot(GUARD_SLOT), slot(FALLBACK_HANDLER_SLOT)]);
  const singletonHash = await codeHashAt(client, singleton);
  // Modules act without owner signatures: an unreadable list is an error, never "none".
  if (modules.status !== "success") throw new NotGovernanceContractError(`${flag}: Safe ${safe} does not answer getModulesPaginated: its modules cannot be listed`, undefined, field);
  return {
    address: safe,
    version: version.result,
    owners: owners.result.map((owner) => getAddress(owner)),
    threshold: threshold.result,
    nonce: nonce.result,
    singleton,
    singletonRelease: singletonHash === undefined ? null : (SAFE_SINGLETON_CODE_HASHES[singletonHash] ?? null),
    modules: await allModules(client, safe, modules.result, flag),
    guard,
    fallbackHandler,
  };
}

/** Follows `getModulesPaginated` from its first page to the end of the list. */
async function allModules(client: PublicClient, safe: Address, first: readonly [readonly Address[], Address], flag: string): Promise<Address[]> {
  const modules = first[0].map((module) => getAddress(module));
  let next = getAddress(first[1]);
  for (let pages = 1; next !== SENTINEL && next !== zeroAddress; pages += 1) {
    if (pages >= MAX_MODULE_PAGES) throw new NotGovernanceContractError(`${flag}: Safe ${safe} lists more than ${MAX_MODULE_PAGES * Number(MODULE_PAGE)} modules`, undefined, flag.startsWith("-") ? undefined : flag);
    const [page, after] = await client.readContract({ address: safe, abi: safeAbi, functionName: "getModulesPaginated", args: [next, MODULE_PAGE] }).catch((error: unknown) => {
      throw toRpcError(client, "eth_call", error);
    });
    modules.push(...page.map((module) => getAddress(module)));
    next = getAddress(after);
  }
  return modules;
}

/** Whether the address answers as a Safe (used to classify owners; never throws for "no"). */
export async function isSafe(client: PublicClient, address: Address): Promise<boolean> {
  const { results } = await readContracts(client, [
    { address, abi: safeAbi, functionName: "getOwners" },
    { address, abi: safeAbi, functionName: "getThreshold" },
    { address, abi: safeAbi, functionName: "nonce" },
  ]);
  return results.every((result) => result.status === "success");
}

import { createRequire } from "node:module";

import { getAddress, keccak256, type Address, type Hex, type PublicClient } from "viem";

import { toRpcError } from "../chain/errors.js";
import { parseAddressText } from "../util/address.js";
import { InvalidInputError } from "../util/errors.js";
import { MultiSendMissingError, NotGovernanceContractError, SafeContractsMissingError } from "./errors.js";
import { readTextFile } from "../util/files.js";

/**
 * The Safe infrastructure contracts of one chain, in protocol-kit's `contractNetworks`
 * shape, so a Safe contracts file (`{ "<chainId>": { … } }`) can be handed to
 * protocol-kit as is. On public networks the canonical v1.4.1 deployments are known
 * (`@safe-global/safe-deployments`); a local chain needs `deploy-safe-contracts`.
 */
export interface SafeContracts {
  safeSingletonAddress: Address;
  safeProxyFactoryAddress: Address;
  multiSendAddress: Address;
  multiSendCallOnlyAddress: Address;
  fallbackHandlerAddress: Address;
  signMessageLibAddress: Address;
  createCallAddress: Address;
  simulateTxAccessorAddress: Address;
}

export const SAFE_CONTRACT_KEYS = [
  "safeSingletonAddress",
  "safeProxyFactoryAddress",
  "multiSendAddress",
  "multiSendCallOnlyAddress",
  "fallbackHandlerAddress",
  "signMessageLibAddress",
  "createCallAddress",
  "simulateTxAccessorAddress",
] as const satisfies ReadonlyArray<keyof SafeContracts>;

/**
 * keccak256 of the runtime code of the Safe releases this toolkit signs for (canonical
 * deployments; `test/governance/library.test.ts` ("sources of truth") checks them against
 * `@safe-global/safe-deployments` and the `@safe-global/safe-contracts` artifacts).
 * Code identity, not an address list, is what makes a local deployment trustworthy.
 */
export const SAFE_SINGLETON_CODE_HASHES: Record<Hex, string> = {
  "0x1fe2df852ba3299d6534ef416eefa406e56ced995bca886ab7a553e6d0c5e1c4": "Safe 1.4.1",
  "0xb1f926978a0f44a2c0ec8fe822418ae969bd8c3f18d61e5103100339894f81ff": "SafeL2 1.4.1",
  "0xbba688fbdb21ad2bb58bc320638b43d94e7d100f6f3ebaab0a4e4de6304b1c2e": "Safe 1.3.0",
  "0x21842597390c4c6e3c1239e434a682b054bd9548eee5e9b1d6a4482731023c0f": "SafeL2 1.3.0",
};

/** MultiSendCallOnly releases (the only contract a proposal may DELEGATECALL). */
export const MULTI_SEND_CALL_ONLY_CODE_HASHES: Record<Hex, string> = {
  "0xecd5bd14a08c5d2122379900b2f272bdf107a7e92423c10dd5fe3254386c9939": "MultiSendCallOnly 1.4.1",
  "0xa9865ac2d9c7a1591619b188c4d88167b50df6cc0c5327fcbd1c8c75f7c066ad": "MultiSendCallOnly 1.3.0",
};

/** The canonical v1.4.1 MultiSendCallOnly address (same on every chain it is deployed on). */
export const CANONICAL_MULTI_SEND_CALL_ONLY = "0x9641d764fc13c8B624c04430C7356C1C7C8102e2" as Address;

/** keccak256 of the code at `address` (undefined when there is none). */
export async function codeHashAt(client: PublicClient, address: Address): Promise<Hex | undefined> {
  const code = await client.getCode({ address }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getCode", error);
  });
  return code === undefined || code === "0x" ? undefined : keccak256(code);
}

/** Reads and checks a Safe contracts file; returns the entry for `chainId` (or undefined). */
export async function readSafeContractsFile(path: string, chainId: number, flag = "safeContracts"): Promise<SafeContracts | undefined> {
  // An option key (not a CLI flag) is the errors' field, for front ends to name as they do.
  const about = flag.startsWith("-") ? {} : { field: flag };
  const text = await readTextFile(path, flag);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidInputError(`${flag}: ${path} is not JSON`, about);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidInputError(`${flag}: ${path} must be an object keyed by chain id ({ "31337": { "safeSingletonAddress": … } })`, about);
  }
  const entry = (parsed as Record<string, unknown>)[String(chainId)];
  if (entry === undefined) return undefined;
  if (typeof entry !== "object" || entry === null) throw new InvalidInputError(`${flag}: entry ${chainId} of ${path} is not an object`, about);
  const out: Partial<SafeContracts> = {};
  for (const key of SAFE_CONTRACT_KEYS) {
    const value = (entry as Record<string, unknown>)[key];
    if (typeof value !== "string") throw new InvalidInputError(`${flag}: entry ${chainId} of ${path} has no valid ${key}`, about);
    try {
      out[key] = parseAddressText(value, `${flag}: entry ${chainId} of ${path}, ${key}`);
    } catch (error) {
      if (error instanceof InvalidInputError && about.field !== undefined) throw new InvalidInputError(error.message, { ...about, cause: error });
      throw error;
    }
  }
  return out as SafeContracts;
}

/** The canonical deployments of a Safe version on a chain, from `@safe-global/safe-deployments`. */
export function canonicalSafeContracts(chainId: number, version = "1.4.1"): SafeContracts | undefined {
  // safe-deployments comes with protocol-kit; resolve it from there so the lookup does not
  // depend on how npm laid out the tree.
  const require = createRequire(import.meta.url);
  const deployments = createRequire(require.resolve("@safe-global/protocol-kit"))("@safe-global/safe-deployments") as Record<
    string,
    (filter: { version: string; network: string }) => { networkAddresses: Record<string, string | string[]> } | undefined
  >;
  const lookup = (fn: string): Address | undefined => {
    const found = deployments[fn]?.({ version, network: String(chainId) })?.networkAddresses[String(chainId)];
    const address = Array.isArray(found) ? found[0] : found;
    return address === undefined ? undefined : getAddress(address);
  };
  const entries = {
    safeSingletonAddress: lookup(chainId === 1 ? "getSafeSingletonDeployment" : "getSafeL2SingletonDeployment"),
    safeProxyFactoryAddress: lookup("getProxyFactoryDeployment"),
    multiSendAddress: lookup("getMultiSendDeployment"),
    multiSendCallOnlyAddress: lookup("getMultiSendCallOnlyDeployment"),
    fallbackHandlerAddress: lookup("getCompatibilityFallbackHandlerDeployment"),
    signMessageLibAddress: lookup("getSignMessageLibDeployment"),
    createCallAddress: lookup("getCreateCallDeployment"),
    simulateTxAccessorAddress: lookup("getSimulateTxAccessorDeployment"),
  };
  return Object.values(entries).every((value) => value !== undefined) ? (entries as SafeContracts) : undefined;
}

/**
 * The Safe contracts to use on this chain: the Safe contracts file's entry when given,
 * else the canonical v1.4.1 deployments. Throws, naming the flag, when neither exists.
 */
export async function resolveSafeContracts(chainId: number, file: string | undefined): Promise<SafeContracts> {
  if (file !== undefined) {
    const fromFile = await readSafeContractsFile(file, chainId);
    if (fromFile === undefined) throw new InvalidInputError(`safeContracts: ${file} has no entry for chain ${chainId}`, { field: "safeContracts" });
    return fromFile;
  }
  const canonical = canonicalSafeContracts(chainId);
  if (canonical === undefined) {
    throw new SafeContractsMissingError(`safeContracts: no canonical Safe v1.4.1 deployment is known on chain ${chainId}`, "deploy-and-pass");
  }
  return canonical;
}

/** The MultiSendCallOnly a batch goes through, checked by its code: throws unless it is a known release. */
export async function resolveMultiSendCallOnly(client: PublicClient, chainId: number, file: string | undefined): Promise<Address> {
  let address: Address;
  if (file !== undefined) address = (await resolveSafeContracts(chainId, file)).multiSendCallOnlyAddress;
  else address = canonicalSafeContracts(chainId)?.multiSendCallOnlyAddress ?? CANONICAL_MULTI_SEND_CALL_ONLY;
  await assertMultiSendCallOnly(client, address, chainId);
  return address;
}

/** Throws unless the code at `address` is a MultiSendCallOnly release (by code hash). */
export async function assertMultiSendCallOnly(client: PublicClient, address: Address, chainId: number): Promise<string> {
  const hash = await codeHashAt(client, address);
  if (hash === undefined) {
    throw new MultiSendMissingError(`no MultiSendCallOnly at ${address} on chain ${chainId}`);
  }
  const release = MULTI_SEND_CALL_ONLY_CODE_HASHES[hash];
  if (release === undefined) {
    throw new NotGovernanceContractError(`the contract at ${address} is not a MultiSendCallOnly release (code hash ${hash}): a proposal must not DELEGATECALL it`);
  }
  return release;
}

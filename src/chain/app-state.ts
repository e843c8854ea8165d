import { getAddress, hexToBigInt, zeroAddress, type Address } from "viem";
import { getBlockNumber, getChainId, getCode, getStorageAt } from "viem/actions";

import {
  IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID,
  IAPP_AUTH_BATCH_MANAGEMENT_INTERFACE_ID,
  IAPP_AUTH_INTERFACE_ID,
  dstackAppAbi,
} from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import type { Hex } from "../util/hex.js";
import type { ChainClient } from "./clients.js";
import { NoCodeError, NotAnAppContractError, withRpcError, type CallRevertedError } from "./errors.js";
import { readContracts } from "./multicall.js";

/**
 * Snapshots of an app or KMS contract as a report or a change plan needs them, all read at
 * one block. Fields whose getter may be missing on older upstream deployments are `null`
 * when the getter reverts (the contract's answer); an RPC failure throws `RpcError`.
 */

/** ERC-1967 implementation slot: `bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)`. */
export const ERC1967_IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc" as const;
/**
 * DstackApp slot 1 packs the private upgrades-disabled flag (offset 0) and `allowAnyDevice`
 * (offset 1). Upstream has no getter for the flag, so it is read from storage.
 */
export const APP_FLAGS_SLOT = "0x0000000000000000000000000000000000000000000000000000000000000001" as const;

export interface AppInterfaceSupport {
  /** IAppAuth (`0x1e079198`): `isAppAllowed`. */
  appAuth: boolean;
  /** IAppAuthBasicManagement (`0x8fd37527`): add/remove compose hash and device. */
  basicManagement: boolean;
  /** IAppAuthBatchManagement (`0xb24f781b`): this project's batch extension. */
  batchManagement: boolean;
}

export interface AppInfo {
  address: Address;
  chainId: number;
  /** The block all values were read at. */
  blockNumber: bigint;
  owner: Address;
  /** Ownable2Step's pending owner (zero address when none); null when the getter is missing. */
  pendingOwner: Address | null;
  /** From the ERC-1967 slot; null when the slot is empty (not a proxy). */
  implementation: Address | null;
  /** `version()`; null when the contract has no such function. */
  version: bigint | null;
  allowAnyDevice: boolean;
  /** null when the contract predates the TCB requirement (no getter). */
  requireTcbUpToDate: boolean | null;
  /** Slot 1 offset 0; null when the slot does not look like DstackApp's layout (see `warnings`). */
  upgradesDisabled: boolean | null;
  interfaces: AppInterfaceSupport;
  /** Anything that makes a value above less certain. */
  warnings: string[];
}

export interface KmsInfoTuple {
  k256Pubkey: Hex;
  caPubkey: Hex;
  quote: Hex;
  eventlog: Hex;
}

export interface KmsInfo {
  address: Address;
  chainId: number;
  blockNumber: bigint;
  owner: Address;
  pendingOwner: Address | null;
  implementation: Address | null;
  /** The DstackApp implementation the factory deploys (zero address when unset). */
  appImplementation: Address;
  gatewayAppId: string;
  kmsInfo: KmsInfoTuple;
}

export interface ReadOptions {
  /** Read at this block instead of the latest. */
  blockNumber?: bigint;
}

/** Reads an app contract's owner, implementation, flags and interfaces at one block. */
export async function readAppInfo(client: ChainClient, address: Address, options: ReadOptions = {}): Promise<AppInfo> {
  const app = getAddress(address);
  const blockNumber = options.blockNumber ?? (await withRpcError(client, "eth_blockNumber", () => getBlockNumber(client, { cacheTime: 0 })));
  const chainId = await chainIdOf(client);
  await requireCode(client, app, chainId, blockNumber);

  const contract = { address: app, abi: dstackAppAbi } as const;
  const [reads, implementationWord, flagsWord] = await Promise.all([
    readContracts(
      client,
      [
        { ...contract, functionName: "owner" },
        { ...contract, functionName: "pendingOwner" },
        { ...contract, functionName: "version" },
        { ...contract, functionName: "allowAnyDevice" },
        { ...contract, functionName: "requireTcbUpToDate" },
        { ...contract, functionName: "supportsInterface", args: [IAPP_AUTH_INTERFACE_ID] },
        { ...contract, functionName: "supportsInterface", args: [IAPP_AUTH_BASIC_MANAGEMENT_INTERFACE_ID] },
        { ...contract, functionName: "supportsInterface", args: [IAPP_AUTH_BATCH_MANAGEMENT_INTERFACE_ID] },
      ],
      { blockNumber },
    ),
    readSlot(client, app, ERC1967_IMPLEMENTATION_SLOT, blockNumber),
    readSlot(client, app, APP_FLAGS_SLOT, blockNumber),
  ]);
  const [owner, pendingOwner, version, allowAnyDevice, requireTcb, appAuth, basic, batch] = reads.results;

  if (owner.status === "failure" || allowAnyDevice.status === "failure") {
    const failed = owner.status === "failure" ? owner.error : allowAnyDevice.error;
    throw new NotAnAppContractError(app, chainId, `it does not answer DstackApp's getters: ${failed?.message ?? "unknown"}`);
  }
  const warnings: string[] = [];
  // Byte 1 of slot 1 is allowAnyDevice in DstackApp's layout; if it disagrees with the
  // getter, this is some other layout and byte 0 says nothing about upgrades.
  const flags = hexToBigInt(flagsWord);
  let upgradesDisabled: boolean | null = (flags & 0xffn) !== 0n;
  if (((flags >> 8n) & 0xffn) !== 0n !== allowAnyDevice.result || flags >> 16n !== 0n) {
    upgradesDisabled = null;
    warnings.push(`storage slot 1 (${flagsWord}) does not match DstackApp's layout; upgradesDisabled is unknown`);
  }
  if (version.status === "failure") warnings.push("version() is missing (an upstream version before 2?)");
  if (requireTcb.status === "failure") warnings.push("requireTcbUpToDate() is missing (a contract without the TCB requirement)");

  return {
    address: app,
    chainId,
    blockNumber,
    owner: owner.result,
    pendingOwner: pendingOwner.status === "success" ? pendingOwner.result : null,
    implementation: addressFromWord(implementationWord),
    version: version.status === "success" ? version.result : null,
    allowAnyDevice: allowAnyDevice.result,
    requireTcbUpToDate: requireTcb.status === "success" ? requireTcb.result : null,
    upgradesDisabled,
    // ERC-165: a contract that reverts on supportsInterface does not support the interface.
    interfaces: {
      appAuth: appAuth.status === "success" && appAuth.result,
      basicManagement: basic.status === "success" && basic.result,
      batchManagement: batch.status === "success" && batch.result,
    },
    warnings,
  };
}

/** Reads a KMS contract's owner, implementation, factory implementation, gateway app id and KMS info. */
export async function readKmsInfo(client: ChainClient, address: Address, options: ReadOptions = {}): Promise<KmsInfo> {
  const kms = getAddress(address);
  const blockNumber = options.blockNumber ?? (await withRpcError(client, "eth_blockNumber", () => getBlockNumber(client, { cacheTime: 0 })));
  const chainId = await chainIdOf(client);
  await requireCode(client, kms, chainId, blockNumber);

  const contract = { address: kms, abi: dstackKmsAbi } as const;
  const [reads, implementationWord] = await Promise.all([
    readContracts(
      client,
      [
        { ...contract, functionName: "owner" },
        { ...contract, functionName: "pendingOwner" },
        { ...contract, functionName: "appImplementation" },
        { ...contract, functionName: "gatewayAppId" },
        { ...contract, functionName: "kmsInfo" },
      ],
      { blockNumber },
    ),
    readSlot(client, kms, ERC1967_IMPLEMENTATION_SLOT, blockNumber),
  ]);
  const [owner, pendingOwner, appImplementation, gatewayAppId, info] = reads.results;
  // These getters exist on every upstream KMS; a failure means this is not a KMS contract.
  const [k256Pubkey, caPubkey, quote, eventlog] = required(info);
  return {
    address: kms,
    chainId,
    blockNumber,
    owner: required(owner),
    pendingOwner: pendingOwner.status === "success" ? pendingOwner.result : null,
    implementation: addressFromWord(implementationWord),
    appImplementation: required(appImplementation),
    gatewayAppId: required(gatewayAppId),
    kmsInfo: { k256Pubkey, caPubkey, quote, eventlog },
  };
}

/** The value of a read that must succeed; its `CallRevertedError` otherwise. */
function required<T>(outcome: { status: "success"; result: T } | { status: "failure"; error: CallRevertedError }): T {
  if (outcome.status === "failure") throw outcome.error;
  return outcome.result;
}

/** Fails with `NoCodeError` unless `address` holds code (at `blockNumber`, default latest). */
export async function requireCode(client: ChainClient, address: Address, chainId: number, blockNumber: bigint | undefined): Promise<void> {
  const code = await withRpcError(client, "eth_getCode", () =>
    getCode(client, blockNumber === undefined ? { address } : { address, blockNumber }),
  );
  if (code === undefined || code === "0x") throw new NoCodeError(address, chainId, blockNumber);
}

async function readSlot(client: ChainClient, address: Address, slot: Hex, blockNumber: bigint): Promise<Hex> {
  const word = await withRpcError(client, "eth_getStorageAt", () => getStorageAt(client, { address, slot, blockNumber }));
  return word === undefined || word === "0x" ? "0x0000000000000000000000000000000000000000000000000000000000000000" : word;
}

/** The address in the low 20 bytes of a storage word, or null for an empty slot. */
function addressFromWord(word: Hex): Address | null {
  const value = hexToBigInt(word) & ((1n << 160n) - 1n);
  if (value === 0n) return null;
  const address = getAddress(`0x${value.toString(16).padStart(40, "0")}`);
  return address === zeroAddress ? null : address;
}

/** The chain id, from the client's chain when it has one (no request), else from the node. */
export async function chainIdOf(client: ChainClient): Promise<number> {
  if (client.chain !== undefined) return client.chain.id;
  return withRpcError(client, "eth_chainId", () => getChainId(client));
}

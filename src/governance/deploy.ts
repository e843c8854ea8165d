import { createRequire } from "node:module";

import { encodeDeployData, encodeFunctionData, getAddress, zeroAddress, type Abi, type Address, type Hex, type PublicClient } from "viem";

import { isRevertError, toRpcError } from "../chain/errors.js";
import { sendTransaction, submitTransaction } from "../chain/send-transaction.js";
import { TransactionRevertedError } from "../manage/errors.js";
import { InvalidInputError } from "../util/errors.js";
import { safeAbi, safeProxyFactoryAbi } from "./abi/safe.js";
import { SafeContractsMissingError } from "./errors.js";
import { revertReason } from "./simulate.js";
import type { SafeContracts } from "./safe-contracts.js";
import type { SignerClient } from "../chain/clients.js";

export interface Deployed {
  address: Address;
  transactionHash: Hex;
  gasUsed: bigint;
  blockNumber: bigint;
}

/**
 * Deploys contract bytecode with the signer through the send primitive: simulated first (a
 * revert or a balance that does not cover the estimate sends nothing), then sent,
 * journaled and waited for.
 */
export async function deployBytecode(
  client: PublicClient,
  signer: SignerClient,
  contract: { label: string; abi: Abi; bytecode: Hex; args?: readonly unknown[] },
): Promise<Deployed> {
  const data = encodeDeployData({ abi: contract.abi, bytecode: contract.bytecode, args: (contract.args ?? []) as unknown[] });
  const sent = await sendTransaction(client, signer, { data, summary: `deploy ${contract.label}` });
  if (sent.contractAddress === undefined) {
    throw new TransactionRevertedError(`deploy ${contract.label}`, `transaction ${sent.hash} created no contract (block ${sent.blockNumber})`);
  }
  return { address: sent.contractAddress, transactionHash: sent.hash, gasUsed: sent.gasUsed, blockNumber: sent.blockNumber };
}

/**
 * Simulates, checks the balance, sends (journaled; an earlier run's pending transaction
 * of the same change is returned instead of a second send); returns the transaction hash.
 */
export async function sendChecked(client: PublicClient, signer: SignerClient, tx: { to?: Address; data: Hex; value?: bigint; summary: string }): Promise<Hex> {
  return (await submitTransaction(client, signer, tx)).hash;
}

const SAFE_ARTIFACTS: Record<keyof SafeContracts, string> = {
  safeSingletonAddress: "Safe.sol/Safe.json",
  safeProxyFactoryAddress: "proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
  multiSendAddress: "libraries/MultiSend.sol/MultiSend.json",
  multiSendCallOnlyAddress: "libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json",
  fallbackHandlerAddress: "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json",
  signMessageLibAddress: "libraries/SignMessageLib.sol/SignMessageLib.json",
  createCallAddress: "libraries/CreateCall.sol/CreateCall.json",
  simulateTxAccessorAddress: "accessors/SimulateTxAccessor.sol/SimulateTxAccessor.json",
};

/** An artifact of `@safe-global/safe-contracts` (v1.4.1), by its path under `contracts/`. */
export function safeArtifact(path: string): { contractName: string; abi: Abi; bytecode: Hex; deployedBytecode: Hex } {
  const require = createRequire(import.meta.url);
  return require(`@safe-global/safe-contracts/build/artifacts/contracts/${path}`) as { contractName: string; abi: Abi; bytecode: Hex; deployedBytecode: Hex };
}

/**
 * Deploys the Safe v1.4.1 contracts from the `@safe-global/safe-contracts` artifacts (the
 * same bytecode as the canonical deployments, so the code hashes match): for a local
 * chain, where the canonical deployments do not exist.
 */
export async function deploySafeContracts(
  client: PublicClient,
  signer: SignerClient,
  onDeployed?: (key: keyof SafeContracts, deployed: Deployed) => void,
): Promise<{ contracts: SafeContracts; deployed: Record<keyof SafeContracts, Deployed> }> {
  const deployed = {} as Record<keyof SafeContracts, Deployed>;
  for (const [key, path] of Object.entries(SAFE_ARTIFACTS) as Array<[keyof SafeContracts, string]>) {
    const artifact = safeArtifact(path);
    deployed[key] = await deployBytecode(client, signer, { label: `${artifact.contractName} (Safe 1.4.1)`, abi: artifact.abi, bytecode: artifact.bytecode });
    onDeployed?.(key, deployed[key]);
  }
  const contracts = Object.fromEntries(Object.entries(deployed).map(([key, value]) => [key, value.address])) as unknown as SafeContracts;
  return { contracts, deployed };
}

/**
 * Creates a Safe proxy (owners, threshold, the compatibility fallback handler) through the
 * proxy factory with `createProxyWithNonce`; the address is deterministic in the
 * owners, threshold and salt nonce.
 */
export async function deploySafe(
  client: PublicClient,
  signer: SignerClient,
  contracts: Pick<SafeContracts, "safeSingletonAddress" | "safeProxyFactoryAddress" | "fallbackHandlerAddress">,
  owners: readonly Address[],
  threshold: bigint,
  saltNonce: bigint,
): Promise<Deployed> {
  if (owners.length === 0) throw new InvalidInputError("owners: at least one owner is needed", { field: "owners" });
  if (new Set(owners.map((owner) => getAddress(owner))).size !== owners.length) throw new InvalidInputError("owners: an owner is listed twice", { field: "owners" });
  if (threshold < 1n || threshold > BigInt(owners.length)) {
    throw new InvalidInputError(`threshold: must be between 1 and the number of owners (${owners.length})`, { field: "threshold" });
  }
  for (const key of ["safeSingletonAddress", "safeProxyFactoryAddress"] as const) {
    const code = await client.getCode({ address: contracts[key] }).catch((error: unknown) => {
      throw toRpcError(client, "eth_getCode", error);
    });
    if (code === undefined || code === "0x") {
      throw new SafeContractsMissingError(`safeContracts: no contract at ${contracts[key]} (${key})`, "deploy");
    }
  }
  const setup = encodeFunctionData({
    abi: safeAbi,
    functionName: "setup",
    args: [owners.map((owner) => getAddress(owner)), threshold, zeroAddress, "0x", contracts.fallbackHandlerAddress, zeroAddress, 0n, zeroAddress],
  });
  const args = [contracts.safeSingletonAddress, setup, saltNonce] as const;
  let predicted: Address;
  try {
    const { result } = await client.simulateContract({ account: signer.account, address: contracts.safeProxyFactoryAddress, abi: safeProxyFactoryAbi, functionName: "createProxyWithNonce", args });
    predicted = getAddress(result);
  } catch (error) {
    if (isRevertError(error)) throw new TransactionRevertedError("create the Safe", `${revertReason(error)} (a Safe with these owners, threshold and salt nonce may already exist)`);
    throw toRpcError(client, "eth_call", error);
  }
  const data = encodeFunctionData({ abi: safeProxyFactoryAbi, functionName: "createProxyWithNonce", args });
  const sent = await sendTransaction(client, signer, { to: contracts.safeProxyFactoryAddress, data, summary: "create the Safe" });
  return { address: predicted, transactionHash: sent.hash, gasUsed: sent.gasUsed, blockNumber: sent.blockNumber };
}

import { getAddress, type Address, type PublicClient } from "viem";

import { toRpcError } from "../chain/errors.js";
import type { PlannedCall } from "../manage/planned-call.js";
import type { SignerClient } from "../chain/clients.js";
import { safeAbi } from "./abi/safe.js";
import { InvalidSignatureError, ProposalMismatchError, SafeNonceError, SignerNotSafeOwnerError } from "./errors.js";
import { encodeMultiSendCall } from "./multisend.js";
import { buildProposal, proposalTransaction, type SafeProposal } from "./proposal.js";
import type { SafeRouteOptions } from "./route.js";
import { resolveMultiSendCallOnly } from "./safe-contracts.js";
import { readSafe, type SafeInfo } from "./safe-state.js";
import { getTransactionHashArgs, safeTransaction, safeTxTypedData } from "./safe-tx.js";
import { recoverSafeSignature, type OwnerSignature } from "./signatures.js";
import { simulateAs } from "./simulate.js";

export interface PreparedSafeProposal {
  proposal: SafeProposal;
  safe: SafeInfo;
  /** Gas of each call simulated as the Safe. */
  gas: bigint[];
}

/** Throws `NotSafeOwnerError` unless `account` is an owner of the Safe. */
export function assertSafeOwner(safe: SafeInfo, account: Address, action: string): void {
  if (!safe.owners.includes(getAddress(account))) {
    throw new SignerNotSafeOwnerError(
      `signer ${getAddress(account)} is not an owner of Safe ${safe.address} (owners: ${safe.owners.join(", ")}): its signature would not count; ${action} with an owner's account`,
    );
  }
}

/**
 * Builds the Safe proposal that makes `calls` as the Safe: one call as is, several as one
 * MultiSendCallOnly batch (all or nothing). Before anything is signed: the signer is an
 * owner, the nonce is not used, every call succeeds when simulated as the Safe, and the
 * Safe itself computes the same safeTxHash.
 */
export async function prepareSafeProposal(
  client: PublicClient,
  chainId: number,
  signerAddress: Address,
  calls: readonly PlannedCall[],
  options: SafeRouteOptions,
): Promise<PreparedSafeProposal> {
  const safe = await readSafe(client, options.safe);
  assertSafeOwner(safe, signerAddress, "propose");
  const nonce = options.nonce ?? safe.nonce;
  if (nonce < safe.nonce) throw new SafeNonceError(`safeNonce: nonce ${nonce} was already used (Safe ${safe.address} is at nonce ${safe.nonce})`, { field: "safeNonce" });
  const gas: bigint[] = [];
  for (const call of calls) gas.push(await simulateAs(client, safe.address, call, `Safe ${safe.address}`));
  const [single] = calls;
  const tx =
    calls.length === 1 && single !== undefined
      ? safeTransaction({ to: single.to, value: single.value, data: single.data, operation: 0 }, nonce)
      : safeTransaction({ to: await resolveMultiSendCallOnly(client, chainId, options.safeContracts), value: 0n, data: encodeMultiSendCall(calls), operation: 1 }, nonce);
  const proposal = buildProposal({ chainId, safe: safe.address, tx, summaries: calls.map((call) => call.summary), proposedBy: signerAddress });
  const onChain = await client.readContract({ address: safe.address, abi: safeAbi, functionName: "getTransactionHash", args: getTransactionHashArgs(tx) }).catch((error: unknown) => {
    throw toRpcError(client, "eth_call", error);
  });
  if (onChain.toLowerCase() !== proposal.safeTxHash.toLowerCase()) {
    throw new ProposalMismatchError(`Safe ${safe.address} computes safeTxHash ${onChain}, not ${proposal.safeTxHash}: refusing to sign`);
  }
  return { proposal, safe, gas };
}

/**
 * Signs a proposal's safeTxHash with the signer's key as EIP-712 typed data
 * (`eth_signTypedData_v4` through the network's provider: Hardhat signs for its
 * configured accounts, a wallet for its own) and checks the signature recovers to the
 * signer before it is kept.
 */
export async function signProposal(signer: SignerClient, proposal: SafeProposal): Promise<OwnerSignature> {
  const typed = safeTxTypedData(proposal.chainId, proposal.safe, proposalTransaction(proposal));
  const signature = await signer.signTypedData({ account: signer.account, ...typed }).catch((error: unknown) => {
    throw new InvalidSignatureError(`the signer ${getAddress(signer.account.address)} could not sign the proposal: ${signingFailureReason(error)}`);
  });
  const recovered = await recoverSafeSignature(proposal.safeTxHash, signature);
  if (recovered !== getAddress(signer.account.address)) {
    throw new InvalidSignatureError(`the signature made by ${signer.account.address} recovers to ${recovered}: the signer did not sign this safeTxHash`);
  }
  return { signer: recovered, signature };
}

/**
 * Why a wallet did not sign, in one line: viem wraps a provider's (or a Ledger plugin's)
 * refusal as "An unknown RPC error occurred", so the reason is the innermost cause's.
 */
export function signingFailureReason(error: unknown): string {
  let inner: unknown = error;
  for (let depth = 0; depth < 10 && inner instanceof Error && inner.cause instanceof Error; depth += 1) inner = inner.cause;
  const details = (error as { details?: unknown }).details;
  const text = inner instanceof Error ? inner.message : typeof details === "string" && details !== "" ? details : String(error);
  return text.split("\n")[0] ?? String(error);
}

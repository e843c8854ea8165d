import { getAddress, type Address, type PublicClient } from "viem";

import { toRpcError } from "../chain/errors.js";
import { WrongChainError } from "../manage/errors.js";
import { safeAbi } from "./abi/safe.js";
import { ProposalMismatchError, SafeNonceError } from "./errors.js";
import { checkProposalIntegrity, proposalTransaction, type SafeProposal } from "./proposal.js";
import { assertMultiSendCallOnly } from "./safe-contracts.js";
import { readSafe, type SafeInfo } from "./safe-state.js";
import { getTransactionHashArgs } from "./safe-tx.js";
import { safeTxSignedData } from "./contract-signatures.js";
import { checkSignatures, onChainApprovals, type PendingSignature } from "./signature-check.js";
import type { OwnerSignature } from "./signatures.js";

export interface CheckedProposal {
  safe: SafeInfo;
  /** The file's signatures that count, each verified: recovers to (or, for a contract owner, is accepted by) a current owner. */
  signatures: OwnerSignature[];
  /** Safe owners whose own owners are still signing (kept in the file, not counted yet). */
  pending: PendingSignature[];
  /** What the file keeps: the counted and the pending signatures, in file order. */
  kept: OwnerSignature[];
  /** Owners without a signature in the file who approved the safeTxHash on chain (`approveHash`): they count. */
  approvals: Address[];
  /** Owners who have neither signed nor approved yet. */
  missing: Address[];
  /** For a batch: the MultiSendCallOnly release the Safe delegatecalls. */
  multiSendRelease?: string;
}

/**
 * Everything `safe-sign` and `safe-execute` check before touching a proposal: the file
 * is consistent with itself (hash and decoded actions), it is for this chain, the Safe
 * computes the same safeTxHash, a delegatecall goes only to a MultiSendCallOnly release
 * (by code hash), the nonce is not used yet (for execution: is the next one), every
 * signature recovers to (or, for a contract owner, is accepted by) a current owner, and
 * which other owners approved the hash on chain.
 */
export async function checkProposal(client: PublicClient, proposal: SafeProposal, where: string, purpose: "sign" | "execute"): Promise<CheckedProposal> {
  checkProposalIntegrity(proposal, where);
  const chainId = await client.getChainId().catch((error: unknown) => {
    throw toRpcError(client, "eth_chainId", error);
  });
  if (chainId !== proposal.chainId) throw new WrongChainError(proposal.chainId, chainId);
  const safe = await readSafe(client, proposal.safe, `${where} (safe)`);
  const tx = proposalTransaction(proposal);
  const onChain = await client.readContract({ address: safe.address, abi: safeAbi, functionName: "getTransactionHash", args: getTransactionHashArgs(tx) }).catch((error: unknown) => {
    throw toRpcError(client, "eth_call", error);
  });
  if (onChain.toLowerCase() !== proposal.safeTxHash.toLowerCase()) {
    throw new ProposalMismatchError(`${where}: Safe ${safe.address} computes safeTxHash ${onChain} for these fields, not ${proposal.safeTxHash}`);
  }
  let multiSendRelease: string | undefined;
  if (tx.operation === 1) multiSendRelease = await assertMultiSendCallOnly(client, tx.to, chainId);
  if (tx.nonce < safe.nonce) {
    throw new SafeNonceError(
      `${where}: nonce ${tx.nonce} was already used (Safe ${safe.address} is at nonce ${safe.nonce}): this proposal was executed or replaced and cannot be ${purpose === "sign" ? "signed" : "executed"}`,
    );
  }
  if (purpose === "execute" && tx.nonce > safe.nonce) {
    throw new SafeNonceError(`${where}: nonce ${tx.nonce} is not next (Safe ${safe.address} is at nonce ${safe.nonce}): execute the proposals with nonces ${safe.nonce}..${tx.nonce - 1n} first`);
  }
  const { valid, pending, kept } = await checkSignatures(client, safe, chainId, safeTxSignedData(chainId, safe.address, tx), proposal.signatures);
  const signed = new Set(valid.map((entry) => getAddress(entry.signer)));
  const approvals = await onChainApprovals(client, safe.address, proposal.safeTxHash, safe.owners.filter((owner) => !signed.has(owner)));
  const counted = new Set([...signed, ...approvals]);
  return { safe, signatures: valid, pending, kept, approvals, missing: safe.owners.filter((owner) => !counted.has(owner)), ...(multiSendRelease === undefined ? {} : { multiSendRelease }) };
}

import { getAddress, type Address, type PublicClient } from "viem";

import { toRpcError } from "../chain/errors.js";
import { WrongChainError } from "../manage/errors.js";
import { safeAbi } from "./abi/safe.js";
import { ProposalMismatchError, SafeNonceError } from "./errors.js";
import { checkProposalIntegrity, proposalTransaction, type SafeProposal } from "./proposal.js";
import { assertMultiSendCallOnly } from "./safe-contracts.js";
import { readSafe, type SafeInfo } from "./safe-state.js";
import { getTransactionHashArgs } from "./safe-tx.js";
import { verifyOwnerSignatures, type OwnerSignature } from "./signatures.js";

export interface CheckedProposal {
  safe: SafeInfo;
  /** The file's signatures, each verified: recovers to its signer, a current owner. */
  signatures: OwnerSignature[];
  /** Owners who have not signed yet. */
  missing: Address[];
  /** For a batch: the MultiSendCallOnly release the Safe delegatecalls. */
  multiSendRelease?: string;
}

/**
 * Everything `safe-sign` and `safe-execute` check before touching a proposal: the file
 * is consistent with itself (hash and decoded actions), it is for this chain, the Safe
 * computes the same safeTxHash, a delegatecall goes only to a MultiSendCallOnly release
 * (by code hash), the nonce is not used yet (for execution: is the next one), and every
 * signature recovers to a current owner.
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
  const signatures = await verifyOwnerSignatures(proposal.safeTxHash, proposal.signatures, safe.owners);
  const signed = new Set(signatures.map((entry) => getAddress(entry.signer)));
  return { safe, signatures, missing: safe.owners.filter((owner) => !signed.has(owner)), ...(multiSendRelease === undefined ? {} : { multiSendRelease }) };
}

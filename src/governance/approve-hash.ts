import { encodeFunctionData, getAddress, type Hex, type PublicClient } from "viem";

import { toRpcError } from "../chain/errors.js";
import { TransactionRevertedError } from "../manage/errors.js";
import type { SignerClient } from "../chain/clients.js";
import { safeAbi } from "./abi/safe.js";
import { sendChecked } from "./deploy.js";
import type { CheckedProposal } from "./safe-proposal-check.js";
import { assertSafeOwner } from "./safe-route.js";
import { simulateAs } from "./simulate.js";

/**
 * `approveHash(safeTxHash)` on the proposal's Safe, sent by an owner: Safe's on-chain
 * signature, for owners that cannot sign a file (a hardware wallet without EIP-712 for
 * this data, a contract wallet that can only send transactions). `execTransaction` then
 * accepts a v = 1 entry for that owner (`safe-execute` adds it). The signer must be an
 * owner (GS030 otherwise); the call is simulated before it is sent.
 */
export function approveHashCall(checked: CheckedProposal, safeTxHash: Hex) {
  return { to: checked.safe.address, value: 0n, data: encodeFunctionData({ abi: safeAbi, functionName: "approveHash", args: [safeTxHash] }), summary: `approve Safe transaction ${safeTxHash} on Safe ${checked.safe.address}` };
}

/** Simulates the approval from the signer; returns its gas. */
export async function simulateApproveHash(client: PublicClient, signer: SignerClient, checked: CheckedProposal, safeTxHash: Hex): Promise<bigint> {
  const me = getAddress(signer.account.address);
  assertSafeOwner(checked.safe, me, "approve");
  return simulateAs(client, me, approveHashCall(checked, safeTxHash), `owner ${me}`);
}

/** Sends the approval from the signer and waits for it; returns the transaction. */
export async function sendApproveHash(client: PublicClient, signer: SignerClient, checked: CheckedProposal, safeTxHash: Hex): Promise<{ transactionHash: Hex; blockNumber: bigint; gasUsed: bigint }> {
  await simulateApproveHash(client, signer, checked, safeTxHash);
  const call = approveHashCall(checked, safeTxHash);
  const hash = await sendChecked(client, signer, call);
  const receipt = await client.waitForTransactionReceipt({ hash }).catch((error: unknown) => {
    throw toRpcError(client, "eth_getTransactionReceipt", error);
  });
  if (receipt.status !== "success") throw new TransactionRevertedError(call.summary, `transaction ${hash} reverted in block ${receipt.blockNumber}`);
  const approved = await client.readContract({ address: checked.safe.address, abi: safeAbi, functionName: "approvedHashes", args: [getAddress(signer.account.address), safeTxHash] }).catch((error: unknown) => {
    throw toRpcError(client, "eth_call", error);
  });
  if (approved === 0n) throw new TransactionRevertedError(call.summary, `transaction ${hash} was mined but the Safe does not record the approval`);
  return { transactionHash: hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
}

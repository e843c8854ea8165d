import { getAddress, type Address, type Hex, type PublicClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { toRpcError } from "../chain/errors.js";
import { assertBalanceCovers, sendTransaction, simulateTransaction } from "../chain/send-transaction.js";
import { NotOwnerError } from "./errors.js";
import type { ChangePlan } from "./planned-call.js";
import type { SignerClient } from "../chain/clients.js";

export interface SentTransaction {
  summary: string;
  hash: Hex;
  blockNumber: bigint;
  gasUsed: bigint;
}

/**
 * Checks everything that can be checked before a plan is sent by the signer's own key:
 * the signer holds the required role, every call succeeds in simulation, and the balance
 * covers the estimated cost. Throws a typed error otherwise; sends nothing.
 */
export async function preflightDirect(publicClient: PublicClient, signer: SignerClient, plan: ChangePlan): Promise<{ gas: bigint[] }> {
  const from = getAddress(signer.account.address);
  await assertSenderRole(publicClient, from, plan);
  const gas: bigint[] = [];
  for (const call of plan.calls) gas.push(await simulateTransaction(publicClient, from, call));
  if (plan.calls.length > 0) await assertBalanceCovers(publicClient, from, gas.reduce((sum, g) => sum + g, 0n));
  return { gas };
}

/**
 * Sends a plan's calls one after another with the signer's key, after `preflightDirect`,
 * through the toolkit's one send primitive (hash reported at once, journaled, receipt
 * awaited). A reverted receipt stops the sequence with a typed error.
 */
export async function executeDirect(
  publicClient: PublicClient,
  signer: SignerClient,
  plan: ChangePlan,
  onProgress?: (done: number, total: number, sent: SentTransaction) => void,
): Promise<SentTransaction[]> {
  const { gas } = await preflightDirect(publicClient, signer, plan);
  const sent: SentTransaction[] = [];
  for (const [i, call] of plan.calls.entries()) {
    const confirmed = await sendTransaction(publicClient, signer, { to: call.to, data: call.data, value: call.value, summary: call.summary, gas: gas[i]! });
    const result = { summary: call.summary, hash: confirmed.hash, blockNumber: confirmed.blockNumber, gasUsed: confirmed.gasUsed };
    sent.push(result);
    onProgress?.(i + 1, plan.calls.length, result);
  }
  return sent;
}

async function assertSenderRole(publicClient: PublicClient, from: Address, plan: ChangePlan): Promise<void> {
  if (plan.sender.role === "anyone" || plan.calls.length === 0) return;
  await assertSigner(publicClient, from, plan.target, plan.sender);
}

/**
 * Throws `NotOwnerError` (naming the owner) unless `from` holds the role on `target`: its
 * `owner()`, or the given pending owner. For checks that must happen before a plan exists.
 */
export async function assertSigner(publicClient: PublicClient, from: Address, target: Address, sender: ChangePlan["sender"]): Promise<void> {
  if (sender.role === "anyone") return;
  let required: Address;
  if (sender.role === "pendingOwner" && sender.address !== undefined) {
    required = sender.address;
  } else {
    required = getAddress(
      (await publicClient.readContract({ address: target, abi: dstackAppAbi, functionName: "owner" }).catch((error: unknown) => {
        throw toRpcError(publicClient, "eth_call", error);
      })) as Address,
    );
  }
  if (required === getAddress(from)) return;
  const code = await publicClient.getCode({ address: required }).catch((error: unknown) => {
    throw toRpcError(publicClient, "eth_getCode", error);
  });
  const role = sender.role === "pendingOwner" ? "pending owner" : "owner";
  throw new NotOwnerError(getAddress(from), required, role, target, code !== undefined && code !== "0x");
}

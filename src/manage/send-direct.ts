import { getAddress, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { isRevertError, toRpcError } from "../chain/errors.js";
import { describeError } from "../util/errors.js";
import { InsufficientFundsError, NotOwnerError, TransactionRevertedError } from "./errors.js";
import type { ChangePlan, PlannedCall } from "./planned-call.js";

export type SignerClient = WalletClient<Transport, Chain | undefined, Account>;

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
  for (const call of plan.calls) gas.push(await simulate(publicClient, from, call));
  if (plan.calls.length > 0) await assertBalanceCovers(publicClient, from, gas.reduce((sum, g) => sum + g, 0n));
  return { gas };
}

/** Throws `InsufficientFundsError` unless `from` can pay `gas` at the current max fee per gas. */
export async function assertBalanceCovers(publicClient: PublicClient, from: Address, gas: bigint): Promise<void> {
  const [fees, balance] = await Promise.all([
    publicClient.estimateFeesPerGas().catch((error: unknown) => {
      throw toRpcError(publicClient, "eth_feeHistory", error);
    }),
    publicClient.getBalance({ address: from }).catch((error: unknown) => {
      throw toRpcError(publicClient, "eth_getBalance", error);
    }),
  ]);
  const pricePerGas = fees.maxFeePerGas ?? fees.gasPrice ?? 0n;
  const needed = gas * pricePerGas;
  if (balance < needed) throw new InsufficientFundsError(from, balance, needed);
}

/**
 * Sends a plan's calls one after another with the signer's key, after `preflightDirect`,
 * waiting for each receipt. A reverted receipt stops the sequence with a typed error.
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
    const hash = await signer
      .sendTransaction({ account: signer.account, chain: signer.chain, to: call.to, data: call.data, value: call.value, gas: withMargin(gas[i]!) })
      .catch((error: unknown) => {
        throw toRpcError(publicClient, "eth_sendTransaction", error);
      });
    const receipt = await publicClient.waitForTransactionReceipt({ hash }).catch((error: unknown) => {
      throw toRpcError(publicClient, "eth_getTransactionReceipt", error);
    });
    if (receipt.status !== "success") {
      throw new TransactionRevertedError(call.summary, `transaction ${hash} reverted in block ${receipt.blockNumber}`);
    }
    const result = { summary: call.summary, hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
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

async function simulate(publicClient: PublicClient, from: Address, call: PlannedCall): Promise<bigint> {
  try {
    return await publicClient.estimateGas({ account: from, to: call.to, data: call.data, value: call.value });
  } catch (error) {
    if (!isRevertError(error)) throw toRpcError(publicClient, "eth_estimateGas", error);
    throw new TransactionRevertedError(call.summary, describeError(error));
  }
}

// Estimates are exact on the simulated chain but a state change between estimate and
// inclusion (another batch landing first) can raise the cost; 20% keeps such sends alive.
const withMargin = (gas: bigint): bigint => (gas * 12n) / 10n;

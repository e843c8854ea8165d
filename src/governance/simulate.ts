import type { Abi, Address, Hex, PublicClient } from "viem";

import { dstackAppAbi } from "../abi/dstack-app.js";
import { dstackKmsAbi } from "../abi/dstack-kms.js";
import { isRevertError, revertData, toRpcError } from "../chain/errors.js";
import { describeRevert } from "../chain/multicall.js";
import { TransactionRevertedError } from "../manage/errors.js";
import { describeError } from "../util/errors.js";
import { safeAbi } from "./abi/safe.js";
import { timelockControllerAbi } from "./abi/timelock-controller.js";
import { explainSafeRevert } from "./safe-tx.js";

// Error selectors of every contract a governance route calls, so reverts read as names.
const ERRORS_ABI = [...dstackAppAbi, ...dstackKmsAbi, ...timelockControllerAbi, ...safeAbi].filter((item) => item.type === "error") as unknown as Abi;

/**
 * Simulates one call as `from` would make it (a Safe, a timelock, or the signer) with
 * `eth_estimateGas`; returns the gas, or throws `TransactionRevertedError` with the
 * decoded revert reason. The node does not check signatures in a simulation, so a
 * contract can be the sender: this is how a Safe's or timelock's call is tried before a
 * proposal is signed.
 */
export async function simulateAs(client: PublicClient, from: Address, call: { to: Address; data: Hex; value: bigint; summary: string }, as: string): Promise<bigint> {
  try {
    return await client.estimateGas({ account: from, to: call.to, data: call.data, value: call.value });
  } catch (error) {
    if (!isRevertError(error)) throw toRpcError(client, "eth_estimateGas", error);
    throw new TransactionRevertedError(`${call.summary} (simulated as ${as})`, revertReason(error));
  }
}

/** The revert reason of a failed simulation: a decoded custom error, a Safe GSxxx code explained, or the node's words. */
export function revertReason(error: unknown): string {
  const data = revertData(error);
  if (data !== undefined && data !== "0x" && !data.startsWith("0x08c379a0")) return describeRevert(ERRORS_ABI, data);
  return explainSafeRevert(describeError(error));
}

import { encodeFunctionData, getAddress, hashTypedData, zeroAddress, type Address, type Hex } from "viem";

import { safeAbi } from "./abi/safe.js";

/**
 * A Safe transaction: the ten fields a Safe owner signs (EIP-712 `SafeTx`). The toolkit
 * always proposes `safeTxGas = baseGas = gasPrice = 0` and no refund, so a failing inner
 * call reverts the whole `execTransaction` (no silent `ExecutionFailure`) and no one is
 * paid from the Safe's balance.
 */
export interface SafeTransaction {
  to: Address;
  value: bigint;
  data: Hex;
  /** 0 = CALL, 1 = DELEGATECALL (only ever to MultiSendCallOnly). */
  operation: 0 | 1;
  safeTxGas: bigint;
  baseGas: bigint;
  gasPrice: bigint;
  gasToken: Address;
  refundReceiver: Address;
  nonce: bigint;
}

/** The EIP-712 types of a Safe transaction (Safe ≥ 1.3.0; the domain is chainId + the Safe). */
export const SAFE_TX_TYPES = {
  SafeTx: [
    { type: "address", name: "to" },
    { type: "uint256", name: "value" },
    { type: "bytes", name: "data" },
    { type: "uint8", name: "operation" },
    { type: "uint256", name: "safeTxGas" },
    { type: "uint256", name: "baseGas" },
    { type: "uint256", name: "gasPrice" },
    { type: "address", name: "gasToken" },
    { type: "address", name: "refundReceiver" },
    { type: "uint256", name: "nonce" },
  ],
} as const;

/** A Safe transaction with the toolkit's fixed gas and refund fields. */
export function safeTransaction(call: { to: Address; value: bigint; data: Hex; operation: 0 | 1 }, nonce: bigint): SafeTransaction {
  return {
    to: getAddress(call.to),
    value: call.value,
    data: call.data,
    operation: call.operation,
    safeTxGas: 0n,
    baseGas: 0n,
    gasPrice: 0n,
    gasToken: zeroAddress,
    refundReceiver: zeroAddress,
    nonce,
  };
}

/** The EIP-712 typed data an owner signs for `tx` on `safe` at `chainId`. */
export function safeTxTypedData(chainId: number, safe: Address, tx: SafeTransaction) {
  return {
    domain: { chainId, verifyingContract: getAddress(safe) },
    types: SAFE_TX_TYPES,
    primaryType: "SafeTx" as const,
    message: {
      to: getAddress(tx.to),
      value: tx.value,
      data: tx.data,
      operation: tx.operation,
      safeTxGas: tx.safeTxGas,
      baseGas: tx.baseGas,
      gasPrice: tx.gasPrice,
      gasToken: getAddress(tx.gasToken),
      refundReceiver: getAddress(tx.refundReceiver),
      nonce: tx.nonce,
    },
  };
}

/** The safeTxHash: the EIP-712 digest owners sign and the Safe checks in `execTransaction`. */
export function safeTxHash(chainId: number, safe: Address, tx: SafeTransaction): Hex {
  return hashTypedData(safeTxTypedData(chainId, safe, tx));
}

/** The arguments of `getTransactionHash` (the Safe's own computation of the same hash). */
export function getTransactionHashArgs(tx: SafeTransaction) {
  return [tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas, tx.baseGas, tx.gasPrice, tx.gasToken, tx.refundReceiver, tx.nonce] as const;
}

/** Calldata of `execTransaction(tx, signatures)`. */
export function encodeExecTransaction(tx: SafeTransaction, signatures: Hex): Hex {
  return encodeFunctionData({
    abi: safeAbi,
    functionName: "execTransaction",
    args: [tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas, tx.baseGas, tx.gasPrice, tx.gasToken, tx.refundReceiver, signatures],
  });
}

/**
 * What the Safe's `GSxxx` revert codes mean (Safe v1.3.0/1.4.1), for one-line messages
 * when a simulated `execTransaction` reverts.
 */
export const SAFE_ERROR_CODES: Record<string, string> = {
  GS010: "not enough gas to execute the Safe transaction",
  GS011: "could not pay the gas costs with ether",
  GS012: "could not pay the gas costs with token",
  GS013: "the Safe transaction failed (an inner call reverted)",
  GS020: "signatures data too short",
  GS021: "invalid contract signature location: inside static part",
  GS022: "invalid contract signature location: length not present",
  GS023: "invalid contract signature location: data not complete",
  GS024: "invalid contract signature provided",
  GS025: "hash has not been approved",
  GS026: "invalid owner provided (a signature is not from an owner, or signatures are not sorted)",
  GS030: "only owners can approve a hash",
  GS031: "method can only be called from this contract",
};

/** Appends the meaning of a `GSxxx` code found in a revert message. */
export function explainSafeRevert(message: string): string {
  const code = /GS0\d\d/.exec(message)?.[0];
  return code !== undefined && SAFE_ERROR_CODES[code] !== undefined ? `${message} (${code}: ${SAFE_ERROR_CODES[code]})` : message;
}

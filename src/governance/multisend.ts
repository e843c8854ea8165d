import { encodeMultiSendData } from "@safe-global/protocol-kit";
import { decodeFunctionData, encodeFunctionData, getAddress, hexToBigInt, size, slice, type Address, type Hex } from "viem";

import { ProposalMismatchError } from "./errors.js";
import { multiSendCallOnlyAbi } from "./abi/safe.js";

/** One call of a batch: what the Safe (or the timelock) calls. */
export interface BatchCall {
  to: Address;
  value: bigint;
  data: Hex;
}

/**
 * Calldata of `multiSend(bytes)` for MultiSendCallOnly: every entry a plain CALL
 * (operation 0), packed by protocol-kit's `encodeMultiSendData` (the same encoding
 * Safe{Wallet} uses). The Safe delegatecalls MultiSendCallOnly with it.
 */
export function encodeMultiSendCall(calls: readonly BatchCall[]): Hex {
  const packed = encodeMultiSendData(calls.map((call) => ({ to: call.to, value: call.value.toString(), data: call.data, operation: 0 }))) as Hex;
  return encodeFunctionData({ abi: multiSendCallOnlyAbi, functionName: "multiSend", args: [packed] });
}

/** The calldata is a `multiSend(bytes)` call (by selector). */
export function isMultiSendCall(data: Hex): boolean {
  return data.slice(0, 10).toLowerCase() === "0x8d80ff0a";
}

/**
 * Unpacks `multiSend(bytes)` calldata strictly: every entry complete, nothing left over,
 * and every operation a plain CALL (a nested DELEGATECALL could take over the Safe, and
 * MultiSendCallOnly would refuse it anyway). A batch that does not parse is an error,
 * never a shorter list.
 */
export function decodeMultiSendCall(data: Hex): BatchCall[] {
  let packed: Hex;
  try {
    packed = decodeFunctionData({ abi: multiSendCallOnlyAbi, data }).args[0];
  } catch {
    throw new ProposalMismatchError("the batch is not valid multiSend(bytes) calldata");
  }
  const total = size(packed);
  const calls: BatchCall[] = [];
  let offset = 0;
  while (offset < total) {
    if (offset + 85 > total) throw new ProposalMismatchError(`the multiSend batch is truncated in the header of entry ${calls.length + 1}`);
    const operation = Number(hexToBigInt(slice(packed, offset, offset + 1)));
    const to = getAddress(slice(packed, offset + 1, offset + 21));
    const value = hexToBigInt(slice(packed, offset + 21, offset + 53));
    const length = hexToBigInt(slice(packed, offset + 53, offset + 85));
    if (BigInt(offset + 85) + length > BigInt(total)) throw new ProposalMismatchError(`the multiSend batch is truncated in the data of entry ${calls.length + 1}`);
    const end = offset + 85 + Number(length);
    const callData: Hex = length === 0n ? "0x" : slice(packed, offset + 85, end);
    if (operation !== 0) throw new ProposalMismatchError(`multiSend entry ${calls.length + 1} is a DELEGATECALL to ${to}; only plain calls are accepted`);
    calls.push({ to, value, data: callData });
    offset = end;
  }
  if (calls.length === 0) throw new ProposalMismatchError("the multiSend batch is empty");
  return calls;
}

import { encodeFunctionData, type Abi, type Address, type Hex } from "viem";

/**
 * One contract call a management command wants made, before anything is sent. The same
 * object is executed directly by the owner's key, or wrapped into a Safe proposal or a
 * timelock operation by the governance routes; `summary` is what a signer reads.
 */
export interface PlannedCall {
  to: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  data: Hex;
  value: bigint;
  /** One human-readable line: "allow compose hash 0x… on app 0x…". */
  summary: string;
}

/** What a command will do, and what it leaves alone because it is already so. */
export interface ChangePlan {
  /** The contract whose state changes (the app or the KMS). */
  target: Address;
  calls: PlannedCall[];
  /** Items that need no transaction, each with the reason (e.g. "already allowed"). */
  unchanged: Array<{ item: string; reason: string }>;
  /** Who must send the calls directly: the owner, the pending owner, or anyone. */
  sender: { role: "owner" | "pendingOwner" | "anyone"; address?: Address };
}

export function plannedCall(
  to: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[],
  summary: string,
): PlannedCall {
  const data = encodeFunctionData({ abi, functionName, args } as Parameters<typeof encodeFunctionData>[0]);
  return { to, abi, functionName, args, data, value: 0n, summary };
}

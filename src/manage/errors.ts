import type { Address } from "viem";

import { DstackGovernanceError, InvalidInputError } from "../util/errors.js";

/** The signer cannot make this change directly: it is not the owner (or pending owner). */
export class NotOwnerError extends DstackGovernanceError {
  override name = "NotOwnerError";
  constructor(
    readonly signer: Address,
    readonly required: Address,
    role: string,
    target: Address,
    ownerIsContract: boolean,
  ) {
    super(
      "NOT_OWNER",
      `signer ${signer} is not the ${role} of ${target}; the ${role} is ${required}` +
        (ownerIsContract ? " (a contract: route the change through it, e.g. a Safe or timelock)" : ""),
    );
  }
}

/** The signer's balance does not cover the transaction's estimated cost. */
export class InsufficientFundsError extends DstackGovernanceError {
  override name = "InsufficientFundsError";
  constructor(signer: Address, balanceWei: bigint, neededWei: bigint) {
    super("INSUFFICIENT_FUNDS", `signer ${signer} has ${formatEth(balanceWei)}; the transaction needs about ${formatEth(neededWei)}`);
  }
}

/** A call would revert (found by simulation, before sending) or did revert. */
export class TransactionRevertedError extends DstackGovernanceError {
  override name = "TransactionRevertedError";
  constructor(summary: string, reason: string, details?: string) {
    super("TRANSACTION_REVERTED", `${summary}: reverted: ${reason}`, details === undefined ? {} : { details });
  }
}

/** The connected chain is not the one the command was told to expect. */
export class WrongChainError extends DstackGovernanceError {
  override name = "WrongChainError";
  constructor(expected: number, actual: number) {
    super("WRONG_CHAIN", `connected to chain ${actual}, expected chain ${expected}`);
  }
}

function formatEth(wei: bigint): string {
  // Six decimals would print a dust balance (1 wei) as "0 ETH", which reads as "empty".
  if (wei > 0n && wei < 10n ** 12n) return `${wei} wei`;
  const whole = wei / 10n ** 18n;
  const fraction = (wei % 10n ** 18n).toString().padStart(18, "0").slice(0, 6).replace(/0+$/, "");
  return `${fraction.length > 0 ? `${whole}.${fraction}` : whole.toString()} ETH`;
}

/** The proposed new owner has no code (an EOA?) and the caller did not allow an EOA. */
export class OwnerWithoutCodeError extends InvalidInputError {
  override name = "OwnerWithoutCodeError";
  constructor(readonly newOwner: Address) {
    super(`to: ${newOwner} has no code (an EOA?)`, { field: "to" });
  }
}

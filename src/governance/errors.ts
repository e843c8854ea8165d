import type { Address } from "viem";

import { DstackGovernanceError, InvalidInputError } from "../util/errors.js";

/**
 * The typed errors of the governance routes. Each message is one line naming the file,
 * flag or address at fault; none carries a key or a signature's secret (signatures are
 * public once made, but they are never needed in a message either).
 */

/**
 * The route's executor (the signer, a Safe or a timelock) is not who must make the change:
 * the owner (or pending owner) is someone else. Same code as the direct route's
 * `NotOwnerError`, so scripts test one code.
 */
export class RouteNotAuthorizedError extends DstackGovernanceError {
  override name = "RouteNotAuthorizedError";
  constructor(
    message: string,
    /**
     * What a front end needs to say how to get past it: the route that was refused, who
     * must make the change instead (and what it is), or the timelock role that is missing.
     */
    readonly context: {
      route?: "direct" | "safe" | "timelock" | "safe,timelock";
      required?: { address: Address; kind: "safe" | "timelock" | "eoa" | "contract" };
      missingTimelockRole?: "executor" | "canceller";
    } = {},
  ) {
    super("NOT_OWNER", message);
  }
}

/** A proposal or operation file does not match itself: edited, corrupted or forged. */
export class ProposalMismatchError extends DstackGovernanceError {
  override name = "ProposalMismatchError";
  constructor(message: string, details?: string) {
    super("PROPOSAL_MISMATCH", message, details === undefined ? {} : { details });
  }
}

/** A signature does not recover to who it claims, or the signer is not a current owner. */
export class InvalidSignatureError extends DstackGovernanceError {
  override name = "InvalidSignatureError";
  constructor(message: string, options: { field?: string } = {}) {
    super("INVALID_SIGNATURE", message, options);
  }
}

/** The local signer may not sign for this Safe (not an owner). */
export class NotSafeOwnerError extends DstackGovernanceError {
  override name = "NotSafeOwnerError";
  constructor(message: string, options: { field?: string } = {}) {
    super("NOT_SAFE_OWNER", message, options);
  }
}

/** Fewer valid owner signatures than the Safe's threshold. */
export class ThresholdNotMetError extends DstackGovernanceError {
  override name = "ThresholdNotMetError";
  constructor(
    message: string,
    /** Where the proposal was read from (e.g. its file), for the commands that add signatures. */
    readonly source?: string,
  ) {
    super("THRESHOLD_NOT_MET", message);
  }
}

/** The proposal's nonce was already used (executed or replaced), or is not next in line. */
export class SafeNonceError extends DstackGovernanceError {
  override name = "SafeNonceError";
  constructor(message: string, options: { field?: string } = {}) {
    super("SAFE_NONCE", message, options);
  }
}

/** The address is not a contract of the expected kind (a Safe, a timelock). */
export class NotGovernanceContractError extends DstackGovernanceError {
  override name = "NotGovernanceContractError";
  constructor(message: string, details?: string, field?: string) {
    super("NOT_GOVERNANCE_CONTRACT", message, { ...(details === undefined ? {} : { details }), ...(field === undefined ? {} : { field }) });
  }
}

/** A timelock operation is not in the state the command needs (not ready, done, unknown). */
export class OperationStateError extends DstackGovernanceError {
  override name = "OperationStateError";
  constructor(message: string) {
    super("OPERATION_STATE", message);
  }
}

/** A Safe transaction service refused or could not be reached. */
export class TransactionServiceError extends DstackGovernanceError {
  override name = "TransactionServiceError";
  constructor(message: string, details?: string, field?: string) {
    super("TRANSACTION_SERVICE", message, { ...(details === undefined ? {} : { details }), ...(field === undefined ? {} : { field }) });
  }
}

/** The timelock operation these calls, salt and predecessor make is already scheduled (or done). */
export class OperationExistsError extends OperationStateError {
  override name = "OperationExistsError";
}

/**
 * The Safe contracts a command needs are not on this chain (or not where the Safe contracts
 * file says). `remedy`: whether deploying them is enough (`deploy`) or their addresses must
 * also be passed as a Safe contracts file (`deploy-and-pass`).
 */
export class SafeContractsMissingError extends InvalidInputError {
  override name = "SafeContractsMissingError";
  constructor(
    message: string,
    readonly remedy: "deploy" | "deploy-and-pass",
  ) {
    super(message, { field: "safeContracts" });
  }
}

/** An owner that is a Safe cannot sign off-chain: it has no fallback handler to answer `isValidSignature`. */
export class OwnerSafeWithoutFallbackError extends InvalidSignatureError {
  override name = "OwnerSafeWithoutFallbackError";
  constructor(readonly ownerSafe: Address) {
    super(`owner Safe ${ownerSafe} has no fallback handler, so it cannot answer isValidSignature and its owners' signatures would never count`);
  }
}

/** The signer is not an owner of the Safe it would sign for; another account must. */
export class SignerNotSafeOwnerError extends NotSafeOwnerError {
  override name = "SignerNotSafeOwnerError";
}

/** No MultiSendCallOnly where a batch would go through it (no canonical deployment, no Safe contracts file entry). */
export class MultiSendMissingError extends NotGovernanceContractError {
  override name = "MultiSendMissingError";
}

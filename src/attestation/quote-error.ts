import { DstackGovernanceError } from "../util/errors.js";

/**
 * Upper bound on an accepted quote. Real TDX quotes with an embedded PCK chain are
 * ~5 KB (the fixtures are 5,006 bytes); the bound only stops resource exhaustion.
 */
export const MAX_QUOTE_BYTES = 256 * 1024;

export type QuoteParseReason =
  | "empty"
  | "too-large"
  | "bad-encoding"
  | "truncated"
  | "unsupported-version"
  | "sgx-quote"
  | "unsupported-tee-type"
  | "unsupported-attestation-key-type"
  | "unsupported-body-type"
  | "body-size-mismatch"
  | "signature-data-length"
  | "signature-data-malformed"
  | "certification-data-type"
  | "pck-chain-malformed"
  | "trailing-bytes";

/** The quote bytes are not a well-formed TDX quote; `reason` says which rule failed. */
export class QuoteParseError extends DstackGovernanceError {
  override name = "QuoteParseError";
  readonly reason: QuoteParseReason;

  constructor(reason: QuoteParseReason, message: string, options: { details?: string; cause?: unknown } = {}) {
    super(`QUOTE_${reason.toUpperCase().replace(/-/g, "_")}`, message, options);
    this.reason = reason;
  }
}

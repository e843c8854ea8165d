/**
 * DCAP collateral (TCB info, QE identity, CRLs and their issuer chains) in
 * `@phala/dcap-qvl`'s JSON format: its types, size limits and errors.
 *
 * Collateral is untrusted input: loading it only checks its shape
 * (`collateral-shape.ts`); its signatures and certificate chains are checked by
 * `verifyQuoteSignature`, its CRLs by `crl.ts`.
 */
import { DstackGovernanceError } from "../util/errors.js";

/**
 * Largest collateral accepted, in bytes of JSON (a file, or the sum of the fields). Real
 * TDX collateral is about 20 KB (the dcap-qvl sample's fields total 15 KB of text); the
 * bound only stops resource exhaustion by a hostile file, bundle or PCCS.
 */
export const MAX_COLLATERAL_BYTES = 1024 * 1024;
/** Largest single PCCS answer read (a CRL, TCB info or QE identity is a few KB). */
export const MAX_PCCS_RESPONSE_BYTES = 1024 * 1024;

/**
 * Collateral in dcap-qvl's JSON field names, normalised: binary fields are lowercase
 * hex, `tcb_info` / `qe_identity` are the exact signed JSON texts.
 */
export interface QuoteCollateral {
  pck_crl_issuer_chain: string;
  /** DER CRL of the root CA, hex. */
  root_ca_crl: string;
  /** DER CRL of the PCK Platform/Processor CA, hex. */
  pck_crl: string;
  tcb_info_issuer_chain: string;
  tcb_info: string;
  /** Raw ECDSA r ‖ s (64 bytes), hex. */
  tcb_info_signature: string;
  qe_identity_issuer_chain: string;
  qe_identity: string;
  qe_identity_signature: string;
  /** PCK chain leaf-first; when present dcap-qvl uses it instead of the quote's own. */
  pck_certificate_chain?: string;
}

/**
 * Collateral as callers may hold it: binary fields as hex, a byte array (dcap-qvl's
 * getCollateral output) or bytes; `pck_certificate_chain` possibly null.
 */
export type CollateralInput = Omit<QuoteCollateral, BinaryField | "pck_certificate_chain"> & {
  [K in BinaryField]: string | readonly number[] | Uint8Array;
} & { pck_certificate_chain?: string | null };

export type BinaryField = "root_ca_crl" | "pck_crl" | "tcb_info_signature" | "qe_identity_signature";

export type CollateralErrorCode =
  | "COLLATERAL_FILE_NOT_FOUND"
  | "COLLATERAL_FILE_UNREADABLE"
  | "COLLATERAL_CACHE_UNWRITABLE"
  | "COLLATERAL_INVALID_JSON"
  | "COLLATERAL_INVALID"
  | "COLLATERAL_QUOTE_UNSUPPORTED"
  | "PCCS_UNREACHABLE"
  | "PCCS_TIMEOUT"
  | "PCCS_HTTP_ERROR"
  | "PCCS_BAD_RESPONSE";

/** Collateral could not be loaded, fetched or understood. */
export class CollateralError extends DstackGovernanceError {
  override name = "CollateralError";
  declare readonly code: CollateralErrorCode;
  constructor(code: CollateralErrorCode, message: string, options: { details?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/** A PCCS request failed. `url` is the request URL with credentials and secrets removed. */
export class PccsRequestError extends CollateralError {
  override name = "PccsRequestError";
  readonly url: string;
  readonly httpStatus: number | undefined;
  constructor(
    code: CollateralErrorCode,
    message: string,
    url: string,
    options: { details?: string; cause?: unknown; httpStatus?: number } = {},
  ) {
    super(code, message, options);
    this.url = url;
    this.httpStatus = options.httpStatus;
  }
}

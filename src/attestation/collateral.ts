/**
 * The collateral API in one import. Each concept lives in its own file:
 * - `collateral-types.ts`: the collateral format, size limits and errors;
 * - `collateral-shape.ts`: shape validation, loading a collateral file, expiry;
 * - `crl.ts`: decoding a CRL and checking its signature and validity;
 * - `collateral-key.ts`: which collateral a quote needs (TEE, FMSPC, PCK CA);
 * - `pccs-client.ts`: downloading collateral from a PCCS (injectable fetch);
 * - `raw-json-member.ts`: the exact signed text of a PCS JSON answer's member;
 * - `collateral-cache.ts`: `fetchCollateral`, the PCCS client behind an on-disk cache.
 */
export { fetchCollateral, type FetchCollateralOptions, type FetchedCollateral } from "./collateral-cache.js";
export { collateralKeyForQuote, type CollateralKey } from "./collateral-key.js";
export { collateralExpiry, loadCollateralFile, parseCollateral } from "./collateral-shape.js";
export {
  CollateralError,
  MAX_COLLATERAL_BYTES,
  MAX_PCCS_RESPONSE_BYTES,
  PccsRequestError,
  type CollateralErrorCode,
  type CollateralInput,
  type QuoteCollateral,
} from "./collateral-types.js";
export { crlProblem, decodeCrl, type DecodedCrl } from "./crl.js";
export {
  DEFAULT_PCCS_URL,
  INTEL_PCS_BASE_URL,
  redactUrl,
  type FetchFunction,
  type PccsClientOptions,
} from "./pccs-client.js";
export { toUnixSeconds } from "./unix-time.js";

/**
 * Result types shared by every attestation check, so that a report can list the
 * outcome of each step (quote signature, replay, bindings, on-chain lookups) in one
 * uniform shape. All hex inside `detail` strings and report fields is lowercase
 * without a `0x` prefix, the format the dstack guest agent itself emits.
 */

/**
 * - `pass`: the property was checked and holds.
 * - `fail`: the property was checked and does not hold (the attestation must be rejected).
 * - `skip`: the check did not apply or had no expectation to compare against; `detail` says why.
 * - `error`: the check could not be carried out (bad input, network failure...).
 */
export type CheckStatus = "pass" | "fail" | "skip" | "error";

/**
 * Stable identifiers of the verifier's checks, in report order: the one vocabulary every
 * producer (verify, bindings, replay, on-chain lookups), report and front end shares.
 */
export const CHECK_IDS = [
  "quote-signature",
  "report-data",
  "event-log-replay",
  "compose-hash",
  "mr-config-id",
  "os-measurements",
  "image-pinning",
  "onchain-compose-hash",
  "onchain-app-registered",
  "onchain-os-image",
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

/** The checks that need a KMS contract (the app contract alone answers `onchain-compose-hash`). */
export const KMS_CHECK_IDS = ["onchain-app-registered", "onchain-os-image"] as const satisfies readonly CheckId[];

/** Every on-chain check. */
export const ONCHAIN_CHECK_IDS = ["onchain-compose-hash", ...KMS_CHECK_IDS] as const satisfies readonly CheckId[];

export interface CheckResult {
  id: CheckId;
  status: CheckStatus;
  /** One human-readable line: what was compared and the outcome (values in lowercase hex). */
  detail: string;
}

/** The four runtime measurement registers, RTMR0..RTMR3, in index order. */
export type Rtmrs = readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

export type RtmrIndex = 0 | 1 | 2 | 3;

export const RTMR_INDEXES: readonly RtmrIndex[] = [0, 1, 2, 3];

/** SHA-384 digest size: every RTMR, MRTD and event digest is this long. */
export const MEASUREMENT_BYTES = 48;

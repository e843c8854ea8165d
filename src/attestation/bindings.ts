import { InvalidInputError } from "../util/errors.js";
import { parseHexBytes, toBareHex } from "../util/hex.js";
import { bytesEqual, isAllZero, sha256 } from "./digest.js";
import { MEASUREMENT_BYTES, type CheckResult, type Rtmrs } from "./types.js";

/**
 * Pure checks that bind the quote and event log to what the verifying user expects.
 * Each returns a CheckResult and never throws on attestation content; `error` means the
 * expectation itself was unusable.
 */

const REPORT_DATA_BYTES = 64;

// ---------------------------------------------------------------------------------
// (a) compose-hash: SHA-256(app_compose) == the compose-hash runtime event
// ---------------------------------------------------------------------------------

/**
 * `appCompose` is the exact app-compose.json text the CVM reports (`tcb_info.app_compose`);
 * it is hashed as its UTF-8 bytes, unmodified: re-serialising the JSON would change the hash.
 */
export function checkComposeHash(appCompose: string | Uint8Array, composeHashEvent: Uint8Array | null): CheckResult {
  const id = "compose-hash";
  if (composeHashEvent === null) {
    return { id, status: "fail", detail: "the event log has no compose-hash runtime event to compare app_compose with" };
  }
  let bytes: Uint8Array;
  if (typeof appCompose === "string") {
    // JSON can smuggle in a lone surrogate, which has no UTF-8 encoding: the CVM (Rust)
    // cannot have hashed such a string, and TextEncoder would silently replace it.
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(appCompose)) {
      return { id, status: "fail", detail: "app_compose contains a lone UTF-16 surrogate, so it is not the text the CVM hashed" };
    }
    bytes = new TextEncoder().encode(appCompose);
  } else {
    bytes = appCompose;
  }
  const computed = sha256(bytes);
  if (bytesEqual(computed, composeHashEvent)) {
    return { id, status: "pass", detail: `sha256(app_compose) = compose-hash event = ${toBareHex(computed)}` };
  }
  return {
    id,
    status: "fail",
    detail: `sha256(app_compose) is ${toBareHex(computed)} but the compose-hash event says ${toBareHex(composeHashEvent)} (${bytes.length} bytes of app_compose hashed)`,
  };
}

// ---------------------------------------------------------------------------------
// (b) MRCONFIGID: v1, v2 and v3 layouts, in mr-config.ts
// ---------------------------------------------------------------------------------

export { checkMrConfigId, type MrConfigFacts, type MrConfigIdOptions } from "./mr-config.js";

// ---------------------------------------------------------------------------------
// (c) report data
// ---------------------------------------------------------------------------------

/**
 * What REPORTDATA (64 bytes) must contain. dstack's GetQuote takes up to 64 bytes of
 * caller data and zero-pads it to 64, so:
 *   - `nonce`: REPORTDATA starts with the nonce (1..64 bytes); the rest is not checked,
 *     since an app may put more data after its nonce.
 *   - `exact`: REPORTDATA equals the given bytes (up to 64) right-padded with zeros,
 *     i.e. exactly what GetQuote received.
 *   - `sha256`: REPORTDATA is the 32-byte SHA-256 (e.g. of a file or statement)
 *     followed by 32 zero bytes. The zero tail is required: a non-zero tail would be
 *     unexplained data riding along in the attested report.
 */
export type ReportDataExpectation =
  | { kind: "nonce"; nonce: Uint8Array }
  | { kind: "exact"; reportData: Uint8Array }
  | { kind: "sha256"; digest: Uint8Array; source?: string };

/** Expectation that REPORTDATA is SHA-256(`bytes`) + 32 zero bytes; `source` names the file in reports. */
export function reportDataSha256Of(bytes: Uint8Array, source?: string): ReportDataExpectation {
  return source === undefined ? { kind: "sha256", digest: sha256(bytes) } : { kind: "sha256", digest: sha256(bytes), source };
}

export function checkReportData(reportData: Uint8Array, expectation: ReportDataExpectation | undefined): CheckResult {
  const id = "report-data";
  if (reportData.length !== REPORT_DATA_BYTES) {
    return { id, status: "error", detail: `REPORTDATA must be ${REPORT_DATA_BYTES} bytes, got ${reportData.length}` };
  }
  const actual = toBareHex(reportData);
  if (expectation === undefined) {
    return { id, status: "skip", detail: `no report data expectation given (nonce, exact value or sha256); freshness not checked. REPORTDATA = ${actual}` };
  }
  switch (expectation.kind) {
    case "nonce": {
      const nonce = expectation.nonce;
      if (nonce.length === 0 || nonce.length > REPORT_DATA_BYTES) {
        return { id, status: "error", detail: `nonce must be 1..${REPORT_DATA_BYTES} bytes, got ${nonce.length}` };
      }
      return bytesEqual(reportData.subarray(0, nonce.length), nonce)
        ? { id, status: "pass", detail: `REPORTDATA starts with the nonce ${toBareHex(nonce)}` }
        : { id, status: "fail", detail: `REPORTDATA does not start with the nonce ${toBareHex(nonce)}: REPORTDATA = ${actual}` };
    }
    case "exact": {
      const given = expectation.reportData;
      if (given.length > REPORT_DATA_BYTES) {
        return { id, status: "error", detail: `expected report data is ${given.length} bytes, more than ${REPORT_DATA_BYTES}` };
      }
      const expected = new Uint8Array(REPORT_DATA_BYTES);
      expected.set(given);
      return bytesEqual(reportData, expected)
        ? { id, status: "pass", detail: `REPORTDATA equals the expected value ${toBareHex(expected)}` }
        : { id, status: "fail", detail: `REPORTDATA is ${actual}, expected ${toBareHex(expected)}` };
    }
    case "sha256": {
      const digest = expectation.digest;
      if (digest.length !== 32) {
        return { id, status: "error", detail: `expected SHA-256 must be 32 bytes, got ${digest.length}` };
      }
      const what = expectation.source === undefined ? "the expected SHA-256" : `sha256(${expectation.source})`;
      if (!bytesEqual(reportData.subarray(0, 32), digest)) {
        return { id, status: "fail", detail: `REPORTDATA does not start with ${what} ${toBareHex(digest)}: REPORTDATA = ${actual}` };
      }
      if (!isAllZero(reportData.subarray(32))) {
        return { id, status: "fail", detail: `REPORTDATA starts with ${what} but bytes 32..64 are not zero: REPORTDATA = ${actual}` };
      }
      return { id, status: "pass", detail: `REPORTDATA = ${what} ${toBareHex(digest)} followed by 32 zero bytes` };
    }
  }
}

// ---------------------------------------------------------------------------------
// (d) expected OS measurements: MRTD, RTMR0-2
// ---------------------------------------------------------------------------------

/** Reference values for the OS image layer (from meta-dstack releases / dstack-mr). */
export interface ReferenceMeasurements {
  mrtd?: Uint8Array;
  rtmr0?: Uint8Array;
  rtmr1?: Uint8Array;
  rtmr2?: Uint8Array;
}

const REFERENCE_KEYS = ["mrtd", "rtmr0", "rtmr1", "rtmr2"] as const;

/**
 * Parses `{mrtd?, rtmr0?, rtmr1?, rtmr2?}` (JSON text or object; hex with or without 0x,
 * 48 bytes each). Unknown keys are rejected so that a typo or an `rtmr3` entry (runtime
 * state, checked by replay) is not silently ignored. Throws InvalidInputError.
 */
export function parseReferenceMeasurements(value: unknown, what = "reference measurements"): ReferenceMeasurements {
  let object: unknown = value;
  if (typeof value === "string") {
    try {
      object = JSON.parse(value);
    } catch (error) {
      throw new InvalidInputError(`${what}: not valid JSON`, { cause: error });
    }
  }
  if (typeof object !== "object" || object === null || Array.isArray(object)) {
    throw new InvalidInputError(`${what}: expected a JSON object {mrtd?, rtmr0?, rtmr1?, rtmr2?}`);
  }
  const record = object as Record<string, unknown>;
  const out: ReferenceMeasurements = {};
  for (const key of Object.keys(record)) {
    if (!(REFERENCE_KEYS as readonly string[]).includes(key)) {
      throw new InvalidInputError(`${what}: unknown key ${JSON.stringify(key)}; allowed keys are ${REFERENCE_KEYS.join(", ")}`);
    }
    const hex = record[key];
    if (typeof hex !== "string") throw new InvalidInputError(`${what}.${key}: expected a hex string`);
    out[key as (typeof REFERENCE_KEYS)[number]] = parseHexBytes(hex, `${what}.${key}`, MEASUREMENT_BYTES);
  }
  return out;
}

/** Check `os-measurements`: each given reference value equals the quote's register. */
export function checkMeasurements(report: { mrTd: Uint8Array; rtmrs: Rtmrs }, reference: ReferenceMeasurements): CheckResult {
  const id = "os-measurements";
  const actual: Record<(typeof REFERENCE_KEYS)[number], Uint8Array> = {
    mrtd: report.mrTd,
    rtmr0: report.rtmrs[0],
    rtmr1: report.rtmrs[1],
    rtmr2: report.rtmrs[2],
  };
  const compared: string[] = [];
  const missing: string[] = [];
  const mismatches: string[] = [];
  for (const key of REFERENCE_KEYS) {
    const expected = reference[key];
    if (expected === undefined) {
      missing.push(key.toUpperCase());
      continue;
    }
    if (expected.length !== MEASUREMENT_BYTES) {
      return { id, status: "error", detail: `reference ${key.toUpperCase()} must be ${MEASUREMENT_BYTES} bytes, got ${expected.length}` };
    }
    compared.push(key.toUpperCase());
    if (!bytesEqual(expected, actual[key])) {
      mismatches.push(`${key.toUpperCase()} mismatch: expected ${toBareHex(expected)}, quote has ${toBareHex(actual[key])}`);
    }
  }
  if (compared.length === 0) {
    return { id, status: "skip", detail: "no reference measurements given (mrtd, rtmr0, rtmr1, rtmr2); the OS image is not pinned" };
  }
  if (mismatches.length > 0) return { id, status: "fail", detail: mismatches.join("; ") };
  const notGiven = missing.length === 0 ? "" : `; not pinned: ${missing.join(", ")}`;
  return { id, status: "pass", detail: `${compared.join(", ")} match the reference values${notGiven}` };
}

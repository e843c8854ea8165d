/**
 * DCAP quote signature, certificate-chain and TCB verification with `@phala/dcap-qvl`.
 *
 * Trust: by default only Intel's SGX Root CA, exactly as dcap-qvl embeds it (pinned here
 * by fingerprint so a changed dependency cannot silently swap the anchor). Another root
 * is trusted only when the caller passes `trustedRootCaDer` — dcap-qvl's public
 * `QuoteVerifier.newWithRootCa` API, no patching of the library.
 *
 * Beyond dcap-qvl 0.3.9 (which reads CRLs only for serial numbers and ignores any it
 * cannot parse) this also requires both CRLs to be signed by their issuer and current,
 * so a stale, forged or garbled CRL cannot hide a revocation.
 *
 * dcap-qvl also reads the quote leniently where nothing signs it: it never looks at the
 * outer certification data type, skips bytes after what it reads, and verifies the
 * collateral's `pck_certificate_chain` INSTEAD of the quote's own when one is given. So
 * the quote first goes through the strict `parseTdxQuote` (inner type 5, a PEM-only PCK
 * chain, exact nested lengths, zero-only padding), the QE auth data must be 32 bytes
 * (dcap-qvl hashes only the first 32), the quote's chain must be exactly leaf, PCK CA
 * and the trusted root, a collateral chain must equal it, and
 * `quotePolicyProblem` adds the rules dcap-qvl 0.3.9 lacks (MRSIGNERSEAM = 0 as dstack
 * requires, SEAMATTRIBUTES, QE vendor id, QE report data padding).
 */
import { createHash, X509Certificate } from "node:crypto";

import { constants as dcapConstants, QuoteVerifier, utils as dcapUtils } from "@phala/dcap-qvl";

import { describeError } from "../util/errors.js";
import { parseCollateral } from "./collateral-shape.js";
import { CollateralError, type CollateralInput, type QuoteCollateral } from "./collateral-types.js";
import { crlProblem } from "./crl.js";
import { parseTdxQuote, QuoteParseError, type TdxQuote } from "./quote.js";
import { quotePolicyProblem } from "./quote-policy.js";
import { toUnixSeconds } from "./unix-time.js";

export type QuoteSignatureStatus = "pass" | "fail" | "error";

export interface QuoteSignatureResult {
  /** `pass` only when everything verified and the TCB status is accepted. */
  status: QuoteSignatureStatus;
  /** One human-readable line: what was verified, or the specific reason it was not. */
  detail: string;
  /** The platform's TCB status (merged platform and QE status), once known. */
  tcbStatus?: string;
  advisoryIds?: string[];
  /** Which root CA the chains were checked against. */
  trustAnchor?: "intel" | "custom";
}

export interface VerifyQuoteSignatureOptions {
  /** Verification time: a Date, or unix seconds. Collateral and certificates must be valid then. */
  now: Date | number;
  /** TCB statuses that count as a pass. Default `["UpToDate"]`. */
  acceptedTcbStatuses?: readonly string[];
  /**
   * DER of a root CA to trust INSTEAD of Intel's. Only for tests and private PKIs; when
   * absent nothing but Intel's SGX Root CA is trusted.
   */
  trustedRootCaDer?: Uint8Array;
}

export const DEFAULT_ACCEPTED_TCB_STATUSES: readonly string[] = Object.freeze(["UpToDate"]);

/** SHA-256 of the DER of Intel's SGX Root CA ("CN=Intel SGX Root CA, O=Intel Corporation"). */
export const INTEL_SGX_ROOT_CA_SHA256 = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

interface TrustAnchor {
  der: Buffer;
  kind: "intel" | "custom";
  label: string;
}

class SetupError extends Error {}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function intelAnchor(): TrustAnchor {
  // A private copy: dcap-qvl exports the Buffer, and nothing else may change what we trust.
  const der = Buffer.from(dcapConstants.TRUSTED_ROOT_CA_DER);
  const fingerprint = sha256Hex(der);
  if (fingerprint !== INTEL_SGX_ROOT_CA_SHA256) {
    throw new SetupError(`@phala/dcap-qvl's embedded root CA is not Intel's SGX Root CA (sha256 ${fingerprint})`);
  }
  return { der, kind: "intel", label: "Intel SGX Root CA" };
}

function customAnchor(rootDer: Uint8Array): TrustAnchor {
  if (!(rootDer instanceof Uint8Array)) throw new SetupError("trustedRootCaDer must be DER bytes");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(rootDer);
  } catch {
    throw new SetupError("trustedRootCaDer is not a DER X.509 certificate");
  }
  // dcap-qvl treats the anchor as a root; an intermediate here would be a misconfiguration.
  if (!certificate.ca || certificate.issuer !== certificate.subject || !certificate.verify(certificate.publicKey)) {
    throw new SetupError("trustedRootCaDer is not a self-signed CA certificate");
  }
  const commonName = /^CN=(.*)$/m.exec(certificate.subject)?.[1] ?? certificate.subject;
  const der = Buffer.from(rootDer);
  return { der, kind: "custom", label: `explicitly trusted root CA "${commonName}" (sha256 ${sha256Hex(der).slice(0, 16)}…)` };
}

/** dcap-qvl errors carry the useful part in `cause` ("Failed to decode quote": "Not enough data…"). */
function dcapReason(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current !== undefined && parts.length < 4; current = (current as { cause?: unknown }).cause) {
    const text = describeError(current);
    if (!parts.includes(text)) parts.push(text);
    if (!(current instanceof Error)) break;
  }
  return parts.join(": ");
}

/** Intel's PCK chains are exactly: PCK certificate, PCK Platform/Processor CA, root CA. */
const PCK_CHAIN_LENGTH = 3;
/**
 * Intel's QE writes 32 bytes of QE auth data. dcap-qvl 0.3.9 (npm) copies the auth data
 * into a fixed 96-byte buffer before hashing it against the QE report, so bytes past the
 * 32nd are never checked; its Rust version requires exactly 32, and so does this.
 */
const QE_AUTH_DATA_BYTES = 32;

/**
 * Checks the quote's unsigned certification data before any signature work: the QE
 * auth data is 32 bytes; the quote's own PCK chain (the one dcap-qvl is made to verify)
 * is the leaf, its CA and the trusted root itself; and a `pck_certificate_chain` in the
 * collateral (which dcap-qvl would otherwise use INSTEAD of the quote's) is the very
 * same certificates.
 */
function certificationDataProblem(quote: TdxQuote, collateral: QuoteCollateral, anchor: TrustAnchor): string | undefined {
  const authLength = quote.signature.qeReportCertification.qeAuthData.length;
  if (authLength !== QE_AUTH_DATA_BYTES) {
    return `the QE auth data is ${authLength} bytes; Intel's QE writes ${QE_AUTH_DATA_BYTES} (dcap-qvl 0.3.9 would ignore bytes past the 32nd)`;
  }
  const chain = quote.signature.qeReportCertification.pckCertificates;
  if (chain.length !== PCK_CHAIN_LENGTH) {
    return `the quote's PCK certificate chain has ${chain.length} certificate(s); expected ${PCK_CHAIN_LENGTH} (PCK certificate, PCK CA, root CA)`;
  }
  if (!Buffer.from(chain[PCK_CHAIN_LENGTH - 1]!).equals(anchor.der)) {
    return `the quote's PCK certificate chain does not end with the ${anchor.label}`;
  }
  if (collateral.pck_certificate_chain !== undefined) {
    let given: Buffer[];
    try {
      given = dcapUtils.extractCerts(Buffer.from(collateral.pck_certificate_chain, "utf8"));
    } catch (error) {
      return `the collateral's pck_certificate_chain cannot be read: ${describeError(error)}`;
    }
    const same = given.length === chain.length && given.every((der, i) => der.equals(chain[i]!));
    if (!same) {
      return "the collateral's pck_certificate_chain differs from the quote's own PCK certificate chain (dcap-qvl would verify the collateral's instead)";
    }
  }
  return undefined;
}

function verifyCrls(quote: TdxQuote, collateral: QuoteCollateral, anchor: TrustAnchor, nowSecs: number): string | undefined {
  const rootProblem = crlProblem("root CA CRL", collateral.root_ca_crl, anchor.der, `the ${anchor.label}`, nowSecs);
  if (rootProblem !== undefined) return rootProblem;
  // dcap-qvl has verified that chain[1] issued the PCK leaf and chains to the anchor.
  const pckCa = quote.signature.qeReportCertification.pckCertificates[1];
  if (pckCa === undefined) return "PCK certificate chain has no issuing CA";
  return crlProblem("PCK CRL", collateral.pck_crl, pckCa, "the PCK CA that issued the quote's PCK certificate", nowSecs);
}

/**
 * Verifies a DCAP quote (signature, QE report, PCK chain, collateral signatures and
 * validity, CRLs, TCB level) at `options.now`. Never throws: unusable input is
 * `error`, anything that does not verify is `fail`, and only a fully verified quote
 * whose TCB status is accepted is `pass`.
 */
export function verifyQuoteSignature(
  quote: Uint8Array,
  collateral: CollateralInput,
  options: VerifyQuoteSignatureOptions,
): QuoteSignatureResult {
  let anchor: TrustAnchor;
  let nowSecs: number;
  let accepted: readonly string[];
  let normalized: QuoteCollateral;
  try {
    if (!(quote instanceof Uint8Array)) throw new SetupError("quote must be bytes (Uint8Array)");
    nowSecs = toUnixSeconds(options.now, "now");
    accepted = options.acceptedTcbStatuses ?? DEFAULT_ACCEPTED_TCB_STATUSES;
    if (!Array.isArray(accepted) || accepted.length === 0 || !accepted.every((s) => typeof s === "string")) {
      throw new SetupError("acceptedTcbStatuses must be a non-empty list of TCB status names");
    }
    anchor = options.trustedRootCaDer === undefined ? intelAnchor() : customAnchor(options.trustedRootCaDer);
    normalized = parseCollateral(collateral);
  } catch (error) {
    const prefix = error instanceof CollateralError ? "unusable collateral: " : "";
    return { status: "error", detail: `${prefix}${describeError(error)}` };
  }

  // The quote's unsigned wrappers (certification data types, lengths, the PEM chain,
  // trailing bytes) are held to the strict parser first: dcap-qvl skips what it does not read.
  let parsed: TdxQuote;
  try {
    parsed = parseTdxQuote(quote);
  } catch (error) {
    const reason = error instanceof QuoteParseError ? `malformed quote (${error.reason}): ${error.message}` : describeError(error);
    return { status: "fail", detail: `DCAP verification failed: ${reason}`, trustAnchor: anchor.kind };
  }
  const chainProblem = certificationDataProblem(parsed, normalized, anchor);
  if (chainProblem !== undefined) return { status: "fail", detail: `DCAP verification failed: ${chainProblem}`, trustAnchor: anchor.kind };
  // dcap-qvl is given no collateral chain, so it verifies the quote's own (checked equal above).
  const { pck_certificate_chain: _checkedEqual, ...forDcap } = normalized;

  let report: ReturnType<QuoteVerifier["verify"]>;
  try {
    report = QuoteVerifier.newWithRootCa(anchor.der).verify(parsed.raw, forDcap, nowSecs);
  } catch (error) {
    return { status: "fail", detail: `DCAP verification failed: ${dcapReason(error)}`, trustAnchor: anchor.kind };
  }

  let failure: string | undefined;
  try {
    failure = verifyCrls(parsed, normalized, anchor, nowSecs);
  } catch (error) {
    failure = `CRL check failed: ${describeError(error)}`;
  }
  failure ??= quotePolicyProblem(parsed, normalized.tcb_info);
  const tcbStatus = String(report.status);
  const advisoryIds = [...report.advisory_ids];
  if (failure !== undefined) {
    return { status: "fail", detail: `DCAP verification failed: ${failure}`, tcbStatus, advisoryIds, trustAnchor: anchor.kind };
  }

  const advisories = advisoryIds.length > 0 ? `; advisories: ${advisoryIds.join(", ")}` : "; no advisories";
  if (!accepted.includes(tcbStatus)) {
    return {
      status: "fail",
      detail: `TCB status ${tcbStatus} is not accepted (accepted: ${accepted.join(", ")})${advisories}`,
      tcbStatus,
      advisoryIds,
      trustAnchor: anchor.kind,
    };
  }
  return {
    status: "pass",
    detail: `quote signature, certificate chains, CRLs and collateral verified against the ${anchor.label}; TCB status ${tcbStatus}${advisories}`,
    tcbStatus,
    advisoryIds,
    trustAnchor: anchor.kind,
  };
}

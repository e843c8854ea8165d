import { toBareHex } from "../util/hex.js";
import { MAX_QUOTE_BYTES, QuoteParseError } from "./quote-error.js";
import type { Rtmrs } from "./types.js";

export { MAX_QUOTE_BYTES, QuoteParseError, type QuoteParseReason } from "./quote-error.js";

/**
 * Intel TDX quote parser (quote format v4 and v5), following the layouts of the
 * "Intel TDX DCAP Quoting Library API" (appendix A) as also implemented by
 * Phala-Network/dcap-qvl (`quote.rs`):
 *
 *   v4: header(48) | TD report 1.0 (584)                       | u32 sigLen | signature data
 *   v5: header(48) | u16 body type | u32 body size | body      | u32 sigLen | signature data
 *       body type 2 = TD report 1.0 (584), 3 = TD report 1.5 (648), 1 = SGX enclave report
 *
 * All integers are little-endian. The attestation key signs everything before the
 * signature-data length field (header, the v5 body descriptor, and the body).
 *
 * `@phala/dcap-qvl` has a parser, but it accepts SGX quotes, does not check the v5
 * body size field or the outer certification data type, reads the PEM chain leniently,
 * and ignores bytes after what it reads; none of that is signed, so a verifier must
 * reject it. Parsing is done here and the library's parser serves as a cross-check in
 * the tests.
 */

export const QUOTE_HEADER_BYTES = 48;
export const TD_REPORT10_BYTES = 584;
export const TD_REPORT15_BYTES = 648;
/** v5 only: u16 body type + u32 body size between the header and the body. */
export const QUOTE_V5_BODY_DESCRIPTOR_BYTES = 6;
export const SIGNATURE_DATA_LENGTH_BYTES = 4;

export const TEE_TYPE_SGX = 0x00000000;
export const TEE_TYPE_TDX = 0x00000081;
/** ECDSA-256 with P-256, the only attestation key type Intel's QE produces. */
export const ATTESTATION_KEY_TYPE_ECDSA_P256 = 2;
export const BODY_TYPE_SGX_ENCLAVE_REPORT = 1;
export const BODY_TYPE_TD_REPORT10 = 2;
export const BODY_TYPE_TD_REPORT15 = 3;
/** Certification data type 6: QE report certification data (mandatory for TDX quotes). */
export const CERT_DATA_TYPE_QE_REPORT = 6;
export const CERT_DATA_TYPE_PCK_CERT_CHAIN = 5;

const ECDSA_SIGNATURE_BYTES = 64;
const ECDSA_PUBLIC_KEY_BYTES = 64;
const CERT_DATA_HEADER_BYTES = 6;
const QE_REPORT_BYTES = 384;
/** ECDSA signature + attestation key + certification data header. */
export const MIN_SIGNATURE_DATA_BYTES = ECDSA_SIGNATURE_BYTES + ECDSA_PUBLIC_KEY_BYTES + CERT_DATA_HEADER_BYTES;

export interface QuoteHeader {
  version: 4 | 5;
  attestationKeyType: number;
  teeType: number;
  qeSvn: number;
  pceSvn: number;
  /** 16 bytes; Intel's QE is 939a7233f79c4ca9940a0db3957f0607 (required by `quotePolicyProblem`). */
  qeVendorId: Uint8Array;
  /** 20 bytes of QE-defined data (the first 16 are the platform's QE id). */
  userData: Uint8Array;
}

export interface TdReport {
  /** "1.0" for v4 quotes and v5 body type 2; "1.5" for v5 body type 3. */
  version: "1.0" | "1.5";
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  mrSignerSeam: Uint8Array;
  seamAttributes: Uint8Array;
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  rtmrs: Rtmrs;
  reportData: Uint8Array;
  /** TD report 1.5 only (16 bytes), otherwise null. */
  teeTcbSvn2: Uint8Array | null;
  /** TD report 1.5 only (48 bytes), otherwise null. */
  mrServiceTd: Uint8Array | null;
}

export interface QeReportCertificationData {
  /** The QE's SGX enclave report (384 bytes), signed by the PCK. */
  qeReport: Uint8Array;
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** Inner certification data type: always 5 (PEM PCK certificate chain) for an accepted quote. */
  certificationDataType: number;
  certificationData: Uint8Array;
  /** The DER of each PEM certificate in `certificationData`, leaf first. */
  pckCertificates: Uint8Array[];
}

export interface QuoteSignatureData {
  /** r || s over the signed region, by the attestation key (64 bytes). */
  ecdsaSignature: Uint8Array;
  /** Uncompressed P-256 point x || y (64 bytes). */
  attestationKey: Uint8Array;
  /** Always 6 for an accepted TDX quote. */
  certificationDataType: number;
  /** The raw certification data (the QE report certification data, type 6). */
  certificationData: Uint8Array;
  qeReportCertification: QeReportCertificationData;
}

export interface TdxQuote {
  header: QuoteHeader;
  /** 2 (TD report 1.0) or 3 (TD report 1.5); v4 quotes report 2. */
  bodyType: 2 | 3;
  bodyOffset: number;
  report: TdReport;
  /** The exact bytes the attestation key signed: header (+ v5 body descriptor) + body. */
  signedRegion: Uint8Array;
  signatureDataOffset: number;
  signatureDataLength: number;
  /** The exact `signatureDataLength` bytes after the length field. */
  signatureData: Uint8Array;
  signature: QuoteSignatureData;
  /**
   * Zero bytes after the signature data. Quotes straight from the TDX quote buffer
   * carry zero padding (all three real fixtures have 70 bytes); it is not signed, so it
   * is tolerated only when every byte is zero.
   */
  paddingLength: number;
  /** A private copy of the whole input. */
  raw: Uint8Array;
}

/** Little-endian bounds-checked reader; every overrun is a `truncated` QuoteParseError. */
class Reader {
  offset = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly view: DataView,
  ) {}

  need(length: number, what: string): void {
    if (this.offset + length > this.bytes.length) {
      throw new QuoteParseError(
        "truncated",
        `quote truncated: ${what} needs ${length} bytes at offset ${this.offset}, but the quote is ${this.bytes.length} bytes`,
      );
    }
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  take(length: number, what: string): Uint8Array {
    this.need(length, what);
    const out = this.bytes.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}

/**
 * Parses a TDX quote. Throws `QuoteParseError` for anything that is not a complete,
 * self-consistent v4/v5 TDX quote. The returned arrays are copies, so later changes to
 * `input` do not affect the result.
 */
export function parseTdxQuote(input: Uint8Array): TdxQuote {
  if (!(input instanceof Uint8Array)) {
    throw new QuoteParseError("bad-encoding", "quote must be bytes (Uint8Array); use decodeQuoteInput for hex/base64/JSON");
  }
  if (input.length === 0) throw new QuoteParseError("empty", "quote is empty");
  if (input.length > MAX_QUOTE_BYTES) {
    throw new QuoteParseError("too-large", `quote is ${input.length} bytes, more than the ${MAX_QUOTE_BYTES}-byte limit`);
  }
  // A private copy in a plain Uint8Array: Buffer#slice would alias the caller's memory.
  const raw = new Uint8Array(input);
  const reader = new Reader(raw, new DataView(raw.buffer, raw.byteOffset, raw.byteLength));

  reader.need(QUOTE_HEADER_BYTES, "the quote header");
  const header = parseHeader(reader);

  let bodyType: 2 | 3 = BODY_TYPE_TD_REPORT10;
  if (header.version === 5) {
    const declaredType = reader.u16("the v5 body type");
    const declaredSize = reader.u32("the v5 body size");
    bodyType = checkV5Body(declaredType, declaredSize);
  }
  const bodyOffset = reader.offset;
  const bodyLength = bodyType === BODY_TYPE_TD_REPORT15 ? TD_REPORT15_BYTES : TD_REPORT10_BYTES;
  reader.need(bodyLength, `the TD report ${bodyType === BODY_TYPE_TD_REPORT15 ? "1.5" : "1.0"} body`);
  const report = parseTdReport(reader, bodyType);
  const signedRegion = raw.slice(0, reader.offset);

  const signatureDataLength = reader.u32("the signature data length");
  const signatureDataOffset = reader.offset;
  const remaining = raw.length - signatureDataOffset;
  if (signatureDataLength > remaining) {
    throw new QuoteParseError(
      "signature-data-length",
      `signature data length field says ${signatureDataLength} bytes, but only ${remaining} bytes follow it (quote truncated or length corrupt)`,
    );
  }
  if (signatureDataLength < MIN_SIGNATURE_DATA_BYTES) {
    throw new QuoteParseError(
      "signature-data-length",
      `signature data length ${signatureDataLength} is below the minimum of ${MIN_SIGNATURE_DATA_BYTES} bytes (signature, attestation key, certification data header)`,
    );
  }
  const signatureData = reader.take(signatureDataLength, "the signature data");
  const signature = parseSignatureData(signatureData, signatureDataOffset);

  const end = reader.offset;
  for (let i = end; i < raw.length; i++) {
    if (raw[i] !== 0) {
      throw new QuoteParseError(
        "trailing-bytes",
        `unexpected data after the signature data: byte ${i} is 0x${toBareHex(raw.subarray(i, i + 1))} (${raw.length - end} trailing bytes; only zero padding is accepted)`,
      );
    }
  }

  return {
    header,
    bodyType,
    bodyOffset,
    report,
    signedRegion,
    signatureDataOffset,
    signatureDataLength,
    signatureData,
    signature,
    paddingLength: raw.length - end,
    raw,
  };
}

function parseHeader(reader: Reader): QuoteHeader {
  const version = reader.u16("the quote version");
  const attestationKeyType = reader.u16("the attestation key type");
  const teeType = reader.u32("the TEE type");
  if (version !== 4 && version !== 5) {
    const hint = version === 3 ? " (v3 is the SGX-only quote format)" : "";
    throw new QuoteParseError("unsupported-version", `unsupported quote version ${version}${hint}; TDX quotes are version 4 or 5`);
  }
  if (teeType === TEE_TYPE_SGX) {
    throw new QuoteParseError("sgx-quote", "this is an SGX quote (TEE type 0x00000000), not a TDX quote (TEE type 0x00000081)");
  }
  if (teeType !== TEE_TYPE_TDX) {
    throw new QuoteParseError("unsupported-tee-type", `unknown TEE type 0x${hex32(teeType)}; expected TDX (0x00000081)`);
  }
  if (attestationKeyType !== ATTESTATION_KEY_TYPE_ECDSA_P256) {
    throw new QuoteParseError(
      "unsupported-attestation-key-type",
      `unsupported attestation key type ${attestationKeyType}; only 2 (ECDSA-256 with P-256) is defined for TDX quotes`,
    );
  }
  const qeSvn = reader.u16("the QE SVN");
  const pceSvn = reader.u16("the PCE SVN");
  const qeVendorId = reader.take(16, "the QE vendor id");
  const userData = reader.take(20, "the header user data");
  return { version, attestationKeyType, teeType, qeSvn, pceSvn, qeVendorId, userData };
}

function checkV5Body(declaredType: number, declaredSize: number): 2 | 3 {
  if (declaredType === BODY_TYPE_SGX_ENCLAVE_REPORT) {
    throw new QuoteParseError("sgx-quote", "v5 quote body type 1 is an SGX enclave report, not a TD report");
  }
  if (declaredType !== BODY_TYPE_TD_REPORT10 && declaredType !== BODY_TYPE_TD_REPORT15) {
    throw new QuoteParseError(
      "unsupported-body-type",
      `unknown v5 quote body type ${declaredType}; expected 2 (TD report 1.0) or 3 (TD report 1.5)`,
    );
  }
  const bodyType = declaredType === BODY_TYPE_TD_REPORT10 ? BODY_TYPE_TD_REPORT10 : BODY_TYPE_TD_REPORT15;
  const expected = bodyType === BODY_TYPE_TD_REPORT10 ? TD_REPORT10_BYTES : TD_REPORT15_BYTES;
  if (declaredSize !== expected) {
    throw new QuoteParseError(
      "body-size-mismatch",
      `v5 quote body type ${declaredType} must be ${expected} bytes, but its size field says ${declaredSize}`,
    );
  }
  return bodyType;
}

function parseTdReport(reader: Reader, bodyType: 2 | 3): TdReport {
  const teeTcbSvn = reader.take(16, "TEE_TCB_SVN");
  const mrSeam = reader.take(48, "MRSEAM");
  const mrSignerSeam = reader.take(48, "MRSIGNERSEAM");
  const seamAttributes = reader.take(8, "SEAMATTRIBUTES");
  const tdAttributes = reader.take(8, "TDATTRIBUTES");
  const xfam = reader.take(8, "XFAM");
  const mrTd = reader.take(48, "MRTD");
  const mrConfigId = reader.take(48, "MRCONFIGID");
  const mrOwner = reader.take(48, "MROWNER");
  const mrOwnerConfig = reader.take(48, "MROWNERCONFIG");
  const rtmrs: Rtmrs = [
    reader.take(48, "RTMR0"),
    reader.take(48, "RTMR1"),
    reader.take(48, "RTMR2"),
    reader.take(48, "RTMR3"),
  ];
  const reportData = reader.take(64, "REPORTDATA");
  const is15 = bodyType === BODY_TYPE_TD_REPORT15;
  const teeTcbSvn2 = is15 ? reader.take(16, "TEE_TCB_SVN2") : null;
  const mrServiceTd = is15 ? reader.take(48, "MRSERVICETD") : null;
  return {
    version: is15 ? "1.5" : "1.0",
    teeTcbSvn,
    mrSeam,
    mrSignerSeam,
    seamAttributes,
    tdAttributes,
    xfam,
    mrTd,
    mrConfigId,
    mrOwner,
    mrOwnerConfig,
    rtmrs,
    reportData,
    teeTcbSvn2,
    mrServiceTd,
  };
}

/**
 * Splits the signature data and checks that its nested length fields add up exactly:
 * a length that points past its container, or leaves unexplained bytes inside it, means
 * the quote is corrupt and is rejected rather than guessed at.
 */
function parseSignatureData(data: Uint8Array, baseOffset: number): QuoteSignatureData {
  const inner = new Reader(data, new DataView(data.buffer, data.byteOffset, data.byteLength));
  const malformed = (message: string) =>
    new QuoteParseError("signature-data-malformed", `signature data (at offset ${baseOffset}): ${message}`);
  const ecdsaSignature = inner.take(ECDSA_SIGNATURE_BYTES, "the quote signature");
  const attestationKey = inner.take(ECDSA_PUBLIC_KEY_BYTES, "the attestation key");
  const certificationDataType = inner.u16("the certification data type");
  const certificationDataSize = inner.u32("the certification data size");
  if (certificationDataType !== CERT_DATA_TYPE_QE_REPORT) {
    throw malformed(`certification data type is ${certificationDataType}; TDX quotes carry type 6 (QE report certification data)`);
  }
  if (inner.offset + certificationDataSize !== data.length) {
    throw malformed(
      `certification data size ${certificationDataSize} does not match the ${data.length - inner.offset} bytes left in the signature data`,
    );
  }
  const certificationData = inner.take(certificationDataSize, "the certification data");

  const qe = new Reader(certificationData, new DataView(certificationData.buffer, certificationData.byteOffset, certificationData.byteLength));
  const fits = (length: number, what: string) => {
    if (qe.offset + length > certificationData.length) {
      throw malformed(`${what} (${length} bytes) overruns the ${certificationData.length}-byte QE report certification data`);
    }
  };
  fits(QE_REPORT_BYTES + ECDSA_SIGNATURE_BYTES + 2, "the QE report, its signature and the auth data size");
  const qeReport = qe.take(QE_REPORT_BYTES, "the QE report");
  const qeReportSignature = qe.take(ECDSA_SIGNATURE_BYTES, "the QE report signature");
  const qeAuthDataSize = qe.u16("the QE auth data size");
  fits(qeAuthDataSize, "the QE auth data");
  const qeAuthData = qe.take(qeAuthDataSize, "the QE auth data");
  fits(CERT_DATA_HEADER_BYTES, "the inner certification data header");
  const innerType = qe.u16("the inner certification data type");
  const innerSize = qe.u32("the inner certification data size");
  if (qe.offset + innerSize !== certificationData.length) {
    throw malformed(
      `inner certification data size ${innerSize} does not match the ${certificationData.length - qe.offset} bytes left in the QE report certification data`,
    );
  }
  const innerData = qe.take(innerSize, "the inner certification data");
  // The inner type and the chain are outside everything the quote's keys sign: a verifier
  // that reads them loosely lets anyone rewrite them without breaking a signature.
  if (innerType !== CERT_DATA_TYPE_PCK_CERT_CHAIN) {
    throw new QuoteParseError(
      "certification-data-type",
      `the QE report certification data carries inner certification data type ${innerType} (0x${innerType.toString(16).padStart(4, "0")}); TDX quotes from Intel's QE carry type 5 (PEM PCK certificate chain)`,
    );
  }
  const pckCertificates = parsePemChain(innerData, malformed);
  return {
    ecdsaSignature,
    attestationKey,
    certificationDataType,
    certificationData,
    qeReportCertification: {
      qeReport,
      qeReportSignature,
      qeAuthData,
      certificationDataType: innerType,
      certificationData: innerData,
      pckCertificates,
    },
  };
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END CERTIFICATE-----/y;
const PEM_SEPARATOR = /[\r\n]*/y;

/**
 * The certificates of a PEM PCK chain, which must be nothing but PEM certificate blocks
 * separated by line breaks, optionally ending in NUL bytes (Intel's QE writes a C
 * string: the real quotes end in `\n\0`). Anything else is unsigned data that a lenient
 * PEM reader would skip, so it is refused here.
 */
function parsePemChain(data: Uint8Array, malformed: (message: string) => QuoteParseError): Uint8Array[] {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  const text = Buffer.from(data.subarray(0, end)).toString("latin1");
  const certificates: Uint8Array[] = [];
  let offset = 0;
  while (offset < text.length) {
    PEM_BLOCK.lastIndex = offset;
    const block = PEM_BLOCK.exec(text);
    if (block === null) {
      throw new QuoteParseError(
        "pck-chain-malformed",
        `the PCK certificate chain has data that is not a PEM certificate at byte ${offset} of ${data.length} (${JSON.stringify(text.slice(offset, offset + 24))})`,
      );
    }
    const base64 = (block[1] ?? "").replace(/[\r\n]/g, "");
    const der = Buffer.from(base64, "base64");
    if (der.length === 0 || der.toString("base64") !== base64) {
      throw new QuoteParseError("pck-chain-malformed", `PEM certificate ${certificates.length + 1} of the PCK certificate chain is not canonical base64`);
    }
    certificates.push(new Uint8Array(der));
    PEM_SEPARATOR.lastIndex = PEM_BLOCK.lastIndex;
    PEM_SEPARATOR.exec(text);
    offset = PEM_SEPARATOR.lastIndex;
  }
  if (certificates.length === 0) throw malformed("the PCK certificate chain contains no certificate");
  return certificates;
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, "0");
}

/** The quote's identity and measurement fields as lowercase bare hex, for reports and JSON output. */
export function quoteSummary(quote: TdxQuote): Record<string, string | number | null> {
  const r = quote.report;
  return {
    version: quote.header.version,
    teeType: `0x${hex32(quote.header.teeType)}`,
    tdReport: r.version,
    qeVendorId: toBareHex(quote.header.qeVendorId),
    teeTcbSvn: toBareHex(r.teeTcbSvn),
    mrSeam: toBareHex(r.mrSeam),
    mrSignerSeam: toBareHex(r.mrSignerSeam),
    seamAttributes: toBareHex(r.seamAttributes),
    tdAttributes: toBareHex(r.tdAttributes),
    xfam: toBareHex(r.xfam),
    mrTd: toBareHex(r.mrTd),
    mrConfigId: toBareHex(r.mrConfigId),
    mrOwner: toBareHex(r.mrOwner),
    mrOwnerConfig: toBareHex(r.mrOwnerConfig),
    rtmr0: toBareHex(r.rtmrs[0]),
    rtmr1: toBareHex(r.rtmrs[1]),
    rtmr2: toBareHex(r.rtmrs[2]),
    rtmr3: toBareHex(r.rtmrs[3]),
    reportData: toBareHex(r.reportData),
    teeTcbSvn2: r.teeTcbSvn2 === null ? null : toBareHex(r.teeTcbSvn2),
    mrServiceTd: r.mrServiceTd === null ? null : toBareHex(r.mrServiceTd),
  };
}

export { decodeQuoteInput } from "./quote-input.js";

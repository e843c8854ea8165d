/**
 * TEST-ONLY generator of Intel TDX v4 quotes and matching dcap-qvl collateral, all
 * chained to a freshly generated test root CA. Never import this from `src/`: the
 * quotes it makes are only verifiable when the caller passes `rootCaDer` to the
 * verifier explicitly, which is exactly what the tests use to prove that production
 * verification (Intel's root only) rejects them.
 *
 * Layout (Intel TDX DCAP Quoting Library API, "Quote Format" v4):
 *   header (48) ‖ TD report 1.0 (584) ‖ u32 auth-data size ‖ auth data
 *   auth data = ECDSA sig over header‖report (64) ‖ attestation pubkey (64)
 *             ‖ u16 cert type 6 ‖ u32 size ‖ QE report certification data
 *   QE report certification data = QE report (384) ‖ PCK sig over QE report (64)
 *             ‖ u16 size ‖ QE auth data ‖ u16 cert type 5 ‖ u32 size ‖ PEM PCK chain
 * The QE report's REPORTDATA[0..32] is SHA-256(attestation pubkey ‖ QE auth data).
 */
import { createHash } from "node:crypto";

import type { QuoteCollateral } from "../../src/attestation/collateral.js";
import { tlv } from "./der.js";
import { testRandomBytes } from "./test-random.js";
import {
  buildCertificate,
  buildCrl,
  caExtensions,
  distinguishedName,
  endEntityExtensions,
  extension,
  newP256KeyPair,
  randomSerial,
  sgxPckExtensionValue,
  SGX_OID,
  signRaw,
  toPem,
} from "./test-pki.js";

export type GeneratedTcbStatus =
  | "UpToDate"
  | "SWHardeningNeeded"
  | "ConfigurationNeeded"
  | "ConfigurationAndSWHardeningNeeded"
  | "OutOfDate"
  | "OutOfDateConfigurationNeeded"
  | "Revoked";

type Bytes = Uint8Array | string;

export interface GenerateTdxQuoteOptions {
  /** Reference time for all validity windows. Default: the current time. */
  now?: Date;
  /** TCB info / QE identity / CRL window. Defaults: now - 1 day .. now + 30 days. */
  collateralIssueDate?: Date;
  collateralNextUpdate?: Date;
  /** TD report fields (bytes or hex). Unset measurement fields are random. */
  mrTd?: Bytes;
  rtmr0?: Bytes;
  rtmr1?: Bytes;
  rtmr2?: Bytes;
  rtmr3?: Bytes;
  reportData?: Bytes;
  mrConfigId?: Bytes;
  mrOwner?: Bytes;
  mrOwnerConfig?: Bytes;
  mrSeam?: Bytes;
  /** Default zero (Intel's TDX module). */
  mrSignerSeam?: Bytes;
  /** Default zero. */
  seamAttributes?: Bytes;
  /** Default Intel's QE vendor id. */
  qeVendorId?: Bytes;
  /** QE report REPORTDATA bytes 32..63; default zero, as Intel's QE writes them. */
  qeReportDataTail?: Bytes;
  /** Default `0000001000000000`: not debug, SEPT_VE_DISABLE set (dcap-qvl requires both). */
  tdAttributes?: Bytes;
  xfam?: Bytes;
  teeTcbSvn?: Bytes;
  /** Platform identity in the PCK leaf. */
  fmspc?: Bytes;
  cpuSvn?: Bytes;
  pceSvn?: number;
  /** Which PCK CA issues the leaf; the PCCS `ca=` parameter follows from its name. */
  pckCa?: "platform" | "processor";
  /** Status of the TCB level the platform matches, and its advisories. */
  tcbStatus?: GeneratedTcbStatus;
  advisoryIds?: string[];
  /** Put the PCK leaf's serial on the PCK CRL. */
  revokePckLeaf?: boolean;
  /** nextUpdate of both CRLs, to test stale CRLs alone. Default: `collateralNextUpdate`. */
  crlNextUpdate?: Date;
  /** URL put in the root certificate's CRL distribution point extension. */
  rootCrlDistributionPoint?: string;
}

export interface GeneratedTdxQuote {
  quote: Uint8Array;
  collateral: QuoteCollateral;
  /** The test root CA: pass it as `trustedRootCaDer` to trust this quote. */
  rootCaDer: Uint8Array;
  pckCaDer: Uint8Array;
  pckLeafDer: Uint8Array;
  tcbSigningDer: Uint8Array;
  /** Upper-case hex, as PCCS URLs and TCB info spell it. */
  fmspc: string;
  ca: "platform" | "processor";
  /** The TD report fields that went into the quote. */
  report: {
    mrTd: Uint8Array;
    rtmrs: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    reportData: Uint8Array;
    mrConfigId: Uint8Array;
  };
}

const DAY_MS = 86_400_000;
const INTEL_QE_VENDOR_ID = Buffer.from("939a7233f79c4ca9940a0db3957f0607", "hex");
const QE_MRSIGNER = Buffer.from("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5", "hex");
const QE_ISVPRODID = 2;
const QE_ISVSVN = 4;
const QE_ATTRIBUTES = Buffer.from("11000000000000000000000000000000", "hex");
const DEFAULT_CPUSVN = "03030202040100050000000000000000";
const DEFAULT_TEE_TCB_SVN = "06010300000000000000000000000000";

function bytes(value: Bytes | undefined, length: number, what: string, fallback: () => Uint8Array): Uint8Array {
  if (value === undefined) return fallback();
  const out = typeof value === "string" ? Buffer.from(value.replace(/^0x/i, ""), "hex") : Buffer.from(value);
  if (out.length !== length) throw new Error(`generateTdxQuote: ${what} must be ${length} bytes, got ${out.length}`);
  return out;
}

const random = (length: number) => () => Uint8Array.from(testRandomBytes(length));
const zeros = (length: number) => () => new Uint8Array(length);
const hexOf = (length: number, hex: string) => () => Buffer.from(hex.padEnd(length * 2, "0"), "hex");

/** cRLDistributionPoints with one fullName URI (RFC 5280 4.2.1.13). */
function crlDistributionPoint(url: string): Uint8Array {
  const uri = tlv(0x86, Buffer.from(url, "ascii")); // GeneralName uniformResourceIdentifier [6]
  return extension("2.5.29.31", tlv(0x30, tlv(0x30, tlv(0xa0, tlv(0xa0, uri)))));
}

/** Intel PCS JSON timestamps have no milliseconds. */
function pcsDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function u16(value: number): Uint8Array {
  const out = Buffer.alloc(2);
  out.writeUInt16LE(value);
  return out;
}

function u32(value: number): Uint8Array {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value);
  return out;
}

/** Builds a quote, its PKI and its collateral. */
export function generateTdxQuote(options: GenerateTdxQuoteOptions = {}): GeneratedTdxQuote {
  const now = options.now ?? new Date();
  const issueDate = options.collateralIssueDate ?? new Date(now.getTime() - DAY_MS);
  const nextUpdate = options.collateralNextUpdate ?? new Date(now.getTime() + 30 * DAY_MS);
  const certNotBefore = new Date(Math.min(issueDate.getTime(), now.getTime()) - 365 * DAY_MS);
  const certNotAfter = new Date(Math.max(nextUpdate.getTime(), now.getTime()) + 5 * 365 * DAY_MS);
  const crlNextUpdate = options.crlNextUpdate ?? nextUpdate;
  const ca = options.pckCa ?? "platform";
  const fmspc = bytes(options.fmspc, 6, "fmspc", hexOf(6, "90c06f000000"));
  const cpuSvn = bytes(options.cpuSvn, 16, "cpuSvn", hexOf(16, DEFAULT_CPUSVN));
  const teeTcbSvn = bytes(options.teeTcbSvn, 16, "teeTcbSvn", hexOf(16, DEFAULT_TEE_TCB_SVN));
  const pceSvn = options.pceSvn ?? 11;
  const pceId = Uint8Array.of(0, 0);

  // --- PKI -------------------------------------------------------------------
  const rootKey = newP256KeyPair();
  const rootName = distinguishedName("dstack-governance TEST SGX Root CA");
  const rootCaDer = buildCertificate({
    serial: randomSerial(),
    issuer: rootName,
    subject: rootName,
    notBefore: certNotBefore,
    notAfter: certNotAfter,
    subjectPublicKeyInfo: rootKey.spkiDer,
    extensions: [
      ...caExtensions(),
      ...(options.rootCrlDistributionPoint === undefined ? [] : [crlDistributionPoint(options.rootCrlDistributionPoint)]),
    ],
    signingKey: rootKey.privateKey,
  });

  const pckCaKey = newP256KeyPair();
  // The CA's common name carries "Platform"/"Processor", which is how PCCS clients pick `ca=`.
  const pckCaName = distinguishedName(`dstack-governance TEST SGX PCK ${ca === "platform" ? "Platform" : "Processor"} CA`);
  const pckCaDer = buildCertificate({
    serial: randomSerial(),
    issuer: rootName,
    subject: pckCaName,
    notBefore: certNotBefore,
    notAfter: certNotAfter,
    subjectPublicKeyInfo: pckCaKey.spkiDer,
    extensions: caExtensions(0),
    signingKey: rootKey.privateKey,
  });

  const pckLeafKey = newP256KeyPair();
  const pckLeafSerial = randomSerial();
  const pckLeafDer = buildCertificate({
    serial: pckLeafSerial,
    issuer: pckCaName,
    subject: distinguishedName("dstack-governance TEST SGX PCK Certificate"),
    notBefore: certNotBefore,
    notAfter: certNotAfter,
    subjectPublicKeyInfo: pckLeafKey.spkiDer,
    extensions: [
      ...endEntityExtensions(),
      extension(
        SGX_OID.extension,
        sgxPckExtensionValue({ ppid: testRandomBytes(16), cpuSvn, pceSvn, pceId, fmspc, sgxType: 0 }),
      ),
    ],
    signingKey: pckCaKey.privateKey,
  });

  const tcbSigningKey = newP256KeyPair();
  const tcbSigningDer = buildCertificate({
    serial: randomSerial(),
    issuer: rootName,
    subject: distinguishedName("dstack-governance TEST SGX TCB Signing"),
    notBefore: certNotBefore,
    notAfter: certNotAfter,
    subjectPublicKeyInfo: tcbSigningKey.spkiDer,
    extensions: endEntityExtensions(),
    signingKey: rootKey.privateKey,
  });

  const rootCrl = buildCrl({ issuer: rootName, signingKey: rootKey.privateKey, thisUpdate: issueDate, nextUpdate: crlNextUpdate });
  const pckCrl = buildCrl({
    issuer: pckCaName,
    signingKey: pckCaKey.privateKey,
    thisUpdate: issueDate,
    nextUpdate: crlNextUpdate,
    revokedSerials: options.revokePckLeaf ? [pckLeafSerial] : [],
  });

  // --- TD report and quote -----------------------------------------------------
  const report = {
    mrTd: bytes(options.mrTd, 48, "mrTd", random(48)),
    rtmrs: [
      bytes(options.rtmr0, 48, "rtmr0", random(48)),
      bytes(options.rtmr1, 48, "rtmr1", random(48)),
      bytes(options.rtmr2, 48, "rtmr2", random(48)),
      bytes(options.rtmr3, 48, "rtmr3", random(48)),
    ] as [Uint8Array, Uint8Array, Uint8Array, Uint8Array],
    reportData: bytes(options.reportData, 64, "reportData", random(64)),
    mrConfigId: bytes(options.mrConfigId, 48, "mrConfigId", zeros(48)),
  };

  const attestationKey = newP256KeyPair();
  const header = Buffer.concat([
    u16(4), // version
    u16(2), // attestation key type: ECDSA-256 with P-256
    u32(0x81), // TEE type: TDX
    u16(0), // reserved
    u16(0), // reserved
    bytes(options.qeVendorId, 16, "qeVendorId", () => INTEL_QE_VENDOR_ID),
    testRandomBytes(20), // user data (QE id)
  ]);
  const tdReport = Buffer.concat([
    teeTcbSvn,
    bytes(options.mrSeam, 48, "mrSeam", random(48)),
    bytes(options.mrSignerSeam, 48, "mrSignerSeam", zeros(48)), // zero for the Intel TDX module
    bytes(options.seamAttributes, 8, "seamAttributes", zeros(8)),
    bytes(options.tdAttributes, 8, "tdAttributes", hexOf(8, "0000001000000000")),
    bytes(options.xfam, 8, "xfam", hexOf(8, "e718060000000000")),
    report.mrTd,
    report.mrConfigId,
    bytes(options.mrOwner, 48, "mrOwner", zeros(48)),
    bytes(options.mrOwnerConfig, 48, "mrOwnerConfig", zeros(48)),
    ...report.rtmrs,
    report.reportData,
  ]);
  if (header.length !== 48 || tdReport.length !== 584) throw new Error("generateTdxQuote: internal layout error");

  const qeAuthData = testRandomBytes(32);
  const qeReportData = Buffer.alloc(64);
  createHash("sha256").update(attestationKey.rawPublicKey).update(qeAuthData).digest().copy(qeReportData, 0);
  Buffer.from(bytes(options.qeReportDataTail, 32, "qeReportDataTail", zeros(32))).copy(qeReportData, 32);
  const qeReport = Buffer.concat([
    cpuSvn,
    u32(0), // MISCSELECT
    new Uint8Array(28),
    QE_ATTRIBUTES,
    testRandomBytes(32), // MRENCLAVE
    new Uint8Array(32),
    QE_MRSIGNER,
    new Uint8Array(96),
    u16(QE_ISVPRODID),
    u16(QE_ISVSVN),
    new Uint8Array(60),
    qeReportData,
  ]);
  if (qeReport.length !== 384) throw new Error("generateTdxQuote: internal QE report layout error");

  const pckChainPem = Buffer.from(toPem(pckLeafDer) + toPem(pckCaDer) + toPem(rootCaDer), "utf8");
  const qeCertificationData = Buffer.concat([
    qeReport,
    signRaw(pckLeafKey.privateKey, qeReport),
    u16(qeAuthData.length),
    qeAuthData,
    u16(5), // PCK certificate chain
    u32(pckChainPem.length),
    pckChainPem,
  ]);
  const authData = Buffer.concat([
    signRaw(attestationKey.privateKey, Buffer.concat([header, tdReport])),
    attestationKey.rawPublicKey,
    u16(6), // QE report certification data
    u32(qeCertificationData.length),
    qeCertificationData,
  ]);
  const quote = Uint8Array.from(Buffer.concat([header, tdReport, u32(authData.length), authData]));

  // --- Collateral --------------------------------------------------------------
  const fmspcHex = Buffer.from(fmspc).toString("hex").toUpperCase();
  const tcbInfo = JSON.stringify({
    id: "TDX",
    version: 3,
    issueDate: pcsDate(issueDate),
    nextUpdate: pcsDate(nextUpdate),
    fmspc: fmspcHex,
    pceId: Buffer.from(pceId).toString("hex").toUpperCase(),
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModule: { mrsigner: "00".repeat(48), attributes: "0000000000000000", attributesMask: "FFFFFFFFFFFFFFFF" },
    tcbLevels: tcbLevels(cpuSvn, teeTcbSvn, pceSvn, options.tcbStatus ?? "UpToDate", options.advisoryIds ?? []),
  });
  const qeIdentity = JSON.stringify({
    id: "TD_QE",
    version: 2,
    issueDate: pcsDate(issueDate),
    nextUpdate: pcsDate(nextUpdate),
    tcbEvaluationDataNumber: 17,
    miscselect: "00000000",
    miscselectMask: "FFFFFFFF",
    attributes: QE_ATTRIBUTES.toString("hex").toUpperCase(),
    attributesMask: "FBFFFFFFFFFFFFFF0000000000000000",
    mrsigner: QE_MRSIGNER.toString("hex").toUpperCase(),
    isvprodid: QE_ISVPRODID,
    tcbLevels: [{ tcb: { isvsvn: QE_ISVSVN }, tcbDate: "2024-03-13T00:00:00Z", tcbStatus: "UpToDate" }],
  });
  const signingChain = toPem(tcbSigningDer) + toPem(rootCaDer);
  const collateral: QuoteCollateral = {
    pck_crl_issuer_chain: toPem(pckCaDer) + toPem(rootCaDer),
    root_ca_crl: Buffer.from(rootCrl).toString("hex"),
    pck_crl: Buffer.from(pckCrl).toString("hex"),
    tcb_info_issuer_chain: signingChain,
    tcb_info: tcbInfo,
    tcb_info_signature: Buffer.from(signRaw(tcbSigningKey.privateKey, Buffer.from(tcbInfo, "utf8"))).toString("hex"),
    qe_identity_issuer_chain: signingChain,
    qe_identity: qeIdentity,
    qe_identity_signature: Buffer.from(signRaw(tcbSigningKey.privateKey, Buffer.from(qeIdentity, "utf8"))).toString("hex"),
  };

  return { quote, collateral, rootCaDer, pckCaDer, pckLeafDer, tcbSigningDer, fmspc: fmspcHex, ca, report };
}

/**
 * TCB levels, newest first as in Intel's TCB info. For a status other than UpToDate a
 * newer UpToDate level the platform does not reach is listed first, so the verifier
 * really has to walk the levels to find the platform's one.
 */
function tcbLevels(
  cpuSvn: Uint8Array,
  teeTcbSvn: Uint8Array,
  pceSvn: number,
  status: GeneratedTcbStatus,
  advisoryIds: string[],
): unknown[] {
  const level = (sgx: Uint8Array, tdx: Uint8Array, tcbStatus: string, advisories: string[]) => ({
    tcb: {
      sgxtcbcomponents: Array.from(sgx, (svn) => ({ svn })),
      pcesvn: pceSvn,
      tdxtcbcomponents: Array.from(tdx, (svn) => ({ svn })),
    },
    tcbDate: "2024-03-13T00:00:00Z",
    tcbStatus,
    ...(advisories.length > 0 ? { advisoryIDs: advisories } : {}),
  });
  const platformLevel = level(cpuSvn, teeTcbSvn, status, advisoryIds);
  if (status === "UpToDate") return [platformLevel];
  if ((teeTcbSvn[0] ?? 0) === 255) throw new Error("generateTdxQuote: teeTcbSvn[0] = 255 leaves no room for a newer TCB level");
  const newerTdx = Uint8Array.from(teeTcbSvn);
  newerTdx[0] = (newerTdx[0] ?? 0) + 1;
  return [level(cpuSvn, newerTdx, "UpToDate", []), platformLevel];
}

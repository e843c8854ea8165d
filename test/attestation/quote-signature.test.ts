import { expect } from "chai";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Quote, utils as dcapUtils } from "@phala/dcap-qvl";

import { parseCollateral, type QuoteCollateral } from "../../src/attestation/collateral.js";
import { decodeCrl } from "../../src/attestation/crl.js";
import {
  INTEL_SGX_ROOT_CA_SHA256,
  verifyQuoteSignature,
  type QuoteSignatureResult,
} from "../../src/attestation/quote-signature.js";
import { parseTdxQuote } from "../../src/attestation/quote.js";
import { verifyAttestation } from "../../src/attestation/verify.js";
import { generateTdxQuote } from "../support/tdx-quote-generator.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURES = path.resolve(REPO_ROOT, "../shared/fixtures");
const SAMPLE_QUOTE = path.join(FIXTURES, "dcap-qvl/tdx_quote");
const SAMPLE_COLLATERAL = path.join(FIXTURES, "dcap-qvl/tdx_quote_collateral.json");

const JULY_1 = new Date("2025-07-01T00:00:00Z");
const DAY_MS = 86_400_000;

// Quote v4 TDX layout: header 48, TD report 584, u32 auth size, then auth data.
const TD_REPORT_OFFSET = 48;
const MRTD_OFFSET = TD_REPORT_OFFSET + 136;
const REPORT_DATA_OFFSET = TD_REPORT_OFFSET + 520;
const AUTH_DATA_OFFSET = 48 + 584 + 4;
const QUOTE_SIGNATURE_OFFSET = AUTH_DATA_OFFSET;
const ATTESTATION_KEY_OFFSET = AUTH_DATA_OFFSET + 64;
const QE_REPORT_OFFSET = AUTH_DATA_OFFSET + 64 + 64 + 6;
const QE_REPORT_SIGNATURE_OFFSET = QE_REPORT_OFFSET + 384;

function flipBit(bytes: Uint8Array, offset: number, bit = 0): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[offset] = (copy[offset] ?? 0) ^ (1 << bit);
  return copy;
}

/** Offset of a byte inside the base64 body of the first (leaf) PCK certificate. */
function pckLeafOffset(quote: Uint8Array): number {
  const start = Buffer.from(quote).indexOf("-----BEGIN CERTIFICATE-----");
  expect(start, "PEM chain in quote").to.be.greaterThan(0);
  return start + 28 + 300;
}

function expectFail(result: QuoteSignatureResult, reason?: RegExp): void {
  expect(result.status, result.detail).to.equal("fail");
  if (reason) expect(result.detail).to.match(reason);
}

/** RFC 5280 UTCTime text of `date` (YYMMDDHHMMSSZ), as a CRL carries it. */
function utcTimeText(date: Date): string {
  return date.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.\d+Z$/, "$1$2$3$4$5$6Z");
}

/** `crlHex` with its nextUpdate rewritten in place to `later` (same length): the signature no longer covers it. */
function withNextUpdate(crlHex: string, later: Date): string {
  const from = Buffer.from(utcTimeText(decodeCrl(Buffer.from(crlHex, "hex")).nextUpdate)).toString("hex");
  const to = Buffer.from(utcTimeText(later)).toString("hex");
  const at = crlHex.lastIndexOf(from);
  expect(at, "nextUpdate found in the CRL").to.be.greaterThan(0);
  return `${crlHex.slice(0, at)}${to}${crlHex.slice(at + from.length)}`;
}

describe("verifyQuoteSignature: dcap-qvl sample TDX quote (real hardware)", function () {
  let quote: Uint8Array;
  let collateral: QuoteCollateral;

  before(function () {
    if (!existsSync(SAMPLE_QUOTE) || !existsSync(SAMPLE_COLLATERAL)) {
      console.log(`    skipping: dcap-qvl sample fixtures not found under ${FIXTURES}`);
      this.skip();
    }
    quote = Uint8Array.from(readFileSync(SAMPLE_QUOTE));
    collateral = JSON.parse(readFileSync(SAMPLE_COLLATERAL, "utf8")) as QuoteCollateral;
  });

  it("passes at 2025-07-01 with status UpToDate, no advisories, against Intel's root", function () {
    const result = verifyQuoteSignature(quote, collateral, { now: JULY_1 });
    expect(result.status, result.detail).to.equal("pass");
    expect(result.tcbStatus).to.equal("UpToDate");
    expect(result.advisoryIds).to.deep.equal([]);
    expect(result.trustAnchor).to.equal("intel");
    expect(result.detail).to.contain("Intel SGX Root CA");
  });

  it("fails when Intel's PCK CRL has its nextUpdate rewritten (tampered bytes, still parseable)", function () {
    const normalized = parseCollateral(collateral);
    const tampered = { ...normalized, pck_crl: withNextUpdate(normalized.pck_crl, new Date("2025-08-19T10:00:35Z")) };
    expect(decodeCrl(Buffer.from(tampered.pck_crl, "hex")).nextUpdate.toISOString()).to.equal("2025-08-19T10:00:35.000Z");
    expectFail(verifyQuoteSignature(quote, tampered, { now: JULY_1 }), /PCK CRL is not signed by the PCK CA/);
  });

  it("takes `now` as unix seconds too", function () {
    expect(verifyQuoteSignature(quote, collateral, { now: JULY_1.getTime() / 1000 }).status).to.equal("pass");
  });

  it("passes just inside the collateral window", function () {
    for (const now of ["2025-06-19T10:40:00Z", "2025-07-19T09:59:00Z"]) {
      expect(verifyQuoteSignature(quote, collateral, { now: new Date(now) }).status, now).to.equal("pass");
    }
  });

  it("fails (does not throw) outside 2025-06-19..2025-07-19", function () {
    expectFail(verifyQuoteSignature(quote, collateral, { now: new Date("2025-06-18T00:00:00Z") }), /issue date is in the future/);
    expectFail(verifyQuoteSignature(quote, collateral, { now: new Date("2025-06-19T00:00:00Z") }), /issue date is in the future/);
    expectFail(verifyQuoteSignature(quote, collateral, { now: new Date("2025-07-20T00:00:00Z") }), /TCBInfo expired/);
    expectFail(verifyQuoteSignature(quote, collateral, { now: new Date("2030-01-01T00:00:00Z") }), /TCBInfo expired/);
  });

  it("fails when one bit of the TD report body is flipped", function () {
    expectFail(verifyQuoteSignature(flipBit(quote, MRTD_OFFSET), collateral, { now: JULY_1 }), /signature is invalid/i);
    expectFail(verifyQuoteSignature(flipBit(quote, REPORT_DATA_OFFSET + 5, 7), collateral, { now: JULY_1 }));
    expectFail(verifyQuoteSignature(flipBit(quote, 10), collateral, { now: JULY_1 })); // header
  });

  it("fails when one bit of the quote signature or attestation key is flipped", function () {
    expectFail(verifyQuoteSignature(flipBit(quote, QUOTE_SIGNATURE_OFFSET + 3), collateral, { now: JULY_1 }));
    expectFail(verifyQuoteSignature(flipBit(quote, QUOTE_SIGNATURE_OFFSET + 40), collateral, { now: JULY_1 }));
    expectFail(verifyQuoteSignature(flipBit(quote, ATTESTATION_KEY_OFFSET + 1), collateral, { now: JULY_1 }));
  });

  it("fails when one bit of the certification data (QE report, its signature, PCK cert) is flipped", function () {
    expectFail(verifyQuoteSignature(flipBit(quote, QE_REPORT_OFFSET + 100), collateral, { now: JULY_1 }), /qe_report/);
    expectFail(verifyQuoteSignature(flipBit(quote, QE_REPORT_SIGNATURE_OFFSET + 7), collateral, { now: JULY_1 }), /qe_report/);
    expectFail(verifyQuoteSignature(flipBit(quote, pckLeafOffset(quote), 1), collateral, { now: JULY_1 }));
  });

  it("fails on a truncated quote with the parser's reason", function () {
    expectFail(verifyQuoteSignature(quote.subarray(0, 700), collateral, { now: JULY_1 }), /malformed quote \(signature-data-length\): signature data length field says/);
    expectFail(verifyQuoteSignature(new Uint8Array(0), collateral, { now: JULY_1 }), /malformed quote \(empty\)/);
  });

  it("fails when the signed TCB info is altered", function () {
    const altered = { ...collateral, tcb_info: collateral.tcb_info.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18') };
    expect(altered.tcb_info).not.to.equal(collateral.tcb_info);
    expectFail(verifyQuoteSignature(quote, altered, { now: JULY_1 }), /Signature is invalid for tcb_info/);
  });

  it("fails when a CRL is not signed by its issuer (dcap-qvl alone would accept the swap)", function () {
    const swapped = { ...collateral, root_ca_crl: collateral.pck_crl, pck_crl: collateral.root_ca_crl };
    expectFail(verifyQuoteSignature(quote, swapped, { now: JULY_1 }), /root CA CRL is not signed by the Intel SGX Root CA/);
  });

  it("fails an UpToDate quote when the caller accepts only other statuses", function () {
    const result = verifyQuoteSignature(quote, collateral, { now: JULY_1, acceptedTcbStatuses: ["OutOfDate"] });
    expectFail(result, /TCB status UpToDate is not accepted \(accepted: OutOfDate\)/);
    expect(result.tcbStatus).to.equal("UpToDate");
  });

  it("is an error, not a pass, for unusable inputs", function () {
    expect(verifyQuoteSignature(quote, { ...collateral, tcb_info_signature: "zz" }, { now: JULY_1 }).status).to.equal("error");
    expect(verifyQuoteSignature(quote, collateral, { now: Number.NaN }).status).to.equal("error");
    expect(verifyQuoteSignature(quote, collateral, { now: new Date("not a date") }).status).to.equal("error");
    expect(verifyQuoteSignature(quote, collateral, { now: JULY_1, acceptedTcbStatuses: [] }).status).to.equal("error");
    const badRoot = verifyQuoteSignature(quote, collateral, { now: JULY_1, trustedRootCaDer: Uint8Array.of(1, 2, 3) });
    expect(badRoot.status).to.equal("error");
    expect(badRoot.detail).to.match(/trustedRootCaDer is not a DER X\.509 certificate/);
  });

  it("pins Intel's root: the pinned fingerprint is the root of this real quote's PCK chain", function () {
    const chain = dcapUtils.extractCerts(Buffer.from(Quote.parse(quote).rawCertChain()));
    const root = chain.at(-1);
    expect(root).to.not.equal(undefined);
    expect(createHash("sha256").update(root!).digest("hex")).to.equal(INTEL_SGX_ROOT_CA_SHA256);
  });
});

describe("verifyQuoteSignature: generated test quotes (test root CA)", function () {
  const now = JULY_1;

  it("passes only when the test root is passed explicitly", function () {
    const generated = generateTdxQuote({ now });
    const trusted = verifyQuoteSignature(generated.quote, generated.collateral, { now, trustedRootCaDer: generated.rootCaDer });
    expect(trusted.status, trusted.detail).to.equal("pass");
    expect(trusted.tcbStatus).to.equal("UpToDate");
    expect(trusted.advisoryIds).to.deep.equal([]);
    expect(trusted.trustAnchor).to.equal("custom");
    expect(trusted.detail).to.contain("explicitly trusted root CA");

    // Production path: Intel's root only. The test PKI must not be accepted.
    const production = verifyQuoteSignature(generated.quote, generated.collateral, { now });
    expectFail(production, /certificate chain/i);
    expect(production.trustAnchor).to.equal("intel");
  });

  it("fails when a different test root is trusted", function () {
    const a = generateTdxQuote({ now });
    const b = generateTdxQuote({ now });
    expectFail(verifyQuoteSignature(a.quote, a.collateral, { now, trustedRootCaDer: b.rootCaDer }), /certificate chain/i);
  });

  it("fails when a custom root is not a self-signed CA", function () {
    const generated = generateTdxQuote({ now });
    const result = verifyQuoteSignature(generated.quote, generated.collateral, { now, trustedRootCaDer: generated.pckCaDer });
    expect(result.status).to.equal("error");
    expect(result.detail).to.match(/not a self-signed CA/);
  });

  it("carries the chosen TD report fields into the signed quote", function () {
    const fields = {
      mrTd: "11".repeat(48),
      rtmr0: "a0".repeat(48),
      rtmr1: "a1".repeat(48),
      rtmr2: "a2".repeat(48),
      rtmr3: "a3".repeat(48),
      reportData: "cd".repeat(64),
      mrConfigId: `01${"ef".repeat(32)}${"00".repeat(15)}`,
    };
    const generated = generateTdxQuote({ now, ...fields });
    const td = Quote.parse(generated.quote).report.asTd10();
    const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString("hex");
    expect(hex(td?.mrTd)).to.equal(fields.mrTd);
    expect([td?.rtMr0, td?.rtMr1, td?.rtMr2, td?.rtMr3].map(hex)).to.deep.equal([fields.rtmr0, fields.rtmr1, fields.rtmr2, fields.rtmr3]);
    expect(hex(td?.reportData)).to.equal(fields.reportData);
    expect(hex(td?.mrConfigId)).to.equal(fields.mrConfigId);
    expect(verifyQuoteSignature(generated.quote, generated.collateral, { now, trustedRootCaDer: generated.rootCaDer }).status).to.equal("pass");
  });

  it("reports OutOfDate with its advisories and fails it by default", function () {
    const generated = generateTdxQuote({ now, tcbStatus: "OutOfDate", advisoryIds: ["INTEL-SA-00837", "INTEL-SA-00960"] });
    const result = verifyQuoteSignature(generated.quote, generated.collateral, { now, trustedRootCaDer: generated.rootCaDer });
    expectFail(result, /TCB status OutOfDate is not accepted \(accepted: UpToDate\); advisories: INTEL-SA-00837, INTEL-SA-00960/);
    expect(result.tcbStatus).to.equal("OutOfDate");
    expect(result.advisoryIds).to.deep.equal(["INTEL-SA-00837", "INTEL-SA-00960"]);
  });

  it("accepts OutOfDate when the caller allows it", function () {
    const generated = generateTdxQuote({ now, tcbStatus: "OutOfDate", advisoryIds: ["INTEL-SA-00837"] });
    const result = verifyQuoteSignature(generated.quote, generated.collateral, {
      now,
      trustedRootCaDer: generated.rootCaDer,
      acceptedTcbStatuses: ["UpToDate", "OutOfDate"],
    });
    expect(result.status, result.detail).to.equal("pass");
    expect(result.tcbStatus).to.equal("OutOfDate");
    expect(result.advisoryIds).to.deep.equal(["INTEL-SA-00837"]);
    expect(result.detail).to.contain("advisories: INTEL-SA-00837");
  });

  it("never accepts a Revoked TCB level, even if asked to", function () {
    const generated = generateTdxQuote({ now, tcbStatus: "Revoked" });
    const result = verifyQuoteSignature(generated.quote, generated.collateral, {
      now,
      trustedRootCaDer: generated.rootCaDer,
      acceptedTcbStatuses: ["UpToDate", "Revoked"],
    });
    expectFail(result, /TCB status is invalid: Revoked/);
  });

  it("fails with expired collateral", function () {
    const generated = generateTdxQuote({
      now,
      collateralIssueDate: new Date(now.getTime() - 40 * DAY_MS),
      collateralNextUpdate: new Date(now.getTime() - 10 * DAY_MS),
    });
    expectFail(verifyQuoteSignature(generated.quote, generated.collateral, { now, trustedRootCaDer: generated.rootCaDer }), /TCBInfo expired/);
  });

  it("fails with collateral that is not yet valid", function () {
    const generated = generateTdxQuote({ now });
    const earlier = new Date(now.getTime() - 2 * DAY_MS);
    expectFail(
      verifyQuoteSignature(generated.quote, generated.collateral, { now: earlier, trustedRootCaDer: generated.rootCaDer }),
      /issue date is in the future/,
    );
  });

  it("fails with a stale CRL even while TCB info and QE identity are current", function () {
    const generated = generateTdxQuote({ now, crlNextUpdate: new Date(now.getTime() - DAY_MS / 2) });
    expectFail(
      verifyQuoteSignature(generated.quote, generated.collateral, { now, trustedRootCaDer: generated.rootCaDer }),
      /root CA CRL expired/,
    );
  });

  it("fails with a stale CRL whose nextUpdate was moved forward in its bytes (tampered, so no longer signed)", function () {
    const generated = generateTdxQuote({ now, crlNextUpdate: new Date(now.getTime() - DAY_MS / 2) });
    const later = new Date(now.getTime() + 30 * DAY_MS);
    const tampered = { ...generated.collateral, root_ca_crl: withNextUpdate(generated.collateral.root_ca_crl, later) };
    // The tampered CRL still parses and now claims to be current: only its signature gives it away.
    expect(decodeCrl(Buffer.from(tampered.root_ca_crl, "hex")).nextUpdate.toISOString()).to.equal(later.toISOString());
    expectFail(
      verifyQuoteSignature(generated.quote, tampered, { now, trustedRootCaDer: generated.rootCaDer }),
      /root CA CRL is not signed by the explicitly trusted root CA/,
    );
  });

  it("fails with a PCK CRL that its CA did not sign", function () {
    const generated = generateTdxQuote({ now });
    const other = generateTdxQuote({ now });
    const forged = { ...generated.collateral, pck_crl: other.collateral.pck_crl };
    expectFail(
      verifyQuoteSignature(generated.quote, forged, { now, trustedRootCaDer: generated.rootCaDer }),
      /PCK CRL is not signed by the PCK CA/,
    );
  });

  it("fails when the PCK certificate is revoked", function () {
    const generated = generateTdxQuote({ now, revokePckLeaf: true });
    expectFail(verifyQuoteSignature(generated.quote, generated.collateral, { now, trustedRootCaDer: generated.rootCaDer }), /revoked/);
  });

  it("fails when any tampered byte is in the quote", function () {
    const generated = generateTdxQuote({ now });
    const options = { now, trustedRootCaDer: generated.rootCaDer };
    for (const offset of [5, MRTD_OFFSET + 3, REPORT_DATA_OFFSET + 63, QUOTE_SIGNATURE_OFFSET + 10, ATTESTATION_KEY_OFFSET + 20, QE_REPORT_OFFSET + 320, QE_REPORT_SIGNATURE_OFFSET + 1]) {
      const result = verifyQuoteSignature(flipBit(generated.quote, offset, 2), generated.collateral, options);
      expect(result.status, `offset ${offset}: ${result.detail}`).to.equal("fail");
    }
    expectFail(verifyQuoteSignature(flipBit(generated.quote, pckLeafOffset(generated.quote), 1), generated.collateral, options));
  });

  it("fails a quote whose TD attributes enable debug", function () {
    const generated = generateTdxQuote({ now, tdAttributes: "0100001000000000" });
    expectFail(verifyQuoteSignature(generated.quote, generated.collateral, { now, trustedRootCaDer: generated.rootCaDer }), /Debug/);
  });
});

interface Rewrap {
  qeAuthData?: Uint8Array;
  outerType?: number;
  innerType?: number;
  pem?: Uint8Array;
  /** Extra bytes inside the QE report certification data, after the inner certification data. */
  afterInner?: Uint8Array;
  /** Extra bytes inside the signature data, after the outer certification data. */
  afterOuter?: Uint8Array;
  padding?: Uint8Array;
}

/**
 * Rebuilds a quote around its signed region and signatures with the unsigned wrappers
 * changed, every length field made consistent with what it wraps, so that only the
 * change under test differs. Written from the layout, independently of the parser.
 */
function rewrap(quote: Uint8Array, change: Rewrap): Uint8Array {
  const parsed = parseTdxQuote(quote);
  const qe = parsed.signature.qeReportCertification;
  const u16 = (v: number) => Buffer.from([v & 0xff, v >> 8]);
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  const pem = Buffer.from(change.pem ?? qe.certificationData);
  const qeAuthData = change.qeAuthData ?? qe.qeAuthData;
  const qeCert = Buffer.concat([qe.qeReport, qe.qeReportSignature, u16(qeAuthData.length), qeAuthData, u16(change.innerType ?? 5), u32(pem.length), pem, change.afterInner ?? new Uint8Array()]);
  const signature = Buffer.concat([
    parsed.signature.ecdsaSignature,
    parsed.signature.attestationKey,
    u16(change.outerType ?? 6),
    u32(qeCert.length),
    qeCert,
    change.afterOuter ?? new Uint8Array(),
  ]);
  return new Uint8Array(Buffer.concat([parsed.signedRegion, u32(signature.length), signature, change.padding ?? new Uint8Array(parsed.paddingLength)]));
}

function pemOf(quote: Uint8Array): string {
  return Buffer.from(parseTdxQuote(quote).signature.qeReportCertification.certificationData).toString("latin1").replace(/\0+$/, "");
}

describe("verifyQuoteSignature: unsigned parts of the real quote and collateral", function () {
  let quote: Uint8Array;
  let collateral: QuoteCollateral;
  const check = (q: Uint8Array, c: QuoteCollateral = collateral) => verifyQuoteSignature(q, c, { now: JULY_1 });

  before(function () {
    if (!existsSync(SAMPLE_QUOTE) || !existsSync(SAMPLE_COLLATERAL)) {
      console.log(`    skipping: dcap-qvl sample fixtures not found under ${FIXTURES}`);
      this.skip();
    }
    quote = Uint8Array.from(readFileSync(SAMPLE_QUOTE));
    collateral = JSON.parse(readFileSync(SAMPLE_COLLATERAL, "utf8")) as QuoteCollateral;
  });

  it("the rebuilt capture is byte-identical and passes, also with its own chain as collateral pck_certificate_chain", function () {
    expect(Buffer.from(rewrap(quote, {})).equals(Buffer.from(quote))).to.equal(true);
    expect(check(quote).status).to.equal("pass");
    const withChain = check(quote, { ...collateral, pck_certificate_chain: pemOf(quote) });
    expect(withChain.status, withChain.detail).to.equal("pass");
  });

  it("fails an inner certification data type other than 5 (0x0805), even with the chain supplied as collateral", function () {
    const forged = rewrap(quote, { innerType: 0x0805 });
    expectFail(check(forged, { ...collateral, pck_certificate_chain: pemOf(quote) }), /certification-data-type.*type 2053 \(0x0805\)/);
    expectFail(check(forged), /certification-data-type/);
  });

  it("fails an outer certification data type other than 6 (dcap-qvl never reads it)", function () {
    expectFail(check(rewrap(quote, { outerType: 5 })), /signature-data-malformed.*type is 5/);
    expectFail(check(rewrap(quote, { outerType: 0x0106 })), /signature-data-malformed.*type is 262/);
  });

  it("fails non-zero bytes after the signature data", function () {
    expectFail(check(rewrap(quote, { padding: Buffer.from("extra data") })), /trailing-bytes/);
  });

  it("fails bytes smuggled inside the signature data after the certification data", function () {
    expectFail(check(rewrap(quote, { afterOuter: Buffer.from("smuggled") })), /signature-data-malformed.*certification data size/);
  });

  it("fails bytes smuggled inside the QE report certification data after the PCK chain", function () {
    expectFail(check(rewrap(quote, { afterInner: Buffer.from("smuggled") })), /signature-data-malformed.*inner certification data size/);
  });

  it("fails text other than PEM certificates inside the PCK chain", function () {
    const pem = pemOf(quote);
    const between = pem.replace("-----END CERTIFICATE-----\n", "-----END CERTIFICATE-----\nnot a certificate\n");
    expectFail(check(rewrap(quote, { pem: Buffer.from(`${between}\0`) })), /pck-chain-malformed.*not a PEM certificate/);
    expectFail(check(rewrap(quote, { pem: Buffer.from(`${pem}# comment\n\0`) })), /pck-chain-malformed/);
    expectFail(check(rewrap(quote, { pem: Buffer.from(`${pem}\0\0x`) })), /pck-chain-malformed/);
  });

  it("fails a PCK chain that is not exactly leaf, PCK CA and Intel's root", function () {
    const blocks = pemOf(quote).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
    expect(blocks.length).to.equal(3);
    expectFail(check(rewrap(quote, { pem: Buffer.from(`${blocks[0]}${blocks[1]}\0`) })), /has 2 certificate\(s\); expected 3/);
    expectFail(check(rewrap(quote, { pem: Buffer.from(`${blocks.join("")}${blocks[2]}\0`) })), /has 4 certificate\(s\); expected 3/);
  });

  it("fails when the collateral's pck_certificate_chain is not the quote's own (no silent preference)", function () {
    // The quote's own leaf is corrupted; the collateral carries the good chain, which
    // dcap-qvl alone would verify instead.
    const corrupted = flipBit(quote, pckLeafOffset(quote), 1);
    expectFail(check(corrupted, { ...collateral, pck_certificate_chain: pemOf(quote) }), /pck_certificate_chain differs from the quote's own/);
    const reordered = (pemOf(quote).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? []).reverse().join("");
    expectFail(check(quote, { ...collateral, pck_certificate_chain: reordered }), /pck_certificate_chain differs/);
  });

  it("fails QE auth data that is not the 32 bytes the QE report's hash covers (dcap-qvl 0.3.9 ignores extra bytes)", function () {
    const auth = parseTdxQuote(quote).signature.qeReportCertification.qeAuthData;
    expect(auth.length).to.equal(32);
    expectFail(check(rewrap(quote, { qeAuthData: Buffer.concat([auth, Buffer.from("smuggled")]) })), /QE auth data is 40 bytes; Intel's QE writes 32/);
    expectFail(check(rewrap(quote, { qeAuthData: new Uint8Array(0) })), /QE auth data is 0 bytes/);
    const changed = Uint8Array.from(auth);
    changed[0]! ^= 1;
    expectFail(check(rewrap(quote, { qeAuthData: changed })), /QE report hash mismatch/);
  });

  it("the verification pipeline reports a rewrapped quote under quote-signature with the rule broken", async function () {
    const forged = rewrap(quote, { innerType: 0x0805 });
    const { verdict } = await verifyAttestation(
      { quote: Buffer.from(forged).toString("hex"), event_log: "[]" },
      { now: JULY_1, quoteSignature: { mode: "local", collateral: { ...collateral, pck_certificate_chain: pemOf(quote) } }, onchain: "skip" },
    );
    const signature = verdict.checks.find((c) => c.id === "quote-signature");
    expect(signature?.status).to.equal("fail");
    expect(signature?.detail).to.match(/unusable quote: .*inner certification data type 2053 \(0x0805\)/);
  });

  it("still accepts the capture's zero padding, which is unsigned but carries nothing", function () {
    const longer = rewrap(quote, { padding: new Uint8Array(200) });
    const result = check(longer);
    expect(result.status, result.detail).to.equal("pass");
  });
});

describe("verifyQuoteSignature: TD report rules beyond dcap-qvl 0.3.9 (generated quotes)", function () {
  const now = JULY_1;
  const verifyGenerated = (g: ReturnType<typeof generateTdxQuote>) => verifyQuoteSignature(g.quote, g.collateral, { now, trustedRootCaDer: g.rootCaDer });

  it("fails a non-zero MRSIGNERSEAM (dstack requires Intel's TDX module)", function () {
    expectFail(verifyGenerated(generateTdxQuote({ now, mrSignerSeam: "01".repeat(48) })), /MRSIGNERSEAM is 0101.*not zero/);
  });

  it("fails SEAMATTRIBUTES that the TCB info's TDX module does not allow", function () {
    expectFail(verifyGenerated(generateTdxQuote({ now, seamAttributes: "0000000000000080" })), /SEAMATTRIBUTES 0000000000000080 do not match/);
  });

  it("fails a QE vendor id that is not Intel's", function () {
    expectFail(verifyGenerated(generateTdxQuote({ now, qeVendorId: "00".repeat(16) })), /QE vendor id 0{32} is not Intel's/);
  });

  it("fails a QE report whose REPORTDATA does not end in 32 zero bytes", function () {
    expectFail(verifyGenerated(generateTdxQuote({ now, qeReportDataTail: `${"00".repeat(31)}01` })), /QE report data bytes 32\.\.63 are 0{62}01, not the zeros Intel's QE writes/);
  });

  it("keeps dcap-qvl's TD attribute rules: SEPT_VE_DISABLE must be set, no reserved bits", function () {
    expectFail(verifyGenerated(generateTdxQuote({ now, tdAttributes: "0000000000000000" })), /SEPT_VE_DISABLE is not enabled/);
    expectFail(verifyGenerated(generateTdxQuote({ now, tdAttributes: "0002001000000000" })), /Reserved bits in TD attributes/);
    expectFail(verifyGenerated(generateTdxQuote({ now, tdAttributes: "0200001000000000" })), /Debug mode is enabled/);
  });
});

describe("test PKI isolation", function () {
  it("no file under src/ imports the test quote generator or test PKI", function () {
    const offenders = (readdirSync(path.join(REPO_ROOT, "src"), { recursive: true }) as string[])
      .filter((file) => file.endsWith(".ts"))
      .filter((file) => /tdx-quote-generator|test-pki|test\/support/.test(readFileSync(path.join(REPO_ROOT, "src", file), "utf8")));
    expect(offenders).to.deep.equal([]);
  });
});

import { Quote as DcapQvlQuote } from "@phala/dcap-qvl";
import { expect } from "chai";

import {
  decodeQuoteInput,
  MAX_QUOTE_BYTES,
  parseTdxQuote,
  QuoteParseError,
  quoteSummary,
  type QuoteParseReason,
  type TdxQuote,
} from "../../src/attestation/quote.js";
import { loadDcapQvlQuote, loadGetQuote, requireFixtures } from "./fixture-files.js";
import { buildSyntheticQuote, FIELD_OFFSETS, v4ToV5 } from "./synthetic-quote.js";

function expectParseError(run: () => unknown, reason: QuoteParseReason, messagePart?: string | RegExp): QuoteParseError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected a QuoteParseError").to.be.instanceOf(QuoteParseError);
  const error = caught as QuoteParseError;
  expect(error.reason, error.message).to.equal(reason);
  expect(error.code).to.equal(`QUOTE_${reason.toUpperCase().replace(/-/g, "_")}`);
  if (typeof messagePart === "string") expect(error.message).to.include(messagePart);
  if (messagePart instanceof RegExp) expect(error.message).to.match(messagePart);
  return error;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function withU16(quote: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Buffer.from(quote);
  copy.writeUInt16LE(value, offset);
  return new Uint8Array(copy);
}

function withU32(quote: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Buffer.from(quote);
  copy.writeUInt32LE(value, offset);
  return new Uint8Array(copy);
}

/** Field-by-field agreement with @phala/dcap-qvl's independent parser. */
function expectAgreesWithDcapQvl(bytes: Uint8Array, parsed: TdxQuote): void {
  const reference = DcapQvlQuote.parse(bytes);
  expect(parsed.header.version).to.equal(reference.header.version);
  expect(parsed.header.attestationKeyType).to.equal(reference.header.attestationKeyType);
  expect(parsed.header.teeType).to.equal(reference.header.teeType);
  expect(parsed.header.qeSvn).to.equal(reference.header.qeSvn);
  expect(parsed.header.pceSvn).to.equal(reference.header.pceSvn);
  expect(hex(parsed.header.qeVendorId)).to.equal(hex(reference.header.qeVendorId));
  expect(hex(parsed.header.userData)).to.equal(hex(reference.header.userData));
  const td = reference.report.asTd10();
  expect(td).to.not.equal(null);
  const r = parsed.report;
  expect(hex(r.teeTcbSvn)).to.equal(hex(td!.teeTcbSvn));
  expect(hex(r.mrSeam)).to.equal(hex(td!.mrSeam));
  expect(hex(r.mrSignerSeam)).to.equal(hex(td!.mrSignerSeam));
  expect(hex(r.seamAttributes)).to.equal(hex(td!.seamAttributes));
  expect(hex(r.tdAttributes)).to.equal(hex(td!.tdAttributes));
  expect(hex(r.xfam)).to.equal(hex(td!.xfam));
  expect(hex(r.mrTd)).to.equal(hex(td!.mrTd));
  expect(hex(r.mrConfigId)).to.equal(hex(td!.mrConfigId));
  expect(hex(r.mrOwner)).to.equal(hex(td!.mrOwner));
  expect(hex(r.mrOwnerConfig)).to.equal(hex(td!.mrOwnerConfig));
  expect(r.rtmrs.map(hex)).to.deep.equal([td!.rtMr0, td!.rtMr1, td!.rtMr2, td!.rtMr3].map(hex));
  expect(hex(r.reportData)).to.equal(hex(td!.reportData));
  expect(parsed.signedRegion.length).to.equal(reference.signedLength());
  const auth = reference.authData.intoV3();
  expect(hex(parsed.signature.ecdsaSignature)).to.equal(hex(auth.ecdsaSignature));
  expect(hex(parsed.signature.attestationKey)).to.equal(hex(auth.ecdsaAttestationKey));
  expect(hex(parsed.signature.qeReportCertification.qeReport)).to.equal(hex(auth.qeReport));
  expect(hex(parsed.signature.qeReportCertification.qeReportSignature)).to.equal(hex(auth.qeReportSignature));
  expect(hex(parsed.signature.qeReportCertification.qeAuthData)).to.equal(hex(auth.qeAuthData));
  expect(parsed.signature.qeReportCertification.certificationDataType).to.equal(auth.certificationData.certType);
  expect(hex(parsed.signature.qeReportCertification.certificationData)).to.equal(hex(auth.certificationData.body));
}

describe("attestation/quote: real fixtures", function () {
  before(function () {
    requireFixtures(this);
  });

  const sources = [
    ["dstack/quote-report.json", () => loadGetQuote("quote-report.json").quote],
    ["dstack/tdx-lite-getquote.json", () => loadGetQuote("tdx-lite-getquote.json").quote],
    ["dcap-qvl/tdx_quote", loadDcapQvlQuote],
  ] as const;

  for (const [name, load] of sources) {
    it(`parses ${name} as a v4 TDX quote and agrees with @phala/dcap-qvl`, function () {
      const bytes = load();
      const quote = parseTdxQuote(bytes);
      expect(quote.header.version).to.equal(4);
      expect(quote.header.teeType).to.equal(0x81);
      expect(quote.header.attestationKeyType).to.equal(2);
      expect(hex(quote.header.qeVendorId)).to.equal("939a7233f79c4ca9940a0db3957f0607");
      expect(quote.report.version).to.equal("1.0");
      expect(quote.report.teeTcbSvn2).to.equal(null);
      expect(quote.signedRegion.length).to.equal(48 + 584);
      expect(hex(quote.signedRegion)).to.equal(hex(bytes.subarray(0, 632)));
      expect(quote.signatureDataOffset).to.equal(636);
      expect(quote.signatureDataOffset + quote.signatureDataLength + quote.paddingLength).to.equal(bytes.length);
      expect(hex(quote.signatureData)).to.equal(hex(bytes.subarray(636, 636 + quote.signatureDataLength)));
      expect(quote.signature.certificationDataType).to.equal(6);
      expect(quote.signature.qeReportCertification.certificationDataType).to.equal(5);
      expect(Buffer.from(quote.signature.qeReportCertification.certificationData).toString("latin1")).to.match(/^-----BEGIN CERTIFICATE-----/);
      expectAgreesWithDcapQvl(bytes, quote);
    });
  }

  it("tolerates the real quotes' zero padding after the signature data but not a non-zero byte there", function () {
    const bytes = loadGetQuote("quote-report.json").quote;
    const quote = parseTdxQuote(bytes);
    expect(quote.paddingLength).to.be.greaterThan(0);
    const tampered = new Uint8Array(bytes);
    tampered[bytes.length - 1] = 0x01;
    expectParseError(() => parseTdxQuote(tampered), "trailing-bytes", `byte ${bytes.length - 1}`);
  });

  it("reads REPORTDATA exactly as the guest agent reported it", function () {
    const fixture = loadGetQuote("quote-report.json");
    const quote = parseTdxQuote(fixture.quote);
    expect(hex(quote.report.reportData)).to.equal(fixture.reportData);
    // README: report_data starts 1234 then zeros
    expect(hex(quote.report.reportData)).to.equal(`1234${"00".repeat(62)}`);
    const lite = loadGetQuote("tdx-lite-getquote.json");
    expect(hex(parseTdxQuote(lite.quote).report.reportData)).to.equal(lite.reportData);
  });

  it("parses a v5 (body type 2) re-encoding of a real quote to the same report, and dcap-qvl agrees", function () {
    const v4 = loadGetQuote("tdx-lite-getquote.json").quote;
    const v5 = v4ToV5(v4);
    const a = parseTdxQuote(v4);
    const b = parseTdxQuote(v5);
    expect(b.header.version).to.equal(5);
    expect(b.bodyType).to.equal(2);
    expect(b.bodyOffset).to.equal(54);
    expect(b.signedRegion.length).to.equal(48 + 6 + 584);
    expect(quoteSummary(b)).to.deep.equal({ ...quoteSummary(a), version: 5 });
    expectAgreesWithDcapQvl(v5, b);
  });

  it("decodes the same quote from hex, 0x-hex, base64 and a JSON byte array", function () {
    const fixture = loadGetQuote("quote-report.json");
    const expected = hex(fixture.quote);
    expect(hex(decodeQuoteInput(fixture.quoteHex))).to.equal(expected);
    expect(hex(decodeQuoteInput(`0x${fixture.quoteHex.toUpperCase()}`))).to.equal(expected);
    expect(hex(decodeQuoteInput(`  ${fixture.quoteHex}\n`))).to.equal(expected);
    const b64 = Buffer.from(fixture.quote).toString("base64");
    expect(hex(decodeQuoteInput(b64))).to.equal(expected);
    expect(hex(decodeQuoteInput(b64.replace(/(.{76})/g, "$1\n")))).to.equal(expected);
    expect(hex(decodeQuoteInput(Buffer.from(fixture.quote).toString("base64url")))).to.equal(expected);
    expect(hex(decodeQuoteInput(JSON.stringify([...fixture.quote])))).to.equal(expected);
    expect(hex(decodeQuoteInput([...fixture.quote]))).to.equal(expected);
  });
});

describe("attestation/quote: layout (synthetic quotes)", function () {
  it("reads every TD report 1.0 field at its offset in a v4 quote", function () {
    const bytes = buildSyntheticQuote();
    const quote = parseTdxQuote(bytes);
    const r = quote.report;
    const fields: Record<string, Uint8Array> = {
      teeTcbSvn: r.teeTcbSvn,
      mrSeam: r.mrSeam,
      mrSignerSeam: r.mrSignerSeam,
      seamAttributes: r.seamAttributes,
      tdAttributes: r.tdAttributes,
      xfam: r.xfam,
      mrTd: r.mrTd,
      mrConfigId: r.mrConfigId,
      mrOwner: r.mrOwner,
      mrOwnerConfig: r.mrOwnerConfig,
      rtmr0: r.rtmrs[0],
      rtmr1: r.rtmrs[1],
      rtmr2: r.rtmrs[2],
      rtmr3: r.rtmrs[3],
      reportData: r.reportData,
    };
    for (const [name, value] of Object.entries(fields)) {
      const [offset, length] = FIELD_OFFSETS[name as keyof typeof FIELD_OFFSETS];
      expect(hex(value), name).to.equal(hex(bytes.subarray(48 + offset, 48 + offset + length)));
      expect(value.length, name).to.equal(length);
    }
    expect(quote.paddingLength).to.equal(0);
    expectAgreesWithDcapQvl(bytes, quote);
  });

  it("parses a v5 quote with a TD report 1.5 body (TEE_TCB_SVN2, MRSERVICETD)", function () {
    const bytes = buildSyntheticQuote({ version: 5, bodyType: 3 });
    const quote = parseTdxQuote(bytes);
    expect(quote.bodyType).to.equal(3);
    expect(quote.report.version).to.equal("1.5");
    expect(hex(quote.report.teeTcbSvn2!)).to.equal(hex(bytes.subarray(54 + 584, 54 + 600)));
    expect(hex(quote.report.mrServiceTd!)).to.equal(hex(bytes.subarray(54 + 600, 54 + 648)));
    expect(hex(quote.report.rtmrs[3])).to.equal(hex(bytes.subarray(54 + 472, 54 + 520)));
    expect(quote.signedRegion.length).to.equal(48 + 6 + 648);
    const reference = DcapQvlQuote.parse(bytes);
    expect(reference.report.type).to.equal("td15");
    expect(hex(reference.report.asTd15()!.mrServiceTd)).to.equal(hex(quote.report.mrServiceTd!));
    expect(reference.signedLength()).to.equal(quote.signedRegion.length);
  });

  it("returns copies: changing the input afterwards does not change the parsed quote", function () {
    const bytes = buildSyntheticQuote();
    const quote = parseTdxQuote(bytes);
    const before = hex(quote.report.rtmrs[3]);
    bytes.fill(0xee, 48 + 472, 48 + 520);
    expect(hex(quote.report.rtmrs[3])).to.equal(before);
    expect(hex(quote.raw.subarray(48 + 472, 48 + 520))).to.equal(before);
  });
});

describe("attestation/quote: malformed input is rejected with a reason", function () {
  const valid = buildSyntheticQuote();

  it("empty input", function () {
    expectParseError(() => parseTdxQuote(new Uint8Array(0)), "empty");
  });

  it("every truncation of a valid quote fails with a typed error", function () {
    for (let length = 1; length < valid.length; length++) {
      let caught: unknown;
      try {
        parseTdxQuote(valid.subarray(0, length));
      } catch (error) {
        caught = error;
      }
      expect(caught, `length ${length}`).to.be.instanceOf(QuoteParseError);
      expect(["truncated", "signature-data-length"], `length ${length}`).to.include((caught as QuoteParseError).reason);
    }
    expectParseError(() => parseTdxQuote(valid.subarray(0, 47)), "truncated", "header");
    expectParseError(() => parseTdxQuote(valid.subarray(0, 600)), "truncated", "TD report 1.0");
    expectParseError(() => parseTdxQuote(valid.subarray(0, 634)), "truncated", "signature data length");
    expectParseError(() => parseTdxQuote(valid.subarray(0, 900)), "signature-data-length", "only 264 bytes follow");
  });

  it("a v3 (SGX-format) quote", function () {
    const v3 = withU32(withU16(valid, 0, 3), 4, 0);
    expectParseError(() => parseTdxQuote(v3), "unsupported-version", "v3 is the SGX-only quote format");
  });

  it("unknown versions", function () {
    for (const version of [0, 1, 2, 6, 0xffff]) {
      expectParseError(() => parseTdxQuote(withU16(valid, 0, version)), "unsupported-version", `version ${version}`);
    }
  });

  it("an SGX quote in v4 format (TEE type 0)", function () {
    expectParseError(() => parseTdxQuote(buildSyntheticQuote({ teeType: 0 })), "sgx-quote", "SGX quote");
  });

  it("an SGX body in a v5 quote (body type 1)", function () {
    expectParseError(() => parseTdxQuote(buildSyntheticQuote({ version: 5, bodyType: 1, bodySize: 384 })), "sgx-quote", "body type 1");
  });

  it("an unknown TEE type", function () {
    expectParseError(() => parseTdxQuote(buildSyntheticQuote({ teeType: 0x82 })), "unsupported-tee-type", "0x00000082");
  });

  it("an attestation key type other than ECDSA P-256", function () {
    expectParseError(() => parseTdxQuote(buildSyntheticQuote({ attestationKeyType: 3 })), "unsupported-attestation-key-type", "type 3");
  });

  it("an unknown v5 body type", function () {
    expectParseError(() => parseTdxQuote(buildSyntheticQuote({ version: 5, bodyType: 9, bodySize: 584 })), "unsupported-body-type", "body type 9");
  });

  it("a v5 body size that does not match its type", function () {
    expectParseError(() => parseTdxQuote(buildSyntheticQuote({ version: 5, bodyType: 2, bodySize: 648 })), "body-size-mismatch", "must be 584 bytes");
    expectParseError(() => parseTdxQuote(buildSyntheticQuote({ version: 5, bodyType: 3, bodySize: 584 })), "body-size-mismatch", "must be 648 bytes");
  });

  it("a signature data length larger than the rest of the buffer", function () {
    expectParseError(() => parseTdxQuote(withU32(valid, 632, valid.length)), "signature-data-length", "only");
    expectParseError(() => parseTdxQuote(withU32(valid, 632, 0xffffffff)), "signature-data-length");
  });

  it("a signature data length below the fixed minimum", function () {
    expectParseError(() => parseTdxQuote(withU32(valid, 632, 10)), "signature-data-length", "below the minimum");
  });

  it("a shorter signature data length that leaves bytes behind", function () {
    // Declaring fewer bytes makes the rest trailing, non-zero data.
    const declared = new DataView(valid.buffer, valid.byteOffset).getUint32(632, true);
    expectParseError(() => parseTdxQuote(withU32(valid, 632, declared - 1)), "signature-data-malformed");
  });

  it("trailing non-zero bytes after the signature data", function () {
    const withGarbage = new Uint8Array([...valid, 0, 0, 0x5a]);
    expectParseError(() => parseTdxQuote(withGarbage), "trailing-bytes", `byte ${valid.length + 2} is 0x5a`);
  });

  it("accepts zero padding after the signature data and reports it", function () {
    expect(parseTdxQuote(buildSyntheticQuote({ padding: 70 })).paddingLength).to.equal(70);
  });

  it("inconsistent nested certification data sizes", function () {
    const sigStart = 636;
    const certSizeAt = sigStart + 128 + 2;
    const certSize = new DataView(valid.buffer, valid.byteOffset).getUint32(certSizeAt, true);
    expectParseError(() => parseTdxQuote(withU32(valid, certSizeAt, certSize + 1)), "signature-data-malformed", "certification data size");
    expectParseError(() => parseTdxQuote(withU16(valid, sigStart + 128, 5)), "signature-data-malformed", "type is 5");
    const authSizeAt = sigStart + 134 + 384 + 64;
    expectParseError(() => parseTdxQuote(withU16(valid, authSizeAt, 0xffff)), "signature-data-malformed", "QE auth data");
    const innerSizeAt = authSizeAt + 2 + 32 + 2;
    expectParseError(() => parseTdxQuote(withU32(valid, innerSizeAt, 1)), "signature-data-malformed", "inner certification data size");
  });

  it("an inner certification data type other than 5 (PEM PCK chain), e.g. 0x0805", function () {
    const innerTypeAt = 636 + 134 + 384 + 64 + 2 + 32;
    expect(new DataView(valid.buffer, valid.byteOffset).getUint16(innerTypeAt, true)).to.equal(5);
    expectParseError(() => parseTdxQuote(withU16(valid, innerTypeAt, 0x0805)), "certification-data-type", "type 2053 (0x0805)");
    expectParseError(() => parseTdxQuote(withU16(valid, innerTypeAt, 3)), "certification-data-type", "type 3");
  });

  it("a PCK chain with anything but PEM certificates, line breaks and trailing NULs", function () {
    const pemAt = 636 + 134 + 384 + 64 + 2 + 32 + 6;
    const bytes = Buffer.from(valid);
    const at = bytes.indexOf("-----END CERTIFICATE-----", pemAt) + 25;
    expect(bytes[at]).to.equal(0x0a);
    const junk = Uint8Array.from(bytes);
    junk[at] = 0x20; // a space where the line break was
    expectParseError(() => parseTdxQuote(junk), "pck-chain-malformed", "not a PEM certificate");
    const badBase64 = Uint8Array.from(bytes);
    badBase64[pemAt + 28] = 0x3d; // "=" at the start of the base64 body
    expectParseError(() => parseTdxQuote(badBase64), "pck-chain-malformed");
    expect(parseTdxQuote(valid).signature.qeReportCertification.pckCertificates.map((der) => Buffer.from(der).toString("base64"))).to.deep.equal(["MIIB"]);
  });

  it("input larger than MAX_QUOTE_BYTES", function () {
    expectParseError(() => parseTdxQuote(new Uint8Array(MAX_QUOTE_BYTES + 1)), "too-large");
  });

  it("non-byte input", function () {
    expectParseError(() => parseTdxQuote("0400" as unknown as Uint8Array), "bad-encoding", "decodeQuoteInput");
  });

  it("random corruption never escapes as anything but a QuoteParseError", function () {
    // Deterministic xorshift so failures are reproducible.
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const base = buildSyntheticQuote({ version: 5, bodyType: 3, padding: 8 });
    // Header, body descriptor, length fields and the nested signature-data headers.
    const hotspots = [0, 1, 2, 3, 4, 5, 48, 49, 50, 51, 52, 53, 702, 703, 704, 705, 834, 835, 836, 837, 838, 839, 1288, 1289, 1322, 1323, 1324, 1325, 1326, 1327];
    let parsed = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = new Uint8Array(base);
      const flips = 1 + Math.floor(next() * 3);
      for (let f = 0; f < flips; f++) {
        const at = next() < 0.7 ? hotspots[Math.floor(next() * hotspots.length)]! : Math.floor(next() * bytes.length);
        bytes[at] = Math.floor(next() * 256);
      }
      const cut = next() < 0.2 ? Math.floor(next() * bytes.length) : bytes.length;
      try {
        parseTdxQuote(bytes.subarray(0, cut));
        parsed++;
      } catch (error) {
        expect(error, `round ${round}`).to.be.instanceOf(QuoteParseError);
      }
    }
    expect(parsed).to.be.greaterThan(0);
  });
});

describe("attestation/quote: decodeQuoteInput", function () {
  it("accepts bytes and copies them", function () {
    const bytes = new Uint8Array([4, 0, 2, 0]);
    const decoded = decodeQuoteInput(bytes);
    bytes[0] = 9;
    expect([...decoded]).to.deep.equal([4, 0, 2, 0]);
    expect([...decodeQuoteInput(Buffer.from([1, 2]))]).to.deep.equal([1, 2]);
  });

  it("prefers hex for an even-length string of hex digits", function () {
    expect([...decodeQuoteInput("deadbeef")]).to.deep.equal([0xde, 0xad, 0xbe, 0xef]);
  });

  it("decodes base64 that is not hex", function () {
    expect([...decodeQuoteInput("BAACAIEA")]).to.deep.equal([4, 0, 2, 0, 0x81, 0]);
  });

  const bad: [string, unknown, QuoteParseReason, string][] = [
    ["non-hex after 0x", "0xzz11", "bad-encoding", "not hexadecimal"],
    ["odd hex after 0x", "0xabc", "bad-encoding", "odd number"],
    ["neither hex nor base64", "not a quote!", "bad-encoding", "neither hex, base64"],
    ["non-canonical base64", "QR==", "bad-encoding", "not canonical"],
    ["JSON array with an out-of-range byte", "[4, 0, 256]", "bad-encoding", "item 2 is 256"],
    ["JSON array with a fraction", [4, 0.5], "bad-encoding", "item 1 is 0.5"],
    ["JSON array with a string", ["4"], "bad-encoding", 'item 0 is "4"'],
    ["broken JSON array", "[4, 0", "bad-encoding", "not valid JSON"],
    ["an empty JSON array", "[]", "empty", "empty"],
    ["an empty string", "   ", "empty", "empty"],
    ["an object", { quote: "00" }, "bad-encoding", "got object"],
    ["a number", 42, "bad-encoding", "got number"],
    ["null", null, "bad-encoding", "got null"],
    ["a huge string", "a".repeat(MAX_QUOTE_BYTES * 6 + 1), "too-large", "limit"],
  ];
  for (const [name, value, reason, message] of bad) {
    it(`rejects ${name}`, function () {
      expectParseError(() => decodeQuoteInput(value), reason, message);
    });
  }
});

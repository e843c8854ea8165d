import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { PHALA_PCCS_URL } from "@phala/dcap-qvl";

import {
  CollateralError,
  collateralExpiry,
  collateralKeyForQuote,
  DEFAULT_PCCS_URL,
  fetchCollateral,
  type FetchFunction,
  loadCollateralFile,
  MAX_COLLATERAL_BYTES,
  parseCollateral,
  PccsRequestError,
  redactUrl,
  type QuoteCollateral,
} from "../../src/attestation/collateral.js";
import { decodeCrl } from "../../src/attestation/crl.js";
import { verifyQuoteSignature } from "../../src/attestation/quote-signature.js";
import { closedLoopbackUrl, fakePccsFetch, startFakePccs, type FakePccs } from "../support/fake-pccs.js";
import { generateTdxQuote, type GeneratedTdxQuote } from "../support/tdx-quote-generator.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURES = path.resolve(REPO_ROOT, "../shared/fixtures");
const SAMPLE_QUOTE = path.join(FIXTURES, "dcap-qvl/tdx_quote");
const SAMPLE_COLLATERAL = path.join(FIXTURES, "dcap-qvl/tdx_quote_collateral.json");

const NOW = new Date("2025-07-01T00:00:00Z");
const DAY_MS = 86_400_000;

async function expectRejection(promise: Promise<unknown>): Promise<CollateralError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(CollateralError);
    return error as CollateralError;
  }
  expect.fail("expected a CollateralError");
}

function expectThrows(fn: () => unknown): CollateralError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(CollateralError);
    return error as CollateralError;
  }
  expect.fail("expected a CollateralError");
}

function serveGenerated(generated: GeneratedTdxQuote) {
  return { collateral: generated.collateral, tee: "tdx" as const, fmspc: generated.fmspc, ca: generated.ca };
}

describe("collateral: loading and shape validation", function () {
  let dir: string;
  let generated: GeneratedTdxQuote;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "collateral-test-"));
    generated = generateTdxQuote({ now: NOW });
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads the real dcap-qvl sample collateral file", async function () {
    if (!existsSync(SAMPLE_COLLATERAL)) {
      console.log(`    skipping: dcap-qvl sample fixtures not found under ${FIXTURES}`);
      this.skip();
    }
    const collateral = await loadCollateralFile(SAMPLE_COLLATERAL);
    expect(JSON.parse(collateral.tcb_info).fmspc).to.equal("B0C06F000000");
    expect(collateral.tcb_info_signature).to.match(/^[0-9a-f]{128}$/);
    expect(collateralExpiry(collateral).toISOString()).to.equal("2025-07-19T10:00:35.000Z"); // the PCK CRL's nextUpdate
  });

  it("loads a generated collateral file and normalises byte arrays to hex", async function () {
    const asArrays = {
      ...generated.collateral,
      pck_crl: Array.from(Buffer.from(generated.collateral.pck_crl, "hex")),
      tcb_info_signature: Array.from(Buffer.from(generated.collateral.tcb_info_signature, "hex")),
      pck_certificate_chain: null,
      some_future_field: 1,
    };
    const file = path.join(dir, "generated.json");
    await writeFile(file, JSON.stringify(asArrays));
    expect(await loadCollateralFile(file)).to.deep.equal(generated.collateral);
  });

  it("reports a missing file with its path", async function () {
    const file = path.join(dir, "nope.json");
    const error = await expectRejection(loadCollateralFile(file));
    expect(error.code).to.equal("COLLATERAL_FILE_NOT_FOUND");
    expect(error.message).to.contain(file);
  });

  it("reports a file that is not JSON", async function () {
    const file = path.join(dir, "bad.json");
    await writeFile(file, "{ not json");
    const error = await expectRejection(loadCollateralFile(file));
    expect(error.code).to.equal("COLLATERAL_INVALID_JSON");
    expect(error.message).to.contain(file);
  });

  it("reports a directory as unreadable", async function () {
    const error = await expectRejection(loadCollateralFile(dir));
    expect(error.code).to.equal("COLLATERAL_FILE_UNREADABLE");
  });

  const wrongShapes: Array<[string, (c: QuoteCollateral) => unknown, RegExp]> = [
    ["an array", () => [], /expected a JSON object/],
    ["a missing field", ({ tcb_info: _omit, ...rest }) => rest, /missing string field "tcb_info"/],
    ["a non-hex signature", (c) => ({ ...c, qe_identity_signature: "xyz" }), /"qe_identity_signature" is not an even-length hex string/],
    ["a short signature", (c) => ({ ...c, tcb_info_signature: "ab".repeat(63) }), /"tcb_info_signature" must be 64 bytes/],
    ["a byte array with a bad byte", (c) => ({ ...c, pck_crl: [48, 300] }), /"pck_crl" must be a hex string or an array of bytes/],
    ["a CRL that is not DER", (c) => ({ ...c, root_ca_crl: "3003020101" }), /"root_ca_crl" is not a DER CRL/],
    ["TCB info that is not JSON", (c) => ({ ...c, tcb_info: "{" }), /"tcb_info" is not valid JSON/],
    ["TCB info without tcbLevels", (c) => ({ ...c, tcb_info: '{"id":"TDX","version":3,"issueDate":"2025-01-01T00:00:00Z","nextUpdate":"2025-02-01T00:00:00Z","fmspc":"00"}' }), /lacks array member "tcbLevels"/],
    ["QE identity with a bad date", (c) => ({ ...c, qe_identity: c.qe_identity.replace(/"nextUpdate":"[^"]+"/, '"nextUpdate":"soon"') }), /"qe_identity" member "nextUpdate" is not a date/],
    ["an issuer chain without PEM", (c) => ({ ...c, tcb_info_issuer_chain: "hello" }), /"tcb_info_issuer_chain" contains no PEM certificate/],
    ["a non-string PCK chain", (c) => ({ ...c, pck_certificate_chain: 5 }), /"pck_certificate_chain" must be a string or null/],
  ];
  for (const [what, mutate, reason] of wrongShapes) {
    it(`rejects collateral with ${what}`, async function () {
      const file = path.join(dir, "shape.json");
      await writeFile(file, JSON.stringify(mutate(generated.collateral)));
      const error = await expectRejection(loadCollateralFile(file));
      expect(error.code).to.equal("COLLATERAL_INVALID");
      expect(error.message).to.match(reason);
      expect(error.message).to.contain(file);
    });
  }

  it("names the source in in-memory validation errors", function () {
    const error = expectThrows(() => parseCollateral({}, "collateral from test"));
    expect(error.message).to.match(/^collateral from test: missing string field/);
  });
});

describe("crl: decodeCrl", function () {
  const crl = () => Buffer.from(generateTdxQuote({ now: NOW }).collateral.pck_crl, "hex");
  const ECDSA_SHA256_OID = "2a8648ce3d040302";
  const ECDSA_SHA384_OID = "2a8648ce3d040303";

  it("reads the signed bytes, the signature and both update times", function () {
    const der = crl();
    const decoded = decodeCrl(der);
    // The TBSCertList is the first element inside the outer SEQUENCE, byte for byte.
    expect(der.indexOf(Buffer.from(decoded.tbs))).to.be.within(2, 4);
    expect(Buffer.from(der.subarray(der.length - decoded.signature.length)).equals(Buffer.from(decoded.signature))).to.equal(true);
    expect(decoded.thisUpdate.getTime()).to.be.lessThan(decoded.nextUpdate.getTime());
  });

  it("rejects trailing bytes, other algorithms and a signature with unused bits", function () {
    expect(() => decodeCrl(Buffer.concat([crl(), Buffer.of(0)]))).to.throw(/trailing bytes/);
    const hex = crl().toString("hex");
    expect(() => decodeCrl(Buffer.from(hex.replaceAll(ECDSA_SHA256_OID, ECDSA_SHA384_OID), "hex"))).to.throw(/not signed with ecdsa-with-SHA256/);
    expect(() => decodeCrl(Buffer.from(hex.replace(ECDSA_SHA256_OID, ECDSA_SHA384_OID), "hex"))).to.throw(/signature algorithms disagree/);
    const der = crl();
    const unusedBitsAt = der.length - decodeCrl(der).signature.length - 1;
    expect(der[unusedBitsAt]).to.equal(0);
    der[unusedBitsAt] = 1;
    expect(() => decodeCrl(der)).to.throw(/unused bits/);
  });
});

describe("collateral: quote-derived identifiers", function () {
  it("reads TEE, FMSPC and PCK CA from a generated quote", function () {
    const platform = generateTdxQuote({ now: NOW, fmspc: "00a06f000000" });
    expect(collateralKeyForQuote(platform.quote)).to.deep.equal({ tee: "tdx", fmspc: "00A06F000000", ca: "platform" });
    const processor = generateTdxQuote({ now: NOW, pckCa: "processor" });
    expect(collateralKeyForQuote(processor.quote)).to.deep.equal({ tee: "tdx", fmspc: "90C06F000000", ca: "processor" });
  });

  it("reads them from the real sample quote (a Platform-CA PCK)", async function () {
    if (!existsSync(SAMPLE_QUOTE)) {
      console.log(`    skipping: dcap-qvl sample fixtures not found under ${FIXTURES}`);
      this.skip();
    }
    const quote = Uint8Array.from(await readFile(SAMPLE_QUOTE));
    expect(collateralKeyForQuote(quote)).to.deep.equal({ tee: "tdx", fmspc: "B0C06F000000", ca: "platform" });
  });

  it("rejects bytes that are not a quote", function () {
    const error = expectThrows(() => collateralKeyForQuote(Uint8Array.of(4, 0, 2, 0)));
    expect(error.code).to.equal("COLLATERAL_QUOTE_UNSUPPORTED");
  });
});

describe("collateral: PCCS fetch over loopback", function () {
  let pccs: FakePccs | undefined;
  let cacheDir: string;

  beforeEach(async function () {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), "collateral-cache-"));
  });
  afterEach(async function () {
    await pccs?.close();
    pccs = undefined;
    await rm(cacheDir, { recursive: true, force: true });
  });

  it("defaults to the PCCS URL dcap-qvl uses (Phala's)", function () {
    expect(DEFAULT_PCCS_URL).to.equal(PHALA_PCCS_URL);
    expect(DEFAULT_PCCS_URL).to.equal("https://pccs.phala.network");
  });

  it("fetches the four PCS resources and the result verifies", async function () {
    const generated = generateTdxQuote({ now: NOW });
    pccs = await startFakePccs(serveGenerated(generated));
    const fetched = await fetchCollateral(generated.quote, { pccsUrl: pccs.url, now: NOW });
    expect(fetched.fromCache).to.equal(false);
    expect(fetched.source).to.equal(pccs.url);
    expect(fetched.collateral).to.deep.equal(generated.collateral);
    expect(pccs.requests.map((r) => r.url)).to.deep.equal([
      "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
      `/tdx/certification/v4/tcb?fmspc=${generated.fmspc}`,
      "/tdx/certification/v4/qe/identity?update=standard",
      "/sgx/certification/v4/rootcacrl",
    ]);
    const verdict = verifyQuoteSignature(generated.quote, fetched.collateral, { now: NOW, trustedRootCaDer: generated.rootCaDer });
    expect(verdict.status, verdict.detail).to.equal("pass");
  });

  it("asks for the processor CA's CRL for a Processor-CA PCK and accepts the .../certification/v4/ URL form", async function () {
    const generated = generateTdxQuote({ now: NOW, pckCa: "processor" });
    pccs = await startFakePccs(serveGenerated(generated));
    await fetchCollateral(generated.quote, { pccsUrl: `${pccs.url}/sgx/certification/v4/`, now: NOW });
    expect(pccs.requests[0]?.url).to.equal("/sgx/certification/v4/pckcrl?ca=processor&encoding=der");
  });

  it("serves a second call from the cache without any request, and refetches once stale", async function () {
    const generated = generateTdxQuote({ now: NOW });
    pccs = await startFakePccs(serveGenerated(generated));
    const options = { pccsUrl: pccs.url, cacheDir, now: NOW };

    const first = await fetchCollateral(generated.quote, options);
    expect(first.fromCache).to.equal(false);
    expect(pccs.requests).to.have.length(4);
    const files = await readdir(cacheDir);
    expect(files).to.have.length(1);
    expect(files[0]).to.match(new RegExp(`^tdx-${generated.fmspc}-platform-[0-9a-f]{16}\\.json$`));

    const second = await fetchCollateral(generated.quote, options);
    expect(second.fromCache).to.equal(true);
    expect(second.collateral).to.deep.equal(first.collateral);
    expect(pccs.requests, "a cache hit makes no request").to.have.length(4);

    const later = new Date(first.expiresAt.getTime() + 1000);
    const third = await fetchCollateral(generated.quote, { ...options, now: later });
    expect(third.fromCache).to.equal(false);
    expect(pccs.requests, "a stale entry is refetched").to.have.length(8);
  });

  it("refetches over a damaged cache entry", async function () {
    const generated = generateTdxQuote({ now: NOW });
    pccs = await startFakePccs(serveGenerated(generated));
    const options = { pccsUrl: pccs.url, cacheDir, now: NOW };
    await fetchCollateral(generated.quote, options);
    const [file] = await readdir(cacheDir);
    await writeFile(path.join(cacheDir, file!), "{ damaged");
    const again = await fetchCollateral(generated.quote, options);
    expect(again.fromCache).to.equal(false);
    expect(pccs.requests).to.have.length(8);
  });

  it("refetches over an oversized cache entry without reading it", async function () {
    const generated = generateTdxQuote({ now: NOW });
    pccs = await startFakePccs(serveGenerated(generated));
    const options = { pccsUrl: pccs.url, cacheDir, now: NOW };
    await fetchCollateral(generated.quote, options);
    const [file] = await readdir(cacheDir);
    const entry = path.join(cacheDir, file!);
    const valid = await readFile(entry, "utf8");
    // Still a valid, fresh entry, but padded past the bound: not read, refetched.
    await writeFile(entry, `${valid}${" ".repeat(2 * MAX_COLLATERAL_BYTES)}`);
    const again = await fetchCollateral(generated.quote, options);
    expect(again.fromCache).to.equal(false);
    expect(pccs.requests).to.have.length(8);
  });

  it("keeps separate cache entries per FMSPC", async function () {
    const a = generateTdxQuote({ now: NOW, fmspc: "00a06f000000" });
    const b = generateTdxQuote({ now: NOW, fmspc: "00b06f000000" });
    pccs = await startFakePccs(serveGenerated(a));
    await fetchCollateral(a.quote, { pccsUrl: pccs.url, cacheDir, now: NOW });
    pccs.content = serveGenerated(b);
    const fetched = await fetchCollateral(b.quote, { pccsUrl: pccs.url, cacheDir, now: NOW });
    expect(fetched.fromCache).to.equal(false);
    expect(fetched.collateral).to.deep.equal(b.collateral);
    expect(await readdir(cacheDir)).to.have.length(2);
  });

  it("falls back to the root certificate's CRL distribution point when the PCCS has no rootcacrl", async function () {
    pccs = await startFakePccs(undefined, { noRootCaCrlEndpoint: true });
    const generated = generateTdxQuote({ now: NOW, rootCrlDistributionPoint: `${pccs.url}/crl/root.der` });
    pccs.content = serveGenerated(generated);
    const fetched = await fetchCollateral(generated.quote, { pccsUrl: pccs.url, now: NOW });
    expect(fetched.collateral.root_ca_crl).to.equal(generated.collateral.root_ca_crl);
    expect(pccs.requests.map((r) => r.url).slice(-2)).to.deep.equal(["/sgx/certification/v4/rootcacrl", "/crl/root.der"]);
  });

  it("fetches the real sample's collateral (Platform CA) and it verifies against Intel's root", async function () {
    if (!existsSync(SAMPLE_QUOTE) || !existsSync(SAMPLE_COLLATERAL)) {
      console.log(`    skipping: dcap-qvl sample fixtures not found under ${FIXTURES}`);
      this.skip();
    }
    const quote = Uint8Array.from(await readFile(SAMPLE_QUOTE));
    const collateral = await loadCollateralFile(SAMPLE_COLLATERAL);
    pccs = await startFakePccs({ collateral, tee: "tdx", fmspc: "B0C06F000000", ca: "platform" });
    const fetched = await fetchCollateral(quote, { pccsUrl: pccs.url, now: NOW, cacheDir });
    expect(fetched.collateral).to.deep.equal(collateral);
    expect(pccs.requests[0]?.url).to.equal("/sgx/certification/v4/pckcrl?ca=platform&encoding=der");
    const verdict = verifyQuoteSignature(quote, fetched.collateral, { now: NOW });
    expect(verdict.status, verdict.detail).to.equal("pass");
    expect(verdict.tcbStatus).to.equal("UpToDate");
  });

  it("sends URL credentials as basic auth and never shows them in errors", async function () {
    const served = generateTdxQuote({ now: NOW, fmspc: "00a06f000000" });
    const other = generateTdxQuote({ now: NOW, fmspc: "00b06f000000" });
    pccs = await startFakePccs(serveGenerated(served));
    const base = pccs.url.replace("http://", "http://alice:hunter2@");
    const url = `${base}/?apikey=s3cr3t-token`;

    // The first request carries the credentials as a header.
    const error = await expectRejection(fetchCollateral(other.quote, { pccsUrl: url, now: NOW }));
    expect(pccs.requests[0]?.authorization).to.equal(`Basic ${Buffer.from("alice:hunter2").toString("base64")}`);
    expect(pccs.requests[0]?.url).to.contain("apikey=s3cr3t-token");

    // The TCB request for the unknown FMSPC is a 404: typed, with a clean URL.
    expect(error).to.be.instanceOf(PccsRequestError);
    const pccsError = error as PccsRequestError;
    expect(pccsError.code).to.equal("PCCS_HTTP_ERROR");
    expect(pccsError.httpStatus).to.equal(404);
    expect(pccsError.url).to.equal(`${pccs.url}/tdx/certification/v4/tcb?apikey=REDACTED&fmspc=00B06F000000`);
    expect(pccsError.message).to.contain(pccsError.url);
    for (const secret of ["alice", "hunter2", "s3cr3t"]) {
      expect(pccsError.message).not.to.contain(secret);
      expect(pccsError.details ?? "").not.to.contain(secret);
    }
  });

  it("gives a typed error with the URL minus credentials when the PCCS is unreachable", async function () {
    const generated = generateTdxQuote({ now: NOW });
    const closed = await closedLoopbackUrl();
    const url = `${closed.replace("http://", "http://bob:pa55word@")}/?token=topsecret`;
    const error = await expectRejection(fetchCollateral(generated.quote, { pccsUrl: url, now: NOW }));
    expect(error).to.be.instanceOf(PccsRequestError);
    expect(error.code).to.equal("PCCS_UNREACHABLE");
    const shown = `${closed}/sgx/certification/v4/pckcrl?token=REDACTED&ca=platform&encoding=der`;
    expect((error as PccsRequestError).url).to.equal(shown);
    expect(error.message).to.equal(`cannot reach PCCS at ${shown} (ECONNREFUSED)`);
    for (const secret of ["bob", "pa55word", "topsecret"]) expect(error.message).not.to.contain(secret);
  });

  it("times out on a PCCS that never answers", async function () {
    const generated = generateTdxQuote({ now: NOW });
    pccs = await startFakePccs(serveGenerated(generated), { hang: true });
    const error = await expectRejection(fetchCollateral(generated.quote, { pccsUrl: pccs.url, now: NOW, timeoutMs: 200 }));
    expect(error.code).to.equal("PCCS_TIMEOUT");
    expect(error.message).to.contain(`${pccs.url}/sgx/certification/v4/pckcrl?ca=platform&encoding=der`);
  });

  it("rejects a response without its issuer-chain header", async function () {
    const generated = generateTdxQuote({ now: NOW });
    pccs = await startFakePccs(serveGenerated(generated), { omitTcbIssuerChain: true });
    const error = await expectRejection(fetchCollateral(generated.quote, { pccsUrl: pccs.url, now: NOW }));
    expect(error.code).to.equal("PCCS_BAD_RESPONSE");
    expect(error.message).to.match(/missing TCB-Info-Issuer-Chain/);
  });

  it("does not cache collateral that is already stale", async function () {
    const generated = generateTdxQuote({
      now: NOW,
      collateralIssueDate: new Date(NOW.getTime() - 40 * DAY_MS),
      collateralNextUpdate: new Date(NOW.getTime() - 10 * DAY_MS),
    });
    pccs = await startFakePccs(serveGenerated(generated));
    const fetched = await fetchCollateral(generated.quote, { pccsUrl: pccs.url, cacheDir, now: NOW });
    expect(fetched.expiresAt.getTime()).to.be.lessThan(NOW.getTime());
    expect(await readdir(cacheDir)).to.deep.equal([]);
  });
});

describe("collateral: PCCS client with an injected fetch", function () {
  it("makes every request through the injected fetch, and the result verifies", async function () {
    const generated = generateTdxQuote({ now: NOW });
    const stub = fakePccsFetch(generated.collateral);
    const fetched = await fetchCollateral(generated.quote, { pccsUrl: "https://carol:pw@pccs.test/", now: NOW, fetch: stub.fetch });
    expect(fetched.collateral).to.deep.equal(generated.collateral);
    expect(fetched.source).to.equal("https://pccs.test");
    expect(stub.requests.map((r) => r.url)).to.deep.equal([
      "https://pccs.test/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
      `https://pccs.test/tdx/certification/v4/tcb?fmspc=${generated.fmspc}`,
      "https://pccs.test/tdx/certification/v4/qe/identity?update=standard",
      "https://pccs.test/sgx/certification/v4/rootcacrl",
    ]);
    for (const request of stub.requests) {
      expect(request.authorization).to.equal(`Basic ${Buffer.from("carol:pw").toString("base64")}`);
    }
    const verdict = verifyQuoteSignature(generated.quote, fetched.collateral, { now: NOW, trustedRootCaDer: generated.rootCaDer });
    expect(verdict.status, verdict.detail).to.equal("pass");
  });

  it("reports an injected fetch that rejects as PCCS_UNREACHABLE with a clean URL", async function () {
    const generated = generateTdxQuote({ now: NOW });
    const failing: FetchFunction = async () => {
      throw new TypeError("fetch failed", { cause: { code: "EAI_AGAIN" } });
    };
    const error = await expectRejection(fetchCollateral(generated.quote, { pccsUrl: "https://pccs.test/?key=secret", now: NOW, fetch: failing }));
    expect(error).to.be.instanceOf(PccsRequestError);
    expect(error.code).to.equal("PCCS_UNREACHABLE");
    expect(error.message).to.equal(
      "cannot reach PCCS at https://pccs.test/sgx/certification/v4/pckcrl?key=REDACTED&ca=platform&encoding=der (EAI_AGAIN)",
    );
  });
});

describe("collateral: redactUrl", function () {
  it("drops userinfo and redacts query values other than PCS parameters", function () {
    expect(redactUrl("https://u:p@pccs.example/sgx/certification/v4/tcb?fmspc=00&subscription-key=abc")).to.equal(
      "https://pccs.example/sgx/certification/v4/tcb?fmspc=00&subscription-key=REDACTED",
    );
    expect(redactUrl("not a url")).to.equal("<invalid URL>");
  });
});

import { createHash } from "node:crypto";

import { expect } from "chai";

import {
  checkComposeHash,
  checkMeasurements,
  checkMrConfigId,
  checkReportData,
  parseReferenceMeasurements,
  reportDataSha256Of,
} from "../../src/attestation/bindings.js";
import type { Rtmrs } from "../../src/attestation/types.js";
import { InvalidInputError } from "../../src/util/errors.js";

function sha256(data: string | Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

function bytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}

const APP_COMPOSE = JSON.stringify({
  manifest_version: 2,
  name: "demo",
  runner: "docker-compose",
  docker_compose_file: `services:\n  app:\n    image: nginx@sha256:${"ab".repeat(32)}\n`,
  kms_enabled: true,
});

describe("attestation/bindings: compose-hash (check id compose-hash)", function () {
  const composeHash = sha256(APP_COMPOSE);

  it("passes when SHA-256 of the exact app_compose text equals the compose-hash event", function () {
    const check = checkComposeHash(APP_COMPOSE, composeHash);
    expect(check).to.deep.equal({ id: "compose-hash", status: "pass", detail: `sha256(app_compose) = compose-hash event = ${composeHash.toString("hex")}` });
    expect(checkComposeHash(Buffer.from(APP_COMPOSE), composeHash).status).to.equal("pass");
  });

  it("fails when app_compose is one byte off", function () {
    const offByOne = APP_COMPOSE.replace('"demo"', '"demp"');
    expect(offByOne.length).to.equal(APP_COMPOSE.length);
    const check = checkComposeHash(offByOne, composeHash);
    expect(check.status).to.equal("fail");
    expect(check.detail).to.include(`but the compose-hash event says ${composeHash.toString("hex")}`);
    const extraNewline = checkComposeHash(`${APP_COMPOSE}\n`, composeHash);
    expect(extraNewline.status).to.equal("fail");
  });

  it("hashes non-ASCII as UTF-8 and fails on unencodable text", function () {
    const text = '{"name":"café"}';
    expect(checkComposeHash(text, sha256(Buffer.from(text, "utf8"))).status).to.equal("pass");
    expect(checkComposeHash('{"name":"\uD800"}', sha256("x")).status).to.equal("fail");
  });

  it("fails when there is no compose-hash event", function () {
    expect(checkComposeHash(APP_COMPOSE, null).status).to.equal("fail");
  });
});

describe("attestation/bindings: MRCONFIGID (check id mr-config-id)", function () {
  const composeHash = bytes("86".repeat(32));
  const bound = bytes(`01${"86".repeat(32)}${"00".repeat(15)}`);

  it("passes for 0x01 || compose-hash || zero padding", function () {
    expect(checkMrConfigId(bound, composeHash).status).to.equal("pass");
  });

  it("skips an all-zero MRCONFIGID with the reason, or fails it when the binding is required", function () {
    const zero = new Uint8Array(48);
    const skip = checkMrConfigId(zero, composeHash);
    expect(skip.status).to.equal("skip");
    expect(skip.detail).to.include("all zero");
    expect(checkMrConfigId(zero, composeHash, { requireBinding: true }).status).to.equal("fail");
  });

  it("fails on another compose-hash, a non-zero tail, an unknown format byte or a missing event", function () {
    expect(checkMrConfigId(bytes(`01${"87".repeat(32)}${"00".repeat(15)}`), composeHash).detail).to.include("MRCONFIGID binds compose-hash 8787");
    expect(checkMrConfigId(bytes(`01${"86".repeat(32)}${"00".repeat(14)}01`), composeHash).detail).to.include("zero padding");
    for (const format of ["04", "ff", "00"]) {
      const unknown = checkMrConfigId(bytes(`${format}${"86".repeat(32)}${"00".repeat(15)}`), composeHash);
      expect(unknown.status).to.equal("fail");
      expect(unknown.detail).to.include(`unknown format byte 0x${format}`);
    }
    expect(checkMrConfigId(bound, null).status).to.equal("fail");
  });

  it("reports a wrong-length value as an error", function () {
    expect(checkMrConfigId(new Uint8Array(47), composeHash).status).to.equal("error");
  });
});

describe("attestation/bindings: report data (check id report-data)", function () {
  const nonce = bytes("a4d7fd2fdd7291dc8283b8697bd642c520943f066ab7b216fcab14f3c6ab70a8");
  const withNonce = new Uint8Array(64);
  withNonce.set(nonce);
  withNonce[40] = 0x99; // data after the nonce is allowed

  it("nonce: prefix match", function () {
    expect(checkReportData(withNonce, { kind: "nonce", nonce }).status).to.equal("pass");
    const wrong = checkReportData(withNonce, { kind: "nonce", nonce: bytes("a4d7fd2fdd7291dc8283b8697bd642c520943f066ab7b216fcab14f3c6ab70a9") });
    expect(wrong.status).to.equal("fail");
    expect(wrong.detail).to.include("does not start with the nonce");
    expect(checkReportData(withNonce, { kind: "nonce", nonce: new Uint8Array(0) }).status).to.equal("error");
    expect(checkReportData(withNonce, { kind: "nonce", nonce: new Uint8Array(65) }).status).to.equal("error");
  });

  it("exact: the whole 64 bytes, shorter expectations right-padded with zeros as GetQuote does", function () {
    expect(checkReportData(withNonce, { kind: "exact", reportData: withNonce }).status).to.equal("pass");
    expect(checkReportData(withNonce, { kind: "exact", reportData: nonce }).status).to.equal("fail"); // byte 40 is not zero
    const padded = new Uint8Array(64);
    padded.set(nonce);
    expect(checkReportData(padded, { kind: "exact", reportData: nonce }).status).to.equal("pass");
    expect(checkReportData(padded, { kind: "exact", reportData: new Uint8Array(65) }).status).to.equal("error");
  });

  it("sha256: the first 32 bytes are SHA-256 of the file and the last 32 are zero", function () {
    const file = Buffer.from("statement: BTC = 100000 USD\n");
    const digest = sha256(file);
    const good = new Uint8Array(64);
    good.set(digest);
    const expectation = reportDataSha256Of(file, "statement.txt");
    const pass = checkReportData(good, expectation);
    expect(pass.status).to.equal("pass");
    expect(pass.detail).to.equal(`REPORTDATA = sha256(statement.txt) ${digest.toString("hex")} followed by 32 zero bytes`);
    const tail = new Uint8Array(good);
    tail[63] = 1;
    const tailCheck = checkReportData(tail, expectation);
    expect(tailCheck.status).to.equal("fail");
    expect(tailCheck.detail).to.include("bytes 32..64 are not zero");
    expect(checkReportData(good, reportDataSha256Of(Buffer.from("other")))).to.include({ status: "fail" });
    expect(checkReportData(good, { kind: "sha256", digest: new Uint8Array(31) }).status).to.equal("error");
  });

  it("skips without an expectation and errors on a wrong-length REPORTDATA", function () {
    expect(checkReportData(withNonce, undefined).status).to.equal("skip");
    expect(checkReportData(new Uint8Array(32), { kind: "nonce", nonce }).status).to.equal("error");
  });
});

describe("attestation/bindings: reference measurements (check id os-measurements)", function () {
  const report = {
    mrTd: bytes("11".repeat(48)),
    rtmrs: [bytes("00".repeat(48)), bytes("01".repeat(48)), bytes("02".repeat(48)), bytes("03".repeat(48))] as Rtmrs,
  };

  it("parses {mrtd?, rtmr0?, rtmr1?, rtmr2?} from JSON text or an object, hex with or without 0x", function () {
    const parsed = parseReferenceMeasurements(JSON.stringify({ mrtd: `0x${"11".repeat(48)}`, rtmr1: "01".repeat(48) }));
    expect(Object.keys(parsed)).to.deep.equal(["mrtd", "rtmr1"]);
    expect(checkMeasurements(report, parsed)).to.deep.equal({
      id: "os-measurements",
      status: "pass",
      detail: "MRTD, RTMR1 match the reference values; not pinned: RTMR0, RTMR2",
    });
  });

  it("names each mismatching register with expected and actual values", function () {
    const reference = parseReferenceMeasurements({ mrtd: "11".repeat(48), rtmr0: "ff".repeat(48), rtmr2: "ee".repeat(48) });
    const check = checkMeasurements(report, reference);
    expect(check.status).to.equal("fail");
    expect(check.detail).to.equal(
      `RTMR0 mismatch: expected ${"ff".repeat(48)}, quote has ${"00".repeat(48)}; RTMR2 mismatch: expected ${"ee".repeat(48)}, quote has ${"02".repeat(48)}`,
    );
  });

  it("skips when no reference value is given", function () {
    expect(checkMeasurements(report, {}).status).to.equal("skip");
  });

  it("rejects unknown keys (including rtmr3), bad hex and wrong lengths with InvalidInputError", function () {
    expect(() => parseReferenceMeasurements({ rtmr3: "00".repeat(48) })).to.throw(InvalidInputError, 'unknown key "rtmr3"');
    expect(() => parseReferenceMeasurements({ mrTd: "00".repeat(48) })).to.throw(InvalidInputError, 'unknown key "mrTd"');
    expect(() => parseReferenceMeasurements({ mrtd: "zz" })).to.throw(InvalidInputError, "not hexadecimal");
    expect(() => parseReferenceMeasurements({ mrtd: "00".repeat(32) })).to.throw(InvalidInputError, "expected 48 bytes");
    expect(() => parseReferenceMeasurements({ mrtd: 5 })).to.throw(InvalidInputError, "expected a hex string");
    expect(() => parseReferenceMeasurements("[1]")).to.throw(InvalidInputError, "expected a JSON object");
    expect(() => parseReferenceMeasurements("{")).to.throw(InvalidInputError, "not valid JSON");
  });
});

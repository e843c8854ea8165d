/**
 * Conformance against real TDX/dstack output (../shared/fixtures). Each expected value
 * below is a fact stated in ../shared/fixtures/README.md (often only as a prefix/suffix),
 * recomputed here by the code under test, never a pasted output of that code.
 */
import { createHash } from "node:crypto";

import { expect } from "chai";

import { checkMrConfigId, checkReportData } from "../../src/attestation/bindings.js";
import { DSTACK_RUNTIME_EVENT_TYPE, parseEventLog } from "../../src/attestation/event-log.js";
import { parseTdxQuote, type TdxQuote } from "../../src/attestation/quote.js";
import { checkEventLogReplay } from "../../src/attestation/replay.js";
import { extractRuntimeEvents, RuntimeEventError } from "../../src/attestation/runtime-events.js";
import { loadGetQuote, requireFixtures, type GetQuoteFixture } from "./fixture-files.js";

type RawEvent = Record<string, unknown> & { imr: number; event_type: number; digest: string; event: string; event_payload: string };

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function rawEvents(fixture: GetQuoteFixture): RawEvent[] {
  return JSON.parse(fixture.eventLog) as RawEvent[];
}

function indexOfEvent(events: RawEvent[], name: string): number {
  const index = events.findIndex((e) => e.imr === 3 && e.event === name);
  expect(index, `event ${name}`).to.be.greaterThan(-1);
  return index;
}

/** A quote with one byte of the TD report changed (offset relative to the report). */
function tamperQuote(quote: Uint8Array, reportOffset: number): TdxQuote {
  const copy = new Uint8Array(quote);
  copy[48 + reportOffset] = copy[48 + reportOffset]! ^ 0x01;
  return parseTdxQuote(copy);
}

const RTMR3_OFFSET = 472;
const MRCONFIGID_OFFSET = 184;

describe("attestation fixtures: dstack/quote-report.json", function () {
  let fixture: GetQuoteFixture;
  let quote: TdxQuote;

  before(function () {
    requireFixtures(this);
    fixture = loadGetQuote("quote-report.json");
    quote = parseTdxQuote(fixture.quote);
  });

  it("is a TDX v4 quote with a 28-event log", function () {
    expect(quote.header.version).to.equal(4);
    expect(parseEventLog(fixture.eventLog)).to.have.length(28);
  });

  it("replaying the log reproduces RTMR0..RTMR3 of the quote (RTMR3 = 0f787c38…7185a8)", function () {
    const check = checkEventLogReplay(parseEventLog(fixture.eventLog), quote.report.rtmrs);
    expect(check.status, check.detail).to.equal("pass");
    expect(check.comparisons.map((c) => c.register)).to.deep.equal(["rtmr0", "rtmr1", "rtmr2", "rtmr3"]);
    const rtmr3 = hex(check.replay.rtmrs[3]);
    expect(rtmr3.startsWith("0f787c38") && rtmr3.endsWith("7185a8"), rtmr3).to.equal(true);
    expect(rtmr3).to.equal(hex(quote.report.rtmrs[3]));
  });

  it("its runtime events carry digests, and each equals the recomputed v1 digest", function () {
    const events = parseEventLog(fixture.eventLog);
    const runtime = events.filter((e) => e.eventType === DSTACK_RUNTIME_EVENT_TYPE);
    expect(runtime.length).to.be.greaterThan(0);
    expect(runtime.every((e) => e.digest !== null)).to.equal(true);
    expect(checkEventLogReplay(events, quote.report.rtmrs).replay.issues).to.deep.equal([]);
  });

  it("compose-hash = 3763bc34…27e7 and app-id = 3763bc34…1a2d", function () {
    const runtime = extractRuntimeEvents(parseEventLog(fixture.eventLog));
    expect(hex(runtime.composeHash)).to.equal("3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7");
    expect(hex(runtime.appId!)).to.equal("3763bc34552cf3a27ff71ad5f7a90471562a1a2d");
  });

  it("has an extra app event LIUM_MINER_HOTKEY after system-ready", function () {
    const events = rawEvents(fixture);
    expect(indexOfEvent(events, "LIUM_MINER_HOTKEY")).to.be.greaterThan(indexOfEvent(events, "system-ready"));
  });

  it("report_data starts 1234 then zeros", function () {
    expect(checkReportData(quote.report.reportData, { kind: "nonce", nonce: Buffer.from("1234", "hex") }).status).to.equal("pass");
    expect(checkReportData(quote.report.reportData, { kind: "exact", reportData: Buffer.from("1234", "hex") }).status).to.equal("pass");
    expect(checkReportData(quote.report.reportData, { kind: "nonce", nonce: Buffer.from("1235", "hex") }).status).to.equal("fail");
  });

  it("MRCONFIGID is all zero: the binding check skips, or fails when a binding is required", function () {
    const runtime = extractRuntimeEvents(parseEventLog(fixture.eventLog));
    expect(checkMrConfigId(quote.report.mrConfigId, runtime.composeHash).status).to.equal("skip");
    expect(checkMrConfigId(quote.report.mrConfigId, runtime.composeHash, { requireBinding: true }).status).to.equal("fail");
  });
});

describe("attestation fixtures: dstack/tdx-lite-getquote.json", function () {
  let fixture: GetQuoteFixture;
  let quote: TdxQuote;

  before(function () {
    requireFixtures(this);
    fixture = loadGetQuote("tdx-lite-getquote.json");
    quote = parseTdxQuote(fixture.quote);
  });

  it("is a TDX v4 quote with a 29-event log whose runtime digests are empty", function () {
    expect(quote.header.version).to.equal(4);
    const events = parseEventLog(fixture.eventLog);
    expect(events).to.have.length(29);
    const rtmr3Events = events.filter((e) => e.imr === 3);
    expect(rtmr3Events.length).to.be.greaterThan(0);
    expect(rtmr3Events.every((e) => e.eventType === DSTACK_RUNTIME_EVENT_TYPE && e.digest === null)).to.equal(true);
  });

  it("using the given (empty) digests does not reproduce RTMR3", function () {
    // What a verifier that trusts `digest` would compute.
    let naive = Buffer.alloc(48);
    for (const e of rawEvents(fixture).filter((e) => e.imr === 3)) {
      naive = createHash("sha384").update(naive).update(Buffer.from(e.digest, "hex")).digest();
    }
    expect(hex(naive)).to.not.equal(hex(quote.report.rtmrs[3]));
  });

  it("with digests computed from name and payload, replay reproduces RTMR0..RTMR3 (RTMR3 = 6f24c170…69137e)", function () {
    const check = checkEventLogReplay(parseEventLog(fixture.eventLog), quote.report.rtmrs);
    expect(check.status, check.detail).to.equal("pass");
    const rtmr3 = hex(check.replay.rtmrs[3]);
    expect(rtmr3.startsWith("6f24c170") && rtmr3.endsWith("69137e"), rtmr3).to.equal(true);
  });

  it("compose-hash = 86b0e55f…caa9 and MRCONFIGID = 01 || compose-hash (binding passes)", function () {
    const composeHash = "86b0e55f2fa8e4fb69d890f14f54d5612707646e2573d54e0d2ddaaade77caa9";
    const runtime = extractRuntimeEvents(parseEventLog(fixture.eventLog));
    expect(hex(runtime.composeHash)).to.equal(composeHash);
    expect(hex(quote.report.mrConfigId)).to.equal(`01${composeHash}${"00".repeat(15)}`);
    const check = checkMrConfigId(quote.report.mrConfigId, runtime.composeHash, { requireBinding: true });
    expect(check.status, check.detail).to.equal("pass");
  });

  it("os-image-hash event (07a2388c…051d) differs from vm_config.os_image_hash (e6f5cfec…09db)", function () {
    const runtime = extractRuntimeEvents(parseEventLog(fixture.eventLog));
    const fromEvent = hex(runtime.osImageHash!);
    const fromConfig = fixture.vmConfig.os_image_hash as string;
    expect(fromEvent.startsWith("07a2388c") && fromEvent.endsWith("051d"), fromEvent).to.equal(true);
    expect(fromConfig.startsWith("e6f5cfec") && fromConfig.endsWith("09db"), fromConfig).to.equal(true);
    expect(fromEvent).to.not.equal(fromConfig);
  });

  it("extracts the key provider (kms) as JSON", function () {
    const runtime = extractRuntimeEvents(parseEventLog(fixture.eventLog));
    expect((runtime.keyProvider!.json as { name: string }).name).to.equal("kms");
    expect(runtime.appId!.length).to.equal(20);
  });
});

describe("attestation fixtures: tamper matrix (in-memory copies)", function () {
  let report: GetQuoteFixture;
  let lite: GetQuoteFixture;

  before(function () {
    requireFixtures(this);
    report = loadGetQuote("quote-report.json");
    lite = loadGetQuote("tdx-lite-getquote.json");
  });

  it("a flipped byte in the quote's RTMR3 → replay mismatch on RTMR3 only, with both values", function () {
    const original = parseTdxQuote(lite.quote);
    const tampered = tamperQuote(lite.quote, RTMR3_OFFSET + 5);
    const check = checkEventLogReplay(parseEventLog(lite.eventLog), tampered.report.rtmrs);
    expect(check.status).to.equal("fail");
    expect(check.comparisons.filter((c) => !c.match).map((c) => c.register)).to.deep.equal(["rtmr3"]);
    expect(check.detail).to.equal(
      `RTMR3 mismatch: quote has ${hex(tampered.report.rtmrs[3])}, event log replays to ${hex(original.report.rtmrs[3])}`,
    );
  });

  it("a changed payload (no given digest) → RTMR3 mismatch", function () {
    const events = rawEvents(lite);
    const i = indexOfEvent(events, "compose-hash");
    events[i] = { ...events[i]!, event_payload: "00".repeat(32) };
    const check = checkEventLogReplay(parseEventLog(events), parseTdxQuote(lite.quote).report.rtmrs);
    expect(check.status).to.equal("fail");
    expect(check.comparisons.filter((c) => !c.match).map((c) => c.register)).to.deep.equal(["rtmr3"]);
  });

  it("a changed payload under a given digest → digest failure naming the event, and RTMR3 mismatch", function () {
    const events = rawEvents(report);
    const i = indexOfEvent(events, "app-id");
    events[i] = { ...events[i]!, event_payload: "ff".repeat(20) };
    const check = checkEventLogReplay(parseEventLog(events), parseTdxQuote(report.quote).report.rtmrs);
    expect(check.status).to.equal("fail");
    expect(check.replay.issues.map((x) => [x.kind, x.index, x.event])).to.deep.equal([["digest-mismatch", i, "app-id"]]);
    expect(check.detail).to.include("RTMR3 mismatch");
    expect(check.detail).to.include(`event #${i} "app-id": given digest`);
  });

  it("a dropped boot event → RTMR0 mismatch; a dropped runtime event → RTMR3 mismatch", function () {
    const rtmrs = parseTdxQuote(report.quote).report.rtmrs;
    const withoutBoot = rawEvents(report).filter((_, i) => i !== 0);
    const boot = checkEventLogReplay(parseEventLog(withoutBoot), rtmrs);
    expect(boot.comparisons.filter((c) => !c.match).map((c) => c.register)).to.deep.equal(["rtmr0"]);
    const events = rawEvents(report);
    const i = indexOfEvent(events, "key-provider");
    const runtime = checkEventLogReplay(parseEventLog(events.filter((_, j) => j !== i)), rtmrs);
    expect(runtime.comparisons.filter((c) => !c.match).map((c) => c.register)).to.deep.equal(["rtmr3"]);
  });

  it("two runtime events swapped → RTMR3 mismatch", function () {
    const events = rawEvents(lite);
    const a = indexOfEvent(events, "app-id");
    const b = indexOfEvent(events, "compose-hash");
    [events[a], events[b]] = [events[b]!, events[a]!];
    const check = checkEventLogReplay(parseEventLog(events), parseTdxQuote(lite.quote).report.rtmrs);
    expect(check.comparisons.filter((c) => !c.match).map((c) => c.register)).to.deep.equal(["rtmr3"]);
  });

  it("a duplicated compose-hash event → duplicate failure naming compose-hash (and RTMR3 mismatch)", function () {
    const events = rawEvents(lite);
    const i = indexOfEvent(events, "compose-hash");
    events.splice(i + 1, 0, { ...events[i]! });
    const parsed = parseEventLog(events);
    let caught: unknown;
    try {
      extractRuntimeEvents(parsed);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(RuntimeEventError);
    expect((caught as RuntimeEventError).reason).to.equal("duplicate");
    expect((caught as RuntimeEventError).event).to.equal("compose-hash");
    expect((caught as RuntimeEventError).message).to.include(`events #${i} and #${i + 1}`);
    expect(checkEventLogReplay(parsed, parseTdxQuote(lite.quote).report.rtmrs).status).to.equal("fail");
  });

  it("a wrong given digest → failure naming the event, even though RTMR3 still replays", function () {
    const events = rawEvents(lite);
    const i = indexOfEvent(events, "system-ready");
    events[i] = { ...events[i]!, digest: "ab".repeat(48) };
    const check = checkEventLogReplay(parseEventLog(events), parseTdxQuote(lite.quote).report.rtmrs);
    expect(check.status).to.equal("fail");
    expect(check.comparisons.every((c) => c.match)).to.equal(true);
    expect(check.detail).to.include(`event #${i} "system-ready": given digest ${"ab".repeat(48)} differs`);
  });

  it("marking the runtime events as v2 changes their digests → RTMR3 mismatch", function () {
    const events = rawEvents(lite).map((e) => (e.imr === 3 ? { ...e, version: 2 } : e));
    const check = checkEventLogReplay(parseEventLog(events), parseTdxQuote(lite.quote).report.rtmrs);
    expect(check.comparisons.filter((c) => !c.match).map((c) => c.register)).to.deep.equal(["rtmr3"]);
  });

  it("moving compose-hash out of RTMR3 → RTMR2/RTMR3 mismatch and no attested compose-hash", function () {
    const events = rawEvents(lite);
    const i = indexOfEvent(events, "compose-hash");
    events[i] = { ...events[i]!, imr: 2 };
    const parsed = parseEventLog(events);
    const check = checkEventLogReplay(parsed, parseTdxQuote(lite.quote).report.rtmrs);
    expect(check.comparisons.filter((c) => !c.match).map((c) => c.register)).to.deep.equal(["rtmr2", "rtmr3"]);
    expect(() => extractRuntimeEvents(parsed)).to.throw(RuntimeEventError, 'no "compose-hash"');
  });

  it("a flipped byte in MRCONFIGID → the MRCONFIGID binding fails", function () {
    const composeHash = extractRuntimeEvents(parseEventLog(lite.eventLog)).composeHash;
    const inHash = tamperQuote(lite.quote, MRCONFIGID_OFFSET + 10);
    const inHashCheck = checkMrConfigId(inHash.report.mrConfigId, composeHash);
    expect(inHashCheck.status).to.equal("fail");
    expect(inHashCheck.detail).to.include("MRCONFIGID binds compose-hash");
    const inPadding = tamperQuote(lite.quote, MRCONFIGID_OFFSET + 40);
    expect(checkMrConfigId(inPadding.report.mrConfigId, composeHash).status).to.equal("fail");
  });
});

import { createHash } from "node:crypto";

import { expect } from "chai";

import { DSTACK_RUNTIME_EVENT_TYPE, parseEventLog } from "../../src/attestation/event-log.js";
import {
  checkEventLogReplay,
  eventDigest,
  replayEventLog,
  runtimeEventCanonicalJsonV2,
  runtimeEventDigest,
  runtimeEventHashInput,
} from "../../src/attestation/replay.js";
import type { Rtmrs } from "../../src/attestation/types.js";

/** Reference SHA-384 written independently of the code under test. */
function sha384(...parts: (Uint8Array | string)[]): Buffer {
  const h = createHash("sha384");
  for (const part of parts) h.update(part);
  return h.digest();
}

const ZERO48 = Buffer.alloc(48);
const TYPE_LE = Buffer.from([0x01, 0x00, 0x00, 0x08]); // u32_le(0x08000001)

function runtime(event: string, payloadHex: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { imr: 3, event_type: DSTACK_RUNTIME_EVENT_TYPE, digest: "", event, event_payload: payloadHex, ...overrides };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function rtmrs(r3: Uint8Array, r0: Uint8Array = ZERO48, r1: Uint8Array = ZERO48, r2: Uint8Array = ZERO48): Rtmrs {
  return [r0, r1, r2, r3];
}

describe("attestation/replay: runtime event digests", function () {
  it("v1: SHA-384(u32_le(0x08000001) || ':' || name || ':' || payload)", function () {
    const payload = Buffer.from("deadbeef", "hex");
    const expected = sha384(TYPE_LE, ":", "app-id", ":", payload);
    expect(hex(runtimeEventDigest("app-id", payload, 1))).to.equal(hex(expected));
    expect(hex(runtimeEventHashInput("app-id", payload, 1))).to.equal(`01000008${hex(Buffer.from(":app-id:"))}deadbeef`);
    // Names are hashed as UTF-8.
    expect(hex(runtimeEventDigest("é", new Uint8Array(0), 1))).to.equal(hex(sha384(TYPE_LE, ":", Buffer.from([0xc3, 0xa9]), ":")));
  });

  it("v2: SHA-384 of the JCS text {name, payload (lowercase hex), type}, written out by hand", function () {
    const jcs = '{"name":"compose-hash","payload":"abcd","type":134217729}';
    expect(runtimeEventCanonicalJsonV2("compose-hash", Buffer.from("abcd", "hex"))).to.equal(jcs);
    expect(hex(runtimeEventDigest("compose-hash", Buffer.from("abcd", "hex"), 2))).to.equal(hex(sha384(jcs)));
    expect(hex(runtimeEventDigest("", new Uint8Array(0), 2))).to.equal(hex(sha384('{"name":"","payload":"","type":134217729}')));
  });

  it("v2: escapes the name as JCS/ECMAScript JSON does and keeps non-ASCII as UTF-8", function () {
    const name = 'a"b\\c\n\u0001é🦀';
    const jcs = String.raw`{"name":"a\"b\\c\n\u0001é🦀","payload":"ff","type":134217729}`;
    expect(runtimeEventCanonicalJsonV2(name, Buffer.from([0xff]))).to.equal(jcs);
    expect(hex(runtimeEventDigest(name, Buffer.from([0xff]), 2))).to.equal(hex(sha384(Buffer.from(jcs, "utf8"))));
  });

  it("v2 events in a log: `version: 2` selects the rule, payload hex case does not matter", function () {
    const events = parseEventLog([runtime("compose-hash", "ABCD", { version: 2 })]);
    const digest = sha384('{"name":"compose-hash","payload":"abcd","type":134217729}');
    const expectedRtmr3 = sha384(ZERO48, digest);
    const replay = replayEventLog(events);
    expect(hex(eventDigest(events[0]!)!)).to.equal(hex(digest));
    expect(hex(replay.rtmrs[3])).to.equal(hex(expectedRtmr3));
    expect(replay.issues).to.deep.equal([]);
  });
});

describe("attestation/replay: RTMR replay", function () {
  it("extends each register in log order from 48 zero bytes (mixed v1/v2, boot and runtime)", function () {
    const bootDigest = "5a".repeat(48);
    const items = [
      { imr: 0, event_type: 0x80000001, digest: bootDigest, event: "", event_payload: "" },
      runtime("app-id", "0102"),
      runtime("compose-hash", "0304", { version: 2 }),
      runtime("instance-id", "0506"),
    ];
    const d1 = sha384(TYPE_LE, ":app-id:", Buffer.from([1, 2]));
    const d2 = sha384('{"name":"compose-hash","payload":"0304","type":134217729}');
    const d3 = sha384(TYPE_LE, ":instance-id:", Buffer.from([5, 6]));
    const r3 = sha384(sha384(sha384(ZERO48, d1), d2), d3);
    const r0 = sha384(ZERO48, Buffer.from(bootDigest, "hex"));

    const replay = replayEventLog(parseEventLog(items));
    expect(replay.rtmrs.map(hex)).to.deep.equal([hex(r0), hex(ZERO48), hex(ZERO48), hex(r3)]);
    expect(replay.eventCounts).to.deep.equal([1, 0, 0, 3]);

    const check = checkEventLogReplay(parseEventLog(items), rtmrs(r3, r0));
    expect(check.status, check.detail).to.equal("pass");
    expect(check.id).to.equal("event-log-replay");
  });

  it("uses the recomputed digest even when a (correct) digest is given", function () {
    const d = sha384(TYPE_LE, ":app-id:", Buffer.from([1]));
    const events = parseEventLog([runtime("app-id", "01", { digest: hex(d) })]);
    const check = checkEventLogReplay(events, rtmrs(sha384(ZERO48, d)));
    expect(check.status, check.detail).to.equal("pass");
  });

  it("a wrong given digest fails and names the event", function () {
    const d = sha384(TYPE_LE, ":app-id:", Buffer.from([1]));
    const events = parseEventLog([runtime("system-preparing", ""), runtime("app-id", "01", { digest: "ee".repeat(48) })]);
    const expected = sha384(sha384(ZERO48, sha384(TYPE_LE, ":system-preparing:")), d);
    const check = checkEventLogReplay(events, rtmrs(expected));
    expect(check.status).to.equal("fail");
    expect(check.detail).to.include('event #1 "app-id": given digest eeee');
    expect(check.detail).to.include(`computed from its name and payload (v1) ${hex(d)}`);
    expect(check.replay.issues).to.have.length(1);
    expect(check.replay.issues[0]).to.include({ kind: "digest-mismatch", index: 1, event: "app-id", imr: 3 });
    // The register itself still matches: the recomputed digest was extended.
    expect(check.comparisons.every((c) => c.match)).to.equal(true);
  });

  it("a boot event without a digest fails (its payload cannot be re-hashed)", function () {
    const events = parseEventLog([{ imr: 1, event_type: 4, digest: "", event: "", event_payload: "00000000" }]);
    const check = checkEventLogReplay(events, rtmrs(ZERO48));
    expect(check.status).to.equal("fail");
    expect(check.detail).to.include("event #0: boot event (type 0x00000004) has no digest, so RTMR1 cannot be replayed");
    expect(eventDigest(events[0]!)).to.equal(null);
  });

  it("cross-checks a given hash_input against the recomputed pre-image", function () {
    const good = hex(Buffer.concat([TYPE_LE, Buffer.from(":app-id:"), Buffer.from([1])]));
    const d = sha384(Buffer.from(good, "hex"));
    expect(checkEventLogReplay(parseEventLog([runtime("app-id", "01", { hash_input: good })]), rtmrs(sha384(ZERO48, d))).status).to.equal("pass");
    const bad = checkEventLogReplay(parseEventLog([runtime("app-id", "01", { hash_input: "00" })]), rtmrs(sha384(ZERO48, d)));
    expect(bad.status).to.equal("fail");
    expect(bad.detail).to.include('event #0 "app-id": given hash_input is not the v1 digest pre-image');
  });

  it("a v2 event with its `preimage` (current dstack) passes; a preimage one byte off fails", function () {
    const jcs = '{"name":"compose-hash","payload":"abcd","type":134217729}';
    const d = sha384(jcs);
    const good = runtime("compose-hash", "abcd", { version: 2, digest: hex(d), preimage: hex(Buffer.from(jcs)) });
    const pass = checkEventLogReplay(parseEventLog([good]), rtmrs(sha384(ZERO48, d)));
    expect(pass.status, pass.detail).to.equal("pass");
    // A preimage that hashes to the given digest but is not the canonical form of name and payload.
    const reordered = '{"type":134217729,"name":"compose-hash","payload":"abcd"}';
    const forged = checkEventLogReplay(
      parseEventLog([{ ...good, preimage: hex(Buffer.from(reordered)), digest: hex(sha384(reordered)) }]),
      rtmrs(sha384(ZERO48, d)),
    );
    expect(forged.status).to.equal("fail");
    expect(forged.detail).to.include('event #0 "compose-hash": given preimage is not the v2 digest pre-image of its name and payload');
    expect(forged.replay.issues.map((i) => i.kind)).to.include("preimage-mismatch");
    // The v1 pre-image of the same event is not its v2 pre-image either.
    const v1Input = hex(Buffer.concat([TYPE_LE, Buffer.from(":compose-hash:"), Buffer.from("abcd", "hex")]));
    expect(checkEventLogReplay(parseEventLog([{ ...good, preimage: v1Input }]), rtmrs(sha384(ZERO48, d))).status).to.equal("fail");
  });

  it("a digest pre-image on a boot event fails (dstack gives pre-images for runtime events only)", function () {
    const digest = sha384("boot");
    const boot = { imr: 0, event_type: 0x80000001, digest: hex(digest), event: "", event_payload: "", preimage: hex(Buffer.from("boot")) };
    const check = checkEventLogReplay(parseEventLog([boot]), rtmrs(ZERO48, sha384(ZERO48, digest)));
    expect(check.status).to.equal("fail");
    expect(check.detail).to.include("event #0: boot event (type 0x80000001) carries a digest pre-image");
  });

  it("`version: 2` on a boot event fails (only runtime events have digest versions)", function () {
    const digest = sha384("boot");
    const boot = { imr: 1, event_type: 0x80000001, digest: hex(digest), event: "", event_payload: "", version: 2 };
    const check = checkEventLogReplay(parseEventLog([boot]), rtmrs(ZERO48, ZERO48, sha384(ZERO48, digest)));
    expect(check.status).to.equal("fail");
    expect(check.detail).to.include("event #0: boot event (type 0x80000001) is marked version 2");
    expect(checkEventLogReplay(parseEventLog([{ ...boot, version: 1 }]), rtmrs(ZERO48, ZERO48, sha384(ZERO48, digest))).status).to.equal("pass");
  });

  for (const type of [1, 4, 0x80000001, 0x08000002, 0]) {
    it(`an event of type 0x${type.toString(16)} in IMR 3 fails even when its stated digest reproduces RTMR3`, function () {
      const d = sha384(TYPE_LE, ":app-id:", Buffer.from([1]));
      const events = parseEventLog([runtime("app-id", "01", { event_type: type, digest: hex(d) })]);
      const check = checkEventLogReplay(events, rtmrs(sha384(ZERO48, d)));
      expect(check.comparisons.every((c) => c.match), "RTMR3 still matches").to.equal(true);
      expect(check.status).to.equal("fail");
      expect(check.replay.issues.map((i) => i.kind)).to.deep.equal(["not-runtime-event"]);
      expect(check.detail).to.include(`event #0 "app-id": event type 0x${type.toString(16).padStart(8, "0")} in RTMR3, where only dstack runtime events (type 0x08000001`);
    });
  }

  it("reports which register mismatched, with expected and computed values", function () {
    const events = parseEventLog([runtime("app-id", "01")]);
    const computed = sha384(ZERO48, sha384(TYPE_LE, ":app-id:", Buffer.from([1])));
    const quoted = rtmrs(Buffer.alloc(48, 0x77));
    const check = checkEventLogReplay(events, quoted);
    expect(check.status).to.equal("fail");
    expect(check.detail).to.equal(`RTMR3 mismatch: quote has ${"77".repeat(48)}, event log replays to ${hex(computed)}`);
    expect(check.comparisons.filter((c) => !c.match).map((c) => c.register)).to.deep.equal(["rtmr3"]);
  });

  it("checks all four registers by default; `registers` narrows it for logs without boot events", function () {
    const events = parseEventLog([runtime("app-id", "01")]);
    const computed = sha384(ZERO48, sha384(TYPE_LE, ":app-id:", Buffer.from([1])));
    const quoted = rtmrs(computed, Buffer.alloc(48, 1));
    const all = checkEventLogReplay(events, quoted);
    expect(all.status).to.equal("fail");
    expect(all.detail).to.match(/^RTMR0 mismatch/);
    const onlyRtmr3 = checkEventLogReplay(events, quoted, { registers: [3] });
    expect(onlyRtmr3.status, onlyRtmr3.detail).to.equal("pass");
    expect(onlyRtmr3.detail).to.equal("RTMR3 reproduced by replaying 1 events");
  });

  it("caps the number of issue messages in the detail line", function () {
    const items = Array.from({ length: 50 }, (_, i) => runtime(`e${i}`, "", { digest: "ee".repeat(48) }));
    const check = checkEventLogReplay(parseEventLog(items), rtmrs(ZERO48), { registers: [] });
    expect(check.status).to.equal("fail");
    expect(check.replay.issues).to.have.length(50);
    expect(check.detail).to.include("and 45 more event issues");
  });
});

describe("attestation/replay: large logs", function () {
  // Speed is measured by scripts/bench-verify.ts, not asserted here; this checks that a
  // 4,096-event log (the benchmark's input) replays to an independently computed RTMR3.
  it("replays a 4,096-event log of empty-digest runtime events to the chain computed with node:crypto", function () {
    const items = Array.from({ length: 4096 }, (_, i) => runtime(`event-${i}`, Buffer.alloc(32, i & 0xff).toString("hex")));
    let expected = Buffer.alloc(48);
    for (let i = 0; i < 4096; i++) {
      const name = Buffer.from(`event-${i}`, "utf8");
      const typeLe = Buffer.alloc(4);
      typeLe.writeUInt32LE(0x08000001);
      const digest = createHash("sha384").update(Buffer.concat([typeLe, Buffer.from(":"), name, Buffer.from(":"), Buffer.alloc(32, i & 0xff)])).digest();
      expected = createHash("sha384").update(Buffer.concat([expected, digest])).digest();
    }
    const replay = replayEventLog(parseEventLog(items));
    expect(Buffer.from(replay.rtmrs[3]).toString("hex")).to.equal(expected.toString("hex"));
    expect(replay.issues).to.deep.equal([]);
  });
});

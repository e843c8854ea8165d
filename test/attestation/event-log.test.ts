import { expect } from "chai";

import {
  DSTACK_RUNTIME_EVENT_TYPE,
  EventLogError,
  MAX_EVENT_LOG_EVENTS,
  MAX_EVENT_LOG_JSON_CHARS,
  MAX_EVENT_LOG_PAYLOAD_BYTES,
  MAX_EVENT_NAME_CHARS,
  MAX_EVENT_PAYLOAD_BYTES,
  parseEventLog,
  type EventLogErrorReason,
} from "../../src/attestation/event-log.js";

const DIGEST = "ab".repeat(48);

function runtimeEntry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { imr: 3, event_type: DSTACK_RUNTIME_EVENT_TYPE, digest: "", event: "app-id", event_payload: "00".repeat(20), ...overrides };
}

function expectLogError(input: unknown, reason: EventLogErrorReason, messagePart: string, index?: number): void {
  let caught: unknown;
  try {
    parseEventLog(input as string);
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected an EventLogError").to.be.instanceOf(EventLogError);
  const error = caught as EventLogError;
  expect(error.reason, error.message).to.equal(reason);
  expect(error.message).to.include(messagePart);
  if (index !== undefined) expect(error.index).to.equal(index);
}

describe("attestation/event-log: parsing", function () {
  it("parses JSON text and arrays into typed entries", function () {
    const items = [
      { imr: 0, event_type: 0x80000001, digest: DIGEST.toUpperCase(), event: "", event_payload: "" },
      runtimeEntry({ version: 2, event: "compose-hash", event_payload: "11".repeat(32) }),
      runtimeEntry({ hash_input: "0a0b" }),
    ];
    for (const input of [JSON.stringify(items), items]) {
      const entries = parseEventLog(input);
      expect(entries).to.have.length(3);
      const [boot, v2, withInput] = entries;
      expect(boot!.index).to.equal(0);
      expect(boot!.imr).to.equal(0);
      expect(boot!.eventType).to.equal(0x80000001);
      expect(Buffer.from(boot!.digest!).toString("hex")).to.equal(DIGEST);
      expect(boot!.version).to.equal(1);
      expect(v2!.version).to.equal(2);
      expect(v2!.digest).to.equal(null);
      expect(Buffer.from(v2!.payload).toString("hex")).to.equal("11".repeat(32));
      expect([...withInput!.hashInput!]).to.deep.equal([10, 11]);
    }
  });

  it("treats an absent digest like an empty one (dstack's serde default)", function () {
    const { digest: _omit, ...entry } = runtimeEntry();
    expect(parseEventLog([entry])[0]!.digest).to.equal(null);
  });

  it("accepts an empty log", function () {
    expect(parseEventLog("[]")).to.deep.equal([]);
  });
});

describe("attestation/event-log: malformed input is rejected with a reason", function () {
  it("invalid JSON and non-array top levels", function () {
    expectLogError("[{", "invalid-json", "not valid JSON");
    expectLogError('{"imr":3}', "not-array", "must be an array");
    expectLogError("42", "not-array", "must be an array");
    expectLogError(42, "not-array", "JSON string or an array");
  });

  it("entries that are not objects", function () {
    expectLogError([null], "invalid-entry", "event #0 must be an object, got null", 0);
    expectLogError([runtimeEntry(), []], "invalid-entry", "event #1 must be an object, got an array", 1);
    expectLogError(["x"], "invalid-entry", 'got "x"', 0);
  });

  it("missing and unknown fields", function () {
    for (const field of ["imr", "event_type", "event", "event_payload"]) {
      const entry = runtimeEntry();
      delete entry[field];
      expectLogError([entry], "missing-field", `missing field "${field}"`, 0);
    }
    expectLogError([runtimeEntry({ payload: "00" })], "unknown-field", 'unknown field "payload"', 0);
  });

  const invalidFields: [string, Record<string, unknown>, string][] = [
    ["imr out of range", { imr: 4 }, 'field "imr" must be an integer 0..3'],
    ["negative imr", { imr: -1 }, '"imr"'],
    ["imr as string", { imr: "3" }, '"imr"'],
    ["fractional imr", { imr: 1.5 }, '"imr"'],
    ["negative event_type", { event_type: -1 }, '"event_type" must be an unsigned 32-bit integer'],
    ["event_type above u32", { event_type: 2 ** 32 }, '"event_type"'],
    ["event_type as string", { event_type: "134217729" }, '"event_type"'],
    ["non-string event", { event: 7 }, '"event" must be a string'],
    ["lone surrogate in event", { event: "app\uD800" }, "lone UTF-16 surrogate"],
    ["non-hex payload", { event_payload: "zz" }, '"event_payload" is not hexadecimal'],
    ["0x payload", { event_payload: "0x00" }, '"event_payload" is not hexadecimal'],
    ["odd payload", { event_payload: "abc" }, "odd number of hex digits"],
    ["payload as array", { event_payload: [1, 2] }, '"event_payload" must be a hex string, got an array'],
    ["short digest", { digest: "ab".repeat(47) }, "must be empty or 48 bytes"],
    ["long digest", { digest: "ab".repeat(49) }, '"digest"'],
    ["non-hex digest", { digest: "xy".repeat(48) }, '"digest" is not hexadecimal'],
    ["null digest", { digest: null }, '"digest" must be a hex string, got null'],
    ["version 3", { version: 3 }, '"version" must be 1 or 2, got 3'],
    ["version as string", { version: "2" }, '"version" must be 1 or 2'],
    ["hash_input not hex", { hash_input: 5 }, '"hash_input" must be a hex string'],
    ["preimage not a string", { preimage: 5 }, '"preimage" must be a hex string'],
    ["preimage not hex", { preimage: "0xzz" }, '"preimage" is not hexadecimal'],
  ];
  for (const [name, override, message] of invalidFields) {
    it(`invalid field: ${name}`, function () {
      expectLogError([runtimeEntry(), runtimeEntry(override)], "invalid-field", message, 1);
    });
  }

  it("names the event in field errors", function () {
    expectLogError([runtimeEntry({ event: "compose-hash", event_payload: "x" })], "invalid-field", 'event #0 ("compose-hash")', 0);
  });
});

describe("attestation/event-log: size bounds", function () {
  it("more than MAX_EVENT_LOG_EVENTS events", function () {
    const items = new Array(MAX_EVENT_LOG_EVENTS + 1).fill(runtimeEntry());
    expectLogError(items, "too-many-events", `MAX_EVENT_LOG_EVENTS (${MAX_EVENT_LOG_EVENTS})`);
    expect(parseEventLog(items.slice(1))).to.have.length(MAX_EVENT_LOG_EVENTS);
  });

  it("a payload above MAX_EVENT_PAYLOAD_BYTES", function () {
    const big = runtimeEntry({ event_payload: "00".repeat(MAX_EVENT_PAYLOAD_BYTES + 1) });
    expectLogError([runtimeEntry(), big], "payload-too-large", "MAX_EVENT_PAYLOAD_BYTES", 1);
    expect(parseEventLog([runtimeEntry({ event_payload: "00".repeat(MAX_EVENT_PAYLOAD_BYTES) })])).to.have.length(1);
  });

  it("payloads summing above MAX_EVENT_LOG_PAYLOAD_BYTES", function () {
    const entry = runtimeEntry({ event_payload: "00".repeat(MAX_EVENT_PAYLOAD_BYTES) });
    const count = MAX_EVENT_LOG_PAYLOAD_BYTES / MAX_EVENT_PAYLOAD_BYTES;
    expect(parseEventLog(new Array(count).fill(entry))).to.have.length(count);
    expectLogError(new Array(count + 1).fill(entry), "total-payload-too-large", "MAX_EVENT_LOG_PAYLOAD_BYTES", count);
  });

  it("an event name above MAX_EVENT_NAME_CHARS", function () {
    expectLogError([runtimeEntry({ event: "n".repeat(MAX_EVENT_NAME_CHARS + 1) })], "name-too-long", "MAX_EVENT_NAME_CHARS", 0);
  });

  it("JSON text above MAX_EVENT_LOG_JSON_CHARS, before parsing it", function () {
    expectLogError(" ".repeat(MAX_EVENT_LOG_JSON_CHARS + 1), "too-large", "MAX_EVENT_LOG_JSON_CHARS");
  });
});

import { expect } from "chai";

import { DSTACK_RUNTIME_EVENT_TYPE, parseEventLog, type EventLogEntry } from "../../src/attestation/event-log.js";
import { extractRuntimeEvents, RuntimeEventError, type RuntimeEventErrorReason } from "../../src/attestation/runtime-events.js";

const APP_ID = "aa".repeat(20);
const COMPOSE_HASH = "cc".repeat(32);
const OS_IMAGE_HASH = "0e".repeat(32);
const KEY_PROVIDER = Buffer.from('{"name":"kms","id":"01"}').toString("hex");

function runtime(event: string, payloadHex: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { imr: 3, event_type: DSTACK_RUNTIME_EVENT_TYPE, digest: "", event, event_payload: payloadHex, ...overrides };
}

function log(...items: Record<string, unknown>[]): EventLogEntry[] {
  return parseEventLog(items);
}

function fullLog(): Record<string, unknown>[] {
  return [
    { imr: 0, event_type: 1, digest: "00".repeat(48), event: "", event_payload: "" },
    runtime("system-preparing", ""),
    runtime("app-id", APP_ID),
    runtime("compose-hash", COMPOSE_HASH),
    runtime("instance-id", "1d".repeat(20)),
    runtime("boot-mr-done", ""),
    runtime("os-image-hash", OS_IMAGE_HASH),
    runtime("key-provider", KEY_PROVIDER),
    runtime("system-ready", ""),
  ];
}

function expectRuntimeError(events: EventLogEntry[], reason: RuntimeEventErrorReason, event: string, messagePart: string): void {
  let caught: unknown;
  try {
    extractRuntimeEvents(events);
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected a RuntimeEventError").to.be.instanceOf(RuntimeEventError);
  const error = caught as RuntimeEventError;
  expect(error.reason, error.message).to.equal(reason);
  expect(error.event).to.equal(event);
  expect(error.message).to.include(messagePart);
}

describe("attestation/runtime-events", function () {
  it("extracts app-id, compose-hash, instance-id, os-image-hash and key-provider", function () {
    const result = extractRuntimeEvents(log(...fullLog()));
    expect(Buffer.from(result.appId!).toString("hex")).to.equal(APP_ID);
    expect(Buffer.from(result.composeHash).toString("hex")).to.equal(COMPOSE_HASH);
    expect(Buffer.from(result.instanceId!).toString("hex")).to.equal("1d".repeat(20));
    expect(Buffer.from(result.osImageHash!).toString("hex")).to.equal(OS_IMAGE_HASH);
    expect(result.keyProvider!.text).to.equal('{"name":"kms","id":"01"}');
    expect(result.keyProvider!.json).to.deep.equal({ name: "kms", id: "01" });
    expect(result.indexes).to.deep.equal({ "app-id": 2, "compose-hash": 3, "instance-id": 4, "os-image-hash": 6, "key-provider": 7 });
    expect(result.runtimeEvents.map((e) => e.event)).to.deep.equal(fullLog().slice(1).map((e) => e["event"]));
  });

  it("only needs compose-hash; the others are optional", function () {
    const result = extractRuntimeEvents(log(runtime("compose-hash", COMPOSE_HASH)));
    expect(result.appId).to.equal(null);
    expect(result.instanceId).to.equal(null);
    expect(result.osImageHash).to.equal(null);
    expect(result.keyProvider).to.equal(null);
  });

  it("fails when compose-hash is missing", function () {
    expectRuntimeError(log(runtime("app-id", APP_ID)), "missing", "compose-hash", 'no "compose-hash" runtime event');
  });

  for (const name of ["app-id", "compose-hash", "instance-id", "os-image-hash", "key-provider"]) {
    it(`fails on a duplicate ${name} event, naming it`, function () {
      const items = fullLog();
      const original = items.find((e) => e["event"] === name)!;
      items.push({ ...original });
      expectRuntimeError(log(...items), "duplicate", name, `"${name}" appears more than once in RTMR3 (events #`);
    });
  }

  it("ignores look-alike events outside RTMR3 or with another event type", function () {
    const items = [
      runtime("compose-hash", "ee".repeat(32), { imr: 2 }),
      runtime("compose-hash", "ee".repeat(32), { event_type: 1, digest: "00".repeat(48) }),
      runtime("compose-hash", COMPOSE_HASH),
    ];
    const result = extractRuntimeEvents(log(...items));
    expect(Buffer.from(result.composeHash).toString("hex")).to.equal(COMPOSE_HASH);
    expect(result.indexes["compose-hash"]).to.equal(2);
    // …and they do not stand in for a missing one.
    expectRuntimeError(log(...items.slice(0, 2)), "missing", "compose-hash", "compose-hash");
  });

  const lengths: [string, string, string][] = [
    ["app-id", "aa".repeat(19), "19 bytes, expected 20"],
    ["app-id", "aa".repeat(32), "32 bytes, expected 20"],
    ["compose-hash", "cc".repeat(31), "31 bytes, expected 32"],
    ["compose-hash", "", "0 bytes, expected 32"],
    ["os-image-hash", "0e".repeat(33), "33 bytes, expected 32"],
  ];
  for (const [name, payload, message] of lengths) {
    it(`fails on a ${name} payload of the wrong length (${message})`, function () {
      const items = fullLog().map((e) => (e["event"] === name ? { ...e, event_payload: payload } : e));
      expectRuntimeError(log(...items), "bad-length", name, message);
    });
  }

  it("fails on a key-provider payload that is not UTF-8 JSON", function () {
    const notUtf8 = fullLog().map((e) => (e["event"] === "key-provider" ? { ...e, event_payload: "ff" } : e));
    expectRuntimeError(log(...notUtf8), "bad-payload", "key-provider", "not UTF-8");
    const notJson = fullLog().map((e) => (e["event"] === "key-provider" ? { ...e, event_payload: Buffer.from("kms").toString("hex") } : e));
    expectRuntimeError(log(...notJson), "bad-payload", "key-provider", "not JSON");
  });
});

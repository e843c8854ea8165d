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
    expect(result.runtimeEvents.map((e) => e.event)).to.deep.equal(fullLog().slice(1).map((e) => e.event));
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
      const at = items.findIndex((e) => e.event === name);
      // Both before system-ready: the boundary is not what rejects it.
      items.splice(at + 1, 0, { ...items[at]! });
      expectRuntimeError(log(...items), "duplicate", name, `"${name}" appears more than once in RTMR3 (events #${at} and #${at + 1})`);
    });

    it(`fails on a ${name} event after system-ready, even as the only one (the app emits events then)`, function () {
      const items = fullLog();
      const at = items.findIndex((e) => e.event === name);
      const [moved] = items.splice(at, 1);
      items.push(moved!);
      expectRuntimeError(log(...items), "after-system-ready", name, `runtime event "${name}" (event #8) comes after "system-ready" (event #7)`);
      // …and after it even as a second copy of the system's own event.
      expectRuntimeError(log(...fullLog(), { ...moved! }), "after-system-ready", name, 'after "system-ready" (event #8)');
    });
  }

  it("reads app events after system-ready as app events, and a second system-ready as one of them", function () {
    const result = extractRuntimeEvents(log(...fullLog(), runtime("LIUM_MINER_HOTKEY", "35"), runtime("system-ready", ""), runtime("compose-hash-note", "00")));
    expect(Buffer.from(result.composeHash).toString("hex")).to.equal(COMPOSE_HASH);
    expect(result.systemReadyIndex).to.equal(8);
    expect(result.runtimeEvents).to.have.length(11);
  });

  it("the boundary is the first system-ready of type 0x08000001 in IMR 3, not a look-alike", function () {
    const items = fullLog();
    // A system-ready look-alike in IMR 2 before compose-hash does not move the boundary.
    items.splice(1, 0, runtime("system-ready", "", { imr: 2 }));
    expect(extractRuntimeEvents(log(...items)).systemReadyIndex).to.equal(9);
  });

  it("collects init-script-hash events in order and gpu-policy-hash once, before system-ready", function () {
    const items = fullLog();
    items.splice(4, 0, runtime("init-script-hash", "a1".repeat(32)), runtime("init-script-hash", "a2".repeat(32)), runtime("gpu-policy-hash", "9b".repeat(32)));
    const result = extractRuntimeEvents(log(...items));
    expect(result.initScriptHashes.map((h) => Buffer.from(h).toString("hex"))).to.deep.equal(["a1".repeat(32), "a2".repeat(32)]);
    expect(Buffer.from(result.gpuPolicyHash!).toString("hex")).to.equal("9b".repeat(32));
    expectRuntimeError(log(...items, runtime("init-script-hash", "a3".repeat(32))), "after-system-ready", "init-script-hash", "comes after");
    expectRuntimeError(log(...items.map((e) => (e.event === "init-script-hash" ? { ...e, event_payload: "a1" } : e))), "bad-length", "init-script-hash", "1 bytes, expected 32");
  });

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
      const items = fullLog().map((e) => (e.event === name ? { ...e, event_payload: payload } : e));
      expectRuntimeError(log(...items), "bad-length", name, message);
    });
  }

  it("fails on a key-provider payload that is not UTF-8 JSON", function () {
    const notUtf8 = fullLog().map((e) => (e.event === "key-provider" ? { ...e, event_payload: "ff" } : e));
    expectRuntimeError(log(...notUtf8), "bad-payload", "key-provider", "not UTF-8");
    const notJson = fullLog().map((e) => (e.event === "key-provider" ? { ...e, event_payload: Buffer.from("kms").toString("hex") } : e));
    expectRuntimeError(log(...notJson), "bad-payload", "key-provider", "not JSON");
  });
});

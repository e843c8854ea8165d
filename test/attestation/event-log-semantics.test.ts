/**
 * Event-log semantics end to end: forgeries that keep RTMR3 intact (or are measured
 * honestly by a CVM) must still fail on the check that names the problem.
 *
 * - Real signed captures from ../shared/fixtures (quote signature not checkable offline:
 *   no collateral), tampered in memory.
 * - Synthetic attestations from test/support/attestation-builder.ts, signed by a test
 *   PKI, where the forgery needs a CVM that measured something unusual (an app event
 *   after system-ready, v2 events, MRCONFIGID v2/v3).
 * - MRCONFIGID v2 facts from a real near/mpc capture of 2025-11-05 (crates/test_utils/
 *   assets of github.com/near/mpc, commit 5ea3b6a2): the values below were read from its
 *   quote and event log; the file itself is not part of this repository.
 */
import { createHash } from "node:crypto";

import { keccak_256 } from "@noble/hashes/sha3.js";
import { expect } from "chai";
import { createPublicClient, http } from "viem";

import { checkMrConfigId } from "../../src/attestation/bindings.js";
import { MAX_MR_CONFIG_DOCUMENT_CHARS } from "../../src/attestation/mr-config.js";
import { verifyAttestation, type AttestationVerdict, type VerifyAttestationOptions } from "../../src/attestation/verify.js";
import {
  buildAttestation,
  editEventLog,
  runtimeDigest,
  type BuildAttestationOptions,
  type BuiltAttestation,
  type EventLogJsonEntry,
} from "../support/attestation-builder.js";
import { loadGetQuote, requireFixtures } from "./fixture-files.js";

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function check(verdict: AttestationVerdict, id: string) {
  const found = verdict.checks.find((c) => c.id === id);
  expect(found, `check ${id}`).to.not.equal(undefined);
  return found!;
}

function summary(verdict: AttestationVerdict): string {
  return verdict.checks.map((c) => `${c.id}: ${c.status} (${c.detail})`).join("\n");
}

// ---------------------------------------------------------------------------------
// Real captures
// ---------------------------------------------------------------------------------

type FixtureName = "quote-report.json" | "tdx-lite-getquote.json";

async function verifyFixture(name: FixtureName, edit?: (events: EventLogJsonEntry[]) => void): Promise<AttestationVerdict> {
  const fixture = loadGetQuote(name);
  const events = JSON.parse(fixture.eventLog) as EventLogJsonEntry[];
  edit?.(events);
  const { verdict } = await verifyAttestation(
    { quote: fixture.quoteHex, event_log: JSON.stringify(events), report_data: fixture.reportData, vm_config: JSON.stringify(fixture.vmConfig) },
    { quoteSignature: { mode: "skip" }, reportData: { kind: "exact", reportData: Buffer.from(fixture.reportData, "hex") }, onchain: "skip" },
  );
  return verdict;
}

describe("event-log semantics on real dstack captures (tampered in memory)", function () {
  before(function () {
    requireFixtures(this);
  });

  it("the captures replay, and quote-report.json's app event after system-ready (LIUM_MINER_HOTKEY) is accepted as an app event", async function () {
    for (const name of ["quote-report.json", "tdx-lite-getquote.json"] as const) {
      const verdict = await verifyFixture(name);
      expect(check(verdict, "event-log-replay").status, `${name}\n${summary(verdict)}`).to.equal("pass");
      expect(check(verdict, "mr-config-id").status, name).to.be.oneOf(["pass", "skip"]);
    }
    const events = JSON.parse(loadGetQuote("quote-report.json").eventLog) as EventLogJsonEntry[];
    const ready = events.findIndex((e) => e.event === "system-ready");
    expect(events.slice(ready + 1).map((e) => e.event)).to.deep.equal(["LIUM_MINER_HOTKEY"]);
  });

  const retyped: [FixtureName, string][] = [
    ["quote-report.json", "app-id"],
    ["quote-report.json", "key-provider"],
    ["quote-report.json", "instance-id"],
    ["quote-report.json", "compose-hash"],
    ["tdx-lite-getquote.json", "os-image-hash"],
    ["tdx-lite-getquote.json", "app-id"],
  ];
  for (const [name, event] of retyped) {
    it(`${name}: "${event}" retyped to event_type 1 with its digest kept (RTMR3 still replays) fails event-log-replay`, async function () {
      const verdict = await verifyFixture(name, (events) => {
        const entry = events.find((e) => e.imr === 3 && e.event === event)!;
        // The lite capture leaves runtime digests empty: state the true one, so the
        // register still replays exactly.
        entry.digest = runtimeDigest(entry.event, Buffer.from(entry.event_payload, "hex")).toString("hex");
        entry.event_type = 1;
      });
      const replay = check(verdict, "event-log-replay");
      expect(replay.status, summary(verdict)).to.equal("fail");
      expect(replay.detail).to.include(`"${event}": event type 0x00000001 in RTMR3, where only dstack runtime events`);
      expect(replay.detail, "RTMR3 itself still matches").to.not.include("mismatch");
      expect(verdict.ok).to.equal(false);
      expect(verdict.events).to.equal(null);
    });
  }

  it("a v2 preimage field added to the real log is cross-checked: the right one passes, a wrong one fails", async function () {
    const v1Preimage = (e: EventLogJsonEntry) =>
      Buffer.concat([Buffer.from([0x01, 0x00, 0x00, 0x08]), Buffer.from(`:${e.event}:`, "utf8"), Buffer.from(e.event_payload, "hex")]).toString("hex");
    const good = await verifyFixture("quote-report.json", (events) => {
      for (const e of events) if (e.imr === 3) e.preimage = v1Preimage(e);
    });
    expect(check(good, "event-log-replay").status, summary(good)).to.equal("pass");
    const bad = await verifyFixture("quote-report.json", (events) => {
      const e = events.find((x) => x.event === "compose-hash")!;
      e.preimage = v1Preimage({ ...e, event_payload: `${e.event_payload.slice(0, -2)}00` });
    });
    expect(check(bad, "event-log-replay").status).to.equal("fail");
    expect(check(bad, "event-log-replay").detail).to.include('"compose-hash": given preimage is not the v1 digest pre-image');
  });
});

// ---------------------------------------------------------------------------------
// Synthetic, signed: what a CVM could really have measured
// ---------------------------------------------------------------------------------

function offline(att: BuiltAttestation, overrides: Partial<VerifyAttestationOptions> = {}): VerifyAttestationOptions {
  return {
    now: att.now,
    quoteSignature: { mode: "local", collateral: att.collateral, trustedRootCaDer: att.rootCaDer },
    reportData: { kind: "nonce", nonce: att.nonce },
    onchain: "skip",
    ...overrides,
  };
}

async function verifyBuilt(options: BuildAttestationOptions, overrides: Partial<VerifyAttestationOptions> = {}, bundle?: (att: BuiltAttestation) => object) {
  const att = buildAttestation(options);
  const { verdict } = await verifyAttestation(bundle?.(att) ?? att.bundle, offline(att, overrides));
  return { att, verdict };
}

describe("event-log semantics: the system-ready boundary (signed synthetic attestations)", function () {
  const moves: [string, (events: { name: string; payload: Uint8Array }[]) => Uint8Array][] = [
    ["os-image-hash", () => Buffer.alloc(32, 0x5e)],
    ["key-provider", () => Buffer.from('{"name":"kms","id":"00"}')],
    ["app-id", () => Buffer.alloc(20, 0xaa)],
    ["instance-id", () => Buffer.alloc(20, 0x11)],
  ];
  for (const [name, value] of moves) {
    it(`a "${name}" emitted by the app after system-ready (the system emitted none) fails event-log-replay`, async function () {
      const { verdict } = await verifyBuilt({
        runtimeEvents: (events) => [...events.filter((e) => e.name !== name), { name, payload: value(events) }],
        // MRCONFIGID v1 binds only the compose-hash, so this isolates the boundary rule.
      });
      const replay = check(verdict, "event-log-replay");
      expect(replay.status, summary(verdict)).to.equal("fail");
      expect(replay.detail).to.match(new RegExp(`runtime event "${name}" \\(event #\\d+\\) comes after "system-ready"`));
      expect(verdict.ok).to.equal(false);
    });
  }

  it("a second compose-hash, before or after system-ready, fails event-log-replay", async function () {
    for (const position of ["before", "after"] as const) {
      const { verdict } = await verifyBuilt({
        runtimeEvents: (events) => {
          const extra = { name: "compose-hash", payload: Buffer.alloc(32, 0xcc) };
          if (position === "after") return [...events, extra];
          const at = events.findIndex((e) => e.name === "compose-hash");
          return [...events.slice(0, at + 1), extra, ...events.slice(at + 1)];
        },
      });
      expect(check(verdict, "event-log-replay").status, position).to.equal("fail");
      expect(check(verdict, "event-log-replay").detail).to.include(position === "after" ? 'comes after "system-ready"' : "appears more than once");
    }
  });

  it("no app-id event: onchain-compose-hash fails before any chain read, even with the app given", async function () {
    // A chain client that must not be used: any read would be an error, not a fail.
    const client = createPublicClient({ transport: http("http://127.0.0.1:9") });
    const { verdict } = await verifyBuilt(
      { runtimeEvents: (events) => events.filter((e) => e.name !== "app-id") },
      { onchain: { client, app: "0x00000000000000000000000000000000000000aa" } },
    );
    expect(check(verdict, "event-log-replay").status, summary(verdict)).to.equal("pass");
    const onchain = check(verdict, "onchain-compose-hash");
    expect(onchain.status, summary(verdict)).to.equal("fail");
    expect(onchain.detail).to.include("no app-id event before system-ready");
  });

  it("app events with other names after system-ready pass", async function () {
    const { verdict } = await verifyBuilt({ runtimeEvents: (events) => [...events, { name: "app-started", payload: Buffer.from("v1.2") }] });
    expect(verdict.ok, summary(verdict)).to.equal(true);
  });
});

describe("event-log semantics: v2 runtime events with preimage (signed synthetic attestations)", function () {
  it("a v2 log with preimages, as current dstack serves it, passes", async function () {
    const { att, verdict } = await verifyBuilt({ runtimeEventVersion: 2, writePreimages: true });
    expect(att.events.filter((e) => e.imr === 3).every((e) => e.version === 2 && typeof e.preimage === "string")).to.equal(true);
    expect(verdict.ok, summary(verdict)).to.equal(true);
  });

  it("a v2 log with the pre-image under its short-lived name hash_input passes", async function () {
    const { verdict } = await verifyBuilt({ runtimeEventVersion: 2, writePreimages: true }, {}, (att) => ({
      ...att.bundle,
      event_log: editEventLog(att.bundle, (events) =>
        events.map(({ preimage, ...e }) => (preimage === undefined ? e : { ...e, hash_input: preimage })),
      ),
    }));
    expect(verdict.ok, summary(verdict)).to.equal(true);
  });

  const tampers: [string, (e: EventLogJsonEntry) => void, string][] = [
    ["a byte of the compose-hash preimage", (e) => (e.preimage = `${e.preimage!.slice(0, -4)}00${e.preimage!.slice(-2)}`), "given preimage is not the v2 digest pre-image"],
    ["the preimage dropped and version removed", (e) => { delete e.preimage; delete e.version; }, "RTMR3 mismatch"],
    ["version 2 → 1 (preimage kept)", (e) => (e.version = 1), "given preimage is not the v1 digest pre-image"],
    ["the payload (preimage kept)", (e) => (e.event_payload = "00".repeat(32)), "given preimage is not the v2 digest pre-image"],
  ];
  for (const [what, edit, message] of tampers) {
    it(`${what}: event-log-replay fails`, async function () {
      const { verdict } = await verifyBuilt({ runtimeEventVersion: 2, writePreimages: true }, {}, (att) => ({
        ...att.bundle,
        event_log: editEventLog(att.bundle, (events) => {
          edit(events.find((e) => e.event === "compose-hash")!);
        }),
      }));
      expect(check(verdict, "event-log-replay").status, summary(verdict)).to.equal("fail");
      expect(check(verdict, "event-log-replay").detail).to.include(message);
    });
  }
});

// ---------------------------------------------------------------------------------
// MRCONFIGID v2 and v3
// ---------------------------------------------------------------------------------

/** 0x02 ‖ keccak256(compose_hash ‖ app_id ‖ kind ‖ key_provider_id) ‖ 15 zero bytes, from dstack's mr_config.rs. */
function mrConfigIdV2(composeHash: Uint8Array, appId: Uint8Array, kind: number, keyProviderId: Uint8Array): Uint8Array {
  const digest = keccak_256(Buffer.concat([composeHash, appId, Buffer.of(kind), keyProviderId]));
  return Buffer.concat([Buffer.of(2), digest, Buffer.alloc(15)]);
}

/** 0x03 ‖ sha256("dstack-mr-config-v3:" ‖ 0x00 ‖ document) ‖ 15 zero bytes. */
function mrConfigIdV3(document: string): Uint8Array {
  const digest = createHash("sha256").update("dstack-mr-config-v3:").update(Buffer.of(0)).update(document, "utf8").digest();
  return Buffer.concat([Buffer.of(3), digest, Buffer.alloc(15)]);
}

describe("MRCONFIGID v2: a real near/mpc capture (2025-11-05)", function () {
  // Read from the capture: its quote's MRCONFIGID and the RTMR3 events it replays.
  const MRCONFIGID = `02b39b4a3e30408e01900a3c6f4ebb49ff7ca8218872a90d64541d06aff47df553${"00".repeat(15)}`;
  const composeHash = Buffer.from("258bbd49ae0fd84652c84c4c834055b1d8bcdc443cd8e172578f320b46304505", "hex");
  const appId = Buffer.from("258bbd49ae0fd84652c84c4c834055b1d8bcdc44", "hex");
  const keyProviderText = '{"name":"local-sgx","id":"1b7a49378403249b6986a907844cab0921eca32dd47e657f3c10311ccaeccf8b"}';
  const facts = (over: { composeHash?: Buffer; appId?: Buffer | null; keyProvider?: string | null } = {}) => {
    const text = over.keyProvider === undefined ? keyProviderText : over.keyProvider;
    return {
      composeHash: over.composeHash ?? composeHash,
      appId: over.appId === undefined ? appId : over.appId,
      keyProvider: text === null ? null : { text, json: JSON.parse(text) as unknown },
    };
  };
  const mrConfigId = Buffer.from(MRCONFIGID, "hex");

  it("our independent recomputation reproduces the captured value", function () {
    const id = Buffer.from(JSON.parse(keyProviderText).id as string, "hex");
    expect(hexOf(mrConfigIdV2(composeHash, appId, 1, id))).to.equal(MRCONFIGID);
  });

  it("passes with the captured events", function () {
    const result = checkMrConfigId(mrConfigId, facts());
    expect(result.status, result.detail).to.equal("pass");
    expect(result.detail).to.include("MRCONFIGID = 02 || keccak256(compose-hash || app-id || key provider local-sgx");
  });

  it("fails when any bound field changes, or is missing", function () {
    const flipped = Buffer.from(composeHash);
    flipped[0]! ^= 1;
    const cases: [string, ReturnType<typeof facts>, string][] = [
      ["compose-hash", facts({ composeHash: flipped }), "keccak256(compose-hash"],
      ["app-id", facts({ appId: Buffer.alloc(20, 0x25) }), "keccak256(compose-hash"],
      ["key provider kind", facts({ keyProvider: keyProviderText.replace("local-sgx", "kms") }), "key provider kms (2)"],
      ["key provider id", facts({ keyProvider: keyProviderText.replace("1b7a", "1b7b") }), "keccak256(compose-hash"],
      ["no app-id", facts({ appId: null }), "no app-id event"],
      ["no key provider", facts({ keyProvider: null }), "no key-provider event"],
      ["unknown provider", facts({ keyProvider: '{"name":"sgx","id":""}' }), 'unknown provider "sgx"'],
      ["id not hex", facts({ keyProvider: '{"name":"kms","id":"0x12"}' }), "id is not hex"],
    ];
    for (const [what, input, message] of cases) {
      const result = checkMrConfigId(mrConfigId, input);
      expect(result.status, what).to.equal("fail");
      expect(result.detail, what).to.include(message);
    }
    const tail = Buffer.from(mrConfigId);
    tail[47] = 1;
    expect(checkMrConfigId(tail, facts()).detail).to.include("zero padding");
  });
});

describe("MRCONFIGID v2 and v3 end to end (signed synthetic attestations)", function () {
  const APP_ID = "0x6d61e9e2ef2f8ee6b3c1d9d0a2b7e9b3c4d5e6f7" as const;
  const KEY_PROVIDER_ID = "ab".repeat(32);
  const base: BuildAttestationOptions = {
    appId: APP_ID,
    keyProvider: JSON.stringify({ name: "kms", id: KEY_PROVIDER_ID }),
    instanceId: Buffer.alloc(20, 0x1d),
  };
  const composeHashOf = (att: BuiltAttestation) => Buffer.from(att.composeHash.slice(2), "hex");

  /** Builds once to learn the compose hash (fixed by the app-compose), then with the MRCONFIGID it implies. */
  function withMrConfigId(derive: (composeHash: Buffer) => Uint8Array, options: BuildAttestationOptions = {}): BuiltAttestation {
    const first = buildAttestation({ ...base, ...options });
    return buildAttestation({ ...base, ...options, appCompose: first.appCompose, mrConfigId: derive(composeHashOf(first)) });
  }

  it("v2: passes when genuine; fails when the key provider or app-id measured differ from what MRCONFIGID binds", async function () {
    const v2 = (composeHash: Buffer) => mrConfigIdV2(composeHash, Buffer.from(APP_ID.slice(2), "hex"), 2, Buffer.from(KEY_PROVIDER_ID, "hex"));
    const good = withMrConfigId(v2);
    const { verdict } = await verifyAttestation(good.bundle, offline(good));
    expect(verdict.ok, summary(verdict)).to.equal(true);
    expect(check(verdict, "mr-config-id").detail).to.include("MRCONFIGID = 02");

    const otherProvider = withMrConfigId(v2, { keyProvider: JSON.stringify({ name: "kms", id: "cd".repeat(32) }) });
    const bad = (await verifyAttestation(otherProvider.bundle, offline(otherProvider))).verdict;
    expect(check(bad, "mr-config-id").status, summary(bad)).to.equal("fail");
    const otherApp = withMrConfigId(v2, { appId: "0x00000000000000000000000000000000000000aa" });
    expect(check((await verifyAttestation(otherApp.bundle, offline(otherApp))).verdict, "mr-config-id").status).to.equal("fail");
  });

  function v3Document(att: { composeHash: Buffer }, extra: Record<string, unknown> = {}): string {
    // JCS order, as dstack's host writes it.
    const fields: Record<string, unknown> = {
      app_id: APP_ID.slice(2),
      compose_hash: att.composeHash.toString("hex"),
      instance_id: "1d".repeat(20),
      key_provider: "kms",
      key_provider_id: KEY_PROVIDER_ID,
      version: 3,
      ...extra,
    };
    return JSON.stringify(Object.fromEntries(Object.keys(fields).sort().map((k) => [k, fields[k]])));
  }

  it("v3: passes with the document in vm_config.mr_config or given as an option", async function () {
    let document = "";
    const att = withMrConfigId((composeHash) => {
      document = v3Document({ composeHash });
      return mrConfigIdV3(document);
    });
    const inVmConfig = (await verifyAttestation({ ...att.bundle, vm_config: JSON.stringify({ mr_config: document }) }, offline(att))).verdict;
    expect(inVmConfig.ok, summary(inVmConfig)).to.equal(true);
    expect(check(inVmConfig, "mr-config-id").detail).to.include("MRCONFIGID = 03 || sha256(mr_config document)");
    const asOption = (await verifyAttestation(att.bundle, offline(att, { mrConfigDocument: document }))).verdict;
    expect(asOption.ok, summary(asOption)).to.equal(true);
  });

  it("v3: fails without the document, with another document, or when the document disagrees with the event log", async function () {
    let document = "";
    const att = withMrConfigId((composeHash) => {
      document = v3Document({ composeHash });
      return mrConfigIdV3(document);
    });
    const missing = (await verifyAttestation(att.bundle, offline(att))).verdict;
    expect(check(missing, "mr-config-id").status).to.equal("fail");
    expect(check(missing, "mr-config-id").detail).to.include("binds an mr_config document this attestation does not carry");
    const pretty = JSON.stringify(JSON.parse(document), null, 2);
    const reformatted = (await verifyAttestation(att.bundle, offline(att, { mrConfigDocument: pretty }))).verdict;
    expect(check(reformatted, "mr-config-id").detail).to.include("but the given mr_config document hashes to");

    // Documents the host could have bound, each disagreeing with what the CVM measured.
    const composeHash = composeHashOf(att);
    const disagreeing: [string, string, string][] = [
      ["compose_hash", v3Document({ composeHash: Buffer.alloc(32, 7) }), "compose_hash"],
      ["app_id", v3Document({ composeHash }, { app_id: "aa".repeat(20) }), "app_id"],
      ["instance_id", v3Document({ composeHash }, { instance_id: "aa".repeat(20) }), "instance_id"],
      ["key_provider", v3Document({ composeHash }, { key_provider: "local" }), "key_provider"],
      ["key_provider_id", v3Document({ composeHash }, { key_provider_id: "cd".repeat(32) }), "key_provider_id"],
      ["gpu_policy_hash", v3Document({ composeHash }, { gpu_policy_hash: "55".repeat(32) }), "no gpu-policy-hash event"],
      ["init_script_hashes", v3Document({ composeHash }, { init_script_hashes: ["aa".repeat(32)] }), "init_script_hashes"],
      ["version", v3Document({ composeHash }, { version: 4 }), "version is 4"],
      ["unknown field", v3Document({ composeHash }, { extra: true }), 'unknown fields "extra"'],
      ["repeated field", v3Document({ composeHash }).replace('"compose_hash"', `"compose_hash":"${"00".repeat(32)}","compose_hash"`), 'field "compose_hash" twice'],
    ];
    for (const [what, doc, message] of disagreeing) {
      const forged = buildAttestation({ ...base, appCompose: att.appCompose, mrConfigId: mrConfigIdV3(doc) });
      const verdict = (await verifyAttestation(forged.bundle, offline(forged, { mrConfigDocument: doc }))).verdict;
      expect(check(verdict, "mr-config-id").status, what).to.equal("fail");
      expect(check(verdict, "mr-config-id").detail, what).to.include(message);
    }
  });

  it("v3: a document above MAX_MR_CONFIG_DOCUMENT_CHARS fails before it is parsed, even when MRCONFIGID binds it", function () {
    const huge = `{"compose_hash":"${"00".repeat(32)}","key_provider":"none",${Array.from({ length: 10_000 }, (_, i) => `"k${i}":0`).join(",")}}`;
    expect(huge.length).to.be.greaterThan(MAX_MR_CONFIG_DOCUMENT_CHARS);
    const result = checkMrConfigId(mrConfigIdV3(huge), { composeHash: new Uint8Array(32) }, { document: huge });
    expect(result.status).to.equal("fail");
    expect(result.detail).to.include("more than MAX_MR_CONFIG_DOCUMENT_CHARS");
  });

  it("v1 with a document given fails (nothing binds the document)", async function () {
    const att = buildAttestation(base);
    const verdict = (await verifyAttestation(att.bundle, offline(att, { mrConfigDocument: "{}" }))).verdict;
    expect(check(verdict, "mr-config-id").detail).to.include("does not bind one");
  });
});

/**
 * End-to-end tests of `verifyAttestation` on synthetic attestations built by
 * test/support/attestation-builder.ts (expected values computed there with node:crypto,
 * independently of src/attestation), on Hardhat's simulated chain, and on the real
 * dstack fixture in ../shared/fixtures.
 */
import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { network } from "hardhat";
import { createPublicClient, encodeFunctionData, getAddress, http, pad, zeroHash, type Address, type Hex } from "viem";

import { verifyAttestation, type AttestationVerdict, type VerifyAttestationOptions } from "../../src/attestation/verify.js";
import { formatVerdict } from "../../src/attestation/report-text.js";
import {
  buildAttestation,
  editEventLog,
  flipHexByte,
  QUOTE_OFFSETS,
  v1RuntimeDigest,
  type BuildAttestationOptions,
  type BuiltAttestation,
} from "../support/attestation-builder.js";
import { deployAppProxy, deployKmsProxy } from "../support/contracts.js";
import { fakePccsFetch } from "../support/fake-pccs.js";
import { fixturesAvailable, loadGetQuote } from "./fixture-files.js";

const { viem, networkHelpers } = await network.create();

const DAY_MS = 86_400_000;
const ERC1967_IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";

const IDS = [
  "quote-signature",
  "report-data",
  "event-log-replay",
  "compose-hash",
  "mr-config-id",
  "os-measurements",
  "image-pinning",
  "onchain-compose-hash",
  "onchain-app-registered",
  "onchain-os-image",
] as const;
type Id = (typeof IDS)[number];
type Status = "pass" | "fail" | "skip" | "error";

const ALL_PASS: Record<Id, Status> = Object.fromEntries(IDS.map((id) => [id, "pass"])) as Record<Id, Status>;
/** What the checks that depend on the event log become when the log does not replay. */
const AFTER_BAD_LOG: Partial<Record<Id, Status>> = {
  "event-log-replay": "fail",
  "compose-hash": "skip",
  "mr-config-id": "skip",
  "image-pinning": "skip",
  "onchain-compose-hash": "skip",
  "onchain-app-registered": "skip",
  "onchain-os-image": "skip",
};

const bare = (hex: string) => hex.replace(/^0x/, "").toLowerCase();
const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** `expected` without the given ids (checks that are absent from the verdict). */
function without(expected: Partial<Record<string, Status>>, ...ids: string[]): Partial<Record<string, Status>> {
  const copy = { ...expected };
  for (const id of ids) delete copy[id];
  return copy;
}

function statuses(verdict: AttestationVerdict): Record<string, Status> {
  return Object.fromEntries(verdict.checks.map((c) => [c.id, c.status]));
}

function check(verdict: AttestationVerdict, id: Id) {
  const found = verdict.checks.find((c) => c.id === id);
  expect(found, `check ${id} in ${JSON.stringify(statuses(verdict))}`).to.not.equal(undefined);
  return found!;
}

/** The full id → status map, with a readable message listing every detail when it differs. */
function expectStatuses(verdict: AttestationVerdict, expected: Partial<Record<string, Status>>): void {
  const details = verdict.checks.map((c) => `  ${c.id}: ${c.status} (${c.detail})`).join("\n");
  expect(statuses(verdict), `checks:\n${details}`).to.deep.equal(expected);
  const anyBad = Object.values(expected).some((s) => s === "fail" || s === "error");
  expect(verdict.ok, "ok").to.equal(!anyBad);
}

// ---------------------------------------------------------------------------------
// Chain: a DstackApp at the attested app-id and two KMSes, set up once per snapshot.
// ---------------------------------------------------------------------------------

const DOCKER_COMPOSE = [
  "services:",
  "  web:",
  `    image: nginx@sha256:${"ab".repeat(32)}`,
  "  worker:",
  `    image: ghcr.io/example/worker@sha256:${"cd".repeat(32)}`,
  "",
].join("\n");

async function chainFixture() {
  const [owner] = await viem.getWalletClients();
  const publicClient = await viem.getPublicClient();
  const ownerAddress = owner!.account.address;
  const { app } = await deployAppProxy(viem, { owner: ownerAddress, allowAnyDevice: true });
  const { kms } = await deployKmsProxy(viem, ownerAddress);
  // A second KMS that allows the OS image but never registered the app.
  const { kms: otherKms } = await deployKmsProxy(viem, ownerAddress);

  const base = buildAttestation({ appId: app.address, dockerCompose: DOCKER_COMPOSE });
  await app.write.addComposeHash([base.composeHash]);
  await kms.write.registerApp([app.address]);
  await kms.write.addOsImageHash([`0x${hexOf(base.osImageHash)}`]);
  await otherKms.write.addOsImageHash([`0x${hexOf(base.osImageHash)}`]);
  return { publicClient, app, kms, otherKms, base };
}

type Chain = Awaited<ReturnType<typeof chainFixture>>;

/** A variant of the base attestation: same app, app-compose, OS image and key provider unless overridden. */
function variant(chain: Chain, options: BuildAttestationOptions = {}): BuiltAttestation {
  const { base } = chain;
  return buildAttestation({
    appId: base.appId,
    appCompose: base.appCompose,
    osImageHash: base.osImageHash,
    instanceId: base.instanceId,
    keyProvider: base.keyProvider,
    ...options,
  });
}

/** The options under which a good attestation passes every check. */
function fullOptions(chain: Chain, att: BuiltAttestation, overrides: Partial<VerifyAttestationOptions> = {}): VerifyAttestationOptions {
  return {
    now: att.now,
    quoteSignature: { mode: "local", collateral: att.collateral, trustedRootCaDer: att.rootCaDer },
    reportData: { kind: "nonce", nonce: att.nonce },
    expectedMeasurements: { mrtd: att.mrTd, rtmr0: att.rtmrs[0], rtmr1: att.rtmrs[1], rtmr2: att.rtmrs[2] },
    onchain: { client: chain.publicClient, kms: chain.kms.address },
    ...overrides,
  };
}

async function run(input: unknown, options: VerifyAttestationOptions): Promise<AttestationVerdict> {
  const { verdict } = await verifyAttestation(input, options);
  // Whatever happened, the verdict is plain JSON and formats as text.
  expect(JSON.parse(JSON.stringify(verdict))).to.deep.equal(verdict);
  expect(formatVerdict(verdict).at(-1)).to.match(verdict.ok ? /^VERIFIED/ : /^NOT VERIFIED/);
  return verdict;
}

describe("verifyAttestation: a synthetic dstack attestation end to end", function () {
  it("passes every check, and the verdict has exactly the documented shape and values", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const verdict = await run(att.bundle, fullOptions(chain, att));
    expectStatuses(verdict, ALL_PASS);
    expect(verdict.checks.map((c) => c.id)).to.deep.equal([...IDS]);
    for (const c of verdict.checks) {
      expect(Object.keys(c)).to.deep.equal(["id", "status", "detail"]);
      expect(c.detail).to.be.a("string").and.not.equal("");
    }

    expect(Object.keys(verdict).sort()).to.deep.equal(["advisoryIds", "checks", "events", "ok", "quote", "tcbStatus"]);
    expect(verdict.ok).to.equal(true);
    expect(verdict.quote).to.deep.equal({
      version: 4,
      teeType: "TDX",
      mrtd: hexOf(att.mrTd),
      rtmr: att.rtmrs.map(hexOf),
      reportData: hexOf(att.reportData),
      mrConfigId: `01${bare(att.composeHash)}${"00".repeat(15)}`,
    });
    expect(verdict.events).to.deep.equal({
      appId: bare(att.appId),
      composeHash: bare(att.composeHash),
      instanceId: hexOf(att.instanceId),
      osImageHash: hexOf(att.osImageHash),
      keyProvider: att.keyProvider,
    });
    expect(verdict.tcbStatus).to.equal("UpToDate");
    expect(verdict.advisoryIds).to.deep.equal([]);
    // Hex everywhere is lowercase without 0x.
    const hexFields = [verdict.quote!.mrtd, ...verdict.quote!.rtmr, verdict.quote!.reportData, verdict.quote!.mrConfigId, verdict.events!.appId!, verdict.events!.composeHash!];
    for (const value of hexFields) expect(value).to.match(/^[0-9a-f]+$/);
    // The on-chain details name the app and the compose hash that were looked up.
    expect(check(verdict, "onchain-compose-hash").detail).to.contain(bare(att.composeHash)).and.contain(getAddress(att.appId));
  });

  it("also passes with the runtime digests written into the log (not only computed)", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = variant(chain, { writeRuntimeDigests: true });
    expectStatuses(await run(att.bundle, fullOptions(chain, att)), ALL_PASS);
  });

  it("fails quote-signature without trustedRootCaDer: production trusts only Intel's root", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const verdict = await run(att.bundle, fullOptions(chain, att, { quoteSignature: { mode: "local", collateral: att.collateral } }));
    expectStatuses(verdict, { ...ALL_PASS, "quote-signature": "fail" });
    expect(check(verdict, "quote-signature").detail).to.match(/DCAP verification failed/);
  });

  it("skips only what it is told to skip: no expectation, no measurements, offline", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const verdict = await run(att.bundle, { quoteSignature: { mode: "skip" }, onchain: "skip" });
    expectStatuses(
      verdict,
      without(
        {
          ...ALL_PASS,
          "quote-signature": "skip",
          "report-data": "skip",
          "onchain-compose-hash": "skip",
          "onchain-app-registered": "skip",
          "onchain-os-image": "skip",
        },
        "os-measurements",
      ),
    );
    expect(verdict.ok).to.equal(true);
  });
});

describe("verifyAttestation: tamper matrix (each change fails exactly the expected checks)", function () {
  it("a byte of RTMR3 in the quote: quote-signature and event-log-replay fail", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const quote = flipHexByte(att.bundle.quote, QUOTE_OFFSETS.rtmr3 + 5);
    const verdict = await run({ ...att.bundle, quote }, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, "quote-signature": "fail", ...AFTER_BAD_LOG });
    expect(check(verdict, "event-log-replay").detail).to.match(/RTMR3 mismatch/);
    // The skipped checks name the check they depend on, not merely the first failure.
    expect(check(verdict, "compose-hash").detail).to.match(/event-log-replay/);
  });

  it("a byte of the quote signature: only quote-signature fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const quote = flipHexByte(att.bundle.quote, QUOTE_OFFSETS.signature + 10);
    const verdict = await run({ ...att.bundle, quote }, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, "quote-signature": "fail" });
  });

  it("an event payload changed: event-log-replay fails (RTMR3)", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const event_log = editEventLog(att.bundle, (events) => {
      const e = events.find((x) => x.event === "instance-id")!;
      e.event_payload = flipHexByte(e.event_payload, 0);
    });
    const verdict = await run({ ...att.bundle, event_log }, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, ...AFTER_BAD_LOG });
    expect(check(verdict, "event-log-replay").detail).to.match(/RTMR3 mismatch/).and.not.match(/RTMR[012] mismatch/);
  });

  it("the compose-hash payload swapped for the hash of another app-compose: event-log-replay fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const other = variant(chain, { appCompose: `${att.appCompose} ` });
    const event_log = editEventLog(att.bundle, (events) => {
      events.find((x) => x.event === "compose-hash")!.event_payload = bare(other.composeHash);
    });
    const verdict = await run({ ...att.bundle, event_log, app_compose: other.appCompose }, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, ...AFTER_BAD_LOG });
  });

  it("a dropped event: event-log-replay fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const event_log = editEventLog(att.bundle, (events) => events.filter((x) => x.event !== "boot-mr-done"));
    const verdict = await run({ ...att.bundle, event_log }, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, ...AFTER_BAD_LOG });
  });

  it("a dropped boot event: event-log-replay fails on its RTMR", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const event_log = editEventLog(att.bundle, (events) => {
      events.splice(events.findIndex((x) => x.imr === 1), 1);
    });
    const verdict = await run({ ...att.bundle, event_log }, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, ...AFTER_BAD_LOG });
    expect(check(verdict, "event-log-replay").detail).to.match(/RTMR1 mismatch/);
  });

  it("a duplicated compose-hash event, even when measured into RTMR3: event-log-replay fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const otherHash = Buffer.alloc(32, 0x42);
    // Measured consistently: the quote's RTMR3 includes the second event, so only the
    // duplicate rule can catch it.
    const att = variant(chain, {
      // Before system-ready, so it is the duplicate rule (not the boundary) that rejects it.
      runtimeEvents: (events) => events.flatMap((e) => (e.name === "compose-hash" ? [e, { name: "compose-hash", payload: otherHash }] : [e])),
    });
    const verdict = await run(att.bundle, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, ...AFTER_BAD_LOG });
    expect(check(verdict, "event-log-replay").detail).to.match(/compose-hash.*more than once/);
  });

  it("a wrong non-empty given digest on a runtime event: event-log-replay fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const event_log = editEventLog(att.bundle, (events) => {
      const e = events.find((x) => x.event === "app-id")!;
      // The right digest of a different payload: well-formed, but not this event's.
      e.digest = hexOf(v1RuntimeDigest("app-id", Buffer.alloc(20, 7)));
    });
    const verdict = await run({ ...att.bundle, event_log }, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, ...AFTER_BAD_LOG });
    expect(check(verdict, "event-log-replay").detail).to.match(/given digest/).and.not.match(/mismatch: quote has/);
  });

  it("app_compose one byte off: compose-hash fails (image pinning then not checked)", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const app_compose = att.appCompose.replace('"name":"governed-app"', '"name":"governed-apq"');
    expect(app_compose).to.not.equal(att.appCompose);
    const verdict = await run({ ...att.bundle, app_compose }, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, "compose-hash": "fail", "image-pinning": "skip" });
    expect(check(verdict, "image-pinning").detail).to.match(/compose-hash/);
  });

  it("the nonce does not match REPORTDATA: report-data fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const nonce = Uint8Array.from(att.nonce);
    nonce[31]! ^= 0x80;
    const verdict = await run(att.bundle, fullOptions(chain, att, { reportData: { kind: "nonce", nonce } }));
    expectStatuses(verdict, { ...ALL_PASS, "report-data": "fail" });
  });

  it("collateral expired at `now`: quote-signature fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const later = new Date(att.now.getTime() + 31 * DAY_MS);
    const verdict = await run(att.bundle, fullOptions(chain, att, { now: later }));
    expectStatuses(verdict, { ...ALL_PASS, "quote-signature": "fail" });
    // ...and unix seconds mean the same instant.
    const again = await run(att.bundle, fullOptions(chain, att, { now: Math.floor(later.getTime() / 1000) }));
    expectStatuses(again, { ...ALL_PASS, "quote-signature": "fail" });
  });

  it("the compose hash removed on chain: onchain-compose-hash fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    await chain.app.write.removeComposeHash([att.composeHash]);
    const verdict = await run(att.bundle, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, "onchain-compose-hash": "fail" });
    expect(check(verdict, "onchain-compose-hash").detail).to.match(/NOT allowed/);
  });

  it("an image not pinned by digest: image-pinning fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = variant(chain, { appCompose: undefined, unpinnedImages: true });
    await chain.app.write.addComposeHash([att.composeHash]);
    const verdict = await run(att.bundle, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, "image-pinning": "fail" });
    expect(check(verdict, "image-pinning").detail).to.match(/2 image\(s\) not pinned/).and.contain("nginx:1.27");
  });

  it("--app different from the attested app-id: onchain-compose-hash fails, KMS checks not run", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const other = getAddress(`0x${"11".repeat(20)}`);
    const verdict = await run(att.bundle, fullOptions(chain, att, { onchain: { client: chain.publicClient, kms: chain.kms.address, app: other } }));
    expectStatuses(verdict, { ...ALL_PASS, "onchain-compose-hash": "fail", "onchain-app-registered": "skip", "onchain-os-image": "skip" });
    expect(check(verdict, "onchain-compose-hash").detail).to.contain(other).and.contain(getAddress(att.appId));
    // The same address in another spelling is the same app.
    const same = await run(att.bundle, fullOptions(chain, att, { onchain: { client: chain.publicClient, kms: chain.kms.address, app: att.appId.toLowerCase() as Address } }));
    expectStatuses(same, ALL_PASS);
  });

  it("an OS image the KMS does not allow: onchain-os-image fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = variant(chain, { osImageHash: Buffer.alloc(32, 0x5a) });
    const verdict = await run(att.bundle, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, "onchain-os-image": "fail" });
    expect(check(verdict, "onchain-os-image").detail).to.contain("5a".repeat(32));
  });

  it("an app not registered with the KMS: onchain-app-registered fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const verdict = await run(att.bundle, fullOptions(chain, att, { onchain: { client: chain.publicClient, kms: chain.otherKms.address } }));
    expectStatuses(verdict, { ...ALL_PASS, "onchain-app-registered": "fail" });
  });

  it("a KMS address with no contract: the KMS checks fail and say so", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const nowhere = getAddress(`0x${"22".repeat(20)}`);
    const verdict = await run(att.bundle, fullOptions(chain, att, { onchain: { client: chain.publicClient, kms: nowhere } }));
    expectStatuses(verdict, { ...ALL_PASS, "onchain-app-registered": "fail", "onchain-os-image": "fail" });
    expect(check(verdict, "onchain-app-registered").detail).to.match(/no contract at/);
  });

  it("MRCONFIGID binding another compose-hash: mr-config-id fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const mrConfigId = Buffer.concat([Buffer.of(1), Buffer.alloc(32, 0x33), Buffer.alloc(15)]);
    const att = variant(chain, { mrConfigId });
    const verdict = await run(att.bundle, fullOptions(chain, att));
    expectStatuses(verdict, { ...ALL_PASS, "mr-config-id": "fail" });
  });

  it("a wrong reference MRTD: os-measurements fails", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const verdict = await run(att.bundle, fullOptions(chain, att, { expectedMeasurements: { mrtd: new Uint8Array(48) } }));
    expectStatuses(verdict, { ...ALL_PASS, "os-measurements": "fail" });
  });

  it("an OutOfDate TCB fails by default, passes when accepted, and is reported either way", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const advisories = ["INTEL-SA-00837", "INTEL-SA-00960"];
    const att = variant(chain, { quote: { tcbStatus: "OutOfDate", advisoryIds: advisories } });
    const strict = await run(att.bundle, fullOptions(chain, att));
    expectStatuses(strict, { ...ALL_PASS, "quote-signature": "fail" });
    expect(check(strict, "quote-signature").detail).to.match(/OutOfDate is not accepted/);
    expect(strict.tcbStatus).to.equal("OutOfDate");
    expect(strict.advisoryIds).to.deep.equal(advisories);

    const lenient = await run(
      att.bundle,
      fullOptions(chain, att, {
        quoteSignature: { mode: "local", collateral: att.collateral, trustedRootCaDer: att.rootCaDer, acceptedTcbStatuses: ["UpToDate", "OutOfDate"] },
      }),
    );
    expectStatuses(lenient, ALL_PASS);
    expect(lenient.tcbStatus).to.equal("OutOfDate");
    expect(lenient.advisoryIds).to.deep.equal(advisories);
    expect(formatVerdict(lenient).join("\n")).to.contain("TCB status OutOfDate, advisories INTEL-SA-00837, INTEL-SA-00960");
  });

  it("collateral shipped inside the bundle is used (and still checked against the given root)", async function () {
    const chain = await networkHelpers.loadFixture(chainFixture);
    const att = chain.base;
    const input = { ...att.bundle, collateral: att.collateral };
    const verdict = await run(input, fullOptions(chain, att, { quoteSignature: { mode: "local", trustedRootCaDer: att.rootCaDer } }));
    expectStatuses(verdict, ALL_PASS);
    const foreign = buildAttestation({ now: att.now });
    const mismatched = await run({ ...att.bundle, collateral: foreign.collateral }, fullOptions(chain, att, { quoteSignature: { mode: "local", trustedRootCaDer: att.rootCaDer } }));
    expectStatuses(mismatched, { ...ALL_PASS, "quote-signature": "fail" });
  });
});

describe("verifyAttestation: the accepted input shapes", function () {
  let att: BuiltAttestation;
  before(function () {
    att = buildAttestation();
  });
  const offline = (): VerifyAttestationOptions => ({ quoteSignature: { mode: "skip" }, reportData: { kind: "nonce", nonce: att.nonce }, onchain: "skip" });
  const expectPass = (verdict: AttestationVerdict) =>
    expectStatuses(
      verdict,
      without({ ...ALL_PASS, "quote-signature": "skip", "onchain-compose-hash": "skip", "onchain-app-registered": "skip", "onchain-os-image": "skip" }, "os-measurements"),
    );

  it("an /attestation + /info pair with tcb_info as an object, the event log only inside tcb_info", async function () {
    const { event_log, app_compose, ...attestation } = att.bundle;
    expectPass(await run({ attestation, info: { tcb_info: { app_compose, event_log } } }, offline()));
  });

  it("a guest-agent Info with tcb_info as a JSON string", async function () {
    const { app_compose, ...getQuote } = att.bundle;
    expectPass(await run({ attestation: getQuote, info: { tcb_info: JSON.stringify({ app_compose }) } }, offline()));
  });

  it("camelCase fields, the event log as an array, the quote as a byte array", async function () {
    const input = { quote: Array.from(att.quote), eventLog: JSON.parse(att.bundle.event_log), appCompose: att.appCompose };
    expectPass(await run(input, offline()));
  });

  it("app_compose supplied separately overrides a missing one", async function () {
    const { app_compose: _omit, ...rest } = att.bundle;
    expectPass(await run(rest, { ...offline(), appCompose: att.appCompose }));
  });

  it("a tcb_info string that is not JSON is an input failure", async function () {
    const verdict = await run({ ...att.bundle, app_compose: undefined, tcb_info: "{oops" }, offline());
    expect(verdict.ok).to.equal(false);
    expect(check(verdict, "quote-signature").detail).to.match(/tcb_info is a string but not JSON/);
  });
});

describe("verifyAttestation: malformed input is a failed verdict, never a throw", function () {
  let att: BuiltAttestation;
  before(function () {
    att = buildAttestation();
  });

  const offline = (): VerifyAttestationOptions => ({
    now: att.now,
    quoteSignature: { mode: "local", collateral: att.collateral, trustedRootCaDer: att.rootCaDer },
    onchain: "skip",
  });

  async function expectRejected(input: unknown, failing: Id, reason: RegExp, options = offline()): Promise<AttestationVerdict> {
    let verdict: AttestationVerdict;
    try {
      verdict = await run(input, options);
    } catch (error) {
      expect.fail(`verifyAttestation threw: ${(error as Error).stack}`);
    }
    expect(verdict.ok).to.equal(false);
    const c = check(verdict, failing);
    expect(c.status, c.detail).to.equal("fail");
    expect(c.detail).to.match(reason);
    return verdict;
  }

  it("the unmodified attestation passes offline (so the rejections below are the tampering's)", async function () {
    const verdict = await run(att.bundle, offline());
    expect(verdict.ok, JSON.stringify(verdict.checks)).to.equal(true);
  });

  it("collateral is fetched from the PCCS through the verifier's injected fetch", async function () {
    const pccs = fakePccsFetch(att.collateral);
    const verdict = await run(att.bundle, {
      ...offline(),
      quoteSignature: { mode: "local", pccsUrl: "https://pccs.test", trustedRootCaDer: att.rootCaDer },
      fetch: pccs.fetch,
    });
    const signature = check(verdict, "quote-signature");
    expect(signature.status, signature.detail).to.equal("pass");
    expect(signature.detail).to.contain("(collateral from https://pccs.test)");
    expect(pccs.requests).to.have.length(4);
  });

  it("a truncated quote", async function () {
    const verdict = await expectRejected({ ...att.bundle, quote: att.bundle.quote.slice(0, 1000) }, "quote-signature", /unusable quote/);
    expect(verdict.quote).to.equal(null);
    expect(check(verdict, "event-log-replay").status).to.equal("skip");
  });

  it("a quote that is not hex (nor base64)", async function () {
    await expectRejected({ ...att.bundle, quote: `zz${att.bundle.quote.slice(2)}` }, "quote-signature", /unusable quote/);
    await expectRejected({ ...att.bundle, quote: "0xnot-hex" }, "quote-signature", /not hexadecimal/);
  });

  it("a huge base64 quote", async function () {
    await expectRejected({ ...att.bundle, quote: "QUFB".repeat(800_000) }, "quote-signature", /limit|too large|more than/i);
    const big = Buffer.alloc(300 * 1024, 1).toString("base64");
    await expectRejected({ ...att.bundle, quote: big }, "quote-signature", /unusable quote/);
  });

  it("the quote given as base64 instead of hex is accepted", async function () {
    const verdict = await run({ ...att.bundle, quote: Buffer.from(att.bundle.quote, "hex").toString("base64") }, offline());
    expect(verdict.ok, JSON.stringify(verdict.checks)).to.equal(true);
  });

  it("an SGX quote (TEE type 0)", async function () {
    const quote = Buffer.from(att.bundle.quote, "hex");
    quote.writeUInt32LE(0, QUOTE_OFFSETS.teeType);
    await expectRejected({ ...att.bundle, quote: quote.toString("hex") }, "quote-signature", /SGX/);
  });

  it("input that is not an object", async function () {
    for (const input of [undefined, null, 42, "a string", [att.bundle], true]) {
      const verdict = await expectRejected(input, "quote-signature", /unusable attestation input/);
      expect(verdict.quote).to.equal(null);
      expect(verdict.events).to.equal(null);
    }
  });

  it("no quote field", async function () {
    const { quote: _quote, ...rest } = att.bundle;
    await expectRejected(rest, "quote-signature", /no "quote" field/);
  });

  it("event_log that is not JSON, not an array, or missing", async function () {
    await expectRejected({ ...att.bundle, event_log: "{not json" }, "event-log-replay", /not valid JSON/);
    await expectRejected({ ...att.bundle, event_log: "{}" }, "event-log-replay", /must be an array/);
    await expectRejected({ ...att.bundle, event_log: 12 }, "event-log-replay", /JSON string or an array/);
    const { event_log: _log, ...rest } = att.bundle;
    await expectRejected(rest, "event-log-replay", /no event log/);
  });

  it("an event log of 20,000 events", async function () {
    const one = { imr: 0, event_type: 1, digest: "00".repeat(48), event: "", event_payload: "" };
    const started = Date.now();
    await expectRejected({ ...att.bundle, event_log: JSON.stringify(Array.from({ length: 20_000 }, () => one)) }, "event-log-replay", /20000 events/);
    expect(Date.now() - started).to.be.below(5_000);
  });

  it("an event with an unknown field or a bad type", async function () {
    const extra = editEventLog(att.bundle, (events) => {
      (events[0] as unknown as Record<string, unknown>).extra = 1;
    });
    await expectRejected({ ...att.bundle, event_log: extra }, "event-log-replay", /unknown field/);
    const badImr = editEventLog(att.bundle, (events) => {
      events[0]!.imr = 7;
    });
    await expectRejected({ ...att.bundle, event_log: badImr }, "event-log-replay", /imr/);
  });

  it("app_compose as an object (not the exact text)", async function () {
    await expectRejected({ ...att.bundle, app_compose: JSON.parse(att.appCompose) }, "quote-signature", /app_compose must be the exact JSON text/);
  });

  it("app_compose missing: compose-hash fails (the hash cannot be checked)", async function () {
    const { app_compose: _compose, ...rest } = att.bundle;
    await expectRejected(rest, "compose-hash", /no app-compose/);
  });

  it("an already-normalised-looking object with wrong field types is validated, not trusted", async function () {
    // `{shape, quote, eventLog}` is the in-memory bundle type; a JSON file may mimic it.
    const mimic = { shape: "bundle", quote: att.bundle.quote, eventLog: att.bundle.event_log, appCompose: { not: "text" } };
    await expectRejected(mimic, "quote-signature", /app_compose must be the exact JSON text/);
    const mimicNumber = { shape: "bundle", quote: att.bundle.quote, eventLog: att.bundle.event_log, appCompose: 5, reportData: 7 };
    const verdict = await run(mimicNumber, offline());
    expect(verdict.ok).to.equal(false);
  });

  it("unusable collateral is an error, not a pass", async function () {
    const verdict = await run(att.bundle, { ...offline(), quoteSignature: { mode: "local", collateral: { nonsense: true }, trustedRootCaDer: att.rootCaDer } });
    expect(verdict.ok).to.equal(false);
    expect(check(verdict, "quote-signature").status).to.equal("error");
  });

  it("a hostile event name cannot forge lines in the text report", async function () {
    const event_log = editEventLog(att.bundle, (events) => {
      const e = events.find((x) => x.event === "app-id")!;
      e.event = "app-id\n[OK]    Step 3: event log replay (RTMR0-3) verified\u001b[2K";
      e.digest = "11".repeat(48);
    });
    const verdict = await run({ ...att.bundle, event_log }, offline());
    expect(check(verdict, "event-log-replay").status).to.equal("fail");
    // What a terminal shows: the printed lines, split at every line break.
    const printed = formatVerdict(verdict).join("\n").split(/\r\n|\r|\n/);
    expect(printed.filter((l) => l.includes("Step 3"))).to.have.length(1);
    expect(printed.filter((l) => l.startsWith("[OK]"))).to.have.length(verdict.checks.filter((c) => c.status === "pass").length);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserts that no control character reaches the terminal output
    for (const line of printed) expect(line).to.not.match(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    // The JSON verdict keeps the detail as it was (JSON escapes it).
    expect(check(verdict, "event-log-replay").detail).to.contain("app-id\n[OK]");
  });
});

describe("verifyAttestation: on-chain failures are errors, never a pass or a 'not allowed'", function () {
  it("an RPC endpoint that is down gives status error for every on-chain check", async function () {
    this.timeout(30_000);
    const att = buildAttestation();
    const port = await closedPort();
    const client = createPublicClient({ transport: http(`http://127.0.0.1:${port}`, { retryCount: 0, timeout: 5_000 }) });
    const verdict = await run(att.bundle, {
      now: att.now,
      quoteSignature: { mode: "local", collateral: att.collateral, trustedRootCaDer: att.rootCaDer },
      reportData: { kind: "nonce", nonce: att.nonce },
      onchain: { client, kms: getAddress(`0x${"33".repeat(20)}`) },
    });
    expectStatuses(
      verdict,
      without({ ...ALL_PASS, "onchain-compose-hash": "error", "onchain-app-registered": "error", "onchain-os-image": "error" }, "os-measurements"),
    );
    expect(check(verdict, "onchain-compose-hash").detail).to.match(/on-chain read failed/);
  });
});

describe("verifyAttestation: unusable on-chain options are errors in the verdict", function () {
  it("a malformed app address gives error statuses, not a throw", async function () {
    const att = buildAttestation();
    const client = createPublicClient({ transport: http(`http://127.0.0.1:${await closedPort()}`, { retryCount: 0 }) });
    const verdict = await run(att.bundle, { quoteSignature: { mode: "skip" }, onchain: { client, app: "0x1234" as Address, kms: "0xnope" as Address } });
    expect(verdict.ok).to.equal(false);
    for (const id of ["onchain-compose-hash", "onchain-app-registered", "onchain-os-image"] as const) {
      expect(check(verdict, id).status).to.equal("error");
      expect(check(verdict, id).detail).to.match(/on-chain checks could not run/);
    }
  });
});

describe("verifyAttestation: real dstack fixture with a DstackApp placed at its app-id", function () {
  const APP_ID = getAddress("0x86b0e55f2fa8e4fb69d890f14f54d5612707646e");
  const COMPOSE_HASH: Hex = "0x86b0e55f2fa8e4fb69d890f14f54d5612707646e2573d54e0d2ddaaade77caa9";

  before(function () {
    if (!fixturesAvailable()) {
      console.log("    skipping: ../shared/fixtures not found (real dstack fixture)");
      this.skip();
    }
  });

  async function placeAppAtAppId() {
    const [owner] = await viem.getWalletClients();
    const publicClient = await viem.getPublicClient();
    // A normally deployed proxy gives the ERC1967Proxy runtime code to copy.
    const { implementation, proxy } = await deployAppProxy(viem, { owner: owner!.account.address });
    const runtime = await publicClient.getCode({ address: proxy.address });
    expect(runtime).to.match(/^0x[0-9a-f]{100,}$/);
    await networkHelpers.setCode(APP_ID, runtime!);
    await networkHelpers.setStorageAt(APP_ID, ERC1967_IMPLEMENTATION_SLOT, pad(implementation.address, { size: 32 }));
    await owner!.sendTransaction({
      to: APP_ID,
      data: encodeFunctionData({
        abi: implementation.abi,
        functionName: "initialize",
        args: [owner!.account.address, false, false, true, zeroHash, COMPOSE_HASH],
      }),
    });
    const app = await viem.getContractAt("DstackApp", APP_ID);
    return { app, publicClient };
  }

  it("onchain-compose-hash passes while the app allows the hash, fails once removed; compose-hash fails (no app_compose)", async function () {
    const fixture = loadGetQuote("tdx-lite-getquote.json");
    const { app, publicClient } = await networkHelpers.loadFixture(placeAppAtAppId);
    expect(await app.read.allowedComposeHashes([COMPOSE_HASH])).to.equal(true);
    const input = { quote: fixture.quoteHex, event_log: fixture.eventLog, report_data: fixture.reportData, vm_config: JSON.stringify(fixture.vmConfig) };
    const options: VerifyAttestationOptions = { quoteSignature: { mode: "skip" }, onchain: { client: publicClient } };

    const expected = {
      "quote-signature": "skip",
      "report-data": "skip",
      "event-log-replay": "pass",
      "compose-hash": "fail",
      "mr-config-id": "pass",
      "image-pinning": "skip",
      "onchain-compose-hash": "pass",
      "onchain-app-registered": "skip",
      "onchain-os-image": "skip",
    } as const;
    const allowed = await run(input, options);
    expectStatuses(allowed, expected);
    expect(allowed.events!.appId).to.equal(bare(APP_ID));
    expect(allowed.events!.composeHash).to.equal(bare(COMPOSE_HASH));
    expect(check(allowed, "compose-hash").detail).to.match(/no app-compose/);
    expect(check(allowed, "onchain-compose-hash").detail).to.contain(APP_ID);

    await app.write.removeComposeHash([COMPOSE_HASH]);
    const removed = await run(input, options);
    expectStatuses(removed, { ...expected, "onchain-compose-hash": "fail" });
    expect(check(removed, "onchain-compose-hash").detail).to.match(/NOT allowed/);
  });
});

describe("verifyAttestation: quote signature through the Phala verification API (loopback stand-in)", function () {
  let server: Server;
  let base: string;
  const bodies: unknown[] = [];

  before(async function () {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let text = "";
      req.on("data", (chunk) => (text += chunk));
      req.on("end", () => {
        try {
          bodies.push(JSON.parse(text));
        } catch {
          bodies.push(text);
        }
        const mode = new URL(req.url ?? "/", "http://x").searchParams.get("mode");
        const send = (status: number, body: string) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(body);
        };
        if (mode === "pass") send(200, JSON.stringify({ success: true, quote: { verified: true, tcb_status: "UpToDate" } }));
        else if (mode === "fail") send(200, JSON.stringify({ success: true, quote: { verified: false } }));
        else if (mode === "no-verdict") send(200, JSON.stringify({ success: true, quote: {} }));
        else if (mode === "500") send(500, "internal error");
        else send(200, "<html>garbage</html>");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/attestations/verify`;
  });
  after(async function () {
    await new Promise((resolve) => server.close(resolve));
  });

  const cases: Array<[string, Status]> = [
    ["pass", "pass"],
    ["fail", "fail"],
    ["no-verdict", "error"],
    ["500", "error"],
    ["garbage", "error"],
  ];
  for (const [mode, status] of cases) {
    it(`API answer "${mode}" gives quote-signature ${status}`, async function () {
      const att = buildAttestation();
      bodies.length = 0;
      const verdict = await run(att.bundle, {
        quoteSignature: { mode: "phala-api", url: `${base}?mode=${mode}` },
        reportData: { kind: "nonce", nonce: att.nonce },
        onchain: "skip",
      });
      expectStatuses(
        verdict,
        without(
          { ...ALL_PASS, "quote-signature": status, "onchain-compose-hash": "skip", "onchain-app-registered": "skip", "onchain-os-image": "skip" },
          "os-measurements",
        ),
      );
      expect(bodies).to.deep.equal([{ hex: att.bundle.quote }]);
      if (status === "pass") expect(verdict.tcbStatus).to.equal("UpToDate");
      else expect(verdict.tcbStatus).to.equal(null);
      expect(check(verdict, "quote-signature").detail).to.contain("127.0.0.1");
    });
  }
});

/** A loopback port with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

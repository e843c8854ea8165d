/**
 * TEST-ONLY builder of complete, internally consistent synthetic dstack attestations:
 * an app-compose.json, an event log (boot events for RTMR0-2 and dstack runtime events
 * for RTMR3), and a TDX quote (via `generateTdxQuote`) whose RTMRs, REPORTDATA and
 * MRCONFIGID match them, plus collateral chained to a fresh test root CA.
 *
 * Every expected value is computed here INDEPENDENTLY of `src/attestation` (node:crypto
 * only), following the rules in ../shared/fixtures/README.md:
 *   runtime digest v1 = SHA-384( u32_le(0x08000001) ‖ ":" ‖ name ‖ ":" ‖ payload )
 *   runtime digest v2 = SHA-384( {"name":…,"payload":lowercase hex,"type":134217729} ) (JCS text)
 *   rtmr = SHA-384( rtmr ‖ digest ), from 48 zero bytes, in log order
 *   MRCONFIGID = 0x01 ‖ compose-hash ‖ 15 zero bytes
 * so a test comparing the verifier's output with these values can really fail.
 */
import { createHash } from "node:crypto";

import { getAddress, type Address, type Hex } from "viem";

import { buildAppCompose } from "../../src/compose/index.js";
import { generateTdxQuote, type GeneratedTdxQuote, type GenerateTdxQuoteOptions } from "./tdx-quote-generator.js";
import { testRandomBytes } from "./test-random.js";

export const RUNTIME_EVENT_TYPE = 0x08000001;
/** Boot event types seen in real logs (EV_EFI_VARIABLE_DRIVER_CONFIG, EV_EFI_BOOT_SERVICES_APPLICATION, EV_SEPARATOR...). */
const BOOT_EVENT_TYPES = [0x80000001, 0x80000003, 0x00000004, 0x0000000d];

/** Byte offsets inside a TDX v4 quote (header 48, TD report 584, u32 auth size, auth data). */
export const QUOTE_OFFSETS = {
  teeType: 4,
  mrTd: 48 + 136,
  mrConfigId: 48 + 184,
  rtmr0: 48 + 328,
  rtmr3: 48 + 472,
  reportData: 48 + 520,
  /** The attestation key's ECDSA signature over header ‖ TD report. */
  signature: 48 + 584 + 4,
} as const;

/** One event as the dstack guest agent serialises it (`event_log` entries). */
export interface EventLogJsonEntry {
  imr: number;
  event_type: number;
  digest: string;
  event: string;
  event_payload: string;
  version?: number;
  /** The digest pre-image (hex), as dstack writes it on v2 events. */
  preimage?: string;
}

/** A runtime (RTMR3) event before it is measured. */
export interface RuntimeEventSpec {
  name: string;
  payload: Uint8Array;
  /** The digest written in the log (hex). Default: empty, as dstack "lite" logs do. */
  givenDigest?: string;
  /** Digest rule; default the attestation's `runtimeEventVersion`. */
  version?: 1 | 2;
}

export interface BuildAttestationOptions {
  /** Reference time for the collateral windows (default: now). */
  now?: Date;
  /** The attested app-id: the DstackApp address (default: random). */
  appId?: Address;
  /** App name written into app-compose.json. */
  name?: string;
  /** The docker-compose.yaml text (default: two services, pinned or not per `unpinnedImages`). */
  dockerCompose?: string;
  /** Default services use tags (`nginx:1.27`, `…:latest`) instead of digests. */
  unpinnedImages?: boolean;
  /** The exact app-compose.json text; overrides building one. */
  appCompose?: string;
  /** Leave `app_compose` out of the bundle (like a guest-agent GetQuote response). */
  omitAppCompose?: boolean;
  /** The challenge put at the start of REPORTDATA (1..64 bytes, default 32 random bytes). */
  nonce?: Uint8Array;
  /** The full 64-byte REPORTDATA; overrides `nonce` padding. */
  reportData?: Uint8Array;
  /** Payload of `instance-id` (default: 20 random bytes). */
  instanceId?: Uint8Array;
  /** Payload of `os-image-hash` (default: 32 random bytes). */
  osImageHash?: Uint8Array;
  /** Exact `key-provider` payload text (default `{"name":"kms","id":"<random hex>"}`). */
  keyProvider?: string;
  /** Boot events per RTMR0, RTMR1, RTMR2 (default 4, 3, 2). */
  bootEventCounts?: readonly [number, number, number];
  /** Edits the runtime events before they are measured (drop, duplicate, add...). */
  runtimeEvents?: (events: RuntimeEventSpec[]) => RuntimeEventSpec[];
  /** Write each runtime event's computed digest into the log instead of "". */
  writeRuntimeDigests?: boolean;
  /** Digest rule of the runtime events (default 1); 2 is marked `version: 2` in the log. */
  runtimeEventVersion?: 1 | 2;
  /** Write each runtime event's digest pre-image as `preimage` (dstack does for v2). */
  writePreimages?: boolean;
  /** MRCONFIGID (48 bytes); default 0x01 ‖ compose-hash ‖ zeros. */
  mrConfigId?: Uint8Array;
  mrTd?: Uint8Array;
  /** Passed through to `generateTdxQuote` (TCB status, advisories, validity windows...). */
  quote?: Omit<GenerateTdxQuoteOptions, "rtmr0" | "rtmr1" | "rtmr2" | "rtmr3" | "reportData" | "mrConfigId" | "mrTd">;
}

export interface AttestationBundleJson {
  quote: string;
  event_log: string;
  app_compose?: string;
  report_data: string;
}

export interface BuiltAttestation {
  /** What a CVM serves / what `--bundle` reads. */
  bundle: AttestationBundleJson;
  quote: Uint8Array;
  collateral: GeneratedTdxQuote["collateral"];
  rootCaDer: Uint8Array;
  now: Date;
  appId: Address;
  /** 0x-prefixed, lowercase. */
  composeHash: Hex;
  appCompose: string;
  nonce: Uint8Array;
  reportData: Uint8Array;
  instanceId: Uint8Array;
  osImageHash: Uint8Array;
  keyProvider: string;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  rtmrs: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  events: EventLogJsonEntry[];
  generated: GeneratedTdxQuote;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** An image digest that is valid in form (64 lowercase hex digits). */
export function randomImageDigest(): string {
  return `sha256:${testRandomBytes(32).toString("hex")}`;
}

export function defaultDockerCompose(pinned: boolean): string {
  const web = pinned ? `nginx@${randomImageDigest()}` : "nginx:1.27";
  const worker = pinned ? `ghcr.io/example/worker@${randomImageDigest()}` : "ghcr.io/example/worker:latest";
  return ["services:", "  web:", `    image: ${web}`, "    ports:", '      - "80:80"', "  worker:", `    image: ${worker}`, "    restart: always", ""].join("\n");
}

/** SHA-384( u32_le(0x08000001) ‖ ":" ‖ name ‖ ":" ‖ payload ), written out from the README rule. */
export function v1RuntimeDigest(name: string, payload: Uint8Array): Uint8Array {
  const type = Buffer.alloc(4);
  type.writeUInt32LE(RUNTIME_EVENT_TYPE);
  return createHash("sha384").update(type).update(":").update(Buffer.from(name, "utf8")).update(":").update(payload).digest();
}

/** The v2 pre-image: the JCS text of {name, payload, type}, keys in sorted order, written out by hand. */
export function v2RuntimePreimage(name: string, payload: Uint8Array): Buffer {
  return Buffer.from(`{"name":${JSON.stringify(name)},"payload":"${Buffer.from(payload).toString("hex")}","type":${RUNTIME_EVENT_TYPE}}`, "utf8");
}

/** The v1 pre-image u32_le(0x08000001) ‖ ":" ‖ name ‖ ":" ‖ payload. */
export function v1RuntimePreimage(name: string, payload: Uint8Array): Buffer {
  const type = Buffer.alloc(4);
  type.writeUInt32LE(RUNTIME_EVENT_TYPE);
  return Buffer.concat([type, Buffer.from(":"), Buffer.from(name, "utf8"), Buffer.from(":"), payload]);
}

export function runtimeDigest(name: string, payload: Uint8Array, version: 1 | 2 = 1): Buffer {
  return createHash("sha384").update(version === 2 ? v2RuntimePreimage(name, payload) : v1RuntimePreimage(name, payload)).digest();
}

/** Replays RTMR0-3 from log entries: runtime events by their version's rule, boot events by their given digest. */
export function replayEntries(events: readonly EventLogJsonEntry[]): [Uint8Array, Uint8Array, Uint8Array, Uint8Array] {
  const rtmrs: Buffer[] = [0, 1, 2, 3].map(() => Buffer.alloc(48));
  for (const e of events) {
    const digest =
      e.event_type === RUNTIME_EVENT_TYPE
        ? runtimeDigest(e.event, Buffer.from(e.event_payload, "hex"), e.version === 2 ? 2 : 1)
        : Buffer.from(e.digest, "hex");
    rtmrs[e.imr] = createHash("sha384").update(rtmrs[e.imr]!).update(digest).digest();
  }
  return rtmrs as [Buffer, Buffer, Buffer, Buffer];
}

/** The runtime events a dstack CVM extends into RTMR3 at boot, in order. */
export function defaultRuntimeEvents(values: {
  appId: Uint8Array;
  composeHash: Uint8Array;
  instanceId: Uint8Array;
  osImageHash: Uint8Array;
  keyProvider: string;
}): RuntimeEventSpec[] {
  return [
    { name: "system-preparing", payload: new Uint8Array() },
    { name: "app-id", payload: values.appId },
    { name: "compose-hash", payload: values.composeHash },
    { name: "instance-id", payload: values.instanceId },
    { name: "boot-mr-done", payload: new Uint8Array() },
    { name: "os-image-hash", payload: values.osImageHash },
    { name: "key-provider", payload: Buffer.from(values.keyProvider, "utf8") },
    { name: "system-ready", payload: new Uint8Array() },
  ];
}

export function buildAttestation(options: BuildAttestationOptions = {}): BuiltAttestation {
  const now = options.now ?? new Date();
  const appId = getAddress(options.appId ?? `0x${testRandomBytes(20).toString("hex")}`);
  const appCompose =
    options.appCompose ??
    buildAppCompose({
      name: options.name ?? "governed-app",
      dockerCompose: options.dockerCompose ?? defaultDockerCompose(options.unpinnedImages !== true),
      kmsEnabled: true,
      gatewayEnabled: true,
    }).json;
  const composeHash = createHash("sha256").update(Buffer.from(appCompose, "utf8")).digest();
  const instanceId = options.instanceId ?? testRandomBytes(20);
  const osImageHash = options.osImageHash ?? testRandomBytes(32);
  const keyProvider = options.keyProvider ?? JSON.stringify({ name: "kms", id: testRandomBytes(32).toString("hex") });

  let nonce: Uint8Array;
  let reportData: Uint8Array;
  if (options.reportData !== undefined) {
    if (options.reportData.length !== 64) throw new Error("buildAttestation: reportData must be 64 bytes");
    reportData = Uint8Array.from(options.reportData);
    nonce = options.nonce ?? reportData.subarray(0, 32);
  } else {
    nonce = options.nonce ?? testRandomBytes(32);
    if (nonce.length === 0 || nonce.length > 64) throw new Error("buildAttestation: nonce must be 1..64 bytes");
    reportData = new Uint8Array(64);
    reportData.set(nonce);
  }

  // Boot events: digests only, payloads stripped (as in real dstack logs).
  const events: EventLogJsonEntry[] = [];
  const counts = options.bootEventCounts ?? [4, 3, 2];
  counts.forEach((count, imr) => {
    for (let i = 0; i < count; i++) {
      events.push({ imr, event_type: BOOT_EVENT_TYPES[i % BOOT_EVENT_TYPES.length]!, digest: testRandomBytes(48).toString("hex"), event: "", event_payload: "" });
    }
  });

  let runtime = defaultRuntimeEvents({ appId: Buffer.from(appId.slice(2), "hex"), composeHash, instanceId, osImageHash, keyProvider });
  if (options.runtimeEvents !== undefined) runtime = options.runtimeEvents(runtime);
  for (const spec of runtime) {
    const version = spec.version ?? options.runtimeEventVersion ?? 1;
    const digest = spec.givenDigest ?? (options.writeRuntimeDigests === true ? hex(runtimeDigest(spec.name, spec.payload, version)) : "");
    const entry: EventLogJsonEntry = { imr: 3, event_type: RUNTIME_EVENT_TYPE, digest, event: spec.name, event_payload: hex(spec.payload) };
    if (version === 2) entry.version = 2;
    if (options.writePreimages === true) {
      entry.preimage = hex(version === 2 ? v2RuntimePreimage(spec.name, spec.payload) : v1RuntimePreimage(spec.name, spec.payload));
    }
    events.push(entry);
  }

  const rtmrs = replayEntries(events);
  const mrConfigId = options.mrConfigId ?? Buffer.concat([Buffer.of(0x01), composeHash, Buffer.alloc(15)]);
  const mrTd = options.mrTd ?? testRandomBytes(48);
  const generated = generateTdxQuote({
    ...options.quote,
    now,
    mrTd,
    rtmr0: rtmrs[0],
    rtmr1: rtmrs[1],
    rtmr2: rtmrs[2],
    rtmr3: rtmrs[3],
    reportData,
    mrConfigId,
  });

  const bundle: AttestationBundleJson = {
    quote: hex(generated.quote),
    event_log: JSON.stringify(events),
    ...(options.omitAppCompose === true ? {} : { app_compose: appCompose }),
    report_data: hex(reportData),
  };
  return {
    bundle,
    quote: generated.quote,
    collateral: generated.collateral,
    rootCaDer: generated.rootCaDer,
    now,
    appId,
    composeHash: `0x${composeHash.toString("hex")}`,
    appCompose,
    nonce: Uint8Array.from(nonce),
    reportData,
    instanceId: Uint8Array.from(instanceId),
    osImageHash: Uint8Array.from(osImageHash),
    keyProvider,
    mrTd: Uint8Array.from(mrTd),
    mrConfigId: Uint8Array.from(mrConfigId),
    rtmrs,
    events,
    generated,
  };
}

/** A copy of `hexText` (bare hex) with one byte XOR-ed at `offset`. */
export function flipHexByte(hexText: string, offset: number, mask = 0x01): string {
  const bytes = Buffer.from(hexText, "hex");
  if (offset >= bytes.length) throw new Error(`flipHexByte: offset ${offset} beyond ${bytes.length} bytes`);
  bytes[offset] = bytes[offset]! ^ mask;
  return bytes.toString("hex");
}

/** A copy of the bundle's event log, edited by `edit`, as JSON text. */
// biome-ignore lint/suspicious/noConfusingVoidType: `edit` either edits in place (returning nothing) or returns a new list
export function editEventLog(bundle: AttestationBundleJson, edit: (events: EventLogJsonEntry[]) => EventLogJsonEntry[] | void): string {
  const events = JSON.parse(bundle.event_log) as EventLogJsonEntry[];
  return JSON.stringify(edit(events) ?? events);
}

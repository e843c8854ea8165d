import { DstackGovernanceError } from "../util/errors.js";
import { DSTACK_RUNTIME_EVENT_TYPE, type EventLogEntry } from "./event-log.js";

/**
 * Extraction of the dstack runtime events that identify the application:
 *
 *   app-id         20 bytes   the on-chain app id (DstackApp address / derived id)
 *   compose-hash   32 bytes   SHA-256 of app_compose.json — required
 *   instance-id    any length the CVM instance (empty when instance ids are disabled)
 *   os-image-hash  32 bytes   SHA-256 identifying the OS image
 *   key-provider   JSON text  which key provider (KMS / local SGX) released the keys
 *
 * Only events that can have been measured into RTMR3 count: imr 3 and the dstack
 * runtime event type. An event with one of these names anywhere else is ignored (it
 * does not reach RTMR3 and so proves nothing). Each name may appear once: with two
 * compose-hash events a naive reader could pick either, so duplicates are rejected.
 *
 * This trusts the payloads only as far as the replay does: run `checkEventLogReplay`
 * on the same entries to tie them to the quote's RTMR3.
 */

export const RUNTIME_EVENT_APP_ID = "app-id";
export const RUNTIME_EVENT_COMPOSE_HASH = "compose-hash";
export const RUNTIME_EVENT_INSTANCE_ID = "instance-id";
export const RUNTIME_EVENT_OS_IMAGE_HASH = "os-image-hash";
export const RUNTIME_EVENT_KEY_PROVIDER = "key-provider";

const TRACKED = [
  RUNTIME_EVENT_APP_ID,
  RUNTIME_EVENT_COMPOSE_HASH,
  RUNTIME_EVENT_INSTANCE_ID,
  RUNTIME_EVENT_OS_IMAGE_HASH,
  RUNTIME_EVENT_KEY_PROVIDER,
] as const;
type TrackedName = (typeof TRACKED)[number];

const FIXED_LENGTHS: Partial<Record<TrackedName, number>> = {
  [RUNTIME_EVENT_APP_ID]: 20,
  [RUNTIME_EVENT_COMPOSE_HASH]: 32,
  [RUNTIME_EVENT_OS_IMAGE_HASH]: 32,
};

export type RuntimeEventErrorReason = "duplicate" | "missing" | "bad-length" | "bad-payload";

export class RuntimeEventError extends DstackGovernanceError {
  override name = "RuntimeEventError";
  readonly reason: RuntimeEventErrorReason;
  readonly event: string;

  constructor(reason: RuntimeEventErrorReason, event: string, message: string, options: { details?: string; cause?: unknown } = {}) {
    super(`RUNTIME_EVENT_${reason.toUpperCase().replace(/-/g, "_")}`, message, options);
    this.reason = reason;
    this.event = event;
  }
}

export interface KeyProviderInfo {
  /** The payload as UTF-8 text, exactly. */
  text: string;
  /** The payload parsed as JSON (for dstack: `{"name": "kms" | "local-sgx" | ..., "id": "..."}`). */
  json: unknown;
}

export interface DstackRuntimeEvents {
  appId: Uint8Array | null;
  composeHash: Uint8Array;
  instanceId: Uint8Array | null;
  osImageHash: Uint8Array | null;
  keyProvider: KeyProviderInfo | null;
  /** Log index of each extracted event, for reports. */
  indexes: Partial<Record<TrackedName, number>>;
  /** All RTMR3 runtime events in log order (including ones not extracted above). */
  runtimeEvents: readonly EventLogEntry[];
}

/** Throws `RuntimeEventError` on a duplicate, a missing compose-hash or a malformed payload. */
export function extractRuntimeEvents(events: readonly EventLogEntry[]): DstackRuntimeEvents {
  const runtimeEvents = events.filter((e) => e.imr === 3 && e.eventType === DSTACK_RUNTIME_EVENT_TYPE);
  const found = new Map<TrackedName, EventLogEntry>();
  for (const entry of runtimeEvents) {
    const name = (TRACKED as readonly string[]).includes(entry.event) ? (entry.event as TrackedName) : undefined;
    if (name === undefined) continue;
    const previous = found.get(name);
    if (previous !== undefined) {
      throw new RuntimeEventError(
        "duplicate",
        name,
        `runtime event "${name}" appears more than once in RTMR3 (events #${previous.index} and #${entry.index})`,
      );
    }
    const expectedLength = FIXED_LENGTHS[name];
    if (expectedLength !== undefined && entry.payload.length !== expectedLength) {
      throw new RuntimeEventError(
        "bad-length",
        name,
        `runtime event "${name}" (event #${entry.index}) payload is ${entry.payload.length} bytes, expected ${expectedLength}`,
      );
    }
    found.set(name, entry);
  }

  const composeHash = found.get(RUNTIME_EVENT_COMPOSE_HASH);
  if (composeHash === undefined) {
    throw new RuntimeEventError("missing", RUNTIME_EVENT_COMPOSE_HASH, 'no "compose-hash" runtime event in RTMR3: the application configuration is not attested');
  }
  const keyProviderEntry = found.get(RUNTIME_EVENT_KEY_PROVIDER);
  const indexes: Partial<Record<TrackedName, number>> = {};
  for (const [name, entry] of found) indexes[name] = entry.index;

  return {
    appId: found.get(RUNTIME_EVENT_APP_ID)?.payload ?? null,
    composeHash: composeHash.payload,
    instanceId: found.get(RUNTIME_EVENT_INSTANCE_ID)?.payload ?? null,
    osImageHash: found.get(RUNTIME_EVENT_OS_IMAGE_HASH)?.payload ?? null,
    keyProvider: keyProviderEntry === undefined ? null : parseKeyProvider(keyProviderEntry),
    indexes,
    runtimeEvents,
  };
}

function parseKeyProvider(entry: EventLogEntry): KeyProviderInfo {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(entry.payload);
  } catch (error) {
    throw new RuntimeEventError("bad-payload", RUNTIME_EVENT_KEY_PROVIDER, `runtime event "key-provider" (event #${entry.index}) payload is not UTF-8 text`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RuntimeEventError("bad-payload", RUNTIME_EVENT_KEY_PROVIDER, `runtime event "key-provider" (event #${entry.index}) payload is not JSON`, { cause: error });
  }
  return { text, json };
}

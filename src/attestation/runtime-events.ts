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
 *   gpu-policy-hash  32 bytes  SHA-256 of the GPU policy (GPU CVMs only)
 *   init-script-hash 32 bytes  one per init script, in execution order (zero or more)
 *
 * Only events that can have been measured into RTMR3 count: imr 3 and the dstack
 * runtime event type (replay rejects any other type in IMR 3). An event with one of
 * these names anywhere else is ignored (it does not reach RTMR3 and so proves nothing).
 *
 * The `system-ready` boundary: dstack emits these system events while it prepares the
 * CVM, then `system-ready`, and only then starts the application, which may emit runtime
 * events of its own (guest-agent EmitEvent) with any name. dstack reads system facts
 * up to the first `system-ready` only. Here a system event name after the first
 * `system-ready` is an error (not silently skipped): it can only come from the app, and
 * a reader that does not know the boundary would take it for the system's value.
 * Before the boundary each name other than init-script-hash may appear once: with two
 * compose-hash events a naive reader could pick either, so duplicates are rejected.
 * A log without `system-ready` is read to its end.
 *
 * This trusts the payloads only as far as the replay does: run `checkEventLogReplay`
 * on the same entries to tie them to the quote's RTMR3.
 */

export const RUNTIME_EVENT_APP_ID = "app-id";
export const RUNTIME_EVENT_COMPOSE_HASH = "compose-hash";
export const RUNTIME_EVENT_INSTANCE_ID = "instance-id";
export const RUNTIME_EVENT_OS_IMAGE_HASH = "os-image-hash";
export const RUNTIME_EVENT_KEY_PROVIDER = "key-provider";
export const RUNTIME_EVENT_GPU_POLICY_HASH = "gpu-policy-hash";
export const RUNTIME_EVENT_INIT_SCRIPT_HASH = "init-script-hash";
/** dstack emits it last, just before starting the application. */
export const RUNTIME_EVENT_SYSTEM_READY = "system-ready";

const TRACKED = [
  RUNTIME_EVENT_APP_ID,
  RUNTIME_EVENT_COMPOSE_HASH,
  RUNTIME_EVENT_INSTANCE_ID,
  RUNTIME_EVENT_OS_IMAGE_HASH,
  RUNTIME_EVENT_KEY_PROVIDER,
  RUNTIME_EVENT_GPU_POLICY_HASH,
] as const;
type TrackedName = (typeof TRACKED)[number];

/** Names only dstack itself emits before `system-ready`; the app must not reuse them after it. */
export const SYSTEM_EVENT_NAMES: readonly string[] = [...TRACKED, RUNTIME_EVENT_INIT_SCRIPT_HASH];

const FIXED_LENGTHS: Partial<Record<TrackedName | typeof RUNTIME_EVENT_INIT_SCRIPT_HASH, number>> = {
  [RUNTIME_EVENT_APP_ID]: 20,
  [RUNTIME_EVENT_COMPOSE_HASH]: 32,
  [RUNTIME_EVENT_OS_IMAGE_HASH]: 32,
  [RUNTIME_EVENT_GPU_POLICY_HASH]: 32,
  [RUNTIME_EVENT_INIT_SCRIPT_HASH]: 32,
};

export type RuntimeEventErrorReason = "duplicate" | "missing" | "bad-length" | "bad-payload" | "after-system-ready";

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
  gpuPolicyHash: Uint8Array | null;
  /** Payloads of the init-script-hash events before `system-ready`, in log order. */
  initScriptHashes: readonly Uint8Array[];
  /** Log index of the first `system-ready` runtime event, or null when there is none. */
  systemReadyIndex: number | null;
  /** Log index of each extracted event, for reports. */
  indexes: Partial<Record<TrackedName, number>>;
  /** All RTMR3 runtime events in log order (including ones not extracted above). */
  runtimeEvents: readonly EventLogEntry[];
}

/**
 * Throws `RuntimeEventError` on a duplicate, a system event after `system-ready`, a
 * missing compose-hash or a malformed payload.
 */
export function extractRuntimeEvents(events: readonly EventLogEntry[]): DstackRuntimeEvents {
  const runtimeEvents = events.filter((e) => e.imr === 3 && e.eventType === DSTACK_RUNTIME_EVENT_TYPE);
  const found = new Map<TrackedName, EventLogEntry>();
  const initScriptHashes: Uint8Array[] = [];
  let systemReady: EventLogEntry | undefined;
  for (const entry of runtimeEvents) {
    if (systemReady === undefined && entry.event === RUNTIME_EVENT_SYSTEM_READY) {
      systemReady = entry;
      continue;
    }
    if (!SYSTEM_EVENT_NAMES.includes(entry.event)) continue;
    const name = entry.event;
    if (systemReady !== undefined) {
      throw new RuntimeEventError(
        "after-system-ready",
        name,
        `runtime event "${name}" (event #${entry.index}) comes after "system-ready" (event #${systemReady.index}): ` +
          "only the application emits events then, so it cannot be the system's value",
      );
    }
    const expectedLength = FIXED_LENGTHS[name as keyof typeof FIXED_LENGTHS];
    if (expectedLength !== undefined && entry.payload.length !== expectedLength) {
      throw new RuntimeEventError(
        "bad-length",
        name,
        `runtime event "${name}" (event #${entry.index}) payload is ${entry.payload.length} bytes, expected ${expectedLength}`,
      );
    }
    if (name === RUNTIME_EVENT_INIT_SCRIPT_HASH) {
      initScriptHashes.push(entry.payload);
      continue;
    }
    const previous = found.get(name as TrackedName);
    if (previous !== undefined) {
      throw new RuntimeEventError(
        "duplicate",
        name,
        `runtime event "${name}" appears more than once in RTMR3 (events #${previous.index} and #${entry.index})`,
      );
    }
    found.set(name as TrackedName, entry);
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
    gpuPolicyHash: found.get(RUNTIME_EVENT_GPU_POLICY_HASH)?.payload ?? null,
    initScriptHashes,
    systemReadyIndex: systemReady?.index ?? null,
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

import { DstackGovernanceError } from "../util/errors.js";

/**
 * Parser for the dstack event log (`event_log` of the guest agent's GetQuote/Info
 * responses): a JSON array of
 *
 *   { imr, event_type, digest, event, event_payload, version?, preimage?, hash_input? }
 *
 * as serialised by dstack's `cc-eventlog` `TdxEvent`: `imr` is the zero-based RTMR
 * index, byte fields are hex, `digest` may be empty or absent (runtime events; "lite"
 * logs), `version` (1 or 2) selects the runtime-event digest rule and is omitted for v1,
 * `preimage` (dstack since 2026-07; always present on v2 events served through the quote
 * APIs) is the hex digest pre-image, and `hash_input` is the same field under the name
 * it had for a few days before (2026-07-21..22).
 *
 * The log comes from the machine being verified, so it is hostile input: every field is
 * type-checked, unknown fields are rejected (a new field might change digest semantics,
 * as `version` did, and must not be silently ignored), and sizes are bounded before any
 * expensive work so a huge log fails fast with the bound it broke. The pre-image fields
 * are informational (the verifier derives every digest itself) but never ignored: replay
 * checks each against the bytes it hashed.
 */

/** Most events accepted. Real dstack logs have ~30; the bound stops resource exhaustion. */
export const MAX_EVENT_LOG_EVENTS = 16_384;
/** Largest decoded `event_payload` of one event (boot logs may carry EFI variables/ACPI data). */
export const MAX_EVENT_PAYLOAD_BYTES = 256 * 1024;
/** Largest sum of decoded payloads over the whole log. */
export const MAX_EVENT_LOG_PAYLOAD_BYTES = 4 * 1024 * 1024;
/** Longest event name, in UTF-16 code units. dstack's names are a few dozen characters. */
export const MAX_EVENT_NAME_CHARS = 1024;
/** Longest `event_log` JSON text parsed (checked before `JSON.parse`). */
export const MAX_EVENT_LOG_JSON_CHARS = 16 * 1024 * 1024;

/** dstack runtime events (RTMR3) use this event type (not defined by TCG). */
export const DSTACK_RUNTIME_EVENT_TYPE = 0x08000001;

/** SHA-384 digest length: RTMRs are SHA-384 registers. */
const DIGEST_BYTES = 48;

export type EventLogErrorReason =
  | "too-large"
  | "invalid-json"
  | "not-array"
  | "too-many-events"
  | "invalid-entry"
  | "missing-field"
  | "unknown-field"
  | "invalid-field"
  | "name-too-long"
  | "payload-too-large"
  | "total-payload-too-large";

/** The event log is malformed or exceeds a bound; `index` is the offending entry, if any. */
export class EventLogError extends DstackGovernanceError {
  override name = "EventLogError";
  readonly reason: EventLogErrorReason;
  readonly index: number | undefined;

  constructor(reason: EventLogErrorReason, message: string, options: { index?: number; details?: string; cause?: unknown } = {}) {
    super(`EVENT_LOG_${reason.toUpperCase().replace(/-/g, "_")}`, message, options);
    this.reason = reason;
    this.index = options.index;
  }
}

export interface EventLogEntry {
  /** Position in the log (0-based), used in every error and report. */
  index: number;
  imr: 0 | 1 | 2 | 3;
  eventType: number;
  /** The digest the log claims (48 bytes), or null when the log left it empty/absent. */
  digest: Uint8Array | null;
  /** Event name (`event`); empty for most boot events. */
  event: string;
  payload: Uint8Array;
  /** Runtime-event digest rule: 1 (binary) unless the entry says `version: 2` (JCS JSON). */
  version: 1 | 2;
  /** The claimed digest pre-image (`preimage`), or null. Never trusted, only cross-checked. */
  preimage: Uint8Array | null;
  /** The same claim under its earlier name (`hash_input`), or null. Cross-checked like `preimage`. */
  hashInput: Uint8Array | null;
}

const KNOWN_FIELDS = new Set(["imr", "event_type", "digest", "event", "event_payload", "version", "preimage", "hash_input"]);
const REQUIRED_FIELDS = ["imr", "event_type", "event", "event_payload"] as const;
const HEX = /^[0-9a-fA-F]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Parses and validates an event log given as JSON text or an already-parsed array.
 * Throws `EventLogError` naming the entry and field that is wrong, or the bound exceeded.
 */
export function parseEventLog(input: string | readonly unknown[]): EventLogEntry[] {
  let items: readonly unknown[];
  if (typeof input === "string") {
    if (input.length > MAX_EVENT_LOG_JSON_CHARS) {
      throw new EventLogError(
        "too-large",
        `event log JSON is ${input.length} characters, more than MAX_EVENT_LOG_JSON_CHARS (${MAX_EVENT_LOG_JSON_CHARS})`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch (error) {
      throw new EventLogError("invalid-json", `event log is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    if (!Array.isArray(parsed)) throw new EventLogError("not-array", `event log JSON must be an array, got ${describe(parsed)}`);
    items = parsed;
  } else if (Array.isArray(input)) {
    items = input;
  } else {
    throw new EventLogError("not-array", `event log must be a JSON string or an array, got ${describe(input)}`);
  }

  if (items.length > MAX_EVENT_LOG_EVENTS) {
    throw new EventLogError(
      "too-many-events",
      `event log has ${items.length} events, more than MAX_EVENT_LOG_EVENTS (${MAX_EVENT_LOG_EVENTS})`,
    );
  }

  const entries: EventLogEntry[] = [];
  let totalPayload = 0;
  for (let index = 0; index < items.length; index++) {
    const entry = parseEntry(items[index], index);
    totalPayload += entry.payload.length;
    if (totalPayload > MAX_EVENT_LOG_PAYLOAD_BYTES) {
      throw new EventLogError(
        "total-payload-too-large",
        `event log payloads exceed MAX_EVENT_LOG_PAYLOAD_BYTES (${MAX_EVENT_LOG_PAYLOAD_BYTES}) at event #${index}`,
        { index },
      );
    }
    entries.push(entry);
  }
  return entries;
}

function parseEntry(item: unknown, index: number): EventLogEntry {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new EventLogError("invalid-entry", `event #${index} must be an object, got ${describe(item)}`, { index });
  }
  const record = item as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KNOWN_FIELDS.has(key)) {
      throw new EventLogError("unknown-field", `event #${index} has unknown field ${JSON.stringify(key)}`, {
        index,
        details: `known fields: ${[...KNOWN_FIELDS].join(", ")}`,
      });
    }
  }
  for (const key of REQUIRED_FIELDS) {
    if (!Object.hasOwn(record, key)) {
      throw new EventLogError("missing-field", `event #${index} is missing field "${key}"`, { index });
    }
  }

  const imr = record.imr;
  if (imr !== 0 && imr !== 1 && imr !== 2 && imr !== 3) {
    throw invalid(index, "imr", `must be an integer 0..3 (RTMR index), got ${describe(imr)}`);
  }
  const eventType = record.event_type;
  if (typeof eventType !== "number" || !Number.isInteger(eventType) || eventType < 0 || eventType > 0xffffffff) {
    throw invalid(index, "event_type", `must be an unsigned 32-bit integer, got ${describe(eventType)}`);
  }

  const event = record.event;
  if (typeof event !== "string") throw invalid(index, "event", `must be a string, got ${describe(event)}`);
  if (event.length > MAX_EVENT_NAME_CHARS) {
    throw new EventLogError(
      "name-too-long",
      `event #${index} name is ${event.length} characters, more than MAX_EVENT_NAME_CHARS (${MAX_EVENT_NAME_CHARS})`,
      { index },
    );
  }
  // A lone surrogate has no UTF-8 form: dstack (Rust) cannot have produced it, and the
  // digest pre-image would be ambiguous.
  if (LONE_SURROGATE.test(event)) throw invalid(index, "event", "contains a lone UTF-16 surrogate (not valid Unicode)");
  const label = event === "" ? `event #${index}` : `event #${index} (${JSON.stringify(event)})`;

  const payload = hexField(record.event_payload, index, label, "event_payload", MAX_EVENT_PAYLOAD_BYTES);

  let digest: Uint8Array | null = null;
  if (Object.hasOwn(record, "digest")) {
    const bytes = hexField(record.digest, index, label, "digest", DIGEST_BYTES);
    if (bytes.length !== 0 && bytes.length !== DIGEST_BYTES) {
      throw invalid(index, "digest", `must be empty or ${DIGEST_BYTES} bytes (SHA-384), got ${bytes.length} bytes`, label);
    }
    digest = bytes.length === 0 ? null : bytes;
  }

  let version: 1 | 2 = 1;
  if (Object.hasOwn(record, "version")) {
    const value = record.version;
    if (value !== 1 && value !== 2) throw invalid(index, "version", `must be 1 or 2, got ${describe(value)}`, label);
    version = value;
  }

  // Bounded like a payload: the v2 pre-image is hex of the payload plus a short wrapper.
  const preimageBound = 2 * MAX_EVENT_PAYLOAD_BYTES + 2 * MAX_EVENT_NAME_CHARS * 6 + 64;
  const preimage = Object.hasOwn(record, "preimage") ? hexField(record.preimage, index, label, "preimage", preimageBound) : null;
  const hashInput = Object.hasOwn(record, "hash_input") ? hexField(record.hash_input, index, label, "hash_input", preimageBound) : null;

  return { index, imr, eventType, digest, event, payload, version, preimage, hashInput };
}

function hexField(value: unknown, index: number, label: string, field: string, maxBytes: number): Uint8Array {
  if (typeof value !== "string") throw invalid(index, field, `must be a hex string, got ${describe(value)}`, label);
  if (value.length > maxBytes * 2) {
    if (field === "event_payload") {
      throw new EventLogError(
        "payload-too-large",
        `${label} payload is ${Math.ceil(value.length / 2)} bytes, more than MAX_EVENT_PAYLOAD_BYTES (${MAX_EVENT_PAYLOAD_BYTES})`,
        { index },
      );
    }
    throw invalid(index, field, `is ${Math.ceil(value.length / 2)} bytes, more than the ${maxBytes}-byte limit`, label);
  }
  if (!HEX.test(value)) throw invalid(index, field, "is not hexadecimal (bare hex without 0x expected)", label);
  if (value.length % 2 !== 0) throw invalid(index, field, `has an odd number of hex digits (${value.length})`, label);
  // Copied out of Node's shared Buffer pool so each entry owns its bytes.
  return new Uint8Array(Buffer.from(value, "hex"));
}

function invalid(index: number, field: string, problem: string, label = `event #${index}`): EventLogError {
  return new EventLogError("invalid-field", `${label} field "${field}" ${problem}`, { index });
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

import { DstackGovernanceError } from "../util/errors.js";

/**
 * An attestation as handed to the verifier, before any check: every field is still the
 * untrusted value it arrived as. `normalizeBundle` only finds the fields in the shapes
 * seen in the wild; it validates nothing that a check is responsible for.
 */
export interface AttestationBundle {
  /** The quote as given: hex, base64, or a byte array (decoded by `decodeQuoteInput`). */
  quote: unknown;
  /** The event log: a JSON string or an array. */
  eventLog: unknown;
  /** The exact app-compose.json text the CVM booted, when the source provided it. */
  appCompose: string | undefined;
  /** The report data the source claims (informational: the quote's own is what counts). */
  reportData: string | undefined;
  vmConfig: unknown;
  /** Collateral shipped with the bundle, if any. */
  collateral: unknown;
  /** Which shape was recognised, for the report. */
  shape: "bundle" | "guest-agent" | "phala-pair";
}

/**
 * Largest `vm_config` accepted, as JSON text. dstack itself refuses a sys-config over
 * 32 KiB; the verifier only carries vm_config, so this just bounds what it holds.
 */
export const MAX_VM_CONFIG_BYTES = 64 * 1024;
/**
 * Largest bundle file the verifier reads: an event log (at most 16 Mi characters), an
 * app-compose (8 MiB, up to twice that once escaped in JSON), a quote and collateral.
 */
export const MAX_BUNDLE_BYTES = 48 * 1024 * 1024;

export class AttestationInputError extends DstackGovernanceError {
  override name = "AttestationInputError";
  constructor(message: string, details?: string) {
    super("ATTESTATION_INPUT", message, details === undefined ? {} : { details });
  }
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** The first present field among snake_case and camelCase spellings. */
function field(object: Json, ...names: string[]): unknown {
  for (const name of names) if (object[name] !== undefined && object[name] !== null) return object[name];
  return undefined;
}

/**
 * `tcb_info` arrives as an object (Phala `/info`) or as a JSON string (guest-agent
 * `Info`). A string that is not JSON is an input error, not "no app-compose".
 */
function parseTcbInfo(value: unknown, where: string): Json | undefined {
  if (value === undefined) return undefined;
  if (isObject(value)) return value;
  if (typeof value === "string") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new AttestationInputError(`${where}: tcb_info is a string but not JSON`, (error as Error).message);
    }
    if (isObject(parsed)) return parsed;
  }
  throw new AttestationInputError(`${where}: tcb_info must be an object or a JSON string`);
}

function appComposeOf(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  // The compose hash is over the exact text; anything but a string would need
  // re-serialising, which cannot reproduce the CVM's bytes.
  if (typeof value !== "string") {
    throw new AttestationInputError(`${where}: app_compose must be the exact JSON text (a string), got ${Array.isArray(value) ? "an array" : typeof value}`);
  }
  return value;
}

function vmConfigOf(value: unknown, where: string): unknown {
  if (value === undefined) return undefined;
  const size = typeof value === "string" ? value.length : (JSON.stringify(value) ?? "").length;
  if (size > MAX_VM_CONFIG_BYTES) {
    throw new AttestationInputError(`${where}: vm_config is ${size} characters, more than MAX_VM_CONFIG_BYTES (${MAX_VM_CONFIG_BYTES})`);
  }
  return value;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new AttestationInputError(`${where} must be a string`);
  return value;
}

/**
 * Finds the attestation fields in any of the accepted shapes:
 * - a bundle `{quote, event_log, app_compose | tcb_info, report_data?, vm_config?, collateral?}`;
 * - a dstack guest-agent `GetQuote` response `{quote, event_log, report_data, vm_config}`
 *   (no app-compose: supply it separately);
 * - the `/attestation` + `/info` pair of Phala apps, as `{attestation: {...}, info: {...}}`.
 */
export function normalizeBundle(value: unknown, source = "bundle"): AttestationBundle {
  if (!isObject(value)) throw new AttestationInputError(`${source}: expected a JSON object`);

  if (isObject(value.attestation) || isObject(value.info)) {
    if (!isObject(value.attestation) || !isObject(value.info)) {
      throw new AttestationInputError(`${source}: an /attestation + /info pair needs both "attestation" and "info" objects`);
    }
    const attestation = value.attestation;
    const info = value.info;
    const tcbInfo = parseTcbInfo(field(info, "tcb_info", "tcbInfo"), `${source} info`);
    return {
      quote: requireField(attestation, `${source} attestation`, "quote"),
      eventLog: field(attestation, "event_log", "eventLog") ?? (tcbInfo === undefined ? undefined : field(tcbInfo, "event_log", "eventLog")),
      appCompose: appComposeOf(tcbInfo === undefined ? field(info, "app_compose", "appCompose") : field(tcbInfo, "app_compose", "appCompose"), `${source} info`),
      reportData: optionalString(field(attestation, "report_data", "reportData"), `${source} attestation report_data`),
      vmConfig: vmConfigOf(field(attestation, "vm_config", "vmConfig"), `${source} attestation`),
      collateral: field(value, "collateral"),
      shape: "phala-pair",
    };
  }

  const tcbInfo = parseTcbInfo(field(value, "tcb_info", "tcbInfo"), source);
  const appCompose = appComposeOf(field(value, "app_compose", "appCompose") ?? (tcbInfo === undefined ? undefined : field(tcbInfo, "app_compose", "appCompose")), source);
  const eventLog = field(value, "event_log", "eventLog") ?? (tcbInfo === undefined ? undefined : field(tcbInfo, "event_log", "eventLog"));
  return {
    quote: requireField(value, source, "quote"),
    eventLog,
    appCompose,
    reportData: optionalString(field(value, "report_data", "reportData"), `${source} report_data`),
    vmConfig: vmConfigOf(field(value, "vm_config", "vmConfig"), source),
    collateral: field(value, "collateral"),
    shape: appCompose === undefined && tcbInfo === undefined && field(value, "vm_config", "vmConfig") !== undefined ? "guest-agent" : "bundle",
  };
}

function requireField(object: Json, where: string, name: string): unknown {
  const value = field(object, name);
  if (value === undefined) throw new AttestationInputError(`${where}: no "${name}" field`);
  return value;
}

import { keccak256 } from "viem";

import { toBareHex } from "../util/hex.js";
import { bytesEqual, isAllZero, sha256 } from "./digest.js";
import type { KeyProviderInfo } from "./runtime-events.js";
import { MEASUREMENT_BYTES, type CheckResult } from "./types.js";

/**
 * Check `mr-config-id`: the TD's MRCONFIGID, set by the host when the TD is created and
 * fixed afterwards, against the configuration the event log attests. dstack
 * (`dstack-types` `mr_config.rs`) defines three layouts, all `version || 32 bytes || 15
 * zero bytes`:
 *
 *   v1  0x01 || compose_hash
 *   v2  0x02 || keccak256(compose_hash(32) || app_id(20) || key_provider_kind(1) || key_provider_id)
 *       kind: 0 none, 1 local (event name "local-sgx"), 2 kms, 3 tpm; key_provider_id is the
 *       hex-decoded `id` of the key-provider event (empty for none/tpm)
 *   v3  0x03 || sha256("dstack-mr-config-v3:" || 0x00 || document)
 *       where `document` is the exact MrConfigV3 JSON text the host generated (the VMM's
 *       sys-config `mr_config`); its fields must then match the event log
 *
 * All 48 bytes zero means "no binding" (dstack < 0.5.1, or `use_mrconfigid` off): skip,
 * or fail with `requireBinding`. Any other version byte, a non-zero tail, a value that
 * is not the one recomputed from the attested events, or a v3 value without its document
 * fails: a value the verifier cannot reproduce must not pass as "no binding".
 *
 * The CVM checks the same equation itself before it asks for keys (dstack-util
 * `config_id_verifier`); checking it here makes the host-set register agree with the
 * event log for a verifier that does not trust that the CVM booted dstack's code.
 */

/** What the event log attests, as far as MRCONFIGID can bind it. */
export interface MrConfigFacts {
  composeHash: Uint8Array | null;
  appId?: Uint8Array | null;
  keyProvider?: KeyProviderInfo | null;
  instanceId?: Uint8Array | null;
  gpuPolicyHash?: Uint8Array | null;
  initScriptHashes?: readonly Uint8Array[];
}

export interface MrConfigIdOptions {
  /**
   * Fail, rather than skip, when MRCONFIGID is all zero. Use when the deployment is
   * known to run dstack >= 0.5.1, where the VMM always binds the compose-hash there.
   */
  requireBinding?: boolean;
  /** The exact MrConfigV3 document text (needed for v3; an error with any other version). */
  document?: string;
}

const MR_CONFIG_V3_DOMAIN = "dstack-mr-config-v3:";
/** dstack `KeyProviderKind` → v2 kind byte, keyed by the key-provider event's `name`. */
const KEY_PROVIDER_KIND_BYTES: Readonly<Record<string, number>> = { none: 0, "local-sgx": 1, kms: 2, tpm: 3 };
/** The key-provider event's `name` → the MrConfigV3 document's `key_provider` (serde snake_case). */
const KEY_PROVIDER_DOCUMENT_NAMES: Readonly<Record<string, string>> = { none: "none", "local-sgx": "local", kms: "kms", tpm: "tpm" };
/** MrConfigV3 has `deny_unknown_fields`: the CVM's parser rejects anything else. */
const V3_FIELDS = ["version", "app_id", "compose_hash", "gpu_policy_hash", "key_provider", "key_provider_id", "instance_id", "init_script_hashes"];
/** dstack's MAX_INIT_SCRIPTS is small; this only bounds work on hostile input. */
const MAX_INIT_SCRIPT_HASHES = 256;
/**
 * Longest v3 document read. Real ones are a few hundred characters (256 init-script
 * hashes would be ~17 KiB); the host sets both the document and MRCONFIGID, so the bound
 * also stops a crafted one from costing more than a hash of 64 KiB.
 */
export const MAX_MR_CONFIG_DOCUMENT_CHARS = 64 * 1024;

export function checkMrConfigId(mrConfigId: Uint8Array, facts: MrConfigFacts | Uint8Array | null, options: MrConfigIdOptions = {}): CheckResult {
  const id = "mr-config-id";
  const attested: MrConfigFacts = facts === null || facts instanceof Uint8Array ? { composeHash: facts } : facts;
  if (mrConfigId.length !== MEASUREMENT_BYTES) {
    return { id, status: "error", detail: `MRCONFIGID must be ${MEASUREMENT_BYTES} bytes, got ${mrConfigId.length}` };
  }
  const value = toBareHex(mrConfigId);
  const fail = (detail: string): CheckResult => ({ id, status: "fail", detail });
  if (isAllZero(mrConfigId)) {
    if (options.document !== undefined) return fail("an mr_config document was given, but MRCONFIGID is all zero: nothing binds it");
    const detail = "MRCONFIGID is all zero: this CVM does not bind the compose-hash in MRCONFIGID (dstack < 0.5.1)";
    return options.requireBinding === true ? fail(`${detail}, but a binding is required`) : { id, status: "skip", detail };
  }
  const version = mrConfigId[0]!;
  if (version !== 1 && version !== 2 && version !== 3) {
    return fail(`MRCONFIGID has unknown format byte 0x${value.slice(0, 2)} (known: 01, 02, 03): ${value}`);
  }
  if (!isAllZero(mrConfigId.subarray(33))) {
    return fail(`MRCONFIGID format 0x0${version} must end in zero padding (15 zero bytes) after its 32-byte value: ${value}`);
  }
  if (options.document !== undefined && version !== 3) {
    return fail(`an mr_config document was given, but MRCONFIGID is format 0x0${version}, which does not bind one: ${value}`);
  }
  const bound = mrConfigId.subarray(1, 33);
  const composeHash = attested.composeHash;
  if (composeHash === null) return fail(`MRCONFIGID (format 0x0${version}) is ${value} but the event log has no compose-hash event`);

  if (version === 1) {
    if (!bytesEqual(bound, composeHash)) {
      return fail(`MRCONFIGID binds compose-hash ${toBareHex(bound)} but the compose-hash event says ${toBareHex(composeHash)}`);
    }
    return { id, status: "pass", detail: `MRCONFIGID = 01 || compose-hash ${toBareHex(composeHash)}` };
  }

  if (version === 2) {
    const appId = attested.appId ?? null;
    if (appId === null) return fail(`MRCONFIGID is format 0x02, which binds the app-id, but the event log has no app-id event: ${value}`);
    const provider = keyProviderOf(attested.keyProvider ?? null);
    if (typeof provider === "string") return fail(`MRCONFIGID is format 0x02, which binds the key provider, but ${provider}`);
    const kind = KEY_PROVIDER_KIND_BYTES[provider.name]!;
    const preimage = new Uint8Array(32 + 20 + 1 + provider.id.length);
    preimage.set(composeHash, 0);
    preimage.set(appId, 32);
    preimage[52] = kind;
    preimage.set(provider.id, 53);
    const expected = keccak256(preimage, "bytes");
    if (!bytesEqual(bound, expected)) {
      return fail(
        `MRCONFIGID is 02 || ${toBareHex(bound)} but keccak256(compose-hash ${toBareHex(composeHash)} || app-id ${toBareHex(appId)} || ` +
          `key provider ${provider.name} (${kind}) || id ${toBareHex(provider.id)}) from the event log is ${toBareHex(expected)}`,
      );
    }
    return {
      id,
      status: "pass",
      detail: `MRCONFIGID = 02 || keccak256(compose-hash || app-id || key provider ${provider.name} || its id) = ${toBareHex(expected)}, as the event log says`,
    };
  }

  // v3: the register binds a document, which the attestation must carry.
  if (options.document === undefined) {
    return fail(
      `MRCONFIGID is format 0x03, which binds an mr_config document this attestation does not carry (give it as \`vm_config.mr_config\` or the mrConfigDocument option): ${value}`,
    );
  }
  if (options.document.length > MAX_MR_CONFIG_DOCUMENT_CHARS) {
    return fail(`the mr_config document is ${options.document.length} characters, more than MAX_MR_CONFIG_DOCUMENT_CHARS (${MAX_MR_CONFIG_DOCUMENT_CHARS})`);
  }
  const documentHash = mrConfigV3DocumentHash(options.document);
  if (!bytesEqual(bound, documentHash)) {
    return fail(`MRCONFIGID is 03 || ${toBareHex(bound)} but the given mr_config document hashes to ${toBareHex(documentHash)}`);
  }
  const problem = checkV3Document(options.document, { ...attested, composeHash });
  if (problem !== null) return fail(`MRCONFIGID binds the given mr_config document, but ${problem}`);
  return { id, status: "pass", detail: `MRCONFIGID = 03 || sha256(mr_config document) ${toBareHex(documentHash)}, and the document agrees with the event log` };
}

/** sha256("dstack-mr-config-v3:" || 0x00 || the document's UTF-8 bytes), as the host computes it. */
export function mrConfigV3DocumentHash(document: string): Uint8Array {
  const text = new TextEncoder().encode(document);
  const prefix = new TextEncoder().encode(MR_CONFIG_V3_DOMAIN);
  const input = new Uint8Array(prefix.length + 1 + text.length);
  input.set(prefix, 0);
  input.set(text, prefix.length + 1);
  return sha256(input);
}

/**
 * The v3 document carried in a dstack `vm_config` (JSON text or object) as its
 * `mr_config` string, where dstack's own readers fall back to; undefined when absent.
 */
export function mrConfigDocumentFromVmConfig(vmConfig: unknown): string | undefined {
  let object: unknown = vmConfig;
  if (typeof vmConfig === "string") {
    try {
      object = JSON.parse(vmConfig);
    } catch {
      return undefined;
    }
  }
  if (typeof object !== "object" || object === null || Array.isArray(object)) return undefined;
  const document = (object as Record<string, unknown>).mr_config;
  return typeof document === "string" ? document : undefined;
}

function keyProviderOf(info: KeyProviderInfo | null): { name: string; id: Uint8Array } | string {
  if (info === null) return "the event log has no key-provider event";
  const json = info.json;
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "the key-provider event is not a JSON object";
  const { name, id } = json as Record<string, unknown>;
  if (typeof name !== "string" || !Object.hasOwn(KEY_PROVIDER_KIND_BYTES, name)) {
    return `the key-provider event names an unknown provider ${JSON.stringify(name)} (known: ${Object.keys(KEY_PROVIDER_KIND_BYTES).join(", ")})`;
  }
  if (typeof id !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(id)) return `the key-provider event's id is not hex: ${JSON.stringify(id)}`;
  return { name, id: new Uint8Array(Buffer.from(id, "hex")) };
}

/** Null when the document agrees with the attested facts, else what is wrong. */
function checkV3Document(document: string, facts: MrConfigFacts & { composeHash: Uint8Array }): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return "the document is not JSON";
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "the document is not a JSON object";
  const doc = parsed as Record<string, unknown>;
  // JSON.parse keeps the last of two equal keys; dstack's parser rejects the document.
  // Valid values are numbers, hex, enum names or lists of hex, so every `"name":` is a key.
  const seen = new Set<string>();
  for (const match of document.matchAll(/"([^"\\]*)"\s*:/g)) {
    const key = match[1]!;
    if (seen.has(key)) return `the document has the field ${JSON.stringify(key)} twice (dstack rejects it)`;
    seen.add(key);
  }
  const unknown = Object.keys(doc).filter((key) => !V3_FIELDS.includes(key));
  if (unknown.length > 0) return `the document has unknown fields ${unknown.map((k) => JSON.stringify(k)).join(", ")} (dstack rejects them)`;
  const present = (key: string) => doc[key] !== undefined && doc[key] !== null;

  const version = present("version") ? doc.version : 3;
  if (version !== 3) return `the document's version is ${JSON.stringify(version)}, not 3`;

  const composeHash = hexBytes(doc.compose_hash);
  if (composeHash === null) return "the document's compose_hash is missing or not hex";
  if (!bytesEqual(composeHash, facts.composeHash)) {
    return `the document's compose_hash ${toBareHex(composeHash)} is not the compose-hash event ${toBareHex(facts.composeHash)}`;
  }

  const provider = keyProviderOf(facts.keyProvider ?? null);
  if (typeof provider === "string") return `the document binds a key provider and ${provider}`;
  if (doc.key_provider !== KEY_PROVIDER_DOCUMENT_NAMES[provider.name]) {
    return `the document's key_provider ${JSON.stringify(doc.key_provider)} is not the key-provider event's ${JSON.stringify(provider.name)}`;
  }

  const optional: [string, Uint8Array | null | undefined, string][] = [
    ["key_provider_id", provider.id, "key-provider event's id"],
    ["app_id", facts.appId, "app-id event"],
    ["instance_id", facts.instanceId, "instance-id event"],
    ["gpu_policy_hash", facts.gpuPolicyHash, "gpu-policy-hash event"],
  ];
  for (const [key, attested, what] of optional) {
    if (!present(key)) continue;
    const pinned = hexBytes(doc[key]);
    if (pinned === null) return `the document's ${key} is not hex`;
    if (attested === null || attested === undefined) return `the document pins ${key} ${toBareHex(pinned)} but the event log has no ${what}`;
    if (!bytesEqual(pinned, attested)) return `the document's ${key} ${toBareHex(pinned)} is not the ${what} ${toBareHex(attested)}`;
  }

  if (present("init_script_hashes")) {
    const list = doc.init_script_hashes;
    if (!Array.isArray(list) || list.length > MAX_INIT_SCRIPT_HASHES) return "the document's init_script_hashes is not a list of hashes";
    const pinned = list.map(hexBytes);
    if (pinned.some((hash) => hash === null || hash.length !== 32)) return "the document's init_script_hashes has an entry that is not a 32-byte hex hash";
    const attested = facts.initScriptHashes ?? [];
    const same = pinned.length === attested.length && pinned.every((hash, i) => bytesEqual(hash!, attested[i]!));
    if (!same) {
      return `the document's init_script_hashes [${pinned.map((h) => toBareHex(h!)).join(", ")}] are not the init-script-hash events [${attested.map(toBareHex).join(", ")}]`;
    }
  }
  return null;
}

/** Bare hex (as serde_human_bytes writes it) to bytes; null when not a hex string. */
function hexBytes(value: unknown): Uint8Array | null {
  if (typeof value !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) return null;
  return new Uint8Array(Buffer.from(value, "hex"));
}

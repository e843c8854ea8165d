import { toBareHex } from "../util/hex.js";
import { sha384 } from "./digest.js";
import { DSTACK_RUNTIME_EVENT_TYPE } from "./event-log.js";

/**
 * The digest dstack extends into RTMR3 for a runtime event (cc-eventlog):
 *
 * - v1: SHA-384( u32_le(0x08000001) || ":" || event_name || ":" || payload )
 * - v2: SHA-384( JCS canonical JSON {"name": name, "payload": lowercase hex, "type": 134217729} )
 *
 * The verifier always derives the digest from name and payload this way; a digest the
 * log states is only compared against it. That is what makes the event content (for
 * example the compose-hash) attested: the quote's RTMR3 commits to the digests, and the
 * digests commit to names and payloads.
 */

export type RuntimeEventVersion = 1 | 2;

/** The exact bytes hashed for a runtime event (the digest pre-image). */
export function runtimeEventHashInput(name: string, payload: Uint8Array, version: RuntimeEventVersion): Uint8Array {
  return new Uint8Array(buildHashInput(name, payload, version));
}

export function runtimeEventDigest(name: string, payload: Uint8Array, version: RuntimeEventVersion): Uint8Array {
  return sha384(buildHashInput(name, payload, version));
}

/**
 * RFC 8785 (JCS) form of the v2 object. With fixed keys that is: members sorted by key
 * ("name" < "payload" < "type"), no whitespace, strings escaped exactly as ECMAScript's
 * JSON.stringify does (RFC 8785 §3.2.2.2 adopts that algorithm), and the integer type in
 * shortest decimal form.
 */
export function runtimeEventCanonicalJsonV2(name: string, payload: Uint8Array): string {
  return `{"name":${JSON.stringify(name)},"payload":"${toBareHex(payload)}","type":${DSTACK_RUNTIME_EVENT_TYPE}}`;
}

/** Pre-image in a pooled Buffer: callers hash it immediately or copy it. */
export function buildHashInput(name: string, payload: Uint8Array, version: RuntimeEventVersion): Buffer {
  if (version === 2) return Buffer.from(runtimeEventCanonicalJsonV2(name, payload), "utf8");
  const nameLength = Buffer.byteLength(name, "utf8");
  const out = Buffer.allocUnsafe(6 + nameLength + payload.length);
  out.writeUInt32LE(DSTACK_RUNTIME_EVENT_TYPE, 0);
  out[4] = 0x3a; // ":"
  out.write(name, 5, nameLength, "utf8");
  out[5 + nameLength] = 0x3a;
  out.set(payload, 6 + nameLength);
  return out;
}

/**
 * TEST-ONLY randomness and P-256 signing for the test PKI and quote generator: the
 * operating system's randomness by default, or — after `useSeededRandomness(seed)` — a
 * reproducible stream (SHA-256 of seed ‖ counter) with keys derived from it and RFC 6979
 * deterministic ECDSA, so that scripts/make-example-attestation.ts writes the same bytes on
 * every run.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

import { p256 } from "@noble/curves/p256";

let seed: Buffer | undefined;
let counter = 0;

/** Switches to a reproducible stream for `seed`, or back to real randomness with `undefined`. */
export function useSeededRandomness(value: string | undefined): void {
  seed = value === undefined ? undefined : createHash("sha256").update(value, "utf8").digest();
  counter = 0;
}

export function testRandomBytes(length: number): Buffer {
  if (seed === undefined) return randomBytes(length);
  const blocks: Buffer[] = [];
  for (let have = 0; have < length; have += 32) {
    const index = Buffer.alloc(4);
    index.writeUInt32BE(counter++);
    blocks.push(createHash("sha256").update(seed).update(index).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

/** A fresh P-256 key pair (seeded: the private scalar comes from the stream). */
export function newP256Keys(): { privateKey: KeyObject; publicKey: KeyObject } {
  if (seed === undefined) return generateKeyPairSync("ec", { namedCurve: "P-256" });
  let scalar = 0n;
  while (scalar === 0n) scalar = BigInt(`0x${testRandomBytes(32).toString("hex")}`) % p256.CURVE.n;
  const d = Buffer.from(scalar.toString(16).padStart(64, "0"), "hex");
  const point = p256.getPublicKey(d, false);
  const jwk = { kty: "EC", crv: "P-256", x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) };
  return { privateKey: createPrivateKey({ key: { ...jwk, d: b64url(d) }, format: "jwk" }), publicKey: createPublicKey({ key: jwk, format: "jwk" }) };
}

/** ECDSA-P256-SHA256 over `data` (seeded: RFC 6979 deterministic), DER or raw r ‖ s. */
export function signP256(key: KeyObject, data: Uint8Array, encoding: "der" | "ieee-p1363"): Uint8Array {
  if (seed === undefined) return sign("sha256", data, { key, dsaEncoding: encoding });
  const d = Buffer.from(key.export({ format: "jwk" }).d!, "base64url");
  const signature = p256.sign(createHash("sha256").update(data).digest(), d);
  return encoding === "der" ? signature.toDERRawBytes() : signature.toCompactRawBytes();
}

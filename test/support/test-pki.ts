/**
 * Test-only X.509 PKI shaped like Intel's SGX PCS hierarchy:
 *
 *   test root CA ──► test PCK Platform/Processor CA ──► PCK leaf (with SGX extension)
 *               └──► test TCB signing cert (signs TCB info and QE identity)
 *
 * plus DER CRLs from the root and the PCK CA. Nothing here is ever trusted by
 * production code; the root must be handed to the verifier explicitly.
 */
import type { KeyObject } from "node:crypto";

import { newP256Keys, signP256, testRandomBytes } from "./test-random.js";

import {
  bitString,
  boolean,
  enumerated,
  explicit,
  integer,
  objectIdentifier,
  octetString,
  sequence,
  set,
  time,
  utf8String,
} from "./der.js";

const OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_KEY_USAGE = "2.5.29.15";
const OID_CRL_NUMBER = "2.5.29.20";

/** Intel SGX PCK certificate extension OIDs (Intel "SGX PCK Certificate and CRL Profile"). */
export const SGX_OID = {
  extension: "1.2.840.113741.1.13.1",
  ppid: "1.2.840.113741.1.13.1.1",
  tcb: "1.2.840.113741.1.13.1.2",
  /** TCB component i (1..16) is `tcb.i`; 17 is PCESVN and 18 is CPUSVN. */
  pceSvn: "1.2.840.113741.1.13.1.2.17",
  cpuSvn: "1.2.840.113741.1.13.1.2.18",
  pceId: "1.2.840.113741.1.13.1.3",
  fmspc: "1.2.840.113741.1.13.1.4",
  sgxType: "1.2.840.113741.1.13.1.5",
} as const;

export interface P256KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, embedded as-is in certificates. */
  spkiDer: Uint8Array;
  /** Uncompressed point without the 0x04 prefix: X ‖ Y (the quote's attestation-key format). */
  rawPublicKey: Uint8Array;
}

export function newP256KeyPair(): P256KeyPair {
  const { privateKey, publicKey } = newP256Keys();
  const spkiDer = publicKey.export({ type: "spki", format: "der" });
  // For P-256 the SPKI ends with the 65-byte uncompressed point 04 ‖ X ‖ Y.
  const rawPublicKey = Uint8Array.from(spkiDer.subarray(spkiDer.length - 64));
  return { privateKey, publicKey, spkiDer, rawPublicKey };
}

/** ECDSA-P256-SHA256 over `data`, DER-encoded (X.509 / CRL signatures). */
export function signDer(key: KeyObject, data: Uint8Array): Uint8Array {
  return signP256(key, data, "der");
}

/** ECDSA-P256-SHA256 over `data` as raw r ‖ s (quote and PCS JSON signatures). */
export function signRaw(key: KeyObject, data: Uint8Array): Uint8Array {
  return signP256(key, data, "ieee-p1363");
}

/** A positive random 127-bit serial, so CRL serial matches never collide by accident. */
export function randomSerial(): bigint {
  const bytes = testRandomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return BigInt(`0x${bytes.toString("hex")}`) || 1n;
}

/** An Intel-style distinguished name with UTF8String attributes. */
export function distinguishedName(commonName: string): Uint8Array {
  const attribute = (oid: string, value: string) => set(sequence(objectIdentifier(oid), utf8String(value)));
  return sequence(
    attribute("2.5.4.3", commonName),
    attribute("2.5.4.10", "dstack-governance Test Corporation"),
    attribute("2.5.4.7", "Nowhere"),
    attribute("2.5.4.8", "CA"),
    attribute("2.5.4.6", "US"),
  );
}

export function extension(oid: string, value: Uint8Array, critical = false): Uint8Array {
  return critical
    ? sequence(objectIdentifier(oid), boolean(true), octetString(value))
    : sequence(objectIdentifier(oid), octetString(value));
}

/** basicConstraints CA:TRUE and keyUsage keyCertSign|cRLSign. */
export function caExtensions(pathLength?: number): Uint8Array[] {
  const constraints =
    pathLength === undefined ? sequence(boolean(true)) : sequence(boolean(true), integer(pathLength));
  return [
    extension(OID_BASIC_CONSTRAINTS, constraints, true),
    extension(OID_KEY_USAGE, bitString(Uint8Array.of(0x06), 1), true),
  ];
}

/** basicConstraints CA:FALSE (an empty SEQUENCE) and keyUsage digitalSignature|nonRepudiation. */
export function endEntityExtensions(): Uint8Array[] {
  return [
    extension(OID_BASIC_CONSTRAINTS, sequence(), true),
    extension(OID_KEY_USAGE, bitString(Uint8Array.of(0xc0), 6), true),
  ];
}

export interface SgxExtensionFields {
  ppid: Uint8Array; // 16 bytes
  cpuSvn: Uint8Array; // 16 bytes; component i is also emitted as TCB component i+1
  pceSvn: number;
  pceId: Uint8Array; // 2 bytes
  fmspc: Uint8Array; // 6 bytes
  /** 0 = Standard, 1 = Scalable. */
  sgxType: number;
}

/** The value of the Intel SGX extension (1.2.840.113741.1.13.1) of a PCK certificate. */
export function sgxPckExtensionValue(fields: SgxExtensionFields): Uint8Array {
  const entry = (oid: string, value: Uint8Array) => sequence(objectIdentifier(oid), value);
  const components = Array.from(fields.cpuSvn, (svn, index) => entry(`${SGX_OID.tcb}.${index + 1}`, integer(svn)));
  return sequence(
    entry(SGX_OID.ppid, octetString(fields.ppid)),
    entry(
      SGX_OID.tcb,
      sequence(...components, entry(SGX_OID.pceSvn, integer(fields.pceSvn)), entry(SGX_OID.cpuSvn, octetString(fields.cpuSvn))),
    ),
    entry(SGX_OID.pceId, octetString(fields.pceId)),
    entry(SGX_OID.fmspc, octetString(fields.fmspc)),
    entry(SGX_OID.sgxType, enumerated(fields.sgxType)),
  );
}

const ECDSA_SHA256_ALGORITHM = sequence(objectIdentifier(OID_ECDSA_WITH_SHA256));

export interface CertificateSpec {
  serial: bigint;
  issuer: Uint8Array; // Name DER
  subject: Uint8Array; // Name DER
  notBefore: Date;
  notAfter: Date;
  subjectPublicKeyInfo: Uint8Array;
  extensions: Uint8Array[];
  signingKey: KeyObject;
}

/** An X.509 v3 certificate signed with ECDSA-SHA256. */
export function buildCertificate(spec: CertificateSpec): Uint8Array {
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(spec.serial),
    ECDSA_SHA256_ALGORITHM,
    spec.issuer,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    spec.subject,
    spec.subjectPublicKeyInfo,
    explicit(3, sequence(...spec.extensions)),
  );
  return sequence(tbs, ECDSA_SHA256_ALGORITHM, bitString(signDer(spec.signingKey, tbs)));
}

export interface CrlSpec {
  issuer: Uint8Array; // Name DER
  signingKey: KeyObject;
  thisUpdate: Date;
  nextUpdate: Date;
  revokedSerials?: bigint[];
  crlNumber?: number;
}

/** An X.509 v2 CRL signed with ECDSA-SHA256. */
export function buildCrl(spec: CrlSpec): Uint8Array {
  const revoked = (spec.revokedSerials ?? []).map((serial) => sequence(integer(serial), time(spec.thisUpdate)));
  const tbs = sequence(
    integer(1),
    ECDSA_SHA256_ALGORITHM,
    spec.issuer,
    time(spec.thisUpdate),
    time(spec.nextUpdate),
    ...(revoked.length > 0 ? [sequence(...revoked)] : []),
    explicit(0, sequence(extension(OID_CRL_NUMBER, integer(spec.crlNumber ?? 1)))),
  );
  return sequence(tbs, ECDSA_SHA256_ALGORITHM, bitString(signDer(spec.signingKey, tbs)));
}

export function toPem(der: Uint8Array, label = "CERTIFICATE"): string {
  const lines = Buffer.from(der).toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Shape validation of collateral in dcap-qvl's JSON format (from a value or a file):
 * every field present and well formed, binary fields normalised to lowercase hex. Says
 * nothing about authenticity; `verifyQuoteSignature` checks that.
 */
import { readFile, stat } from "node:fs/promises";

import { CollateralError, MAX_COLLATERAL_BYTES, type BinaryField, type QuoteCollateral } from "./collateral-types.js";
import { decodeCrl } from "./crl.js";

const STRING_FIELDS = ["pck_crl_issuer_chain", "tcb_info_issuer_chain", "qe_identity_issuer_chain", "tcb_info", "qe_identity"] as const;
const CHAIN_FIELDS = ["pck_crl_issuer_chain", "tcb_info_issuer_chain", "qe_identity_issuer_chain"] as const;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/;
/** Even-length hex text (no 0x). */
export const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function invalid(source: string, message: string, details?: string): CollateralError {
  return new CollateralError("COLLATERAL_INVALID", `${source}: ${message}`, details === undefined ? {} : { details });
}

function binaryField(value: unknown, field: BinaryField, source: string): Uint8Array {
  if (typeof value === "string") {
    const body = value.startsWith("0x") ? value.slice(2) : value;
    if (!HEX.test(body)) throw invalid(source, `field "${field}" is not an even-length hex string`);
    return Buffer.from(body, "hex");
  }
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    return Uint8Array.from(value as number[]);
  }
  throw invalid(source, `field "${field}" must be a hex string or an array of bytes`);
}

function signedJson(text: string, field: "tcb_info" | "qe_identity", source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(source, `field "${field}" is not valid JSON`, (error as Error).message);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(source, `field "${field}" must be a JSON object`);
  }
  const object = value as Record<string, unknown>;
  const required: Record<string, "string" | "number" | "array"> =
    field === "tcb_info"
      ? { id: "string", version: "number", issueDate: "string", nextUpdate: "string", fmspc: "string", tcbLevels: "array" }
      : { id: "string", version: "number", issueDate: "string", nextUpdate: "string", mrsigner: "string", isvprodid: "number", tcbLevels: "array" };
  for (const [key, kind] of Object.entries(required)) {
    const member = object[key];
    const ok = kind === "array" ? Array.isArray(member) : typeof member === kind;
    if (!ok) throw invalid(source, `field "${field}" lacks ${kind} member "${key}"`);
  }
  for (const key of ["issueDate", "nextUpdate"]) {
    if (Number.isNaN(Date.parse(object[key] as string))) {
      throw invalid(source, `field "${field}" member "${key}" is not a date`, `got ${JSON.stringify(object[key])}`);
    }
  }
  return object;
}

/**
 * Validates collateral in dcap-qvl's JSON format and returns it normalised (binary
 * fields as lowercase hex, unknown fields dropped). `source` names the input in errors.
 */
export function parseCollateral(value: unknown, source = "collateral"): QuoteCollateral {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(source, "expected a JSON object with dcap-qvl collateral fields");
  }
  const input = value as Record<string, unknown>;
  let size = 0;
  for (const member of Object.values(input)) {
    size += typeof member === "string" || Array.isArray(member) || member instanceof Uint8Array ? member.length : 0;
  }
  if (size > MAX_COLLATERAL_BYTES) {
    throw invalid(source, `is larger than MAX_COLLATERAL_BYTES (${MAX_COLLATERAL_BYTES}): its fields hold ${size} characters or bytes`);
  }
  for (const field of STRING_FIELDS) {
    if (typeof input[field] !== "string") throw invalid(source, `missing string field "${field}"`);
  }
  for (const field of CHAIN_FIELDS) {
    if (!PEM_CERTIFICATE.test(input[field] as string)) throw invalid(source, `field "${field}" contains no PEM certificate`);
  }
  signedJson(input.tcb_info as string, "tcb_info", source);
  signedJson(input.qe_identity as string, "qe_identity", source);

  const rootCaCrl = binaryField(input.root_ca_crl, "root_ca_crl", source);
  const pckCrl = binaryField(input.pck_crl, "pck_crl", source);
  for (const [field, der] of [["root_ca_crl", rootCaCrl], ["pck_crl", pckCrl]] as const) {
    try {
      decodeCrl(der);
    } catch (error) {
      throw invalid(source, `field "${field}" is not a DER CRL`, (error as Error).message);
    }
  }
  const tcbSig = binaryField(input.tcb_info_signature, "tcb_info_signature", source);
  const qeSig = binaryField(input.qe_identity_signature, "qe_identity_signature", source);
  for (const [field, sig] of [["tcb_info_signature", tcbSig], ["qe_identity_signature", qeSig]] as const) {
    if (sig.length !== 64) throw invalid(source, `field "${field}" must be 64 bytes (ECDSA r‖s), got ${sig.length}`);
  }

  const pckChain = input.pck_certificate_chain;
  if (pckChain !== undefined && pckChain !== null && typeof pckChain !== "string") {
    throw invalid(source, `field "pck_certificate_chain" must be a string or null`);
  }

  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
  return {
    pck_crl_issuer_chain: input.pck_crl_issuer_chain as string,
    root_ca_crl: hex(rootCaCrl),
    pck_crl: hex(pckCrl),
    tcb_info_issuer_chain: input.tcb_info_issuer_chain as string,
    tcb_info: input.tcb_info as string,
    tcb_info_signature: hex(tcbSig),
    qe_identity_issuer_chain: input.qe_identity_issuer_chain as string,
    qe_identity: input.qe_identity as string,
    qe_identity_signature: hex(qeSig),
    ...(typeof pckChain === "string" ? { pck_certificate_chain: pckChain } : {}),
  };
}

/** Loads and validates a collateral JSON file (dcap-qvl's format). */
export async function loadCollateralFile(file: string): Promise<QuoteCollateral> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_COLLATERAL_BYTES) {
      throw new CollateralError("COLLATERAL_INVALID", `collateral file ${file} is ${size} bytes, more than MAX_COLLATERAL_BYTES (${MAX_COLLATERAL_BYTES})`);
    }
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error instanceof CollateralError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new CollateralError("COLLATERAL_FILE_NOT_FOUND", `collateral file not found: ${file}`, { cause: error });
    }
    throw new CollateralError("COLLATERAL_FILE_UNREADABLE", `cannot read collateral file ${file}: ${code ?? "error"}`, {
      details: (error as Error).message,
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CollateralError("COLLATERAL_INVALID_JSON", `collateral file ${file} is not valid JSON`, {
      details: (error as Error).message,
      cause: error,
    });
  }
  return parseCollateral(json, `collateral file ${file}`);
}

/** The first moment any part of the collateral is out of date. */
export function collateralExpiry(collateral: QuoteCollateral): Date {
  const times = [
    Date.parse((JSON.parse(collateral.tcb_info) as { nextUpdate: string }).nextUpdate),
    Date.parse((JSON.parse(collateral.qe_identity) as { nextUpdate: string }).nextUpdate),
    decodeCrl(Buffer.from(collateral.root_ca_crl, "hex")).nextUpdate.getTime(),
    decodeCrl(Buffer.from(collateral.pck_crl, "hex")).nextUpdate.getTime(),
  ];
  return new Date(Math.min(...times));
}

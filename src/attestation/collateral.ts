/**
 * DCAP collateral (TCB info, QE identity, CRLs and their issuer chains) in
 * `@phala/dcap-qvl`'s JSON format: loading it from a file with shape validation, and
 * fetching it from a PCCS (Phala's by default, Intel PCS selectable) with an on-disk
 * cache.
 *
 * Collateral is untrusted input: everything here only checks that it is well formed.
 * Its signatures and certificate chains are checked by `verifyQuoteSignature`.
 */
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";

import { INTEL_PCS_URL, PHALA_PCCS_URL, Quote, utils as dcapUtils } from "@phala/dcap-qvl";

import { readBoundedBody, ResponseTooLargeError } from "../util/bounded-body.js";
import { DstackGovernanceError, InvalidInputError } from "../util/errors.js";

/**
 * Largest collateral accepted, in bytes of JSON (a file, or the sum of the fields). Real
 * TDX collateral is about 20 KB (the dcap-qvl sample's fields total 15 KB of text); the
 * bound only stops resource exhaustion by a hostile file, bundle or PCCS.
 */
export const MAX_COLLATERAL_BYTES = 1024 * 1024;
/** Largest single PCCS answer read (a CRL, TCB info or QE identity is a few KB). */
export const MAX_PCCS_RESPONSE_BYTES = 1024 * 1024;

/** Default collateral source: the URL `@phala/dcap-qvl` itself defaults to. */
export const DEFAULT_PCCS_URL: string = PHALA_PCCS_URL;
/** Intel's Provisioning Certification Service. */
export const INTEL_PCS_BASE_URL: string = INTEL_PCS_URL;

/**
 * Collateral in dcap-qvl's JSON field names, normalised: binary fields are lowercase
 * hex, `tcb_info` / `qe_identity` are the exact signed JSON texts.
 */
export interface QuoteCollateral {
  pck_crl_issuer_chain: string;
  /** DER CRL of the root CA, hex. */
  root_ca_crl: string;
  /** DER CRL of the PCK Platform/Processor CA, hex. */
  pck_crl: string;
  tcb_info_issuer_chain: string;
  tcb_info: string;
  /** Raw ECDSA r ‖ s (64 bytes), hex. */
  tcb_info_signature: string;
  qe_identity_issuer_chain: string;
  qe_identity: string;
  qe_identity_signature: string;
  /** PCK chain leaf-first; when present dcap-qvl uses it instead of the quote's own. */
  pck_certificate_chain?: string;
}

/**
 * Collateral as callers may hold it: binary fields as hex, a byte array (dcap-qvl's
 * getCollateral output) or bytes; `pck_certificate_chain` possibly null.
 */
export type CollateralInput = Omit<QuoteCollateral, BinaryField | "pck_certificate_chain"> & {
  [K in BinaryField]: string | readonly number[] | Uint8Array;
} & { pck_certificate_chain?: string | null };

type BinaryField = "root_ca_crl" | "pck_crl" | "tcb_info_signature" | "qe_identity_signature";

export type CollateralErrorCode =
  | "COLLATERAL_FILE_NOT_FOUND"
  | "COLLATERAL_FILE_UNREADABLE"
  | "COLLATERAL_CACHE_UNWRITABLE"
  | "COLLATERAL_INVALID_JSON"
  | "COLLATERAL_INVALID"
  | "COLLATERAL_QUOTE_UNSUPPORTED"
  | "PCCS_UNREACHABLE"
  | "PCCS_TIMEOUT"
  | "PCCS_HTTP_ERROR"
  | "PCCS_BAD_RESPONSE";

/** Collateral could not be loaded, fetched or understood. */
export class CollateralError extends DstackGovernanceError {
  override name = "CollateralError";
  declare readonly code: CollateralErrorCode;
  constructor(code: CollateralErrorCode, message: string, options: { details?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/** A PCCS request failed. `url` is the request URL with credentials and secrets removed. */
export class PccsRequestError extends CollateralError {
  override name = "PccsRequestError";
  readonly url: string;
  readonly httpStatus: number | undefined;
  constructor(
    code: CollateralErrorCode,
    message: string,
    url: string,
    options: { details?: string; cause?: unknown; httpStatus?: number } = {},
  ) {
    super(code, message, options);
    this.url = url;
    this.httpStatus = options.httpStatus;
  }
}

// ---------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------

/** Converts the toolkit's time argument (a Date, or unix seconds) to unix seconds. */
export function toUnixSeconds(now: Date | number, what = "now"): number {
  const seconds = now instanceof Date ? now.getTime() / 1000 : now;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidInputError(`${what}: expected a valid Date or non-negative unix seconds`, {
      details: `got ${String(now)}`,
    });
  }
  return seconds;
}

// ---------------------------------------------------------------------------------
// Shape validation
// ---------------------------------------------------------------------------------

const STRING_FIELDS = ["pck_crl_issuer_chain", "tcb_info_issuer_chain", "qe_identity_issuer_chain", "tcb_info", "qe_identity"] as const;
const CHAIN_FIELDS = ["pck_crl_issuer_chain", "tcb_info_issuer_chain", "qe_identity_issuer_chain"] as const;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

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

// ---------------------------------------------------------------------------------
// CRLs (a minimal DER reader: dcap-qvl 0.3.9 neither verifies CRL signatures nor
// their validity, so the verifier needs the signed bytes and the update times)
// ---------------------------------------------------------------------------------

export interface DecodedCrl {
  /** The DER TBSCertList element: the bytes the issuer signed. */
  tbs: Uint8Array;
  /** DER ECDSA signature. */
  signature: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
}

interface DerElement {
  tag: number;
  contentStart: number;
  end: number;
}

function readDer(bytes: Uint8Array, offset: number, limit: number): DerElement {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined || offset + 2 > limit) throw new Error(`truncated DER at byte ${offset}`);
  if ((tag & 0x1f) === 0x1f) throw new Error(`unsupported multi-byte DER tag at byte ${offset}`);
  let length = first;
  let contentStart = offset + 2;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error(`unsupported DER length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) {
      const b = bytes[contentStart + i];
      if (b === undefined) throw new Error(`truncated DER length at byte ${offset}`);
      length = length * 256 + b;
    }
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error(`DER element at byte ${offset} overruns its container`);
  return { tag, contentStart, end };
}

function expectTag(element: DerElement, tag: number, what: string): DerElement {
  if (element.tag !== tag) throw new Error(`${what}: expected DER tag 0x${tag.toString(16)}, got 0x${element.tag.toString(16)}`);
  return element;
}

function derTime(bytes: Uint8Array, element: DerElement): Date {
  const text = Buffer.from(bytes.subarray(element.contentStart, element.end)).toString("latin1");
  const match =
    element.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : element.tag === 0x18
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!match) throw new Error(`unsupported CRL time ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  // RFC 5280: UTCTime years 50..99 are 19xx, 00..49 are 20xx.
  const year = element.tag === 0x17 ? (y >= 50 ? 1900 + y : 2000 + y) : y;
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}

const ECDSA_WITH_SHA256_ALGORITHM = Buffer.from("300a06082a8648ce3d040302", "hex");

/** Decodes the parts of an ECDSA-SHA256 X.509 CRL needed to check it. */
export function decodeCrl(der: Uint8Array): DecodedCrl {
  const outer = expectTag(readDer(der, 0, der.length), 0x30, "CertificateList");
  if (outer.end !== der.length) throw new Error("trailing bytes after CertificateList");
  const tbsStart = outer.contentStart;
  const tbs = expectTag(readDer(der, tbsStart, outer.end), 0x30, "TBSCertList");
  const algorithm = expectTag(readDer(der, tbs.end, outer.end), 0x30, "signatureAlgorithm");
  const signature = expectTag(readDer(der, algorithm.end, outer.end), 0x03, "signatureValue");
  if (signature.end !== outer.end) throw new Error("trailing fields in CertificateList");
  const algorithmBytes = der.subarray(tbs.end, algorithm.end);
  if (!Buffer.from(algorithmBytes).equals(ECDSA_WITH_SHA256_ALGORITHM)) {
    throw new Error("CRL is not signed with ecdsa-with-SHA256");
  }
  if (der[signature.contentStart] !== 0) throw new Error("CRL signature BIT STRING has unused bits");

  let cursor = tbs.contentStart;
  let element = readDer(der, cursor, tbs.end);
  if (element.tag === 0x02) element = readDer(der, (cursor = element.end), tbs.end); // version
  const innerAlgorithm = expectTag(element, 0x30, "TBSCertList.signature");
  if (!Buffer.from(der.subarray(cursor, innerAlgorithm.end)).equals(ECDSA_WITH_SHA256_ALGORITHM)) {
    throw new Error("CRL signature algorithms disagree");
  }
  const issuer = expectTag(readDer(der, innerAlgorithm.end, tbs.end), 0x30, "TBSCertList.issuer");
  const thisUpdate = readDer(der, issuer.end, tbs.end);
  if (thisUpdate.end >= tbs.end) throw new Error("CRL has no nextUpdate");
  const nextUpdate = readDer(der, thisUpdate.end, tbs.end);
  if (nextUpdate.tag !== 0x17 && nextUpdate.tag !== 0x18) throw new Error("CRL has no nextUpdate");

  return {
    tbs: der.subarray(tbsStart, tbs.end),
    signature: der.subarray(signature.contentStart + 1, signature.end),
    thisUpdate: derTime(der, thisUpdate),
    nextUpdate: derTime(der, nextUpdate),
  };
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

// ---------------------------------------------------------------------------------
// Which collateral a quote needs
// ---------------------------------------------------------------------------------

/** The quote-derived identifiers that select collateral on a PCCS. */
export interface CollateralKey {
  tee: "tdx" | "sgx";
  /** Upper-case hex, 6 bytes. */
  fmspc: string;
  /** The PCK CA that issued the quote's PCK certificate. */
  ca: "platform" | "processor";
}

function unsupportedQuote(message: string, cause?: unknown): CollateralError {
  return new CollateralError("COLLATERAL_QUOTE_UNSUPPORTED", message, cause === undefined ? {} : { cause, details: String(cause) });
}

/**
 * Reads TEE type, FMSPC and PCK CA from a quote's embedded PCK certificate chain
 * (certification data type 5, which is what dstack's quotes carry).
 */
export function collateralKeyForQuote(quote: Uint8Array): CollateralKey {
  let parsed: Quote;
  try {
    parsed = Quote.parse(quote);
  } catch (error) {
    throw unsupportedQuote(`cannot decode quote: ${(error as Error).message}`, error);
  }
  const teeType = parsed.header.teeType;
  if (teeType !== 0x81 && teeType !== 0) throw unsupportedQuote(`unsupported TEE type 0x${teeType.toString(16)}`);
  let leaf: Buffer | undefined;
  try {
    leaf = dcapUtils.extractCerts(Buffer.from(parsed.rawCertChain()))[0];
  } catch (error) {
    throw unsupportedQuote(
      "the quote does not embed a PCK certificate chain (certification data type 5); cannot derive FMSPC",
      error,
    );
  }
  if (leaf === undefined) throw unsupportedQuote("the quote's PCK certificate chain contains no certificate");
  let fmspc: string;
  let issuer: string;
  try {
    fmspc = Buffer.from(dcapUtils.getFmspc(dcapUtils.getIntelExtension(leaf))).toString("hex").toUpperCase();
    issuer = new X509Certificate(leaf).issuer;
  } catch (error) {
    throw unsupportedQuote(`cannot read FMSPC/issuer from the PCK certificate: ${(error as Error).message}`, error);
  }
  // dcap-qvl 0.3.9's own getCollateral fails to read the issuer and always asks for the
  // processor CA's CRL, which is the wrong CRL for platform-CA PCKs; read it properly.
  const commonName = /^CN=(.*)$/m.exec(issuer)?.[1] ?? "";
  const ca = /Platform/.test(commonName) ? "platform" : /Processor/.test(commonName) ? "processor" : undefined;
  if (ca === undefined) {
    throw unsupportedQuote(`PCK certificate issuer is neither a Platform nor a Processor CA`, `issuer CN=${commonName}`);
  }
  return { tee: teeType === 0x81 ? "tdx" : "sgx", fmspc, ca };
}

// ---------------------------------------------------------------------------------
// PCCS access
// ---------------------------------------------------------------------------------

/** Query parameters whose values are never secret and may appear in messages. */
const PUBLIC_QUERY_PARAMETERS = new Set(["fmspc", "ca", "encoding", "update"]);

/** A URL fit for messages and logs: no userinfo, and query values other than PCS parameters redacted. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "<invalid URL>";
  }
  const query = [...parsed.searchParams]
    .map(([name, value]) => `${encodeURIComponent(name)}=${PUBLIC_QUERY_PARAMETERS.has(name) ? encodeURIComponent(value) : "REDACTED"}`)
    .join("&");
  return `${parsed.origin}${parsed.pathname}${query ? `?${query}` : ""}`;
}

interface PccsEndpoint {
  /** Origin and path prefix without userinfo, query or trailing slash. */
  base: string;
  /** Query parameters of the configured URL, re-sent with every request. */
  baseQuery: URLSearchParams;
  headers: Record<string, string>;
  isIntelPcs: boolean;
}

function pccsEndpoint(url: string): PccsEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Do not echo the value: it may carry credentials.
    throw new InvalidInputError("PCCS URL is not a valid absolute URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new InvalidInputError(`PCCS URL must be http(s), got ${parsed.protocol}`);
  }
  const headers: Record<string, string> = {};
  if (parsed.username || parsed.password) {
    // fetch() refuses URLs with userinfo, so send them as HTTP basic auth instead.
    let credentials: string;
    try {
      credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    } catch {
      throw new InvalidInputError("PCCS URL credentials are not valid percent-encoding");
    }
    headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  }
  // Accept both the service root and the ".../sgx|tdx/certification/v4" form, like dcap-qvl.
  const pathname = parsed.pathname.replace(/\/+$/, "").replace(/\/(sgx|tdx)\/certification\/v4$/, "");
  return {
    base: `${parsed.origin}${pathname}`,
    baseQuery: parsed.searchParams,
    headers,
    isIntelPcs: parsed.hostname === new URL(INTEL_PCS_URL).hostname,
  };
}

function requestUrl(endpoint: PccsEndpoint, tee: "sgx" | "tdx", resource: string, query: Record<string, string>): URL {
  const url = new URL(`${endpoint.base}/${tee}/certification/v4/${resource}`);
  for (const [name, value] of endpoint.baseQuery) url.searchParams.append(name, value);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url;
}

interface PccsResponse {
  body: Buffer;
  headers: Headers;
  url: string;
}

async function httpGet(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<PccsResponse> {
  const shown = redactUrl(url);
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  } catch (error) {
    const err = error as Error & { cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError" || err.name === "AbortError") {
      throw new PccsRequestError("PCCS_TIMEOUT", `PCCS request timed out after ${timeoutMs} ms: ${shown}`, shown);
    }
    const reason = err.cause?.code ?? err.cause?.message ?? err.message;
    throw new PccsRequestError("PCCS_UNREACHABLE", `cannot reach PCCS at ${shown} (${reason})`, shown);
  }
  let body: Buffer;
  try {
    body = await readBoundedBody(response, MAX_PCCS_RESPONSE_BYTES);
  } catch (error) {
    if (error instanceof ResponseTooLargeError) {
      throw new PccsRequestError("PCCS_BAD_RESPONSE", `PCCS answer from ${shown} is larger than MAX_PCCS_RESPONSE_BYTES (${MAX_PCCS_RESPONSE_BYTES})`, shown);
    }
    throw new PccsRequestError("PCCS_UNREACHABLE", `PCCS connection failed while reading ${shown}`, shown, {
      details: (error as Error).message,
    });
  }
  if (!response.ok) {
    throw new PccsRequestError("PCCS_HTTP_ERROR", `PCCS returned HTTP ${response.status} for ${shown}`, shown, {
      httpStatus: response.status,
      details: body.subarray(0, 200).toString("utf8"),
    });
  }
  return { body, headers: response.headers, url: shown };
}

function badResponse(response: PccsResponse, message: string, details?: string): PccsRequestError {
  return new PccsRequestError("PCCS_BAD_RESPONSE", `${message} from ${response.url}`, response.url, details === undefined ? {} : { details });
}

/** An issuer-chain header: URL-encoded PEM certificates. */
function chainHeader(response: PccsResponse, names: string[]): string {
  for (const name of names) {
    const value = response.headers.get(name);
    if (value === null) continue;
    try {
      return decodeURIComponent(value);
    } catch {
      throw badResponse(response, `malformed ${name} header`);
    }
  }
  throw badResponse(response, `missing ${names.join(" / ")} header`);
}

/** A CRL body as DER, PEM or hex text (PCCS serves the root CA CRL as hex). */
function crlFromBody(response: PccsResponse): string {
  const { body } = response;
  let der: Buffer;
  if (body[0] === 0x30) der = body;
  else {
    const text = body.toString("utf8").trim();
    const pem = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/.exec(text);
    if (pem?.[1] !== undefined) der = Buffer.from(pem[1].replace(/\s+/g, ""), "base64");
    else if (HEX.test(text) && text.length > 0) der = Buffer.from(text, "hex");
    else throw badResponse(response, "CRL is neither DER, PEM nor hex");
  }
  try {
    decodeCrl(der);
  } catch (error) {
    throw badResponse(response, "malformed CRL", (error as Error).message);
  }
  return der.toString("hex");
}

/**
 * The exact source text of a top-level member of a JSON object. PCS signs the bytes
 * of `tcbInfo` / `enclaveIdentity` as served, so re-serialising could break the
 * signature (key order, number formatting, escapes).
 */
function rawJsonMember(text: string, key: string): string | undefined {
  const skipSpace = (i: number) => {
    while (i < text.length && /\s/.test(text[i] ?? "")) i++;
    return i;
  };
  const skipString = (i: number) => {
    for (i++; i < text.length; i++) {
      if (text[i] === "\\") i++;
      else if (text[i] === '"') return i + 1;
    }
    throw new Error("unterminated string");
  };
  // `text` has already passed JSON.parse, so brackets are balanced and tokens valid.
  const skipValue = (i: number) => {
    const first = text[i];
    if (first === '"') return skipString(i);
    if (first === "{" || first === "[") {
      let depth = 0;
      while (i < text.length) {
        const c = text[i];
        if (c === '"') {
          i = skipString(i);
          continue;
        }
        if (c === "{" || c === "[") depth++;
        else if ((c === "}" || c === "]") && --depth === 0) return i + 1;
        i++;
      }
      throw new Error("unterminated value");
    }
    while (i < text.length && !/[,}\]\s]/.test(text[i] ?? "")) i++; // number, true, false, null
    return i;
  };
  let i = skipSpace(0);
  if (text[i] !== "{") return undefined;
  i = skipSpace(i + 1);
  while (text[i] === '"') {
    const keyEnd = skipString(i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(keyEnd);
    if (text[i] !== ":") return undefined;
    const start = skipSpace(i + 1);
    const end = skipValue(start);
    if (name === key) return text.slice(start, end).trim();
    i = skipSpace(end);
    if (text[i] !== ",") return undefined;
    i = skipSpace(i + 1);
  }
  return undefined;
}

/** `{ "<member>": {...}, "signature": "<hex>" }` as served by PCS for TCB info / QE identity. */
function signedBody(response: PccsResponse, member: string): { json: string; signature: string } {
  const text = response.body.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badResponse(response, "response is not JSON", (error as Error).message);
  }
  const signature = (parsed as { signature?: unknown } | null)?.signature;
  const json = rawJsonMember(text, member);
  if (json === undefined || typeof signature !== "string") {
    throw badResponse(response, `response lacks "${member}" or "signature"`);
  }
  return { json, signature };
}

async function downloadCollateral(endpoint: PccsEndpoint, key: CollateralKey, timeoutMs: number): Promise<QuoteCollateral> {
  const get = (tee: "sgx" | "tdx", resource: string, query: Record<string, string> = {}) =>
    httpGet(requestUrl(endpoint, tee, resource, query), endpoint.headers, timeoutMs);

  const pckCrlResponse = await get("sgx", "pckcrl", { ca: key.ca, encoding: "der" });
  const pckCrlIssuerChain = chainHeader(pckCrlResponse, ["SGX-PCK-CRL-Issuer-Chain"]);
  const pckCrl = crlFromBody(pckCrlResponse);

  const tcbResponse = await get(key.tee, "tcb", { fmspc: key.fmspc });
  const tcbInfoIssuerChain = chainHeader(tcbResponse, ["TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"]);
  const tcb = signedBody(tcbResponse, "tcbInfo");

  const qeResponse = await get(key.tee, "qe/identity", { update: "standard" });
  const qeIdentityIssuerChain = chainHeader(qeResponse, ["SGX-Enclave-Identity-Issuer-Chain"]);
  const qe = signedBody(qeResponse, "enclaveIdentity");

  const rootCaCrl = await downloadRootCaCrl(endpoint, qeIdentityIssuerChain, timeoutMs);

  const source = endpoint.base; // origin + path: no userinfo, no query
  return parseCollateral(
    {
      pck_crl_issuer_chain: pckCrlIssuerChain,
      root_ca_crl: rootCaCrl,
      pck_crl: pckCrl,
      tcb_info_issuer_chain: tcbInfoIssuerChain,
      tcb_info: tcb.json,
      tcb_info_signature: tcb.signature,
      qe_identity_issuer_chain: qeIdentityIssuerChain,
      qe_identity: qe.json,
      qe_identity_signature: qe.signature,
    },
    `collateral from ${source}`,
  );
}

/**
 * A PCCS serves the root CA CRL itself; Intel PCS does not, so (as dcap-qvl does) fall
 * back to the CRL distribution point named in the root certificate.
 */
async function downloadRootCaCrl(endpoint: PccsEndpoint, issuerChain: string, timeoutMs: number): Promise<string> {
  if (!endpoint.isIntelPcs) {
    try {
      return crlFromBody(await httpGet(requestUrl(endpoint, "sgx", "rootcacrl", {}), endpoint.headers, timeoutMs));
    } catch (error) {
      // Only "this PCCS has no such endpoint" falls through; outages stay errors.
      if (!(error instanceof PccsRequestError && error.code === "PCCS_HTTP_ERROR" && error.httpStatus === 404)) throw error;
    }
  }
  const root = dcapUtils.extractCerts(Buffer.from(issuerChain)).at(-1);
  const crlUrl = root === undefined ? null : dcapUtils.extractCrlUrl(root);
  if (crlUrl === null || !/^https?:\/\//.test(crlUrl)) {
    throw new CollateralError("PCCS_BAD_RESPONSE", "cannot locate the root CA CRL: no PCCS endpoint and no CRL distribution point");
  }
  return crlFromBody(await httpGet(new URL(crlUrl), {}, timeoutMs));
}

// ---------------------------------------------------------------------------------
// Cache and public fetch API
// ---------------------------------------------------------------------------------

export interface FetchCollateralOptions {
  /** PCCS base URL. Default: `provider`'s URL. May carry basic-auth userinfo. */
  pccsUrl?: string;
  /** Which public service to use when `pccsUrl` is not given. Default "phala". */
  provider?: "phala" | "intel";
  /** Directory for cached collateral; no caching when absent. */
  cacheDir?: string;
  /** Time used to decide whether a cache entry is still fresh. Default: now. */
  now?: Date | number;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
}

export interface FetchedCollateral {
  collateral: QuoteCollateral;
  /** The PCCS it came from, without credentials. */
  source: string;
  fromCache: boolean;
  /** When the first piece of it (TCB info, QE identity or a CRL) goes stale. */
  expiresAt: Date;
}

const CACHE_FORMAT = "dstack-governance/collateral-cache@1";

function cacheFile(cacheDir: string, endpoint: PccsEndpoint, key: CollateralKey): string {
  // Different services may serve different collateral; credentials never enter the key.
  const service = createHash("sha256").update(endpoint.base).digest("hex").slice(0, 16);
  return path.join(cacheDir, `${key.tee}-${key.fmspc}-${key.ca}-${service}.json`);
}

/** A fresh cache entry, or undefined when absent, stale, for another key, or unreadable. */
async function readCache(file: string, key: CollateralKey, nowMs: number): Promise<QuoteCollateral | undefined> {
  try {
    // The entry wraps collateral (at most MAX_COLLATERAL_BYTES) in a little JSON; anything much larger is not ours.
    if ((await stat(file)).size > 2 * MAX_COLLATERAL_BYTES) return undefined;
    const entry = JSON.parse(await readFile(file, "utf8")) as { format?: unknown; collateral?: unknown };
    if (entry.format !== CACHE_FORMAT) return undefined;
    const collateral = parseCollateral(entry.collateral, `collateral cache ${file}`);
    const fmspc = (JSON.parse(collateral.tcb_info) as { fmspc?: string }).fmspc;
    if (fmspc?.toUpperCase() !== key.fmspc) return undefined;
    return collateralExpiry(collateral).getTime() > nowMs ? collateral : undefined;
  } catch {
    // A damaged cache entry is refetched rather than trusted or reported.
    return undefined;
  }
}

async function writeCache(file: string, source: string, collateral: QuoteCollateral, expiresAt: Date, nowMs: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const entry = {
    format: CACHE_FORMAT,
    source,
    fetchedAt: new Date(nowMs).toISOString(),
    expiresAt: expiresAt.toISOString(),
    collateral,
  };
  // Write-then-rename so a concurrent reader never sees half a file.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, `${JSON.stringify(entry, null, 2)}\n`, "utf8");
  await rename(temporary, file);
}

/**
 * Collateral for `quote` from a PCCS, served from `cacheDir` while every piece of the
 * cached copy is still current. Makes the same requests as dcap-qvl's getCollateral
 * (PCK CRL, TCB info, QE identity, root CA CRL) but derives the PCK CA correctly and
 * reports failures as `PccsRequestError` with a credential-free URL.
 */
export async function fetchCollateral(quote: Uint8Array, options: FetchCollateralOptions = {}): Promise<FetchedCollateral> {
  const key = collateralKeyForQuote(quote);
  const endpoint = pccsEndpoint(options.pccsUrl ?? (options.provider === "intel" ? INTEL_PCS_URL : PHALA_PCCS_URL));
  const source = endpoint.base; // origin + path: no userinfo, no query
  const nowMs = toUnixSeconds(options.now ?? new Date()) * 1000;
  const file = options.cacheDir === undefined ? undefined : cacheFile(options.cacheDir, endpoint, key);

  if (file !== undefined) {
    const cached = await readCache(file, key, nowMs);
    if (cached !== undefined) return { collateral: cached, source, fromCache: true, expiresAt: collateralExpiry(cached) };
  }

  const collateral = await downloadCollateral(endpoint, key, options.timeoutMs ?? 30_000);
  const expiresAt = collateralExpiry(collateral);
  if (file !== undefined && expiresAt.getTime() > nowMs) {
    try {
      await writeCache(file, source, collateral, expiresAt, nowMs);
    } catch (error) {
      throw new CollateralError("COLLATERAL_CACHE_UNWRITABLE", `cannot write collateral cache ${file}`, {
        details: (error as Error).message,
        cause: error,
      });
    }
  }
  return { collateral, source, fromCache: false, expiresAt };
}

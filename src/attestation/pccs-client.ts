/**
 * A PCCS client: downloads the collateral a quote needs from a PCCS (Phala's by
 * default, Intel PCS selectable) with the same requests as dcap-qvl's getCollateral,
 * reporting failures as `PccsRequestError` with a credential-free URL. The HTTP
 * function is injectable (default: the global `fetch`).
 */
import { INTEL_PCS_URL, PHALA_PCCS_URL, utils as dcapUtils } from "@phala/dcap-qvl";

import { readBoundedBody, ResponseTooLargeError } from "../util/bounded-body.js";
import { InvalidInputError } from "../util/errors.js";
import type { CollateralKey } from "./collateral-key.js";
import { HEX, parseCollateral } from "./collateral-shape.js";
import { CollateralError, MAX_PCCS_RESPONSE_BYTES, PccsRequestError, type QuoteCollateral } from "./collateral-types.js";
import { decodeCrl } from "./crl.js";
import { rawJsonMember } from "./raw-json-member.js";

/** Default collateral source: the URL `@phala/dcap-qvl` itself defaults to. */
export const DEFAULT_PCCS_URL: string = PHALA_PCCS_URL;
/** Intel's Provisioning Certification Service. */
export const INTEL_PCS_BASE_URL: string = INTEL_PCS_URL;

/** The HTTP GET the client makes; the global `fetch` fits. */
export type FetchFunction = (url: URL, init: RequestInit) => Promise<Response>;

export interface PccsClientOptions {
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /** HTTP function to use. Default: the global `fetch`. */
  fetch?: FetchFunction;
}

/** How requests are made: resolved `PccsClientOptions`. */
interface Transport {
  fetch: FetchFunction;
  timeoutMs: number;
}

export const DEFAULT_PCCS_TIMEOUT_MS = 30_000;

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

export interface PccsEndpoint {
  /** Origin and path prefix without userinfo, query or trailing slash. */
  base: string;
  /** Query parameters of the configured URL, re-sent with every request. */
  baseQuery: URLSearchParams;
  headers: Record<string, string>;
  isIntelPcs: boolean;
}

export function pccsEndpoint(url: string): PccsEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Do not echo the value: it may carry credentials.
    throw new InvalidInputError("PCCS URL is not a valid absolute URL", { field: "pccsUrl" });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new InvalidInputError(`PCCS URL must be http(s), got ${parsed.protocol}`, { field: "pccsUrl" });
  }
  const headers: Record<string, string> = {};
  if (parsed.username || parsed.password) {
    // fetch() refuses URLs with userinfo, so send them as HTTP basic auth instead.
    let credentials: string;
    try {
      credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    } catch {
      throw new InvalidInputError("PCCS URL credentials are not valid percent-encoding", { field: "pccsUrl" });
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

async function httpGet(url: URL, headers: Record<string, string>, transport: Transport): Promise<PccsResponse> {
  const { timeoutMs } = transport;
  const shown = redactUrl(url);
  let response: Response;
  try {
    response = await transport.fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
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

/** Downloads and shape-checks the collateral for `key` from `endpoint`. */
export async function downloadCollateral(
  endpoint: PccsEndpoint,
  key: CollateralKey,
  options: PccsClientOptions = {},
): Promise<QuoteCollateral> {
  const transport: Transport = { fetch: options.fetch ?? fetch, timeoutMs: options.timeoutMs ?? DEFAULT_PCCS_TIMEOUT_MS };
  const get = (tee: "sgx" | "tdx", resource: string, query: Record<string, string> = {}) =>
    httpGet(requestUrl(endpoint, tee, resource, query), endpoint.headers, transport);

  const pckCrlResponse = await get("sgx", "pckcrl", { ca: key.ca, encoding: "der" });
  const pckCrlIssuerChain = chainHeader(pckCrlResponse, ["SGX-PCK-CRL-Issuer-Chain"]);
  const pckCrl = crlFromBody(pckCrlResponse);

  const tcbResponse = await get(key.tee, "tcb", { fmspc: key.fmspc });
  const tcbInfoIssuerChain = chainHeader(tcbResponse, ["TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"]);
  const tcb = signedBody(tcbResponse, "tcbInfo");

  const qeResponse = await get(key.tee, "qe/identity", { update: "standard" });
  const qeIdentityIssuerChain = chainHeader(qeResponse, ["SGX-Enclave-Identity-Issuer-Chain"]);
  const qe = signedBody(qeResponse, "enclaveIdentity");

  const rootCaCrl = await downloadRootCaCrl(endpoint, qeIdentityIssuerChain, transport);

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
async function downloadRootCaCrl(endpoint: PccsEndpoint, issuerChain: string, transport: Transport): Promise<string> {
  if (!endpoint.isIntelPcs) {
    try {
      return crlFromBody(await httpGet(requestUrl(endpoint, "sgx", "rootcacrl", {}), endpoint.headers, transport));
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
  return crlFromBody(await httpGet(new URL(crlUrl), {}, transport));
}

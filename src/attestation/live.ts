import { redactRpcUrl } from "../util/redact-url.js";
import { DstackGovernanceError, describeError } from "../util/errors.js";
import { readBoundedBody } from "../util/bounded-body.js";
import { toBareHex } from "../util/hex.js";
import { normalizeBundle, type AttestationBundle } from "./bundle.js";

export type EndpointStyle = "phala" | "guest-agent";

/**
 * A live attestation could not be fetched. `field` is set when the caller's input is at
 * fault (`baseUrl`); front ends name their own option for it.
 */
export class AttestationFetchError extends DstackGovernanceError {
  override name = "AttestationFetchError";
  constructor(message: string, details?: string, options: { field?: string } = {}) {
    super("ATTESTATION_FETCH", message, { ...(details === undefined ? {} : { details }), ...options });
  }
}

export interface LiveFetchOptions {
  style: EndpointStyle;
  /** The fresh challenge that must appear in the quote's report data. */
  nonce: Uint8Array;
  timeoutMs?: number;
  /** Largest response body read (default `MAX_LIVE_RESPONSE_BYTES`). */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
}

/**
 * Largest response accepted from a CVM. A quote is a few KiB and an event log with its
 * app-compose well under a MiB; the event-log parser stops at 16 Mi characters. The
 * endpoint is untrusted, so its answer is bounded before it is buffered.
 */
export const MAX_LIVE_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * Fetches a live CVM's attestation with a fresh nonce as report data:
 * - `phala`: `GET /attestation?reportData=<hex>` and `GET /info` (Phala apps);
 * - `guest-agent`: `GET /quote?data=<hex>` and `GET /prpc/Info` (a dstack guest agent).
 */
export async function fetchLiveAttestation(baseUrl: string, options: LiveFetchOptions): Promise<{ bundle: AttestationBundle; urls: string[] }> {
  let base: URL;
  try {
    base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new AttestationFetchError(`baseUrl: not a URL: ${JSON.stringify(baseUrl.slice(0, 80))}`, undefined, { field: "baseUrl" });
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new AttestationFetchError(`baseUrl: expected http(s), got ${base.protocol}`, undefined, { field: "baseUrl" });
  }
  const nonce = toBareHex(options.nonce);
  const [quotePath, infoPath] = options.style === "phala" ? [`attestation?reportData=${nonce}`, "info"] : [`quote?data=${nonce}`, "prpc/Info"];
  const quoteUrl = new URL(quotePath, base);
  const infoUrl = new URL(infoPath, base);
  const [attestation, info] = await Promise.all([getJson(quoteUrl, options), getJson(infoUrl, options)]);
  const bundle = normalizeBundle({ attestation, info }, redactRpcUrl(base.toString()));
  return { bundle: { ...bundle, shape: options.style === "phala" ? "phala-pair" : "guest-agent" }, urls: [quoteUrl, infoUrl].map((u) => redactRpcUrl(u.toString())) };
}

async function getJson(url: URL, options: LiveFetchOptions): Promise<unknown> {
  const shown = redactRpcUrl(url.toString());
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 15_000), headers: { accept: "application/json" } });
  } catch (error) {
    throw new AttestationFetchError(`cannot fetch ${shown}: ${describeError(error)}`);
  }
  let text: string;
  try {
    text = (await readBoundedBody(response, options.maxResponseBytes ?? MAX_LIVE_RESPONSE_BYTES)).toString("utf8");
  } catch (error) {
    // A body cut off, timed out mid-way or too large: still a fetch error naming the URL.
    throw new AttestationFetchError(`cannot read the answer of ${shown}: ${describeError(error)}`);
  }
  if (!response.ok) throw new AttestationFetchError(`${shown} answered HTTP ${response.status}`, text.slice(0, 200));
  try {
    return JSON.parse(text);
  } catch {
    throw new AttestationFetchError(`${shown} did not return JSON`, text.slice(0, 200));
  }
}

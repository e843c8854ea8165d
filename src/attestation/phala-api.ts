import { redactRpcUrl } from "../util/redact-url.js";
import { describeError } from "../util/errors.js";
import { readBoundedBody } from "../util/bounded-body.js";
import { toBareHex } from "../util/hex.js";
import type { CheckResult } from "./types.js";

/** Largest answer read from the verification API (its verdict is a small JSON object). */
export const MAX_PHALA_API_RESPONSE_BYTES = 1024 * 1024;

export const PHALA_VERIFY_API_URL = "https://cloud-api.phala.com/api/v1/attestations/verify";

/**
 * The quote signature checked by Phala Cloud's verification API instead of locally:
 * `POST {hex}` → `{quote: {verified: bool, …}}`. Anything but an explicit
 * `verified: true` is a failure or an error; this trusts the service, so the report says so.
 */
export async function verifyQuoteWithPhalaApi(
  quote: Uint8Array,
  options: { url?: string; timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<CheckResult & { tcbStatus: string | null }> {
  const url = options.url ?? PHALA_VERIFY_API_URL;
  const shown = redactRpcUrl(url);
  const id = "quote-signature";
  let body: unknown;
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ hex: toBareHex(quote) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = (await readBoundedBody(response, MAX_PHALA_API_RESPONSE_BYTES)).toString("utf8");
    if (!response.ok) return { id, status: "error", detail: `${shown} answered HTTP ${response.status}: ${text.slice(0, 120)}`, tcbStatus: null };
    body = JSON.parse(text);
  } catch (error) {
    return { id, status: "error", detail: `cannot use the verification API at ${shown}: ${describeError(error)}`, tcbStatus: null };
  }
  const verdict = (body as { quote?: { verified?: unknown; tcb_status?: unknown; status?: unknown } })?.quote;
  const tcbStatus = typeof verdict?.tcb_status === "string" ? verdict.tcb_status : typeof verdict?.status === "string" ? verdict.status : null;
  if (verdict?.verified === true) {
    return { id, status: "pass", detail: `signature verified by the verification API at ${shown} (trusting that service)${tcbStatus === null ? "" : `, TCB status ${tcbStatus}`}`, tcbStatus };
  }
  if (verdict?.verified === false) return { id, status: "fail", detail: `the verification API at ${shown} rejected the quote`, tcbStatus };
  return { id, status: "error", detail: `the verification API at ${shown} gave no verdict (no quote.verified field)`, tcbStatus: null };
}

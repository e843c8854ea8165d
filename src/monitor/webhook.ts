import { redactRpcUrl, redactUrlsInText } from "../util/redact-url.js";
import { describeError } from "../util/errors.js";
import { exponentialBackoff, retry } from "../util/retry.js";

export interface WebhookOptions {
  /** Attempts in all, first included (default 3). */
  attempts?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Delay before the second attempt, doubled after (default 500 ms). */
  baseDelayMs?: number;
  fetch?: typeof fetch;
}

export type WebhookOutcome = { ok: true; attempts: number; status: number } | { ok: false; attempts: number; error: string };

/** A status worth another attempt: the receiver is busy or down, not refusing this body. */
const retryable = (status: number) => status >= 500 || status === 429 || status === 408;

/**
 * POSTs `payload` as JSON to `url`, retrying network errors, timeouts and 5xx/429 answers
 * with backoff. Never throws: a notification that could not be delivered is an outcome
 * to report, and must not stop the monitoring itself. Messages name the URL without its
 * secret parts (webhook URLs usually embed a token).
 */
export async function postWebhook(url: string, payload: unknown, options: WebhookOptions = {}): Promise<WebhookOutcome> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const body = JSON.stringify(payload, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  const shown = redactRpcUrl(url);
  let last = "";
  try {
    return await retry(
      async (n): Promise<WebhookOutcome> => {
        let response: Response;
        try {
          response = await (options.fetch ?? fetch)(url, {
            method: "POST",
            headers: { "content-type": "application/json", "user-agent": "dstack-governance-monitor" },
            body,
            signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
          });
          // The body is not needed; reading it frees the connection.
          await response.arrayBuffer().catch(() => undefined);
        } catch (error) {
          last = `cannot post to ${shown}: ${redactUrlsInText(describeError(error))}`;
          throw error;
        }
        if (response.ok) return { ok: true, attempts: n, status: response.status };
        last = `${shown} answered HTTP ${response.status}`;
        if (!retryable(response.status)) return { ok: false, attempts: n, error: last };
        throw new Error(last);
      },
      { retries: attempts - 1, delayMs: exponentialBackoff(options.baseDelayMs ?? 500) },
    );
  } catch {
    // Every attempt failed; `last` says how the last one did.
  }
  return { ok: false, attempts, error: `${last} (after ${attempts} attempts)` };
}

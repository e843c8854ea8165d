import { sleep } from "./sleep.js";

export interface RetryOptions {
  /** Retries after the first attempt (0: try once). */
  retries: number;
  /** The wait before retry `n` (1: the first retry), in ms. */
  delayMs: (n: number) => number;
  /** Whether a failure is worth another attempt (default: every failure). */
  shouldRetry?: (error: unknown) => boolean;
  /** Called before the wait for retry `n`: a progress line, a count. */
  onRetry?: (error: unknown, n: number) => void;
}

/**
 * Runs `attempt` (given its 1-based number) until it succeeds, a failure is not worth
 * retrying, or the retries are spent; then throws that last error unchanged, so the
 * caller can wrap it with what it knows (the method, the endpoint, the attempts made).
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n > options.retries || (options.shouldRetry !== undefined && !options.shouldRetry(error))) throw error;
      options.onRetry?.(error, n);
      await sleep(options.delayMs(n));
    }
  }
}

/**
 * Exponential backoff: `baseMs` before the first retry, doubled for each further one, at
 * most `maxMs`. With `jitter`, up to a quarter of each delay is random, so that many
 * callers failing together (one gateway down) do not retry in lock-step.
 */
export function exponentialBackoff(baseMs: number, options: { maxMs?: number; jitter?: boolean } = {}): (n: number) => number {
  const max = options.maxMs ?? Number.POSITIVE_INFINITY;
  return (n) => {
    const delay = Math.min(max, baseMs * 2 ** (n - 1));
    return options.jitter === true ? delay * (0.75 + Math.random() * 0.25) : delay;
  };
}

export type RetryOutcome<T> = { ok: true; value: T; attempts: number } | { ok: false; error: unknown; attempts: number };

/**
 * `retry` with jittered exponential backoff (ceiling `maxDelayMs`, default 30 s) that never
 * throws: the last error is returned with the number of attempts made, for a report.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: { retries: number; baseDelayMs: number; maxDelayMs?: number; shouldRetry?: (error: unknown) => boolean },
): Promise<RetryOutcome<T>> {
  let attempts = 0;
  try {
    const value = await retry(
      (n) => {
        attempts = n;
        return attempt(n);
      },
      {
        retries: options.retries,
        delayMs: exponentialBackoff(options.baseDelayMs, { maxMs: options.maxDelayMs ?? 30_000, jitter: true }),
        ...(options.shouldRetry === undefined ? {} : { shouldRetry: options.shouldRetry }),
      },
    );
    return { ok: true, value, attempts };
  } catch (error) {
    return { ok: false, error, attempts };
  }
}

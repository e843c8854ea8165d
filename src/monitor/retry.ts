import { sleep } from "./sleep.js";

export interface RetryOptions {
  /** Retries after the first attempt (0: try once). */
  retries: number;
  /** Delay before the first retry; doubled for each further one. */
  baseDelayMs: number;
  /** Ceiling of one delay (default 30 s). */
  maxDelayMs?: number;
  /** Whether a failure is worth another attempt (default: every failure). */
  shouldRetry?: (error: unknown) => boolean;
}

export type RetryOutcome<T> = { ok: true; value: T; attempts: number } | { ok: false; error: unknown; attempts: number };

/**
 * Runs `attempt` until it succeeds or the retries are spent, waiting with exponential
 * backoff in between. Up to a quarter of each delay is random, so that many targets
 * failing together (one gateway down) do not retry in lock-step. Never throws: the last
 * error is returned with the number of attempts made, for the report.
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<RetryOutcome<T>> {
  const max = options.maxDelayMs ?? 30_000;
  for (let n = 1; ; n++) {
    try {
      return { ok: true, value: await attempt(n), attempts: n };
    } catch (error) {
      if (n > options.retries || (options.shouldRetry !== undefined && !options.shouldRetry(error))) return { ok: false, error, attempts: n };
      const delay = Math.min(max, options.baseDelayMs * 2 ** (n - 1));
      await sleep(delay * (0.75 + Math.random() * 0.25));
    }
  }
}

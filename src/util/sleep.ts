/** The longest delay one Node timer holds; a longer one fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Waits `ms`, or less when `signal` aborts (it never rejects: stopping is not an error).
 * Waits longer than a timer holds (about 24.8 days, e.g. an interval of `5w`) are waited
 * in parts, never cut to a millisecond.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    let left = ms;
    const wait = () => {
      if (left <= 0) return done();
      const part = Math.min(left, MAX_TIMER_MS);
      left -= part;
      timer = setTimeout(wait, part);
    };
    signal?.addEventListener("abort", done, { once: true });
    wait();
  });
}

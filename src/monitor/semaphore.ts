/**
 * At most `limit` holders at once; the others wait in arrival order. `acquire` returns a
 * release function that is safe to call more than once (only the first call counts), so a
 * holder can give its place back early (e.g. while it waits for an on-chain batch) and
 * still release in a `finally`.
 */
export class Semaphore {
  #free: number;
  readonly #queue: Array<() => void> = [];

  constructor(limit: number) {
    this.#free = Math.max(1, Math.floor(limit));
  }

  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      // The place passes straight to the next waiter; otherwise it is free again.
      if (next !== undefined) next();
      else this.#free += 1;
    };
  }
}

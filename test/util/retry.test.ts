/** src/util/retry.ts: the one retry loop behind the RPC policy, the log scan, the webhook and the monitor's fetches. */
import { expect } from "chai";

import { exponentialBackoff, retry, withRetries } from "../../src/util/retry.js";

class Transient extends Error {}

describe("util: retry", function () {
  it("retries until success, passing the attempt number, waiting the given delays, telling onRetry", async function () {
    const seen: number[] = [];
    const told: Array<[string, number]> = [];
    const delays: number[] = [];
    const value = await retry(
      async (n) => {
        seen.push(n);
        if (n < 3) throw new Transient(`failure ${n}`);
        return "ok";
      },
      { retries: 5, delayMs: (n) => {
          delays.push(n);
          return 1;
        }, onRetry: (error, n) => told.push([(error as Error).message, n]) },
    );
    expect(value).to.equal("ok");
    expect(seen).to.deep.equal([1, 2, 3]);
    expect(delays).to.deep.equal([1, 2]);
    expect(told).to.deep.equal([["failure 1", 1], ["failure 2", 2]]);
  });

  it("throws the last error unchanged once the retries are spent, or at once when it is not worth retrying", async function () {
    let calls = 0;
    const last = new Transient("last");
    const spent = await retry(
      async () => {
        calls += 1;
        throw calls === 3 ? last : new Transient("earlier");
      },
      { retries: 2, delayMs: () => 0 },
    ).catch((error: unknown) => error);
    expect(spent).to.equal(last);
    expect(calls).to.equal(3);

    calls = 0;
    const fatal = new Error("fatal");
    const refused = await retry(
      async () => {
        calls += 1;
        throw fatal;
      },
      { retries: 5, delayMs: () => 0, shouldRetry: (error) => error instanceof Transient },
    ).catch((error: unknown) => error);
    expect(refused).to.equal(fatal);
    expect(calls).to.equal(1);
  });

  it("exponential backoff doubles from the base up to the ceiling; jitter takes at most a quarter off", function () {
    const plain = exponentialBackoff(1_000, { maxMs: 8_000 });
    expect([1, 2, 3, 4, 5, 6].map(plain)).to.deep.equal([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    const jittered = exponentialBackoff(1_000, { jitter: true });
    for (let i = 0; i < 100; i += 1) expect(jittered(3)).to.be.within(3_000, 4_000);
  });

  it("withRetries never throws: the value or the last error, with the attempts made", async function () {
    expect(await withRetries(async (n) => n, { retries: 2, baseDelayMs: 1 })).to.deep.equal({ ok: true, value: 1, attempts: 1 });
    const failed = await withRetries(
      async (n) => {
        throw new Transient(`failure ${n}`);
      },
      { retries: 2, baseDelayMs: 1 },
    );
    expect(failed.ok).to.equal(false);
    expect(failed.attempts).to.equal(3);
    expect(!failed.ok && (failed.error as Error).message).to.equal("failure 3");
  });
});

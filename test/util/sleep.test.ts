/** src/util/sleep.ts: waits, ends early on abort, and never cuts a wait longer than one Node timer holds. */
import { expect } from "chai";

import { sleep } from "../../src/util/sleep.js";

const later = (ms: number) => new Promise<"timer">((resolve) => setTimeout(() => resolve("timer"), ms));

describe("util: sleep", function () {
  it("waits about the time asked", async function () {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).to.be.at.least(25);
  });

  it("an abort ends the wait at once; an aborted signal does not wait", async function () {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    expect(await Promise.race([waiting.then(() => "sleep" as const), later(1_000)])).to.equal("sleep");
    const started = Date.now();
    await sleep(60_000, controller.signal);
    expect(Date.now() - started).to.be.below(50);
  });

  it("a wait longer than a timer holds (2^31 ms and more) is not cut short", async function () {
    const controller = new AbortController();
    try {
      for (const ms of [2 ** 31, 2 ** 32 + 5, Number.POSITIVE_INFINITY]) {
        expect(await Promise.race([sleep(ms, controller.signal).then(() => "sleep" as const), later(100)]), String(ms)).to.equal("timer");
      }
    } finally {
      controller.abort();
    }
  });
});

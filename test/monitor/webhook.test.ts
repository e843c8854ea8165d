/**
 * The webhook client (bounded retries with backoff, never throws) against a loopback
 * receiver, and the change detection that decides what is posted.
 */
import { expect } from "chai";

import { detectChange, type TargetMemory } from "../../src/monitor/state.js";
import type { TargetResult } from "../../src/monitor/target-check.js";
import { postWebhook } from "../../src/monitor/webhook.js";
import { closedPort, startWebhookReceiver } from "./cvm-farm.js";

describe("postWebhook", function () {
  it("posts the JSON body once when the receiver accepts it", async function () {
    const receiver = await startWebhookReceiver();
    try {
      const outcome = await postWebhook(receiver.url, { hello: "world", n: 10n });
      expect(outcome).to.deep.equal({ ok: true, attempts: 1, status: 204 });
      expect(receiver.bodies).to.deep.equal([{ hello: "world", n: "10" }]);
    } finally {
      await receiver.close();
    }
  });

  it("retries 5xx and 429 answers, then gives up after the attempts, saying why", async function () {
    const receiver = await startWebhookReceiver();
    try {
      receiver.failNext(2, 429);
      expect(await postWebhook(receiver.url, { a: 1 }, { attempts: 3, baseDelayMs: 5 })).to.deep.equal({ ok: true, attempts: 3, status: 204 });
      receiver.failNext(5, 502);
      const outcome = await postWebhook(receiver.url, { a: 2 }, { attempts: 3, baseDelayMs: 5 });
      expect(outcome).to.deep.equal({ ok: false, attempts: 3, error: `${receiver.url} answered HTTP 502 (after 3 attempts)` });
      expect(receiver.attempts).to.equal(6);
      expect(receiver.bodies).to.deep.equal([{ a: 1 }]);
    } finally {
      await receiver.close();
    }
  });

  it("does not retry a 4xx refusal (the body will not be accepted later)", async function () {
    const receiver = await startWebhookReceiver();
    try {
      receiver.failNext(5, 400);
      expect(await postWebhook(receiver.url, {}, { attempts: 3, baseDelayMs: 5 })).to.deep.equal({ ok: false, attempts: 1, error: `${receiver.url} answered HTTP 400` });
    } finally {
      await receiver.close();
    }
  });

  it("an unreachable receiver is an outcome, not a throw; the token in its URL is not shown", async function () {
    const url = `http://127.0.0.1:${await closedPort()}/services/T0123/aB3dE5gH7jK9mN1pQ3sT5vW7`;
    const outcome = await postWebhook(url, {}, { attempts: 2, baseDelayMs: 5 });
    expect(outcome.ok).to.equal(false);
    expect(outcome.attempts).to.equal(2);
    const error = (outcome as { error: string }).error;
    expect(error).to.match(/^cannot post to http:\/\/127\.0\.0\.1:\d+\/services\/T0123\/\*\*\*: .*\(after 2 attempts\)$/);
    expect(error).to.not.contain("aB3dE5gH7jK9mN1pQ3sT5vW7");
  });
});

function result(state: TargetResult["state"], composeHash: string | null): TargetResult {
  return {
    target: "t",
    url: "https://t.example/",
    time: "2025-01-01T00:00:00.000Z",
    state,
    ok: state === "pass",
    failing: state === "fail" ? ["onchain-compose-hash"] : [],
    problems: [],
    composeHash,
    tcbStatus: null,
    error: state === "error" ? "cannot fetch" : null,
    attempts: 1,
    durationMs: 1,
  };
}

describe("detectChange", function () {
  const H1 = "11".repeat(32);
  const H2 = "22".repeat(32);
  const run = (sequence: Array<[TargetResult["state"], string | null]>) => {
    let memory: TargetMemory | undefined;
    return sequence.map(([state, hash], i) => {
      const { change, memory: kept } = detectChange(memory, result(state, hash), i + 1);
      memory = kept;
      return change === undefined ? null : `${change.previous?.state ?? "-"}>${change.current.state}:${change.changes.join("+")}`;
    });
  };

  it("a healthy first round is silent; a broken one is reported", function () {
    expect(run([["pass", H1]])).to.deep.equal([null]);
    expect(run([["fail", H1]])).to.deep.equal(["->fail:state"]);
    expect(run([["error", null]])).to.deep.equal(["->error:state"]);
  });

  it("state changes and new compose hashes, with rounds without a hash not counting as a change of hash", function () {
    expect(
      run([
        ["pass", H1],
        ["pass", H1],
        ["fail", H1],
        ["fail", H1],
        ["pass", H1],
        ["error", null],
        ["pass", H1],
        ["pass", H2],
        ["fail", H1],
      ]),
    ).to.deep.equal([null, null, "pass>fail:state", null, "fail>pass:state", "pass>error:state", "error>pass:state", "pass>pass:compose-hash", "pass>fail:state+compose-hash"]);
  });
});

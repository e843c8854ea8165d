/**
 * The governance watch library without Hardhat tasks: one range read, a cursor resumed
 * and refused, the JSON-lines log, and the follow loop stopped by an AbortSignal.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { expect } from "chai";
import type { Address, PublicClient } from "viem";

import { parseWatchCursor, readWatchCursor, writeWatchCursor } from "../../src/watch/cursor.js";
import type { GovernanceEvent } from "../../src/watch/governance-events.js";
import { governanceEventRecord, watchGovernance } from "../../src/watch/watch.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { ownChain } from "../support/own-chain.js";
import { bytes32, tempDir } from "../tasks/fixture.js";
import { caught } from "../support/rejection.js";

const chain = await ownChain();

const H0 = bytes32("watch:h0");
const H1 = bytes32("watch:h1");
const H2 = bytes32("watch:h2");

describe("watch library: governance events without tasks", function () {
  let publicClient: PublicClient;
  let chainId: number;
  let app: Awaited<ReturnType<typeof chain.freshApp>>;
  let fromBlock: bigint;
  const tmp = tempDir("watch-lib-");

  before(async function () {
    publicClient = chain.publicClient;
    chainId = await publicClient.getChainId();
    fromBlock = (await publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    app = await chain.freshApp({ initialComposeHash: H0 });
    await app.app.write.addComposeHash([H1]);
  });
  after(() => tmp.cleanup());

  it("reads a range once, in chain order, hands the events over and logs them as JSON lines", async function () {
    const seen: GovernanceEvent[] = [];
    const out = tmp.file("events.jsonl");
    const result = await watchGovernance(publicClient, {
      chainId,
      contracts: [{ address: app.address, role: "app" }],
      fromBlock,
      confirmations: 0n,
      follow: false,
      intervalMs: 1000,
      out,
      onEvents: (events) => {
        seen.push(...events);
      },
    });
    const added = seen.filter((event) => event.event === "ComposeHashAdded").map((event) => event.args.composeHash);
    expect(added).to.deep.equal([H0, H1]);
    expect(result.events).to.equal(seen.length);
    expect(result.nextBlock).to.equal((await publicClient.getBlockNumber({ cacheTime: 0 })) + 1n);
    const blocks = seen.map((event) => event.blockNumber);
    expect([...blocks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).to.deep.equal(blocks);
    const lines = readFileSync(out, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).to.have.length(seen.length);
    expect(lines[0]).to.deep.include({ time: governanceEventRecord(seen[0]!).time, event: seen[0]!.event, blockNumber: seen[0]!.blockNumber.toString() });
  });

  it("a cursor resumes after the last block read; one for other contracts is refused (field cursor)", async function () {
    const cursorPath = tmp.file("cursor.json");
    const contracts = [{ address: app.address, role: "app" as const }];
    const first = await watchGovernance(publicClient, { chainId, contracts, fromBlock, confirmations: 0n, follow: false, intervalMs: 1000, cursor: { path: cursorPath, saved: undefined } });
    expect(first.events).to.be.greaterThan(0);
    const saved = await readWatchCursor(cursorPath);
    expect(saved).to.deep.equal({ version: 1, chainId, contracts, nextBlock: first.nextBlock.toString() });

    await app.app.write.addComposeHash([H2]);
    const seen: GovernanceEvent[] = [];
    const second = await watchGovernance(publicClient, {
      chainId,
      contracts,
      confirmations: 0n,
      follow: false,
      intervalMs: 1000,
      cursor: { path: cursorPath, saved },
      onEvents: (events) => {
        seen.push(...events);
      },
    });
    expect(seen.map((event) => [event.event, event.args.composeHash])).to.deep.equal([["ComposeHashAdded", H2]]);
    expect(second.nextBlock > first.nextBlock).to.equal(true);

    const other = await chain.freshApp();
    const refused = await caught(
      watchGovernance(publicClient, { chainId, contracts: [{ address: other.address, role: "app" }], confirmations: 0n, follow: false, intervalMs: 1000, cursor: { path: cursorPath, saved: await readWatchCursor(cursorPath) } }),
    );
    expect(refused).to.be.instanceOf(InvalidInputError);
    expect((refused as InvalidInputError).field).to.equal("cursor");
    expect(refused.message).to.match(/belongs to other contracts/);
  });

  it("cursor files: a missing one is a first run; a malformed one is an input error naming the file", async function () {
    expect(await readWatchCursor(tmp.file("none.json"))).to.equal(undefined);
    const bad = tmp.file("bad.json");
    writeFileSync(bad, JSON.stringify({ version: 2, nextBlock: "1", contracts: [] }));
    const error = await caught(readWatchCursor(bad));
    expect(error).to.be.instanceOf(InvalidInputError);
    expect(error.message).to.include(`${bad} is not a watch-governance cursor`);
    expect(() => parseWatchCursor("{", "x.json")).to.throw(InvalidInputError, /x\.json is not a watch-governance cursor/);
    const written = tmp.file("written.json");
    const cursor = { version: 1 as const, chainId: 5, contracts: [{ address: app.address as Address, role: "kms" as const }], nextBlock: "42" };
    await writeWatchCursor(written, cursor);
    expect(parseWatchCursor(readFileSync(written, "utf8"), written)).to.deep.equal(cursor);
  });

  it("follow: reads round after round until the signal aborts; follow with an end block is refused", async function () {
    const stop = new AbortController();
    let rounds = 0;
    const result = await watchGovernance(publicClient, {
      chainId,
      contracts: [{ address: app.address, role: "app" }],
      fromBlock,
      confirmations: 0n,
      follow: true,
      intervalMs: 20,
      signal: stop.signal,
      onEvents: async () => {
        rounds += 1;
        // A new block for the next round, then stop after the second one.
        if (rounds === 1) await app.app.write.removeComposeHash([H2]);
        else stop.abort();
      },
    });
    expect(rounds).to.equal(2);
    expect(result.nextBlock).to.equal((await publicClient.getBlockNumber({ cacheTime: 0 })) + 1n);

    const both = await caught(watchGovernance(publicClient, { chainId, contracts: [{ address: app.address, role: "app" }], toBlock: 1n, confirmations: 0n, follow: true, intervalMs: 20 }));
    expect(both).to.be.instanceOf(InvalidInputError);
    expect((both as InvalidInputError).field).to.equal("follow and toBlock");
  });
});

/**
 * `list-compose-hashes` at the task level against an RPC that caps eth_getLogs ranges the
 * way hosted providers do: a loopback proxy (test/support/rpc-proxy.ts) in front of the
 * simulated chain, used as the `--network` of an in-process HRE. The app's events are
 * spread over ~30,000 blocks (hardhat_mine between writes); the history must be complete
 * (compared with receipts and with an unlimited eth_getLogs), and the proxy must have
 * refused ranges and the scan recovered from it.
 */
import { expect } from "chai";
import { numberToHex, toEventSelector, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";
import { runTask } from "../support/run-task.js";
import { bytes32, chain, freshApp, hreWithNetwork, restoreChainAfter } from "./fixture.js";

const LIMIT = 1_000;

interface Expected {
  action: "added" | "removed";
  composeHash: Hex;
  blockNumber: bigint;
  transactionHash: Hex;
}

describe("tasks: list-compose-hashes through an RPC with a block-range limit", function () {
  restoreChainAfter();
  let proxy: RpcProxy;
  let limited: Awaited<ReturnType<typeof hreWithNetwork>>;
  let app: Address;
  let deployBlock: bigint;
  let head: bigint;
  const expected: Expected[] = [];

  before(async function () {
    const { connection, publicClient, networkHelpers } = await chain();
    const deployed = await freshApp({ initialComposeHash: bytes32("proxy-initial") });
    app = deployed.address;
    deployBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
    expected.push({
      action: "added",
      composeHash: bytes32("proxy-initial"),
      blockNumber: deployBlock,
      transactionHash: (await publicClient.getBlock({ blockNumber: deployBlock })).transactions[0]!,
    });
    // 14 writes, 2,101 blocks apart: events in 15 distinct blocks over ~30,000 blocks.
    for (let i = 0; i < 14; i += 1) {
      await networkHelpers.mine(2_100);
      const hashes = [bytes32(`proxy-${i}`), bytes32(`proxy-${i}-b`)];
      const removing = i % 4 === 3;
      const target = removing ? [bytes32(`proxy-${i - 1}`), bytes32(`proxy-${i - 1}-b`)] : hashes;
      const txHash = removing ? await deployed.app.write.removeComposeHashes([target]) : await deployed.app.write.addComposeHashes([target]);
      const receipt = await publicClient.waitForTransactionReceipt({ hash: txHash });
      for (const composeHash of target) expected.push({ action: removing ? "removed" : "added", composeHash, blockNumber: receipt.blockNumber, transactionHash: txHash });
    }
    await networkHelpers.mine(1_500);
    head = await publicClient.getBlockNumber({ cacheTime: 0 });
    proxy = await startRpcProxy(connection.provider, { maxLogBlockRange: LIMIT });
    limited = await hreWithNetwork("limited", { type: "http", chainType: "l1", url: proxy.url, chainId: 31337 });
  });

  after(async function () {
    await proxy?.close();
  });

  /** The events of the JSON history, flattened in chain order. */
  function flatten(json: { hashes: Array<{ composeHash: Hex; events: Array<{ action: string; blockNumber: string; transactionHash: Hex; logIndex: number }> }> }) {
    return json.hashes
      .flatMap((record) => record.events.map((e) => ({ ...e, composeHash: record.composeHash, block: BigInt(e.blockNumber) })))
      .sort((a, b) => (a.block === b.block ? a.logIndex - b.logIndex : a.block < b.block ? -1 : 1))
      .map((e) => ({ action: e.action, composeHash: e.composeHash, blockNumber: e.block, transactionHash: e.transactionHash }));
  }

  it("the set-up: the proxy really refuses wide ranges and the events span far more than the limit", async function () {
    expect(Number(head - deployBlock)).to.be.greaterThan(29_000);
    const { publicClient } = await chain();
    const response = await fetch(proxy.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getLogs", params: [{ address: app, fromBlock: numberToHex(deployBlock), toBlock: numberToHex(head) }] }),
    });
    expect(((await response.json()) as { error?: { message: string } }).error?.message).to.equal(`query exceeds max block range ${LIMIT}`);
    // The truth, without the limit: every add/remove of the app.
    const selectors = ["ComposeHashAdded", "ComposeHashRemoved"].map((name) =>
      toEventSelector(dstackAppAbi.find((item) => item.type === "event" && item.name === name) as never),
    );
    const logs = await publicClient.request({ method: "eth_getLogs", params: [{ address: app, fromBlock: numberToHex(deployBlock), toBlock: numberToHex(head), topics: [selectors] }] });
    expect(logs).to.have.length(expected.length);
    expect(new Set(expected.map((e) => e.blockNumber)).size).to.equal(15);
  });

  it("limit stated in the error (Alchemy/reth style): complete history, refusals seen, chunks never above the limit", async function () {
    proxy.resetCounts();
    const result = await runTask(limited, "list-compose-hashes", { app, fromBlock: deployBlock.toString(), toBlock: head.toString(), json: true });
    expect(result.exitCode, result.stdout).to.equal(0);
    expect(flatten(result.json)).to.deep.equal(expected);
    expect(result.json.crossCheck.mismatches).to.deep.equal([]);
    expect(result.json.crossCheck.checked).to.equal(new Set(expected.map((e) => e.composeHash)).size);
    const { logRequests, logChunks } = result.json.stats;
    expect(proxy.count("eth_getLogs")).to.equal(logRequests);
    const blocks = Number(head - deployBlock + 1n);
    expect(logChunks).to.equal(Math.ceil(blocks / LIMIT)); // the stated limit is used exactly
    expect(logRequests - logChunks, "refused requests").to.equal(1); // the first 2,000-block chunk only
    // Progress went to stderr, one line per report, ending at 100%.
    expect(result.stderr.trim().split("\n").at(-1)).to.match(new RegExp(`^scanning blocks \\d+\\.\\.${head}: 100% \\(${logRequests} requests, ${expected.length + 1} events\\)$`));
  });

  it("limit not stated (\"block range is too wide\"), starting at --chunk-size 50000: the scan finds a size that works", async function () {
    proxy.setRangeError(() => ({ code: -32000, message: "block range is too wide" }));
    proxy.resetCounts();
    try {
      const result = await runTask(limited, "list-compose-hashes", {
        app,
        fromBlock: deployBlock.toString(),
        toBlock: head.toString(),
        chunkSize: "50000",
        json: true,
        quiet: true,
      });
      expect(result.exitCode, result.stdout).to.equal(0);
      expect(result.stderr).to.equal("");
      expect(flatten(result.json)).to.deep.equal(expected);
      const { logRequests, logChunks } = result.json.stats;
      expect(proxy.count("eth_getLogs")).to.equal(logRequests);
      const refused = logRequests - logChunks;
      expect(refused, "refused requests").to.be.at.least(3);
      // Having learnt the limit, it does not keep probing: few refusals relative to the chunks.
      expect(refused).to.be.at.most(Math.ceil(Math.log2(50_000 / LIMIT)) + 6);
      expect(logChunks).to.be.at.least(Math.ceil(Number(head - deployBlock + 1n) / LIMIT));
    } finally {
      proxy.setRangeError((limit) => ({ code: -32600, message: `query exceeds max block range ${limit}` }));
    }
  });

  it("an RPC that refuses even one block: exit 3 (an RPC problem) with a clear message, not a partial history", async function () {
    proxy.setMaxLogBlockRange(0);
    try {
      const result = await runTask(limited, "list-compose-hashes", { app, fromBlock: deployBlock.toString(), toBlock: head.toString(), quiet: true });
      expect(result.exitCode).to.equal(3);
      expect(result.stdout).to.equal("");
      expect(result.stderr.split("\n")[0]).to.equal(`Error: the RPC refuses eth_getLogs even for the single block ${deployBlock}`);
    } finally {
      proxy.setMaxLogBlockRange(LIMIT);
    }
  });
});

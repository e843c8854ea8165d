import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, http, keccak256, numberToHex, toEventSelector, toHex, type Address, type Hex, type PublicClient } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { LogScanError, RpcError } from "../../src/chain/errors.js";
import { classifyRangeError, scanLogs, scanRawLogs, type ScanProgress } from "../../src/chain/log-scan.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { deployAppProxy } from "../support/contracts.js";
import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";

const events = dstackAppAbi.filter(
  (item): item is Extract<(typeof dstackAppAbi)[number], { type: "event"; name: "ComposeHashAdded" | "ComposeHashRemoved" }> =>
    item.type === "event" && (item.name === "ComposeHashAdded" || item.name === "ComposeHashRemoved"),
);

const hash = (label: string): Hex => keccak256(toHex(label));

describe("scanLogs", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let proxy: RpcProxy;
  let client: PublicClient;
  let app: Address;
  let deployBlock: bigint;
  let head: bigint;
  /** (blockNumber, logIndex) of every ComposeHash event, straight from the provider without limits. */
  let expected: Array<[bigint, number]>;

  before(async function () {
    connection = await network.create();
    const { viem, networkHelpers } = connection;
    const [owner] = await viem.getWalletClients();
    const publicClient = await viem.getPublicClient();
    const deployed = await deployAppProxy(viem, { owner: owner!.account.address, allowAnyDevice: true, initialComposeHash: hash("init") });
    app = deployed.proxy.address;
    deployBlock = await publicClient.getBlockNumber();
    // ~5,000 blocks with events spread over them: single adds, removes, and batches that put
    // several ComposeHash logs (interleaved with PolicyChanged) into one block.
    for (let i = 0; i < 20; i += 1) {
      await deployed.app.write.addComposeHash([hash(`h${i}`)]);
      if (i % 3 === 0) await deployed.app.write.removeComposeHash([hash(`h${i}`)]);
      if (i % 5 === 0) await deployed.app.write.addComposeHashes([[hash(`b${i}a`), hash(`b${i}b`), hash(`b${i}c`)]]);
      await networkHelpers.mine(247);
    }
    head = await publicClient.getBlockNumber();
    const raw = (await connection.provider.request({
      method: "eth_getLogs",
      params: [{ address: app, fromBlock: numberToHex(deployBlock), toBlock: numberToHex(head), topics: [events.map((e) => toEventSelector(e))] }],
    })) as Array<{ blockNumber: Hex; logIndex: Hex }>;
    expected = raw.map((log) => [BigInt(log.blockNumber), Number(log.logIndex)]);
    expect(expected.length).to.equal(1 + 20 + 7 + 4 * 3);
    expect(Number(head - deployBlock)).to.be.greaterThan(4_900);
    proxy = await startRpcProxy(connection.provider);
    client = createPublicClient({ transport: http(proxy.url, { retryCount: 0 }) });
  });

  after(async function () {
    await proxy?.close();
  });

  beforeEach(function () {
    proxy.failAll(false);
    proxy.setMaxLogBlockRange(undefined);
    proxy.setMaxLogResults(undefined);
    proxy.setRangeError((limit) => ({ code: -32600, message: `query exceeds max block range ${limit}` }));
    proxy.resetCounts();
  });

  function positions(logs: ReadonlyArray<{ blockNumber: bigint; logIndex: number }>): Array<[bigint, number]> {
    return logs.map((log) => [log.blockNumber, log.logIndex]);
  }

  it("finds every log exactly once, in order, under a 500-block limit that the error names", async function () {
    proxy.setMaxLogBlockRange(500);
    const progress: ScanProgress[] = [];
    const result = await scanLogs(client, {
      address: app,
      events,
      fromBlock: deployBlock,
      toBlock: head,
      initialChunkSize: 5_000,
      onProgress: (p) => progress.push(p),
    });
    expect(positions(result.logs)).to.deep.equal(expected);
    for (const chunk of progress) expect(Number(chunk.toBlock - chunk.fromBlock + 1n)).to.be.at.most(500);
    const total = Number(head - deployBlock + 1n);
    // One refusal, then 500-block chunks.
    expect(result.stats.rangeErrors).to.equal(1);
    expect(result.stats.requests).to.equal(1 + Math.ceil(total / 500));
    expect(proxy.count("eth_getLogs")).to.equal(result.stats.requests);
    // Progress is contiguous and ends at the full range.
    const last = progress[progress.length - 1]!;
    expect(last.scannedBlocks).to.equal(last.totalBlocks);
    expect(last.logs).to.equal(expected.length);
    for (let i = 1; i < progress.length; i += 1) expect(progress[i]!.fromBlock).to.equal(progress[i - 1]!.toBlock + 1n);
    // Decoded arguments.
    const first = result.logs[0]!;
    expect(first.eventName).to.equal("ComposeHashAdded");
    expect(first.args.composeHash).to.equal(hash("init"));
    expect(first.blockTimestamp).to.be.a("bigint");
  });

  it("scanRawLogs: every log of the contract, whatever its event, as the node sent it, under the same limit", async function () {
    const all = (await connection.provider.request({
      method: "eth_getLogs",
      params: [{ address: app, fromBlock: numberToHex(deployBlock), toBlock: numberToHex(head) }],
    })) as Array<{ blockNumber: Hex; logIndex: Hex; topics: Hex[] }>;
    // Other events (PolicyChanged, Initialized, ...) than the ComposeHash ones scanLogs filters for.
    expect(all.length).to.be.greaterThan(expected.length);
    proxy.setMaxLogBlockRange(500);
    const result = await scanRawLogs(client, { address: app, fromBlock: deployBlock, toBlock: head, initialChunkSize: 5_000 });
    expect(result.stats.rangeErrors).to.equal(1);
    expect(result.logs).to.deep.equal(all);
  });

  it("converges by bisection when the error names no limit", async function () {
    proxy.setMaxLogBlockRange(500);
    proxy.setRangeError(() => ({ code: -32005, message: "block range too large" }));
    const progress: ScanProgress[] = [];
    const result = await scanLogs(client, {
      address: app,
      events,
      fromBlock: deployBlock,
      toBlock: head,
      initialChunkSize: 5_000,
      onProgress: (p) => progress.push(p),
    });
    expect(positions(result.logs)).to.deep.equal(expected);
    for (const chunk of progress) expect(Number(chunk.toBlock - chunk.fromBlock + 1n)).to.be.at.most(500);
    const total = Number(head - deployBlock + 1n);
    // The search costs a handful of refusals; the steady state uses at least 7/8 of the limit.
    expect(result.stats.rangeErrors).to.be.at.most(8);
    expect(result.stats.requests).to.be.at.most(Math.ceil(total / (500 * 7 / 8)) + 8);
    expect(result.stats.largestChunk).to.be.greaterThan(437);
  });

  it("follows Alchemy's suggested range", async function () {
    proxy.setMaxLogBlockRange(500);
    proxy.setRangeError((limit, from) => ({
      code: -32600,
      message: `You can make eth_getLogs requests with up to a ${limit} block range. Based on your parameters, this block range should work: [${numberToHex(from)}, ${numberToHex(from + BigInt(limit) - 1n)}]`,
    }));
    const result = await scanLogs(client, { address: app, events, fromBlock: deployBlock, toBlock: head, initialChunkSize: 2_000 });
    expect(positions(result.logs)).to.deep.equal(expected);
    expect(result.stats.rangeErrors).to.equal(1);
  });

  it("shrinks under a result-count limit (geth/Infura 'query returned more than N results')", async function () {
    proxy.setMaxLogResults(3);
    const result = await scanLogs(client, { address: app, events, fromBlock: deployBlock, toBlock: head, initialChunkSize: 100_000 });
    expect(positions(result.logs)).to.deep.equal(expected);
    expect(result.stats.rangeErrors).to.be.greaterThan(0);
    // A dense stretch must not pin the whole scan to tiny chunks: 40 logs at most 3 per
    // request need at least 14 chunks; sparse stretches are read in large ones.
    expect(result.stats.requests).to.be.at.most(120);
  });

  it("grows the chunk after successes when the node has no limit", async function () {
    const result = await scanLogs(client, { address: app, events, fromBlock: deployBlock, toBlock: head, initialChunkSize: 100 });
    expect(positions(result.logs)).to.deep.equal(expected);
    // 100, 200, 400, 800, 1600, 3200 cover 6,300 blocks.
    expect(result.stats.requests).to.be.at.most(7);
    expect(result.stats.rangeErrors).to.equal(0);
  });

  it("retries a transient failure and still returns everything", async function () {
    proxy.setMaxLogBlockRange(1_000);
    proxy.failMethodAfter("eth_getLogs", 2, "http-503", 1);
    const result = await scanLogs(client, {
      address: app,
      events,
      fromBlock: deployBlock,
      toBlock: head,
      initialChunkSize: 1_000,
      maxChunkSize: 1_000,
      retryDelayMs: 5,
    });
    expect(positions(result.logs)).to.deep.equal(expected);
    expect(result.stats.requests).to.equal(result.stats.chunks + 1);
  });

  it("propagates a non-range error mid-scan instead of returning a partial result", async function () {
    proxy.setMaxLogBlockRange(500);
    proxy.failMethodAfter("eth_getLogs", 4, "http-503");
    const progress: ScanProgress[] = [];
    let caught: unknown;
    try {
      await scanLogs(client, {
        address: app,
        events,
        fromBlock: deployBlock,
        toBlock: head,
        initialChunkSize: 500,
        maxChunkSize: 500,
        retries: 2,
        retryDelayMs: 5,
        onProgress: (p) => progress.push(p),
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(RpcError);
    const error = caught as RpcError;
    expect(error.code).to.equal("RPC_ERROR");
    expect(error.method).to.equal("eth_getLogs");
    expect(error.httpStatus).to.equal(503);
    expect(error.url).to.equal(proxy.url);
    // Some chunks had been read; none of them leaked out.
    expect(progress.length).to.equal(4);
    // First attempt plus two retries of the failing chunk.
    expect(proxy.count("eth_getLogs")).to.equal(4 + 3);
  });

  it("propagates a JSON-RPC internal error after retries", async function () {
    proxy.failMethodAfter("eth_getLogs", 0, "rpc-internal");
    let caught: unknown;
    try {
      await scanLogs(client, { address: app, events, fromBlock: deployBlock, toBlock: head, retries: 1, retryDelayMs: 5 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(RpcError);
    expect((caught as RpcError).rpcCode).to.equal(-32603);
    expect((caught as RpcError).message).to.include("backend unavailable");
  });

  it("fails with RpcError, without credentials, when the endpoint is down", async function () {
    const key = "0123456789abcdef0123456789abcdef";
    const secretClient = createPublicClient({
      transport: http(`${proxy.url.replace("http://", "http://alice:hunter2@")}v3/${key}`, { retryCount: 0 }),
    });
    proxy.failAll("drop");
    let caught: unknown;
    try {
      await scanLogs(secretClient, { address: app, events, fromBlock: deployBlock, toBlock: head, retries: 1, retryDelayMs: 5 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(RpcError);
    const error = caught as RpcError;
    expect(error.url).to.equal(`${proxy.url}v3/***`);
    for (const text of [error.message, error.details ?? ""]) {
      expect(text).to.not.include("hunter2");
      expect(text).to.not.include(key);
    }
  });

  it("fails when the node refuses even a single block", async function () {
    proxy.setMaxLogBlockRange(0);
    let caught: unknown;
    try {
      await scanLogs(client, { address: app, events, fromBlock: deployBlock, toBlock: deployBlock + 40n, initialChunkSize: 16 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(LogScanError);
    expect((caught as LogScanError).message).to.include(`single block ${deployBlock}`);
    // 16 → 8 → 4 → 2 → 1
    expect(proxy.count("eth_getLogs")).to.equal(5);
  });

  it("rejects ranges past the head or reversed before sending eth_getLogs", async function () {
    for (const range of [
      { fromBlock: 0n, toBlock: head + 10n },
      { fromBlock: 20n, toBlock: 10n },
    ]) {
      let caught: unknown;
      try {
        await scanLogs(client, { address: app, events, ...range });
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(InvalidInputError);
    }
    expect(proxy.count("eth_getLogs")).to.equal(0);
  });

  it("scans to the head when toBlock is omitted", async function () {
    const result = await scanLogs(client, { address: app, events, fromBlock: deployBlock });
    expect(result.toBlock).to.equal(head);
    expect(positions(result.logs)).to.deep.equal(expected);
  });
});

describe("classifyRangeError", function () {
  // The node's error as viem surfaces it: a wrapper whose cause carries code and message.
  const rpcError = (code: number, message: string) => {
    const cause = Object.assign(new Error(message), { code });
    return Object.assign(new Error("RPC Request failed."), { code, details: message, cause });
  };
  const httpError = (status: number, body: string) =>
    Object.assign(new Error("HTTP request failed."), { status, details: body, name: "HttpRequestError" });

  const rangeCases: Array<[string, unknown, "block-range" | "result-size", number | undefined]> = [
    ["reth / Base", rpcError(-32602, "query exceeds max block range 5000"), "block-range", 5000],
    ["geth-based public endpoint", rpcError(-32000, "exceed maximum block range: 50000"), "block-range", 50000],
    [
      "Alchemy block cap",
      rpcError(-32600, "You can make eth_getLogs requests with up to a 500 block range. Based on your parameters, this block range should work: [0x123c9b2, 0x123cba5]"),
      "block-range",
      500,
    ],
    ["Infura", rpcError(-32602, "range 1000000 exceeds limit of 10000"), "block-range", 10000],
    ["QuickNode (HTTP 413)", httpError(413, '{"jsonrpc":"2.0","id":56,"error":{"code":-32614,"message":"eth_getLogs is limited to a 10,000 range"}}'), "block-range", 10000],
    ["Erigon", rpcError(-32602, "query block range exceeds server limit, narrow your filter: 1000"), "block-range", 1000],
    ["cdk-erigon", rpcError(-32005, "block range too large, max range: 10000"), "block-range", 10000],
    ["Tenderly", rpcError(-32602, "invalid params: range 9009594 is bigger than range limit 2000"), "block-range", 2000],
    ["scroll geth", rpcError(-32000, "block range is bigger than maxBlockRange"), "block-range", undefined],
    ["Morph", rpcError(-32000, "block range is larger than max block range, block range = 5120, max block range = 5000"), "block-range", 5000],
    ["Klaytn gateway", rpcError(-32005, "In eth_getLogs, eth_newFilter, klay_getLogs, and klay_newFilter, the block range is limited to 2000."), "block-range", 2000],
    ["Candle", rpcError(-32600, "block range too high"), "block-range", undefined],
    ["Hedera relay", rpcError(-32000, "Exceeded maximum block range: 1000"), "block-range", 1000],
    ["geth / Infura results", rpcError(-32005, "query returned more than 10000 results"), "result-size", undefined],
    ["Erigon results", rpcError(-32000, "query returns too many logs, narrow your filter: 20000"), "result-size", undefined],
    [
      "Alchemy response size",
      rpcError(-32602, "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response. Based on your parameters and the response size limit, this block range should work: [0x10, 0x1f]"),
      "result-size",
      16,
    ],
    ["Infura timeout", rpcError(-32005, "query timeout exceeded"), "result-size", undefined],
  ];
  for (const [name, error, kind, hint] of rangeCases) {
    it(`recognises ${name}`, function () {
      expect(classifyRangeError(error)).to.deep.equal({ kind, limitHint: hint });
    });
  }

  const otherCases: Array<[string, unknown]> = [
    ["geth reversed range", rpcError(-32602, "invalid block range params")],
    ["bound past the head", rpcError(-32602, "block range extends beyond current head block")],
    ["Infura rate limit", rpcError(-32005, "daily request count exceeded, request rate limited")],
    ["QuickNode rate limit", rpcError(-32007, "100/second request limit reached - reduce calls per second or upgrade your account at quicknode.com")],
    ["HTTP 429", httpError(429, "Too Many Requests")],
    ["HTTP 503", httpError(503, "Service Unavailable")],
    ["network", new TypeError("fetch failed")],
    ["pruned state", rpcError(-32000, "missing trie node 1f2e (path ) state 0x… is not available")],
    ["bad filter", rpcError(-32602, "invalid argument 0: hex string without 0x prefix")],
  ];
  for (const [name, error] of otherCases) {
    it(`does not treat ${name} as a range error`, function () {
      expect(classifyRangeError(error)).to.equal(undefined);
    });
  }
});

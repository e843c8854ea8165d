import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, custom, getAddress, http, keccak256, toHex, type Address, type Hex, type PublicClient } from "viem";

import { MULTICALL3_ADDRESS } from "../../src/abi/multicall3.js";
import { readComposeHashHistory } from "../../src/chain/compose-hash-history.js";
import { findDeploymentBlock } from "../../src/chain/deployment-block.js";
import { NoCodeError, RpcError } from "../../src/chain/errors.js";
import { deployAppProxy } from "../support/contracts.js";
import { MULTICALL3_RUNTIME_CODE } from "../support/multicall3.js";
import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";

const hash = (label: string): Hex => keccak256(toHex(label));
const H0 = hash("compose-0 (initializer)");
const H1 = hash("compose-1");
const H2 = hash("compose-2");
const H3 = hash("compose-3");
const H4 = hash("compose-4");

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("compose-hash history", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let proxy: RpcProxy;
  let client: PublicClient;
  let publicClient: Awaited<ReturnType<Awaited<ReturnType<typeof network.create>>["viem"]["getPublicClient"]>>;
  let app: Address;
  let owner: Address;
  let deployBlock: bigint;
  /** Block of each write, by label. */
  const blocks: Record<string, bigint> = {};

  /**
   * Mines with one `evm_mine` per block. `networkHelpers.mine(n)` (hardhat_mine) creates
   * "reserved" blocks for which EDR answers historical `eth_getCode` with empty code even
   * when the contract existed, which would break the deployment-block search.
   */
  async function mineBlocks(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) await connection.provider.request({ method: "evm_mine" });
  }

  before(async function () {
    connection = await network.create();
    const { viem } = connection;
    publicClient = await viem.getPublicClient();
    const [wallet] = await viem.getWalletClients();
    owner = getAddress(wallet!.account.address);
    await mineBlocks(20);
    const deployed = await deployAppProxy(viem, { owner, initialComposeHash: H0 });
    app = deployed.proxy.address;
    deployBlock = await publicClient.getBlockNumber();
    const write = async (label: string, send: () => Promise<Hex>) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash: await send() });
      blocks[label] = receipt.blockNumber;
    };
    await mineBlocks(50);
    await write("add H1", () => deployed.app.write.addComposeHash([H1]));
    await mineBlocks(30);
    await write("add H2", () => deployed.app.write.addComposeHash([H2]));
    await write("remove H1", () => deployed.app.write.removeComposeHash([H1]));
    await mineBlocks(100);
    await write("batch H3 H4", () => deployed.app.write.addComposeHashes([[H3, H4]]));
    await write("re-add H1", () => deployed.app.write.addComposeHash([H1]));
    await write("remove H0", () => deployed.app.write.removeComposeHash([H0]));
    await mineBlocks(10);
    proxy = await startRpcProxy(connection.provider);
    client = createPublicClient({ transport: http(proxy.url, { retryCount: 0 }) });
  });

  after(async function () {
    await proxy?.close();
  });

  beforeEach(async function () {
    proxy.failAll(false);
    proxy.setMaxLogBlockRange(undefined);
    proxy.setStripLogTimestamps(false);
    await connection.networkHelpers.setCode(MULTICALL3_ADDRESS, "0x");
    proxy.resetCounts();
  });

  it("findDeploymentBlock finds the proxy's deployment block", async function () {
    expect(await findDeploymentBlock(client, app)).to.equal(deployBlock);
    // ~log2(head) eth_getCode requests.
    expect(proxy.count("eth_getCode")).to.be.at.most(12);
    const eoa = await rejection(findDeploymentBlock(client, owner));
    expect(eoa).to.be.instanceOf(NoCodeError);
  });

  it("rebuilds adds, removes and re-adds from the deployment block, including the initializer's hash", async function () {
    proxy.setMaxLogBlockRange(64);
    const history = await readComposeHashHistory(client, app, { initialChunkSize: 1_000 });
    expect(history.fromBlock).to.equal(deployBlock);
    expect(history.initializedInRange).to.equal(true);
    expect(history.chainId).to.equal(31337);

    const timeline = (h: Hex) =>
      history.hashes.find((record) => record.composeHash === h)?.events.map((event) => [event.action, event.blockNumber]);
    expect(history.hashes.map((record) => record.composeHash)).to.deep.equal([H0, H1, H2, H3, H4]);
    expect(timeline(H0)).to.deep.equal([
      ["added", deployBlock],
      ["removed", blocks["remove H0"]],
    ]);
    expect(timeline(H1)).to.deep.equal([
      ["added", blocks["add H1"]],
      ["removed", blocks["remove H1"]],
      ["added", blocks["re-add H1"]],
    ]);
    expect(timeline(H2)).to.deep.equal([["added", blocks["add H2"]]]);
    expect(timeline(H3)).to.deep.equal([["added", blocks["batch H3 H4"]]]);
    expect(timeline(H4)).to.deep.equal([["added", blocks["batch H3 H4"]]]);
    // Same transaction, H3's log first.
    const h3 = history.hashes[3]!.events[0]!;
    const h4 = history.hashes[4]!.events[0]!;
    expect(h3.transactionHash).to.equal(h4.transactionHash);
    expect(h3.logIndex).to.be.lessThan(h4.logIndex);

    expect(history.allowed).to.deep.equal([H2, H3, H4, H1]);
    expect(history.hashes.map((record) => record.allowed)).to.deep.equal([false, true, true, true, true]);
    expect(history.crossCheck?.mismatches).to.deep.equal([]);
    expect(history.crossCheck?.checked).to.equal(5);
    expect(history.crossCheck?.via).to.equal("eth_call");
    expect(history.hashes.map((record) => record.allowedOnChain)).to.deep.equal([false, true, true, true, true]);

    // Timestamps are the blocks' own.
    for (const record of history.hashes) {
      for (const event of record.events) {
        const block = await publicClient.getBlock({ blockNumber: event.blockNumber });
        expect(event.blockTimestamp).to.equal(block.timestamp);
      }
    }
    // EDR puts blockTimestamp in logs: no block fetched.
    expect(history.stats.blockRequests).to.equal(0);
    expect(proxy.count("eth_getBlockByNumber")).to.equal(0);
    // Without Multicall3, one eth_call per hash.
    expect(proxy.count("eth_call")).to.equal(5);
  });

  it("fetches each distinct block once when logs carry no timestamp, and cross-checks in one multicall", async function () {
    await connection.networkHelpers.setCode(MULTICALL3_ADDRESS, MULTICALL3_RUNTIME_CODE);
    proxy.setStripLogTimestamps(true);
    proxy.resetCounts();
    const history = await readComposeHashHistory(client, app, { fromBlock: deployBlock });
    const distinctBlocks = new Set(history.hashes.flatMap((record) => record.events.map((event) => event.blockNumber)));
    // Deployment, add H1, add H2, remove H1, batch, re-add H1, remove H0.
    expect(distinctBlocks.size).to.equal(7);
    expect(history.stats.blockRequests).to.equal(7);
    expect(proxy.count("eth_getBlockByNumber")).to.equal(7);
    for (const record of history.hashes) {
      for (const event of record.events) {
        const block = await publicClient.getBlock({ blockNumber: event.blockNumber });
        expect(event.blockTimestamp).to.equal(block.timestamp);
      }
    }
    expect(history.crossCheck?.via).to.equal("multicall3");
    expect(history.crossCheck?.mismatches).to.deep.equal([]);
    expect(proxy.count("eth_call")).to.equal(1);
  });

  it("reports a hash allowed before the scanned range as a mismatch", async function () {
    const { viem } = connection;
    const late = await deployAppProxy(viem, { owner, initialComposeHash: H0 });
    const lateDeployBlock = await publicClient.getBlockNumber();
    await mineBlocks(5);
    await late.app.write.addComposeHash([H1]);
    // Start after the initializer; H0 has no event in range but is allowed on chain.
    const history = await readComposeHashHistory(client, late.proxy.address, {
      fromBlock: lateDeployBlock + 1n,
      extraHashes: [H0],
    });
    expect(history.initializedInRange).to.equal(false);
    expect(history.allowed).to.deep.equal([H1]);
    expect(history.crossCheck?.mismatches).to.have.length(1);
    const mismatch = history.crossCheck!.mismatches[0]!;
    expect(mismatch.composeHash).to.equal(H0);
    expect(mismatch.fromEvents).to.equal(false);
    expect(mismatch.onChain).to.equal(true);
    expect(mismatch.reason).to.include(`before block ${lateDeployBlock + 1n}`);
    expect(mismatch.reason).to.include("findDeploymentBlock");

    // From the deployment block the same hash is found and agrees.
    const full = await readComposeHashHistory(client, late.proxy.address, { extraHashes: [H0] });
    expect(full.fromBlock).to.equal(lateDeployBlock);
    expect(full.allowed).to.deep.equal([H0, H1]);
    expect(full.crossCheck?.mismatches).to.deep.equal([]);
  });

  it("cross-checks at toBlock, so later changes do not count as mismatches", async function () {
    const history = await readComposeHashHistory(client, app, { fromBlock: deployBlock, toBlock: blocks["remove H1"]! });
    expect(history.allowed).to.deep.equal([H0, H2]);
    expect(history.crossCheck?.blockNumber).to.equal(blocks["remove H1"]);
    expect(history.crossCheck?.mismatches).to.deep.equal([]);
  });

  it("fails with RpcError when the endpoint fails mid-way, never with a partial history", async function () {
    proxy.setMaxLogBlockRange(50);
    proxy.failMethodAfter("eth_getLogs", 2, "http-503");
    const error = await rejection(readComposeHashHistory(client, app, { fromBlock: deployBlock, initialChunkSize: 50 }));
    expect(error).to.be.instanceOf(RpcError);
    expect((error as RpcError).method).to.equal("eth_getLogs");
  });
});

describe("findDeploymentBlock: the search itself (a chain answered from a table)", function () {
  const CONTRACT = getAddress("0x00000000000000000000000000000000000000c0");
  /** A client whose `eth_getCode` answers "code from block `deployedAt` on", recording each block read. */
  function chainWithCodeFrom(deployedAt: bigint, head: bigint) {
    const reads: bigint[] = [];
    const client = createPublicClient({
      transport: custom({
        async request({ method, params }: { method: string; params?: unknown }) {
          if (method === "eth_blockNumber") return toHex(head);
          if (method === "eth_chainId") return "0x1";
          if (method === "eth_getCode") {
            const block = BigInt((params as [Address, Hex])[1]);
            if (block > head) throw new Error(`read past the head: block ${block} > ${head}`);
            reads.push(block);
            return block >= deployedAt ? "0x6080" : "0x";
          }
          throw new Error(`unexpected ${method}`);
        },
      }),
    });
    return { client, reads };
  }

  it("finds the deployment block for every deployment and head of small chains, in at most bit-length(head) + 2 reads", async function () {
    for (let head = 0n; head <= 40n; head += 1n) {
      for (let deployedAt = 0n; deployedAt <= head; deployedAt += 1n) {
        const { client, reads } = chainWithCodeFrom(deployedAt, head);
        expect(await findDeploymentBlock(client, CONTRACT), `deployed at ${deployedAt}, head ${head}`).to.equal(deployedAt);
        expect(reads.length, `reads for deployed at ${deployedAt}, head ${head}`).to.be.at.most(head.toString(2).length + 2);
      }
      const { client } = chainWithCodeFrom(head + 1n, head);
      expect(await rejection(findDeploymentBlock(client, CONTRACT))).to.be.instanceOf(NoCodeError);
    }
  });

  it("starts at fromBlock, and finds deployments on a realistic chain height", async function () {
    for (const deployedAt of [1n, 8_836_107n, 8_891_711n, 8_891_712n]) {
      const { client, reads } = chainWithCodeFrom(deployedAt, 8_891_712n);
      expect(await findDeploymentBlock(client, CONTRACT)).to.equal(deployedAt);
      expect(reads.length).to.be.at.most(26);
    }
    const { client, reads } = chainWithCodeFrom(8_836_107n, 8_891_712n);
    expect(await findDeploymentBlock(client, CONTRACT, { fromBlock: 8_800_000n })).to.equal(8_836_107n);
    expect(reads.every((block) => block >= 8_800_000n)).to.equal(true);
  });

  it("reads the same historical blocks whatever the head, once the head has moved on (a fork with locally mined blocks)", async function () {
    const forkBlock = 8_891_712n;
    for (const deployedAt of [4_000_000n, 8_836_107n, 8_891_000n]) {
      const atFork = chainWithCodeFrom(deployedAt, forkBlock);
      await findDeploymentBlock(atFork.client, CONTRACT);
      const recorded = new Set(atFork.reads.filter((block) => block < forkBlock));
      for (const mined of [1n, 2n, 100n, 7_201n]) {
        const later = chainWithCodeFrom(deployedAt, forkBlock + mined);
        expect(await findDeploymentBlock(later.client, CONTRACT)).to.equal(deployedAt);
        const historical = later.reads.filter((block) => block < forkBlock);
        expect(historical.filter((block) => !recorded.has(block)), `blocks read with ${mined} blocks mined that the fork-block search did not read`).to.deep.equal([]);
      }
    }
  });
});

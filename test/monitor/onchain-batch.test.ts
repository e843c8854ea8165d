/**
 * `checkOnchainLinks` (many attestations' on-chain links in one `readContracts`) and
 * `OnchainBatch` (tickets of concurrent verifications, one read when all have asked or
 * closed), on two simulated chains read through the loopback RPC proxy: one with
 * Multicall3 at its canonical address, one without (plain eth_calls).
 */
import { expect } from "chai";

import { network } from "hardhat";
import { createPublicClient, getAddress, http, type Address, type Hex } from "viem";

import { MULTICALL3_ADDRESS } from "../../src/abi/multicall3.js";
import { OnchainBatch, OnchainBatchError } from "../../src/attestation/onchain-batch.js";
import { checkOnchainLink, checkOnchainLinks, type OnchainLinkInput, type OnchainLinkResult } from "../../src/attestation/onchain.js";
import type { ChainClient } from "../../src/chain/clients.js";
import { deployAppProxy, deployKmsProxy } from "../support/contracts.js";
import { MULTICALL3_RUNTIME_CODE } from "../support/multicall3.js";
import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";

const hash = (byte: string): Hex => `0x${byte.repeat(32)}`;
const ALLOWED = hash("a1");
const OTHER_ALLOWED = hash("a2");
const NOT_ALLOWED = hash("b1");
const OS = hash("0e");
const NOWHERE = getAddress(`0x${"77".repeat(20)}`);

interface Chain {
  rpc: RpcProxy;
  client: ChainClient;
  app: Address;
  unregisteredApp: Address;
  kms: Address;
}

async function chainWith(multicall: boolean): Promise<Chain> {
  const connection = await network.create();
  const { viem, networkHelpers } = connection;
  if (multicall) await networkHelpers.setCode(MULTICALL3_ADDRESS, MULTICALL3_RUNTIME_CODE);
  const [owner] = await viem.getWalletClients();
  const { app } = await deployAppProxy(viem, { owner: owner!.account.address });
  const { app: unregistered } = await deployAppProxy(viem, { owner: owner!.account.address });
  const { kms } = await deployKmsProxy(viem, owner!.account.address);
  await app.write.addComposeHash([ALLOWED]);
  await app.write.addComposeHash([OTHER_ALLOWED]);
  await unregistered.write.addComposeHash([ALLOWED]);
  await kms.write.registerApp([app.address]);
  await kms.write.addOsImageHash([OS]);
  const rpc = await startRpcProxy(connection.provider);
  return { rpc, client: createPublicClient({ transport: http(rpc.url, { retryCount: 0 }) }), app: app.address, unregisteredApp: unregistered.address, kms: kms.address };
}

/** Inputs covering every outcome, with the statuses each must get (independent of the code). */
function cases(chain: Chain): Array<{ input: OnchainLinkInput; expected: Record<string, string> }> {
  return [
    { input: { app: chain.app, composeHash: ALLOWED, osImageHash: OS, kms: chain.kms }, expected: { "onchain-compose-hash": "pass", "onchain-app-registered": "pass", "onchain-os-image": "pass" } },
    { input: { app: chain.app, composeHash: NOT_ALLOWED, osImageHash: OS, kms: chain.kms }, expected: { "onchain-compose-hash": "fail", "onchain-app-registered": "pass", "onchain-os-image": "pass" } },
    { input: { app: chain.app, composeHash: OTHER_ALLOWED, osImageHash: null }, expected: { "onchain-compose-hash": "pass" } },
    { input: { app: chain.app, composeHash: ALLOWED, osImageHash: null, kms: chain.kms }, expected: { "onchain-compose-hash": "pass", "onchain-app-registered": "pass", "onchain-os-image": "fail" } },
    { input: { app: chain.unregisteredApp, composeHash: ALLOWED, osImageHash: hash("0f"), kms: chain.kms }, expected: { "onchain-compose-hash": "pass", "onchain-app-registered": "fail", "onchain-os-image": "fail" } },
    { input: { app: NOWHERE, composeHash: ALLOWED, osImageHash: OS }, expected: { "onchain-compose-hash": "fail" } },
    // The same reads as the first: sent once, answered to both.
    { input: { app: chain.app, composeHash: ALLOWED, osImageHash: OS, kms: chain.kms }, expected: { "onchain-compose-hash": "pass", "onchain-app-registered": "pass", "onchain-os-image": "pass" } },
  ];
}

const statuses = (result: OnchainLinkResult) => Object.fromEntries(result.checks.map((c) => [c.id, c.status]));

let withMulticall: Chain;
let plain: Chain;

before(async function () {
  withMulticall = await chainWith(true);
  plain = await chainWith(false);
});

after(async function () {
  await withMulticall.rpc.close();
  await plain.rpc.close();
});

describe("checkOnchainLinks: many links in one read, each interpreted as checkOnchainLink would", function () {
  for (const kind of ["multicall3", "eth_call"] as const) {
    it(`${kind}: every input gets exactly checkOnchainLink's checks, read at one block`, async function () {
      const chain = kind === "multicall3" ? withMulticall : plain;
      const all = cases(chain);
      chain.rpc.resetCounts();
      const batched = await checkOnchainLinks(chain.client, all.map((c) => c.input));
      const counts = Object.fromEntries(chain.rpc.counts);
      expect(batched.map(statuses)).to.deep.equal(all.map((c) => c.expected));
      expect(new Set(batched.map((r) => r.evidence?.blockNumber)).size, "one block for all").to.equal(1);
      expect(batched.every((r) => r.evidence?.via === kind)).to.equal(true);
      expect(batched[5]!.checks[0]!.detail).to.match(/no contract at 0x7777777777777777777777777777777777777777/);

      // Distinct reads, input by input: 3 (allowed, registered, OS) + 1 (only NOT_ALLOWED is
      // new) + 1 (OTHER_ALLOWED) + 0 (all repeat the first) + 3 (another app, another OS
      // image) + 1 (NOWHERE) + 0 (a repeat of the first) = 9.
      expect(counts.eth_blockNumber).to.equal(1);
      expect(counts.eth_call, JSON.stringify(counts)).to.equal(kind === "multicall3" ? 1 : 9);
      expect(counts.eth_getCode, "Multicall3 detection, and once for the address without code").to.equal(2);

      for (const [i, c] of all.entries()) {
        const single = await checkOnchainLink(chain.client, c.input);
        expect(single.checks, `input ${i}`).to.deep.equal(batched[i]!.checks);
        expect(single.evidence?.calls).to.deep.equal(batched[i]!.evidence?.calls);
      }
    });
  }

  it("an RPC that is down: every input's on-chain checks are error", async function () {
    const chain = withMulticall;
    const all = cases(chain);
    chain.rpc.failAll("http-503");
    try {
      const results = await checkOnchainLinks(chain.client, all.map((c) => c.input));
      expect(results.map(statuses)).to.deep.equal(all.map((c) => Object.fromEntries(Object.keys(c.expected).map((id) => [id, "error"]))));
      for (const r of results) {
        expect(r.evidence).to.equal(undefined);
        for (const check of r.checks) expect(check.detail).to.match(/^on-chain read failed: RPC .* failed at http:\/\/127\.0\.0\.1:\d+\//);
      }
    } finally {
      chain.rpc.failAll(false);
    }
  });
});

const settledWithin = async <T>(promise: Promise<T>, ms: number): Promise<boolean> =>
  Promise.race([promise.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

describe("OnchainBatch: one read when every ticket has asked or closed", function () {
  // A batch that never reads would hang: fail fast instead.
  this.timeout(20_000);
  it("waits for every ticket; a ticket closed without asking does not block; one aggregate3 for all", async function () {
    const chain = withMulticall;
    const all = cases(chain);
    const batch = new OnchainBatch(chain.client);
    const tickets = [batch.ticket(), batch.ticket(), batch.ticket()];
    chain.rpc.resetCounts();
    const first = tickets[0]!.check(all[0]!.input);
    const second = tickets[1]!.check(all[1]!.input);
    expect(await settledWithin(first, 50), "the third ticket is still open").to.equal(false);
    expect(chain.rpc.count()).to.equal(0);
    expect(batch.pending).to.equal(2);
    tickets[2]!.close();
    expect(statuses(await first)).to.deep.equal(all[0]!.expected);
    expect(statuses(await second)).to.deep.equal(all[1]!.expected);
    await batch.done;
    expect(chain.rpc.count("eth_call")).to.equal(1);
    // Closing after asking changes nothing; the batch is spent.
    tickets[0]!.close();
    expect(() => batch.ticket()).to.throw(OnchainBatchError, /already read/);
  });

  it("a malformed address throws to its own caller only; the others are read once that ticket is closed", async function () {
    const chain = withMulticall;
    const all = cases(chain);
    const batch = new OnchainBatch(chain.client);
    const good = batch.ticket();
    const bad = batch.ticket();
    const result = good.check(all[2]!.input);
    expect(() => bad.check({ app: "0x1234" as Address, composeHash: ALLOWED, osImageHash: null })).to.throw(/Address "0x1234" is invalid/);
    expect(await settledWithin(result, 30)).to.equal(false);
    bad.close();
    expect(statuses(await result)).to.deep.equal(all[2]!.expected);
  });

  it("a ticket is used once; a batch nobody asked of settles without a request", async function () {
    const chain = withMulticall;
    const batch = new OnchainBatch(chain.client);
    const ticket = batch.ticket();
    const other = batch.ticket();
    other.close();
    chain.rpc.resetCounts();
    const once = ticket.check(cases(chain)[0]!.input);
    const again = await ticket.check(cases(chain)[0]!.input).then(() => undefined, (error: unknown) => error);
    expect(again).to.be.instanceOf(OnchainBatchError);
    await once;

    const idle = new OnchainBatch(chain.client);
    idle.ticket().close();
    await idle.done;
    expect(chain.rpc.count("eth_call")).to.equal(1);
  });
});

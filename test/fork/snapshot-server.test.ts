/**
 * The snapshot server on its own (no forking node): it answers what the snapshot
 * records and nothing else — every gap is a JSON-RPC error naming what is missing.
 */
import { expect } from "chai";
import { keccak256, toHex } from "viem";

import { startSnapshotServer, type SnapshotServer } from "../../src/fork/server.js";
import { slotKey, type Snapshot } from "../../src/fork/snapshot.js";
import { scenario, snapshotJson } from "./support.js";

async function rpc(url: string, method: string, params: unknown[]) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output of the code under test, navigated freely by the assertions (a wrong shape fails them)
  return (await response.json()) as { result?: any; error?: { code: number; message: string } };
}

describe("fork snapshot server", () => {
  let snap: Snapshot;
  let server: SnapshotServer;
  const head = () => toHex(snap.blockNumber);

  before(async () => {
    snap = snapshotJson();
    server = await startSnapshotServer(snap, { label: "test snapshot" });
  });
  after(() => server.close());

  it("serves the chain id, the head and the fork block header with Prague fields", async () => {
    expect((await rpc(server.url, "eth_chainId", [])).result).to.equal("0xaa36a7");
    expect((await rpc(server.url, "net_version", [])).result).to.equal("11155111");
    expect((await rpc(server.url, "eth_blockNumber", [])).result).to.equal(head());
    const block = (await rpc(server.url, "eth_getBlockByNumber", [head(), false])).result;
    expect(block.number).to.equal(head());
    // Sepolia activated Prague at block 7,836,331 (2025-03-05): the fork block is after it.
    expect(snap.blockNumber).to.be.greaterThan(7_836_331);
    expect(Number(block.timestamp)).to.be.greaterThan(1_741_159_776);
    for (const field of ["baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "requestsHash"]) {
      expect(block, field).to.have.property(field);
    }
  });

  it("answers recorded state and refuses state it does not hold", async () => {
    const app = scenario.apps.eoa.address.toLowerCase();
    const implementationSlot = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
    const implementation = (await rpc(server.url, "eth_getStorageAt", [app, implementationSlot, head()])).result;
    expect(BigInt(implementation)).to.not.equal(0n);
    // Complete storage: an unrecorded slot is zero, a fact.
    expect((await rpc(server.url, "eth_getStorageAt", [app, "0x1234", head()])).result).to.equal(slotKey(0n));

    const unknown = await rpc(server.url, "eth_getBalance", ["0x00000000000000000000000000000000deadbeef", head()]);
    expect(unknown.error?.message).to.match(/does not hold account 0x0+deadbeef/);
    const older = await rpc(server.url, "eth_getBalance", [app, toHex(snap.blockNumber - 1)]);
    expect(older.error?.message).to.match(/only state at block \d+ was recorded/);
    const later = await rpc(server.url, "eth_getStorageAt", [app, "0x0", toHex(snap.blockNumber + 1)]);
    expect(later.error?.message).to.match(/after its block/);
    const block = await rpc(server.url, "eth_getBlockByNumber", [toHex(snap.blockNumber - 1), false]);
    expect(block.error?.message).to.match(/does not hold block \d+/);
    const method = await rpc(server.url, "eth_sendRawTransaction", ["0x00"]);
    expect(method.error?.code).to.equal(-32601);
  });

  it("refuses an unrecorded slot of an account whose storage is incomplete, naming the slot", async () => {
    const app = scenario.apps.eoa.address.toLowerCase() as `0x${string}`;
    const copy = snapshotJson();
    copy.accounts[app]!.storageComplete = false;
    copy.accounts[app]!.storageMethod = "known-slots";
    const partial = await startSnapshotServer(copy, { label: "partial snapshot" });
    try {
      const slot = keccak256(toHex("not recorded"));
      const answer = await rpc(partial.url, "eth_getStorageAt", [app, slot, toHex(copy.blockNumber)]);
      expect(answer.result).to.equal(undefined);
      expect(answer.error?.message).to.include(`storage slot ${slot} of ${app}`);
      expect(answer.error?.message).to.include("recorded incompletely (known-slots)");
    } finally {
      await partial.close();
    }
  });

  it("answers code at older blocks from the recorded creation block", async () => {
    const app = scenario.apps.eoa.address.toLowerCase() as `0x${string}`;
    const since = snap.accounts[app]!.codeSinceBlock!;
    expect((await rpc(server.url, "eth_getCode", [app, toHex(since - 1)])).result).to.equal("0x");
    expect((await rpc(server.url, "eth_getCode", [app, toHex(since)])).result).to.equal(snap.accounts[app]!.code);
  });

  it("serves the recorded contracts' logs by range and topic, and refuses others", async () => {
    const app = scenario.apps.eoa.address;
    const added = keccak256(toHex("ComposeHashAdded(bytes32)"));
    const logs = (await rpc(server.url, "eth_getLogs", [{ address: app, fromBlock: "0x0", toBlock: head(), topics: [added] }])).result as unknown[];
    expect(logs.length).to.equal(scenario.apps.eoa.history.filter((h) => h.action === "added").length);
    const all = await rpc(server.url, "eth_getLogs", [{ fromBlock: "0x0", toBlock: head() }]);
    expect(all.error?.message).to.match(/without an address/);
    const other = await rpc(server.url, "eth_getLogs", [{ address: "0x00000000000000000000000000000000deadbeef", fromBlock: "0x0", toBlock: head() }]);
    expect(other.error?.message).to.match(/its logs were not recorded/);
  });

  it("counts requests per method", async () => {
    const counts = server.counts();
    expect(counts.eth_getLogs).to.be.greaterThanOrEqual(3);
    expect(counts.eth_chainId).to.equal(1);
  });
});

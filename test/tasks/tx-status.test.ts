/**
 * A receipt that does not come, in process: a loopback JSON-RPC proxy in front of the
 * simulated chain answers `eth_getTransactionReceipt` with null (the node "has not mined
 * it yet"). The task prints the hash at once, gives up after DSTACK_RECEIPT_TIMEOUT with
 * exit 3 and the transaction left in the journal; `tx-status` reports it; once receipts
 * flow again, a re-run of the same command finds it mined and sends nothing new.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { keccak256, toHex } from "viem";

import { startRpcProxy, type RpcProxy } from "../support/rpc-proxy.js";
import { runTask } from "../support/run-task.js";
import { bytes32, chain, chainMark, freshApp, hreWithNetwork, isolateDeploymentsDir, restoreChainAfter, run } from "./fixture.js";

describe("tasks: a receipt that does not come, and tx-status", function () {
  restoreChainAfter();
  let proxy: RpcProxy;
  let app: `0x${string}`;
  before(async function () {
    const { connection } = await chain();
    proxy = await startRpcProxy(connection.provider);
    app = (await freshApp()).address;
  });
  after(async function () {
    await proxy?.close();
  });

  it("no receipt within DSTACK_RECEIPT_TIMEOUT: exit 3, hash printed and journaled; tx-status; the re-run sends nothing new", async function () {
    const network = await hreWithNetwork("held", { type: "http", chainType: "l1", url: proxy.url, chainId: 31337 });
    const journalFile = path.join(isolateDeploymentsDir(), "chain-31337", "pending-transactions.json");
    const hash = bytes32("held-receipt");
    proxy.failMethodAfter("eth_getTransactionReceipt", 0, "null-result");
    process.env.DSTACK_RECEIPT_TIMEOUT = "1";
    let txHash: string;
    try {
      const held = await runTask(network, "add-compose-hash", { app, hash });
      expect(held.exitCode, held.stderr).to.equal(3);
      const sent = held.stderr.match(/^sent: .*: tx (0x[0-9a-f]{64}) \(nonce (\d+)\)$/m);
      expect(sent, held.stderr).to.not.equal(null);
      txHash = sent![1]!;
      const lines = held.stderr.split("\n");
      expect(lines).to.include(`Error: transaction ${txHash} (allow compose hash ${hash} on app ${app}) is not mined after 1 s; it is still pending`);
      expect(lines.at(-1)).to.equal(
        `  it is recorded in ${journalFile}: run the same command again to keep waiting (nothing is sent twice) or \`npx hardhat tx-status --network held --wait\`; to replace it, send nonce ${sent![2]} from ${(await chain()).accounts[0]} with a higher fee`,
      );
      expect(JSON.parse(readFileSync(journalFile, "utf8")).transactions.map((t: { hash: string }) => t.hash)).to.deep.equal([txHash]);
      // Receipts still held: the transaction is known to the node, so it reads as pending.
      const status = await runTask(network, "tx-status", { json: true });
      expect(status.exitCode, status.stderr).to.equal(0);
      expect(status.json.transactions.map((t: { hash: string; state: string }) => [t.hash, t.state])).to.deep.equal([[txHash, "pending"]]);
    } finally {
      delete process.env.DSTACK_RECEIPT_TIMEOUT;
      proxy.failAll(false);
    }
    // The plan reads the hash as allowed now (the transaction was mined all along), so a
    // re-run has nothing to send; tx-status reads the receipt and clears the journal.
    const mark = await chainMark();
    const again = await runTask(network, "add-compose-hash", { app, hash });
    expect(again.exitCode, again.stderr).to.equal(0);
    expect(again.stdout).to.equal(`= ${hash}: compose hash already allowed; nothing to send`);
    expect((await chainMark()).block).to.equal(mark.block);
    const settled = await runTask(network, "tx-status", {});
    expect(settled.exitCode).to.equal(0);
    expect(settled.stdout).to.match(new RegExp(`^MINED    ${txHash} allow compose hash ${hash} on app ${app} \\(from 0x[0-9a-fA-F]{40}, nonce \\d+\\) in block \\d+$`));
    expect(JSON.parse(readFileSync(journalFile, "utf8")).transactions).to.deep.equal([]);
  });

  it("tx-status --hash: a mined transaction (exit 0); an unknown one (exit 1); a malformed hash (exit 2)", async function () {
    const add = await run("add-compose-hash", { app, hash: bytes32("status-by-hash"), json: true });
    const minedHash = add.json.transactions[0].hash;
    const mined = await run("tx-status", { hash: minedHash, json: true });
    expect(mined.exitCode, mined.stderr).to.equal(0);
    expect(mined.json.transactions[0]).to.include({ hash: minedHash, state: "mined", status: "success" });
    const unknown = keccak256(toHex("never sent"));
    const missing = await run("tx-status", { hash: unknown });
    expect(missing.exitCode).to.equal(1);
    expect(missing.stderr).to.equal(`Error: --hash: transaction ${unknown} is unknown to the node (never sent, dropped, or another chain)`);
    expect((await run("tx-status", { hash: "0x1234" })).exitCode).to.equal(2);
  });
});

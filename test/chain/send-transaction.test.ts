/**
 * The send primitive's decisions about an earlier run's journaled transaction, on the
 * in-process chain (automine): a mined one is returned and nothing is sent; one the node
 * never saw is sent again with the same nonce (so at most one can land); one whose nonce
 * another transaction used is an error (nothing sent); another change's pending entry
 * does not stop this one. Also: the explorer link of a chain that has an explorer.
 */
import { expect } from "chai";
import hre from "hardhat";
import { getAddress, keccak256, toHex, type Address, type PublicClient } from "viem";
import { sepolia } from "viem/chains";

import { PendingTransactionError } from "../../src/chain/errors.js";
import { explorerLink, sendTransaction } from "../../src/chain/send-transaction.js";
import { intentOf, memoryJournal } from "../../src/deployments/tx-journal.js";
import type { SignerClient } from "../../src/chain/clients.js";

describe("chain: the send primitive and the journal", function () {
  let client: PublicClient;
  let signer: SignerClient;
  let from: Address;
  const to = getAddress("0x000000000000000000000000000000000000bEEF");
  let snapshot: { restore(): Promise<void> };

  before(async function () {
    const connection = await hre.network.getOrCreate();
    snapshot = await connection.networkHelpers.takeSnapshot();
    client = (await connection.viem.getPublicClient()) as unknown as PublicClient;
    signer = ((await connection.viem.getWalletClients()) as unknown as SignerClient[])[0]!;
    from = getAddress(signer.account.address);
  });
  after(async function () {
    await snapshot?.restore();
  });

  const nonceNow = () => client.getTransactionCount({ address: from, blockTag: "pending" });
  const tx = (label: string) => ({ to, data: toHex(label), summary: `send ${label}` });

  it("no journal entry: sends once, reports the hash at once, clears its entry after the receipt", async function () {
    const journal = memoryJournal();
    const lines: string[] = [];
    const before = await nonceNow();
    const sent = await sendTransaction(client, signer, tx("plain"), { journal, log: (line) => lines.push(line) });
    expect(sent.resumed).to.equal(false);
    expect(sent.nonce).to.equal(before);
    expect(lines).to.deep.equal([`sent: send plain: tx ${sent.hash} (nonce ${before})`]);
    expect(journal.list()).to.deep.equal([]);
    expect(await nonceNow()).to.equal(before + 1);
  });

  it("the same change already mined by an earlier run: that transaction is returned, nothing is sent", async function () {
    const journal = memoryJournal();
    const first = await sendTransaction(client, signer, tx("mined-earlier"));
    const chainId = await client.getChainId();
    journal.put({ chainId, from, nonce: first.nonce, hash: first.hash, intent: intentOf(chainId, from, tx("mined-earlier")), summary: "send mined-earlier", to, sentAt: "t" });
    const before = await nonceNow();
    const lines: string[] = [];
    const again = await sendTransaction(client, signer, tx("mined-earlier"), { journal, log: (line) => lines.push(line) });
    expect(again).to.include({ hash: first.hash, resumed: true });
    expect(await nonceNow()).to.equal(before);
    expect(lines[0]).to.match(new RegExp(`^found transaction ${first.hash} \\(send mined-earlier, nonce ${first.nonce}\\) from an earlier run, mined in block \\d+: not sending it again$`));
    expect(journal.list()).to.deep.equal([]);
  });

  it("an earlier send the node never saw (nonce unused): sent again with that same nonce", async function () {
    const journal = memoryJournal();
    const chainId = await client.getChainId();
    const nonce = await nonceNow();
    const lost = keccak256(toHex("never arrived"));
    journal.put({ chainId, from, nonce, hash: lost, intent: intentOf(chainId, from, tx("lost")), summary: "send lost", to, sentAt: "t" });
    const lines: string[] = [];
    const sent = await sendTransaction(client, signer, tx("lost"), { journal, log: (line) => lines.push(line) });
    expect(sent.nonce).to.equal(nonce);
    expect(sent.hash).to.not.equal(lost);
    expect(lines[0]).to.equal(`transaction ${lost} (send lost, nonce ${nonce}) from an earlier run is unknown to the node and nonce ${nonce} is unused: sending again with that nonce`);
    expect(await nonceNow()).to.equal(nonce + 1);
  });

  it("an earlier send interrupted before its hash was known, its nonce now used by something else: an error, nothing sent", async function () {
    const journal = memoryJournal();
    const chainId = await client.getChainId();
    const used = await nonceNow();
    await sendTransaction(client, signer, tx("someone-else"));
    journal.put({ chainId, from, nonce: used, intent: intentOf(chainId, from, tx("uncertain")), summary: "send uncertain", to, sentAt: "t" });
    const before = await nonceNow();
    const error = await sendTransaction(client, signer, tx("uncertain"), { journal }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PendingTransactionError);
    expect((error as Error).message).to.equal(
      `an earlier run of "send uncertain" stopped while sending (nonce ${used} of ${from}); that nonce is now used by a transaction this tool cannot identify. Check the chain (the change may already be made), then run the command again`,
    );
    expect(await nonceNow()).to.equal(before);
    expect(journal.list()).to.deep.equal([]);
  });

  it("explorer links: on a chain with an explorer, none on a local chain", function () {
    const hash = keccak256(toHex("x"));
    expect(explorerLink(sepolia, hash)).to.equal(`https://sepolia.etherscan.io/tx/${hash}`);
    expect(explorerLink(undefined, hash)).to.equal(undefined);
  });
});

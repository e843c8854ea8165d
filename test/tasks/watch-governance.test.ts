import { readFileSync, writeFileSync } from "node:fs";

import { expect } from "chai";

import { bytes32, chain, freshApp, freshKms, restoreChainAfter, run, tempDir } from "./fixture.js";

const H0 = bytes32("watch-initial");
const H1 = bytes32("watch-added");
const H2 = bytes32("watch-later");
const IMAGE = bytes32("watch-os-image");

/** The task's --json output: one JSON line per event, then a summary line. */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON output of the code under test, navigated freely by the assertions (a wrong shape fails them)
function lines(stdout: string): any[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line));
}

describe("watch-governance", function () {
  restoreChainAfter();
  const temp = tempDir("watch-governance-");
  after(() => temp.cleanup());

  let app: Awaited<ReturnType<typeof freshApp>>;
  let kms: Awaited<ReturnType<typeof freshKms>>;
  let startBlock: bigint;
  let accounts: `0x${string}`[];

  before(async function () {
    const c = await chain();
    accounts = c.accounts;
    startBlock = (await c.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    app = await freshApp({ initialComposeHash: H0 });
    kms = await freshKms();
    await app.app.write.addComposeHash([H1]);
    await app.app.write.removeComposeHash([H0]);
    await kms.kms.write.addOsImageHash([IMAGE]);
    await app.app.write.transferOwnership([accounts[1]!]);
    const asNewOwner = await c.viem.getContractAt("DstackApp", app.address, { client: { wallet: (await c.viem.getWalletClients())[1]! } });
    await asNewOwner.write.acceptOwnership();
  });

  it("reads every governance event with block, time, tx and actor, writes JSON lines and a cursor", async function () {
    const cursor = temp.file("cursor.json");
    const out = temp.file("events.jsonl");
    const result = await run("watch-governance", { app: app.address, kms: kms.address, fromBlock: startBlock.toString(), cursor, out, json: true });
    expect(result.exitCode, result.stderr).to.equal(0);
    const parsed = lines(result.stdout);
    const summary = parsed.pop();
    expect(summary.ok).to.equal(true);
    const head = await (await chain()).publicClient.getBlockNumber({ cacheTime: 0 });
    expect(summary.summary.nextBlock).to.equal((head + 1n).toString());

    // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output of the code under test, navigated freely by the assertions (a wrong shape fails them)
    const find = (event: string, predicate: (e: any) => boolean = () => true) => parsed.filter((e) => e.event === event && predicate(e));
    const added = find("ComposeHashAdded", (e) => e.args.composeHash === H1);
    expect(added).to.have.length(1);
    expect(added[0]).to.include({ role: "app", contract: app.address, actor: accounts[0], actorSource: "PolicyChanged" });
    expect(added[0].transactionHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(new Date(added[0].time).getTime()).to.equal(Number(added[0].blockTimestamp) * 1000);
    expect(find("ComposeHashAdded", (e) => e.args.composeHash === H0)).to.have.length(1);
    expect(find("ComposeHashRemoved", (e) => e.args.composeHash === H0)).to.have.length(1);
    expect(find("OsImageHashAdded", (e) => e.args.osImageHash === IMAGE)[0]).to.include({ role: "kms", contract: kms.address });
    // acceptOwnership emits no PolicyChanged: the actor is the transaction's sender, the new owner.
    const accepted = find("OwnershipTransferred", (e) => e.args.newOwner === accounts[1]);
    expect(accepted).to.have.length(1);
    expect(accepted[0]).to.include({ actor: accounts[1], actorSource: "transaction sender" });
    expect(parsed.some((e) => e.event === "PolicyChanged" || e.event === "Initialized")).to.equal(false);
    // Chain order.
    const positions = parsed.map((e) => BigInt(e.blockNumber) * 100_000n + BigInt(e.logIndex));
    expect(positions).to.deep.equal([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));

    const written = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    expect(written).to.deep.equal(parsed);
    expect(JSON.parse(readFileSync(cursor, "utf8")).nextBlock).to.equal(summary.summary.nextBlock);

    // Resuming from the cursor reads only what happened since.
    const c = await chain();
    const asNewOwner = await c.viem.getContractAt("DstackApp", app.address, { client: { wallet: (await c.viem.getWalletClients())[1]! } });
    await asNewOwner.write.addComposeHash([H2]);
    const resumed = await run("watch-governance", { app: app.address, kms: kms.address, cursor, json: true });
    const again = lines(resumed.stdout);
    again.pop();
    expect(again.map((e) => [e.event, e.args.composeHash, e.actor])).to.deep.equal([["ComposeHashAdded", H2, accounts[1]]]);
  });

  it("prints one readable line per event", async function () {
    const result = await run("watch-governance", { app: app.address, fromBlock: startBlock.toString() });
    expect(result.exitCode).to.equal(0);
    const line = result.stdout.split("\n").find((l) => l.includes("ComposeHashRemoved"));
    expect(line).to.match(new RegExp(`^block \\d+ \\d{4}-\\d\\d-\\d\\dT[0-9:]+Z app ${app.address} ComposeHashRemoved composeHash=${H0} by ${accounts[0]} \\(tx 0x[0-9a-f]{64}\\)$`));
  });

  it("refuses a cursor that belongs to other contracts, and a call without contracts", async function () {
    const cursor = temp.file("other-cursor.json");
    writeFileSync(cursor, JSON.stringify({ version: 1, chainId: 31337, contracts: [{ address: kms.address, role: "kms" }], nextBlock: "1" }));
    const result = await run("watch-governance", { app: app.address, cursor });
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.match(/^Error: --cursor: .* belongs to other contracts/);
    const none = await run("watch-governance", {});
    expect(none.exitCode).to.equal(2);
    expect(none.stderr).to.include("give --app ADDRESS and/or --kms ADDRESS");
  });
});

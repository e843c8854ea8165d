/**
 * The recorder against a node without `debug_storageRangeAt`: the snapshot server of the
 * committed snapshot plays that node (it answers like an archive node for the recorded
 * facts). Known slots must find every non-zero slot of the dstack, Safe and timelock
 * contracts, and the result must be marked incomplete.
 */
import { expect } from "chai";

import { recordSnapshot } from "../../src/fork/recorder.js";
import { startSnapshotServer, type SnapshotServer } from "../../src/fork/server.js";
import type { Hex } from "../../src/util/hex.js";
import { scenario, snapshotJson } from "./support.js";

describe("fork snapshot recorder", () => {
  let server: SnapshotServer;
  before(async () => {
    server = await startSnapshotServer(snapshotJson(), { label: "source" });
  });
  after(() => server.close());

  it("records every non-zero slot of the governance contracts from known slots, marked incomplete", async () => {
    const source = snapshotJson();
    const safe = (scenario.apps.safe as unknown as { safe: { address: Hex }; timelock: { address: Hex } });
    const contracts = [scenario.kms.address, scenario.apps.eoa.address, scenario.apps.safe.address, scenario.apps.attested.address, safe.safe.address, safe.timelock.address].map(
      (a) => a.toLowerCase() as Hex,
    );
    const progress: string[] = [];
    const recorded = await recordSnapshot({
      url: server.url,
      blockNumber: BigInt(source.blockNumber),
      addresses: [...contracts, scenario.apps.eoa.owner.toLowerCase() as Hex],
      storage: { kind: "auto" },
      source: { kind: "rpc", description: "test" },
      onProgress: (line) => progress.push(line),
    });
    expect(progress.join("\n")).to.match(/debug_storageRangeAt unavailable/);
    expect(recorded.blockNumber).to.equal(source.blockNumber);
    for (const address of contracts) {
      const account = recorded.accounts[address]!;
      expect(account.storageComplete, address).to.equal(false);
      expect(account.storageMethod).to.equal("known-slots");
      expect(account.code).to.equal(source.accounts[address]!.code);
      expect(account.codeSinceBlock).to.equal(source.accounts[address]!.codeSinceBlock);
      for (const [slot, value] of Object.entries(source.accounts[address]!.storage)) {
        expect(account.storage[slot as Hex], `slot ${slot} of ${address}`).to.equal(value);
      }
    }
    // An EOA has no storage: complete by definition.
    expect(recorded.accounts[scenario.apps.eoa.owner.toLowerCase() as Hex]!.storageComplete).to.equal(true);
    // The same logs, in chain order.
    expect(recorded.logs.map((l) => `${l.blockNumber}/${l.logIndex}/${l.address}`)).to.deep.equal(
      source.logs.filter((l) => contracts.includes(l.address.toLowerCase() as Hex)).map((l) => `${l.blockNumber}/${l.logIndex}/${l.address}`),
    );
  });
});
